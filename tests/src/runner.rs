//! The conformance runner's frame: actors, variables, steps, waits, snapshots, and the
//! translation of core events into trace lines. The network operations run on a
//! [`Backend`] (the simulator, or a real driver); `--driver core` runs the pure operations
//! only.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde_json::{json, Value as Json};

use sansnet::server::BoundAddress;
use sansnet::socket::{Chunk, CloseKind, LookupAnswer, SocketEvent, WriteId};
use sansnet::{Duration, NetError};

use crate::backend::{Backend, Seen, SockId, SrvId};

use crate::options;
use crate::pure::Pure;
use crate::scenario::{Scenario, Step};
use crate::trace::Trace;

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ran to its end (exit 0).
    Completed,
    /// A wait or the settle timed out (exit 1).
    TimedOut,
}

/// A network operation under `--driver core` (exit 2).
#[derive(Debug)]
pub struct NeedsNetwork(pub String);

/// A server event, as the trace names it.
#[derive(Debug)]
enum ServerObserved {
    Listening,
    Connection(SockId),
    Drop(Option<sansnet::server::DropInfo>),
    Error(NetError),
    Close,
    CloseCallback(Option<NetError>),
    Connections(u32),
}

#[derive(Debug, Default)]
struct SockState {
    echo: bool,
    connected: bool,
    closed: bool,
    /// `socket.timeout` as last assigned (Node assigns before validating).
    timeout_prop: Option<Json>,
}

/// One scenario run on backend `B` (none: the pure operations only).
#[derive(Debug)]
pub struct Runner<B> {
    net: Option<B>,
    trace: Trace,
    pure: Pure,
    sockets: BTreeMap<String, SockId>,
    socket_names: BTreeMap<SockId, String>,
    sock_state: BTreeMap<SockId, SockState>,
    servers: BTreeMap<String, SrvId>,
    server_names: BTreeMap<SrvId, String>,
    server_echo: BTreeMap<SrvId, bool>,
    server_conns: BTreeMap<SrvId, usize>,
    callbacks: BTreeMap<(SockId, WriteId), &'static str>,
    /// Per actor, the tally used up by the last satisfied wait: a wait counts only what
    /// its actor observed after the previous satisfied wait on it.
    used: BTreeMap<String, (BTreeMap<String, usize>, usize)>,
    /// The wait in progress: (actor, event, count, bytes).
    waiting: Option<(String, String, usize, Option<usize>)>,
    satisfied: bool,
}

impl Runner<crate::backend::SimBackend> {
    /// A runner of the pure operations only (`--driver core`).
    pub fn core() -> Self {
        Runner::with(None)
    }
}

impl<B: Backend> Runner<B> {
    /// A runner whose network operations run on `net`.
    pub fn new(net: B) -> Runner<B> {
        Runner::with(Some(net))
    }

    fn with(net: Option<B>) -> Runner<B> {
        Runner {
            net,
            trace: Trace::default(),
            pure: Pure::default(),
            sockets: BTreeMap::new(),
            socket_names: BTreeMap::new(),
            sock_state: BTreeMap::new(),
            servers: BTreeMap::new(),
            server_names: BTreeMap::new(),
            server_echo: BTreeMap::new(),
            server_conns: BTreeMap::new(),
            callbacks: BTreeMap::new(),
            used: BTreeMap::new(),
            waiting: None,
            satisfied: false,
        }
    }

    /// Runs a scenario; returns the trace text and the outcome.
    pub fn run(mut self, sc: &Scenario) -> Result<(String, Outcome), NeedsNetwork> {
        let mut outcome = Outcome::Completed;
        for step in &sc.steps {
            match step {
                Step::Do { op, actor, args } => self.op(op, actor, args)?,
                Step::Wait {
                    actor,
                    event,
                    count,
                    bytes,
                    timeout,
                } => {
                    self.need_network("wait")?;
                    if !self.wait(actor, event, *count, *bytes, *timeout) {
                        self.trace
                            .line(actor, format!("!timeout waiting for {event}"));
                        outcome = Outcome::TimedOut;
                        break;
                    }
                }
                Step::Sleep(ms) => {
                    self.need_network("sleep")?;
                    self.sleep(Duration::from_millis(*ms));
                }
                Step::Snapshot { actor, props } => self.snapshot(actor, props),
            }
        }
        if outcome == Outcome::Completed && self.net.is_some() {
            let limit = self.net().now() + Duration::from_millis(sc.settle);
            self.collect();
            while !self.all_closed() && self.net().turn(limit) {
                self.collect();
            }
            if !self.all_closed() {
                outcome = Outcome::TimedOut;
            }
            self.sleep(Duration::from_millis(20));
            let open: Vec<String> = self.open_actors();
            for a in open {
                self.trace.line(&a, "!not closed at end");
            }
        }
        Ok((self.trace.render(&sc.name), outcome))
    }

    /// The backend (present: checked by `need_network` before any network operation).
    fn net(&mut self) -> &mut B {
        self.net.as_mut().expect("a network backend")
    }

    fn need_network(&self, op: &str) -> Result<(), NeedsNetwork> {
        if self.net.is_none() {
            return Err(NeedsNetwork(op.to_string()));
        }
        Ok(())
    }

    fn all_closed(&mut self) -> bool {
        self.open_actors().is_empty()
    }

    fn open_actors(&mut self) -> Vec<String> {
        let mut open = Vec::new();
        for (name, h) in &self.sockets {
            let st = &self.sock_state[h];
            if st.connected && !st.closed {
                open.push(name.clone());
            }
        }
        let servers: Vec<(String, SrvId)> =
            self.servers.iter().map(|(n, h)| (n.clone(), *h)).collect();
        for (name, h) in servers {
            if self.net().server_view(h).listening {
                open.push(name);
            }
        }
        open
    }

    /// Lets `d` of virtual time pass, reacting to everything observed.
    fn sleep(&mut self, d: Duration) {
        let limit = self.net().now() + d;
        self.collect();
        while self.net().turn(limit) {
            self.collect();
        }
        self.net().advance_clock(limit);
    }

    fn wait(
        &mut self,
        actor: &str,
        event: &str,
        count: usize,
        bytes: Option<usize>,
        timeout: u64,
    ) -> bool {
        let limit = self.net().now() + Duration::from_millis(timeout);
        self.waiting = Some((actor.to_string(), event.to_string(), count, bytes));
        self.satisfied = false;
        self.collect();
        self.check_wait();
        while !self.satisfied {
            if !self.net().turn(limit) {
                self.waiting = None;
                return false;
            }
            self.collect();
        }
        self.waiting = None;
        // The steps resume on setImmediate: ticks and completions due now run first, a
        // handle's 'close' (the loop's close phase) after.
        while self.net().turn_immediate() {
            self.collect();
        }
        true
    }

    /// After each observation: whether the wait in progress is satisfied, counting only
    /// what its actor saw since its previous satisfied wait; if so, that tally is used up.
    fn check_wait(&mut self) {
        let Some((actor, event, count, bytes)) = self.waiting.clone() else {
            return;
        };
        if self.satisfied {
            return;
        }
        let (counts, received) = self.trace.tally(&actor);
        let (used_counts, used_bytes) = self.used.get(&actor).cloned().unwrap_or_default();
        let done = match bytes {
            Some(b) => received.saturating_sub(used_bytes) >= b,
            None => {
                let seen = counts.get(&event).copied().unwrap_or(0);
                seen.saturating_sub(used_counts.get(&event).copied().unwrap_or(0)) >= count
            }
        };
        if done {
            self.satisfied = true;
            self.used.insert(actor, (counts, received));
        }
    }

    /// Replaces `$var` strings in options by their values, `$tmp` by a fresh path.
    fn substitute(&mut self, j: &Json) -> Json {
        match j {
            Json::String(s) if s == "$tmp" => Json::String(self.net().temp_path()),
            Json::String(s) if s.starts_with('$') => match self.trace.var(s) {
                Some(v) if s.ends_with(".port") => {
                    v.parse::<u64>().map_or_else(|_| Json::from(v), Json::from)
                }
                Some(v) => Json::from(v),
                None => j.clone(),
            },
            Json::Array(a) => Json::Array(a.iter().map(|x| self.substitute(x)).collect()),
            Json::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn op(&mut self, op: &str, actor: &str, args: &Json) -> Result<(), NeedsNetwork> {
        if let Some(line) = self.pure.op(op, actor, args) {
            self.trace.actor(actor);
            if let Some(l) = line {
                self.trace.line(actor, l);
            }
            return Ok(());
        }
        self.need_network(op)?;
        let raw_options = args.get("options").cloned().unwrap_or(Json::Null);
        let opts = self.substitute(&raw_options);
        match op {
            "createServer" => {
                self.trace.actor(actor);
                match options::server(&opts) {
                    Err(e) => self.trace.line(actor, format!("throws {}", e.trace_code())),
                    Ok(cfg) => {
                        let h = self.net().create_server(cfg);
                        self.servers.insert(actor.into(), h);
                        self.server_names.insert(h, actor.into());
                        let echo = args.get("echo").and_then(Json::as_bool).unwrap_or(false);
                        self.server_echo.insert(h, echo);
                    }
                }
            }
            "listen" => {
                let Some(h) = self.servers.get(actor).copied() else {
                    return Ok(());
                };
                let r = options::listen(&opts).and_then(|l| self.net().listen(h, l));
                if let Err(e) = r {
                    self.trace.line(actor, format!("throws {}", e.trace_code()));
                }
            }
            "set" => {
                let Some(h) = self.servers.get(actor).copied() else {
                    return Ok(());
                };
                let prop = args.get("prop").and_then(Json::as_str).unwrap_or("");
                let value = args.get("value").cloned().unwrap_or(Json::Null);
                if prop == "maxConnections" {
                    let v = value.as_f64().filter(|v| *v >= 0.0).map(|v| v as u32);
                    self.net().set_max_connections(h, v);
                }
            }
            "close" => {
                let Some(h) = self.servers.get(actor).copied() else {
                    return Ok(());
                };
                self.net().close(h);
            }
            "getConnections" => {
                let Some(h) = self.servers.get(actor).copied() else {
                    return Ok(());
                };
                self.net().get_connections(h);
            }
            "connect" | "socket" => self.connect_op(op, actor, &opts),
            "blackhole" => {
                let host = opts
                    .get("host")
                    .and_then(Json::as_str)
                    .unwrap_or("127.0.0.1");
                let ip = host
                    .parse()
                    .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
                let port = self.net().blackhole(ip);
                self.trace.bind(format!("${actor}.port"), port.to_string());
            }
            _ => self.socket_op(op, actor, args),
        }
        self.collect();
        Ok(())
    }

    fn connect_op(&mut self, op: &str, actor: &str, opts: &Json) {
        self.trace.actor(actor);
        let parsed = if op == "connect" {
            options::connect(opts).map(|c| (c.socket.clone(), Some(c)))
        } else {
            options::socket(opts).map(|s| (s, None))
        };
        let (cfg, connect) = match parsed {
            Ok(p) => p,
            Err(e) => {
                self.trace.line(actor, format!("throws {}", e.trace_code()));
                return;
            }
        };
        let lookup = opts.get("lookup").and_then(Json::as_array).map(|list| {
            list.iter()
                .filter_map(|a| {
                    Some(LookupAnswer {
                        address: a.get(0)?.as_str()?.to_string(),
                        family: a.get(1)?.as_i64()?,
                    })
                })
                .collect()
        });
        let h = self.net().create_socket(cfg, lookup);
        self.sockets.insert(actor.into(), h);
        self.socket_names.insert(h, actor.into());
        let mut st = SockState::default();
        if let Some(t) = opts
            .get("timeout")
            .filter(|t| t.as_f64().is_some_and(|v| v != 0.0))
        {
            st.timeout_prop = Some(t.clone());
        }
        self.sock_state.insert(h, st);
        if let Some(c) = connect {
            self.net().connect(h, &c);
        }
    }

    fn socket_op(&mut self, op: &str, actor: &str, args: &Json) {
        let Some(h) = self.sockets.get(actor).copied() else {
            self.trace.line(actor, format!("!unknown actor for {op}"));
            return;
        };
        let chunk = || -> Option<Chunk> {
            if let Some(s) = args.get("data").and_then(Json::as_str) {
                return Some(Chunk::text(s));
            }
            let n = args.get("bytes").and_then(Json::as_u64)?;
            Some(Chunk::bytes(
                (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
            ))
        };
        let callback = args
            .get("callback")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        let record_return = args.get("record").and_then(Json::as_str) == Some("return");
        match op {
            "write" => {
                let c = chunk().unwrap_or_else(|| Chunk::bytes(Vec::new()));
                let r = self.net().write(h, c, callback);
                if callback {
                    self.callbacks.insert((h, r.id), "writeCallback");
                }
                if record_return {
                    self.trace.line(actor, format!("write -> {}", r.ok));
                }
            }
            "end" => {
                let c = chunk();
                let r = self.net().end(h, c);
                if callback {
                    self.callbacks.insert((h, r.id), "endCallback");
                }
            }
            "destroy" => {
                let err = args
                    .get("error")
                    .and_then(Json::as_str)
                    .map(|c| NetError::custom(c, c.to_string()));
                self.net().destroy(h, err);
            }
            "destroySoon" => self.net().destroy_soon(h),
            "resetAndDestroy" => {
                if let Err(e) = self.net().reset_and_destroy(h) {
                    self.trace.line(actor, format!("throws {}", e.trace_code()));
                }
            }
            "pause" => self.net().pause(h),
            "resume" => self.net().resume(h),
            "ref" | "unref" => {}
            "setTimeout" => {
                let ms = args.get("ms").cloned().unwrap_or(Json::Null);
                if self.net().socket_view(h).destroyed {
                    return;
                }
                self.sock_state.entry(h).or_default().timeout_prop = Some(ms.clone());
                match options::timeout(&ms) {
                    Ok(d) => self.net().set_timeout(h, d),
                    Err(e) => self.trace.line(actor, format!("throws {}", e.trace_code())),
                }
            }
            "setNoDelay" => {
                let v = args
                    .get("value")
                    .is_none_or(|v| crate::scenario::to_value(v).is_truthy());
                self.net().set_no_delay(h, v);
            }
            "setKeepAlive" => {
                let enable = args
                    .get("enable")
                    .is_some_and(|v| crate::scenario::to_value(v).is_truthy());
                let delay = args
                    .get("initialDelay")
                    .and_then(Json::as_f64)
                    .unwrap_or(0.0);
                let secs = (delay / 1000.0).trunc().max(0.0) as u32;
                self.net().set_keep_alive(h, enable, secs);
            }
            "echo" => {
                self.sock_state.entry(h).or_default().echo = true;
            }
            other => self
                .trace
                .line(actor, format!("!unknown operation {other}")),
        }
    }

    /// Turns what the backend observed into trace lines (and echoes).
    fn collect(&mut self) {
        loop {
            let Some(net) = self.net.as_mut() else {
                return;
            };
            let seen = net.take_seen();
            if seen.is_empty() {
                return;
            }
            for o in seen {
                match o {
                    Seen::Socket(h, e) => self.socket_event(h, e),
                    Seen::Listening(h) => self.server_event(h, ServerObserved::Listening),
                    Seen::Connection(h, s) => self.server_event(h, ServerObserved::Connection(s)),
                    Seen::Drop(h, d) => self.server_event(h, ServerObserved::Drop(d)),
                    Seen::ServerError(h, e) => self.server_event(h, ServerObserved::Error(e)),
                    Seen::Close(h) => self.server_event(h, ServerObserved::Close),
                    Seen::CloseCallback(h, e) => {
                        self.server_event(h, ServerObserved::CloseCallback(e))
                    }
                    Seen::Connections(h, n) => self.server_event(h, ServerObserved::Connections(n)),
                }
                self.check_wait();
            }
        }
    }

    fn socket_event(&mut self, h: SockId, e: SocketEvent) {
        let Some(actor) = self.socket_names.get(&h).cloned() else {
            return;
        };
        let undef = |o: Option<String>| o.unwrap_or_else(|| "undefined".into());
        let line = match e {
            SocketEvent::Lookup {
                error,
                address,
                family,
                host,
            } => format!(
                "lookup {} {} {} {host}",
                error.map_or("null".into(), |e| e.trace_code()),
                undef(address),
                undef(family.map(|f| f.to_string()))
            ),
            SocketEvent::ConnectionAttempt {
                address,
                port,
                family,
            } => format!(
                "connectionAttempt {} {} {}",
                self.trace.path(&address),
                undef(port.map(|p| self.trace.port_or_number(p))),
                undef(family.map(|f| f.to_string()))
            ),
            SocketEvent::ConnectionAttemptFailed {
                address,
                port,
                family,
                error,
            } => format!(
                "connectionAttemptFailed {} {} {} {}",
                self.trace.path(&address),
                undef(port.map(|p| self.trace.port_or_number(p))),
                undef(family.map(|f| f.to_string())),
                error.trace_code()
            ),
            SocketEvent::ConnectionAttemptTimeout {
                address,
                port,
                family,
            } => format!(
                "connectionAttemptTimeout {} {} {}",
                address,
                undef(port.map(|p| self.trace.port_or_number(p))),
                undef(family.map(|f| f.to_string()))
            ),
            SocketEvent::Connect => {
                self.sock_state.entry(h).or_default().connected = true;
                "connect".into()
            }
            SocketEvent::Ready => "ready".into(),
            SocketEvent::Data(d) => {
                self.trace.data(&actor, &d);
                if self.sock_state.get(&h).is_some_and(|s| s.echo) {
                    self.net().write(h, Chunk::bytes(d), false);
                }
                return;
            }
            SocketEvent::End => {
                if self.sock_state.get(&h).is_some_and(|s| s.echo) {
                    self.trace.line(&actor, "end");
                    self.net().end(h, None);
                    return;
                }
                "end".into()
            }
            SocketEvent::Finish => "finish".into(),
            SocketEvent::Drain => "drain".into(),
            SocketEvent::Timeout => "timeout".into(),
            SocketEvent::Error(e) => format!("error {}", e.trace_code()),
            SocketEvent::Close(kind) => {
                self.sock_state.entry(h).or_default().closed = true;
                format!("close {}", matches!(kind, CloseKind::HadError(true)))
            }
            SocketEvent::WriteCallback { id, error } | SocketEvent::EndCallback { id, error } => {
                let Some(name) = self.callbacks.remove(&(h, id)) else {
                    return;
                };
                format!("{name} {}", error.map_or("null".into(), |e| e.trace_code()))
            }
        };
        self.trace.line(&actor, line);
    }

    fn server_event(&mut self, h: SrvId, e: ServerObserved) {
        let Some(actor) = self.server_names.get(&h).cloned() else {
            return;
        };
        let line = match e {
            ServerObserved::Listening => {
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
                "listening".into()
            }
            ServerObserved::Connection(sh) => {
                let n = self.server_conns.entry(h).or_default();
                *n += 1;
                let name = format!("{actor}#{n}");
                self.trace.line(&actor, format!("connection {name}"));
                self.trace.actor(&name);
                self.sockets.insert(name.clone(), sh);
                self.socket_names.insert(sh, name);
                let echo = self.server_echo.get(&h).copied().unwrap_or(false);
                self.sock_state.insert(
                    sh,
                    SockState {
                        echo,
                        connected: true,
                        ..SockState::default()
                    },
                );
                return;
            }
            ServerObserved::Drop(info) => match info {
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
            },
            ServerObserved::Error(e) => format!("error {}", e.trace_code()),
            ServerObserved::Close => "close".into(),
            ServerObserved::CloseCallback(e) => {
                format!(
                    "closeCallback {}",
                    e.map_or("null".into(), |e| e.trace_code())
                )
            }
            ServerObserved::Connections(n) => format!("connections {n}"),
        };
        self.trace.line(&actor, line);
    }

    fn snapshot(&mut self, actor: &str, props: &[String]) {
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
            "writableEnded" => Json::from(s.writable_ended),
            "writableFinished" => Json::from(s.writable_finished),
            "readableEnded" => Json::from(s.readable_ended),
            "allowHalfOpen" => Json::from(s.allow_half_open),
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
            _ => Json::from("<undefined>"),
        }
    }
}

/// Compact JSON with keys sorted.
pub fn sorted(v: &Json) -> String {
    match v {
        Json::Object(o) => {
            let m: BTreeMap<&String, &Json> = o.iter().collect();
            let parts: Vec<String> = m
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Json::from(k.as_str()), sorted(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Json::Array(a) => format!("[{}]", a.iter().map(sorted).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}
