//! The echo servers, each started as its own process so that its resident memory
//! can be read and so that no server shares a runtime with the load generator.

use std::fmt;
use std::io::{self, BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Node's echo server: `net.createServer(s => s.pipe(s))` on 127.0.0.1, an ephemeral port.
/// The `'error'` listener only keeps a reset connection from crashing the process.
pub const NODE_ECHO: &str = "\
const net = require('net');
const server = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  console.log(`listening on ${a.address}:${a.port}`);
});
";

/// How long a server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Which echo server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `sansnet-echo`: the sansnet-smol driver and the sansnet core.
    Sansnet,
    /// `raw-echo`: the same runtime shape written directly on async-io.
    Raw,
    /// `sansnet-std-echo`: the sansnet-std driver, one thread serving every connection
    /// (`driver-std/examples/echo-loop.rs`).
    SansnetStd,
    /// `sansnet-std-threads-echo`: the sansnet-std driver, a thread per connection
    /// (`driver-std/examples/echo-threads.rs`).
    SansnetStdThreads,
    /// `raw-std-echo`: `std::net`, a thread per connection.
    RawStd,
    /// Node's `net` module.
    Node,
}

impl Kind {
    /// Every server, in the table's column order.
    pub const ALL: [Kind; 6] = [
        Kind::Sansnet,
        Kind::Raw,
        Kind::SansnetStd,
        Kind::SansnetStdThreads,
        Kind::RawStd,
        Kind::Node,
    ];

    /// The column heading.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Sansnet => "sansnet-smol",
            Kind::Raw => "raw async-io",
            Kind::SansnetStd => "sansnet-std",
            Kind::SansnetStdThreads => "sansnet-std threads",
            Kind::RawStd => "raw std threads",
            Kind::Node => "node",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the server binaries of this crate are.
#[derive(Clone, Debug)]
pub struct Bins {
    /// The `sansnet-echo` binary.
    pub sansnet: PathBuf,
    /// The `raw-echo` binary.
    pub raw: PathBuf,
    /// The `sansnet-std-echo` binary.
    pub sansnet_std: PathBuf,
    /// The `sansnet-std-threads-echo` binary.
    pub sansnet_std_threads: PathBuf,
    /// The `raw-std-echo` binary.
    pub raw_std: PathBuf,
}

impl Bins {
    /// The binaries next to the running executable (cargo builds them into one directory).
    pub fn beside_current_exe() -> io::Result<Bins> {
        let exe = std::env::current_exe()?;
        let dir = exe
            .parent()
            .ok_or_else(|| io::Error::other("the executable has no directory"))?;
        Bins::in_dir(dir)
    }

    /// The binaries in `dir`; fails if one is missing.
    pub fn in_dir(dir: &Path) -> io::Result<Bins> {
        let bins = Bins {
            sansnet: dir.join("sansnet-echo"),
            raw: dir.join("raw-echo"),
            sansnet_std: dir.join("sansnet-std-echo"),
            sansnet_std_threads: dir.join("sansnet-std-threads-echo"),
            raw_std: dir.join("raw-std-echo"),
        };
        for b in [
            &bins.sansnet,
            &bins.raw,
            &bins.sansnet_std,
            &bins.sansnet_std_threads,
            &bins.raw_std,
        ] {
            if !b.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "{} not found (build with `cargo build --release -p sansnet-bench`)",
                        b.display()
                    ),
                ));
            }
        }
        Ok(bins)
    }
}

/// `node --version`, or `None` when `node` cannot be run.
pub fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A running echo server process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    kind: Kind,
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `kind` on 127.0.0.1 (an ephemeral port) and waits for its
    /// `listening on HOST:PORT` line.
    pub fn start(kind: Kind, bins: &Bins) -> io::Result<ServerProcess> {
        let mut cmd = match kind {
            Kind::Sansnet => Command::new(&bins.sansnet),
            Kind::Raw => Command::new(&bins.raw),
            Kind::SansnetStd => Command::new(&bins.sansnet_std),
            Kind::SansnetStdThreads => Command::new(&bins.sansnet_std_threads),
            Kind::RawStd => Command::new(&bins.raw_std),
            Kind::Node => {
                let mut c = Command::new("node");
                c.arg("-e").arg(NODE_ECHO);
                c
            }
        };
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("starting {kind}: {e}")))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the first line, then drains the rest so the server never blocks on stdout.
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let first = r.read_line(&mut line).map(|_| line);
            let _ = tx.send(first);
            let _ = io::copy(&mut r, &mut io::sink());
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{kind} did not print its address"),
                ));
            }
        };
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse::<SocketAddr>().ok());
        match addr {
            Some(addr) => Ok(ServerProcess { kind, child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(io::Error::other(format!(
                    "{kind}: unexpected first line {:?}",
                    line.trim()
                )))
            }
        }
    }

    /// Which server this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The CPU time it has used so far (all live threads).
    pub fn cpu_time(&self) -> io::Result<Duration> {
        cpu_time(self.pid())
    }

    /// Its resident set size (`VmRSS` in `/proc/PID/status`), in KiB.
    pub fn rss_kib(&self) -> io::Result<u64> {
        rss_kib(self.pid())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The CPU time process `pid` has used so far, user and system, threads that already
/// ended included (`utime` + `stime` of `/proc/PID/stat`, in clock ticks of 10 ms).
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other(format!("unreadable /proc/{pid}/stat")))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the file are the 12th and 13th after the name.
    let ticks = |k: usize| -> io::Result<u64> {
        fields
            .get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other(format!("unreadable /proc/{pid}/stat")))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(total * 10))
}

/// `VmRSS` of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS in /proc/{pid}/status")))
}
