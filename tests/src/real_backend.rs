//! The conformance runner through a driver's handles: the backend of `--driver std`,
//! `--driver smol` and `--driver smol-sim`, written once. The handles live in a [`Host`]:
//! one manual runtime over real loopback and unix sockets that the runner turns as Node's
//! single JavaScript thread would (real time), or a sansnet-smol simulation (virtual time).

use std::net::IpAddr;

use sansnet::Instant;
use sansnet_std::Runtime;

use crate::backend::{BlackHole, TempDir};

/// Where a backend's handles live, and how the runner turns its loop.
pub trait Host {
    /// The time now.
    fn now(&self) -> Instant;
    /// A fresh path for a unix socket.
    fn temp_path(&mut self) -> String;
    /// A port on `ip` that never answers a SYN.
    fn blackhole(&mut self, ip: IpAddr) -> u16;
    /// The runtime handles are made in (`None`: the one [`Host::make`] enters).
    fn runtime(&self) -> Option<Runtime>;
    /// Makes a handle.
    fn make<R>(&self, f: impl FnOnce() -> R) -> R;
    /// One turn of the loop, waiting no later than `limit`.
    fn turn(&mut self, limit: Instant) -> bool;
    /// What runs before a `setImmediate` callback.
    fn turn_immediate(&mut self) -> bool;
    /// A `setImmediate` scheduled from the check phase.
    fn immediate_from_check(&mut self);
    /// The runner waited until `at` (virtual clocks move).
    fn advance_clock(&mut self, at: Instant);
}

/// Real loopback and unix sockets in one manual runtime; real time.
#[derive(Debug)]
pub struct RealHost {
    rt: Runtime,
    origin: std::time::Instant,
    tag: &'static str,
    tmp: Option<TempDir>,
    holes: Vec<BlackHole>,
}

impl RealHost {
    /// A manual runtime; `tag` names the temporary folder.
    pub fn new(tag: &'static str) -> RealHost {
        RealHost {
            rt: Runtime::manual().expect("an epoll instance"),
            origin: std::time::Instant::now(),
            tag,
            tmp: None,
            holes: Vec::new(),
        }
    }
}

impl Host for RealHost {
    fn now(&self) -> Instant {
        let nanos = self.origin.elapsed().as_nanos();
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    fn temp_path(&mut self) -> String {
        let tag = self.tag;
        self.tmp.get_or_insert_with(|| TempDir::new(tag)).path()
    }

    fn blackhole(&mut self, ip: IpAddr) -> u16 {
        let Some(hole) = BlackHole::open(ip) else {
            return 0;
        };
        let port = hole.port();
        self.holes.push(hole);
        port
    }

    fn runtime(&self) -> Option<Runtime> {
        Some(self.rt.clone())
    }

    fn make<R>(&self, f: impl FnOnce() -> R) -> R {
        f()
    }

    fn turn(&mut self, limit: Instant) -> bool {
        let wait = limit.saturating_duration_since(self.now());
        self.rt.turn(std::time::Instant::now() + wait)
    }

    fn turn_immediate(&mut self) -> bool {
        self.rt.turn_immediate()
    }

    fn immediate_from_check(&mut self) {
        self.rt.immediate_from_check();
    }

    fn advance_clock(&mut self, _at: Instant) {}
}

/// A sansnet-smol simulation: virtual time, the seed's ports.
#[derive(Debug)]
pub struct SimHost {
    sim: sansnet_smol::sim::Sim,
    tmp: usize,
}

impl SimHost {
    /// A simulation of `seed`.
    pub fn new(seed: u64) -> SimHost {
        SimHost {
            sim: sansnet_smol::sim::Sim::new(seed),
            tmp: 0,
        }
    }
}

impl Host for SimHost {
    fn now(&self) -> Instant {
        self.sim.now()
    }

    fn temp_path(&mut self) -> String {
        self.tmp += 1;
        let dir = format!("/tmp/sansnet-sim-{:x}", self.sim.seed());
        self.sim.add_directory(&dir);
        format!("{dir}/s{}.sock", self.tmp)
    }

    fn blackhole(&mut self, ip: IpAddr) -> u16 {
        self.sim.handle().blackhole(ip)
    }

    fn runtime(&self) -> Option<Runtime> {
        None
    }

    fn make<R>(&self, f: impl FnOnce() -> R) -> R {
        self.sim.enter(f)
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

/// Defines backend `$name` over the handles of crate `$krate` (`sansnet_std` or
/// `sansnet_smol`, whose blocking-free calls have the same names), living in a `$host`
/// ([`RealHost`] or [`SimHost`]).
macro_rules! real_backend {
    ($name:ident, $krate:ident, $host:ty) => {
        use std::net::{IpAddr, SocketAddr};

        use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
        use sansnet::socket::{Chunk, LookupAnswer, SocketInfo, WriteResult};
        use sansnet::{Duration, Instant, NetError};
        use $krate::{Server, ServerEvent, ServerSettings, Socket, SocketSettings};

        use crate::backend::{Backend, Seen, ServerView, SockId, SrvId};
        use crate::real_backend::Host;

        /// The runner's view of the driver.
        pub struct $name {
            sockets: Vec<Socket>,
            servers: Vec<Server>,
            seen: Vec<Seen>,
            host: $host,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("$name")
                    .field("sockets", &self.sockets.len())
                    .field("servers", &self.servers.len())
                    .finish()
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                for s in &self.sockets {
                    s.destroy(None);
                }
            }
        }

        impl $name {
            /// A backend with nothing open yet, its handles in `host`.
            pub fn with_host(host: $host) -> $name {
                $name {
                    sockets: Vec::new(),
                    servers: Vec::new(),
                    seen: Vec::new(),
                    host,
                }
            }

            /// Takes every event every actor has.
            fn scan(&mut self) -> bool {
                let mut any = false;
                for i in 0..self.sockets.len() {
                    while let Some(e) = self.sockets[i].try_next_event() {
                        self.seen.push(Seen::Socket(i, e));
                        any = true;
                    }
                }
                for srv in 0..self.servers.len() {
                    while let Some(e) = self.servers[srv].try_next_event() {
                        any = true;
                        let seen = match e {
                            ServerEvent::Listening => Seen::Listening(srv),
                            ServerEvent::Connection(s) => {
                                self.sockets.push(s);
                                Seen::Connection(srv, self.sockets.len() - 1)
                            }
                            ServerEvent::Drop(d) => Seen::Drop(srv, d),
                            ServerEvent::Error(e) => Seen::ServerError(srv, e),
                            ServerEvent::Close => Seen::Close(srv),
                            ServerEvent::CloseCallback(e) => Seen::CloseCallback(srv, e),
                            ServerEvent::Connections(n) => Seen::Connections(srv, n),
                        };
                        self.seen.push(seen);
                    }
                }
                any
            }
        }

        impl Backend for $name {
            fn now(&self) -> Instant {
                self.host.now()
            }

            fn temp_path(&mut self) -> String {
                self.host.temp_path()
            }

            fn create_socket(
                &mut self,
                opts: SocketOptions,
                lookup: Option<Vec<LookupAnswer>>,
            ) -> SockId {
                let runtime = self.host.runtime();
                let s = self.host.make(|| {
                    Socket::with_settings(SocketSettings {
                        options: opts,
                        // The format's lookup answers with process.nextTick.
                        lookup_answers: lookup,
                        runtime,
                        ..SocketSettings::default()
                    })
                });
                self.sockets.push(s);
                self.sockets.len() - 1
            }

            fn create_server(&mut self, opts: ServerOptions) -> SrvId {
                let runtime = self.host.runtime();
                let s = self.host.make(|| {
                    Server::with_settings(ServerSettings {
                        options: opts,
                        lookup: None,
                        runtime,
                    })
                });
                self.servers.push(s);
                self.servers.len() - 1
            }

            fn blackhole(&mut self, ip: IpAddr) -> u16 {
                self.host.blackhole(ip)
            }

            fn connect(&mut self, s: SockId, opts: &ConnectOptions) {
                self.sockets[s].connect(opts.clone());
            }

            fn connect_rejected(&mut self, s: SockId) {
                self.sockets[s].connect_rejected();
            }

            fn write(&mut self, s: SockId, chunk: Chunk, callback: bool) -> WriteResult {
                if callback {
                    self.sockets[s].write_with_callback(chunk)
                } else {
                    self.sockets[s].write(chunk)
                }
            }

            fn end(&mut self, s: SockId, chunk: Option<Chunk>, callback: bool) -> WriteResult {
                if callback {
                    self.sockets[s].end_with_callback(chunk)
                } else {
                    self.sockets[s].end(chunk)
                }
            }

            fn destroy(&mut self, s: SockId, err: Option<NetError>) {
                self.sockets[s].destroy(err);
            }

            fn destroy_soon(&mut self, s: SockId) {
                self.sockets[s].destroy_soon();
            }

            fn reset_and_destroy(&mut self, s: SockId) -> Result<(), NetError> {
                self.sockets[s].reset_and_destroy()
            }

            fn pause(&mut self, s: SockId) {
                self.sockets[s].pause();
            }

            fn resume(&mut self, s: SockId) {
                self.sockets[s].resume();
            }

            fn set_timeout(&mut self, s: SockId, timeout: Duration) {
                self.sockets[s].set_timeout(timeout);
            }

            fn set_no_delay(&mut self, s: SockId, v: bool) {
                self.sockets[s].set_no_delay(v);
            }

            fn set_keep_alive(&mut self, s: SockId, enable: bool, secs: u32) {
                self.sockets[s].set_keep_alive(enable, Duration::from_secs(u64::from(secs)));
            }

            fn socket_view(&mut self, s: SockId) -> SocketInfo {
                self.sockets[s].info()
            }

            fn remote_address(&mut self, s: SockId) -> Option<SocketAddr> {
                self.sockets[s].remote_address()
            }

            fn listen(&mut self, srv: SrvId, opts: ListenOptions) -> Result<(), NetError> {
                self.servers[srv].start_listen(opts)
            }

            fn close(&mut self, srv: SrvId) {
                self.servers[srv].start_close();
            }

            fn get_connections(&mut self, srv: SrvId) {
                self.servers[srv].start_get_connections();
            }

            fn set_max_connections(&mut self, srv: SrvId, v: Option<u32>) {
                self.servers[srv].set_max_connections(v);
            }

            fn server_view(&mut self, srv: SrvId) -> ServerView {
                let i = self.servers[srv].info();
                ServerView {
                    listening: i.listening,
                    address: i.address,
                    connections: i.connections,
                    max_connections: i.max_connections,
                    keep_alive: i.keep_alive,
                    keep_alive_initial_delay_s: i.keep_alive_initial_delay.as_secs(),
                    no_delay: i.no_delay,
                }
            }

            fn take_seen(&mut self) -> Vec<Seen> {
                // Also what the calls since the last turn emitted synchronously.
                self.scan();
                std::mem::take(&mut self.seen)
            }

            fn turn(&mut self, limit: Instant) -> bool {
                let ran = self.host.turn(limit);
                self.scan() || ran
            }

            fn turn_immediate(&mut self) -> bool {
                let ran = self.host.turn_immediate();
                self.scan() || ran
            }

            fn immediate_from_check(&mut self) {
                self.host.immediate_from_check();
            }

            fn advance_clock(&mut self, at: Instant) {
                self.host.advance_clock(at);
            }
        }
    };
}

pub(crate) use real_backend;
