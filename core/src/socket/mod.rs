//! `net.Socket` as a pure state machine.
//!
//! Application calls (`connect`, `write`, `end`, `destroy`, …) and driver inputs
//! (`lookup_done`, `attempt_connected`, `received`, …) go in; [`Output`]s come out of
//! [`Socket::poll_output`] in Node's order: application events ([`SocketEvent`]) interleaved
//! with I/O requests ([`SocketIo`]). Timers are deadlines: [`Socket::poll_timeout`] says
//! when to call [`Socket::handle_timeout`].

mod app;
#[cfg(test)]
mod blocklist_tests;
mod connect;
#[cfg(test)]
mod connect_rejected_tests;
mod connect_writes;
mod event;
mod facts;
mod halves;
mod info;
mod input;
#[cfg(test)]
mod onread_tests;
#[cfg(test)]
mod phase_tests;
#[cfg(test)]
mod proptests;
mod reports;
mod run_loop;
mod teardown;
#[cfg(test)]
mod tests;
mod waits;
#[cfg(test)]
mod writable_tests;

pub use app::WriteResult;
pub use input::{Input, Outcome, Recording};

use std::net::SocketAddr;

pub use event::{
    AttemptId, CloseKind, LookupAnswer, LookupId, Output, Remote, SocketEvent, SocketIo, WriteId,
};
pub use halves::Chunk;
use halves::{QueuedWrite, ReadHalf, Shutdown, WriteHalf};
pub use info::SocketInfo;
pub use waits::{Wait, WaitEnd};

use crate::error::{Code, NetError};
use crate::happy_eyeballs::Schedule;
use crate::ip::{self, Family};
use crate::options::{ConnectOptions, ServerOptions, SocketOptions, Target};
use crate::queue::Queue;
use crate::time::{Duration, Instant};

/// How many bytes libuv reads from a socket at once (Node's read buffer): a driver reports
/// reads of at most this size to [`Socket::received`].
pub const READ_SIZE: usize = 64 * 1024;

/// Node's `socket.readyState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadyState {
    /// Connecting.
    Opening,
    /// Readable and writable.
    Open,
    /// Readable only (we ended our side).
    ReadOnly,
    /// Writable only (the peer ended its side).
    WriteOnly,
    /// Neither.
    Closed,
}

impl ReadyState {
    /// The string Node returns.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadyState::Opening => "opening",
            ReadyState::Open => "open",
            ReadyState::ReadOnly => "readOnly",
            ReadyState::WriteOnly => "writeOnly",
            ReadyState::Closed => "closed",
        }
    }
}

/// What shapes a socket's streams (from `SocketOptions` or the server's options).
#[derive(Clone, Debug)]
struct Config {
    /// `allowHalfOpen`: keep the writable side open after the peer's FIN.
    allow_half_open: bool,
    /// `highWaterMark` of the writable side.
    high_water_mark: usize,
    /// `highWaterMark` of the readable side: reading stops once this much waits.
    readable_high_water_mark: usize,
    /// `onread`'s buffer size: reads go to [`SocketEvent::OnRead`], not `'data'`.
    onread: Option<std::num::NonZeroUsize>,
}

/// The connection's progress: the one state Node's `connecting` and `destroyed` are read
/// from ([`Socket::connecting`], [`Socket::destroyed`]).
#[derive(Clone, Debug)]
enum Conn {
    /// Not connecting, no connection: a fresh `new Socket()` (or a revived one), or one
    /// whose connect failed, on its way to being destroyed.
    Idle,
    /// Connecting with nothing in flight: between happy-eyeballs attempts, a failed lookup
    /// destroying the socket on the next tick.
    Waiting,
    /// Node's `connecting` set by a `connect()` that threw after setting it
    /// ([`Socket::connect_rejected`]), with no connect request ever issued: the next
    /// `connect()` starts as on a fresh socket.
    Rejected,
    /// Waiting for the driver's lookup.
    Lookup {
        id: LookupId,
        host: String,
        port: u16,
        all: bool,
    },
    /// An IP-literal connect deferred to the next tick.
    Scheduled {
        remote: Remote,
        family: Option<Family>,
    },
    /// An IP literal libuv cannot parse, failing on the next tick as Node's does.
    Unparsable {
        address: String,
        port: u16,
        family: Family,
    },
    /// A connect syscall in flight.
    Attempt {
        id: AttemptId,
        /// The local address bound first, if one was asked for.
        local: Option<SocketAddr>,
        /// Whether `'connectionAttempt'` was emitted: with a local bind, only once the
        /// driver reported the bind done ([`Socket::attempt_bound`]).
        announced: bool,
        remote: Remote,
        family: Option<Family>,
    },
    /// Connected.
    Open { ipc: bool },
    /// Destroyed (`connect()` may revive it).
    Destroyed,
}

impl Conn {
    /// Node's `connecting`.
    fn connecting(&self) -> bool {
        matches!(
            self,
            Conn::Waiting
                | Conn::Rejected
                | Conn::Lookup { .. }
                | Conn::Scheduled { .. }
                | Conn::Unparsable { .. }
                | Conn::Attempt { .. }
        )
    }
}

/// Deferred work (see [`crate::queue`]).
#[derive(Clone, Debug)]
enum Deferred {
    /// The connect an IP literal defers to the next tick, if still current; also the
    /// connect after a `'lookup'`, once its listeners ran (Node connects only if they left
    /// the socket connecting).
    StartConnect(u64),
    /// The next happy-eyeballs attempt, once the listeners of the event that ended the
    /// last (`'lookup'`, `'connectionAttemptTimeout'`) ran: only if they left the socket
    /// connecting.
    NextCandidate(u64),
    /// The rest of a happy-eyeballs lookup's `'lookup'` events, then its attempts, if the
    /// listeners left the socket connecting.
    Lookups(u64, Box<LookupRest>),
    /// A custom resolver's answer given at once ([`Socket::lookup_answered_at_once`]).
    LookupDone(u64, LookupId, Result<Vec<LookupAnswer>, NetError>),
    /// Emit an event (a callback, `'error'`, …).
    Emit(SocketEvent),
    /// `'close'` once the handle closed, then the callbacks Node runs from a `'close'`
    /// listener (writes queued while connecting), which release `released` of
    /// `writableLength`. Before it, the write that was in the OS's hands when the socket
    /// was destroyed (`in_flight`), if it still is, completes as libuv cancels it. It
    /// sets Node 20's `closeEmitted` even on a stream `connect()` revived meanwhile.
    Close {
        kind: CloseKind,
        after: Vec<SocketEvent>,
        released: usize,
        in_flight: Option<WriteId>,
    },
    /// Node's `afterWriteTick`: the callbacks of writes the OS took at once; on a stream
    /// destroyed meanwhile, errorBuffer runs right after them.
    AfterWrite(Vec<SocketEvent>),
    /// The callbacks Node runs from a `'close'` listener, releasing this much of
    /// `writableLength`.
    AfterClose(Vec<SocketEvent>, usize),
    /// Node's errorBuffer, scheduled by `destroy()`: fails what waits in
    /// [`halves::WriteHalf::error_buffer`] unless an earlier `AfterWrite` did.
    ErrorBuffer,
    /// Node's `endReadableNT`.
    EmitEnd(u64),
    /// Node's `endWritableNT`: the automatic `end()` after `'end'` without half-open.
    AutoEnd(u64),
    /// The stream's auto-destroy, right after the listeners of `'end'` or `'finish'`
    /// (they still see the socket alive).
    AutoDestroy(u64),
    /// `resume()`'s flow of buffered data.
    Flow(u64),
    /// `destroy(err)` on the next tick (lookup failures).
    Destroy(u64, NetError),
    /// 'finish' once the FIN went out (libuv's shutdown callback).
    FinishAfterShutdown(u64),
    /// The writes queued while connecting go out, right after the application's
    /// `'connect'` listeners (Node's `_writeGeneric` listener), then `'ready'`.
    ConnectFlush(u64),
    /// An orphaned `_final`'s `'connect'` listener (see `WriteHalf::orphan_final`): it
    /// shuts the handle down (libuv from its next poll; writes and shutdowns asked
    /// meanwhile fail at once).
    OrphanFinal(u64),
    /// The FIN of an orphaned `_final`: no `'finish'`.
    OrphanShutdown(u64),
    /// What the OS reported, applied in the poll phase (see [`crate::queue`]).
    Io(u64, Fact),
    /// Node's `onwriteError` on the tick after a write failed synchronously: the failed
    /// writes' callbacks, then the rest of [`Socket::after_write_error`].
    WriteError(u64, NetError, Vec<WriteId>),
}

/// A happy-eyeballs lookup's answers, emitted one `'lookup'` at a time.
#[derive(Clone, Debug)]
struct LookupRest {
    answers: Vec<LookupAnswer>,
    /// The next answer to emit.
    next: usize,
    host: String,
    port: u16,
}

/// An OS fact waiting for the poll phase.
#[derive(Clone, Debug)]
enum Fact {
    Received(Instant, Vec<u8>),
    Eof(Instant),
    ReadFailed(Code),
    WriteDone(Instant, WriteId),
    WriteFailed(Code),
}

/// A `net.Socket`.
#[derive(Clone, Debug)]
pub struct Socket {
    q: Queue<Output, Deferred>,
    cfg: Config,
    /// Bumped when a destroyed socket is connected again: deferred work of the old life is
    /// dropped.
    life: u64,
    next_id: u64,
    conn: Conn,
    /// Node's `_handle !== null`.
    has_handle: bool,
    /// `resetAndDestroy()` while connecting: reset once connected.
    reset_on_connect: bool,
    /// `'connect'` was emitted; `'ready'` follows once its outputs were carried out.
    ready_pending: bool,
    /// `'connect'` was emitted and the writes queued while connecting wait for its
    /// listeners: Node's flush is a `'connect'` listener added by the first write, after
    /// the application's earlier ones ([`Deferred::ConnectFlush`]).
    connect_flush_pending: bool,
    /// The signal aborted: never connect again.
    aborted: bool,
    /// Owned by a server that counts it.
    server_owned: bool,
    r: ReadHalf,
    w: WriteHalf,
    /// Boxed: only a connect over several addresses has one.
    he: Option<Box<Schedule>>,
    attempted_addresses: Option<Vec<String>>,
    /// A single-address lookup still in flight when the socket was destroyed: Node still
    /// emits its `'lookup'` when the answer comes (its callback checks `connecting` after).
    orphan_lookup: Option<(LookupId, String)>,
    bytes_read: u64,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    remote_cache: Option<SocketAddr>,
    /// The OS no longer knows the peer (see [`Socket::peer_address_gone`]).
    peer_gone: bool,
    timeout: Duration,
    idle_deadline: Option<Instant>,
    /// The latest time an input carried: a fact applied after its report acts now, not at
    /// the time it was reported.
    clock: Instant,
    /// An application call is being applied ([`Socket::handle`]): no event may fire
    /// before it returns, so an overdue idle timer is re-armed rather than fired.
    in_call: bool,
    no_delay: bool,
    keep_alive: Option<u32>,
    he_timeout: Duration,
    local_bind: Option<LocalBind>,
    block_list: Option<crate::blocklist::BlockList>,
    /// The run being recorded ([`Socket::start_recording`]).
    recording: Option<Box<Recording>>,
}

/// `localAddress` / `localPort` of a connect: bind before connecting.
#[derive(Clone, Copy, Debug)]
struct LocalBind {
    address: Option<std::net::IpAddr>,
    port: u16,
}

fn local_bind(opts: &ConnectOptions) -> Option<LocalBind> {
    let port = opts.local_port.unwrap_or(0);
    if opts.local_address.is_none() && port == 0 {
        return None;
    }
    Some(LocalBind {
        address: opts.local_address,
        port,
    })
}

impl Socket {
    /// `new net.Socket(options)`: no connection yet.
    pub fn new(opts: &SocketOptions) -> Socket {
        Socket::with_config(Config {
            allow_half_open: opts.allow_half_open,
            high_water_mark: opts.writable_high_water_mark,
            readable_high_water_mark: opts.readable_high_water_mark,
            onread: opts.onread,
        })
    }

    fn with_config(cfg: Config) -> Socket {
        Socket {
            q: Queue::default(),
            cfg,
            life: 0,
            next_id: 1,
            conn: Conn::Idle,
            has_handle: false,
            reset_on_connect: false,
            ready_pending: false,
            connect_flush_pending: false,
            aborted: false,
            server_owned: false,
            r: ReadHalf {
                flowing: true,
                ..ReadHalf::default()
            },
            w: WriteHalf::default(),
            he: None,
            attempted_addresses: None,
            orphan_lookup: None,
            bytes_read: 0,
            local: None,
            remote: None,
            remote_cache: None,
            peer_gone: false,
            timeout: Duration::ZERO,
            idle_deadline: None,
            clock: Instant::ZERO,
            in_call: false,
            no_delay: false,
            keep_alive: None,
            he_timeout: crate::happy_eyeballs::DEFAULT_ATTEMPT_TIMEOUT,
            local_bind: None,
            block_list: None,
            recording: None,
        }
    }

    /// A socket a server accepted: connected from birth. `ipc` for unix-domain sockets
    /// (which have no addresses). The driver owes it nothing until it polls the outputs,
    /// which start reading unless `pauseOnConnect`.
    pub fn accepted(
        cfg: &ServerOptions,
        local: Option<SocketAddr>,
        remote: Option<SocketAddr>,
        ipc: bool,
    ) -> Socket {
        let mut s = Socket::with_config(Config {
            allow_half_open: cfg.allow_half_open,
            high_water_mark: cfg.high_water_mark,
            readable_high_water_mark: cfg.high_water_mark,
            onread: None,
        });
        s.conn = Conn::Open { ipc };
        s.has_handle = true;
        s.server_owned = true;
        s.local = local;
        s.remote = remote;
        if cfg.no_delay {
            s.no_delay = true;
            s.q.push(Output::Io(SocketIo::SetNoDelay(true)));
        }
        if cfg.keep_alive {
            let delay = u32::try_from(cfg.keep_alive_initial_delay.as_secs()).unwrap_or(u32::MAX);
            s.keep_alive = Some(delay);
            s.q.push(Output::Io(SocketIo::SetKeepAlive {
                enable: true,
                initial_delay_secs: delay,
            }));
        }
        if cfg.pause_on_connect {
            s.r.flowing = false;
        } else {
            s.r.reading = true;
            s.q.push(Output::Io(SocketIo::StartReading));
        }
        s
    }

    fn id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn event(&mut self, e: SocketEvent) {
        self.q.push(Output::Event(e));
    }

    fn io(&mut self, io: SocketIo) {
        self.q.push(Output::Io(io));
    }

    fn tick_emit(&mut self, e: SocketEvent) {
        self.q.next_tick(Deferred::Emit(e));
    }

    /// Re-arms the idle timer (Node's `_unrefTimer`), on activity.
    ///
    /// A deadline already past at `now` fires first when the activity is an OS fact: the
    /// driver was late with [`Socket::handle_timeout`], and Node's timers phase would have
    /// run before this poll phase. Within an application call it is only re-armed: Node
    /// fires nothing between a call and its return, and the call's activity refreshes
    /// the timer.
    fn refresh_timer(&mut self, now: Instant) {
        let now = now.max(self.clock);
        self.clock = now;
        if let Some(d) = self.idle_deadline {
            if d < now && !self.destroyed() && !self.in_call {
                self.idle_deadline = None;
                self.event(SocketEvent::Timeout);
            }
        }
        if !self.timeout.is_zero() && !self.destroyed() {
            self.idle_deadline = Some(now + self.timeout);
        }
    }

    // ----- application calls -------------------------------------------------------------

    /// See [`Socket::connect`].
    pub(super) fn do_connect(&mut self, now: Instant, opts: &ConnectOptions) {
        if self.aborted {
            return;
        }
        if self.destroyed() {
            self.reuse();
        } else if (self.connecting() && !matches!(self.conn, Conn::Rejected))
            || matches!(self.conn, Conn::Open { .. })
        {
            self.connect_while_busy(opts);
            return;
        }
        if let Some(t) = opts.timeout.filter(|t| !t.is_zero()) {
            self.do_set_timeout(now, t);
        }
        if opts.socket.no_delay {
            self.do_set_no_delay(true);
        }
        if opts.socket.keep_alive {
            let secs =
                u32::try_from(opts.socket.keep_alive_initial_delay.as_secs()).unwrap_or(u32::MAX);
            self.do_set_keep_alive(true, secs);
        }
        self.conn = Conn::Waiting;
        if !self.has_handle {
            // Node's connect() creates the handle, and initSocketHandle's _undestroy()
            // forgets an end() made before (its callbacks stay).
            self.reinitialize_handle();
        }
        self.has_handle = true;
        self.local_bind = local_bind(opts);
        self.block_list = opts.socket.block_list.clone();
        self.refresh_timer(now);
        match &opts.target {
            Target::Ipc { path } => {
                self.start_attempt(Remote::Ipc(path.clone()), None);
            }
            Target::Tcp { host, port } => {
                let host = if host.is_empty() {
                    "localhost"
                } else {
                    host.as_str()
                };
                let literal = ip::is_ip(host);
                if literal != 0 {
                    let family = if literal == 4 { Family::V4 } else { Family::V6 };
                    // `isIP` accepts some text libuv's parser does not (a long address
                    // with a zone): Node then fails the connect with EINVAL.
                    self.conn = match ip::parse_inet(host, family) {
                        Some(ip) => Conn::Scheduled {
                            remote: Remote::Tcp(SocketAddr::new(ip, *port)),
                            family: Some(family),
                        },
                        None => Conn::Unparsable {
                            address: host.to_string(),
                            port: *port,
                            family,
                        },
                    };
                    self.q.next_tick(Deferred::StartConnect(self.life));
                    return;
                }
                let all = opts.uses_happy_eyeballs();
                let id = LookupId(self.id());
                self.conn = Conn::Lookup {
                    id,
                    host: host.to_string(),
                    port: *port,
                    all,
                };
                self.he_timeout = opts.effective_attempt_timeout();
                self.io(SocketIo::Lookup {
                    id,
                    host: host.to_string(),
                    family: opts.family,
                    hints: opts.lookup_hints().bits() as i32,
                    all,
                });
            }
        }
    }

    /// See [`Socket::connect_rejected`]: the steps of Node's `connect()` before its checks.
    /// (A connected socket keeps its connection: Node would say `connecting` on it too,
    /// and hold its writes forever; the core does not model that.)
    pub(super) fn do_connect_rejected(&mut self, now: Instant) {
        if self.aborted {
            return;
        }
        if self.destroyed() {
            self.reuse();
        }
        self.has_handle = true;
        self.refresh_timer(now);
        if matches!(self.conn, Conn::Idle) {
            self.conn = Conn::Rejected;
        }
    }
}
