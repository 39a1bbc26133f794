//! Replays every committed seed and regression input of every fuzz target
//! (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`) through the harness library,
//! built without libFuzzer, so that `cargo test --workspace` (and CI) runs them on stable
//! with no C++ compiler. Known, recorded bugs are tolerated unless `SANSNET_FUZZ_STRICT=1`
//! (see `fuzz/README.md`).

#[test]
fn every_target_has_seeds_and_they_pass() {
    for (target, _) in sansnet_fuzz::TARGETS {
        let n = sansnet_fuzz::replay_committed(target);
        assert!(n > 0, "no committed input for fuzz target {target}");
    }
}

/// Short and truncated inputs of a fixed pattern through every harness.
#[test]
fn short_inputs_do_not_panic() {
    let data: Vec<u8> = (0..=255u8).cycle().take(300).collect();
    for len in [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 300] {
        for (_, run) in sansnet_fuzz::TARGETS {
            run(&data[..len]);
        }
    }
}
