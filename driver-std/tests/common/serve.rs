//! The one-thread echo server of the `one_thread*` tests: `Runtime::wait_events` tells
//! which handles have events, each event gets a Node listener's reaction.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use crate::common::{port, PATIENCE};
use sansnet_std::{
    CloseKind, HandleId, ListenOptions, Runtime, Server, ServerEvent, ServerSettings, Socket,
    SocketEvent,
};

/// A listening server in `rt` on 127.0.0.1; its `'listening'` is still to be taken.
pub fn listen(rt: &Runtime) -> (Server, u16) {
    let server = Server::with_settings(ServerSettings {
        runtime: Some(rt.clone()),
        ..ServerSettings::default()
    });
    let bound = server
        .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
        .expect("listen");
    (server, port(&bound))
}

/// The handles with events, failing the test when none has any within [`PATIENCE`].
pub fn wait(rt: &Runtime, ready: &mut Vec<HandleId>) {
    ready.clear();
    assert!(
        rt.wait_events(ready, Some(PATIENCE)),
        "no handle had events in time"
    );
    assert!(!ready.is_empty());
    let mut unique = ready.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ready.len(),
        "a handle reported twice: {ready:?}"
    );
}

/// An echo connection served from the loop: what it received and its events' names
/// (consecutive `'data'` counted once).
struct Echoed {
    socket: Socket,
    bytes: usize,
    events: Vec<&'static str>,
}

/// Reacts to every event waiting on an echoed socket as Node's listeners would (write
/// back, pause while `write()` asks to wait, resume at `'drain'`, end at `'end'`); true at
/// `'close'`.
fn echo(c: &mut Echoed) -> bool {
    while let Some(e) = c.socket.try_next_event() {
        let n = match &e {
            SocketEvent::Data(_) => "data",
            SocketEvent::Drain => "drain",
            SocketEvent::End => "end",
            SocketEvent::Finish => "finish",
            SocketEvent::Close(CloseKind::HadError(false)) => "close",
            other => panic!("unexpected {other:?}"),
        };
        if !(n == "data" && c.events.last() == Some(&"data")) && n != "drain" {
            c.events.push(n);
        }
        match e {
            SocketEvent::Data(d) => {
                c.bytes += d.len();
                if !c.socket.write(d).ok {
                    c.socket.pause();
                }
            }
            SocketEvent::Drain => c.socket.resume(),
            SocketEvent::End => {
                c.socket.end(None);
            }
            SocketEvent::Close(_) => return true,
            _ => {}
        }
    }
    false
}

/// Serves `server` from this thread until `count` connections closed; their byte counts.
pub fn serve_echo(rt: &Runtime, server: &Server, count: usize) -> Vec<usize> {
    let server_id = server.id();
    assert!(server_id.is_server());
    let mut open: HashMap<HandleId, Echoed> = HashMap::new();
    let mut done = Vec::new();
    let mut ready = Vec::new();
    while done.len() < count {
        wait(rt, &mut ready);
        for id in &ready {
            if *id == server_id {
                while let Some(e) = server.try_next_event() {
                    match e {
                        ServerEvent::Connection(socket) => {
                            let id = socket.id();
                            assert!(id.is_socket());
                            let c = Echoed {
                                socket,
                                bytes: 0,
                                events: Vec::new(),
                            };
                            assert!(open.insert(id, c).is_none(), "an id named two sockets");
                        }
                        ServerEvent::Listening => {}
                        other => panic!("unexpected server event {other:?}"),
                    }
                }
                continue;
            }
            let c = open.get_mut(id).expect("a reported socket is one of ours");
            if echo(c) {
                let c = open.remove(id).expect("open");
                // Node's order for an echoed connection that the peer ends.
                assert_eq!(c.events, ["data", "end", "finish", "close"], "{id:?}");
                done.push(c.bytes);
            }
        }
    }
    assert!(open.is_empty());
    done
}

/// A client of `port` on a thread of its own: sends `len` bytes of its own pattern (a
/// thread writes while this one reads), half-closes, and checks every byte comes back,
/// then the server's FIN.
pub fn client(port: u16, k: usize, len: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let data: Vec<u8> = (0..len).map(|j| ((j * 7 + k * 13) % 251) as u8).collect();
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(PATIENCE)).expect("timeout");
        let mut w = s.try_clone().expect("clone");
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            w.write_all(&sent).expect("write");
            w.shutdown(Shutdown::Write).expect("shutdown");
        });
        let mut back = Vec::with_capacity(len);
        s.read_to_end(&mut back).expect("read the echo, then EOF");
        writer.join().expect("writer");
        assert!(back == data, "client {k}: the echo differs");
    })
}

/// One client per length in `lens`, each echoed in full by one thread serving `rt` (see
/// [`serve_echo`]): asserts that every connection carried its whole length back.
pub fn echo_clients(rt: &Runtime, lens: &[usize]) {
    let (server, port) = listen(rt);
    let clients: Vec<_> = lens
        .iter()
        .enumerate()
        .map(|(k, &len)| client(port, k, len))
        .collect();
    let mut got = serve_echo(rt, &server, lens.len());
    for c in clients {
        c.join().expect("client");
    }
    let mut want = lens.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}
