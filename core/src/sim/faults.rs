//! Faults beyond the network's latency and partitions: links whose segments are held
//! until released, and processes that crash (their connections reset, their listeners
//! gone, their sockets and servers silent from then on).

use super::*;
use crate::options::{ServerOptions, SocketOptions};

impl Packet {
    /// The endpoint a segment (data, FIN, RST) travels to, if it is one.
    fn segment_to(&self) -> Option<usize> {
        match self {
            Packet::Data { endpoint, .. } | Packet::Fin { endpoint } | Packet::Rst { endpoint } => {
                Some(*endpoint)
            }
            _ => None,
        }
    }
}

impl Sim {
    /// Holds (`true`) or releases the link of `ip`: while held, segments (data, FIN, RST)
    /// to or from `ip` wait in the network, as TCP retransmits across a cut; once
    /// released they arrive in order. With [`Sim::set_partitioned`] this is a full
    /// partition: new connects are lost and established ones stall.
    pub fn set_link_held(&mut self, ip: IpAddr, held: bool) {
        if held {
            self.net.held.insert(ip);
            return;
        }
        self.net.held.remove(&ip);
        for p in std::mem::take(&mut self.held_segments) {
            self.send(p);
        }
        self.settle();
    }

    /// Whether a segment to `ep` waits for a held link.
    fn on_held_link(&self, ep: usize) -> bool {
        let e = &self.net.endpoints[ep];
        [e.local, e.remote]
            .into_iter()
            .flatten()
            .any(|a| self.net.held.contains(&a.ip()))
    }

    /// Keeps `p` back if it is a segment on a held link (or one behind it); true if so.
    pub(super) fn hold_back(&mut self, p: Packet) -> Option<Packet> {
        match p.segment_to() {
            Some(ep)
                if self.on_held_link(ep)
                    || self
                        .held_segments
                        .iter()
                        .any(|h| h.segment_to() == Some(ep)) =>
            {
                self.held_segments.push(p);
                None
            }
            _ => Some(p),
        }
    }

    /// A middlebox resets every open TCP connection between `a` and `b` (either way
    /// round): both ends get RST. Returns how many connections it reset.
    pub fn reset_between(&mut self, a: IpAddr, b: IpAddr) -> usize {
        let between = |e: &net::Endpoint| match (e.local, e.remote) {
            (Some(l), Some(r)) => (l.ip() == a && r.ip() == b) || (l.ip() == b && r.ip() == a),
            _ => false,
        };
        let ends: Vec<usize> = (0..self.net.endpoints.len())
            .filter(|&i| {
                let e = &self.net.endpoints[i];
                !e.closed && !e.reset && between(e)
            })
            .collect();
        for &ep in &ends {
            self.send(Packet::Rst { endpoint: ep });
        }
        self.settle();
        ends.len() / 2 + ends.len() % 2
    }

    /// The process owning socket `h` crashed: its connection is reset (the peer gets
    /// RST), its attempts are forgotten, and the socket is silent from now on (it emits
    /// nothing more; its state is gone with the process).
    pub fn crash_socket(&mut self, h: SocketHandle) {
        let s = &mut self.sockets[h.0];
        s.attempts.clear();
        let ep = s.endpoint.take();
        let mut fresh = Socket::new(&SocketOptions::default());
        fresh.share_loop();
        s.socket = fresh;
        if let Some(ep) = ep {
            self.close_endpoint(ep, true);
        }
        self.settle();
    }

    /// The process owning server `h` crashed: its listeners are gone (connects are
    /// refused), connections it had not accepted yet are reset, and the server is silent
    /// from now on. Its accepted sockets crash with [`Sim::crash_socket`].
    pub fn crash_server(&mut self, h: ServerHandle) {
        self.net.listeners.retain(|_, l| l.server != Some(h));
        let s = &mut self.servers[h.0];
        s.key = None;
        let pending: Vec<usize> = std::mem::take(&mut s.pending).into_values().collect();
        s.server = Server::new(ServerOptions::default());
        for ep in pending {
            self.close_endpoint(ep, true);
        }
        self.settle();
    }
}
