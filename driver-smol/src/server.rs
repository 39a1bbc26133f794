//! The async handle on a server: Node's `net.Server` calls and events, and `accept()`.

use std::fmt;
use std::io;

use futures_lite::future::poll_fn;
use futures_lite::Stream;
use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::BoundAddress;
use sansnet::NetError;
use sansnet_std::{ServerInfo, ServerSettings};

use crate::socket::Socket;

/// A `net.Server` event, a connection given as this crate's [`Socket`].
pub type ServerEvent = sansnet_std::ServerEvent<Socket>;

/// A `net.Server` in a [`Runtime`](crate::Runtime). Dropping the handle closes it (the
/// sockets it accepted live on).
pub struct Server {
    inner: sansnet_std::Server,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
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
    pub fn with_settings(mut s: ServerSettings) -> Server {
        s.runtime.get_or_insert_with(crate::runtime);
        Server {
            inner: sansnet_std::Server::with_settings(s),
        }
    }

    /// `server.listen(options)` as Node has it: `Err` only for what Node throws;
    /// `'listening'` or `'error'` follows as an event.
    pub fn start_listen(&self, listen: ListenOptions) -> Result<(), NetError> {
        self.inner.start_listen(listen)
    }

    /// `server.listen(options)`, resolving at `'listening'` (the bound address) or the
    /// error; the event stays readable.
    pub async fn listen(&self, listen: ListenOptions) -> Result<BoundAddress, NetError> {
        self.inner.start_listen(listen)?;
        poll_fn(|cx| self.inner.poll_listening(cx)).await
    }

    /// The next admitted connection (other events stay for [`Server::next_event`]);
    /// `'error'`, `'close'` and a server that does not listen fail.
    pub async fn accept(&self) -> io::Result<Socket> {
        poll_fn(|cx| self.inner.poll_accept(cx))
            .await
            .map(Socket::from)
    }

    /// The next event, in Node's order; `None` once closed and every event was taken.
    pub async fn next_event(&self) -> Option<ServerEvent> {
        poll_fn(|cx| self.inner.poll_next_event(cx))
            .await
            .map(|e| e.map(Socket::from))
    }

    /// The next event if one is there now.
    pub fn try_next_event(&self) -> Option<ServerEvent> {
        self.inner.try_next_event().map(|e| e.map(Socket::from))
    }

    /// The events as a stream, until the server is closed.
    pub fn events(&self) -> impl Stream<Item = ServerEvent> + '_ {
        futures_lite::stream::poll_fn(|cx| {
            self.inner
                .poll_next_event(cx)
                .map(|e| e.map(|e| e.map(Socket::from)))
        })
    }

    /// `server.close(cb)` as Node has it: returns at once; `'close'` and the callback's
    /// value follow as events.
    pub fn start_close(&self) {
        self.inner.start_close();
    }

    /// `server.close(cb)`, resolving once fully closed: `ERR_SERVER_NOT_RUNNING` when it
    /// was not listening.
    pub async fn close(&self) -> Result<(), NetError> {
        self.inner.start_close();
        poll_fn(|cx| self.inner.poll_closed(cx)).await
    }

    /// The server's `AbortSignal` aborted.
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// The getters now.
    pub fn info(&self) -> ServerInfo {
        self.inner.info()
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<BoundAddress> {
        self.inner.address()
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.inner.listening()
    }

    /// `server.getConnections()` now.
    pub fn get_connections(&self) -> u32 {
        self.inner.get_connections()
    }

    /// `server.getConnections(cb)`: the count follows as [`ServerEvent::Connections`].
    pub fn start_get_connections(&self) {
        self.inner.start_get_connections();
    }

    /// `server.maxConnections = max`.
    pub fn set_max_connections(&self, max: Option<u32>) {
        self.inner.set_max_connections(max);
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.inner.max_connections()
    }
}
