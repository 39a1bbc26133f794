//! The load generator: one blocking `std::net` client for every server, loopback only.
//! Every socket operation has a timeout ([`IO_TIMEOUT`]) and every workload a fixed count,
//! so a stalled server fails a measurement instead of hanging the run.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::servers::{cpu_time, rss_kib, ServerProcess};
use crate::stats::Percentiles;

/// The longest any single connect, read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// How long to let a server settle before reading its memory.
const SETTLE: Duration = Duration::from_millis(300);

/// A workload, as a row of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    /// One connection echoing [`Params::bulk_bytes`] in [`Params::chunk`]-byte writes.
    Throughput,
    /// [`Params::bulk_bytes`] echoed over [`Params::parallel`] connections at once.
    ParallelThroughput,
    /// [`Params::rounds`] round trips of [`Params::message`] bytes on one connection.
    Latency,
    /// Round trips on [`Params::ping_conns`] connections at once, [`Params::rounds`] in
    /// all; also the percentiles of the round trips' times.
    PingPong,
    /// [`Params::connections`] sequential connect–write–read–close cycles.
    ConnectionRate,
    /// Server memory per connection with [`Params::idle`] idle connections open.
    IdleMemory,
}

impl Workload {
    /// Every workload, in the table's row order.
    pub const ALL: [Workload; 6] = [
        Workload::Throughput,
        Workload::ParallelThroughput,
        Workload::Latency,
        Workload::PingPong,
        Workload::ConnectionRate,
        Workload::IdleMemory,
    ];

    /// The unit of a measurement.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::Throughput | Workload::ParallelThroughput => "MB/s",
            Workload::Latency => "µs/round trip",
            Workload::PingPong => "round trips/s",
            Workload::ConnectionRate => "conn/s",
            Workload::IdleMemory => "KiB/conn",
        }
    }

    /// Whether a larger measurement is better.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Workload::Throughput
                | Workload::ParallelThroughput
                | Workload::PingPong
                | Workload::ConnectionRate
        )
    }

    /// A one-line description with the sizes in `p`.
    pub fn describe(self, p: &Params) -> String {
        match self {
            Workload::Throughput => format!(
                "(a) throughput: {} MiB in {} KiB writes, 1 conn",
                p.bulk_bytes >> 20,
                p.chunk >> 10
            ),
            Workload::ParallelThroughput => format!(
                "(a2) throughput: {} MiB in {} KiB writes, {} conns",
                p.bulk_bytes >> 20,
                p.chunk >> 10,
                p.parallel
            ),
            Workload::Latency => format!(
                "(b) latency: {} round trips of {} B, 1 conn",
                p.rounds, p.message
            ),
            Workload::PingPong => format!(
                "(b2) ping-pong: {} round trips of {} B, {} conns",
                p.rounds, p.message, p.ping_conns
            ),
            Workload::ConnectionRate => format!(
                "(c) connection rate: {} connect-write-read-close",
                p.connections
            ),
            Workload::IdleMemory => format!("(d) memory: {} idle conns, RSS delta", p.idle),
        }
    }

    /// The unit of the server's CPU time per operation, for the workloads that have one.
    pub fn cpu_unit(self) -> Option<&'static str> {
        match self {
            Workload::Throughput | Workload::ParallelThroughput => Some("µs/MB"),
            Workload::Latency | Workload::PingPong => Some("µs/round trip"),
            Workload::ConnectionRate => Some("µs/conn"),
            Workload::IdleMemory => None,
        }
    }

    /// How many operations (MB, round trips, connections) one run does.
    fn ops(self, p: &Params) -> f64 {
        match self {
            Workload::Throughput | Workload::ParallelThroughput => p.bulk_bytes as f64 / 1e6,
            Workload::Latency | Workload::PingPong => p.rounds as f64,
            Workload::ConnectionRate => p.connections as f64,
            Workload::IdleMemory => p.idle as f64,
        }
    }

    /// Whether a run also measures the percentiles of its round trips' times
    /// ([`Sample::round_trip`]).
    pub fn has_percentiles(self) -> bool {
        self == Workload::PingPong
    }

    /// Runs this workload once against `server`.
    pub fn run(self, server: &ServerProcess, p: &Params) -> io::Result<Sample> {
        self.run_at(server.addr(), Some(server.pid()), p)
    }

    /// Runs this workload once against the server at `addr` whose process is `pid` (needed
    /// by [`Workload::IdleMemory`], and for the server's CPU time).
    pub fn run_at(self, addr: SocketAddr, pid: Option<u32>, p: &Params) -> io::Result<Sample> {
        let cpu = |pid: Option<u32>| pid.and_then(|pid| cpu_time(pid).ok());
        let before = cpu(pid).filter(|_| self.cpu_unit().is_some());
        let (value, round_trip) = self.measure(addr, pid, p)?;
        let server_cpu = match (before, cpu(pid)) {
            (Some(b), Some(a)) => Some(a.saturating_sub(b).as_secs_f64() * 1e6 / self.ops(p)),
            _ => None,
        };
        Ok(Sample {
            value,
            server_cpu,
            round_trip,
        })
    }

    /// The measurement in [`Workload::unit`], and the round trips' percentiles for the
    /// workloads that have them.
    fn measure(
        self,
        addr: SocketAddr,
        pid: Option<u32>,
        p: &Params,
    ) -> io::Result<(f64, Option<Percentiles>)> {
        let value = match self {
            Workload::Throughput => throughput(addr, p.bulk_bytes, p.chunk),
            Workload::ParallelThroughput => {
                parallel_throughput(addr, p.bulk_bytes, p.chunk, p.parallel)
            }
            Workload::Latency => latency(addr, p.rounds, p.message),
            Workload::PingPong => {
                let (rate, round_trip) = ping_pong(addr, p.rounds, p.message, p.ping_conns)?;
                return Ok((rate, Some(round_trip)));
            }
            Workload::ConnectionRate => connection_rate(addr, p.connections, p.message),
            Workload::IdleMemory => match pid {
                Some(pid) => idle_memory(addr, pid, p.idle),
                None => Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the memory workload needs the server's process id",
                )),
            },
        };
        Ok((value?, None))
    }

    /// The short name `--only` takes.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Throughput => "throughput",
            Workload::ParallelThroughput => "parallel",
            Workload::Latency => "latency",
            Workload::PingPong => "pingpong",
            Workload::ConnectionRate => "connections",
            Workload::IdleMemory => "memory",
        }
    }
}

/// The result of one run of a workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The measurement, in [`Workload::unit`].
    pub value: f64,
    /// The CPU time the server process used during the run, per operation, in
    /// [`Workload::cpu_unit`]; `None` without a process id or for the memory workload.
    pub server_cpu: Option<f64>,
    /// The 50th and 99th percentiles of the time of every round trip of the run (all
    /// connections together), µs; only for the workloads with
    /// [`Workload::has_percentiles`].
    pub round_trip: Option<Percentiles>,
}

/// The sizes and counts of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Bytes echoed by the throughput workload.
    pub bulk_bytes: usize,
    /// The size of each write in the throughput workload.
    pub chunk: usize,
    /// Round trips in the latency workload.
    pub rounds: usize,
    /// Bytes per round trip (latency and connection rate).
    pub message: usize,
    /// Connections opened by the connection-rate workload.
    pub connections: usize,
    /// Idle connections held open by the memory workload.
    pub idle: usize,
    /// Connections of the parallel throughput workload.
    pub parallel: usize,
    /// Connections of the ping-pong workload.
    pub ping_conns: usize,
    /// How many times each workload is repeated per server.
    pub reps: usize,
}

impl Params {
    /// The full run: about a minute on 2 shared cores.
    pub fn full() -> Params {
        Params {
            bulk_bytes: 64 << 20,
            chunk: 64 << 10,
            rounds: 10_000,
            message: 64,
            connections: 2_000,
            idle: 1_000,
            parallel: 4,
            ping_conns: 32,
            reps: 11,
        }
    }

    /// `--quick`: under a minute on 2 shared cores.
    pub fn quick() -> Params {
        Params {
            bulk_bytes: 32 << 20,
            chunk: 64 << 10,
            rounds: 4_000,
            message: 64,
            connections: 500,
            idle: 300,
            parallel: 4,
            ping_conns: 32,
            reps: 5,
        }
    }

    /// One tiny iteration of everything (the smoke test).
    pub fn smoke() -> Params {
        Params {
            bulk_bytes: 1 << 20,
            chunk: 64 << 10,
            rounds: 20,
            message: 64,
            connections: 5,
            idle: 5,
            parallel: 2,
            ping_conns: 2,
            reps: 1,
        }
    }
}

/// A connected client socket with timeouts set.
fn dial(addr: SocketAddr) -> io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Sends our FIN and reads until the server's; fails if the server sends more bytes.
fn finish(mut s: TcpStream) -> io::Result<()> {
    s.shutdown(Shutdown::Write)?;
    let mut b = [0u8; 64];
    match s.read(&mut b)? {
        0 => Ok(()),
        n => Err(io::Error::other(format!("{n} unexpected bytes before EOF"))),
    }
}

/// A payload whose bytes are not all alike.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// (a) Echoes `total` bytes in `chunk`-byte writes on one connection (a writer thread
/// sends while this thread reads); MB/s (10⁶ bytes) from the first write to the last
/// byte back. Only the byte count is checked while the clock runs; the last read is
/// compared with what was sent after it stops.
pub fn throughput(addr: SocketAddr, total: usize, chunk: usize) -> io::Result<f64> {
    let mut s = dial(addr)?;
    s.set_nodelay(false)?;
    let mut w = s.try_clone()?;
    let data = payload(chunk);
    let start = Instant::now();
    let writer = thread::spawn(move || -> io::Result<()> {
        let mut left = total;
        while left > 0 {
            let n = left.min(data.len());
            w.write_all(&data[..n])?;
            left -= n;
        }
        w.shutdown(Shutdown::Write)
    });
    let mut buf = vec![0u8; 256 << 10];
    let mut got = 0usize;
    // Where the last read started in the stream, and its length.
    let mut last = (0usize, 0usize);
    let result = loop {
        if got == total {
            break Ok(start.elapsed());
        }
        let want = buf.len().min(total - got);
        match s.read(&mut buf[..want]) {
            Ok(0) => {
                break Err(io::Error::other(format!(
                    "EOF after {got} of {total} bytes"
                )))
            }
            Ok(n) => {
                last = (got, n);
                got += n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    let written = writer
        .join()
        .map_err(|_| io::Error::other("writer panicked"))?;
    let elapsed = result?;
    written?;
    let (at, n) = last;
    let wrong = buf[..n]
        .iter()
        .enumerate()
        .any(|(i, b)| *b != ((at + i) % chunk % 251) as u8);
    if wrong {
        return Err(io::Error::other("the echo differs"));
    }
    let mut b = [0u8; 64];
    if s.read(&mut b)? != 0 {
        return Err(io::Error::other("bytes after the echo"));
    }
    Ok(total as f64 / elapsed.as_secs_f64() / 1e6)
}

/// (b) `rounds` round trips of `size` bytes on one connection (write, then read the echo
/// back in full); µs per round trip.
pub fn latency(addr: SocketAddr, rounds: usize, size: usize) -> io::Result<f64> {
    let mut s = dial(addr)?;
    let out = payload(size);
    let mut back = vec![0u8; size];
    let start = Instant::now();
    for _ in 0..rounds {
        s.write_all(&out)?;
        s.read_exact(&mut back)?;
    }
    let elapsed = start.elapsed();
    if back != out {
        return Err(io::Error::other("the echo differs"));
    }
    finish(s)?;
    Ok(elapsed.as_secs_f64() * 1e6 / rounds as f64)
}

/// (a2) Echoes `total` bytes over `conns` connections at once (each its share, as
/// [`throughput`] does on one); MB/s of them all, from the first write to the last byte
/// back.
pub fn parallel_throughput(
    addr: SocketAddr,
    total: usize,
    chunk: usize,
    conns: usize,
) -> io::Result<f64> {
    let conns = conns.max(1);
    let share = total / conns;
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|_| thread::spawn(move || throughput(addr, share, chunk)))
        .collect();
    for w in workers {
        w.join()
            .map_err(|_| io::Error::other("a connection's thread panicked"))??;
    }
    Ok((share * conns) as f64 / start.elapsed().as_secs_f64() / 1e6)
}

/// (b2) `rounds` round trips of `size` bytes shared by `conns` connections working at
/// once (each writes, then reads its echo back in full); round trips per second, and the
/// percentiles of the round trips' times (µs, from the write to the last byte back) over
/// every round trip of every connection.
pub fn ping_pong(
    addr: SocketAddr,
    rounds: usize,
    size: usize,
    conns: usize,
) -> io::Result<(f64, Percentiles)> {
    let conns = conns.max(1);
    let each = (rounds / conns).max(1);
    let mut sockets = Vec::with_capacity(conns);
    for _ in 0..conns {
        sockets.push(dial(addr)?);
    }
    // Every connection's thread starts its round trips at once, with the clock.
    let go = Arc::new(Barrier::new(conns + 1));
    let workers: Vec<_> = sockets
        .into_iter()
        .map(|mut s| {
            let go = Arc::clone(&go);
            thread::spawn(move || -> io::Result<Vec<f64>> {
                let out = payload(size);
                let mut back = vec![0u8; size];
                let mut times = Vec::with_capacity(each);
                go.wait();
                for _ in 0..each {
                    let sent = Instant::now();
                    s.write_all(&out)?;
                    s.read_exact(&mut back)?;
                    times.push(sent.elapsed().as_secs_f64() * 1e6);
                }
                if back != out {
                    return Err(io::Error::other("the echo differs"));
                }
                finish(s)?;
                Ok(times)
            })
        })
        .collect();
    go.wait();
    let start = Instant::now();
    let mut times = Vec::with_capacity(each * conns);
    for w in workers {
        times.extend(
            w.join()
                .map_err(|_| io::Error::other("a connection's thread panicked"))??,
        );
    }
    let rate = (each * conns) as f64 / start.elapsed().as_secs_f64();
    let round_trip = Percentiles::of(&mut times).expect("at least one round trip");
    Ok((rate, round_trip))
}

/// One connect, `size` bytes echoed, FIN both ways, close.
fn cycle(addr: SocketAddr, out: &[u8], back: &mut [u8]) -> io::Result<()> {
    let mut s = dial(addr)?;
    s.write_all(out)?;
    s.read_exact(back)?;
    finish(s)
}

/// (c) `n` sequential cycles of connect, write `size` bytes, read them back, half-close,
/// read the server's FIN, close; connections per second.
pub fn connection_rate(addr: SocketAddr, n: usize, size: usize) -> io::Result<f64> {
    let out = payload(size);
    let mut back = vec![0u8; size];
    let start = Instant::now();
    for _ in 0..n {
        cycle(addr, &out, &mut back)?;
    }
    let elapsed = start.elapsed();
    if back != out {
        return Err(io::Error::other("the echo differs"));
    }
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// (d) The growth of the server's resident memory with `k` connections open, each of which
/// echoed one byte (so the server has accepted it and is reading) and is then idle; KiB per
/// connection. One full cycle first warms the server (process `pid`) up: its executor
/// thread, first allocations. Meant for a freshly started server: memory freed by earlier
/// workloads would hide the growth.
pub fn idle_memory(addr: SocketAddr, pid: u32, k: usize) -> io::Result<f64> {
    cycle(addr, &[7], &mut [0])?;
    thread::sleep(SETTLE);
    let before = rss_kib(pid)?;
    let mut conns = Vec::with_capacity(k);
    for _ in 0..k {
        let mut s = dial(addr)?;
        s.write_all(&[7])?;
        s.read_exact(&mut [0])?;
        conns.push(s);
    }
    thread::sleep(SETTLE);
    let after = rss_kib(pid)?;
    for s in conns {
        let _ = s.shutdown(Shutdown::Write);
    }
    Ok((after as f64 - before as f64) / k as f64)
}
