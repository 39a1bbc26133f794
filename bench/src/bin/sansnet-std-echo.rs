//! The sansnet-std echo server: `driver-std/examples/echo-threads.rs` (one thread per
//! connection over the byte stream), built in this crate so the benchmark can run it.
//!
//! `sansnet-std-echo [--host H] [--port P]` prints `listening on HOST:PORT`, then echoes
//! every connection until killed.

use std::io::Write;
use std::net::Shutdown;

use sansnet_std::{BoundAddress, ListenOptions, Server, ServerOptions, Socket};

fn main() {
    let (host, port) = sansnet_bench::server_args("sansnet-std-echo");
    let server = Server::new(ServerOptions::default());
    let bound = match server.listen(ListenOptions::tcp(Some(host), port)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("sansnet-std-echo: {e}");
            std::process::exit(1);
        }
    };
    let shown = match bound {
        BoundAddress::Tcp(a) => format!("{}:{}", a.ip(), a.port()),
        BoundAddress::Ipc(p) => p,
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {shown}");
    let _ = out.flush();
    drop(out);
    loop {
        match server.accept() {
            Ok(socket) => {
                std::thread::spawn(move || echo(socket));
            }
            Err(e) => {
                eprintln!("sansnet-std-echo: accept: {e}");
                return;
            }
        }
    }
}

fn echo(socket: Socket) {
    let _ = std::io::copy(&mut &socket, &mut &socket);
    let _ = socket.shutdown(Shutdown::Write);
}
