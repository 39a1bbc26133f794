//! One input type for everything that happens to a socket, and recordings that replay.
//!
//! Every entry point of [`Socket`] that changes it (an application call, an OS fact a
//! driver reports, the clock, a driver pulling outputs) is an [`Input`], applied by
//! [`Socket::handle`]; the named methods are shorthands for it. So a run is data: a
//! `Vec<(Instant, Input)>` that the property tests, the fuzz targets and the simulator
//! produce alike, and that [`Socket::start_recording`] captures from any driver and
//! [`Recording::replay`] runs again, to the same outputs.

use super::*;

/// Everything that can happen to a [`Socket`], as one value. Each variant is documented
/// on the method of the same name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    // ----- the application's calls
    /// [`Socket::connect`].
    Connect(ConnectOptions),
    /// [`Socket::connect_rejected`].
    ConnectRejected,
    /// [`Socket::write_with`] (`callback: true` is [`Socket::write`]).
    Write {
        /// The bytes.
        chunk: Chunk,
        /// Whether a callback was given.
        callback: bool,
    },
    /// [`Socket::write_sent`].
    WriteSent {
        /// What the driver's OS write already took.
        sent: usize,
        /// What it left.
        rest: Vec<u8>,
        /// Whether a callback was given.
        callback: bool,
    },
    /// [`Socket::end`].
    End {
        /// The last chunk, if any.
        chunk: Option<Chunk>,
        /// Whether a callback was given ([`SocketEvent::EndCallback`] follows).
        callback: bool,
    },
    /// [`Socket::destroy`].
    Destroy(Option<NetError>),
    /// [`Socket::handle_dropped`].
    HandleDropped,
    /// [`Socket::destroy_soon`].
    DestroySoon,
    /// [`Socket::reset_and_destroy`].
    ResetAndDestroy,
    /// [`Socket::pause`].
    Pause,
    /// [`Socket::resume`].
    Resume,
    /// [`Socket::set_timeout`].
    SetTimeout(Duration),
    /// [`Socket::set_no_delay`].
    SetNoDelay(bool),
    /// [`Socket::set_keep_alive`].
    SetKeepAlive {
        /// Whether keep-alive is on.
        enable: bool,
        /// The initial delay, in seconds.
        initial_delay_secs: u32,
    },
    /// [`Socket::abort`].
    Abort,
    /// [`Socket::remote_address`] (reading it caches it, as Node's getter does).
    RemoteAddress,
    // ----- what the driver reports
    /// [`Socket::lookup_done`].
    LookupDone(LookupId, Result<Vec<LookupAnswer>, NetError>),
    /// [`Socket::lookup_answered_at_once`].
    LookupAnsweredAtOnce(LookupId, Result<Vec<LookupAnswer>, NetError>),
    /// [`Socket::attempt_bound`].
    AttemptBound(AttemptId),
    /// [`Socket::attempt_bind_failed`].
    AttemptBindFailed(AttemptId, Code),
    /// [`Socket::attempt_connected`].
    AttemptConnected {
        /// The attempt.
        id: AttemptId,
        /// The local name.
        local: Option<SocketAddr>,
        /// The peer's name.
        remote: Option<SocketAddr>,
    },
    /// [`Socket::attempt_failed`].
    AttemptFailed(AttemptId, Code),
    /// [`Socket::received`].
    Received(Vec<u8>),
    /// [`Socket::eof`].
    Eof,
    /// [`Socket::eof_on_hang_up`].
    EofOnHangUp,
    /// [`Socket::hung_up`].
    HungUp,
    /// [`Socket::read_failed`].
    ReadFailed(Code),
    /// [`Socket::write_done`].
    WriteDone(WriteId),
    /// [`Socket::write_failed`].
    WriteFailed(Code),
    /// [`Socket::peer_address_gone`].
    PeerAddressGone,
    // ----- the loop and the clock
    /// [`Socket::handle_timeout`].
    Timeout,
    /// [`Socket::share_loop`].
    ShareLoop,
    /// [`Socket::start_iteration`].
    StartIteration,
    /// [`Socket::start_poll_phase`].
    StartPollPhase,
    /// [`Socket::poll_output`].
    PollOutput,
    /// [`Socket::poll_tick_output`].
    PollTickOutput,
    /// [`Socket::poll_emitted`].
    PollEmitted,
    /// [`Socket::take_pending_asks`].
    TakePendingAsks,
    /// [`Socket::pending_after_this_poll_phase`].
    PendingAfterThisPollPhase,
    /// [`Socket::grant_pending`].
    GrantPending,
}

/// What [`Socket::handle`] gives back for an [`Input`]: the value the named method returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The input returns nothing.
    Done,
    /// `write()` / `end()`.
    Write(WriteResult),
    /// `resetAndDestroy()`.
    Reset(Result<(), NetError>),
    /// A pulled output (or none).
    Output(Option<Output>),
    /// Whether a phase began ([`Socket::start_poll_phase`], [`Socket::start_iteration`]).
    Began(bool),
    /// [`Socket::remote_address`].
    Address(Option<SocketAddr>),
    /// [`Socket::take_pending_asks`].
    Count(u32),
}

impl Outcome {
    fn write_result(self) -> WriteResult {
        match self {
            Outcome::Write(w) => w,
            other => unreachable!("a write gave {other:?}"),
        }
    }

    fn output(self) -> Option<Output> {
        match self {
            Outcome::Output(o) => o,
            _ => None,
        }
    }
}

/// A socket's run as data: the state it started from and every input since, with the
/// time each came at and what it gave back. [`Recording::replay`] runs it again.
#[derive(Clone, Debug)]
pub struct Recording {
    start: Socket,
    inputs: Vec<(Instant, Input)>,
    outcomes: Vec<Outcome>,
}

impl Recording {
    /// The inputs, in order, each with its time.
    pub fn inputs(&self) -> &[(Instant, Input)] {
        &self.inputs
    }

    /// What each input gave back when it was recorded.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Runs the inputs again from the recorded starting state: the socket they lead to and
    /// what each input gave back (every output pulled among them).
    pub fn replay(&self) -> (Socket, Vec<Outcome>) {
        let mut s = self.start.clone();
        let outcomes = self
            .inputs
            .iter()
            .map(|(now, input)| s.handle(*now, input.clone()))
            .collect();
        (s, outcomes)
    }
}

impl Socket {
    /// Applies one input at `now` (inputs that take no time in their method use the
    /// latest time the socket saw). Every other entry point that changes the socket is a
    /// shorthand for this.
    pub fn handle(&mut self, now: Instant, input: Input) -> Outcome {
        if self.recording.is_none() {
            return self.apply_input(now, input);
        }
        let copy = input.clone();
        let outcome = self.apply_input(now, input);
        if let Some(r) = self.recording.as_mut() {
            r.inputs.push((now, copy));
            r.outcomes.push(outcome.clone());
        }
        outcome
    }

    fn apply_input(&mut self, now: Instant, input: Input) -> Outcome {
        // Polls run the loop's work; every other input is a call or a report.
        let call = !matches!(
            input,
            Input::PollOutput | Input::PollTickOutput | Input::PollEmitted
        );
        let outer = std::mem::replace(&mut self.in_call, call);
        let outcome = self.apply_call_or_report(now, input);
        self.in_call = outer;
        outcome
    }

    fn apply_call_or_report(&mut self, now: Instant, input: Input) -> Outcome {
        match input {
            Input::Connect(opts) => self.do_connect(now, &opts),
            Input::ConnectRejected => self.do_connect_rejected(now),
            Input::Write { chunk, callback } => {
                return Outcome::Write(self.do_write_with(now, chunk, callback))
            }
            Input::WriteSent {
                sent,
                rest,
                callback,
            } => {
                self.w.bytes_accepted += sent as u64;
                let chunk = Chunk {
                    length: sent + rest.len(),
                    bytes: rest,
                };
                return Outcome::Write(self.do_write_with(now, chunk, callback));
            }
            Input::End { chunk, callback } => {
                return Outcome::Write(self.do_end(now, chunk, callback))
            }
            Input::Destroy(err) => self.do_destroy(err),
            Input::HandleDropped => self.do_handle_dropped(now),
            Input::DestroySoon => self.do_destroy_soon(now),
            Input::ResetAndDestroy => return Outcome::Reset(self.do_reset_and_destroy()),
            Input::Pause => self.do_pause(),
            Input::Resume => self.do_resume(),
            Input::SetTimeout(t) => self.do_set_timeout(now, t),
            Input::SetNoDelay(on) => self.do_set_no_delay(on),
            Input::SetKeepAlive {
                enable,
                initial_delay_secs,
            } => self.do_set_keep_alive(enable, initial_delay_secs),
            Input::Abort => self.do_abort(),
            Input::RemoteAddress => return Outcome::Address(self.do_remote_address()),
            Input::LookupDone(id, result) => self.do_lookup_done(now, id, result),
            Input::LookupAnsweredAtOnce(id, result) => self
                .q
                .next_tick(Deferred::LookupDone(self.life, id, result)),
            Input::AttemptBound(id) => self.do_attempt_bound(now, id),
            Input::AttemptBindFailed(id, code) => self.do_attempt_bind_failed(now, id, code),
            Input::AttemptConnected { id, local, remote } => {
                self.do_attempt_connected(now, id, local, remote)
            }
            Input::AttemptFailed(id, code) => self.do_attempt_failed(now, id, code),
            Input::Received(data) => self.do_received(now, data),
            Input::Eof => self.do_eof(now),
            Input::EofOnHangUp => self.do_eof_on_hang_up(now),
            Input::HungUp => self.do_hung_up(),
            Input::ReadFailed(code) => self.do_read_failed(code),
            Input::WriteDone(id) => self.do_write_done(now, id),
            Input::WriteFailed(code) => self.do_write_failed(code),
            Input::PeerAddressGone => self.do_peer_address_gone(),
            Input::Timeout => self.do_handle_timeout(now),
            Input::ShareLoop => self.do_share_loop(),
            Input::TakePendingAsks => return Outcome::Count(self.q.take_pending_asks()),
            Input::PendingAfterThisPollPhase => self.q.pending_after_this_poll_phase(),
            Input::GrantPending => self.q.grant_pending(),
            Input::StartIteration => return Outcome::Began(self.do_start_iteration()),
            Input::StartPollPhase => return Outcome::Began(self.do_start_poll_phase()),
            Input::PollOutput => return Outcome::Output(self.do_poll_output()),
            Input::PollTickOutput => return Outcome::Output(self.do_poll_tick_output()),
            Input::PollEmitted => return Outcome::Output(self.do_poll_emitted()),
        }
        Outcome::Done
    }

    /// Starts recording: from now on every input is kept, with the state the socket is in
    /// now, so that [`Socket::take_recording`] gives a run that replays. Recording again
    /// starts over.
    pub fn start_recording(&mut self) {
        let mut start = self.clone();
        start.recording = None;
        self.recording = Some(Box::new(Recording {
            start,
            inputs: Vec::new(),
            outcomes: Vec::new(),
        }));
    }

    /// Stops recording and gives the run recorded since [`Socket::start_recording`].
    pub fn take_recording(&mut self) -> Option<Recording> {
        self.recording.take().map(|r| *r)
    }

    /// `socket.connect(options)` / `net.connect(options)`. The options were validated by
    /// [`crate::options`]; `now` re-arms the idle timer as Node does.
    ///
    /// Connecting a destroyed socket reuses it, as Node allows. Connecting while already
    /// connecting or connected fails the new attempt with `EALREADY` / `EISCONN`.
    pub fn connect(&mut self, now: Instant, opts: &ConnectOptions) {
        self.handle(now, Input::Connect(opts.clone()));
    }

    /// A `socket.connect(...)` that threw after its first steps
    /// ([`SocketConnectThrow::Connecting`](crate::options::SocketConnectThrow)): Node
    /// revives a destroyed socket, gives it a handle, re-arms the idle timer and sets
    /// `connecting` before it checks the port, the path, `localAddress`, `lookup`, the
    /// hints and the family, so after such a throw the socket says `connecting: true`
    /// (and `pending`, `readyState` `'opening'`) with nothing in flight, until it is
    /// destroyed or connected again. No output follows.
    pub fn connect_rejected(&mut self, now: Instant) {
        self.handle(now, Input::ConnectRejected);
    }

    /// `socket.write(chunk, cb)`. The callback arrives as [`SocketEvent::WriteCallback`]
    /// with the returned id.
    ///
    /// Node decides `write()`'s return value (and whether `'drain'` is owed) after
    /// libuv's synchronous write attempt. The core does the same: the check waits until the
    /// driver carried out the emitted writes (a driver that completes a write at once calls
    /// [`Socket::write_done`] before polling on). `ok` here is the value before any I/O;
    /// [`Socket::write_return_value`] gives Node's value once the driver's synchronous
    /// I/O is done.
    pub fn write(&mut self, now: Instant, chunk: Chunk) -> WriteResult {
        self.handle(
            now,
            Input::Write {
                chunk,
                callback: true,
            },
        )
        .write_result()
    }

    /// `socket.write(chunk)` with or without a callback: with `callback` false no
    /// [`SocketEvent::WriteCallback`] is ever emitted for it (Node calls nothing when no
    /// callback was given), which spares the application an event per write.
    pub fn write_with(&mut self, now: Instant, chunk: Chunk, callback: bool) -> WriteResult {
        self.handle(now, Input::Write { chunk, callback })
            .write_result()
    }

    /// Whether a `write()` now hands its bytes to the OS at once and alone: connected,
    /// not ended, destroyed or errored, with nothing queued or in flight. That is when
    /// libuv's synchronous attempt writes straight from the caller's buffer; a driver may
    /// then make that attempt itself, before the call, and report what the OS took with
    /// [`Socket::write_sent`], so that the bytes taken are never copied.
    pub fn writes_at_once(&self) -> bool {
        matches!(self.conn, Conn::Open { .. })
            && self.has_handle
            && !self.destroyed()
            && !self.w.ended
            && self.w.errored.is_none()
            && self.w.in_flight_id.is_none()
            && self.w.queue.is_empty()
    }

    /// `socket.write(data)` of `sent + rest.len()` bytes whose first `sent` the driver
    /// already handed to the OS straight from the caller's buffer, as
    /// [`Socket::writes_at_once`] allowed: the same as [`Socket::write_with`] of the whole,
    /// with only `rest` (often nothing) left to write. The events, `write()`'s value and
    /// `bytesWritten` are those of the whole write.
    ///
    /// Call it only right after the OS write, while `writes_at_once` still holds.
    pub fn write_sent(
        &mut self,
        now: Instant,
        sent: usize,
        rest: Vec<u8>,
        callback: bool,
    ) -> WriteResult {
        debug_assert!(self.writes_at_once());
        self.handle(
            now,
            Input::WriteSent {
                sent,
                rest,
                callback,
            },
        )
        .write_result()
    }

    /// `socket.end([data][, cb])`: half-close after the queued writes. The callback arrives
    /// as [`SocketEvent::EndCallback`]: at `'finish'`, or with the error of a failed write
    /// or destroy before it.
    ///
    /// Node's decision, in its order: `end(data)` whose write is refused calls back with
    /// that refusal (`ERR_STREAM_WRITE_AFTER_END` once ended, even if destroyed since);
    /// a stream neither ending nor errored starts ending (even when destroyed: that
    /// callback is then never called, as in Node); after `'finish'` it calls back with
    /// `ERR_STREAM_ALREADY_FINISHED`, when destroyed with `ERR_STREAM_DESTROYED`, when
    /// errored with the stream's error, each on the next tick; otherwise the callback waits
    /// for `'finish'`.
    pub fn end(&mut self, now: Instant, chunk: Option<Chunk>) -> WriteResult {
        self.end_with(now, chunk, true)
    }

    /// `socket.end([chunk][, cb])`: [`Socket::end`] with or without a callback (without,
    /// no [`SocketEvent::EndCallback`] follows).
    pub fn end_with(&mut self, now: Instant, chunk: Option<Chunk>, callback: bool) -> WriteResult {
        self.handle(now, Input::End { chunk, callback })
            .write_result()
    }

    /// `socket.destroy([err])`. Only the first call counts.
    pub fn destroy(&mut self, err: Option<NetError>) {
        self.handle(self.clock, Input::Destroy(err));
    }

    /// A driver's handle on this socket is gone (the application can no longer call it
    /// or see its events): it ends gracefully, as `destroySoon()`: what was written is
    /// sent, then the socket closes.
    pub fn handle_dropped(&mut self, now: Instant) {
        self.handle(now, Input::HandleDropped);
    }

    /// `socket.destroySoon()`: end, then destroy once `'finish'` was emitted.
    pub fn destroy_soon(&mut self, now: Instant) {
        self.handle(now, Input::DestroySoon);
    }

    /// `socket.resetAndDestroy()`: close with RST. Without a connection the socket is
    /// destroyed with `ERR_SOCKET_CLOSED`; a unix-domain connection is
    /// `Err(ERR_INVALID_HANDLE_TYPE)`; while connecting the reset waits for `'connect'`.
    pub fn reset_and_destroy(&mut self) -> Result<(), NetError> {
        match self.handle(self.clock, Input::ResetAndDestroy) {
            Outcome::Reset(r) => r,
            _ => Ok(()),
        }
    }

    /// `socket.pause()`: stop `'data'`; reading from the OS stops once the read buffer
    /// reaches the high-water mark.
    pub fn pause(&mut self) {
        self.handle(self.clock, Input::Pause);
    }

    /// `socket.resume()`: `'data'` flows again (also after `pauseOnConnect`).
    pub fn resume(&mut self) {
        self.handle(self.clock, Input::Resume);
    }

    /// `socket.setTimeout(ms)`: `'timeout'` after `ms` of inactivity, once per idle
    /// period; zero disables. Validation (Node's codes) is in [`crate::options`].
    pub fn set_timeout(&mut self, now: Instant, timeout: Duration) {
        self.handle(now, Input::SetTimeout(timeout));
    }

    /// `socket.setNoDelay(noDelay)`: remembered before connect, applied when it changes.
    pub fn set_no_delay(&mut self, no_delay: bool) {
        self.handle(self.clock, Input::SetNoDelay(no_delay));
    }

    /// `socket.setKeepAlive(enable, initialDelay)` with the delay already in whole
    /// seconds (`~~(ms / 1000)`).
    pub fn set_keep_alive(&mut self, enable: bool, initial_delay_secs: u32) {
        self.handle(
            self.clock,
            Input::SetKeepAlive {
                enable,
                initial_delay_secs,
            },
        );
    }

    /// The `AbortSignal` given in the options aborted: destroy with `AbortError`, and never
    /// connect afterwards (Node 20 would connect anyway, a defect).
    pub fn abort(&mut self) {
        self.handle(self.clock, Input::Abort);
    }

    /// The next output in causal order, running deferred work (Node's ticks) once nothing
    /// synchronous is left. `None`: nothing to do until the next input or deadline.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.handle(self.clock, Input::PollOutput).output();
        if o.is_none() {
            self.release_spare();
        }
        o
    }

    /// Like [`Socket::poll_output`], but runs only next-tick work, not a later loop turn's
    /// (a handle's `'close'`): what happens before a `setImmediate` callback.
    pub fn poll_tick_output(&mut self) -> Option<Output> {
        let o = self.handle(self.clock, Input::PollTickOutput).output();
        if o.is_none() {
            self.release_spare();
        }
        o
    }

    /// The next output already emitted, without running deferred work: what a caller may
    /// carry out between two synchronous calls (Node would not have reached its next tick).
    pub fn poll_emitted(&mut self) -> Option<Output> {
        let o = self.handle(self.clock, Input::PollEmitted).output();
        if o.is_none() {
            self.release_spare();
        }
        o
    }

    /// For a driver whose sockets share one loop: its poll phase begins, for every socket
    /// at once, with the facts that arrived before it (what [`Socket::poll_output`] would
    /// otherwise begin when this socket alone reaches it). Returns whether this socket has
    /// one; [`Socket::poll_tick_output`] then runs it.
    pub fn start_poll_phase(&mut self) -> bool {
        self.handle(self.clock, Input::StartPollPhase) == Outcome::Began(true)
    }

    /// For a driver whose sockets share one loop: how much pending-phase work (a shutdown
    /// asked with nothing queued, an error a syscall returned at once) this socket asked
    /// for since the last call. libuv's pending queue is one queue for the whole loop: the
    /// driver notes each ask in a [`PendingOrder`](crate::event_loop::PendingOrder) right
    /// after carrying out the socket's outputs, and runs the work in that order.
    pub fn take_pending_asks(&mut self) -> u32 {
        match self.handle(self.clock, Input::TakePendingAsks) {
            Outcome::Count(n) => n,
            _ => 0,
        }
    }

    /// The loop is in its poll phase: the pending-phase work this socket asked for runs
    /// right after it, not in the next iteration (see
    /// [`PendingOrder::note`](crate::event_loop::PendingOrder::note)).
    pub fn pending_after_this_poll_phase(&mut self) {
        self.handle(self.clock, Input::PendingAfterThisPollPhase);
    }

    /// Lets this socket of a shared loop run one pending-phase work at its next
    /// [`Socket::poll_tick_output`]: its turn in the loop's one pending queue (see
    /// [`PendingOrder`](crate::event_loop::PendingOrder)). Without a grant that work waits.
    pub fn grant_pending(&mut self) {
        self.handle(self.clock, Input::GrantPending);
    }

    /// For a driver whose sockets share one loop: from now on it begins each iteration
    /// ([`Socket::start_iteration`]), so pending work asked outside a poll phase waits for
    /// the next iteration, after this one's closing phase, as in libuv.
    pub fn share_loop(&mut self) {
        self.handle(self.clock, Input::ShareLoop);
    }

    /// For a driver whose sockets share one loop: a new iteration begins, for every socket
    /// at once, before its poll phase ([`Socket::start_poll_phase`]). Returns whether this
    /// socket has pending work for it; [`Socket::poll_tick_output`] then runs it.
    pub fn start_iteration(&mut self) -> bool {
        self.handle(self.clock, Input::StartIteration) == Outcome::Began(true)
    }

    /// Runs the timers due at `now`. Harmless when early.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.handle(now, Input::Timeout);
    }

    /// The OS no longer knows this connection's peer: `getpeername` fails once the kernel
    /// closed the connection (both FINs exchanged, or a reset), whether or not the socket
    /// read them. `remoteAddress` then reads `undefined` unless it was read before.
    pub fn peer_address_gone(&mut self) {
        self.handle(self.clock, Input::PeerAddressGone);
    }

    /// `socket.remoteAddress` / `remotePort` / `remoteFamily`: read from the connection and
    /// cached on first read, so it survives `'close'` only if read while connected.
    pub fn remote_address(&mut self) -> Option<SocketAddr> {
        match self.handle(self.clock, Input::RemoteAddress) {
            Outcome::Address(a) => a,
            _ => None,
        }
    }
}
