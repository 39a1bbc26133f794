//! What the backend observed, as events on the runner's actors: each becomes a trace line
//! and runs the listeners the actor has (Node's `EventEmitter`).

use serde_json::json;

use sansnet::socket::{CloseKind, SocketEvent};
use sansnet::NetError;

use super::*;
use crate::backend::Seen;

impl<B: Backend> Runner<B> {
    /// Turns what the backend observed into events on their actors.
    pub(super) fn collect(&mut self) {
        loop {
            let Some(net) = self.net.as_mut() else {
                return;
            };
            let seen = net.take_seen();
            if seen.is_empty() {
                return;
            }
            for o in seen {
                self.observe(o);
            }
        }
    }

    pub(super) fn observe(&mut self, o: Seen) {
        match o {
            Seen::Socket(h, e) => self.socket_event(h, e),
            Seen::Listening(h) => {
                let Some(actor) = self.server_names.get(&h).cloned() else {
                    return;
                };
                match self.net().server_view(h).address {
                    Some(BoundAddress::Tcp(a)) => {
                        self.trace
                            .bind(format!("${actor}.port"), a.port().to_string());
                        self.trace
                            .bind(format!("${actor}.address"), a.ip().to_string());
                    }
                    Some(BoundAddress::Ipc(p)) => self.trace.bind(format!("${actor}.path"), p),
                    None => {}
                }
                self.emit(&actor, "listening", Own::Line("listening".into()));
            }
            Seen::Connection(h, s) => {
                if let Some(actor) = self.server_names.get(&h).cloned() {
                    self.emit(&actor, "connection", Own::Connection(h, s));
                }
            }
            Seen::Drop(h, info) => {
                let line = match info {
                    None => "drop undefined".into(),
                    Some(d) => {
                        let fam = |a: &SocketAddr| if a.is_ipv4() { "IPv4" } else { "IPv6" };
                        let v = json!({
                            "localAddress": d.local.ip().to_string(),
                            "localFamily": fam(&d.local),
                            "localPort": self.trace.port(d.local.port()),
                            "remoteAddress": d.remote.ip().to_string(),
                            "remoteFamily": fam(&d.remote),
                            "remotePort": self.trace.port(d.remote.port()),
                        });
                        format!("drop {}", sorted(&v))
                    }
                };
                self.server_line(h, "drop", line);
            }
            Seen::ServerError(h, e) => {
                let line = format!("error {}", self.error_text(&e));
                self.server_line(h, "error", line);
            }
            Seen::Close(h) => self.server_line(h, "close", "close".into()),
            Seen::CloseCallback(h, e) => {
                let cb = self
                    .srv_state
                    .get_mut(&h)
                    .and_then(|s| s.close_callbacks.pop_front())
                    .flatten();
                if let (Some(cb), Some(actor)) = (cb, self.server_names.get(&h).cloned()) {
                    let err = e.map(|e| self.error_text(&e));
                    self.pseudo(&actor, cb.line(err));
                }
            }
            Seen::Connections(h, n) => {
                let cb = self
                    .srv_state
                    .get_mut(&h)
                    .and_then(|s| s.count_callbacks.pop_front());
                if let (Some(cb), Some(actor)) = (cb, self.server_names.get(&h).cloned()) {
                    let line = match cb {
                        Callback::Line(word) => format!("{word} {n}"),
                        named => named.line(None),
                    };
                    self.pseudo(&actor, line);
                }
            }
        }
    }

    fn server_line(&mut self, h: SrvId, event: &str, line: String) {
        if let Some(actor) = self.server_names.get(&h).cloned() {
            self.emit(&actor, event, Own::Line(line));
        }
    }

    /// An error as a line ends: its code, and with `errorDetail` its details.
    pub(super) fn error_text(&self, e: &NetError) -> String {
        let code = e.trace_code();
        // A value that is not an object has no details.
        if !self.error_detail || e.class == sansnet::error::ErrorClass::Value {
            return code;
        }
        let mut d = serde_json::Map::new();
        if let Some(a) = &e.address {
            if e.syscall != Some("getaddrinfo") {
                d.insert("address".into(), Json::from(self.trace.path(a)));
            }
        }
        d.insert("message".into(), Json::from(self.trace.message(&e.message)));
        if let Some(l) = &e.local {
            d.insert("localAddress".into(), Json::from(l.address.clone()));
            d.insert("localPort".into(), Json::from(self.trace.port(l.port)));
        }
        if let Some(p) = e.port {
            let shown = match u16::try_from(p) {
                Ok(port) if port > 0 => Json::from(self.trace.port(port)),
                _ => Json::from(p),
            };
            d.insert("port".into(), shown);
        }
        if let Some(s) = e.syscall {
            d.insert("syscall".into(), Json::from(s));
        }
        format!("{code} {}", sorted(&Json::Object(d)))
    }

    fn socket_event(&mut self, h: SockId, e: SocketEvent) {
        let Some(actor) = self.socket_names.get(&h).cloned() else {
            return;
        };
        let undef = |o: Option<String>| o.unwrap_or_else(|| "undefined".into());
        if matches!(
            e,
            SocketEvent::Lookup { .. } | SocketEvent::ConnectionAttempt { .. }
        ) && self
            .sock_state
            .get_mut(&h)
            .is_some_and(|s| std::mem::take(&mut s.silent_lookup))
        {
            self.line(
                &actor,
                "!a $function lookup never answers; the backend resolved the host".into(),
            );
        }
        let (event, own) = match e {
            SocketEvent::Lookup {
                error,
                address,
                family,
                host,
            } => (
                "lookup",
                format!(
                    "lookup {} {} {} {host}",
                    error.map_or("null".into(), |e| self.error_text(&e)),
                    undef(address),
                    undef(family.map(|f| f.to_string()))
                ),
            ),
            SocketEvent::ConnectionAttempt {
                address,
                port,
                family,
            } => (
                "connectionAttempt",
                format!(
                    "connectionAttempt {} {} {}",
                    self.trace.path(&address),
                    undef(port.map(|p| self.trace.port_or_number(p))),
                    undef(family.map(|f| f.to_string()))
                ),
            ),
            SocketEvent::ConnectionAttemptFailed {
                address,
                port,
                family,
                error,
            } => (
                "connectionAttemptFailed",
                format!(
                    "connectionAttemptFailed {} {} {} {}",
                    self.trace.path(&address),
                    undef(port.map(|p| self.trace.port_or_number(p))),
                    undef(family.map(|f| f.to_string())),
                    self.error_text(&error)
                ),
            ),
            SocketEvent::ConnectionAttemptTimeout {
                address,
                port,
                family,
            } => (
                "connectionAttemptTimeout",
                format!(
                    "connectionAttemptTimeout {} {} {}",
                    address,
                    undef(port.map(|p| self.trace.port_or_number(p))),
                    undef(family.map(|f| f.to_string()))
                ),
            ),
            SocketEvent::Connect => {
                self.sock_state.entry(h).or_default().connected = true;
                ("connect", "connect".into())
            }
            SocketEvent::Ready => ("ready", "ready".into()),
            SocketEvent::Data(d) => {
                self.emit(&actor, "data", Own::Data(h, d));
                return;
            }
            SocketEvent::End => {
                self.emit(&actor, "end", Own::End(h));
                return;
            }
            SocketEvent::OnRead(_) => {
                if let Some(name) = self.sock_state.get(&h).and_then(|s| s.onread.clone()) {
                    self.pseudo(&actor, Callback::Named(name).line(None));
                }
                return;
            }
            SocketEvent::Finish => ("finish", "finish".into()),
            SocketEvent::Drain => ("drain", "drain".into()),
            SocketEvent::Timeout => ("timeout", "timeout".into()),
            SocketEvent::Error(e) => ("error", format!("error {}", self.error_text(&e))),
            SocketEvent::Close(kind) => {
                self.sock_state.entry(h).or_default().closed = true;
                (
                    "close",
                    format!("close {}", matches!(kind, CloseKind::HadError(true))),
                )
            }
            SocketEvent::WriteCallback { id, error } | SocketEvent::EndCallback { id, error } => {
                if let Some(cb) = self.callbacks.remove(&(h, id)) {
                    let err = error.map(|e| self.error_text(&e));
                    self.pseudo(&actor, cb.line(err));
                }
                return;
            }
        };
        self.emit(&actor, event, Own::Line(own));
    }
}
