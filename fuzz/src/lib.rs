//! Fuzz harnesses over the sansnet core, shared by the cargo-fuzz targets in
//! `fuzz_targets/` and by the corpus replay tests (`tests/replay.rs` here, and
//! `tests/tests/fuzz_corpus.rs` in the root workspace, which builds this library without
//! libFuzzer: the `libfuzzer` feature is off there). The invariants themselves live in
//! the core, [`sansnet::sim::check`], shared with the seeded sweep (`sim-sweep`).
//!
//! Each module has a `run(data)` that decodes the bytes into calls on the core and
//! panics when an invariant breaks; `decode(data)` (where there is one) prints the calls
//! an input stands for.
//!
//! - [`parsers`]: address grammars and the loose (JavaScript-like) argument faces;
//! - [`socket`]: one `Socket` under arbitrary calls, completions and time;
//! - [`server`]: one `Server` under arbitrary listen/close/incoming sequences;
//! - [`sim`]: small programs on the deterministic simulator, run twice and compared;
//! - [`loose`]: arbitrary argument lists to every call of the loose (JavaScript) face.
#![forbid(unsafe_code)]

pub mod loose;
pub mod parsers;
pub mod server;
pub mod sim;
pub mod socket;
pub mod value;

/// Whether known, already reported bugs make a run fail too (`SANSNET_FUZZ_STRICT=1`).
/// Off by default, so that fuzzing goes past them to find new ones.
pub fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("SANSNET_FUZZ_STRICT").is_some_and(|v| v == "1"))
}

/// A target's entry point: runs one input, panics on a finding.
pub type Run = fn(&[u8]);

/// Every target, by name, with its `run`.
pub const TARGETS: [(&str, Run); 5] = [
    ("parsers", parsers::run),
    ("socket", socket::run),
    ("server", server::run),
    ("sim", sim::run),
    ("loose", loose::run),
];

/// Replays the committed inputs of `target` — `seeds/<target>/`, then
/// `regressions/<target>/` (if any), each sorted by name — through its harness; returns
/// how many ran. A finding panics, after printing the file's path.
pub fn replay_committed(target: &str) -> usize {
    let Some((_, run)) = TARGETS.iter().find(|(n, _)| *n == target) else {
        panic!("no fuzz target {target}");
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            eprintln!("{target}: {}", f.display());
            run(&data);
            n += 1;
        }
    }
    n
}
