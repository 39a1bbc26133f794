//! The robustness invariants of sockets and servers, written once and shared by the fuzz
//! targets (`fuzz/`), the seeded fault sweep (`sim-sweep` in the tests crate) and any test
//! that drives the state machines.
//!
//! Each checker panics with a message naming the broken rule (the fuzzers and the sweep
//! catch the panic and report the input or seed):
//!
//! - [`SocketChecker`]: the event rules of one socket, fed its outputs as they are pulled
//!   (`'close'` exactly once and last; `'error'` at most once and before `'close'`; `'end'`
//!   at most once and only after an orderly FIN; `'connect'` before any `'data'`; no I/O
//!   after the connection was closed);
//! - [`socket_state`]: `readyState`, `pending`, `connecting`, `destroyed` and the stream
//!   flags agree with each other; [`deadline_after`]: `poll_timeout()` is never in the
//!   past once `handle_timeout` ran;
//! - [`ServerChecker`]: `'drop'` only for `maxConnections`, never for a blockList refusal;
//!   connections never above `maxConnections` when one is admitted; `'close'` only with
//!   no connection counted;
//! - [`SimChecker`]: all of the above for every socket and server of a [`Sim`], plus the
//!   byte conservation of each connection (what a peer received is, in order, what
//!   `write()` accepted on the other side, all of it by the peer's `'end'` unless the
//!   writer was destroyed before finishing) and a bound on the outputs of one input.
//!
//! Nothing here reads a clock, a socket or a global: the checkers are as pure as the core.
//!
//! [`Sim`]: super::Sim

mod server;
mod sim;
mod socket;
#[cfg(test)]
mod tests;

pub use server::ServerChecker;
pub use sim::{SimChecker, StreamStats};
pub use socket::SocketChecker;

use crate::socket::{ReadyState, Socket};
use crate::time::Instant;

/// The most outputs one input (one application call, completion or turn) may produce:
/// more means a loop that feeds itself.
pub const MAX_OUTPUTS_PER_INPUT: usize = 10_000;

/// Fails when one input produced more than [`MAX_OUTPUTS_PER_INPUT`] outputs.
pub fn bounded_outputs(n: usize) {
    assert!(
        n <= MAX_OUTPUTS_PER_INPUT,
        "one input produced {n} outputs (more than {MAX_OUTPUTS_PER_INPUT}): unbounded"
    );
}

/// `readyState`, `pending`, `connecting`, `destroyed`, `bufferSize` and the stream flags
/// of a socket agree with each other, as they do in Node.
pub fn socket_state(s: &Socket) {
    let state = s.ready_state();
    if s.destroyed() {
        assert_eq!(state, ReadyState::Closed, "destroyed but {state:?}");
        assert!(s.pending(), "destroyed but not pending");
        assert!(!s.connecting(), "destroyed and connecting");
        assert!(s.buffer_size().is_none(), "destroyed with a bufferSize");
        assert!(!s.readable(), "destroyed and readable");
        assert!(!s.writable(), "destroyed and writable");
        assert!(s.local_address().is_none(), "destroyed with a localAddress");
    }
    if s.connecting() {
        assert_eq!(state, ReadyState::Opening, "connecting but {state:?}");
        assert!(s.pending(), "connecting but not pending");
    } else {
        assert_ne!(state, ReadyState::Opening, "Opening while not connecting");
    }
    if let Some(b) = s.buffer_size() {
        assert_eq!(b, s.writable_length(), "bufferSize is not writableLength");
    }
    if s.writable_ended() {
        assert!(!s.writable(), "writable after end()");
    }
    if s.writable_finished() {
        assert!(s.writable_ended(), "finished without end()");
    }
    if s.readable_ended() {
        assert!(!s.readable(), "readable after 'end'");
    }
}

/// Once `handle_timeout(now)` ran, the socket's next deadline is after `now`.
pub fn deadline_after(s: &Socket, now: Instant) {
    if let Some(t) = s.poll_timeout() {
        assert!(
            t > now,
            "a deadline {t:?} not after now {now:?} once timeouts were handled"
        );
    }
}
