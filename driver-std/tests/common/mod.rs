//! Helpers shared by the driver's tests: a bounded runner, an echo server, event
//! collection.
#![allow(dead_code)]

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use sansnet_std::{BoundAddress, ListenOptions, Server, ServerOptions, Socket, SocketEvent};

/// How long a test may wait for any one event.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Runs a test body on a thread of its own, failing the test if it takes longer than
/// `secs` (or panics).
pub fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            let _ = t.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match t.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => unreachable!("the body neither returned nor panicked"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test timed out after {secs} s"),
    }
}

/// A loopback TCP port nobody listens on (bound a moment ago, then let go).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

/// The TCP port of a bound address.
pub fn port(a: &BoundAddress) -> u16 {
    match a {
        BoundAddress::Tcp(a) => a.port(),
        BoundAddress::Ipc(p) => panic!("not TCP: {p}"),
    }
}

/// The next event, failing the test after [`PATIENCE`].
pub fn next(socket: &Socket) -> SocketEvent {
    socket
        .next_event_timeout(PATIENCE)
        .expect("no event in time")
}

/// Writes back every chunk, ends at `'end'`, returns at `'close'`.
pub fn echo(socket: Socket) {
    while let Some(e) = socket.next_event() {
        match e {
            SocketEvent::Data(d) => {
                socket.write(d);
            }
            SocketEvent::End => {
                socket.end(None);
            }
            SocketEvent::Close(_) => return,
            _ => {}
        }
    }
}

/// An echo server listening on `listen`: a thread accepts, a thread per connection
/// echoes; the accept loop ends when the server closes.
pub fn echo_server(config: ServerOptions, listen: ListenOptions) -> (Arc<Server>, BoundAddress) {
    let server = Arc::new(Server::new(config));
    let bound = server.listen(listen).expect("listen");
    let s = server.clone();
    std::thread::spawn(move || {
        while let Ok(socket) = s.accept() {
            std::thread::spawn(move || echo(socket));
        }
    });
    (server, bound)
}

/// Every event up to and including `'close'`.
pub fn events_until_close(socket: &Socket) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    loop {
        let e = next(socket);
        let done = matches!(e, SocketEvent::Close(_));
        out.push(e);
        if done {
            return out;
        }
    }
}

/// The bytes of every `'data'` event.
pub fn data_of(events: &[SocketEvent]) -> Vec<u8> {
    let mut v = Vec::new();
    for e in events {
        if let SocketEvent::Data(d) = e {
            v.extend_from_slice(d);
        }
    }
    v
}

/// The events other than `'data'` and write/end callbacks, by name, in order.
pub fn names(events: &[SocketEvent]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| {
            Some(match e {
                SocketEvent::Lookup { .. } => "lookup",
                SocketEvent::ConnectionAttempt { .. } => "connectionAttempt",
                SocketEvent::ConnectionAttemptFailed { .. } => "connectionAttemptFailed",
                SocketEvent::ConnectionAttemptTimeout { .. } => "connectionAttemptTimeout",
                SocketEvent::Connect => "connect",
                SocketEvent::Ready => "ready",
                SocketEvent::End => "end",
                SocketEvent::Finish => "finish",
                SocketEvent::Drain => "drain",
                SocketEvent::Timeout => "timeout",
                SocketEvent::Error(_) => "error",
                SocketEvent::Close(_) => "close",
                _ => return None,
            })
        })
        .collect()
}

/// A fresh private directory for unix socket paths, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A new directory under the system's temporary folder.
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("sansnet-std-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    /// A path inside it.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How many connections a load test makes: `SANSNET_LOAD`, else 300 (CI's size).
pub fn load() -> usize {
    std::env::var("SANSNET_LOAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Listens on an ephemeral loopback port; its address.
pub fn listen_loopback(server: &Server) -> std::net::SocketAddr {
    match server
        .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
        .expect("listen")
    {
        BoundAddress::Tcp(a) => a,
        BoundAddress::Ipc(p) => panic!("not TCP: {p}"),
    }
}
