//! An echo server: `echo [--host H] [--port P]` (defaults 127.0.0.1 and 0).
//!
//! Prints `listening on HOST:PORT` (the bound address) as its first line, then serves
//! each connection on a thread of its own: writes back every byte it receives and ends the
//! connection at its `'end'`, until killed.

mod common;

use std::net::Shutdown;

use sansnet_std::{ListenOptions, Server, ServerOptions, Socket};

fn main() {
    let (host, port) = common::host_and_port("echo-threads");
    let server = Server::new(ServerOptions::default());
    let bound = server
        .listen(ListenOptions::tcp(Some(host), port))
        .unwrap_or_else(|e| common::fail(&e));
    common::say_listening(&bound);
    loop {
        match server.accept() {
            Ok(socket) => {
                std::thread::spawn(move || echo(socket));
            }
            Err(e) => common::fail(&e),
        }
    }
}

/// Copies what arrives back to the peer until its `'end'`, then ends our side.
fn echo(socket: Socket) {
    let _ = std::io::copy(&mut &socket, &mut &socket);
    let _ = socket.shutdown(Shutdown::Write);
}
