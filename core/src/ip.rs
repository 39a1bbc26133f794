//! IP address text: Node's `isIP` grammar, the `inet_pton` grammar SocketAddress and
//! BlockList accept, and the canonical `inet_ntop` text they print.

use std::net::IpAddr;

/// An address family, as Node's `family` fields name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4 (`4`, `'IPv4'`, `'ipv4'`).
    V4,
    /// IPv6 (`6`, `'IPv6'`, `'ipv6'`).
    V6,
}

impl Family {
    /// The number Node passes in events (`4` or `6`).
    pub fn number(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }

    /// The string socket getters return (`'IPv4'` / `'IPv6'`).
    pub fn socket_name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    /// The lower-case string SocketAddress and BlockList use (`'ipv4'` / `'ipv6'`).
    pub fn lower_name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}
