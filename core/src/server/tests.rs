//! Unit tests of the server state machine.

use super::*;

fn drain(s: &mut Server) -> (Vec<String>, Vec<ServerIo>) {
    let (mut ev, mut io) = (Vec::new(), Vec::new());
    while let Some(o) = s.poll_output() {
        match o {
            ServerOutput::Io(i) => io.push(i),
            ServerOutput::Event(e) => ev.push(match e {
                ServerEvent::Listening => "listening".to_string(),
                ServerEvent::Connection { token, .. } => format!("connection {token}"),
                ServerEvent::Drop(d) => format!("drop {}", d.is_some()),
                ServerEvent::Error(e) => format!("error {}", e.code),
                ServerEvent::Close => "close".into(),
                ServerEvent::CloseCallback(e) => {
                    format!(
                        "closeCallback {}",
                        e.map_or("null".into(), |e| e.code.to_string())
                    )
                }
                ServerEvent::Connections(n) => format!("connections {n}"),
            }),
        }
    }
    (ev, io)
}

/// The events emitted synchronously (no deferred work run); I/O is skipped.
fn sync_events(s: &mut Server) -> Vec<String> {
    std::iter::from_fn(|| s.poll_emitted())
        .filter_map(|o| match o {
            ServerOutput::Event(e) => Some(format!("{e:?}")),
            ServerOutput::Io(_) => None,
        })
        .collect()
}

fn listening(opts: ServerOptions) -> Server {
    let mut s = Server::new(opts);
    s.listen(ListenOptions::tcp(None, 0)).unwrap();
    let (_, io) = drain(&mut s);
    let Some(ServerIo::Listen { id, .. }) = io.first().cloned() else {
        panic!("{io:?}")
    };
    s.listen_done(id, Ok(BoundAddress::Tcp("[::]:4000".parse().unwrap())));
    assert_eq!(drain(&mut s).0, ["listening"]);
    s
}

fn peer() -> (Option<SocketAddr>, Option<SocketAddr>) {
    (
        Some("127.0.0.1:4000".parse().unwrap()),
        Some("127.0.0.1:5555".parse().unwrap()),
    )
}

/// Out of descriptors without a spare: `'error'` as Node's `onconnection` gives it
/// (`accept EMFILE`, syscall `accept`), synchronously; the server keeps listening.
/// Not listening, there is nothing to accept.
#[test]
fn a_failed_accept_is_an_error_with_syscall_accept() {
    let mut s = listening(ServerOptions::new());
    s.accept_failed(Code::Emfile);
    let e = match s.poll_emitted() {
        Some(ServerOutput::Event(ServerEvent::Error(e))) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(e.code, Code::Emfile);
    assert_eq!(e.message, "accept EMFILE");
    assert_eq!(e.syscall, Some("accept"));
    assert!(s.listening());
    let mut idle = Server::new(ServerOptions::new());
    idle.accept_failed(Code::Emfile);
    assert!(drain(&mut idle).0.is_empty());
}

#[test]
fn listening_is_next_tick_and_close_right_after_listen_suppresses_it() {
    let mut s = Server::new(ServerOptions::new());
    s.listen(ListenOptions::tcp(None, 0)).unwrap();
    assert_eq!(
        s.listen(ListenOptions::tcp(None, 0)).unwrap_err().code,
        Code::ErrServerAlreadyListen
    );
    s.close();
    let (ev, io) = drain(&mut s);
    assert_eq!(ev, ["close", "closeCallback null"]);
    assert!(io.contains(&ServerIo::CloseListener));
}

#[test]
fn close_when_not_running_still_emits_close_each_time() {
    let mut s = Server::new(ServerOptions::new());
    s.close();
    assert_eq!(
        drain(&mut s).0,
        ["close", "closeCallback ERR_SERVER_NOT_RUNNING"]
    );
    s.close();
    assert_eq!(
        drain(&mut s).0,
        ["close", "closeCallback ERR_SERVER_NOT_RUNNING"]
    );
}

#[test]
fn close_again_after_close_emits_close_again_with_not_running() {
    // Node 20: listen, close(cb1) → 'close', cb1(undefined); close(cb2) later →
    // 'close' again, cb2(ERR_SERVER_NOT_RUNNING), each on its own next tick.
    let mut s = listening(ServerOptions::new());
    s.close();
    assert!(
        sync_events(&mut s).is_empty(),
        "'close' waits for the next tick"
    );
    assert_eq!(drain(&mut s).0, ["close", "closeCallback null"]);
    s.close();
    assert!(sync_events(&mut s).is_empty(), "the second 'close' too");
    assert_eq!(
        drain(&mut s).0,
        ["close", "closeCallback ERR_SERVER_NOT_RUNNING"]
    );
    // Twice in one synchronous section: each close() schedules an emitCloseNT; the
    // first 'close' runs both once('close') callbacks, the second has none left.
    let mut s = listening(ServerOptions::new());
    s.close();
    s.close();
    assert_eq!(
        drain(&mut s).0,
        [
            "close",
            "closeCallback null",
            "closeCallback ERR_SERVER_NOT_RUNNING",
            "close"
        ]
    );
}

#[test]
fn get_connections_answers_on_the_next_tick_in_order_with_other_ticks() {
    // Node 20: listen; getConnections; ... 'listening' first when it was already
    // deferred; close(cb) then getConnections(cb) → 'close', cb, then the count.
    let mut s = Server::new(ServerOptions::new());
    s.get_connections();
    assert!(sync_events(&mut s).is_empty(), "not synchronous");
    assert_eq!(drain(&mut s).0, ["connections 0"]);
    let mut s = listening(ServerOptions::new());
    let (l, r) = peer();
    s.incoming(1, l, r);
    assert_eq!(drain(&mut s).0, ["connection 1"]);
    s.get_connections();
    s.close();
    s.get_connections();
    s.close();
    s.get_connections();
    assert_eq!(
        drain(&mut s).0,
        ["connections 1", "connections 1", "connections 1"],
        "the count read at the call; 'close' waits for the connection"
    );
    s.connection_closed();
    s.get_connections();
    assert_eq!(
        drain(&mut s).0,
        [
            "close",
            "closeCallback null",
            "closeCallback ERR_SERVER_NOT_RUNNING",
            "connections 0"
        ]
    );
    let mut s = listening(ServerOptions::new());
    s.close();
    s.get_connections();
    assert_eq!(
        drain(&mut s).0,
        ["close", "closeCallback null", "connections 0"],
        "after the 'close' tick scheduled before it"
    );
}

#[test]
fn close_waits_for_every_admitted_socket() {
    let mut s = listening(ServerOptions::new());
    let (l, r) = peer();
    s.incoming(1, l, r);
    assert_eq!(drain(&mut s).0, ["connection 1"]);
    assert_eq!(s.connections(), 1);
    s.close();
    assert!(!s.listening());
    assert_eq!(s.address(), None);
    assert!(
        drain(&mut s).0.is_empty(),
        "'close' waits for the connection"
    );
    s.connection_closed();
    assert_eq!(drain(&mut s).0, ["close", "closeCallback null"]);
}

#[test]
fn max_connections_drops_and_zero_drops_all() {
    let mut s = listening(ServerOptions::new());
    s.max_connections = Some(1);
    let (l, r) = peer();
    s.incoming(1, l, r);
    s.incoming(2, l, r);
    let (ev, io) = drain(&mut s);
    assert_eq!(ev, ["connection 1", "drop true"]);
    assert!(io.contains(&ServerIo::CloseAccepted { token: 2 }));
    let mut s = listening(ServerOptions::new());
    s.max_connections = Some(0);
    s.incoming(1, l, r);
    assert_eq!(drain(&mut s).0, ["drop true"]);
    s.incoming(2, None, None);
    assert_eq!(
        drain(&mut s).0,
        ["drop false"],
        "unix sockets drop without data"
    );
}

#[test]
fn a_blocked_peer_is_closed_silently() {
    let mut list = crate::blocklist::BlockList::default();
    list.add_address("127.0.0.1".parse().unwrap());
    let mut opts = ServerOptions::new();
    opts.block_list = Some(list);
    let mut s = listening(opts);
    let (l, r) = peer();
    s.incoming(7, l, r);
    let (ev, io) = drain(&mut s);
    assert!(ev.is_empty());
    assert_eq!(io, [ServerIo::CloseAccepted { token: 7 }]);
    assert_eq!(s.connections(), 0);
}

#[test]
fn listen_errors_are_events_and_the_server_can_listen_again() {
    let mut s = Server::new(ServerOptions::new());
    s.listen(ListenOptions::tcp(Some("127.0.0.1".into()), 80))
        .unwrap();
    let (_, io) = drain(&mut s);
    let Some(ServerIo::Listen { id, .. }) = io.first().cloned() else {
        panic!("{io:?}")
    };
    s.listen_done(id, Err(Code::Eaddrinuse));
    let (ev, _) = drain(&mut s);
    assert_eq!(ev, ["error EADDRINUSE"]);
    assert!(!s.listening());
    assert!(s.listen(ListenOptions::tcp(None, 0)).is_ok());
}

#[test]
fn unspecified_host_falls_back_to_ipv4() {
    let mut s = Server::new(ServerOptions::new());
    s.listen(ListenOptions::tcp(None, 0)).unwrap();
    let (_, io) = drain(&mut s);
    let Some(ServerIo::Listen { id, .. }) = io.first().cloned() else {
        panic!("{io:?}")
    };
    s.listen_done(id, Err(Code::Eafnosupport));
    let (ev, io) = drain(&mut s);
    assert!(ev.is_empty());
    let Some(ServerIo::Listen { address, .. }) = io.first() else {
        panic!("{io:?}")
    };
    assert_eq!(
        *address,
        BoundAddressRequest::Tcp("0.0.0.0:0".parse().unwrap())
    );
}

#[test]
fn an_ipc_server_unlinks_its_path_and_keeps_reporting_it() {
    let mut s = Server::new(ServerOptions::new());
    s.listen(ListenOptions::ipc("/tmp/s.sock")).unwrap();
    let (_, io) = drain(&mut s);
    let Some(ServerIo::Listen { id, .. }) = io.first().cloned() else {
        panic!("{io:?}")
    };
    s.listen_done(id, Ok(BoundAddress::Ipc("/tmp/s.sock".into())));
    drain(&mut s);
    s.close();
    let (_, io) = drain(&mut s);
    assert!(io.contains(&ServerIo::Unlink {
        path: "/tmp/s.sock".into()
    }));
    assert_eq!(s.address(), Some(BoundAddress::Ipc("/tmp/s.sock".into())));
}

#[test]
fn a_bound_address_prints_as_node_shows_it() {
    let v6 = BoundAddress::Tcp("[::1]:8080".parse().unwrap());
    assert_eq!(v6.to_string(), "[::1]:8080");
    assert_eq!(v6.port(), Some(8080));
    let v4 = BoundAddress::Tcp("127.0.0.1:80".parse().unwrap());
    assert_eq!(v4.to_string(), "127.0.0.1:80");
    let ipc = BoundAddress::Ipc("/tmp/s.sock".into());
    assert_eq!(ipc.to_string(), "/tmp/s.sock");
    assert_eq!(ipc.port(), None);
    assert_eq!(
        format!("{:?}", crate::Code::ErrSocketBadPort),
        "ERR_SOCKET_BAD_PORT"
    );
}
