//! # sansnet-smol
//!
//! Node.js `net` sockets and servers on [`async-io`](async_io) / [`smol`], driven by the
//! pure [`sansnet`] core.
//!
//! The core decides everything (events in Node's order, when to read, write, shut down,
//! close, time out); this crate only carries out the I/O it asks for on real TCP and
//! unix-domain sockets and reports what the OS did.
//!
//! ## Shape
//!
//! Each [`Socket`] and [`Server`] is driven by one task (spawned on smol's global
//! executor) that owns the core state machine and the OS socket. The handle you hold sends
//! commands to that task and receives the events it forwards:
//!
//! ```text
//! handle ──commands──▶ task: execute the core's outputs ──▶ wait for (command | readable |
//!        ◀──events───        writable | lookup | connect | timer) ──▶ feed the core
//! ```
//!
//! - [`Socket`]: `connect`, `write` (returns Node's `write()` value), `end`, `destroy`, …;
//!   [`Socket::next_event`] yields every [`SocketEvent`] (`'data'` included); the socket is
//!   also a [`futures_io::AsyncRead`] + [`futures_io::AsyncWrite`] byte stream.
//! - [`Server`]: [`Server::listen`], [`Server::accept`], [`Server::next_event`]
//!   (listening / connection / drop / error / close), [`Server::close`].
//!
//! ## Node's ticks across a channel
//!
//! In Node a listener runs to completion before the next tick: a `'data'` listener's
//! `write()` reaches the socket before the `'end'` that follows and before the automatic
//! `end()` of a socket without `allowHalfOpen`. Here listeners are the application's code
//! on another task, so the socket task runs the core's deferred work (Node's ticks and
//! later turns) only once the application handled every event delivered so far, which it
//! signals by asking for the next one ([`Socket::next_event`], or reading the byte
//! stream). I/O outputs and OS completions are not held back; only deferred work waits.
//!
//! Time given to the core is the time since the driver first needed it ([`now`]).
//!
//! Writes may raise `SIGPIPE` on a socket the peer closed; Rust programs ignore that signal
//! by default (the standard runtime sets it to `SIG_IGN`), and the write fails with `EPIPE`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod lookup;
mod server;
mod socket;
mod socket_task;

use std::io;
use std::sync::OnceLock;

pub use futures_io;
pub use sansnet;
pub use sansnet::options::ConnectOptions;
pub use sansnet::options::{ListenOptions, ListenTarget, ServerOptions, SocketOptions};
pub use sansnet::server::{BoundAddress, DropInfo};
pub use sansnet::socket::{
    Chunk, CloseKind, LookupAnswer, ReadyState, SocketEvent, WriteId, WriteResult,
};
pub use sansnet::{Code, NetError};

pub use lookup::{LookupFn, LookupRequest};
pub use sansnet::socket::SocketInfo;
pub use server::{Server, ServerEvent, ServerSettings};
pub use socket::{connect, Socket, SocketSettings};

fn origin() -> std::time::Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    *ORIGIN.get_or_init(std::time::Instant::now)
}

/// The core's time: nanoseconds since this driver first read the clock.
pub fn now() -> sansnet::Instant {
    let nanos = origin().elapsed().as_nanos();
    sansnet::Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The wall-clock moment of a core instant (for timers).
fn to_std(at: sansnet::Instant) -> std::time::Instant {
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
