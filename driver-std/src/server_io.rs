//! A server in the loop: its core, its listener, the connections accepted and not yet
//! admitted, and the I/O the core asks for.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::{Arc, Condvar};
use std::task::Waker;

use sansnet::server::{
    BoundAddress, Server as Core, ServerEvent as CoreEvent, ServerIo, ServerOutput,
};
use sansnet::{Instant, NetError};

use crate::code_of;
use crate::conn::{Conn, Listener, PathNode};
use crate::event_loop::{Asker, LookupDone, Loop};
use crate::lookup::{self, LookupFn};
use crate::reactor::Source;

/// How many connections one step accepts (each `'connection'` is a callback of its own).
const ACCEPT_BATCH: usize = 1;

/// A server event as the loop keeps it: a connection is the index of its socket.
pub(crate) type SrvEvent = crate::server::ServerEvent<usize>;

/// One server of the loop.
pub(crate) struct SrvEntry {
    pub(crate) core: Core,
    pub(crate) gen: u64,
    listener: Option<Listener>,
    /// The socket file the listener's bind created, kept past the listener's close for the
    /// core's `Unlink` (which removes only that file).
    unix_node: Option<PathNode>,
    /// Accepted OS sockets the core has not admitted or refused yet, by token.
    pending: BTreeMap<u64, Conn>,
    next_token: u64,
    lookup_fn: Option<LookupFn>,
    pub(crate) events: VecDeque<SrvEvent>,
    pub(crate) handle: bool,
    pub(crate) held: bool,
    pub(crate) blocked: u32,
    pub(crate) waiting: u32,
    pub(crate) cv: Arc<Condvar>,
    /// Tasks waiting on the server (woken at its next change, then poll again).
    pub(crate) tasks: Vec<Waker>,
}

impl std::fmt::Debug for SrvEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrvEntry")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl SrvEntry {
    pub(crate) fn new(core: Core, gen: u64, lookup: Option<LookupFn>) -> SrvEntry {
        SrvEntry {
            core,
            gen,
            listener: None,
            unix_node: None,
            pending: BTreeMap::new(),
            next_token: 1,
            lookup_fn: lookup,
            events: VecDeque::new(),
            handle: true,
            held: false,
            blocked: 0,
            waiting: 0,
            cv: Arc::new(Condvar::new()),
            tasks: Vec::new(),
        }
    }

    pub(crate) fn wake(&mut self, wakes: &mut Vec<Waker>) {
        if self.waiting > 0 {
            self.cv.notify_all();
        }
        wakes.append(&mut self.tasks);
    }

    pub(crate) fn finished(&self) -> bool {
        !self.handle && self.listener.is_none() && self.pending.is_empty() && self.core.is_idle()
    }

    /// `server.address()`, once bound.
    pub(crate) fn address(&self) -> Option<BoundAddress> {
        self.core.address()
    }
}

impl Loop {
    pub(crate) fn add_server(&mut self, core: Core, lookup: Option<LookupFn>) -> usize {
        let gen = self.gen();
        self.servers.insert(SrvEntry::new(core, gen, lookup))
    }

    /// Carries out server `i`'s outputs; `deferred` also runs its deferred work, up to the
    /// first event (the application reacts before the next).
    pub(crate) fn drain_server(&mut self, i: usize, deferred: bool) {
        let mut deferred = deferred;
        let mut changed = false;
        loop {
            let core = &mut self.servers[i].core;
            let o = if deferred {
                core.poll_output()
            } else {
                core.poll_emitted()
            };
            match o {
                None => break,
                Some(ServerOutput::Io(io)) => self.server_io(i, io),
                Some(ServerOutput::Event(e)) => {
                    self.server_event(i, e);
                    deferred = false;
                }
            }
            changed = true;
        }
        // What a waiter on the server waits for comes with an output: a connection's
        // close alone (its count) wakes nobody.
        self.touch_server(i, changed);
    }

    fn server_event(&mut self, i: usize, e: CoreEvent) {
        let out = match e {
            CoreEvent::Listening => crate::server::ServerEvent::Listening,
            CoreEvent::Connection { token, socket } => {
                let conn = self.servers[i].pending.remove(&token);
                let lookup = self.servers[i].lookup_fn.clone();
                let gen = self.servers[i].gen;
                let s = self.add_socket(*socket, conn, lookup.map(crate::lookup::Resolver::Custom));
                self.sockets[s].server = Some((i, gen));
                // Its handle comes inside 'connection', where Node code attaches its
                // listeners: held until its first wait (or a wait on every handle).
                self.sockets[s].held = self.servers[i].handle;
                if self.servers[i].handle && self.keeps_admitted() {
                    let gen = self.sockets[s].gen;
                    self.admitted.push((s, gen));
                }
                if !self.servers[i].handle {
                    // Nobody will take it: it finishes on its own.
                    self.sockets[s].handle = false;
                    self.sockets[s].core.handle_dropped(crate::now());
                }
                let now = crate::now();
                self.drain_socket(s, crate::event_loop::Mode::Emitted, now);
                crate::server::ServerEvent::Connection(s)
            }
            CoreEvent::Drop(d) => crate::server::ServerEvent::Drop(d),
            CoreEvent::Error(e) => crate::server::ServerEvent::Error(e),
            CoreEvent::Close => crate::server::ServerEvent::Close,
            CoreEvent::CloseCallback(r) => crate::server::ServerEvent::CloseCallback(r),
            CoreEvent::Connections(n) => crate::server::ServerEvent::Connections(n),
        };
        let s = &mut self.servers[i];
        if s.handle {
            let first = s.events.is_empty();
            s.events.push_back(out);
            self.observed += 1;
            if first {
                self.events_wait(usize::MAX - i);
            }
        }
    }

    fn server_io(&mut self, i: usize, io: ServerIo) {
        match io {
            ServerIo::Lookup { id, host } => {
                let s = &self.servers[i];
                let tx = self.lookups_tx.clone();
                let reactor = self.reactor.clone();
                let asker = Asker::Server(i, s.gen);
                let done = move |result| {
                    let _ = tx.send(LookupDone { asker, id, result });
                    reactor.notify();
                };
                let req = lookup::listen_request(host.clone());
                if let Err(err) = lookup::spawn(s.lookup_fn.clone(), req, done) {
                    let err = NetError::syscall(code_of(&err), "getaddrinfo", Some(&host), None);
                    self.servers[i].core.lookup_done(id, Err(err));
                }
            }
            ServerIo::Listen {
                id,
                address,
                options,
            } => {
                let r = match Listener::bind(&address, &options) {
                    Ok((l, bound)) => {
                        let _ = self.reactor.add(l.fd(), Source::Listener(i));
                        self.servers[i].listener = Some(l);
                        Ok(bound)
                    }
                    Err(e) => Err(code_of(&e)),
                };
                self.servers[i].core.listen_done(id, r);
            }
            ServerIo::CloseListener => {
                if let Some(l) = self.servers[i].listener.take() {
                    self.reactor.delete(l.fd());
                    if let Listener::Unix(_, node) = l {
                        self.servers[i].unix_node = node;
                    }
                }
            }
            ServerIo::Unlink { path } => {
                if let Some(node) = self.servers[i].unix_node.take() {
                    node.unlink(&path);
                }
            }
            ServerIo::CloseAccepted { token } => {
                self.servers[i].pending.remove(&token);
            }
        }
    }

    /// Accepts what the kernel has queued for server `i`, handing each to the core.
    pub(crate) fn accept_some(&mut self, i: usize, _now: Instant) {
        for _ in 0..ACCEPT_BATCH {
            let Some(s) = self.servers.get_mut(i) else {
                return;
            };
            let Some(l) = &s.listener else { return };
            match l.accept() {
                Ok((conn, local, remote)) => {
                    let token = s.next_token;
                    s.next_token += 1;
                    s.pending.insert(token, conn);
                    s.core.incoming(token, local, remote);
                    self.drain_server(i, false);
                }
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => return,
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => {}
                    _ if is_out_of_descriptors(&e) => {
                        if let Err(code) = self.shed_queue(i) {
                            self.servers[i].core.accept_failed(code);
                            self.drain_server(i, false);
                        }
                        return;
                    }
                    // Another failure: the connection stays queued; the next edge
                    // (another connection) tries again.
                    _ => return,
                },
            }
        }
        // More may be queued: look again at the next step.
        if !self.ready.contains(&Source::Listener(i)) {
            self.ready.push_back(Source::Listener(i));
        }
    }

    /// libuv's EMFILE trick: out of descriptors, close the spare one, accept and close
    /// every connection queued (their clients see the connection closed instead of
    /// waiting in the backlog), and open the spare again. Without a spare, the failure
    /// goes to the server (`'error'`, syscall `accept`).
    fn shed_queue(&mut self, i: usize) -> Result<(), sansnet::Code> {
        if self.spare_fd.take().is_none() {
            return Err(sansnet::Code::Emfile);
        }
        if let Some(l) = self.servers.get(i).and_then(|s| s.listener.as_ref()) {
            loop {
                match l.accept() {
                    Ok(_) => {} // dropped: closed at once
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                    Err(_) => break,
                }
            }
        }
        self.spare_fd = crate::event_loop::open_spare();
        Ok(())
    }
}

/// `EMFILE` or `ENFILE`: no descriptor for the accepted connection.
fn is_out_of_descriptors(e: &io::Error) -> bool {
    let code = e.raw_os_error().map(sansnet::Code::from_errno);
    matches!(code, Some(sansnet::Code::Emfile | sansnet::Code::Enfile))
}
