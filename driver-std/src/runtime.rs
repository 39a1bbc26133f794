//! The runtime: one loop (every socket and server, behind one lock), one `epoll`, and who
//! runs it: a reactor thread for the process ([`Runtime::global`]), or the caller, turn by
//! turn ([`Runtime::manual`]).

use std::io;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use crate::event_loop::Loop;
use crate::now;
use crate::reactor::{Reactor, Ready};

/// State shared by every handle of a runtime and whoever runs its loop.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<Loop>,
    pub(crate) reactor: Arc<Reactor>,
    /// Run by the caller ([`Runtime::turn`]), not by a reactor thread.
    pub(crate) manual: bool,
    /// Where the reactor thread waits while an application thread waits for the OS.
    reactor_cv: Condvar,
}

/// Where sockets and servers live: Node's event loop for a set of handles.
///
/// [`Runtime::global`] (what [`crate::Socket::new`] and [`crate::Server::new`] use) is
/// run by one reactor thread for the whole process, and by application threads while they
/// wait on a handle. [`Runtime::manual`] is run only by its caller, one
/// [`Runtime::turn`] at a time, as a single JavaScript thread would: a conformance runner
/// or a test that wants to see every event in the loop's order.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub(crate) shared: Arc<Shared>,
}

impl Runtime {
    /// The process's runtime, run by one reactor thread (started on first use).
    ///
    /// # Panics
    ///
    /// When the OS refuses an `epoll` instance or a thread at first use.
    pub fn global() -> Runtime {
        static GLOBAL: OnceLock<Runtime> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let rt = Runtime::build(false).expect("sansnet-std: an epoll instance");
                // Application threads take what the reactor thread absorbed.
                rt.shared.lock().polls_os = false;
                let shared = rt.shared.clone();
                std::thread::Builder::new()
                    .name("sansnet-reactor".into())
                    .spawn(move || reactor_thread(&shared))
                    .expect("sansnet-std: the reactor thread");
                rt
            })
            .clone()
    }

    /// A runtime run by an async driver instead of a thread: the driver waits until
    /// [`Runtime::fd`] is readable or the deadline [`Runtime::run`] returned passes, then
    /// calls [`Runtime::run`] again (sansnet-smol does this on its executor, so its
    /// tasks, the loop and the I/O share one thread).
    pub fn driven() -> io::Result<Runtime> {
        let rt = Runtime::build(false)?;
        let mut st = rt.shared.lock();
        // Tasks take what the driver absorbed.
        st.polls_os = false;
        st.driver = Some(crate::event_loop::DriverWake::default());
        drop(st);
        Ok(rt)
    }

    /// The runtime's `epoll` descriptor: readable when a socket, a listener, a lookup or
    /// a call needs the loop to run ([`Runtime::driven`]).
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.shared.reactor.fd()
    }

    /// Runs the loop until it has nothing to do without waiting (what the OS reported,
    /// next ticks, phases, timers due); the next deadline to wake up for, if any
    /// ([`Runtime::driven`]).
    pub fn run(&self) -> Option<std::time::Instant> {
        self.run_busy().1
    }

    /// [`Runtime::run`], also saying whether the OS reported something. A driver that
    /// found some may let the tasks it woke run and call again before it waits for the
    /// OS: under load the loop then finds the next readiness itself, without a round
    /// through the executor's reactor. (Work the tasks' own calls defer runs when they
    /// wait on their handles.)
    pub fn run_busy(&self) -> (bool, Option<std::time::Instant>) {
        // The OS is asked before the lock is taken: the lock is held for less time (a
        // handle's call meanwhile need not wait for the system call).
        let mut ready = Vec::new();
        self.shared
            .reactor
            .wait(Some(std::time::Duration::ZERO), &mut ready);
        let mut st = self.shared.lock();
        st.sleeping = None;
        if let Some(d) = &mut st.driver {
            d.notified = false;
        }
        let busy = !ready.is_empty();
        st.absorb(&mut ready, now());
        // The poll above is this run's one look at the OS: the loop's iterations within
        // it take what it reported (what comes meanwhile waits for the next run, which
        // the driver makes at once after a busy one).
        st.run_all();
        let next = st.next_deadline();
        st.sleeping = Some(next);
        (busy, next.map(crate::to_std))
    }

    /// For a driver task between two runs ([`Runtime::driven`]): ready when a call gave
    /// the loop work since the last [`Runtime::run_busy`] (a dropped handle, a socket
    /// ready to attempt, a sooner timer); else the task's waker is kept and woken then.
    /// The driver waits for this, the runtime's [`Runtime::fd`] and its next deadline.
    pub fn poll_work(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        let mut st = self.shared.lock();
        let Some(d) = &mut st.driver else {
            return std::task::Poll::Pending;
        };
        if std::mem::take(&mut d.notified) {
            return std::task::Poll::Ready(());
        }
        if !d.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            d.waker = Some(cx.waker().clone());
        }
        std::task::Poll::Pending
    }

    /// A runtime that runs only when its caller turns it ([`Runtime::turn`]); blocking
    /// calls on its handles turn it themselves.
    pub fn manual() -> io::Result<Runtime> {
        Runtime::build(true)
    }

    fn build(manual: bool) -> io::Result<Runtime> {
        let reactor = Arc::new(Reactor::new()?);
        let mut lp = Loop::new(reactor.clone());
        lp.manual = manual;
        Ok(Runtime {
            shared: Arc::new(Shared {
                state: Mutex::new(lp),
                reactor,
                manual,
                reactor_cv: Condvar::new(),
            }),
        })
    }

    /// One turn of the loop: runs until an event reaches a handle or something else
    /// happened (a timer, an attempt's outcome), waiting for the OS no later than `limit`.
    /// False when nothing happened before `limit`.
    pub fn turn(&self, limit: std::time::Instant) -> bool {
        let sh = &self.shared;
        let mut st = sh.lock();
        st.release_all();
        loop {
            if st.step(now()) {
                return true;
            }
            let left = limit.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            st = sh.block(st, Some(left));
        }
    }

    /// Says that the application's `setImmediate` was scheduled from the check phase
    /// (from inside a check callback): it runs in the next iteration's check phase, so
    /// the following [`Runtime::turn_immediate`] calls also run this iteration's closing
    /// phase and the next iteration's pending and poll phases.
    pub fn immediate_from_check(&self) {
        self.shared.lock().immediate_from_check();
    }

    /// A turn limited to what runs before a `setImmediate` callback (next ticks, sources
    /// the OS already reported): false when nothing is due.
    pub fn turn_immediate(&self) -> bool {
        let sh = &self.shared;
        let mut st = sh.lock();
        st.release_all();
        if st.step_immediate(now()) {
            return true;
        }
        let mut ready = Vec::new();
        sh.reactor.wait(Some(std::time::Duration::ZERO), &mut ready);
        st.absorb(&mut ready, now());
        st.step_immediate(now())
    }
}

/// The loop, locked. The tasks the loop woke meanwhile ([`Loop::wakes`]) are woken when
/// it is released: woken under the lock, a task on another thread would only wait for it.
#[derive(Debug)]
pub(crate) struct Locked<'a> {
    guard: Option<MutexGuard<'a, Loop>>,
}

impl Locked<'_> {
    /// Waits on `cv` (releasing the lock meanwhile), at most `limit`. The tasks the loop
    /// woke are woken first, still under the lock (the wait releases it at once); only
    /// threads of the blocking API wait this way.
    pub(crate) fn wait_on(mut self, cv: &Condvar, limit: Option<std::time::Duration>) -> Self {
        let wakes = std::mem::take(&mut self.wakes);
        let guard = self.guard.take();
        drop(self);
        for w in wakes {
            w.wake();
        }
        let Some(guard) = guard else {
            unreachable!("a Locked holds its guard until dropped")
        };
        let guard = match limit {
            Some(l) => match cv.wait_timeout(guard, l) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            },
            None => match cv.wait(guard) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            },
        };
        Locked { guard: Some(guard) }
    }
}

impl Deref for Locked<'_> {
    type Target = Loop;
    fn deref(&self) -> &Loop {
        match &self.guard {
            Some(g) => g,
            None => unreachable!("a Locked holds its guard until dropped"),
        }
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Loop {
        match &mut self.guard {
            Some(g) => g,
            None => unreachable!("a Locked holds its guard until dropped"),
        }
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let Some(mut guard) = self.guard.take() else {
            return;
        };
        let wakes = std::mem::take(&mut guard.wakes);
        drop(guard);
        for w in wakes {
            w.wake();
        }
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> Locked<'_> {
        let guard = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        Locked { guard: Some(guard) }
    }

    /// Waits for the OS without the lock (at most `limit`, and not past the next timer),
    /// then takes in what it reported.
    fn block<'a>(&'a self, st: Locked<'a>, limit: Option<std::time::Duration>) -> Locked<'a> {
        let timer = st
            .next_deadline()
            .map(|d| d.saturating_duration_since(now()));
        let timeout = match (timer, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        drop(st);
        let mut ready: Vec<Ready> = Vec::new();
        self.reactor.wait(timeout, &mut ready);
        let mut st = self.lock();
        st.absorb(&mut ready, now());
        st
    }

    /// An application thread waits for the OS itself, on behalf of the handle `key` (a
    /// socket's index, or `usize::MAX - i` for server `i`), at most `limit` and not past
    /// the next timer; then takes in what it reported.
    fn poll_for<'a>(
        &'a self,
        mut st: Locked<'a>,
        key: usize,
        limit: Option<std::time::Duration>,
    ) -> Locked<'a> {
        let next = st.next_deadline();
        let timer = next.map(|d| d.saturating_duration_since(now()));
        let timeout = match (timer, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        st.sleeping = Some(next);
        st.poll_waiter = Some(key);
        drop(st);
        let mut ready: Vec<Ready> = Vec::new();
        self.reactor.wait(timeout, &mut ready);
        let mut st = self.lock();
        st.sleeping = None;
        st.poll_waiter = None;
        st.last_app_poll = Some(std::time::Instant::now());
        st.absorb(&mut ready, now());
        st
    }

    /// After an application call: wakes the reactor thread if the loop has something for
    /// it sooner than it planned to wake.
    pub(crate) fn after_call(&self, st: &mut Loop) {
        if let Some(until) = st.sleeping {
            let sooner = st
                .next_deadline()
                .is_some_and(|d| until.is_none_or(|u| d < u));
            if st.has_ready() || sooner {
                st.wake_runner();
            }
        }
    }

    /// Waits until `check` gives an answer, running the loop meanwhile: on this thread
    /// while it has work, and else blocked on `cv` (the reactor thread runs it) or, in a
    /// manual runtime, in the OS wait itself. `None` when `deadline` passed first.
    pub(crate) fn wait_until<'a, T>(
        &'a self,
        mut st: Locked<'a>,
        cv: &Condvar,
        deadline: Option<std::time::Instant>,
        key: usize,
        mut check: impl FnMut(&mut Loop) -> Option<T>,
        mut waiting: impl FnMut(&mut Loop, i32),
    ) -> (Locked<'a>, Option<T>) {
        loop {
            if let Some(t) = check(&mut st) {
                return (st, Some(t));
            }
            if st.step(now()) {
                continue;
            }
            let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                return (st, None);
            }
            if self.manual {
                st = self.block(st, left);
                continue;
            }
            if st.sleeping.is_none() {
                // Nobody waits for the OS: this thread does, so that an event for its own
                // socket needs no other thread to wake it.
                st = self.poll_for(st, key, left);
                continue;
            }
            waiting(&mut st, 1);
            st = st.wait_on(cv, left);
            waiting(&mut st, -1);
        }
    }
}

/// How long the reactor thread leaves the OS to application threads that wait for it
/// themselves before it takes over (background progress: queued writes, accepts, timers).
const HANDOVER: std::time::Duration = std::time::Duration::from_millis(1);

/// The reactor thread of [`Runtime::global`]: runs the loop while it has work, then waits
/// for the OS until the next deadline, unless an application thread waits for it (or did
/// a moment ago).
fn reactor_thread(sh: &Shared) {
    let mut ready: Vec<Ready> = Vec::new();
    let mut st = sh.lock();
    loop {
        let recent = st.last_app_poll.is_some_and(|t| t.elapsed() < HANDOVER);
        if st.sleeping.is_some() || recent {
            st = st.wait_on(&sh.reactor_cv, Some(HANDOVER));
            continue;
        }
        st.polls_os = true;
        st.run_all();
        st.polls_os = false;
        let next = st.next_deadline();
        st.sleeping = Some(next);
        drop(st);
        sh.reactor
            .wait(next.map(|d| d.saturating_duration_since(now())), &mut ready);
        st = sh.lock();
        st.sleeping = None;
        st.absorb(&mut ready, now());
    }
}
