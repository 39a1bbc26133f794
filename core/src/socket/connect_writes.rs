//! The writable side across a connect: the writes queued while connecting go out after
//! the `'connect'` listeners, and a happy-eyeballs attempt on a new handle forgets an
//! `end()` made meanwhile.

use super::*;

impl Socket {
    /// Node's flush of the writes queued while connecting, a `'connect'` listener: the
    /// first goes out alone (its callback runs as soon as libuv completes it, before
    /// `'ready'`), those behind it once it completed. If a listener before it destroyed
    /// the socket, it finds no handle: that write fails with `ERR_SOCKET_CLOSED`, which
    /// errors the stream (unless it had an error) and fails the writes behind it and the
    /// `end()` callbacks with the stream's error (Node's onwriteError and errorBuffer).
    pub(super) fn connect_flush(&mut self, now: Instant) {
        self.ready_pending = true;
        if !self.destroyed() {
            match self.w.queue.pop_front() {
                Some(first) => self.dispatch(now, vec![first], false),
                None => self.flush_writes(now),
            }
            return;
        }
        let closed = NetError::new(Code::ErrSocketClosed, "Socket is closed");
        let errored = self.w.errored.as_deref().cloned().unwrap_or(closed.clone());
        if self.w.errored.is_none() {
            self.w.errored = Some(Box::new(closed.clone()));
        }
        for (i, w) in std::mem::take(&mut self.w.queue).into_iter().enumerate() {
            self.w.length = self.w.length.saturating_sub(w.length);
            if w.callback {
                let error = if i == 0 { &closed } else { &errored };
                self.event(SocketEvent::WriteCallback {
                    id: w.id,
                    error: Some(error.clone()),
                });
            }
        }
        for id in std::mem::take(&mut self.w.end_callbacks) {
            self.event(SocketEvent::EndCallback {
                id,
                error: Some(errored.clone()),
            });
        }
    }

    /// Node's `kReinitializeHandle` for a happy-eyeballs attempt after the first: the new
    /// handle's `initSocketHandle` runs the stream's `_undestroy()`, which forgets an
    /// `end()` made while connecting (`writableEnded` is false again; its callbacks stay).
    /// A `_final` already waiting for `'connect'` (nothing was left to write) still shuts
    /// the handle down then, without `'finish'`; with writes left, `_final` never ran, and
    /// the stream now finishes only if `end()` is called again. (Nothing else `_undestroy`
    /// resets can be set while connecting.)
    pub(super) fn reinitialize_handle(&mut self) {
        if self.w.ended {
            self.w.ended = false;
            if self.w.flushed() {
                self.w.orphan_final = true;
            }
        }
    }
}
