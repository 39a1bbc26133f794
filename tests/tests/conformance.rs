//! Every scenario in `tests/conformance/scenarios` (copied from shared/conformance) and in
//! `tests/conformance/own/scenarios` (the project's own, with the traces Node printed for
//! them through `tests/conformance/node-runner.js`) run through the conformance runner: on the simulator, and the pure ones on the core driver,
//! each compared per actor, line by line, with the trace Node printed
//! (`tests/conformance/expected`). Also: the same seed gives the same trace byte for byte,
//! and different seeds give the same trace (the scenarios have no timing races).

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use sansnet_tests::backend::{Backend, SimBackend};
use sansnet_tests::runner::{Outcome, Runner};
use sansnet_tests::scenario;
use sansnet_tests::smol_backend::sim::SmolSimBackend;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

fn scenarios() -> Vec<(String, scenario::Scenario, Json)> {
    let mut out = scenarios_in(&dir());
    out.extend(scenarios_in(&dir().join("own")));
    assert!(out.len() >= 23, "the scenarios were not found");
    out
}

fn scenarios_in(dir: &Path) -> Vec<(String, scenario::Scenario, Json)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("scenarios"))
        .expect("scenarios folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for f in files {
        let stem = f.file_stem().expect("stem").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&f).expect("read scenario");
        let sc = scenario::parse(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let expected = std::fs::read_to_string(dir.join("expected").join(format!("{stem}.json")))
            .expect("expected trace");
        out.push((
            stem,
            sc,
            serde_json::from_str(&expected).expect("expected JSON"),
        ));
    }
    out
}

/// Per-actor comparison (actor order is not part of the contract).
fn mismatches(got: &Json, want: &Json) -> Vec<String> {
    let (g, w) = (&got["traces"], &want["traces"]);
    let mut out = Vec::new();
    let (Some(gm), Some(wm)) = (g.as_object(), w.as_object()) else {
        return vec!["traces missing".into()];
    };
    for (actor, lines) in wm {
        if gm.get(actor) != Some(lines) {
            out.push(format!(
                "actor {actor}:\n  want {}\n  got  {}",
                lines,
                gm.get(actor).map_or("(absent)".into(), Json::to_string)
            ));
        }
    }
    for actor in gm.keys() {
        if !wm.contains_key(actor) {
            out.push(format!("unexpected actor {actor}: {}", gm[actor]));
        }
    }
    out
}

/// Runs every scenario on the backends `make(seed)` gives, for each seed, against Node.
fn every_scenario_matches_node_on<B: Backend>(
    driver: &str,
    seeds: &[u64],
    make: impl Fn(u64) -> B,
) {
    let mut failures = Vec::new();
    for (name, sc, want) in scenarios() {
        for &seed in seeds {
            let (text, outcome) = Runner::new(make(seed))
                .run(&sc)
                .unwrap_or_else(|e| panic!("{name}: needs network {}", e.0));
            let got: Json = serde_json::from_str(&text).expect("runner prints JSON");
            let m = mismatches(&got, &want);
            if !m.is_empty() || outcome != Outcome::Completed {
                failures.push(format!(
                    "{name} ({outcome:?}, replay: --driver {driver} --seed {seed}):\n{}",
                    m.join("\n")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_scenario_matches_node_on_the_simulator() {
    every_scenario_matches_node_on("sim", &[1], SimBackend::new);
}

#[test]
fn every_scenario_matches_node_on_sansnet_smol_in_its_simulated_runtime() {
    every_scenario_matches_node_on("smol-sim", &[1, 0xdead_beef], SmolSimBackend::new);
}

#[test]
fn pure_scenarios_match_node_on_the_core_driver_byte_for_byte() {
    let mut pure = 0;
    for (name, sc, want) in scenarios() {
        let Ok((text, outcome)) = Runner::core().run(&sc) else {
            continue;
        };
        pure += 1;
        assert_eq!(outcome, Outcome::Completed, "{name}");
        let got: Json = serde_json::from_str(&text).expect("runner prints JSON");
        assert!(mismatches(&got, &want).is_empty(), "{name}: {text}");
        let file = format!("{}\n", sansnet_tests::trace::pretty(&want));
        assert_eq!(format!("{text}\n"), file, "{name}: not byte-identical");
    }
    assert!(pure >= 1, "no pure scenario ran on the core driver");
}

#[test]
fn network_operations_are_refused_by_the_core_driver() {
    let sc = scenario::parse(r#"{"name":"n","steps":[{"do":"createServer","actor":"s"}]}"#)
        .expect("valid");
    let err = Runner::core().run(&sc).expect_err("needs a network");
    assert_eq!(err.0, "createServer");
}

#[test]
fn runs_replay_byte_for_byte_and_do_not_depend_on_the_seed() {
    for (name, sc, _) in scenarios() {
        let a = Runner::new(SimBackend::new(7)).run(&sc).expect("runs").0;
        let b = Runner::new(SimBackend::new(7)).run(&sc).expect("runs").0;
        assert_eq!(a, b, "{name}: same seed, different trace");
        for seed in [2, 0xdead_beef, u64::MAX] {
            let c = Runner::new(SimBackend::new(seed)).run(&sc).expect("runs").0;
            assert_eq!(a, c, "{name}: seed {seed} changed the trace");
        }
    }
}

#[test]
fn invalid_scenarios_are_rejected() {
    assert!(scenario::parse("{").is_err());
    assert!(scenario::parse(r#"{"name":"x"}"#).is_err());
    assert!(scenario::parse(r#"{"name":"x","steps":[{"wat":1}]}"#).is_err());
    assert!(scenario::parse(r#"{"name":"x","steps":[{"do":"connect"}]}"#).is_err());
}

/// Every socket of every scenario's simulated run, recorded as `(Instant, Input)` pairs,
/// replays from its starting state to the same outputs and the same final state.
#[test]
fn recorded_runs_replay_to_the_same_outputs() {
    let mut replayed = 0;
    for (name, sc, _) in scenarios() {
        let (_, _, backend) = Runner::new(SimBackend::recording(3))
            .run_keeping(&sc)
            .expect("runs");
        let Some(mut backend) = backend else { continue };
        let sim = backend.sim();
        for i in 0..sim.socket_count() {
            let h = sansnet::sim::SocketHandle(i);
            let rec = sim
                .socket(h, |s, _| s.take_recording())
                .unwrap_or_else(|| panic!("{name}: socket {i} recorded nothing"));
            let (socket, outcomes) = rec.replay();
            assert_eq!(
                outcomes,
                rec.outcomes(),
                "{name}: socket {i} replayed otherwise"
            );
            assert_eq!(
                format!("{socket:?}"),
                format!("{:?}", sim.socket_ref(h)),
                "{name}: socket {i} ended elsewhere"
            );
            replayed += 1;
        }
    }
    assert!(replayed > 100, "only {replayed} sockets replayed");
}
