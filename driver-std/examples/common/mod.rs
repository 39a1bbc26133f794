//! What the echo examples share: their command line and their first line of output.

use std::io::Write;

/// `NAME [--host H] [--port P]` (defaults 127.0.0.1 and 0); says what is wrong with a bad
/// argument and exits 2.
pub fn host_and_port(name: &str) -> (String, u16) {
    let usage = |what: &str| -> ! {
        eprintln!("{name}: {what}\nusage: {name} [--host H] [--port P]");
        std::process::exit(2);
    };
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--host" => host = args.next().unwrap_or_else(|| usage("--host needs a value")),
            "--port" => {
                let p = args.next().unwrap_or_else(|| usage("--port needs a value"));
                port = p
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("bad port {p:?} (0 to 65535)")))
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    (host, port)
}

/// Prints `listening on HOST:PORT` (the bound address) as the first line, at once.
pub fn say_listening(bound: &sansnet_std::BoundAddress) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {bound}");
    let _ = out.flush();
}

/// Says what failed and exits 1.
pub fn fail(e: &dyn std::fmt::Display) -> ! {
    eprintln!("{e}");
    std::process::exit(1);
}
