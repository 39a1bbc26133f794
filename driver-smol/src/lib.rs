//! # sansnet-smol
//!
//! Node.js `net` sockets and servers for async Rust (smol, async-io, or any executor),
//! driven by the pure [`sansnet`] core.
//!
//! The core decides everything (events in Node's order, when to read, write, shut down,
//! close, time out); the OS work and Node's event loop over real sockets are
//! [`sansnet_std`]'s, shared by both drivers: this crate is the async face of the same
//! sockets.
//!
//! ## Shape
//!
//! Every socket and server lives in a [`Runtime`] (by default this crate's [`runtime()`]):
//! the core state machines and OS sockets of every handle behind one lock, and one
//! edge-triggered `epoll`. A small driver task ([`drive`], spawned on smol's executor)
//! waits for that `epoll` (through async-io) or the next deadline and runs the loop; a
//! handle shares that state and holds no task, thread or channel of its own.
//!
//! - Calls ([`Socket::write`], [`Socket::end`], [`Socket::destroy`], …) run the core on
//!   the caller's task and return Node's answer at once: `write()` returns Node's value
//!   after trying the OS write inline.
//! - Waiting ([`Socket::next_event`], [`Server::accept`], the byte stream) polls the
//!   shared state: a task that waits first runs the loop's ready work itself, then
//!   registers its waker; the loop wakes it when its socket changes.
//! - Asking for the next event ends the application's turn: a socket's deferred work
//!   (Node's next ticks and later phases) runs only while the application is not
//!   reacting to it (see `sansnet_std`'s "JavaScript's turns").
//!
//! ## Sockets
//!
//! [`connect`] / [`connect_with`] (`net.connect`, resolving at `'connect'`), or
//! [`Socket::new`] then [`Socket::connect`]; Node's methods by name; events through
//! [`Socket::next_event`], [`Socket::try_next_event`] or [`Socket::events`] (a
//! [`Stream`](futures_lite::Stream)); and a byte stream: [`futures_io::AsyncRead`] (the
//! `'data'` bytes, `Ok(0)` at `'end'`) and [`futures_io::AsyncWrite`] (waits for `'drain'`
//! whenever `write()` would return false; `close` is `end()` then `'finish'`), on
//! `Socket` and `&Socket`.
//!
//! ## Servers
//!
//! [`Server::listen`] (resolving at `'listening'`) or [`Server::start_listen`];
//! [`Server::accept`]; [`Server::next_event`] / [`Server::events`] (`'listening'`,
//! `'connection'`, `'drop'`, `'error'`, `'close'`); [`Server::close`].
//!
//! ## Simulation
//!
//! The same application runs in virtual time inside [`sim::Sim::run`]: its sockets,
//! servers, [`spawn`]ed tasks, [`sleep`]s and [`timeout`]s then live in a deterministic
//! simulation (hosts, link delays with jitter, partitions, crashes, RST injection; a seed
//! replays a run, byte for byte). Use this crate's [`spawn`], [`sleep`] and [`timeout`]
//! (smol's own outside a simulation) for code that should run in both. See [`sim`].
//!
//! ## Other runtimes
//!
//! The futures are plain `poll` functions over shared state: they run under any
//! executor, tokio included (for tokio's I/O traits, wrap a socket with
//! `tokio_util::compat`). The default runtime's driver task runs on smol's global
//! executor; a program may instead give its handles a runtime of its own and run
//! [`drive`] on its executor of choice (or use [`Runtime::global`], run by a thread).
//!
//! Writes may raise `SIGPIPE` on a socket the peer closed; Rust programs ignore that signal
//! by default (the standard runtime sets it to `SIG_IGN`), and the write fails with `EPIPE`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod driver;
mod rt;
mod server;
pub mod sim;
mod socket;

use std::io;

pub use futures_io;
pub use sansnet;
pub use sansnet::options::{
    ConnectOptions, ListenOptions, ListenTarget, ServerOptions, SocketOptions,
};
pub use sansnet::server::{BoundAddress, DropInfo};
pub use sansnet::socket::{
    Chunk, CloseKind, LookupAnswer, ReadyState, SocketEvent, SocketInfo, WriteId, WriteResult,
};
pub use sansnet::{Code, NetError};
pub use sansnet_std::{
    now, LookupFn, LookupRequest, Runtime, ServerInfo, ServerSettings, SocketSettings,
};

pub use driver::{drive, runtime};
pub use rt::{sleep, spawn, timeout};
pub use server::{Server, ServerEvent};
pub use socket::{connect, connect_with, Socket};

/// Node's error code for an OS error ([`Code::from_io_error`]).
pub fn code_of(e: &io::Error) -> Code {
    Code::from_io_error(e)
}

/// A Node error as an [`io::Error`] of the closest kind (the core's conversion).
pub fn to_io_error(e: NetError) -> io::Error {
    e.into()
}
