//! The checkers catch what they are for: each rule broken on purpose panics, and a
//! well-behaved simulation passes.

use super::{ServerChecker, SimChecker, SocketChecker};
use crate::blocklist::BlockList;
use crate::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use crate::server::{BoundAddress, DropInfo, Server};
use crate::sim::{Sim, SocketHandle};
use crate::socket::{Chunk, CloseKind, Socket, SocketEvent};
use crate::time::{Duration, Instant};

#[test]
#[should_panic(expected = "an event after 'close'")]
fn an_event_after_close_is_caught() {
    let mut c = SocketChecker::events_only(false);
    c.event(&SocketEvent::Close(CloseKind::HadError(false)));
    c.event(&SocketEvent::Connect);
}

#[test]
fn a_lookup_after_close_is_nodes_behaviour() {
    let mut c = SocketChecker::events_only(false);
    c.event(&SocketEvent::Close(CloseKind::HadError(false)));
    c.event(&SocketEvent::Lookup {
        error: None,
        address: Some("127.0.0.1".into()),
        family: Some(4),
        host: "localhost".into(),
    });
    c.settled(true);
}

#[test]
#[should_panic(expected = "'end' without an orderly FIN")]
fn an_end_without_fin_is_caught() {
    let mut c = SocketChecker::events_only(true).with_fin_tracking();
    c.event(&SocketEvent::End);
}

#[test]
fn an_end_after_fin_passes() {
    let mut c = SocketChecker::events_only(true).with_fin_tracking();
    c.peer_fin();
    c.event(&SocketEvent::End);
    c.settled(false);
}

#[test]
#[should_panic(expected = "'data' before 'connect'")]
fn data_before_connect_is_caught() {
    SocketChecker::events_only(false).event(&SocketEvent::Data(vec![1]));
}

fn drop_info() -> DropInfo {
    DropInfo {
        local: "127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!()),
        remote: "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!()),
    }
}

#[test]
#[should_panic(expected = "'drop' on a server without maxConnections")]
fn a_drop_without_max_connections_is_caught() {
    let s = Server::new(ServerOptions::new());
    ServerChecker::new(None).drop(&s, Some(&drop_info()));
}

#[test]
#[should_panic(expected = "blockList denies")]
fn a_drop_for_a_blocked_peer_below_the_limit_is_caught() {
    let mut list = BlockList::new();
    list.add_address([127, 0, 0, 1].into());
    let mut s = Server::new(ServerOptions::new());
    s.max_connections = Some(5);
    ServerChecker::new(Some(list)).drop(&s, Some(&drop_info()));
}

/// A server listening on loopback and a client connected to it, everything observed.
fn connected() -> (Sim, SimChecker, SocketHandle, SocketHandle) {
    let mut sim = Sim::new(7);
    let mut check = SimChecker::new();
    let srv = sim.add_server(Server::new(ServerOptions::new()));
    check.add_server(srv, None);
    let r = sim.server(srv, |s| {
        s.listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
    });
    assert!(r.is_ok());
    let c = sim.add_socket(Socket::new(&SocketOptions::new()), None);
    check.add_socket(c);
    let mut accepted = None;
    let mut run = |sim: &mut Sim, check: &mut SimChecker, limit: Instant| {
        while sim.turn(limit) {
            for o in check.observe_all(sim) {
                if let crate::sim::Observed::Server(_, crate::sim::ServerObserved::Connection(h)) =
                    o
                {
                    accepted = Some(h);
                }
            }
        }
        check.observe_all(sim);
    };
    run(&mut sim, &mut check, Instant::from_millis(1));
    let Some(BoundAddress::Tcp(addr)) = sim.server_ref(srv).address() else {
        panic!("not listening");
    };
    sim.socket(c, |s, now| {
        s.connect(now, &ConnectOptions::tcp("127.0.0.1", addr.port()));
    });
    run(&mut sim, &mut check, Instant::from_millis(2));
    let a = accepted.unwrap_or_else(|| panic!("no connection"));
    (sim, check, c, a)
}

fn run(sim: &mut Sim, check: &mut SimChecker) {
    let limit = sim.now() + Duration::from_millis(10);
    while sim.turn(limit) {
        check.observe_all(sim);
    }
    check.observe_all(sim);
    check.count_connections(sim);
    sim.advance_clock(limit);
    check.states(sim, true);
}

#[test]
fn bytes_written_arrive_and_pass() {
    let (mut sim, mut check, c, _) = connected();
    sim.socket(c, |s, now| s.write(now, Chunk::bytes(b"hello".to_vec())));
    check.wrote(c, b"hello");
    sim.socket(c, |s, now| s.end(now, None));
    run(&mut sim, &mut check);
    check.settled(&sim);
    assert_eq!(check.stats.data_checked, 1);
    // The server's side, not half-open, ends in turn: both 'end's were checked.
    assert_eq!(check.stats.ends_checked, 2);
}

#[test]
#[should_panic(expected = "not the bytes")]
fn bytes_that_were_not_written_are_caught() {
    let (mut sim, mut check, c, _) = connected();
    sim.socket(c, |s, now| s.write(now, Chunk::bytes(b"hello".to_vec())));
    check.wrote(c, b"help!");
    run(&mut sim, &mut check);
}

#[test]
#[should_panic(expected = "got 'end' after 0 bytes")]
fn an_end_before_the_bytes_is_caught() {
    let (mut sim, mut check, c, _) = connected();
    // The checker is told of bytes the simulator never carries.
    check.wrote(c, b"lost");
    sim.socket(c, |s, now| s.end(now, None));
    run(&mut sim, &mut check);
}

#[test]
#[should_panic(expected = "alive, flowing")]
fn bytes_missing_on_a_live_connection_are_caught() {
    let (mut sim, mut check, c, _) = connected();
    check.wrote(c, b"lost");
    run(&mut sim, &mut check);
    check.settled(&sim);
}

#[test]
#[should_panic(expected = "counts 1 connections, 0 admitted")]
fn a_miscounted_server_is_caught() {
    let (mut sim, mut check, _, a) = connected();
    // The accepted socket is forgotten by the checker as a new client would be.
    check.add_socket(a);
    run(&mut sim, &mut check);
}

#[test]
fn a_reused_handle_is_a_new_life() {
    let (mut sim, mut check, c, _) = connected();
    sim.socket(c, |s, _| s.destroy(None));
    run(&mut sim, &mut check);
    assert!(check.new_life(c), "the old life emitted 'close'");
    assert!(sim.socket_ref(SocketHandle(c.0)).destroyed());
}
