//! An echo server: `echo [--host H] [--port P]` (defaults 127.0.0.1 and 0).
//!
//! Prints `listening on HOST:PORT` (the bound address) as its first line, then writes back
//! every chunk each connection sends and ends the connection at its `'end'`, until killed.

use std::io::Write;

use sansnet_smol::{ListenOptions, Server, ServerOptions, Socket, SocketEvent};

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
    smol::block_on(async {
        let server = Server::new(ServerOptions::default());
        let bound = match server
            .listen(ListenOptions::tcp(Some(host.clone()), port))
            .await
        {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        let shown = bound.to_string();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {shown}");
        let _ = out.flush();
        drop(out);
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

fn usage(what: &str) -> ! {
    eprintln!("echo: {what}\nusage: echo [--host H] [--port P]");
    std::process::exit(2);
}
