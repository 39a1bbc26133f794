//! Snapshots: an actor's getters as the trace shows them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{json, Value as Json};

use sansnet::server::BoundAddress;

use super::Runner;
use crate::backend::{Backend, SockId, SrvId};

impl<B: Backend> Runner<B> {
    /// Records `snapshot {…}`.
    pub(super) fn snapshot(&mut self, actor: &str, props: &[String]) {
        let mut map = BTreeMap::new();
        for p in props {
            let v = if let Some(v) = self.pure.prop(actor, p) {
                v
            } else if let Some(h) = self.sockets.get(actor).copied() {
                self.socket_prop(h, p)
            } else if let Some(h) = self.servers.get(actor).copied() {
                self.server_prop(h, p)
            } else {
                Json::from("<undefined>")
            };
            map.insert(p.clone(), v);
        }
        let obj: serde_json::Map<String, Json> = map.into_iter().collect();
        self.trace
            .line(actor, format!("snapshot {}", Json::Object(obj)));
    }

    fn socket_prop(&mut self, h: SockId, p: &str) -> Json {
        let undef = || Json::from("<undefined>");
        let fam = |a: &SocketAddr| if a.is_ipv4() { "IPv4" } else { "IPv6" };
        let timeout_prop = self.sock_state.get(&h).and_then(|s| s.timeout_prop.clone());
        // Node caches the peer's name when it is first read: read it only when asked.
        let remote = if p.starts_with("remote") {
            self.net().remote_address(h)
        } else {
            None
        };
        let s = self.net().socket_view(h);
        let local = s.local_address;
        match p {
            "readyState" => Json::from(s.ready_state.as_str()),
            "pending" => Json::from(s.pending),
            "connecting" => Json::from(s.connecting),
            "destroyed" => Json::from(s.destroyed),
            "readable" => Json::from(s.readable()),
            "writable" => Json::from(s.writable()),
            "bytesRead" => Json::from(s.bytes_read),
            "bytesWritten" => Json::from(s.bytes_written),
            "bufferSize" => s.buffer_size.map_or_else(undef, Json::from),
            "writableLength" => Json::from(s.writable_length),
            "writableNeedDrain" => Json::from(s.writable_need_drain),
            // JSON.stringify of the error: its own properties (an OS error's errno,
            // syscall, address and port; only the code of one the application made).
            "errored" => s.errored.as_ref().map_or(Json::Null, |e| {
                let mut o = serde_json::Map::new();
                if let Some(n) = e.errno() {
                    o.insert("errno".into(), Json::from(n));
                }
                o.insert("code".into(), Json::from(e.code.to_string()));
                if let Some(sc) = e.syscall {
                    o.insert("syscall".into(), Json::from(sc));
                }
                if let Some(a) = &e.address {
                    o.insert("address".into(), Json::from(&**a));
                }
                if let Some(p) = e.port {
                    let p = u16::try_from(p).map_or(Json::from(p), |p| Json::from(self.trace.port(p)));
                    o.insert("port".into(), p);
                }
                Json::Object(o)
            }),
            "writableEnded" => Json::from(s.writable_ended),
            "writableFinished" => Json::from(s.writable_finished),
            "readableEnded" => Json::from(s.readable_ended),
            "allowHalfOpen" => Json::from(s.allow_half_open),
            "readableFlowing" => Json::from(s.readable_flowing),
            "readableLength" => Json::from(s.readable_length),
            "readableHighWaterMark" => Json::from(s.readable_high_water_mark),
            "writableHighWaterMark" => Json::from(s.writable_high_water_mark),
            // No cork in the format; streams of bytes, not objects.
            "writableCorked" => Json::from(0),
            "readableObjectMode" | "writableObjectMode" => Json::from(false),
            // A socket's `_destroy` calls back at once: `closed` follows `destroyed`.
            "closed" => Json::from(s.destroyed),
            "timeout" => timeout_prop.unwrap_or_else(undef),
            "remoteAddress" => remote.map_or_else(undef, |a| Json::from(a.ip().to_string())),
            "remotePort" => remote.map_or_else(undef, |a| Json::from(self.trace.port(a.port()))),
            "remoteFamily" => remote.map_or_else(undef, |a| Json::from(fam(&a))),
            "localAddress" => local.map_or_else(undef, |a| Json::from(a.ip().to_string())),
            "localPort" => local.map_or_else(undef, |a| Json::from(self.trace.port(a.port()))),
            "localFamily" => local.map_or_else(undef, |a| Json::from(fam(&a))),
            "address" => local.map_or_else(
                || json!({}),
                |a| json!({"address": a.ip().to_string(), "family": fam(&a), "port": self.trace.port(a.port())}),
            ),
            "autoSelectFamilyAttemptedAddresses" => s.attempted_addresses.as_ref().map_or_else(undef, |list| {
                Json::from(
                    list.iter()
                        .map(|e| match e.rsplit_once(':') {
                            Some((a, p)) => format!("{a}:{}", p.parse().map_or("*".into(), |p| self.trace.port(p))),
                            None => e.clone(),
                        })
                        .collect::<Vec<_>>(),
                )
            }),
            _ => undef(),
        }
    }

    fn server_prop(&mut self, h: SrvId, p: &str) -> Json {
        let s = self.net().server_view(h);
        match p {
            "listening" => Json::from(s.listening),
            "address" => match s.address {
                None => Json::Null,
                Some(BoundAddress::Ipc(path)) => Json::from(self.trace.path(&path)),
                Some(BoundAddress::Tcp(a)) => json!({
                    "address": a.ip().to_string(),
                    "family": if a.is_ipv4() { "IPv4" } else { "IPv6" },
                    "port": self.trace.port(a.port()),
                }),
            },
            "maxConnections" => s
                .max_connections
                .map_or_else(|| Json::from("<undefined>"), Json::from),
            "connections" => Json::from(s.connections),
            "keepAlive" => Json::from(s.keep_alive),
            "keepAliveInitialDelay" => Json::from(s.keep_alive_initial_delay_s),
            "noDelay" => Json::from(s.no_delay),
            _ => Json::from("<undefined>"),
        }
    }
}
