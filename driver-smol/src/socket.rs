//! The async handle on a socket: Node's `net.Socket` calls (synchronous, as in Node), its
//! events, and a byte stream.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::future::poll_fn;
use futures_lite::Stream;
use sansnet::options::{ConnectOptions, SocketOptions};
use sansnet::socket::{Chunk, SocketEvent, SocketInfo, WriteResult};
use sansnet::{Duration, NetError};
use sansnet_std::SocketSettings;

use crate::sim::SimSocket;

/// A `net.Socket` in a [`Runtime`](crate::Runtime).
///
/// Every call is Node's method of the same name and returns at once with Node's answer.
/// Events, `'data'` included, come out of [`Socket::next_event`] in Node's order; the
/// byte-stream face ([`futures_io::AsyncRead`], [`futures_io::AsyncWrite`], also on
/// `&Socket`) consumes the same events. Dropping the handle calls `destroySoon()`.
pub struct Socket {
    inner: Inner,
}

/// Where a socket lives: a runtime over the OS, or a simulation.
enum Inner {
    Os(sansnet_std::Socket),
    Sim(SimSocket),
}

/// Runs `$e` with `$s` bound to whichever handle the socket has.
macro_rules! on {
    ($self:expr, $s:ident => $e:expr) => {
        match &$self.inner {
            Inner::Os($s) => $e,
            Inner::Sim($s) => $e,
        }
    };
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        on!(self, s => s.fmt(f))
    }
}

/// `net.connect(options)`, resolving at `'connect'`: the connected socket, or the error
/// the socket was destroyed with. The events up to `'connect'` are still there to read.
pub async fn connect(opts: ConnectOptions) -> io::Result<Socket> {
    let settings = SocketSettings {
        options: opts.socket.clone(),
        ..SocketSettings::default()
    };
    connect_with(opts, settings).await
}

/// [`connect`] with a custom resolver or runtime.
pub async fn connect_with(opts: ConnectOptions, settings: SocketSettings) -> io::Result<Socket> {
    let socket = Socket::with_settings(settings);
    socket.connect(opts);
    socket.wait_connected().await.map(|()| socket)
}

impl Socket {
    /// `new net.Socket(options)`: not connected, in this crate's [`runtime`](crate::runtime()).
    pub fn new(options: SocketOptions) -> Socket {
        Socket::with_settings(SocketSettings {
            options,
            ..SocketSettings::default()
        })
    }

    /// `new net.Socket(options)` with a custom resolver or runtime (`None`: this crate's
    /// [`runtime`](crate::runtime()), or inside a [`Sim::run`](crate::sim::Sim::run) the
    /// simulation).
    pub fn with_settings(mut s: SocketSettings) -> Socket {
        if s.runtime.is_none() {
            if let Some(ctx) = crate::sim::current() {
                return Socket {
                    inner: Inner::Sim(SimSocket::new(ctx.world, s)),
                };
            }
        }
        s.runtime.get_or_insert_with(crate::runtime);
        Socket::from(sansnet_std::Socket::with_settings(s))
    }

    /// A handle on a socket a simulated server accepted.
    pub(crate) fn simulated(s: SimSocket) -> Socket {
        Socket {
            inner: Inner::Sim(s),
        }
    }

    /// The same socket, blocking (`std::io`) face; `None` in a simulation.
    pub fn as_std(&self) -> Option<&sansnet_std::Socket> {
        match &self.inner {
            Inner::Os(s) => Some(s),
            Inner::Sim(_) => None,
        }
    }

    /// `socket.connect(options)`: returns at once; progress and failure arrive as events.
    pub fn connect(&self, opts: ConnectOptions) {
        on!(self, s => s.connect(opts));
    }

    /// A `socket.connect(...)` that threw after its first steps: the socket says
    /// `connecting` with nothing in flight (see `sansnet_std::Socket::connect_rejected`).
    pub fn connect_rejected(&self) {
        on!(self, s => s.connect_rejected());
    }

    /// Resolves once the socket is no longer connecting: `Ok` once connected, else the
    /// error it was destroyed with. The events stay readable.
    pub async fn wait_connected(&self) -> io::Result<()> {
        poll_fn(|cx| on!(self, s => s.poll_connected(cx))).await
    }

    /// `socket.write(chunk)`: Node's return value (false: wait for `'drain'`). No callback
    /// event follows ([`Socket::write_with_callback`] asks for one).
    pub fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        on!(self, s => s.write(chunk))
    }

    /// `socket.write(chunk, cb)`: its callback arrives as [`SocketEvent::WriteCallback`]
    /// with the returned id.
    pub fn write_with_callback(&self, chunk: impl Into<Chunk>) -> WriteResult {
        on!(self, s => s.write_with_callback(chunk))
    }

    /// `socket.end([chunk])`: half-close after what was written. No callback event
    /// follows ([`Socket::end_with_callback`] asks for one).
    pub fn end(&self, chunk: Option<Chunk>) -> WriteResult {
        on!(self, s => s.end(chunk))
    }

    /// `socket.end([chunk], cb)`: its callback arrives as [`SocketEvent::EndCallback`]
    /// with the returned id.
    pub fn end_with_callback(&self, chunk: Option<Chunk>) -> WriteResult {
        on!(self, s => s.end_with_callback(chunk))
    }

    /// `socket.destroy([err])`.
    pub fn destroy(&self, err: Option<NetError>) {
        on!(self, s => s.destroy(err));
    }

    /// `socket.destroySoon()`.
    pub fn destroy_soon(&self) {
        on!(self, s => s.destroy_soon());
    }

    /// `socket.resetAndDestroy()`.
    pub fn reset_and_destroy(&self) -> Result<(), NetError> {
        on!(self, s => s.reset_and_destroy())
    }

    /// `socket.pause()`.
    pub fn pause(&self) {
        on!(self, s => s.pause());
    }

    /// `socket.resume()`.
    pub fn resume(&self) {
        on!(self, s => s.resume());
    }

    /// `socket.setTimeout(ms)`.
    pub fn set_timeout(&self, timeout: Duration) {
        on!(self, s => s.set_timeout(timeout));
    }

    /// `socket.setNoDelay(noDelay)`.
    pub fn set_no_delay(&self, no_delay: bool) {
        on!(self, s => s.set_no_delay(no_delay));
    }

    /// `socket.setKeepAlive(enable, initialDelay)`.
    pub fn set_keep_alive(&self, enable: bool, initial_delay: Duration) {
        on!(self, s => s.set_keep_alive(enable, initial_delay));
    }

    /// The options' `AbortSignal` aborted.
    pub fn abort(&self) {
        on!(self, s => s.abort());
    }

    /// `socket.remoteAddress` / `remotePort` / `remoteFamily`, read now.
    pub fn remote_address(&self) -> Option<SocketAddr> {
        on!(self, s => s.remote_address())
    }

    /// The getters now.
    pub fn info(&self) -> SocketInfo {
        on!(self, s => s.info())
    }

    /// The next event, in Node's order. `None` once the socket is closed (or was never
    /// connected) and every event was taken. Asking ends the application's turn.
    pub async fn next_event(&self) -> Option<SocketEvent> {
        poll_fn(|cx| on!(self, s => s.poll_next_event(cx))).await
    }

    /// The next event if one is there now.
    pub fn try_next_event(&self) -> Option<SocketEvent> {
        on!(self, s => s.try_next_event())
    }

    /// The events as a stream, until the socket is closed.
    pub fn events(&self) -> impl Stream<Item = SocketEvent> + '_ {
        futures_lite::stream::poll_fn(|cx| on!(self, s => s.poll_next_event(cx)))
    }

    /// `Write`: `end()` and resolve at `'finish'`; `Both`: then destroy; `Read`:
    /// `Unsupported` (Node cannot).
    pub async fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Read {
            return Err(io::ErrorKind::Unsupported.into());
        }
        on!(self, s => s.end(None));
        let r = poll_fn(|cx| on!(self, s => s.poll_finished(cx))).await;
        if how == Shutdown::Both {
            on!(self, s => s.destroy(None));
        }
        r
    }

    /// Resolves once a `write()` would return true again (`'drain'` is owed no longer).
    pub async fn drained(&self) -> io::Result<()> {
        poll_fn(|cx| on!(self, s => s.poll_drained(cx))).await
    }
}

impl From<sansnet_std::Socket> for Socket {
    fn from(inner: sansnet_std::Socket) -> Socket {
        Socket {
            inner: Inner::Os(inner),
        }
    }
}

impl futures_io::AsyncRead for &Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        on!(self, s => s.poll_read_bytes(cx, buf))
    }
}

impl futures_io::AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }
}

impl futures_io::AsyncWrite for &Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        on!(self, s => s.poll_write_bytes(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on!(self, s => s.poll_flushed(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        on!(self, s => s.poll_end(cx))
    }
}

impl futures_io::AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}
