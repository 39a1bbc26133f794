//! When a driver's blocking call (or a task's future) on a socket is over: the rules of
//! `connect()` resolving, a write waiting for `'drain'`, a flush and a shutdown waiting
//! for `'finish'`, decided once for every driver from the socket's state and the events
//! its application has not taken yet.

use super::{Socket, SocketEvent};

/// What a handle waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The connect's outcome: `'connect'`, or the socket destroyed.
    Connect,
    /// A `write()` would return true again (no `'drain'` owed).
    Drain,
    /// Every byte written taken by the OS (`writableLength` is 0).
    Flush,
    /// `'finish'`: the FIN left after everything written.
    Finish,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// What was waited for happened (or the application must take its events first).
    Done,
    /// The socket was destroyed first: the waiter gets its error (once `'error'` was
    /// emitted, a tick after the destroy) or a closed socket.
    Destroyed,
}

impl Socket {
    /// Whether a wait of the application on this socket is over (`None`: still waiting),
    /// given the events it has not taken yet.
    ///
    /// A drain or flush wait also ends once the peer's `'end'` waits to be taken: the
    /// application must take the events before it (and write their echoes) before that
    /// `'end'` has its consequences (the automatic `end()` without `allowHalfOpen`), as
    /// Node's `'data'` listeners all run before `'end'`. A connect wait ends at a
    /// `'connect'` not taken yet, since the events up to it stay readable.
    pub fn wait_over<'a>(
        &self,
        wait: Wait,
        untaken: impl IntoIterator<Item = &'a SocketEvent>,
    ) -> Option<WaitEnd> {
        let mut untaken = untaken.into_iter();
        let done = match wait {
            Wait::Connect => {
                if untaken.any(|e| matches!(e, SocketEvent::Connect)) {
                    return Some(WaitEnd::Done);
                }
                // Connected: not merely no longer connecting (a failed attempt's socket
                // is neither connecting nor destroyed until its `destroy(ex)` runs).
                !self.destroyed() && matches!(self.conn, super::Conn::Open { .. })
            }
            Wait::Drain => {
                !self.destroyed()
                    && ((!self.writable_need_drain() && self.write_return_value())
                        || untaken.any(|e| matches!(e, SocketEvent::End)))
            }
            Wait::Flush => {
                self.writable_length() == 0
                    || (!self.destroyed() && untaken.any(|e| matches!(e, SocketEvent::End)))
            }
            Wait::Finish => self.writable_finished(),
        };
        if done {
            Some(WaitEnd::Done)
        } else if self.destroyed() {
            Some(WaitEnd::Destroyed)
        } else {
            None
        }
    }

    /// Whether no event will ever come again (destroyed, and nothing left to emit): a
    /// handle waiting for the next event gets none.
    pub fn emits_no_more(&self) -> bool {
        self.destroyed() && self.is_idle()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{ConnectOptions, SocketOptions};
    use crate::time::Instant;

    #[test]
    fn waits_end_as_the_rules_say() {
        let mut s = Socket::new(&SocketOptions::default());
        let now = Instant::ZERO;
        s.connect(now, &ConnectOptions::tcp("127.0.0.1", 9));
        // Connecting: a connect wait goes on, unless 'connect' waits to be taken.
        assert_eq!(s.wait_over(Wait::Connect, &[]), None);
        assert_eq!(
            s.wait_over(Wait::Connect, &[SocketEvent::Connect]),
            Some(WaitEnd::Done)
        );
        // Nothing written: a drain and a flush are over; a finish is not.
        assert_eq!(s.wait_over(Wait::Drain, &[]), Some(WaitEnd::Done));
        assert_eq!(s.wait_over(Wait::Flush, &[]), Some(WaitEnd::Done));
        assert_eq!(s.wait_over(Wait::Finish, &[]), None);
        // Past the high-water mark: a drain waits, unless the peer's 'end' waits to be
        // taken first.
        s.write(now, vec![0u8; 64 * 1024].into());
        assert_eq!(s.wait_over(Wait::Drain, &[]), None);
        assert_eq!(s.wait_over(Wait::Flush, &[]), None);
        assert_eq!(
            s.wait_over(Wait::Drain, &[SocketEvent::End]),
            Some(WaitEnd::Done)
        );
        assert_eq!(
            s.wait_over(Wait::Flush, &[SocketEvent::End]),
            Some(WaitEnd::Done)
        );
        // Destroyed: every unfinished wait ends with the error.
        s.destroy(None);
        for w in [Wait::Connect, Wait::Drain, Wait::Finish] {
            assert_eq!(
                s.wait_over(w, &[SocketEvent::End]),
                Some(WaitEnd::Destroyed),
                "{w:?}"
            );
        }
    }
}
