//! What the application asks of a socket: write, end, destroy, pause, timers, options.

use super::*;

/// What `write()` / `end()` return: the id its callback will carry, and `write()`'s return
/// value (false: wait for `'drain'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteResult {
    /// The id of the callback ([`SocketEvent::WriteCallback`] / [`SocketEvent::EndCallback`]).
    pub id: WriteId,
    /// `write()`'s return value.
    pub ok: bool,
}

impl Socket {
    /// See [`Socket::write_with`].
    pub(super) fn do_write_with(
        &mut self,
        now: Instant,
        chunk: Chunk,
        callback: bool,
    ) -> WriteResult {
        let id = WriteId(self.id());
        if self.w.ended && self.w.write_after_fin_is_epipe {
            // Node's writeAfterFIN: EPIPE to the callback, then destroy (a no-op, and so no
            // 'error', when the socket is already destroyed).
            let e = NetError::new(Code::Epipe, "This socket has been ended by the other party");
            self.write_callback(callback, id, Some(e.clone()));
            self.destroy_with(Some(e), false);
            return WriteResult { id, ok: false };
        }
        let ok = self.write_chunk(now, id, chunk, callback).unwrap_or(false);
        WriteResult { id, ok }
    }

    /// Node's `_write`, which `write()` and `end(data)` share. `Err`: the write was
    /// refused (its callback gets the error on the next tick, and the socket is destroyed
    /// with it unless it already was: no `'error'` then). `Ok`: `write()`'s value before
    /// any I/O.
    ///
    /// Node checks `ending` before `destroyed`: a socket ended and then destroyed refuses
    /// with `ERR_STREAM_WRITE_AFTER_END`, one only destroyed with `ERR_STREAM_DESTROYED`.
    fn write_chunk(
        &mut self,
        now: Instant,
        id: WriteId,
        chunk: Chunk,
        callback: bool,
    ) -> Result<bool, NetError> {
        let refusal = if self.w.ended {
            Some(NetError::new(
                Code::ErrStreamWriteAfterEnd,
                "write after end",
            ))
        } else if self.destroyed() {
            Some(NetError::new(
                Code::ErrStreamDestroyed,
                "Cannot call write after a stream was destroyed",
            ))
        } else {
            None
        };
        if let Some(e) = refusal {
            self.write_callback(callback, id, Some(e.clone()));
            self.destroy_with(Some(e.clone()), false);
            return Err(e);
        }
        // An errored stream holds the write back (its callback gets the error with the
        // others'); otherwise, without a handle, Node's _writeGeneric fails it at once.
        if self.w.errored.is_none() && !self.has_handle && !self.connecting() {
            let e = NetError::new(Code::ErrSocketClosed, "Socket is closed");
            self.write_error(e, callback.then_some(id), true);
            return Ok(false);
        }
        self.enqueue_write(now, id, chunk, callback);
        self.w.check_drain = true;
        Ok(self.write_return_value())
    }

    /// A write failed: the OS refused the batch in flight (`EPIPE`, `ECONNRESET`), or
    /// there is no handle (`failed`: that write's callback). As Node's `onwrite(er)`, the
    /// stream is errored at once: later writes are held back and `end()` no longer ends
    /// it. Then `onwriteError` ([`Socket::after_write_error`]) runs, on the next tick when
    /// the failure came within the call that wrote (`sync`: libuv's synchronous attempt).
    pub(super) fn write_error(&mut self, e: NetError, failed: Option<WriteId>, sync: bool) {
        self.w.in_flight_id = None;
        let mut ids = Vec::new();
        for w in std::mem::take(&mut self.w.in_flight) {
            self.w.length -= w.length;
            if w.callback {
                ids.push(w.id);
            }
        }
        ids.extend(failed);
        if self.w.errored.is_none() {
            self.w.errored = Some(Box::new(e.clone()));
        }
        if sync {
            self.q.next_tick(Deferred::WriteError(self.life, e, ids));
        } else {
            self.after_write_error(e, ids);
        }
    }

    /// Node's `onwriteError`: the failed writes' callbacks get the error, then every
    /// buffered write's and `end()`'s callback the stream's error, then the socket is
    /// destroyed with it (`'error'` on the next tick, `'close'`): callbacks before
    /// `'error'`.
    pub(super) fn after_write_error(&mut self, e: NetError, failed: Vec<WriteId>) {
        for id in failed {
            self.event(SocketEvent::WriteCallback {
                id,
                error: Some(e.clone()),
            });
        }
        let errored = self
            .w
            .errored
            .as_deref()
            .cloned()
            .unwrap_or_else(|| e.clone());
        for w in std::mem::take(&mut self.w.queue) {
            self.w.length -= w.length;
            self.w.bytes_accepted -= w.bytes.len() as u64;
            if w.callback {
                self.event(SocketEvent::WriteCallback {
                    id: w.id,
                    error: Some(errored.clone()),
                });
            }
        }
        for id in std::mem::take(&mut self.w.end_callbacks) {
            self.event(SocketEvent::EndCallback {
                id,
                error: Some(errored.clone()),
            });
        }
        self.destroy_with(Some(e), false);
    }

    /// A write's callback on the next tick, if the application asked for one.
    fn write_callback(&mut self, callback: bool, id: WriteId, error: Option<NetError>) {
        if callback {
            self.tick_emit(SocketEvent::WriteCallback { id, error });
        }
    }

    fn enqueue_write(&mut self, now: Instant, id: WriteId, chunk: Chunk, callback: bool) {
        self.w.bytes_accepted += chunk.bytes.len() as u64;
        self.w.length += chunk.length;
        self.w.queue.push_back(QueuedWrite {
            id,
            bytes: chunk.bytes,
            length: chunk.length,
            callback,
        });
        self.flush_writes(now);
    }

    /// Hands queued writes to the driver: one batch in flight at a time, as Node's
    /// writable stream does (later writes go out together once it completes).
    pub(super) fn flush_writes(&mut self, now: Instant) {
        if !matches!(self.conn, Conn::Open { .. })
            || self.destroyed()
            || self.w.in_flight_id.is_some()
            || self.w.errored.is_some()
            || self.connect_flush_pending
        {
            return;
        }
        if self.w.queue.is_empty() {
            self.maybe_shutdown();
            return;
        }
        let batch: Vec<QueuedWrite> = self.w.queue.drain(..).collect();
        self.dispatch(now, batch, true);
    }

    /// Hands one batch to the driver. `sync`: a completion reported before the driver
    /// finished carrying out this call's outputs is a synchronous one (libuv took the bytes
    /// at once), whose callbacks Node runs on the next tick.
    pub(super) fn dispatch(&mut self, now: Instant, mut batch: Vec<QueuedWrite>, sync: bool) {
        // The bytes move to the driver (no copy); the batch keeps only what the callbacks
        // and `writableLength` need.
        let data = batch
            .iter_mut()
            .map(|w| std::mem::take(&mut w.bytes))
            .collect();
        let id = WriteId(self.id());
        self.w.in_flight = batch;
        self.w.in_flight_id = Some(id);
        if self.w.fin_sent {
            // An orphaned `_final` shut the handle down (its 'connect' listener came
            // first): libuv refuses the write at once (EPIPE), and Node's onwrite fails it.
            let e = NetError::syscall(Code::Epipe, "write", None, None);
            self.write_error(e, None, sync);
            return;
        }
        self.w.sync_window = sync;
        self.w.dispatching = true;
        self.refresh_timer(now);
        self.io(SocketIo::Write { id, data });
    }

    /// Asks for the FIN once `end()` was called and every write completed.
    pub(super) fn maybe_shutdown(&mut self) {
        if self.w.ended
            && self.w.flushed()
            && self.w.shutdown == Shutdown::NotYet
            && matches!(self.conn, Conn::Open { .. })
            && !self.destroyed()
            && !self.r.close_emitted
        {
            self.w.shutdown = Shutdown::InFlight;
            // libuv shuts down (the FIN leaves, then 'finish') from its write callbacks
            // when the shutdown waited for writes, and from its pending phase when it was
            // asked with none queued. Node ignores the status, so the driver reports
            // nothing.
            let finish = Deferred::FinishAfterShutdown(self.life);
            if self.w.in_write_callback || self.w.fin_sent {
                self.q.next_tick(finish);
            } else {
                self.q.pending(finish);
            }
        }
    }

    /// See [`Socket::end`].
    pub(super) fn do_end(
        &mut self,
        now: Instant,
        chunk: Option<Chunk>,
        callback: bool,
    ) -> WriteResult {
        let id = WriteId(self.id());
        let refused = chunk.and_then(|c| {
            // The data is written without a callback (Node's _write, not write()).
            let write = WriteId(self.id());
            self.write_chunk(now, write, c, false).err()
        });
        let error = match refused {
            Some(e) => Some(e),
            None if !self.w.ended && self.w.errored.is_none() => {
                self.w.ended = true;
                if callback {
                    self.w.end_callbacks.push(id);
                }
                // Without a connection Node's _final waits for 'connect' (a socket never
                // connected does not finish; its end callback fails when it is destroyed).
                self.flush_writes(now);
                return WriteResult { id, ok: true };
            }
            None if self.w.finished() => Some(NetError::new(
                Code::ErrStreamAlreadyFinished,
                "Cannot call end after a stream was finished",
            )),
            None if self.destroyed() => Some(NetError::new(
                Code::ErrStreamDestroyed,
                "Cannot call end after a stream was destroyed",
            )),
            None => self.w.errored.as_deref().cloned(),
        };
        match error {
            Some(e) => {
                if callback {
                    self.tick_emit(SocketEvent::EndCallback { id, error: Some(e) });
                }
                WriteResult { id, ok: false }
            }
            None => {
                if callback {
                    self.w.end_callbacks.push(id);
                }
                WriteResult { id, ok: true }
            }
        }
    }

    /// See [`Socket::destroy`].
    pub(super) fn do_destroy(&mut self, err: Option<NetError>) {
        self.destroy_with(err, false);
    }

    /// See [`Socket::handle_dropped`].
    pub(super) fn do_handle_dropped(&mut self, now: Instant) {
        self.do_destroy_soon(now);
    }

    /// See [`Socket::destroy_soon`].
    pub(super) fn do_destroy_soon(&mut self, now: Instant) {
        if self.destroyed() {
            return;
        }
        if self.w.open() {
            self.do_end(now, None, false);
        }
        if self.w.finished() {
            self.do_destroy(None);
        } else {
            self.w.destroy_on_finish = true;
        }
    }

    /// See [`Socket::reset_and_destroy`].
    pub(super) fn do_reset_and_destroy(&mut self) -> Result<(), NetError> {
        if self.destroyed() {
            return Ok(());
        }
        let ipc = match &self.conn {
            Conn::Open { ipc } => *ipc,
            Conn::Attempt { remote, .. } | Conn::Scheduled { remote, .. } => {
                matches!(remote, Remote::Ipc(_))
            }
            _ => false,
        };
        if !self.has_handle {
            self.do_destroy(Some(NetError::new(
                Code::ErrSocketClosed,
                "Socket is closed",
            )));
            return Ok(());
        }
        if ipc {
            return Err(NetError::new(
                Code::ErrInvalidHandleType,
                "This handle type cannot be sent",
            ));
        }
        if self.connecting() {
            self.reset_on_connect = true;
        } else {
            self.destroy_with(None, true);
        }
        Ok(())
    }

    /// See [`Socket::pause`].
    pub(super) fn do_pause(&mut self) {
        // With `onread` nothing is buffered: Node stops reading at once.
        if self.cfg.onread.is_some() && self.r.reading && self.is_open() {
            self.r.reading = false;
            self.io(SocketIo::StopReading);
            self.q.stop_reads(super::facts::is_read_fact);
        }
        self.r.flowing = false;
    }

    /// See [`Socket::resume`].
    pub(super) fn do_resume(&mut self) {
        if self.cfg.onread.is_some() && !self.r.reading && !self.r.eof && self.is_open() {
            self.r.reading = true;
            self.q.resume_reads();
            self.io(SocketIo::StartReading);
        }
        if self.destroyed() || self.r.flowing {
            return;
        }
        self.r.flowing = true;
        self.q.next_tick(Deferred::Flow(self.life));
    }

    /// Whether `'data'` flows (`readableFlowing !== false`).
    pub fn is_flowing(&self) -> bool {
        self.r.flowing
    }

    /// See [`Socket::set_timeout`].
    pub(super) fn do_set_timeout(&mut self, now: Instant, timeout: Duration) {
        if self.destroyed() {
            return;
        }
        self.timeout = timeout;
        self.idle_deadline = if timeout.is_zero() {
            None
        } else {
            Some(now + timeout)
        };
    }

    /// `socket.timeout`: the idle timeout set, zero when none.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// See [`Socket::set_no_delay`].
    pub(super) fn do_set_no_delay(&mut self, no_delay: bool) {
        let changed = self.no_delay != no_delay;
        self.no_delay = no_delay;
        if changed && matches!(self.conn, Conn::Open { ipc: false }) && !self.destroyed() {
            self.io(SocketIo::SetNoDelay(no_delay));
        }
    }

    /// See [`Socket::set_keep_alive`].
    pub(super) fn do_set_keep_alive(&mut self, enable: bool, initial_delay_secs: u32) {
        let want = enable.then_some(initial_delay_secs);
        let changed = self.keep_alive != want;
        self.keep_alive = want;
        if changed && matches!(self.conn, Conn::Open { ipc: false }) && !self.destroyed() {
            self.io(SocketIo::SetKeepAlive {
                enable,
                initial_delay_secs,
            });
        }
    }

    /// See [`Socket::abort`].
    pub(super) fn do_abort(&mut self) {
        self.aborted = true;
        self.do_destroy(Some(NetError::abort()));
    }

    pub(super) fn apply_options_on_connect(&mut self) {
        if matches!(self.conn, Conn::Open { ipc: true }) {
            return;
        }
        if self.no_delay {
            self.io(SocketIo::SetNoDelay(true));
        }
        if let Some(secs) = self.keep_alive {
            self.io(SocketIo::SetKeepAlive {
                enable: true,
                initial_delay_secs: secs,
            });
        }
    }
}
