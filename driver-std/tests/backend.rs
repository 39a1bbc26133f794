//! The interface a conformance backend uses: many handles in one manual runtime, one
//! thread that turns it, takes every actor's events in order and reacts to them as Node
//! listeners would.

mod common;

use std::time::{Duration, Instant};

use common::port;
use sansnet_std::{
    Chunk, ConnectOptions, ListenOptions, ReadyState, Runtime, Server, ServerEvent, ServerSettings,
    Socket, SocketEvent, SocketSettings,
};

/// One line per observed event, as a trace.
fn line(e: &SocketEvent) -> Option<String> {
    Some(match e {
        SocketEvent::ConnectionAttempt { address, .. } => format!("connectionAttempt {address}"),
        SocketEvent::Connect => "connect".into(),
        SocketEvent::Ready => "ready".into(),
        SocketEvent::Data(d) => format!("data {:?}", String::from_utf8_lossy(d)),
        SocketEvent::End => "end".into(),
        SocketEvent::Finish => "finish".into(),
        SocketEvent::Close(k) => format!("close {}", k.had_error()),
        SocketEvent::WriteCallback { error, .. } => format!("writeCallback {}", error.is_some()),
        _ => return None,
    })
}

#[test]
fn one_thread_turns_a_manual_runtime_for_every_actor() {
    let rt = Runtime::manual().unwrap();
    let server = Server::with_settings(ServerSettings {
        runtime: Some(rt.clone()),
        ..ServerSettings::default()
    });
    server
        .start_listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
        .unwrap();
    let client = Socket::with_settings(SocketSettings {
        runtime: Some(rt.clone()),
        ..SocketSettings::default()
    });
    let mut accepted: Vec<Socket> = Vec::new();
    let (mut client_trace, mut server_trace, mut peer_trace) = (vec![], vec![], vec![]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut client_closed = false;
    while !client_closed {
        assert!(Instant::now() < deadline, "timed out: {client_trace:?}");
        let mut any = false;
        while let Some(e) = server.try_next_event() {
            any = true;
            match e {
                ServerEvent::Listening => {
                    server_trace.push("listening".to_string());
                    // React as a 'listening' listener: connect and write at once.
                    let p = port(&server.address().unwrap());
                    client.connect(ConnectOptions::tcp("127.0.0.1", p));
                    let w = client.write_with_callback("hello");
                    assert!(w.ok);
                    assert_eq!(client.info().ready_state, ReadyState::Opening);
                    client.end(Some(Chunk::text(" world")));
                }
                ServerEvent::Connection(s) => {
                    server_trace.push("connection".to_string());
                    accepted.push(s);
                }
                other => server_trace.push(format!("{other:?}")),
            }
        }
        while let Some(e) = client.try_next_event() {
            any = true;
            client_closed |= matches!(e, SocketEvent::Close(_));
            client_trace.extend(line(&e));
        }
        for peer in &accepted {
            while let Some(e) = peer.try_next_event() {
                any = true;
                // An echo, as `socket.pipe(socket)`.
                match &e {
                    SocketEvent::Data(d) => {
                        peer.write(d.clone());
                    }
                    SocketEvent::End => {
                        peer.end(None);
                    }
                    _ => {}
                }
                peer_trace.extend(line(&e));
            }
        }
        if !any {
            rt.turn(Instant::now() + Duration::from_millis(500));
        }
    }
    assert_eq!(server_trace, ["listening", "connection"]);
    let data: String = client_trace
        .iter()
        .filter_map(|l| l.strip_prefix("data "))
        .map(|d| d.trim_matches('"').to_string())
        .collect();
    assert_eq!(data, "hello world");
    let shape: Vec<&str> = client_trace
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("data"))
        .collect();
    assert_eq!(
        shape,
        [
            "connectionAttempt 127.0.0.1",
            "connect",
            // Node: the write parked before connect calls back before 'ready'; end(data)
            // writes its data without a callback.
            "writeCallback false",
            "ready",
            "finish",
            "end",
            "close false"
        ]
    );
    let peer_shape: Vec<&str> = peer_trace
        .iter()
        .map(String::as_str)
        .filter(|l| !l.starts_with("data") && !l.starts_with("writeCallback"))
        .take(1)
        .collect();
    assert_eq!(peer_shape, ["end"], "the peer saw the data, then 'end'");
    let snapshot = client.info();
    assert!(snapshot.destroyed);
    assert_eq!(snapshot.bytes_written, 11);
    // The peer closes once its echo finished; then the server can close.
    while !accepted[0].info().destroyed {
        if accepted[0].try_next_event().is_none() {
            rt.turn(Instant::now() + Duration::from_millis(500));
        }
        assert!(Instant::now() < deadline);
    }
    drop(accepted);
    server.close().unwrap();
}
