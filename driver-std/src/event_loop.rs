//! Node's event loop over real sockets: every socket and server of a runtime in one
//! structure, run one step at a time in the order of libuv's phases.
//!
//! A step does the first of these that has work, as Node's loop would:
//!
//! 1. next ticks and the rest of a poll phase ([`sansnet::socket::Socket::poll_tick_output`])
//!    of the first socket that may run, then servers' deferred work;
//! 2. one source the OS reported ready (a connection attempt's outcome, a listener's
//!    connections);
//! 3. the closing phase (a socket's `'close'`); else the next iteration's pending phase
//!    (work deferred to it, begun for every socket at once:
//!    [`sansnet::socket::Socket::start_iteration`]); then its poll phase: read what the
//!    kernel has into the cores (facts), and begin the poll phase for every socket at once
//!    ([`sansnet::socket::Socket::start_poll_phase`]);
//! 4. other deferred work;
//! 5. timers due.
//!
//! A socket *may run* its deferred work when the application is not in the middle of
//! reacting to it: its handle has no event waiting to be taken and made no call since it
//! last waited on the socket (or a thread is blocked on it, or the handle is gone). When
//! one thread serves every handle ([`crate::Runtime::wait_events`]), events waiting to be
//! taken hold deferred work too, as they do for a thread waiting on that one socket. I/O
//! is never held back, only deferred work: that is JavaScript's run-to-completion.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Condvar};

use sansnet::event_loop::{PendingOrder, Phases};
use sansnet::socket::{LookupId, Output, SocketEvent};
use sansnet::turn::Attention;
use sansnet::Instant;
use slab::Slab;

use crate::lookup::LookupResult;
use crate::reactor::{Reactor, Ready, Source};
use crate::server_io::SrvEntry;
use crate::socket_io::{SockEntry, Waiter};

mod phases;
use phases::StdIo;

/// How a socket's outputs are taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Only what was emitted synchronously.
    Emitted,
    /// Up to the check phase: ticks, the poll phase in progress, pending work.
    Ticks,
    /// Any deferred work.
    All,
}

/// Whose lookup finished.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Asker {
    Socket(usize, u64),
    Server(usize, u64),
}

/// A lookup's answer, sent from its helper thread.
pub(crate) struct LookupDone {
    pub(crate) asker: Asker,
    pub(crate) id: LookupId,
    pub(crate) result: LookupResult,
}

/// Every socket and server of a runtime.
pub(crate) struct Loop {
    pub(crate) sockets: Slab<SockEntry>,
    pub(crate) servers: Slab<SrvEntry>,
    pub(crate) reactor: Arc<Reactor>,
    /// Sockets that may have deferred work or facts.
    pub(crate) active: BTreeSet<usize>,
    /// Within one [`Loop::run_all`]: every active socket below this index had, at the
    /// last scan for next ticks, none to run (drained, or its application still
    /// reacting), and nothing touched it since. Scans start here instead of at the first
    /// socket; anything that touches a socket lowers it.
    floor: usize,
    /// Servers that may have deferred work.
    pub(crate) srv_active: BTreeSet<usize>,
    /// Deadlines, by socket.
    pub(crate) timers: BTreeSet<(Instant, usize)>,
    /// Sockets with bytes (or EOF) to read at the next poll.
    pub(crate) readable: BTreeSet<usize>,
    /// Attempts and listeners reported ready, handled one per step.
    pub(crate) ready: VecDeque<Source>,
    /// Where the loop is among the phases after the check phase (the core decides).
    phases: Phases,
    /// The order in which sockets asked for pending-phase work (libuv's one queue).
    pending_order: PendingOrder,
    pub(crate) lookups_tx: Sender<LookupDone>,
    lookups_rx: Receiver<LookupDone>,
    /// Events delivered to handles so far.
    pub(crate) observed: u64,
    pub(crate) next_gen: u64,
    /// Entries that may be gone for good.
    pub(crate) gc: Vec<usize>,
    /// A driven runtime's driver task ([`crate::Runtime::driven`]): woken directly when
    /// the loop has work for it, instead of through the `eventfd` and two polls.
    pub(crate) driver: Option<DriverWake>,
    /// The reactor thread sleeps in `epoll_wait` until this (`Some(None)`: no limit).
    pub(crate) sleeping: Option<Option<Instant>>,
    /// The handle whose application thread is the one waiting for the OS (a socket's
    /// index, `usize::MAX - i` for server `i`): a change to it must wake that wait.
    pub(crate) poll_waiter: Option<usize>,
    /// When an application thread last waited for the OS itself.
    pub(crate) last_app_poll: Option<std::time::Instant>,
    /// A buffer reads borrow.
    pub(crate) read_buf: Vec<u8>,
    /// Buffers of finished writes, kept for the next large reads.
    pub(crate) spare_bufs: Vec<Vec<u8>>,
    /// A buffer the loop's own polls of the OS borrow.
    ready_buf: Vec<Ready>,
    /// Whether this thread polls the OS while it runs the loop (a manual runtime's
    /// caller, the reactor thread); others take what the reactor thread absorbed.
    pub(crate) polls_os: bool,
    /// Which socket each waiting task (by its waker's data) last waited on, and how.
    pub(crate) task_takes: HashMap<usize, (usize, Waiter)>,
    /// What each application thread holds in its current turn (sockets by index, servers
    /// by `usize::MAX - index`, with their generation: a slot reused since is another
    /// handle): released when that thread next waits on anything.
    pub(crate) holds: HashMap<std::thread::ThreadId, Vec<(usize, u64)>>,
    /// One thread serves every handle ([`crate::Runtime::wait_events`]): it takes every
    /// handle's events, so events not taken hold their socket's deferred work as they
    /// would for a thread waiting in [`Waiter::Take`] (and the thread's own calls hold as
    /// any thread's do).
    pub(crate) serves_all: bool,
    /// While [`Loop::serves_all`]: the handles (sockets by index, servers by
    /// `usize::MAX - index`) whose events may wait to be taken: each was added when its
    /// queue stopped being empty, and stays until a look finds its queue empty.
    pub(crate) with_events: BTreeSet<usize>,
    /// Sockets admitted held (their handle arrives inside `'connection'`) and recorded in
    /// no thread's turn, with their generation: a manual runtime's turn releases them
    /// (kept only there: [`Loop::keeps_admitted`]).
    pub(crate) admitted: Vec<(usize, u64)>,
    /// Where a thread waits for any handle's event while another thread runs the loop.
    pub(crate) events_cv: Arc<Condvar>,
    /// Threads waiting on `events_cv`.
    pub(crate) events_waiting: u32,
    /// Run only by its caller ([`crate::Runtime::manual`]).
    pub(crate) manual: bool,
    /// The stamp of the next connection installed ([`Source::Conn`]).
    pub(crate) next_stamp: u32,
    /// A spare descriptor (libuv's `emfile_fd`): out of descriptors, a listener closes it
    /// to accept and close the connections queued, so that they do not hang.
    pub(crate) spare_fd: Option<std::fs::File>,
    /// Tasks to wake once the lock is released ([`crate::runtime::Locked`]): woken under
    /// it, a task on another thread would only wait for the lock.
    pub(crate) wakes: Vec<std::task::Waker>,
}

/// How a driven runtime's driver task is told that the loop has work for it.
#[derive(Debug, Default)]
pub(crate) struct DriverWake {
    /// The task waits: wake it.
    pub(crate) waker: Option<std::task::Waker>,
    /// Work came since its last run: it must run again before it waits.
    pub(crate) notified: bool,
}

/// Opens the spare descriptor, as libuv does (`/dev/null`, else `/`).
pub(crate) fn open_spare() -> Option<std::fs::File> {
    std::fs::File::open("/dev/null")
        .or_else(|_| std::fs::File::open("/"))
        .ok()
}

impl std::fmt::Debug for Loop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loop")
            .field("sockets", &self.sockets.len())
            .field("servers", &self.servers.len())
            .finish()
    }
}

impl Loop {
    pub(crate) fn new(reactor: Arc<Reactor>) -> Loop {
        let (lookups_tx, lookups_rx) = std::sync::mpsc::channel();
        Loop {
            sockets: Slab::new(),
            servers: Slab::new(),
            reactor,
            active: BTreeSet::new(),
            floor: 0,
            srv_active: BTreeSet::new(),
            timers: BTreeSet::new(),
            readable: BTreeSet::new(),
            ready: VecDeque::new(),
            phases: Phases::new(),
            pending_order: PendingOrder::default(),
            lookups_tx,
            lookups_rx,
            observed: 0,
            next_gen: 1,
            gc: Vec::new(),
            driver: None,
            sleeping: None,
            poll_waiter: None,
            last_app_poll: None,
            read_buf: Vec::with_capacity(sansnet::socket::READ_SIZE),
            spare_bufs: Vec::new(),
            ready_buf: Vec::new(),
            polls_os: true,
            holds: HashMap::new(),
            task_takes: HashMap::new(),
            spare_fd: open_spare(),
            next_stamp: 0,
            serves_all: false,
            with_events: BTreeSet::new(),
            admitted: Vec::new(),
            events_cv: Arc::new(Condvar::new()),
            events_waiting: 0,
            manual: false,
            wakes: Vec::new(),
        }
    }

    pub(crate) fn gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    /// Socket `i` changed: the next scan for next ticks starts no later than at it.
    pub(crate) fn floor_at(&mut self, i: usize) {
        self.floor = self.floor.min(i);
    }

    /// The task with waker `w` polls this runtime again: it no longer waits on the
    /// socket it waited on before; `wait`: it now waits on socket `i` as `who`.
    pub(crate) fn task_polls(&mut self, w: &std::task::Waker, wait: Option<(usize, Waiter)>) {
        let key = w.data() as usize;
        if let Some((j, _)) = self.task_takes.remove(&key) {
            if let Some(e) = self.sockets.get_mut(j) {
                e.task_waiters.retain(|(k, _)| *k != key);
            }
        }
        if let Some((i, who)) = wait {
            self.task_takes.insert(key, (i, who));
            self.sockets[i].task_waiters.push((key, who));
        }
    }

    /// Whether socket `i` may run deferred work now.
    pub(crate) fn may_run(&self, i: usize) -> bool {
        self.sockets[i].may_run(self.serves_all)
    }

    fn server_may_run(&self, i: usize) -> bool {
        let s = &self.servers[i];
        let attention = Attention {
            dropped: !s.handle,
            touched: s.held,
            takes: !s.tasks.is_empty(),
            blocked: s.blocked > 0,
            ..Attention::default()
        };
        attention.lets_server_run(!s.events.is_empty())
    }

    /// Carries out socket `i`'s outputs in `mode`; after an event the application reacts
    /// before more deferred work runs. Returns whether an event was delivered.
    pub(crate) fn drain_socket(&mut self, i: usize, mode: Mode, now: Instant) -> bool {
        loop {
            let core = &mut self.sockets[i].core;
            let o = match mode {
                Mode::Emitted => core.poll_emitted(),
                Mode::Ticks => core.poll_tick_output(),
                Mode::All => core.poll_output(),
            };
            match o {
                None => {
                    self.touch(i);
                    return false;
                }
                Some(Output::Io(io)) => self.socket_io(i, io, now),
                Some(Output::Event(e)) => {
                    self.deliver(i, e);
                    if mode != Mode::Emitted {
                        self.drain_socket(i, Mode::Emitted, now);
                        return true;
                    }
                }
            }
        }
    }

    /// Hands an event to socket `i`'s handle (or drops it when nobody holds one).
    pub(crate) fn deliver(&mut self, i: usize, e: SocketEvent) {
        self.floor_at(i);
        let entry = &mut self.sockets[i];
        if let SocketEvent::Error(err) = &e {
            entry.last_error = Some(Box::new(err.clone()));
        }
        if !entry.handle {
            return;
        }
        if let SocketEvent::Data(d) = &e {
            entry.queued_bytes += d.len();
        }
        let first = entry.events.is_empty();
        entry.events.push_back(e);
        self.observed += 1;
        entry.wake_takers(&mut self.wakes);
        self.wake_poller(i);
        if first {
            self.events_wait(i);
        }
    }

    /// Bookkeeping after anything happened to socket `i`: its deadline, whether it has
    /// work, whoever waits on it.
    pub(crate) fn touch(&mut self, i: usize) {
        self.floor_at(i);
        self.note_pending(i);
        let Some(e) = self.sockets.get_mut(i) else {
            return;
        };
        let want = e.core.poll_timeout();
        if want != e.armed {
            if let Some(at) = e.armed {
                self.timers.remove(&(at, i));
            }
            if let Some(at) = want {
                self.timers.insert((at, i));
            }
            e.armed = want;
        }
        if !e.core.is_idle() {
            self.active.insert(i);
        }
        if e.read_held && e.core.reads_more() {
            e.read_held = false;
            self.may_read_again(i);
        }
        let e = &mut self.sockets[i];
        e.wake(&mut self.wakes);
        if !e.handle {
            self.gc.push(i);
        }
        self.wake_poller(i);
    }

    /// Whoever runs the loop must run it again: the driver task of a driven runtime is
    /// woken directly; a thread waiting for the OS through the `eventfd`.
    pub(crate) fn wake_runner(&mut self) {
        match &mut self.driver {
            Some(d) => {
                d.notified = true;
                if let Some(w) = d.waker.take() {
                    self.wakes.push(w);
                }
            }
            None => self.reactor.notify(),
        }
    }

    /// The thread waiting for the OS waits on behalf of handle `key`, which changed:
    /// it must look again.
    fn wake_poller(&self, key: usize) {
        if self.sleeping.is_some() && self.poll_waiter == Some(key) {
            self.reactor.notify();
        }
    }

    /// Bookkeeping after anything happened to server `i`; `changed`: it had outputs,
    /// so whoever waits on it looks again.
    pub(crate) fn touch_server(&mut self, i: usize, changed: bool) {
        let Some(s) = self.servers.get_mut(i) else {
            return;
        };
        if !s.core.is_idle() {
            self.srv_active.insert(i);
        }
        if changed {
            s.wake(&mut self.wakes);
        }
        if !s.handle {
            self.gc.push(usize::MAX - i);
        }
        self.wake_poller(usize::MAX - i);
    }

    /// One step of the loop (see the module doc); false when nothing could run without
    /// waiting for the OS or the clock.
    pub(crate) fn step(&mut self, now: Instant) -> bool {
        self.floor = 0;
        let ran = self.step_inner(now, true);
        self.collect();
        ran
    }

    /// Runs steps until none can run without waiting for the OS or the clock, the
    /// caller holding the loop throughout (nothing else changes it between two steps, so
    /// each scan for next ticks can start where the last one found its socket). Returns
    /// whether any step ran.
    pub(crate) fn run_all(&mut self) -> bool {
        self.floor = 0;
        // The loop's time is read once for the run, as libuv reads it once per iteration.
        let now = crate::now();
        let mut any = false;
        loop {
            let ran = self.step_inner(now, true);
            self.collect();
            if !ran {
                return any;
            }
            any = true;
        }
    }

    /// A step limited to what runs before a `setImmediate` callback: ticks and sources
    /// already ready.
    pub(crate) fn step_immediate(&mut self, now: Instant) -> bool {
        self.floor = 0;
        let ran = self.step_inner(now, false);
        self.collect();
        ran
    }

    fn step_inner(&mut self, now: Instant, later: bool) -> bool {
        // 1. Ticks (and the poll phase in progress), then pending work in the order asked.
        let ticks = self
            .active
            .range(self.floor..)
            .copied()
            .find(|&i| self.sockets[i].core.has_work_before_pending() && self.may_run(i));
        if let Some(i) = ticks {
            self.floor = i;
            self.drain_socket(i, Mode::Ticks, now);
            return true;
        }
        let pending = self.next_pending_socket();
        if let Some(i) = pending {
            PendingOrder::take_turn(&mut self.sockets[i].core);
            self.drain_socket(i, Mode::Ticks, now);
            return true;
        }
        self.floor = usize::MAX;
        let server = self
            .srv_active
            .iter()
            .copied()
            .find(|&i| !self.servers[i].core.is_idle() && self.server_may_run(i));
        if let Some(i) = server {
            self.drain_server(i, true);
            return true;
        }
        // 2. One source the OS reported.
        if let Some(src) = self.ready.pop_front() {
            self.with_phases(now, |ph, io| ph.source_ready(io));
            match src {
                Source::Attempt(i) => self.attempts_ready(i, now),
                Source::Listener(i) => self.accept_some(i, now),
                Source::Conn(..) => {}
            }
            return true;
        }
        if !later {
            if self.drain_lookups(now) {
                return true;
            }
            return self.phases.immediate_reaches_later_phases() && self.later_phases(now);
        }
        // 3. The closing phase, then the next iteration's pending and poll phases.
        if self.later_phases(now) {
            return true;
        }
        // 4. Other deferred work.
        let deferred = self
            .active
            .iter()
            .copied()
            .find(|&i| !self.sockets[i].core.is_idle() && self.may_run(i));
        if let Some(i) = deferred {
            self.drain_socket(i, Mode::All, now);
            return true;
        }
        // Sockets with nothing left leave the active set.
        let sockets = &self.sockets;
        self.active
            .retain(|&i| sockets.get(i).is_some_and(|e| !e.core.is_idle()));
        let servers = &self.servers;
        self.srv_active
            .retain(|&i| servers.get(i).is_some_and(|s| !s.core.is_idle()));
        // 5. Timers.
        if let Some(&(at, i)) = self.timers.first() {
            if at <= now {
                self.timers.remove(&(at, i));
                self.sockets[i].armed = None;
                self.sockets[i].core.handle_timeout(now);
                self.touch(i);
                return true;
            }
        }
        false
    }

    /// The loop's phases after the check phase, for every socket at once, one step (the
    /// core's [`Phases::later_phases`]). Returns whether something ran.
    fn later_phases(&mut self, now: Instant) -> bool {
        self.with_phases(now, |ph, io| ph.later_phases(io))
    }

    /// Runs `f` on the loop's phases with this loop as their [`LoopIo`](sansnet::event_loop::LoopIo).
    fn with_phases<R>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut Phases, &mut StdIo<'_>) -> R,
    ) -> R {
        let mut phases = self.phases;
        let r = f(&mut phases, &mut StdIo { lp: self, now });
        self.phases = phases;
        r
    }

    /// The application scheduled a `setImmediate` from the check phase
    /// ([`Phases::immediate_from_check`]).
    pub(crate) fn immediate_from_check(&mut self) {
        self.with_phases(crate::now(), |ph, io| ph.immediate_from_check(io));
    }

    /// Takes in what the OS reported: readiness flags, sources to handle, lookups.
    pub(crate) fn absorb(&mut self, ready: &mut Vec<Ready>, now: Instant) {
        for r in ready.drain(..) {
            match r.source {
                Source::Conn(i, stamp) => self.conn_ready(i, stamp, r, now),
                src => {
                    if !self.ready.contains(&src) {
                        self.ready.push_back(src);
                    }
                }
            }
        }
        self.drain_lookups(now);
        self.read_readable(now);
    }

    /// Reads the sockets the OS said have bytes (facts for their next poll phase).
    fn read_readable(&mut self, now: Instant) {
        while let Some(i) = self.readable.pop_first() {
            self.read_some(i, now);
        }
    }

    fn drain_lookups(&mut self, now: Instant) -> bool {
        let mut any = false;
        while let Ok(done) = self.lookups_rx.try_recv() {
            any = true;
            match done.asker {
                Asker::Socket(i, gen) => {
                    if let Some(e) = self.sockets.get_mut(i).filter(|e| e.gen == gen) {
                        e.core.lookup_done(now, done.id, done.result);
                        self.drain_socket(i, Mode::Emitted, now);
                    }
                }
                Asker::Server(i, gen) => {
                    if let Some(s) = self.servers.get_mut(i).filter(|s| s.gen == gen) {
                        s.core.lookup_done(done.id, done.result);
                        self.drain_server(i, false);
                    }
                }
            }
        }
        any
    }

    /// The next deadline of any socket.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Whether a step could run now without the OS or the clock.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Removes entries nobody will use again.
    fn collect(&mut self) {
        for g in std::mem::take(&mut self.gc) {
            if g > usize::MAX / 2 {
                let i = usize::MAX - g;
                if self.servers.get(i).is_some_and(SrvEntry::finished) {
                    self.servers.remove(i);
                    self.srv_active.remove(&i);
                }
            } else if self.sockets.get(g).is_some_and(SockEntry::finished) {
                let e = self.sockets.remove(g);
                if let Some(at) = e.armed {
                    self.timers.remove(&(at, g));
                }
                self.active.remove(&g);
                self.readable.remove(&g);
                self.pending_order.forget(g);
            }
        }
    }

    /// For a waiter on destroyed socket `i`: its error once known (the `'error'` event is
    /// emitted on a later tick than the destroy), `None` while it may still come.
    pub(crate) fn destroyed_error(&self, i: usize) -> Option<std::io::Error> {
        let e = &self.sockets[i];
        (e.last_error.is_some() || e.core.is_idle()).then(|| self.closed_error(i))
    }

    /// The error a waiter gets when the socket can no longer do what it waits for.
    pub(crate) fn closed_error(&self, i: usize) -> std::io::Error {
        match &self.sockets[i].last_error {
            Some(e) => crate::to_io_error((**e).clone()),
            None => std::io::Error::new(std::io::ErrorKind::NotConnected, "the socket is closed"),
        }
    }
}
