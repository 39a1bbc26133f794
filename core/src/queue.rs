//! The output queue of a state machine, and the event loop's phases that decide when
//! deferred work and OS facts become outputs.
//!
//! Node emits some events synchronously inside the call that causes them, some on the
//! next tick (`process.nextTick`), and the rest from a phase of libuv's loop:
//!
//! | phase | what runs there | here |
//! | --- | --- | --- |
//! | pending | callbacks libuv deferred to the next iteration: a shutdown asked with an empty write queue, an error a syscall returned at once | [`Queue::pending`] |
//! | poll | what the OS reported: bytes read, EOF, a read or write error, an asynchronous write completion | [`Queue::fact`] |
//! | check | `setImmediate` callbacks (the application's own continuation; a driver's business) | — |
//! | closing | a closed handle's callback (`'close'`) | [`Queue::closing`] |
//!
//! The next-tick queue drains after every callback of every phase. A JavaScript caller
//! can act between those moments: `connect()` followed at once by `destroy()` never makes
//! an attempt, because the attempt was deferred to the next tick.
//!
//! OS facts do not act when the driver reports them: they wait, in arrival order, for the
//! next poll phase, which takes every fact that arrived before it began (libuv reads a
//! socket until it would block). Work a fact's callbacks defer to the pending phase runs
//! after the whole poll phase (libuv runs its pending queue again right after polling).
//! So for the same facts every driver gives the same order, whenever its OS reported them.

use std::collections::VecDeque;

/// Outputs in causal order plus deferred work of type `D`, by loop phase.
#[derive(Clone, Debug)]
pub(crate) struct Queue<O, D> {
    out: VecDeque<O>,
    ticks: VecDeque<D>,
    pending: VecDeque<D>,
    /// Facts reported since the current poll phase began, each with whether it ends
    /// libuv's reading for a poll phase.
    arriving: VecDeque<(D, bool)>,
    /// Facts of the poll phase in progress.
    polled: VecDeque<(D, bool)>,
    closing: VecDeque<D>,
    /// Whether a poll phase is in progress (its facts or their ticks still running).
    polling: bool,
    /// The machine shares one loop with others, whose driver begins each iteration for
    /// all of them ([`Queue::start_iteration`]): pending work asked outside a poll phase
    /// waits here for the next iteration (after this iteration's closing phase).
    shared: bool,
    next_pending: VecDeque<D>,
    /// Pending-phase work asked since the driver last looked ([`Queue::take_pending_asks`]).
    pending_asks: u32,
    /// Pending-phase work the driver of a shared loop let run next (its turn in the
    /// loop's one pending queue, [`Queue::grant_pending`]).
    grants: u32,
    /// Reading is stopped: facts this says are reads stay in the kernel (in `arriving`)
    /// until it resumes.
    reads_stopped: Option<fn(&D) -> bool>,
}

impl<O, D> Default for Queue<O, D> {
    fn default() -> Self {
        Queue {
            out: VecDeque::new(),
            ticks: VecDeque::new(),
            pending: VecDeque::new(),
            arriving: VecDeque::new(),
            polled: VecDeque::new(),
            closing: VecDeque::new(),
            polling: false,
            shared: false,
            next_pending: VecDeque::new(),
            pending_asks: 0,
            grants: 0,
            reads_stopped: None,
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

    /// Work that Node runs right after the listeners of the event just emitted, in the
    /// same function (the auto-destroy after `'end'` or `'finish'`): before any other
    /// deferred work.
    pub(crate) fn after_listeners(&mut self, d: D) {
        self.ticks.push_front(d);
    }

    /// Defers work to libuv's pending phase: after the poll phase in progress, or at the
    /// start of the next iteration.
    pub(crate) fn pending(&mut self, d: D) {
        self.pending_asks = self.pending_asks.saturating_add(1);
        if self.shared && !self.polling {
            self.next_pending.push_back(d);
        } else {
            self.pending.push_back(d);
        }
    }

    /// From now on a driver begins each loop iteration ([`Queue::start_iteration`]).
    pub(crate) fn share_loop(&mut self) {
        self.shared = true;
    }

    /// A new loop iteration begins: its pending phase takes the work deferred to it.
    /// Returns whether there is any.
    /// Whether [`Queue::start_iteration`] would begin something.
    pub(crate) fn waits_for_next_iteration(&self) -> bool {
        !self.next_pending.is_empty()
    }

    /// Whether [`Queue::start_poll`] could begin a poll phase.
    pub(crate) fn could_start_poll(&self) -> bool {
        !self.polling
            && self.pending.is_empty()
            && (self.has_takeable_facts() || !self.next_pending.is_empty())
    }

    pub(crate) fn start_iteration(&mut self) -> bool {
        if self.next_pending.is_empty() {
            return false;
        }
        self.pending.append(&mut self.next_pending);
        true
    }

    /// An OS completion that libuv reports from its poll phase acts now (a connect, an
    /// accept): work its callbacks defer to the pending phase runs right after that poll
    /// phase, in the same iteration, as for a fact.
    pub(crate) fn in_poll_phase(&mut self) {
        self.polling = true;
    }

    /// An OS fact, for the next poll phase. `ends_poll`: no later fact is handled in the
    /// same poll phase (libuv stops reading a socket for this phase after a read that did
    /// not fill its buffer, after EOF and after an error).
    pub(crate) fn fact(&mut self, d: D, ends_poll: bool) {
        self.arriving.push_back((d, ends_poll));
    }

    /// A fact `first` right before a fact `second`, both not yet in a poll phase: no
    /// longer ends the poll phase, so that one poll phase takes both.
    pub(crate) fn join_before(&mut self, first: impl Fn(&D) -> bool, second: impl Fn(&D) -> bool) {
        for i in 1..self.arriving.len() {
            if second(&self.arriving[i].0) && first(&self.arriving[i - 1].0) {
                self.arriving[i - 1].1 = false;
            }
        }
    }

    /// The last fact not yet in a poll phase, with whether it ends one.
    pub(crate) fn last_fact_mut(&mut self) -> Option<&mut (D, bool)> {
        self.arriving.back_mut()
    }

    /// The first fact not yet in a poll phase for which `f` says something.
    pub(crate) fn find_arriving<T>(&self, f: impl Fn(&D) -> Option<T>) -> Option<T> {
        self.arriving.iter().find_map(|(d, _)| f(d))
    }

    /// Defers work to the closing phase (a handle's close callback).
    pub(crate) fn closing(&mut self, d: D) {
        self.closing.push_back(d);
    }

    /// The next output already emitted.
    pub(crate) fn pop(&mut self) -> Option<O> {
        self.out.pop_front()
    }

    /// The next deferred work of the loop, in phase order: what runs before the check
    /// phase ([`Queue::pop_until_check`]), the closing phase, then the next poll phase if
    /// facts arrived.
    pub(crate) fn pop_deferred(&mut self) -> Option<D> {
        if let Some(d) = self.pop_until_check() {
            return Some(d);
        }
        if let Some(d) = self.closing.pop_front() {
            return Some(d);
        }
        // The driver of a shared loop begins its iterations for every machine at once.
        if !self.shared && self.start_iteration() {
            return self.pop_until_check();
        }
        if self.start_poll() {
            return self.pop_until_check();
        }
        None
    }

    /// The next deferred work that runs before the loop reaches its check phase (where a
    /// `setImmediate` callback would run): ticks, the poll phase in progress, and pending
    /// work.
    ///
    /// Pending work asked outside a poll phase belongs to the next iteration's pending
    /// phase, and it runs here too: for one machine nothing can come between (its closing
    /// work exists only once it is destroyed, which voids what is pending), and a driver
    /// whose machines do not share one loop cannot tell which iteration the others are in,
    /// whereas Node's next iteration has begun whenever the application saw something
    /// happen since.
    pub(crate) fn pop_until_check(&mut self) -> Option<D> {
        self.next_until_check(false)
    }

    /// [`Queue::pop_until_check`] for a step of a shared loop: pending-phase work only
    /// once granted ([`Queue::grant_pending`]), as the loop's pending queue orders it.
    pub(crate) fn pop_tick_work(&mut self) -> Option<D> {
        self.next_until_check(self.shared)
    }

    fn next_until_check(&mut self, gated: bool) -> Option<D> {
        if let Some(d) = self.ticks.pop_front() {
            return Some(d);
        }
        if self.polling {
            if let Some((d, _)) = self.polled.pop_front() {
                return Some(d);
            }
        }
        if gated && !self.pending.is_empty() {
            if self.grants == 0 {
                return None;
            }
            self.grants -= 1;
        }
        let d = self.pending.pop_front();
        if self.pending.is_empty() {
            self.grants = 0;
        }
        if d.is_none() {
            self.polling = false;
        }
        d
    }

    /// Whether a fact reported since the current poll phase began satisfies `f`.
    /// The facts not handled yet: those the poll phase in progress took, then those no
    /// poll phase has taken.
    pub(crate) fn unhandled_facts(&self) -> impl Iterator<Item = &D> {
        (self.polled.iter().chain(&self.arriving)).map(|(d, _)| d)
    }

    pub(crate) fn any_arriving(&self, f: impl Fn(&D) -> bool) -> bool {
        self.arriving.iter().any(|(d, _)| f(d))
    }

    /// Whether a fact reported and not yet applied satisfies `f`.
    pub(crate) fn any_unapplied(&self, f: impl Fn(&D) -> bool) -> bool {
        self.arriving.iter().any(|(d, _)| f(d)) || self.polled.iter().any(|(d, _)| f(d))
    }

    /// Whether a poll phase is in progress: work deferred now to the pending phase runs
    /// right after it.
    pub(crate) fn polling(&self) -> bool {
        self.polling
    }

    /// Whether closing-phase work waits.
    pub(crate) fn has_closing(&self) -> bool {
        !self.closing.is_empty()
    }

    /// Begins a poll phase now with the facts that arrived, unless one is in progress,
    /// pending work must run first, or none arrived. Returns whether one began.
    pub(crate) fn start_poll(&mut self) -> bool {
        if self.polling || !self.pending.is_empty() {
            return false;
        }
        // Pending work asked during this iteration's pending phase (after it began) runs
        // right after its poll phase, as libuv runs its pending queue again after polling.
        let asked = !self.next_pending.is_empty();
        if !self.has_takeable_facts() {
            self.pending.append(&mut self.next_pending);
            return asked;
        }
        let mut kept = VecDeque::new();
        while let Some((d, ends_poll)) = self.arriving.pop_front() {
            if self.reads_stopped.is_some_and(|is_read| is_read(&d)) {
                kept.push_back((d, ends_poll));
                continue;
            }
            self.polled.push_back((d, ends_poll));
            if ends_poll {
                break;
            }
        }
        kept.append(&mut self.arriving);
        self.arriving = kept;
        self.pending.append(&mut self.next_pending);
        if self.polled.is_empty() {
            return asked;
        }
        self.polling = true;
        true
    }

    /// Reading stopped (libuv's `readStop` from a read callback ends its read loop): the
    /// reads `is_read` recognises that this poll phase has not handled yet go back to the
    /// kernel, and no poll phase takes reads until [`Queue::resume_reads`].
    pub(crate) fn stop_reads(&mut self, is_read: fn(&D) -> bool) {
        self.reads_stopped = Some(is_read);
        let mut back = VecDeque::new();
        let mut rest = VecDeque::new();
        for (d, ends_poll) in self.polled.drain(..) {
            if is_read(&d) {
                back.push_back((d, ends_poll));
            } else {
                rest.push_back((d, ends_poll));
            }
        }
        self.polled = rest;
        back.append(&mut self.arriving);
        self.arriving = back;
    }

    /// Reading resumed: the next poll phase takes reads again.
    pub(crate) fn resume_reads(&mut self) {
        self.reads_stopped = None;
    }

    /// Whether nothing runs before the check phase: what JavaScript would see after its
    /// tick queue drained and the poll phase ended.
    /// Whether pending-phase work was asked since the last [`Queue::take_pending_asks`].
    pub(crate) fn has_pending_asks(&self) -> bool {
        self.pending_asks > 0
    }

    /// How much pending-phase work was asked since the last call.
    pub(crate) fn take_pending_asks(&mut self) -> u32 {
        std::mem::take(&mut self.pending_asks)
    }

    /// Whether something runs before this machine's pending-phase work: outputs, next
    /// ticks, or the rest of the poll phase in progress.
    pub(crate) fn has_work_before_pending(&self) -> bool {
        !self.out.is_empty() || !self.ticks.is_empty() || (self.polling && !self.polled.is_empty())
    }

    /// The loop's poll phase is in progress: work waiting for the next iteration's
    /// pending phase runs right after it instead.
    pub(crate) fn pending_after_this_poll_phase(&mut self) {
        self.pending.append(&mut self.next_pending);
    }

    /// Lets one pending-phase work run at the next step (see [`Queue::pop_tick_work`]).
    pub(crate) fn grant_pending(&mut self) {
        self.grants = self.grants.saturating_add(1);
    }

    /// Whether pending-phase work waits, due now or in the next iteration.
    pub(crate) fn has_pending_work(&self) -> bool {
        !self.pending.is_empty() || !self.next_pending.is_empty()
    }

    /// Whether pending-phase work is due now.
    pub(crate) fn has_pending_due(&self) -> bool {
        !self.pending.is_empty()
    }

    pub(crate) fn ticks_drained(&self) -> bool {
        self.out.is_empty() && self.ticks.is_empty() && self.pending.is_empty() && !self.polling
    }

    /// Whether a poll phase could take a fact that arrived (reads wait while reading is
    /// stopped).
    fn has_takeable_facts(&self) -> bool {
        match self.reads_stopped {
            None => !self.arriving.is_empty(),
            Some(is_read) => self.arriving.iter().any(|(d, _)| !is_read(d)),
        }
    }

    /// Whether nothing at all is pending.
    pub(crate) fn is_idle(&self) -> bool {
        self.out.is_empty()
            && self.ticks.is_empty()
            && self.pending.is_empty()
            && !self.has_takeable_facts()
            && self.polled.is_empty()
            && self.closing.is_empty()
            && self.next_pending.is_empty()
            && !self.polling
    }

    /// Gives back the memory of the queues that are empty: a socket that waits (an idle
    /// connection) holds no queue capacity from its last burst of work.
    pub(crate) fn release_spare(&mut self) {
        release(&mut self.out);
        release(&mut self.ticks);
        release(&mut self.pending);
        release(&mut self.arriving);
        release(&mut self.polled);
        release(&mut self.closing);
        release(&mut self.next_pending);
    }

    /// Drops deferred work that no longer applies.
    pub(crate) fn retain_deferred(&mut self, mut keep: impl FnMut(&D) -> bool) {
        self.ticks.retain(&mut keep);
        self.pending.retain(&mut keep);
        self.arriving.retain(|(d, _)| keep(d));
        self.polled.retain(|(d, _)| keep(d));
        self.closing.retain(&mut keep);
        self.next_pending.retain(&mut keep);
    }
}

#[cfg(test)]
impl<O, D> Queue<O, D> {
    /// The capacity its queues hold, in elements.
    pub(crate) fn held_capacity(&self) -> usize {
        self.out.capacity()
            + self.ticks.capacity()
            + self.pending.capacity()
            + self.arriving.capacity()
            + self.polled.capacity()
            + self.closing.capacity()
            + self.next_pending.capacity()
    }
}

/// Frees an empty queue's buffer.
pub(crate) fn release<T>(q: &mut VecDeque<T>) {
    if q.is_empty() && q.capacity() > 0 {
        *q = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::Queue;

    fn drain(q: &mut Queue<(), &'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| q.pop_deferred()).collect()
    }

    #[test]
    fn a_poll_phase_takes_the_facts_that_arrived_before_it() {
        let mut q = Queue::<(), &str>::default();
        q.fact("data", true);
        q.pending("finish (asked in the check phase)");
        q.closing("close");
        q.next_tick("tick");
        assert_eq!(
            drain(&mut q),
            ["tick", "finish (asked in the check phase)", "close", "data"]
        );
        assert!(q.is_idle());
    }

    #[test]
    fn pending_work_deferred_by_a_fact_runs_after_the_whole_poll_phase() {
        let mut q = Queue::<(), &str>::default();
        q.fact("data", false);
        q.fact("eof", true);
        assert_eq!(q.pop_deferred(), Some("data"));
        assert!(q.polling());
        q.pending("finish");
        q.fact("next poll", true);
        q.next_tick("tick of data");
        assert_eq!(q.pop_until_check(), Some("tick of data"));
        assert_eq!(q.pop_until_check(), Some("eof"));
        assert_eq!(q.pop_until_check(), Some("finish"));
        assert_eq!(q.pop_until_check(), None);
        assert!(!q.polling());
        assert_eq!(drain(&mut q), ["next poll"]);
    }

    #[test]
    fn in_a_shared_loop_pending_work_waits_for_the_next_iteration() {
        let mut q = Queue::<(), &str>::default();
        q.share_loop();
        q.pending("finish (asked in the check phase)");
        q.closing("close");
        assert_eq!(
            q.pop_until_check(),
            None,
            "the next iteration has not begun"
        );
        assert!(q.ticks_drained() && !q.is_idle());
        assert_eq!(q.pop_deferred(), Some("close"));
        assert!(q.start_iteration());
        assert_eq!(
            q.pop_until_check(),
            Some("finish (asked in the check phase)")
        );
        assert!(q.is_idle());
    }

    #[test]
    fn a_poll_phase_ends_after_a_fact_that_ends_reading() {
        let mut q = Queue::<(), &str>::default();
        q.fact("short read", true);
        q.fact("eof", true);
        assert_eq!(q.pop_deferred(), Some("short read"));
        q.pending("finish");
        assert_eq!(drain(&mut q), ["finish", "eof"]);
    }
}
