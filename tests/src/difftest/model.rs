//! What the generator knows for certain about a scenario's sockets while it writes it.
//!
//! The operations themselves, and what each causes, are in [`super::ops`].
//!
//! The steps of a scenario come in rounds: a few operations in one JavaScript turn, then
//! `wait` steps for everything those operations certainly cause. The model tracks, per
//! socket, what is on its way (bytes, a FIN, a reset, a 'finish', a 'close') and refuses an
//! operation whose consequences it cannot predict (a destroy with unread bytes, which
//! resets instead of closing; a write towards a peer that is gone…). At the end of a
//! round, [`Model::settle`] lists the waits: per socket one wait, for an event that comes
//! after (or in the same tick as) everything else that socket will observe, so the next
//! round starts from a quiet, known state. Since a satisfied wait uses up every count of
//! its actor (FORMAT.md, node-runner.js), waiting once per socket per round keeps the
//! counts exact.

use serde_json::{json, Value as Json};

/// Bytes towards a reader that does not read may not exceed this (kernel buffers must
/// take every small write synchronously).
pub const UNREAD_CAP: u64 = 24_000;
/// The largest write that completes synchronously for sure.
pub const SMALL_WRITE: u64 = 4096;

/// One socket actor: a client (`c1`…) or an accepted socket (`srv#1`…).
#[derive(Clone, Debug, Default)]
pub struct Sock {
    /// The actor's name.
    pub name: String,
    /// A client (made by `connect`), else accepted.
    pub client: bool,
    /// The socket at the other end, once known.
    pub peer: Option<usize>,
    /// `allowHalfOpen`.
    pub half_open: bool,
    /// The actor exists (accepted sockets: after their 'connection' was waited for).
    pub exists: bool,
    /// A client whose `connect` was called in the current round.
    pub fresh: bool,
    /// A client the server drops (maxConnections).
    pub dropped: bool,
    /// Never connected (a client destroyed before connecting) or never accepted.
    pub phantom: bool,
    /// A client whose 'connection' (or 'drop') the server's wait covered.
    pub announced: bool,
    /// Not paused (JavaScript level): 'data' and 'end' can be emitted.
    pub flowing: bool,
    /// The handle reads (false for pauseOnConnect until `resume`).
    pub reading: bool,
    /// `end()` was called (or the automatic end of a non-half-open socket).
    pub ended: bool,
    /// `end()` was called in the current round (no FIN is out yet).
    pub ended_round: bool,
    /// 'finish' was observed (or can no longer come).
    pub finished: bool,
    /// Destroyed synchronously by an operation on it.
    pub destroyed: bool,
    /// `destroySoon()`: destroyed once finished.
    pub soon: bool,
    /// The peer reset the connection: an ECONNRESET is on its way.
    pub doomed: bool,
    /// 'close' was observed.
    pub closed: bool,
    /// Bytes the peer wrote that were not yet emitted as 'data'.
    pub in_pending: u64,
    /// The peer's FIN is on its way or arrived, 'end' not yet observed.
    pub fin_in: bool,
    /// 'end' was observed.
    pub end_seen: bool,
    /// The peer is destroyed or closing: writing to it could race with a reset.
    pub peer_gone: bool,
    /// A write that may complete asynchronously is pending.
    pub async_writes: bool,
    /// A large write was made in the current round (buffer getters are not predictable).
    pub big_round: bool,
    /// `writeCallback` events since the actor's last satisfied wait.
    pub cbs: u32,
    /// `timeout` events since the actor's last satisfied wait.
    pub timeouts: u32,
    /// Bytes may have reached it while it was paused, unseen (set at a round's end).
    pub blind: bool,
}

impl Sock {
    /// Destroyed, closing, or closed.
    pub fn dying(&self) -> bool {
        self.destroyed || self.soon || self.doomed || self.closed
    }

    /// An actor that is in the trace.
    pub fn is_actor(&self) -> bool {
        self.client || (self.exists && !self.phantom)
    }

    /// Connected (or connecting), not closing.
    pub fn live(&self) -> bool {
        self.is_actor() && !self.phantom && !self.dying()
    }

    /// Its getters are predictable in this turn: no bytes reached it unseen while it was
    /// paused (the handle still reads them, changing `bytesRead`, at a time nobody knows;
    /// a `resume` in this turn does not tell either). Bytes written in this very turn have
    /// not arrived yet.
    pub fn quiet(&self) -> bool {
        !self.blind || self.dying()
    }
}

/// Why an operation was refused.
#[derive(Debug)]
pub struct Refused;

/// One wait a round needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `A:close`.
    Close,
    /// `A:end`.
    End,
    /// `A:data` with this many bytes.
    Data(u64),
    /// `A:finish`.
    Finish,
    /// `A:writeCallback` this many times.
    WriteCallbacks(u32),
    /// `A:connect`.
    Connect,
}

/// An idle timeout on one quiet socket, as one unit of steps.
#[derive(Clone, Debug, PartialEq)]
pub enum Timer {
    /// `setTimeout(T)`, wait for 'timeout', `setTimeout(0)`.
    Wait(u64),
    /// `setTimeout(T)`, sleep 3T + 10 ms (it fires), `setTimeout(0)`.
    Sleep(u64),
    /// `setTimeout(120)`, sleep 30 ms, maybe a snapshot, `setTimeout(0)`: it never fires.
    Cancel(bool),
    /// `setTimeout(V)` with an invalid V: it throws.
    Invalid(Json),
}

/// The scenario's world as far as it is certain.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// The server listens on a unix socket.
    pub unix: bool,
    /// The server's allowHalfOpen.
    pub srv_half_open: bool,
    /// The server's pauseOnConnect.
    pub pause_on_connect: bool,
    /// The server's maxConnections.
    pub max_conn: Option<u32>,
    /// `server.close()` was called.
    pub srv_closed: bool,
    /// Accepted connections so far (names `srv#N`).
    pub accepted: u32,
    /// Every socket, in creation order.
    pub socks: Vec<Sock>,
}

/// The server's actor name.
pub const SRV: &str = "srv";

impl Model {
    /// Accepted sockets the server counts (`getConnections`, maxConnections).
    pub fn open_accepted(&self) -> u32 {
        self.socks
            .iter()
            .filter(|s| !s.client && s.exists && !s.phantom && !s.destroyed && !s.closed)
            .count() as u32
    }

    /// Adds a client `name` connecting now and the accepted socket the server will make
    /// for it (unnamed until its 'connection' is waited for); returns the client's index.
    pub fn add_client(&mut self, name: &str, half_open: bool) -> usize {
        let dropped = self.max_conn.is_some_and(|m| {
            let coming = self
                .socks
                .iter()
                .filter(|s| !s.client && !s.exists && !s.phantom)
                .count() as u32;
            self.open_accepted() + coming >= m
        });
        let c = self.socks.len();
        self.socks.push(Sock {
            name: name.to_string(),
            client: true,
            half_open,
            exists: true,
            fresh: true,
            dropped,
            flowing: true,
            reading: true,
            // The server closes a dropped connection at once: a FIN, and nobody to write to.
            fin_in: dropped,
            peer_gone: dropped,
            ..Sock::default()
        });
        if !dropped {
            let s = self.socks.len();
            self.socks.push(Sock {
                client: false,
                peer: Some(c),
                half_open: self.srv_half_open,
                flowing: !self.pause_on_connect,
                reading: !self.pause_on_connect,
                ..Sock::default()
            });
            self.socks[c].peer = Some(s);
        }
        c
    }

    /// The server's side of this round's new connections, in connect order: names the
    /// accepted sockets and returns the server event to wait for, with its count.
    pub fn accept_fresh(&mut self) -> Option<(&'static str, u32)> {
        let mut last = None;
        let (mut conns, mut drops) = (0, 0);
        for c in 0..self.socks.len() {
            let s = &mut self.socks[c];
            if !(s.client && s.fresh) || s.phantom || s.announced {
                continue;
            }
            s.announced = true;
            if s.dropped {
                drops += 1;
                last = Some("drop");
                continue;
            }
            let p = s.peer.expect("an accepted peer");
            self.accepted += 1;
            self.socks[p].name = format!("{SRV}#{}", self.accepted);
            self.socks[p].exists = true;
            conns += 1;
            last = Some("connection");
        }
        last.map(|e| (e, if e == "drop" { drops } else { conns }))
    }

    /// Whether socket `a` may get a [`Timer`]: nothing is on its way to it.
    pub fn timer_ok(&self, a: usize) -> bool {
        let s = &self.socks[a];
        s.live() && !s.fresh && s.quiet() && !(s.reading && s.in_pending > 0)
    }

    /// The steps of a [`Timer`] on socket `a`, which the model counts.
    pub fn timer(&mut self, a: usize, t: &Timer) -> Result<Vec<Json>, Refused> {
        check(self.timer_ok(a))?;
        let s = &mut self.socks[a];
        let name = s.name.clone();
        let set = |ms: Json| json!({"do": "setTimeout", "actor": name, "ms": ms});
        Ok(match t {
            Timer::Wait(ms) => {
                let count = s.timeouts + 1;
                // The wait uses up every count of the socket.
                s.timeouts = 0;
                s.cbs = 0;
                let mut w = json!({"wait": format!("{name}:timeout"), "timeout": WAIT_TIMEOUT});
                if count > 1 {
                    w["count"] = json!(count);
                }
                vec![set(json!(ms)), w, set(json!(0))]
            }
            Timer::Sleep(ms) => {
                s.timeouts += 1;
                vec![set(json!(ms)), json!({"sleep": 3 * ms + 10}), set(json!(0))]
            }
            Timer::Cancel(snapshot) => {
                let mut v = vec![set(json!(120)), json!({"sleep": 30})];
                if *snapshot {
                    v.push(json!({"snapshot": name, "props": ["timeout", "readyState"]}));
                }
                v.push(set(json!(0)));
                v
            }
            Timer::Invalid(bad) => vec![set(bad.clone())],
        })
    }

    /// Ends the round: works out what certainly happens (an 'end' makes a non-half-open
    /// socket end too, which sends its peer a FIN…), returns the waits for it per socket
    /// in creation order, and records the state after them. `Err` when a socket would have
    /// two independent chains of events pending (no single wait covers them).
    pub fn settle(&mut self) -> Result<Vec<(String, Wait)>, Refused> {
        let n = self.socks.len();
        let mut will_end = vec![false; n];
        loop {
            let mut changed = false;
            for (i, ends) in will_end.iter_mut().enumerate() {
                let s = &self.socks[i];
                if !s.is_actor() || s.phantom || s.closed || *ends || s.end_seen {
                    continue;
                }
                let emits = s.fin_in && s.reading && !s.dying() && (s.flowing || s.in_pending == 0);
                if !emits {
                    continue;
                }
                *ends = true;
                changed = true;
                if !s.half_open && !s.ended {
                    let s = &mut self.socks[i];
                    s.ended = true;
                    if let Some(p) = s.peer {
                        let p = &mut self.socks[p];
                        if !p.dying() {
                            p.fin_in = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut waits = Vec::new();
        for (i, will_end) in will_end.into_iter().enumerate() {
            let s = &self.socks[i];
            if !s.is_actor() || s.closed {
                continue;
            }
            let close = s.destroyed || s.soon || s.doomed || (s.ended && (will_end || s.end_seen));
            let recv_data = s.in_pending > 0 && s.reading && s.flowing && !s.dying();
            let finishing = s.ended && !s.finished && !s.dying();
            let send = finishing || s.async_writes;
            let wait = if close {
                Some(Wait::Close)
            } else if (will_end || recv_data) && send {
                return Err(Refused);
            } else if will_end {
                Some(Wait::End)
            } else if recv_data {
                Some(Wait::Data(s.in_pending))
            } else if finishing {
                Some(Wait::Finish)
            } else if s.async_writes {
                Some(Wait::WriteCallbacks(s.cbs))
            } else if s.fresh && !s.phantom {
                Some(Wait::Connect)
            } else {
                None
            };
            let s = &mut self.socks[i];
            if recv_data || close {
                s.in_pending = 0;
            }
            if will_end {
                s.end_seen = true;
                s.fin_in = false;
            }
            if close {
                s.closed = true;
                s.finished = true;
            }
            if s.ended && wait.is_some() {
                s.finished = true;
            }
            if let Some(w) = wait {
                s.cbs = 0;
                s.timeouts = 0;
                s.async_writes = false;
                waits.push((s.name.clone(), w));
            }
            s.fresh = false;
            s.ended_round = false;
            s.big_round = false;
        }
        for i in 0..n {
            let s = &mut self.socks[i];
            s.blind = s.reading && !s.flowing && s.in_pending > 0;
            let gone = s.dying();
            if let Some(p) = s.peer {
                if gone {
                    self.socks[p].peer_gone = true;
                }
            }
        }
        Ok(waits)
    }

    /// Whether every socket ended closed (or never existed).
    pub fn all_closed(&self) -> bool {
        self.socks.iter().all(|s| !s.is_actor() || s.closed)
    }
}

/// The wait step for `actor`.
pub fn wait_step(actor: &str, w: &Wait) -> Json {
    let mut step = json!({});
    let (event, count, bytes) = match w {
        Wait::Close => ("close", 1, None),
        Wait::End => ("end", 1, None),
        Wait::Data(b) => ("data", 1, Some(*b)),
        Wait::Finish => ("finish", 1, None),
        Wait::WriteCallbacks(n) => ("writeCallback", *n, None),
        Wait::Connect => ("connect", 1, None),
    };
    step["wait"] = json!(format!("{actor}:{event}"));
    if count > 1 {
        step["count"] = json!(count);
    }
    if let Some(b) = bytes {
        step["bytes"] = json!(b);
    }
    step["timeout"] = json!(WAIT_TIMEOUT);
    step
}

/// The timeout of every generated wait (ms): far above what loopback needs, far below the
/// default, so that a wrong wait fails fast.
pub const WAIT_TIMEOUT: u64 = 2000;

/// `Ok` when `ok`, else [`Refused`].
pub fn check(ok: bool) -> Result<(), Refused> {
    if ok {
        Ok(())
    } else {
        Err(Refused)
    }
}
