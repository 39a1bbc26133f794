//! The conformance runner on real loopback and unix sockets: the backend of `--driver std`
//! and `--driver smol`, written once. Both drivers' handles live in one manual runtime that
//! the runner turns as Node's single JavaScript thread would. Time is real.

/// Defines backend `$name` over the handles of crate `$krate` (`sansnet_std` or
/// `sansnet_smol`, whose blocking-free calls have the same names); `$tag` names its
/// temporary folder.
macro_rules! real_backend {
    ($name:ident, $krate:ident, $tag:literal) => {
        use std::net::{IpAddr, SocketAddr};
        use std::sync::Arc;

        use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
        use sansnet::socket::{Chunk, LookupAnswer, SocketInfo, WriteResult};
        use sansnet::{Duration, Instant, NetError};
        use $krate::{
            LookupRequest, Runtime, Server, ServerEvent, ServerSettings, Socket, SocketSettings,
        };

        use crate::backend::{Backend, BlackHole, Seen, ServerView, SockId, SrvId, TempDir};

        /// The runner's view of the driver.
        pub struct $name {
            rt: Runtime,
            origin: std::time::Instant,
            sockets: Vec<Socket>,
            servers: Vec<Server>,
            seen: Vec<Seen>,
            tmp: Option<TempDir>,
            holes: Vec<BlackHole>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("$name")
                    .field("sockets", &self.sockets.len())
                    .field("servers", &self.servers.len())
                    .finish()
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
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
            /// A backend with nothing open yet.
            pub fn new() -> $name {
                $name {
                    rt: Runtime::manual().expect("an epoll instance"),
                    origin: std::time::Instant::now(),
                    sockets: Vec::new(),
                    servers: Vec::new(),
                    seen: Vec::new(),
                    tmp: None,
                    holes: Vec::new(),
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
                let nanos = self.origin.elapsed().as_nanos();
                Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
            }

            fn temp_path(&mut self) -> String {
                self.tmp.get_or_insert_with(|| TempDir::new($tag)).path()
            }

            fn create_socket(
                &mut self,
                opts: SocketOptions,
                lookup: Option<Vec<LookupAnswer>>,
            ) -> SockId {
                let lookup = lookup.map(|answers| {
                    Arc::new(move |_: &LookupRequest| Ok(answers.clone())) as $krate::LookupFn
                });
                let s = Socket::with_settings(SocketSettings {
                    options: opts,
                    lookup,
                    runtime: Some(self.rt.clone()),
                });
                self.sockets.push(s);
                self.sockets.len() - 1
            }

            fn create_server(&mut self, opts: ServerOptions) -> SrvId {
                let s = Server::with_settings(ServerSettings {
                    options: opts,
                    lookup: None,
                    runtime: Some(self.rt.clone()),
                });
                self.servers.push(s);
                self.servers.len() - 1
            }

            fn blackhole(&mut self, ip: IpAddr) -> u16 {
                let Some(hole) = BlackHole::open(ip) else {
                    return 0;
                };
                let port = hole.port();
                self.holes.push(hole);
                port
            }

            fn connect(&mut self, s: SockId, opts: &ConnectOptions) {
                self.sockets[s].connect(opts.clone());
            }

            fn write(&mut self, s: SockId, chunk: Chunk, callback: bool) -> WriteResult {
                if callback {
                    self.sockets[s].write(chunk)
                } else {
                    self.sockets[s].write_quietly(chunk)
                }
            }

            fn end(&mut self, s: SockId, chunk: Option<Chunk>) -> WriteResult {
                self.sockets[s].end(chunk)
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
                }
            }

            fn take_seen(&mut self) -> Vec<Seen> {
                // Also what the calls since the last turn emitted synchronously.
                self.scan();
                std::mem::take(&mut self.seen)
            }

            fn turn(&mut self, limit: Instant) -> bool {
                let wait = limit.saturating_duration_since(self.now());
                let ran = self.rt.turn(std::time::Instant::now() + wait);
                self.scan() || ran
            }

            fn turn_immediate(&mut self) -> bool {
                let ran = self.rt.turn_immediate();
                self.scan() || ran
            }

            fn immediate_from_check(&mut self) {
                self.rt.immediate_from_check();
            }

            fn advance_clock(&mut self, _at: Instant) {}
        }
    };
}

pub(crate) use real_backend;
