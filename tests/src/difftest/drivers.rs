//! The drivers under test, run through the conformance runner as a library.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_json::json;

use crate::backend::SimBackend;
use crate::runner::Runner;
use crate::scenario::Scenario;
use crate::smol_backend::sim::SmolSimBackend;
use crate::smol_backend::SmolBackend;
use crate::std_backend::StdBackend;

/// A driver to compare with Node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Driver {
    /// The simulator (virtual time), seeded with the scenario's seed.
    Sim,
    /// `sansnet-smol` on real sockets.
    Smol,
    /// `sansnet-std` on real sockets.
    Std,
    /// `sansnet-smol`'s handles in its simulated runtime, seeded with the scenario's seed.
    SmolSim,
}

impl Driver {
    /// Every driver.
    pub const ALL: [Driver; 4] = [Driver::Sim, Driver::Smol, Driver::Std, Driver::SmolSim];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Sim => "sim",
            Driver::Smol => "smol",
            Driver::Std => "std",
            Driver::SmolSim => "smol-sim",
        }
    }

    /// The drivers a command-line name stands for (`all`: every one).
    pub fn parse(s: &str) -> Option<Vec<Driver>> {
        match s {
            "sim" => Some(vec![Driver::Sim]),
            "smol" => Some(vec![Driver::Smol]),
            "std" => Some(vec![Driver::Std]),
            "smol-sim" => Some(vec![Driver::SmolSim]),
            "all" => Some(Driver::ALL.to_vec()),
            _ => None,
        }
    }

    /// How many runs a scenario gets: a real driver runs twice (a flake is a mismatch too).
    pub fn runs(self) -> usize {
        match self {
            Driver::Sim | Driver::SmolSim => 1,
            Driver::Smol | Driver::Std => 2,
        }
    }

    /// Runs a scenario once; the trace text (a panic becomes a trace with a `<panic>`
    /// actor, which never matches).
    pub fn run(self, seed: u64, sc: &Scenario) -> String {
        let r = catch_unwind(AssertUnwindSafe(|| match self {
            Driver::Sim => Runner::new(SimBackend::new(seed)).run(sc),
            Driver::Smol => Runner::new(SmolBackend::new()).run(sc),
            Driver::Std => Runner::new(StdBackend::new()).run(sc),
            Driver::SmolSim => Runner::new(SmolSimBackend::new(seed)).run(sc),
        }));
        match r {
            Ok(Ok((text, _))) => text,
            Ok(Err(op)) => panic_trace(&sc.name, &format!("needs network: {}", op.0)),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "panic".into());
                panic_trace(&sc.name, &msg)
            }
        }
    }
}

fn panic_trace(name: &str, msg: &str) -> String {
    json!({"name": name, "traces": {"<panic>": [msg]}}).to_string()
}
