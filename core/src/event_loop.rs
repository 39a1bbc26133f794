//! The phases of Node's event loop that every socket of a loop goes through at once.
//!
//! After the check phase (a `setImmediate` callback) libuv runs the closing phase (each
//! socket's `'close'`), then the next iteration: its pending phase (work deferred to it,
//! such as a shutdown asked with nothing queued), one poll of the OS, and the poll phase
//! that hands every socket the facts taken in before it. [`Phases`] decides that order
//! once, for every driver that shares one loop between its sockets (sansnet-std's loop,
//! the simulator); the driver carries out each step through [`LoopIo`].
//!
//! ```
//! use sansnet::event_loop::{LoopIo, Phases};
//!
//! /// A loop whose one socket has a `'close'` to emit and nothing else.
//! struct OneClose(Vec<&'static str>, bool);
//!
//! impl LoopIo for OneClose {
//!     fn run_closing(&mut self) -> bool {
//!         let had = std::mem::take(&mut self.1);
//!         if had {
//!             self.0.push("close");
//!         }
//!         had
//!     }
//!     fn start_iteration(&mut self) -> bool {
//!         self.0.push("pending");
//!         false
//!     }
//!     fn poll_os(&mut self, _first: bool) -> bool {
//!         self.0.push("poll");
//!         false
//!     }
//!     fn start_poll_phase(&mut self) -> bool {
//!         self.0.push("poll phase");
//!         false
//!     }
//! }
//!
//! let mut phases = Phases::new();
//! let mut io = OneClose(Vec::new(), true);
//! assert!(phases.later_phases(&mut io)); // the closing phase ran a 'close'
//! assert!(phases.immediate_reaches_later_phases()); // a setImmediate now waits for the next iteration
//! assert!(!phases.later_phases(&mut io)); // nothing else: a new iteration, polled, its poll phase
//! assert_eq!(io.0, ["close", "pending", "poll", "poll phase"]);
//! ```

/// Where the loop is after the check phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// This iteration's closing phase, then the next iteration's pending phase.
    #[default]
    Closing,
    /// The next iteration's pending phase ran: its poll of the OS and poll phase come next.
    Pending,
}

/// What a driver does for [`Phases`], for every socket of its loop at once.
pub trait LoopIo {
    /// Runs the closing phase of the first socket that has closing work
    /// ([`crate::socket::Socket::has_closing_work`]); whether one did.
    fn run_closing(&mut self) -> bool;
    /// A new iteration's pending phase begins for every socket
    /// ([`crate::socket::Socket::start_iteration`]); whether any had work.
    fn start_iteration(&mut self) -> bool;
    /// The iteration's poll of the OS, before its poll phase (`first`: the first this
    /// iteration; a driver may look again while reads are waiting). True when it reported
    /// sources (a connect's outcome, a listener's connections) to handle first.
    fn poll_os(&mut self, first: bool) -> bool;
    /// The poll phase begins for every socket with the facts taken in before it
    /// ([`crate::socket::Socket::start_poll_phase`]); whether any had work.
    fn start_poll_phase(&mut self) -> bool;
}

/// The loop's position among the phases after the check phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phases {
    stage: Stage,
    /// Closing work ran since the last poll phase began: the next check phase comes after
    /// the next iteration's pending and poll phases.
    past_check: bool,
    /// This iteration's poll of the OS was made.
    polled: bool,
}

impl Phases {
    /// A loop in its first iteration's poll phase.
    pub fn new() -> Phases {
        Phases::default()
    }

    /// The phases after the check phase, one step: the closing phase (one socket's
    /// `'close'`), else a new iteration's pending phase, else its poll of the OS and its
    /// poll phase. Returns whether something ran (false: nothing until the OS or the
    /// clock says more).
    pub fn later_phases(&mut self, io: &mut impl LoopIo) -> bool {
        loop {
            match self.stage {
                Stage::Closing => {
                    if io.run_closing() {
                        self.past_check = true;
                        return true;
                    }
                    self.stage = Stage::Pending;
                    self.polled = false;
                    if io.start_iteration() {
                        return true;
                    }
                }
                Stage::Pending => {
                    let first = !self.polled;
                    self.polled = true;
                    if io.poll_os(first) {
                        return true;
                    }
                    return self.begin_poll_phase(io);
                }
            }
        }
    }

    /// The poll phase begins for every socket at once; the closing phase comes next.
    pub fn begin_poll_phase(&mut self, io: &mut impl LoopIo) -> bool {
        self.polled = false;
        self.stage = Stage::Closing;
        self.past_check = false;
        io.start_poll_phase()
    }

    /// An OS source (a connect's outcome, a listener's connections) is about to be
    /// handled. That happens in a poll phase: in a new iteration whose pending phase ran,
    /// that iteration's poll phase begins first.
    pub fn source_ready(&mut self, io: &mut impl LoopIo) {
        if self.stage == Stage::Pending {
            self.begin_poll_phase(io);
        }
    }

    /// Whether what runs before a `setImmediate` callback includes the later phases: the
    /// callback was scheduled past the check phase (from closing work), or in a new
    /// iteration's pending phase before its poll of the OS (its check phase comes after
    /// that poll phase).
    pub fn immediate_reaches_later_phases(&self) -> bool {
        self.past_check || (self.stage == Stage::Pending && !self.polled)
    }

    /// The application scheduled a `setImmediate` from the check phase: it runs after this
    /// iteration's closing phase and the next iteration's pending and poll phases. A poll
    /// phase whose OS poll was taken but whose sockets were not told yet begins first.
    pub fn immediate_from_check(&mut self, io: &mut impl LoopIo) {
        if self.stage == Stage::Pending && self.polled {
            self.begin_poll_phase(io);
        }
        self.past_check = true;
    }
}

/// The order in which a loop's sockets asked for pending-phase work. libuv keeps one
/// pending queue for the loop: shutdowns asked by two sockets run in the order asked
/// (and what the first one's callbacks do, such as a `'finish'` listener writing to the
/// other socket, comes before the second), whatever the sockets' order in the driver.
///
/// The driver notes a socket ([`PendingOrder::note`]) right after carrying out its
/// outputs. A socket of a shared loop runs pending-phase work only when granted
/// ([`Socket::grant_pending`](crate::socket::Socket::grant_pending)): once no socket has
/// work before its pending-phase work
/// ([`Socket::has_work_before_pending`](crate::socket::Socket::has_work_before_pending)),
/// the driver asks [`PendingOrder::next`] which socket goes next and grants it one.
///
/// ```
/// use sansnet::event_loop::PendingOrder;
///
/// let mut order = PendingOrder::default();
/// order.noted(3, 1);
/// order.noted(1, 1);
/// // Socket 3 asked first; both have work due and may run.
/// assert_eq!(order.next(|_| true, |_| true), Some(3));
/// // Socket 3 asked again, but its application holds it back for now: 1 goes first,
/// // and 3 keeps its place.
/// order.noted(3, 1);
/// assert_eq!(order.next(|_| true, |i| i != 3), Some(1));
/// assert_eq!(order.next(|_| true, |_| true), Some(3));
/// assert_eq!(order.next(|_| true, |_| true), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PendingOrder {
    asks: std::collections::VecDeque<usize>,
}

impl PendingOrder {
    /// Notes the pending-phase work that socket `i` asked for since its last note (the
    /// driver looks when [`Socket::has_pending_asks`](crate::socket::Socket::has_pending_asks)
    /// says there is some). While the loop polls (`loop_polls`: some socket's poll phase
    /// is in progress, [`Socket::polls`](crate::socket::Socket::polls)) that work runs
    /// right after the poll phase, as libuv runs its one pending queue again after
    /// polling, even for a socket that had nothing to poll.
    pub fn note(&mut self, i: usize, socket: &mut crate::socket::Socket, loop_polls: bool) {
        let n = socket.take_pending_asks();
        if n == 0 {
            return;
        }
        if socket.polls() || loop_polls {
            socket.pending_after_this_poll_phase();
        }
        self.noted(i, n);
    }

    /// Notes `n` asks of socket `i` (see [`PendingOrder::note`]).
    pub fn noted(&mut self, i: usize, n: u32) {
        for _ in 0..n {
            self.asks.push_back(i);
        }
    }

    /// The socket whose pending-phase work runs next: the earliest ask of a socket whose
    /// work `runs` now (it is due, and the application does not hold the socket back;
    /// the others do not wait for a held one). Asks of sockets that no longer `keep`
    /// pending-phase work (it ran with an earlier grant, or a destroy voided it) are
    /// dropped. Each answer uses up one ask.
    pub fn next(
        &mut self,
        mut keep: impl FnMut(usize) -> bool,
        mut runs: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        self.asks.retain(|&i| keep(i));
        let at = self.asks.iter().position(|&i| runs(i))?;
        self.asks.remove(at)
    }

    /// [`PendingOrder::next`] over a driver's sockets: `socket(i)` gives socket `i` (if it
    /// still exists) and whether its application lets it run.
    pub fn next_socket<'a>(
        &mut self,
        socket: impl Fn(usize) -> Option<(&'a crate::socket::Socket, bool)>,
    ) -> Option<usize> {
        self.next(
            |i| socket(i).is_some_and(|(s, _)| s.has_pending_work()),
            |i| socket(i).is_some_and(|(s, runs)| runs && s.has_pending_due()),
        )
    }

    /// The driver chose `socket` for its next step before the check phase: if what it
    /// has next is pending-phase work, that is its turn in the queue, granted here.
    pub fn take_turn(socket: &mut crate::socket::Socket) {
        if socket.has_pending_due() && !socket.has_work_before_pending() {
            socket.grant_pending();
        }
    }

    /// Forgets socket `i` (its slot is reused).
    pub fn forget(&mut self, i: usize) {
        self.asks.retain(|&j| j != i);
    }
}
