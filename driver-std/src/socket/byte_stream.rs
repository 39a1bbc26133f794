//! The byte stream: `Read` and `Write` on a socket (and on `&Socket`), and their forms for
//! tasks. Reads take `'data'` events (the rest of a chunk waits for the next read); writes
//! go straight to the OS when the core would write at once.

use std::io::{self, Read, Write};
use std::task::{Context, Poll};

use sansnet::socket::{Chunk, SocketEvent, WriteResult};

use super::{drained, flushed, Socket};
use crate::event_loop::Mode;
use crate::socket_io::Waiter;
use crate::to_io_error;

impl Socket {
    /// `socket.write(buf)` for the byte stream (no callback): when the core would hand
    /// the bytes to the OS at once ([`sansnet::socket::Socket::writes_at_once`]), the OS
    /// write is made straight from `buf` and only what it left is copied.
    fn write_bytes(&self, buf: &[u8]) -> WriteResult {
        self.call(|st, i, now| {
            let e = &mut st.sockets[i];
            let r = match e.conn() {
                Some(conn) if e.core.writes_at_once() => {
                    let sent = match conn.write(buf) {
                        Ok(n) => n,
                        Err(err)
                            if matches!(
                                err.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                            ) =>
                        {
                            0
                        }
                        Err(err) => {
                            // The kernel reports a connection's error once: the core's own
                            // attempt, which carries it out, must meet this one.
                            e.os_write_error = Some(crate::code_of(&err));
                            0
                        }
                    };
                    e.core.write_sent(now, sent, buf[sent..].to_vec(), false)
                }
                _ => e.core.write_with(now, Chunk::bytes(buf), false),
            };
            // Node's value is decided after libuv's synchronous write attempt.
            st.drain_socket(i, Mode::Emitted, now);
            WriteResult {
                id: r.id,
                ok: st.sockets[i].core.write_return_value(),
            }
        })
    }

    /// The byte stream's read for a task (see the [`Read`] implementation).
    pub fn poll_read_bytes(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            if let Some(n) = self.read_leftover(buf) {
                return Poll::Ready(Ok(n));
            }
            match self.poll_next_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(e) => {
                    if let Some(r) = self.read_event(e, buf) {
                        return Poll::Ready(r);
                    }
                }
            }
        }
    }

    /// The byte stream's write for a task: waits for `'drain'` first if a `write()`
    /// would return false, then writes all of `buf` (without a callback event).
    pub fn poll_write_bytes(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match self.poll_drained(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {}
        }
        self.write_bytes(buf);
        Poll::Ready(Ok(buf.len()))
    }

    /// The byte stream's close for a task: `end()` once, then ready at `'finish'`.
    pub fn poll_end(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.info().writable_ended {
            self.end(None);
        }
        self.poll_finished(cx)
    }

    /// Copies from the rest of a `'data'` chunk read in part.
    fn read_leftover(&self, buf: &mut [u8]) -> Option<usize> {
        let mut st = self.lock();
        let e = &mut st.sockets[self.i];
        let (data, pos) = e.leftover.as_mut()?;
        let n = buf.len().min(data.len() - *pos);
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        if *pos == data.len() {
            if let Some((data, _)) = e.leftover.take() {
                st.recycle(data);
            }
        }
        Some(n)
    }

    /// What the byte stream makes of an event: bytes, the end, an error, or nothing.
    fn read_event(&self, e: Option<SocketEvent>, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match e {
            None | Some(SocketEvent::End | SocketEvent::Close(_)) => Some(Ok(0)),
            Some(SocketEvent::Data(d)) => {
                let n = buf.len().min(d.len());
                buf[..n].copy_from_slice(&d[..n]);
                let mut st = self.lock();
                if n < d.len() {
                    st.sockets[self.i].leftover = Some((d, n));
                } else {
                    st.recycle(d);
                }
                Some(Ok(n))
            }
            Some(SocketEvent::Error(e)) => Some(Err(to_io_error(e))),
            Some(_) => None,
        }
    }
}

impl Read for &Socket {
    /// The bytes of the `'data'` events; `Ok(0)` at `'end'` (or `'close'`); the error of
    /// an `'error'` event. Other events are consumed and skipped.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(n) = self.read_leftover(buf) {
                return Ok(n);
            }
            let e = self.next_event();
            if let Some(r) = self.read_event(e, buf) {
                return r;
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
        {
            let st = self.lock();
            if st.sockets[self.i].core.destroyed() {
                return Err(st.closed_error(self.i));
            }
        }
        let r = self.write_bytes(buf);
        if !r.ok {
            self.block(Waiter::Drain, None, drained).unwrap_or(Ok(()))?;
        }
        Ok(buf.len())
    }

    /// Waits until the OS took every byte written (`writableLength` is 0).
    fn flush(&mut self) -> io::Result<()> {
        self.block(Waiter::Drain, None, flushed).unwrap_or(Ok(()))
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
