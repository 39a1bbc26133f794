//! The simulation's executor: one thread, tasks on `async-task`, the next task to run
//! drawn from the seed, and the thread-local context that makes this crate's handles,
//! [`crate::spawn`] and [`crate::sleep`] simulated inside [`super::Sim::run`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake};

use async_task::{Runnable, Task};
use sansnet::sim::Rng;
use sansnet::Instant;

use super::world::{lock, Shared};

/// Tasks ready to run, and the generator that picks among them.
#[derive(Debug)]
pub(crate) struct Exec {
    queue: Mutex<(VecDeque<Runnable>, Rng)>,
}

impl Exec {
    pub(crate) fn new(seed: u64) -> Arc<Exec> {
        Arc::new(Exec {
            queue: Mutex::new((VecDeque::new(), Rng::new(seed ^ 0x7A5C_0DE5))),
        })
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, (VecDeque<Runnable>, Rng)> {
        match self.queue.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Spawns a task on this executor.
    pub(crate) fn spawn<F>(self: &Arc<Exec>, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let exec: Weak<Exec> = Arc::downgrade(self);
        let (runnable, task) = async_task::spawn(future, move |r: Runnable| {
            if let Some(e) = exec.upgrade() {
                e.queue().0.push_back(r);
            }
        });
        runnable.schedule();
        task
    }

    /// The next task to run: one of those ready, drawn from the seed.
    pub(crate) fn pick(&self) -> Option<Runnable> {
        let mut q = self.queue();
        let (ready, rng) = &mut *q;
        if ready.is_empty() {
            return None;
        }
        let i = rng.below(ready.len() as u64) as usize;
        ready.remove(i)
    }

    /// Forgets every ready task (the simulation ends).
    pub(crate) fn clear(&self) -> VecDeque<Runnable> {
        std::mem::take(&mut self.queue().0)
    }
}

/// What code running inside a simulation reaches through the thread.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) world: Shared,
    pub(crate) exec: Arc<Exec>,
}

thread_local! {
    static CURRENT: RefCell<Option<Ctx>> = const { RefCell::new(None) };
    /// The host (and its generation) whose task is being polled.
    static HOST: RefCell<Option<(String, u64)>> = const { RefCell::new(None) };
}

/// The host whose task is running now, if any.
pub(crate) fn current_host() -> Option<String> {
    HOST.with(|h| h.borrow().as_ref().map(|(n, _)| n.clone()))
}

/// The host and generation a new task inherits from the running one.
pub(crate) fn current_host_generation() -> Option<(String, u64)> {
    HOST.with(|h| h.borrow().clone())
}

/// A task of a host: polled with the host as the thread's, and dropped (never finishing)
/// once the host crashed after it was spawned.
pub(crate) struct OnHost<F: Future> {
    pub(crate) world: Shared,
    pub(crate) host: String,
    pub(crate) generation: u64,
    pub(crate) future: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for OnHost<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let alive = lock(&self.world).generation(&self.host) == self.generation;
        if !alive {
            // The lock is released: the future's handles take it as they drop.
            self.future = None;
            return Poll::Pending;
        }
        let tag = (self.host.clone(), self.generation);
        let prev = HOST.with(|h| h.borrow_mut().replace(tag));
        let r = match self.future.as_mut() {
            Some(f) => f.as_mut().poll(cx),
            None => Poll::Pending,
        };
        HOST.with(|h| *h.borrow_mut() = prev);
        r
    }
}

/// The simulation this thread is running, if any.
pub(crate) fn current() -> Option<Ctx> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes `ctx` the thread's simulation until dropped (then the previous one again).
pub(crate) struct Enter(Option<Ctx>);

impl Enter {
    pub(crate) fn new(ctx: Ctx) -> Enter {
        Enter(CURRENT.with(|c| c.borrow_mut().replace(ctx)))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// The main future's waker: a flag.
#[derive(Debug, Default)]
pub(crate) struct MainWake(AtomicBool);

impl MainWake {
    pub(crate) fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// `sleep` inside a simulation: ready once the virtual clock reaches `at`.
#[derive(Debug)]
pub(crate) struct Sleep {
    pub(crate) world: Shared,
    pub(crate) at: Instant,
    pub(crate) key: Option<(Instant, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut w = lock(&self.world);
        if w.sim.now() >= self.at {
            if let Some(k) = self.key {
                w.disarm(k);
            }
            drop(w);
            self.key = None;
            return Poll::Ready(());
        }
        match self.key {
            Some(k) => w.rearm(k, cx.waker()),
            None => {
                let k = w.arm(self.at, cx.waker().clone());
                drop(w);
                self.key = Some(k);
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            lock(&self.world).disarm(k);
        }
    }
}
