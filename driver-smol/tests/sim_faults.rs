//! Faults in the simulated runtime: RST injection, a host's crash, happy eyeballs across a
//! partitioned address family, a held link; and the source addresses of hosts.

use std::io::ErrorKind;
use std::net::IpAddr;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::sim::Sim;
use sansnet_smol::{
    connect, sleep, ConnectOptions, ListenOptions, Server, ServerOptions, SocketEvent,
};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an IP")
}

/// A simulation with hosts `web` (10.0.0.1) and `db` (10.0.0.2, fd00::2).
fn two_hosts(seed: u64) -> Sim {
    let sim = Sim::new(seed);
    sim.add_host("web", &[ip("10.0.0.1")]);
    sim.add_host("db", &[ip("10.0.0.2"), ip("fd00::2")]);
    sim
}

/// An echo server on `addr`, as a process of host `db`.
async fn echo(addr: &'static str) {
    let server = Server::new(ServerOptions::default());
    server
        .listen(ListenOptions::tcp(Some(addr.into()), 9000))
        .await
        .expect("listen");
    while let Ok(mut c) = server.accept().await {
        sansnet_smol::spawn(async move {
            let mut buf = [0u8; 64];
            while let Ok(n) = c.read(&mut buf).await {
                if n == 0 || c.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        })
        .detach();
    }
}

#[test]
fn a_host_connects_from_its_own_address() {
    let mut sim = two_hosts(1);
    let h = sim.handle();
    let local = sim.run(async move {
        h.spawn_on("db", echo("10.0.0.2")).detach();
        let client = h.spawn_on("web", async {
            let c = connect(ConnectOptions::tcp("db", 9000))
                .await
                .expect("connect");
            c.info().local_address
        });
        client.await
    });
    assert_eq!(
        local.map(|a| a.ip()),
        Some(ip("10.0.0.1")),
        "{}",
        sim.trace()
    );
    assert!(sim.trace().contains("net SYN 10.0.0.1:"), "{}", sim.trace());
}

#[test]
fn an_injected_reset_fails_both_ends() {
    let mut sim = two_hosts(2);
    let h = sim.handle();
    let (n, err) = sim.run(async move {
        h.spawn_on("db", echo("10.0.0.2")).detach();
        let mut c = connect(ConnectOptions::tcp("db", 9000))
            .await
            .expect("connect");
        c.write_all(b"ping").await.expect("write");
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await.expect("echo");
        let n = h.reset_between(ip("10.0.0.2"), ip("10.0.0.2"));
        let err = c.read(&mut buf).await.expect_err("reset");
        (n, err)
    });
    assert_eq!(n, 1);
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert!(sim.trace().contains("net RST"), "{}", sim.trace());
}

#[test]
fn a_crash_resets_the_clients_and_refuses_new_ones() {
    let mut sim = two_hosts(3);
    let h = sim.handle();
    let (reset, refused) = sim.run(async move {
        h.spawn_on("db", echo("10.0.0.2")).detach();
        let mut c = connect(ConnectOptions::tcp("db", 9000))
            .await
            .expect("connect");
        h.crash("db");
        let mut buf = [0u8; 4];
        let reset = c.read(&mut buf).await.expect_err("reset").kind();
        let refused = connect(ConnectOptions::tcp("db", 9000))
            .await
            .expect_err("refused")
            .kind();
        (reset, refused)
    });
    assert_eq!(reset, ErrorKind::ConnectionReset);
    assert_eq!(refused, ErrorKind::ConnectionRefused);
}

#[test]
fn happy_eyeballs_moves_past_a_partitioned_address() {
    let mut sim = two_hosts(4);
    let h = sim.handle();
    sim.add_host("dual", &[ip("fd00::2"), ip("10.0.0.2")]);
    let (events, elapsed) = sim.run(async move {
        h.spawn_on("db", echo("10.0.0.2")).detach();
        h.partition(ip("fd00::2"));
        let c = connect(ConnectOptions::tcp("dual", 9000).with_auto_select_family(true))
            .await
            .expect("connects over IPv4");
        let mut events = Vec::new();
        while let Some(e) = c.try_next_event() {
            events.push(e);
        }
        (events, h.elapsed())
    });
    let attempts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            SocketEvent::ConnectionAttempt { address, .. } => Some(address.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, ["fd00::2", "10.0.0.2"], "{}", sim.trace());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SocketEvent::ConnectionAttemptTimeout { .. })),
        "{events:?}"
    );
    // The attempt timeout (250 ms by default) passed in virtual time.
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
}

#[test]
fn a_held_link_delivers_in_order_once_released() {
    let mut sim = two_hosts(5);
    let h = sim.handle();
    let got = sim.run(async move {
        h.spawn_on("db", echo("10.0.0.2")).detach();
        let mut c = connect(ConnectOptions::tcp("db", 9000))
            .await
            .expect("connect");
        h.hold(ip("10.0.0.2"));
        for part in [&b"one,"[..], b"two,", b"three"] {
            c.write_all(part).await.expect("write");
        }
        h.after(Duration::from_secs(2), |h| h.release(ip("10.0.0.2")));
        let mut buf = vec![0u8; 13];
        c.read_exact(&mut buf).await.expect("echoed");
        (buf, h.elapsed())
    });
    assert_eq!(got.0, b"one,two,three");
    assert_eq!(got.1, Duration::from_secs(2));
}

#[test]
fn each_host_has_its_own_unix_socket_paths() {
    let mut sim = two_hosts(6);
    let h = sim.handle();
    let (same_host, other_host) = sim.run(async move {
        let path = "/tmp/app.sock";
        let serve = async move {
            let server = Server::new(ServerOptions::default());
            server
                .listen(ListenOptions::ipc(path))
                .await
                .expect("listen");
            let _kept = server.accept().await;
        };
        h.spawn_on("db", serve).detach();
        let same = h
            .spawn_on("db", async move {
                connect(ConnectOptions::ipc(path)).await.map(|_| ())
            })
            .await;
        let other = h
            .spawn_on("web", async move {
                connect(ConnectOptions::ipc(path)).await.map(|_| ())
            })
            .await;
        (same, other)
    });
    assert!(same_host.is_ok(), "{same_host:?}");
    // web has no such socket file.
    assert_eq!(
        other_host.expect_err("another host").kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_slow_reader_holds_back_the_writer_in_virtual_time() {
    let mut sim = two_hosts(7);
    let h = sim.handle();
    let (written, read, elapsed) = sim.run(async move {
        let server = Server::new(ServerOptions::default());
        server
            .listen(ListenOptions::tcp(Some("10.0.0.2".into()), 9100))
            .await
            .expect("listen");
        // The slow reader: 64 KiB every 10 ms of virtual time.
        let reader = h.spawn_on("db", async move {
            let mut c = server.accept().await.expect("accepted");
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0usize;
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => return total,
                    Ok(n) => total += n,
                }
                sleep(Duration::from_millis(10)).await;
            }
        });
        let writer = h.spawn_on("web", async move {
            let mut c = connect(ConnectOptions::tcp("db", 9100))
                .await
                .expect("connect");
            let chunk = vec![7u8; 1024 * 1024];
            for _ in 0..16 {
                c.write_all(&chunk).await.expect("write");
            }
            c.close().await.expect("end");
            16 * chunk.len()
        });
        let written = writer.await;
        (written, reader.await, h.elapsed())
    });
    assert_eq!(read, written);
    // 16 MiB at no more than 64 KiB per 10 ms takes at least 2.5 s of virtual time.
    assert!(elapsed >= Duration::from_millis(2500), "{elapsed:?}");
}

#[test]
fn an_echo_in_the_simulation_loses_nothing_before_the_fin() {
    for seed in 0..10 {
        let mut sim = two_hosts(seed);
        let h = sim.handle();
        let got = sim.run(async move {
            let serve = async {
                let server = Server::new(ServerOptions::default().with_high_water_mark(512));
                server
                    .listen(ListenOptions::tcp(Some("10.0.0.2".into()), 9200))
                    .await
                    .expect("listen");
                let s = server.accept().await.expect("accepted");
                let _ = futures_lite::io::copy(&s, &mut &s).await;
                let _ = (&s).close().await;
            };
            h.spawn_on("db", serve).detach();
            let mut c = connect(ConnectOptions::tcp("db", 9200))
                .await
                .expect("connect");
            // More than the kernels hold, read slowly: the echo's writes wait for 'drain'
            // while the rest of the data and the FIN arrive.
            let payload: Vec<u8> = (0..8_000_000u32).map(|i| i as u8).collect();
            let (mut r, mut w) = futures_lite::io::split(&mut c);
            let writer = async {
                w.write_all(&payload).await.expect("write");
                w.close().await.expect("FIN");
            };
            let reader = async {
                let mut back = Vec::new();
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match r.read(&mut buf).await.expect("read") {
                        0 => return back,
                        n => back.extend_from_slice(&buf[..n]),
                    }
                    sleep(Duration::from_millis(1)).await;
                }
            };
            let (_, back) = futures_lite::future::zip(writer, reader).await;
            back.len() == payload.len() && back == payload
        });
        assert!(got, "seed {seed}: the echo lost bytes");
    }
}
