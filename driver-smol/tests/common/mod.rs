//! Helpers shared by the driver's tests: a bounded runner, an echo server, event
//! collection.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_io::Timer;
use futures_lite::future;
use sansnet_smol::{BoundAddress, ListenOptions, Server, ServerOptions, Socket, SocketEvent};

/// Runs a test body on smol, failing it if it takes longer than `secs`.
pub fn run<T>(secs: u64, f: impl Future<Output = T>) -> T {
    smol::block_on(future::or(f, async {
        Timer::after(Duration::from_secs(secs)).await;
        panic!("test timed out after {secs} s");
    }))
}

/// The TCP port of a bound address.
pub fn port(a: &BoundAddress) -> u16 {
    match a {
        BoundAddress::Tcp(a) => a.port(),
        BoundAddress::Ipc(p) => panic!("not TCP: {p}"),
    }
}

/// Writes back every chunk, ends at `'end'`, returns at `'close'`.
pub async fn echo(socket: Socket) {
    while let Some(e) = socket.next_event().await {
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

/// An echo server listening on `listen`; the accept loop ends when the server closes.
pub async fn echo_server(
    config: ServerOptions,
    listen: ListenOptions,
) -> (Arc<Server>, BoundAddress) {
    let server = Arc::new(Server::new(config));
    let bound = server.listen(listen).await.expect("listen");
    let s = server.clone();
    smol::spawn(async move {
        while let Ok(socket) = s.accept().await {
            smol::spawn(echo(socket)).detach();
        }
    })
    .detach();
    (server, bound)
}

/// Every event up to and including `'close'`.
pub async fn events_until_close(socket: &Socket) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    while let Some(e) = socket.next_event().await {
        let done = matches!(e, SocketEvent::Close(_));
        out.push(e);
        if done {
            break;
        }
    }
    out
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
