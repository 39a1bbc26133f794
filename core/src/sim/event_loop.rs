//! One iteration of Node's loop for every machine at once: ticks, OS completions due,
//! the closing, pending and poll phases, and the clock.

use super::*;
use crate::event_loop::LoopIo;

/// The simulator's machines as [`Phases`](crate::event_loop::Phases) drives them.
struct SimIo<'a>(&'a mut Sim);

impl LoopIo for SimIo<'_> {
    fn run_closing(&mut self) -> bool {
        let sim = &mut *self.0;
        let closing = (0..sim.sockets.len())
            .find(|&i| !sim.sockets[i].retired && sim.sockets[i].socket.has_closing_work());
        match closing {
            Some(i) => {
                sim.drain_socket(SocketHandle(i), true);
                true
            }
            None => false,
        }
    }

    fn start_iteration(&mut self) -> bool {
        let mut any = false;
        for s in self.0.sockets.iter_mut().filter(|s| !s.retired) {
            any |= s.socket.start_iteration();
        }
        any
    }

    /// The simulated kernel has nothing to poll: its segments are in the sockets'
    /// facts already.
    fn poll_os(&mut self, _first: bool) -> bool {
        false
    }

    /// With the lookups answered by now (the resolver's threads report in a poll phase).
    fn start_poll_phase(&mut self) -> bool {
        // The bytes the last poll phase read left the readers' kernels: their senders'
        // writes waiting for room go on, and what completes reaches this poll phase
        // (libuv sees the room at this iteration's poll of the OS).
        for ep in 0..self.0.net.endpoints.len() {
            if !self.0.net.endpoints[ep].backlog.is_empty() {
                self.0.pump(ep, false);
            }
        }
        let mut any = self.0.deliver_lookups();
        for s in self.0.sockets.iter_mut().filter(|s| !s.retired) {
            any |= s.socket.start_poll_phase();
        }
        any
    }
}

impl Sim {
    /// Whether some machine has deferred work (Node's ticks) or undelivered outputs.
    pub(super) fn has_pending_work(&self) -> bool {
        self.sockets
            .iter()
            .any(|s| !s.retired && !s.socket.is_idle())
            || self.servers.iter().any(|s| !s.server.is_idle())
    }

    /// The loop's phases after the check phase, for every machine at once, one step
    /// ([`Phases::later_phases`](crate::event_loop::Phases::later_phases)): the closing phase (each socket's `'close'`), then the
    /// next iteration's pending phase, then its poll phase with the facts that arrived
    /// before it. Returns whether something ran.
    pub(super) fn later_phases(&mut self) -> bool {
        let mut phases = self.phases;
        let ran = phases.later_phases(&mut SimIo(self));
        self.phases = phases;
        ran
    }

    /// An OS completion is handled in a poll phase ([`Phases::source_ready`](crate::event_loop::Phases::source_ready)).
    fn source_ready(&mut self) {
        let mut phases = self.phases;
        phases.source_ready(&mut SimIo(self));
        self.phases = phases;
    }

    /// Runs deferred work until a machine emits an event for the application (which must
    /// react before anything else happens, as a JavaScript listener runs before the next
    /// tick) or all machines are quiet.
    pub(super) fn run_deferred(&mut self) {
        while self.observed.is_empty() {
            let socket = (0..self.sockets.len())
                .find(|&i| !self.sockets[i].retired && !self.sockets[i].socket.is_idle());
            if let Some(i) = socket {
                self.drain_socket(SocketHandle(i), true);
                continue;
            }
            let server = (0..self.servers.len()).find(|&i| !self.servers[i].server.is_idle());
            match server {
                Some(i) => self.drain_server(ServerHandle(i), true),
                None => return,
            }
        }
    }

    /// The next moment something happens: a packet or a machine's deadline.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let packet = self.queue.keys().next().map(|(t, _)| *t);
        let timers = self
            .sockets
            .iter()
            .filter_map(|s| s.socket.poll_timeout())
            .min();
        match (packet, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The first steps of a turn, all before the check phase: an event the application
    /// has not taken yet, the ticks and the rest of a poll phase in progress, an OS
    /// completion due now. Returns whether one ran (the turn ends there).
    fn up_to_check(&mut self) -> bool {
        self.settle();
        if !self.observed.is_empty() {
            return true;
        }
        if self.run_until_check() {
            return true;
        }
        if self.deliver_due() {
            return true;
        }
        false
    }

    /// One turn of the loop, stopping at the first event the application observes (the
    /// caller takes it with [`Sim::take_observed`] and reacts between turns), in the order
    /// of Node's loop: the ticks after the last callback and the rest of a poll phase in
    /// progress; OS completions due now (connects, accepts, lookups, listens); then each
    /// machine's next phases (closing, pending, its next poll phase); else the clock jumps
    /// to the next packet or timer due no later than `limit`. Returns false when nothing
    /// happens before `limit`.
    pub fn turn(&mut self, limit: Instant) -> bool {
        if self.up_to_check() {
            return true;
        }
        if self.later_phases() {
            self.settle();
            return true;
        }
        if self.has_pending_work() {
            self.run_deferred();
            self.settle();
            return true;
        }
        let Some(at) = self.next_wakeup() else {
            return false;
        };
        if at > limit {
            return false;
        }
        self.now = self.now.max(at);
        if self.deliver_due() {
            return true;
        }
        for i in 0..self.sockets.len() {
            if self.sockets[i]
                .socket
                .poll_timeout()
                .is_some_and(|d| d <= self.now)
            {
                let now = self.now;
                self.sockets[i].socket.handle_timeout(now);
                self.drain_socket(SocketHandle(i), false);
            }
        }
        self.settle();
        true
    }

    /// Delivers the first packet due now, if any.
    pub(super) fn deliver_due(&mut self) -> bool {
        let now = self.now;
        let due = self
            .queue
            .iter()
            .take_while(|(k, _)| k.0 <= now)
            .find(|(_, p)| !is_lookup(p))
            .map(|(k, _)| *k);
        match due {
            Some(key) => {
                self.source_ready();
                if let Some(p) = self.queue.remove(&key) {
                    self.deliver(p);
                }
                self.settle();
                true
            }
            None => false,
        }
    }

    /// Delivers the lookups answered by now: the resolver's thread pool reports them in a
    /// poll phase, so they come with the next iteration's poll, after this one's closing
    /// phase (a socket destroyed during its lookup has emitted `'close'` by then).
    pub(super) fn deliver_lookups(&mut self) -> bool {
        let now = self.now;
        let due: Vec<(Instant, u64)> = self
            .queue
            .iter()
            .take_while(|(k, _)| k.0 <= now)
            .filter(|(_, p)| is_lookup(p))
            .map(|(k, _)| *k)
            .collect();
        for key in &due {
            if let Some(p) = self.queue.remove(key) {
                self.deliver(p);
            }
        }
        self.settle();
        !due.is_empty()
    }

    /// Notes the pending-phase work socket `i` asked for
    /// ([`PendingOrder::note`](crate::event_loop::PendingOrder::note)).
    pub(super) fn note_pending(&mut self, i: usize) {
        if !self.sockets[i].socket.has_pending_asks() {
            return;
        }
        let polls = self.sockets.iter().any(|s| s.socket.polls());
        (self.pending_order).note(i, &mut self.sockets[i].socket, polls);
    }

    /// Runs what comes before the check phase on the first machine that has some (ticks,
    /// the rest of its poll phase), until the application observes an event.
    pub(super) fn run_until_check(&mut self) -> bool {
        // Ticks and the poll phase in progress, then pending work in the order asked.
        // Pending work runs once the OS sources due now (the poll's other completions)
        // were handled.
        let now = self.now;
        let sources_due = (self.queue.iter())
            .take_while(|(k, _)| k.0 <= now)
            .any(|(_, p)| !is_lookup(p));
        let sockets = &self.sockets;
        let live = |i: usize| !sockets[i].retired;
        let order = &mut self.pending_order;
        let first = (0..sockets.len())
            .find(|&i| live(i) && sockets[i].socket.has_work_before_pending())
            .or_else(|| {
                if sources_due {
                    return None;
                }
                order
                    .next_socket(|i| sockets.get(i).map(|s| (&s.socket, !s.retired)))
                    .or_else(|| {
                        (0..sockets.len()).find(|&i| live(i) && !sockets[i].socket.ticks_drained())
                    })
            });
        let Some(i) = first else {
            // A server's deferred work is all next-tick work.
            let Some(i) = (0..self.servers.len()).find(|&i| !self.servers[i].server.is_idle())
            else {
                return false;
            };
            self.drain_server(ServerHandle(i), true);
            self.settle();
            return true;
        };
        let h = SocketHandle(i);
        crate::event_loop::PendingOrder::take_turn(&mut self.sockets[i].socket);
        while self.observed.is_empty() {
            match self.sockets[i].socket.poll_tick_output() {
                None => break,
                Some(Output::Event(e)) => {
                    self.observe(h, e);
                    // The application reacts before the next deferred work runs.
                    while let Some(o) = self.sockets[i].socket.poll_emitted() {
                        match o {
                            Output::Event(e) => self.observe(h, e),
                            Output::Io(io) => self.socket_io(h, io),
                        }
                    }
                }
                Some(Output::Io(io)) => self.socket_io(h, io),
            }
        }
        self.note_pending(i);
        self.settle();
        true
    }

    /// Like [`Sim::turn`] up to the current time, but only up to the loop's next check
    /// phase: what runs before a `setImmediate` callback in Node. Scheduled during the
    /// poll phase (or its ticks), that is this iteration's check phase; scheduled from the
    /// closing phase, the next iteration's, after its pending and poll phases.
    pub fn turn_immediate(&mut self) -> bool {
        if self.up_to_check() {
            return true;
        }
        if self.phases.immediate_reaches_later_phases() && self.later_phases() {
            self.settle();
            return true;
        }
        false
    }

    /// Says that the application's `setImmediate` was scheduled from the check phase: it
    /// runs in the next iteration's check phase, so the following
    /// [`Sim::turn_immediate`] calls also run this iteration's closing phase and the next
    /// iteration's pending and poll phases.
    pub fn immediate_from_check(&mut self) {
        let mut phases = self.phases;
        phases.immediate_from_check(&mut SimIo(self));
        self.phases = phases;
    }

    /// Moves the clock to `at` (after the turns up to it were taken).
    pub fn advance_clock(&mut self, at: Instant) {
        self.now = self.now.max(at);
    }
}
