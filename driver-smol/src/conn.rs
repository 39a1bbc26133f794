//! The OS sockets: connected streams (TCP or unix-domain) and listeners, built with
//! `socket2` so that binding, backlog, `IPV6_V6ONLY`, `SO_REUSEPORT` and `SO_LINGER` are
//! under the driver's control, and wrapped in `async_io::Async` for readiness.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Async;
use futures_lite::{AsyncRead, AsyncWrite};
use sansnet::options::ListenOptions;
use sansnet::server::{BoundAddress, BoundAddressRequest};
use sansnet::socket::Remote;
use socket2::{Domain, Protocol, SockAddr, SockRef, TcpKeepalive, Type};

/// Linux's `EINPROGRESS`: a non-blocking connect under way.
const EINPROGRESS: i32 = 115;

/// A connected OS socket.
#[derive(Debug)]
pub(crate) enum Conn {
    /// TCP.
    Tcp(Async<TcpStream>),
    /// Unix-domain.
    Unix(Async<UnixStream>),
}

impl Conn {
    /// The local and peer addresses as the core takes them (`None` for unix sockets).
    pub(crate) fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        match self {
            Conn::Tcp(s) => (s.get_ref().local_addr().ok(), s.get_ref().peer_addr().ok()),
            Conn::Unix(_) => (None, None),
        }
    }

    /// One non-blocking write attempt (libuv's synchronous `uv_try_write`).
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => {
                let mut w = s.get_ref();
                w.write(buf)
            }
            Conn::Unix(s) => {
                let mut w = s.get_ref();
                w.write(buf)
            }
        }
    }

    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Conn::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self {
            Conn::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }

    /// `shutdown(SHUT_WR)`: the FIN.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.get_ref().shutdown(Shutdown::Write),
            Conn::Unix(s) => s.get_ref().shutdown(Shutdown::Write),
        }
    }

    /// `TCP_NODELAY` (nothing for unix sockets).
    pub(crate) fn set_no_delay(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.get_ref().set_nodelay(on),
            Conn::Unix(_) => Ok(()),
        }
    }

    /// `SO_KEEPALIVE`, with `TCP_KEEPIDLE` when a delay is given (as libuv does).
    pub(crate) fn set_keep_alive(&self, enable: bool, initial_delay_secs: u32) -> io::Result<()> {
        let Conn::Tcp(s) = self else { return Ok(()) };
        let sock = SockRef::from(s.get_ref());
        if enable && initial_delay_secs > 0 {
            let ka = TcpKeepalive::new().with_time(Duration::from_secs(initial_delay_secs.into()));
            sock.set_tcp_keepalive(&ka)
        } else {
            sock.set_keepalive(enable)
        }
    }

    /// `SO_LINGER` 0, so that closing sends RST.
    pub(crate) fn set_linger_zero(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => SockRef::from(s.get_ref()).set_linger(Some(Duration::ZERO)),
            Conn::Unix(_) => Ok(()),
        }
    }
}

/// Opens a socket, binds `local` if given, and connects it to `remote`.
pub(crate) async fn connect(remote: Remote, local: Option<SocketAddr>) -> io::Result<Conn> {
    match remote {
        Remote::Tcp(addr) => {
            let sock =
                socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
            sock.set_nonblocking(true)?;
            if let Some(l) = local {
                sock.bind(&l.into())
                    .map_err(|e| io::Error::new(e.kind(), BindFailed(e)))?;
            }
            start_connect(&sock, &addr.into())?;
            let stream = Async::new(TcpStream::from(sock))?;
            stream.writable().await?;
            if let Some(e) = stream.get_ref().take_error()? {
                return Err(e);
            }
            Ok(Conn::Tcp(stream))
        }
        Remote::Ipc(path) => {
            let sock = socket2::Socket::new(Domain::UNIX, Type::STREAM, None)?;
            sock.set_nonblocking(true)?;
            start_connect(&sock, &unix_addr(&path)?)?;
            let stream = Async::new(UnixStream::from(sock))?;
            stream.writable().await?;
            if let Some(e) = stream.get_ref().take_error()? {
                return Err(e);
            }
            Ok(Conn::Unix(stream))
        }
    }
}

/// A failure to bind the local address of a connect (`localAddress` / `localPort`), which
/// Node reports as a `bind` error rather than a connect error.
#[derive(Debug)]
pub(crate) struct BindFailed(pub(crate) io::Error);

impl std::fmt::Display for BindFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bind: {}", self.0)
    }
}

impl std::error::Error for BindFailed {}

/// The bind failure inside a connect error, if that is what it is.
pub(crate) fn bind_failure(e: &io::Error) -> Option<&io::Error> {
    e.get_ref()?.downcast_ref::<BindFailed>().map(|b| &b.0)
}

fn start_connect(sock: &socket2::Socket, addr: &SockAddr) -> io::Result<()> {
    match sock.connect(addr) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(EINPROGRESS) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A unix socket address; a path too long for `sun_path` is `ENAMETOOLONG`.
fn unix_addr(path: &str) -> io::Result<SockAddr> {
    SockAddr::unix(path).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput => io::Error::from_raw_os_error(36),
        _ => e,
    })
}

/// A listening OS socket.
#[derive(Debug)]
pub(crate) enum Listener {
    /// TCP.
    Tcp(Async<TcpListener>),
    /// Unix-domain.
    Unix(Async<UnixListener>),
}

impl Listener {
    /// Binds and listens as libuv does: `SO_REUSEADDR` on TCP, `IPV6_V6ONLY` as asked,
    /// `SO_REUSEPORT` if asked; a unix path gets the asked read/write permissions.
    pub(crate) fn bind(
        address: &BoundAddressRequest,
        opts: &ListenOptions,
    ) -> io::Result<(Listener, BoundAddress)> {
        let backlog = i32::try_from(opts.backlog).unwrap_or(i32::MAX);
        match address {
            BoundAddressRequest::Tcp(addr) => {
                let sock = socket2::Socket::new(
                    Domain::for_address(*addr),
                    Type::STREAM,
                    Some(Protocol::TCP),
                )?;
                sock.set_reuse_address(true)?;
                if addr.is_ipv6() {
                    sock.set_only_v6(opts.ipv6_only)?;
                }
                if opts.reuse_port {
                    sock.set_reuse_port(true)?;
                }
                sock.bind(&(*addr).into())?;
                sock.listen(backlog)?;
                let l = Async::new(TcpListener::from(sock))?;
                let bound = l.get_ref().local_addr()?;
                Ok((Listener::Tcp(l), BoundAddress::Tcp(bound)))
            }
            BoundAddressRequest::Ipc(path) => {
                let sock = socket2::Socket::new(Domain::UNIX, Type::STREAM, None)?;
                sock.bind(&unix_addr(path)?)?;
                sock.listen(backlog)?;
                if (opts.readable_all || opts.writable_all) && !path.starts_with('\0') {
                    let meta = std::fs::metadata(path)?;
                    let mut mode = meta.permissions().mode();
                    if opts.readable_all {
                        mode |= 0o444;
                    }
                    if opts.writable_all {
                        mode |= 0o222;
                    }
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
                }
                let l = Async::new(UnixListener::from(sock))?;
                Ok((Listener::Unix(l), BoundAddress::Ipc(path.clone())))
            }
        }
    }

    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Listener::Tcp(l) => l.poll_readable(cx),
            Listener::Unix(l) => l.poll_readable(cx),
        }
    }

    /// One non-blocking `accept`, with the new stream's local and peer addresses.
    pub(crate) fn try_accept(&self) -> io::Result<(Conn, Option<SocketAddr>, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.get_ref().accept()?;
                let local = s.local_addr().ok();
                Ok((Conn::Tcp(Async::new(s)?), local, Some(peer)))
            }
            Listener::Unix(l) => {
                let (s, _) = l.get_ref().accept()?;
                Ok((Conn::Unix(Async::new(s)?), None, None))
            }
        }
    }
}
