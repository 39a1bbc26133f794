//! The driver on real loopback TCP sockets.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use common::{bounded, data_of, echo_server, events_until_close, names, next, port, PATIENCE};

/// The Node error a failed `listen` carries.
fn node_err(e: std::io::Error) -> sansnet::NetError {
    sansnet::NetError::of_io(&e).expect("a Node error").clone()
}
use sansnet_std::{
    Chunk, CloseKind, Code, ConnectOptions, ListenOptions, ReadyState, Server, ServerEvent,
    ServerOptions, Socket, SocketEvent, SocketOptions,
};

fn local() -> ListenOptions {
    ListenOptions::tcp(Some("127.0.0.1".into()), 0)
}

#[test]
fn echo_round_trip_with_events() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let socket =
            sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).expect("connect");
        assert_eq!(socket.info().ready_state, ReadyState::Open);
        assert!(!socket.info().pending);
        let remote = socket.remote_address().expect("remote address");
        assert_eq!(remote.port(), port(&bound));
        let w = socket.write("hello, ");
        assert!(w.ok, "a small write is below the high-water mark");
        socket.end(Some(Chunk::text("world")));
        let events = events_until_close(&socket);
        assert_eq!(data_of(&events), b"hello, world");
        assert_eq!(
            names(&events),
            [
                "connectionAttempt",
                "connect",
                "ready",
                "finish",
                "end",
                "close"
            ]
        );
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        let info = socket.info();
        assert!(info.destroyed);
        assert_eq!(info.ready_state, ReadyState::Closed);
        assert_eq!(info.bytes_read, 12);
        assert_eq!(info.bytes_written, 12);
        assert_eq!(socket.next_event(), None, "a closed socket rests");
        server.close().expect("close");
    });
}

#[test]
fn byte_stream_round_trip() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let mut socket =
            sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        socket.write_all(b"ping").unwrap();
        socket.flush().unwrap();
        socket.shutdown(Shutdown::Write).unwrap();
        assert!(socket.info().writable_finished);
        let mut back = Vec::new();
        socket.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"ping");
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn half_close_server_keeps_writing() {
    bounded(10, || {
        let cfg = ServerOptions {
            allow_half_open: true,
            ..ServerOptions::default()
        };
        let server = Server::new(cfg);
        let bound = server.listen(local()).unwrap();
        let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        client.end(Some(Chunk::text("question")));
        let peer = server.accept().unwrap();
        let mut got = Vec::new();
        loop {
            match next(&peer) {
                SocketEvent::Data(d) => got.extend_from_slice(&d),
                SocketEvent::End => break,
                SocketEvent::Close(_) | SocketEvent::Error(_) => panic!("closed before 'end'"),
                _ => {}
            }
        }
        assert_eq!(got, b"question");
        assert_eq!(peer.info().ready_state, ReadyState::WriteOnly);
        for part in ["answer ", "after ", "end"] {
            assert!(peer.write(part).ok);
        }
        peer.end(None);
        let events = events_until_close(&client);
        assert_eq!(data_of(&events), b"answer after end");
        let order = names(&events);
        let finish = order.iter().position(|n| *n == "finish").unwrap();
        let end = order.iter().position(|n| *n == "end").unwrap();
        assert!(
            finish < end,
            "the client finished before the answer ended: {order:?}"
        );
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        assert_eq!(names(&events_until_close(&peer)), ["finish", "close"]);
        server.close().unwrap();
    });
}

#[test]
fn refused_connection_is_an_error_event() {
    bounded(10, || {
        let port = common::free_port();
        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::tcp("127.0.0.1", port));
        let events = events_until_close(&socket);
        assert_eq!(
            names(&events),
            [
                "connectionAttempt",
                "connectionAttemptFailed",
                "error",
                "close"
            ]
        );
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            unreachable!()
        };
        assert_eq!(e.code, Code::Econnrefused);
        assert_eq!(e.message, format!("connect ECONNREFUSED 127.0.0.1:{port}"));
        assert_eq!(e.syscall, Some("connect"));
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(true)))
        );
        let err = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn address_in_use_is_a_server_error() {
    bounded(10, || {
        let first = Server::new(ServerOptions::default());
        let p = port(&first.listen(local()).unwrap());
        let second = Server::new(ServerOptions::default());
        let err = node_err(
            second
                .listen(ListenOptions::tcp(Some("127.0.0.1".into()), p))
                .unwrap_err(),
        );
        assert_eq!(err.code, Code::Eaddrinuse);
        assert_eq!(
            err.message,
            format!("listen EADDRINUSE: address already in use 127.0.0.1:{p}")
        );
        match second.next_event_timeout(PATIENCE) {
            Some(ServerEvent::Error(e)) => assert_eq!(e, err),
            other => panic!("expected 'error', got {other:?}"),
        }
        assert!(!second.listening());
        assert!(
            second.accept().is_err(),
            "a server that failed to listen accepts nothing"
        );
        assert!(first.listening());
        first.close().unwrap();
        assert!(matches!(first.next_event(), Some(ServerEvent::Listening)));
        assert!(matches!(first.next_event(), Some(ServerEvent::Close)));
        assert!(matches!(
            first.next_event(),
            Some(ServerEvent::CloseCallback(None))
        ));
        assert!(first.next_event().is_none(), "a closed server rests");
        let again = first.close().unwrap_err();
        assert_eq!(again.code, Code::ErrServerNotRunning);
    });
}

#[test]
fn max_connections_drops_the_excess() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        server.set_max_connections(Some(1));
        assert_eq!(server.max_connections(), Some(1));
        let bound = server.listen(local()).unwrap();
        let opts = ConnectOptions::tcp("127.0.0.1", port(&bound));
        let first = sansnet_std::connect(opts.clone()).unwrap();
        let admitted = server.accept().unwrap();
        let second = sansnet_std::connect(opts).unwrap();
        let second_local = second.info().local_address.unwrap();
        let drop_info = loop {
            match server.next_event_timeout(PATIENCE).expect("an event") {
                ServerEvent::Drop(d) => break d.expect("TCP drops carry addresses"),
                ServerEvent::Connection(_) => panic!("the second connection was admitted"),
                _ => {}
            }
        };
        assert_eq!(drop_info.remote, second_local);
        assert_eq!(drop_info.local.port(), port(&bound));
        assert_eq!(server.get_connections(), 1);
        // The server closed the dropped connection; the first one still works.
        let events = events_until_close(&second);
        assert!(names(&events).contains(&"end"), "{events:?}");
        first.end(Some(Chunk::text("still here")));
        let mut got = Vec::new();
        loop {
            match next(&admitted) {
                SocketEvent::Data(d) => got.extend_from_slice(&d),
                SocketEvent::End => break,
                _ => {}
            }
        }
        assert_eq!(got, b"still here");
        drop(admitted);
        drop(first);
        server.close().unwrap();
        assert_eq!(server.get_connections(), 0);
    });
}

#[test]
fn block_list_closes_the_peer_silently() {
    bounded(10, || {
        let mut list = sansnet_std::sansnet::BlockList::default();
        list.add_address("127.0.0.1".parse().unwrap());
        let cfg = ServerOptions {
            block_list: Some(list),
            ..ServerOptions::default()
        };
        let server = Server::new(cfg);
        let bound = server.listen(local()).unwrap();
        let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let events = events_until_close(&client);
        assert!(names(&events).contains(&"end"), "{events:?}");
        assert!(matches!(server.next_event(), Some(ServerEvent::Listening)));
        assert!(
            server.try_next_event().is_none(),
            "no 'connection' nor 'drop' for a blocked peer"
        );
        assert_eq!(server.get_connections(), 0);
        server.close().unwrap();
    });
}

#[test]
fn idle_timeout_emits_timeout_without_closing() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let socket = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let start = Instant::now();
        socket.set_timeout(Duration::from_millis(150));
        assert_eq!(socket.info().timeout, Duration::from_millis(150));
        let e = loop {
            match next(&socket) {
                SocketEvent::Connect
                | SocketEvent::Ready
                | SocketEvent::ConnectionAttempt { .. } => {}
                e => break e,
            }
        };
        assert_eq!(e, SocketEvent::Timeout);
        assert!(start.elapsed() >= Duration::from_millis(150));
        let info = socket.info();
        assert!(!info.destroyed, "'timeout' does not close");
        assert_eq!(info.ready_state, ReadyState::Open);
        // Still usable; with the timer off, no second 'timeout'.
        socket.set_timeout(Duration::ZERO);
        socket.end(Some(Chunk::text("after")));
        let events = events_until_close(&socket);
        assert_eq!(data_of(&events), b"after");
        assert!(!names(&events).contains(&"timeout"), "{events:?}");
        server.close().unwrap();
    });
}

#[test]
fn ten_megabytes_arrive_byte_exact() {
    bounded(60, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let socket = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let sent: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        let mut back = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = &socket;
                for chunk in sent.chunks(100_000) {
                    w.write_all(chunk).unwrap();
                }
                socket.shutdown(Shutdown::Write).unwrap();
            });
            (&socket).read_to_end(&mut back).unwrap();
        });
        assert_eq!(back.len(), sent.len());
        assert!(back == sent, "the bytes differ");
        let info = socket.info();
        assert_eq!(info.bytes_read, sent.len() as u64);
        assert_eq!(info.bytes_written, sent.len() as u64);
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn write_returns_false_above_the_high_water_mark_then_drains() {
    bounded(10, || {
        let server = Server::new(ServerOptions {
            pause_on_connect: true,
            ..ServerOptions::default()
        });
        let bound = server.listen(local()).unwrap();
        let socket = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let peer = server.accept().unwrap();
        // The peer does not read: the kernel buffers fill, then the socket's queue.
        let chunk = vec![7u8; 1 << 20];
        let mut full = false;
        for _ in 0..64 {
            if !socket.write(chunk.clone()).ok {
                full = true;
                break;
            }
        }
        assert!(full, "write() returned false once the buffers filled");
        assert!(socket.info().writable_need_drain);
        assert!(socket.info().buffer_size.unwrap() >= 16 * 1024);
        peer.resume();
        let reader = std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = (&peer).read_to_end(&mut sink);
            sink.len()
        });
        loop {
            if next(&socket) == SocketEvent::Drain {
                break;
            }
        }
        assert!(!socket.info().writable_need_drain);
        socket.shutdown(Shutdown::Write).unwrap();
        let total = socket.info().bytes_written;
        assert_eq!(reader.join().unwrap() as u64, total);
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn reset_and_destroy_resets_the_peer() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let bound = server.listen(local()).unwrap();
        let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let peer = server.accept().unwrap();
        client.reset_and_destroy().unwrap();
        let events = events_until_close(&peer);
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            panic!("no error: {events:?}")
        };
        assert_eq!(e.code, Code::Econnreset);
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(true)))
        );
        drop(client);
        server.close().unwrap();
    });
}

/// A byte-stream write after the peer reset fails with the kernel's error, `ECONNRESET`:
/// when the write asks first, the driver's attempt straight from the caller's buffer takes
/// the error and the core's write meets the same one, not the `EPIPE` a second syscall
/// would get. (A read the loop makes first may take it instead: `read ECONNRESET`.)
#[test]
fn a_byte_stream_write_after_a_reset_fails_with_econnreset() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let bound = server.listen(local()).unwrap();
        let client = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let peer = server.accept().unwrap();
        peer.reset_and_destroy().unwrap();
        let r = Write::write(&mut &client, b"after the reset");
        let events = events_until_close(&client);
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            panic!("no error: {events:?} (write gave {r:?})")
        };
        assert_eq!(e.code, Code::Econnreset, "{events:?}");
        drop(peer);
        server.close().unwrap();
    });
}

#[test]
fn local_address_and_port_are_bound_before_connecting() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let bound = server.listen(local()).unwrap();
        let free = common::free_port();
        let opts = ConnectOptions::tcp("127.0.0.1", port(&bound))
            .with_local(Some("127.0.0.1".parse().unwrap()), Some(free))
            .with_socket(SocketOptions::default().with_no_delay(true));
        let socket = sansnet_std::connect(opts).unwrap();
        assert_eq!(socket.info().local_address.map(|a| a.port()), Some(free));
        let peer = server.accept().unwrap();
        assert_eq!(peer.remote_address().map(|a| a.port()), Some(free));
        drop((socket, peer));
        server.close().unwrap();
    });
}

#[test]
fn a_destroyed_socket_connects_again() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let opts = ConnectOptions::tcp("127.0.0.1", port(&bound));
        let socket = sansnet_std::connect(opts.clone()).unwrap();
        socket.destroy(None);
        let events = events_until_close(&socket);
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        let mut empty = Vec::new();
        (&socket).read_to_end(&mut empty).unwrap();
        socket.connect(opts);
        socket.wait_connected().unwrap();
        socket.end(Some(Chunk::text("again")));
        let mut back = Vec::new();
        (&socket).read_to_end(&mut back).unwrap();
        assert_eq!(back, b"again");
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn a_call_from_another_thread_reaches_a_waiting_reader() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let socket = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        let events = std::thread::scope(|s| {
            let reader = s.spawn(|| events_until_close(&socket));
            socket.write("x");
            socket.destroy(None);
            reader.join().unwrap()
        });
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn reuse_port_lets_two_servers_share_a_port() {
    bounded(10, || {
        let mut listen = local();
        listen.reuse_port = true;
        let first = Server::new(ServerOptions::default());
        let p = port(&first.listen(listen.clone()).unwrap());
        let mut again = ListenOptions::tcp(Some("127.0.0.1".into()), p);
        again.reuse_port = true;
        let second = Server::new(ServerOptions::default());
        assert_eq!(port(&second.listen(again).unwrap()), p);
        first.close().unwrap();
        second.close().unwrap();
    });
}

#[test]
fn ipv6_only_refuses_ipv4_peers() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let listen = ListenOptions::tcp(Some("::".into()), 0).with_ipv6_only(true);
        let p = port(&server.listen(listen).unwrap());
        let err = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", p)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        let v6 = sansnet_std::connect(ConnectOptions::tcp("::1", p)).unwrap();
        drop(v6);
        server.close().unwrap();
    });
}

#[test]
fn only_writes_with_a_callback_deliver_one() {
    bounded(10, || {
        let (server, bound) = echo_server(ServerOptions::default(), local());
        let mut socket =
            sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port(&bound))).unwrap();
        for _ in 0..100 {
            socket.write_all(b"quiet ").unwrap();
        }
        let loud = socket.write_with_callback("loud");
        socket.shutdown(Shutdown::Write).unwrap();
        let events = events_until_close(&socket);
        let callbacks: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                SocketEvent::WriteCallback { id, error } => Some((*id, error.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(callbacks, [(loud.id, None)]);
        assert_eq!(data_of(&events).len(), 100 * 6 + 4);
        drop(socket);
        server.close().unwrap();
    });
}

/// `connect()` to a port nobody listens on fails with Node's error: the wait for the
/// connect ends at the socket's destroy, not when the failed attempt leaves it no longer
/// connecting (Node's `afterConnect` clears `connecting` before `'connectionAttemptFailed'`
/// and destroys after its listeners).
#[test]
fn connect_to_a_closed_port_fails() {
    bounded(10, || {
        let free = common::free_port();
        let e = sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", free))
            .expect_err("nobody listens");
        assert_eq!(node_err(e).code, Code::Econnrefused);
    });
}
