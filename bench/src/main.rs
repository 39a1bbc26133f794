//! `sansnet-bench [--quick] [--reps N] [--no-node] [--only W,..] [--addr A [--pid P]]`:
//! runs every workload against the sansnet-smol, raw async-io and Node echo servers and
//! prints medians and ratios (or, with `--addr`, against one server already running).
//!
//! See `bench/README.md` for how to read the table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use sansnet_bench::servers::{node_version, Bins, Kind, ServerProcess};
use sansnet_bench::stats::Summary;
use sansnet_bench::workloads::{Params, Sample, Workload};

/// The samples of one (workload, metric, server) cell, or why it has none.
type Cell = Result<Vec<f64>, String>;

/// What a row of the table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Metric {
    /// The workload's own measurement (what the client saw).
    Value,
    /// The 50th percentile of the round trips' times, µs.
    P50,
    /// The 99th percentile of the round trips' times, µs.
    P99,
    /// The server process's CPU time per operation.
    ServerCpu,
}

type Cells = BTreeMap<(Workload, Metric, Kind), Cell>;

const USAGE: &str = "\
usage: sansnet-bench [--quick] [--reps N] [--no-node] [--only W,..] [--addr HOST:PORT [--pid PID]]
  --quick           small sizes (under a minute on 2 cores)
  --reps N          repetitions per (workload, server) cell
  --no-node         skip the Node column
  --only W,..       run only these workloads: throughput, parallel, latency, pingpong, connections, memory
  --idle N          idle connections for the memory workload (10000 wants `ulimit -n` > 10100)
  --addr HOST:PORT  measure one echo server already running there (e.g. under a profiler)
  --pid PID         its process id (needed for the memory workload)";

struct Args {
    quick: bool,
    reps: Option<usize>,
    node: bool,
    only: Vec<Workload>,
    addr: Option<SocketAddr>,
    pid: Option<u32>,
    idle: Option<usize>,
}

fn parse_args() -> Args {
    let mut a = Args {
        quick: false,
        reps: None,
        node: true,
        only: Workload::ALL.to_vec(),
        addr: None,
        pid: None,
        idle: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--no-node" => a.node = false,
            "--reps" => a.reps = Some(value().parse().unwrap_or_else(|_| usage())),
            "--addr" => a.addr = Some(value().parse().unwrap_or_else(|_| usage())),
            "--pid" => a.pid = Some(value().parse().unwrap_or_else(|_| usage())),
            "--idle" => a.idle = Some(value().parse().unwrap_or_else(|_| usage())),
            "--only" => {
                a.only = value()
                    .split(',')
                    .map(|n| {
                        Workload::ALL
                            .into_iter()
                            .find(|w| w.name() == n.trim())
                            .unwrap_or_else(|| usage())
                    })
                    .collect();
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => usage(),
        }
    }
    a
}

fn main() {
    let started = Instant::now();
    let args = parse_args();
    let mut p = if args.quick {
        Params::quick()
    } else {
        Params::full()
    };
    if let Some(r) = args.reps {
        p.reps = r.max(1);
    }
    if let Some(k) = args.idle {
        p.idle = k.max(1);
    }
    let only = |w: &Workload| args.only.contains(w);
    println!(
        "sansnet-bench ({} mode): {} repetitions per cell; {} CPUs; load average {}",
        if args.quick { "quick" } else { "full" },
        p.reps,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    if let Some(addr) = args.addr {
        run_external(addr, args.pid, &p, &args.only);
        return;
    }
    let bins = match Bins::beside_current_exe() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("sansnet-bench: {e}");
            std::process::exit(1);
        }
    };
    let node = if args.node { node_version() } else { None };
    match (&node, args.node) {
        (Some(v), _) => println!("node {v}"),
        (None, true) => println!("node: not found on PATH: the node column is skipped"),
        (None, false) => println!("node: skipped (--no-node)"),
    }
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| *k != Kind::Node || node.is_some())
        .collect();
    let mut cells = Cells::new();

    // (a)-(c): one long-lived process per server, warmed up once; within each repetition
    // the servers take turns, so that a burst of noise hits all of them alike.
    let shared: Vec<Workload> = [
        Workload::Throughput,
        Workload::ParallelThroughput,
        Workload::Latency,
        Workload::PingPong,
        Workload::ConnectionRate,
    ]
    .into_iter()
    .filter(only)
    .collect();
    if !shared.is_empty() {
        let mut servers = Vec::new();
        for &k in &kinds {
            match ServerProcess::start(k, &bins) {
                Ok(s) => servers.push(s),
                Err(e) => {
                    for &w in &shared {
                        fail(&mut cells, w, k, &e);
                    }
                }
            }
        }
        let warm = Params {
            bulk_bytes: 4 << 20,
            rounds: 200,
            connections: 50,
            ..p.clone()
        };
        for s in &servers {
            for &w in &shared {
                if let Err(e) = w.run(s, &warm) {
                    eprintln!("warm-up of {} on {}: {e}", w.name(), s.kind());
                }
            }
        }
        for &w in &shared {
            for rep in 0..p.reps {
                eprintln!("{} — repetition {}/{}", w.describe(&p), rep + 1, p.reps);
                for s in &servers {
                    record(&mut cells, w, s.kind(), w.run(s, &p));
                }
            }
        }
    }

    // (d): a fresh process per measurement, so that memory freed earlier cannot hide growth.
    let w = Workload::IdleMemory;
    if only(&w) {
        for rep in 0..p.reps {
            eprintln!("{} — repetition {}/{}", w.describe(&p), rep + 1, p.reps);
            for &k in &kinds {
                let r = ServerProcess::start(k, &bins).and_then(|s| w.run(&s, &p));
                record(&mut cells, w, k, r);
            }
        }
    }

    println!();
    print_table(&p, &kinds, &args.only, &cells);
    println!();
    println!(
        "median [min..max] of {} runs; ratios are of medians; ↑ higher is better, ↓ lower is better.",
        p.reps
    );
    println!(
        "server CPU: CPU time of the server process (all threads) during a run, per operation."
    );
    println!(
        "total time {:.1} s; load average now {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
}

/// Measures one server already running at `addr`.
fn run_external(addr: SocketAddr, pid: Option<u32>, p: &Params, only: &[Workload]) {
    for &w in only {
        let mut values = Vec::new();
        let mut cpu = Vec::new();
        let (mut p50, mut p99) = (Vec::new(), Vec::new());
        for _ in 0..p.reps {
            match w.run_at(addr, pid, p) {
                Ok(x) => {
                    values.push(x.value);
                    cpu.extend(x.server_cpu);
                    p50.extend(x.round_trip.map(|r| r.p50));
                    p99.extend(x.round_trip.map(|r| r.p99));
                }
                Err(e) => {
                    println!("{}: error: {e}", w.describe(p));
                    break;
                }
            }
        }
        if let Some(s) = Summary::of(&values) {
            println!("{}: {} {}", w.describe(p), summary_text(&s), w.unit());
        }
        for (name, v) in [("p50", &p50), ("p99", &p99)] {
            if let Some(s) = Summary::of(v) {
                println!("  round trip {name}: {} µs", summary_text(&s));
            }
        }
        if let (Some(s), Some(unit)) = (Summary::of(&cpu), w.cpu_unit()) {
            println!("  server CPU: {} {unit}", summary_text(&s));
        }
    }
}

/// Adds a run's result to its cells; the first error replaces the cells of the workload
/// on that server for good.
fn record(cells: &mut Cells, w: Workload, k: Kind, r: std::io::Result<Sample>) {
    let x = match r {
        Ok(x) => x,
        Err(e) => {
            if matches!(cells.get(&(w, Metric::Value, k)), None | Some(Ok(_))) {
                eprintln!("{} on {k}: {e}", w.name());
                fail(cells, w, k, &e);
            }
            return;
        }
    };
    let measured = [
        (Metric::Value, Some(x.value)),
        (Metric::P50, x.round_trip.map(|r| r.p50)),
        (Metric::P99, x.round_trip.map(|r| r.p99)),
        (Metric::ServerCpu, x.server_cpu),
    ];
    for (m, value) in measured {
        if let (Some(value), Ok(v)) = (
            value,
            cells.entry((w, m, k)).or_insert_with(|| Ok(Vec::new())),
        ) {
            v.push(value);
        }
    }
}

/// Marks every cell of workload `w` on server `k` as failed with `e`.
fn fail(cells: &mut Cells, w: Workload, k: Kind, e: &std::io::Error) {
    for m in [Metric::Value, Metric::P50, Metric::P99, Metric::ServerCpu] {
        cells.insert((w, m, k), Err(e.to_string()));
    }
}

/// `median [min..max]`.
fn summary_text(s: &Summary) -> String {
    format!("{} [{}..{}]", num(s.median), num(s.min), num(s.max))
}

fn print_table(p: &Params, kinds: &[Kind], only: &[Workload], cells: &Cells) {
    let summary = |w: Workload, m: Metric, k: Kind| -> Option<Summary> {
        match cells.get(&(w, m, k)) {
            Some(Ok(v)) => Summary::of(v),
            _ => None,
        }
    };
    let with_node = kinds.contains(&Kind::Node);
    let mut header = vec!["workload".to_string(), "unit".to_string()];
    header.extend(kinds.iter().map(|k| k.label().to_string()));
    header.push("smol/raw".to_string());
    if with_node {
        header.push("smol/node".to_string());
    }
    header.push("std/raw std".to_string());
    let mut rows = vec![header];
    let mut row = |w: Workload, m: Metric| {
        let title = w.describe(p);
        // "(b2) ping-pong" of "(b2) ping-pong: 10000 round trips …".
        let short = title.split(':').next().unwrap_or_default();
        let (label, unit, higher) = match m {
            Metric::Value => (title.clone(), w.unit(), w.higher_is_better()),
            Metric::P50 | Metric::P99 if !w.has_percentiles() => return,
            Metric::P50 => (format!("{short} p50"), "µs", false),
            Metric::P99 => (format!("{short} p99"), "µs", false),
            Metric::ServerCpu => match w.cpu_unit() {
                Some(u) => (format!("    server CPU, {}", w.name()), u, false),
                None => return,
            },
        };
        let arrow = if higher { "↑" } else { "↓" };
        let mut r = vec![label, format!("{unit} {arrow}")];
        for &k in kinds {
            r.push(match (cells.get(&(w, m, k)), summary(w, m, k)) {
                (_, Some(s)) => summary_text(&s),
                (Some(Err(e)), _) => format!("error: {}", e.chars().take(40).collect::<String>()),
                _ => "-".to_string(),
            });
        }
        let ratio = |ours: Kind, other: Kind| match (summary(w, m, ours), summary(w, m, other)) {
            (Some(a), Some(b)) if b.median != 0.0 => format!("{:.2}", a.median / b.median),
            _ => "-".to_string(),
        };
        r.push(ratio(Kind::Sansnet, Kind::Raw));
        if with_node {
            r.push(ratio(Kind::Sansnet, Kind::Node));
        }
        r.push(ratio(Kind::SansnetStd, Kind::RawStd));
        rows.push(r);
    };
    let chosen: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| only.contains(w))
        .collect();
    for &w in &chosen {
        row(w, Metric::Value);
        row(w, Metric::P50);
        row(w, Metric::P99);
    }
    for &w in &chosen {
        row(w, Metric::ServerCpu);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

/// About three significant digits.
fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`), or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".to_string())
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2);
}
