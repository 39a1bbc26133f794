//! The engine of one server: it owns the core [`sansnet::server::Server`], the listening
//! OS socket and the accepted sockets the core has not admitted yet; it carries out every
//! [`ServerIo`] and starts a socket engine for each admitted connection.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use rustix::event::{PollFd, PollFlags};
use sansnet::options::ListenOptions;
use sansnet::server::{
    BoundAddress, DropInfo, Server as Core, ServerEvent as CoreEvent, ServerIo, ServerOutput,
};
use sansnet::socket::LookupId;
use sansnet::NetError;

use crate::conn::{Conn, Listener};
use crate::info::Bell;
use crate::lookup::{self, LookupFn, LookupResult};
use crate::mailbox::{Engine, Mailbox, WakeRx};
use crate::socket::Socket;
use crate::{code_of, now, poll_until};

/// How many connections one wake-up accepts at most.
const ACCEPT_BATCH: usize = 64;

/// How long to wait before accepting again after a failure such as `EMFILE`.
const ACCEPT_BACKOFF: sansnet::Duration = sansnet::Duration::from_millis(100);

/// A `net.Server` event.
#[derive(Debug)]
pub enum ServerEvent {
    /// `'listening'`.
    Listening,
    /// `'connection'(socket)`: the admitted socket, already reading (unless
    /// `pauseOnConnect`).
    Connection(Socket),
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
}

/// What the channel to the handle carries.
#[derive(Debug)]
pub(crate) enum Delivered {
    Event(Box<ServerEvent>),
    /// The engine rests: nothing more comes until the application calls.
    Resting,
}

/// What reaches the engine.
pub(crate) enum ServerCmd {
    /// `listen()`: the synchronous result now; the outcome (bound address or the error
    /// emitted) to the second sender, if any.
    Listen(
        ListenOptions,
        Sender<Result<(), NetError>>,
        Option<Sender<Result<BoundAddress, NetError>>>,
    ),
    /// `close(cb)`: the call returned; the callback's value to the second sender.
    Close(Sender<()>, Option<Sender<Result<(), NetError>>>),
    /// `getConnections(cb)`: the call returned; the count follows as an event.
    GetConnections(Sender<()>),
    SetMaxConnections(Option<u32>, Sender<()>),
    /// The application is in a synchronous section: deferred work (Node's ticks:
    /// `'listening'`, `'close'`, the close callbacks) waits for `Release`.
    Hold,
    /// The synchronous section ended.
    Release,
    Info(Sender<ServerInfo>),
    Abort(Sender<()>),
    /// An admitted socket was destroyed.
    Released,
    LookupDone(LookupId, LookupResult),
    Gone,
}

pub(crate) struct ServerEngine {
    core: Core,
    me: Weak<Mailbox<ServerEngine>>,
    events: Sender<Delivered>,
    resting_sent: Arc<AtomicBool>,
    bell: Option<Arc<Bell>>,
    rang: bool,
    /// The application is in a synchronous section ([`ServerCmd::Hold`]).
    held: bool,
    lookup_fn: Option<LookupFn>,
    handle_gone: bool,
    lookups: Vec<(LookupId, JoinHandle<()>)>,
    listener: Option<Listener>,
    /// After an accept failure such as `EMFILE`: not before this.
    backoff: Option<sansnet::Instant>,
    /// Accepted OS sockets the core has not admitted or refused yet, by token.
    pending: BTreeMap<u64, Conn>,
    next_token: u64,
    listen_replies: Vec<Sender<Result<BoundAddress, NetError>>>,
    close_replies: VecDeque<Option<Sender<Result<(), NetError>>>>,
}

impl ServerEngine {
    pub(crate) fn new(
        core: Core,
        me: Weak<Mailbox<ServerEngine>>,
        events: Sender<Delivered>,
        resting_sent: Arc<AtomicBool>,
        bell: Option<Arc<Bell>>,
        lookup_fn: Option<LookupFn>,
    ) -> ServerEngine {
        ServerEngine {
            core,
            me,
            events,
            resting_sent,
            bell,
            rang: false,
            held: false,
            lookup_fn,
            handle_gone: false,
            lookups: Vec::new(),
            listener: None,
            backoff: None,
            pending: BTreeMap::new(),
            next_token: 1,
            listen_replies: Vec::new(),
            close_replies: VecDeque::new(),
        }
    }

    fn info(&self) -> ServerInfo {
        ServerInfo {
            listening: self.core.listening(),
            address: self.core.address(),
            connections: self.core.connections(),
            max_connections: self.core.max_connections,
        }
    }

    /// Accepts what the kernel has queued, handing each connection to the core.
    fn accept_some(&mut self) {
        for _ in 0..ACCEPT_BATCH {
            let Some(l) = &self.listener else { return };
            match l.accept() {
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
                        self.backoff = Some(now() + ACCEPT_BACKOFF);
                        return;
                    }
                },
            }
        }
    }

    /// Carries out the outputs; `deferred` also runs the core's deferred work.
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
                let me = self.me.clone();
                let done = move |r| {
                    if let Some(mb) = me.upgrade() {
                        mb.send(ServerCmd::LookupDone(id, r));
                    }
                };
                let req = lookup::listen_request(host.clone());
                match lookup::spawn(self.lookup_fn.clone(), req, done) {
                    Ok(t) => self.lookups.push((id, t)),
                    Err(e) => {
                        let e = NetError::syscall(code_of(&e), "getaddrinfo", Some(&host), None);
                        self.core.lookup_done(id, Err(e));
                    }
                }
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
                        let _ = tx.send(Ok(a.clone()));
                    }
                }
                ServerEvent::Listening
            }
            CoreEvent::Connection { token, socket } => {
                let conn = self.pending.remove(&token);
                let server = self.me.upgrade();
                let spawned = Socket::accepted(
                    *socket,
                    conn,
                    self.lookup_fn.clone(),
                    self.bell.clone(),
                    server,
                );
                match spawned {
                    Ok(s) => ServerEvent::Connection(s),
                    Err(_) => {
                        // No descriptor left for the socket's wake-up pair: the
                        // connection is closed as if it had never been admitted.
                        self.core.connection_closed();
                        return;
                    }
                }
            }
            CoreEvent::Drop(d) => ServerEvent::Drop(d),
            CoreEvent::Error(e) => {
                for tx in self.listen_replies.drain(..) {
                    let _ = tx.send(Err(e.clone()));
                }
                ServerEvent::Error(e)
            }
            CoreEvent::Close => {
                for tx in self.listen_replies.drain(..) {
                    let e =
                        NetError::new(sansnet::Code::ErrServerNotRunning, "Server is not running.");
                    let _ = tx.send(Err(e));
                }
                ServerEvent::Close
            }
            CoreEvent::CloseCallback(r) => {
                if let Some(Some(tx)) = self.close_replies.pop_front() {
                    let _ = tx.send(r.clone().map_or(Ok(()), Err));
                }
                ServerEvent::CloseCallback(r)
            }
            CoreEvent::Connections(n) => ServerEvent::Connections(n),
        };
        if self.events.send(Delivered::Event(Box::new(out))).is_ok() {
            self.rang = true;
        }
    }
}

impl Engine for ServerEngine {
    type Cmd = ServerCmd;
    const THREAD_NAME: &'static str = "sansnet-server";

    fn command(&mut self, cmd: ServerCmd) {
        match cmd {
            ServerCmd::Listen(l, now_tx, done) => {
                let r = self.core.listen(l);
                if let (Ok(()), Some(done)) = (&r, done) {
                    self.listen_replies.push(done);
                }
                self.drain(false);
                let _ = now_tx.send(r);
            }
            ServerCmd::Close(now_tx, done) => {
                self.core.close();
                self.close_replies.push_back(done);
                self.drain(false);
                let _ = now_tx.send(());
            }
            ServerCmd::GetConnections(now_tx) => {
                self.core.get_connections();
                self.drain(false);
                let _ = now_tx.send(());
            }
            ServerCmd::SetMaxConnections(m, tx) => {
                self.core.max_connections = m;
                let _ = tx.send(());
            }
            ServerCmd::Hold => self.held = true,
            ServerCmd::Release => self.held = false,
            ServerCmd::Info(tx) => drop(tx.send(self.info())),
            ServerCmd::Abort(tx) => {
                self.core.abort();
                self.drain(false);
                let _ = tx.send(());
            }
            ServerCmd::Released => self.core.connection_closed(),
            ServerCmd::LookupDone(id, r) => {
                if let Some(i) = self.lookups.iter().position(|(l, _)| *l == id) {
                    let (_, t) = self.lookups.remove(i);
                    if t.thread().id() != std::thread::current().id() {
                        let _ = t.join();
                    }
                }
                self.core.lookup_done(id, r);
            }
            ServerCmd::Gone => {
                self.handle_gone = true;
                if self.core.listening() {
                    self.core.close();
                } else {
                    self.core.abort();
                }
            }
        }
    }

    fn settle(&mut self) {
        let deferred = !self.held;
        self.drain(deferred);
        if std::mem::take(&mut self.rang) {
            if let Some(b) = &self.bell {
                b.ring();
            }
        }
    }

    fn can_rest(&self) -> bool {
        self.listener.is_none()
            && self.lookups.is_empty()
            && self.pending.is_empty()
            && self.core.is_idle()
    }

    fn handle_gone(&self) -> bool {
        self.handle_gone
    }

    fn rested(&mut self) {
        if !self.resting_sent.swap(true, Ordering::AcqRel) {
            let _ = self.events.send(Delivered::Resting);
            if let Some(b) = &self.bell {
                b.ring();
            }
        }
    }

    fn wait(&mut self, wake: &WakeRx) {
        let mut fds = vec![PollFd::from_borrowed_fd(wake.fd(), PollFlags::IN)];
        let listening = match &self.listener {
            Some(l) if self.backoff.is_none() => {
                fds.push(PollFd::from_borrowed_fd(l.fd(), PollFlags::IN));
                true
            }
            _ => false,
        };
        poll_until(&mut fds, self.backoff);
        let revents: Vec<PollFlags> = fds.iter().map(PollFd::revents).collect();
        drop(fds);
        if !revents[0].is_empty() {
            wake.drain();
        }
        if self.backoff.is_some_and(|t| t <= now()) {
            self.backoff = None;
        }
        if listening && !revents[1].is_empty() {
            self.accept_some();
        }
    }
}
