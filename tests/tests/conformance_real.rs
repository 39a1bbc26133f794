//! Every conformance scenario (shared and own) on real loopback and unix sockets through
//! the real drivers — `sansnet-smol` (`--driver smol`) and `sansnet-std` (`--driver std`)
//! — compared per actor with the trace Node printed. Each scenario runs three times per
//! driver: a real-time driver must not flake.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use sansnet_tests::backend::Backend;
use sansnet_tests::runner::{Outcome, Runner};
use sansnet_tests::scenario;
use sansnet_tests::smol_backend::SmolBackend;
use sansnet_tests::std_backend::StdBackend;

const RUNS: usize = 3;

/// How often a run is repeated when its trace differs from Node's only in which actor's
/// port variable names a port: the kernel handed a closed server's ephemeral port to a
/// later one, and a trace names a port after the first actor that held it.
const REPEATS: usize = 3;

/// Whether two traces are the same once every `$ACTOR.port` variable is written `$port`.
fn differs_in_port_names_only(a: &Json, b: &Json) -> bool {
    fn erase(j: &Json) -> String {
        let text = j.to_string();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(k) = rest.find('$') {
            out.push_str(&rest[..k]);
            let tail = &rest[k..];
            let name_len = tail[1..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '#' || c == '-'))
                .map_or(tail.len() - 1, |n| n);
            let after = &tail[1 + name_len..];
            if let Some(more) = after.strip_prefix(".port") {
                out.push_str("$port");
                rest = more;
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }
    a != b && erase(a) == erase(b)
}

fn scenario_files() -> Vec<(PathBuf, PathBuf)> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let mut out = Vec::new();
    for dir in [base.clone(), base.join("own")] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("scenarios"))
            .expect("scenarios folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| (dir.clone(), f)));
    }
    assert!(out.len() >= 23, "the scenarios were not found");
    out
}

fn traces(text: &str) -> Json {
    serde_json::from_str::<Json>(text).expect("a trace")["traces"].clone()
}

fn check_driver<B: Backend>(make: impl Fn() -> B) {
    let mut failures = Vec::new();
    for (dir, file) in scenario_files() {
        let name = file
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let sc = scenario::parse(&std::fs::read_to_string(&file).expect("read")).expect("valid");
        let want = traces(
            &std::fs::read_to_string(dir.join("expected").join(format!("{name}.json")))
                .expect("expected"),
        );
        for run in 1..=RUNS {
            let mut again = 0;
            let (got, outcome) = loop {
                let (text, outcome) = Runner::new(make())
                    .run(&sc)
                    .unwrap_or_else(|e| panic!("{name}: {}", e.0));
                let got = traces(&text);
                if again < REPEATS && differs_in_port_names_only(&got, &want) {
                    again += 1;
                    continue;
                }
                break (got, outcome);
            };
            if got != want || outcome != Outcome::Completed {
                failures.push(format!(
                    "{name} (run {run}, {outcome:?}):\n  want {want}\n  got  {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_scenario_matches_node_on_the_smol_driver() {
    check_driver(SmolBackend::new);
}

#[test]
fn every_scenario_matches_node_on_the_std_driver() {
    check_driver(StdBackend::new);
}

#[test]
fn a_reused_port_is_told_apart_from_a_real_difference() {
    let want = serde_json::json!({"c": ["connectionAttempt 127.0.0.1 $v6.port 4"]});
    let reused = serde_json::json!({"c": ["connectionAttempt 127.0.0.1 $any.port 4"]});
    let other = serde_json::json!({"c": ["connectionAttempt ::1 $v6.port 6"]});
    assert!(differs_in_port_names_only(&reused, &want));
    assert!(!differs_in_port_names_only(&want, &want));
    assert!(!differs_in_port_names_only(&other, &want));
}
