//! The driver on unix-domain sockets.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::path::Path;

use common::{bounded, data_of, echo_server, events_until_close, names, TempDir};
use sansnet_std::{
    BoundAddress, Chunk, CloseKind, Code, ConnectOptions, ListenOptions, ReadyState, Server,
    ServerOptions, Socket, SocketEvent, SocketOptions,
};

#[test]
fn echo_round_trip_over_a_unix_socket() {
    bounded(10, || {
        let dir = TempDir::new("echo");
        let path = dir.path("echo.sock");
        let (server, bound) = echo_server(ServerOptions::default(), ListenOptions::ipc(&path));
        assert_eq!(bound, BoundAddress::Ipc(path.clone()));
        assert!(Path::new(&path).exists());
        let socket = sansnet_std::connect(ConnectOptions::ipc(&path)).expect("connect");
        let info = socket.info();
        assert_eq!(info.ready_state, ReadyState::Open);
        assert_eq!(info.local_address, None, "unix sockets have no TCP address");
        socket.write("over ");
        socket.end(Some(Chunk::text("unix")));
        let events = events_until_close(&socket);
        assert_eq!(data_of(&events), b"over unix");
        assert_eq!(
            names(&events),
            [
                "connectionAttempt",
                "connect",
                "ready",
                "finish",
                "end",
                "close"
            ],
            "Node announces a unix attempt too (inside connect(), with no port or family)"
        );
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        server.close().unwrap();
        assert!(!Path::new(&path).exists(), "close() unlinks the path");
        assert_eq!(server.address(), Some(BoundAddress::Ipc(path)));
    });
}

#[test]
fn byte_stream_over_a_unix_socket() {
    bounded(10, || {
        let dir = TempDir::new("stream");
        let path = dir.path("s.sock");
        let (server, _) = echo_server(ServerOptions::default(), ListenOptions::ipc(&path));
        let socket = sansnet_std::connect(ConnectOptions::ipc(&path)).unwrap();
        let sent: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let mut back = Vec::new();
        std::thread::scope(|s| {
            let w = &socket;
            s.spawn(move || {
                let mut w = w;
                w.write_all(&sent[..]).unwrap();
                w.shutdown(Shutdown::Write).unwrap();
            });
            (&socket).read_to_end(&mut back).unwrap();
        });
        assert_eq!(back.len(), 300_000);
        assert!(back.iter().enumerate().all(|(i, b)| *b == (i % 253) as u8));
        assert!(socket.info().readable_ended);
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn a_missing_path_is_enoent_and_a_taken_path_eaddrinuse() {
    bounded(10, || {
        let dir = TempDir::new("errors");
        let missing = dir.path("missing.sock");
        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::ipc(&missing));
        let events = events_until_close(&socket);
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            panic!("{events:?}")
        };
        assert_eq!(e.code, Code::Enoent);
        assert_eq!(e.message, format!("connect ENOENT {missing}"));

        let path = dir.path("taken.sock");
        let first = Server::new(ServerOptions::default());
        first.listen(ListenOptions::ipc(&path)).unwrap();
        let second = Server::new(ServerOptions::default());
        let err = second.listen(ListenOptions::ipc(&path)).unwrap_err();
        assert_eq!(err.code, Code::Eaddrinuse);
        first.close().unwrap();
        assert!(!Path::new(&path).exists());
    });
}

#[test]
fn reset_is_not_for_unix_sockets() {
    bounded(10, || {
        let dir = TempDir::new("reset");
        let path = dir.path("r.sock");
        let server = Server::new(ServerOptions::default());
        server.listen(ListenOptions::ipc(&path)).unwrap();
        let socket = sansnet_std::connect(ConnectOptions::ipc(&path)).unwrap();
        let err = socket.reset_and_destroy().unwrap_err();
        assert_eq!(err.code, Code::ErrInvalidHandleType);
        let peer = server.accept().unwrap();
        socket.destroy(None);
        let events = events_until_close(&peer);
        assert!(names(&events).contains(&"end"), "{events:?}");
        drop(peer);
        server.close().unwrap();
    });
}

#[test]
fn readable_all_and_writable_all_open_the_path_to_everyone() {
    use std::os::unix::fs::PermissionsExt;
    bounded(10, || {
        let dir = TempDir::new("modes");
        let path = dir.path("m.sock");
        let server = Server::new(ServerOptions::default());
        let mut listen = ListenOptions::ipc(&path);
        listen.readable_all = true;
        listen.writable_all = true;
        server.listen(listen).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o666, 0o666, "{mode:o}");
        server.close().unwrap();
    });
}
