//! A simulation at scale: 10 hosts, 1,000 connections, with faults (a host crashes and
//! restarts, another is partitioned and repaired), in virtual time. Prints how long it
//! took in real time and what happened.
//!
//! `cargo run --release -p sansnet-smol --example sim_scale [-- SEED]`

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::sim::Sim;
use sansnet_smol::{
    connect, sleep, spawn, timeout, ConnectOptions, ListenOptions, Server, ServerOptions,
};

const HOSTS: u32 = 10;
const CONNECTIONS: u32 = 1000;
const PORT: u16 = 8080;

fn ip(host: u32) -> IpAddr {
    IpAddr::from([10, 0, 0, 1 + host as u8])
}

/// Each host's server: echoes every connection until it ends.
async fn serve(ip: IpAddr) {
    let server = Server::new(ServerOptions::default());
    if server
        .listen(ListenOptions::tcp(Some(ip.to_string()), PORT))
        .await
        .is_err()
    {
        return;
    }
    while let Ok(mut conn) = server.accept().await {
        spawn(async move {
            let mut buf = [0u8; 256];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .detach();
    }
}

/// One client: connects to `host`, sends a message, reads the echo, ends; retries with
/// backoff on failure. Returns the attempts it took.
async fn client(host: String, id: u32) -> u32 {
    let msg = format!("hello from client {id}");
    let mut backoff = Duration::from_millis(20);
    for attempt in 1.. {
        let once = async {
            let mut c = connect(ConnectOptions::tcp(host.as_str(), PORT)).await?;
            c.write_all(msg.as_bytes()).await?;
            let mut buf = vec![0u8; msg.len()];
            c.read_exact(&mut buf).await?;
            c.close().await?;
            std::io::Result::Ok(buf)
        };
        match timeout(Duration::from_millis(500), once).await {
            Ok(Ok(buf)) if buf == msg.as_bytes() => return attempt,
            _ => {
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(400));
            }
        }
    }
    unreachable!()
}

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let started = std::time::Instant::now();
    let mut sim = Sim::new(seed);
    for h in 0..HOSTS {
        sim.add_host(&format!("host{h}"), &[ip(h)]);
    }
    let handle = sim.handle();
    // Links between hosts: 1 ms plus up to 2 ms of jitter, drawn from the seed.
    handle.set_network_delay(Duration::from_millis(1), Duration::from_millis(2));
    let retries = Arc::new(AtomicU32::new(0));
    let r = retries.clone();
    sim.run(async move {
        for h in 0..HOSTS {
            handle.spawn_on(&format!("host{h}"), serve(ip(h))).detach();
        }
        let faults = handle.clone();
        spawn(async move {
            sleep(Duration::from_millis(30)).await;
            faults.crash("host3");
            faults.partition(ip(5));
            sleep(Duration::from_millis(200)).await;
            faults.spawn_on("host3", serve(ip(3))).detach();
            sleep(Duration::from_millis(100)).await;
            faults.repair(ip(5));
        })
        .detach();
        let mut tasks = Vec::new();
        for id in 0..CONNECTIONS {
            let host = format!("host{}", id % HOSTS);
            let r = r.clone();
            tasks.push(spawn(async move {
                // Spread the clients over the first 100 ms.
                sleep(Duration::from_micros(u64::from(id) * 100)).await;
                let attempts = client(host, id).await;
                r.fetch_add(attempts - 1, Ordering::Relaxed);
            }));
        }
        for t in tasks {
            t.await;
        }
    });
    let real = started.elapsed();
    println!(
        "seed {seed}: {HOSTS} hosts, {CONNECTIONS} connections echoed ({} retries), {:?} of virtual time in {:.3} s of real time; {} trace lines",
        retries.load(Ordering::Relaxed),
        sim.elapsed(),
        real.as_secs_f64(),
        sim.trace().lines().count()
    );
}
