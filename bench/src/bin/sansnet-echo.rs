//! The sansnet-smol echo server: `driver-smol/examples/echo.rs`, built in this crate so the
//! benchmark can start it as its own process.
//!
//! `sansnet-echo [--host H] [--port P]` prints `listening on HOST:PORT` as its first line,
//! then writes back every chunk each connection sends and ends the connection at its
//! `'end'`, until killed.

use std::io::Write;

use sansnet_smol::{BoundAddress, ListenOptions, Server, ServerOptions, Socket, SocketEvent};

fn main() {
    let (host, port) = sansnet_bench::echo_cli::host_and_port("sansnet-echo");
    smol::block_on(async {
        let server = Server::new(ServerOptions::default());
        let bound = match server.listen(ListenOptions::tcp(Some(host), port)).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("sansnet-echo: {e}");
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
            match server.accept().await {
                Ok(socket) => smol::spawn(echo(socket)).detach(),
                Err(e) => {
                    eprintln!("sansnet-echo: accept: {e}");
                    return;
                }
            }
        }
    });
}

/// Writes back each chunk; ends at `'end'`; stops at `'close'`.
async fn echo(socket: Socket) {
    while let Some(e) = socket.next_event().await {
        match e {
            SocketEvent::Data(d) => {
                socket.write(d);
            }
            SocketEvent::End => {
                socket.end(None);
            }
            SocketEvent::Close(_) => return,
            _ => {}
        }
    }
}
