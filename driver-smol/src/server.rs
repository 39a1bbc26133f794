//! `net.Server`: the application's handle and the task that drives the core
//! [`sansnet::server::Server`] and the listening OS socket.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender};
use async_io::Timer;
use futures_lite::StreamExt;
use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::{
    BoundAddress, DropInfo, Server as Core, ServerEvent as CoreEvent, ServerIo, ServerOutput,
};
use sansnet::socket::LookupId;
use sansnet::NetError;

use crate::conn::{Conn, Listener};
use crate::lookup::{self, LookupFn, LookupResult};
use crate::socket::Socket;
use crate::{code_of, to_io_error};

/// `net.createServer(options)`: the core's options plus a custom resolver for the listen
/// host.
#[derive(Clone, Default)]
pub struct ServerSettings {
    /// How accepted sockets start, and the `blockList`.
    pub config: ServerOptions,
    /// Node's `lookup` for the listen host: replaces the system resolver.
    pub lookup: Option<LookupFn>,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("config", &self.config)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// A `net.Server` event.
#[derive(Debug)]
pub enum ServerEvent {
    /// `'listening'`.
    Listening,
    /// `'connection'(socket)`.
    Connection(Socket),
    /// `'drop'(data)`: refused because of `maxConnections` (no data for unix sockets).
    Drop(Option<DropInfo>),
    /// `'error'(err)`.
    Error(NetError),
    /// `'close'`.
    Close,
    /// The callback of a `close()` (`server.close(cb)`): `null` or `ERR_SERVER_NOT_RUNNING`.
    /// Every `close()` made before a `'close'` is answered right after it, as Node's
    /// `once('close')` callbacks are.
    CloseCallback(Option<NetError>),
    /// The count of a [`Server::get_connections`] (`server.getConnections(cb)`).
    Connections(u32),
}

/// The server's getters as of the task's last turn.
#[derive(Clone, Debug, Default)]
struct Info {
    listening: bool,
    address: Option<BoundAddress>,
    connections: u32,
    max_connections: Option<u32>,
}

enum Cmd {
    Listen(ListenOptions, Sender<Result<BoundAddress, NetError>>),
    Close(Sender<Result<(), NetError>>),
    GetConnections,
    SetMaxConnections(Option<u32>),
    /// Answer once every command before this one was carried out.
    Sync(Sender<()>),
    /// The application is in a synchronous section: the server's deferred work (Node's
    /// ticks: `'listening'`, `'close'`, …) waits for `Release`.
    Hold,
    /// The synchronous section ended.
    Release,
}

/// A `net.Server`, driven by its own task. Dropping the handle closes the server (the
/// sockets it accepted live on).
pub struct Server {
    cmd: Sender<Cmd>,
    events: Receiver<ServerEvent>,
    info: Arc<Mutex<Info>>,
    holding: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info())
            .finish()
    }
}

impl Server {
    /// `net.createServer(config)`.
    pub fn new(config: ServerOptions) -> Server {
        Server::with_options(ServerSettings {
            config,
            lookup: None,
        })
    }

    /// `net.createServer(options)` with a custom resolver.
    pub fn with_options(opts: ServerSettings) -> Server {
        let (cmd_tx, cmd_rx) = async_channel::unbounded();
        let (ev_tx, ev_rx) = async_channel::unbounded();
        let (release_tx, release_rx) = async_channel::unbounded();
        let info = Arc::new(Mutex::new(Info::default()));
        let task = ServerTask {
            core: Core::new(opts.config),
            cmd: Box::pin(cmd_rx),
            cmd_open: true,
            release_tx,
            release_rx: Box::pin(release_rx),
            events: ev_tx,
            info: info.clone(),
            lookup_fn: opts.lookup,
            lookup: None,
            listener: None,
            backoff: None,
            pending: BTreeMap::new(),
            next_token: 1,
            listen_replies: Vec::new(),
            close_replies: VecDeque::new(),
            held: false,
        };
        smol::spawn(task.run()).detach();
        Server {
            cmd: cmd_tx,
            events: ev_rx,
            info,
            holding: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn info(&self) -> Info {
        match self.info.lock() {
            Ok(i) => i.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// `server.listen(options)`, resolving at `'listening'` with the bound address, or with
    /// the error (`EADDRINUSE`, …; also emitted as `'error'`). A second listen while one
    /// exists fails at once with `ERR_SERVER_ALREADY_LISTEN`.
    pub async fn listen(&self, listen: ListenOptions) -> Result<BoundAddress, NetError> {
        let (tx, rx) = async_channel::bounded(1);
        let gone = || NetError::custom("ERR_SERVER_GONE", "the server task is gone");
        self.cmd
            .try_send(Cmd::Listen(listen, tx))
            .map_err(|_| gone())?;
        rx.recv().await.unwrap_or_else(|_| Err(gone()))
    }

    /// The next admitted connection. Other events are skipped; `'error'` fails, and so
    /// does `'close'`.
    pub async fn accept(&self) -> io::Result<Socket> {
        loop {
            match self.next_event().await {
                Some(ServerEvent::Connection(s)) => return Ok(s),
                Some(ServerEvent::Error(e)) => return Err(to_io_error(e)),
                Some(ServerEvent::Close) | None => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "the server closed",
                    ))
                }
                Some(
                    ServerEvent::Listening
                    | ServerEvent::Drop(_)
                    | ServerEvent::CloseCallback(_)
                    | ServerEvent::Connections(_),
                ) => {}
            }
        }
    }

    /// The next event, in Node's order. `None` only if the driving task is gone.
    pub async fn next_event(&self) -> Option<ServerEvent> {
        if self
            .holding
            .swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            let _ = self.cmd.try_send(Cmd::Release);
        }
        self.events.recv().await.ok()
    }

    /// Enters a synchronous section, as JavaScript code between two awaits: the server's
    /// deferred work (Node's next tick: `'listening'`, `'close'` and the `close()`
    /// callbacks) waits until the application next asks for an event, so that calls made
    /// meanwhile (`close()` twice, say) see what JavaScript would see.
    pub fn hold(&self) {
        self.holding
            .store(true, std::sync::atomic::Ordering::Release);
        let _ = self.cmd.try_send(Cmd::Hold);
    }

    /// `server.close(cb)`: stop accepting now; resolves once `'close'` was emitted (every
    /// admitted socket gone), with `ERR_SERVER_NOT_RUNNING` if it was not listening.
    pub async fn close(&self) -> Result<(), NetError> {
        let (tx, rx) = async_channel::bounded(1);
        if self.cmd.try_send(Cmd::Close(tx)).is_err() {
            return Ok(());
        }
        rx.recv().await.unwrap_or(Ok(()))
    }

    /// Resolves once every call made before it was carried out by the driver, so that
    /// the getters ([`Server::listening`], [`Server::address`], …) reflect them.
    pub async fn sync(&self) {
        let (tx, rx) = async_channel::bounded(1);
        if self.cmd.try_send(Cmd::Sync(tx)).is_ok() {
            let _ = rx.recv().await;
        }
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<BoundAddress> {
        self.info().address
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.info().listening
    }

    /// `server.getConnections()`: admitted sockets not yet destroyed.
    pub fn connections(&self) -> u32 {
        self.info().connections
    }

    /// `server.getConnections(cb)` as Node calls back: the count, read now, follows as
    /// [`ServerEvent::Connections`] on the server's next tick (after the `'close'` or
    /// `'listening'` already due).
    pub fn get_connections(&self) {
        let _ = self.cmd.try_send(Cmd::GetConnections);
    }

    /// `server.maxConnections = max` (`None`: unlimited).
    pub fn set_max_connections(&self, max: Option<u32>) {
        if let Ok(mut i) = self.info.lock() {
            i.max_connections = max;
        }
        let _ = self.cmd.try_send(Cmd::SetMaxConnections(max));
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.info().max_connections
    }
}

enum Wake {
    Cmd(Cmd),
    CmdClosed,
    Released,
    Lookup(LookupId, LookupResult),
    Acceptable,
}

struct ServerTask {
    core: Core,
    cmd: Pin<Box<Receiver<Cmd>>>,
    cmd_open: bool,
    /// Accepted sockets report here when they are gone.
    release_tx: Sender<()>,
    release_rx: Pin<Box<Receiver<()>>>,
    events: Sender<ServerEvent>,
    info: Arc<Mutex<Info>>,
    lookup_fn: Option<LookupFn>,
    lookup: Option<(LookupId, blocking::Task<LookupResult>)>,
    listener: Option<Listener>,
    /// After an accept failure such as `EMFILE`: wait before accepting again.
    backoff: Option<Timer>,
    /// Accepted OS sockets the core has not admitted or refused yet, by token.
    pending: BTreeMap<u64, Conn>,
    next_token: u64,
    listen_replies: Vec<Sender<Result<BoundAddress, NetError>>>,
    close_replies: VecDeque<Sender<Result<(), NetError>>>,
    /// The application is in a synchronous section ([`Cmd::Hold`]).
    held: bool,
}

/// How many connections one wake-up accepts at most.
const ACCEPT_BATCH: usize = 64;

impl ServerTask {
    async fn run(mut self) {
        loop {
            if !self.cmd_open
                && self.listener.is_none()
                && self.lookup.is_none()
                && self.core.is_idle()
            {
                return;
            }
            let wake = poll_fn(|cx| self.poll_wake(cx)).await;
            self.handle(wake);
            self.publish();
        }
    }

    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if self.cmd_open {
            match self.cmd.as_mut().poll_next(cx) {
                Poll::Ready(Some(c)) => return Poll::Ready(Wake::Cmd(c)),
                Poll::Ready(None) => {
                    self.cmd_open = false;
                    return Poll::Ready(Wake::CmdClosed);
                }
                Poll::Pending => {}
            }
        }
        if let Poll::Ready(Some(())) = self.release_rx.as_mut().poll_next(cx) {
            return Poll::Ready(Wake::Released);
        }
        if let Some((id, task)) = &mut self.lookup {
            if let Poll::Ready(r) = Pin::new(task).poll(cx) {
                let id = *id;
                self.lookup = None;
                return Poll::Ready(Wake::Lookup(id, r));
            }
        }
        if let Some(t) = &mut self.backoff {
            if Pin::new(t).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.backoff = None;
        }
        if let Some(l) = &self.listener {
            if l.poll_readable(cx).is_ready() {
                return Poll::Ready(Wake::Acceptable);
            }
        }
        Poll::Pending
    }

    fn handle(&mut self, wake: Wake) {
        match wake {
            Wake::Cmd(Cmd::Listen(l, tx)) => match self.core.listen(l) {
                Ok(()) => self.listen_replies.push(tx),
                Err(e) => drop(tx.try_send(Err(e))),
            },
            Wake::Cmd(Cmd::Close(tx)) => {
                self.core.close();
                self.close_replies.push_back(tx);
            }
            Wake::Cmd(Cmd::GetConnections) => self.core.get_connections(),
            Wake::Cmd(Cmd::SetMaxConnections(m)) => self.core.max_connections = m,
            Wake::Cmd(Cmd::Sync(tx)) => {
                self.publish();
                let _ = tx.try_send(());
            }
            Wake::Cmd(Cmd::Hold) => self.held = true,
            Wake::Cmd(Cmd::Release) => self.held = false,
            Wake::CmdClosed => {
                if self.core.listening() {
                    self.core.close();
                } else {
                    self.core.abort();
                }
            }
            Wake::Released => self.core.connection_closed(),
            Wake::Lookup(id, r) => self.core.lookup_done(id, r),
            Wake::Acceptable => self.accept_some(),
        }
        let deferred = !self.held;
        self.drain(deferred);
    }

    /// Accepts what the kernel has queued, handing each connection to the core.
    fn accept_some(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            let Some(l) = &self.listener else { return };
            match l.try_accept() {
                Ok((conn, local, remote)) => {
                    let token = self.next_token;
                    self.next_token += 1;
                    self.pending.insert(token, conn);
                    self.core.incoming(token, local, remote);
                    self.drain(false);
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => return,
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => {}
                    _ => {
                        // EMFILE and friends: the queue stays readable; try again later.
                        self.backoff = Some(Timer::after(std::time::Duration::from_millis(100)));
                        return;
                    }
                },
            }
        }
    }

    fn drain(&mut self, deferred: bool) {
        loop {
            let o = if deferred {
                self.core.poll_output()
            } else {
                self.core.poll_emitted()
            };
            match o {
                None => return,
                Some(ServerOutput::Io(io)) => self.exec(io),
                Some(ServerOutput::Event(e)) => self.emit(e),
            }
        }
    }

    fn exec(&mut self, io: ServerIo) {
        match io {
            ServerIo::Lookup { id, host } => {
                self.lookup = Some((id, lookup::spawn_listen(self.lookup_fn.clone(), host)));
            }
            ServerIo::Listen {
                id,
                address,
                options,
            } => {
                let r = match Listener::bind(&address, &options) {
                    Ok((l, bound)) => {
                        self.listener = Some(l);
                        Ok(bound)
                    }
                    Err(e) => Err(code_of(&e)),
                };
                self.core.listen_done(id, r);
            }
            ServerIo::CloseListener => {
                self.listener = None;
                self.backoff = None;
            }
            ServerIo::Unlink { path } => {
                let _ = std::fs::remove_file(path);
            }
            ServerIo::CloseAccepted { token } => {
                self.pending.remove(&token);
            }
        }
    }

    fn emit(&mut self, e: CoreEvent) {
        let out = match e {
            CoreEvent::Listening => {
                if let Some(a) = self.core.address() {
                    for tx in self.listen_replies.drain(..) {
                        let _ = tx.try_send(Ok(a.clone()));
                    }
                }
                ServerEvent::Listening
            }
            CoreEvent::Connection { token, socket } => {
                let conn = self.pending.remove(&token);
                let release = Some(self.release_tx.clone());
                ServerEvent::Connection(Socket::spawn(
                    *socket,
                    conn,
                    self.lookup_fn.clone(),
                    release,
                    true,
                ))
            }
            CoreEvent::Drop(d) => ServerEvent::Drop(d),
            CoreEvent::Error(e) => {
                for tx in self.listen_replies.drain(..) {
                    let _ = tx.try_send(Err(e.clone()));
                }
                ServerEvent::Error(e)
            }
            CoreEvent::Close => {
                for tx in self.listen_replies.drain(..) {
                    let e =
                        NetError::new(sansnet::Code::ErrServerNotRunning, "Server is not running.");
                    let _ = tx.try_send(Err(e));
                }
                ServerEvent::Close
            }
            CoreEvent::CloseCallback(r) => {
                if let Some(tx) = self.close_replies.pop_front() {
                    let _ = tx.try_send(r.clone().map_or(Ok(()), Err));
                }
                ServerEvent::CloseCallback(r)
            }
            CoreEvent::Connections(n) => ServerEvent::Connections(n),
        };
        let _ = self.events.try_send(out);
    }

    fn publish(&mut self) {
        if let Ok(mut i) = self.info.lock() {
            i.listening = self.core.listening();
            i.address = self.core.address();
            i.connections = self.core.connections();
        }
    }
}
