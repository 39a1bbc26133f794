//! The simulated network: listeners, connections as pairs of endpoints with kernel
//! buffers, and the packets in flight between them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};

use crate::options::ListenOptions;
use crate::socket::AttemptId;

/// Identifies a simulated socket (state machine).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketHandle(pub usize);

/// Identifies a simulated server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerHandle(pub usize);

/// One end of a simulated connection, as its kernel sees it.
#[derive(Debug, Default)]
pub(crate) struct Endpoint {
    /// The socket that owns this end (none while queued for accept or after refusal).
    pub(crate) owner: Option<SocketHandle>,
    /// The other end.
    pub(crate) peer: usize,
    /// Received bytes the application has not read.
    pub(crate) unread: VecDeque<Vec<u8>>,
    /// The peer's FIN arrived (delivered after `unread`).
    pub(crate) fin_pending: bool,
    /// The FIN was handed to the owner.
    pub(crate) fin_delivered: bool,
    /// The owner asked to read.
    pub(crate) reading: bool,
    /// The OS socket was closed.
    pub(crate) closed: bool,
    /// We sent our FIN.
    pub(crate) fin_sent: bool,
    /// The connection was reset.
    pub(crate) reset: bool,
    /// It was reset after the peer's FIN and before ours (TCP's `CLOSE_WAIT`): Linux's
    /// `tcp_reset` then reports `EPIPE`, not `ECONNRESET`.
    pub(crate) reset_in_close_wait: bool,
    /// Bytes sent towards the peer that its application has not read yet (in flight or in
    /// its kernel buffer): the send window.
    pub(crate) outstanding: usize,
    /// Writes the send window could not take yet, with the rest of their bytes.
    pub(crate) backlog: VecDeque<(crate::socket::WriteId, Vec<u8>)>,
    /// The local and peer addresses (None for unix sockets).
    pub(crate) local: Option<SocketAddr>,
    pub(crate) remote: Option<SocketAddr>,
    /// TCP's send and ACK timing on this end (see `sim::tcp`).
    pub(crate) tcp: TcpTiming,
}

impl Endpoint {
    /// Marks the end reset, as Linux's `tcp_reset` does, with the error it will report.
    pub(crate) fn mark_reset(&mut self) {
        let tcp = self.local.is_some() || self.remote.is_some();
        self.reset_in_close_wait = tcp && self.fin_pending && !self.fin_sent;
        self.reset = true;
        self.unread.clear();
    }

    /// The error a write meets on a reset connection: a unix socket's write always
    /// meets `EPIPE` (the peer is gone); a TCP one what the reset reports.
    pub(crate) fn write_error_code(&self) -> crate::Code {
        if self.local.is_none() && self.remote.is_none() {
            crate::Code::Epipe
        } else {
            self.reset_code()
        }
    }

    /// The error a reset reports: `EPIPE` in `CLOSE_WAIT`, else `ECONNRESET`.
    pub(crate) fn reset_code(&self) -> crate::Code {
        if self.reset_in_close_wait {
            crate::Code::Epipe
        } else {
            crate::Code::Econnreset
        }
    }
}

/// The part of a TCP end's state that decides when segments leave: Nagle's algorithm on
/// the sending side, delayed ACKs on the receiving side (Linux's rules, simplified).
#[derive(Debug, Default)]
pub(crate) struct TcpTiming {
    /// `TCP_NODELAY`: no Nagle.
    pub(crate) no_delay: bool,
    /// The last sub-MSS segment we sent is not acknowledged yet (Minshall's Nagle).
    pub(crate) small_unacked: bool,
    /// Bytes Nagle holds in the send queue until that ACK (or a FIN) pushes them.
    pub(crate) held: Vec<u8>,
    /// Interactive mode: we replied soon after receiving, so our ACKs wait to ride on data.
    pub(crate) pingpong: bool,
    /// Quick ACKs left (Linux's quickack mode, at the start and after an idle period).
    pub(crate) quick: u32,
    /// When data last arrived.
    pub(crate) last_received: Option<crate::time::Instant>,
    /// The largest segment received (at least 536 bytes): "one full frame".
    pub(crate) rcv_mss: usize,
    /// Bytes received and not acknowledged yet.
    pub(crate) unacked_received: usize,
    /// Small segments among them (Linux's ICSK_ACK_PUSHED / PUSHED2).
    pub(crate) small_received: u8,
    /// An ACK is owed and the delayed-ACK timer runs.
    pub(crate) ack_owed: bool,
}

/// What a listener is bound to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ListenKey {
    Tcp(SocketAddr),
    /// A unix socket path in a host's file system (0: the default host's).
    Ipc(u32, String),
}

/// A listening OS socket.
#[derive(Debug)]
pub(crate) struct Listener {
    /// The server, or none for a black hole (never accepts, SYNs dropped).
    pub(crate) server: Option<ServerHandle>,
    pub(crate) options: Option<ListenOptions>,
}

/// Something the network delivers at a point in virtual time.
#[derive(Debug)]
pub(crate) enum Packet {
    /// A connect reaches its destination.
    Syn {
        from: SocketHandle,
        attempt: AttemptId,
        key: ListenKey,
        local: Option<SocketAddr>,
    },
    /// A connect completes on the client.
    Connected {
        socket: SocketHandle,
        attempt: AttemptId,
        endpoint: usize,
    },
    /// A connect fails on the client.
    Refused {
        socket: SocketHandle,
        attempt: AttemptId,
        code: crate::error::Code,
    },
    /// A server is told of an accepted connection.
    Accept {
        server: ServerHandle,
        endpoint: usize,
    },
    /// Bytes reach an endpoint.
    Data { endpoint: usize, data: Vec<u8> },
    /// A FIN reaches an endpoint.
    Fin { endpoint: usize },
    /// A RST reaches an endpoint.
    Rst { endpoint: usize },
    /// An endpoint's delayed-ACK timer fires.
    DelayedAck { endpoint: usize },
    /// A local completion (write done, shutdown done, lookup answered, listen result).
    Local(super::Completion),
}

/// The wires: endpoints, listeners and packets in flight, ordered by (time, sequence).
#[derive(Debug, Default)]
pub(crate) struct Network {
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) listeners: BTreeMap<ListenKey, Listener>,
    pub(crate) next_port: u16,
    /// How long a connect's SYN, its answer and a lookup take (zero: loopback, at once).
    pub(crate) latency: crate::time::Duration,
    /// Addresses cut off: SYNs to them are lost, as by a black hole (a fault the sweep
    /// injects; connections already made keep working).
    pub(crate) partitioned: BTreeSet<IpAddr>,
    /// Addresses whose links hold segments until released (a fault).
    pub(crate) held: BTreeSet<IpAddr>,
    /// Addresses of the simulated hosts besides loopback (listens may bind them).
    pub(crate) addresses: BTreeSet<IpAddr>,
}

impl Network {
    pub(crate) fn new(first_port: u16) -> Network {
        Network {
            next_port: first_port,
            ..Network::default()
        }
    }

    /// A free ephemeral port.
    pub(crate) fn ephemeral_port(&mut self) -> u16 {
        loop {
            let p = self.next_port;
            self.next_port = if p >= 60999 { 32768 } else { p + 1 };
            let used = self
                .listeners
                .keys()
                .any(|k| matches!(k, ListenKey::Tcp(a) if a.port() == p));
            if !used {
                return p;
            }
        }
    }

    /// The listener a TCP connect to `dest` reaches, with the address the server sees the
    /// client by (IPv4 clients of a dual-stack `::` listener appear IPv4-mapped).
    pub(crate) fn find_tcp_listener(&self, dest: SocketAddr) -> Option<(ListenKey, bool)> {
        let exact = ListenKey::Tcp(dest);
        if self.listeners.contains_key(&exact) {
            return Some((exact, false));
        }
        let (any, mapped) = match dest.ip() {
            IpAddr::V4(v4) => {
                // An IPv6 listener bound to the IPv4-mapped form of the address.
                let as_mapped = ListenKey::Tcp(SocketAddr::new(
                    IpAddr::V6(v4.to_ipv6_mapped()),
                    dest.port(),
                ));
                if self.listeners.contains_key(&as_mapped) {
                    return Some((as_mapped, true));
                }
                let any4 = ListenKey::Tcp(SocketAddr::new(IpAddr::from([0, 0, 0, 0]), dest.port()));
                if self.listeners.contains_key(&any4) {
                    return Some((any4, false));
                }
                let any6 = ListenKey::Tcp(SocketAddr::new(IpAddr::from([0u16; 8]), dest.port()));
                let dual = self
                    .listeners
                    .get(&any6)
                    .is_some_and(|l| !l.options.as_ref().is_some_and(|o| o.ipv6_only));
                (any6, dual)
            }
            IpAddr::V6(_) => (
                ListenKey::Tcp(SocketAddr::new(IpAddr::from([0u16; 8]), dest.port())),
                false,
            ),
        };
        if dest.is_ipv6() && self.listeners.contains_key(&any) {
            return Some((any, false));
        }
        if mapped {
            return Some((any, true));
        }
        None
    }

    /// Whether binding `addr` conflicts with an existing listener.
    pub(crate) fn tcp_in_use(&self, addr: SocketAddr, v6_only: bool) -> bool {
        self.listeners.iter().any(|(k, l)| match k {
            ListenKey::Tcp(a) => {
                let a_v6_only = l.options.as_ref().is_some_and(|o| o.ipv6_only);
                a.port() == addr.port() && binds_overlap(*a, a_v6_only, addr, v6_only)
            }
            ListenKey::Ipc(..) => false,
        })
    }

    /// Whether binding `addr` for a connect conflicts with a listener or an open
    /// connection's local address.
    pub(crate) fn local_in_use(&self, addr: SocketAddr) -> bool {
        let same = |a: SocketAddr| {
            a.port() == addr.port()
                && (a.ip() == addr.ip() || a.ip().is_unspecified() || addr.ip().is_unspecified())
        };
        self.tcp_in_use(addr, false)
            || self
                .endpoints
                .iter()
                .any(|e| !e.closed && e.local.is_some_and(same))
    }

    /// A new connected pair; returns (client end, server end).
    pub(crate) fn pair(
        &mut self,
        client: SocketHandle,
        c_local: Option<SocketAddr>,
        s_local: Option<SocketAddr>,
    ) -> (usize, usize) {
        let c = self.endpoints.len();
        let s = c + 1;
        self.endpoints.push(Endpoint {
            owner: Some(client),
            peer: s,
            local: c_local,
            remote: s_local,
            ..Endpoint::default()
        });
        self.endpoints.push(Endpoint {
            owner: None,
            peer: c,
            local: s_local,
            remote: c_local,
            ..Endpoint::default()
        });
        (c, s)
    }
}

/// Whether two binds of one port conflict, as Linux decides: within a family when the
/// addresses are equal or either is the wildcard; across families only when the IPv6 one
/// is the wildcard `::` without `IPV6_V6ONLY` (it also takes every IPv4 address).
fn binds_overlap(a: SocketAddr, a_v6_only: bool, b: SocketAddr, b_v6_only: bool) -> bool {
    if a.is_ipv4() == b.is_ipv4() {
        return a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified();
    }
    let (v6, v6_only) = if a.is_ipv6() {
        (a, a_v6_only)
    } else {
        (b, b_v6_only)
    };
    v6.ip().is_unspecified() && !v6_only
}
