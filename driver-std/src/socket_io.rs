//! A socket in the loop: its core, its OS socket, and the I/O the core asks for.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar};
use std::task::Waker;

use sansnet::socket::{AttemptId, Socket as Core, SocketEvent, SocketIo, WriteId};
use sansnet::turn::Attention;
use sansnet::{Instant, NetError};

use crate::code_of;
use crate::conn::{Conn, Connecting};
use crate::event_loop::{Asker, LookupDone, Loop, Mode};
use crate::lookup::{self, LookupRequest, Resolver};
use crate::reactor::Source;

mod bytes;

/// How many bytes of `'data'` may wait for the application before the loop stops reading
/// the socket (the application is slower than the network).
pub(crate) const READ_PACE: usize = 1 << 20;

/// How many read buffers the loop keeps for reuse ([`Loop::recycle`]).
const SPARE_BUFS: usize = 32;

/// How many reads one poll phase makes at most on one socket (libuv's limit is 32).
const READS_PER_POLL: usize = 16;

/// A write handed to the OS (its chunks, written with one `writev`), with how much of it
/// was taken: every chunk before `next`, and `off` bytes of that one.
#[derive(Debug)]
pub(crate) struct PendingWrite {
    id: WriteId,
    chunks: Vec<Vec<u8>>,
    next: usize,
    off: usize,
}

/// One socket of the loop.
pub(crate) struct SockEntry {
    pub(crate) core: Core,
    pub(crate) gen: u64,
    /// Which connection of this socket is installed ([`crate::reactor::Source::Conn`]).
    pub(crate) conn_stamp: u32,
    conn: Option<Conn>,
    attempts: Vec<(AttemptId, Connecting)>,
    writes: VecDeque<PendingWrite>,
    /// An error the OS gave a write made straight from the caller's buffer, before the
    /// core saw that write: its own attempt meets it instead of asking the OS again.
    pub(crate) os_write_error: Option<sansnet::Code>,
    reading: bool,
    read_eof: bool,
    /// The kernel may have bytes (or EOF, or an error) to read.
    can_read: bool,
    /// The kernel has EOF or an error to report after the bytes.
    hup: bool,
    /// The kernel reported a hang-up (see [`sansnet::socket::Socket::eof_on_hang_up`]).
    hang_up: bool,
    lookup_fn: Option<Resolver>,
    /// The server that admitted it, with that server's generation.
    pub(crate) server: Option<(usize, u64)>,
    /// The deadline registered in the loop's timers.
    pub(crate) armed: Option<Instant>,
    /// Boxed: most sockets never have one.
    pub(crate) last_error: Option<Box<NetError>>,
    /// Events for the handle, in Node's order.
    pub(crate) events: VecDeque<SocketEvent>,
    /// Bytes of `'data'` in `events`.
    /// Reading paused because libuv would have stopped ([`Core::reads_more`]): read
    /// again once the core says so.
    pub(crate) read_held: bool,
    pub(crate) queued_bytes: usize,
    /// The rest of a `'data'` chunk the byte-stream face read in part.
    pub(crate) leftover: Option<(Vec<u8>, usize)>,
    /// A handle exists.
    pub(crate) handle: bool,
    /// The application made a call or took an event and has not waited since: it may
    /// still be reacting (Node's current tick), so deferred work waits. An admitted socket
    /// starts held: its handle arrives inside `'connection'`, where Node code attaches
    /// its listeners; its first wait releases it.
    ///
    /// Events not taken hold deferred work back only while someone waits to take them
    /// (a thread or task in [`Waiter::Take`]): that one will react to them first. With
    /// nobody waiting for them they are only kept to be read, so a socket nobody reads
    /// still finishes (its FIN leaves, its `'close'` comes).
    pub(crate) held: bool,
    /// Threads blocked on a condition of this socket (a shutdown): the
    /// application cannot be reacting to anything, so deferred work runs.
    pub(crate) blocked: u32,
    /// Threads waiting for `'drain'` or a flush ([`Waiter::Drain`]).
    pub(crate) drainers: u32,
    /// Threads waiting for this socket's next event: calls other threads make meanwhile
    /// do not hold its deferred work (the waiter's turn is over), events not taken do.
    pub(crate) takers: u32,
    /// Threads waiting for the connect's outcome: deferred work runs until an outcome
    /// (`'connect'`, `'error'`, `'close'`) waits to be taken.
    pub(crate) connect_waiters: u32,
    /// Threads waiting on `cv`.
    pub(crate) waiting: u32,
    pub(crate) cv: Arc<Condvar>,
    /// Tasks waiting on the socket (woken at its next change, then poll again).
    pub(crate) tasks: Vec<(Waiter, Waker)>,
    /// Tasks whose last wait on this runtime was on this socket, by waker, with how they
    /// wait (they count as waiting until they poll again: a woken task has not yet
    /// reacted).
    pub(crate) task_waiters: Vec<(usize, Waiter)>,
}

/// Who waits on a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Waiter {
    /// For the next event: calls made meanwhile do not hold deferred work, events not
    /// taken do.
    Take,
    /// On a condition (a shutdown's `'finish'`): the application cannot be reacting to
    /// anything, so deferred work runs.
    Blocked,
    /// For `'drain'` (a byte-stream write past the high-water mark) or a flush: deferred
    /// work runs
    /// (writes complete, `'drain'` comes) until the peer's `'end'` waits to be taken; the
    /// wait then ends, and the application takes the events before that `'end'` has its
    /// consequences (the automatic `end()` without `allowHalfOpen`), as Node's `'data'`
    /// listeners all run, and write, before `'end'`.
    Drain,
    /// For a connect's outcome: deferred work runs until an outcome waits to be taken.
    Connect,
}

impl std::fmt::Debug for SockEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SockEntry")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

impl SockEntry {
    pub(crate) fn new(core: Core, gen: u64, conn: Option<Conn>, lookup: Option<Resolver>) -> Self {
        let can_read = conn.is_some();
        SockEntry {
            core,
            gen,
            conn_stamp: 0,
            conn,
            attempts: Vec::new(),
            writes: VecDeque::new(),
            os_write_error: None,
            reading: false,
            read_eof: false,
            can_read,
            hup: false,
            hang_up: false,
            lookup_fn: lookup,
            server: None,
            armed: None,
            last_error: None,
            events: VecDeque::new(),
            queued_bytes: 0,
            read_held: false,
            leftover: None,
            handle: true,
            held: false,
            blocked: 0,
            drainers: 0,
            takers: 0,
            connect_waiters: 0,
            waiting: 0,
            cv: Arc::new(Condvar::new()),
            tasks: Vec::new(),
            task_waiters: Vec::new(),
        }
    }

    /// Wakes the threads and tasks waiting on this socket's state: those waiting on a
    /// condition always, those waiting for events only when none will come any more
    /// ([`SockEntry::wake_takers`] wakes them for an event).
    pub(crate) fn wake(&mut self, wakes: &mut Vec<Waker>) {
        if self.waiting > 0 {
            self.cv.notify_all();
        }
        if self.tasks.is_empty() {
            return;
        }
        let silent = self.silent();
        take_wakers(&mut self.tasks, wakes, |who| who != Waiter::Take || silent);
    }

    /// An event waits to be taken: wakes whoever waits for one.
    pub(crate) fn wake_takers(&mut self, wakes: &mut Vec<Waker>) {
        if self.waiting > 0 {
            self.cv.notify_all();
        }
        take_wakers(&mut self.tasks, wakes, |who| who == Waiter::Take);
    }

    /// What the application is doing with this socket ([`sansnet::turn`]), with
    /// `one_reader` telling whether one thread takes every handle's events.
    pub(crate) fn attention(&self, one_reader: bool) -> Attention {
        Attention {
            dropped: !self.handle,
            touched: self.held,
            takes: self.has_waiter(Waiter::Take),
            blocked: self.has_waiter(Waiter::Blocked),
            drains: self.has_waiter(Waiter::Drain),
            connects: self.has_waiter(Waiter::Connect),
            one_reader,
        }
    }

    /// Whether this socket may run deferred work now: the core's run-to-completion rule
    /// ([`Attention::lets_socket_run`]) over its waiting events.
    pub(crate) fn may_run(&self, one_reader: bool) -> bool {
        self.attention(one_reader).lets_socket_run(&self.events)
    }

    /// Counts a thread waiting as `who` (`d`: +1 or -1).
    pub(crate) fn count(&mut self, who: Waiter, d: i32) {
        let n = match who {
            Waiter::Take => &mut self.takers,
            Waiter::Blocked => &mut self.blocked,
            Waiter::Drain => &mut self.drainers,
            Waiter::Connect => &mut self.connect_waiters,
        };
        *n = n.saturating_add_signed(d);
    }

    /// Whether someone (a thread or a task) waits as `who`.
    pub(crate) fn has_waiter(&self, who: Waiter) -> bool {
        let threads = match who {
            Waiter::Take => self.takers,
            Waiter::Blocked => self.blocked,
            Waiter::Drain => self.drainers,
            Waiter::Connect => self.connect_waiters,
        };
        threads > 0 || self.task_waiters.iter().any(|(_, w)| *w == who)
    }

    /// Whether nothing can happen to this socket any more (it can be forgotten once its
    /// handle is gone).
    pub(crate) fn finished(&self) -> bool {
        !self.handle
            && self.core.destroyed()
            && self.core.is_idle()
            && self.conn.is_none()
            && self.attempts.is_empty()
    }

    /// Whether no event will ever come again.
    pub(crate) fn silent(&self) -> bool {
        self.events.is_empty() && self.core.emits_no_more()
    }

    /// The connected OS socket.
    pub(crate) fn conn(&self) -> Option<&Conn> {
        self.conn.as_ref()
    }
}

impl Loop {
    /// Adds a socket (with its OS socket, for an accepted one); its index.
    pub(crate) fn add_socket(
        &mut self,
        core: Core,
        conn: Option<Conn>,
        lookup: Option<Resolver>,
    ) -> usize {
        let gen = self.gen();
        let mut core = core;
        core.share_loop();
        let i = self.sockets.insert(SockEntry::new(core, gen, None, lookup));
        if let Some(c) = conn {
            self.install_conn(i, c);
        }
        i
    }

    fn install_conn(&mut self, i: usize, c: Conn) {
        self.next_stamp = self.next_stamp.wrapping_add(1) & crate::reactor::STAMP_MASK;
        let stamp = self.next_stamp;
        self.sockets[i].conn_stamp = stamp;
        if self.reactor.add(c.fd(), Source::Conn(i, stamp)).is_err() {
            // Out of memory for the interest list: the socket still works through reads
            // retried at each poll.
        }
        let e = &mut self.sockets[i];
        e.conn = Some(c);
        e.read_eof = false;
        e.can_read = true;
        e.hup = false;
        e.hang_up = false;
    }

    /// Carries out one of socket `i`'s I/O requests.
    pub(crate) fn socket_io(&mut self, i: usize, io: SocketIo, now: Instant) {
        match io {
            SocketIo::Lookup {
                id,
                host,
                family,
                hints,
                all,
            } => {
                let e = &mut self.sockets[i];
                let custom = match &e.lookup_fn {
                    Some(Resolver::Answers(answers)) => {
                        e.core.lookup_answered_at_once(id, Ok(answers.to_vec()));
                        return;
                    }
                    Some(Resolver::Custom(f)) => Some(f.clone()),
                    None => None,
                };
                let e = &self.sockets[i];
                let req = LookupRequest {
                    host: host.clone(),
                    family,
                    hints,
                    all,
                };
                let tx = self.lookups_tx.clone();
                let reactor = self.reactor.clone();
                let asker = Asker::Socket(i, e.gen);
                let done = move |result| {
                    let _ = tx.send(LookupDone { asker, id, result });
                    reactor.notify();
                };
                if let Err(err) = lookup::spawn(custom, req, done) {
                    let err = NetError::syscall(code_of(&err), "getaddrinfo", Some(&host), None);
                    self.sockets[i].core.lookup_done(now, id, Err(err));
                }
            }
            SocketIo::Connect {
                attempt,
                remote,
                local,
            } => {
                let c = Connecting::start(&remote, local);
                let bound = local.is_some() && c.bound();
                if let Some(fd) = c.fd() {
                    let _ = self.reactor.add(fd, Source::Attempt(i));
                }
                if c.early.is_some() && !self.ready.contains(&Source::Attempt(i)) {
                    // Known at once: reported in the next poll phase, as libuv does.
                    self.ready.push_back(Source::Attempt(i));
                }
                self.sockets[i].attempts.push((attempt, c));
                if bound {
                    // The local address is bound: Node announces the attempt now.
                    self.sockets[i].core.attempt_bound(now, attempt);
                }
            }
            SocketIo::AbortAttempt { attempt } => {
                let e = &mut self.sockets[i];
                if let Some(k) = e.attempts.iter().position(|(id, _)| *id == attempt) {
                    let (_, c) = e.attempts.remove(k);
                    if let Some(fd) = c.fd() {
                        self.reactor.delete(fd);
                    }
                }
            }
            SocketIo::Write { id, data } => {
                let e = &mut self.sockets[i];
                e.writes.push_back(PendingWrite {
                    id,
                    chunks: data,
                    next: 0,
                    off: 0,
                });
                self.write_now(i, now);
            }
            SocketIo::Shutdown => {
                // Node's afterShutdown ignores the status: a FIN the OS refuses still ends
                // in 'finish'.
                if let Some(c) = &self.sockets[i].conn {
                    let _ = c.shutdown_write();
                }
            }
            SocketIo::StartReading => {
                let e = &mut self.sockets[i];
                e.reading = true;
                if e.can_read && !e.read_eof {
                    self.readable.insert(i);
                }
            }
            SocketIo::StopReading => self.sockets[i].reading = false,
            SocketIo::SetNoDelay(on) => {
                if let Some(c) = &self.sockets[i].conn {
                    let _ = c.set_no_delay(on);
                }
            }
            SocketIo::SetKeepAlive {
                enable,
                initial_delay_secs,
            } => {
                if let Some(c) = &self.sockets[i].conn {
                    let _ = c.set_keep_alive(enable, initial_delay_secs);
                }
            }
            SocketIo::Close => self.close_conn(i, false),
            SocketIo::Reset => self.close_conn(i, true),
            SocketIo::ReleaseFromServer => {
                if let Some((s, gen)) = self.sockets[i].server.take() {
                    if let Some(srv) = self.servers.get_mut(s).filter(|srv| srv.gen == gen) {
                        srv.core.connection_closed();
                        self.drain_server(s, false);
                    }
                }
            }
        }
    }

    /// Closes socket `i`'s OS socket; `reset` with `SO_LINGER` 0 (RST).
    fn close_conn(&mut self, i: usize, reset: bool) {
        let e = &mut self.sockets[i];
        if let Some(c) = e.conn.take() {
            if reset {
                let _ = c.set_linger_zero();
            }
            // Closing the descriptor (its only one) takes it out of the epoll set.
            drop(c);
        }
        for (_, a) in e.attempts.drain(..) {
            if let Some(fd) = a.fd() {
                self.reactor.delete(fd);
            }
        }
        e.reading = false;
        e.read_eof = false;
        e.can_read = false;
        e.writes.clear();
        self.readable.remove(&i);
    }

    /// Socket `i`'s attempts whose outcome is known.
    pub(crate) fn attempts_ready(&mut self, i: usize, now: Instant) {
        let Some(e) = self.sockets.get_mut(i) else {
            return;
        };
        let mut k = 0;
        while k < e.attempts.len() {
            let done = {
                let a = &e.attempts[k].1;
                a.early.is_some() || a.fd().is_some_and(writable_now)
            };
            if !done {
                k += 1;
                continue;
            }
            let (id, a) = e.attempts.remove(k);
            if let Some(fd) = a.fd() {
                self.reactor.delete(fd);
            }
            match a.finish() {
                Ok(conn) => {
                    let (local, remote) = conn.addresses();
                    self.install_conn(i, conn);
                    self.sockets[i]
                        .core
                        .attempt_connected(now, id, local, remote);
                }
                Err(err) => {
                    let core = &mut self.sockets[i].core;
                    match crate::conn::bind_failure(&err) {
                        Some(b) => core.attempt_bind_failed(now, id, code_of(b)),
                        None => core.attempt_failed(now, id, code_of(&err)),
                    }
                }
            }
            self.drain_socket(i, Mode::Emitted, now);
            return;
        }
    }
}

/// Whether a connecting socket is writable (its connect finished) right now.
fn writable_now(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::OUT)];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0)
}

impl Loop {
    /// Socket `j`'s handle is gone (dropped, or an admitted socket no handle will ever
    /// take): the core decides what that means.
    pub(crate) fn abandon(&mut self, j: usize) {
        let now = crate::now();
        let e = &mut self.sockets[j];
        e.handle = false;
        e.held = false;
        e.events.clear();
        e.queued_bytes = 0;
        e.leftover = None;
        for (key, _) in std::mem::take(&mut e.task_waiters) {
            self.task_takes.remove(&key);
        }
        self.sockets[j].core.handle_dropped(now);
        self.drain_socket(j, crate::event_loop::Mode::Emitted, now);
        self.active.insert(j);
        self.may_read_again(j);
    }
}

/// Moves the wakers of the tasks `which` selects from `tasks` to `wakes`.
fn take_wakers(
    tasks: &mut Vec<(Waiter, Waker)>,
    wakes: &mut Vec<Waker>,
    which: impl Fn(Waiter) -> bool,
) {
    tasks.retain(|(who, w)| {
        let take = which(*who);
        if take {
            wakes.push(w.clone());
        }
        !take
    });
}
