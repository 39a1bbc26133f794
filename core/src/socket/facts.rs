//! What the OS reports about an open connection (bytes, EOF, errors, write
//! completions), applied in its poll phase, and reading to the application.

use super::*;

impl Socket {
    /// See [`Socket::received`].
    pub(super) fn do_received(&mut self, now: Instant, mut data: Vec<u8>) {
        let life = self.life;
        if let Some((Deferred::Io(l, Fact::Received(at, last)), ends_poll)) = self.q.last_fact_mut()
        {
            if *l == life && last.len() < READ_SIZE {
                let take = data.len().min(READ_SIZE - last.len());
                last.extend(data.drain(..take));
                *at = now;
                *ends_poll = last.len() < READ_SIZE;
            }
        }
        while !data.is_empty() {
            let rest = if data.len() > READ_SIZE {
                data.split_off(READ_SIZE)
            } else {
                Vec::new()
            };
            let ends_poll = data.len() < READ_SIZE;
            self.q
                .fact(Deferred::Io(life, Fact::Received(now, data)), ends_poll);
            data = rest;
        }
    }

    /// See [`Socket::eof`].
    pub(super) fn do_eof(&mut self, now: Instant) {
        self.q.fact(Deferred::Io(self.life, Fact::Eof(now)), true);
    }

    /// See [`Socket::eof_on_hang_up`].
    pub(super) fn do_eof_on_hang_up(&mut self, now: Instant) {
        self.do_eof(now);
        self.do_hung_up();
    }

    /// See [`Socket::hung_up`].
    pub(super) fn do_hung_up(&mut self) {
        let life = self.life;
        self.q.join_before(
            |d| matches!(d, Deferred::Io(l, Fact::Received(..)) if *l == life),
            |d| matches!(d, Deferred::Io(l, Fact::Eof(_)) if *l == life),
        );
    }

    /// See [`Socket::read_failed`].
    pub(super) fn do_read_failed(&mut self, code: Code) {
        let life = self.life;
        let bytes_first = (self.q)
            .any_arriving(|d| matches!(d, Deferred::Io(l, Fact::Received(..)) if *l == life));
        if bytes_first {
            // libuv's next poll reads those bytes first, and a short read while the kernel
            // reports the hang-up that comes with the error (a reset) is followed by the
            // EOF: the error itself is never read.
            self.do_eof_on_hang_up(self.clock);
            return;
        }
        self.q
            .fact(Deferred::Io(self.life, Fact::ReadFailed(code)), true);
    }

    /// See [`Socket::write_done`].
    pub(super) fn do_write_done(&mut self, now: Instant, id: WriteId) {
        if self.w.dispatching {
            self.apply_write_done(now, id);
        } else {
            self.q
                .fact(Deferred::Io(self.life, Fact::WriteDone(now, id)), false);
        }
    }

    /// Whether bytes the driver reported wait for a poll phase.
    pub(super) fn has_unpolled_bytes(&self) -> bool {
        self.q
            .any_unapplied(|d| matches!(d, Deferred::Io(_, Fact::Received(..))))
    }

    /// See [`Socket::write_failed`].
    pub(super) fn do_write_failed(&mut self, code: Code) {
        let unpolled = self.q.find_arriving(|d| match d {
            Deferred::Io(_, Fact::ReadFailed(c)) => Some(c.clone()),
            _ => None,
        });
        let code = match unpolled {
            Some(first) if code == Code::Epipe => first,
            _ => code,
        };
        if self.w.dispatching {
            self.apply(Fact::WriteFailed(code));
        } else {
            self.q
                .fact(Deferred::Io(self.life, Fact::WriteFailed(code)), true);
        }
    }

    /// An OS fact in its poll phase.
    pub(super) fn apply(&mut self, fact: Fact) {
        match fact {
            Fact::Received(now, data) => self.apply_received(now, data),
            Fact::Eof(now) => {
                if !self.is_open() || self.r.eof {
                    return;
                }
                self.r.eof = true;
                self.refresh_timer(now);
                self.maybe_end();
            }
            Fact::ReadFailed(code) => {
                if !self.is_open() {
                    return;
                }
                let mut e = NetError::new(code.clone(), format!("read {}", code.as_str()));
                e.syscall = Some("read");
                self.do_destroy(Some(e));
            }
            Fact::WriteDone(now, id) => {
                self.w.in_write_callback = true;
                self.apply_write_done(now, id);
                self.w.in_write_callback = false;
            }
            Fact::WriteFailed(code) => {
                if !self.is_open() {
                    return;
                }
                let mut e = NetError::new(code.clone(), format!("write {}", code.as_str()));
                e.syscall = Some("write");
                // Its callbacks first, then the destroy (see write_error); libuv's
                // synchronous attempt (within write()) defers that to the next tick.
                self.write_error(e, None, self.w.sync_window);
            }
        }
    }

    pub(super) fn apply_received(&mut self, now: Instant, data: Vec<u8>) {
        if !self.is_open() || data.is_empty() || self.r.eof {
            return;
        }
        self.bytes_read += data.len() as u64;
        self.refresh_timer(now);
        if let Some(size) = self.cfg.onread {
            // libuv reads into the user's buffer, one callback per read: what the driver
            // read at once is as many reads of the buffer's size.
            for chunk in data.chunks(size.get()) {
                self.event(SocketEvent::OnRead(chunk.to_vec()));
            }
            return;
        }
        if self.r.flowing && self.r.buffer.is_empty() {
            self.event(SocketEvent::Data(data));
            return;
        }
        self.r.buffered += data.len();
        self.r.buffer.push_back(data);
        if self.r.buffered >= self.cfg.readable_high_water_mark && self.r.reading {
            self.r.reading = false;
            self.io(SocketIo::StopReading);
            // libuv's read loop ends with the read that filled the buffer: what else
            // the driver read stays in the kernel until reading resumes.
            self.q.stop_reads(is_read_fact);
        }
    }

    pub(super) fn apply_write_done(&mut self, now: Instant, id: WriteId) {
        if self.w.in_flight_id != Some(id) {
            return;
        }
        self.w.in_flight_id = None;
        let done = std::mem::take(&mut self.w.in_flight);
        if self.destroyed() {
            // Node calls the callback of a write that completes after destroy with null,
            // then errorBuffer.
            for w in &done {
                self.w.length = self.w.length.saturating_sub(w.length);
            }
            let callbacks = completed_callbacks(done);
            self.q.next_tick(Deferred::AfterWrite(callbacks));
            return;
        }
        self.refresh_timer(now);
        // Completed while the write()'s own outputs are still being carried out: libuv
        // took the bytes synchronously, and Node runs the callbacks on the next tick (after
        // the caller's following statements). Otherwise an I/O callback runs them now,
        // after 'drain'.
        let sync = self.w.sync_window;
        for w in &done {
            self.w.length -= w.length;
        }
        self.resolve_drain_check();
        let callbacks = completed_callbacks(done);
        // Node's onwrite: the writes buffered meanwhile go out first (clearBuffer), then
        // afterWrite ('drain' if owed, then the callbacks): on the next tick for a
        // completion within the call that wrote, else once the driver tried the writes
        // just handed to it (one it completes at once empties the buffer before the
        // check for 'drain').
        self.flush_writes(now);
        if sync {
            if !callbacks.is_empty() || self.drain_owed() {
                self.q.next_tick(Deferred::AfterWrite(callbacks));
            }
        } else if self.w.dispatching {
            self.w.after_write = Some(callbacks);
        } else {
            self.after_write(callbacks);
        }
    }

    /// Node's afterWrite: `'drain'` if owed, then the completed writes' callbacks (with
    /// null, even when a `'drain'` listener destroyed the socket), then errorBuffer if
    /// destroyed.
    pub(super) fn after_write(&mut self, callbacks: Vec<SocketEvent>) {
        if self.drain_owed() {
            self.w.need_drain = false;
            self.event(SocketEvent::Drain);
        }
        for e in callbacks {
            self.event(e);
        }
        if self.destroyed() {
            self.error_buffer();
        }
    }

    /// `'drain'` is owed now: `write()` returned false, every write completed, and the
    /// stream is neither ending nor destroyed.
    fn drain_owed(&self) -> bool {
        self.w.need_drain && self.w.length == 0 && !self.w.ended && !self.destroyed()
    }

    /// The write in the OS's hands when the handle closes: libuv cancels it
    /// (`uv__stream_destroy`), and Node's `onWriteComplete` on a destroyed stream calls it
    /// back with null: afterWrite (its callbacks, then errorBuffer), before `'close'`.
    pub(super) fn cancel_in_flight(&mut self) {
        self.w.in_flight_id = None;
        let done = std::mem::take(&mut self.w.in_flight);
        for w in &done {
            self.w.length = self.w.length.saturating_sub(w.length);
        }
        let callbacks = completed_callbacks(done);
        self.after_write(callbacks);
    }

    /// Node's errorBuffer: the callbacks a destroy failed, once (whichever of the
    /// destroy's tick and an earlier write's callbacks runs it first). Nothing while a
    /// write is in progress: its completion runs errorBuffer.
    pub(super) fn error_buffer(&mut self) {
        if self.w.in_flight_id.is_some() {
            return;
        }
        let released = std::mem::take(&mut self.w.error_buffer_length);
        self.w.bytes_accepted -= std::mem::take(&mut self.w.error_buffer_bytes);
        self.w.length = self.w.length.saturating_sub(released);
        for e in std::mem::take(&mut self.w.error_buffer) {
            self.event(e);
        }
        // Node's errorBuffer also fails the end() callbacks waiting for 'finish' (its
        // kOnFinished), those of an end() called after destroy() included; not while a
        // write is still in progress (the parked write of a connect is one).
        if self.destroyed() && self.w.in_flight_id.is_none() && self.w.errored_after_close.is_none()
        {
            let error = self.w.errored.as_deref().cloned().unwrap_or_else(|| {
                NetError::new(
                    Code::ErrStreamDestroyed,
                    "Cannot call end after a stream was destroyed",
                )
            });
            for id in std::mem::take(&mut self.w.end_callbacks) {
                self.event(SocketEvent::EndCallback {
                    id,
                    error: Some(error.clone()),
                });
            }
        }
    }

    pub(super) fn finish(&mut self) {
        self.w.shutdown = Shutdown::Finished;
        // Node calls the end() callbacks, then emits 'finish'.
        for id in std::mem::take(&mut self.w.end_callbacks) {
            self.event(SocketEvent::EndCallback { id, error: None });
        }
        self.event(SocketEvent::Finish);
        if self.w.destroy_on_finish || self.r.end_emitted {
            self.q.after_listeners(Deferred::AutoDestroy(self.life));
        }
    }

    /// Connected and not destroyed: the only state in which the OS can report traffic.
    pub(super) fn is_open(&self) -> bool {
        !self.destroyed() && matches!(self.conn, Conn::Open { .. })
    }

    // ----- reading to the application ------------------------------------------------------

    /// Schedules `'end'` once the FIN arrived and every byte was consumed.
    /// Paused or not: Node's `read(0)` after the EOF ends a stream with nothing buffered.
    pub(super) fn maybe_end(&mut self) {
        if self.r.eof && self.r.buffer.is_empty() && !self.r.end_scheduled && !self.r.end_emitted {
            self.r.end_scheduled = true;
            self.q.next_tick(Deferred::EmitEnd(self.life));
        }
    }

    pub(super) fn flow(&mut self) {
        // A resume() made before destroy() still hands out what was buffered: Node's
        // read() returns buffered data from a destroyed stream too.
        while self.r.flowing {
            let Some(chunk) = self.r.buffer.pop_front() else {
                break;
            };
            self.r.buffered -= chunk.len();
            self.event(SocketEvent::Data(chunk));
        }
        if self.r.flowing
            && !self.r.reading
            && !self.r.eof
            && !self.destroyed()
            && matches!(self.conn, Conn::Open { .. })
        {
            self.r.reading = true;
            self.q.resume_reads();
            self.io(SocketIo::StartReading);
        }
        self.maybe_end();
    }
}

/// The callbacks (with null) of the completed writes that asked for one.
fn completed_callbacks(done: Vec<QueuedWrite>) -> Vec<SocketEvent> {
    done.into_iter()
        .filter(|w| w.callback)
        .map(|w| SocketEvent::WriteCallback {
            id: w.id,
            error: None,
        })
        .collect()
}

/// Whether deferred work is a fact that comes from reading (bytes, EOF, a read error).
pub(super) fn is_read_fact(d: &Deferred) -> bool {
    matches!(
        d,
        Deferred::Io(_, Fact::Received(..) | Fact::Eof(_) | Fact::ReadFailed(_))
    )
}
