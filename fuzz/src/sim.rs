//! The `sim` target: a small arbitrary program against [`Sim`] (servers and sockets
//! created, listening, connecting, writing, ending, destroying, pausing, time passing) and
//! a seed. Nothing may panic; every socket, server and connection keeps the invariants of
//! [`sansnet::sim::check::SimChecker`]; the loop makes progress
//! (a bounded number of turns per step); and the run is deterministic: the same program
//! and seed run twice give the same observed events and the same final simulator state
//! (compared as `Debug` text).

use arbitrary::{Arbitrary, Result, Unstructured};
use sansnet::blocklist::BlockList;
use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::server::{BoundAddress, Server};
use sansnet::sim::check::SimChecker;
use sansnet::sim::{Observed, ServerHandle, ServerObserved, Sim, SocketHandle};
use sansnet::socket::{LookupAnswer, Socket};
use sansnet::{Duration, Instant, NetError};

/// Where a connect goes.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Dest {
    /// The port of server `n` (whatever it listens on), on `127.0.0.1`.
    ServerV4(u8),
    /// The port of server `n`, on `::1`.
    ServerV6(u8),
    /// The port of server `n`, by the name `dual.test` (both families).
    ServerName(u8),
    /// The port of server `n`, by `localhost`.
    ServerLocalhost(u8),
    /// The unix path of server `n`, if it has one.
    ServerPath(u8),
    /// An arbitrary port on `127.0.0.1`.
    Port(u16),
    /// A name that does not resolve.
    Unknown,
    /// The last black hole.
    Blackhole,
}

/// Where a server listens.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Where {
    /// Any address, any port.
    Any,
    /// `127.0.0.1`, any port.
    V4,
    /// `::1`, any port.
    V6,
    /// By name, any port.
    Name,
    /// A port some other server may hold (`EADDRINUSE`).
    Fixed(u8),
    /// A non-local address (`EADDRNOTAVAIL`).
    Remote,
    /// A unix path (`n` of a few).
    Path(u8),
}

/// One operation.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// `net.createServer(options)`.
    NewServer {
        /// `pauseOnConnect`.
        pause: bool,
        /// `allowHalfOpen`.
        half_open: bool,
        /// `maxConnections`.
        max: Option<u8>,
        /// A blockList denying `::1`.
        block: bool,
    },
    /// `server.listen(...)`.
    Listen(u8, Where),
    /// `server.close()`.
    CloseServer(u8),
    /// `new net.Socket(options)`.
    NewSocket {
        /// `allowHalfOpen`.
        half_open: bool,
        /// The high-water mark (small: back-pressure).
        hwm: u16,
    },
    /// `socket.connect(...)`.
    Connect {
        /// The socket.
        socket: u8,
        /// Where.
        dest: Dest,
        /// `autoSelectFamily`.
        auto_select: Option<bool>,
        /// `timeout` in ms.
        timeout: Option<u8>,
    },
    /// `socket.write(bytes)`.
    Write(u8, u16),
    /// `socket.end([data])`.
    End(u8, Option<u8>),
    /// `socket.destroy([err])`.
    Destroy(u8, bool),
    /// `socket.destroySoon()`.
    DestroySoon(u8),
    /// `socket.resetAndDestroy()`.
    Reset(u8),
    /// `socket.pause()`.
    Pause(u8),
    /// `socket.resume()`.
    Resume(u8),
    /// `socket.setTimeout(ms)`.
    SetTimeout(u8, u8),
    /// A black hole on `127.0.0.1` or `::1`.
    Blackhole(bool),
    /// Let the loop run for `ms` milliseconds of virtual time.
    Advance(u16),
    /// One turn of the loop, up to the current time.
    Turn,
    /// `turn_immediate`.
    TurnImmediate,
}

/// A program: a seed and operations.
#[derive(Debug)]
pub struct Program {
    seed: u64,
    ops: Vec<Op>,
}

impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Program> {
        let seed = u.arbitrary()?;
        let mut ops = Vec::new();
        while !u.is_empty() && ops.len() < 64 {
            match u.arbitrary() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        Ok(Program { seed, ops })
    }
}

const PATHS: [&str; 3] = ["/tmp/fuzz-a.sock", "/tmp/fuzz-b.sock", "\0fuzz-abstract"];

/// One run of a program, recording what was observed.
struct Run {
    sim: Sim,
    servers: Vec<ServerHandle>,
    sockets: Vec<SocketHandle>,
    check: SimChecker,
    blackhole: Option<(std::net::IpAddr, u16)>,
    log: String,
    trace: bool,
    counter: u8,
}

impl Run {
    fn new(seed: u64) -> Run {
        let mut sim = Sim::new(seed);
        let v4 = LookupAnswer {
            address: "127.0.0.1".into(),
            family: 4,
        };
        let v6 = LookupAnswer {
            address: "::1".into(),
            family: 6,
        };
        sim.set_dns("dual.test", vec![v6.clone(), v4.clone()]);
        sim.set_dns("srv.test", vec![v4]);
        Run {
            sim,
            servers: Vec::new(),
            sockets: Vec::new(),
            check: SimChecker::new(),
            blackhole: None,
            log: String::new(),
            trace: std::env::var_os("SANSNET_FUZZ_TRACE").is_some_and(|v| v == "1"),
            counter: 0,
        }
    }

    /// Appends a line to the log (and prints it with `SANSNET_FUZZ_TRACE=1`).
    fn line(&mut self, line: String) {
        if self.trace {
            eprintln!("{line}");
        }
        self.log.push_str(&line);
        self.log.push('\n');
    }

    fn socket(&self, i: u8) -> Option<SocketHandle> {
        (!self.sockets.is_empty()).then(|| self.sockets[usize::from(i) % self.sockets.len()])
    }

    fn server(&self, i: u8) -> Option<ServerHandle> {
        (!self.servers.is_empty()).then(|| self.servers[usize::from(i) % self.servers.len()])
    }

    fn server_port(&self, i: u8) -> u16 {
        match self
            .server(i)
            .and_then(|h| self.sim.server_ref(h).address())
        {
            Some(BoundAddress::Tcp(a)) => a.port(),
            _ => 1,
        }
    }

    fn observe(&mut self) {
        for o in self.check.observe_all(&mut self.sim) {
            self.line(format!("{:?} {o:?}", self.sim.now()));
            if let Observed::Server(_, ServerObserved::Connection(sh)) = o {
                self.sockets.push(sh);
            }
        }
    }

    /// Runs the loop up to `limit`, with a bound on the turns (no livelock).
    fn run_until(&mut self, limit: Instant) {
        let mut turns = 0u32;
        loop {
            self.observe();
            if !self.sim.turn(limit) {
                break;
            }
            turns += 1;
            assert!(
                turns < 200_000,
                "the loop does not settle: {turns} turns before {limit:?} (now {:?})",
                self.sim.now()
            );
        }
        self.observe();
        self.check.reached(&mut self.sim, limit);
    }

    fn pattern(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.counter = self.counter.wrapping_add(1);
                self.counter
            })
            .collect()
    }

    fn op(&mut self, op: &Op) {
        match *op {
            Op::NewServer {
                pause,
                half_open,
                max,
                block,
            } => {
                if self.servers.len() < 4 {
                    let mut cfg = ServerOptions::new();
                    cfg.pause_on_connect = pause;
                    cfg.allow_half_open = half_open;
                    if block {
                        let mut list = BlockList::new();
                        list.add_address(std::net::Ipv6Addr::LOCALHOST.into());
                        cfg.block_list = Some(list);
                    }
                    let list = cfg.block_list.clone();
                    let mut s = Server::new(cfg);
                    s.max_connections = max.map(u32::from);
                    let h = self.sim.add_server(s);
                    self.check.add_server(h, list);
                    self.servers.push(h);
                }
            }
            Op::Listen(i, w) => {
                if let Some(h) = self.server(i) {
                    let opts = match w {
                        Where::Any => ListenOptions::tcp(None, 0),
                        Where::V4 => ListenOptions::tcp(Some("127.0.0.1".into()), 0),
                        Where::V6 => ListenOptions::tcp(Some("::1".into()), 0),
                        Where::Name => ListenOptions::tcp(Some("srv.test".into()), 0),
                        Where::Fixed(j) => ListenOptions::tcp(None, self.server_port(j)),
                        Where::Remote => ListenOptions::tcp(Some("192.0.2.1".into()), 0),
                        Where::Path(j) => ListenOptions::ipc(PATHS[usize::from(j) % PATHS.len()]),
                    };
                    let r = self.sim.server(h, |s| s.listen(opts));
                    self.line(format!("listen {r:?}"));
                }
            }
            Op::CloseServer(i) => {
                if let Some(h) = self.server(i) {
                    self.sim.server(h, Server::close);
                }
            }
            Op::NewSocket { half_open, hwm } => {
                if self.sockets.len() < 12 {
                    let opts = SocketOptions::new()
                        .with_allow_half_open(half_open)
                        .with_high_water_mark(usize::from(hwm));
                    let h = self.sim.add_socket(Socket::new(&opts), None);
                    self.sockets.push(h);
                    self.check.add_socket(h);
                }
            }
            Op::Connect {
                socket,
                dest,
                auto_select,
                timeout,
            } => {
                let Some(h) = self.socket(socket) else { return };
                let mut opts = match dest {
                    Dest::ServerV4(j) => ConnectOptions::tcp("127.0.0.1", self.server_port(j)),
                    Dest::ServerV6(j) => ConnectOptions::tcp("::1", self.server_port(j)),
                    Dest::ServerName(j) => ConnectOptions::tcp("dual.test", self.server_port(j)),
                    Dest::ServerLocalhost(j) => {
                        ConnectOptions::tcp("localhost", self.server_port(j))
                    }
                    Dest::ServerPath(j) => {
                        match self
                            .server(j)
                            .and_then(|s| self.sim.server_ref(s).address())
                        {
                            Some(BoundAddress::Ipc(p)) => ConnectOptions::ipc(p),
                            _ => ConnectOptions::ipc(PATHS[usize::from(j) % PATHS.len()]),
                        }
                    }
                    Dest::Port(p) => ConnectOptions::tcp("127.0.0.1", p),
                    Dest::Unknown => ConnectOptions::tcp("nowhere.test", 80),
                    Dest::Blackhole => match self.blackhole {
                        Some((ip, port)) => ConnectOptions::tcp(ip.to_string(), port),
                        None => ConnectOptions::tcp("127.0.0.1", 9),
                    },
                };
                if let Some(a) = auto_select {
                    opts = opts.with_auto_select_family(a);
                }
                opts = opts.with_timeout(timeout.map(|t| Duration::from_millis(u64::from(t))));
                if self.sim.socket_ref(h).destroyed() {
                    // Outputs the old life emitted and the simulator has not carried out
                    // yet (a turn stops at the first event) belong to the old life: let
                    // them out before the reuse starts a new one.
                    self.sim.socket(h, |_, _| ());
                    self.observe();
                    self.check.new_life(h);
                }
                self.sim.socket(h, |s, now| s.connect(now, &opts));
            }
            Op::Write(i, n) => {
                if let Some(h) = self.socket(i) {
                    let bytes = self.pattern(usize::from(n % 4096));
                    self.write(h, Some(bytes), false);
                }
            }
            Op::End(i, data) => {
                if let Some(h) = self.socket(i) {
                    let bytes = data.map(|n| self.pattern(usize::from(n)));
                    self.write(h, bytes, true);
                }
            }
            Op::Destroy(i, err) => {
                if let Some(h) = self.socket(i) {
                    let e = err.then(|| NetError::custom("EFUZZ", "fuzz"));
                    self.sim.socket(h, |s, _| s.destroy(e));
                }
            }
            Op::DestroySoon(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, now| s.destroy_soon(now));
                }
            }
            Op::Reset(i) => {
                if let Some(h) = self.socket(i) {
                    let r = self.sim.socket(h, |s, _| s.reset_and_destroy());
                    self.line(format!("resetAndDestroy {r:?}"));
                }
            }
            Op::Pause(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, _| s.pause());
                }
            }
            Op::Resume(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, _| s.resume());
                }
            }
            Op::SetTimeout(i, ms) => {
                if let Some(h) = self.socket(i) {
                    let d = Duration::from_millis(u64::from(ms));
                    self.sim.socket(h, |s, now| s.set_timeout(now, d));
                }
            }
            Op::Blackhole(v6) => {
                let ip: std::net::IpAddr = if v6 {
                    std::net::Ipv6Addr::LOCALHOST.into()
                } else {
                    [127, 0, 0, 1].into()
                };
                let port = self.sim.blackhole(ip);
                self.blackhole = Some((ip, port));
            }
            Op::Advance(ms) => {
                let limit = self.sim.now() + Duration::from_millis(u64::from(ms));
                self.run_until(limit);
            }
            Op::Turn => {
                let now = self.sim.now();
                self.sim.turn(now);
            }
            Op::TurnImmediate => {
                self.sim.turn_immediate();
            }
        }
        self.observe();
    }

    /// `write(bytes)`, or `end([bytes])` with `end`, under the checker.
    fn write(&mut self, h: SocketHandle, bytes: Option<Vec<u8>>, end: bool) {
        self.check.write(&mut self.sim, h, bytes, end);
    }

    fn finish(&mut self) {
        // Let everything settle (idle timers may keep firing: a bounded horizon).
        let limit = self.sim.now() + Duration::from_secs(600);
        self.run_until(limit);
        self.check.settled(&self.sim);
        self.line(format!("final {:?}", self.sim));
    }
}

/// Runs a program once; returns its log (every observed event, the final state).
pub fn run_program(p: &Program) -> String {
    let mut r = Run::new(p.seed);
    for op in &p.ops {
        r.line(format!("> {op:?}"));
        r.op(op);
    }
    r.finish();
    r.log
}

/// Runs one input: the program twice, compared.
pub fn run(data: &[u8]) {
    let Ok(p) = Program::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let a = run_program(&p);
    let b = run_program(&p);
    if a != b {
        let line = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "two runs of the same program (seed {}) differ from line {line}:\n{}\n---\n{}",
            p.seed,
            a.lines().nth(line).unwrap_or(""),
            b.lines().nth(line).unwrap_or("")
        );
    }
}

/// The program an input decodes to.
pub fn decode(data: &[u8]) -> String {
    let u = Unstructured::new(data);
    match Program::arbitrary_take_rest(u) {
        Ok(p) => format!("{p:#?}"),
        Err(e) => format!("undecodable: {e}"),
    }
}
