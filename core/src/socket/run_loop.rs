//! The deferred work of Node's ticks and loop phases, and the outputs a driver pulls.

use super::*;

impl Socket {
    pub(super) fn run(&mut self, d: Deferred) {
        match d {
            Deferred::StartConnect(life) => {
                if life != self.life || !self.connecting() {
                    return;
                }
                match std::mem::replace(&mut self.conn, Conn::Waiting) {
                    Conn::Scheduled { remote, family } => {
                        self.start_attempt(remote, family);
                    }
                    Conn::Unparsable {
                        address,
                        port,
                        family,
                    } => self.fail_unparsable(address, port, family),
                    other => self.conn = other,
                }
            }
            Deferred::LookupDone(life, id, result) => {
                if life == self.life {
                    self.do_lookup_done(self.clock, id, result);
                }
            }
            Deferred::Lookups(life, rest) => {
                if life == self.life && self.connecting() && !self.destroyed() {
                    self.emit_lookups(*rest);
                }
            }
            Deferred::NextCandidate(life) => {
                if life == self.life && self.connecting() && !self.destroyed() {
                    self.next_candidate(self.clock);
                }
            }
            // Events and callbacks already owed are delivered even if the socket was
            // connected again meanwhile: the old life still ends with its 'close'.
            Deferred::Emit(e) => self.event(e),
            Deferred::Close {
                kind,
                after,
                released,
                in_flight,
            } => {
                if in_flight.is_some() && self.w.in_flight_id == in_flight {
                    self.cancel_in_flight();
                }
                // Node 20's emitCloseNT sets the stream's closeEmitted: on a stream that
                // connect() revived since (its _undestroy ran first), that leaves the new
                // life unable to emit 'end' or to finish.
                self.r.close_emitted = true;
                self.event(SocketEvent::Close(kind));
                if !after.is_empty() || self.w.errored_after_close.is_some() {
                    self.q.next_tick(Deferred::AfterClose(after, released));
                }
            }
            Deferred::AfterClose(after, released) => {
                self.w.length = self.w.length.saturating_sub(released);
                self.w.bytes_accepted -= std::mem::take(&mut self.w.after_close_bytes);
                for e in after {
                    self.event(e);
                }
                if let Some(e) = self.w.errored_after_close.take() {
                    let errored = (**self.w.errored.get_or_insert(e)).clone();
                    for id in std::mem::take(&mut self.w.end_callbacks) {
                        self.event(SocketEvent::EndCallback {
                            id,
                            error: Some(errored.clone()),
                        });
                    }
                }
            }
            Deferred::AfterWrite(events) => self.after_write(events),
            Deferred::ErrorBuffer => self.error_buffer(),
            Deferred::EmitEnd(life) => {
                self.r.end_scheduled = false;
                if life != self.life
                    || self.destroyed()
                    || self.r.end_emitted
                    || self.r.close_emitted
                    || !self.r.buffer.is_empty()
                {
                    return;
                }
                self.r.end_emitted = true;
                self.event(SocketEvent::End);
                if !self.cfg.allow_half_open {
                    // Node swaps in writeAfterFIN when 'end' is emitted.
                    self.w.write_after_fin_is_epipe = true;
                }
                if self.w.open() && !self.cfg.allow_half_open {
                    self.q.next_tick(Deferred::AutoEnd(life));
                } else if self.w.finished() {
                    self.q.after_listeners(Deferred::AutoDestroy(life));
                }
            }
            Deferred::AutoDestroy(life) => {
                if life == self.life && !self.destroyed() {
                    self.do_destroy(None);
                }
            }
            Deferred::AutoEnd(life) => {
                if life == self.life && !self.destroyed() && self.w.open() {
                    self.do_end(Instant::ZERO, None, false);
                }
            }
            Deferred::Flow(life) => {
                if life == self.life {
                    // Node's resume_: read(0) starts the handle reading even when pause()
                    // came in between; what arrives then waits in the buffer.
                    if !self.r.reading
                        && !self.r.eof
                        && !self.destroyed()
                        && matches!(self.conn, Conn::Open { .. })
                        && self.r.buffered < self.cfg.readable_high_water_mark
                    {
                        self.r.reading = true;
                        self.q.resume_reads();
                        self.io(SocketIo::StartReading);
                    }
                    self.flow();
                }
            }
            Deferred::Destroy(life, e) => {
                if life == self.life && !self.destroyed() {
                    self.conn = Conn::Idle;
                    self.do_destroy(Some(e));
                }
            }
            Deferred::WriteError(life, e, failed) => {
                if life == self.life {
                    self.after_write_error(e, failed);
                } else {
                    // Connected again meanwhile: only the failed writes are still owed.
                    for id in failed {
                        self.event(SocketEvent::WriteCallback {
                            id,
                            error: Some(e.clone()),
                        });
                    }
                }
            }
            Deferred::FinishAfterShutdown(life) => {
                if life == self.life && !self.destroyed() && self.w.shutdown == Shutdown::InFlight {
                    if !self.w.fin_sent {
                        self.io(SocketIo::Shutdown);
                    }
                    self.finish();
                }
            }
            Deferred::ConnectFlush(life) => {
                if life == self.life && std::mem::take(&mut self.connect_flush_pending) {
                    self.connect_flush(self.clock);
                }
            }
            Deferred::OrphanFinal(life) => {
                if life == self.life {
                    self.w.fin_sent = true;
                    self.q.pending(Deferred::OrphanShutdown(life));
                }
            }
            Deferred::OrphanShutdown(life) => {
                if life == self.life && self.is_open() {
                    self.io(SocketIo::Shutdown);
                }
            }
            Deferred::Io(life, fact) => {
                if life == self.life {
                    self.apply(fact);
                }
            }
        }
    }

    // ----- the run loop ------------------------------------------------------------------

    /// See [`Socket::poll_output`].
    pub(super) fn do_poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(o) = self.q.pop() {
                return Some(o);
            }
            if self.sync_section_done() {
                continue;
            }
            let d = self.q.pop_deferred()?;
            self.run(d);
        }
    }

    /// The driver carried out everything emitted so far: what Node decides right after
    /// its synchronous I/O is decided now. `'ready'` follows `'connect'` once the writes
    /// the connection started were tried (a write libuv completes at once calls back in
    /// between); the high-water-mark check of the last `write()`s settles; completions
    /// from now on are asynchronous. Returns whether it emitted something.
    pub(super) fn sync_section_done(&mut self) -> bool {
        self.resolve_drain_check();
        self.w.sync_window = false;
        self.w.dispatching = false;
        // Before 'ready': the write parked while connecting completes from a 'connect'
        // listener.
        let after_write = self.w.after_write.take();
        let wrote = after_write.is_some();
        if let Some(callbacks) = after_write {
            self.after_write(callbacks);
        }
        if std::mem::take(&mut self.ready_pending) {
            self.event(SocketEvent::Ready);
            if self.reset_on_connect && !self.destroyed() {
                self.destroy_with(None, true);
            }
            return true;
        }
        wrote
    }

    /// Node's high-water-mark check of the last `write()`s, once the driver's synchronous
    /// I/O is done.
    pub(super) fn resolve_drain_check(&mut self) {
        if std::mem::take(&mut self.w.check_drain)
            && !self.below_high_water_mark()
            && !self.destroyed()
        {
            self.w.need_drain = true;
        }
    }

    /// `write()`'s return value as Node computes it, once the driver carried out the
    /// writes emitted so far: whether the write buffer is below the high-water mark.
    pub fn write_return_value(&self) -> bool {
        // Node's writeOrBuffer: false once the stream errored or was destroyed (a refused
        // write errors or destroys it), so this is the whole answer for every driver.
        self.below_high_water_mark() && self.w.errored.is_none() && !self.destroyed()
    }

    /// Node's `state.length < state.highWaterMark || state.length === 0`: an empty buffer
    /// is below even a high-water mark of 0.
    fn below_high_water_mark(&self) -> bool {
        self.w.length < self.cfg.high_water_mark || self.w.length == 0
    }

    /// See [`Socket::poll_tick_output`].
    pub(super) fn do_poll_tick_output(&mut self) -> Option<Output> {
        loop {
            if let Some(o) = self.q.pop() {
                return Some(o);
            }
            if self.sync_section_done() {
                continue;
            }
            let d = self.q.pop_tick_work()?;
            self.run(d);
        }
    }

    /// See [`Socket::poll_emitted`].
    pub(super) fn do_poll_emitted(&mut self) -> Option<Output> {
        if let Some(o) = self.q.pop() {
            return Some(o);
        }
        // The driver carried out everything emitted (a write it completed at once
        // included).
        self.sync_section_done();
        self.q.pop()
    }

    /// Bytes reported with [`Socket::received`] that no poll phase has handled yet: for
    /// libuv they are still in the kernel (read in the next poll phase, or left there
    /// while reading is stopped). A simulated kernel counts them against the sender.
    pub fn unpolled_read_bytes(&self) -> usize {
        self.q
            .unhandled_facts()
            .map(|d| match d {
                Deferred::Io(_, Fact::Received(_, data)) => data.len(),
                _ => 0,
            })
            .sum()
    }

    /// Whether libuv's read loop would read again now: not once the bytes reported and
    /// not yet polled fill a paused stream's buffer to its high-water mark (its read
    /// callback stops reading there, and the rest stays in the kernel, holding back the
    /// sender). A driver that reads ahead of the poll phase stops there.
    pub fn reads_more(&self) -> bool {
        self.r.flowing
            || self.r.buffered + self.unpolled_read_bytes() < self.cfg.readable_high_water_mark
    }

    /// For a driver whose sockets share one loop: whether this socket has closing-phase
    /// work (a closed handle's `'close'`) waiting. [`Socket::poll_output`] runs it.
    pub fn has_closing_work(&self) -> bool {
        self.q.has_closing()
    }

    /// See [`Socket::start_poll_phase`].
    pub(super) fn do_start_poll_phase(&mut self) -> bool {
        self.q.start_poll()
    }

    /// See [`Socket::share_loop`].
    pub(super) fn do_share_loop(&mut self) {
        self.q.share_loop();
    }

    /// See [`Socket::start_iteration`].
    pub(super) fn do_start_iteration(&mut self) -> bool {
        self.q.start_iteration()
    }

    /// Gives back the buffers of the queues and write lists that are empty, when the
    /// driver has taken every output: an idle connection holds no memory from its last
    /// burst of work.
    pub(super) fn release_spare(&mut self) {
        self.q.release_spare();
        self.w.release_spare();
    }

    /// Whether nothing at all is pending (no output, no deferred work).
    pub fn is_idle(&self) -> bool {
        self.q.is_idle()
    }

    /// Whether work waits for the next loop iteration's pending phase: only then does
    /// [`Socket::start_iteration`] begin anything. Side-effect free.
    pub fn waits_for_next_iteration(&self) -> bool {
        self.q.waits_for_next_iteration()
    }

    /// Whether OS facts wait for a poll phase that could begin now: only then does
    /// [`Socket::start_poll_phase`] begin one. Side-effect free.
    pub fn has_facts_for_poll_phase(&self) -> bool {
        self.q.could_start_poll()
    }

    /// Whether only work of a later event-loop turn (a handle's `'close'`) is pending: a
    /// JavaScript continuation after an event would run now.
    pub fn ticks_drained(&self) -> bool {
        self.q.ticks_drained()
    }

    /// Whether work that comes before this socket's pending-phase work waits (events to
    /// hand over, next ticks, the rest of a poll phase): the driver runs it first, in any
    /// socket order.
    pub fn has_work_before_pending(&self) -> bool {
        self.q.has_work_before_pending()
    }

    /// Whether pending-phase work was asked since the last
    /// [`Socket::take_pending_asks`].
    pub fn has_pending_asks(&self) -> bool {
        self.q.has_pending_asks()
    }

    /// Whether this socket's part of a poll phase is in progress (its facts, their ticks,
    /// the pending work asked meanwhile): for a shared loop, the loop is in its poll
    /// phase while any socket is (see
    /// [`PendingOrder::note`](crate::event_loop::PendingOrder::note)).
    pub fn polls(&self) -> bool {
        self.q.polling()
    }

    /// Whether pending-phase work waits, due now or in the next iteration.
    pub fn has_pending_work(&self) -> bool {
        self.q.has_pending_work()
    }

    /// Whether pending-phase work is due now (see [`Socket::take_pending_asks`]).
    pub fn has_pending_due(&self) -> bool {
        self.q.has_pending_due()
    }

    /// The next deadline (idle timer, happy-eyeballs attempt timer). Side-effect free.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let he = self.he.as_deref().and_then(Schedule::deadline);
        match (self.idle_deadline, he) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// See [`Socket::handle_timeout`].
    pub(super) fn do_handle_timeout(&mut self, now: Instant) {
        self.clock = self.clock.max(now);
        if let Some(d) = self.he.as_deref().and_then(Schedule::deadline) {
            if d <= now {
                self.attempt_timed_out(now);
            }
        }
        if let Some(d) = self.idle_deadline {
            if d <= now && !self.destroyed() {
                self.idle_deadline = None;
                self.event(SocketEvent::Timeout);
            }
        }
    }
}
