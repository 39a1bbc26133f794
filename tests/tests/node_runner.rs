//! The Node reference runner (`tests/conformance/node-runner.js`) against the expected traces.
//!
//! For every scenario in `tests/conformance/scenarios/` that is not marked
//! `"reference": "node23-docs"` (those describe Node 23 features that the local Node may
//! lack), this runs `node tests/conformance/node-runner.js FILE`, requires exit status 0, and
//! compares its trace with `tests/conformance/expected/FILE` per actor, line by line (the
//! order of the actors is ignored, as FORMAT.md says). Every run has its own time limit and
//! is killed when it overruns. A second test checks the runner's exit statuses 1 and 2.
//!
//! Without `node` on PATH both tests print "skipping: node not found" and pass.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a single runner process may take; the scenarios here take well under a second.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

/// Whether a `node` executable can be started at all.
fn node_available() -> bool {
    match Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("cannot start node: {e}"),
    }
}

/// What one run of the runner gave.
#[derive(Debug)]
struct Run {
    /// `None` when the run overran [`RUN_TIMEOUT`] and was killed.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        // A read error only truncates the output, which the comparison then reports.
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` until `deadline`, killing it on overrun.
fn wait_bounded(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            // It may exit between the check and the kill; either way it is reaped below.
            let _ = child.kill();
            child.wait().expect("reaping node");
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// `node node-runner.js SCENARIO`, bounded by [`RUN_TIMEOUT`].
fn run_runner(scenario: &Path) -> Run {
    let mut child = Command::new("node")
        .arg(conformance_dir().join("node-runner.js"))
        .arg(scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting node");
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_bounded(&mut child, Instant::now() + RUN_TIMEOUT);
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// The differences between two canonical traces, one message each; empty when they agree.
fn trace_differences(got: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if got["name"] != expected["name"] {
        out.push(format!(
            "name: got {}, expected {}",
            got["name"], expected["name"]
        ));
    }
    let (Some(got), Some(expected)) = (got["traces"].as_object(), expected["traces"].as_object())
    else {
        out.push("\"traces\" is not an object".to_owned());
        return out;
    };
    for (actor, want) in expected {
        let Some(have) = got.get(actor) else {
            out.push(format!("actor {actor}: missing"));
            continue;
        };
        let (Some(have), Some(want)) = (have.as_array(), want.as_array()) else {
            out.push(format!("actor {actor}: not a list of lines"));
            continue;
        };
        for i in 0..have.len().max(want.len()) {
            let line = |l: Option<&Value>| l.map_or_else(|| "(none)".to_owned(), Value::to_string);
            let (h, w) = (have.get(i), want.get(i));
            if h != w {
                out.push(format!(
                    "actor {actor}, line {}: got {}, expected {}",
                    i + 1,
                    line(h),
                    line(w)
                ));
            }
        }
    }
    for actor in got.keys().filter(|a| !expected.contains_key(*a)) {
        out.push(format!("actor {actor}: not expected: {}", got[actor]));
    }
    out
}

#[test]
fn node_runner_matches_expected_traces() {
    if !node_available() {
        println!("skipping: node not found");
        return;
    }
    // The shared scenarios, and the project's own (whose expected traces Node printed).
    let base = conformance_dir();
    let mut scenarios: Vec<(PathBuf, PathBuf)> = Vec::new();
    for dir in [base.clone(), base.join("own")] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("scenarios"))
            .expect("listing scenarios")
            .map(|e| e.expect("listing scenarios").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        found.sort();
        scenarios.extend(found.into_iter().map(|p| (dir.clone(), p)));
    }

    let mut checked = 0;
    let mut failures = Vec::new();
    for (dir, scenario) in &scenarios {
        let file = scenario.file_name().expect("a file name");
        if read_json(scenario)["reference"] == "node23-docs" {
            println!("skip  {} (node23-docs)", file.to_string_lossy());
            continue;
        }
        checked += 1;
        let started = Instant::now();
        let run = run_runner(scenario);
        let mut problems = Vec::new();
        match run.status {
            None => problems.push(format!("killed after {RUN_TIMEOUT:?}")),
            Some(s) if !s.success() => problems.push(format!("exit status {s}")),
            Some(_) => {}
        }
        match serde_json::from_str::<Value>(&run.stdout) {
            Ok(got) => {
                let expected = read_json(&dir.join("expected").join(file));
                problems.extend(trace_differences(&got, &expected));
            }
            Err(e) => problems.push(format!("stdout is not JSON ({e}): {:?}", run.stdout)),
        }
        let verdict = if problems.is_empty() { "ok" } else { "FAIL" };
        println!(
            "{verdict:<5} {} ({} ms)",
            file.to_string_lossy(),
            started.elapsed().as_millis()
        );
        if !problems.is_empty() {
            if !run.stderr.is_empty() {
                problems.push(format!("stderr: {}", run.stderr.trim_end()));
            }
            failures.push(format!(
                "{}:\n  {}",
                file.to_string_lossy(),
                problems.join("\n  ")
            ));
        }
    }
    assert!(checked > 0, "no scenarios found in {}", base.display());
    assert!(
        failures.is_empty(),
        "{} of {checked} scenarios differ from expected/:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn node_runner_exit_statuses() {
    if !node_available() {
        println!("skipping: node not found");
        return;
    }
    let dir = std::env::temp_dir().join(format!("sansnet-node-runner-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating a temporary folder");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("writing a scenario");
        path
    };

    // A wait that times out: its line, exit 1. The server never listened, so it is not open.
    let timed_out = write(
        "timeout.json",
        r#"{"name": "t", "settle": 100, "steps": [
            {"do": "createServer", "actor": "srv"},
            {"wait": "srv:listening", "timeout": 50}
        ]}"#,
    );
    let run = run_runner(&timed_out);
    assert_eq!(run.status.and_then(|s| s.code()), Some(1), "{run:?}");
    let got: Value = serde_json::from_str(&run.stdout).expect("a trace");
    let expected = serde_json::json!({
        "name": "t",
        "traces": {"srv": ["!timeout waiting for listening"]}
    });
    assert_eq!(got, expected);

    // Not a scenario: exit 2, nothing on stdout.
    let invalid = write(
        "invalid.json",
        r#"{"name": "x", "steps": [{"do": "frob", "actor": "a"}]}"#,
    );
    let run = run_runner(&invalid);
    assert_eq!(run.status.and_then(|s| s.code()), Some(2), "{run:?}");
    assert_eq!(run.stdout, "");

    std::fs::remove_dir_all(&dir).expect("removing the temporary folder");
}
