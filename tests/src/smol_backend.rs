//! `--driver smol`: the conformance runner on real loopback and unix sockets through
//! `sansnet-smol`. Time is real; a turn waits for the next event of any socket or server.
//!
//! Asking a socket for its next event tells the driver that the events before it were
//! handled (Node's listeners returned), so the runner asks only between its reactions.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures_lite::future;
use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::socket::{Chunk, LookupAnswer, SocketInfo, WriteResult};
use sansnet::{Code, Duration, Instant, NetError};
use sansnet_smol::{LookupRequest, Server, ServerEvent, ServerSettings, Socket, SocketSettings};

use crate::backend::{Backend, BlackHole, Seen, ServerView, SockId, SrvId, TempDir};

/// How long a turn that only takes what is due now waits for stragglers.
const IMMEDIATE_GRACE: std::time::Duration = std::time::Duration::from_millis(3);

/// How long `listen` waits to see whether the driver refuses it synchronously.
const LISTEN_CHECK: std::time::Duration = std::time::Duration::from_millis(30);

/// The runner's view of `sansnet-smol`.
pub struct SmolBackend {
    sockets: Vec<Arc<Socket>>,
    servers: Vec<Arc<Server>>,
    seen: Vec<Seen>,
    tmp: Option<TempDir>,
    holes: Vec<BlackHole>,
}

impl std::fmt::Debug for SmolBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolBackend")
            .field("sockets", &self.sockets.len())
            .field("servers", &self.servers.len())
            .finish()
    }
}

impl Default for SmolBackend {
    fn default() -> Self {
        SmolBackend::new()
    }
}

impl Drop for SmolBackend {
    fn drop(&mut self) {
        for s in &self.sockets {
            s.destroy(None);
        }
    }
}

type Next<'a> = Pin<Box<dyn Future<Output = Option<Seen>> + 'a>>;

impl SmolBackend {
    /// A backend with nothing open yet.
    pub fn new() -> SmolBackend {
        SmolBackend {
            sockets: Vec::new(),
            servers: Vec::new(),
            seen: Vec::new(),
            tmp: None,
            holes: Vec::new(),
        }
    }

    /// Registers a socket; the runner's calls on it until its next turn form one
    /// synchronous section, as JavaScript's do.
    fn add_socket(&mut self, s: Socket) -> SockId {
        s.hold();
        self.sockets.push(Arc::new(s));
        self.sockets.len() - 1
    }

    /// Waits until some socket or server has an event (or `deadline`), taking every event
    /// that is ready in the same poll. Returns whether any was taken. `ticks_only`: the
    /// sockets may run only next-tick work meanwhile (before a `setImmediate` callback).
    fn take_next(&mut self, deadline: std::time::Instant, ticks_only: bool) -> bool {
        let sockets = self.sockets.clone();
        let servers = self.servers.clone();
        let mut futs: Vec<Next<'_>> = Vec::new();
        for (i, s) in sockets.iter().enumerate() {
            futs.push(Box::pin(async move {
                let e = if ticks_only {
                    s.next_tick_event().await
                } else {
                    s.next_event().await
                };
                e.map(|e| Seen::Socket(i, e))
            }));
        }
        let mut server_events: Vec<Pin<Box<dyn Future<Output = Option<ServerEvent>> + '_>>> =
            servers
                .iter()
                .map(|s| Box::pin(s.next_event()) as Pin<Box<dyn Future<Output = _>>>)
                .collect();
        let mut timer = async_io::Timer::at(deadline);
        let (seen, server_seen) = smol::block_on(future::poll_fn(|cx| {
            let mut seen = Vec::new();
            for f in futs.iter_mut() {
                if let Poll::Ready(Some(e)) = f.as_mut().poll(cx) {
                    seen.push(e);
                }
            }
            let mut server_seen = Vec::new();
            for (i, f) in server_events.iter_mut().enumerate() {
                if let Poll::Ready(Some(e)) = f.as_mut().poll(cx) {
                    server_seen.push((i, e));
                }
            }
            if !seen.is_empty() || !server_seen.is_empty() {
                return Poll::Ready((seen, server_seen));
            }
            match Pin::new(&mut timer).poll(cx) {
                Poll::Ready(_) => Poll::Ready((Vec::new(), Vec::new())),
                Poll::Pending => Poll::Pending,
            }
        }));
        drop(futs);
        drop(server_events);
        let any = !seen.is_empty() || !server_seen.is_empty();
        // The runner reacts now: a synchronous section for every socket and server.
        for s in &self.sockets {
            s.hold();
        }
        for s in &self.servers {
            s.hold();
        }
        self.seen.extend(seen);
        for (srv, e) in server_seen {
            self.server_event(srv, e);
        }
        any
    }

    fn server_event(&mut self, srv: SrvId, e: ServerEvent) {
        match e {
            ServerEvent::Listening => self.seen.push(Seen::Listening(srv)),
            ServerEvent::Connection(s) => {
                let id = self.add_socket(s);
                self.seen.push(Seen::Connection(srv, id));
            }
            ServerEvent::Drop(d) => self.seen.push(Seen::Drop(srv, d)),
            ServerEvent::Error(e) => self.seen.push(Seen::ServerError(srv, e)),
            ServerEvent::Close => self.seen.push(Seen::Close(srv)),
            ServerEvent::CloseCallback(e) => self.seen.push(Seen::CloseCallback(srv, e)),
            ServerEvent::Connections(n) => self.seen.push(Seen::Connections(srv, n)),
        }
    }
}

impl Backend for SmolBackend {
    fn now(&self) -> Instant {
        sansnet_smol::now()
    }

    fn temp_path(&mut self) -> String {
        self.tmp.get_or_insert_with(|| TempDir::new("smol")).path()
    }

    fn create_socket(&mut self, opts: SocketOptions, lookup: Option<Vec<LookupAnswer>>) -> SockId {
        let lookup = lookup.map(|answers| {
            Arc::new(move |_: &LookupRequest| Ok(answers.clone())) as sansnet_smol::LookupFn
        });
        let s = Socket::with_options(SocketSettings {
            config: opts,
            lookup,
        });
        self.add_socket(s)
    }

    fn create_server(&mut self, opts: ServerOptions) -> SrvId {
        let s = Server::with_options(ServerSettings {
            config: opts,
            lookup: None,
        });
        s.hold();
        self.servers.push(Arc::new(s));
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
        let s = &self.sockets[s];
        if callback {
            smol::block_on(s.write(chunk))
        } else {
            smol::block_on(s.write_quietly(chunk))
        }
    }

    fn end(&mut self, s: SockId, chunk: Option<Chunk>) -> WriteResult {
        smol::block_on(self.sockets[s].end(chunk))
    }

    fn destroy(&mut self, s: SockId, err: Option<NetError>) {
        self.sockets[s].destroy(err);
    }

    fn destroy_soon(&mut self, s: SockId) {
        self.sockets[s].destroy_soon();
    }

    fn reset_and_destroy(&mut self, s: SockId) -> Result<(), NetError> {
        smol::block_on(self.sockets[s].reset_and_destroy())
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
        smol::block_on(self.sockets[s].sync());
        self.sockets[s].info()
    }

    fn remote_address(&mut self, s: SockId) -> Option<SocketAddr> {
        smol::block_on(self.sockets[s].remote_address())
    }

    fn listen(&mut self, srv: SrvId, opts: ListenOptions) -> Result<(), NetError> {
        let server = self.servers[srv].clone();
        let mut task = smol::spawn(async move { server.listen(opts).await });
        // The driver answers a refused listen at once; a good one at 'listening'.
        let early = smol::block_on(future::or(async { Some((&mut task).await) }, async {
            async_io::Timer::after(LISTEN_CHECK).await;
            None
        }));
        match early {
            Some(Err(e)) if e.code == Code::ErrServerAlreadyListen => Err(e),
            Some(_) => Ok(()),
            None => {
                task.detach();
                Ok(())
            }
        }
    }

    fn close(&mut self, srv: SrvId) {
        let server = self.servers[srv].clone();
        // The first poll sends the close to the driver now; its callback arrives as an event.
        let mut close = Box::pin(async move { server.close().await });
        if smol::block_on(future::poll_once(&mut close)).is_none() {
            smol::spawn(close).detach();
        }
    }

    fn get_connections(&mut self, srv: SrvId) {
        self.servers[srv].get_connections();
    }

    fn set_max_connections(&mut self, srv: SrvId, v: Option<u32>) {
        self.servers[srv].set_max_connections(v);
    }

    fn server_view(&mut self, srv: SrvId) -> ServerView {
        let s = &self.servers[srv];
        smol::block_on(s.sync());
        ServerView {
            listening: s.listening(),
            address: s.address(),
            connections: s.connections(),
            max_connections: s.max_connections(),
        }
    }

    fn take_seen(&mut self) -> Vec<Seen> {
        std::mem::take(&mut self.seen)
    }

    fn turn(&mut self, limit: Instant) -> bool {
        let wait = limit.saturating_duration_since(sansnet_smol::now());
        self.take_next(std::time::Instant::now() + wait, false)
    }

    fn turn_immediate(&mut self) -> bool {
        self.take_next(std::time::Instant::now() + IMMEDIATE_GRACE, true)
    }

    fn advance_clock(&mut self, _at: Instant) {}
}
