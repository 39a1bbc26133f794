//! The application's handle on a socket: Node's `net.Socket` calls, its events, and a
//! byte-stream face (`AsyncRead` + `AsyncWrite`).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use async_channel::{Receiver, Sender};
use futures_lite::StreamExt;
use sansnet::options::ConnectOptions;
use sansnet::options::SocketOptions;
use sansnet::socket::{Chunk, Socket as Core, SocketEvent, SocketInfo, WriteId, WriteResult};
use sansnet::{Duration, NetError};

use crate::conn::Conn;
use crate::lookup::LookupFn;
use crate::socket_task::{Cmd, Shared, SocketTask, Until, READ_PACE};
use crate::to_io_error;

/// `new net.Socket(options)`: the core's options plus a custom resolver.
#[derive(Clone, Default)]
pub struct SocketSettings {
    /// `allowHalfOpen`, `highWaterMark`.
    pub config: SocketOptions,
    /// Node's `lookup` option: replaces the system resolver.
    pub lookup: Option<LookupFn>,
}

impl fmt::Debug for SocketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSettings")
            .field("config", &self.config)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .finish()
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
    /// Events taken from the channel, and the count last reported to the task.
    taken: AtomicU64,
    acked: AtomicU64,
    /// [`Socket::hold`] was called and not yet released by asking for an event.
    holding: std::sync::atomic::AtomicBool,
    /// The last acknowledgement let only next-tick work run.
    ticks_only: std::sync::atomic::AtomicBool,
    /// Events a helper ([`Socket::wait_connected`]) read on the application's behalf.
    stash: Mutex<VecDeque<SocketEvent>>,
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
    let socket = Socket::new(opts.socket.clone());
    socket.connect(opts);
    socket.wait_connected().await?;
    Ok(socket)
}

impl Socket {
    /// `new net.Socket(config)`: not connected yet.
    pub fn new(config: SocketOptions) -> Socket {
        Socket::with_options(SocketSettings {
            config,
            lookup: None,
        })
    }

    /// `new net.Socket(options)` with a custom resolver.
    pub fn with_options(opts: SocketSettings) -> Socket {
        Socket::spawn(Core::new(&opts.config), None, opts.lookup, None, false)
    }

    /// Starts the task that drives `core` (and `conn`, for an accepted socket).
    ///
    /// `accepted`: a server accepted it in a poll phase, so it is first polled in the next
    /// iteration: only next-tick work runs until the application first asks for its events.
    pub(crate) fn spawn(
        core: Core,
        conn: Option<Conn>,
        lookup: Option<LookupFn>,
        release: Option<Sender<()>>,
        accepted: bool,
    ) -> Socket {
        let (cmd_tx, cmd_rx) = async_channel::unbounded();
        let (ev_tx, ev_rx) = async_channel::unbounded();
        let shared = Arc::new(Shared {
            info: Mutex::new(core.info()),
            unconsumed: AtomicUsize::new(0),
        });
        let task = SocketTask::new(core, conn, cmd_rx, ev_tx, shared.clone(), lookup, release)
            .ticks_only(accepted);
        smol::spawn(task.run()).detach();
        Socket {
            cmd: cmd_tx,
            events: Box::pin(ev_rx),
            taken: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            holding: std::sync::atomic::AtomicBool::new(false),
            ticks_only: std::sync::atomic::AtomicBool::new(accepted),
            stash: Mutex::new(VecDeque::new()),
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

    /// Enters a synchronous section, as JavaScript code between two awaits: Node's deferred
    /// work for this socket (the next tick: the connect of an IP literal, `'error'` after
    /// `destroy(err)`, `'end'`, …) waits until the application next asks for an event
    /// ([`Socket::next_event`], or reads the byte stream). Calls made meanwhile
    /// (`connect()` then `destroy()`, say) see the state JavaScript would see.
    pub fn hold(&self) {
        self.holding.store(true, Ordering::Release);
        self.send(Cmd::Hold);
    }

    /// Resolves once every call made before it was carried out by the driver, so that
    /// [`Socket::info`] reflects them.
    pub async fn sync(&self) {
        let _ = self.ask(Cmd::Sync).await;
    }

    /// `socket.connect(options)`; progress and failure arrive as events.
    pub fn connect(&self, opts: ConnectOptions) {
        self.send(Cmd::Connect(Box::new(opts)));
    }

    /// Waits for `'connect'`; fails with the error the socket was destroyed with. The
    /// events read meanwhile stay readable through [`Socket::next_event`].
    pub async fn wait_connected(&self) -> io::Result<()> {
        let info = self.info();
        if !info.pending && !info.destroyed {
            return Ok(());
        }
        let mut error = None;
        let mut seen = Vec::new();
        let result = loop {
            let Some(e) = self.take_event().await else {
                break Err(io::ErrorKind::BrokenPipe.into());
            };
            let done = match &e {
                SocketEvent::Connect => Some(Ok(())),
                SocketEvent::Error(err) => {
                    error = Some(err.clone());
                    None
                }
                SocketEvent::Close(_) => Some(Err(match error.take() {
                    Some(err) => to_io_error(err),
                    None => io::Error::new(io::ErrorKind::NotConnected, "the socket closed"),
                })),
                _ => None,
            };
            seen.push(e);
            if let Some(r) = done {
                break r;
            }
        };
        lock(&self.stash).extend(seen);
        result
    }

    /// `socket.write(chunk, cb)`: the id its callback event ([`SocketEvent::WriteCallback`])
    /// will carry, and Node's return value (false: wait for `'drain'`).
    pub async fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        let chunk = chunk.into();
        self.ask(|tx| Cmd::Write(chunk, true, Some(tx)))
            .await
            .unwrap_or(WriteResult {
                id: WriteId(0),
                ok: false,
            })
    }

    /// `socket.write(chunk)` without a callback: no [`SocketEvent::WriteCallback`] follows
    /// (one event fewer per write), only Node's return value.
    pub async fn write_quietly(&self, chunk: impl Into<Chunk>) -> WriteResult {
        let chunk = chunk.into();
        self.ask(|tx| Cmd::Write(chunk, false, Some(tx)))
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
        lock(&self.shared.info).clone()
    }

    /// The next event, in Node's order. `None` only if the driving task is gone.
    ///
    /// Asking for the next event tells the driver the previous one was handled: Node's
    /// deferred work (the next tick: `'end'` after data, the automatic `end()` without
    /// `allowHalfOpen`, `'error'`, `'close'`, …) runs only once the application handled
    /// the events before it, as JavaScript listeners return before the next tick. A socket
    /// whose events are never read therefore stalls at its first deferred step (dropping
    /// the handle lets it finish).
    pub async fn next_event(&self) -> Option<SocketEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        self.take_event().await
    }

    /// Like [`Socket::next_event`], but lets only Node's next-tick work run meanwhile, not a
    /// later loop turn's (a handle's `'close'`): what JavaScript sees before a
    /// `setImmediate` callback runs. The next [`Socket::next_event`] lets the rest run.
    pub async fn next_tick_event(&self) -> Option<SocketEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        self.ack_mode(true);
        let e = self.events.recv().await.ok()?;
        self.took(&e);
        Some(e)
    }

    async fn take_event(&self) -> Option<SocketEvent> {
        self.ack();
        let e = self.events.recv().await.ok()?;
        self.took(&e);
        Some(e)
    }

    /// Reports the events handled so far (all those taken: the application is asking for
    /// the next one).
    fn ack(&self) {
        self.ack_mode(false);
    }

    /// Reports the events handled so far; `ticks_only`: let only next-tick work run.
    fn ack_mode(&self, ticks_only: bool) {
        let taken = self.taken.load(Ordering::Acquire);
        let held = self.holding.swap(false, Ordering::AcqRel);
        let mode_changed = self.ticks_only.swap(ticks_only, Ordering::AcqRel) != ticks_only;
        if self.acked.swap(taken, Ordering::AcqRel) < taken || held || mode_changed {
            self.send(Cmd::Ack(taken, ticks_only));
        }
    }

    /// Accounts for an event taken; `'data'` taken lets reading from the OS resume.
    fn took(&self, e: &SocketEvent) {
        self.taken.fetch_add(1, Ordering::AcqRel);
        if let SocketEvent::Data(d) = e {
            let prev = self.shared.unconsumed.fetch_sub(d.len(), Ordering::AcqRel);
            if prev >= READ_PACE && prev - d.len() < READ_PACE {
                self.send(Cmd::Wake);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
            let stashed = lock(&this.stash).pop_front();
            let next = match stashed {
                Some(e) => Some(e),
                None => {
                    this.ack();
                    let e = ready!(this.events.as_mut().poll_next(cx));
                    if let Some(e) = &e {
                        this.took(e);
                    }
                    e
                }
            };
            match next {
                None => this.read.done = Some(None),
                Some(e) => match e {
                    SocketEvent::Data(d) => {
                        this.read.buf = d;
                        this.read.pos = 0;
                    }
                    SocketEvent::End | SocketEvent::Close(_) => this.read.done = Some(None),
                    SocketEvent::Error(e) => this.read.done = Some(Some(e)),
                    _ => {}
                },
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
        match this
            .cmd
            .try_send(Cmd::Write(Chunk::bytes(buf), false, None))
        {
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
