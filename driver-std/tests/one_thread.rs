//! One thread serving every socket and server of a runtime with `Runtime::wait_events`,
//! as Node's one JavaScript thread does (a manual runtime: nothing else runs its loop).

mod common;
#[path = "common/serve.rs"]
mod serve;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{bounded, PATIENCE};
use sansnet_std::{ConnectOptions, Runtime, ServerEvent, Socket, SocketEvent, SocketSettings};
use serve::{echo_clients, listen, wait};

/// A short name for an event, to compare sequences.
fn name(e: &SocketEvent) -> String {
    match e {
        SocketEvent::ConnectionAttempt { .. } => "connectionAttempt".into(),
        SocketEvent::Connect => "connect".into(),
        SocketEvent::Ready => "ready".into(),
        SocketEvent::Data(d) => format!("data {}", String::from_utf8_lossy(d)),
        SocketEvent::End => "end".into(),
        SocketEvent::Finish => "finish".into(),
        SocketEvent::Drain => "drain".into(),
        SocketEvent::Close(k) => format!("close {}", k.had_error()),
        other => format!("{other:?}"),
    }
}

#[test]
fn one_thread_echoes_fifty_connections() {
    bounded(60, || {
        let rt = Runtime::manual().expect("runtime");
        // Some large enough that writes wait for 'drain'.
        let lens: Vec<usize> = (0..50)
            .map(|k| if k % 10 == 0 { 1 << 20 } else { 1000 + k * 997 })
            .collect();
        echo_clients(&rt, &lens);
    });
}

#[test]
fn events_come_in_nodes_order_for_each_socket() {
    bounded(30, || {
        let rt = Runtime::manual().expect("runtime");
        let (server, port) = listen(&rt);
        let client = Socket::with_settings(SocketSettings {
            runtime: Some(rt.clone()),
            ..SocketSettings::default()
        });
        client.connect(ConnectOptions::tcp("127.0.0.1", port));
        let (server_id, client_id) = (server.id(), client.id());
        assert_ne!(server_id, client_id);
        let mut accepted: Option<Socket> = None;
        let (mut client_log, mut server_log) = (Vec::new(), Vec::new());
        let mut closed = 0;
        let mut ready = Vec::new();
        while closed < 2 {
            wait(&rt, &mut ready);
            for id in &ready {
                if *id == server_id {
                    while let Some(e) = server.try_next_event() {
                        if let ServerEvent::Connection(s) = e {
                            accepted = Some(s);
                        }
                    }
                } else if *id == client_id {
                    // As Node's 'connect' listener writes, and its 'data' listener ends.
                    while let Some(e) = client.try_next_event() {
                        client_log.push(name(&e));
                        match e {
                            SocketEvent::Connect => {
                                client.write("hello");
                            }
                            SocketEvent::Data(_) => {
                                client.end(None);
                            }
                            SocketEvent::Close(_) => closed += 1,
                            _ => {}
                        }
                    }
                } else {
                    let s = accepted.as_ref().expect("the accepted socket");
                    assert_eq!(*id, s.id());
                    while let Some(e) = s.try_next_event() {
                        server_log.push(name(&e));
                        match e {
                            SocketEvent::Data(d) => {
                                s.write(d);
                            }
                            SocketEvent::End => {
                                s.end(None);
                            }
                            SocketEvent::Close(_) => closed += 1,
                            _ => {}
                        }
                    }
                }
            }
        }
        // What Node prints for the same listeners (with one for connectionAttempt).
        assert_eq!(
            client_log,
            [
                "connectionAttempt",
                "connect",
                "ready",
                "data hello",
                "finish",
                "end",
                "close false"
            ]
        );
        assert_eq!(server_log, ["data hello", "end", "finish", "close false"]);
    });
}

#[test]
fn a_drop_under_max_connections_is_reported_on_the_server() {
    bounded(30, || {
        let rt = Runtime::manual().expect("runtime");
        let (server, port) = listen(&rt);
        server.set_max_connections(Some(1));
        let mut ready = Vec::new();
        let mut events: Vec<String> = Vec::new();
        let mut kept = Vec::new();
        let mut serve_until = |what: &str, events: &mut Vec<String>| {
            while !events.iter().any(|e| e.starts_with(what)) {
                wait(&rt, &mut ready);
                assert_eq!(ready, [server.id()], "only the server has events");
                while let Some(e) = server.try_next_event() {
                    events.push(match e {
                        ServerEvent::Listening => "listening".into(),
                        ServerEvent::Connection(s) => {
                            kept.push(s);
                            "connection".into()
                        }
                        ServerEvent::Drop(Some(d)) => format!("drop {}", d.remote.port()),
                        other => format!("{other:?}"),
                    });
                }
            }
        };
        let first = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        serve_until("connection", &mut events);
        let mut second = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        second.set_read_timeout(Some(PATIENCE)).expect("timeout");
        serve_until("drop", &mut events);
        let second_port = second.local_addr().expect("address").port();
        assert_eq!(
            events,
            [
                "listening".to_string(),
                "connection".to_string(),
                format!("drop {second_port}")
            ]
        );
        // The dropped client sees its connection closed.
        let mut buf = [0u8; 8];
        match second.read(&mut buf) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the dropped connection is not closed: {other:?}"),
        }
        drop(first);
    });
}

#[test]
fn a_wait_with_nothing_ready_times_out() {
    bounded(30, || {
        let rt = Runtime::manual().expect("runtime");
        let mut ready = Vec::new();
        assert!(!rt.wait_events(&mut ready, Some(Duration::ZERO)));
        let started = Instant::now();
        assert!(!rt.wait_events(&mut ready, Some(Duration::from_millis(30))));
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert!(ready.is_empty());
        // A listening server whose 'listening' was taken has nothing either.
        let (server, _port) = listen(&rt);
        assert!(rt.wait_events(&mut ready, Some(Duration::ZERO)));
        assert_eq!(ready, [server.id()]);
        assert!(matches!(
            server.try_next_event(),
            Some(ServerEvent::Listening)
        ));
        assert!(server.try_next_event().is_none());
        ready.clear();
        assert!(!rt.wait_events(&mut ready, Some(Duration::from_millis(30))));
        assert!(ready.is_empty());
    });
}

#[test]
fn events_left_in_a_queue_are_reported_again() {
    bounded(30, || {
        let rt = Runtime::manual().expect("runtime");
        let (server, port) = listen(&rt);
        let mut ready = Vec::new();
        wait(&rt, &mut ready);
        assert_eq!(ready, [server.id()]);
        // 'listening' is not taken: the server is reported at every wait.
        for _ in 0..3 {
            ready.clear();
            assert!(rt.wait_events(&mut ready, Some(Duration::ZERO)));
            assert_eq!(ready, [server.id()]);
        }
        assert!(matches!(
            server.try_next_event(),
            Some(ServerEvent::Listening)
        ));
        let _client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        wait(&rt, &mut ready);
        assert_eq!(ready, [server.id()]);
        assert!(matches!(
            server.try_next_event(),
            Some(ServerEvent::Connection(_))
        ));
    });
}
