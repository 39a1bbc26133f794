//! When segments leave a simulated TCP end: Nagle's algorithm and delayed ACKs, as Linux
//! has them on loopback (simplified). Node leaves `noDelay` off, so a second small write
//! made while the first one is unacknowledged waits in the sender's kernel until the ACK
//! comes; and a receiver in interactive ("ping-pong") mode holds its ACK for up to 40 ms,
//! hoping to send it with data or a FIN. Node's traces show it: two small writes in one
//! turn can arrive in two reads, the second one after the peer's next reply.
//!
//! Unix sockets have none of this: they deliver at once.

use super::*;
use crate::time::Duration;

/// Loopback's MSS (MTU 65,536 less the IP and TCP headers with timestamps): a shorter
/// segment is "small" for Nagle.
const LOOPBACK_MSS: usize = 65_483;
/// Linux's `TCP_MIN_MSS` floor for the receiver's estimate of a full frame (536).
const DEFAULT_RCV_MSS: usize = 536;
/// `TCP_ATO_MIN`: the delayed-ACK timeout, and the window in which a reply makes the
/// connection interactive.
const ACK_TIMEOUT: Duration = Duration::from_millis(40);
/// `TCP_MAX_QUICKACKS`.
const QUICK_ACKS: u32 = 16;
/// Linux's minimum RTO: data after a longer silence gets quick ACKs again.
const IDLE_RESTART: Duration = Duration::from_millis(200);

impl Sim {
    /// Whether an endpoint is a TCP one (unix sockets have no addresses).
    fn is_tcp(&self, ep: usize) -> bool {
        let e = &self.net.endpoints[ep];
        e.local.is_some() || e.remote.is_some()
    }

    /// Bytes the send window took leave `ep`, unless Nagle holds them: a sub-MSS segment
    /// waits while our last small segment is unacknowledged.
    pub(super) fn transmit(&mut self, ep: usize, data: Vec<u8>) {
        if !self.is_tcp(ep) {
            let peer = self.net.endpoints[ep].peer;
            self.send(Packet::Data {
                endpoint: peer,
                data,
            });
            return;
        }
        let t = &mut self.net.endpoints[ep].tcp;
        if !t.no_delay && (t.small_unacked || !t.held.is_empty()) {
            t.held.extend_from_slice(&data);
            if t.held.len() >= LOOPBACK_MSS {
                let full = std::mem::take(&mut t.held);
                self.send_segment(ep, full);
            }
            return;
        }
        self.send_segment(ep, data);
    }

    /// What Nagle holds leaves now (a FIN or `setNoDelay` pushes it).
    pub(super) fn push_held(&mut self, ep: usize) {
        let held = std::mem::take(&mut self.net.endpoints[ep].tcp.held);
        if !held.is_empty() {
            self.send_segment(ep, held);
        }
    }

    /// One segment leaves `ep` for its peer, carrying the ACK we owe.
    fn send_segment(&mut self, ep: usize, data: Vec<u8>) {
        self.piggyback_ack(ep);
        let now = self.now;
        let t = &mut self.net.endpoints[ep].tcp;
        if data.len() < LOOPBACK_MSS {
            t.small_unacked = true;
        }
        // A reply within the ACK timeout of receiving: interactive from now on.
        if t.last_received.is_some_and(|r| now - r < ACK_TIMEOUT) {
            t.pingpong = true;
        }
        let peer = self.net.endpoints[ep].peer;
        self.send(Packet::Data {
            endpoint: peer,
            data,
        });
    }

    /// A segment (data or FIN) leaving `ep` carries the ACK it owes.
    pub(super) fn piggyback_ack(&mut self, ep: usize) {
        if self.net.endpoints[ep].tcp.ack_owed {
            self.ack(ep);
        }
    }

    /// `ep` acknowledges what it received: the peer's held bytes may leave.
    fn ack(&mut self, ep: usize) {
        let t = &mut self.net.endpoints[ep].tcp;
        t.ack_owed = false;
        t.unacked_received = 0;
        t.small_received = 0;
        t.quick = t.quick.saturating_sub(1);
        let peer = self.net.endpoints[ep].peer;
        let p = &mut self.net.endpoints[peer];
        if p.closed || p.reset {
            return;
        }
        p.tcp.small_unacked = false;
        if !p.tcp.held.is_empty() {
            self.push_held(peer);
        }
    }

    /// Data reached `ep`: acknowledge it now (quick ACKs, or more than a full frame
    /// unacknowledged) or later (the delayed-ACK timer, or a segment we send first).
    pub(super) fn data_arrived(&mut self, ep: usize, len: usize) {
        if !self.is_tcp(ep) {
            return;
        }
        let now = self.now;
        let t = &mut self.net.endpoints[ep].tcp;
        let idle = t.last_received.is_none_or(|r| now - r > IDLE_RESTART);
        if idle {
            t.quick = QUICK_ACKS;
        }
        t.last_received = Some(now);
        t.rcv_mss = t.rcv_mss.max(DEFAULT_RCV_MSS).max(len.min(LOOPBACK_MSS));
        t.unacked_received += len;
        if len < t.rcv_mss {
            t.small_received = t.small_received.saturating_add(1);
        }
        let quick = t.quick > 0 && !t.pingpong;
        if quick || t.unacked_received > t.rcv_mss {
            self.ack(ep);
        } else if !t.ack_owed {
            t.ack_owed = true;
            self.schedule(now + ACK_TIMEOUT, Packet::DelayedAck { endpoint: ep });
        }
    }

    /// The application read everything `ep` had: Linux acknowledges at once if a small
    /// segment was among it and the connection is not interactive, or two were.
    pub(super) fn read_drained(&mut self, ep: usize) {
        let t = &self.net.endpoints[ep].tcp;
        if t.ack_owed && (t.small_received >= 2 || (t.small_received == 1 && !t.pingpong)) {
            self.ack(ep);
        }
    }

    /// The delayed-ACK timer of `ep` fired: the ACK leaves alone, and the connection
    /// stops being interactive.
    pub(super) fn delayed_ack(&mut self, ep: usize) {
        let e = &mut self.net.endpoints[ep];
        if e.closed || e.reset || !e.tcp.ack_owed {
            return;
        }
        e.tcp.pingpong = false;
        self.ack(ep);
    }
}
