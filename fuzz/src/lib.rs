//! Fuzz harnesses over the sansnet core, shared by the cargo-fuzz targets in
//! `fuzz_targets/` and by the corpus replay test (`tests/replay.rs`).
//!
//! Each module has a `run(data)` that decodes the bytes into calls on the core and
//! panics when an invariant breaks; `decode(data)` (where there is one) prints the calls
//! an input stands for.
//!
//! - [`parsers`]: address grammars and the loose (JavaScript-like) argument faces;
//! - [`socket`]: one `Socket` under arbitrary calls, completions and time;
//! - [`server`]: one `Server` under arbitrary listen/close/incoming sequences;
//! - [`sim`]: small programs on the deterministic simulator, run twice and compared.
#![forbid(unsafe_code)]

pub mod check;
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
