//! The seeded fault sweep (`sim-sweep`) on a few seeds: every invariant holds, a seed
//! replays to the same trace, different seeds give different traces, and the byte rules
//! did apply (the sweep makes connections and carries data).

use sansnet_tests::sweep::run_seed;

#[test]
fn a_few_seeds_keep_the_invariants_and_replay() {
    let mut data = 0;
    let mut connections = 0;
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 0..24 {
        let a = run_seed(seed, false);
        let b = run_seed(seed, false);
        assert_eq!(a, b, "seed {seed} does not replay");
        hashes.insert(a.hash);
        data += a.streams.data_checked;
        connections += a.servers.0;
    }
    assert_eq!(hashes.len(), 24, "different seeds gave the same trace");
    assert!(
        connections > 24,
        "only {connections} connections in 24 seeds"
    );
    assert!(data > 24, "only {data} 'data' chunks checked in 24 seeds");
}

/// CI's sweep: 300 seeds (the `sim-sweep` binary's first 300), every invariant checked
/// after every step.
#[test]
fn three_hundred_seeds_keep_the_invariants() {
    for seed in 0..300 {
        // A broken invariant panics with the seed and the command that replays it.
        let r = run_seed(seed, false);
        assert!(r.ops > 0, "seed {seed} ran nothing");
    }
}
