//! `difftest --seeds N [--start S] [--driver sim|smol|std|smol-sim|all] [--no-minimize]
//! [--minimize-all] [--budget B] [--jobs J] [--keep-going] [--work DIR] [--node CMD]`:
//! generated lifecycle scenarios, run by Node three times and by the drivers, compared per
//! actor. `difftest --print SEED` prints the scenario of a seed.
//!
//! Exit status: 0 when every compared seed matched, 1 when one mismatched, 2 for bad
//! arguments or a missing Node.

use std::path::PathBuf;
use std::process::ExitCode;

use sansnet_tests::difftest::{self, Config, Driver, Report};

const USAGE: &str = "usage: difftest --seeds N [--start S] [--driver sim|smol|std|smol-sim|all] \
[--no-minimize] [--minimize-all] [--budget B] [--jobs J] [--keep-going] [--work DIR] [--node CMD]\n\
       difftest --print SEED";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = Config::new(0);
    let mut it = args.iter();
    let num = |v: Option<&String>| v.and_then(|s| s.parse::<u64>().ok());
    while let Some(a) = it.next() {
        let ok = match a.as_str() {
            "--seeds" => num(it.next()).map(|n| cfg.seeds = n).is_some(),
            "--start" => num(it.next()).map(|n| cfg.start = n).is_some(),
            "--jobs" => num(it.next())
                .map(|n| cfg.jobs = n.max(1) as usize)
                .is_some(),
            "--budget" => num(it.next()).map(|n| cfg.budget = n as usize).is_some(),
            "--driver" => it
                .next()
                .and_then(|d| Driver::parse(d))
                .map(|d| cfg.drivers = d)
                .is_some(),
            "--no-minimize" => {
                cfg.minimize = false;
                true
            }
            "--minimize-all" => {
                cfg.minimize_all = true;
                true
            }
            "--keep-going" => {
                cfg.keep_going = true;
                true
            }
            "--work" => it.next().map(|w| cfg.work = PathBuf::from(w)).is_some(),
            "--node" => it.next().map(|n| cfg.node = n.clone()).is_some(),
            "--print" => {
                let Some(seed) = num(it.next()) else {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                };
                print!("{}", difftest::generate(seed).text());
                return ExitCode::SUCCESS;
            }
            _ => false,
        };
        if !ok {
            eprintln!("difftest: bad argument '{a}'\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if cfg.seeds == 0 {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    if !difftest::node::Node::available(&cfg.node) {
        eprintln!(
            "difftest: '{}' does not run; Node is the reference",
            cfg.node
        );
        return ExitCode::from(2);
    }
    let report = match difftest::run(&cfg, &mut |m| eprintln!("{m}")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("difftest: {e}");
            return ExitCode::from(2);
        }
    };
    summary(&cfg, &report);
    if report.mismatches() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn list(seeds: &[u64]) -> String {
    if seeds.is_empty() {
        return String::new();
    }
    let s: Vec<String> = seeds.iter().map(u64::to_string).collect();
    format!(" [{}]", s.join(", "))
}

fn summary(cfg: &Config, r: &Report) {
    println!(
        "difftest: seeds {}..{} (work folder {})",
        cfg.start,
        cfg.start + cfg.seeds,
        cfg.work.display()
    );
    for d in &r.drivers {
        println!(
            "  {:<5} {} seeds run, {} matched, {} mismatched{}, {} skipped as Node-nondeterministic{}",
            d.driver.name(),
            d.run,
            d.matched,
            d.mismatched.len(),
            list(&d.mismatched),
            d.skipped.len(),
            list(&d.skipped)
        );
    }
    if !r.node_failed.is_empty() {
        let seeds: Vec<u64> = r.node_failed.iter().map(|f| f.0).collect();
        println!(
            "  Node did not complete {} seeds (a generator bug: its model waited for what did not come){}",
            seeds.len(),
            list(&seeds)
        );
    }
    if !r.kinds.is_empty() {
        println!("  mismatch kinds (first differing line: node / driver):");
        for (d, kind, seeds) in &r.kinds {
            println!("    {:<5} {kind}{}", d.name(), list(seeds));
        }
    }
    for m in &r.minimized {
        println!(
            "  minimized seed {} on {} [{}]: {} ({} steps)",
            m.seed,
            m.driver.name(),
            m.kind,
            m.scenario.display(),
            m.steps
        );
    }
}
