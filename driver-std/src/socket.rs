//! The application's handle on a socket: Node's `net.Socket` calls, its events, and a
//! byte-stream face (`std::io::Read` + `Write`).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sansnet::options::{ConnectOptions, SocketOptions};
use sansnet::socket::{Chunk, Socket as Core, SocketEvent, WriteId, WriteResult};
use sansnet::{Duration, NetError};

use crate::conn::Conn;
use crate::info::{Bell, Snapshot};
use crate::lookup::LookupFn;
use crate::mailbox::{lock, Mailbox};
use crate::server_engine::ServerEngine;
use crate::socket_engine::{Parts, SocketEngine, READ_PACE};
use crate::socket_link::{Answer, Blocked, Call, Cmd, Delivered, Shared, Until};
use crate::to_io_error;
use sansnet::socket::SocketInfo;

/// `new net.Socket(options)` with what the driver adds: a custom resolver and a bell.
#[derive(Clone, Default)]
pub struct SocketSettings {
    /// `allowHalfOpen`, `highWaterMark`, … (what the core takes).
    pub options: SocketOptions,
    /// Node's `lookup` option: replaces the system resolver.
    pub lookup: Option<LookupFn>,
    /// Rung whenever this socket delivers an event (see [`Bell`]).
    pub bell: Option<Arc<Bell>>,
}

impl fmt::Debug for SocketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSettings")
            .field("options", &self.options)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .field("bell", &self.bell.is_some())
            .finish()
    }
}

/// A `net.Socket`, driven by its own thread while it has work.
///
/// Every method is Node's method of the same name and returns once the socket's engine
/// carried it out (with what Node does synchronously: a `write()` has made its first
/// attempt at the OS). Events, `'data'` included, come out of [`Socket::next_event`] in
/// Node's order; the byte-stream face ([`Read`], [`Write`], also on `&Socket`) consumes
/// the same events. Dropping the handle calls `destroySoon()`: what was written is sent,
/// then the socket closes and its thread ends.
pub struct Socket {
    mb: Arc<Mailbox<SocketEngine>>,
    events: Mutex<Receiver<Delivered>>,
    shared: Arc<Shared>,
    /// Events taken from the channel.
    taken: AtomicU64,
    /// Events a helper ([`Socket::wait_connected`], [`Socket::connect`]) read on the
    /// application's behalf.
    stash: Mutex<VecDeque<SocketEvent>>,
    info: Mutex<Arc<Snapshot>>,
    read: Mutex<ReadSide>,
}

#[derive(Default)]
struct ReadSide {
    buf: Vec<u8>,
    pos: usize,
    /// The stream ended: `None` cleanly, or with the error.
    done: Option<Option<NetError>>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("info", &self.info())
            .finish()
    }
}

/// `net.connect(options)`, blocking until `'connect'`: the connected socket, or the error
/// the socket was destroyed with. The events before `'connect'` (`'lookup'`,
/// `'connectionAttempt'`, …) are still there to read.
pub fn connect(opts: ConnectOptions) -> io::Result<Socket> {
    let settings = SocketSettings {
        options: opts.socket.clone(),
        ..SocketSettings::default()
    };
    connect_with(opts, settings)
}

/// [`connect`] with a custom resolver or a bell.
pub fn connect_with(opts: ConnectOptions, settings: SocketSettings) -> io::Result<Socket> {
    let socket = Socket::with_settings(settings)?;
    socket.connect(opts);
    socket.wait_connected()?;
    Ok(socket)
}

impl Socket {
    /// `new net.Socket(options)`: not connected, and no thread until it has work. Fails
    /// only when the process is out of descriptors.
    pub fn new(options: SocketOptions) -> io::Result<Socket> {
        Socket::with_settings(SocketSettings {
            options,
            ..SocketSettings::default()
        })
    }

    /// `new net.Socket(options)` with a custom resolver or a bell.
    pub fn with_settings(s: SocketSettings) -> io::Result<Socket> {
        let core = Core::new(&s.options);
        Socket::build(core, None, s.lookup, s.bell, None)
    }

    /// A socket the server admitted; its engine starts at once.
    pub(crate) fn accepted(
        core: Core,
        conn: Option<Conn>,
        lookup: Option<LookupFn>,
        bell: Option<Arc<Bell>>,
        server: Option<Arc<Mailbox<ServerEngine>>>,
    ) -> io::Result<Socket> {
        let s = Socket::build(core, conn, lookup, bell, server)?;
        // Accepted in a poll phase, the socket is first polled in the next iteration: only
        // next-tick work runs until the application first asks for its events.
        s.shared.ticks_only.store(true, Ordering::Release);
        s.mb.start();
        Ok(s)
    }

    fn build(
        core: Core,
        conn: Option<Conn>,
        lookup: Option<LookupFn>,
        bell: Option<Arc<Bell>>,
        server: Option<Arc<Mailbox<ServerEngine>>>,
    ) -> io::Result<Socket> {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let first = Arc::new(Snapshot {
            version: 0,
            info: core.info(),
        });
        let parts = Parts {
            core,
            conn,
            events: tx,
            shared: shared.clone(),
            bell,
            lookup,
            server,
        };
        let mb = Mailbox::new(|me| SocketEngine::new(parts, me))?;
        Ok(Socket {
            mb,
            events: Mutex::new(rx),
            shared,
            taken: AtomicU64::new(0),
            stash: Mutex::new(VecDeque::new()),
            info: Mutex::new(first),
            read: Mutex::new(ReadSide::default()),
        })
    }

    fn call(&self, call: Call) -> Answer {
        let (tx, rx) = mpsc::channel();
        self.mb.send(Cmd::Call(call, tx));
        match rx.recv() {
            Ok(r) => {
                self.see(r.snapshot);
                r.answer
            }
            Err(_) => Answer::Done,
        }
    }

    fn see(&self, s: Arc<Snapshot>) {
        let mut cur = lock(&self.info);
        if s.version > cur.version {
            *cur = s;
        }
    }

    /// Waits until the engine says `until` holds, or fails with the socket's error.
    fn wait(&self, until: Until) -> io::Result<()> {
        let _blocked = Blocked::new(&self.shared);
        self.ack();
        let (tx, rx) = mpsc::channel();
        self.mb.send(Cmd::Wait(until, tx));
        let r = rx
            .recv()
            .unwrap_or_else(|_| Err(io::ErrorKind::BrokenPipe.into()));
        // The getters reflect the condition reached (its events may not be taken yet).
        self.refresh_info();
        r
    }

    /// `socket.connect(options)`: returns at once; progress and failure arrive as events.
    /// A destroyed socket may connect again (Node reuses it); its byte stream starts
    /// afresh.
    pub fn connect(&self, opts: ConnectOptions) {
        *lock(&self.read) = ReadSide::default();
        self.call(Call::Connect(Box::new(opts)));
    }

    /// Waits for `'connect'`; fails with the error the socket was destroyed with. The
    /// events read meanwhile stay readable through [`Socket::next_event`].
    pub fn wait_connected(&self) -> io::Result<()> {
        let info = self.info();
        if !info.pending && !info.destroyed {
            return Ok(());
        }
        let mut error = None;
        let mut seen = Vec::new();
        let result = loop {
            let Some(e) = self.take(Block::Forever) else {
                break Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the socket is not connecting",
                ));
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
    pub fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_call(chunk.into(), false)
    }

    /// `socket.write(chunk)` without a callback: no [`SocketEvent::WriteCallback`] follows
    /// (one event fewer per write), only Node's return value.
    pub fn write_quietly(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_call(chunk.into(), true)
    }

    fn write_call(&self, chunk: Chunk, quiet: bool) -> WriteResult {
        match self.call(Call::Write(chunk, quiet)) {
            Answer::Write(r) => r,
            _ => WriteResult {
                id: WriteId(0),
                ok: false,
            },
        }
    }

    /// `socket.end([chunk])`: half-close after what was written; its callback is
    /// [`SocketEvent::EndCallback`] with the returned id.
    pub fn end(&self, chunk: Option<Chunk>) -> WriteResult {
        match self.call(Call::End(chunk)) {
            Answer::Write(r) => r,
            _ => WriteResult {
                id: WriteId(0),
                ok: false,
            },
        }
    }

    /// `socket.destroy([err])`.
    pub fn destroy(&self, err: Option<NetError>) {
        self.call(Call::Destroy(err));
    }

    /// `socket.destroySoon()`.
    pub fn destroy_soon(&self) {
        self.call(Call::DestroySoon);
    }

    /// `socket.resetAndDestroy()`: close with RST (`ERR_INVALID_HANDLE_TYPE` for a
    /// unix-domain socket).
    pub fn reset_and_destroy(&self) -> Result<(), NetError> {
        match self.call(Call::ResetAndDestroy) {
            Answer::Reset(r) => r,
            _ => Ok(()),
        }
    }

    /// `socket.pause()`.
    pub fn pause(&self) {
        self.call(Call::Pause);
    }

    /// `socket.resume()`.
    pub fn resume(&self) {
        self.call(Call::Resume);
    }

    /// `socket.setTimeout(ms)`: `'timeout'` after that much inactivity (the socket stays
    /// open); zero disables.
    pub fn set_timeout(&self, timeout: Duration) {
        self.call(Call::SetTimeout(timeout));
    }

    /// `socket.setNoDelay(noDelay)`.
    pub fn set_no_delay(&self, no_delay: bool) {
        self.call(Call::SetNoDelay(no_delay));
    }

    /// `socket.setKeepAlive(enable, initialDelay)`; the delay counts in whole seconds.
    pub fn set_keep_alive(&self, enable: bool, initial_delay: Duration) {
        let secs = u32::try_from(initial_delay.as_secs()).unwrap_or(u32::MAX);
        self.call(Call::SetKeepAlive(enable, secs));
    }

    /// The options' `AbortSignal` aborted: destroy with `AbortError`, never connect again.
    pub fn abort(&self) {
        self.call(Call::Abort);
    }

    /// `socket.remoteAddress` / `remotePort` / `remoteFamily`, read now (reading it while
    /// connected caches it, as in Node).
    pub fn remote_address(&self) -> Option<SocketAddr> {
        match self.call(Call::RemoteAddress) {
            Answer::Remote(a) => a,
            _ => None,
        }
    }

    /// The getters as of the newest event taken or call returned.
    pub fn info(&self) -> SocketInfo {
        lock(&self.info).info.clone()
    }

    /// The getters now, as the engine sees them (events not taken yet included).
    ///
    /// Also a synchronisation point: it first reports every event taken so far as
    /// handled, and when it returns the engine has carried out every earlier call and run
    /// the deferred work this allows; the events produced are ready to take.
    pub fn refresh_info(&self) -> SocketInfo {
        self.ack();
        self.call(Call::Info);
        self.info()
    }

    /// The next event, in Node's order, blocking until there is one. `None` once the
    /// socket rests (closed, or never connected) and every event was taken: nothing more
    /// happens until the application calls.
    ///
    /// Asking for the next event ends the application's turn and tells the driver the
    /// previous events were handled: Node's deferred work (the next tick: `'end'` after
    /// data, the automatic `end()` without `allowHalfOpen`, `'error'`, `'close'`, …) runs
    /// only then, as JavaScript listeners and statements finish before the next tick (see
    /// the crate docs). A socket never waited on stalls at its first deferred step
    /// (dropping the handle lets it finish).
    pub fn next_event(&self) -> Option<SocketEvent> {
        self.take(Block::Forever)
    }

    /// The next event if one is there now (see [`Socket::next_event`]).
    pub fn try_next_event(&self) -> Option<SocketEvent> {
        self.take(Block::No)
    }

    /// Like [`Socket::try_next_event`], but lets only Node's next-tick work run, not a
    /// later loop turn's (a handle's `'close'`): what JavaScript sees before a
    /// `setImmediate` callback runs. The next ordinary take lets the rest run.
    pub fn try_next_tick_event(&self) -> Option<SocketEvent> {
        self.take_mode(Block::No, true)
    }

    /// The getters now, as the engine sees them (events not taken yet included), without
    /// ending the application's turn: unlike [`Socket::refresh_info`], no deferred work is
    /// let run.
    pub fn current_info(&self) -> SocketInfo {
        self.call(Call::Info);
        self.info()
    }

    /// The next event, waiting at most `timeout` (see [`Socket::next_event`]).
    pub fn next_event_timeout(&self, timeout: Duration) -> Option<SocketEvent> {
        self.take(Block::Until(Instant::now() + timeout))
    }

    /// The events, in order, until the socket rests.
    pub fn events(&self) -> impl Iterator<Item = SocketEvent> + '_ {
        std::iter::from_fn(move || self.next_event())
    }

    /// Whether the socket rests: no thread, nothing in flight, every event delivered.
    pub fn is_resting(&self) -> bool {
        self.mb.is_resting()
    }

    /// `TcpStream::shutdown`: `Write` ends the writable side (FIN after what was
    /// written) and waits for `'finish'`; `Both` then destroys the socket; `Read` is not
    /// something Node can do (`Unsupported`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Read {
            return Err(io::ErrorKind::Unsupported.into());
        }
        self.end(None);
        let r = self.wait(Until::Finished);
        if how == Shutdown::Both {
            self.destroy(None);
        }
        r
    }

    fn take(&self, block: Block) -> Option<SocketEvent> {
        self.take_mode(block, false)
    }

    /// Takes the next event; `ticks_only`: only next-tick work may run meanwhile.
    fn take_mode(&self, block: Block, ticks_only: bool) -> Option<SocketEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        if self.shared.ticks_only.swap(ticks_only, Ordering::AcqRel) != ticks_only {
            // The engine may run more (or less) deferred work now.
            self.mb.nudge();
        }
        let _blocked = match block {
            Block::No => None,
            Block::Forever | Block::Until(_) => Some(Blocked::new(&self.shared)),
        };
        self.ack();
        let rx = lock(&self.events);
        loop {
            let d = match rx.try_recv() {
                Ok(d) => d,
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) if self.mb.is_resting() => rx.try_recv().ok()?,
                Err(TryRecvError::Empty) => match block {
                    Block::No => return None,
                    Block::Forever => rx.recv().ok()?,
                    Block::Until(t) => {
                        let left = t.saturating_duration_since(Instant::now());
                        rx.recv_timeout(left).ok()?
                    }
                },
            };
            match d {
                Delivered::Resting => self.shared.resting_sent.store(false, Ordering::Release),
                Delivered::Event(e, snapshot) => {
                    self.took(&e, snapshot);
                    return Some(e);
                }
            }
        }
    }

    /// The application waits on the socket: its turn is over, and the events taken so
    /// far are handled, so deferred work may run.
    fn ack(&self) {
        let taken = self.taken.load(Ordering::Acquire);
        self.shared.waits.fetch_add(1, Ordering::AcqRel);
        let more = self.shared.acked.swap(taken, Ordering::AcqRel) < taken;
        if more || self.shared.held.load(Ordering::Acquire) {
            self.mb.nudge();
        }
    }

    fn took(&self, e: &SocketEvent, snapshot: Arc<Snapshot>) {
        self.taken.fetch_add(1, Ordering::AcqRel);
        self.see(snapshot);
        if let SocketEvent::Data(d) = e {
            let prev = self.shared.unconsumed.fetch_sub(d.len(), Ordering::AcqRel);
            if prev >= READ_PACE && prev - d.len() < READ_PACE {
                self.mb.nudge();
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Block {
    No,
    Forever,
    Until(Instant),
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Nobody will ask for events any more: the loop runs on its own.
        self.shared.ticks_only.store(false, Ordering::Release);
        self.mb.close(Cmd::Gone);
    }
}

impl Read for &Socket {
    /// The bytes of the `'data'` events; `Ok(0)` at `'end'` (or `'close'`); the error of
    /// an `'error'` event. Other events are consumed and skipped.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut r = lock(&self.read);
        loop {
            if r.pos < r.buf.len() {
                let n = buf.len().min(r.buf.len() - r.pos);
                buf[..n].copy_from_slice(&r.buf[r.pos..r.pos + n]);
                r.pos += n;
                return Ok(n);
            }
            if let Some(done) = &r.done {
                return match done {
                    None => Ok(0),
                    Some(e) => Err(to_io_error(e.clone())),
                };
            }
            match self.next_event() {
                None | Some(SocketEvent::End | SocketEvent::Close(_)) => r.done = Some(None),
                Some(SocketEvent::Data(d)) => {
                    r.buf = d;
                    r.pos = 0;
                }
                Some(SocketEvent::Error(e)) => r.done = Some(Some(e)),
                Some(_) => {}
            }
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }
}

impl Write for &Socket {
    /// `write(buf)`; when Node's `write()` returns false, waits for `'drain'` before
    /// returning (back-pressure). Fails once the socket is destroyed. These writes
    /// deliver no [`SocketEvent::WriteCallback`].
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let r = self.write_call(Chunk::bytes(buf), true);
        if !r.ok {
            self.wait(Until::Drained)?;
        }
        Ok(buf.len())
    }

    /// Waits until the OS took every byte written (`writableLength` is 0).
    fn flush(&mut self) -> io::Result<()> {
        self.wait(Until::Flushed)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Write::write(&mut &*self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut &*self)
    }
}
