//! An echo server over the byte stream (`io::copy(&socket, &socket)`, a thread per
//! connection) gives back every byte even when its writes wait for `'drain'` while the
//! peer's data and FIN arrive: the automatic `end()` after `'end'` (no `allowHalfOpen`)
//! waits until the echo thread has taken the data before it (Node's 'data' listeners all
//! run before 'end').

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use common::{bounded, port};
use sansnet_std::{ListenOptions, Server, ServerOptions};

#[test]
fn an_echo_with_small_buffers_loses_nothing_before_the_fin() {
    bounded(60, || {
        // A small high-water mark: the echo's writes wait for 'drain' all the time.
        let server = Server::new(ServerOptions::default().with_high_water_mark(512));
        let addr = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .expect("listen");
        let p = port(&addr);
        std::thread::spawn(move || {
            while let Ok(s) = server.accept() {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut &s, &mut &s);
                    let _ = s.shutdown(Shutdown::Write);
                });
            }
        });
        let clients: Vec<_> = (0..4)
            .map(|c| {
                std::thread::spawn(move || {
                    let payload: Vec<u8> = (0..8_000_000u32).map(|i| (i + c) as u8).collect();
                    let mut conn = TcpStream::connect(("127.0.0.1", p)).expect("connect");
                    let mut reader = conn.try_clone().expect("clone");
                    let want = payload.len();
                    let read = std::thread::spawn(move || {
                        let mut got = Vec::with_capacity(want);
                        reader.read_to_end(&mut got).expect("read");
                        got
                    });
                    conn.write_all(&payload).expect("write");
                    conn.shutdown(Shutdown::Write).expect("FIN");
                    let got = read.join().expect("reader");
                    assert_eq!(got.len(), payload.len(), "client {c}: bytes echoed");
                    assert!(got == payload, "client {c}: the bytes differ");
                })
            })
            .collect();
        for c in clients {
            c.join().expect("client");
        }
    });
}
