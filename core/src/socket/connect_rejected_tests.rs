//! `connect()` at the edges of the connection state: one that throws after Node set
//! `connecting` ([`Socket::connect_rejected`]), one that comes while a failed lookup waits to
//! destroy the socket.

use super::tests::{drain, names, socket, t};
use super::*;

/// Node's test-net-connect-options-port: `new Socket().connect({port: -1})` throws, and
/// the socket then says `connecting: true`, `pending: true`, not destroyed; destroying
/// it closes it as one with a handle (`close false`).
#[test]
fn a_rejected_connect_leaves_the_socket_connecting_with_nothing_in_flight() {
    let mut s = socket();
    s.connect_rejected(t(0));
    assert!(s.connecting() && s.pending() && !s.destroyed());
    assert_eq!(s.ready_state(), ReadyState::Opening);
    assert!(drain(&mut s).1.is_empty());
    s.destroy(None);
    assert!(!s.connecting() && s.destroyed());
    assert_eq!(names(&drain(&mut s).0), ["close HadError(false)"]);
}

/// A destroyed socket is revived first (Node's `_undestroy`), then set connecting.
#[test]
fn a_rejected_connect_revives_a_destroyed_socket() {
    let mut s = socket();
    s.destroy(None);
    drain(&mut s);
    s.connect_rejected(t(1));
    assert!(s.connecting() && !s.destroyed());
    s.destroy(None);
    assert_eq!(names(&drain(&mut s).0), ["close HadError(false)"]);
}

/// A lookup failed (the destroy waits for the next tick) and `connect()` came again
/// meanwhile: that connect fails with `EALREADY` and destroys the socket; the lookup's
/// destroy then finds it destroyed and adds nothing (one `'error'`).
#[test]
fn a_failed_lookup_destroys_once_after_a_busy_connect() {
    let mut s = socket();
    let opts = ConnectOptions::tcp("empty.test", 80);
    s.connect(t(0), &opts);
    let id = drain(&mut s)
        .1
        .iter()
        .find_map(|i| match i {
            SocketIo::Lookup { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    s.lookup_done(t(1), id, Ok(Vec::new()));
    s.connect(t(1), &opts);
    let errors = drain(&mut s)
        .0
        .iter()
        .filter(|e| matches!(e, SocketEvent::Error(_)))
        .count();
    assert_eq!(errors, 1);
    assert!(s.destroyed() && !s.connecting());
}
