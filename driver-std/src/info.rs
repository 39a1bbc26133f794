//! What a handle can read without asking: the socket's getters as of an event or a call,
//! and the [`Bell`] that tells a caller with many handles that one of them has news.

use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sansnet::socket::{ReadyState, Socket as Core};

use crate::mailbox::lock;

/// A socket's getters, as the core derives them.
///
/// [`Socket::info`](crate::Socket::info) returns them as of the newest event taken or call
/// returned: consistent with the events delivered so far (the engine captures them when
/// it emits each event, and after carrying out each call).
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
}

impl SocketInfo {
    pub(crate) fn of(core: &Core) -> SocketInfo {
        SocketInfo {
            ready_state: core.ready_state(),
            connecting: core.connecting(),
            pending: core.pending(),
            destroyed: core.destroyed(),
            bytes_read: core.bytes_read(),
            bytes_written: core.bytes_written(),
            buffer_size: core.buffer_size(),
            writable_length: core.writable_length(),
            writable_need_drain: core.writable_need_drain(),
            writable_ended: core.writable_ended(),
            writable_finished: core.writable_finished(),
            readable_ended: core.readable_ended(),
            local_address: core.local_address(),
            timeout: core.timeout(),
            attempted_addresses: core
                .auto_select_family_attempted_addresses()
                .map(<[_]>::to_vec),
        }
    }
}

/// The getters at one point of the engine's history; later points have larger versions.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) version: u64,
    pub(crate) info: SocketInfo,
}

/// A counter that engines bump whenever they deliver something to a handle (an event, or
/// the news that they rest), so that one thread can wait for many sockets and servers at
/// once: remember [`Bell::count`], poll every handle with `try_next_event`, and if none
/// had anything, [`Bell::wait_past`] that count.
///
/// Give the same bell to every socket and server ([`crate::SocketSettings::bell`],
/// [`crate::ServerSettings::bell`]); a server's accepted sockets ring its bell.
#[derive(Debug, Default)]
pub struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

impl Bell {
    /// A new bell, to share.
    pub fn new() -> Arc<Bell> {
        Arc::new(Bell::default())
    }

    /// How many times it rang so far.
    pub fn count(&self) -> u64 {
        *lock(&self.rung)
    }

    /// Waits until the count passes `seen` or `timeout` elapses; returns the count.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let deadline = std::time::Instant::now() + timeout;
        let mut rung = lock(&self.rung);
        while *rung <= seen {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            rung = match self.cv.wait_timeout(rung, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        *rung
    }

    pub(crate) fn ring(&self) {
        *lock(&self.rung) += 1;
        self.cv.notify_all();
    }
}
