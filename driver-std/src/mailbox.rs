//! The thread behind a handle.
//!
//! Each [`Socket`](crate::Socket) and [`Server`](crate::Server) has an *engine*: the core
//! state machine, the OS sockets and the bookkeeping that carries out the core's I/O
//! requests. The engine runs on a thread of its own while it has work (a connection, an
//! attempt, a lookup, a timer, deferred work), and *rests* when it has none: the thread
//! parks the engine in the mailbox and exits. A call on a resting engine runs inline on the
//! caller's thread (under the mailbox's lock); if the engine then has work, a new thread is
//! started for it. So a closed socket or server holds no thread at all.
//!
//! Commands reach a running engine through an `mpsc` channel and a wake-up byte on a unix
//! socket pair that the engine polls beside its OS sockets.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

/// Locks a mutex, ignoring poisoning (a panicking engine already reported itself).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The engine's end of the wake-up pair: readable when a command is waiting.
#[derive(Debug)]
pub(crate) struct WakeRx(UnixStream);

impl WakeRx {
    /// The descriptor to poll for readability.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }

    /// Consumes the pending wake-up bytes.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.0).read(&mut buf) {
            if n < buf.len() {
                return;
            }
        }
    }
}

/// What a mailbox drives: one machine and its OS resources.
pub(crate) trait Engine: Send + Sized + 'static {
    /// What the handle (and helper threads) send.
    type Cmd: Send + 'static;
    /// The name of the engine's thread.
    const THREAD_NAME: &'static str;
    /// Carries out one command.
    fn command(&mut self, cmd: Self::Cmd);
    /// Carries out the machine's outputs and answers whoever waits (after every input).
    fn settle(&mut self);
    /// Whether nothing is in flight: no OS socket, attempt, lookup, timer or pending work.
    fn can_rest(&self) -> bool;
    /// Whether the application's handle is gone (the engine is then dropped, not parked).
    fn handle_gone(&self) -> bool;
    /// Blocks until the OS, a timer or `wake` has something, and feeds it to the machine.
    fn wait(&mut self, wake: &WakeRx);
    /// The engine is about to rest: release whoever waits for something that needs a
    /// thread.
    fn rested(&mut self);
}

struct Parked<E: Engine> {
    engine: Box<E>,
    rx: Receiver<E::Cmd>,
    wake: WakeRx,
    /// The thread that parked the engine (it is exiting): joined before the next start.
    thread: Option<JoinHandle<()>>,
}

enum Slot<E: Engine> {
    Running(Option<JoinHandle<()>>),
    Parked(Parked<E>),
    Gone,
}

/// Where a handle's commands go, and where a resting engine waits.
pub(crate) struct Mailbox<E: Engine> {
    tx: Sender<E::Cmd>,
    wake: UnixStream,
    slot: Mutex<Slot<E>>,
    rested: Condvar,
}

impl<E: Engine> std::fmt::Debug for Mailbox<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(E::THREAD_NAME)
    }
}

impl<E: Engine> Mailbox<E> {
    /// A mailbox holding a resting engine built by `make` (given the mailbox's address, for
    /// helper threads that report back).
    pub(crate) fn new(make: impl FnOnce(Weak<Mailbox<E>>) -> E) -> io::Result<Arc<Mailbox<E>>> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        let (tx, rx) = mpsc::channel();
        Ok(Arc::new_cyclic(|weak| Mailbox {
            tx,
            wake: wake_tx,
            slot: Mutex::new(Slot::Parked(Parked {
                engine: Box::new(make(weak.clone())),
                rx,
                wake: WakeRx(wake_rx),
                thread: None,
            })),
            rested: Condvar::new(),
        }))
    }

    fn wake(&self) {
        // A full pipe already holds a wake-up: losing this byte loses nothing.
        let _ = (&self.wake).write(&[1]);
    }

    /// Wakes a running engine so that it looks at shared state again (acknowledged
    /// events, consumed data). A resting engine reads that state when it next runs.
    pub(crate) fn nudge(&self) {
        self.wake();
    }

    /// Delivers a command: to the running thread, or inline to the resting engine (which
    /// gets a thread if it then has work).
    pub(crate) fn send(self: &Arc<Self>, cmd: E::Cmd) {
        let mut slot = lock(&self.slot);
        match &mut *slot {
            Slot::Running(_) => {
                let _ = self.tx.send(cmd);
                self.wake();
            }
            Slot::Parked(p) => {
                p.engine.command(cmd);
                p.engine.settle();
                self.start_locked(&mut slot);
            }
            Slot::Gone => {}
        }
    }

    /// Runs a resting engine's pending outputs and starts its thread if it has work.
    pub(crate) fn start(self: &Arc<Self>) {
        let mut slot = lock(&self.slot);
        if let Slot::Parked(p) = &mut *slot {
            p.engine.settle();
            self.start_locked(&mut slot);
        }
    }

    fn start_locked(self: &Arc<Self>, slot: &mut MutexGuard<'_, Slot<E>>) {
        let Slot::Parked(p) = &mut **slot else { return };
        if p.engine.can_rest() {
            p.engine.rested();
            return;
        }
        let Slot::Parked(p) = std::mem::replace(&mut **slot, Slot::Running(None)) else {
            return;
        };
        if let Some(t) = p.thread {
            let _ = t.join();
        }
        let mb = self.clone();
        let (engine, rx, wake) = (p.engine, p.rx, p.wake);
        let thread = std::thread::Builder::new()
            .name(E::THREAD_NAME.into())
            .spawn(move || run(mb, engine, rx, wake))
            .expect("the OS refused a thread for a socket engine");
        **slot = Slot::Running(Some(thread));
    }

    /// Whether the engine rests (or is gone): nothing more happens without a call.
    pub(crate) fn is_resting(&self) -> bool {
        !matches!(*lock(&self.slot), Slot::Running(_))
    }

    /// Waits until the engine rests and its thread has been joined.
    pub(crate) fn wait_rested(&self) {
        let mut slot = lock(&self.slot);
        loop {
            match &mut *slot {
                Slot::Running(_) => {
                    slot = self.rested.wait(slot).unwrap_or_else(|p| p.into_inner());
                }
                Slot::Parked(p) => {
                    if let Some(t) = p.thread.take() {
                        let _ = t.join();
                    }
                    return;
                }
                Slot::Gone => return,
            }
        }
    }

    /// The handle is gone: a resting engine is dropped now; a running one gets `gone` and
    /// is dropped once it has nothing left to do (its thread then ends on its own).
    pub(crate) fn close(&self, gone: E::Cmd) {
        let mut slot = lock(&self.slot);
        match std::mem::replace(&mut *slot, Slot::Gone) {
            Slot::Running(t) => {
                *slot = Slot::Running(t);
                let _ = self.tx.send(gone);
                self.wake();
            }
            Slot::Parked(p) => {
                drop(p.engine);
                if let Some(t) = p.thread {
                    let _ = t.join();
                }
            }
            Slot::Gone => {}
        }
    }
}

/// The engine's thread: commands, then the engine's own waiting, until it can rest.
fn run<E: Engine>(mb: Arc<Mailbox<E>>, mut engine: Box<E>, rx: Receiver<E::Cmd>, wake: WakeRx) {
    loop {
        while let Ok(c) = rx.try_recv() {
            engine.command(c);
            engine.settle();
        }
        if engine.can_rest() {
            let mut slot = lock(&mb.slot);
            if let Ok(c) = rx.try_recv() {
                drop(slot);
                engine.command(c);
                engine.settle();
                continue;
            }
            let thread = match std::mem::replace(&mut *slot, Slot::Gone) {
                Slot::Running(t) => t,
                _ => None,
            };
            if engine.handle_gone() {
                // Nobody can call again: the engine ends with this thread (detached).
                drop(thread);
                drop(slot);
                mb.rested.notify_all();
                return;
            }
            engine.rested();
            *slot = Slot::Parked(Parked {
                engine,
                rx,
                wake,
                thread,
            });
            drop(slot);
            mb.rested.notify_all();
            return;
        }
        engine.wait(&wake);
        engine.settle();
    }
}
