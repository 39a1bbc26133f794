//! A deterministic network simulator that drives the same [`Socket`] and [`Server`] state
//! machines as the real drivers, in virtual time.
//!
//! One machine with the loopback addresses (127.0.0.0/8 and ::1) and any address the
//! scenario names; listeners with backlogs; black holes; a DNS table. Loopback behaves as
//! Linux's: data, FIN and RST are in the peer's kernel before the sending call returns
//! (closing a socket with unread data sends RST), and the peers hear of them in their next
//! poll phase. TCP ends keep Linux's timing where Node's traces show it: Nagle's algorithm
//! (a small write waits while the last small segment is unacknowledged) and delayed ACKs
//! in interactive mode (see `tcp.rs`). The clock jumps to the next event; ties are broken by sequence number. The
//! seed picks the ephemeral ports; the same seed gives the same run, byte for byte.
//!
//! Application calls go through [`Sim::socket`] / [`Sim::server`]: they run synchronously
//! and their deferred work waits, as JavaScript's would, until the loop runs
//! ([`Sim::turn`], [`Sim::turn_immediate`], [`Sim::advance_clock`]), one iteration of
//! Node's loop for every socket at once (see the crate manual).

mod carry_out;
pub mod check;
mod event_loop;
mod faults;
mod fs;
mod links;
mod net;
mod packets;
mod resolver;
mod tcp;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

pub use links::LinkDelay;
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

/// The same for a unix stream socket, whose bytes count against the sender's buffer until
/// the reader takes them (on Linux one 300,000-byte write is taken up to 219,264 bytes).
pub const UNIX_SEND_CAPACITY: usize = 219_264;

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

/// A custom resolver for one socket (Node's `lookup` option), asked with the host, the
/// family wanted (`None`: any), the `getaddrinfo` hints and whether every address is
/// wanted; it answers in the next poll phase, or after the latency set.
pub type Resolver = std::sync::Arc<
    dyn Fn(&str, Option<crate::ip::Family>, i32, bool) -> Result<Vec<LookupAnswer>, NetError>
        + Send
        + Sync,
>;

/// A socket's own resolver, if it has one.
#[derive(Clone, Default)]
struct ResolverSlot(Option<Resolver>);

impl std::fmt::Debug for ResolverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "custom" } else { "dns" })
    }
}

#[derive(Debug)]
struct SimSocket {
    socket: Socket,
    endpoint: Option<usize>,
    lookup: Option<Vec<LookupAnswer>>,
    resolver: ResolverSlot,
    /// The addresses of the host the socket is on (its source address off loopback).
    sources: Vec<IpAddr>,
    /// The file system its unix socket paths are in (0: the default host's).
    fs: u32,
    server: Option<ServerHandle>,
    /// Attempts in flight (id → destination), aborted ones removed.
    attempts: BTreeMap<u64, ()>,
    /// Nothing can happen to it until the application calls it again: destroyed, idle,
    /// no connection or attempt, no timer. The loop's scans skip it.
    retired: bool,
}

#[derive(Debug)]
struct SimServer {
    server: Server,
    /// The file system its unix socket paths are in (0: the default host's).
    fs: u32,
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
    /// Where the loop is among the phases after the check phase.
    phases: crate::event_loop::Phases,
    /// The order in which sockets asked for pending-phase work (libuv's one queue).
    pending_order: crate::event_loop::PendingOrder,
    /// Every socket records its run ([`Sim::record_sockets`]).
    record: bool,
    /// Directories and plain files, for unix socket paths: the default host's, then one
    /// per other host ([`Sim::set_socket_file_system`]).
    file_systems: BTreeMap<u32, fs::FileSystem>,
    /// Segments waiting for a held link ([`Sim::set_link_held`]), in order.
    held_segments: Vec<Packet>,
    /// Delays of the links off loopback.
    links: links::Links,
    /// Random choices after the first (link jitter).
    rng: Rng,
    /// What the network carried, when logging ([`Sim::log_packets`]).
    packet_log: Option<Vec<(Instant, String)>>,
}

/// Whether a queued packet is a resolver's answer.
fn is_lookup(p: &Packet) -> bool {
    matches!(
        p,
        Packet::Local(Completion::Lookup(..) | Completion::ServerLookup(..))
    )
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
            phases: crate::event_loop::Phases::new(),
            pending_order: crate::event_loop::PendingOrder::default(),
            record: false,
            file_systems: BTreeMap::new(),
            held_segments: Vec::new(),
            links: links::Links::default(),
            rng,
            packet_log: None,
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

    /// Gives the simulated machine address `ip` (a named host's): servers may listen on it.
    pub fn add_address(&mut self, ip: IpAddr) {
        self.net.addresses.insert(ip);
    }

    /// Sets the DNS answers for `host`.
    pub fn set_dns(&mut self, host: &str, answers: Vec<LookupAnswer>) {
        self.dns.insert(host.to_string(), answers);
    }

    /// Adds a socket (`new net.Socket()`); `lookup` answers every lookup it makes instead
    /// of the DNS table, at once (a custom `lookup` option that calls back with
    /// `process.nextTick`: [`Socket::lookup_answered_at_once`]).
    pub fn add_socket(
        &mut self,
        socket: Socket,
        lookup: Option<Vec<LookupAnswer>>,
    ) -> SocketHandle {
        let mut socket = socket;
        if self.record {
            socket.start_recording();
        }
        socket.share_loop();
        self.sockets.push(SimSocket {
            socket,
            endpoint: None,
            lookup,
            resolver: ResolverSlot::default(),
            sources: Vec::new(),
            fs: 0,
            server: None,
            attempts: BTreeMap::new(),
            retired: false,
        });
        SocketHandle(self.sockets.len() - 1)
    }

    /// Says that socket `h` is on a host with `addresses`: a connect off loopback without
    /// a `localAddress` leaves from the first of the destination's family.
    pub fn set_source_addresses(&mut self, h: SocketHandle, addresses: Vec<IpAddr>) {
        self.sockets[h.0].sources = addresses;
    }

    /// Gives socket `h` a resolver of its own (Node's `lookup` option), called for each
    /// lookup it makes instead of the DNS table.
    pub fn set_resolver(&mut self, h: SocketHandle, resolver: Resolver) {
        self.sockets[h.0].resolver = ResolverSlot(Some(resolver));
    }

    /// From now on every socket added (accepted ones too) records its run
    /// ([`Socket::start_recording`]); take a socket's with
    /// `sim.socket(h, |s, _| s.take_recording())`.
    pub fn record_sockets(&mut self) {
        self.record = true;
    }

    /// Makes a directory (and its parents) on the simulated host, for unix socket paths:
    /// binding in a directory that does not exist fails as on Linux. `/`, `/tmp`, `/dev`,
    /// `/run`, `/var/run`, `/home` and `/root` exist from the start, and `/dev/null` is a
    /// file that is not a socket.
    pub fn add_directory(&mut self, path: &str) {
        self.fs(0).add_directory(path);
    }

    /// [`Sim::add_directory`] on the host whose file system is `fs`.
    pub fn add_directory_in(&mut self, fs: u32, path: &str) {
        self.fs(fs).add_directory(path);
    }

    /// The file system `fs` (each host has its own; made on first use).
    fn fs(&mut self, fs: u32) -> &mut fs::FileSystem {
        self.file_systems.entry(fs).or_default()
    }

    /// Socket `h`'s unix socket paths are in file system `fs` (its host's; 0 is the
    /// default host's): a path names different sockets on different hosts.
    pub fn set_socket_file_system(&mut self, h: SocketHandle, fs: u32) {
        self.sockets[h.0].fs = fs;
    }

    /// Server `h`'s unix socket paths are in file system `fs` (see
    /// [`Sim::set_socket_file_system`]).
    pub fn set_server_file_system(&mut self, h: ServerHandle, fs: u32) {
        self.servers[h.0].fs = fs;
    }

    /// How many sockets the simulation has had.
    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// Adds a server.
    pub fn add_server(&mut self, server: Server) -> ServerHandle {
        self.servers.push(SimServer {
            server,
            fs: 0,
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

    /// From now on, logs what the network carries (SYN, SYN-ACK, refusals, data, FIN,
    /// RST), each with its virtual time; take it with [`Sim::take_packet_log`].
    pub fn log_packets(&mut self) {
        self.packet_log.get_or_insert_with(Vec::new);
    }

    /// Takes the packets logged so far (see [`Sim::log_packets`]).
    pub fn take_packet_log(&mut self) -> Vec<(Instant, String)> {
        self.packet_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
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
    /// next poll phase), or after the latency a scenario set.
    fn hop(&mut self) -> Instant {
        self.now + self.net.latency
    }

    /// Makes connects (SYN to answer) and lookups take `latency` of virtual time instead
    /// of completing in the next poll phase (a fault; zero by default).
    pub fn set_latency(&mut self, latency: crate::time::Duration) {
        self.net.latency = latency;
    }

    /// Cuts `ip` off (`cut`) or reconnects it: while cut off, SYNs to it are lost and
    /// connects hang, as to a black hole (a fault; connections already made go on).
    pub fn set_partitioned(&mut self, ip: IpAddr, cut: bool) {
        if cut {
            self.net.partitioned.insert(ip);
        } else {
            self.net.partitioned.remove(&ip);
        }
    }

    /// Sends a segment on loopback: the peer's kernel has it before the sending call
    /// returns ([`Sim::settle`]).
    fn send(&mut self, p: Packet) {
        let to = match &p {
            Packet::Data { endpoint, .. } | Packet::Fin { endpoint } | Packet::Rst { endpoint } => {
                Some(*endpoint)
            }
            _ => None,
        };
        match to.and_then(|ep| self.segment_arrival(ep)) {
            // Off loopback, over a link that takes time.
            Some(at) => self.schedule(at, p),
            None => self.kernel.push_back(p),
        }
    }

    /// Delivers every segment sent so far to its peer's kernel, as Linux loopback does
    /// within the sending syscall. The peers' sockets hear of it in their next poll phase.
    fn settle(&mut self) {
        while let Some(p) = self.kernel.pop_front() {
            self.deliver(p);
        }
    }

    /// Whether an endpoint exists for a socket (for tests).
    #[doc(hidden)]
    pub fn endpoint_of(&self, h: SocketHandle) -> Option<usize> {
        self.sockets[h.0].endpoint
    }
}
