//! What the conformance runner needs from a driver: make sockets and servers, make Node's
//! calls on them, read their getters, and run the event loop one turn at a time. The
//! simulator implements it here; real drivers implement it in their own modules.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;

use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::server::{BoundAddress, DropInfo, Server};
use sansnet::sim::{Observed, ServerHandle, ServerObserved, Sim, SocketHandle};
use sansnet::socket::{Chunk, LookupAnswer, Socket, SocketEvent, SocketInfo, WriteResult};
use sansnet::{Duration, Instant, NetError};

/// A socket of a backend, by index in creation order.
pub type SockId = usize;
/// A server of a backend, by index in creation order.
pub type SrvId = usize;

/// Something the application observed.
#[derive(Debug)]
pub enum Seen {
    /// A socket event (or a write/end callback).
    Socket(SockId, SocketEvent),
    /// `'listening'`.
    Listening(SrvId),
    /// `'connection'`: the accepted socket's id.
    Connection(SrvId, SockId),
    /// `'drop'`.
    Drop(SrvId, Option<DropInfo>),
    /// Server `'error'`.
    ServerError(SrvId, NetError),
    /// Server `'close'`.
    Close(SrvId),
    /// The callback of `server.close(cb)`.
    CloseCallback(SrvId, Option<NetError>),
    /// The callback of `server.getConnections(cb)`: the count.
    Connections(SrvId, u32),
}

/// A server's getters.
#[derive(Clone, Debug)]
pub struct ServerView {
    /// `listening`.
    pub listening: bool,
    /// `address()`.
    pub address: Option<BoundAddress>,
    /// `getConnections()`.
    pub connections: u32,
    /// `maxConnections`.
    pub max_connections: Option<u32>,
    /// `keepAlive`, `keepAliveInitialDelay` (whole seconds) and `noDelay`, from the
    /// server's options.
    pub keep_alive: bool,
    pub keep_alive_initial_delay_s: u64,
    pub no_delay: bool,
}

/// A driver as the conformance runner drives it.
pub trait Backend {
    /// The driver's clock.
    fn now(&self) -> Instant;
    /// A fresh unix-socket path in a private folder (`"$tmp"`).
    fn temp_path(&mut self) -> String;
    /// `new net.Socket(options)`; `lookup` answers every lookup instead of DNS.
    fn create_socket(&mut self, opts: SocketOptions, lookup: Option<Vec<LookupAnswer>>) -> SockId;
    /// `net.createServer(options)`.
    fn create_server(&mut self, opts: ServerOptions) -> SrvId;
    /// A listener on `ip` that never accepts; its port.
    fn blackhole(&mut self, ip: IpAddr) -> u16;

    /// `socket.connect(options)`.
    fn connect(&mut self, s: SockId, opts: &ConnectOptions);
    /// A `socket.connect(...)` that threw after Node set `connecting`
    /// ([`Socket::connect_rejected`]).
    fn connect_rejected(&mut self, s: SockId);
    /// `socket.write(chunk[, cb])`, with Node's return value; `callback`: whether a callback
    /// was given (its event is reported).
    fn write(&mut self, s: SockId, chunk: Chunk, callback: bool) -> WriteResult;
    /// `socket.end([chunk][, cb])`; `callback`: whether a callback was given (its event is
    /// reported).
    fn end(&mut self, s: SockId, chunk: Option<Chunk>, callback: bool) -> WriteResult;
    /// `socket.destroy([err])`.
    fn destroy(&mut self, s: SockId, err: Option<NetError>);
    /// `socket.destroySoon()`.
    fn destroy_soon(&mut self, s: SockId);
    /// `socket.resetAndDestroy()`.
    fn reset_and_destroy(&mut self, s: SockId) -> Result<(), NetError>;
    /// `socket.pause()`.
    fn pause(&mut self, s: SockId);
    /// `socket.resume()`.
    fn resume(&mut self, s: SockId);
    /// `socket.setTimeout(ms)` (validated).
    fn set_timeout(&mut self, s: SockId, timeout: Duration);
    /// `socket.setNoDelay(v)`.
    fn set_no_delay(&mut self, s: SockId, v: bool);
    /// `socket.setKeepAlive(enable, delay)` with the delay in seconds.
    fn set_keep_alive(&mut self, s: SockId, enable: bool, secs: u32);
    /// The socket's getters, consistent with the events observed so far.
    fn socket_view(&mut self, s: SockId) -> SocketInfo;
    /// `remoteAddress` / `remotePort`: reading it caches it, as in Node.
    fn remote_address(&mut self, s: SockId) -> Option<SocketAddr>;

    /// `server.listen(options)`: `Err` only for what Node throws synchronously.
    fn listen(&mut self, srv: SrvId, opts: ListenOptions) -> Result<(), NetError>;
    /// `server.close(cb)`.
    fn close(&mut self, srv: SrvId);
    /// `server.getConnections(cb)`: the count follows as [`Seen::Connections`] on the
    /// server's next tick.
    fn get_connections(&mut self, srv: SrvId);
    /// `server.maxConnections = v`.
    fn set_max_connections(&mut self, srv: SrvId, v: Option<u32>);
    /// The server's getters.
    fn server_view(&mut self, srv: SrvId) -> ServerView;

    /// What was observed since the last call.
    fn take_seen(&mut self) -> Vec<Seen>;
    /// One turn of the event loop, waiting no later than `limit`; false when nothing
    /// happened before it. The runner reacts to what was seen between turns.
    fn turn(&mut self, limit: Instant) -> bool;
    /// A turn limited to what is due now, before a later loop turn's work (what runs before
    /// a `setImmediate` callback); false when nothing is.
    fn turn_immediate(&mut self) -> bool;
    /// The next `setImmediate` was scheduled from the check phase: it runs in the next
    /// iteration's check phase (see [`Backend::turn_immediate`]).
    fn immediate_from_check(&mut self);
    /// Lets the clock reach `at` (after the turns up to it were taken).
    fn advance_clock(&mut self, at: Instant);
}

/// The simulator as a backend.
#[derive(Debug)]
pub struct SimBackend {
    sim: Sim,
    seed: u64,
    tmp: usize,
}

impl SimBackend {
    /// A simulator seeded with `seed`.
    pub fn new(seed: u64) -> SimBackend {
        SimBackend {
            sim: Sim::new(seed),
            seed,
            tmp: 0,
        }
    }

    /// A simulator whose sockets record their runs ([`Sim::record_sockets`]).
    pub fn recording(seed: u64) -> SimBackend {
        let mut b = SimBackend::new(seed);
        b.sim.record_sockets();
        b
    }

    /// The simulator.
    pub fn sim(&mut self) -> &mut Sim {
        &mut self.sim
    }

    fn sock<R>(&mut self, s: SockId, f: impl FnOnce(&mut Socket, Instant) -> R) -> R {
        self.sim.socket(SocketHandle(s), f)
    }
}

impl Backend for SimBackend {
    fn now(&self) -> Instant {
        self.sim.now()
    }

    fn temp_path(&mut self) -> String {
        self.tmp += 1;
        let dir = format!("/tmp/sansnet-sim-{:x}", self.seed);
        self.sim.add_directory(&dir);
        format!("{dir}/s{}.sock", self.tmp)
    }

    fn create_socket(&mut self, opts: SocketOptions, lookup: Option<Vec<LookupAnswer>>) -> SockId {
        self.sim.add_socket(Socket::new(&opts), lookup).0
    }

    fn create_server(&mut self, opts: ServerOptions) -> SrvId {
        self.sim.add_server(Server::new(opts)).0
    }

    fn blackhole(&mut self, ip: IpAddr) -> u16 {
        self.sim.blackhole(ip)
    }

    fn connect(&mut self, s: SockId, opts: &ConnectOptions) {
        self.sock(s, |so, now| so.connect(now, opts));
    }

    fn connect_rejected(&mut self, s: SockId) {
        self.sock(s, |so, now| so.connect_rejected(now));
    }

    fn write(&mut self, s: SockId, chunk: Chunk, callback: bool) -> WriteResult {
        let r = self.sock(s, |so, now| so.write_with(now, chunk, callback));
        // Node's value: decided after the synchronous write attempt the simulator made.
        let ok = self.sim.socket_ref(SocketHandle(s)).write_return_value();
        WriteResult { ok, ..r }
    }

    fn end(&mut self, s: SockId, chunk: Option<Chunk>, callback: bool) -> WriteResult {
        self.sock(s, |so, now| so.end_with(now, chunk, callback))
    }

    fn destroy(&mut self, s: SockId, err: Option<NetError>) {
        self.sock(s, |so, _| so.destroy(err));
    }

    fn destroy_soon(&mut self, s: SockId) {
        self.sock(s, |so, now| so.destroy_soon(now));
    }

    fn reset_and_destroy(&mut self, s: SockId) -> Result<(), NetError> {
        self.sock(s, |so, _| so.reset_and_destroy())
    }

    fn pause(&mut self, s: SockId) {
        self.sock(s, |so, _| so.pause());
    }

    fn resume(&mut self, s: SockId) {
        self.sock(s, |so, _| so.resume());
    }

    fn set_timeout(&mut self, s: SockId, timeout: Duration) {
        self.sock(s, |so, now| so.set_timeout(now, timeout));
    }

    fn set_no_delay(&mut self, s: SockId, v: bool) {
        self.sock(s, |so, _| so.set_no_delay(v));
    }

    fn set_keep_alive(&mut self, s: SockId, enable: bool, secs: u32) {
        self.sock(s, |so, _| so.set_keep_alive(enable, secs));
    }

    fn socket_view(&mut self, s: SockId) -> SocketInfo {
        self.sock(s, |so, _| so.info())
    }

    fn remote_address(&mut self, s: SockId) -> Option<SocketAddr> {
        self.sock(s, |so, _| so.remote_address())
    }

    fn listen(&mut self, srv: SrvId, opts: ListenOptions) -> Result<(), NetError> {
        self.sim.server(ServerHandle(srv), |s| s.listen(opts))
    }

    fn close(&mut self, srv: SrvId) {
        self.sim.server(ServerHandle(srv), Server::close);
    }

    fn get_connections(&mut self, srv: SrvId) {
        self.sim.server(ServerHandle(srv), Server::get_connections);
    }

    fn set_max_connections(&mut self, srv: SrvId, v: Option<u32>) {
        self.sim
            .server(ServerHandle(srv), |s| s.max_connections = v);
    }

    fn server_view(&mut self, srv: SrvId) -> ServerView {
        let s = self.sim.server_ref(ServerHandle(srv));
        let o = s.options();
        ServerView {
            listening: s.listening(),
            address: s.address(),
            connections: s.connections(),
            max_connections: s.max_connections,
            keep_alive: o.keep_alive,
            keep_alive_initial_delay_s: o.keep_alive_initial_delay.as_secs(),
            no_delay: o.no_delay,
        }
    }

    fn take_seen(&mut self) -> Vec<Seen> {
        self.sim
            .take_observed()
            .into_iter()
            .map(|o| match o {
                Observed::Socket(h, e) => Seen::Socket(h.0, e),
                Observed::Server(h, e) => match e {
                    ServerObserved::Listening => Seen::Listening(h.0),
                    ServerObserved::Connection(s) => Seen::Connection(h.0, s.0),
                    ServerObserved::Drop(d) => Seen::Drop(h.0, d),
                    ServerObserved::Error(e) => Seen::ServerError(h.0, e),
                    ServerObserved::Close => Seen::Close(h.0),
                    ServerObserved::CloseCallback(e) => Seen::CloseCallback(h.0, e),
                    ServerObserved::Connections(n) => Seen::Connections(h.0, n),
                },
            })
            .collect()
    }

    fn turn(&mut self, limit: Instant) -> bool {
        self.sim.turn(limit)
    }

    fn turn_immediate(&mut self) -> bool {
        self.sim.turn_immediate()
    }

    fn immediate_from_check(&mut self) {
        self.sim.immediate_from_check();
    }

    fn advance_clock(&mut self, at: Instant) {
        self.sim.advance_clock(at);
    }
}

/// A loopback "black hole" for real drivers: a listener with a backlog of 0 whose accept
/// queue is filled and never accepted, so the kernel drops further SYNs and a connect to
/// it hangs. Keep the returned value alive as long as the hole is needed.
#[derive(Debug)]
pub struct BlackHole {
    listener: socket2::Socket,
    _fillers: Vec<TcpStream>,
}

impl BlackHole {
    /// Opens one on `ip`; `None` if the OS refuses.
    pub fn open(ip: IpAddr) -> Option<BlackHole> {
        let domain = if ip.is_ipv4() {
            socket2::Domain::IPV4
        } else {
            socket2::Domain::IPV6
        };
        let listener = socket2::Socket::new(domain, socket2::Type::STREAM, None).ok()?;
        listener.bind(&SocketAddr::new(ip, 0).into()).ok()?;
        listener.listen(0).ok()?;
        let addr = listener.local_addr().ok()?.as_socket()?;
        let fillers = (0..2)
            .filter_map(|_| {
                TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)).ok()
            })
            .collect();
        Some(BlackHole {
            listener,
            _fillers: fillers,
        })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map_or(0, |a| a.port())
    }
}

/// A private folder for a real driver's `"$tmp"` unix-socket paths, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    dir: PathBuf,
    count: usize,
}

impl TempDir {
    /// A fresh folder under the system's temporary directory.
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("sansnet-{tag}-{}-{nanos:x}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        TempDir { dir, count: 0 }
    }

    /// A new path inside it.
    pub fn path(&mut self) -> String {
        self.count += 1;
        self.dir
            .join(format!("s{}.sock", self.count))
            .to_string_lossy()
            .into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
