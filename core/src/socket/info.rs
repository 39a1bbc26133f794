//! The socket's getters (`connecting`, `pending`, `readyState`, `bufferSize`, …), as Node
//! derives them from the connection, the halves and the handle.

use super::*;

/// A socket's getters at one moment, for a driver that hands them to another thread
/// along with the events ([`Socket::info`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    /// `socket.readyState`.
    pub ready_state: ReadyState,
    /// `socket.connecting`.
    pub connecting: bool,
    /// `socket.pending`.
    pub pending: bool,
    /// `socket.destroyed`.
    pub destroyed: bool,
    /// `socket.bytesRead`.
    pub bytes_read: u64,
    /// `socket.bytesWritten`.
    pub bytes_written: u64,
    /// `socket.bufferSize` (`None`: undefined).
    pub buffer_size: Option<usize>,
    /// `socket.writableLength`.
    pub writable_length: usize,
    /// `socket.writableNeedDrain`.
    pub writable_need_drain: bool,
    /// `socket.errored`: the stream's first error (`destroy(err)`, a failed write), `None`
    /// for null.
    pub errored: Option<crate::NetError>,
    /// `socket.writableEnded`.
    pub writable_ended: bool,
    /// `socket.writableFinished`.
    pub writable_finished: bool,
    /// `socket.readableEnded`.
    pub readable_ended: bool,
    /// `socket.address()` / `localAddress` / `localPort`.
    pub local_address: Option<SocketAddr>,
    /// `socket.timeout` (zero: none).
    pub timeout: Duration,
    /// `socket.autoSelectFamilyAttemptedAddresses`.
    pub attempted_addresses: Option<Vec<String>>,
    /// `socket.allowHalfOpen`.
    pub allow_half_open: bool,
    /// `socket.readableFlowing` as an application that takes `'data'` sees it: true
    /// unless paused.
    pub readable_flowing: bool,
    /// `socket.readableLength`: bytes received and not yet emitted (while paused).
    pub readable_length: usize,
    /// `socket.readableHighWaterMark`.
    pub readable_high_water_mark: usize,
    /// `socket.writableHighWaterMark`.
    pub writable_high_water_mark: usize,
}

impl SocketInfo {
    /// Node's `readable`.
    pub fn readable(&self) -> bool {
        !self.destroyed && !self.readable_ended
    }

    /// Node's `writable`: not destroyed, errored or ended.
    pub fn writable(&self) -> bool {
        !self.destroyed && !self.writable_ended && self.errored.is_none()
    }
}

/// Getters, as Node derives them from the halves and the handle.
impl Socket {
    /// Every getter at once ([`SocketInfo`]).
    pub fn info(&self) -> SocketInfo {
        SocketInfo {
            ready_state: self.ready_state(),
            connecting: self.connecting(),
            pending: self.pending(),
            destroyed: self.destroyed(),
            bytes_read: self.bytes_read(),
            bytes_written: self.bytes_written(),
            buffer_size: self.buffer_size(),
            writable_length: self.writable_length(),
            writable_need_drain: self.writable_need_drain(),
            errored: self.w.errored.as_deref().cloned(),
            writable_ended: self.writable_ended(),
            writable_finished: self.writable_finished(),
            readable_ended: self.readable_ended(),
            local_address: self.local_address(),
            timeout: self.timeout(),
            attempted_addresses: self
                .auto_select_family_attempted_addresses()
                .map(<[_]>::to_vec),
            allow_half_open: self.allow_half_open(),
            readable_flowing: self.r.flowing,
            readable_length: self.r.buffered,
            readable_high_water_mark: self.cfg.readable_high_water_mark,
            writable_high_water_mark: self.cfg.high_water_mark,
        }
    }

    /// `socket.connecting`.
    pub fn connecting(&self) -> bool {
        self.conn.connecting()
    }

    /// `socket.pending`: no handle yet, or still connecting (true again after destroy).
    pub fn pending(&self) -> bool {
        !self.has_handle || self.connecting()
    }

    /// `socket.destroyed`.
    pub fn destroyed(&self) -> bool {
        matches!(self.conn, Conn::Destroyed)
    }

    /// Node's `readable`: not destroyed and `'end'` not yet emitted.
    pub fn readable(&self) -> bool {
        !self.destroyed() && !self.r.end_emitted
    }

    /// Node's `writable`: not destroyed, errored (a failed write), ending or ended.
    pub fn writable(&self) -> bool {
        !self.destroyed() && self.w.open() && self.w.errored.is_none()
    }

    /// `socket.readyState`.
    pub fn ready_state(&self) -> ReadyState {
        if self.connecting() {
            return ReadyState::Opening;
        }
        match (self.readable(), self.writable()) {
            (true, true) => ReadyState::Open,
            (true, false) => ReadyState::ReadOnly,
            (false, true) => ReadyState::WriteOnly,
            (false, false) => ReadyState::Closed,
        }
    }

    /// The FIN was asked without `end()` in force: an orphaned `_final` (an `end()` that
    /// a new handle forgot) shut the handle down. For the simulator's checks.
    #[cfg(feature = "sim")]
    pub(crate) fn orphan_fin_sent(&self) -> bool {
        self.w.fin_sent
    }

    /// `socket.bufferSize`: `writableLength` while there is a handle, else `undefined`.
    pub fn buffer_size(&self) -> Option<usize> {
        self.has_handle.then_some(self.w.length)
    }

    /// `socket.writableLength`.
    pub fn writable_length(&self) -> usize {
        self.w.length
    }

    /// `socket.writableNeedDrain`: `write()` returned false and `'drain'` is owed (Node's
    /// getter says false once ending or destroyed).
    pub fn writable_need_drain(&self) -> bool {
        self.w.need_drain && !self.w.ended && !self.destroyed()
    }

    /// `socket.writableEnded`.
    pub fn writable_ended(&self) -> bool {
        self.w.ended
    }

    /// `socket.writableFinished`.
    pub fn writable_finished(&self) -> bool {
        self.w.finished()
    }

    /// `socket.readableEnded`.
    pub fn readable_ended(&self) -> bool {
        self.r.end_emitted
    }

    /// `socket.bytesRead`.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// `socket.bytesWritten`: every byte accepted by `write()` and `end(data)`, queued or
    /// sent (an upper bound of what goes out, as in Node).
    pub fn bytes_written(&self) -> u64 {
        self.w.bytes_accepted
    }

    /// `socket.address()` / `localAddress` / `localPort`: the local name while there is a
    /// handle and a connection (cleared by destroy).
    pub fn local_address(&self) -> Option<SocketAddr> {
        if self.has_handle && !self.connecting() {
            self.local
        } else {
            None
        }
    }

    /// See [`Socket::remote_address`].
    pub(super) fn do_remote_address(&mut self) -> Option<SocketAddr> {
        if self.has_handle && !self.connecting() && self.remote_cache.is_none() && !self.peer_gone {
            self.remote_cache = self.remote;
        }
        self.remote_cache
    }

    /// See [`Socket::peer_address_gone`].
    pub(super) fn do_peer_address_gone(&mut self) {
        self.peer_gone = true;
    }

    /// `socket.autoSelectFamilyAttemptedAddresses` (only on the happy-eyeballs path).
    pub fn auto_select_family_attempted_addresses(&self) -> Option<&[String]> {
        self.attempted_addresses.as_deref()
    }

    /// Whether the socket was accepted by a server that still counts it.
    pub fn is_server_owned(&self) -> bool {
        self.server_owned
    }

    /// `socket.allowHalfOpen`.
    pub fn allow_half_open(&self) -> bool {
        self.cfg.allow_half_open
    }
}
