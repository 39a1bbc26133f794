//! # sansnet
//!
//! Node.js's `net` module — `net.Socket`, `net.Server`, `BlockList`, `SocketAddress`,
//! `isIP`, happy eyeballs, IPC over unix sockets — as pure, deterministic state machines.
//! This crate does no I/O: it has no sockets, no clock, no threads, no randomness and no
//! `unsafe`. A driver (smol/async-io, blocking std, or the simulator behind feature `sim`)
//! carries out what the machines ask and reports what the OS did. Every driver shares the
//! same lifecycle rules, so every driver produces Node's event traces.
//!
//! ## The pieces
//!
//! | module | models |
//! | --- | --- |
//! | [`socket`] | `net.Socket`: connect (lookup, attempts), the write queue, `end`, `destroy`, half-close, pause/resume, the idle timer |
//! | [`event_loop`] | the phases every socket of a shared loop goes through at once (closing, pending, the OS poll, the poll phase), decided once for sansnet-std and the simulator |
//! | [`turn`] | JavaScript's run-to-completion: when a handle's deferred work may run while its application may still be reacting ([`turn::Attention`]) |
//! | [`happy_eyeballs`] | Node's sequential `autoSelectFamily` schedule |
//! | [`server`] | `net.Server`: listen, admission (`maxConnections` → `'drop'`, `blockList`), close |
//! | [`options`], [`defaults`], [`validate`], [`value`] | Node's argument rules, typed and over loose JavaScript-like values; process defaults |
//! | [`ip`], [`socket_address`], [`blocklist`] | `isIP`, `SocketAddress` (and `parse`), `BlockList` |
//! | [`error`] | Node's error codes, classes and messages |
//! | [`time`] | the core's `Instant`: time is an input |
//! | `sim` | a deterministic network in virtual time (feature `sim`) |
//!
//! ## The run loop a driver follows
//!
//! A driver feeds each machine what the application calls and what the OS reports, each
//! with the current time, and carries out what the machine asks. This is the whole loop,
//! with a pretend OS that completes everything at once (a real driver does the same
//! against sockets; the simulator against its virtual network):
//!
//! ```
//! use std::net::SocketAddr;
//! use sansnet::server::{BoundAddress, Server, ServerEvent, ServerIo, ServerOutput};
//! use sansnet::socket::{Chunk, Output, Socket, SocketEvent, SocketIo};
//! use sansnet::{ConnectOptions, Instant, ListenOptions, ServerOptions, SocketOptions};
//!
//! let now = Instant::from_millis(0);
//! let server_addr: SocketAddr = "127.0.0.1:8124".parse().unwrap();
//! let client_addr: SocketAddr = "127.0.0.1:50000".parse().unwrap();
//!
//! // The server: `listen()` validates at once; the bind is I/O the driver carries out and
//! // reports with `listen_done`. Outputs are pulled until `None`.
//! let mut server = Server::new(ServerOptions::new());
//! server.listen(ListenOptions::tcp(Some("127.0.0.1".into()), 8124)).unwrap();
//! let mut accepted = Vec::new();
//! let mut pump_server = |server: &mut Server, accepted: &mut Vec<Box<Socket>>| {
//!     let mut events = Vec::new();
//!     while let Some(out) = server.poll_output() {
//!         match out {
//!             ServerOutput::Io(ServerIo::Listen { id, .. }) => {
//!                 server.listen_done(id, Ok(BoundAddress::Tcp(server_addr)))
//!             }
//!             ServerOutput::Io(_) => {} // close the listener, unlink a path, refuse a peer
//!             ServerOutput::Event(ServerEvent::Connection { socket, .. }) => {
//!                 accepted.push(socket); // a connected `net.Socket`, driven like any other
//!                 events.push("connection");
//!             }
//!             ServerOutput::Event(ServerEvent::Listening) => events.push("listening"),
//!             ServerOutput::Event(_) => events.push("other"),
//!         }
//!     }
//!     events
//! };
//! assert_eq!(pump_server(&mut server, &mut accepted), ["listening"]);
//!
//! // A client: `connect()` defers its attempt to the next tick, as Node does.
//! let mut client = Socket::new(&SocketOptions::new());
//! client.connect(now, &ConnectOptions::tcp("127.0.0.1", 8124));
//! let mut events = Vec::new();
//! while let Some(out) = client.poll_output() {
//!     match out {
//!         // The OS connect. A driver that binds a local address first reports the bind
//!         // (`attempt_bound`) before the connect's outcome: 'connectionAttempt' waits
//!         // for it.
//!         Output::Io(SocketIo::Connect { attempt, .. }) => {
//!             client.attempt_connected(now, attempt, Some(client_addr), Some(server_addr));
//!             server.incoming(1, Some(server_addr), Some(client_addr));
//!         }
//!         // Bytes to send: report `write_done` once the OS took them all.
//!         Output::Io(SocketIo::Write { id, .. }) => client.write_done(now, id),
//!         Output::Io(_) => {} // start reading, shut down, close, set options, ...
//!         Output::Event(e) => events.push(e),
//!     }
//! }
//! assert!(events.contains(&SocketEvent::Connect) && events.contains(&SocketEvent::Ready));
//! assert_eq!(pump_server(&mut server, &mut accepted), ["connection"]);
//!
//! // An application call inside a JavaScript turn: carry out what it emitted at once
//! // (`poll_emitted`: the inline write attempt), report what the OS took, and only then
//! // read `write()`'s return value (`write_return_value`), which Node decides after
//! // libuv's synchronous attempt.
//! let w = client.write(now, Chunk::text("hello"));
//! while let Some(out) = client.poll_emitted() {
//!     if let Output::Io(SocketIo::Write { id, .. }) = out {
//!         client.write_done(now, id);
//!     }
//! }
//! assert!(w.ok && client.write_return_value());
//!
//! // `poll_tick_output` runs what comes before the loop's check phase (a `setImmediate`):
//! // the next ticks, here the write's callback.
//! let mut before_check = Vec::new();
//! while let Some(out) = client.poll_tick_output() {
//!     if let Output::Event(e) = out {
//!         before_check.push(e);
//!     }
//! }
//! assert!(matches!(before_check[..], [SocketEvent::WriteCallback { .. }]));
//!
//! // The peer's bytes and FIN are OS facts: they act in the next poll phase.
//! let peer = &mut accepted[0];
//! peer.received(now, b"hello".to_vec());
//! peer.eof(now);
//! let mut seen = Vec::new();
//! while let Some(out) = peer.poll_output() {
//!     match out {
//!         Output::Event(SocketEvent::Data(d)) => seen.push(format!("data {}", d.len())),
//!         Output::Event(SocketEvent::End) => seen.push("end".into()),
//!         _ => {}
//!     }
//! }
//! assert_eq!(seen, ["data 5", "end"]);
//!
//! // Timers: sleep until `poll_timeout()`, then `handle_timeout(now)`.
//! client.set_timeout(now, sansnet::Duration::from_millis(100));
//! let at = client.poll_timeout().unwrap();
//! client.handle_timeout(at);
//! assert!(std::iter::from_fn(|| client.poll_output())
//!     .any(|o| o == Output::Event(SocketEvent::Timeout)));
//! ```
//!
//! ## The event loop is the core's
//!
//! Node's order of events comes from libuv's loop and Node's next-tick queue. The core
//! models both, so the moment a driver learns of an OS fact never changes the trace:
//!
//! | phase | what runs there |
//! | --- | --- |
//! | synchronous | the call itself: `connect()` validation, `write()`'s attempt, `destroy()` |
//! | next tick | after every callback: the connect of an IP literal, `'error'` after `destroy(err)`, `'end'`, write callbacks of writes the OS took at once |
//! | pending | a shutdown asked with nothing queued (the FIN leaves, then `'finish'`): right after the poll phase that asked it, else at the start of the next iteration |
//! | poll | OS facts: bytes read, EOF, read and write errors, asynchronous write completions; connects and accepts, which act when reported (work they defer to the pending phase runs right after this poll phase) |
//! | check | the application's own `setImmediate` work (a driver's or runner's business) |
//! | closing | a closed handle's `'close'` |
//!
//! Facts wait in the core, in arrival order, until their poll phase: [`Socket::poll_output`]
//! runs the next tick's work first, then the rest of a poll phase in progress, then
//! pending work, then the closing phase, and only then starts the next poll phase with the
//! facts that arrived before it. Pending work asked outside a poll phase belongs to the
//! next iteration, but for one socket nothing can come between. Libuv reads a socket
//! until a read comes back short, so a read shorter than
//! [`socket::READ_SIZE`] ends a poll phase, and reads reported before their poll phase are
//! one read. A paused socket stops reading with the read that takes its buffer past the
//! high-water mark (libuv's read loop ends at `readStop`): reads reported beyond it stay
//! in the kernel, unpolled, until reading resumes. [`Socket::poll_tick_output`] stops before the check phase: what runs before
//! a `setImmediate` callback. [`Socket::poll_emitted`] runs no deferred work at all: a
//! caller making several calls in a row (as JavaScript does within one tick) drains with
//! it between them, so that `connect()` followed by `destroy()` makes no attempt, exactly
//! as in Node.
//!
//! A driver whose sockets share one loop (the simulator; a single-threaded runtime) runs
//! Node's iteration for all of them at once: every socket's ticks and pending work
//! ([`Socket::poll_tick_output`]), then one poll phase begun together for every socket
//! with the facts that arrived before it ([`socket::Socket::start_poll_phase`]), then the
//! check phase (the application's continuation), then each socket's closing work
//! ([`socket::Socket::has_closing_work`], run by [`Socket::poll_output`]). A driver with
//! a task or thread per socket just calls [`Socket::poll_output`]: each socket's own order
//! is the same, only the interleaving across sockets is its own.
//!
//! Where the application's continuation (its `setImmediate`) runs depends on where it was
//! scheduled: from the poll phase or its ticks, in this iteration's check phase; from a
//! new iteration's pending phase, after that iteration's poll phase; from the closing
//! phase or from a check callback itself, in the next iteration's check phase, after its
//! pending and poll phases. The simulator's `Sim::turn_immediate` (and sansnet-std's
//! `Runtime::turn_immediate`) run up to that check phase; `immediate_from_check` says
//! that the continuation was scheduled from a check callback.
//!
//! What a driver must report: every byte read (at most [`socket::READ_SIZE`] per call),
//! EOF ([`socket::Socket::eof_on_hang_up`] when the kernel also reported a hang-up, as
//! libuv then reads past a short read to the EOF in the same poll phase), read and write errors, write completions, connect outcomes (and the bind of a
//! local address before its attempt), lookups, accepts and listen results. A shutdown
//! ([`socket::SocketIo::Shutdown`], asked right before `'finish'`, as libuv shuts down right
//! before the callback that finishes) is carried out and not reported (Node ignores its
//! status). A fact reported early is never
//! wrong: the core holds it until Node would have seen it; bytes still held when the
//! socket is destroyed count as unread in the kernel, so the close becomes a reset.
//!
//! [`Socket::poll_output`]: socket::Socket::poll_output
//! [`Socket::poll_tick_output`]: socket::Socket::poll_tick_output
//! [`Socket::poll_emitted`]: socket::Socket::poll_emitted
//!
//! A driver that completes a write at once (the OS took every byte) calls
//! [`socket::Socket::write_done`] before polling on: Node's `write()` return value and
//! `'drain'` are decided after libuv's synchronous write attempt, and the core decides them
//! at the same point.
//!
//! ## One input type, and runs that replay
//!
//! Every entry point that changes a socket is a [`socket::Input`] (an application call,
//! an OS fact, the clock, a driver pulling outputs), applied with
//! [`socket::Socket::handle`]`(now, input)`; the named methods above are shorthands for it.
//! A run is therefore data: [`socket::Socket::start_recording`] keeps the socket's state
//! and every `(Instant, Input)` from then on, whichever driver feeds it, and
//! [`socket::Recording::replay`] runs it again to the same outputs and the same state (the
//! simulator records every socket with `Sim::record_sockets`).
//!
//! ## Invariants
//!
//! - `'close'` is emitted exactly once per life of a socket and is its last event; `'error'`
//!   comes at most once and before it; `'end'` at most once; no `'data'` before `'connect'`.
//!   Write and end callbacks may follow `'close'`, as in Node.
//! - `readyState`, `pending`, `connecting` and `destroyed` are derived from the read and
//!   write halves and the connection state, never stored beside them.
//! - In-flight work carries ids ([`socket::AttemptId`], [`socket::LookupId`],
//!   [`socket::WriteId`]); a completion whose id is no longer current (aborted attempt,
//!   destroyed socket) changes nothing.
//! - One input yields a bounded number of outputs. No `HashMap` is iterated: runs replay.
//!
//! These are checked by property tests over random call and completion sequences.
//!
//! ## Time
//!
//! [`Instant`] is a count of nanoseconds from an origin the driver picks; the simulator
//! starts at zero. Entry points that arm or refresh timers take `now`. `poll_timeout()` is
//! side-effect free; `handle_timeout(now)` is harmless when early. Timers: the idle timeout
//! (`setTimeout`, one-shot per idle period, re-armed by activity) and the happy-eyeballs
//! attempt timer ([`happy_eyeballs::DEFAULT_ATTEMPT_TIMEOUT`], floor
//! [`happy_eyeballs::MIN_ATTEMPT_TIMEOUT`]; the last attempt has none).
//!
//! ## Errors
//!
//! API misuse returns `Err(NetError)` carrying the code Node would throw synchronously
//! (`ERR_SOCKET_BAD_PORT`, `ERR_SERVER_ALREADY_LISTEN`, …). OS and peer failures arrive as
//! inputs carrying a [`Code`] (use [`Code::from_errno`] for raw OS numbers) and leave as an
//! `'error'` event with Node's code, syscall and message, before `'close'`. Where Node 20
//! crashes or misbehaves (an empty lookup answer, a pre-aborted signal that connects anyway,
//! `SocketAddress` ports given as strings), the core returns a proper error instead.
//!
//! ## Hostile values
//!
//! Messages quote values exactly as Node 20 does, its limits included (`util.inspect`'s
//! depth 2, 100 array items, 10,000 string characters; `ERR_INVALID_ARG_VALUE` cut at 128
//! characters; the 25-character cut of "type string (…)"), in time linear in the value: a
//! 100,000-key object is quoted in milliseconds. A [`Value`] may nest a million levels
//! deep: cloning, comparing and dropping it use no recursion, `Debug` stops at
//! [`value::DEBUG_DEPTH`], and where Node's own `String(value)` recursion exhausts its stack
//! (an array nested past [`validate::MAX_JOIN_DEPTH`] as a host, a local address, a backlog,
//! a keep-alive delay or `isIP`'s argument) the call fails with Node's
//! `RangeError: Maximum call stack size exceeded` ([`NetError::stack_overflow`]).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod blocklist;
pub mod defaults;
pub mod error;
pub mod event_loop;
pub mod happy_eyeballs;
pub mod ip;
pub mod options;
mod queue;
pub mod server;
#[cfg(feature = "sim")]
#[cfg_attr(docsrs, doc(cfg(feature = "sim")))]
pub mod sim;
pub mod socket;
pub mod socket_address;
pub mod time;
pub mod turn;
pub mod validate;
pub mod value;

pub use address::Address;
pub use blocklist::{AddressArg, BlockList};
pub use error::{Code, ErrorClass, LocalName, NetError};
pub use ip::Family;
pub use options::{
    ConnectOptions, ListenOptions, ListenTarget, ServerOptions, SocketOptions, Target,
};
pub use socket_address::SocketAddress;
pub use time::{Duration, Instant};
pub use value::Value;
