//! `sim-sweep --seeds N [--start S] [--check-determinism] [--trace]`: runs seeds
//! `S..S+N` of the seeded fault sweep ([`sansnet_tests::sweep`]) on the simulator and
//! checks the shared invariants after every step. A failure prints the seed, the broken
//! rule and the command that replays it, and the exit status is 1. With
//! `--check-determinism` each seed runs twice and the hashes of the two traces must agree.
//! `--trace` prints every operation and event (use it with `--seeds 1`).

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::Instant;

use sansnet_tests::sweep::{run_seed, Outcome};

#[derive(Debug)]
struct Args {
    seeds: u64,
    start: u64,
    determinism: bool,
    trace: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        seeds: 100,
        start: 0,
        determinism: false,
        trace: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--seeds" => a.seeds = num("--seeds")?,
            "--start" => a.start = num("--start")?,
            "--check-determinism" => a.determinism = true,
            "--trace" => a.trace = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// Runs a seed, catching the panic of a broken invariant as its message.
fn attempt(seed: u64, trace: bool) -> Result<Outcome, String> {
    panic::catch_unwind(AssertUnwindSafe(|| run_seed(seed, trace))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("sim-sweep: {e}\nusage: sim-sweep --seeds N [--start S] [--check-determinism] [--trace]");
            return ExitCode::from(2);
        }
    };
    // A failure is reported below, with its seed, the rule and where it broke.
    panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location() {
            eprintln!("invariant broken at {}:{}", l.file(), l.line());
        }
    }));
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut total = Outcome::default();
    for seed in args.start..args.start.saturating_add(args.seeds) {
        let result = attempt(seed, args.trace).and_then(|a| {
            if !args.determinism {
                return Ok(a);
            }
            let b = attempt(seed, false)?;
            if a.hash == b.hash {
                Ok(a)
            } else {
                Err(format!(
                    "two runs differ: trace hashes {:016x} and {:016x}",
                    a.hash, b.hash
                ))
            }
        });
        match result {
            Ok(o) => {
                total.ops += o.ops;
                total.events += o.events;
                total.streams.data_checked += o.streams.data_checked;
                total.streams.data_unchecked += o.streams.data_unchecked;
                total.streams.ends_checked += o.streams.ends_checked;
                total.streams.streams_checked += o.streams.streams_checked;
                total.servers.0 += o.servers.0;
                total.servers.1 += o.servers.1;
                total.servers.2 += o.servers.2;
            }
            Err(msg) => {
                eprintln!("seed {seed} FAILED: {msg}");
                eprintln!(
                    "  replay: cargo run --release --bin sim-sweep -- --seeds 1 --start {seed} --trace"
                );
                failures.push(seed);
            }
        }
    }
    let s = &total.streams;
    println!(
        "sim-sweep: seeds {}..{}{}: {} ops, {} events; checked {} 'data' chunks ({} unmatched), \
         {} 'end's, {} live streams; {} connections, {} drops, {} server closes; {:.1}s",
        args.start,
        args.start.saturating_add(args.seeds),
        if args.determinism {
            " (each twice)"
        } else {
            ""
        },
        total.ops,
        total.events,
        s.data_checked,
        s.data_unchecked,
        s.ends_checked,
        s.streams_checked,
        total.servers.0,
        total.servers.1,
        total.servers.2,
        started.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("sim-sweep: {} seeds FAILED: {failures:?}", failures.len());
        ExitCode::from(1)
    }
}
