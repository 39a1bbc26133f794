//! The crate manual's socket invariants, checked on the outputs of one socket as they are
//! pulled (shared by the fuzz targets, the sweep and [`super::SimChecker`]).
//!
//! Per life of a socket (a destroyed socket connected again starts a new one; what the old
//! life still owes — its `'error'` and `'close'` — may follow the new life's first events,
//! as in Node):
//! - `'close'` at most once, and last: after it only write and end callbacks (and
//!   `'lookup'`, which Node emits even for a socket destroyed during its lookup);
//! - `'error'` at most once, before `'close'`; `'end'`, `'connect'`, `'finish'` at most once;
//! - `'end'` only after an orderly FIN from the peer (when the driver says when one came:
//!   [`SocketChecker::with_fin_tracking`], [`SocketChecker::peer_fin`]);
//! - no `'data'` before `'connect'` (an accepted socket is connected from birth), none after
//!   `'end'`;
//! - a destroyed life has emitted `'close'` once everything was pulled;
//! - each write or end callback at most once;
//! - after the connection was closed (`Close`/`Reset`) the only I/O asked is the release
//!   from the server, and that at most once per accepted socket, never for a client.

use std::collections::BTreeSet;

use crate::socket::{Output, SocketEvent, SocketIo, WriteId};

/// What one life of a socket emitted.
#[derive(Debug, Default)]
struct Life {
    closes: usize,
    errors: usize,
    ends: usize,
    connects: usize,
    finishes: usize,
    closed_io: bool,
    /// The peer's orderly FIN arrived (told by the driver).
    fin: bool,
}

/// The checker of one socket's output stream.
#[derive(Debug)]
pub struct SocketChecker {
    accepted: bool,
    /// Whether the I/O requests are seen too (not in the simulator, which keeps them).
    sees_io: bool,
    /// Whether the driver says when the peer's FIN came (then `'end'` needs one).
    tracks_fin: bool,
    life: Life,
    lives: usize,
    releases: usize,
    callbacks: BTreeSet<WriteId>,
    end_callbacks: BTreeSet<WriteId>,
    /// The last outputs, for failure messages.
    recent: Vec<String>,
    /// Lives that ended (the socket was connected again) without their `'close'`.
    pub lost_closes: usize,
    /// `'close'` events old lives still owe (they were connected again before it came).
    owed_closes: usize,
    /// `'error'` events old lives may still deliver (before their owed `'close'`).
    owed_errors: usize,
}

impl SocketChecker {
    /// A checker for a client socket (`accepted: false`) or a server's accepted one.
    pub fn new(accepted: bool) -> SocketChecker {
        SocketChecker {
            accepted,
            sees_io: true,
            tracks_fin: false,
            life: Life {
                connects: usize::from(accepted),
                ..Life::default()
            },
            lives: 1,
            releases: 0,
            callbacks: BTreeSet::new(),
            end_callbacks: BTreeSet::new(),
            recent: Vec::new(),
            lost_closes: 0,
            owed_closes: 0,
            owed_errors: 0,
        }
    }

    /// A checker of the events alone (the I/O requests are not seen).
    pub fn events_only(accepted: bool) -> SocketChecker {
        SocketChecker {
            sees_io: false,
            ..SocketChecker::new(accepted)
        }
    }

    /// The driver tells [`SocketChecker::peer_fin`] when the peer's orderly FIN reached
    /// the socket: an `'end'` before it breaks the rules.
    pub fn with_fin_tracking(self) -> SocketChecker {
        SocketChecker {
            tracks_fin: true,
            ..self
        }
    }

    /// The peer's orderly FIN reached the socket (in its current life).
    pub fn peer_fin(&mut self) {
        self.life.fin = true;
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "socket invariant broken (life {}): {what}\nlast outputs:\n  {}",
            self.lives,
            self.recent.join("\n  ")
        );
    }

    fn note(&mut self, s: String) {
        if self.recent.len() == 24 {
            self.recent.remove(0);
        }
        self.recent.push(s);
    }

    /// The socket, destroyed, is connected again: a new life. Returns false when the old
    /// life never emitted `'close'` (its pending `'close'` was dropped by the reuse).
    pub fn new_life(&mut self) -> bool {
        let closed = self.life.closes == 1;
        if !closed {
            // Still owed: it comes later (checked when everything was pulled).
            self.owed_closes += 1;
            self.owed_errors += usize::from(self.life.errors == 0);
        }
        self.life = Life::default();
        self.lives += 1;
        self.note(format!("--- life {} ---", self.lives));
        closed
    }

    /// Checks one output.
    pub fn output(&mut self, o: &Output) {
        match o {
            Output::Event(e) => self.event(e),
            Output::Io(io) => self.io(io),
        }
    }

    /// Checks one event.
    pub fn event(&mut self, e: &SocketEvent) {
        self.note(format!("{e:?}"));
        // After 'close' only callbacks, and 'lookup': Node's single-address connect emits
        // it when the lookup answers, before it checks whether the socket is still
        // connecting (net.js `emitLookup`), so a socket destroyed during its lookup emits
        // it after its 'close'.
        let callback = matches!(
            e,
            SocketEvent::WriteCallback { .. }
                | SocketEvent::EndCallback { .. }
                | SocketEvent::Lookup { .. }
        );
        // What an old life owes is its own, not the current life's.
        match e {
            SocketEvent::Close(_) if self.owed_closes > 0 => {
                self.owed_closes -= 1;
                self.owed_errors = self.owed_errors.min(self.owed_closes);
                return;
            }
            SocketEvent::Error(_) if self.owed_errors > 0 => {
                self.owed_errors -= 1;
                return;
            }
            _ => {}
        }
        if self.life.closes > 0 && !callback {
            self.fail("an event after 'close'");
        }
        let l = &mut self.life;
        match e {
            SocketEvent::Close(_) => l.closes += 1,
            SocketEvent::Error(_) => l.errors += 1,
            SocketEvent::End => {
                l.ends += 1;
                if self.tracks_fin && !l.fin {
                    self.fail("'end' without an orderly FIN from the peer");
                }
            }
            SocketEvent::Connect => l.connects += 1,
            SocketEvent::Finish => l.finishes += 1,
            SocketEvent::Data(_) => {
                if l.connects == 0 {
                    self.fail("'data' before 'connect'");
                }
                if l.ends > 0 {
                    self.fail("'data' after 'end'");
                }
            }
            SocketEvent::WriteCallback { id, .. } if !self.callbacks.insert(*id) => {
                self.fail("a write callback called twice");
            }
            SocketEvent::EndCallback { id, .. } if !self.end_callbacks.insert(*id) => {
                self.fail("an end callback called twice");
            }
            _ => {}
        }
        let l = &self.life;
        if l.errors > 1 {
            self.fail("two 'error' events");
        }
        if l.ends > 1 {
            self.fail("two 'end' events");
        }
        if l.connects > 1 {
            self.fail("two 'connect' events");
        }
        if l.finishes > 1 {
            self.fail("two 'finish' events");
        }
    }

    /// Checks one I/O request.
    pub fn io(&mut self, io: &SocketIo) {
        self.note(format!("{io:?}"));
        match io {
            SocketIo::ReleaseFromServer => {
                self.releases += 1;
                if !self.accepted {
                    self.fail("a client socket asked to be released from a server");
                }
                if self.releases > 1 {
                    self.fail("released from its server twice");
                }
            }
            _ if self.life.closed_io => self.fail("I/O asked after the connection was closed"),
            SocketIo::Close | SocketIo::Reset => self.life.closed_io = true,
            _ => {}
        }
    }

    /// Once every output was pulled: a destroyed socket emitted `'close'` exactly once in
    /// its current life, a live one not at all; an accepted destroyed socket was released.
    pub fn settled(&self, destroyed: bool) {
        if self.owed_closes > 0 {
            self.fail("an old life never emitted its 'close' (everything pulled)");
        }
        if destroyed && self.life.closes != 1 {
            self.fail("a destroyed socket did not emit 'close' (everything pulled)");
        }
        if !destroyed && self.life.closes != 0 {
            self.fail("a socket that is not destroyed emitted 'close'");
        }
        if destroyed && self.accepted && self.sees_io && self.releases != 1 {
            self.fail("a destroyed accepted socket was not released from its server");
        }
    }

    /// Whether the current life emitted `'error'`.
    pub fn errored(&self) -> bool {
        self.life.errors > 0
    }

    /// `'close'` count of the current life.
    pub fn closes(&self) -> usize {
        self.life.closes
    }
}
