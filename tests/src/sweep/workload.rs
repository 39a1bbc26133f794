//! What a seed stands for: a fault profile and a stream of operations, drawn from a
//! SplitMix64 generator ([`sansnet::sim::Rng`]) so that a seed is a complete replay.

use sansnet::sim::Rng;

/// Where a connect goes.
#[derive(Clone, Copy, Debug)]
pub enum Dest {
    /// Server `n`'s port on `127.0.0.1`.
    V4(usize),
    /// Server `n`'s port on `::1`.
    V6(usize),
    /// Server `n`'s port by `dual.test` (both families, happy eyeballs).
    Dual(usize),
    /// Server `n`'s port by `localhost`.
    Localhost(usize),
    /// Server `n`'s unix path (or a path nobody listens on).
    Path(usize),
    /// A port nobody listens on (refused).
    Refused(u16),
    /// A name that does not resolve (`ENOTFOUND`).
    Unknown,
    /// A name that resolves to no address.
    Empty,
    /// A name that resolves to an address that is not on this machine (refused).
    Far,
    /// The last black hole.
    Blackhole,
    /// Server `n`'s port, with a custom lookup answering odd families.
    OddLookup(usize),
}

/// Where a server listens.
#[derive(Clone, Copy, Debug)]
pub enum Where {
    /// Any address, any port.
    Any,
    /// `127.0.0.1`.
    V4,
    /// `::1`.
    V6,
    /// By name (`v4.test`).
    Name,
    /// The port of server `n` (`EADDRINUSE` while it holds it).
    PortOf(usize),
    /// A non-local address (`EADDRNOTAVAIL`).
    Remote,
    /// Unix path `n`.
    Path(usize),
    /// A name that does not resolve.
    Unknown,
}

/// One operation of the application or of the network.
#[derive(Clone, Debug)]
pub enum Op {
    /// `net.createServer(options)`, `server.maxConnections`.
    NewServer {
        /// `pauseOnConnect`.
        pause: bool,
        /// `allowHalfOpen`.
        half_open: bool,
        /// `maxConnections`.
        max: Option<u32>,
        /// A blockList denying `::1` (1), `127.0.0.1` (2) or none (0).
        block: u8,
        /// The accepted sockets echo what they read.
        echo: bool,
    },
    /// `server.listen(...)`.
    Listen(usize, Where),
    /// `server.close()`.
    CloseServer(usize),
    /// `server.maxConnections = n`.
    SetMax(usize, Option<u32>),
    /// `new net.Socket(options)`.
    NewSocket {
        /// `allowHalfOpen`.
        half_open: bool,
        /// The high-water mark.
        hwm: usize,
        /// A blockList denying `::1` on the client.
        block: bool,
    },
    /// `socket.connect(...)`.
    Connect {
        /// The socket.
        socket: usize,
        /// Where.
        dest: Dest,
        /// `autoSelectFamily`.
        auto_select: Option<bool>,
        /// `timeout` (ms).
        timeout: Option<u64>,
    },
    /// `socket.write(n bytes)`.
    Write(usize, usize),
    /// `socket.end([n bytes])`.
    End(usize, Option<usize>),
    /// `socket.destroy([err])`.
    Destroy(usize, bool),
    /// `socket.destroySoon()`.
    DestroySoon(usize),
    /// `socket.resetAndDestroy()`.
    Reset(usize),
    /// `socket.pause()` (a slow reader).
    Pause(usize),
    /// `socket.resume()`.
    Resume(usize),
    /// `socket.setTimeout(ms)`.
    SetTimeout(usize, u64),
    /// `setNoDelay` / `setKeepAlive`.
    Tune(usize, bool),
    /// The peer of a socket that has writes queued vanishes (destroyed or reset).
    Vanish(usize, bool),
    /// A black hole on `127.0.0.1` or `::1`.
    Blackhole(bool),
    /// Cut `127.0.0.1` or `::1` off (`true`) or heal it.
    Partition(bool, bool),
    /// Connects and lookups take this long from now on (ms).
    Latency(u64),
    /// The loop runs for this many ms.
    Advance(u64),
    /// One turn of the loop.
    Turn,
    /// Up to the next check phase (`setImmediate`).
    TurnImmediate,
}

/// How a seed weighs the operations: each seed stresses a different mix of faults.
#[derive(Clone, Debug)]
pub struct Profile {
    /// How many operations.
    pub ops: usize,
    /// Weights of the operation groups (see [`Profile::op`]).
    weights: [u64; 12],
    /// The largest write.
    pub max_write: usize,
}

impl Profile {
    /// The profile of a seed.
    pub fn new(rng: &mut Rng) -> Profile {
        let mut weights = [0u64; 12];
        for w in &mut weights {
            // Some groups are off for a seed, others heavy.
            *w = match rng.below(4) {
                0 => 0,
                1 => 1,
                2 => 3,
                _ => 8,
            };
        }
        // Connects, writes and time are always there.
        weights[1] += 4;
        weights[2] += 4;
        weights[10] += 4;
        let max_write = match rng.below(4) {
            0 => 64,
            1 => 4096,
            2 => 65_536,
            _ => 1 << 20,
        };
        Profile {
            ops: 40 + rng.below(260) as usize,
            weights,
            max_write,
        }
    }

    /// The first operations: a few servers listening, a few sockets connected to them
    /// (the faults then act on live connections).
    pub fn setup(&self, rng: &mut Rng) -> Vec<Op> {
        let mut ops = Vec::new();
        let mut places = Vec::new();
        let servers = 1 + rng.below(3) as usize;
        for i in 0..servers {
            ops.push(Op::NewServer {
                pause: rng.below(5) == 0,
                half_open: rng.below(3) == 0,
                max: (rng.below(4) == 0).then(|| 1 + rng.below(3) as u32),
                block: rng.below(6).saturating_sub(3) as u8,
                echo: rng.below(2) == 0,
            });
            let place = [Where::Any, Where::V4, Where::V6, Where::Path(i)][rng.below(4) as usize];
            ops.push(Op::Listen(i, place));
            places.push(place);
        }
        let sockets = 1 + rng.below(6) as usize;
        for i in 0..sockets {
            ops.push(Op::NewSocket {
                half_open: rng.below(3) == 0,
                hwm: [16, 1024, 16_384][rng.below(3) as usize],
                block: false,
            });
            let j = rng.below(servers as u64) as usize;
            let dest = match places[j] {
                Where::Path(_) => Dest::Path(j),
                Where::V6 => Dest::V6(j),
                Where::Any if rng.below(2) == 0 => Dest::Dual(j),
                _ => Dest::V4(j),
            };
            ops.push(Op::Connect {
                // The i-th socket never connected (see `Run::idle_socket`): this one.
                socket: 4 * i + 1,
                dest,
                auto_select: None,
                timeout: None,
            });
        }
        ops.push(Op::Advance(1));
        ops
    }

    /// The next operation, for a program with `servers` servers and `sockets` sockets.
    pub fn op(&self, rng: &mut Rng, servers: usize, sockets: usize) -> Op {
        let total: u64 = self.weights.iter().sum();
        let mut x = rng.below(total);
        let mut group = 0;
        while x >= self.weights[group] {
            x -= self.weights[group];
            group += 1;
        }
        let s = |rng: &mut Rng| rng.below(1 << 20) as usize;
        let v = |rng: &mut Rng| rng.below(servers.max(1) as u64) as usize;
        let ms = |rng: &mut Rng| match rng.below(4) {
            0 => rng.below(3),
            1 => rng.below(50),
            2 => rng.below(1000),
            _ => rng.below(20_000),
        };
        match group {
            0 => match rng.below(6) {
                0 | 1 => Op::NewServer {
                    pause: rng.below(4) == 0,
                    half_open: rng.below(3) == 0,
                    max: (rng.below(3) == 0).then(|| rng.below(4) as u32),
                    block: rng.below(5).saturating_sub(2) as u8,
                    echo: rng.below(2) == 0,
                },
                2 | 3 => Op::Listen(v(rng), self.place(rng, servers)),
                4 => Op::CloseServer(v(rng)),
                _ => Op::SetMax(v(rng), (rng.below(2) == 0).then(|| rng.below(5) as u32)),
            },
            1 => {
                if sockets == 0 || rng.below(4) == 0 {
                    Op::NewSocket {
                        half_open: rng.below(3) == 0,
                        hwm: [1, 16, 1024, 16_384, 65_536][rng.below(5) as usize],
                        block: rng.below(8) == 0,
                    }
                } else {
                    Op::Connect {
                        socket: s(rng),
                        dest: self.dest(rng, servers),
                        auto_select: [None, Some(true), Some(false)][rng.below(3) as usize],
                        timeout: (rng.below(3) == 0).then(|| 1 + ms(rng)),
                    }
                }
            }
            2 => {
                let n = self.size(rng);
                Op::Write(s(rng), n)
            }
            3 => {
                let n = (rng.below(2) == 0).then(|| self.size(rng));
                Op::End(s(rng), n)
            }
            4 => match rng.below(3) {
                0 => Op::Destroy(s(rng), rng.below(2) == 0),
                1 => Op::DestroySoon(s(rng)),
                _ => Op::Reset(s(rng)),
            },
            5 => match rng.below(2) {
                0 => Op::Pause(s(rng)),
                _ => Op::Resume(s(rng)),
            },
            6 => match rng.below(2) {
                0 => Op::SetTimeout(s(rng), ms(rng)),
                _ => Op::Tune(s(rng), rng.below(2) == 0),
            },
            7 => Op::Vanish(s(rng), rng.below(2) == 0),
            8 => match rng.below(4) {
                0 => Op::Blackhole(rng.below(2) == 0),
                1 | 2 => Op::Partition(rng.below(2) == 0, rng.below(2) == 0),
                _ => Op::Latency([0, 0, 1, 5, 40][rng.below(5) as usize]),
            },
            9 => match rng.below(2) {
                0 => Op::Turn,
                _ => Op::TurnImmediate,
            },
            _ => Op::Advance(ms(rng)),
        }
    }

    fn size(&self, rng: &mut Rng) -> usize {
        match rng.below(3) {
            0 => rng.below(17) as usize,
            1 => rng.below(self.max_write.min(2048) as u64 + 1) as usize,
            _ => rng.below(self.max_write as u64 + 1) as usize,
        }
    }

    fn place(&self, rng: &mut Rng, servers: usize) -> Where {
        match rng.below(10) {
            0..=2 => Where::Any,
            3 => Where::V4,
            4 => Where::V6,
            5 => Where::Name,
            6 => Where::PortOf(rng.below(servers.max(1) as u64) as usize),
            7 => Where::Remote,
            8 => Where::Path(rng.below(3) as usize),
            _ => Where::Unknown,
        }
    }

    fn dest(&self, rng: &mut Rng, servers: usize) -> Dest {
        let v = rng.below(servers.max(1) as u64) as usize;
        match rng.below(16) {
            0..=3 => Dest::V4(v),
            4 | 5 => Dest::V6(v),
            6 | 7 => Dest::Dual(v),
            8 => Dest::Localhost(v),
            9 => Dest::Path(v),
            10 => Dest::Refused(1 + rng.below(1000) as u16),
            11 => Dest::Unknown,
            12 => Dest::Empty,
            13 => Dest::Far,
            14 => Dest::Blackhole,
            _ => Dest::OddLookup(v),
        }
    }
}
