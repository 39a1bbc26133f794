//! # sansnet-bench
//!
//! Measures the sansnet-smol echo server against the speed it must match (an echo server
//! written directly on `async_io::Async<TcpStream>`) and against Node's
//! (`net.createServer(s => s.pipe(s))`), with one load generator for all three.
//!
//! - [`servers`]: starts each server as its own process (`sansnet-echo`, `raw-echo` — the
//!   binaries of this crate — and `node`), finds its port, reads its resident memory.
//! - [`workloads`]: the client side of each workload (blocking `std::net`, loopback only,
//!   every operation under a timeout): throughput, request/response latency, ping-pong on
//!   many connections (with its round trips' percentiles), connection rate, memory per
//!   idle connection.
//! - [`stats`]: median, min and max of repeated measurements; percentiles.
//!
//! The `sansnet-bench` binary runs every workload against every server, interleaving the
//! servers within each repetition so that machine noise spreads evenly, and prints a table
//! of medians and ratios. Nothing here asserts a timing: `cargo test` only runs a tiny
//! smoke pass of each workload.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod servers;
pub mod stats;
pub mod workloads;

/// The echo servers' command line (`[--host H] [--port P]`) and first line of output, as
/// sansnet's echo examples have them.
#[path = "../../driver-std/examples/common/mod.rs"]
pub mod echo_cli;
