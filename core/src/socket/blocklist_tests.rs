//! A `blockList` cannot be passed by spelling the destination or the peer differently:
//! the check applies to the address actually connected to or accepted from, after any
//! lookup, IPv4-mapped and IPv4 forms matching each other as in Node's `BlockList`
//! (spellings: `blocklist/spellings.rs`).

use super::tests::{drain, names, t};
use super::*;
use crate::blocklist::BlockList;
use crate::options::{ListenOptions, ServerOptions};
use crate::server::{BoundAddress, Server, ServerIo, ServerOutput};

fn blocking(rules: &[&str]) -> BlockList {
    let mut list = BlockList::new();
    for r in rules {
        list.add_address(r.parse().unwrap());
    }
    list
}

/// Connects to `host` with a block list; answers a lookup with `answer` if one is asked.
fn connect(list: BlockList, host: &str, answer: Option<(&str, i64)>) -> Vec<String> {
    let mut opts = ConnectOptions::tcp(host, 80);
    opts.socket.block_list = Some(list);
    let mut s = Socket::new(&SocketOptions::new());
    s.connect(t(0), &opts);
    let (mut ev, io) = drain(&mut s);
    if let Some(SocketIo::Lookup { id, .. }) = io.first().cloned() {
        let (address, family) = answer.expect("a lookup was asked");
        let answer = LookupAnswer {
            address: address.into(),
            family,
        };
        s.lookup_done(t(1), id, Ok(vec![answer]));
        let (more, io) = drain(&mut s);
        ev.extend(more);
        assert!(
            !io.iter().any(|i| matches!(i, SocketIo::Connect { .. })),
            "{host}: no connect to a blocked address"
        );
    } else {
        assert!(
            !io.iter().any(|i| matches!(i, SocketIo::Connect { .. })),
            "{host}: no connect to a blocked address"
        );
    }
    names(&ev)
        .into_iter()
        .filter(|n| !n.starts_with("Lookup"))
        .collect()
}

#[test]
fn a_blocked_destination_spelled_otherwise_is_still_blocked() {
    let blocked = ["error ERR_IP_BLOCKED", "close HadError(true)"];
    // IP literals: the IPv4-mapped form of a blocked IPv4 address, and the reverse.
    assert_eq!(
        connect(blocking(&["127.0.0.1"]), "::ffff:127.0.0.1", None),
        blocked
    );
    assert_eq!(
        connect(blocking(&["::ffff:127.0.0.1"]), "127.0.0.1", None),
        blocked
    );
    // A zone and upper case name the same IPv6 address.
    assert_eq!(
        connect(blocking(&["fe80::1"]), "fe80::1%eth0", None),
        blocked
    );
    assert_eq!(connect(blocking(&["fe80::1"]), "FE80::1", None), blocked);
    // Not IP literals for Node: looked up, and the resolver's answer is what is checked
    // (getaddrinfo reads "0177.0.0.1", "0x7f.1", "127.1" and "2130706433" as 127.0.0.1).
    for host in ["0177.0.0.1", "0x7f.1", "127.1", "2130706433", "01.02.03.04"] {
        let want = if host == "01.02.03.04" {
            "1.2.3.4"
        } else {
            "127.0.0.1"
        };
        assert_eq!(
            connect(blocking(&["127.0.0.1", "1.2.3.4"]), host, Some((want, 4))),
            blocked,
            "{host}"
        );
    }
    // A resolver answering with the IPv4-mapped form is caught too.
    assert_eq!(
        connect(
            blocking(&["127.0.0.1"]),
            "localhost",
            Some(("::ffff:127.0.0.1", 6))
        ),
        blocked
    );
}

/// A listening server with a block list, as the driver would have it.
fn server(list: BlockList) -> Server {
    let mut opts = ServerOptions::new();
    opts.block_list = Some(list);
    let mut s = Server::new(opts);
    s.listen(ListenOptions::tcp(None, 0)).unwrap();
    let mut id = None;
    while let Some(o) = s.poll_output() {
        if let ServerOutput::Io(ServerIo::Listen { id: i, .. }) = o {
            id = Some(i);
        }
    }
    let addr = "[::]:4000".parse().unwrap();
    s.listen_done(id.expect("listen asked"), Ok(BoundAddress::Tcp(addr)));
    while s.poll_output().is_some() {}
    s
}

#[test]
fn a_blocked_peer_spelled_otherwise_is_still_closed() {
    // A dual-stack server sees IPv4 peers as ::ffff:a.b.c.d.
    for (rule, peer) in [
        ("127.0.0.1", "[::ffff:127.0.0.1]:5555"),
        ("::ffff:127.0.0.1", "127.0.0.1:5555"),
        ("fe80::1", "[fe80::1%2]:5555"),
    ] {
        let mut s = server(blocking(&[rule]));
        let local = Some("[::]:4000".parse().unwrap());
        s.incoming(7, local, Some(peer.parse().unwrap()));
        let mut out = Vec::new();
        while let Some(o) = s.poll_output() {
            out.push(o);
        }
        assert!(
            matches!(
                out.as_slice(),
                [ServerOutput::Io(ServerIo::CloseAccepted { token: 7 })]
            ),
            "{rule} / {peer}: {out:?}"
        );
        assert_eq!(s.connections(), 0);
    }
    // IPv4-compatible ::127.0.0.1 is another address, as in Node.
    let mut s = server(blocking(&["127.0.0.1"]));
    let local = Some("[::]:4000".parse().unwrap());
    s.incoming(8, local, Some("[::127.0.0.1]:5555".parse().unwrap()));
    assert_eq!(s.connections(), 1);
}
