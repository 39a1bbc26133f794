//! A tiny netcat: `nc HOST PORT`.
//!
//! Connects with happy eyeballs (every address of HOST, Node's interleaving and attempt
//! timeout), reports `lookup` and `connectionAttempt*` events on stderr, then copies stdin
//! to the socket (ending it at stdin's end) and the socket to stdout, until `'close'`.

use futures_lite::future;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use sansnet_smol::{ConnectOptions, Socket, SocketEvent, SocketOptions};

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
        // The connect's events, up to 'connect' or the failure.
        loop {
            match socket.next_event().await {
                Some(SocketEvent::Lookup { address, .. }) => eprintln!("nc: lookup {address:?}"),
                Some(SocketEvent::ConnectionAttempt { address, port, .. }) => {
                    eprintln!("nc: trying {address} port {port:?}")
                }
                Some(SocketEvent::ConnectionAttemptFailed { address, error, .. }) => {
                    eprintln!("nc: {address}: {}", error.message)
                }
                Some(SocketEvent::ConnectionAttemptTimeout { address, .. }) => {
                    eprintln!("nc: {address}: timed out")
                }
                Some(SocketEvent::Connect) => break,
                Some(SocketEvent::Error(e)) => {
                    eprintln!("nc: {}", e.message);
                    return 1;
                }
                Some(_) => {}
                None => return 1,
            }
        }
        let output = async {
            let mut stdout = smol::Unblock::new(std::io::stdout());
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match (&socket).read(&mut buf).await {
                    Ok(0) => break 0,
                    Ok(n) => {
                        let _ = stdout.write_all(&buf[..n]).await;
                        let _ = stdout.flush().await;
                    }
                    Err(e) => {
                        eprintln!("nc: {e}");
                        break 1;
                    }
                }
            }
        };
        let input = async {
            let mut stdin = smol::Unblock::new(std::io::stdin());
            let _ = futures_lite::io::copy(&mut stdin, &mut &socket).await;
            // stdin ended: end() (FIN), and keep printing what comes back.
            let _ = (&socket).close().await;
            future::pending::<i32>().await
        };
        future::or(output, input).await
    });
    std::process::exit(code);
}
