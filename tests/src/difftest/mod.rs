//! The differential tester: random lifecycle scenarios, run by Node (three times: it must
//! agree with itself) and by the drivers, compared per actor; a mismatch is saved and
//! minimized into a scenario ready for `tests/conformance/own/`.
//!
//! `cargo run --release --bin difftest -- --seeds 100 --driver all` (see the binary).

pub mod compare;
pub mod drivers;
pub mod generator;
pub mod minimize;
pub mod model;
pub mod node;
pub mod ops;
pub mod replay;
pub mod rng;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

pub use drivers::Driver;
pub use generator::generate;

use crate::scenario;
use node::{Node, Verdict};

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// How many seeds.
    pub seeds: u64,
    /// The first seed.
    pub start: u64,
    /// The drivers to compare with Node.
    pub drivers: Vec<Driver>,
    /// Minimize mismatches.
    pub minimize: bool,
    /// Minimize every mismatch, not only the first of each kind.
    pub minimize_all: bool,
    /// Candidates a minimization may try.
    pub budget: usize,
    /// Node processes at once.
    pub jobs: usize,
    /// Go on after a seed that mismatched.
    pub keep_going: bool,
    /// The work folder (scenarios, Node's cache, mismatches).
    pub work: PathBuf,
    /// The `node` command.
    pub node: String,
}

impl Config {
    /// The defaults: every driver, minimization on, 3 Node processes,
    /// `target/difftest` of the workspace.
    pub fn new(seeds: u64) -> Config {
        Config {
            seeds,
            start: 0,
            drivers: Driver::ALL.to_vec(),
            minimize: true,
            minimize_all: false,
            budget: 120,
            jobs: 3,
            keep_going: false,
            work: workspace().join("target").join("difftest"),
            node: std::env::var("NODE").unwrap_or_else(|_| "node".into()),
        }
    }
}

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// Node's reference runner.
pub fn node_runner() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/node-runner.js")
}

/// One driver's tally.
#[derive(Clone, Debug)]
pub struct DriverReport {
    /// The driver.
    pub driver: Driver,
    /// Seeds compared with Node.
    pub run: u64,
    /// Seeds whose every run matched.
    pub matched: u64,
    /// Seeds with a mismatching run.
    pub mismatched: Vec<u64>,
    /// Seeds skipped because Node's runs disagreed.
    pub skipped: Vec<u64>,
}

/// A minimized mismatch.
#[derive(Clone, Debug)]
pub struct Minimized {
    /// The seed.
    pub seed: u64,
    /// The driver.
    pub driver: Driver,
    /// Its kind (see [`compare::signature`]).
    pub kind: String,
    /// The minimized scenario.
    pub scenario: PathBuf,
    /// Its steps.
    pub steps: usize,
    /// Node's lines against the driver's, for the differing actors.
    pub differences: String,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per driver.
    pub drivers: Vec<DriverReport>,
    /// Seeds where Node's three runs disagreed.
    pub node_nondeterministic: Vec<u64>,
    /// Seeds Node did not complete (a wait timed out: the generator's model was wrong),
    /// with the reason.
    pub node_failed: Vec<(u64, String)>,
    /// Minimized mismatches.
    pub minimized: Vec<Minimized>,
    /// Kinds of mismatch seen: (driver, kind, seeds).
    pub kinds: Vec<(Driver, String, Vec<u64>)>,
}

impl Report {
    /// How many seed × driver pairs mismatched.
    pub fn mismatches(&self) -> usize {
        self.drivers.iter().map(|d| d.mismatched.len()).sum()
    }
}

/// The outcome of one driver on one seed.
enum Outcome {
    Match,
    Mismatch { got: String, run: usize },
}

fn run_driver(d: Driver, seed: u64, sc: &scenario::Scenario, want: &Json) -> Outcome {
    for run in 1..=d.runs() {
        let got = d.run(seed, sc);
        let same = compare::traces(&got).is_some_and(|g| compare::same(want, &g));
        if !same {
            return Outcome::Mismatch { got, run };
        }
    }
    Outcome::Match
}

/// Runs the seeds of `cfg`; `log` gets one message per event worth telling.
pub fn run(cfg: &Config, log: &mut dyn FnMut(&str)) -> std::io::Result<Report> {
    let node = Node::new(&cfg.node, &node_runner(), &cfg.work, cfg.jobs)?;
    let scenarios_dir = cfg.work.join("scenarios");
    let mismatch_dir = cfg.work.join("mismatch");
    std::fs::create_dir_all(&scenarios_dir)?;
    std::fs::create_dir_all(&mismatch_dir)?;
    let mut report = Report {
        drivers: cfg
            .drivers
            .iter()
            .map(|&driver| DriverReport {
                driver,
                run: 0,
                matched: 0,
                mismatched: Vec::new(),
                skipped: Vec::new(),
            })
            .collect(),
        ..Report::default()
    };
    let mut minimized_kinds: BTreeSet<(Driver, String)> = BTreeSet::new();
    // Per kind, the last minimized scenario (tried first on the other drivers).
    let mut minimized_texts: BTreeMap<String, String> = BTreeMap::new();
    let batch = (cfg.jobs * 2).max(4) as u64;
    let end = cfg.start + cfg.seeds;
    let mut first = cfg.start;
    'batches: while first < end {
        let seeds: Vec<u64> = (first..(first + batch).min(end)).collect();
        first += batch;
        let texts: Vec<String> = seeds.iter().map(|&s| generate(s).text()).collect();
        for (s, t) in seeds.iter().zip(&texts) {
            std::fs::write(scenarios_dir.join(format!("{s}.json")), t)?;
        }
        let verdicts = node.verdicts(&texts);
        for ((&seed, text), verdict) in seeds.iter().zip(&texts).zip(verdicts) {
            let want_text = match verdict {
                Verdict::Trace(t) => t,
                Verdict::Nondeterministic => {
                    log(&format!("seed {seed}: Node's runs disagree; skipped"));
                    report.node_nondeterministic.push(seed);
                    for d in &mut report.drivers {
                        d.skipped.push(seed);
                    }
                    continue;
                }
                Verdict::Failed(code, why) => {
                    log(&format!(
                        "seed {seed}: Node did not complete (exit {code}): {why}"
                    ));
                    report.node_failed.push((seed, why));
                    continue;
                }
            };
            let want = compare::traces(&want_text).expect("a Node trace");
            let sc = scenario::parse(text).expect("generated scenarios parse");
            let mut any = false;
            for i in 0..report.drivers.len() {
                let d = report.drivers[i].driver;
                report.drivers[i].run += 1;
                match run_driver(d, seed, &sc, &want) {
                    Outcome::Match => report.drivers[i].matched += 1,
                    Outcome::Mismatch { got, run } => {
                        any = true;
                        report.drivers[i].mismatched.push(seed);
                        let diffs =
                            compare::diff(&want, &compare::traces(&got).unwrap_or_default());
                        let kind = compare::signature(&diffs);
                        match report.kinds.iter_mut().find(|k| k.0 == d && k.1 == kind) {
                            Some(k) => k.2.push(seed),
                            None => report.kinds.push((d, kind.clone(), vec![seed])),
                        }
                        let base = mismatch_dir.join(format!("{seed}-{}", d.name()));
                        std::fs::write(base.with_extension("json"), text)?;
                        std::fs::write(base.with_extension("node.json"), &want_text)?;
                        std::fs::write(base.with_extension("got.json"), &got)?;
                        log(&format!(
                            "seed {seed} {}: MISMATCH (run {run} of {}) [{kind}]\n{}  saved {}",
                            d.name(),
                            d.runs(),
                            compare::describe(&diffs, d.name(), false),
                            base.with_extension("json").display()
                        ));
                        let new_kind = minimized_kinds.insert((d, kind.clone()));
                        if cfg.minimize && (new_kind || cfg.minimize_all) {
                            let shrink = Shrink {
                                node: &node,
                                driver: d,
                                seed,
                                kind: &kind,
                            };
                            let hint = minimized_texts.get(&kind);
                            if let Some((m, t)) =
                                minimize_one(cfg, &shrink, text, &base, hint, log)?
                            {
                                report.minimized.push(m);
                                minimized_texts.insert(kind.clone(), t);
                            }
                        } else if cfg.minimize {
                            log("  (a kind already minimized in this run; --minimize-all minimizes every one)");
                        }
                    }
                }
            }
            if any && !cfg.keep_going {
                log("stopping at the first mismatching seed (--keep-going runs them all)");
                break 'batches;
            }
        }
    }
    Ok(report)
}

/// One mismatch to minimize: a candidate counts when Node agrees with itself on it and
/// the driver still mismatches it the same way.
struct Shrink<'a> {
    node: &'a Node,
    driver: Driver,
    seed: u64,
    kind: &'a str,
}

impl Shrink<'_> {
    /// Node's trace and the driver's, when `text` still shows the mismatch.
    fn check(&self, text: &str) -> Option<(String, String)> {
        let sc = scenario::parse(text).ok()?;
        let Some(Verdict::Trace(want_text)) = self.node.verdicts(&[text.to_string()]).pop() else {
            return None;
        };
        let want = compare::traces(&want_text)?;
        match run_driver(self.driver, self.seed, &sc, &want) {
            Outcome::Match => None,
            Outcome::Mismatch { got, .. } => {
                let diffs = compare::diff(&want, &compare::traces(&got).unwrap_or_default());
                (compare::signature(&diffs) == self.kind).then_some((want_text, got))
            }
        }
    }
}

/// Minimizes one mismatch, keeping its kind; saves `BASE.min.json` (+ `.min.node.json`,
/// `.min.got.json`). `hint`: a scenario minimized for the same kind on another driver, used
/// as it is when it shows the mismatch here too.
fn minimize_one(
    cfg: &Config,
    shrink: &Shrink<'_>,
    text: &str,
    base: &Path,
    hint: Option<&String>,
    log: &mut dyn FnMut(&str),
) -> std::io::Result<Option<(Minimized, String)>> {
    let original: Json = serde_json::from_str(text).expect("generated JSON");
    let steps = original["steps"].as_array().cloned().unwrap_or_default();
    let make = |steps: &[Json]| -> String {
        let mut sc = original.clone();
        sc["steps"] = Json::Array(steps.to_vec());
        generator::scenario_text(&sc)
    };
    let reused = hint.and_then(|h| shrink.check(h).map(|r| (h.clone(), r)));
    let (min_text, (want_text, got), how) = if let Some((h, r)) = reused {
        (h, r, "the same as on another driver".to_string())
    } else {
        let mut tries = 0;
        let mut best: Option<(String, String)> = None;
        let mut check = |steps: Option<Vec<Json>>| -> bool {
            tries += 1;
            let Some(steps) = steps else {
                return false;
            };
            match shrink.check(&make(&steps)) {
                Some(r) => {
                    best = Some(r);
                    true
                }
                None => false,
            }
        };
        // Items when the steps are the generator's (the waits then follow the operations),
        // else plain steps.
        let items =
            replay::parse(&steps).filter(|it| replay::build(it).as_deref() == Some(&steps[..]));
        let min = match items {
            Some(items) => {
                let min = minimize::ddmin_with(
                    &items,
                    |i| items[i].droppable(),
                    replay::with_dependents,
                    cfg.budget,
                    |cand| check(replay::build(cand)),
                );
                let min =
                    minimize::simplify(&min, cfg.budget / 2, |cand| check(replay::build(cand)));
                replay::build(&min).expect("a minimized scenario builds")
            }
            None => {
                let min = minimize::ddmin(&steps, cfg.budget, |cand| check(Some(cand.to_vec())));
                minimize::simplify(&min, cfg.budget / 2, |cand| check(Some(cand.to_vec())))
            }
        };
        let Some(best) = best else {
            log(&format!(
                "  minimizing: no smaller scenario keeps this mismatch ({tries} tries)"
            ));
            return Ok(None);
        };
        let how = format!("{} -> {} steps, {tries} tries", steps.len(), min.len());
        (make(&min), best, how)
    };
    let file = base.with_extension("min.json");
    std::fs::write(&file, &min_text)?;
    std::fs::write(base.with_extension("min.node.json"), &want_text)?;
    std::fs::write(base.with_extension("min.got.json"), &got)?;
    let want = compare::traces(&want_text).unwrap_or_default();
    let diffs = compare::diff(&want, &compare::traces(&got).unwrap_or_default());
    let d = shrink.driver;
    let seed = shrink.seed;
    let differences = compare::describe(&diffs, d.name(), true);
    let min_json: Json = serde_json::from_str(&min_text).unwrap_or_default();
    let steps = min_json["steps"].as_array().map_or(0, Vec::len);
    // A scenario reused from another seed keeps that seed's name.
    let name = min_json["name"].as_str().unwrap_or("difftest").to_string();
    log(&format!(
        "  minimized ({how}): {}\n{}  to keep it: cp {} tests/conformance/own/scenarios/{name}.json; cp {} tests/conformance/own/expected/{name}.json",
        file.display(),
        differences,
        file.display(),
        base.with_extension("min.node.json").display(),
    ));

    Ok(Some((
        Minimized {
            seed,
            driver: d,
            kind: shrink.kind.to_string(),
            scenario: file,
            steps,
            differences,
        },
        min_text,
    )))
}
