//! # sansnet-std
//!
//! Node.js `net` sockets and servers on blocking `std::net` / `std::os::unix::net`
//! sockets and threads, driven by the pure [`sansnet`] core — for programs without an
//! async runtime.
//!
//! The core decides everything (events in Node's order, when to read, write, shut down,
//! close, time out, which happy-eyeballs address to try next and for how long); this crate
//! only carries out the I/O it asks for on real TCP and unix-domain sockets and reports
//! what the OS did.
//!
//! ## Shape
//!
//! Each [`Socket`] and [`Server`] has an *engine*: the core state machine plus the OS
//! sockets (non-blocking), driven by one thread that sleeps in `poll(2)` on them, on a
//! wake-up pipe and until the core's next deadline ([`sansnet::socket::Socket::poll_timeout`]).
//! The handle you hold sends each call to the engine over an `mpsc` channel and waits for
//! its reply; events come back over another channel.
//!
//! ```text
//! handle ──call──▶ engine thread: core call → carry out the I/O it emitted → reply
//!        ◀─event──  poll(wake, socket, attempts, deadline) → feed the core → carry out
//! ```
//!
//! An engine with nothing in flight (no OS socket, attempt, lookup, timer or deferred
//! work) *rests*: its thread ends and the engine waits in the handle's mailbox; a later
//! call runs on the caller's thread, and starts a new engine thread only if there is work
//! again. So a closed socket or server holds no thread, even while its handle lives. Name
//! lookups run on short helper threads that the engine joins before it rests.
//! [`Server::close`] returns once the server's thread has been joined; a dropped
//! [`Socket`] finishes on its own (`destroySoon()`: what was written is sent) and its
//! thread then ends.
//!
//! ## Sockets
//!
//! - [`connect`] / [`connect_with`]: `net.connect(options)`, blocking until `'connect'`.
//! - [`Socket::new`] / [`Socket::with_settings`] then [`Socket::connect`]: `new
//!   net.Socket(options)` and `socket.connect(options)`, returning at once.
//! - Node's methods: [`Socket::write`] (returns Node's `write()` value, decided after the
//!   synchronous write attempt), [`Socket::end`], [`Socket::destroy`],
//!   [`Socket::destroy_soon`], [`Socket::reset_and_destroy`], [`Socket::pause`],
//!   [`Socket::resume`], [`Socket::set_timeout`] (the idle timeout emits `'timeout'` and
//!   leaves the socket open), [`Socket::set_no_delay`], [`Socket::set_keep_alive`],
//!   [`Socket::remote_address`], [`Socket::abort`] (the options' `AbortSignal`).
//! - A byte stream: [`std::io::Read`] (the `'data'` bytes, `Ok(0)` at `'end'`) and
//!   [`std::io::Write`] (blocks for `'drain'` whenever `write()` would return false), on
//!   `Socket` and `&Socket`; [`Socket::shutdown`] sends the FIN (`end()`) and waits for
//!   `'finish'`.
//! - Events: [`Socket::next_event`] (blocking), [`Socket::try_next_event`],
//!   [`Socket::next_event_timeout`], [`Socket::events`] (an iterator) yield every
//!   [`SocketEvent`] in Node's order, write and end callbacks included.
//!
//! ## Servers
//!
//! [`Server::listen`] (blocking until `'listening'`, every [`ListenOptions`] field
//! applied: backlog, `ipv6Only`, `reusePort`, `readableAll`, `writableAll`) or
//! [`Server::start_listen`] (Node's call); [`Server::accept`] / [`Server::incoming`] (the
//! next admitted connection: `maxConnections` and the `blockList` are the core's, `'drop'`
//! stays readable through [`Server::next_event`]); [`Server::close`] (blocking until
//! fully closed) or [`Server::start_close`]; [`Server::address`],
//! [`Server::get_connections`], [`Server::set_max_connections`].
//!
//! ## Node's ticks across a channel
//!
//! In Node a listener runs to completion before the next tick: a `'data'` listener's
//! `write()` reaches the socket before the `'end'` that follows and before the automatic
//! `end()` of a socket without `allowHalfOpen`, and `connect()` followed by `write()` and a
//! look at `readyState` sees `'opening'`. Here the application's code runs on another
//! thread, so a socket's engine runs the core's deferred work (Node's ticks and later
//! turns) only while the application *waits on the socket* having handled every event
//! delivered so far: it asked for the next event (any `next_event` form, or a read of the
//! byte stream), blocked in a flush, a shutdown or a write waiting for `'drain'`, called
//! [`Socket::refresh_info`], or dropped the handle. Between two calls nothing deferred
//! runs, as between two statements of JavaScript (unless another thread is waiting on
//! the socket meanwhile: its turn is over, so calls made then are not held). I/O results are not held back; only
//! deferred work waits. A socket that is never waited on therefore stalls at its first
//! deferred step (the connect of an IP literal is one) until its handle is dropped.
//!
//! ## Interface for a conformance backend
//!
//! Everything a scenario runner needs, per operation:
//!
//! | scenario | call |
//! | --- | --- |
//! | `createServer(options)` | [`Server::with_settings`] with [`ServerSettings`] (`options`, optional `lookup`, a shared [`Bell`]) |
//! | `listen(options)` | [`Server::start_listen`]: `Err` is what Node throws; `'listening'` / `'error'` follow as events |
//! | `set maxConnections` / `getConnections` | [`Server::set_max_connections`] / [`Server::get_connections`] |
//! | `close` | [`Server::start_close`]; the callback arrives as [`ServerEvent::CloseCallback`] |
//! | `connect(options)` | [`Socket::with_settings`] (`options.socket`, a `lookup` closure for a custom lookup, the bell), then [`Socket::connect`] |
//! | `socket(options)` | [`Socket::with_settings`] |
//! | `write`/`end` | [`Socket::write`] / [`Socket::end`] with a [`Chunk`]: the returned [`WriteResult`] gives `write()`'s value and the id its [`SocketEvent::WriteCallback`] / [`SocketEvent::EndCallback`] will carry |
//! | other socket methods | the method of that name |
//! | events | give every handle one [`Bell`]; loop: note [`Bell::count`], take [`Socket::try_next_event`] / [`Server::try_next_event`] on each actor and react, and when nothing came, [`Bell::wait_past`] the noted count |
//! | `'connection'` | [`ServerEvent::Connection`] carries the accepted [`Socket`]: a new actor (it rings the server's bell) |
//! | `snapshot` | [`Socket::info`]: the getters as of the newest event taken or call returned ([`SocketInfo`]: readyState, pending, connecting, destroyed, bytesRead/Written, bufferSize, local address, autoSelectFamilyAttemptedAddresses, timeout); [`Socket::remote_address`] (a call, read now); [`Server::info`] |
//! | `sleep` | real time passes: timers are real |
//!
//! React to an event completely (make every call it causes) before asking that socket
//! for its next event: that is what lets the socket's next tick run, and a sequence of
//! steps without a wait between them is one JavaScript turn. [`Socket::refresh_info`] is
//! a synchronisation point: when it returns, the engine has carried out every earlier
//! call and run the deferred work that the events taken so far allow, and the events this
//! produced are ready to take. A server's accepted sockets count as its connections until
//! they close, so [`Server::start_close`]'s `'close'` waits for the sockets the runner
//! took to close.
//!
//! ## Errors and signals
//!
//! OS errors become Node's codes with [`Code::from_errno`] ([`code_of`]). Writes to a
//! socket the peer closed fail with `EPIPE` (Rust programs ignore `SIGPIPE`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod info;
mod lookup;
mod mailbox;
mod server;
mod server_engine;
mod socket;
mod socket_engine;
mod socket_link;

use std::io;
use std::sync::OnceLock;

pub use sansnet;
pub use sansnet::options::{
    ConnectOptions, ListenOptions, ListenTarget, ServerOptions, SocketOptions,
};
pub use sansnet::server::{BoundAddress, DropInfo};
pub use sansnet::socket::{
    Chunk, CloseKind, LookupAnswer, ReadyState, SocketEvent, WriteId, WriteResult,
};
pub use sansnet::{Code, NetError};

pub use info::Bell;
pub use lookup::{LookupFn, LookupRequest};
pub use sansnet::socket::SocketInfo;
pub use server::{Server, ServerSettings};
pub use server_engine::{ServerEvent, ServerInfo};
pub use socket::{connect, connect_with, Socket, SocketSettings};

fn origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// The core's time: nanoseconds since this driver first read the clock.
pub fn now() -> sansnet::Instant {
    let nanos = origin().elapsed().as_nanos();
    sansnet::Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// Waits in `poll(2)` until a descriptor is ready or `deadline` (core time) passes.
fn poll_until(fds: &mut [rustix::event::PollFd<'_>], deadline: Option<sansnet::Instant>) {
    let timeout = deadline.map(|d| {
        let at = origin() + std::time::Duration::from_nanos(d.as_nanos());
        let left = at.saturating_duration_since(std::time::Instant::now());
        rustix::event::Timespec::try_from(left).unwrap_or(rustix::event::Timespec {
            tv_sec: i64::from(i32::MAX),
            tv_nsec: 0,
        })
    });
    // EINTR and friends: the caller's loop looks again.
    let _ = rustix::event::poll(fds, timeout.as_ref());
}

/// Node's error code for an OS error ([`Code::from_io_error`]).
pub fn code_of(e: &io::Error) -> Code {
    Code::from_io_error(e)
}

/// A Node error as an [`io::Error`] of the closest kind (the core's conversion).
pub fn to_io_error(e: NetError) -> io::Error {
    e.into()
}
