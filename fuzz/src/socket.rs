//! The `socket` target: an arbitrary sequence of application calls, driver completions
//! (current and stale ids) and time advances on one [`Socket`], with the crate's
//! invariants checked after every step (see [`sansnet::sim::check`] for the event rules).
//!
//! The harness plays a driver that keeps its side of the contract: it answers only what
//! it was asked (any id it was ever given, so stale and repeated completions are
//! exercised), delivers bytes and FIN only while reading was asked for, and reports a
//! shutdown only after asking for it. Everything else is up to the input.

use std::net::SocketAddr;

use arbitrary::{Arbitrary, Result, Unstructured};
use sansnet::blocklist::BlockList;
use sansnet::options::{ConnectOptions, ServerOptions, SocketOptions};
use sansnet::socket::{
    AttemptId, Chunk, LookupAnswer, LookupId, Output, Socket, SocketIo, WriteId,
};
use sansnet::{Code, Duration, Family, Instant, NetError};

use sansnet::sim::check::{self, SocketChecker};

/// How the socket is born.
#[derive(Arbitrary, Debug)]
pub enum Birth {
    /// `new net.Socket(options)`.
    Client {
        /// `allowHalfOpen`.
        half_open: bool,
        /// The writable high-water mark (small, so back-pressure is reached).
        hwm: u16,
    },
    /// A server's accepted connection.
    Accepted {
        /// `allowHalfOpen`.
        half_open: bool,
        /// `pauseOnConnect`.
        pause: bool,
        /// `noDelay`.
        no_delay: bool,
        /// `keepAlive`.
        keep_alive: bool,
        /// The high-water mark.
        hwm: u16,
        /// A unix-domain connection (no addresses).
        ipc: bool,
    },
}

/// Where a connect goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Dest {
    /// `127.0.0.1`.
    V4,
    /// `::1`.
    V6,
    /// A name to look up (happy eyeballs unless the options say otherwise).
    Name,
    /// A unix socket path.
    Ipc,
    /// An IP literal that `isIP` accepts and `inet_pton` may not (a long zoned IPv6).
    OddLiteral,
    /// The empty host (`localhost`).
    Empty,
}

/// A connect's options.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Connect {
    dest: Dest,
    port: u16,
    /// `autoSelectFamily`: None = the default (on).
    auto_select: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout` in ms (floored to 10 by the options).
    attempt_timeout: Option<u8>,
    /// A lookup family (forces the single-address path).
    family: Option<bool>,
    /// `localAddress` / `localPort`.
    local: Option<(bool, u16)>,
    /// `timeout` in ms.
    timeout: Option<u16>,
    no_delay: bool,
    keep_alive: Option<u8>,
    /// A blockList denying 127.0.0.1 and/or ::1.
    block: u8,
}

/// One lookup answer.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Answer {
    /// `127.0.0.1`, family 4.
    V4,
    /// `::1`, family 6.
    V6,
    /// `127.0.0.2`, family 4.
    V4b,
    /// `::2`, family 6.
    V6b,
    /// An IPv4 address with family 6 (Node only checks "is an IP").
    Mismatch,
    /// Not an address.
    Garbage,
    /// Family 5.
    BadFamily,
}

impl Answer {
    fn to_answer(self) -> LookupAnswer {
        let (address, family) = match self {
            Answer::V4 => ("127.0.0.1", 4),
            Answer::V6 => ("::1", 6),
            Answer::V4b => ("127.0.0.2", 4),
            Answer::V6b => ("::2", 6),
            Answer::Mismatch => ("127.0.0.3", 6),
            Answer::Garbage => ("not an ip", 4),
            Answer::BadFamily => ("127.0.0.4", 5),
        };
        LookupAnswer {
            address: address.into(),
            family,
        }
    }
}

/// A failure code from the OS.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Fail {
    /// `ECONNREFUSED`.
    Refused,
    /// `ECANCELED`.
    Canceled,
    /// `ECONNRESET`.
    Reset,
    /// `ETIMEDOUT`.
    TimedOut,
    /// `EPIPE`.
    Pipe,
    /// Any errno.
    Errno(i32),
}

impl Fail {
    fn code(self) -> Code {
        match self {
            Fail::Refused => Code::Econnrefused,
            Fail::Canceled => Code::Ecanceled,
            Fail::Reset => Code::Econnreset,
            Fail::TimedOut => Code::Etimedout,
            Fail::Pipe => Code::Epipe,
            Fail::Errno(n) => Code::from_errno(n),
        }
    }
}

/// How much of the output the driver pulls.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Pull {
    /// Everything (`poll_output`): the end of a loop turn.
    All,
    /// Next-tick work only (`poll_tick_output`).
    Ticks,
    /// `poll_output` until `n` events came out: the application reacts in a listener.
    Events(u8),
}

/// One step.
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// `connect(options)` (also while busy, and reusing a destroyed socket).
    Connect(Connect),
    /// `write(bytes)`.
    Write(u16),
    /// `write(text)` (UTF-16 length counted).
    WriteText(String),
    /// `end([data])`.
    End(Option<u8>),
    /// `destroy([err])`.
    Destroy(bool),
    /// `destroySoon()`.
    DestroySoon,
    /// `resetAndDestroy()`.
    Reset,
    /// `pause()`.
    Pause,
    /// `resume()`.
    Resume,
    /// `setTimeout(ms)`.
    SetTimeout(u16),
    /// `setNoDelay`.
    SetNoDelay(bool),
    /// `setKeepAlive`.
    SetKeepAlive(bool, u8),
    /// The signal aborted.
    Abort,
    /// Time passes by `ms` milliseconds and `handle_timeout` runs.
    Advance(u16),
    /// Time passes by `ns` nanoseconds.
    Nudge(u16),
    /// `handle_timeout(now)` again (harmless when early).
    Timeout,
    /// A lookup answer (`pick` chooses among every lookup ever asked).
    LookupOk(u8, Vec<Answer>),
    /// A lookup error.
    LookupErr(u8),
    /// An attempt connected.
    Connected(u8, bool),
    /// An attempt failed.
    Failed(u8, Fail),
    /// Bytes arrive (only while reading).
    Received(u16),
    /// The peer's FIN (only while reading).
    Eof,
    /// A read error.
    ReadFailed(Fail),
    /// A write batch completed.
    WriteDone(u8),
    /// A write failed.
    WriteFailed(Fail),
    /// The FIN asked for went out.
    ShutdownDone,
    /// Completions with ids that were never handed out.
    Stale(u64),
    /// Pull outputs.
    Pull(Pull),
    /// Read every getter.
    Getters,
}

/// The driver's side: what it was asked and what it believes.
#[derive(Debug, Default)]
struct Driver {
    now: u64,
    lookups: Vec<LookupId>,
    attempts: Vec<AttemptId>,
    /// Attempts asked for and neither reported (connected/failed) nor aborted.
    in_flight: Vec<AttemptId>,
    writes: Vec<WriteId>,
    shutdown_asked: bool,
    reading: bool,
    /// Bytes received and taken (`bytesRead` grew) in this life, and delivered as 'data'.
    rx_taken: Vec<u8>,
    rx_data: Vec<u8>,
    /// Bytes accepted by `write()` in this life, and asked to be sent.
    tx_accepted: Vec<u8>,
    tx_sent: Vec<u8>,
    counter: u8,
}

impl Driver {
    fn pattern(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.counter = self.counter.wrapping_add(1);
                self.counter
            })
            .collect()
    }
}

fn pick<T: Copy>(v: &[T], i: u8) -> Option<T> {
    (!v.is_empty()).then(|| v[usize::from(i) % v.len()])
}

struct Harness {
    s: Socket,
    d: Driver,
    c: SocketChecker,
    aborted: bool,
}

impl Harness {
    fn now(&self) -> Instant {
        Instant::from_nanos(self.d.now)
    }

    fn take(&mut self, o: Output) {
        self.c.output(&o);
        match o {
            Output::Io(io) => match io {
                SocketIo::Lookup { id, .. } => self.d.lookups.push(id),
                SocketIo::Connect {
                    attempt, remote, ..
                } => {
                    if let sansnet::socket::Remote::Tcp(a) = remote {
                        // Every destination the harness names is a loopback address.
                        assert!(
                            !a.ip().is_unspecified() || !crate::strict(),
                            "known bug: an IP literal that isIP accepts and inet_pton \
                             rejects connects to {a} (Node: 'error' EINVAL)"
                        );
                    }
                    self.d.attempts.push(attempt);
                    self.d.in_flight.push(attempt);
                }
                SocketIo::AbortAttempt { attempt } => {
                    let known = self.d.in_flight.contains(&attempt);
                    assert!(
                        known || !crate::strict(),
                        "known bug: AbortAttempt for {attempt:?}, which is not in flight \
                         (the driver already reported it)"
                    );
                    self.d.in_flight.retain(|a| *a != attempt);
                }
                SocketIo::Write { id, data } => {
                    self.d.writes.push(id);
                    for chunk in &data {
                        self.d.tx_sent.extend_from_slice(chunk);
                    }
                    assert!(
                        self.d.tx_accepted.starts_with(&self.d.tx_sent),
                        "the bytes asked to be sent are not the bytes written, in order"
                    );
                }
                SocketIo::Shutdown => {
                    assert!(!self.d.shutdown_asked, "shutdown asked twice");
                    self.d.shutdown_asked = true;
                }
                SocketIo::StartReading => self.d.reading = true,
                SocketIo::StopReading => self.d.reading = false,
                SocketIo::Close | SocketIo::Reset => self.d.reading = false,
                _ => {}
            },
            Output::Event(sansnet::socket::SocketEvent::Data(bytes)) => {
                assert!(!bytes.is_empty(), "an empty 'data' chunk");
                self.d.rx_data.extend_from_slice(&bytes);
                assert!(
                    self.d.rx_taken.starts_with(&self.d.rx_data),
                    "'data' is not the bytes received, in order"
                );
            }
            Output::Event(_) => {}
        }
    }

    /// What the driver does after every call: carry out what was emitted synchronously.
    fn emitted(&mut self) {
        let mut n = 0;
        while let Some(o) = self.s.poll_emitted() {
            n += 1;
            assert!(
                n < 10_000,
                "one input emitted an unbounded number of outputs"
            );
            self.take(o);
        }
    }

    fn pull(&mut self, how: Pull) {
        let mut n = 0;
        let mut events = 0;
        loop {
            let o = match how {
                Pull::All | Pull::Events(_) => self.s.poll_output(),
                Pull::Ticks => self.s.poll_tick_output(),
            };
            let Some(o) = o else { break };
            n += 1;
            assert!(n < 10_000, "an unbounded number of outputs");
            let event = matches!(o, Output::Event(_));
            self.take(o);
            if let (Pull::Events(max), true) = (how, event) {
                events += 1;
                if events > u32::from(max % 4) {
                    // The listener runs: only what is already emitted comes out now.
                    self.emitted();
                    break;
                }
            }
        }
    }

    fn consistent(&mut self) {
        let s = &self.s;
        check::socket_state(s);
        assert!(
            s.bytes_read() >= self.d.rx_data.len() as u64,
            "more 'data' than bytesRead"
        );
        check::deadline_after(s, self.now());
    }

    fn connect(&mut self, c: Connect) {
        let host = match c.dest {
            Dest::V4 => "127.0.0.1".to_string(),
            Dest::V6 => "::1".to_string(),
            Dest::Name => "dual.test".to_string(),
            Dest::Ipc => String::new(),
            Dest::OddLiteral => crate::server::ODD_LITERAL.to_string(),
            Dest::Empty => String::new(),
        };
        let mut o = if matches!(c.dest, Dest::Ipc) {
            ConnectOptions::ipc("/tmp/fuzz.sock")
        } else {
            ConnectOptions::tcp(host, c.port)
        };
        if let Some(a) = c.auto_select {
            o = o.with_auto_select_family(a);
        }
        if let Some(t) = c.attempt_timeout {
            o = o.with_auto_select_family_attempt_timeout(Duration::from_millis(u64::from(t)));
        }
        if let Some(v6) = c.family {
            o = o.with_family(if v6 { Family::V6 } else { Family::V4 });
        }
        if let Some((addr, port)) = c.local {
            let ip = addr.then(|| std::net::IpAddr::from([127, 0, 0, 1]));
            o = o.with_local(ip, Some(port));
        }
        o = o.with_timeout(c.timeout.map(|t| Duration::from_millis(u64::from(t))));
        let mut so = SocketOptions::new().with_no_delay(c.no_delay);
        if let Some(k) = c.keep_alive {
            so = so.with_keep_alive(true, Duration::from_secs(u64::from(k)));
        }
        if c.block & 3 != 0 {
            let mut list = BlockList::new();
            if c.block & 1 != 0 {
                list.add_address([127, 0, 0, 1].into());
            }
            if c.block & 2 != 0 {
                list.add_address(std::net::Ipv6Addr::LOCALHOST.into());
            }
            so.block_list = Some(list);
        }
        o = o.with_socket(so);
        if self.s.destroyed() && !self.aborted {
            // Node's reconnect of a destroyed socket: a new life.
            // The old life's owed 'close' may still follow (checked when all is pulled).
            self.c.new_life();
            self.d.rx_taken.clear();
            self.d.rx_data.clear();
            self.d.tx_accepted.clear();
            self.d.tx_sent.clear();
            self.d.shutdown_asked = false;
            self.d.reading = false;
        }
        let now = self.now();
        self.s.connect(now, &o);
    }

    fn write(&mut self, chunk: Chunk) {
        let now = self.now();
        let before = self.s.bytes_written();
        let bytes = chunk.bytes.clone();
        self.s.write(now, chunk);
        if self.s.bytes_written() == before + bytes.len() as u64 {
            self.d.tx_accepted.extend_from_slice(&bytes);
        }
    }

    fn step(&mut self, st: Step) {
        let now = self.now();
        match st {
            Step::Connect(c) => self.connect(c),
            Step::Write(n) => {
                let bytes = self.d.pattern(usize::from(n % 3000));
                self.write(Chunk::bytes(bytes));
            }
            Step::WriteText(t) => self.write(Chunk::text(&t)),
            Step::End(data) => {
                let chunk = data.map(|n| Chunk::bytes(self.d.pattern(usize::from(n))));
                let before = self.s.bytes_written();
                let bytes = chunk.as_ref().map(|c| c.bytes.clone()).unwrap_or_default();
                self.s.end(now, chunk);
                if !bytes.is_empty() && self.s.bytes_written() == before + bytes.len() as u64 {
                    self.d.tx_accepted.extend_from_slice(&bytes);
                }
            }
            Step::Destroy(err) => self
                .s
                .destroy(err.then(|| NetError::custom("EFUZZ", "fuzz"))),
            Step::DestroySoon => self.s.destroy_soon(now),
            Step::Reset => {
                let _ = self.s.reset_and_destroy();
            }
            Step::Pause => self.s.pause(),
            Step::Resume => self.s.resume(),
            Step::SetTimeout(ms) => self
                .s
                .set_timeout(now, Duration::from_millis(u64::from(ms))),
            Step::SetNoDelay(v) => self.s.set_no_delay(v),
            Step::SetKeepAlive(v, secs) => self.s.set_keep_alive(v, u32::from(secs)),
            Step::Abort => {
                self.aborted = true;
                self.s.abort();
            }
            Step::Advance(ms) => self.advance(u64::from(ms) * 1_000_000),
            Step::Nudge(ns) => self.advance(u64::from(ns)),
            Step::Timeout => self.s.handle_timeout(now),
            Step::LookupOk(i, answers) => {
                if let Some(id) = pick(&self.d.lookups, i) {
                    let a = answers.iter().take(6).map(|a| a.to_answer()).collect();
                    self.s.lookup_done(now, id, Ok(a));
                }
            }
            Step::LookupErr(i) => {
                if let Some(id) = pick(&self.d.lookups, i) {
                    let e =
                        NetError::syscall(Code::Enotfound, "getaddrinfo", Some("dual.test"), None);
                    self.s.lookup_done(now, id, Err(e));
                }
            }
            Step::Connected(i, addrs) => {
                if let Some(a) = pick(&self.d.attempts, i) {
                    self.d.in_flight.retain(|x| *x != a);
                    let (l, r): (Option<SocketAddr>, Option<SocketAddr>) = if addrs {
                        (
                            Some("127.0.0.1:50000".parse().unwrap_or_else(|_| unreachable!())),
                            Some("127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!())),
                        )
                    } else {
                        (None, None)
                    };
                    self.s.attempt_connected(now, a, l, r);
                }
            }
            Step::Failed(i, f) => {
                if let Some(a) = pick(&self.d.attempts, i) {
                    self.d.in_flight.retain(|x| *x != a);
                    self.s.attempt_failed(now, a, f.code());
                }
            }
            Step::Received(n) => {
                if self.d.reading {
                    let bytes = self.d.pattern(usize::from(n % 20_000) + 1);
                    // The core takes reported bytes in its next poll phase, in order, and
                    // drops the rest once the socket stops reading: 'data' must be a
                    // prefix of what was reported.
                    self.s.received(now, bytes.clone());
                    self.d.rx_taken.extend_from_slice(&bytes);
                }
            }
            Step::Eof => {
                if self.d.reading {
                    self.c.peer_fin();
                    self.s.eof(now);
                }
            }
            Step::ReadFailed(f) => self.s.read_failed(f.code()),
            Step::WriteDone(i) => {
                if let Some(w) = pick(&self.d.writes, i) {
                    self.s.write_done(now, w);
                }
            }
            Step::WriteFailed(f) => self.s.write_failed(f.code()),
            Step::ShutdownDone => {
                // The FIN went out: nothing to report (Node ignores the status).
            }
            Step::Stale(x) => {
                let x = x | (1 << 63);
                self.s.attempt_connected(now, AttemptId(x), None, None);
                self.s.attempt_failed(now, AttemptId(x), Code::Econnrefused);
                self.s.write_done(now, WriteId(x));
                self.s.lookup_done(now, LookupId(x), Ok(vec![]));
                assert!(
                    self.s.poll_emitted().is_none(),
                    "a completion for an id never handed out had an effect"
                );
            }
            Step::Pull(p) => self.pull(p),
            Step::Getters => {
                let s = &mut self.s;
                let _ = (
                    s.remote_address(),
                    s.local_address(),
                    s.auto_select_family_attempted_addresses().map(<[_]>::len),
                    s.write_return_value(),
                    s.writable_need_drain(),
                    s.is_flowing(),
                    s.timeout(),
                    s.is_server_owned(),
                    s.allow_half_open(),
                    s.ready_state().as_str(),
                    s.is_idle(),
                    s.ticks_drained(),
                );
            }
        }
        self.emitted();
        self.consistent();
    }

    fn advance(&mut self, by: u64) {
        self.d.now = self.d.now.saturating_add(by);
        let now = self.now();
        self.s.handle_timeout(now);
        check::deadline_after(&self.s, now);
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = run_u(&mut u);
}

fn run_u(u: &mut Unstructured<'_>) -> Result<()> {
    let birth: Birth = u.arbitrary()?;
    let (s, accepted) = match birth {
        Birth::Client { half_open, hwm } => (
            Socket::new(
                &SocketOptions::new()
                    .with_allow_half_open(half_open)
                    .with_high_water_mark(usize::from(hwm)),
            ),
            false,
        ),
        Birth::Accepted {
            half_open,
            pause,
            no_delay,
            keep_alive,
            hwm,
            ipc,
        } => {
            let mut cfg = ServerOptions::new();
            cfg.allow_half_open = half_open;
            cfg.pause_on_connect = pause;
            cfg.no_delay = no_delay;
            cfg.keep_alive = keep_alive;
            cfg.high_water_mark = usize::from(hwm);
            let (l, r) = if ipc {
                (None, None)
            } else {
                (
                    Some("127.0.0.1:80".parse().unwrap_or_else(|_| unreachable!())),
                    Some("127.0.0.1:50000".parse().unwrap_or_else(|_| unreachable!())),
                )
            };
            (Socket::accepted(&cfg, l, r, ipc), true)
        }
    };
    let mut h = Harness {
        s,
        d: Driver::default(),
        c: SocketChecker::new(accepted).with_fin_tracking(),
        aborted: false,
    };
    h.emitted();
    let mut steps = 0;
    while !u.is_empty() && steps < 256 {
        let Ok(st) = u.arbitrary::<Step>() else { break };
        h.step(st);
        steps += 1;
    }
    h.pull(Pull::All);
    h.consistent();
    h.c.settled(h.s.destroyed());
    Ok(())
}

/// The steps an input decodes to (for reading a crash).
pub fn decode(data: &[u8]) -> String {
    let mut u = Unstructured::new(data);
    let mut out = String::new();
    if let Ok(b) = u.arbitrary::<Birth>() {
        out.push_str(&format!("{b:?}\n"));
    }
    let mut steps = 0;
    while !u.is_empty() && steps < 256 {
        match u.arbitrary::<Step>() {
            Ok(s) => out.push_str(&format!("{s:?}\n")),
            Err(_) => break,
        }
        steps += 1;
    }
    out
}
