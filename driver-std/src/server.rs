//! The application's handle on a server: Node's `net.Server` calls and events, and a
//! blocking `accept()` in the manner of `std::net::TcpListener`.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::{BoundAddress, DropInfo, Server as Core};
use sansnet::{Duration, NetError};

use crate::event_loop::Loop;
use crate::lookup::LookupFn;
use crate::runtime::{Runtime, Shared};
use crate::serve::HandleId;
use crate::server_io::SrvEvent;
use crate::socket::Socket;
use crate::to_io_error;

/// `net.createServer(options)` with what the driver adds: a resolver for the listen host
/// (also given to accepted sockets) and the runtime.
#[derive(Clone, Default)]
pub struct ServerSettings {
    /// How accepted sockets start, and the `blockList`.
    pub options: ServerOptions,
    /// Node's `lookup` for the listen host: replaces the system resolver.
    pub lookup: Option<LookupFn>,
    /// The runtime the server lives in (`None`: [`Runtime::global`]).
    pub runtime: Option<Runtime>,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("options", &self.options)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .field("runtime", &self.runtime)
            .finish()
    }
}

/// A `net.Server` event; `S` is what a connection is given as (the [`Socket`] handle; an
/// async driver's own handle).
#[derive(Debug)]
pub enum ServerEvent<S = Socket> {
    /// `'listening'`.
    Listening,
    /// `'connection'(socket)`: the admitted socket, already reading (unless
    /// `pauseOnConnect`).
    Connection(S),
    /// `'drop'(data)`: refused because of `maxConnections` (no data for unix sockets).
    Drop(Option<DropInfo>),
    /// `'error'(err)`.
    Error(NetError),
    /// `'close'`.
    Close,
    /// The callback of `close(cb)`: `null` or `ERR_SERVER_NOT_RUNNING`.
    CloseCallback(Option<NetError>),
    /// The callback of `getConnections(cb)`: the count.
    Connections(u32),
}

impl<S> ServerEvent<S> {
    /// Whether this event answers an `accept()`: a connection, or the `'error'` or
    /// `'close'` after which none comes.
    pub fn answers_accept(&self) -> bool {
        matches!(
            self,
            ServerEvent::Connection(_) | ServerEvent::Error(_) | ServerEvent::Close
        )
    }

    /// What an event that [answers an accept](ServerEvent::answers_accept) gives it: the
    /// connection, or the error (`'close'`: the server is not listening).
    pub fn into_accepted(self) -> io::Result<S> {
        match self {
            ServerEvent::Connection(s) => Ok(s),
            ServerEvent::Error(e) => Err(to_io_error(e)),
            _ => Err(not_listening()),
        }
    }

    /// The admitted connection, if this is `'connection'`.
    pub fn into_connection(self) -> Option<S> {
        match self {
            ServerEvent::Connection(s) => Some(s),
            _ => None,
        }
    }

    /// What this event says of a `listen()`: `'listening'` (at `address`, the server's
    /// bound address) or the listen's `'error'`.
    pub fn listen_outcome(
        &self,
        address: Option<&BoundAddress>,
    ) -> Option<Result<BoundAddress, NetError>> {
        match self {
            ServerEvent::Error(e) => Some(Err(e.clone())),
            ServerEvent::Listening => {
                Some(address.cloned().ok_or_else(NetError::server_not_running))
            }
            _ => None,
        }
    }

    /// The value of `close(cb)`'s callback, if this is it.
    pub fn close_outcome(&self) -> Option<Result<(), NetError>> {
        match self {
            ServerEvent::CloseCallback(r) => Some(r.clone().map_or(Ok(()), Err)),
            _ => None,
        }
    }

    /// An `accept()` on a handle's queue of `events`: the first event that
    /// [answers it](ServerEvent::answers_accept), taken out; `None` while the answer may
    /// still come, and the not-listening error when `no_more` events will (see
    /// [`sansnet::server::Server::emits_no_more`]).
    pub fn accept_from(
        events: &mut std::collections::VecDeque<ServerEvent<S>>,
        no_more: bool,
    ) -> Option<io::Result<S>> {
        match events.iter().position(ServerEvent::answers_accept) {
            Some(k) => events.remove(k).map(ServerEvent::into_accepted),
            None => no_more.then(|| Err(not_listening())),
        }
    }

    /// Takes the admitted connections out of `events` (those nobody will take, at a close
    /// or when the handle goes), leaving the other events in order.
    pub fn take_connections(events: &mut std::collections::VecDeque<ServerEvent<S>>) -> Vec<S> {
        let mut taken = Vec::new();
        let mut rest = std::collections::VecDeque::with_capacity(events.len());
        for e in events.drain(..) {
            match e {
                ServerEvent::Connection(s) => taken.push(s),
                other => rest.push_back(other),
            }
        }
        *events = rest;
        taken
    }

    /// The same event with the connection given as `f(socket)`.
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> ServerEvent<T> {
        match self {
            ServerEvent::Listening => ServerEvent::Listening,
            ServerEvent::Connection(s) => ServerEvent::Connection(f(s)),
            ServerEvent::Drop(d) => ServerEvent::Drop(d),
            ServerEvent::Error(e) => ServerEvent::Error(e),
            ServerEvent::Close => ServerEvent::Close,
            ServerEvent::CloseCallback(r) => ServerEvent::CloseCallback(r),
            ServerEvent::Connections(n) => ServerEvent::Connections(n),
        }
    }
}

/// The server's getters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// `server.listening`.
    pub listening: bool,
    /// `server.address()`.
    pub address: Option<BoundAddress>,
    /// `server.getConnections()`: admitted sockets not yet destroyed.
    pub connections: u32,
    /// `server.maxConnections`.
    pub max_connections: Option<u32>,
    /// `server.keepAlive` (from `createServer`'s options).
    pub keep_alive: bool,
    /// `server.keepAliveInitialDelay`: whole seconds, as Node keeps it.
    pub keep_alive_initial_delay: Duration,
    /// `server.noDelay`.
    pub no_delay: bool,
}

impl ServerInfo {
    /// The getters of a server's core.
    pub fn of(core: &Core) -> ServerInfo {
        let o = core.options();
        ServerInfo {
            listening: core.listening(),
            address: core.address(),
            connections: core.connections(),
            max_connections: core.max_connections,
            keep_alive: o.keep_alive,
            keep_alive_initial_delay: o.keep_alive_initial_delay,
            no_delay: o.no_delay,
        }
    }
}

/// A `net.Server` in a [`Runtime`].
///
/// Calls return once carried out. Events come out of [`Server::next_event`] in Node's
/// order; [`Server::accept`] takes the next `'connection'` from the same stream. Dropping
/// the handle closes the server (the sockets it accepted live on).
pub struct Server {
    sh: Arc<Shared>,
    i: usize,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info())
            .finish()
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
    pub fn with_settings(s: ServerSettings) -> Server {
        let rt = s.runtime.unwrap_or_else(Runtime::global);
        let i = rt.shared.lock().add_server(Core::new(s.options), s.lookup);
        Server { sh: rt.shared, i }
    }

    fn call<R>(&self, f: impl FnOnce(&mut Loop, usize) -> R) -> R {
        let mut st = self.sh.lock();
        st.hold_server(self.i);
        let r = f(&mut st, self.i);
        st.drain_server(self.i, false);
        self.sh.after_call(&mut st);
        r
    }

    /// `server.listen(options)` as Node has it: `Err` only for what Node throws
    /// (`ERR_SERVER_ALREADY_LISTEN`, …); `'listening'` or `'error'` follows as an event.
    pub fn start_listen(&self, listen: ListenOptions) -> Result<(), NetError> {
        self.call(|st, i| st.servers[i].core.listen(listen))
    }

    /// `server.listen(options)`, blocking until `'listening'` (the bound address) or the
    /// error (`EADDRINUSE`, …); the event stays readable.
    pub fn listen(&self, listen: ListenOptions) -> io::Result<BoundAddress> {
        self.start_listen(listen)?;
        Ok(self
            .block(None, listened)
            .unwrap_or_else(|| Err(NetError::server_not_running()))?)
    }

    /// The next admitted connection. Other events stay for [`Server::next_event`];
    /// `'error'` fails, and so do `'close'` and a server that does not listen.
    pub fn accept(&self) -> io::Result<Socket> {
        let r = self
            .block(None, accepted)
            .unwrap_or_else(|| Err(not_listening()));
        r.map(|j| Socket::from_entry(self.sh.clone(), j))
    }

    /// The admitted connections, until the server closes or fails.
    pub fn incoming(&self) -> impl Iterator<Item = Socket> + '_ {
        std::iter::from_fn(move || self.accept().ok())
    }

    /// The next event, in Node's order, blocking until there is one. `None` once the
    /// server is closed (or never listened) and every event was taken.
    pub fn next_event(&self) -> Option<ServerEvent> {
        let e = self.block(None, next).flatten()?;
        Some(public(&self.sh, e))
    }

    /// The next event if one is there now.
    pub fn try_next_event(&self) -> Option<ServerEvent> {
        let mut st = self.sh.lock();
        st.end_turn();
        st.servers[self.i].held = false;
        if !self.sh.manual {
            st.run_all();
        }
        let e = pop(&mut st, self.i)?;
        drop(st);
        Some(public(&self.sh, e))
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event_timeout(&self, timeout: Duration) -> Option<ServerEvent> {
        let deadline = std::time::Instant::now() + timeout;
        let e = self.block(Some(deadline), next).flatten()?;
        Some(public(&self.sh, e))
    }

    /// [`Server::next_event`] for a task: `Pending` registers the task's waker.
    pub fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<ServerEvent>> {
        self.poll(cx, next).map(|e| e.map(|e| public(&self.sh, e)))
    }

    /// [`Server::accept`] for a task.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<Socket>> {
        self.poll(cx, accepted)
            .map(|r| r.map(|j| Socket::from_entry(self.sh.clone(), j)))
    }

    /// [`Server::listen`]'s wait for a task (after [`Server::start_listen`]).
    pub fn poll_listening(&self, cx: &mut Context<'_>) -> Poll<Result<BoundAddress, NetError>> {
        self.poll(cx, listened)
    }

    /// [`Server::close`]'s wait for a task (after [`Server::start_close`]).
    pub fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<Result<(), NetError>> {
        self.poll(cx, closed)
    }

    /// Blocks until `cond` answers (`None`: `deadline` passed), the server released (the
    /// application waits on it), running the loop meanwhile.
    fn block<T>(
        &self,
        deadline: Option<std::time::Instant>,
        cond: fn(&mut Loop, usize) -> Option<T>,
    ) -> Option<T> {
        let i = self.i;
        let mut st = self.sh.lock();
        st.end_turn();
        st.servers[i].held = false;
        st.servers[i].blocked += 1;
        let cv = st.servers[i].cv.clone();
        let (mut st, r) = self.sh.wait_until(
            st,
            &cv,
            deadline,
            usize::MAX - i,
            |st| cond(st, i),
            |st, d| {
                let s = &mut st.servers[i];
                s.waiting = s.waiting.saturating_add_signed(d);
            },
        );
        st.servers[i].blocked -= 1;
        r
    }

    /// Polls `cond` for a task, running the loop's ready work first.
    fn poll<T>(&self, cx: &mut Context<'_>, cond: fn(&mut Loop, usize) -> Option<T>) -> Poll<T> {
        let i = self.i;
        let mut st = self.sh.lock();
        st.end_turn();
        st.servers[i].held = false;
        st.task_polls(cx.waker(), None);
        if let Some(t) = cond(&mut st, i) {
            return Poll::Ready(t);
        }
        st.servers[i].blocked += 1;
        if !self.sh.manual {
            st.run_all();
        }
        let r = cond(&mut st, i);
        st.servers[i].blocked -= 1;
        match r {
            Some(t) => Poll::Ready(t),
            None => {
                st.servers[i].tasks.push(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// `server.close(cb)` as Node has it: stop accepting now; returns at once.
    /// `'close'` (once every admitted socket is gone) and the callback's value
    /// ([`ServerEvent::CloseCallback`]) follow as events.
    pub fn start_close(&self) {
        self.call(|st, i| st.servers[i].core.close());
    }

    /// `server.close(cb)`, blocking until the server is fully closed (`'close'`: every
    /// admitted socket is gone): `ERR_SERVER_NOT_RUNNING` when it was not listening.
    /// Admitted sockets nobody took are dropped (they end gracefully, `destroySoon()`);
    /// the other events stay readable.
    pub fn close(&self) -> Result<(), NetError> {
        self.start_close();
        self.block(None, closed).unwrap_or(Ok(()))
    }

    /// The server's `AbortSignal` aborted: `close()` without a callback.
    pub fn abort(&self) {
        self.call(|st, i| st.servers[i].core.abort());
    }

    /// The getters now.
    pub fn info(&self) -> ServerInfo {
        self.read(ServerInfo::of)
    }

    /// Reads the server's core state.
    fn read<T>(&self, f: impl FnOnce(&Core) -> T) -> T {
        f(&self.sh.lock().servers[self.i].core)
    }

    /// This server's identity in its runtime: what [`Runtime::wait_events`] reports when
    /// its events (a `'connection'`, …) wait to be taken.
    pub fn id(&self) -> HandleId {
        HandleId::server(self.sh.lock().servers[self.i].gen)
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<BoundAddress> {
        self.read(Core::address)
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.read(Core::listening)
    }

    /// `server.getConnections()`: the admitted sockets not yet destroyed, now.
    pub fn get_connections(&self) -> u32 {
        self.read(Core::connections)
    }

    /// `server.getConnections(cb)` as Node has it: the count follows as
    /// [`ServerEvent::Connections`] on the next tick.
    pub fn start_get_connections(&self) {
        self.call(|st, i| st.servers[i].core.get_connections());
    }

    /// `server.maxConnections = max`.
    pub fn set_max_connections(&self, max: Option<u32>) {
        self.call(|st, i| st.servers[i].core.max_connections = max);
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.read(|core| core.max_connections)
    }
}

/// Takes server `i`'s next event: the application now reacts to it.
fn pop(st: &mut Loop, i: usize) -> Option<SrvEvent> {
    let e = st.servers[i].events.pop_front()?;
    st.hold_server(i);
    if let ServerEvent::Connection(j) = e {
        st.took_admitted(j);
    }
    Some(e)
}

/// The next event, or `Some(None)` when none will ever come.
fn next(st: &mut Loop, i: usize) -> Option<Option<SrvEvent>> {
    match pop(st, i) {
        Some(e) => Some(Some(e)),
        None => st.servers[i].core.emits_no_more().then_some(None),
    }
}

/// `'listening'` (the bound address) or the listen's `'error'`, once either waits to be
/// taken.
fn listened(st: &mut Loop, i: usize) -> Option<Result<BoundAddress, NetError>> {
    let s = &st.servers[i];
    let address = s.address();
    s.events
        .iter()
        .find_map(|e| e.listen_outcome(address.as_ref()))
}

/// The next admitted connection (its socket's index), taken out of the events.
fn accepted(st: &mut Loop, i: usize) -> Option<io::Result<usize>> {
    let s = &mut st.servers[i];
    let r = ServerEvent::accept_from(&mut s.events, s.core.emits_no_more());
    if let Some(Ok(j)) = r {
        st.took_admitted(j);
    }
    r
}

/// The close callback's value once it waits to be taken; admitted sockets nobody took
/// are let go.
fn closed(st: &mut Loop, i: usize) -> Option<Result<(), NetError>> {
    for j in ServerEvent::take_connections(&mut st.servers[i].events) {
        st.abandon(j);
    }
    st.servers[i]
        .events
        .iter()
        .find_map(ServerEvent::close_outcome)
}

/// The public form of a server event.
fn public(sh: &Arc<Shared>, e: SrvEvent) -> ServerEvent {
    e.map(|j| Socket::from_entry(sh.clone(), j))
}

fn not_listening() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the server is not listening")
}

impl Drop for Server {
    fn drop(&mut self) {
        let mut st = self.sh.lock();
        let i = self.i;
        for j in ServerEvent::take_connections(&mut st.servers[i].events) {
            st.abandon(j);
        }
        let s = &mut st.servers[i];
        s.events.clear();
        s.handle = false;
        s.held = false;
        s.core.handle_dropped();
        st.drain_server(i, false);
        if st.sleeping.is_some() {
            st.wake_runner();
        }
    }
}
