//! An echo server: `echo [--host H] [--port P]` (defaults 127.0.0.1 and 0).
//!
//! Prints `listening on HOST:PORT` (the bound address) as its first line, then writes back
//! every chunk each connection sends and ends the connection at its `'end'`, until killed.

// The command line and first line shared with sansnet-std's echo examples.
#[path = "../../driver-std/examples/common/mod.rs"]
mod common;

use sansnet_smol::{ListenOptions, Server, ServerOptions, Socket, SocketEvent};

fn main() {
    let (host, port) = common::host_and_port("echo");
    smol::block_on(async {
        let server = Server::new(ServerOptions::default());
        let bound = match server
            .listen(ListenOptions::tcp(Some(host.clone()), port))
            .await
        {
            Ok(b) => b,
            Err(e) => common::fail(&e),
        };
        common::say_listening(&bound);
        loop {
            match server.accept().await {
                Ok(socket) => smol::spawn(echo(socket)).detach(),
                Err(e) => {
                    eprintln!("accept: {e}");
                    return;
                }
            }
        }
    });
}

/// Writes back each chunk; ends at `'end'`; stops at `'close'`. Like Node's
/// `socket.pipe(socket)`, it honours back-pressure: when `write()` says the buffer is full
/// (a peer that does not read), it pauses reading until `'drain'`, so the server never
/// holds more than the high-water mark and the kernel's buffers for a connection.
async fn echo(socket: Socket) {
    while let Some(e) = socket.next_event().await {
        match e {
            SocketEvent::Data(d) => {
                let below_high_water_mark = socket.write(d).ok;
                if !below_high_water_mark {
                    socket.pause();
                    if socket.drained().await.is_err() {
                        return;
                    }
                    socket.resume();
                }
            }
            SocketEvent::End => {
                socket.end(None);
            }
            SocketEvent::Close(_) => return,
            _ => {}
        }
    }
}
