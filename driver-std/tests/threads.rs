//! No thread outlives the socket or server it served. This file is its own test process
//! with a single test, so that the process's thread count is this test's alone.

mod common;

use std::time::{Duration, Instant};

use common::{bounded, events_until_close, next, port, TempDir};
use sansnet_std::{
    ConnectOptions, ListenOptions, Server, ServerOptions, Socket, SocketEvent, SocketOptions,
};

/// The process's threads (entries of `/proc/self/task`).
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .count()
}

/// Waits (at most 5 s) until at most `target` threads remain; returns the count.
fn settle_to(target: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = threads();
        if n <= target || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads `socket`'s events until `'end'`.
fn until_end(socket: &Socket) {
    while next(socket) != SocketEvent::End {}
}

#[test]
fn no_thread_outlives_its_socket_or_server() {
    bounded(30, || {
        let before = threads();

        // A socket that never connects has no thread.
        let idle = Socket::new(SocketOptions::default()).unwrap();
        idle.set_no_delay(true);
        assert_eq!(threads(), before);

        // TCP: a server, a client and the accepted socket each have a thread while open.
        let server = Server::new(ServerOptions::default()).unwrap();
        let p = port(
            &server
                .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
                .unwrap(),
        );
        let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", p)).unwrap();
        let peer = server.accept().unwrap();
        assert_eq!(threads(), before + 3);
        client.end(Some("bye".into()));
        until_end(&peer);
        peer.end(None);
        events_until_close(&client);
        events_until_close(&peer);
        // Closed sockets hold no thread, though their handles live on.
        assert_eq!(
            settle_to(before + 1),
            before + 1,
            "only the server's thread"
        );
        assert!(client.is_resting() && peer.is_resting());

        // A lookup on a helper thread (the system resolver), then a destroy.
        let named = sansnet_std::connect(ConnectOptions::tcp("localhost", p)).unwrap();
        let peer2 = server.accept().unwrap();
        named.destroy(None);
        events_until_close(&named);
        until_end(&peer2);
        events_until_close(&peer2);
        // A refused connection.
        let refused = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert!(sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", refused)).is_err());
        // Dropped handles: a connected socket dropped finishes on its own.
        let dropped = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", p)).unwrap();
        let peer3 = server.accept().unwrap();
        drop(dropped);
        until_end(&peer3);
        events_until_close(&peer3);

        // close() returns once the server's thread is joined.
        server.close().unwrap();
        assert_eq!(settle_to(before), before, "TCP threads gone");

        // Unix-domain sockets, and handles dropped without reading their events.
        let dir = TempDir::new("threads");
        let path = dir.path("t.sock");
        let unix = Server::new(ServerOptions::default()).unwrap();
        unix.listen(ListenOptions::ipc(&path)).unwrap();
        let c = sansnet_std::connect(ConnectOptions::ipc(&path)).unwrap();
        let s = unix.accept().unwrap();
        c.write("unread");
        drop(c);
        drop(s);
        unix.close().unwrap();
        drop(unix);
        assert_eq!(settle_to(before), before, "unix threads gone");
        drop((idle, client, peer, named, peer2, peer3));
        assert_eq!(threads(), before);
    });
}
