//! Interop with real Node (`node` on PATH; skipped with a message when absent).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::process::{Command, Stdio};

use common::{bounded, echo_server, port};
use sansnet_std::{ConnectOptions, ListenOptions, ServerOptions};

fn node_available() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("skipping: `node` is not on PATH");
    }
    ok
}

/// A Node client sends 256 KiB + 15 bytes in two writes and `end()`; it checks that the
/// echo it reads back until `'end'` is identical and prints `OK <bytes>`.
const NODE_CLIENT: &str = r#"
const net = require('net');
const port = Number(process.argv[1]);
const payload = Buffer.alloc(256 * 1024 + 15);
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
    bounded(30, || {
        let (server, bound) = echo_server(
            ServerOptions::default(),
            ListenOptions::tcp(Some("127.0.0.1".into()), 0),
        );
        let out = Command::new("node")
            .arg("-e")
            .arg(NODE_CLIENT)
            .arg(port(&bound).to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("run node");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(text.trim(), format!("OK {}", 256 * 1024 + 15));
        assert!(out.status.success());
        server.close().unwrap();
    });
}

/// A child process killed (by its id) when dropped, so that a failing test leaves none.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    bounded(30, || {
        let mut child = Child(
            Command::new("node")
                .arg("-e")
                .arg(NODE_SERVER)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("run node"),
        );
        let mut line = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        let socket =
            sansnet_std::connect(ConnectOptions::tcp("127.0.0.1", port)).expect("connect to node");
        let sent: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let mut got = Vec::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                (&socket).write_all(&sent).unwrap();
                socket.shutdown(Shutdown::Write).unwrap();
            });
            (&socket).read_to_end(&mut got).unwrap();
        });
        assert_eq!(got.len(), sent.len());
        assert!(got == sent, "Node echoed different bytes");
    });
}
