//! The async handle on a server: Node's `net.Server` calls and events, and `accept()`.

use std::fmt;
use std::io;
use std::task::{Context, Poll};

use futures_lite::future::poll_fn;
use futures_lite::Stream;
use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::BoundAddress;
use sansnet::NetError;
use sansnet_std::{ServerInfo, ServerSettings};

use crate::sim::{SimServer, SimSocket};
use crate::socket::Socket;

/// A simulated server's event, its connection given as a handle.
fn sim_event(
    s: &SimServer,
    e: sansnet_std::ServerEvent<sansnet::sim::SocketHandle>,
) -> ServerEvent {
    e.map(|h| Socket::simulated(SimSocket::accepted(s.world.clone(), h)))
}

/// A `net.Server` event, a connection given as this crate's [`Socket`].
pub type ServerEvent = sansnet_std::ServerEvent<Socket>;

/// A `net.Server` in a [`Runtime`](crate::Runtime). Dropping the handle closes it (the
/// sockets it accepted live on).
pub struct Server {
    inner: Inner,
}

/// Where a server lives: a runtime over the OS, or a simulation.
enum Inner {
    Os(sansnet_std::Server),
    Sim(SimServer),
}

/// Runs `$e` with `$s` bound to whichever handle the server has.
macro_rules! on {
    ($self:expr, $s:ident => $e:expr) => {
        match &$self.inner {
            Inner::Os($s) => $e,
            Inner::Sim($s) => $e,
        }
    };
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        on!(self, s => s.fmt(f))
    }
}

impl Server {
    /// `net.createServer(options)`: not listening yet.
    pub fn new(options: ServerOptions) -> Server {
        Server::with_settings(ServerSettings {
            options,
            ..ServerSettings::default()
        })
    }

    /// `net.createServer(options)` with a resolver for the listen host, or a runtime.
    ///
    /// Inside a [`Sim::run`](crate::sim::Sim::run) without a runtime, the server lives
    /// in the simulation (a lookup for its listen host uses the simulation's DNS).
    pub fn with_settings(mut s: ServerSettings) -> Server {
        if s.runtime.is_none() {
            if let Some(ctx) = crate::sim::current() {
                return Server {
                    inner: Inner::Sim(SimServer::new(ctx.world, s.options)),
                };
            }
        }
        s.runtime.get_or_insert_with(crate::runtime);
        Server {
            inner: Inner::Os(sansnet_std::Server::with_settings(s)),
        }
    }

    /// `server.listen(options)` as Node has it: `Err` only for what Node throws;
    /// `'listening'` or `'error'` follows as an event.
    pub fn start_listen(&self, listen: ListenOptions) -> Result<(), NetError> {
        on!(self, s => s.start_listen(listen))
    }

    /// `server.listen(options)`, resolving at `'listening'` (the bound address) or the
    /// error; the event stays readable.
    pub async fn listen(&self, listen: ListenOptions) -> io::Result<BoundAddress> {
        on!(self, s => s.start_listen(listen))?;
        Ok(poll_fn(|cx| on!(self, s => s.poll_listening(cx))).await?)
    }

    /// The next admitted connection (other events stay for [`Server::next_event`]);
    /// `'error'`, `'close'` and a server that does not listen fail.
    pub async fn accept(&self) -> io::Result<Socket> {
        poll_fn(|cx| match &self.inner {
            Inner::Os(s) => s.poll_accept(cx).map(|r| r.map(Socket::from)),
            Inner::Sim(s) => s
                .poll_accept(cx)
                .map(|r| r.map(|h| Socket::simulated(SimSocket::accepted(s.world.clone(), h)))),
        })
        .await
    }

    /// The next event, whichever handle the server has.
    fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<ServerEvent>> {
        match &self.inner {
            Inner::Os(s) => s
                .poll_next_event(cx)
                .map(|e| e.map(|e| e.map(Socket::from))),
            Inner::Sim(s) => s.poll_next_event(cx).map(|e| e.map(|e| sim_event(s, e))),
        }
    }

    /// The next event, in Node's order; `None` once closed and every event was taken.
    pub async fn next_event(&self) -> Option<ServerEvent> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// The next event if one is there now.
    pub fn try_next_event(&self) -> Option<ServerEvent> {
        match &self.inner {
            Inner::Os(s) => s.try_next_event().map(|e| e.map(Socket::from)),
            Inner::Sim(s) => s.try_next_event().map(|e| sim_event(s, e)),
        }
    }

    /// The events as a stream, until the server is closed.
    pub fn events(&self) -> impl Stream<Item = ServerEvent> + '_ {
        futures_lite::stream::poll_fn(|cx| self.poll_next(cx))
    }

    /// `server.close(cb)` as Node has it: returns at once; `'close'` and the callback's
    /// value follow as events.
    pub fn start_close(&self) {
        on!(self, s => s.start_close());
    }

    /// `server.close(cb)`, resolving once fully closed: `ERR_SERVER_NOT_RUNNING` when it
    /// was not listening.
    pub async fn close(&self) -> Result<(), NetError> {
        on!(self, s => s.start_close());
        poll_fn(|cx| on!(self, s => s.poll_closed(cx))).await
    }

    /// The server's `AbortSignal` aborted.
    pub fn abort(&self) {
        on!(self, s => s.abort());
    }

    /// The getters now.
    pub fn info(&self) -> ServerInfo {
        on!(self, s => s.info())
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<BoundAddress> {
        self.info().address
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.info().listening
    }

    /// `server.getConnections()` now.
    pub fn get_connections(&self) -> u32 {
        self.info().connections
    }

    /// `server.getConnections(cb)`: the count follows as [`ServerEvent::Connections`].
    pub fn start_get_connections(&self) {
        on!(self, s => s.start_get_connections());
    }

    /// `server.maxConnections = max`.
    pub fn set_max_connections(&self, max: Option<u32>) {
        on!(self, s => s.set_max_connections(max));
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.info().max_connections
    }
}
