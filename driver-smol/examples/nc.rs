//! A tiny netcat: `nc HOST PORT`.
//!
//! Connects with happy eyeballs (every address of HOST, Node's interleaving and attempt
//! timeout), reports `lookup` and `connectionAttempt*` events on stderr, then copies stdin
//! to the socket (ending it at stdin's end) and the socket to stdout, until `'close'`.

use blocking::Unblock;
use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::{Chunk, ConnectOptions, Socket, SocketEvent, SocketOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port] = args.as_slice() else {
        eprintln!("usage: nc HOST PORT");
        std::process::exit(2);
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("nc: bad port {port}");
        std::process::exit(2);
    };
    let code = smol::block_on(async {
        let socket = Socket::new(SocketOptions::default());
        socket.connect(ConnectOptions::tcp(host.clone(), port));
        let (drained_tx, drained_rx) = async_channel::unbounded::<()>();
        let (connected_tx, connected_rx) = async_channel::bounded::<()>(1);
        let events = async {
            let mut stdout = Unblock::new(std::io::stdout());
            let mut failed = false;
            while let Some(e) = socket.next_event().await {
                match e {
                    SocketEvent::Lookup {
                        error,
                        address,
                        family,
                        host,
                    } => match error {
                        Some(e) => eprintln!("lookup {host}: {e}"),
                        None => eprintln!(
                            "lookup {host} -> {} (IPv{})",
                            address.unwrap_or_default(),
                            family.unwrap_or_default()
                        ),
                    },
                    SocketEvent::ConnectionAttempt { address, port, .. } => {
                        eprintln!("connectionAttempt {address}:{}", port.unwrap_or(0))
                    }
                    SocketEvent::ConnectionAttemptFailed {
                        address,
                        port,
                        error,
                        ..
                    } => eprintln!(
                        "connectionAttemptFailed {address}:{} {}",
                        port.unwrap_or(0),
                        error.code
                    ),
                    SocketEvent::ConnectionAttemptTimeout { address, port, .. } => {
                        eprintln!("connectionAttemptTimeout {address}:{}", port.unwrap_or(0))
                    }
                    SocketEvent::Connect => {
                        eprintln!("connect");
                        let _ = connected_tx.try_send(());
                    }
                    SocketEvent::Data(d) => {
                        let _ = stdout.write_all(&d).await;
                        let _ = stdout.flush().await;
                    }
                    SocketEvent::Drain => {
                        let _ = drained_tx.try_send(());
                    }
                    SocketEvent::Error(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                    SocketEvent::Close(_) => break,
                    _ => {}
                }
            }
            let _ = stdout.flush().await;
            i32::from(failed)
        };
        let input = async {
            if connected_rx.recv().await.is_err() {
                return;
            }
            let mut stdin = Unblock::new(std::io::stdin());
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stdin.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if !socket.write_quietly(Chunk::bytes(&buf[..n])).await.ok
                            && drained_rx.recv().await.is_err()
                        {
                            return;
                        }
                    }
                }
            }
            socket.end(None).await;
        };
        // The events decide when to stop; stdin may still be open then.
        future::or(events, async {
            input.await;
            future::pending::<i32>().await
        })
        .await
    });
    std::process::exit(code);
}
