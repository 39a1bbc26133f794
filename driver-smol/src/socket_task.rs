//! The task that drives one socket: it owns the core [`sansnet::socket::Socket`] and the
//! OS socket, carries out every [`SocketIo`] and feeds back what the OS did.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_channel::{Receiver, Sender};
use async_io::Timer;
use futures_lite::StreamExt;
use sansnet::socket::{
    AttemptId, Chunk, LookupId, Output, Socket as Core, SocketEvent, SocketIo, WriteId, WriteResult,
};
use sansnet::{Duration, Instant, NetError};

use crate::conn::{self, Conn};
use crate::lookup::{self, LookupFn, LookupRequest, LookupResult};
use crate::{code_of, now, to_io_error, to_std};
use sansnet::socket::SocketInfo;

/// How many bytes of `'data'` may wait in the event channel before the driver stops
/// reading from the OS (the application is slower than the network).
pub(crate) const READ_PACE: usize = 1 << 20;

thread_local! {
    /// The buffer reads borrow while the OS has bytes ready (one per executor thread).
    static READ_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 64 * 1024]);
}

/// What the handle asks of the task.
pub(crate) enum Cmd {
    Connect(Box<sansnet::options::ConnectOptions>),
    /// A write; the flag: whether the application wants its callback event.
    Write(Chunk, bool, Option<Sender<WriteResult>>),
    End(Option<Chunk>, Option<Sender<WriteResult>>),
    Destroy(Option<NetError>),
    DestroySoon,
    ResetAndDestroy(Sender<Result<(), NetError>>),
    Pause,
    Resume,
    SetTimeout(Duration),
    SetNoDelay(bool),
    SetKeepAlive(bool, u32),
    RemoteAddress(Sender<Option<SocketAddr>>),
    Wait(Until, Sender<io::Result<()>>),
    /// The application handled this many events (it asked for the next one): deferred
    /// work may run — only the next tick's if the flag is set (what runs before a
    /// `setImmediate` callback), else also a later loop turn's (`'close'`).
    Ack(u64, bool),
    /// The application is in a synchronous section: deferred work waits for the next
    /// `Ack`.
    Hold,
    /// Answer once every command before this one was carried out.
    Sync(Sender<()>),
    /// The application consumed `'data'`: reading may resume.
    Wake,
}

/// A condition on the core a handle waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Until {
    /// No `'drain'` owed.
    Drained,
    /// Every write taken by the OS (`writableLength == 0`).
    Flushed,
    /// `'finish'` emitted.
    Finished,
}

/// State shared by the handle and the task.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The getters as of the task's last turn.
    pub(crate) info: Mutex<SocketInfo>,
    /// Bytes of `'data'` sent to the handle and not yet consumed.
    pub(crate) unconsumed: AtomicUsize,
}

type Attempt = Pin<Box<dyn Future<Output = io::Result<Conn>> + Send>>;

/// A write handed to the OS, with how much of it was taken.
struct PendingWrite {
    id: WriteId,
    data: Vec<u8>,
    off: usize,
}

enum Wake {
    Cmd(Cmd),
    CmdClosed,
    Lookup(LookupId, LookupResult),
    Attempt(AttemptId, io::Result<Conn>),
    Wrote(io::Result<()>),
    Read(io::Result<Vec<u8>>),
    Timer,
}

pub(crate) struct SocketTask {
    core: Core,
    cmd: Pin<Box<Receiver<Cmd>>>,
    cmd_open: bool,
    events: Sender<SocketEvent>,
    shared: Arc<Shared>,
    lookup_fn: Option<LookupFn>,
    /// An accepted socket tells its server when it is gone.
    release: Option<Sender<()>>,
    conn: Option<Conn>,
    reading: bool,
    read_eof: bool,
    lookup: Option<(LookupId, blocking::Task<LookupResult>)>,
    attempts: Vec<(AttemptId, Attempt)>,
    writes: VecDeque<PendingWrite>,
    timer: Timer,
    armed: Option<Instant>,
    waiters: Vec<(Until, Sender<io::Result<()>>)>,
    replies: Vec<Reply>,
    last_error: Option<NetError>,
    /// Events sent to the handle, and how many of them it handled.
    delivered: u64,
    acked: u64,
    /// The application said it is in a synchronous section ([`Cmd::Hold`]).
    held: bool,
    /// Only next-tick deferred work may run (the last `Ack` said so).
    ticks_only: bool,
}

/// A reply computed during a turn, sent once the turn is over.
enum Reply {
    Write(Sender<WriteResult>, WriteResult),
    Reset(Sender<Result<(), NetError>>, Result<(), NetError>),
    Remote(Sender<Option<SocketAddr>>, Option<SocketAddr>),
    Sync(Sender<()>),
}

impl SocketTask {
    pub(crate) fn new(
        core: Core,
        conn: Option<Conn>,
        cmd: Receiver<Cmd>,
        events: Sender<SocketEvent>,
        shared: Arc<Shared>,
        lookup_fn: Option<LookupFn>,
        release: Option<Sender<()>>,
    ) -> SocketTask {
        SocketTask {
            core,
            cmd: Box::pin(cmd),
            cmd_open: true,
            events,
            shared,
            lookup_fn,
            release,
            conn,
            reading: false,
            read_eof: false,
            lookup: None,
            attempts: Vec::new(),
            writes: VecDeque::new(),
            timer: Timer::never(),
            armed: None,
            waiters: Vec::new(),
            replies: Vec::new(),
            last_error: None,
            delivered: 0,
            acked: 0,
            held: false,
            ticks_only: false,
        }
    }

    /// Starts in the mode where only next-tick work runs (see [`crate::Socket`]'s
    /// `next_tick_event`) until the handle reports otherwise.
    pub(crate) fn ticks_only(mut self, on: bool) -> Self {
        self.ticks_only = on;
        self
    }

    /// The loop: execute outputs → wait for something → feed it in. Ends once every
    /// handle is gone and the socket is destroyed with nothing left to emit.
    pub(crate) async fn run(mut self) {
        self.pump();
        self.end_turn();
        loop {
            if !self.cmd_open && self.core.destroyed() && self.core.is_idle() {
                return;
            }
            self.arm_timer();
            let wake = poll_fn(|cx| self.poll_wake(cx)).await;
            self.handle(wake);
            self.end_turn();
        }
    }

    fn arm_timer(&mut self) {
        match self.core.poll_timeout() {
            Some(at) if self.armed != Some(at) => {
                self.timer.set_at(to_std(at));
                self.armed = Some(at);
            }
            Some(_) => {}
            None => self.armed = None,
        }
    }

    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if self.cmd_open {
            match self.cmd.as_mut().poll_next(cx) {
                Poll::Ready(Some(c)) => return Poll::Ready(Wake::Cmd(c)),
                Poll::Ready(None) => {
                    self.cmd_open = false;
                    return Poll::Ready(Wake::CmdClosed);
                }
                Poll::Pending => {}
            }
        }
        if !self.core.ticks_drained() {
            // Node runs the next tick's work before the loop handles more I/O: while
            // that work waits for the application, so does the I/O of this socket.
            return Poll::Pending;
        }
        if let Some((id, task)) = &mut self.lookup {
            if let Poll::Ready(r) = Pin::new(task).poll(cx) {
                let id = *id;
                self.lookup = None;
                return Poll::Ready(Wake::Lookup(id, r));
            }
        }
        for i in 0..self.attempts.len() {
            if let Poll::Ready(r) = self.attempts[i].1.as_mut().poll(cx) {
                let (id, _) = self.attempts.remove(i);
                return Poll::Ready(Wake::Attempt(id, r));
            }
        }
        if let (Some(conn), Some(w)) = (&mut self.conn, self.writes.front_mut()) {
            loop {
                match conn.poll_write(cx, &w.data[w.off..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Wake::Wrote(Err(io::ErrorKind::WriteZero.into())))
                    }
                    Poll::Ready(Ok(n)) => {
                        w.off += n;
                        if w.off == w.data.len() {
                            return Poll::Ready(Wake::Wrote(Ok(())));
                        }
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Wake::Wrote(Err(e))),
                    Poll::Pending => break,
                }
            }
        }
        let paced =
            !self.events.is_closed() && self.shared.unconsumed.load(Ordering::Acquire) >= READ_PACE;
        if self.reading && !self.read_eof && !paced {
            if let Some(conn) = &mut self.conn {
                // An idle connection holds no read buffer: the read borrows this thread's.
                let read = READ_BUF.with(|b| {
                    let mut b = b.borrow_mut();
                    conn.poll_read(cx, &mut b).map_ok(|n| b[..n].to_vec())
                });
                match read {
                    Poll::Ready(Ok(data)) => return Poll::Ready(Wake::Read(Ok(data))),
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                        cx.waker().wake_by_ref();
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Wake::Read(Err(e))),
                    Poll::Pending => {}
                }
            }
        }
        if self.armed.is_some() && Pin::new(&mut self.timer).poll(cx).is_ready() {
            self.armed = None;
            return Poll::Ready(Wake::Timer);
        }
        Poll::Pending
    }

    fn handle(&mut self, wake: Wake) {
        let now = now();
        match wake {
            Wake::Cmd(c) => self.command(c),
            Wake::CmdClosed => {
                // Every handle is gone: flush what was written, then close (destroySoon);
                // nobody will ask for events any more, so the loop runs on its own.
                self.ticks_only = false;
                self.held = false;
                self.core.destroy_soon(now);
            }
            Wake::Lookup(id, r) => self.core.lookup_done(now, id, r),
            Wake::Attempt(id, Ok(conn)) => {
                let (local, remote) = conn.addresses();
                self.conn = Some(conn);
                self.read_eof = false;
                self.core.attempt_connected(now, id, local, remote);
            }
            Wake::Attempt(id, Err(e)) => match crate::conn::bind_failure(&e) {
                Some(b) => self.core.attempt_bind_failed(now, id, code_of(b)),
                None => self.core.attempt_failed(now, id, code_of(&e)),
            },
            Wake::Wrote(Ok(())) => {
                if let Some(w) = self.writes.pop_front() {
                    self.core.write_done(now, w.id);
                }
            }
            Wake::Wrote(Err(e)) => {
                self.writes.clear();
                self.core.write_failed(code_of(&e));
            }
            Wake::Read(Ok(data)) if data.is_empty() => {
                self.read_eof = true;
                self.core.eof(now);
            }
            Wake::Read(Ok(data)) => self.core.received(now, data),
            Wake::Read(Err(e)) => {
                self.read_eof = true;
                self.core.read_failed(code_of(&e));
            }
            Wake::Timer => self.core.handle_timeout(now),
        }
        self.pump();
    }

    /// An application call: run it, carry out what it emitted synchronously (so that
    /// `write()`'s value is Node's), then the deferred work.
    fn command(&mut self, c: Cmd) {
        let now = now();
        match c {
            Cmd::Connect(opts) => {
                self.last_error = None;
                self.core.connect(now, &opts);
            }
            Cmd::Write(chunk, callback, reply) => {
                let r = self.core.write_with(now, chunk, callback);
                self.run_emitted();
                let ok = self.core.write_return_value();
                if let Some(tx) = reply {
                    self.replies
                        .push(Reply::Write(tx, WriteResult { id: r.id, ok }));
                }
            }
            Cmd::End(chunk, reply) => {
                let r = self.core.end(now, chunk);
                if let Some(tx) = reply {
                    self.replies.push(Reply::Write(tx, r));
                }
            }
            Cmd::Destroy(e) => self.core.destroy(e),
            Cmd::DestroySoon => self.core.destroy_soon(now),
            Cmd::ResetAndDestroy(tx) => {
                let r = self.core.reset_and_destroy();
                self.replies.push(Reply::Reset(tx, r));
            }
            Cmd::Pause => self.core.pause(),
            Cmd::Resume => self.core.resume(),
            Cmd::SetTimeout(d) => self.core.set_timeout(now, d),
            Cmd::SetNoDelay(b) => self.core.set_no_delay(b),
            Cmd::SetKeepAlive(on, secs) => self.core.set_keep_alive(on, secs),
            Cmd::RemoteAddress(tx) => {
                let a = self.core.remote_address();
                self.replies.push(Reply::Remote(tx, a));
            }
            Cmd::Wait(until, tx) => self.waiters.push((until, tx)),
            Cmd::Ack(n, ticks_only) => {
                self.acked = self.acked.max(n);
                self.held = false;
                self.ticks_only = ticks_only;
            }
            Cmd::Hold => self.held = true,
            Cmd::Sync(tx) => self.replies.push(Reply::Sync(tx)),
            Cmd::Wake => {}
        }
    }

    /// Carries out every output, and runs deferred work (Node's ticks) while the
    /// application has handled every event delivered so far: in Node a tick runs only
    /// after the listeners of the events before it returned, so the application's
    /// reaction to an event (its calls) must reach the core before the next tick does.
    fn pump(&mut self) {
        loop {
            self.run_emitted();
            if !self.caught_up() {
                return;
            }
            let o = if self.ticks_only {
                self.core.poll_tick_output()
            } else {
                self.core.poll_output()
            };
            match o {
                None => return,
                Some(o) => self.output(o),
            }
        }
    }

    /// Carries out the outputs already emitted (what Node does synchronously).
    fn run_emitted(&mut self) {
        while let Some(o) = self.core.poll_emitted() {
            self.output(o);
        }
    }

    fn output(&mut self, o: Output) {
        match o {
            Output::Event(e) => self.emit(e),
            Output::Io(io) => self.exec(io),
        }
    }

    /// Whether deferred work may run: the application handled every event sent, or is
    /// blocked waiting on the driver (it cannot be in the middle of reacting), or no
    /// longer listens.
    fn caught_up(&self) -> bool {
        !self.cmd_open
            || self.events.is_closed()
            || (!self.held && (self.acked >= self.delivered || !self.waiters.is_empty()))
    }

    fn emit(&mut self, e: SocketEvent) {
        if let SocketEvent::Error(err) = &e {
            self.last_error = Some(err.clone());
        }
        let n = match &e {
            SocketEvent::Data(d) => d.len(),
            _ => 0,
        };
        // The getters a listener reads are at least as new as the event.
        self.publish();
        // Counted before sending, so that the handle never subtracts first.
        self.shared.unconsumed.fetch_add(n, Ordering::AcqRel);
        if self.events.try_send(e).is_ok() {
            self.delivered += 1;
        } else {
            self.shared.unconsumed.fetch_sub(n, Ordering::AcqRel);
        }
    }

    fn exec(&mut self, io: SocketIo) {
        match io {
            SocketIo::Lookup {
                id,
                host,
                family,
                hints,
                all,
            } => {
                let req = LookupRequest {
                    host,
                    family,
                    hints,
                    all,
                };
                self.lookup = Some((id, lookup::spawn(self.lookup_fn.clone(), req)));
            }
            SocketIo::Connect {
                attempt,
                remote,
                local,
            } => self
                .attempts
                .push((attempt, Box::pin(conn::connect(remote, local)))),
            SocketIo::AbortAttempt { attempt } => self.attempts.retain(|(id, _)| *id != attempt),
            SocketIo::Write { id, data } => {
                self.writes.push_back(PendingWrite { id, data, off: 0 });
                self.write_now();
            }
            SocketIo::Shutdown => {
                // Node's afterShutdown ignores the status: a FIN the OS refuses (the peer
                // already reset the connection) still ends in 'finish'; a reset shows up
                // on the read side if anything is still reading.
                if let Some(c) = self.conn.as_ref() {
                    let _ = c.shutdown_write();
                }
            }
            SocketIo::StartReading => self.reading = true,
            SocketIo::StopReading => self.reading = false,
            SocketIo::SetNoDelay(on) => {
                if let Some(c) = &self.conn {
                    let _ = c.set_no_delay(on);
                }
            }
            SocketIo::SetKeepAlive {
                enable,
                initial_delay_secs,
            } => {
                if let Some(c) = &self.conn {
                    let _ = c.set_keep_alive(enable, initial_delay_secs);
                }
            }
            SocketIo::Close => self.close(false),
            SocketIo::Reset => self.close(true),
            SocketIo::ReleaseFromServer => {
                if let Some(tx) = self.release.take() {
                    let _ = tx.try_send(());
                }
            }
        }
    }

    /// libuv's synchronous write attempt: as much as the kernel takes now; a write taken
    /// whole completes at once, the rest waits for writability.
    fn write_now(&mut self) {
        while let Some(w) = self.writes.front_mut() {
            if w.off == w.data.len() {
                let id = w.id;
                self.writes.pop_front();
                self.core.write_done(now(), id);
                continue;
            }
            let Some(conn) = &self.conn else {
                w.off = w.data.len();
                continue;
            };
            match conn.try_write(&w.data[w.off..]) {
                Ok(0) => {
                    self.writes.clear();
                    self.core.write_failed(sansnet::Code::Epipe);
                    return;
                }
                Ok(n) => w.off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.writes.clear();
                    self.core.write_failed(code_of(&e));
                    return;
                }
            }
        }
    }

    /// Closes the OS socket; `reset` with `SO_LINGER` 0 (RST).
    fn close(&mut self, reset: bool) {
        if let Some(c) = self.conn.take() {
            if reset {
                let _ = c.set_linger_zero();
            }
        }
        self.reading = false;
        self.writes.clear();
    }

    fn publish(&self) {
        let info = self.core.info();
        if let Ok(mut slot) = self.shared.info.lock() {
            *slot = info;
        }
    }

    /// After a turn: publish the getters, answer waiters and replies.
    fn end_turn(&mut self) {
        self.publish();
        let core = &self.core;
        let last_error = &self.last_error;
        self.waiters
            .retain(|(until, tx)| match settled(core, *until, last_error) {
                Some(r) => {
                    let _ = tx.try_send(r);
                    false
                }
                None => !tx.is_closed(),
            });
        for r in self.replies.drain(..) {
            match r {
                Reply::Write(tx, v) => drop(tx.try_send(v)),
                Reply::Reset(tx, v) => drop(tx.try_send(v)),
                Reply::Remote(tx, v) => drop(tx.try_send(v)),
                Reply::Sync(tx) => drop(tx.try_send(())),
            }
        }
    }
}

/// Whether `until` holds (`Ok`), can no longer hold (`Err`), or not yet (`None`).
fn settled(core: &Core, until: Until, last_error: &Option<NetError>) -> Option<io::Result<()>> {
    let holds = match until {
        Until::Drained => !core.writable_need_drain(),
        Until::Flushed => core.writable_length() == 0,
        Until::Finished => core.writable_finished(),
    };
    if holds && (until == Until::Finished || !core.destroyed()) {
        return Some(Ok(()));
    }
    if core.destroyed() {
        return Some(Err(match last_error {
            Some(e) => to_io_error(e.clone()),
            None => io::Error::new(io::ErrorKind::NotConnected, "the socket was destroyed"),
        }));
    }
    None
}
