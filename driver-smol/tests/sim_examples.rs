//! Worked examples of testing one's own code in the simulation (see `sansnet_smol::sim`).
//!
//! The application below (a request/response server and a client that reconnects with
//! backoff) is ordinary sansnet-smol code. Each test runs it unchanged twice: on real
//! loopback sockets under `smol::block_on`, and in a simulation where a host crashes and
//! restarts, or a link is partitioned and repaired, in virtual time.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::sim::{Sim, SimHandle};
use sansnet_smol::{
    connect, sleep, spawn, timeout, ConnectOptions, ListenOptions, Server, ServerOptions,
};

// ----- the application --------------------------------------------------------------

/// The server: answers every 8-byte request `req-NNNN` with `ack-NNNN`.
async fn serve(ip: IpAddr, port: u16) {
    let server = Server::new(ServerOptions::default());
    let listen = ListenOptions::tcp(Some(ip.to_string()), port);
    if server.listen(listen).await.is_err() {
        return;
    }
    while let Ok(mut conn) = server.accept().await {
        spawn(async move {
            let mut req = [0u8; 8];
            while conn.read_exact(&mut req).await.is_ok() {
                let mut ack = req;
                ack[..3].copy_from_slice(b"ack");
                if conn.write_all(&ack).await.is_err() {
                    break;
                }
            }
        })
        .detach();
    }
}

/// One request on a fresh connection, each step bounded in time.
async fn request_once(host: &str, port: u16, id: u32) -> io::Result<String> {
    let limit = Duration::from_secs(1);
    let mut conn = timeout(limit, connect(ConnectOptions::tcp(host, port))).await??;
    conn.write_all(format!("req-{id:04}").as_bytes()).await?;
    let mut ack = [0u8; 8];
    timeout(limit, conn.read_exact(&mut ack)).await??;
    Ok(String::from_utf8_lossy(&ack).into_owned())
}

/// The client: retries a request with exponential backoff (100 ms, doubling, at most
/// 1.6 s) until it succeeds; returns the reply and how many attempts it took.
async fn request_with_retry(host: &str, port: u16, id: u32) -> (String, u32) {
    let mut backoff = Duration::from_millis(100);
    let mut attempts = 0;
    loop {
        attempts += 1;
        match request_once(host, port, id).await {
            Ok(reply) => return (reply, attempts),
            Err(_) => {
                sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(1600));
            }
        }
    }
}

// ----- the harness: where the application runs ---------------------------------------

/// Where a test runs the application: real sockets (faults are only what an application
/// can do to itself: its server task is cancelled and restarted) or a simulation.
#[derive(Clone)]
enum Place {
    Real(Arc<Mutex<Option<async_task::Task<()>>>>),
    Sim(SimHandle),
}

impl Place {
    /// The server's address and the name clients use for it.
    fn server_ip(&self) -> (IpAddr, &'static str) {
        match self {
            Place::Real(_) => ("127.0.0.1".parse().expect("an IP"), "127.0.0.1"),
            Place::Sim(_) => ("10.0.0.2".parse().expect("an IP"), "db"),
        }
    }

    fn start_server(&self, port: u16) {
        let (ip, _) = self.server_ip();
        match self {
            Place::Real(slot) => *slot.lock().expect("not poisoned") = Some(spawn(serve(ip, port))),
            Place::Sim(h) => h.spawn_on("db", serve(ip, port)).detach(),
        }
    }

    fn crash_server(&self) {
        match self {
            Place::Real(slot) => drop(slot.lock().expect("not poisoned").take()),
            Place::Sim(h) => h.crash("db"),
        }
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("bound").port()
}

/// Ten requests, 50 ms apart, while the server crashes at 120 ms and restarts at 900 ms.
async fn crash_and_restart(place: Place, port: u16) -> Vec<(String, u32)> {
    let (_, host) = place.server_ip();
    place.start_server(port);
    let faults = place.clone();
    spawn(async move {
        sleep(Duration::from_millis(120)).await;
        faults.crash_server();
        sleep(Duration::from_millis(780)).await;
        faults.start_server(port);
    })
    .detach();
    let mut replies = Vec::new();
    for id in 0..10 {
        replies.push(request_with_retry(host, port, id).await);
        sleep(Duration::from_millis(50)).await;
    }
    place.crash_server();
    replies
}

fn check_replies(replies: &[(String, u32)]) {
    let acks: Vec<String> = replies.iter().map(|(r, _)| r.clone()).collect();
    let want: Vec<String> = (0..10).map(|i| format!("ack-{i:04}")).collect();
    assert_eq!(acks, want);
}

#[test]
fn a_client_with_backoff_rides_out_a_server_crash() {
    // On real loopback sockets.
    let port = free_port();
    let place = Place::Real(Arc::new(Mutex::new(None)));
    let real = smol::block_on(timeout(
        Duration::from_secs(30),
        crash_and_restart(place, port),
    ))
    .expect("in time");
    check_replies(&real);
    // In the simulation: the crash resets the connections, connects are refused until
    // the restart, and the client's backoff spans it.
    let mut sim = Sim::new(11);
    sim.add_host("db", &["10.0.0.2".parse().expect("an IP")]);
    let place = Place::Sim(sim.handle());
    let simulated = sim.run(crash_and_restart(place, 7000));
    check_replies(&simulated);
    let retried: u32 = simulated.iter().map(|(_, a)| a - 1).sum();
    assert!(retried >= 1, "no request had to retry: {simulated:?}");
    assert!(sim.trace().contains("fault crash db"), "{}", sim.trace());
    assert!(
        sim.elapsed() >= Duration::from_millis(900),
        "{:?}",
        sim.elapsed()
    );
    // The same seed replays the same run.
    let mut again = Sim::new(11);
    again.add_host("db", &["10.0.0.2".parse().expect("an IP")]);
    let place = Place::Sim(again.handle());
    assert_eq!(again.run(crash_and_restart(place, 7000)), simulated);
    assert_eq!(again.trace(), sim.trace());
}

/// One request sent while the server's link is cut: it waits in the network and the
/// reply arrives once the link is repaired (the client's own timeout is longer).
async fn across_a_partition(place: Place, port: u16) -> (String, Duration) {
    let (ip, host) = place.server_ip();
    place.start_server(port);
    // Connected first (a partition also loses SYNs).
    let mut conn = loop {
        match connect(ConnectOptions::tcp(host, port)).await {
            Ok(c) => break c,
            Err(_) => sleep(Duration::from_millis(10)).await,
        }
    };
    if let Place::Sim(h) = &place {
        h.partition(ip);
        let h = h.clone();
        spawn(async move {
            sleep(Duration::from_secs(3)).await;
            h.repair(ip);
        })
        .detach();
    }
    let started = sansnet_smol::sim::handle().map(|h| h.elapsed());
    conn.write_all(b"req-0042").await.expect("written");
    let mut ack = [0u8; 8];
    timeout(Duration::from_secs(10), conn.read_exact(&mut ack))
        .await
        .expect("in time")
        .expect("read");
    let waited = match (started, sansnet_smol::sim::handle()) {
        (Some(t0), Some(h)) => h.elapsed() - t0,
        _ => Duration::ZERO,
    };
    place.crash_server();
    (String::from_utf8_lossy(&ack).into_owned(), waited)
}

#[test]
fn a_request_waits_out_a_partition() {
    let port = free_port();
    let place = Place::Real(Arc::new(Mutex::new(None)));
    let (reply, _) = smol::block_on(timeout(
        Duration::from_secs(30),
        across_a_partition(place, port),
    ))
    .expect("in time");
    assert_eq!(reply, "ack-0042");
    let mut sim = Sim::new(5);
    sim.add_host("db", &["10.0.0.2".parse().expect("an IP")]);
    let place = Place::Sim(sim.handle());
    let (reply, waited) = sim.run(across_a_partition(place, 7000));
    assert_eq!(reply, "ack-0042");
    assert_eq!(waited, Duration::from_secs(3), "{}", sim.trace());
}

#[test]
fn the_crash_example_replays_byte_for_byte_over_100_runs() {
    let run = || {
        let mut sim = Sim::new(11);
        sim.add_host("db", &["10.0.0.2".parse().expect("an IP")]);
        let place = Place::Sim(sim.handle());
        let replies = sim.run(crash_and_restart(place, 7000));
        (replies, sim.trace())
    };
    let (replies, trace) = run();
    check_replies(&replies);
    for _ in 0..100 {
        let (again, again_trace) = run();
        assert_eq!(again, replies);
        assert!(again_trace == trace, "the trace differs");
    }
}
