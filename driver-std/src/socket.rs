//! The application's handle on a socket: Node's `net.Socket` calls, its events, and a
//! byte-stream face (`std::io::Read` + `Write`).

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use sansnet::options::{ConnectOptions, SocketOptions};
use sansnet::socket::{
    Chunk, LookupAnswer, Socket as Core, SocketEvent, SocketInfo, Wait, WaitEnd, WriteResult,
};
use sansnet::{Duration, Instant, NetError};

use crate::event_loop::{Loop, Mode};
use crate::lookup::{LookupFn, Resolver};
use crate::now;
use crate::runtime::{Runtime, Shared};
use crate::serve::HandleId;
use crate::socket_io::Waiter;

mod byte_stream;

/// `new net.Socket(options)` with what the driver adds: a custom resolver and the runtime.
#[derive(Clone, Default)]
pub struct SocketSettings {
    /// `allowHalfOpen`, `highWaterMark`, … (what the core takes).
    pub options: SocketOptions,
    /// Node's `lookup` option: replaces the system resolver (called on a helper thread;
    /// its answer arrives in a later poll phase, as an asynchronous resolver's does).
    pub lookup: Option<LookupFn>,
    /// Fixed answers to every lookup, given at once: a test double for Node's `lookup`
    /// option, applied on the next tick as a JavaScript `lookup` that calls back with
    /// `process.nextTick` (all of them when every address is wanted, else the first; none
    /// fails with `ENOTFOUND`). Takes precedence over [`SocketSettings::lookup`].
    pub lookup_answers: Option<Vec<LookupAnswer>>,
    /// The runtime the socket lives in (`None`: [`Runtime::global`]).
    pub runtime: Option<Runtime>,
}

impl fmt::Debug for SocketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSettings")
            .field("options", &self.options)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .field("lookup_answers", &self.lookup_answers)
            .field("runtime", &self.runtime)
            .finish()
    }
}

/// A `net.Socket` in a [`Runtime`].
///
/// Every method is Node's method of the same name and returns once it was carried out
/// with what Node does synchronously (a `write()` has made its first attempt at the OS).
/// Events, `'data'` included, come out of [`Socket::next_event`] in Node's order; the
/// byte-stream face ([`Read`](std::io::Read), [`Write`](std::io::Write), also on
/// `&Socket`) consumes the same events.
/// Dropping the handle calls `destroySoon()`: what was written is sent, then the socket
/// closes.
pub struct Socket {
    sh: Arc<Shared>,
    i: usize,
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
/// `'connectionAttempt'`, …) and `'connect'` itself are still there to read.
pub fn connect(opts: ConnectOptions) -> io::Result<Socket> {
    let settings = SocketSettings {
        options: opts.socket.clone(),
        ..SocketSettings::default()
    };
    connect_with(opts, settings)
}

/// [`connect`] with a custom resolver or runtime.
pub fn connect_with(opts: ConnectOptions, settings: SocketSettings) -> io::Result<Socket> {
    let socket = Socket::with_settings(settings);
    socket.connect(opts);
    socket.wait_connected()?;
    Ok(socket)
}

impl Socket {
    /// `new net.Socket(options)`: not connected.
    pub fn new(options: SocketOptions) -> Socket {
        Socket::with_settings(SocketSettings {
            options,
            ..SocketSettings::default()
        })
    }

    /// `new net.Socket(options)` with a custom resolver or runtime.
    pub fn with_settings(s: SocketSettings) -> Socket {
        let rt = s.runtime.unwrap_or_else(Runtime::global);
        let core = Core::new(&s.options);
        let resolver = Resolver::of(s.lookup_answers, s.lookup);
        let i = rt.shared.lock().add_socket(core, None, resolver);
        Socket { sh: rt.shared, i }
    }

    /// The handle of socket `i` of a runtime (an admitted connection).
    pub(crate) fn from_entry(sh: Arc<Shared>, i: usize) -> Socket {
        Socket { sh, i }
    }

    /// Runs an application call: the socket's turn is the application's until it waits
    /// again; what the call emitted is carried out at once.
    fn call<R>(&self, f: impl FnOnce(&mut Loop, usize, Instant) -> R) -> R {
        let mut st = self.sh.lock();
        let now = now();
        st.hold(self.i);
        let r = f(&mut st, self.i, now);
        st.drain_socket(self.i, Mode::Emitted, now);
        self.sh.after_call(&mut st);
        r
    }

    /// `socket.connect(options)`: returns at once; progress and failure arrive as events.
    /// A destroyed socket may connect again (Node reuses it). Options left unset take the
    /// process defaults as they are now (`sansnet::defaults`).
    pub fn connect(&self, opts: ConnectOptions) {
        let opts = opts.with_process_defaults();
        self.call(|st, i, now| {
            let e = &mut st.sockets[i];
            e.last_error = None;
            e.core.connect(now, &opts);
        });
    }

    /// A `socket.connect(...)` that threw after its first steps (Node's checks of the
    /// port, path, `lookup`, hints… run once `connecting` is set,
    /// [`sansnet::options::SocketConnectThrow::Connecting`]): the socket says
    /// `connecting` with nothing in flight ([`sansnet::socket::Socket::connect_rejected`]).
    pub fn connect_rejected(&self) {
        self.call(|st, i, now| st.sockets[i].core.connect_rejected(now));
    }

    /// Waits until the socket is no longer connecting: `Ok` once connected, else the
    /// error it was destroyed with. The events stay readable through
    /// [`Socket::next_event`].
    pub fn wait_connected(&self) -> io::Result<()> {
        self.block(Waiter::Connect, None, connected)
            .unwrap_or(Ok(()))
    }

    /// `socket.write(chunk)`: Node's return value (false: wait for `'drain'`). No callback
    /// event follows ([`Socket::write_with_callback`] asks for one).
    pub fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_with(chunk.into(), false)
    }

    /// `socket.write(chunk, cb)`: its callback arrives as [`SocketEvent::WriteCallback`]
    /// with the returned id.
    pub fn write_with_callback(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_with(chunk.into(), true)
    }

    fn write_with(&self, chunk: Chunk, callback: bool) -> WriteResult {
        self.call(|st, i, now| {
            let r = st.sockets[i].core.write_with(now, chunk, callback);
            // Node's value is decided after libuv's synchronous write attempt.
            st.drain_socket(i, Mode::Emitted, now);
            WriteResult {
                id: r.id,
                ok: st.sockets[i].core.write_return_value(),
            }
        })
    }

    /// `socket.end([chunk])`: half-close after what was written. No callback event
    /// follows ([`Socket::end_with_callback`] asks for one).
    pub fn end(&self, chunk: Option<Chunk>) -> WriteResult {
        self.call(|st, i, now| st.sockets[i].core.end_with(now, chunk, false))
    }

    /// `socket.end([chunk], cb)`: its callback arrives as [`SocketEvent::EndCallback`]
    /// with the returned id (at `'finish'`, or with the error that prevents it).
    pub fn end_with_callback(&self, chunk: Option<Chunk>) -> WriteResult {
        self.call(|st, i, now| st.sockets[i].core.end_with(now, chunk, true))
    }

    /// `socket.destroy([err])`.
    pub fn destroy(&self, err: Option<NetError>) {
        self.call(|st, i, _| st.sockets[i].core.destroy(err));
    }

    /// `socket.destroySoon()`.
    pub fn destroy_soon(&self) {
        self.call(|st, i, now| st.sockets[i].core.destroy_soon(now));
    }

    /// `socket.resetAndDestroy()`: close with RST (`ERR_INVALID_HANDLE_TYPE` for a
    /// unix-domain socket).
    pub fn reset_and_destroy(&self) -> Result<(), NetError> {
        self.call(|st, i, _| st.sockets[i].core.reset_and_destroy())
    }

    /// `socket.pause()`.
    pub fn pause(&self) {
        self.call(|st, i, _| st.sockets[i].core.pause());
    }

    /// `socket.resume()`.
    pub fn resume(&self) {
        self.call(|st, i, _| st.sockets[i].core.resume());
    }

    /// `socket.setTimeout(ms)`: `'timeout'` after that much inactivity (the socket stays
    /// open); zero disables.
    pub fn set_timeout(&self, timeout: Duration) {
        self.call(|st, i, now| st.sockets[i].core.set_timeout(now, timeout));
    }

    /// `socket.setNoDelay(noDelay)`.
    pub fn set_no_delay(&self, no_delay: bool) {
        self.call(|st, i, _| st.sockets[i].core.set_no_delay(no_delay));
    }

    /// `socket.setKeepAlive(enable, initialDelay)`; the delay counts in whole seconds.
    pub fn set_keep_alive(&self, enable: bool, initial_delay: Duration) {
        let secs = u32::try_from(initial_delay.as_secs()).unwrap_or(u32::MAX);
        self.call(|st, i, _| st.sockets[i].core.set_keep_alive(enable, secs));
    }

    /// The options' `AbortSignal` aborted: destroy with `AbortError`, never connect again.
    pub fn abort(&self) {
        self.call(|st, i, _| st.sockets[i].core.abort());
    }

    /// `socket.remoteAddress` / `remotePort` / `remoteFamily`, read now (reading it while
    /// connected caches it, as in Node).
    pub fn remote_address(&self) -> Option<SocketAddr> {
        let mut st = self.sh.lock();
        let e = &mut st.sockets[self.i];
        if e.conn().is_some_and(|c| !c.knows_peer()) {
            // getpeername fails: the kernel closed the connection.
            e.core.peer_address_gone();
        }
        e.core.remote_address()
    }

    /// This socket's identity in its runtime: what [`Runtime::wait_events`] reports when
    /// its events wait to be taken.
    pub fn id(&self) -> HandleId {
        HandleId::socket(self.sh.lock().sockets[self.i].gen)
    }

    /// The getters now.
    pub fn info(&self) -> SocketInfo {
        self.sh.lock().sockets[self.i].core.info()
    }

    /// The next event, in Node's order, blocking until there is one. `None` once the
    /// socket is closed (or was never connected) and every event was taken.
    ///
    /// Asking for the next event ends the application's turn: Node's deferred work for
    /// this socket (the next tick: `'end'` after data, the automatic `end()` without
    /// `allowHalfOpen`, `'error'`, `'close'`, …) runs only while the application waits
    /// on it, as JavaScript listeners and statements finish before the next tick. A
    /// socket never waited on stalls at its first deferred step (dropping the handle lets
    /// it finish).
    pub fn next_event(&self) -> Option<SocketEvent> {
        self.block(Waiter::Take, None, next).flatten()
    }

    /// The next event if one is there now (see [`Socket::next_event`]).
    pub fn try_next_event(&self) -> Option<SocketEvent> {
        let i = self.i;
        let mut st = self.sh.lock();
        st.end_turn();
        st.release(i);
        if !self.sh.manual {
            st.run_all();
        }
        pop(&mut st, i)
    }

    /// The next event, waiting at most `timeout` (see [`Socket::next_event`]).
    pub fn next_event_timeout(&self, timeout: Duration) -> Option<SocketEvent> {
        let deadline = std::time::Instant::now() + timeout;
        self.block(Waiter::Take, Some(deadline), next).flatten()
    }

    /// The events, in order, until the socket is closed.
    pub fn events(&self) -> impl Iterator<Item = SocketEvent> + '_ {
        std::iter::from_fn(|| self.next_event())
    }

    /// `TcpStream::shutdown`: `Write` ends the writable side (FIN after what was
    /// written) and waits for `'finish'`; `Both` then destroys the socket; `Read` is not
    /// something Node can do (`Unsupported`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Read {
            return Err(io::ErrorKind::Unsupported.into());
        }
        self.end(None);
        let r = self
            .block(Waiter::Blocked, None, finished)
            .unwrap_or(Ok(()));
        if how == Shutdown::Both {
            self.destroy(None);
        }
        r
    }

    // ----- the forms for async drivers -------------------------------------------------

    /// [`Socket::next_event`] for a task: `Pending` registers the task's waker.
    pub fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        self.poll(cx, Waiter::Take, next)
    }

    /// [`Socket::wait_connected`] for a task.
    pub fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, Waiter::Connect, connected)
    }

    /// For a task: ready once `'finish'` was emitted (the FIN left), or with the error
    /// the socket was destroyed with.
    pub fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, Waiter::Blocked, finished)
    }

    /// For a task: ready once the OS took every byte written (`writableLength` is 0).
    pub fn poll_flushed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, Waiter::Drain, flushed)
    }

    /// For a task: ready once a `write()` would return true (no `'drain'` owed).
    pub fn poll_drained(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, Waiter::Drain, drained)
    }

    // ----- waiting ----------------------------------------------------------------------

    /// Blocks until `cond` answers (`None`: `deadline` passed), running the loop meanwhile.
    fn block<T>(
        &self,
        who: Waiter,
        deadline: Option<std::time::Instant>,
        cond: fn(&mut Loop, usize) -> Option<T>,
    ) -> Option<T> {
        let i = self.i;
        let mut st = self.sh.lock();
        st.end_turn();
        st.release(i);
        st.sockets[i].count(who, 1);
        let cv = st.sockets[i].cv.clone();
        let (mut st, r) = self.sh.wait_until(
            st,
            &cv,
            deadline,
            i,
            |st| cond(st, i),
            |st, d| {
                let e = &mut st.sockets[i];
                e.waiting = e.waiting.saturating_add_signed(d);
            },
        );
        st.sockets[i].count(who, -1);
        // The wait is over: the caller's turn goes on with this socket (what it does
        // next is its reaction, as a listener's), so its deferred work waits again.
        st.hold(i);
        r
    }

    /// Polls `cond` for a task, running the loop's ready work first; `Pending` registers
    /// the task's waker.
    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        who: Waiter,
        cond: fn(&mut Loop, usize) -> Option<T>,
    ) -> Poll<T> {
        let i = self.i;
        let mut st = self.sh.lock();
        st.end_turn();
        st.release(i);
        st.task_polls(cx.waker(), None);
        if let Some(t) = cond(&mut st, i) {
            st.hold(i);
            return Poll::Ready(t);
        }
        st.sockets[i].count(who, 1);
        if !self.sh.manual {
            st.run_all();
        }
        let r = cond(&mut st, i);
        st.sockets[i].count(who, -1);
        match r {
            Some(t) => {
                st.hold(i);
                Poll::Ready(t)
            }
            None => {
                st.sockets[i].tasks.push((who, cx.waker().clone()));
                st.task_polls(cx.waker(), Some((i, who)));
                Poll::Pending
            }
        }
    }

    fn lock(&self) -> crate::runtime::Locked<'_> {
        self.sh.lock()
    }
}

/// Takes socket `i`'s next event: the application now reacts to it.
fn pop(st: &mut Loop, i: usize) -> Option<SocketEvent> {
    let e = &mut st.sockets[i];
    let ev = e.events.pop_front()?;
    if let SocketEvent::Data(d) = &ev {
        e.queued_bytes -= d.len();
    }
    if e.events.is_empty() {
        // An idle connection keeps no buffer from its last events.
        e.events = std::collections::VecDeque::new();
    }
    st.hold(i);
    Some(ev)
}

/// The next event, or `Some(None)` when none will ever come.
fn next(st: &mut Loop, i: usize) -> Option<Option<SocketEvent>> {
    match pop(st, i) {
        Some(e) => Some(Some(e)),
        None => st.sockets[i].silent().then_some(None),
    }
}

/// The end of a wait on socket `i`, as the core rules it ([`Core::wait_over`]): `Ok`, or
/// the error the socket was destroyed with once known.
fn wait_end(st: &mut Loop, i: usize, wait: Wait) -> Option<io::Result<()>> {
    let e = &st.sockets[i];
    match e.core.wait_over(wait, &e.events)? {
        WaitEnd::Done => {
            if wait == Wait::Connect {
                // Connected, the caller's turn begins as in a `'connect'` listener: the
                // socket is held until the caller waits again.
                st.hold(i);
            }
            Some(Ok(()))
        }
        WaitEnd::Destroyed => st.destroyed_error(i).map(Err),
    }
}

/// The connect's outcome, once known.
fn connected(st: &mut Loop, i: usize) -> Option<io::Result<()>> {
    wait_end(st, i, Wait::Connect)
}

/// `'finish'` emitted, or the socket destroyed.
fn finished(st: &mut Loop, i: usize) -> Option<io::Result<()>> {
    wait_end(st, i, Wait::Finish)
}

/// Every byte written taken by the OS (see [`Wait::Flush`]).
fn flushed(st: &mut Loop, i: usize) -> Option<io::Result<()>> {
    wait_end(st, i, Wait::Flush)
}

/// A `write()` would return true (see [`Wait::Drain`]).
fn drained(st: &mut Loop, i: usize) -> Option<io::Result<()>> {
    wait_end(st, i, Wait::Drain)
}

impl Drop for Socket {
    fn drop(&mut self) {
        let mut st = self.lock();
        st.abandon(self.i);
        if st.sleeping.is_some() {
            st.wake_runner();
        }
    }
}
