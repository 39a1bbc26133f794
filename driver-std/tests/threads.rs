//! The driver's threads: one reactor for the process, whatever the number of sockets, and
//! a short helper per name lookup. This file is its own test process with a single test,
//! so that the process's thread count is this test's alone.

mod common;

use std::time::{Duration, Instant};

use common::{bounded, events_until_close, port};
use sansnet_std::{ConnectOptions, ListenOptions, Server, ServerOptions, Socket, SocketEvent};

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

#[test]
fn one_reactor_thread_serves_every_connection() {
    bounded(60, || {
        let before = threads();
        let server = Server::new(ServerOptions::default());
        let p = port(
            &server
                .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
                .unwrap(),
        );
        // The reactor thread starts with the first handle.
        let base = before + 1;
        assert_eq!(threads(), base);
        const N: usize = 200;
        let mut pairs: Vec<(Socket, Socket)> = Vec::new();
        for _ in 0..N {
            let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", p)).unwrap();
            let peer = server.accept().unwrap();
            pairs.push((client, peer));
        }
        assert_eq!(threads(), base, "{N} connections, no thread of their own");
        // Every connection works: each client says its number, each peer hears it.
        for (k, (client, _)) in pairs.iter().enumerate() {
            client.end(Some(sansnet_std::Chunk::text(&format!("{k}"))));
        }
        for (k, (_, peer)) in pairs.iter().enumerate() {
            let mut got = Vec::new();
            loop {
                match peer.next_event().expect("an event") {
                    SocketEvent::Data(d) => got.extend(d),
                    SocketEvent::End => break,
                    _ => {}
                }
            }
            assert_eq!(got, format!("{k}").into_bytes());
            peer.end(None);
        }
        for (client, peer) in &pairs {
            assert_eq!(
                events_until_close(client).last().map(|e| e.had_close()),
                Some(true)
            );
            events_until_close(peer);
        }
        // A lookup runs on a helper thread that ends with it.
        let named = sansnet_std::connect(ConnectOptions::tcp("localhost", p)).unwrap();
        named.destroy(None);
        events_until_close(&named);
        assert_eq!(settle_to(base), base, "the lookup's helper is gone");
        drop(pairs);
        server.close().unwrap();
        assert_eq!(threads(), base);
    });
}

/// Whether an event is `'close'`.
trait HadClose {
    fn had_close(&self) -> bool;
}

impl HadClose for SocketEvent {
    fn had_close(&self) -> bool {
        matches!(self, SocketEvent::Close(_))
    }
}
