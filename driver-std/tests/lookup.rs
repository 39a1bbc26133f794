//! Name lookup and happy eyeballs: the core computes the schedule, the driver runs the
//! attempts and the per-attempt timers for real.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bounded, names, next, port};
use sansnet_std::{
    Code, ConnectOptions, ListenOptions, LookupAnswer, LookupFn, NetError, ReadyState, Server,
    ServerOptions, Socket, SocketEvent, SocketSettings,
};
use socket2::{Domain, Protocol, Type};

/// A resolver that answers every host with `answers`.
fn answering(answers: &[(&str, i64)]) -> LookupFn {
    let answers: Vec<LookupAnswer> = answers
        .iter()
        .map(|(a, f)| LookupAnswer {
            address: (*a).to_string(),
            family: *f,
        })
        .collect();
    Arc::new(move |_req| Ok(answers.clone()))
}

fn socket_with(lookup: LookupFn) -> Socket {
    Socket::with_settings(SocketSettings {
        lookup: Some(lookup),
        ..SocketSettings::default()
    })
}

/// The events up to and including `'connect'` (or `'close'`).
fn events_until_connect(socket: &Socket) -> Vec<SocketEvent> {
    let mut out = Vec::new();
    loop {
        let e = next(socket);
        let done = matches!(e, SocketEvent::Connect | SocketEvent::Close(_));
        out.push(e);
        if done {
            return out;
        }
    }
}

#[test]
fn happy_eyeballs_moves_on_from_a_refused_ipv6_address() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let p = port(
            &server
                .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
                .unwrap(),
        );
        let socket = socket_with(answering(&[("::1", 6), ("127.0.0.1", 4)]));
        socket.connect(
            ConnectOptions::tcp("dual.test", p)
                .with_custom_lookup()
                .with_auto_select_family(true),
        );
        let events = events_until_connect(&socket);
        assert_eq!(
            names(&events),
            [
                "lookup",
                "lookup",
                "connectionAttempt",
                "connectionAttemptFailed",
                "connectionAttempt",
                "connect"
            ]
        );
        match &events[3] {
            SocketEvent::ConnectionAttemptFailed {
                address,
                port,
                family,
                error,
            } => {
                assert_eq!(
                    (address.as_str(), *port, *family),
                    ("::1", Some(p), Some(6))
                );
                assert_eq!(error.code, Code::Econnrefused);
            }
            e => panic!("{e:?}"),
        }
        let info = socket.info();
        assert_eq!(info.ready_state, ReadyState::Open);
        assert_eq!(
            info.attempted_addresses,
            Some(vec![format!("::1:{p}"), format!("127.0.0.1:{p}")])
        );
        assert_eq!(
            socket.remote_address(),
            Some(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), p))
        );
        drop(socket);
        server.close().unwrap();
    });
}

/// A listener on `ip` whose accept queue is full, so that a connect to it hangs (its SYN
/// is dropped): a loopback black hole. Keep the returned sockets alive while it is used.
fn blackhole(ip: IpAddr) -> (u16, Vec<socket2::Socket>) {
    let addr = SocketAddr::new(ip, 0);
    let l =
        socket2::Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP)).unwrap();
    l.bind(&addr.into()).unwrap();
    l.listen(0).unwrap();
    let bound = l.local_addr().unwrap().as_socket().unwrap();
    let mut keep = vec![];
    for _ in 0..3 {
        let c = socket2::Socket::new(Domain::for_address(bound), Type::STREAM, None).unwrap();
        c.set_nonblocking(true).unwrap();
        let _ = c.connect(&bound.into());
        keep.push(c);
    }
    keep.push(l);
    (bound.port(), keep)
}

#[test]
fn happy_eyeballs_times_out_a_silent_address_and_tries_the_next() {
    bounded(10, || {
        let (p, _hole) = blackhole(IpAddr::from([127, 0, 0, 1]));
        let server = Server::new(ServerOptions::default());
        let listen = ListenOptions::tcp(Some("::1".into()), p).with_ipv6_only(true);
        server.listen(listen).expect("::1 on the black hole's port");
        let socket = socket_with(answering(&[("127.0.0.1", 4), ("::1", 6)]));
        let start = Instant::now();
        socket.connect(
            ConnectOptions::tcp("dual.test", p)
                .with_custom_lookup()
                .with_auto_select_family(true)
                .with_auto_select_family_attempt_timeout(Duration::from_millis(100)),
        );
        let events = events_until_connect(&socket);
        assert_eq!(
            names(&events),
            [
                "lookup",
                "lookup",
                "connectionAttempt",
                "connectionAttemptTimeout",
                "connectionAttempt",
                "connect"
            ]
        );
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert_eq!(
            socket.info().attempted_addresses,
            Some(vec![format!("127.0.0.1:{p}"), format!("::1:{p}")])
        );
        drop(socket);
        server.close().unwrap();
    });
}

#[test]
fn every_address_failing_is_an_aggregate_error() {
    bounded(10, || {
        let p = common::free_port();
        let socket = socket_with(answering(&[("127.0.0.1", 4), ("::1", 6)]));
        socket.connect(
            ConnectOptions::tcp("dual.test", p)
                .with_custom_lookup()
                .with_auto_select_family(true),
        );
        let events = common::events_until_close(&socket);
        let Some(SocketEvent::Error(e)) =
            events.iter().find(|e| matches!(e, SocketEvent::Error(_)))
        else {
            panic!("{events:?}")
        };
        assert_eq!(e.code, Code::Econnrefused);
        assert_eq!(e.errors.len(), 2, "{e:?}");
    });
}

#[test]
fn a_failed_lookup_is_an_error_event() {
    bounded(10, || {
        let fail: LookupFn = Arc::new(|req| {
            Err(NetError::syscall(
                Code::Enotfound,
                "getaddrinfo",
                Some(&req.host),
                None,
            ))
        });
        let socket = socket_with(fail);
        socket.connect(ConnectOptions::tcp("nowhere.test", 80).with_custom_lookup());
        let events = common::events_until_close(&socket);
        assert_eq!(names(&events), ["lookup", "error", "close"]);
        let SocketEvent::Error(e) = &events[1] else {
            unreachable!()
        };
        assert_eq!(e.code, Code::Enotfound);
        assert_eq!(e.message, "getaddrinfo ENOTFOUND nowhere.test");
    });
}

#[test]
fn localhost_through_the_system_resolver() {
    bounded(10, || {
        let server = Server::new(ServerOptions::default());
        let p = port(
            &server
                .listen(ListenOptions::tcp(Some("localhost".into()), 0))
                .unwrap(),
        );
        let socket = sansnet_std::connect(ConnectOptions::tcp("localhost", p)).unwrap();
        assert!(socket.remote_address().unwrap().ip().is_loopback());
        let peer = server.accept().unwrap();
        assert!(peer.remote_address().unwrap().ip().is_loopback());
        drop(socket);
        drop(peer);
        server.close().unwrap();
    });
}

/// Fixed lookup answers come on the next tick, as a JavaScript `lookup` that calls back
/// with `process.nextTick`: a socket destroyed in the same turn as its `connect()` still
/// emits `'lookup'` (single-address path), before its `'close'`, and connects nowhere
/// (Node's test-net-connect-after-destroy); with happy eyeballs Node emits no `'lookup'`.
#[test]
fn fixed_lookup_answers_come_on_the_next_tick() {
    bounded(10, || {
        for (happy_eyeballs, expected) in [(false, &["lookup", "close"][..]), (true, &["close"])] {
            for _ in 0..10 {
                let socket = Socket::with_settings(SocketSettings {
                    lookup_answers: Some(vec![LookupAnswer {
                        address: "127.0.0.1".into(),
                        family: 4,
                    }]),
                    ..SocketSettings::default()
                });
                socket.connect(
                    ConnectOptions::tcp("example.org", 80).with_auto_select_family(happy_eyeballs),
                );
                socket.destroy(None);
                let events = common::events_until_close(&socket);
                assert_eq!(names(&events), expected, "{events:?}");
            }
        }
    });
}
