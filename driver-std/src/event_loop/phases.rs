//! The loop's sockets and the OS as the core's [`Phases`](sansnet::event_loop::Phases)
//! drive them: the phases after the check phase (closing, pending, the one OS poll, the
//! poll phase) carried out for every socket at once.

use sansnet::event_loop::LoopIo;
use sansnet::socket::Socket as Core;
use sansnet::Instant;

use super::{Loop, Mode};

/// The loop's sockets and the OS as the core's
/// [`Phases`](sansnet::event_loop::Phases) drive them.
pub(super) struct StdIo<'a> {
    pub(super) lp: &'a mut Loop,
    pub(super) now: Instant,
}

impl LoopIo for StdIo<'_> {
    fn run_closing(&mut self) -> bool {
        let lp = &mut *self.lp;
        let closing = lp
            .active
            .iter()
            .copied()
            .find(|&i| lp.sockets[i].core.has_closing_work() && lp.may_run(i));
        match closing {
            Some(i) => {
                lp.drain_socket(i, Mode::All, self.now);
                true
            }
            None => false,
        }
    }

    fn start_iteration(&mut self) -> bool {
        begin_for_all(
            self.lp,
            Core::waits_for_next_iteration,
            Core::start_iteration,
        )
    }

    /// Polls the OS once per iteration (again while reads wait) when this thread polls
    /// it; else reads what the reactor thread reported.
    fn poll_os(&mut self, first: bool) -> bool {
        let lp = &mut *self.lp;
        if lp.polls_os && (first || !lp.readable.is_empty()) {
            let mut ready = std::mem::take(&mut lp.ready_buf);
            lp.reactor.wait(Some(std::time::Duration::ZERO), &mut ready);
            lp.absorb(&mut ready, self.now);
            lp.ready_buf = ready;
            return !lp.ready.is_empty();
        }
        if !lp.readable.is_empty() {
            lp.read_readable(self.now);
        }
        false
    }

    fn start_poll_phase(&mut self) -> bool {
        begin_for_all(
            self.lp,
            Core::has_facts_for_poll_phase,
            Core::start_poll_phase,
        )
    }
}

/// Begins a phase (`begin`) for every active socket that has work for it (`has`, a cheap
/// look first) and may run; whether any began. Every socket may change, so the next scan
/// for next ticks starts at the first.
fn begin_for_all(lp: &mut Loop, has: fn(&Core) -> bool, begin: fn(&mut Core) -> bool) -> bool {
    lp.floor = 0;
    let mut any = false;
    for &i in &lp.active {
        let e = &mut lp.sockets[i];
        if has(&e.core) && e.may_run(lp.serves_all) && begin(&mut e.core) {
            any = true;
        }
    }
    any
}

/// libuv's one pending queue for the loop's sockets ([`sansnet::event_loop::PendingOrder`]).
impl Loop {
    /// Notes the pending-phase work socket `i` asked for ([`PendingOrder::note`]).
    pub(crate) fn note_pending(&mut self, i: usize) {
        if !self
            .sockets
            .get(i)
            .is_some_and(|e| e.core.has_pending_asks())
        {
            return;
        }
        let sockets = &self.sockets;
        let polls = (self.active.iter()).any(|&j| sockets.get(j).is_some_and(|e| e.core.polls()));
        self.pending_order.note(i, &mut self.sockets[i].core, polls);
    }

    /// The socket whose pending-phase work runs next, once the sources the OS reported
    /// (the poll's other completions) were handled: the earliest ask of a socket that may
    /// run, else any socket with such work left.
    pub(super) fn next_pending_socket(&mut self) -> Option<usize> {
        if !self.ready.is_empty() {
            return None;
        }
        let (sockets, all) = (&self.sockets, self.serves_all);
        let asked =
            (self.pending_order).next_socket(|i| sockets.get(i).map(|e| (&e.core, e.may_run(all))));
        asked.or_else(|| {
            (self.active.range(self.floor..).copied())
                .find(|&i| !sockets[i].core.ticks_drained() && sockets[i].may_run(all))
        })
    }
}
