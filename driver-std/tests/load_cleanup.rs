//! N connections (`SANSNET_LOAD`, default 300) held at once, each echoed, then closed:
//! no descriptor and no thread is left behind. Alone in its test binary, so that the test
//! harness's other threads do not count.

mod common;

use common::{listen_loopback, load};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sansnet_std::{Server, ServerOptions, Socket};

fn count(dir: &str) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn fds() -> usize {
    count("/proc/self/fd")
}

fn threads() -> usize {
    count("/proc/self/task")
}

/// Echoes until `'close'` (the byte stream: `io::copy` of the socket onto itself).
fn echo(socket: Socket) {
    let _ = std::io::copy(&mut &socket, &mut &socket);
    let _ = socket.shutdown(std::net::Shutdown::Write);
    while socket.next_event().is_some() {}
}

#[test]
fn many_connections_open_echo_and_close_leaving_nothing_behind() {
    let n = load();
    let server = std::sync::Arc::new(Server::new(ServerOptions::default()));
    let addr = listen_loopback(&server);
    let (fds0, threads0) = (fds(), threads());
    let started = Instant::now();
    let s = server.clone();
    let acceptor = std::thread::spawn(move || {
        let mut echoes = Vec::with_capacity(n);
        for _ in 0..n {
            let socket = s.accept().expect("accept");
            echoes.push(
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || echo(socket))
                    .expect("thread"),
            );
        }
        echoes
    });
    // Every client open at once, each echoed once.
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        let mut c = TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let msg = format!("ping {i}\n");
        c.write_all(msg.as_bytes()).expect("write");
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back).expect("echo");
        assert_eq!(back, msg.as_bytes());
        clients.push(c);
    }
    let held = server.get_connections();
    assert_eq!(held as usize, n, "every connection held at once");
    for c in &clients {
        c.shutdown(std::net::Shutdown::Write).expect("shutdown");
    }
    for mut c in clients {
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).expect("the server ends too");
        assert!(rest.is_empty());
    }
    for t in acceptor.join().expect("acceptor") {
        t.join().expect("echo thread");
    }
    let took = started.elapsed();
    // A joined thread can still be listed for a moment while the kernel reaps it.
    let settle = Instant::now();
    while threads() > threads0 && settle.elapsed() < Duration::from_secs(2) {
        std::thread::yield_now();
    }
    let (fds1, threads1) = (fds(), threads());
    eprintln!(
        "{n} connections held at once, echoed and closed in {took:.2?}; descriptors {fds0} -> {fds1}, threads {threads0} -> {threads1}"
    );
    assert_eq!(fds1, fds0, "a descriptor was left open");
    assert_eq!(threads1, threads0, "a thread was left running");
    assert_eq!(server.get_connections(), 0);
}
