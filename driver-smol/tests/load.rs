//! Load on real loopback sockets through the async face, bounded in count and time:
//! `SANSNET_LOAD=N` connections (default 300 for CI) held at once on one task each,
//! echoed and closed with no descriptor left and every task finished; a connect flood
//! against `maxConnections` admits exactly that many and closes the others.

mod common;

use std::sync::Mutex;

use common::{port, run};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::{ListenOptions, Server, ServerEvent, ServerOptions, Socket};

static SERIAL: Mutex<()> = Mutex::new(());

fn load() -> usize {
    std::env::var("SANSNET_LOAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn echo(socket: Socket) {
    let mut buf = vec![0u8; 4096];
    loop {
        match (&socket).read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if (&socket).write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = (&socket).close().await;
}

#[test]
fn many_connections_on_tasks_open_echo_and_close_leaving_nothing_behind() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let n = load();
    run(120, async move {
        let server = Server::new(ServerOptions::default());
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .expect("listen");
        let p = port(&bound);
        // One connection first: smol's executor and reactor start on first use, with
        // descriptors of their own.
        let warm = smol::net::TcpStream::connect(("127.0.0.1", p))
            .await
            .expect("connect");
        let warm_task = smol::spawn(echo(server.accept().await.expect("accept")));
        drop(warm);
        warm_task.await;
        let fds0 = fds();
        let mut tasks = Vec::with_capacity(n);
        let mut clients = Vec::with_capacity(n);
        for i in 0..n {
            let c = smol::net::TcpStream::connect(("127.0.0.1", p))
                .await
                .expect("connect");
            let s = server.accept().await.expect("accept");
            tasks.push(smol::spawn(echo(s)));
            let mut c = c;
            let msg = format!("ping {i}\n");
            c.write_all(msg.as_bytes()).await.expect("write");
            let mut back = vec![0u8; msg.len()];
            c.read_exact(&mut back).await.expect("echo");
            assert_eq!(back, msg.as_bytes());
            clients.push(c);
        }
        assert_eq!(server.get_connections() as usize, n, "all held at once");
        for c in &clients {
            c.shutdown(std::net::Shutdown::Write).expect("shutdown");
        }
        for mut c in clients {
            let mut rest = Vec::new();
            c.read_to_end(&mut rest).await.expect("the server ends too");
            assert!(rest.is_empty());
        }
        for t in tasks {
            t.await;
        }
        let fds1 = fds();
        eprintln!("{n} connections on tasks: descriptors {fds0} -> {fds1}");
        assert_eq!(fds1, fds0, "a descriptor was left open");
        assert_eq!(server.get_connections(), 0);
        server.close().await.expect("close");
    });
}

#[test]
fn a_connect_flood_against_max_connections_admits_exactly_that_many() {
    let _g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let max = (load() / 5).max(10);
    let flood = max * 5;
    run(120, async move {
        let server = Server::new(ServerOptions::default());
        server.set_max_connections(Some(max as u32));
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .expect("listen");
        let p = port(&bound);
        let mut clients = Vec::with_capacity(flood);
        for _ in 0..flood {
            clients.push(
                smol::net::TcpStream::connect(("127.0.0.1", p))
                    .await
                    .expect("connect"),
            );
        }
        let (mut admitted, mut dropped) = (Vec::new(), 0);
        while admitted.len() + dropped < flood {
            match server.next_event().await.expect("an event") {
                ServerEvent::Connection(s) => admitted.push(s),
                ServerEvent::Drop(_) => dropped += 1,
                ServerEvent::Error(e) => panic!("{e}"),
                _ => {}
            }
        }
        assert_eq!(admitted.len(), max);
        assert_eq!(dropped, flood - max);
        // Every dropped client reads the end of its connection (EOF or reset).
        let mut closed = 0;
        for c in &mut clients {
            let mut b = [0u8; 1];
            let r = futures_lite::future::or(async { Some(c.read(&mut b).await) }, async {
                async_io::Timer::after(std::time::Duration::from_millis(50)).await;
                None
            })
            .await;
            match r {
                Some(Ok(0)) | Some(Err(_)) => closed += 1,
                Some(Ok(_)) => panic!("unexpected bytes"),
                None => {}
            }
        }
        assert_eq!(closed, flood - max);
        drop(admitted);
        server.close().await.expect("close");
    });
}
