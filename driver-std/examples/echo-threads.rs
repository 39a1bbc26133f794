//! An echo server: `echo [--host H] [--port P]` (defaults 127.0.0.1 and 0).
//!
//! Prints `listening on HOST:PORT` (the bound address) as its first line, then serves
//! each connection on a thread of its own: writes back every byte it receives and ends the
//! connection at its `'end'`, until killed.

use std::io::Write;
use std::net::Shutdown;

use sansnet_std::{ListenOptions, Server, ServerOptions, Socket};

fn main() {
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--host" => host = args.next().unwrap_or_else(|| usage("--host needs a value")),
            "--port" => {
                let p = args.next().unwrap_or_else(|| usage("--port needs a value"));
                port = p
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("bad port {p:?} (0 to 65535)")))
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let server = Server::new(ServerOptions::default());
    let bound = server
        .listen(ListenOptions::tcp(Some(host), port))
        .unwrap_or_else(|e| fail(&e));
    let shown = bound.to_string();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {shown}");
    let _ = out.flush();
    drop(out);
    loop {
        match server.accept() {
            Ok(socket) => {
                std::thread::spawn(move || echo(socket));
            }
            Err(e) => fail(&e),
        }
    }
}

/// Copies what arrives back to the peer until its `'end'`, then ends our side.
fn echo(socket: Socket) {
    let _ = std::io::copy(&mut &socket, &mut &socket);
    let _ = socket.shutdown(Shutdown::Write);
}

fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("{e}");
    std::process::exit(1);
}

fn usage(what: &str) -> ! {
    eprintln!("echo-threads: {what}\nusage: echo-threads [--host H] [--port P]");
    std::process::exit(2);
}
