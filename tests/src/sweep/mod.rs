//! The seeded fault sweep (`sim-sweep`): random workloads of many sockets and servers on
//! [`sansnet::sim::Sim`], with faults drawn from the seed (latency, resets, half-closes,
//! refusals, black holes, partitions, slow readers, DNS failures, peers vanishing in the
//! middle of a write, and every application call), checked after every step by
//! [`SimChecker`] (the invariants shared with the fuzz targets). A seed is a complete
//! replay: the same seed gives the same trace, whose hash [`run_seed`] returns.

mod ops;
pub mod workload;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::IpAddr;

use sansnet::server::BoundAddress;
use sansnet::sim::check::{SimChecker, StreamStats};
use sansnet::sim::{Observed, Rng, ServerHandle, ServerObserved, Sim, SocketHandle};
use sansnet::socket::{LookupAnswer, SocketEvent};
use sansnet::{Duration, Instant};

use workload::Profile;

/// What one seed did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The hash of the whole trace (every operation, every observed event with its time,
    /// the final state of the simulator).
    pub hash: u64,
    /// Operations run.
    pub ops: usize,
    /// Events observed.
    pub events: u64,
    /// How often the byte rules applied.
    pub streams: StreamStats,
    /// `'connection'`, `'drop'` and server `'close'` events.
    pub servers: (usize, usize, usize),
}

/// FNV-1a over the trace text, fed as it is written.
#[derive(Debug)]
struct TraceHash(u64);

impl std::fmt::Write for TraceHash {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

const PATHS: [&str; 3] = ["/tmp/sweep-a.sock", "/tmp/sweep-b.sock", "\0sweep-abstract"];
const MAX_SERVERS: usize = 5;
const MAX_SOCKETS: usize = 24;

/// One run of a seed.
struct Run {
    sim: Sim,
    rng: Rng,
    check: SimChecker,
    servers: Vec<(ServerHandle, bool)>,
    sockets: Vec<SocketHandle>,
    /// Accepted sockets that echo what they read.
    echo: BTreeSet<usize>,
    blackhole: Option<(IpAddr, u16)>,
    counter: u8,
    hash: TraceHash,
    trace: bool,
    events: u64,
}

impl Run {
    fn new(seed: u64, trace: bool) -> Run {
        let mut sim = Sim::new(seed);
        let answer = |address: &str, family| LookupAnswer {
            address: address.into(),
            family,
        };
        sim.set_dns("dual.test", vec![answer("::1", 6), answer("127.0.0.1", 4)]);
        sim.set_dns("v4.test", vec![answer("127.0.0.1", 4)]);
        sim.set_dns("empty.test", vec![]);
        sim.set_dns("far.test", vec![answer("192.0.2.7", 4)]);
        Run {
            sim,
            // The workload's own stream, apart from the simulator's.
            rng: Rng::new(seed ^ 0x5357_4545_5021_u64),
            check: SimChecker::new(),
            servers: Vec::new(),
            sockets: Vec::new(),
            echo: BTreeSet::new(),
            blackhole: None,
            counter: 0,
            hash: TraceHash(0xcbf2_9ce4_8422_2325),
            trace,
            events: 0,
        }
    }

    fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = self.hash.write_fmt(args);
        let _ = self.hash.write_char('\n');
        if self.trace {
            eprintln!("{args}");
        }
    }

    fn pattern(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.counter = self.counter.wrapping_add(1);
                self.counter
            })
            .collect()
    }

    /// Takes and checks what was observed, and lets the applications react (greet a new
    /// connection, write once connected, echo what they read, give up on a timeout, end a
    /// half-open side), until nothing is left.
    fn observe(&mut self) {
        for _ in 0..100_000 {
            let seen = self.check.observe_all(&mut self.sim);
            if seen.is_empty() {
                return;
            }
            for o in seen {
                self.events += 1;
                self.line(format_args!("{:?} {o:?}", self.sim.now()));
                self.react(o);
            }
        }
        panic!("the applications' reactions do not settle");
    }

    fn react(&mut self, o: Observed) {
        match o {
            Observed::Server(h, ServerObserved::Connection(sh)) => {
                self.sockets.push(sh);
                if self.servers.iter().any(|&(s, echo)| s == h && echo) {
                    self.echo.insert(sh.0);
                }
                if self.rng.below(4) == 0 {
                    let n = 1 + self.rng.below(64) as usize;
                    let greeting = self.pattern(n);
                    self.write(sh, Some(greeting), false);
                }
            }
            Observed::Socket(h, SocketEvent::Connect) if self.rng.below(2) == 0 => {
                let n = self.rng.below(2048) as usize;
                let hello = self.pattern(n);
                self.write(h, Some(hello), false);
            }
            Observed::Socket(h, SocketEvent::Data(bytes)) if self.echo.contains(&h.0) => {
                let s = self.sim.socket_ref(h);
                if s.writable() && !s.destroyed() {
                    self.write(h, Some(bytes), false);
                }
            }
            Observed::Socket(h, SocketEvent::Timeout) if self.rng.below(2) == 0 => {
                self.sim.socket(h, |s, _| s.destroy(None));
            }
            Observed::Socket(h, SocketEvent::End) if self.rng.below(3) == 0 => {
                self.write(h, None, true);
            }
            _ => {}
        }
    }

    /// `write(bytes)`, or `end([bytes])` with `end`, under the checker.
    fn write(&mut self, h: SocketHandle, bytes: Option<Vec<u8>>, end: bool) {
        self.check.write(&mut self.sim, h, bytes, end);
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
                turns < 500_000,
                "the loop does not settle: {turns} turns before {limit:?} (now {:?})",
                self.sim.now()
            );
        }
        self.observe();
        self.check.reached(&mut self.sim, limit);
    }

    /// Socket `i`: two times in three one that is not destroyed, when there is one (the
    /// calls and faults matter most on live sockets), else any.
    fn socket(&self, i: usize) -> Option<SocketHandle> {
        if i % 3 != 0 {
            let live: Vec<SocketHandle> = self
                .sockets
                .iter()
                .copied()
                .filter(|&h| !self.sim.socket_ref(h).destroyed())
                .collect();
            if !live.is_empty() {
                return Some(live[i / 3 % live.len()]);
            }
        }
        (!self.sockets.is_empty()).then(|| self.sockets[i % self.sockets.len()])
    }

    fn server(&self, i: usize) -> Option<ServerHandle> {
        (!self.servers.is_empty()).then(|| self.servers[i % self.servers.len()].0)
    }

    /// Socket `i` for a connect: three times in four one that is destroyed or was never
    /// connected (a reconnect or a first connect), when there is one, else any.
    fn idle_socket(&self, i: usize) -> Option<SocketHandle> {
        if i % 4 != 0 {
            let idle: Vec<SocketHandle> = self
                .sockets
                .iter()
                .copied()
                .filter(|&h| {
                    let s = self.sim.socket_ref(h);
                    s.destroyed() || (s.pending() && !s.connecting())
                })
                .collect();
            if !idle.is_empty() {
                return Some(idle[i / 4 % idle.len()]);
            }
        }
        (!self.sockets.is_empty()).then(|| self.sockets[i % self.sockets.len()])
    }

    /// The port of server `i`; most of the time a listening server's when there is one
    /// (connections are what the faults act on), else whatever `i` names.
    fn server_port(&self, i: usize) -> u16 {
        let listening: Vec<ServerHandle> = self
            .servers
            .iter()
            .map(|s| s.0)
            .filter(|&h| self.sim.server_ref(h).address().is_some())
            .collect();
        let h = if !listening.is_empty() && i % 4 != 0 {
            Some(listening[i % listening.len()])
        } else {
            self.server(i)
        };
        match h.and_then(|h| self.sim.server_ref(h).address()) {
            Some(BoundAddress::Tcp(a)) => a.port(),
            _ => 1,
        }
    }

    /// The socket at the other end of `h`'s connection, if it still has one.
    fn peer(&self, h: SocketHandle) -> Option<SocketHandle> {
        let ep = self.sim.endpoint_of(h)?;
        self.sockets
            .iter()
            .copied()
            .find(|&p| self.sim.endpoint_of(p) == Some(ep ^ 1))
    }

    fn finish(&mut self) {
        // Every reader resumes, then the loop settles (idle timers may keep firing: a
        // bounded horizon); then the final rules, and the final state into the hash.
        for h in self.sockets.clone() {
            if !self.sim.socket_ref(h).destroyed() {
                self.sim.socket(h, |s, _| s.resume());
            }
        }
        let limit = self.sim.now() + Duration::from_secs(600);
        self.run_until(limit);
        self.check.settled(&self.sim);
        let _ = write!(self.hash, "final {:?}", self.sim);
    }
}

/// Runs one seed; panics (with the broken rule) when an invariant breaks. With `trace`,
/// prints every operation and observed event to stderr.
pub fn run_seed(seed: u64, trace: bool) -> Outcome {
    let mut r = Run::new(seed, trace);
    let profile = Profile::new(&mut r.rng);
    r.line(format_args!("seed {seed} {profile:?}"));
    let setup = profile.setup(&mut r.rng);
    for op in &setup {
        r.line(format_args!("> {op:?}"));
        r.op(op);
        r.observe();
        r.check.states(&r.sim, false);
    }
    for _ in 0..profile.ops {
        let op = profile.op(&mut r.rng, r.servers.len(), r.sockets.len());
        r.line(format_args!("> {op:?}"));
        r.op(&op);
        r.observe();
        r.check.states(&r.sim, false);
    }
    r.finish();
    Outcome {
        hash: r.hash.0,
        ops: profile.ops,
        events: r.events,
        streams: r.check.stats,
        servers: r.check.server_counts(),
    }
}
