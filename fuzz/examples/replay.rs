//! Replays inputs through a target without libFuzzer, printing what each input decodes
//! to: `cargo run --example replay -- TARGET FILE...` (TARGET: parsers, socket, server,
//! sim, loose). A panic is the target's finding, with its message.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, files)) = args.split_first() else {
        eprintln!("usage: replay TARGET FILE...");
        return ExitCode::from(2);
    };
    let Some(&(_, run)) = sansnet_fuzz::TARGETS.iter().find(|(n, _)| n == target) else {
        eprintln!("unknown target {target}");
        return ExitCode::from(2);
    };
    for f in files {
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::from(2);
            }
        };
        println!("== {f} ({} bytes)", data.len());
        match target.as_str() {
            "socket" => print!("{}", sansnet_fuzz::socket::decode(&data)),
            "server" => print!("{}", sansnet_fuzz::server::decode(&data)),
            "sim" => println!("{}", sansnet_fuzz::sim::decode(&data)),
            _ => {}
        }
        run(&data);
        println!("ok");
    }
    ExitCode::SUCCESS
}
