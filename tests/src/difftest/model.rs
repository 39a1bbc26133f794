//! What the generator knows for certain about a scenario's sockets while it writes it.
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

    /// Its getters are predictable in this turn: not paused with bytes arriving (the
    /// handle still reads them, changing `bytesRead`, at a time nobody knows). A flowing
    /// socket has pending bytes only when they were written in this very turn.
    pub fn quiet(&self) -> bool {
        let arriving = self.reading && !self.flowing && self.in_pending > 0;
        !arriving || self.dying()
    }
}

/// Written data: text (UTF-8) or `bytes` N.
#[derive(Clone, Debug)]
pub enum Data {
    /// A string.
    Text(String),
    /// N bytes, byte i being i % 251.
    Bytes(u64),
}

impl Data {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Data::Text(s) => s.len() as u64,
            Data::Bytes(n) => *n,
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn put(&self, step: &mut Json) {
        match self {
            Data::Text(s) => step["data"] = json!(s),
            Data::Bytes(n) => step["bytes"] = json!(n),
        }
    }
}

/// An operation the generator may ask for.
#[derive(Clone, Debug)]
pub enum Op {
    /// `socket.write`.
    Write {
        /// The socket.
        a: usize,
        /// The data.
        data: Data,
        /// Record the callback.
        cb: bool,
        /// Record the return value.
        ret: bool,
    },
    /// `socket.end`.
    End {
        /// The socket.
        a: usize,
        /// The data.
        data: Option<Data>,
        /// Record the callback.
        cb: bool,
    },
    /// `socket.destroy([err])`.
    Destroy {
        /// The socket.
        a: usize,
        /// The error code.
        error: Option<String>,
    },
    /// `socket.destroySoon()`.
    DestroySoon(usize),
    /// `socket.resetAndDestroy()`.
    Reset(usize),
    /// `socket.pause()`.
    Pause(usize),
    /// `socket.resume()`.
    Resume(usize),
    /// A snapshot of socket getters.
    Snapshot {
        /// The socket.
        a: usize,
        /// The getters.
        props: Vec<String>,
    },
    /// `socket.setNoDelay(v)`.
    NoDelay(usize, bool),
    /// `socket.setKeepAlive(enable, delay)`.
    KeepAlive(usize, bool, u32),
    /// `server.getConnections()`.
    GetConnections,
    /// A snapshot of server getters.
    ServerSnapshot(Vec<String>),
    /// `server.close()`.
    ServerClose,
    /// `socket.setTimeout(10)` on a destroyed socket (which must do nothing).
    DeadTimeout(usize),
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

    /// Applies `op` if its consequences are certain; the step to write.
    pub fn apply(&mut self, op: &Op) -> Result<Json, Refused> {
        match op {
            Op::Write { a, data, cb, ret } => self.write(*a, data, *cb, *ret),
            Op::End { a, data, cb } => self.end(*a, data.as_ref(), *cb),
            Op::Destroy { a, error } => {
                let s = &self.socks[*a];
                if !(s.destroyed || s.closed) {
                    self.destroy(*a)?;
                }
                let mut step = json!({"do": "destroy", "actor": self.socks[*a].name});
                if let Some(e) = error {
                    step["error"] = json!(e);
                }
                Ok(step)
            }
            Op::DestroySoon(a) => self.destroy_soon(*a),
            Op::Reset(a) => self.reset(*a),
            Op::Pause(a) => {
                let s = &mut self.socks[*a];
                check(s.is_actor())?;
                s.flowing = false;
                Ok(json!({"do": "pause", "actor": s.name}))
            }
            Op::Resume(a) => {
                let s = &mut self.socks[*a];
                check(s.is_actor())?;
                if !s.dying() {
                    s.flowing = true;
                    s.reading = true;
                }
                Ok(json!({"do": "resume", "actor": s.name}))
            }
            Op::Snapshot { a, props } => {
                let s = &self.socks[*a];
                check(s.is_actor() && s.quiet())?;
                let buffer = ["writableLength", "bufferSize", "writableNeedDrain"];
                check(!(s.big_round && props.iter().any(|p| buffer.contains(&p.as_str()))))?;
                Ok(json!({"snapshot": s.name, "props": props}))
            }
            Op::NoDelay(a, v) => {
                let s = &self.socks[*a];
                check(s.is_actor())?;
                Ok(json!({"do": "setNoDelay", "actor": s.name, "value": v}))
            }
            Op::KeepAlive(a, enable, delay) => {
                let s = &self.socks[*a];
                check(s.is_actor())?;
                Ok(
                    json!({"do": "setKeepAlive", "actor": s.name, "enable": enable, "initialDelay": delay}),
                )
            }
            Op::DeadTimeout(a) => {
                let s = &self.socks[*a];
                check(s.is_actor() && (s.destroyed || s.closed))?;
                Ok(json!({"do": "setTimeout", "actor": s.name, "ms": 10}))
            }
            Op::GetConnections => Ok(json!({"do": "getConnections", "actor": SRV})),
            Op::ServerSnapshot(props) => Ok(json!({"snapshot": SRV, "props": props})),
            Op::ServerClose => {
                check(!self.srv_closed)?;
                self.srv_closed = true;
                Ok(json!({"do": "close", "actor": SRV}))
            }
        }
    }

    /// Whether the socket may send `len` more bytes to its peer now.
    fn can_send(&self, a: usize, len: u64, big: bool) -> bool {
        let s = &self.socks[a];
        if s.peer_gone || s.dropped {
            return false;
        }
        let Some(p) = s.peer else { return false };
        let p = &self.socks[p];
        if p.dying() || p.phantom {
            return false;
        }
        if s.fresh {
            // Queued until connected: the peer is new, its pending bytes are ours.
            return !big && p.in_pending + len <= 9000;
        }
        if big {
            return p.reading && p.flowing && !p.fresh && !s.async_writes;
        }
        len <= SMALL_WRITE && ((p.reading && p.flowing) || p.in_pending + len <= UNREAD_CAP)
    }

    fn write(&mut self, a: usize, data: &Data, cb: bool, ret: bool) -> Result<Json, Refused> {
        let s = &self.socks[a];
        check(s.is_actor() && !s.soon && !s.doomed)?;
        let big = data.len() > SMALL_WRITE;
        let mut step = json!({"do": "write", "actor": s.name});
        data.put(&mut step);
        if big || cb {
            step["callback"] = json!(true);
        }
        if ret && !big && !s.async_writes {
            step["record"] = json!("return");
        }
        if s.destroyed || s.closed || s.phantom {
            // Fails on the next tick (ERR_STREAM_DESTROYED and the like).
            return Ok(step);
        }
        if s.ended {
            // Write after end: an error that destroys the socket.
            self.destroy(a)?;
            return Ok(step);
        }
        check(self.can_send(a, data.len(), big))?;
        let p = self.socks[a].peer.expect("a peer");
        self.socks[p].in_pending += data.len();
        let s = &mut self.socks[a];
        if big || cb {
            s.cbs += 1;
        }
        if big {
            s.async_writes = true;
            s.big_round = true;
        }
        Ok(step)
    }

    fn end(&mut self, a: usize, data: Option<&Data>, cb: bool) -> Result<Json, Refused> {
        let s = &self.socks[a];
        check(s.is_actor() && !s.soon && !s.doomed)?;
        let mut step = json!({"do": "end", "actor": s.name});
        if let Some(d) = data {
            check(d.len() <= SMALL_WRITE)?;
            d.put(&mut step);
        }
        if cb {
            step["callback"] = json!(true);
        }
        if s.destroyed || s.closed || s.phantom {
            return Ok(step);
        }
        if s.ended {
            if data.is_some() {
                self.destroy(a)?;
            }
            return Ok(step);
        }
        if let Some(d) = data {
            check(self.can_send(a, d.len(), false))?;
        }
        // A FIN towards a closed peer is answered by a reset, which an unread FIN of ours
        // would then meet.
        check(s.reading || !s.peer_gone)?;
        // A FIN towards a peer that destroySoon() closes could reach it before it closes.
        if let Some(p) = s.peer {
            let p = &self.socks[p];
            check(p.closed || !p.soon)?;
        }
        let s = &mut self.socks[a];
        s.ended = true;
        s.ended_round = true;
        let peer = s.peer;
        if let Some(p) = peer {
            let p = &mut self.socks[p];
            if let Some(d) = data {
                p.in_pending += d.len();
            }
            if !p.dying() {
                p.fin_in = true;
            }
        }
        Ok(step)
    }

    /// `destroy()` on a socket not yet destroyed: the peer gets a FIN (a reset when bytes
    /// are unread, which the model refuses).
    fn destroy(&mut self, a: usize) -> Result<(), Refused> {
        let s = &self.socks[a];
        check(!s.soon && !s.doomed && s.in_pending == 0 && !s.async_writes)?;
        if s.fresh {
            // Before connecting: no connection at all (TCP only: a unix connect is made at
            // once).
            check(!self.unix)?;
        }
        let fresh = s.fresh;
        let s = &mut self.socks[a];
        s.destroyed = true;
        if let Some(p) = s.peer {
            let p = &mut self.socks[p];
            if fresh {
                p.phantom = true;
            } else if !p.dying() {
                p.peer_gone = true;
                p.fin_in = true;
            }
        }
        if fresh {
            self.socks[a].phantom = true;
        }
        Ok(())
    }

    fn destroy_soon(&mut self, a: usize) -> Result<Json, Refused> {
        let s = &self.socks[a];
        check(s.is_actor())?;
        let step = json!({"do": "destroySoon", "actor": s.name});
        if s.destroyed || s.closed || s.phantom {
            return Ok(step);
        }
        let end_unseen = s.fin_in && !s.end_seen;
        check(!s.soon && !s.doomed && s.in_pending == 0 && !end_unseen)?;
        if s.ended && s.finished {
            self.destroy(a)?;
            return Ok(step);
        }
        let s = &mut self.socks[a];
        if !s.ended {
            s.ended = true;
            s.ended_round = true;
        }
        s.soon = true;
        if let Some(p) = s.peer {
            let p = &mut self.socks[p];
            if !p.dying() {
                p.fin_in = true;
                p.peer_gone = true;
            }
        }
        Ok(step)
    }

    fn reset(&mut self, a: usize) -> Result<Json, Refused> {
        let s = &self.socks[a];
        check(s.is_actor())?;
        let step = json!({"do": "resetAndDestroy", "actor": s.name});
        if s.destroyed || s.closed || s.phantom || self.unix {
            // No handle: nothing; a unix handle: throws ERR_INVALID_HANDLE_TYPE.
            return Ok(step);
        }
        check(!s.fresh && !s.soon && !s.doomed && !s.async_writes)?;
        // A FIN already out would reach the peer before the reset.
        check(!s.ended || s.ended_round)?;
        if let Some(p) = s.peer {
            let p = &self.socks[p];
            let finishing = p.ended && !p.finished;
            check(!p.dying() && !p.fresh && p.reading && p.in_pending == 0)?;
            check(!p.async_writes && !finishing)?;
            check(!p.end_seen)?;
        }
        let s = &mut self.socks[a];
        s.destroyed = true;
        if let Some(p) = s.peer {
            let p = &mut self.socks[p];
            p.doomed = true;
            p.fin_in = false;
        }
        Ok(step)
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
            let gone = self.socks[i].dying();
            if let Some(p) = self.socks[i].peer {
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

fn check(ok: bool) -> Result<(), Refused> {
    if ok {
        Ok(())
    } else {
        Err(Refused)
    }
}
