//! Node's `destroy()`: the handle closed (FIN or RST), queued writes failed, `'close'`.

use super::*;

impl Socket {
    // ----- teardown ----------------------------------------------------------------------

    /// Node's `destroy(err)`; `reset` closes with RST (`resetAndDestroy`).
    pub(super) fn destroy_with(&mut self, err: Option<NetError>, reset: bool) {
        if self.destroyed() {
            return;
        }
        // Writes queued before a connection existed: the first was handed to Node's
        // _writeGeneric while connecting (parked in _pendingData, failed by a 'close'
        // listener), whether the socket is still connecting or its connect just failed.
        let was_connecting = !matches!(self.conn, Conn::Open { .. });
        self.idle_deadline = None;
        let had_handle = self.has_handle;
        match std::mem::replace(&mut self.conn, Conn::Destroyed) {
            Conn::Lookup {
                id,
                host,
                all: false,
                ..
            } => self.orphan_lookup = Some((id, host)),
            Conn::Attempt {
                id, remote, family, ..
            } => {
                self.io(SocketIo::AbortAttempt { attempt: id });
                if self.he.is_some() {
                    // Node still reports the cancelled attempt after the user's destroy().
                    if let Remote::Tcp(a) = remote {
                        let e = NetError::syscall(
                            Code::Ecanceled,
                            "connect",
                            Some(&a.ip().to_string()),
                            Some(a.port()),
                        );
                        self.q
                            .next_tick(Deferred::Emit(SocketEvent::ConnectionAttemptFailed {
                                address: a.ip().to_string(),
                                port: Some(a.port()),
                                family: family.map(Family::number),
                                error: e,
                            }));
                    }
                }
            }
            // Bytes the OS delivered that no poll phase read yet are still unread in the
            // kernel, in Node's terms: closing then sends RST, not FIN.
            Conn::Open { .. } => self.io(if reset || self.has_unpolled_bytes() {
                SocketIo::Reset
            } else {
                SocketIo::Close
            }),
            _ => {}
        }
        self.he = None;
        self.has_handle = false;
        self.local = None;
        if self.server_owned {
            self.server_owned = false;
            self.io(SocketIo::ReleaseFromServer);
        }
        let had_error = err.is_some();
        if self.w.errored.is_none() {
            self.w.errored = err.clone().map(Box::new);
        }
        // Node's errorBuffer hands pending callbacks the stream's error, if any.
        let stream_error = self.w.errored.as_deref().cloned();
        // Writes waiting for a connection fail after 'close'; buffered ones on the next tick.
        // They leave bytesWritten, except the first write parked while connecting (Node's
        // _pendingData).
        // Writes whose flush waits for the 'connect' listeners stay for it (it fails them).
        let mut queued: Vec<QueuedWrite> = if self.connect_flush_pending {
            Vec::new()
        } else {
            self.w.queue.drain(..).collect()
        };
        // Writable.destroy runs errorBuffer on the tick before 'error' unless a write is in
        // progress (errorBuffer waits for it: the callbacks then come after 'error').
        let writing = self.w.in_flight_id.is_some()
            || (was_connecting && !queued.is_empty())
            || (self.connect_flush_pending && !self.w.queue.is_empty());
        let mut error_event = err.map(|e| Deferred::Emit(SocketEvent::Error(e)));
        if writing {
            if let Some(e) = error_event.take() {
                self.q.next_tick(e);
            }
        }
        let parked = usize::from(was_connecting);
        let dropped: u64 = queued
            .iter()
            .skip(parked)
            .map(|w| w.bytes.len() as u64)
            .sum();
        // Node's bytesWritten counts them until they are failed (its writable buffer).
        if was_connecting && !queued.is_empty() {
            self.w.after_close_bytes += dropped;
        } else {
            self.w.error_buffer_bytes += dropped;
        }
        let close = if had_handle {
            CloseKind::HadError(had_error)
        } else {
            CloseKind::NoHandle
        };
        let mut after_close = Vec::new();
        let mut parked_length = 0;
        if was_connecting && !queued.is_empty() {
            parked_length = queued.iter().map(|w| w.length).sum();
            // The write parked while connecting fails from a 'close' listener with
            // ERR_SOCKET_CLOSED_BEFORE_CONNECTION; as onwriteError, that errors the stream
            // (unless destroy() gave an error) and fails the writes buffered behind it and
            // the end() callbacks with the stream's error, all after 'close'.
            let closed = NetError::new(
                Code::ErrSocketClosedBeforeConnection,
                "Socket closed before the connection was established",
            );
            let errored = stream_error.clone().unwrap_or_else(|| closed.clone());
            for (i, w) in std::mem::take(&mut queued).into_iter().enumerate() {
                if w.callback {
                    let error = if i == 0 {
                        closed.clone()
                    } else {
                        errored.clone()
                    };
                    after_close.push(SocketEvent::WriteCallback {
                        id: w.id,
                        error: Some(error),
                    });
                }
            }
            for id in std::mem::take(&mut self.w.end_callbacks) {
                after_close.push(SocketEvent::EndCallback {
                    id,
                    error: Some(errored.clone()),
                });
            }
            // The stream errors only then: an end() made meanwhile still waits (Node's
            // kOnFinished) and gets that error with the others.
            self.w.errored_after_close = Some(Box::new(errored));
        }
        let destroyed_error = |what: &str| {
            stream_error.clone().unwrap_or_else(|| {
                NetError::new(
                    Code::ErrStreamDestroyed,
                    format!("Cannot call {what} after a stream was destroyed"),
                )
            })
        };
        for w in queued {
            self.w.error_buffer_length += w.length;
            if w.callback {
                let error = Some(destroyed_error("write"));
                self.w
                    .error_buffer
                    .push(SocketEvent::WriteCallback { id: w.id, error });
            }
        }
        let end_callbacks = if self.connect_flush_pending {
            Vec::new()
        } else {
            std::mem::take(&mut self.w.end_callbacks)
        };
        for id in end_callbacks {
            let error = Some(destroyed_error("end"));
            self.w
                .error_buffer
                .push(SocketEvent::EndCallback { id, error });
        }
        if !self.w.error_buffer.is_empty() || self.w.error_buffer_length > 0 {
            self.q.next_tick(Deferred::ErrorBuffer);
        }
        if let Some(e) = error_event {
            self.q.next_tick(e);
        }
        // Node emits a handle's 'close' once the handle closed (a later loop turn); a socket
        // that never had a handle closes on the next tick.
        let close = Deferred::Close {
            kind: close,
            after: after_close,
            released: parked_length,
            in_flight: self.w.in_flight_id,
        };
        if had_handle {
            self.q.closing(close);
        } else {
            self.q.next_tick(close);
        }
    }
}
