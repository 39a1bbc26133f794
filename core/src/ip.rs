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

/// Node's `net.isIP`: 4, 6 or 0.
pub fn is_ip(s: &str) -> u8 {
    if is_ipv4(s) {
        4
    } else if is_ipv6(s) {
        6
    } else {
        0
    }
}

/// Node's `net.isIPv4` (strict dotted quad).
pub fn is_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Node's `net.isIPv6` (RFC 4291 text, optional zone).
pub fn is_ipv6(s: &str) -> bool {
    let base = s.split_once('%').map_or(s, |(a, _)| a);
    base.parse::<std::net::Ipv6Addr>().is_ok()
}

/// The `inet_pton` grammar of SocketAddress and BlockList: a strict dotted quad for
/// IPv4; RFC 4291 text for IPv6, where a `%zone` suffix is accepted and dropped.
pub fn parse_inet(text: &str, family: Family) -> Option<IpAddr> {
    match family {
        Family::V4 => text.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        Family::V6 => {
            let base = text.split_once('%').map_or(text, |(a, _)| a);
            base.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        }
    }
}

/// The canonical `inet_ntop` text Node prints for an address.
pub fn format_inet(addr: &IpAddr) -> String {
    addr.to_string()
}
