//! Out of descriptors, a listener does what libuv does: it closes its spare descriptor,
//! accepts and closes every queued connection, and opens the spare again, so clients see
//! their connection closed instead of waiting in the backlog; the server keeps listening
//! and accepts again once descriptors are free. (Node hears of nothing; only without a
//! spare would the server get `'error'` with syscall `accept`.)
//!
//! This file is its own test process: it lowers its own `RLIMIT_NOFILE` for a moment.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::time::Duration;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use sansnet_std::{BoundAddress, ListenOptions, Server, ServerEvent, ServerOptions};
use socket2::{Domain, Socket, Type};

const CLIENTS: usize = 24;

/// The highest descriptor open and how many are open (from `/proc/self/fd`).
fn descriptors() -> (u64, u64) {
    let fds: Vec<u64> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    (fds.iter().copied().max().unwrap_or(0), fds.len() as u64)
}

#[test]
fn out_of_descriptors_queued_connections_are_closed_not_left_hanging() {
    let server = Server::new(ServerOptions::default());
    let bound = server
        .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
        .expect("listen");
    let BoundAddress::Tcp(addr) = bound else {
        panic!("not TCP")
    };
    // Clients on plain sockets, made before the limit drops and connected after it (a
    // connect needs no new descriptor), so the server accepts only under the limit.
    let sockets: Vec<Socket> = (0..CLIENTS)
        .map(|_| Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket"))
        .collect();
    let old = getrlimit(Resource::Nofile);
    // Fill the free numbers below the highest descriptor, so that exactly two are left.
    let (max_fd, _) = descriptors();
    let mut fillers = Vec::new();
    loop {
        let f = std::fs::File::open("/dev/null").expect("open");
        if std::os::fd::AsRawFd::as_raw_fd(&f) as u64 > max_fd {
            break;
        }
        fillers.push(f);
    }
    // (The listing's own descriptor, counted and then closed, is one more.)
    let (max_fd, open) = descriptors();
    let room = max_fd + 1 - open + 3;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(max_fd + 3),
            maximum: old.maximum,
        },
    )
    .expect("setrlimit");
    let mut clients: Vec<TcpStream> = sockets
        .into_iter()
        .map(|s| {
            s.connect(&addr.into()).expect("connect");
            s.into()
        })
        .collect();
    let mut accepted = Vec::new();
    let mut errors = Vec::new();
    while let Some(e) = server.next_event_timeout(Duration::from_millis(500)) {
        match e {
            ServerEvent::Connection(s) => accepted.push(s),
            ServerEvent::Error(e) => errors.push(e),
            _ => {}
        }
    }
    setrlimit(Resource::Nofile, old).expect("restore the limit");
    drop(fillers);

    assert!(
        errors.is_empty(),
        "the spare descriptor sheds the queue: {errors:?}"
    );
    assert!(
        (accepted.len() as u64) <= room && accepted.len() < CLIENTS,
        "{} accepted with room for {room}",
        accepted.len()
    );
    // Every client not accepted sees its connection closed (EOF or reset), none waits.
    let mut closed = 0;
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut b = [0u8; 1];
        match c.read(&mut b) {
            Ok(0) => closed += 1,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => closed += 1,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        closed + accepted.len(),
        CLIENTS,
        "every client is either accepted or closed"
    );
    // Descriptors are free again: the server still accepts.
    let late = TcpStream::connect(addr).expect("connect after");
    let got = loop {
        match server.next_event_timeout(Duration::from_secs(5)) {
            Some(ServerEvent::Connection(s)) => break s,
            Some(_) => continue,
            None => panic!("the server stopped accepting"),
        }
    };
    drop((late, got, accepted));
    server.close().expect("close");
}
