//! The OS sockets, all non-blocking: connected streams (TCP or unix-domain), connection
//! attempts in progress, and listeners. Built with `socket2` so that binding, backlog,
//! `IPV6_V6ONLY`, `SO_REUSEPORT`, `SO_LINGER` and keep-alive are under the driver's control.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

use sansnet::options::ListenOptions;
use sansnet::server::{BoundAddress, BoundAddressRequest};
use sansnet::socket::Remote;
use socket2::{Domain, Protocol, SockAddr, SockRef, TcpKeepalive, Type};

/// Linux's `EINPROGRESS`: a non-blocking connect under way.
const EINPROGRESS: i32 = 115;
/// Linux's `ENAMETOOLONG`.
const ENAMETOOLONG: i32 = 36;

/// A connected OS socket.
#[derive(Debug)]
pub(crate) enum Conn {
    /// TCP.
    Tcp(TcpStream),
    /// Unix-domain.
    Unix(UnixStream),
}

impl Conn {
    /// The local and peer addresses as the core takes them (`None` for unix sockets).
    pub(crate) fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        match self {
            Conn::Tcp(s) => (s.local_addr().ok(), s.peer_addr().ok()),
            Conn::Unix(_) => (None, None),
        }
    }

    /// Whether `getpeername` still answers (it fails once the kernel closed the
    /// connection: both FINs exchanged, or a reset). Unix sockets have no peer address.
    pub(crate) fn knows_peer(&self) -> bool {
        match self {
            Conn::Tcp(s) => s.peer_addr().is_ok(),
            Conn::Unix(_) => true,
        }
    }

    /// The descriptor to poll.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Conn::Tcp(s) => s.as_fd(),
            Conn::Unix(s) => s.as_fd(),
        }
    }

    /// One non-blocking write (libuv's `uv_try_write`).
    pub(crate) fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write(buf),
            Conn::Unix(s) => (&*s).write(buf),
        }
    }

    /// `writev`: as much of `bufs`, in order, as the kernel takes now.
    pub(crate) fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Conn::Tcp(s) => (&*s).write_vectored(bufs),
            Conn::Unix(s) => (&*s).write_vectored(bufs),
        }
    }

    /// `shutdown(SHUT_WR)`: the FIN.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
        }
    }

    /// `TCP_NODELAY` (nothing for unix sockets).
    pub(crate) fn set_no_delay(&self, on: bool) -> io::Result<()> {
        match self {
            Conn::Tcp(s) => s.set_nodelay(on),
            Conn::Unix(_) => Ok(()),
        }
    }

    /// `SO_KEEPALIVE`, with `TCP_KEEPIDLE` when a delay is given (as libuv does).
    pub(crate) fn set_keep_alive(&self, enable: bool, initial_delay_secs: u32) -> io::Result<()> {
        let Conn::Tcp(s) = self else { return Ok(()) };
        let sock = SockRef::from(s);
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
            Conn::Tcp(s) => SockRef::from(s).set_linger(Some(Duration::ZERO)),
            Conn::Unix(_) => Ok(()),
        }
    }
}

/// A connect in progress: a non-blocking socket waiting to become writable, or an outcome
/// the OS gave at once (reported on the next loop turn, as libuv does).
#[derive(Debug)]
pub(crate) struct Connecting {
    sock: Option<socket2::Socket>,
    unix: bool,
    /// The outcome known without waiting.
    pub(crate) early: Option<io::Result<()>>,
}

impl Connecting {
    /// Opens a socket, binds `local` if given, and starts connecting it to `remote`.
    pub(crate) fn start(remote: &Remote, local: Option<SocketAddr>) -> Connecting {
        let (unix, r) = match remote {
            Remote::Tcp(addr) => (false, open_tcp(*addr, local)),
            Remote::Ipc(path) => (true, open_unix(path)),
        };
        match r {
            Ok((sock, done)) => Connecting {
                sock: Some(sock),
                unix,
                early: done.then_some(Ok(())),
            },
            Err(e) => Connecting {
                sock: None,
                unix,
                early: Some(Err(e)),
            },
        }
    }

    /// Whether the socket was opened (and bound, if asked): the outcome is not a bind
    /// failure.
    pub(crate) fn bound(&self) -> bool {
        !matches!(&self.early, Some(Err(e)) if bind_failure(e).is_some())
    }

    /// The descriptor to poll for writability while the outcome is unknown.
    pub(crate) fn fd(&self) -> Option<BorrowedFd<'_>> {
        if self.early.is_some() {
            return None;
        }
        self.sock.as_ref().map(|s| s.as_fd())
    }

    /// The outcome, once the socket became writable (or failed).
    pub(crate) fn finish(mut self) -> io::Result<Conn> {
        if let Some(Err(e)) = self.early.take() {
            return Err(e);
        }
        let Some(sock) = self.sock.take() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        if let Some(e) = sock.take_error()? {
            return Err(e);
        }
        // Writable without an error but not connected: the error is in the read.
        if let Err(e) = sock.peer_addr() {
            if e.kind() == io::ErrorKind::NotConnected {
                let mut b = [0u8; 1];
                let mut s = &sock;
                return Err(s.read(&mut b).err().unwrap_or(e));
            }
        }
        Ok(if self.unix {
            Conn::Unix(UnixStream::from(sock))
        } else {
            Conn::Tcp(TcpStream::from(sock))
        })
    }
}

fn open_tcp(addr: SocketAddr, local: Option<SocketAddr>) -> io::Result<(socket2::Socket, bool)> {
    let sock = socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    if let Some(l) = local {
        sock.bind(&l.into())
            .map_err(|e| io::Error::new(e.kind(), BindFailed(e)))?;
    }
    let done = start_connect(&sock, &addr.into())?;
    Ok((sock, done))
}

fn open_unix(path: &str) -> io::Result<(socket2::Socket, bool)> {
    let sock = socket2::Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    let done = start_connect(&sock, &unix_addr(path)?)?;
    Ok((sock, done))
}

/// Starts a connect; true when it completed at once.
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

fn start_connect(sock: &socket2::Socket, addr: &SockAddr) -> io::Result<bool> {
    match sock.connect(addr) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A unix socket address; a path too long for `sun_path` is `ENAMETOOLONG`.
fn unix_addr(path: &str) -> io::Result<SockAddr> {
    SockAddr::unix(path).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput => io::Error::from_raw_os_error(ENAMETOOLONG),
        _ => e,
    })
}

/// A listening OS socket.
#[derive(Debug)]
pub(crate) enum Listener {
    /// TCP, with the address it is bound to.
    Tcp(TcpListener, SocketAddr),
    /// Unix-domain, with the file its bind created.
    Unix(UnixListener, Option<PathNode>),
}

/// The file a unix socket's bind created, by device and inode, so that `close()` removes
/// that file and nothing else: not a file or socket someone else has put at the path since
/// (libuv unlinks whatever the path names then; sansnet does not follow it there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathNode {
    path: String,
    dev: u64,
    ino: u64,
}

impl PathNode {
    /// The socket file at `path` now (`None` if there is none, or it is not a socket).
    fn of(path: &str) -> Option<PathNode> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let m = std::fs::symlink_metadata(path).ok()?;
        m.file_type().is_socket().then(|| PathNode {
            path: path.to_string(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    /// Removes `path` if it still names this socket file; anything else is left alone.
    pub(crate) fn unlink(&self, path: &str) {
        if path == self.path && PathNode::of(path).as_ref() == Some(self) {
            let _ = std::fs::remove_file(path);
        }
    }
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
                sock.set_nonblocking(true)?;
                let l = TcpListener::from(sock);
                let bound = l.local_addr()?;
                Ok((Listener::Tcp(l, bound), BoundAddress::Tcp(bound)))
            }
            BoundAddressRequest::Ipc(path) => {
                let sock = socket2::Socket::new(Domain::UNIX, Type::STREAM, None)?;
                sock.bind(&unix_addr(path)?)?;
                let node = PathNode::of(path);
                sock.listen(backlog)?;
                sock.set_nonblocking(true)?;
                if (opts.readable_all || opts.writable_all) && !path.starts_with('\0') {
                    let mut mode = std::fs::metadata(path)?.permissions().mode();
                    if opts.readable_all {
                        mode |= 0o444;
                    }
                    if opts.writable_all {
                        mode |= 0o222;
                    }
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
                }
                let l = UnixListener::from(sock);
                Ok((Listener::Unix(l, node), BoundAddress::Ipc(path.clone())))
            }
        }
    }

    /// The descriptor to poll for readability (a connection to accept).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(l, _) => l.as_fd(),
            Listener::Unix(l, _) => l.as_fd(),
        }
    }

    /// One non-blocking `accept`: a non-blocking stream with its local and peer addresses.
    pub(crate) fn accept(&self) -> io::Result<(Conn, Option<SocketAddr>, Option<SocketAddr>)> {
        match self {
            Listener::Tcp(l, bound) => {
                // Non-blocking from the start (`accept4`), as libuv accepts.
                let flags = rustix::net::SocketFlags::NONBLOCK | rustix::net::SocketFlags::CLOEXEC;
                let (fd, peer) = rustix::net::acceptfrom_with(l, flags)?;
                let s = TcpStream::from(fd);
                let peer = peer.and_then(|a| SocketAddr::try_from(a).ok());
                // A listener bound to one address accepts on that address: no
                // `getsockname` needed unless it listens on every address.
                let local = if bound.ip().is_unspecified() {
                    s.local_addr().ok()
                } else {
                    Some(*bound)
                };
                Ok((Conn::Tcp(s), local, peer))
            }
            Listener::Unix(l, _) => {
                let (s, _) = l.accept()?;
                s.set_nonblocking(true)?;
                Ok((Conn::Unix(s), None, None))
            }
        }
    }
}
