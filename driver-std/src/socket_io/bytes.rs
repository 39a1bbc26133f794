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
            // Chunks written whole go back to the read buffers.
            while w.chunks.get(w.next).is_some_and(|c| w.off == c.len()) {
                let done = std::mem::take(&mut w.chunks[w.next]);
                w.next += 1;
                w.off = 0;
                recycle(&mut self.spare_bufs, done);
            }
            if w.next == w.chunks.len() {
                let id = w.id;
                e.writes.pop_front();
                e.core.write_done(now, id);
                continue;
            }
            let Some(conn) = &e.conn else {
                w.next = w.chunks.len();
                continue;
            };
            if let Some(code) = e.os_write_error.take() {
                return self.write_error(i, code);
            }
            let written = if w.next + 1 == w.chunks.len() {
                conn.write(&w.chunks[w.next][w.off..])
            } else {
                let mut slices = [io::IoSlice::new(&[]); WRITEV_CHUNKS];
                let rest = w.chunks[w.next + 1..].iter();
                let first = std::iter::once(&w.chunks[w.next][w.off..]);
                for (s, c) in slices.iter_mut().zip(first.chain(rest.map(|c| &c[..]))) {
                    *s = io::IoSlice::new(c);
                }
                let n = (w.chunks.len() - w.next).min(WRITEV_CHUNKS);
                conn.write_vectored(&slices[..n])
            };
            match written {
                Ok(0) if w.chunks[w.next..].iter().any(|c| !c.is_empty()) => {
                    return self.write_error(i, sansnet::Code::Epipe)
                }
                Ok(mut n) => {
                    while n > 0 {
                        let left = w.chunks[w.next].len() - w.off;
                        let take = n.min(left);
                        w.off += take;
                        n -= take;
                        if w.off == w.chunks[w.next].len() && n > 0 {
                            let done = std::mem::take(&mut w.chunks[w.next]);
                            w.next += 1;
                            w.off = 0;
                            recycle(&mut self.spare_bufs, done);
                        }
                    }
                }
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
            if !e.core.reads_more() {
                e.read_held = true;
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
    pub(crate) fn recycle(&mut self, data: Vec<u8>) {
        recycle(&mut self.spare_bufs, data);
    }

    /// Socket `i` may read again (its handle caught up): read at the next poll.
    pub(crate) fn may_read_again(&mut self, i: usize) {
        let e = &self.sockets[i];
        if e.reading && e.can_read && !e.read_eof && e.conn.is_some() {
            self.readable.insert(i);
        }
    }
}

/// Keeps `data` among the spare read buffers when it is one and there is room.
fn recycle(spare: &mut Vec<Vec<u8>>, mut data: Vec<u8>) {
    if data.capacity() == READ_SIZE && spare.len() < SPARE_BUFS {
        data.clear();
        spare.push(data);
    }
}

/// The most chunks one `writev` takes (the rest goes in the next).
const WRITEV_CHUNKS: usize = 64;
