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

/// The arguments of the echo-server binaries: `[--host H] [--port P]` (defaults 127.0.0.1
/// and 0). Exits with a usage message on anything else.
pub fn server_args(name: &str) -> (String, u16) {
    let usage = || -> ! {
        eprintln!("usage: {name} [--host H] [--port P]");
        std::process::exit(2);
    };
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--host" => host = args.next().unwrap_or_else(|| usage()),
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => usage(),
        }
    }
    (host, port)
}
