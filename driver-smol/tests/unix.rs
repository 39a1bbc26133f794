//! The driver on unix-domain sockets.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{data_of, echo_server, events_until_close, names, run};
use sansnet_smol::{
    BoundAddress, Chunk, CloseKind, Code, ConnectOptions, ListenOptions, Server, ServerEvent,
    ServerOptions, Socket, SocketEvent, SocketOptions,
};

/// A fresh socket path in the temporary directory, removed (if still there) on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "sansnet-smol-{}-{tag}-{n}.sock",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&p);
        TempPath(p)
    }

    fn as_str(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn echo_round_trip_over_a_unix_socket() {
    let path = TempPath::new("echo");
    run(10, async {
        let (server, bound) =
            echo_server(ServerOptions::default(), ListenOptions::ipc(path.as_str())).await;
        assert_eq!(bound, BoundAddress::Ipc(path.as_str().to_string()));
        assert!(path.0.exists());
        let socket = sansnet_smol::connect(ConnectOptions::ipc(path.as_str()))
            .await
            .expect("connect");
        assert_eq!(socket.info().local_address, None);
        socket.write("over ");
        socket.end(Some(Chunk::text("unix")));
        let events = events_until_close(&socket).await;
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
            ]
        );
        assert_eq!(
            events.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        // Unix sockets cannot be reset.
        let again = sansnet_smol::connect(ConnectOptions::ipc(path.as_str()))
            .await
            .unwrap();
        let e = again.reset_and_destroy().unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidHandleType);
        again.destroy(None);
        assert_eq!(
            events_until_close(&again).await.last(),
            Some(&SocketEvent::Close(CloseKind::HadError(false)))
        );
        server.close().await.unwrap();
        assert!(!path.0.exists(), "close() unlinks the socket path");
    });
}

#[test]
fn missing_path_is_enoent() {
    let path = TempPath::new("missing");
    run(10, async {
        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::ipc(path.as_str()));
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
        let SocketEvent::Error(e) = &events[2] else {
            unreachable!()
        };
        assert_eq!(e.code, Code::Enoent);
        assert_eq!(e.message, format!("connect ENOENT {}", path.as_str()));
    });
}

#[test]
fn existing_path_is_eaddrinuse() {
    let path = TempPath::new("inuse");
    run(10, async {
        let first = Server::new(ServerOptions::default());
        first
            .listen(ListenOptions::ipc(path.as_str()))
            .await
            .unwrap();
        let second = Server::new(ServerOptions::default());
        let e = second
            .listen(ListenOptions::ipc(path.as_str()))
            .await
            .unwrap_err();
        assert_eq!(
            sansnet::NetError::of_io(&e).map(|e| &e.code),
            Some(&Code::Eaddrinuse)
        );
        assert!(matches!(
            second.next_event().await,
            Some(ServerEvent::Error(_))
        ));
        first.close().await.unwrap();
    });
}
