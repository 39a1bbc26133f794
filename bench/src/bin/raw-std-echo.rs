//! The blocking baseline: an echo server on `std::net`, one thread per connection.
//!
//! `raw-std-echo [--host H] [--port P]` prints `listening on HOST:PORT`, then writes back
//! every chunk each connection sends (one 64 KiB read buffer per connection) and shuts
//! down its write side at the peer's FIN, until killed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

fn main() {
    let (host, port) = sansnet_bench::echo_cli::host_and_port("raw-std-echo");
    let listener = match TcpListener::bind((host.as_str(), port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("raw-std-echo: {e}");
            std::process::exit(1);
        }
    };
    let bound = listener.local_addr().expect("bound address");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}:{}", bound.ip(), bound.port());
    let _ = out.flush();
    drop(out);
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                std::thread::spawn(move || echo(s));
            }
            Err(e) => eprintln!("raw-std-echo: accept: {e}"),
        }
    }
}

/// Reads and writes back until EOF or an error, then sends our FIN.
fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}
