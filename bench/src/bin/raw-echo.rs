//! The baseline: an echo server written directly on `async_io::Async<TcpStream>` and
//! `futures_lite`, with the same runtime shape as `sansnet-echo` (the accept loop in
//! `smol::block_on`, one task per connection on smol's global executor).
//!
//! `raw-echo [--host H] [--port P]` prints `listening on HOST:PORT` as its first line, then
//! writes back every chunk each connection sends (one 64 KiB read buffer per connection, as
//! the sansnet driver has) and shuts down its write side at the peer's FIN, until killed.

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};

use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let (host, port) = sansnet_bench::echo_cli::host_and_port("raw-echo");
    smol::block_on(async {
        let listener = match TcpListener::bind((host.as_str(), port)).and_then(Async::new) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("raw-echo: {e}");
                std::process::exit(1);
            }
        };
        let bound = listener.get_ref().local_addr().expect("bound address");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}:{}", bound.ip(), bound.port());
        let _ = out.flush();
        drop(out);
        loop {
            match listener.accept().await {
                Ok((stream, _)) => smol::spawn(echo(stream)).detach(),
                Err(e) => {
                    eprintln!("raw-echo: accept: {e}");
                    return;
                }
            }
        }
    });
}

/// Reads and writes back until EOF or an error, then sends our FIN.
async fn echo(mut stream: Async<TcpStream>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
    let _ = stream.get_ref().shutdown(Shutdown::Write);
}
