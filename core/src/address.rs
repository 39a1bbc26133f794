//! One address type for sockets and servers: a TCP address or a unix-domain socket path.
//! A connect goes to one ([`crate::socket::Remote`]), a listen asks for one
//! ([`crate::server::BoundAddressRequest`]) and is bound to one
//! ([`crate::server::BoundAddress`]); all three are this enum.

use std::net::SocketAddr;

/// A TCP address or a unix-domain socket path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A unix-domain socket path (Linux abstract names start with `'\0'`).
    Ipc(String),
}

impl Address {
    /// The TCP port (`None` for a unix-domain socket).
    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Tcp(a) => Some(a.port()),
            Address::Ipc(_) => None,
        }
    }
}

/// `HOST:PORT` (brackets around an IPv6 address) or the unix socket's path.
impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Tcp(a) => a.fmt(f),
            Address::Ipc(p) => f.write_str(p),
        }
    }
}
