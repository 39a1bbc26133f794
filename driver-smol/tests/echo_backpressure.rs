//! An echo task over the byte stream (`futures_lite::io::copy`) gives back every byte
//! even when its writes wait for `'drain'` while the peer's data and FIN arrive (see
//! sansnet-std's test of the same name).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use futures_lite::AsyncWriteExt;
use sansnet_smol::{timeout, BoundAddress, ListenOptions, Server, ServerOptions};

#[test]
fn an_echo_with_small_buffers_loses_nothing_before_the_fin() {
    let server = Server::new(ServerOptions::default().with_high_water_mark(512));
    let addr = smol::block_on(server.listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0)))
        .expect("listen");
    let BoundAddress::Tcp(addr) = addr else {
        panic!("not TCP")
    };
    smol::spawn(async move {
        while let Ok(s) = server.accept().await {
            smol::spawn(async move {
                let _ = futures_lite::io::copy(&s, &mut &s).await;
                let _ = (&s).close().await;
            })
            .detach();
        }
    })
    .detach();
    let clients: Vec<_> = (0..4u32)
        .map(|c| {
            std::thread::spawn(move || {
                let payload: Vec<u8> = (0..4_000_000u32).map(|i| (i + c) as u8).collect();
                let mut conn = TcpStream::connect(addr).expect("connect");
                conn.set_read_timeout(Some(Duration::from_secs(30)))
                    .expect("timeout");
                let mut reader = conn.try_clone().expect("clone");
                let read = std::thread::spawn(move || {
                    let mut got = Vec::new();
                    reader.read_to_end(&mut got).expect("read");
                    got
                });
                conn.write_all(&payload).expect("write");
                conn.shutdown(Shutdown::Write).expect("FIN");
                let got = read.join().expect("reader");
                assert_eq!(got.len(), payload.len(), "client {c}: bytes echoed");
                assert!(got == payload, "client {c}: the bytes differ");
            })
        })
        .collect();
    smol::block_on(timeout(Duration::from_secs(60), async {
        for c in clients {
            smol::unblock(move || c.join().expect("client")).await;
        }
    }))
    .expect("in time");
}
