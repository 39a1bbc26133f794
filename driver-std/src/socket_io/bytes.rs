//! A connected socket's bytes: the readiness the OS reports, reads into the core (facts
//! for its next poll phase), writes out of it, and the read buffers they pass back.

use std::collections::VecDeque;
use std::io;

use sansnet::socket::READ_SIZE;
use sansnet::Instant;

use super::{READS_PER_POLL, READ_PACE, SPARE_BUFS};
use crate::code_of;
use crate::event_loop::Loop;
use crate::reactor::Ready;

impl Loop {
    /// libuv's write attempt: as much as the kernel takes now; a write taken whole
    /// completes, the rest waits for writability.
    pub(crate) fn write_now(&mut self, i: usize, now: Instant) {
        loop {
            let e = &mut self.sockets[i];
            let Some(w) = e.writes.front_mut() else {
                // An idle connection keeps no buffer from its last writes.
                e.writes = VecDeque::new();
                return;
            };
            if w.off == w.data.len() {
                let id = w.id;
                if let Some(done) = e.writes.pop_front() {
                    e.core.write_done(now, id);
                    self.recycle(done.data);
                } else {
                    e.core.write_done(now, id);
                }
                continue;
            }
            let Some(conn) = &e.conn else {
                w.off = w.data.len();
                continue;
            };
            if let Some(code) = e.os_write_error.take() {
                return self.write_error(i, code);
            }
            match conn.write(&w.data[w.off..]) {
                Ok(0) => return self.write_error(i, sansnet::Code::Epipe),
                Ok(n) => w.off += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return self.write_error(i, code_of(&err)),
            }
        }
    }

    fn write_error(&mut self, i: usize, code: sansnet::Code) {
        let e = &mut self.sockets[i];
        e.writes.clear();
        e.core.write_failed(code);
    }

    /// The OS reported socket `i`'s connection ready.
    pub(crate) fn conn_ready(&mut self, i: usize, stamp: u32, r: Ready, now: Instant) {
        let Some(e) = self.sockets.get_mut(i) else {
            return;
        };
        // Readiness of an earlier connection's descriptor (taken in by a thread that
        // waited for the OS while the socket was destroyed and connected again).
        if e.conn.is_none() || e.conn_stamp != stamp {
            return;
        }
        self.floor_at(i);
        let e = &mut self.sockets[i];
        if r.readable {
            e.can_read = true;
            e.hup |= r.hup;
            if r.hang_up && !e.hang_up {
                // Bytes and EOF read before the hang-up and not polled yet: one poll.
                e.hang_up = true;
                e.core.hung_up();
            }
            if e.reading && !e.read_eof {
                self.readable.insert(i);
            }
        }
        if r.writable && !e.writes.is_empty() {
            if r.readable {
                // libuv reads before it writes when a socket is ready both ways: what the
                // read meets (a unix peer's ECONNRESET) comes first, not the write's EPIPE.
                self.read_some(i, now);
            }
            self.write_now(i, now);
            self.touch(i);
        }
    }

    /// Reads what the kernel has for socket `i` into its core (facts for its next poll
    /// phase), unless the application is behind.
    pub(crate) fn read_some(&mut self, i: usize, now: Instant) {
        let mut buf = std::mem::take(&mut self.read_buf);
        for _ in 0..READS_PER_POLL {
            if !self.sockets.contains(i) || !self.may_run(i) {
                break;
            }
            let e = &mut self.sockets[i];
            if !e.reading || e.read_eof || !e.can_read || e.queued_bytes >= READ_PACE {
                break;
            }
            let Some(conn) = &e.conn else { break };
            buf.clear();
            let read = rustix::io::read(conn.fd(), rustix::buffer::spare_capacity(&mut buf));
            match read.map_err(io::Error::from) {
                Ok(0) => {
                    e.read_eof = true;
                    if e.hang_up {
                        e.core.eof_on_hang_up(now);
                    } else {
                        e.core.eof(now);
                    }
                }
                Ok(n) => {
                    if n < READ_SIZE && !e.hup {
                        // Drained: the next edge says when there is more.
                        e.can_read = false;
                    }
                    // A large read hands over the buffer itself; a small one a copy.
                    let data = if n >= READ_SIZE / 4 {
                        let fresh = (self.spare_bufs.pop())
                            .unwrap_or_else(|| Vec::with_capacity(READ_SIZE));
                        std::mem::replace(&mut buf, fresh)
                    } else {
                        buf.clone()
                    };
                    e.core.received(now, data);
                    if n < READ_SIZE && e.hang_up {
                        // libuv: a short read while the kernel reports a hang-up is
                        // followed by the EOF at once, without reading again (where a unix
                        // peer that closed with our bytes unread, or a reset, would read as
                        // ECONNRESET).
                        e.read_eof = true;
                        e.core.eof_on_hang_up(now);
                        break;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => e.can_read = false,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    e.read_eof = true;
                    e.core.read_failed(code_of(&err));
                }
            }
        }
        self.read_buf = buf;
        self.touch(i);
    }

    /// Keeps a read's buffer for a later read once it is done with: a write carried out
    /// (an echo writes back what it read) or `'data'` the byte stream consumed.
    /// Allocating a read's buffer afresh each time costs page faults, since the allocator
    /// gives such blocks back to the OS.
    pub(crate) fn recycle(&mut self, mut data: Vec<u8>) {
        if data.capacity() == READ_SIZE && self.spare_bufs.len() < SPARE_BUFS {
            data.clear();
            self.spare_bufs.push(data);
        }
    }

    /// Socket `i` may read again (its handle caught up): read at the next poll.
    pub(crate) fn may_read_again(&mut self, i: usize) {
        let e = &self.sockets[i];
        if e.reading && e.can_read && !e.read_eof && e.conn.is_some() {
            self.readable.insert(i);
        }
    }
}
