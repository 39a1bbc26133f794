//! Interop with real Node (`node` on PATH; skipped with a message when absent).

mod common;

use std::process::Stdio;

use common::{echo_server, port, run};
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures_lite::{future, StreamExt};
use sansnet_smol::{ConnectOptions, ListenOptions, ServerOptions};
use smol::process::Command;

fn node_available() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipping: `node` is not on PATH");
    }
    ok
}

/// A Node client sends 10 MiB + 15 bytes in two writes and `end()`; it checks that the
/// echo it reads back until `'end'` is identical and prints `OK <bytes>`.
const NODE_CLIENT: &str = r#"
const net = require('net');
const port = Number(process.argv[1]);
const payload = Buffer.alloc(10 * 1024 * 1024 + 15);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
const c = net.connect({ port, host: '127.0.0.1' });
const got = [];
c.on('data', (d) => got.push(d));
c.on('end', () => {
  const back = Buffer.concat(got);
  console.log(back.equals(payload) ? `OK ${back.length}` : `MISMATCH ${back.length}`);
});
c.on('error', (e) => { console.log(`ERROR ${e.code}`); process.exitCode = 1; });
c.write(payload.subarray(0, 1000));
c.end(payload.subarray(1000));
"#;

#[test]
fn node_client_against_the_sansnet_echo_server() {
    if !node_available() {
        return;
    }
    run(30, async {
        let (_server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        )
        .await;
        let out = Command::new("node")
            .arg("-e")
            .arg(NODE_CLIENT)
            .arg(port(&bound).to_string())
            .stderr(Stdio::inherit())
            .output()
            .await
            .expect("run node");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim(), format!("OK {}", 10 * 1024 * 1024 + 15));
        assert!(out.status.success());
    });
}

/// A Node echo server; prints its port.
const NODE_SERVER: &str = r#"
const net = require('net');
const s = net.createServer((c) => c.pipe(c));
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
"#;

#[test]
fn sansnet_client_against_a_node_echo_server() {
    if !node_available() {
        return;
    }
    run(30, async {
        let mut child = Command::new("node")
            .arg("-e")
            .arg(NODE_SERVER)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port: u16 = lines.next().await.unwrap().unwrap().trim().parse().unwrap();
        let socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port))
            .await
            .expect("connect to node");
        let sent: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let (mut reader, mut writer) = futures_lite::io::split(socket);
        let write = async {
            writer.write_all(&sent).await.unwrap();
            writer.close().await.unwrap();
        };
        let read = async {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = future::zip(write, read).await;
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "Node echoed different bytes");
        child.kill().unwrap();
        let _ = child.status().await;
    });
}

/// A Node server with `allowHalfOpen`: after the client's FIN it still writes, then ends.
const NODE_HALF_OPEN_SERVER: &str = r#"
const net = require('net');
const s = net.createServer({ allowHalfOpen: true }, (c) => {
  let got = '';
  c.setEncoding('utf8');
  c.on('data', (d) => { got += d; });
  c.on('end', () => { c.write('after-fin:' + got); c.end(' bye'); });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
"#;

#[test]
fn half_close_with_a_node_server() {
    if !node_available() {
        return;
    }
    run(30, async {
        let mut child = Command::new("node")
            .arg("-e")
            .arg(NODE_HALF_OPEN_SERVER)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("run node");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port: u16 = lines.next().await.unwrap().unwrap().trim().parse().unwrap();
        let mut socket = sansnet_smol::connect(ConnectOptions::tcp("127.0.0.1", port))
            .await
            .expect("connect to node");
        socket.write_all(b"hello").await.unwrap();
        // FIN: our side is done; Node's side keeps writing after it.
        socket.close().await.unwrap();
        let mut got = Vec::new();
        socket.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"after-fin:hello bye");
        child.kill().unwrap();
        let _ = child.status().await;
    });
}

/// A Node client that ends first and reads what the server writes after its FIN.
const NODE_HALF_OPEN_CLIENT: &str = r#"
const net = require('net');
const c = net.connect({ port: Number(process.argv[1]), host: '127.0.0.1', allowHalfOpen: true });
let got = '';
c.setEncoding('utf8');
c.on('data', (d) => { got += d; });
c.on('end', () => console.log(got));
c.end('ping');
"#;

#[test]
fn half_close_with_a_node_client() {
    if !node_available() {
        return;
    }
    run(30, async {
        let server = sansnet_smol::Server::new(ServerOptions {
            allow_half_open: true,
            ..ServerOptions::default()
        });
        let bound = server
            .listen(ListenOptions::tcp(Some("127.0.0.1".into()), 0))
            .await
            .unwrap();
        let node = Command::new("node")
            .arg("-e")
            .arg(NODE_HALF_OPEN_CLIENT)
            .arg(port(&bound).to_string())
            .stderr(Stdio::inherit())
            .output();
        let serve = async {
            let mut conn = server.accept().await.expect("a connection");
            let mut got = Vec::new();
            conn.read_to_end(&mut got).await.unwrap();
            // The peer's FIN arrived; with allowHalfOpen we still write, then end.
            conn.write_all(b"pong after ").await.unwrap();
            conn.write_all(&got).await.unwrap();
            conn.close().await.unwrap();
        };
        let (out, ()) = future::zip(node, serve).await;
        let out = out.expect("run node");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "pong after ping"
        );
    });
}
