//! The output queue of a state machine, with Node's three moments of emission.
//!
//! Node emits some events synchronously inside the call that causes them, some on the
//! next tick (`process.nextTick`), and some on a later turn of the event loop (a handle's
//! `'close'`). A JavaScript caller can act between those moments: `connect()` followed at
//! once by `destroy()` never makes an attempt, because the attempt was deferred to the next
//! tick. The core models this with two queues of deferred work beside the output queue:
//! deferred work runs only when the driver pulls outputs and nothing synchronous is left,
//! which is exactly when JavaScript would return to the event loop.

use std::collections::VecDeque;

/// Outputs in causal order plus deferred work of type `D`.
#[derive(Debug)]
pub(crate) struct Queue<O, D> {
    out: VecDeque<O>,
    ticks: VecDeque<D>,
    later: VecDeque<D>,
}

impl<O, D> Default for Queue<O, D> {
    fn default() -> Self {
        Queue {
            out: VecDeque::new(),
            ticks: VecDeque::new(),
            later: VecDeque::new(),
        }
    }
}

impl<O, D> Queue<O, D> {
    /// Emits an output now (synchronously, in Node's terms).
    pub(crate) fn push(&mut self, o: O) {
        self.out.push_back(o);
    }

    /// Defers work to the next tick.
    pub(crate) fn next_tick(&mut self, d: D) {
        self.ticks.push_back(d);
    }

    /// Defers work to a later turn of the event loop (after every pending tick).
    pub(crate) fn later(&mut self, d: D) {
        self.later.push_back(d);
    }

    /// The next output already emitted.
    pub(crate) fn pop(&mut self) -> Option<O> {
        self.out.pop_front()
    }

    /// The next deferred work to run once no output is waiting: ticks before later work.
    pub(crate) fn pop_deferred(&mut self) -> Option<D> {
        self.ticks.pop_front().or_else(|| self.later.pop_front())
    }

    /// The next tick's work only (not a later turn's).
    pub(crate) fn pop_tick(&mut self) -> Option<D> {
        self.ticks.pop_front()
    }

    /// Whether only later work (or nothing) is pending: what JavaScript would see after
    /// its tick queue drained.
    pub(crate) fn ticks_drained(&self) -> bool {
        self.out.is_empty() && self.ticks.is_empty()
    }

    /// Whether nothing at all is pending.
    pub(crate) fn is_idle(&self) -> bool {
        self.out.is_empty() && self.ticks.is_empty() && self.later.is_empty()
    }

    /// Drops deferred work that no longer applies.
    pub(crate) fn retain_deferred(&mut self, mut keep: impl FnMut(&D) -> bool) {
        self.ticks.retain(&mut keep);
        self.later.retain(&mut keep);
    }
}
