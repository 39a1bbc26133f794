//! What a [`Socket`](super::Socket) tells the outside: application events in Node's order,
//! and I/O requests for the driver, interleaved in one causal stream of [`Output`]s.

use std::net::{IpAddr, SocketAddr};

use crate::error::NetError;
use crate::ip::Family;

/// Identifies one connection attempt (a connect syscall). Completions carrying an id that is
/// no longer current are ignored: the attempt was aborted or the socket destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptId(pub u64);

/// Identifies one name lookup asked of the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LookupId(pub u64);

/// Identifies one write handed to the driver, or the callback of a `write()` / `end()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteId(pub u64);

/// One answer of a lookup, raw as the resolver gave it: Node emits `'lookup'` with these
/// values even when they are not valid (a non-IP address, a family of 5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupAnswer {
    /// The address text.
    pub address: String,
    /// The family number (4 and 6 are valid).
    pub family: i64,
}

impl LookupAnswer {
    /// An answer for an IP address.
    pub fn ip(ip: IpAddr) -> LookupAnswer {
        LookupAnswer {
            address: ip.to_string(),
            family: i64::from(Family::of(&ip).number()),
        }
    }
}

/// Where a connection attempt goes: an [`Address`](crate::Address).
pub use crate::address::Address as Remote;

/// What the driver is asked to do for a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketIo {
    /// Resolve `host`. Answer with [`Socket::lookup_done`](super::Socket::lookup_done).
    /// With `all` every address is wanted (happy eyeballs), else the first.
    Lookup {
        /// The lookup.
        id: LookupId,
        /// The host name.
        host: String,
        /// The family asked for (`None`: any).
        family: Option<Family>,
        /// `getaddrinfo` hints (`dns.ADDRCONFIG` = 32 by default).
        hints: i32,
        /// Whether every address is wanted.
        all: bool,
    },
    /// Open a new OS socket and connect it; `local` binds first. Answer with
    /// [`Socket::attempt_connected`](super::Socket::attempt_connected) or
    /// [`Socket::attempt_failed`](super::Socket::attempt_failed).
    Connect {
        /// The attempt.
        attempt: AttemptId,
        /// The destination.
        remote: Remote,
        /// Local address and port to bind before connecting.
        local: Option<SocketAddr>,
    },
    /// Abort an attempt in flight and close its OS socket; no completion is expected.
    AbortAttempt {
        /// The attempt.
        attempt: AttemptId,
    },
    /// Send bytes, in order after earlier writes. Answer with
    /// [`Socket::write_done`](super::Socket::write_done) once the OS took them all.
    Write {
        /// The write.
        id: WriteId,
        /// The bytes: the chunks of the writes sent together (Node's `writev` of what
        /// was buffered), in order, each as the application gave it (no copy).
        data: Vec<Vec<u8>>,
    },
    /// Shut down the sending half (FIN) now: the writes before it are done. Nothing is
    /// reported back (Node ignores the status; the core decides when `'finish'` comes).
    Shutdown,
    /// Start delivering received bytes ([`Socket::received`](super::Socket::received)).
    StartReading,
    /// Stop reading from the OS: received bytes stay in the kernel (back-pressure).
    StopReading,
    /// Set `TCP_NODELAY`.
    SetNoDelay(bool),
    /// Set `SO_KEEPALIVE` with the initial delay in whole seconds (0: the OS default).
    SetKeepAlive {
        /// Whether keep-alive is on.
        enable: bool,
        /// The idle time before the first probe, in seconds.
        initial_delay_secs: u32,
    },
    /// Close the OS socket (the kernel sends FIN, or RST when unread data remains).
    Close,
    /// Close the OS socket with `SO_LINGER` 0: the peer gets RST.
    Reset,
    /// This accepted socket is gone: tell its server
    /// ([`Server::connection_closed`](crate::server::Server::connection_closed)).
    ReleaseFromServer,
}

/// A `'close'` event's argument: `hadError`, or none at all for a socket that never had an
/// OS handle (Node emits `'close'` with no argument then).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseKind {
    /// `'close'(hadError)`.
    HadError(bool),
    /// `'close'()`.
    NoHandle,
}

impl CloseKind {
    /// `hadError` as a listener sees it (`undefined` reads as false).
    pub fn had_error(self) -> bool {
        matches!(self, CloseKind::HadError(true))
    }
}

/// A `net.Socket` event, or a callback the application passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketEvent {
    /// `'lookup'(err, address, family, host)`: once per answer on the happy-eyeballs path.
    Lookup {
        /// The lookup error, if it failed.
        error: Option<NetError>,
        /// The answer's address (none when it failed).
        address: Option<String>,
        /// The answer's family (none when it failed).
        family: Option<i64>,
        /// The host looked up.
        host: String,
    },
    /// `'connectionAttempt'(address, port, family)`; port and family are absent for IPC.
    ConnectionAttempt {
        /// Destination address or path.
        address: String,
        /// Destination port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
    },
    /// `'connectionAttemptFailed'(address, port, family, error)`.
    ConnectionAttemptFailed {
        /// Destination address or path.
        address: String,
        /// Destination port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
        /// Why it failed.
        error: NetError,
    },
    /// `'connectionAttemptTimeout'(address, port, family)`.
    ConnectionAttemptTimeout {
        /// Destination address.
        address: String,
        /// Destination port.
        port: Option<u16>,
        /// 4 or 6.
        family: Option<u8>,
    },
    /// `'connect'`.
    Connect,
    /// `'ready'`.
    Ready,
    /// `'data'(chunk)`.
    Data(Vec<u8>),
    /// The `onread` option's `callback(nread, buf)`: with that option each read comes
    /// here, at most the buffer's size at a time, and never as `'data'` (the bytes do not
    /// enter the readable side; [`Socket::pause`](super::Socket::pause) stops reading).
    OnRead(Vec<u8>),
    /// `'end'`: the peer finished sending and every byte was consumed.
    End,
    /// `'finish'`: our FIN went out after every write.
    Finish,
    /// `'drain'`: the write buffer emptied after `write()` returned false.
    Drain,
    /// `'timeout'`: the socket was idle for the `setTimeout` period.
    Timeout,
    /// `'error'(err)`.
    Error(NetError),
    /// `'close'(hadError)`: always the last event.
    Close(CloseKind),
    /// The callback of `write(data, cb)`.
    WriteCallback {
        /// The id `write` returned.
        id: WriteId,
        /// `null` or the error.
        error: Option<NetError>,
    },
    /// The callback of `end(cb)`.
    EndCallback {
        /// The id `end` returned.
        id: WriteId,
        /// `null` or the error.
        error: Option<NetError>,
    },
}

/// One output of a socket: an event for the application or a request for the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// An event for the application.
    Event(SocketEvent),
    /// An I/O request for the driver.
    Io(SocketIo),
}
