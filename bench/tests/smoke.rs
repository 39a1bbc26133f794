//! One tiny iteration of every workload against every server: checks that the servers
//! start, echo correctly and close cleanly, and that each workload yields a finite
//! measurement (and ping-pong its round trips' percentiles). Nothing is timed or
//! compared.

use std::path::Path;

use sansnet_bench::servers::{node_version, Bins, Kind, ServerProcess};
use sansnet_bench::workloads::{Params, Workload};

fn bins() -> Bins {
    let raw = Path::new(env!("CARGO_BIN_EXE_raw-echo"));
    let bins = Bins::in_dir(raw.parent().expect("a directory")).expect("the server binaries");
    assert_eq!(bins.sansnet, Path::new(env!("CARGO_BIN_EXE_sansnet-echo")));
    bins
}

fn smoke(kind: Kind) {
    let bins = bins();
    let p = Params::smoke();
    let server = ServerProcess::start(kind, &bins).expect("server starts");
    for w in [
        Workload::Throughput,
        Workload::ParallelThroughput,
        Workload::Latency,
        Workload::PingPong,
        Workload::ConnectionRate,
    ] {
        let x = w
            .run(&server, &p)
            .unwrap_or_else(|e| panic!("{w:?} on {kind}: {e}"));
        assert!(
            x.value.is_finite() && x.value > 0.0,
            "{w:?} on {kind}: {x:?}"
        );
        let cpu = x.server_cpu.expect("the server's CPU time");
        assert!(cpu.is_finite() && cpu >= 0.0, "{w:?} on {kind}: {x:?}");
        match x.round_trip {
            Some(r) => assert!(
                w.has_percentiles() && r.p50 > 0.0 && r.p50 <= r.p99 && r.p99.is_finite(),
                "{w:?} on {kind}: {x:?}"
            ),
            None => assert!(!w.has_percentiles(), "{w:?} on {kind}: {x:?}"),
        }
    }
    drop(server);
    let fresh = ServerProcess::start(kind, &bins).expect("server starts");
    let x = Workload::IdleMemory
        .run(&fresh, &p)
        .unwrap_or_else(|e| panic!("memory on {kind}: {e}"));
    assert!(x.value.is_finite(), "memory on {kind}: {x:?}");
    assert_eq!(x.server_cpu, None);
}

#[test]
fn sansnet_echo_serves_every_workload() {
    smoke(Kind::Sansnet);
}

#[test]
fn raw_echo_serves_every_workload() {
    smoke(Kind::Raw);
}

#[test]
fn sansnet_std_echo_serves_every_workload() {
    smoke(Kind::SansnetStd);
}

#[test]
fn sansnet_std_threads_echo_serves_every_workload() {
    smoke(Kind::SansnetStdThreads);
}

#[test]
fn raw_std_echo_serves_every_workload() {
    smoke(Kind::RawStd);
}

#[test]
fn node_echo_serves_every_workload() {
    if node_version().is_none() {
        eprintln!("node not found: skipped");
        return;
    }
    smoke(Kind::Node);
}
