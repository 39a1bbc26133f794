//! The `server` target: arbitrary listen / close / abort / incoming / listen_done /
//! lookup_done sequences on a [`Server`], with the sockets it admits destroyed at
//! arbitrary times (their release reported back as a driver does).
//!
//! Checked: nothing panics; `'close'` only when no admitted connection is left;
//! `getConnections()` is always admitted minus released; every incoming connection is
//! admitted (`'connection'`) or closed (`CloseAccepted`), exactly one of the two, at once;
//! `'drop'` only with a close; `'listening'` only while listening; no more close callbacks
//! than `close()` calls; each admitted socket keeps the socket invariants.
//!
//! The harness is a driver that follows the run loop: its completions (listen, lookup,
//! incoming connections) arrive only after it pulled every output.

use std::net::SocketAddr;

use arbitrary::{Arbitrary, Result, Unstructured};
use sansnet::blocklist::BlockList;
use sansnet::options::{ListenOptions, ListenTarget, ServerOptions};
use sansnet::server::{
    BoundAddress, BoundAddressRequest, Server, ServerEvent, ServerIo, ServerOutput,
};
use sansnet::socket::{LookupAnswer, LookupId, Output, Socket, SocketIo};
use sansnet::{Code, Instant, NetError};

use sansnet::sim::check::{ServerChecker, SocketChecker};

/// An IPv6 literal that `isIP` accepts and `inet_pton` rejects (39 bytes are read before
/// the zone; the address needs 45).
pub const ODD_LITERAL: &str = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%eth0";

/// Where a listen goes.
#[derive(Arbitrary, Debug, Clone)]
pub enum Where {
    /// No host: `::`, falling back to `0.0.0.0`.
    Any(u16),
    /// `127.0.0.1`.
    V4(u16),
    /// `::1`.
    V6(u16),
    /// A name to look up.
    Name(u16),
    /// A unix socket path.
    Path,
    /// An abstract unix socket.
    Abstract,
    /// An IPv6 literal that `isIP` accepts and `inet_pton` rejects (too long before its
    /// zone): Node fails with `EINVAL`.
    OddLiteral,
}

/// A peer address of an incoming connection.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Peer {
    /// `127.0.0.1` (blocked when the server has a blockList).
    Blocked,
    /// `127.0.0.2`.
    V4,
    /// `::1`.
    V6,
    /// A unix-domain peer (no addresses).
    Ipc,
    /// Only a local address (odd driver, still must not panic).
    LocalOnly,
}

/// A listen outcome.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Bound {
    /// Bound.
    Ok,
    /// `EADDRINUSE`.
    InUse,
    /// `EAFNOSUPPORT` (falls back to IPv4 when no host was given).
    NoV6,
    /// `EADDRNOTAVAIL`.
    NotAvail,
    /// `EACCES`.
    Access,
}

/// How a socket the server admitted ends.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Kill {
    /// `destroy()`.
    Destroy,
    /// `destroy(err)`.
    DestroyErr,
    /// `resetAndDestroy()`.
    Reset,
    /// The peer reset it.
    ReadFailed,
    /// `end()` then the FIN went out and the peer's FIN came.
    EndBoth,
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// `listen(...)`.
    Listen(Where),
    /// `close()`.
    Close,
    /// The listen signal aborted.
    Abort,
    /// `server.maxConnections = n`.
    SetMax(Option<u8>),
    /// The OS accepted a connection.
    Incoming(Peer),
    /// A listen completed (`pick` among every listen ever asked).
    ListenDone(u8, Bound),
    /// A lookup completed.
    LookupDone(u8, Option<Vec<bool>>),
    /// An admitted socket ends.
    Kill(u8, Kill),
    /// Pull every output (the end of a loop turn).
    Pull,
    /// Read the getters.
    Getters,
}

struct Conn {
    socket: Socket,
    check: SocketChecker,
    shutdown_asked: bool,
    reading: bool,
}

struct Harness {
    s: Server,
    sc: ServerChecker,
    listens: Vec<u64>,
    lookups: Vec<LookupId>,
    conns: Vec<Conn>,
    admitted: u64,
    released: u64,
    /// Releases reported to the server with `connection_closed`.
    reported: u64,
    close_calls: usize,
    close_callbacks: usize,
    next_token: u64,
    /// Tokens handed to `incoming` that were neither admitted nor closed yet.
    open_tokens: Vec<u64>,
}

impl Harness {
    fn counted(&self) {
        assert_eq!(
            u64::from(self.s.connections()),
            self.admitted - self.released,
            "getConnections() is not admitted ({}) minus released ({})",
            self.admitted,
            self.released
        );
    }

    fn take(&mut self, o: ServerOutput) {
        match o {
            ServerOutput::Io(io) => match io {
                ServerIo::Lookup { id, .. } => self.lookups.push(id),
                ServerIo::Listen {
                    id,
                    address,
                    options,
                } => {
                    if let (BoundAddressRequest::Tcp(a), ListenTarget::Tcp { host: Some(h), .. }) =
                        (&address, &options.target)
                    {
                        assert!(
                            !a.ip().is_unspecified()
                                || a.ip().to_string() == *h
                                || !crate::strict(),
                            "known bug: listen on host {h:?} binds {a} (Node: 'error' EINVAL)"
                        );
                    }
                    self.listens.push(id);
                }
                ServerIo::CloseAccepted { token } => {
                    let Some(i) = self.open_tokens.iter().position(|t| *t == token) else {
                        panic!("CloseAccepted for token {token}, not pending");
                    };
                    self.open_tokens.swap_remove(i);
                }
                ServerIo::CloseListener | ServerIo::Unlink { .. } => {}
            },
            ServerOutput::Event(e) => match e {
                ServerEvent::Listening => {
                    assert!(self.s.listening(), "'listening' while not listening");
                }
                ServerEvent::Connection { token, socket } => {
                    let Some(i) = self.open_tokens.iter().position(|t| *t == token) else {
                        panic!("'connection' for token {token}, not pending");
                    };
                    self.open_tokens.swap_remove(i);
                    self.admitted += 1;
                    self.sc.connection(&self.s);
                    assert!(socket.is_server_owned());
                    let mut c = Conn {
                        socket: *socket,
                        check: SocketChecker::new(true),
                        shutdown_asked: false,
                        reading: false,
                    };
                    self.released += drive(&mut c, Instant::ZERO);
                    self.conns.push(c);
                }
                ServerEvent::Drop(info) => self.sc.drop(&self.s, info.as_ref()),
                ServerEvent::Error(_) => {}
                ServerEvent::Close => self.sc.close(&self.s),
                ServerEvent::Connections(_) => {}
                ServerEvent::CloseCallback(_) => {
                    self.close_callbacks += 1;
                    assert!(
                        self.close_callbacks <= self.close_calls,
                        "more close callbacks than close() calls"
                    );
                }
            },
        }
    }

    fn emitted(&mut self) {
        let mut n = 0;
        while let Some(o) = self.s.poll_emitted() {
            n += 1;
            assert!(n < 10_000, "unbounded outputs");
            self.take(o);
        }
        self.release_pending();
    }

    fn pull(&mut self) {
        let mut n = 0;
        while let Some(o) = self.s.poll_output() {
            n += 1;
            assert!(n < 10_000, "unbounded outputs");
            self.take(o);
            self.release_pending();
        }
        for c in &mut self.conns {
            self.released += drive(c, Instant::ZERO);
        }
        self.release_pending();
    }

    /// Reports the releases the sockets asked for (counted in `released` by `drive`).
    fn release_pending(&mut self) {
        while self.reported < self.released {
            self.reported += 1;
            self.s.connection_closed();
        }
        self.counted();
    }

    fn step(&mut self, st: Step) {
        match st {
            Step::Listen(w) => {
                let opts = match w {
                    Where::Any(p) => ListenOptions::tcp(None, p),
                    Where::V4(p) => ListenOptions::tcp(Some("127.0.0.1".into()), p),
                    Where::V6(p) => ListenOptions::tcp(Some("::1".into()), p),
                    Where::Name(p) => ListenOptions::tcp(Some("srv.test".into()), p),
                    Where::Path => ListenOptions::ipc("/tmp/fuzz-server.sock"),
                    Where::Abstract => ListenOptions::ipc("\0fuzz"),
                    Where::OddLiteral => ListenOptions::tcp(Some(ODD_LITERAL.into()), 0),
                };
                let _ = self.s.listen(opts);
            }
            Step::Close => {
                self.close_calls += 1;
                self.s.close();
            }
            Step::Abort => self.s.abort(),
            Step::SetMax(m) => self.s.max_connections = m.map(u32::from),
            Step::Incoming(peer) => {
                self.pull();
                let token = self.next_token;
                self.next_token += 1;
                let v4: SocketAddr = "127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!());
                let (l, r): (Option<SocketAddr>, Option<SocketAddr>) = match peer {
                    Peer::Blocked => (Some(v4), Some(([127, 0, 0, 1], 50000).into())),
                    Peer::V4 => (Some(v4), Some(([127, 0, 0, 2], 50001).into())),
                    Peer::V6 => (
                        Some((std::net::Ipv6Addr::LOCALHOST, 80).into()),
                        Some((std::net::Ipv6Addr::LOCALHOST, 50002).into()),
                    ),
                    Peer::Ipc => (None, None),
                    Peer::LocalOnly => (Some(v4), None),
                };
                self.open_tokens.push(token);
                self.s.incoming(token, l, r);
                self.emitted();
                assert!(
                    !self.open_tokens.contains(&token),
                    "incoming connection {token} neither admitted nor closed at once"
                );
            }
            Step::ListenDone(i, b) => {
                self.pull();
                if !self.listens.is_empty() {
                    let id = self.listens[usize::from(i) % self.listens.len()];
                    let r = match b {
                        Bound::Ok => Ok(BoundAddress::Tcp(
                            "127.0.0.1:4000".parse().unwrap_or_else(|_| unreachable!()),
                        )),
                        Bound::InUse => Err(Code::Eaddrinuse),
                        Bound::NoV6 => Err(Code::Eafnosupport),
                        Bound::NotAvail => Err(Code::Eaddrnotavail),
                        Bound::Access => Err(Code::Eacces),
                    };
                    self.s.listen_done(id, r);
                }
            }
            Step::LookupDone(i, answers) => {
                self.pull();
                if !self.lookups.is_empty() {
                    let id = self.lookups[usize::from(i) % self.lookups.len()];
                    let r = match answers {
                        None => Err(NetError::syscall(
                            Code::Enotfound,
                            "getaddrinfo",
                            Some("srv.test"),
                            None,
                        )),
                        Some(list) => Ok(list
                            .iter()
                            .take(4)
                            .map(|v6| LookupAnswer {
                                address: if *v6 { "::1" } else { "127.0.0.1" }.into(),
                                family: if *v6 { 6 } else { 4 },
                            })
                            .collect()),
                    };
                    self.s.lookup_done(id, r);
                }
            }
            Step::Kill(i, k) => {
                if !self.conns.is_empty() {
                    let n = self.conns.len();
                    let c = &mut self.conns[usize::from(i) % n];
                    let now = Instant::ZERO;
                    match k {
                        Kill::Destroy => c.socket.destroy(None),
                        Kill::DestroyErr => c.socket.destroy(Some(NetError::custom("EFUZZ", "x"))),
                        Kill::Reset => {
                            let _ = c.socket.reset_and_destroy();
                        }
                        Kill::ReadFailed => c.socket.read_failed(Code::Econnreset),
                        Kill::EndBoth => {
                            c.socket.end(now, None);
                            self.released += drive(c, now);
                            if c.reading {
                                c.socket.eof(now);
                            }
                        }
                    }
                    self.released += drive(c, now);
                }
            }
            Step::Pull => self.pull(),
            Step::Getters => {
                let _ = (self.s.listening(), self.s.address(), self.s.is_idle());
            }
        }
        self.emitted();
    }
}

/// Pulls every output of an admitted socket; returns how many releases it asked for.
fn drive(c: &mut Conn, _now: Instant) -> u64 {
    let mut released = 0;
    let mut n = 0;
    while let Some(o) = c.socket.poll_output() {
        n += 1;
        assert!(n < 10_000, "unbounded socket outputs");
        c.check.output(&o);
        match o {
            Output::Io(SocketIo::ReleaseFromServer) => released += 1,
            Output::Io(SocketIo::Shutdown) => c.shutdown_asked = true,
            Output::Io(SocketIo::StartReading) => c.reading = true,
            Output::Io(SocketIo::StopReading | SocketIo::Close | SocketIo::Reset) => {
                c.reading = false
            }
            _ => {}
        }
    }
    released
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = run_u(&mut u);
}

fn run_u(u: &mut Unstructured<'_>) -> Result<()> {
    let mut cfg = ServerOptions::new();
    cfg.pause_on_connect = u.arbitrary()?;
    cfg.allow_half_open = u.arbitrary()?;
    if u.arbitrary()? {
        let mut list = BlockList::new();
        list.add_address([127, 0, 0, 1].into());
        cfg.block_list = Some(list);
    }
    let sc = ServerChecker::new(cfg.block_list.clone());
    let mut s = Server::new(cfg);
    s.max_connections = u.arbitrary::<Option<u8>>()?.map(u32::from);
    let mut h = Harness {
        s,
        sc,
        listens: Vec::new(),
        lookups: Vec::new(),
        conns: Vec::new(),
        admitted: 0,
        released: 0,
        reported: 0,
        close_calls: 0,
        close_callbacks: 0,
        next_token: 1,
        open_tokens: Vec::new(),
    };
    let mut steps = 0;
    while !u.is_empty() && steps < 256 {
        let Ok(st) = u.arbitrary::<Step>() else { break };
        h.step(st);
        steps += 1;
    }
    h.pull();
    for c in &h.conns {
        c.check.settled(c.socket.destroyed());
    }
    Ok(())
}

/// The steps an input decodes to (for reading a crash).
pub fn decode(data: &[u8]) -> String {
    let mut u = Unstructured::new(data);
    let mut out = String::new();
    for _ in 0..3 {
        let _ = u.arbitrary::<bool>();
    }
    let _ = u.arbitrary::<Option<u8>>();
    while !u.is_empty() {
        match u.arbitrary::<Step>() {
            Ok(s) => out.push_str(&format!("{s:?}\n")),
            Err(_) => break,
        }
    }
    out
}
