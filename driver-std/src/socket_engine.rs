//! The engine of one socket: it owns the core [`sansnet::socket::Socket`] and the OS
//! socket, carries out every [`SocketIo`] and feeds back what the OS did. It runs on the
//! socket's thread (see [`crate::mailbox`]).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use rustix::event::{PollFd, PollFlags};
use sansnet::socket::{
    AttemptId, LookupId, Output, Socket as Core, SocketEvent, SocketIo, WriteId, WriteResult,
};
use sansnet::NetError;

use crate::conn::{Conn, Connecting};
use crate::info::{Bell, Snapshot};
use crate::lookup::{self, LookupFn, LookupRequest};
use crate::mailbox::{Engine, Mailbox, WakeRx};
use crate::server_engine::{ServerCmd, ServerEngine};
use crate::socket_link::{Answer, Call, Cmd, Delivered, Reply, Shared, Until};
use crate::{code_of, now, poll_until, to_io_error};

/// How many bytes of `'data'` may wait for the application before the engine stops
/// reading from the OS (the application is slower than the network).
pub(crate) const READ_PACE: usize = 1 << 20;

/// How many reads one wake-up makes at most (so that writes and timers interleave).
const READS_PER_WAKE: usize = 16;

/// A write handed to the OS, with how much of it was taken.
#[derive(Debug)]
struct PendingWrite {
    id: WriteId,
    data: Vec<u8>,
    off: usize,
}

/// Everything an engine starts with.
pub(crate) struct Parts {
    pub(crate) core: Core,
    pub(crate) conn: Option<Conn>,
    pub(crate) events: Sender<Delivered>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) bell: Option<Arc<Bell>>,
    pub(crate) lookup: Option<LookupFn>,
    pub(crate) server: Option<Arc<Mailbox<ServerEngine>>>,
}

pub(crate) struct SocketEngine {
    core: Core,
    me: Weak<Mailbox<SocketEngine>>,
    events: Sender<Delivered>,
    events_closed: bool,
    shared: Arc<Shared>,
    bell: Option<Arc<Bell>>,
    rang: bool,
    lookup_fn: Option<LookupFn>,
    /// An accepted socket tells its server when it is gone.
    server: Option<Arc<Mailbox<ServerEngine>>>,
    handle_gone: bool,
    conn: Option<Conn>,
    reading: bool,
    read_eof: bool,
    read_buf: Vec<u8>,
    lookups: Vec<(LookupId, JoinHandle<()>)>,
    attempts: Vec<(AttemptId, Connecting)>,
    writes: VecDeque<PendingWrite>,
    waiters: Vec<(Until, Sender<io::Result<()>>)>,
    replies: Vec<(Sender<Reply>, Reply)>,
    last_error: Option<NetError>,
    /// Writes of the byte-stream face: their callbacks are not delivered.
    delivered: u64,
    /// The application's wait count when it last made a call: deferred work waits for a
    /// later wait.
    hold: Option<u64>,
    version: u64,
}

impl SocketEngine {
    pub(crate) fn new(p: Parts, me: Weak<Mailbox<SocketEngine>>) -> SocketEngine {
        SocketEngine {
            core: p.core,
            me,
            events: p.events,
            events_closed: false,
            shared: p.shared,
            bell: p.bell,
            rang: false,
            lookup_fn: p.lookup,
            server: p.server,
            handle_gone: false,
            conn: p.conn,
            reading: false,
            read_eof: false,
            read_buf: vec![0; 64 * 1024],
            lookups: Vec::new(),
            attempts: Vec::new(),
            writes: VecDeque::new(),
            waiters: Vec::new(),
            replies: Vec::new(),
            last_error: None,
            delivered: 0,
            hold: None,
            version: 0,
        }
    }

    fn snapshot(&mut self) -> Arc<Snapshot> {
        self.version += 1;
        Arc::new(Snapshot {
            version: self.version,
            info: self.core.info(),
        })
    }

    fn call(&mut self, call: Call) -> Answer {
        let now = now();
        match call {
            Call::Connect(opts) => {
                self.last_error = None;
                self.core.connect(now, &opts);
            }
            Call::Write(chunk, quiet) => {
                let r = self.core.write_with(now, chunk, !quiet);
                // Node's value is decided after libuv's synchronous write attempt.
                self.run_emitted();
                let ok = self.core.write_return_value();
                return Answer::Write(WriteResult { id: r.id, ok });
            }
            Call::End(chunk) => return Answer::Write(self.core.end(now, chunk)),
            Call::Destroy(e) => self.core.destroy(e),
            Call::DestroySoon => self.core.destroy_soon(now),
            Call::ResetAndDestroy => return Answer::Reset(self.core.reset_and_destroy()),
            Call::Pause => self.core.pause(),
            Call::Resume => self.core.resume(),
            Call::SetTimeout(d) => self.core.set_timeout(now, d),
            Call::SetNoDelay(b) => self.core.set_no_delay(b),
            Call::SetKeepAlive(on, secs) => self.core.set_keep_alive(on, secs),
            Call::RemoteAddress => return Answer::Remote(self.core.remote_address()),
            Call::Abort => self.core.abort(),
            Call::Info => {}
        }
        Answer::Done
    }

    /// Carries out every output, and runs deferred work (Node's ticks) only while the
    /// application waits on the socket, having handled every event delivered so far: in
    /// Node a tick runs after the listeners of the events before it returned and after
    /// the synchronous code that made calls, so the application's reaction to an event
    /// (its calls) must reach the core before the next tick does.
    fn pump(&mut self) {
        if let Some(h) = self.hold {
            if self.shared.waits.load(Ordering::Acquire) > h {
                self.hold = None;
                self.shared.held.store(false, Ordering::Release);
            }
        }
        loop {
            self.run_emitted();
            if !self.caught_up() {
                self.settle_write_check();
                return;
            }
            let o = if self.shared.ticks_only.load(Ordering::Acquire) {
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

    /// With no deferred work at all, `poll_output` runs nothing and only settles the
    /// high-water-mark check of the writes just made (`writableNeedDrain`, so that
    /// `'drain'` follows), which Node does at once.
    fn settle_write_check(&mut self) {
        if self.core.is_idle() {
            let _ = self.core.poll_output();
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

    /// Whether deferred work may run: the application handled every event delivered, or
    /// is blocked waiting on the driver (it cannot be in the middle of reacting), or no
    /// longer listens.
    fn caught_up(&self) -> bool {
        let acked = self.shared.acked.load(Ordering::Acquire) >= self.delivered;
        self.handle_gone
            || self.events_closed
            || (self.hold.is_none() && (acked || !self.waiters.is_empty()))
    }

    fn paced(&self) -> bool {
        !self.handle_gone
            && !self.events_closed
            && self.shared.unconsumed.load(Ordering::Acquire) >= READ_PACE
    }

    fn emit(&mut self, e: SocketEvent) {
        if let SocketEvent::Error(err) = &e {
            self.last_error = Some(err.clone());
        }
        let n = match &e {
            SocketEvent::Data(d) => d.len(),
            _ => 0,
        };
        let snapshot = self.snapshot();
        // Counted before sending, so that the handle never subtracts first.
        self.shared.unconsumed.fetch_add(n, Ordering::AcqRel);
        if self.events.send(Delivered::Event(e, snapshot)).is_ok() {
            self.delivered += 1;
            self.rang = true;
        } else {
            self.events_closed = true;
            self.shared.unconsumed.fetch_sub(n, Ordering::AcqRel);
        }
    }

    fn exec(&mut self, io: SocketIo) {
        let now = now();
        match io {
            SocketIo::Lookup {
                id,
                host,
                family,
                hints,
                all,
            } => {
                let req = LookupRequest {
                    host: host.clone(),
                    family,
                    hints,
                    all,
                };
                let me = self.me.clone();
                let done = move |r| {
                    if let Some(mb) = me.upgrade() {
                        mb.send(Cmd::LookupDone(id, r));
                    }
                };
                match lookup::spawn(self.lookup_fn.clone(), req, done) {
                    Ok(t) => self.lookups.push((id, t)),
                    Err(e) => {
                        let e = NetError::syscall(code_of(&e), "getaddrinfo", Some(&host), None);
                        self.core.lookup_done(now, id, Err(e));
                    }
                }
            }
            SocketIo::Connect {
                attempt,
                remote,
                local,
            } => {
                let c = Connecting::start(&remote, local);
                let bound = local.is_some() && c.bound();
                self.attempts.push((attempt, c));
                if bound {
                    // The local address is bound: Node announces the attempt now.
                    self.core.attempt_bound(now, attempt);
                }
            }
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
                if let Some(server) = self.server.take() {
                    server.send(ServerCmd::Released);
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
            match conn.write(&w.data[w.off..]) {
                Ok(0) => return self.write_error(sansnet::Code::Epipe),
                Ok(n) => w.off += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.write_error(code_of(&e)),
            }
        }
    }

    fn write_error(&mut self, code: sansnet::Code) {
        self.writes.clear();
        self.core.write_failed(code);
    }

    /// Reads what the kernel has, a bounded number of times.
    fn read_some(&mut self) {
        for _ in 0..READS_PER_WAKE {
            if !self.reading || self.read_eof || self.paced() {
                return;
            }
            let Some(conn) = &self.conn else { return };
            let r = conn.read(&mut self.read_buf);
            let now = now();
            match r {
                Ok(0) => {
                    self.read_eof = true;
                    self.core.eof(now);
                }
                Ok(n) => {
                    let data = self.read_buf[..n].to_vec();
                    self.core.received(now, data);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.read_eof = true;
                    self.core.read_failed(code_of(&e));
                }
            }
            self.pump();
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
        self.read_eof = false;
        self.writes.clear();
    }

    /// The error a waiter gets when its condition can no longer hold.
    fn closed_error(&self) -> io::Error {
        match &self.last_error {
            Some(e) => to_io_error(e.clone()),
            None => io::Error::new(io::ErrorKind::NotConnected, "the socket is closed"),
        }
    }

    /// Whether `until` holds (`Ok`), can no longer hold (`Err`), or not yet (`None`).
    fn settled(&self, until: Until) -> Option<io::Result<()>> {
        let core = &self.core;
        let holds = match until {
            // Below the high-water mark: a `write()` now would return true. (The core
            // settles `writableNeedDrain` only when deferred work may run.)
            Until::Drained => !core.writable_need_drain() && core.write_return_value(),
            Until::Flushed => core.writable_length() == 0,
            Until::Finished => core.writable_finished(),
        };
        if holds && (until == Until::Finished || !core.destroyed()) {
            return Some(Ok(()));
        }
        core.destroyed().then(|| Err(self.closed_error()))
    }

    fn attempt_done(&mut self, id: AttemptId) {
        let Some(i) = self.attempts.iter().position(|(a, _)| *a == id) else {
            return;
        };
        let (_, attempt) = self.attempts.remove(i);
        let now = now();
        match attempt.finish() {
            Ok(conn) => {
                let (local, remote) = conn.addresses();
                self.conn = Some(conn);
                self.read_eof = false;
                self.core.attempt_connected(now, id, local, remote);
            }
            Err(e) => match crate::conn::bind_failure(&e) {
                Some(b) => self.core.attempt_bind_failed(now, id, code_of(b)),
                None => self.core.attempt_failed(now, id, code_of(&e)),
            },
        }
        self.pump();
    }
}

impl Engine for SocketEngine {
    type Cmd = Cmd;
    const THREAD_NAME: &'static str = "sansnet-socket";

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Call(call, tx) => {
                let blocked = self.shared.blocked.load(Ordering::Acquire) > 0;
                if !matches!(call, Call::Info) && !blocked {
                    // The application's turn goes on until it waits: hold the ticks.
                    self.hold = Some(self.shared.waits.load(Ordering::Acquire));
                    self.shared.held.store(true, Ordering::Release);
                }
                let answer = self.call(call);
                self.run_emitted();
                self.settle_write_check();
                let snapshot = self.snapshot();
                self.replies.push((tx, Reply { answer, snapshot }));
            }
            Cmd::Wait(until, tx) => self.waiters.push((until, tx)),
            Cmd::LookupDone(id, r) => {
                if let Some(i) = self.lookups.iter().position(|(l, _)| *l == id) {
                    let (_, t) = self.lookups.remove(i);
                    if t.thread().id() != std::thread::current().id() {
                        let _ = t.join();
                    }
                }
                self.core.lookup_done(now(), id, r);
            }
            Cmd::Gone => {
                self.handle_gone = true;
                self.core.destroy_soon(now());
            }
        }
    }

    fn settle(&mut self) {
        self.pump();
        let waiters = std::mem::take(&mut self.waiters);
        for (until, tx) in waiters {
            match self.settled(until) {
                Some(r) => drop(tx.send(r)),
                None => self.waiters.push((until, tx)),
            }
        }
        for (tx, reply) in self.replies.drain(..) {
            let _ = tx.send(reply);
        }
        if std::mem::take(&mut self.rang) {
            if let Some(b) = &self.bell {
                b.ring();
            }
        }
    }

    fn can_rest(&self) -> bool {
        self.conn.is_none()
            && self.attempts.is_empty()
            && self.lookups.is_empty()
            && self.writes.is_empty()
            && self.core.is_idle()
            && self.core.poll_timeout().is_none()
    }

    fn handle_gone(&self) -> bool {
        self.handle_gone
    }

    fn rested(&mut self) {
        for (_, tx) in std::mem::take(&mut self.waiters) {
            let _ = tx.send(Err(self.closed_error()));
        }
        if !self.shared.resting_sent.swap(true, Ordering::AcqRel) {
            if self.events.send(Delivered::Resting).is_err() {
                self.events_closed = true;
            }
            if let Some(b) = &self.bell {
                b.ring();
            }
        }
    }

    fn wait(&mut self, wake: &WakeRx) {
        if !self.core.ticks_drained() {
            // Node runs the next tick's work before the loop handles more I/O: while that
            // work waits for the application, so does this socket's I/O (and its timers).
            let mut fds = vec![PollFd::from_borrowed_fd(wake.fd(), PollFlags::IN)];
            poll_until(&mut fds, None);
            let woken = !fds[0].revents().is_empty();
            drop(fds);
            if woken {
                wake.drain();
            }
            return;
        }
        let early = self.attempts.iter().any(|(_, a)| a.early.is_some());
        let deadline = if early {
            Some(now())
        } else {
            self.core.poll_timeout()
        };
        let mut conn_flags = PollFlags::empty();
        if self.reading && !self.read_eof && !self.paced() {
            conn_flags |= PollFlags::IN;
        }
        if !self.writes.is_empty() {
            conn_flags |= PollFlags::OUT;
        }
        let mut fds = vec![PollFd::from_borrowed_fd(wake.fd(), PollFlags::IN)];
        let conn_at = match &self.conn {
            Some(c) if !conn_flags.is_empty() => {
                fds.push(PollFd::from_borrowed_fd(c.fd(), conn_flags));
                Some(fds.len() - 1)
            }
            _ => None,
        };
        let mut attempt_at = Vec::new();
        for (id, a) in &self.attempts {
            if let Some(fd) = a.fd() {
                fds.push(PollFd::from_borrowed_fd(fd, PollFlags::OUT));
                attempt_at.push((*id, fds.len() - 1));
            }
        }
        poll_until(&mut fds, deadline);
        let revents: Vec<PollFlags> = fds.iter().map(PollFd::revents).collect();
        drop(fds);
        if !revents[0].is_empty() {
            wake.drain();
        }
        let mut ready: Vec<AttemptId> = self
            .attempts
            .iter()
            .filter(|(_, a)| a.early.is_some())
            .map(|(id, _)| *id)
            .collect();
        ready.extend(
            attempt_at
                .iter()
                .filter(|(_, at)| !revents[*at].is_empty())
                .map(|(id, _)| *id),
        );
        for id in ready {
            self.attempt_done(id);
        }
        if let Some(at) = conn_at {
            let r = revents[at];
            let failed = r.intersects(PollFlags::ERR | PollFlags::HUP);
            if (r.contains(PollFlags::OUT) || failed) && !self.writes.is_empty() {
                self.write_now();
                self.pump();
            }
            if r.contains(PollFlags::IN) || failed {
                self.read_some();
            }
        }
        if let Some(d) = self.core.poll_timeout() {
            let now = now();
            if d <= now {
                self.core.handle_timeout(now);
            }
        }
    }
}
