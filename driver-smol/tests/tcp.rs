//! The driver on real loopback TCP sockets.

mod common;

use std::time::{Duration, Instant};

use common::{data_of, echo_server, events_until_close, names, port, run};
use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::{
    Chunk, CloseKind, Code, ConnectOptions, ListenOptions, ReadyState, Server, ServerEvent,
    ServerOptions, Socket, SocketEvent, SocketOptions,
};

#[test]
fn echo_round_trip_with_events() {
    run(10, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port(&bound)))
            .await
            .expect("connect");
        assert_eq!(socket.info().ready_state, ReadyState::Open);
        let remote = socket.remote_address().expect("remote address");
        assert_eq!(remote.port(), port(&bound));
        let w = socket.write("hello, ");
        assert!(w.ok, "a small write is below the high-water mark");
        socket.end(Some(Chunk::text("world")));
        let events = events_until_close(&socket).await;
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
        assert_eq!(info.bytes_read, 12);
        assert_eq!(info.bytes_written, 12);
    });
}

#[test]
fn byte_stream_round_trip() {
    run(10, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let mut socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port(&bound)))
            .await
            .expect("connect");
        socket.write_all(b"ping").await.unwrap();
        socket.close().await.unwrap();
        let mut back = Vec::new();
        socket.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"ping");
    });
}

#[test]
fn half_close_server_keeps_writing() {
    run(10, async {
        let cfg = ServerOptions {
            allow_half_open: true,
            ..ServerOptions::default()
        };
        let server = Server::new(cfg);
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .unwrap();
        let client = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port(&bound)))
            .await
            .unwrap();
        client.end(Some(Chunk::text("question")));
        let peer = server.accept().await.unwrap();
        // The server reads the question and the client's FIN, then answers.
        let mut got = Vec::new();
        loop {
            match peer.next_event().await.unwrap() {
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
        let events = events_until_close(&client).await;
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
        let peer_events = events_until_close(&peer).await;
        assert_eq!(names(&peer_events), ["finish", "close"]);
    });
}

#[test]
fn refused_connection_is_an_error_event() {
    run(10, async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::tcp("127.0.0.1", port));
        let events = events_until_close(&socket).await;
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
        let err = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn address_in_use_is_a_server_error() {
    run(10, async {
        let first = Server::new(ServerOptions::default());
        let bound = first
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .unwrap();
        let p = port(&bound);
        let second = Server::new(ServerOptions::default());
        let err = second
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), p))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        let err = sansnet::NetError::of_io(&err)
            .expect("a Node error")
            .clone();
        assert_eq!(err.code, Code::Eaddrinuse);
        assert_eq!(
            err.message,
            format!("listen EADDRINUSE: address already in use 127.0.0.1:{p}")
        );
        match second.next_event().await {
            Some(ServerEvent::Error(e)) => assert_eq!(e, err),
            other => panic!("expected 'error', got {other:?}"),
        }
        assert!(!second.listening());
        assert!(first.listening());
        first.close().await.unwrap();
        assert!(matches!(
            first.next_event().await,
            Some(ServerEvent::Listening)
        ));
        assert!(matches!(first.next_event().await, Some(ServerEvent::Close)));
    });
}

#[test]
fn max_connections_drops_the_excess() {
    run(10, async {
        let server = Server::new(ServerOptions::default());
        server.set_max_connections(Some(1));
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .unwrap();
        let opts = ConnectOptions::tcp("127.0.0.1", port(&bound));
        let first = sansnet_smol::connect(opts.clone()).await.unwrap();
        let admitted = server.accept().await.unwrap();
        let second = sansnet_smol::connect(opts).await.unwrap();
        let second_local = second.info().local_address.unwrap();
        let drop_info = loop {
            match server.next_event().await.unwrap() {
                ServerEvent::Drop(d) => break d.expect("TCP drops carry addresses"),
                ServerEvent::Connection(_) => panic!("the second connection was admitted"),
                _ => {}
            }
        };
        assert_eq!(drop_info.remote, second_local);
        assert_eq!(drop_info.local.port(), port(&bound));
        assert_eq!(server.get_connections(), 1);
        // The dropped connection is closed by the server; the first still works.
        let events = events_until_close(&second).await;
        assert!(names(&events).contains(&"end"), "{events:?}");
        first.end(Some(Chunk::text("still here")));
        let mut got = Vec::new();
        while let Some(e) = admitted.next_event().await {
            match e {
                SocketEvent::Data(d) => got.extend_from_slice(&d),
                SocketEvent::End => break,
                _ => {}
            }
        }
        assert_eq!(got, b"still here");
    });
}

#[test]
fn idle_timeout_emits_timeout_without_closing() {
    run(10, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port(&bound)))
            .await
            .unwrap();
        let start = Instant::now();
        socket.set_timeout(Duration::from_millis(150));
        loop {
            match socket.next_event().await.unwrap() {
                SocketEvent::Timeout => break,
                SocketEvent::ConnectionAttempt { .. }
                | SocketEvent::Connect
                | SocketEvent::Ready => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(start.elapsed() >= Duration::from_millis(150));
        let info = socket.info();
        assert!(!info.destroyed);
        assert_eq!(info.ready_state, ReadyState::Open);
        assert_eq!(info.timeout, Duration::from_millis(150));
        // Still usable: an echo comes back.
        socket.write("alive");
        loop {
            match socket.next_event().await.unwrap() {
                SocketEvent::Data(d) => break assert_eq!(d, b"alive"),
                SocketEvent::WriteCallback { error: None, .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    });
}

#[test]
fn ten_megabytes_byte_exact() {
    run(60, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port(&bound)))
            .await
            .unwrap();
        let sent: Vec<u8> = (0..10 * 1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let (mut reader, mut writer) = futures_lite::io::split(socket);
        let write = async {
            for chunk in sent.chunks(100_000) {
                writer.write_all(chunk).await.unwrap();
            }
            writer.close().await.unwrap();
        };
        let read = async {
            let mut got = Vec::with_capacity(sent.len());
            reader.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = future::zip(write, read).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "the echoed bytes differ");
    });
}
