//! `conformance --driver D FILE.json [--seed N]`: runs a scenario and prints its trace.
//!
//! Exit status: 0 when the scenario ran to its end, 1 when a wait or the settle timed out,
//! 2 for an invalid scenario, an unknown driver, or a network operation under
//! `--driver core`.

use std::process::ExitCode;

use sansnet_tests::backend::SimBackend;
use sansnet_tests::runner::{NeedsNetwork, Outcome, Runner};
use sansnet_tests::smol_backend::sim::SmolSimBackend;
use sansnet_tests::smol_backend::SmolBackend;
use sansnet_tests::std_backend::StdBackend;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut driver = None;
    let mut file = None;
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--driver" => driver = it.next().cloned(),
            "--seed" => seed = it.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            other => file = Some(other.to_string()),
        }
    }
    let (Some(driver), Some(file)) = (driver, file) else {
        eprintln!("usage: conformance --driver core|sim|smol|smol-sim|std FILE.json [--seed N]");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("conformance: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let scenario = match sansnet_tests::scenario::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("conformance: {file} is not a valid scenario: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match driver.as_str() {
        "core" => Runner::core().run(&scenario),
        "sim" => Runner::new(SimBackend::new(seed)).run(&scenario),
        "smol" => Runner::new(SmolBackend::new()).run(&scenario),
        "smol-sim" => Runner::new(SmolSimBackend::new(seed)).run(&scenario),
        "std" => Runner::new(StdBackend::new()).run(&scenario),
        other => {
            eprintln!(
                "conformance: driver '{other}' is not available (core, sim, smol, smol-sim, std)"
            );
            return ExitCode::from(2);
        }
    };
    report(result)
}

fn report(result: Result<(String, Outcome), NeedsNetwork>) -> ExitCode {
    match result {
        Err(op) => {
            eprintln!(
                "conformance: operation '{}' needs a network; --driver core runs pure operations only",
                op.0
            );
            ExitCode::from(2)
        }
        Ok((trace, outcome)) => {
            println!("{trace}");
            match outcome {
                Outcome::Completed => ExitCode::SUCCESS,
                Outcome::TimedOut => ExitCode::from(1),
            }
        }
    }
}
