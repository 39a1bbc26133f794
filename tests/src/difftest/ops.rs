//! The operations the generator asks the [`Model`] for, and what each certainly causes:
//! bytes and FINs on their way to the peer, resets, closes. An operation whose outcome
//! depends on timing is refused.

use serde_json::{json, Value as Json};

use super::model::{check, Model, Refused, SMALL_WRITE, SRV, UNREAD_CAP};

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

impl Model {
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
                // The handle goes on reading (even when paused before 'connect': the
                // runner's 'data' listener already scheduled a read), so bytes still
                // arrive, unseen, and a FIN with nothing buffered still emits 'end'.
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
        // A FIN already out would reach the peer before the reset; and Node 20, after
        // end() in the same turn, fails the reset with EINVAL and never closes the socket
        // (seed 40172), which is no trace to compare with.
        check(!s.ended)?;
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
}
