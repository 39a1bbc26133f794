//! Load and abuse on real loopback sockets, bounded in count and time (many connections
//! opened, echoed and closed with nothing left behind: `load_cleanup.rs`); a connect flood against
//! `maxConnections`; slow clients cut by the idle timeout; a reset in the middle of a
//! transfer. `SANSNET_LOAD=N` sets the connection count (default 300 for CI; the figures
//! in ROBUSTNESS.md are from `SANSNET_LOAD=10000`).
//!
//! Each test runs in this one process, one at a time (they count descriptors and threads).

mod common;

use common::{listen_loopback, load};

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sansnet_std::{Server, ServerEvent, ServerOptions, SocketEvent};

/// One test at a time: they count the process's descriptors and threads.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn a_connect_flood_against_max_connections_admits_exactly_that_many() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let max = (load() / 5).max(10);
    let flood = max * 5;
    let server = Server::new(ServerOptions::default());
    server.set_max_connections(Some(max as u32));
    let addr = listen_loopback(&server);
    let mut clients = Vec::with_capacity(flood);
    for _ in 0..flood {
        let c = TcpStream::connect(addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        clients.push(c);
    }
    let (mut admitted, mut dropped) = (Vec::new(), 0);
    while admitted.len() + dropped < flood {
        match server.next_event_timeout(Duration::from_secs(20)) {
            Some(ServerEvent::Connection(s)) => admitted.push(s),
            Some(ServerEvent::Drop(_)) => dropped += 1,
            Some(ServerEvent::Error(e)) => panic!("{e}"),
            Some(_) => {}
            None => panic!(
                "{} admitted, {dropped} dropped, then nothing",
                admitted.len()
            ),
        }
    }
    eprintln!(
        "flood of {flood} against maxConnections {max}: {} admitted, {dropped} dropped",
        admitted.len()
    );
    assert_eq!(admitted.len(), max);
    assert_eq!(dropped, flood - max);
    assert_eq!(server.get_connections() as usize, max);
    // Every dropped client sees its connection closed; an admitted one does not.
    let mut closed = 0;
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        match c.read(&mut [0u8; 1]) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => closed += 1,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        closed,
        flood - max,
        "every dropped connection is closed, and only those"
    );
    drop(admitted);
    drop(clients);
    server.close().expect("close");
}

#[test]
fn slow_clients_are_cut_by_the_idle_timeout() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let n = load().min(1000);
    let server = std::sync::Arc::new(Server::new(ServerOptions::default()));
    let addr = listen_loopback(&server);
    let started = Instant::now();
    let s = server.clone();
    let acceptor = std::thread::spawn(move || {
        (0..n)
            .map(|_| {
                let socket = s.accept().expect("accept");
                socket.set_timeout(Duration::from_millis(300));
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        // Node's idiom: destroy the socket at 'timeout'.
                        let mut timed_out = false;
                        while let Some(e) = socket.next_event() {
                            match e {
                                SocketEvent::Timeout => {
                                    timed_out = true;
                                    socket.destroy(None);
                                }
                                SocketEvent::Close(_) => break,
                                _ => {}
                            }
                        }
                        timed_out
                    })
                    .expect("thread")
            })
            .collect::<Vec<_>>()
    });
    // Each client sends a byte, then waits longer than the timeout before the next.
    let mut clients: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut c = TcpStream::connect(addr).expect("connect");
            c.write_all(b"G").expect("write");
            c
        })
        .collect();
    let mut cut = 0;
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        match c.read(&mut [0u8; 1]) {
            Ok(0) => cut += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => cut += 1,
            other => panic!("a slow client was not cut: {other:?}"),
        }
    }
    let timed_out = acceptor
        .join()
        .expect("acceptor")
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .filter(|t| *t)
        .count();
    eprintln!(
        "{n} slow clients cut by a 300 ms idle timeout in {:.2?}",
        started.elapsed()
    );
    assert_eq!(cut, n);
    assert_eq!(timed_out, n, "each server socket saw 'timeout'");
    server.close().expect("close");
}

#[test]
fn a_reset_mid_transfer_delivers_a_prefix_in_order_and_nothing_after() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Server::new(ServerOptions::default());
    let addr = listen_loopback(&server);
    let sent: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let to_send = sent.clone();
    let client = std::thread::spawn(move || {
        let c = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        c.connect(&addr.into()).expect("connect");
        let mut c: TcpStream = c.into();
        c.write_all(&to_send[..3 * 1024 * 1024]).expect("write");
        // Close with RST (linger 0) while bytes may still be in flight.
        socket2::SockRef::from(&c)
            .set_linger(Some(Duration::ZERO))
            .expect("linger");
        drop(c);
    });
    let socket = server.accept().expect("accept");
    let mut got = Vec::new();
    let mut ended_with = None;
    while let Some(e) = socket.next_event_timeout(Duration::from_secs(20)) {
        match e {
            SocketEvent::Data(d) => got.extend_from_slice(&d),
            SocketEvent::Error(e) => ended_with = Some(e.code.to_string()),
            SocketEvent::Close(_) => break,
            _ => {}
        }
    }
    client.join().expect("client");
    assert!(got.len() <= 3 * 1024 * 1024);
    assert_eq!(got[..], sent[..got.len()], "a prefix, in order");
    eprintln!(
        "reset after 3 MiB written: {} bytes delivered in order, then {}",
        got.len(),
        ended_with.as_deref().unwrap_or("end")
    );
    server.close().expect("close");
}

#[test]
fn an_application_that_never_reads_stops_the_reading() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let server = Server::new(ServerOptions::default());
    let addr = listen_loopback(&server);
    let client = std::thread::spawn(move || {
        let mut c = TcpStream::connect(addr).expect("connect");
        c.set_nonblocking(true).expect("nonblocking");
        let chunk = vec![1u8; 64 * 1024];
        let (mut sent, mut idle_since) = (0usize, Instant::now());
        while sent < 256 * 1024 * 1024 && idle_since.elapsed() < Duration::from_secs(1) {
            match c.write(&chunk) {
                Ok(n) => {
                    sent += n;
                    idle_since = Instant::now();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        sent
    });
    // The application takes the connection and then never takes an event or a byte.
    let socket = server.accept().expect("accept");
    let sent = client.join().expect("client");
    let read = socket.info().bytes_read;
    eprintln!(
        "a peer pushed {sent} bytes at an application that never reads: {read} read from the OS"
    );
    assert!(
        sent < 256 * 1024 * 1024,
        "the kernel buffers filled: reading stopped"
    );
    assert!(
        read < 8 * 1024 * 1024,
        "reading from the OS stopped early: {read}"
    );
    drop(socket);
    server.close().expect("close");
}
