//! A peer that sends and never reads, against an echo that honours back-pressure as
//! Node's `pipe()` does (pause when `write()` returns false, resume at `'drain'`): the
//! server stops reading, holds at most the high-water mark beyond the kernel's buffers,
//! and once the peer reads, every byte comes back, in order.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{port, run};
use sansnet_smol::{ListenOptions, Server, ServerOptions, Socket, SocketEvent};

/// How much the peer tries to push without reading.
const PUSH: usize = 64 * 1024 * 1024;

async fn piped_echo(socket: Socket) -> usize {
    let mut most_queued = 0;
    while let Some(e) = socket.next_event().await {
        match e {
            SocketEvent::Data(d) => {
                let ok = socket.write(d).ok;
                most_queued = most_queued.max(socket.info().writable_length);
                if !ok {
                    socket.pause();
                    if socket.drained().await.is_err() {
                        break;
                    }
                    socket.resume();
                }
            }
            SocketEvent::End => {
                socket.end(None);
            }
            SocketEvent::Close(_) => break,
            _ => {}
        }
    }
    most_queued
}

#[test]
fn a_peer_that_never_reads_is_held_at_the_high_water_mark() {
    run(60, async {
        let server = Server::new(ServerOptions::default());
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .expect("listen");
        let p = port(&bound);
        let client = std::thread::spawn(move || {
            let mut c = TcpStream::connect(("127.0.0.1", p)).expect("connect");
            c.set_nonblocking(true).expect("nonblocking");
            let chunk = vec![7u8; 64 * 1024];
            let mut sent = 0;
            let mut blocked = Instant::now();
            // Push without reading until the server stops taking bytes for a second.
            while sent < PUSH && blocked.elapsed() < Duration::from_secs(1) {
                match c.write(&chunk) {
                    Ok(n) => {
                        sent += n;
                        blocked = Instant::now();
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            // Now read everything back.
            c.set_nonblocking(false).expect("blocking");
            c.shutdown(std::net::Shutdown::Write).expect("shutdown");
            let mut back = Vec::new();
            c.read_to_end(&mut back).expect("read back");
            (sent, back)
        });
        let socket = server.accept().await.expect("accept");
        let most_queued = piped_echo(socket).await;
        let (sent, back) = smol::unblock(move || client.join().expect("client")).await;
        assert!(sent < PUSH, "the server kept reading: {sent} bytes taken");
        assert_eq!(back.len(), sent, "every byte came back");
        assert!(back.iter().all(|b| *b == 7));
        assert!(
            most_queued <= 16 * 1024 + 64 * 1024,
            "at most the high-water mark and one read were queued: {most_queued}"
        );
        server.close().await.expect("close");
    });
}
