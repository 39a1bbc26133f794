//! Replays the committed seed corpora (`seeds/<target>/`) and the saved findings
//! (`regressions/<target>/`, if any) through the harnesses, on stable and without
//! libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.
//!
//! Known bugs are tolerated unless `SANSNET_FUZZ_STRICT=1` (see `sansnet_fuzz::strict`).

fn replay(target: &str) {
    let n = sansnet_fuzz::replay_committed(target);
    assert!(n > 0, "no seed for target {target}");
}

#[test]
fn parsers_seeds() {
    replay("parsers");
}

#[test]
fn socket_seeds() {
    replay("socket");
}

#[test]
fn server_seeds() {
    replay("server");
}

#[test]
fn sim_seeds() {
    replay("sim");
}

#[test]
fn loose_seeds() {
    replay("loose");
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
        sansnet_fuzz::loose::run(d);
    }
}
