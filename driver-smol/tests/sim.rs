//! The simulated runtime: one application, unchanged, on real loopback sockets and in
//! virtual time; the same seed gives the same trace, different seeds other interleavings.

use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::sim::{check_determinism, Sim};
use sansnet_smol::{
    connect, sleep, spawn, timeout, ConnectOptions, ListenOptions, Server, ServerOptions,
};

/// An echo server and `clients` concurrent clients, each sending `rounds` messages and
/// reading each echo back; returns what every client read.
async fn echo_app(clients: usize, rounds: usize) -> Vec<Vec<u8>> {
    echo_app_on("127.0.0.1", clients, rounds).await
}

/// [`echo_app`] with the server on `ip`.
async fn echo_app_on(ip: &'static str, clients: usize, rounds: usize) -> Vec<Vec<u8>> {
    let server = Server::new(ServerOptions::default());
    let addr = server
        .listen(ListenOptions::tcp(Some(ip.into()), 0))
        .await
        .expect("listen");
    let port = addr.port().expect("a TCP port");
    spawn(async move {
        loop {
            let Ok(mut s) = server.accept().await else {
                return;
            };
            spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = s.close().await;
            })
            .detach();
        }
    })
    .detach();
    let mut tasks = Vec::new();
    for c in 0..clients {
        tasks.push(spawn(async move {
            let mut sock = connect(ConnectOptions::tcp(ip, port))
                .await
                .expect("connect");
            let mut got = Vec::new();
            for r in 0..rounds {
                let msg = format!("client {c} round {r};");
                sock.write_all(msg.as_bytes()).await.expect("write");
                let mut buf = vec![0u8; msg.len()];
                sock.read_exact(&mut buf).await.expect("read");
                got.extend_from_slice(&buf);
                sleep(Duration::from_millis(10 + (c as u64) * 3)).await;
            }
            sock.close().await.expect("end");
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.push(t.await);
    }
    all
}

fn expected(clients: usize, rounds: usize) -> Vec<Vec<u8>> {
    (0..clients)
        .map(|c| {
            (0..rounds)
                .map(|r| format!("client {c} round {r};"))
                .collect::<String>()
                .into_bytes()
        })
        .collect()
}

#[test]
fn the_same_application_runs_on_loopback_and_in_the_simulation() {
    let real = smol::block_on(timeout(Duration::from_secs(20), echo_app(3, 4))).expect("in time");
    assert_eq!(real, expected(3, 4));
    let mut sim = Sim::new(1);
    let simulated = sim.run(echo_app(3, 4));
    assert_eq!(simulated, expected(3, 4));
    // Virtual time: the clients slept at least 4 × 10 ms each.
    assert!(
        sim.elapsed() >= Duration::from_millis(40),
        "{:?}",
        sim.elapsed()
    );
}

#[test]
fn a_seed_gives_the_same_trace_every_time() {
    let mut first = Sim::new(42);
    first.run(echo_app(3, 3));
    let trace = first.trace();
    assert!(trace.lines().count() > 20, "{trace}");
    for _ in 0..100 {
        let mut again = Sim::new(42);
        again.run(echo_app(3, 3));
        assert_eq!(again.trace(), trace);
    }
    check_determinism(7, |sim| sim.run(echo_app(2, 2)));
}

/// The order of what happened in a run of `seed` over links with jitter (ports aside).
fn interleaving(seed: u64) -> String {
    let mut sim = Sim::new(seed);
    sim.add_host("server", &["10.0.0.2".parse().expect("an IP")]);
    sim.handle()
        .set_network_delay(Duration::from_millis(1), Duration::from_millis(2));
    assert_eq!(sim.run(echo_app_on("10.0.0.2", 3, 2)), expected(3, 2));
    sim.trace()
        .lines()
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .filter(|l| !l.starts_with("fault"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn different_seeds_explore_different_interleavings() {
    let traces: Vec<String> = (0..8).map(interleaving).collect();
    let distinct: std::collections::BTreeSet<&String> = traces.iter().collect();
    assert!(
        distinct.len() >= 4,
        "only {} interleavings in 8 seeds",
        distinct.len()
    );
    assert_eq!(
        interleaving(3),
        traces[3],
        "a seed replays its interleaving"
    );
}

#[test]
fn a_deadlock_panics_with_its_seed() {
    let r = std::panic::catch_unwind(|| {
        let mut sim = Sim::new(3);
        sim.run(async {
            let server = Server::new(ServerOptions::default());
            server
                .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
                .await
                .expect("listen");
            // Nobody connects: accept waits forever.
            let _ = server.accept().await;
        });
    });
    let err = r.expect_err("a deadlock panics");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("seed 3"), "{msg}");
}

#[test]
fn timers_run_in_virtual_time() {
    let mut sim = Sim::new(5);
    let started = std::time::Instant::now();
    let r = sim
        .run(async { timeout(Duration::from_secs(3600), sleep(Duration::from_secs(7200))).await });
    assert_eq!(
        r.expect_err("times out").kind(),
        std::io::ErrorKind::TimedOut
    );
    assert_eq!(sim.elapsed(), Duration::from_secs(3600));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
#[ignore = "prints two seeds' traces (cargo test -p sansnet-smol --test sim -- --ignored --nocapture)"]
fn print_two_traces() {
    for seed in [1, 2] {
        let mut sim = Sim::new(seed);
        sim.add_host("server", &["10.0.0.2".parse().expect("an IP")]);
        sim.handle()
            .set_network_delay(Duration::from_millis(1), Duration::from_millis(2));
        sim.run(echo_app_on("10.0.0.2", 2, 2));
        println!("== seed {seed}\n{}", sim.trace());
    }
}
