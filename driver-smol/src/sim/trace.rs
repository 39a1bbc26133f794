//! The trace of a simulation, one line each, in virtual time: what the network carried
//! (SYN, SYN-ACK, refusals, data, FIN, RST), what every application observed, the faults
//! injected and the application's timers.

use std::fmt::Write;

use sansnet::sim::{ServerHandle, ServerObserved, SocketHandle};
use sansnet::socket::SocketEvent;
use sansnet::Instant;

/// The lines of a simulation's trace (always kept: a failing run prints them).
#[derive(Debug, Default)]
pub(crate) struct Trace {
    lines: Vec<String>,
}

/// `12.345ms`: a virtual instant as the trace prints it.
fn at(t: Instant) -> String {
    let n = t.as_nanos();
    format!("{:>6}.{:06}ms", n / 1_000_000, n % 1_000_000)
}

impl Trace {
    pub(crate) fn socket_event(&mut self, t: Instant, h: SocketHandle, e: &SocketEvent) {
        let what = match e {
            SocketEvent::Data(d) => format!("data {} bytes", d.len()),
            other => format!("{other:?}"),
        };
        self.lines.push(format!("{} socket {} {what}", at(t), h.0));
    }

    pub(crate) fn server_event(&mut self, t: Instant, h: ServerHandle, e: &ServerObserved) {
        self.lines.push(format!("{} server {} {e:?}", at(t), h.0));
    }

    pub(crate) fn packet(&mut self, t: Instant, what: &str) {
        self.lines.push(format!("{} net {what}", at(t)));
    }

    pub(crate) fn timer(&mut self, t: Instant) {
        self.lines.push(format!("{} timer", at(t)));
    }

    pub(crate) fn fault(&mut self, t: Instant, what: &str) {
        self.lines.push(format!("{} fault {what}", at(t)));
    }

    /// The whole trace, one line per entry.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            let _ = writeln!(s, "{l}");
        }
        s
    }
}
