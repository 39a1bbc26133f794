//! Replays the committed seed corpora (`seeds/<target>/`) and the saved findings
//! (`regressions/<target>/`, if any) through the harnesses, on stable and without
//! libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! Known bugs are tolerated unless `SANSNET_FUZZ_STRICT=1` (see `sansnet_fuzz::strict`).

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
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
    assert!(n > 0, "no seed for target {target}");
}

#[test]
fn parsers_seeds() {
    replay("parsers", sansnet_fuzz::parsers::run);
}

#[test]
fn socket_seeds() {
    replay("socket", sansnet_fuzz::socket::run);
}

#[test]
fn server_seeds() {
    replay("server", sansnet_fuzz::server::run);
}

#[test]
fn sim_seeds() {
    replay("sim", sansnet_fuzz::sim::run);
}

/// Inputs of every length up to a few hundred bytes of a fixed pattern: a smoke test that
/// the decoders cope with short and truncated inputs.
#[test]
fn short_inputs_do_not_panic() {
    let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    for len in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 300] {
        let d = &data[..len];
        sansnet_fuzz::parsers::run(d);
        sansnet_fuzz::socket::run(d);
        sansnet_fuzz::server::run(d);
        sansnet_fuzz::sim::run(d);
    }
}
