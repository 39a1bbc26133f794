//! # sansnet-std
//!
//! Node.js `net` sockets and servers on blocking `std::net` / `std::os::unix::net`
//! sockets, driven by the pure [`sansnet`] core — for programs without an
//! async runtime.
//!
//! The core decides everything (events in Node's order, when to read, write, shut down,
//! close, time out, which happy-eyeballs address to try next and for how long); this crate
//! only carries out the I/O it asks for on real TCP and unix-domain sockets and reports
//! what the OS did.
//!
//! ## Shape
//!
//! Every socket and server lives in a [`Runtime`]: one structure behind one lock holding
//! their core state machines and OS sockets (all non-blocking, in one edge-triggered
//! `epoll`). There is no thread, pipe or channel per connection.
//!
//! ```text
//! application thread ──call──▶ lock → core call → carry out its I/O (a write is tried
//!                                      inline) → return Node's answer
//!                    ◀─event── lock → take the handle's next event, or run the loop
//!                                      (next ticks, poll, closing) while it has work
//! reactor thread:      epoll_wait(next deadline) → lock → read, accept, connect, time
//!                      out → run the loop's phases → wake the handles that have events
//! ```
//!
//! The loop runs Node's phases for every socket at once (see the `event_loop` module):
//! next ticks, then per iteration the pending phase, one poll of the OS whose facts every
//! socket's poll phase takes together, and the closing phase. Three ways to run it:
//!
//! - [`Runtime::global`]: one reactor thread for the process; an application thread that
//!   waits while nobody waits for the OS does so itself (then an event for its own socket
//!   needs no other thread), and the reactor thread takes over when no application
//!   thread has waited for a moment.
//! - [`Runtime::manual`]: run only by its caller, one [`Runtime::turn`] at a time, as a
//!   single JavaScript thread would (the conformance runner), or by the one thread that
//!   serves all its handles ([`Runtime::wait_events`]; see below).
//! - [`Runtime::driven`]: run by an async task that waits for [`Runtime::fd`] and calls
//!   [`Runtime::run`] (sansnet-smol's runtime, driven on its executor).
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
//!   [`SocketEvent`] in Node's order (a write's or `end()`'s callback only when asked for with
//!   [`Socket::write_with_callback`] / [`Socket::end_with_callback`]).
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
//! ## One thread for every socket
//!
//! A thread per connection (a byte-stream copy over `&Socket`, as `echo-threads` does)
//! costs a stack per connection and a wake-up of another thread per event. Like Node's
//! one JavaScript thread, one thread can instead serve every socket and server of a
//! runtime: [`Runtime::wait_events`] is its loop turn. It ends the thread's turn, runs
//! the loop until handles have events waiting to be taken, and says which
//! ([`Socket::id`] and [`Server::id`] are their [`HandleId`]s, to key the thread's own
//! map); the thread takes each handle's events with `try_next_event` until `None`,
//! reacting to each as a listener would. An admitted connection comes as
//! [`ServerEvent::Connection`] on its server's queue. A handle is reported when its
//! queue stops being empty, and again at every wait while events are left in it.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use sansnet_std::{ListenOptions, Runtime, Server, ServerEvent, ServerSettings, SocketEvent};
//!
//! // A runtime only this thread runs (`Runtime::global()` works too).
//! let rt = Runtime::manual()?;
//! let server = Server::with_settings(ServerSettings {
//!     runtime: Some(rt.clone()),
//!     ..ServerSettings::default()
//! });
//! server.listen(ListenOptions::tcp(Some("127.0.0.1".into()), 7000))?;
//! let mut sockets = HashMap::new();
//! let mut ready = Vec::new();
//! loop {
//!     ready.clear();
//!     rt.wait_events(&mut ready, None);
//!     for id in &ready {
//!         if *id == server.id() {
//!             while let Some(e) = server.try_next_event() {
//!                 if let ServerEvent::Connection(s) = e {
//!                     sockets.insert(s.id(), s);
//!                 }
//!             }
//!         } else if let Some(s) = sockets.get(id) {
//!             let mut closed = false;
//!             while let Some(e) = s.try_next_event() {
//!                 match e {
//!                     // An echo: `s.pipe(s)`.
//!                     SocketEvent::Data(d) => {
//!                         if !s.write(d).ok {
//!                             s.pause();
//!                         }
//!                     }
//!                     SocketEvent::Drain => s.resume(),
//!                     SocketEvent::End => {
//!                         s.end(None);
//!                     }
//!                     SocketEvent::Close(_) => closed = true,
//!                     _ => {}
//!                 }
//!             }
//!             if closed {
//!                 sockets.remove(id);
//!             }
//!         }
//!     }
//! }
//! # #[allow(unreachable_code)]
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The runtime counts on that thread to take every handle's events from its first
//! `wait_events` on: a socket's events not taken yet hold its deferred work (as a
//! JavaScript listener runs before the next tick), and the thread's calls hold their
//! socket's until it waits again, so each socket sees exactly Node's order. Nothing
//! scans every handle: a wait costs what changed since the last. The example
//! `echo-loop` is this loop; at 10,000 idle connections it holds a few KiB per
//! connection where `echo-threads` holds a thread's stack.
//!
//! ## JavaScript's turns
//!
//! In Node a listener runs to completion before the next tick: a `'data'` listener's
//! `write()` reaches the socket before the `'end'` that follows and before the automatic
//! `end()` of a socket without `allowHalfOpen`. Here a thread's *turn* is everything it
//! does between two waits: the calls it makes and the events it takes hold those
//! sockets' deferred work (Node's ticks and later phases) until the thread waits on
//! anything again (asks any handle for an event, reads a byte stream, blocks in a
//! connect, flush, shutdown or a write waiting for `'drain'`). So two calls in a row see
//! what two JavaScript statements would see (`connect()` then `write()` finds the socket
//! still `'opening'`), and a reaction to an event lands before the next tick.
//!
//! Events are kept until taken, and events not taken hold their socket's deferred work
//! only while someone waits to take them (a thread in `next_event`, or a task until it
//! polls again): that one reacts to them first. Nobody waiting, they are only kept to be
//! read, and the socket goes on (its FIN leaves, its `'close'` comes). A socket admitted
//! by a server starts held until its first wait: its handle arrives inside
//! `'connection'`, where Node code attaches its listeners. I/O is never held back, only
//! deferred work.
//!
//! A conformance runner uses a [`Runtime::manual`]: it makes its calls, then turns the
//! loop ([`Runtime::turn`]: up to the first event any handle receives;
//! [`Runtime::turn_immediate`]: what runs before a `setImmediate` callback) and takes
//! every handle's events with `try_next_event`.
//!
//! ## Errors and signals
//!
//! OS errors become Node's codes with [`Code::from_errno`] ([`code_of`]). Writes to a
//! socket the peer closed fail with `EPIPE` (Rust programs ignore `SIGPIPE`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod event_loop;
mod lookup;
mod reactor;
mod runtime;
mod serve;
mod server;
mod server_io;
mod socket;
mod socket_io;
mod turn;

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

pub use lookup::{LookupFn, LookupRequest};
pub use runtime::Runtime;
pub use sansnet::socket::SocketInfo;
pub use serve::HandleId;
pub use server::{Server, ServerEvent, ServerInfo, ServerSettings};
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

/// The wall-clock moment of a core instant.
pub(crate) fn to_std(at: sansnet::Instant) -> std::time::Instant {
    origin() + std::time::Duration::from_nanos(at.as_nanos())
}

/// Node's error code for an OS error ([`Code::from_io_error`]).
pub fn code_of(e: &io::Error) -> Code {
    Code::from_io_error(e)
}

/// A Node error as an [`io::Error`] of the closest kind (the core's conversion).
pub fn to_io_error(e: NetError) -> io::Error {
    e.into()
}
