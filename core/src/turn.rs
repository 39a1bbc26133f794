//! JavaScript's run-to-completion: when a handle's deferred work (its next ticks, the
//! phases after them) may run while its application may still be reacting.
//!
//! In Node one thread runs every listener to its end before the loop goes on: a
//! `'data'` listener that writes and ends finishes its turn before the write's
//! completion, the `'end'` it caused or the next tick queued by it run. A driver whose
//! application runs on its own tasks or threads keeps that order by holding a handle's
//! deferred work back while the application is reacting to it. What the application is
//! doing with a handle is an [`Attention`]; whether the handle's work may run is
//! decided here, once, for every driver. I/O is never held back, only deferred work.
//!
//! The simulator (module `sim`, feature `sim`) runs every application as one JavaScript thread: the
//! [`Attention::one_reader`] case for every handle at once, so its loop stops at the first
//! event any application has not taken.
//!
//! ```
//! use sansnet::socket::SocketEvent;
//! use sansnet::turn::Attention;
//!
//! // The application took an event and has not waited since: it is still reacting.
//! let reacting = Attention { touched: true, ..Attention::default() };
//! assert!(!reacting.lets_socket_run(&[]));
//!
//! // It waits for the next event: the work runs until an event waits to be taken.
//! let taking = Attention { takes: true, ..reacting };
//! assert!(taking.lets_socket_run(&[]));
//! assert!(!taking.lets_socket_run(&[SocketEvent::End]));
//!
//! // Nobody will ever react to a dropped handle.
//! let dropped = Attention { dropped: true, ..reacting };
//! assert!(dropped.lets_socket_run(&[SocketEvent::End]));
//! ```

use crate::socket::SocketEvent;

/// What the application is doing with one handle (a socket or a server) right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attention {
    /// The handle is gone: nobody will react to anything any more.
    pub dropped: bool,
    /// The application's current turn touched the handle (made a call on it or took one
    /// of its events) and has not waited on anything since: it may still be reacting,
    /// as a JavaScript listener still runs. An accepted socket starts touched: its handle
    /// arrives inside `'connection'`, where Node code attaches its listeners.
    pub touched: bool,
    /// Someone waits for the handle's next event: their turn is over, so calls others
    /// make meanwhile do not hold its work back, but events not taken do (the waiter will
    /// react to them first).
    pub takes: bool,
    /// Someone is blocked on a condition of the handle (a shutdown's `'finish'`, a
    /// server's close): the application cannot be reacting to anything.
    pub blocked: bool,
    /// Someone waits for `'drain'` or a flush: the work runs (writes complete, `'drain'`
    /// comes) until the peer's `'end'` waits to be taken, whose consequences (the
    /// automatic `end()` without `allowHalfOpen`) come after the application took what
    /// came before it, as Node's `'data'` listeners all run, and write, before `'end'`.
    pub drains: bool,
    /// Someone waits for a connect's outcome: the work runs until an outcome
    /// (`'connect'`, `'error'`, `'close'`) waits to be taken.
    pub connects: bool,
    /// One thread takes every handle's events, as Node's one thread runs every
    /// listener: events not taken hold the work back even with nobody waiting for them,
    /// unless someone waits on the handle in a way that lets it go on (blocked, draining,
    /// connecting).
    pub one_reader: bool,
}

impl Attention {
    /// Whether a socket's deferred work may run now, `waiting` being its events the
    /// application has not taken yet, in order.
    pub fn lets_socket_run<'a, I>(&self, waiting: I) -> bool
    where
        I: IntoIterator<Item = &'a SocketEvent>,
        I::IntoIter: Clone,
    {
        if self.dropped || self.blocked {
            return true;
        }
        let waiting = waiting.into_iter();
        let any_waits = waiting.clone().next().is_some();
        if self.one_reader && any_waits && !self.drains && !self.connects {
            return false;
        }
        if self.drains && !waiting.clone().any(|e| matches!(e, SocketEvent::End)) {
            return true;
        }
        let outcome = |e: &SocketEvent| {
            matches!(
                e,
                SocketEvent::Connect | SocketEvent::Error(_) | SocketEvent::Close(_)
            )
        };
        if self.connects && !waiting.clone().any(outcome) {
            return true;
        }
        if self.connects || self.drains || self.takes {
            // Whoever waits reacts to the events first.
            !any_waits
        } else {
            !self.touched
        }
    }

    /// Whether a server's deferred work (its `'listening'`, `'close'`, connections to
    /// hand over) may run now, `events_wait` telling whether events the application has
    /// not taken wait.
    pub fn lets_server_run(&self, events_wait: bool) -> bool {
        self.dropped || self.blocked || self.takes || (!self.touched && !events_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NetError;

    fn error() -> SocketEvent {
        SocketEvent::Error(NetError::abort())
    }

    #[test]
    fn a_socket_nobody_attends_to_runs_even_with_events_waiting() {
        let idle = Attention::default();
        assert!(idle.lets_socket_run(&[]));
        // Events with nobody waiting for them are only kept to be read.
        assert!(idle.lets_socket_run(&[SocketEvent::End]));
    }

    #[test]
    fn a_reacting_application_holds_its_socket() {
        let touched = Attention {
            touched: true,
            ..Attention::default()
        };
        assert!(!touched.lets_socket_run(&[]));
        let blocked = Attention {
            blocked: true,
            ..touched
        };
        assert!(blocked.lets_socket_run(&[SocketEvent::End]));
    }

    #[test]
    fn a_drain_waiter_lets_work_run_until_the_end_waits() {
        let drains = Attention {
            drains: true,
            touched: true,
            ..Attention::default()
        };
        assert!(drains.lets_socket_run(&[]));
        assert!(drains.lets_socket_run(&[SocketEvent::Drain]));
        assert!(!drains.lets_socket_run(&[SocketEvent::Drain, SocketEvent::End]));
    }

    #[test]
    fn a_connect_waiter_lets_work_run_until_an_outcome_waits() {
        let connects = Attention {
            connects: true,
            ..Attention::default()
        };
        assert!(connects.lets_socket_run(&[SocketEvent::Ready]));
        for outcome in [SocketEvent::Connect, error()] {
            assert!(!connects.lets_socket_run(&[outcome]));
        }
    }

    #[test]
    fn one_reader_holds_work_behind_any_event_not_taken() {
        let one = Attention {
            one_reader: true,
            ..Attention::default()
        };
        assert!(one.lets_socket_run(&[]));
        assert!(!one.lets_socket_run(&[SocketEvent::Drain]));
        let draining = Attention {
            drains: true,
            ..one
        };
        assert!(draining.lets_socket_run(&[SocketEvent::Drain]));
    }

    #[test]
    fn a_server_runs_when_nobody_reacts_to_it() {
        assert!(Attention::default().lets_server_run(false));
        assert!(!Attention::default().lets_server_run(true));
        let touched = Attention {
            touched: true,
            ..Attention::default()
        };
        assert!(!touched.lets_server_run(false));
        assert!(Attention {
            takes: true,
            ..touched
        }
        .lets_server_run(true));
        assert!(Attention {
            dropped: true,
            ..touched
        }
        .lets_server_run(true));
    }
}
