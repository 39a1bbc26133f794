//! The driver on unix-domain sockets.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::path::Path;

use common::{bounded, data_of, echo_server, events_until_close, names, TempDir};

/// The Node error a failed `listen` carries.
fn node_err(e: std::io::Error) -> sansnet::NetError {
    sansnet::NetError::of_io(&e).expect("a Node error").clone()
}
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
        let err = node_err(second.listen(ListenOptions::ipc(&path)).unwrap_err());
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

/// The process umask, from `/proc/self/status` (reading it with `umask(2)` would change
/// it for the other tests' threads).
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("an Umask line");
    u32::from_str_radix(line.trim(), 8).expect("octal umask")
}

#[test]
fn readable_all_and_writable_all_add_exactly_their_bits() {
    use std::os::unix::fs::PermissionsExt;
    // Node 20 (libuv's uv_pipe_chmod) ORs S_IRUSR|S_IRGRP|S_IROTH for readableAll and
    // S_IWUSR|S_IWGRP|S_IWOTH for writableAll into the mode bind gave the socket
    // (0777 & ~umask). Observed with `stat` after listen({path, readableAll, writableAll}):
    // umask 022: 755 755 777 777; umask 077: 700 744 722 766; umask 000: 777 everywhere.
    bounded(10, || {
        let dir = TempDir::new("modes");
        let base = 0o777 & !umask();
        for (readable, writable) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = dir.path(&format!("m-{readable}-{writable}.sock"));
            let server = Server::new(ServerOptions::default());
            let mut listen = ListenOptions::ipc(&path);
            listen.readable_all = readable;
            listen.writable_all = writable;
            server.listen(listen).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
            let mut want = base;
            if readable {
                want |= 0o444;
            }
            if writable {
                want |= 0o222;
            }
            assert_eq!(
                mode, want,
                "readableAll {readable} writableAll {writable}: {mode:o}"
            );
            server.close().unwrap();
            assert!(!Path::new(&path).exists());
        }
    });
}

#[test]
fn a_path_longer_than_sun_path_is_an_error_never_truncated() {
    // Node 20 (libuv 1.46) copies a path into sun_path and silently cuts it at 108 bytes:
    // listen('/tmp/x/' + 'a'.repeat(200)) listens on the first 108 bytes, close() then
    // unlinks the long name and leaves the cut one behind, and connect() to a long path
    // reaches whatever sits at the cut one. sansnet refuses such a path with ENAMETOOLONG.
    bounded(10, || {
        let dir = TempDir::new("long");
        let long = dir.path(&"a".repeat(200));
        // A server at the path the truncation would reach.
        let cut = &long[..107];
        let decoy = Server::new(ServerOptions::default());
        decoy
            .listen(ListenOptions::ipc(cut))
            .expect("a 107-byte path fits");
        assert_eq!(cut.len(), 107);

        let server = Server::new(ServerOptions::default());
        let e = node_err(server.listen(ListenOptions::ipc(&long)).unwrap_err());
        assert_eq!(e.code, Code::Enametoolong);
        // Shaped as Node's listen errors ("listen EADDRINUSE: address already in use …").
        assert_eq!(
            e.message,
            format!("listen ENAMETOOLONG: name too long {long}")
        );
        let files: Vec<_> = std::fs::read_dir(&dir.0).unwrap().collect();
        assert_eq!(files.len(), 1, "only the decoy's socket: {files:?}");

        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::ipc(&long));
        let events = events_until_close(&socket);
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            panic!("{events:?}")
        };
        assert_eq!(e.code, Code::Enametoolong);
        assert_eq!(e.message, format!("connect ENAMETOOLONG {long}"));
        assert!(
            !names(&events).contains(&"connect"),
            "never connected to the decoy"
        );
        decoy.close().unwrap();
        assert!(!Path::new(cut).exists());

        // The one difference at the boundary: Node binds a path of exactly 108 bytes (a
        // sun_path without its NUL); the standard library and socket2 cannot build that
        // address safely, so it is ENAMETOOLONG here too.
        let full = format!(
            "{}/{}",
            dir.0.display(),
            "b".repeat(108 - dir.0.as_os_str().len() - 1)
        );
        assert_eq!(full.len(), 108);
        let e = node_err(server.listen(ListenOptions::ipc(&full)).unwrap_err());
        assert_eq!(e.code, Code::Enametoolong);
    });
}

#[test]
fn close_unlinks_only_the_socket_file_its_listen_created() {
    // Node 20 (libuv) unlinks the path by name at close, whatever is there by then:
    // a regular file put in its place, or another server's socket. sansnet removes the path
    // only while it still names the socket file its own bind created.
    bounded(10, || {
        let dir = TempDir::new("unlink");
        let path = dir.path("c.sock");

        // The socket moved away and a regular file put in its place: both stay.
        let a = Server::new(ServerOptions::default());
        a.listen(ListenOptions::ipc(&path)).unwrap();
        let moved = dir.path("moved.sock");
        std::fs::rename(&path, &moved).unwrap();
        std::fs::write(&path, "not a socket").unwrap();
        a.close().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
        assert!(Path::new(&moved).exists(), "close does not follow a rename");
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&moved).unwrap();

        // Another server took the path after ours was removed: its socket stays.
        let b = Server::new(ServerOptions::default());
        b.listen(ListenOptions::ipc(&path)).unwrap();
        std::fs::remove_file(&path).unwrap();
        let c = Server::new(ServerOptions::default());
        c.listen(ListenOptions::ipc(&path)).unwrap();
        b.close().unwrap();
        assert!(
            Path::new(&path).exists(),
            "the second server's socket stays"
        );
        let socket = sansnet_std::connect(ConnectOptions::ipc(&path)).expect("still reachable");
        socket.destroy(None);
        c.close().unwrap();
        assert!(!Path::new(&path).exists(), "its owner removes it");

        // A listen that failed (EADDRINUSE) created nothing and removes nothing (as Node).
        let owner = Server::new(ServerOptions::default());
        owner.listen(ListenOptions::ipc(&path)).unwrap();
        let late = Server::new(ServerOptions::default());
        assert_eq!(
            node_err(late.listen(ListenOptions::ipc(&path)).unwrap_err()).code,
            Code::Eaddrinuse
        );
        let _ = late.close();
        assert!(Path::new(&path).exists());
        owner.close().unwrap();
        assert!(!Path::new(&path).exists());
    });
}
