//! The application's handle on a socket: Node's `net.Socket` calls, its events, and a
//! byte-stream face (`AsyncRead` + `AsyncWrite`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use async_channel::{Receiver, Sender};
use futures_lite::StreamExt;
use sansnet::options::ConnectOptions;
use sansnet::socket::{
    Chunk, ReadyState, Socket as Core, SocketConfig, SocketEvent, WriteId, WriteResult,
};
use sansnet::{Duration, NetError};

use crate::conn::Conn;
use crate::lookup::LookupFn;
use crate::socket_task::{Cmd, Shared, SocketTask, Until, READ_PACE};
use crate::to_io_error;

/// `new net.Socket(options)`: the core's options plus a custom resolver.
#[derive(Clone, Default)]
pub struct SocketOptions {
    /// `allowHalfOpen`, `highWaterMark`.
    pub config: SocketConfig,
    /// Node's `lookup` option: replaces the system resolver.
    pub lookup: Option<LookupFn>,
}

impl fmt::Debug for SocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketOptions")
            .field("config", &self.config)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .finish()
    }
}

/// The socket's getters, as of the end of the driving task's last turn (after the reply of
/// any call awaited before reading them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketInfo {
    /// `socket.readyState`.
    pub ready_state: ReadyState,
    /// `socket.connecting`.
    pub connecting: bool,
    /// `socket.pending`.
    pub pending: bool,
    /// `socket.destroyed`.
    pub destroyed: bool,
    /// `socket.bytesRead`.
    pub bytes_read: u64,
    /// `socket.bytesWritten`.
    pub bytes_written: u64,
    /// `socket.bufferSize` (`None`: undefined).
    pub buffer_size: Option<usize>,
    /// `socket.writableLength`.
    pub writable_length: usize,
    /// `socket.writableNeedDrain`.
    pub writable_need_drain: bool,
    /// `socket.writableEnded`.
    pub writable_ended: bool,
    /// `socket.writableFinished`.
    pub writable_finished: bool,
    /// `socket.readableEnded`.
    pub readable_ended: bool,
    /// `socket.address()` / `localAddress` / `localPort`.
    pub local_address: Option<SocketAddr>,
    /// `socket.timeout` (zero: none).
    pub timeout: Duration,
    /// `socket.autoSelectFamilyAttemptedAddresses`.
    pub attempted_addresses: Option<Vec<String>>,
}

impl SocketInfo {
    pub(crate) fn of(core: &Core) -> SocketInfo {
        SocketInfo {
            ready_state: core.ready_state(),
            connecting: core.connecting(),
            pending: core.pending(),
            destroyed: core.destroyed(),
            bytes_read: core.bytes_read(),
            bytes_written: core.bytes_written(),
            buffer_size: core.buffer_size(),
            writable_length: core.writable_length(),
            writable_need_drain: core.writable_need_drain(),
            writable_ended: core.writable_ended(),
            writable_finished: core.writable_finished(),
            readable_ended: core.readable_ended(),
            local_address: core.local_address(),
            timeout: core.timeout(),
            attempted_addresses: core
                .auto_select_family_attempted_addresses()
                .map(<[_]>::to_vec),
        }
    }
}

/// A `net.Socket`, driven by its own task.
///
/// Calls are sent to the task in order; those that return something (`write`, `end`,
/// `reset_and_destroy`, `remote_address`) wait for its answer. Every event, `'data'`
/// included, comes out of [`Socket::next_event`] in Node's order. As a byte stream, reading
/// consumes the same events (keeping `'data'`, ending at `'end'`, failing at `'error'`),
/// and writing waits for `'drain'` whenever `write()` would have returned false.
///
/// Dropping the handle calls `destroySoon()`: what was written is sent, then the socket
/// closes.
pub struct Socket {
    cmd: Sender<Cmd>,
    events: Pin<Box<Receiver<SocketEvent>>>,
    shared: Arc<Shared>,
    read: ReadSide,
    write: WriteSide,
}

#[derive(Default)]
struct ReadSide {
    buf: Vec<u8>,
    pos: usize,
    /// The stream ended: `None` cleanly, or with the error.
    done: Option<Option<NetError>>,
}

#[derive(Default)]
struct WriteSide {
    drain: Option<Pin<Box<Receiver<io::Result<()>>>>>,
    flush: Option<Pin<Box<Receiver<io::Result<()>>>>>,
    close: Option<Pin<Box<Receiver<io::Result<()>>>>>,
    end_sent: bool,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("info", &self.info())
            .finish()
    }
}

/// `net.connect(options)`, awaiting `'connect'`: the connected socket, or the error the
/// socket was destroyed with. Its events (`'lookup'`, `'connect'`, …) are still there to
/// read.
pub async fn connect(opts: ConnectOptions) -> io::Result<Socket> {
    let socket = Socket::new(SocketConfig {
        allow_half_open: opts.allow_half_open,
        ..SocketConfig::default()
    });
    socket.connect(opts);
    socket.wait_connected().await?;
    Ok(socket)
}

impl Socket {
    /// `new net.Socket(config)`: not connected yet.
    pub fn new(config: SocketConfig) -> Socket {
        Socket::with_options(SocketOptions {
            config,
            lookup: None,
        })
    }

    /// `new net.Socket(options)` with a custom resolver.
    pub fn with_options(opts: SocketOptions) -> Socket {
        Socket::spawn(Core::new(opts.config), None, opts.lookup, None)
    }

    /// Starts the task that drives `core` (and `conn`, for an accepted socket).
    pub(crate) fn spawn(
        core: Core,
        conn: Option<Conn>,
        lookup: Option<LookupFn>,
        release: Option<Sender<()>>,
    ) -> Socket {
        let (cmd_tx, cmd_rx) = async_channel::unbounded();
        let (ev_tx, ev_rx) = async_channel::unbounded();
        let shared = Arc::new(Shared {
            info: Mutex::new(SocketInfo::of(&core)),
            unconsumed: AtomicUsize::new(0),
        });
        let task = SocketTask::new(core, conn, cmd_rx, ev_tx, shared.clone(), lookup, release);
        smol::spawn(task.run()).detach();
        Socket {
            cmd: cmd_tx,
            events: Box::pin(ev_rx),
            shared,
            read: ReadSide::default(),
            write: WriteSide::default(),
        }
    }

    fn send(&self, c: Cmd) {
        // The task lives as long as this handle: a failed send cannot happen.
        let _ = self.cmd.try_send(c);
    }

    async fn ask<T>(&self, make: impl FnOnce(Sender<T>) -> Cmd) -> Option<T> {
        let (tx, rx) = async_channel::bounded(1);
        self.cmd.try_send(make(tx)).ok()?;
        rx.recv().await.ok()
    }

    /// `socket.connect(options)`; progress and failure arrive as events.
    pub fn connect(&self, opts: ConnectOptions) {
        self.send(Cmd::Connect(Box::new(opts)));
    }

    /// Waits for `'connect'`; fails with the error the socket was destroyed with.
    pub async fn wait_connected(&self) -> io::Result<()> {
        self.wait(Until::Connected).await
    }

    async fn wait(&self, until: Until) -> io::Result<()> {
        self.ask(|tx| Cmd::Wait(until, tx))
            .await
            .unwrap_or_else(|| Err(io::ErrorKind::BrokenPipe.into()))
    }

    /// `socket.write(chunk)`: the id its callback event ([`SocketEvent::WriteCallback`])
    /// will carry, and Node's return value (false: wait for `'drain'`).
    pub async fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        let chunk = chunk.into();
        self.ask(|tx| Cmd::Write(chunk, Some(tx)))
            .await
            .unwrap_or(WriteResult {
                id: WriteId(0),
                ok: false,
            })
    }

    /// `socket.end([chunk])`: half-close after what was written; its callback is
    /// [`SocketEvent::EndCallback`] with the returned id.
    pub async fn end(&self, chunk: Option<Chunk>) -> WriteResult {
        self.ask(|tx| Cmd::End(chunk, Some(tx)))
            .await
            .unwrap_or(WriteResult {
                id: WriteId(0),
                ok: false,
            })
    }

    /// `socket.destroy([err])`.
    pub fn destroy(&self, err: Option<NetError>) {
        self.send(Cmd::Destroy(err));
    }

    /// `socket.destroySoon()`.
    pub fn destroy_soon(&self) {
        self.send(Cmd::DestroySoon);
    }

    /// `socket.resetAndDestroy()`: close with RST (`ERR_INVALID_HANDLE_TYPE` for a
    /// unix-domain socket).
    pub async fn reset_and_destroy(&self) -> Result<(), NetError> {
        self.ask(Cmd::ResetAndDestroy).await.unwrap_or(Ok(()))
    }

    /// `socket.pause()`.
    pub fn pause(&self) {
        self.send(Cmd::Pause);
    }

    /// `socket.resume()`.
    pub fn resume(&self) {
        self.send(Cmd::Resume);
    }

    /// `socket.setTimeout(ms)`: `'timeout'` after that much inactivity; zero disables.
    pub fn set_timeout(&self, timeout: Duration) {
        self.send(Cmd::SetTimeout(timeout));
    }

    /// `socket.setNoDelay(noDelay)`.
    pub fn set_no_delay(&self, no_delay: bool) {
        self.send(Cmd::SetNoDelay(no_delay));
    }

    /// `socket.setKeepAlive(enable, initialDelay)`; the delay counts in whole seconds.
    pub fn set_keep_alive(&self, enable: bool, initial_delay: Duration) {
        let secs = u32::try_from(initial_delay.as_secs()).unwrap_or(u32::MAX);
        self.send(Cmd::SetKeepAlive(enable, secs));
    }

    /// `socket.remoteAddress` / `remotePort` (reading it caches it, as in Node).
    pub async fn remote_address(&self) -> Option<SocketAddr> {
        self.ask(Cmd::RemoteAddress).await.flatten()
    }

    /// The getters as of the task's last turn.
    pub fn info(&self) -> SocketInfo {
        match self.shared.info.lock() {
            Ok(i) => i.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The next event, in Node's order. `None` only if the driving task is gone.
    pub async fn next_event(&self) -> Option<SocketEvent> {
        let e = self.events.recv().await.ok()?;
        self.consumed(&e);
        Some(e)
    }

    /// Accounts for `'data'` the application took, so that reading from the OS resumes.
    fn consumed(&self, e: &SocketEvent) {
        if let SocketEvent::Data(d) = e {
            let prev = self.shared.unconsumed.fetch_sub(d.len(), Ordering::AcqRel);
            if prev >= READ_PACE && prev - d.len() < READ_PACE {
                self.send(Cmd::Wake);
            }
        }
    }
}

/// Waits, from a `poll_*` method, until the task says `until` holds.
fn poll_wait(
    cmd: &Sender<Cmd>,
    slot: &mut Option<Pin<Box<Receiver<io::Result<()>>>>>,
    until: Until,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    let rx = slot.get_or_insert_with(|| {
        let (tx, rx) = async_channel::bounded(1);
        let _ = cmd.try_send(Cmd::Wait(until, tx));
        Box::pin(rx)
    });
    let r = ready!(rx.as_mut().poll_next(cx));
    *slot = None;
    Poll::Ready(r.unwrap_or_else(|| Err(io::ErrorKind::BrokenPipe.into())))
}

impl futures_io::AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            let r = &mut this.read;
            if r.pos < r.buf.len() {
                let n = buf.len().min(r.buf.len() - r.pos);
                buf[..n].copy_from_slice(&r.buf[r.pos..r.pos + n]);
                r.pos += n;
                return Poll::Ready(Ok(n));
            }
            if let Some(done) = &r.done {
                return Poll::Ready(match done {
                    None => Ok(0),
                    Some(e) => Err(to_io_error(e.clone())),
                });
            }
            match ready!(this.events.as_mut().poll_next(cx)) {
                None => this.read.done = Some(None),
                Some(e) => {
                    this.consumed(&e);
                    match e {
                        SocketEvent::Data(d) => {
                            this.read.buf = d;
                            this.read.pos = 0;
                        }
                        SocketEvent::End | SocketEvent::Close(_) => this.read.done = Some(None),
                        SocketEvent::Error(e) => this.read.done = Some(Some(e)),
                        _ => {}
                    }
                }
            }
        }
    }
}

impl futures_io::AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(poll_wait(
            &this.cmd,
            &mut this.write.drain,
            Until::Drained,
            cx
        ))?;
        match this.cmd.try_send(Cmd::Write(Chunk::bytes(buf), None)) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(_) => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_wait(&this.cmd, &mut this.write.flush, Until::Flushed, cx)
    }

    /// `end()`, then waits for `'finish'` (our FIN went out).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.write.end_sent {
            this.write.end_sent = true;
            let _ = this.cmd.try_send(Cmd::End(None, None));
        }
        poll_wait(&this.cmd, &mut this.write.close, Until::Finished, cx)
    }
}
