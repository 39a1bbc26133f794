//! A deterministic network simulator that drives the same [`Socket`] and [`Server`] state
//! machines as the real drivers, in virtual time.
//!
//! One machine with the loopback addresses (127.0.0.0/8 and ::1) and any address the
//! scenario names; listeners with backlogs; black holes; a DNS table. Loopback behaves as
//! Linux's: data, FIN and RST are in the peer's kernel before the sending call returns
//! (closing a socket with unread data sends RST), and the peers hear of them in their next
//! poll phase. The clock jumps to the next event; ties are broken by sequence number. The
//! seed picks the ephemeral ports; the same seed gives the same run, byte for byte.
//!
//! Application calls go through [`Sim::socket`] / [`Sim::server`]: they run synchronously
//! and their deferred work waits, as JavaScript's would, until the loop runs
//! ([`Sim::turn`], [`Sim::turn_immediate`], [`Sim::advance_clock`]), one iteration of
//! Node's loop for every socket at once (see the crate manual).

mod net;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use net::{ListenKey, Listener, Network, Packet};
pub use net::{ServerHandle, SocketHandle};

use crate::error::{Code, NetError};
use crate::server::{
    BoundAddress, BoundAddressRequest, Server, ServerEvent, ServerIo, ServerOutput,
};
use crate::socket::{
    LookupAnswer, LookupId, Output, Remote, Socket, SocketEvent, SocketIo, WriteId,
};
use crate::time::Instant;

/// How many bytes one direction of a simulated connection holds before writes wait for
/// the reader: the sender's and receiver's kernel buffers together (on Linux loopback three
/// 1 MiB writes are taken at once, a fourth is not).
pub const SEND_CAPACITY: usize = 3 * 1024 * 1024 + 512 * 1024;

/// A small deterministic PRNG (SplitMix64): every random choice of a run comes from it.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A local completion the simulated kernel reports after the current turn.
#[derive(Debug)]
pub(crate) enum Completion {
    WriteDone(SocketHandle, WriteId),
    Lookup(SocketHandle, LookupId, Result<Vec<LookupAnswer>, NetError>),
    ServerLookup(ServerHandle, LookupId, Result<Vec<LookupAnswer>, NetError>),
}

/// Something an application observes: a socket or server event.
#[derive(Debug)]
pub enum Observed {
    /// A socket event.
    Socket(SocketHandle, SocketEvent),
    /// A server event; a `Connection` carries the handle of the new socket.
    Server(ServerHandle, ServerObserved),
}

/// A server event as the simulator reports it (sockets stay inside the simulator).
#[derive(Debug)]
pub enum ServerObserved {
    /// `'listening'`.
    Listening,
    /// `'connection'`: the new socket's handle.
    Connection(SocketHandle),
    /// `'drop'`.
    Drop(Option<crate::server::DropInfo>),
    /// `'error'`.
    Error(NetError),
    /// `'close'`.
    Close,
    /// `close(cb)`'s callback.
    CloseCallback(Option<NetError>),
    /// `getConnections(cb)`'s callback: the count.
    Connections(u32),
}

#[derive(Debug)]
struct SimSocket {
    socket: Socket,
    endpoint: Option<usize>,
    lookup: Option<Vec<LookupAnswer>>,
    server: Option<ServerHandle>,
    /// Attempts in flight (id → destination), aborted ones removed.
    attempts: BTreeMap<u64, ()>,
}

#[derive(Debug)]
struct SimServer {
    server: Server,
    key: Option<ListenKey>,
    /// Accepted endpoints waiting for the server to admit or refuse them, by token.
    pending: BTreeMap<u64, usize>,
}

/// The simulator.
#[derive(Debug)]
pub struct Sim {
    now: Instant,
    seq: u64,
    seed: u64,
    queue: BTreeMap<(Instant, u64), Packet>,
    /// Segments on loopback (data, FIN, RST): in the peer's kernel before the call that
    /// sent them returns.
    kernel: VecDeque<Packet>,
    net: Network,
    sockets: Vec<SimSocket>,
    servers: Vec<SimServer>,
    dns: BTreeMap<String, Vec<LookupAnswer>>,
    observed: Vec<Observed>,
    next_token: u64,
    /// Where the loop is after the check phase: its closing phase, or the next
    /// iteration's pending phase (then its poll phase).
    stage: Stage,
    /// The loop ran closing work since its last poll phase began: the next check phase
    /// (a `setImmediate`) comes after the next iteration's pending and poll phases.
    past_check: bool,
}

/// Whether a queued packet is a resolver's answer.
fn is_lookup(p: &Packet) -> bool {
    matches!(
        p,
        Packet::Local(Completion::Lookup(..) | Completion::ServerLookup(..))
    )
}

/// The phases the loop runs for every machine at once, after the check phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The closing phase of this iteration, then the next iteration's pending phase.
    Closing,
    /// The next iteration's pending phase ran: its poll phase comes next.
    Pending,
}

impl Sim {
    /// A simulator whose every choice comes from `seed`.
    pub fn new(seed: u64) -> Sim {
        let mut rng = Rng::new(seed);
        let first_port = 32768 + rng.below(28000) as u16;
        let mut dns = BTreeMap::new();
        dns.insert(
            "localhost".to_string(),
            vec![LookupAnswer {
                address: "127.0.0.1".into(),
                family: 4,
            }],
        );
        Sim {
            now: Instant::ZERO,
            seq: 0,
            seed,
            queue: BTreeMap::new(),
            kernel: VecDeque::new(),
            net: Network::new(first_port),
            sockets: Vec::new(),
            servers: Vec::new(),
            dns,
            observed: Vec::new(),
            next_token: 1,
            stage: Stage::Closing,
            past_check: false,
        }
    }

    /// The seed this run replays from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Sets the DNS answers for `host`.
    pub fn set_dns(&mut self, host: &str, answers: Vec<LookupAnswer>) {
        self.dns.insert(host.to_string(), answers);
    }

    /// Adds a socket (`new net.Socket()`); `lookup` answers every lookup it makes instead
    /// of the DNS table (a custom `lookup` option).
    pub fn add_socket(
        &mut self,
        socket: Socket,
        lookup: Option<Vec<LookupAnswer>>,
    ) -> SocketHandle {
        let mut socket = socket;
        socket.share_loop();
        self.sockets.push(SimSocket {
            socket,
            endpoint: None,
            lookup,
            server: None,
            attempts: BTreeMap::new(),
        });
        SocketHandle(self.sockets.len() - 1)
    }

    /// Adds a server.
    pub fn add_server(&mut self, server: Server) -> ServerHandle {
        self.servers.push(SimServer {
            server,
            key: None,
            pending: BTreeMap::new(),
        });
        ServerHandle(self.servers.len() - 1)
    }

    /// A listener on `ip` that never accepts: connects to it hang (for attempt timeouts).
    /// Returns its port.
    pub fn blackhole(&mut self, ip: IpAddr) -> u16 {
        let port = self.net.ephemeral_port();
        self.net.listeners.insert(
            ListenKey::Tcp(SocketAddr::new(ip, port)),
            Listener {
                server: None,
                options: None,
            },
        );
        port
    }

    /// Calls the application on a socket, then carries out what it emitted synchronously.
    pub fn socket<R>(&mut self, h: SocketHandle, f: impl FnOnce(&mut Socket, Instant) -> R) -> R {
        let now = self.now;
        let r = f(&mut self.sockets[h.0].socket, now);
        self.drain_socket(h, false);
        self.settle();
        r
    }

    /// Reads a socket without calling it.
    pub fn socket_ref(&self, h: SocketHandle) -> &Socket {
        &self.sockets[h.0].socket
    }

    /// Calls the application on a server, then carries out what it emitted synchronously.
    pub fn server<R>(&mut self, h: ServerHandle, f: impl FnOnce(&mut Server) -> R) -> R {
        let r = f(&mut self.servers[h.0].server);
        self.drain_server(h, false);
        self.settle();
        r
    }

    /// Reads a server without calling it.
    pub fn server_ref(&self, h: ServerHandle) -> &Server {
        &self.servers[h.0].server
    }

    /// Takes what the applications observed so far.
    pub fn take_observed(&mut self) -> Vec<Observed> {
        std::mem::take(&mut self.observed)
    }

    fn schedule(&mut self, at: Instant, p: Packet) {
        self.seq += 1;
        self.queue.insert((at, self.seq), p);
    }

    /// When a completion of the local machine is reported: on loopback, at once (in the
    /// next poll phase).
    fn hop(&mut self) -> Instant {
        self.now
    }

    /// Sends a segment on loopback: the peer's kernel has it before the sending call
    /// returns ([`Sim::settle`]).
    fn send(&mut self, p: Packet) {
        self.kernel.push_back(p);
    }

    /// Delivers every segment sent so far to its peer's kernel, as Linux loopback does
    /// within the sending syscall. The peers' sockets hear of it in their next poll phase.
    fn settle(&mut self) {
        while let Some(p) = self.kernel.pop_front() {
            self.deliver(p);
        }
    }

    // ----- the loop ------------------------------------------------------------------------

    /// Whether some machine has deferred work (Node's ticks) or undelivered outputs.
    fn has_pending_work(&self) -> bool {
        self.sockets.iter().any(|s| !s.socket.is_idle())
            || self.servers.iter().any(|s| !s.server.is_idle())
    }

    /// The loop's phases after the check phase, for every machine at once: the closing
    /// phase (each socket's `'close'`), then the next iteration's pending phase (work
    /// deferred to it, such as a shutdown asked with nothing queued), then its poll phase
    /// with the facts that arrived before it. Returns whether something ran.
    fn later_phases(&mut self) -> bool {
        loop {
            match self.stage {
                Stage::Closing => {
                    if let Some(i) =
                        (0..self.sockets.len()).find(|&i| self.sockets[i].socket.has_closing_work())
                    {
                        self.past_check = true;
                        self.drain_socket(SocketHandle(i), true);
                        return true;
                    }
                    self.stage = Stage::Pending;
                    let mut any = false;
                    for s in &mut self.sockets {
                        any |= s.socket.start_iteration();
                    }
                    if any {
                        return true;
                    }
                }
                Stage::Pending => return self.begin_poll_phase(),
            }
        }
    }

    /// The poll phase begins for every machine at once, with the lookups answered and the
    /// facts that arrived before it; the closing phase comes next.
    fn begin_poll_phase(&mut self) -> bool {
        self.stage = Stage::Closing;
        self.past_check = false;
        let mut any = self.deliver_lookups();
        for s in &mut self.sockets {
            any |= s.socket.start_poll_phase();
        }
        any
    }

    /// Runs deferred work until a machine emits an event for the application (which must
    /// react before anything else happens, as a JavaScript listener runs before the next
    /// tick) or all machines are quiet.
    fn run_deferred(&mut self) {
        while self.observed.is_empty() {
            let socket = (0..self.sockets.len()).find(|&i| !self.sockets[i].socket.is_idle());
            if let Some(i) = socket {
                self.drain_socket(SocketHandle(i), true);
                continue;
            }
            let server = (0..self.servers.len()).find(|&i| !self.servers[i].server.is_idle());
            match server {
                Some(i) => self.drain_server(ServerHandle(i), true),
                None => return,
            }
        }
    }

    /// The next moment something happens: a packet or a machine's deadline.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let packet = self.queue.keys().next().map(|(t, _)| *t);
        let timers = self
            .sockets
            .iter()
            .filter_map(|s| s.socket.poll_timeout())
            .min();
        match (packet, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// One turn of the loop, stopping at the first event the application observes (the
    /// caller takes it with [`Sim::take_observed`] and reacts between turns), in the order
    /// of Node's loop: the ticks after the last callback and the rest of a poll phase in
    /// progress; OS completions due now (connects, accepts, lookups, listens); then each
    /// machine's next phases (closing, pending, its next poll phase); else the clock jumps
    /// to the next packet or timer due no later than `limit`. Returns false when nothing
    /// happens before `limit`.
    pub fn turn(&mut self, limit: Instant) -> bool {
        self.settle();
        if !self.observed.is_empty() {
            return true;
        }
        if self.run_until_check() {
            return true;
        }
        if self.deliver_due() {
            return true;
        }
        if self.later_phases() {
            self.settle();
            return true;
        }
        if self.has_pending_work() {
            self.run_deferred();
            self.settle();
            return true;
        }
        let Some(at) = self.next_wakeup() else {
            return false;
        };
        if at > limit {
            return false;
        }
        self.now = self.now.max(at);
        if self.deliver_due() {
            return true;
        }
        for i in 0..self.sockets.len() {
            if self.sockets[i]
                .socket
                .poll_timeout()
                .is_some_and(|d| d <= self.now)
            {
                let now = self.now;
                self.sockets[i].socket.handle_timeout(now);
                self.drain_socket(SocketHandle(i), false);
            }
        }
        self.settle();
        true
    }

    /// Delivers the first packet due now, if any.
    fn deliver_due(&mut self) -> bool {
        let now = self.now;
        let due = self
            .queue
            .iter()
            .take_while(|(k, _)| k.0 <= now)
            .find(|(_, p)| !is_lookup(p))
            .map(|(k, _)| *k);
        match due {
            Some(key) => {
                // Handled in a poll phase: in a new iteration whose pending phase ran,
                // that iteration's poll phase (its closing phase comes next).
                if self.stage == Stage::Pending {
                    self.begin_poll_phase();
                }
                if let Some(p) = self.queue.remove(&key) {
                    self.deliver(p);
                }
                self.settle();
                true
            }
            None => false,
        }
    }

    /// Delivers the lookups answered by now: the resolver's thread pool reports them in a
    /// poll phase, so they come with the next iteration's poll, after this one's closing
    /// phase (a socket destroyed during its lookup has emitted `'close'` by then).
    fn deliver_lookups(&mut self) -> bool {
        let now = self.now;
        let due: Vec<(Instant, u64)> = self
            .queue
            .iter()
            .take_while(|(k, _)| k.0 <= now)
            .filter(|(_, p)| is_lookup(p))
            .map(|(k, _)| *k)
            .collect();
        for key in &due {
            if let Some(p) = self.queue.remove(key) {
                self.deliver(p);
            }
        }
        self.settle();
        !due.is_empty()
    }

    /// Runs what comes before the check phase on the first machine that has some (ticks,
    /// the rest of its poll phase), until the application observes an event.
    fn run_until_check(&mut self) -> bool {
        let Some(i) = (0..self.sockets.len()).find(|&i| !self.sockets[i].socket.ticks_drained())
        else {
            // A server's deferred work is all next-tick work.
            let Some(i) = (0..self.servers.len()).find(|&i| !self.servers[i].server.is_idle())
            else {
                return false;
            };
            self.drain_server(ServerHandle(i), true);
            self.settle();
            return true;
        };
        let h = SocketHandle(i);
        while self.observed.is_empty() {
            match self.sockets[i].socket.poll_tick_output() {
                None => break,
                Some(Output::Event(e)) => {
                    self.observe(h, e);
                    // The application reacts before the next deferred work runs.
                    while let Some(o) = self.sockets[i].socket.poll_emitted() {
                        match o {
                            Output::Event(e) => self.observe(h, e),
                            Output::Io(io) => self.socket_io(h, io),
                        }
                    }
                }
                Some(Output::Io(io)) => self.socket_io(h, io),
            }
        }
        self.settle();
        true
    }

    /// Like [`Sim::turn`] up to the current time, but only up to the loop's next check
    /// phase: what runs before a `setImmediate` callback in Node. Scheduled during the
    /// poll phase (or its ticks), that is this iteration's check phase; scheduled from the
    /// closing phase, the next iteration's, after its pending and poll phases.
    pub fn turn_immediate(&mut self) -> bool {
        self.settle();
        if !self.observed.is_empty() {
            return true;
        }
        if self.run_until_check() {
            return true;
        }
        if self.deliver_due() {
            return true;
        }
        // Past the check phase (the closing phase ran), or in a new iteration's pending
        // phase: the next check phase comes after this iteration's poll phase.
        if (self.past_check || self.stage == Stage::Pending) && self.later_phases() {
            self.settle();
            return true;
        }
        false
    }

    /// Says that the application's `setImmediate` was scheduled from the check phase: it
    /// runs in the next iteration's check phase, so the following
    /// [`Sim::turn_immediate`] calls also run this iteration's closing phase and the next
    /// iteration's pending and poll phases.
    pub fn immediate_from_check(&mut self) {
        self.past_check = true;
    }

    /// Moves the clock to `at` (after the turns up to it were taken).
    pub fn advance_clock(&mut self, at: Instant) {
        self.now = self.now.max(at);
    }

    // ----- carrying out what machines ask ----------------------------------------------------

    /// The application observes a socket event; `'finish'` means the FIN left (libuv's
    /// shutdown), which may close the connection in the kernel.
    fn observe(&mut self, h: SocketHandle, e: SocketEvent) {
        let finished = matches!(e, SocketEvent::Finish);
        self.observed.push(Observed::Socket(h, e));
        if finished {
            if let Some(ep) = self.sockets[h.0].endpoint {
                self.kernel_closed(ep);
                let peer = self.net.endpoints[ep].peer;
                self.kernel_closed(peer);
            }
        }
    }

    fn drain_socket(&mut self, h: SocketHandle, deferred: bool) {
        loop {
            let s = &mut self.sockets[h.0].socket;
            let o = if deferred {
                s.poll_output()
            } else {
                s.poll_emitted()
            };
            match o {
                None => return,
                Some(Output::Event(e)) => {
                    self.observe(h, e);
                    if deferred {
                        // The application reacts before the next deferred work runs.
                        while let Some(o) = self.sockets[h.0].socket.poll_emitted() {
                            match o {
                                Output::Event(e) => self.observe(h, e),
                                Output::Io(io) => self.socket_io(h, io),
                            }
                        }
                        return;
                    }
                }
                Some(Output::Io(io)) => self.socket_io(h, io),
            }
        }
    }

    fn drain_server(&mut self, h: ServerHandle, deferred: bool) {
        // After an event, only what was emitted synchronously: the application reacts
        // before the next deferred work runs.
        let mut deferred = deferred;
        loop {
            let s = &mut self.servers[h.0].server;
            let o = if deferred {
                s.poll_output()
            } else {
                s.poll_emitted()
            };
            match o {
                None => return,
                Some(ServerOutput::Io(io)) => self.server_io(h, io),
                Some(ServerOutput::Event(e)) => {
                    let seen = match e {
                        ServerEvent::Listening => ServerObserved::Listening,
                        ServerEvent::Connection { token, socket } => {
                            let endpoint = self.servers[h.0].pending.remove(&token);
                            let sh = self.add_socket(*socket, None);
                            self.sockets[sh.0].server = Some(h);
                            if let Some(ep) = endpoint {
                                self.sockets[sh.0].endpoint = Some(ep);
                                self.net.endpoints[ep].owner = Some(sh);
                                self.kernel_closed(ep);
                            }
                            self.observed
                                .push(Observed::Server(h, ServerObserved::Connection(sh)));
                            self.drain_socket(sh, false);
                            continue;
                        }
                        ServerEvent::Drop(d) => ServerObserved::Drop(d),
                        ServerEvent::Error(e) => ServerObserved::Error(e),
                        ServerEvent::Close => ServerObserved::Close,
                        ServerEvent::CloseCallback(e) => ServerObserved::CloseCallback(e),
                        ServerEvent::Connections(n) => ServerObserved::Connections(n),
                    };
                    self.observed.push(Observed::Server(h, seen));
                    deferred = false;
                }
            }
        }
    }

    fn socket_io(&mut self, h: SocketHandle, io: SocketIo) {
        match io {
            SocketIo::Lookup {
                id,
                host,
                family,
                all: _,
                ..
            } => {
                let answers = match &self.sockets[h.0].lookup {
                    Some(list) => Ok(list.clone()),
                    None => match self.dns.get(&host) {
                        Some(list) => Ok(list
                            .iter()
                            .filter(|a| family.is_none_or(|f| a.family == i64::from(f.number())))
                            .cloned()
                            .collect()),
                        None => Err(NetError::syscall(
                            Code::Enotfound,
                            "getaddrinfo",
                            Some(&host),
                            None,
                        )),
                    },
                };
                let at = self.hop();
                self.schedule(at, Packet::Local(Completion::Lookup(h, id, answers)));
            }
            SocketIo::Connect {
                attempt,
                remote,
                local,
            } => {
                if let Some(l) = local {
                    // The local bind happens first, synchronously, as the kernel's would.
                    let now = self.now;
                    if l.port() != 0 && self.net.local_in_use(l) {
                        self.sockets[h.0].socket.attempt_bind_failed(
                            now,
                            attempt,
                            Code::Eaddrinuse,
                        );
                        return;
                    }
                    self.sockets[h.0].socket.attempt_bound(now, attempt);
                }
                self.sockets[h.0].attempts.insert(attempt.0, ());
                let key = match &remote {
                    Remote::Tcp(a) => ListenKey::Tcp(*a),
                    Remote::Ipc(p) => ListenKey::Ipc(p.clone()),
                };
                let local = match (&remote, local) {
                    (Remote::Tcp(dest), l) => {
                        let ip = l
                            .map(|l| l.ip())
                            .filter(|ip| !ip.is_unspecified())
                            .unwrap_or(dest.ip());
                        let port = match l.map(|l| l.port()) {
                            Some(p) if p != 0 => p,
                            _ => self.net.ephemeral_port(),
                        };
                        Some(SocketAddr::new(ip, port))
                    }
                    (Remote::Ipc(_), _) => None,
                };
                let at = self.hop();
                self.schedule(
                    at,
                    Packet::Syn {
                        from: h,
                        attempt,
                        key,
                        local,
                    },
                );
            }
            SocketIo::AbortAttempt { attempt } => {
                self.sockets[h.0].attempts.remove(&attempt.0);
            }
            SocketIo::Write { id, data } => match self.sockets[h.0].endpoint {
                Some(ep) => {
                    self.net.endpoints[ep].backlog.push_back((id, data));
                    self.pump(ep, false);
                }
                None => {
                    let now = self.now;
                    self.schedule(now, Packet::Local(Completion::WriteDone(h, id)));
                }
            },
            SocketIo::Shutdown => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    let e = &mut self.net.endpoints[ep];
                    if !e.fin_sent && !e.closed && !e.reset {
                        e.fin_sent = true;
                        let peer = e.peer;
                        self.send(Packet::Fin { endpoint: peer });
                    }
                }
            }
            SocketIo::StartReading => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    self.net.endpoints[ep].reading = true;
                    self.flush_endpoint(ep);
                }
            }
            SocketIo::StopReading => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    self.net.endpoints[ep].reading = false;
                }
            }
            SocketIo::SetNoDelay(_) | SocketIo::SetKeepAlive { .. } => {}
            SocketIo::Close => {
                if let Some(ep) = self.sockets[h.0].endpoint.take() {
                    let unread = !self.net.endpoints[ep].unread.is_empty();
                    self.close_endpoint(ep, unread);
                }
            }
            SocketIo::Reset => {
                if let Some(ep) = self.sockets[h.0].endpoint.take() {
                    self.close_endpoint(ep, true);
                }
            }
            SocketIo::ReleaseFromServer => {
                if let Some(sh) = self.sockets[h.0].server.take() {
                    self.servers[sh.0].server.connection_closed();
                    self.drain_server(sh, false);
                }
            }
        }
    }

    /// Sends what the send window allows of an endpoint's pending writes; a write whose
    /// last byte was taken completes at once, as libuv's synchronous write does. `drain`:
    /// also carry out what the owner emits (when not already inside its drain).
    fn pump(&mut self, ep: usize, drain: bool) {
        loop {
            let e = &mut self.net.endpoints[ep];
            if e.reset && !e.closed && !e.backlog.is_empty() {
                // The peer reset the connection: the write fails (ECONNRESET).
                e.backlog.clear();
                if let Some(o) = e.owner {
                    self.sockets[o.0].socket.write_failed(Code::Econnreset);
                    if drain {
                        self.drain_socket(o, false);
                    }
                }
                return;
            }
            if e.closed || e.reset {
                e.backlog.clear();
                return;
            }
            let room = SEND_CAPACITY.saturating_sub(e.outstanding);
            let Some((id, data)) = e.backlog.front_mut() else {
                return;
            };
            if room == 0 && !data.is_empty() {
                return;
            }
            let n = room.min(data.len());
            let chunk: Vec<u8> = data.drain(..n).collect();
            let id = *id;
            let done = data.is_empty();
            if done {
                e.backlog.pop_front();
            }
            e.outstanding += n;
            let (peer, owner) = (e.peer, e.owner);
            if !chunk.is_empty() {
                self.send(Packet::Data {
                    endpoint: peer,
                    data: chunk,
                });
            }
            if let (true, Some(o)) = (done, owner) {
                let now = self.now;
                self.sockets[o.0].socket.write_done(now, id);
                if drain {
                    self.drain_socket(o, false);
                }
            }
        }
    }

    /// Closes an endpoint: RST to the peer if `rst`, else FIN (if not sent yet).
    fn close_endpoint(&mut self, ep: usize, rst: bool) {
        let e = &mut self.net.endpoints[ep];
        if e.closed {
            return;
        }
        e.closed = true;
        e.owner = None;
        e.unread.clear();
        let peer = e.peer;
        let fin_sent = e.fin_sent;
        let reset = e.reset;
        if reset {
            return;
        }
        if rst {
            self.send(Packet::Rst { endpoint: peer });
        } else if !fin_sent {
            self.net.endpoints[ep].fin_sent = true;
            self.send(Packet::Fin { endpoint: peer });
        }
    }

    /// Tells an endpoint's owner once the kernel closed the connection (both FINs, or a
    /// reset): `getpeername` fails from then on.
    ///
    /// Our FIN counts from `'finish'`: the core asks for it at `end()`, but libuv sends it
    /// in the pending phase where `'finish'` comes.
    fn kernel_closed(&mut self, ep: usize) {
        let e = &self.net.endpoints[ep];
        let Some(o) = e.owner else { return };
        // A FIN counts once its socket finished, or from the close that sent it.
        let fin_left = |owner: Option<SocketHandle>| {
            owner.is_none_or(|h| self.sockets[h.0].socket.writable_finished())
        };
        let ours = e.fin_sent && fin_left(Some(o));
        let theirs = e.fin_pending && fin_left(self.net.endpoints[e.peer].owner);
        if (ours && theirs) || e.reset {
            self.sockets[o.0].socket.peer_address_gone();
        }
    }

    /// Whether the kernel reports a hang-up on an endpoint (`POLLHUP`): a reset, the peer
    /// of a unix socket closed, or a TCP connection shut down both ways (our FIN counts
    /// from `'finish'`, as in [`Sim::kernel_closed`]).
    fn hung_up(&self, ep: usize) -> bool {
        let e = &self.net.endpoints[ep];
        let peer = &self.net.endpoints[e.peer];
        let ours = e.fin_sent
            && e.owner
                .is_none_or(|h| self.sockets[h.0].socket.writable_finished());
        let unix = e.local.is_none() && e.remote.is_none();
        e.reset || (unix && peer.closed) || (ours && e.fin_pending)
    }

    /// Hands an endpoint's unread bytes and FIN to its owner while it reads.
    fn flush_endpoint(&mut self, ep: usize) {
        let Some(owner) = self.net.endpoints[ep].owner else {
            return;
        };
        while self.net.endpoints[ep].reading {
            let Some(data) = self.net.endpoints[ep].unread.pop_front() else {
                break;
            };
            let now = self.now;
            let len = data.len();
            self.sockets[owner.0].socket.received(now, data);
            self.drain_socket(owner, false);
            let sender = self.net.endpoints[ep].peer;
            let s = &mut self.net.endpoints[sender];
            s.outstanding = s.outstanding.saturating_sub(len);
            self.pump(sender, true);
        }
        let e = &self.net.endpoints[ep];
        if e.reading && e.unread.is_empty() && e.fin_pending && !e.fin_delivered {
            self.net.endpoints[ep].fin_delivered = true;
            let now = self.now;
            if self.hung_up(ep) {
                self.sockets[owner.0].socket.eof_on_hang_up(now);
            } else {
                self.sockets[owner.0].socket.eof(now);
            }
            self.drain_socket(owner, false);
        }
    }

    fn server_io(&mut self, h: ServerHandle, io: ServerIo) {
        match io {
            ServerIo::Lookup { id, host } => {
                let answers = self.dns.get(&host).cloned().ok_or_else(|| {
                    NetError::syscall(Code::Enotfound, "getaddrinfo", Some(&host), None)
                });
                let at = self.hop();
                self.schedule(at, Packet::Local(Completion::ServerLookup(h, id, answers)));
            }
            ServerIo::Listen {
                id,
                address,
                options,
            } => {
                let result = match address {
                    BoundAddressRequest::Tcp(addr) => {
                        let is_local = addr.ip().is_loopback() || addr.ip().is_unspecified();
                        if !is_local {
                            Err(Code::Eaddrnotavail)
                        } else if addr.port() != 0 && self.net.tcp_in_use(addr) {
                            Err(Code::Eaddrinuse)
                        } else {
                            let port = if addr.port() == 0 {
                                self.net.ephemeral_port()
                            } else {
                                addr.port()
                            };
                            let bound = SocketAddr::new(addr.ip(), port);
                            let key = ListenKey::Tcp(bound);
                            self.net.listeners.insert(
                                key.clone(),
                                Listener {
                                    server: Some(h),
                                    options: Some(options),
                                },
                            );
                            self.servers[h.0].key = Some(key);
                            Ok(BoundAddress::Tcp(bound))
                        }
                    }
                    BoundAddressRequest::Ipc(path) => {
                        let key = ListenKey::Ipc(path.clone());
                        if self.net.listeners.contains_key(&key) {
                            Err(Code::Eaddrinuse)
                        } else {
                            self.net.listeners.insert(
                                key.clone(),
                                Listener {
                                    server: Some(h),
                                    options: Some(options),
                                },
                            );
                            self.servers[h.0].key = Some(key);
                            Ok(BoundAddress::Ipc(path))
                        }
                    }
                };
                // The bind and listen syscalls answer at once, as they do for libuv.
                self.servers[h.0].server.listen_done(id, result);
            }
            ServerIo::CloseListener => {
                if let Some(key) = self.servers[h.0].key.take() {
                    self.net.listeners.remove(&key);
                }
            }
            ServerIo::Unlink { .. } => {}
            ServerIo::CloseAccepted { token } => {
                if let Some(ep) = self.servers[h.0].pending.remove(&token) {
                    let unread = !self.net.endpoints[ep].unread.is_empty();
                    self.close_endpoint(ep, unread);
                }
            }
        }
    }

    // ----- packets -------------------------------------------------------------------------

    fn deliver(&mut self, p: Packet) {
        let now = self.now;
        match p {
            Packet::Syn {
                from,
                attempt,
                key,
                local,
            } => {
                let found = match &key {
                    ListenKey::Tcp(dest) => self.net.find_tcp_listener(*dest),
                    ListenKey::Ipc(_) => self
                        .net
                        .listeners
                        .contains_key(&key)
                        .then(|| (key.clone(), false)),
                };
                let at = self.hop();
                match found {
                    None => {
                        let code = if matches!(key, ListenKey::Ipc(_)) {
                            Code::Enoent
                        } else {
                            Code::Econnrefused
                        };
                        self.schedule(
                            at,
                            Packet::Refused {
                                socket: from,
                                attempt,
                                code,
                            },
                        );
                    }
                    Some((lkey, mapped)) => {
                        let server = self.net.listeners[&lkey].server;
                        let Some(server) = server else { return }; // black hole: SYN dropped
                        let (c_local, s_local) = match (&key, local) {
                            (ListenKey::Tcp(dest), Some(l)) => {
                                let client_seen = if mapped {
                                    match l.ip() {
                                        IpAddr::V4(v4) => SocketAddr::new(
                                            IpAddr::V6(v4.to_ipv6_mapped()),
                                            l.port(),
                                        ),
                                        _ => l,
                                    }
                                } else {
                                    l
                                };
                                let server_local = if mapped {
                                    match dest.ip() {
                                        IpAddr::V4(v4) => SocketAddr::new(
                                            IpAddr::V6(v4.to_ipv6_mapped()),
                                            dest.port(),
                                        ),
                                        _ => *dest,
                                    }
                                } else {
                                    *dest
                                };
                                (Some(l), Some((server_local, client_seen)))
                            }
                            _ => (None, None),
                        };
                        let (c, s) = self.net.pair(from, c_local, s_local.map(|x| x.0));
                        if let Some((_, client_seen)) = s_local {
                            self.net.endpoints[s].remote = Some(client_seen);
                            self.net.endpoints[c].remote = match &key {
                                ListenKey::Tcp(d) => Some(*d),
                                _ => None,
                            };
                        }
                        // The server's accept completes first, as on loopback.
                        self.schedule(
                            at,
                            Packet::Accept {
                                server,
                                endpoint: s,
                            },
                        );
                        self.schedule(
                            at,
                            Packet::Connected {
                                socket: from,
                                attempt,
                                endpoint: c,
                            },
                        );
                    }
                }
            }
            Packet::Connected {
                socket,
                attempt,
                endpoint,
            } => {
                if self.sockets[socket.0].attempts.remove(&attempt.0).is_none() {
                    // Aborted meanwhile: the OS socket is closed, the peer sees FIN.
                    self.net.endpoints[endpoint].owner = None;
                    self.close_endpoint(endpoint, false);
                    return;
                }
                self.sockets[socket.0].endpoint = Some(endpoint);
                let (local, remote) = (
                    self.net.endpoints[endpoint].local,
                    self.net.endpoints[endpoint].remote,
                );
                self.sockets[socket.0]
                    .socket
                    .attempt_connected(now, attempt, local, remote);
                self.drain_socket(socket, false);
            }
            Packet::Refused {
                socket,
                attempt,
                code,
            } => {
                if self.sockets[socket.0].attempts.remove(&attempt.0).is_some() {
                    self.sockets[socket.0]
                        .socket
                        .attempt_failed(now, attempt, code);
                    self.drain_socket(socket, false);
                }
            }
            Packet::Accept { server, endpoint } => {
                if self.net.endpoints[endpoint].closed {
                    return;
                }
                let token = self.next_token;
                self.next_token += 1;
                self.servers[server.0].pending.insert(token, endpoint);
                let (local, remote) = (
                    self.net.endpoints[endpoint].local,
                    self.net.endpoints[endpoint].remote,
                );
                self.servers[server.0].server.incoming(token, local, remote);
                self.drain_server(server, false);
            }
            Packet::Data { endpoint, data } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    if !e.reset && e.closed {
                        // Data to a closed socket: the kernel answers with RST.
                        let peer = e.peer;
                        self.send(Packet::Rst { endpoint: peer });
                    }
                    return;
                }
                e.unread.push_back(data);
                self.flush_endpoint(endpoint);
            }
            Packet::Fin { endpoint } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    return;
                }
                e.fin_pending = true;
                self.kernel_closed(endpoint);
                self.flush_endpoint(endpoint);
            }
            Packet::Rst { endpoint } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    return;
                }
                e.reset = true;
                e.unread.clear();
                self.kernel_closed(endpoint);
                let e = &mut self.net.endpoints[endpoint];
                if let Some(owner) = e.owner {
                    self.sockets[owner.0].socket.read_failed(Code::Econnreset);
                    self.drain_socket(owner, false);
                }
            }
            Packet::Local(c) => self.complete(c),
        }
    }

    fn complete(&mut self, c: Completion) {
        let now = self.now;
        match c {
            Completion::WriteDone(h, id) => {
                self.sockets[h.0].socket.write_done(now, id);
                self.drain_socket(h, false);
            }
            Completion::Lookup(h, id, r) => {
                self.sockets[h.0].socket.lookup_done(now, id, r);
                self.drain_socket(h, false);
            }
            Completion::ServerLookup(h, id, r) => {
                self.servers[h.0].server.lookup_done(id, r);
                self.drain_server(h, false);
            }
        }
    }

    /// Whether an endpoint exists for a socket (for tests).
    #[doc(hidden)]
    pub fn endpoint_of(&self, h: SocketHandle) -> Option<usize> {
        self.sockets[h.0].endpoint
    }
}
