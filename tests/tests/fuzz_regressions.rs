//! Minimized reproducers of what the fuzz targets (`fuzz/`) found in the core, kept as
//! regression tests now that the core is fixed. Expected behaviour is Node 20's.

use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::server::{BoundAddressRequest, Server, ServerEvent, ServerIo, ServerOutput};
use sansnet::socket::{CloseKind, Output, Remote, Socket, SocketEvent, SocketIo};
use sansnet::{Code, Instant};

/// An IPv6 literal that `net.isIP` accepts (6) but libuv's `uv_ip6_addr` rejects: only the
/// first 39 bytes before a zone are read, and this address needs 45.
const ODD_LITERAL: &str = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%eth0";

fn pull(s: &mut Socket) -> Vec<Output> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

fn events(out: &[Output]) -> Vec<&SocketEvent> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Io(_) => None,
        })
        .collect()
}

/// Found by the `socket` target (`SANSNET_FUZZ_STRICT=1`): steps `Destroy(false)`,
/// `Connect(127.0.0.1)` on a fresh socket. Node (checked on Node 20):
///
/// ```js
/// const s = new net.Socket(); s.destroy(); s.connect(port);
/// // 'close' (no argument), then 'connect', 'ready'
/// ```
///
/// The core's reuse of a destroyed socket drops every deferred work of the old life,
/// including its pending `'close'`, so that life never emits `'close'` (the crate's
/// invariant: `'close'` exactly once per life).
#[test]
fn reconnecting_a_destroyed_socket_still_emits_the_old_close() {
    let mut s = Socket::new(&SocketOptions::new());
    s.destroy(None);
    s.connect(Instant::ZERO, &ConnectOptions::tcp("127.0.0.1", 80));
    let out = pull(&mut s);
    let ev = events(&out);
    let close = ev
        .iter()
        .position(|e| matches!(e, SocketEvent::Close(CloseKind::NoHandle)));
    let attempt = ev
        .iter()
        .position(|e| matches!(e, SocketEvent::ConnectionAttempt { .. }));
    assert!(
        close.is_some() && close < attempt,
        "the first life's 'close' must come before the new attempt: {ev:?}"
    );
}

/// The same after a connection: Node emits `'close'(false)` of the first connection, then
/// `'connect'` of the second.
#[test]
fn reconnecting_right_after_destroy_of_a_connection_still_emits_its_close() {
    let mut s = Socket::new(&SocketOptions::new());
    s.connect(Instant::ZERO, &ConnectOptions::tcp("127.0.0.1", 80));
    let attempt = pull(&mut s).into_iter().find_map(|o| match o {
        Output::Io(SocketIo::Connect { attempt, .. }) => Some(attempt),
        _ => None,
    });
    let attempt = attempt.expect("an attempt");
    s.attempt_connected(Instant::ZERO, attempt, None, None);
    while s.poll_emitted().is_some() {}
    // In the 'connect' listener: destroy, then connect again at once.
    s.destroy(None);
    s.connect(Instant::ZERO, &ConnectOptions::tcp("127.0.0.1", 80));
    let out = pull(&mut s);
    let ev = events(&out);
    assert!(
        ev.iter()
            .any(|e| matches!(e, SocketEvent::Close(CloseKind::HadError(false)))),
        "the first connection's 'close'(false) is lost: {ev:?}"
    );
}

/// Found by the `socket` target (`SANSNET_FUZZ_STRICT=1`, destination `OddLiteral`).
/// Node: `net.connect({host: ODD_LITERAL, port: 80})` emits `'connectionAttempt'` with the
/// literal, then `'error'` (`connect EINVAL …`) and `'close'(true)`. The core asks the
/// driver to connect to `0.0.0.0:80` (its `unwrap_or` fallback for an address that
/// `parse_inet` rejects), with family 6.
#[test]
fn an_ip_literal_libuv_rejects_fails_with_einval() {
    let mut s = Socket::new(&SocketOptions::new());
    s.connect(Instant::ZERO, &ConnectOptions::tcp(ODD_LITERAL, 80));
    let out = pull(&mut s);
    for o in &out {
        if let Output::Io(SocketIo::Connect {
            remote: Remote::Tcp(a),
            ..
        }) = o
        {
            panic!("asked to connect to {a} for host {ODD_LITERAL:?}");
        }
    }
    let ev = events(&out);
    assert!(
        ev.iter()
            .any(|e| matches!(e, SocketEvent::Error(err) if err.code == Code::Einval)),
        "no EINVAL 'error': {ev:?}"
    );
    assert!(matches!(
        ev.last(),
        Some(SocketEvent::Close(CloseKind::HadError(true)))
    ));
}

/// Found by the `server` target (`SANSNET_FUZZ_STRICT=1`, `Listen(OddLiteral)`). Node:
/// `server.listen(0, ODD_LITERAL)` emits `'error'` (`listen EINVAL: invalid argument …`).
/// The core asks the driver to bind `0.0.0.0:0`: every IPv4 interface instead of an error.
#[test]
fn listen_on_an_ip_literal_libuv_rejects_fails_with_einval() {
    let mut s = Server::new(ServerOptions::new());
    s.listen(ListenOptions::tcp(Some(ODD_LITERAL.into()), 0))
        .expect("listen is accepted synchronously");
    let mut errors = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            ServerOutput::Io(ServerIo::Listen {
                address: BoundAddressRequest::Tcp(a),
                ..
            }) => panic!("asked to bind {a} for host {ODD_LITERAL:?}"),
            ServerOutput::Event(ServerEvent::Error(e)) => errors.push(e.code),
            _ => {}
        }
    }
    assert_eq!(errors, [Code::Einval]);
}

/// Found by the `socket` target (`SANSNET_FUZZ_STRICT=1`): `Connect(127.0.0.1)`,
/// `Pull(All)`, `Failed(ECONNREFUSED)`. The driver reported the attempt failed, and the
/// socket then asks it to abort that same attempt, though `SocketIo::AbortAttempt` is
/// documented as "abort an attempt in flight" (the destroy that follows the failure still
/// sees the attempt as current). Harmless for a driver keyed by id; a driver that frees
/// the id on failure gets a request for an unknown attempt.
#[test]
fn a_failed_attempt_is_not_aborted_again() {
    let mut s = Socket::new(&SocketOptions::new());
    s.connect(Instant::ZERO, &ConnectOptions::tcp("127.0.0.1", 80));
    let attempt = pull(&mut s).into_iter().find_map(|o| match o {
        Output::Io(SocketIo::Connect { attempt, .. }) => Some(attempt),
        _ => None,
    });
    let attempt = attempt.expect("an attempt");
    s.attempt_failed(Instant::ZERO, attempt, Code::Econnrefused);
    let out = pull(&mut s);
    assert!(
        !out.contains(&Output::Io(SocketIo::AbortAttempt { attempt })),
        "{out:?}"
    );
    let ev = events(&out);
    assert!(matches!(
        ev.last(),
        Some(SocketEvent::Close(CloseKind::HadError(true)))
    ));
}
