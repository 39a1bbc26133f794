//! Readiness from the OS: one `epoll` instance for every descriptor of a runtime, edge
//! triggered, and an `eventfd` that wakes a thread blocked in it.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use rustix::event::epoll::{self, CreateFlags, Event, EventData, EventFlags};
use rustix::event::{eventfd, EventfdFlags, Timespec};

thread_local! {
    /// The buffer `epoll_wait` fills, one per thread that waits.
    static EVENTS: std::cell::RefCell<Vec<Event>> =
        std::cell::RefCell::new(Vec::with_capacity(256));
}

/// The key of the wake-up descriptor.
const WAKE: u64 = u64::MAX;

/// The bits of a connection's stamp kept in a key.
pub(crate) const STAMP_MASK: u32 = 0x00FF_FFFF;

/// What a registered descriptor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// A connected socket (slab index), and which of its connections (a socket connects
    /// again after a destroy): readiness of a closed connection's descriptor, taken in
    /// after the next one was installed, is not the new connection's.
    Conn(usize, u32),
    /// A socket's connection attempt.
    Attempt(usize),
    /// A server's listener.
    Listener(usize),
}

impl Source {
    fn key(self) -> u64 {
        let (kind, stamp, i) = match self {
            Source::Conn(i, stamp) => (0u64, stamp & STAMP_MASK, i),
            Source::Attempt(i) => (1, 0, i),
            Source::Listener(i) => (2, 0, i),
        };
        (kind << 56) | (u64::from(stamp) << 32) | (i as u64 & 0xFFFF_FFFF)
    }

    fn from_key(key: u64) -> Option<Source> {
        let i = usize::try_from(key & 0xFFFF_FFFF).ok()?;
        let stamp = ((key >> 32) & u64::from(STAMP_MASK)) as u32;
        match key >> 56 {
            0 => Some(Source::Conn(i, stamp)),
            1 => Some(Source::Attempt(i)),
            2 => Some(Source::Listener(i)),
            _ => None,
        }
    }
}

/// Readiness of one source.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    pub(crate) source: Source,
    /// Bytes (or a connection, or EOF, or an error) to read.
    pub(crate) readable: bool,
    /// Room to write (or an error).
    pub(crate) writable: bool,
    /// The peer shut down its side, or the connection failed: a read will say so.
    pub(crate) hup: bool,
    /// A hang-up (`POLLHUP` or an error): shut down both ways, reset, or a unix socket's
    /// peer closed.
    pub(crate) hang_up: bool,
}

/// The runtime's `epoll` and its wake-up `eventfd`.
#[derive(Debug)]
pub(crate) struct Reactor {
    epoll: OwnedFd,
    wake: OwnedFd,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Reactor> {
        let epoll = epoll::create(CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(&epoll, &wake, EventData::new_u64(WAKE), EventFlags::IN)?;
        Ok(Reactor { epoll, wake })
    }

    /// Watches `fd` (edge triggered: a source reports each change once).
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, source: Source) -> io::Result<()> {
        let flags = EventFlags::IN | EventFlags::OUT | EventFlags::RDHUP | EventFlags::ET;
        epoll::add(&self.epoll, fd, EventData::new_u64(source.key()), flags)?;
        Ok(())
    }

    /// Stops watching `fd` (before it is closed).
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) {
        let _ = epoll::delete(&self.epoll, fd);
    }

    /// Waits until a source is ready, the runtime is woken, or `timeout` passes (`None`:
    /// no limit), and appends what became ready.
    pub(crate) fn wait(&self, timeout: Option<Duration>, out: &mut Vec<Ready>) {
        EVENTS.with_borrow_mut(|events| self.wait_into(timeout, events, out));
    }

    fn wait_into(&self, timeout: Option<Duration>, events: &mut Vec<Event>, out: &mut Vec<Ready>) {
        events.clear();
        let ts = timeout.map(|d| {
            Timespec::try_from(d).unwrap_or(Timespec {
                tv_sec: i64::from(i32::MAX),
                tv_nsec: 0,
            })
        });
        // EINTR: the caller looks again.
        if epoll::wait(
            &self.epoll,
            rustix::buffer::spare_capacity(&mut *events),
            ts.as_ref(),
        )
        .is_err()
        {
            return;
        }
        for e in events.iter() {
            let key = e.data.u64();
            if key == WAKE {
                let mut buf = [0u8; 8];
                let _ = rustix::io::read(&self.wake, &mut buf);
                continue;
            }
            let Some(source) = Source::from_key(key) else {
                continue;
            };
            let f = e.flags;
            let failed = f.intersects(EventFlags::ERR | EventFlags::HUP);
            out.push(Ready {
                source,
                readable: failed || f.intersects(EventFlags::IN | EventFlags::RDHUP),
                writable: failed || f.contains(EventFlags::OUT),
                hup: failed || f.contains(EventFlags::RDHUP),
                hang_up: failed,
            });
        }
    }

    /// Wakes the thread blocked in [`Reactor::wait`].
    pub(crate) fn notify(&self) {
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    /// The `epoll` descriptor itself (readable when a source is ready).
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.epoll.as_fd()
    }
}
