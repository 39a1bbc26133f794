//! `socket.connect()` that throws after Node set `connecting` ([`Socket::connect_rejected`]).

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
