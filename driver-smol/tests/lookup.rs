//! Name lookup, happy eyeballs and listen addresses on loopback.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use common::{echo_server, events_until_close, names, port, run};
use sansnet_smol::{
    BoundAddress, Chunk, Code, ConnectOptions, ListenOptions, LookupAnswer, LookupRequest,
    NetError, ServerOptions, Socket, SocketEvent, SocketSettings,
};

#[test]
fn happy_eyeballs_falls_back_to_the_next_family() {
    run(10, async {
        // Only IPv4 listens: ::1 refuses, 127.0.0.1 answers.
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let p = port(&bound);
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = asked.clone();
        let socket = Socket::with_settings(SocketSettings {
            lookup: Some(Arc::new(move |req: &LookupRequest| {
                log.lock().unwrap().push(req.clone());
                Ok(vec![
                    LookupAnswer::ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                    LookupAnswer::ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                ])
            })),
            ..SocketSettings::default()
        });
        socket.connect(ConnectOptions::tcp("dual.test", p));
        socket.wait_connected().await.expect("connect");
        socket.end(Some(Chunk::text("hi")));
        let events = events_until_close(&socket).await;
        assert_eq!(
            &names(&events)[..7],
            [
                "lookup",
                "lookup",
                "connectionAttempt",
                "connectionAttemptFailed",
                "connectionAttempt",
                "connect",
                "ready"
            ]
        );
        match &events[3] {
            SocketEvent::ConnectionAttemptFailed {
                address,
                family,
                error,
                ..
            } => {
                assert_eq!(address, "::1");
                assert_eq!(*family, Some(6));
                assert_eq!(error.code, Code::Econnrefused);
            }
            other => panic!("unexpected {other:?}"),
        }
        let req = asked.lock().unwrap()[0].clone();
        assert_eq!(req.host, "dual.test");
        assert!(req.all, "happy eyeballs asks for every address");
        // The getters are read after 'close' here: the attempted list survives it.
        assert_eq!(
            socket.info().attempted_addresses,
            Some(vec![format!("::1:{p}"), format!("127.0.0.1:{p}")])
        );
    });
}

#[test]
fn lookup_failure_is_an_error_event() {
    run(10, async {
        let socket = Socket::with_settings(SocketSettings {
            lookup: Some(Arc::new(|req: &LookupRequest| {
                Err(NetError::syscall(
                    Code::Enotfound,
                    "getaddrinfo",
                    Some(&req.host),
                    None,
                ))
            })),
            ..SocketSettings::default()
        });
        socket.connect(ConnectOptions::tcp("nowhere.test", 80));
        let events = events_until_close(&socket).await;
        assert_eq!(names(&events), ["lookup", "error", "close"]);
        let SocketEvent::Error(e) = &events[1] else {
            unreachable!()
        };
        assert_eq!(e.code, Code::Enotfound);
        assert_eq!(e.message, "getaddrinfo ENOTFOUND nowhere.test");
    });
}

#[test]
fn listen_and_connect_by_name() {
    run(10, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("localhost".into()), 0),
        )
        .await;
        let BoundAddress::Tcp(addr) = bound else {
            panic!("not TCP")
        };
        assert!(addr.ip().is_loopback());
        let host = addr.ip().to_string();
        let socket = sansnet_smol::connect(ConnectOptions::tcp(host, addr.port()))
            .await
            .expect("connect");
        socket.end(Some(Chunk::text("by name")));
        assert!(names(&events_until_close(&socket).await).contains(&"end"));
    });
}

#[test]
fn listen_without_host_is_dual_stack() {
    run(10, async {
        let (_server, bound) =
            echo_server(ServerOptions::default(), ListenOptions::tcp(None, 0)).await;
        let BoundAddress::Tcp(addr) = bound else {
            panic!("not TCP")
        };
        assert!(addr.ip().is_unspecified());
        for host in ["127.0.0.1", "::1"] {
            let socket = sansnet_smol::connect(ConnectOptions::tcp(host, addr.port()))
                .await
                .expect("connect");
            socket.end(Some(Chunk::text(host)));
            let events = events_until_close(&socket).await;
            assert_eq!(common::data_of(&events), host.as_bytes());
        }
    });
}
