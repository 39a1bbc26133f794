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
