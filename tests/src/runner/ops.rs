//! The operations of a scenario: each builds Node's call from the step (its keys or its
//! `args`), makes it through the core's loose face and the backend, records what it threw
//! or, with `"record": "return"`, what it returned.

use serde_json::{json, Value as Json};

use sansnet::options::{
    end_args, get_connections_args, set_keep_alive_args, set_no_delay_arg, set_timeout_args,
    write_args, ChunkArg, ConnectOptions, Encoding, ListenTarget, SocketConnectThrow,
};
use sansnet::server::BoundAddress;
use sansnet::socket::Chunk;
use sansnet::value::Value;
use sansnet::{validate, Duration, NetError};

use super::args::{Call, Callback, Ret};
use super::{Action, NeedsNetwork, Runner, SockState, SrvState};
use crate::backend::{Backend, SockId};
use crate::options;

/// The step keys that stand for a network operation's arguments, in order.
fn keys(op: &str) -> &'static [&'static str] {
    match op {
        "createServer" | "listen" | "connect" | "socket" | "socketConnect" => &["options"],
        "setTimeout" => &["ms"],
        "setNoDelay" => &["value"],
        "setKeepAlive" => &["enable", "initialDelay"],
        "setDefaultAutoSelectFamily" | "setDefaultAutoSelectFamilyAttemptTimeout" => &["value"],
        _ => &[],
    }
}

impl<B: Backend> Runner<B> {
    /// Runs one operation.
    pub(super) fn op(&mut self, op: &str, actor: &str, step: &Json) -> Result<(), NeedsNetwork> {
        let record = step.get("record").and_then(Json::as_str) == Some("return");
        let explicit = step.get("args").and_then(Json::as_array).cloned();
        let call = |this: &mut Self, keys: &[&str]| -> Call {
            match &explicit {
                Some(a) => Call::from_args(&this.substitute_all(a)),
                None => {
                    let step = this.substitute(step);
                    Call::from_keys(&step, keys)
                }
            }
        };
        if let Some(k) = crate::pure::keys(op) {
            let c = call(self, k);
            if let Some(r) = self.pure.op(op, actor, &c) {
                self.trace.actor(actor);
                match r {
                    Ok((line, ret)) => {
                        if let Some(l) = line {
                            self.line(actor, l);
                        }
                        if record {
                            self.record_return(actor, op, ret);
                        }
                    }
                    Err(e) => self.throws(actor, &e),
                }
                return Ok(());
            }
        }
        if op.starts_with("setDefault") || op.starts_with("getDefault") {
            let c = call(self, keys(op));
            self.trace.actor(actor);
            self.defaults_op(op, actor, &c);
            return Ok(());
        }
        self.need_network(op)?;
        let c = call(self, keys(op));
        let ret = match op {
            "createServer" => self.create_server(actor, step, &c),
            "listen" => self.listen(actor, &c),
            "set" => {
                if let Some(h) = self.servers.get(actor).copied() {
                    let prop = step.get("prop").and_then(Json::as_str).unwrap_or("");
                    let value = step.get("value").cloned().unwrap_or(Json::Null);
                    if prop == "maxConnections" {
                        let v = value.as_f64().filter(|v| *v >= 0.0).map(|v| v as u32);
                        self.net().set_max_connections(h, v);
                    }
                }
                None
            }
            "close" => self.close(actor, &c),
            "getConnections" => self.get_connections(actor, &c),
            "address" if self.servers.contains_key(actor) => self.server_address(actor),
            "ref" | "unref" if self.servers.contains_key(actor) => Some(Ret::This),
            "connect" | "socket" => self.create_socket(op, actor, &c),
            "socketConnect" => self.socket_connect(actor, &c),
            "blackhole" => {
                let opts = self.substitute(&step.get("options").cloned().unwrap_or(Json::Null));
                let host = opts
                    .get("host")
                    .and_then(Json::as_str)
                    .unwrap_or("127.0.0.1");
                let ip = host
                    .parse()
                    .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
                let port = self.net().blackhole(ip);
                self.trace.bind(format!("${actor}.port"), port.to_string());
                None
            }
            _ => self.socket_op(op, actor, step, c),
        };
        // Events emitted synchronously inside the call are observed before it returns.
        self.collect();
        if let (true, Some(ret)) = (record, ret) {
            self.record_return(actor, op, ret);
        }
        Ok(())
    }

    /// Records `throws CODE` (a line that reactions can follow).
    fn throws(&mut self, actor: &str, e: &NetError) {
        let line = format!("throws {}", self.error_text(e));
        self.pseudo(actor, line);
    }

    fn record_return(&mut self, actor: &str, op: &str, ret: Ret) {
        let value = match ret {
            Ret::This => self.kind_of(actor).to_string(),
            Ret::Actor(a) => format!("<{a}>"),
            Ret::Json(j) => super::sorted(&j),
            Ret::Undefined => "undefined".into(),
        };
        self.line(actor, format!("{op} -> {value}"));
    }

    fn kind_of(&self, actor: &str) -> &'static str {
        if self.sockets.contains_key(actor) {
            "socket"
        } else if self.servers.contains_key(actor) {
            "server"
        } else {
            self.pure.kind(actor).unwrap_or("undefined")
        }
    }

    /// Replaces `$var` strings by their values, `$tmp` by a fresh path.
    pub(super) fn substitute(&mut self, j: &Json) -> Json {
        match j {
            Json::String(s) if s == "$tmp" => {
                let p = self.net().temp_path();
                self.trace.tmp_path(&p);
                Json::String(p)
            }
            Json::String(s) if s.starts_with('$') => match self.trace.var(s) {
                Some(v) if s.ends_with(".port") => {
                    v.parse::<u64>().map_or_else(|_| Json::from(v), Json::from)
                }
                Some(v) => Json::from(v),
                None => j.clone(),
            },
            Json::Array(a) => Json::Array(self.substitute_all(a)),
            Json::Object(o) => Json::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.substitute(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn substitute_all(&mut self, a: &[Json]) -> Vec<Json> {
        a.iter().map(|x| self.substitute(x)).collect()
    }

    fn defaults_op(&mut self, op: &str, actor: &str, c: &Call) {
        let r: Result<(), NetError> = match op {
            "getDefaultAutoSelectFamily" => {
                let v = self.defaults.auto_select_family;
                self.line(actor, format!("{op} {v}"));
                Ok(())
            }
            "getDefaultAutoSelectFamilyAttemptTimeout" => {
                let v = self.defaults.attempt_timeout.as_millis();
                self.line(actor, format!("{op} {v}"));
                Ok(())
            }
            "setDefaultAutoSelectFamily" => validate::validate_boolean(c.arg(0), "value")
                .map(|b| self.defaults.auto_select_family = b),
            "setDefaultAutoSelectFamilyAttemptTimeout" => {
                validate::validate_int32(c.arg(0), "value", 1, i32::MAX).map(|ms| {
                    self.defaults.attempt_timeout =
                        sansnet::defaults::clamp_attempt_timeout(Duration::from_millis(ms as u64));
                })
            }
            _ => Ok(()),
        };
        if let Err(e) = r {
            self.throws(actor, &e);
        }
    }

    fn create_server(&mut self, actor: &str, step: &Json, c: &Call) -> Option<Ret> {
        self.trace.actor(actor);
        let cfg = match options::server(c) {
            Ok(cfg) => cfg,
            Err(e) => {
                self.throws(actor, &e);
                return None;
            }
        };
        let h = self.net().create_server(cfg);
        self.servers.insert(actor.into(), h);
        self.server_names.insert(h, actor.into());
        let echo = step.get("echo").and_then(Json::as_bool).unwrap_or(false);
        self.srv_state.insert(
            h,
            SrvState {
                echo,
                ..SrvState::default()
            },
        );
        // createServer(listener) / createServer(options, listener): the listener was added
        // inside the call, before the runner's own.
        let listener = match c.callback(0) {
            Some(cb) => Some(cb),
            None => c.callback(1),
        };
        if let Some(Callback::Named(name)) = listener {
            self.add_listener(actor, Some("connection"), Action::Call(name), None);
        }
        self.add_listener(actor, None, Action::Record, None);
        Some(Ret::This)
    }

    fn listen(&mut self, actor: &str, c: &Call) -> Option<Ret> {
        let h = self.servers.get(actor).copied()?;
        // Node's listen() adds the callback as a 'listening' listener right after its
        // already-listening check, before the arguments are checked: a call that throws
        // for its arguments keeps its callback.
        if !self.net().server_view(h).listening {
            if let Some(Callback::Named(name)) = c.last_callback() {
                self.add_listener(actor, Some("listening"), Action::Call(name), Some(1));
            }
        }
        let opts = match options::listen(c) {
            Ok(o) => o,
            Err(e) => {
                self.throws(actor, &e);
                return None;
            }
        };
        if let ListenTarget::Ipc { path } = &opts.target {
            self.trace.bind(format!("${actor}.path"), path.clone());
        }
        if let Err(e) = self.net().listen(h, opts) {
            self.throws(actor, &e);
            return None;
        }
        Some(Ret::This)
    }

    fn close(&mut self, actor: &str, c: &Call) -> Option<Ret> {
        let h = self.servers.get(actor).copied()?;
        let cb = if c.explicit {
            c.callback(0)
        } else {
            Some(Callback::Line("closeCallback"))
        };
        self.srv_state
            .entry(h)
            .or_default()
            .close_callbacks
            .push_back(cb);
        self.net().close(h);
        Some(Ret::This)
    }

    fn get_connections(&mut self, actor: &str, c: &Call) -> Option<Ret> {
        let h = self.servers.get(actor).copied()?;
        let cb = if c.explicit {
            if let Err(e) = get_connections_args(c.arg(0)) {
                self.throws(actor, &e);
                return None;
            }
            c.callback(0)?
        } else {
            Callback::Line("connections")
        };
        self.srv_state
            .entry(h)
            .or_default()
            .count_callbacks
            .push_back(cb);
        self.net().get_connections(h);
        Some(Ret::This)
    }

    fn server_address(&mut self, actor: &str) -> Option<Ret> {
        let h = self.servers.get(actor).copied()?;
        Some(match self.net().server_view(h).address {
            None => Ret::Json(Json::Null),
            Some(BoundAddress::Ipc(p)) => Ret::Json(Json::from(self.trace.path(&p))),
            Some(BoundAddress::Tcp(a)) => Ret::Json(json!({
                "address": a.ip().to_string(),
                "family": if a.is_ipv4() { "IPv4" } else { "IPv6" },
                "port": self.trace.port(a.port()),
            })),
        })
    }

    /// The run's process defaults (`net.setDefault…`) written into a connect's options
    /// where the call left them. (The loose face filled them from the process's own
    /// defaults, read when the call is made; each run keeps its own, so that runs in one
    /// process do not see each other's.)
    fn with_defaults(&self, c: &Call, mut o: ConnectOptions) -> ConnectOptions {
        let given = |key: &str| !c.arg(0).get(key).is_nullish();
        if !given("autoSelectFamily") {
            o.auto_select_family = Some(self.defaults.auto_select_family);
        }
        if !given("autoSelectFamilyAttemptTimeout") {
            o.auto_select_family_attempt_timeout = Some(self.defaults.attempt_timeout);
        }
        o
    }

    fn create_socket(&mut self, op: &str, actor: &str, c: &Call) -> Option<Ret> {
        self.trace.actor(actor);
        let parsed = if op == "connect" {
            options::connect(c).map(|o| (o.socket.clone(), Some(o)))
        } else {
            options::socket(c).map(|s| (s, None))
        };
        let (cfg, connect) = match parsed {
            Ok(p) => p,
            Err(e) => {
                self.throws(actor, &e);
                return None;
            }
        };
        let h = self.net().create_socket(cfg, options::lookup(c));
        let mut st = SockState {
            onread: c
                .json(0)
                .and_then(|o| o.pointer("/onread/callback/$function"))
                .and_then(Json::as_str)
                .map(String::from),
            ..SockState::default()
        };
        if let Some(t) = c
            .json(0)
            .and_then(|o| o.get("timeout"))
            .filter(|t| t.as_f64().is_some_and(|v| v != 0.0))
        {
            st.timeout_prop = Some(t.clone());
        }
        self.sock_state.insert(h, st);
        if let Some(o) = connect {
            let o = self.with_defaults(c, o);
            self.net().connect(h, &o);
            self.lookup_called(actor, h, c, &o);
            // What the creating call emitted itself is not observed.
            let early = self.net().take_seen();
            self.name_socket(actor, h, c.last_callback());
            for s in early {
                if !matches!(s, crate::backend::Seen::Socket(x, _) if x == h) {
                    self.observe(s);
                }
            }
        } else {
            self.name_socket(actor, h, None);
        }
        Some(Ret::This)
    }

    /// Names a new socket actor; a connect callback given to the creating call comes
    /// before the runner's own listener.
    fn name_socket(&mut self, actor: &str, h: SockId, connect_cb: Option<Callback>) {
        if let Some(Callback::Named(name)) = connect_cb {
            self.add_listener(actor, Some("connect"), Action::Call(name), Some(1));
        }
        self.trace.actor(actor);
        self.sockets.insert(actor.into(), h);
        self.socket_names.insert(h, actor.into());
        self.add_listener(actor, None, Action::Record, None);
    }

    fn socket_connect(&mut self, actor: &str, c: &Call) -> Option<Ret> {
        // An actor whose creation threw has no object: the operation records nothing (as
        // in node-runner.js, which also refuses a scenario naming an actor no step creates).
        let h = self.sockets.get(actor).copied()?;
        // `socket.connect(...args)`, saying whether a throw came after the socket began
        // connecting.
        let o = match sansnet::options::socket_connect_args(&c.values) {
            Ok(o) => o,
            Err(SocketConnectThrow::Before(e)) => {
                self.throws(actor, &e);
                return None;
            }
            Err(SocketConnectThrow::Connecting(e)) => {
                // Node began connecting (and added the callback as a 'connect' listener)
                // before the check that threw.
                self.throws(actor, &e);
                if let Some(st) = self.sock_state.get_mut(&h) {
                    st.closed = false;
                }
                self.net().connect_rejected(h);
                if let Some(Callback::Named(name)) = c.last_callback() {
                    self.add_listener(actor, Some("connect"), Action::Call(name), Some(1));
                }
                return None;
            }
        };
        let o = self.with_defaults(c, o);
        if let Some(st) = self.sock_state.get_mut(&h) {
            st.closed = false;
            st.silent_lookup = false;
        }
        self.net().connect(h, &o);
        self.lookup_called(actor, h, c, &o);
        if let Some(Callback::Named(name)) = c.last_callback() {
            self.add_listener(actor, Some("connect"), Action::Call(name), Some(1));
        }
        Some(Ret::This)
    }

    /// A `lookup` option given as `{"$function": NAME}` is called inside `connect()`, as
    /// Node calls a custom lookup: its `call NAME null` line (the first argument is the
    /// host) comes before `connect()` returns. Such a function never answers in Node; the
    /// backends cannot hold a lookup unanswered (they resolve the host themselves), so a
    /// scenario destroys the socket before an answer could matter (FORMAT.md); one that
    /// comes is marked in the trace.
    fn lookup_called(&mut self, actor: &str, h: SockId, c: &Call, o: &ConnectOptions) {
        let name = c
            .json(0)
            .and_then(|j| j.pointer("/lookup/$function"))
            .and_then(Json::as_str);
        if let Some(name) = name.filter(|_| o.calls_custom_lookup()) {
            self.sock_state.entry(h).or_default().silent_lookup = true;
            self.pseudo(actor, Callback::Named(name.into()).line(None));
        }
    }

    /// The chunk of a v1 `write`/`end` step: `data` text (with `encoding`) or `bytes` N.
    fn v1_chunk(step: &Json) -> Option<(Json, Option<Json>)> {
        if let Some(s) = step.get("data") {
            return Some((s.clone(), step.get("encoding").cloned()));
        }
        let n = step.get("bytes").and_then(Json::as_u64)?;
        // Built without a `format!` per byte: megabytes of payload would take long enough
        // for a scenario's timers to come due inside the step.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(2 * usize::try_from(n).unwrap_or(0));
        for i in 0..n {
            let b = (i % 251) as usize;
            hex.push(char::from(DIGITS[b >> 4]));
            hex.push(char::from(DIGITS[b & 15]));
        }
        Some((json!({"$buffer": hex, "encoding": "hex"}), None))
    }

    /// The call of a v1 `write`/`end` step.
    fn v1_write_call(step: &Json, word: &'static str) -> Call {
        let mut c = Call::default();
        if let Some((data, enc)) = Self::v1_chunk(step) {
            c.push(Some(&data));
            if let Some(e) = enc {
                c.push(Some(&e));
            }
        }
        if step.get("callback").and_then(Json::as_bool) == Some(true) {
            c.push_callback(Callback::Line(word));
        }
        c
    }

    fn chunk(arg: ChunkArg) -> Chunk {
        arg.into_text_chunk(Encoding::Utf8)
            .map_or_else(|| Chunk::bytes(Vec::new()), Chunk::from)
    }

    fn socket_op(&mut self, op: &str, actor: &str, step: &Json, c: Call) -> Option<Ret> {
        // An actor whose creation threw records nothing (see `socket_connect`).
        let h = self.sockets.get(actor).copied()?;
        match op {
            "write" | "end" => {
                let c = if c.explicit {
                    c
                } else {
                    let step = self.substitute(step);
                    let word = if op == "write" {
                        "writeCallback"
                    } else {
                        "endCallback"
                    };
                    Self::v1_write_call(&step, word)
                };
                // The callback is the argument Node's rules pick (the core says which).
                if op == "write" {
                    let w = match write_args(&c.values) {
                        Ok(w) => w,
                        Err(e) => {
                            self.throws(actor, &e);
                            return None;
                        }
                    };
                    let cb = w.callback.and_then(|i| c.callback(i));
                    let r = self.net().write(h, Self::chunk(w.chunk), cb.is_some());
                    if let Some(cb) = cb {
                        self.callbacks.insert((h, r.id), cb);
                    }
                    Some(Ret::Json(Json::from(r.ok)))
                } else {
                    let e = match end_args(&c.values) {
                        Ok(e) => e,
                        Err(e) => {
                            self.throws(actor, &e);
                            return None;
                        }
                    };
                    let cb = e.callback.and_then(|i| c.callback(i));
                    let r = self.net().end(h, e.chunk.map(Self::chunk), cb.is_some());
                    if let Some(cb) = cb {
                        self.callbacks.insert((h, r.id), cb);
                    }
                    Some(Ret::This)
                }
            }
            "destroy" => {
                let err = if step.get("args").is_some() {
                    destroy_value(c.arg(0))
                } else {
                    step.get("error")
                        .and_then(Json::as_str)
                        .map(|c| NetError::custom(c, c.to_string()))
                };
                self.net().destroy(h, err);
                Some(Ret::This)
            }
            "destroySoon" => {
                self.net().destroy_soon(h);
                Some(Ret::Undefined)
            }
            "resetAndDestroy" => match self.net().reset_and_destroy(h) {
                Ok(()) => Some(Ret::This),
                Err(e) => {
                    self.throws(actor, &e);
                    None
                }
            },
            "pause" => {
                self.net().pause(h);
                Some(Ret::This)
            }
            "resume" => {
                self.net().resume(h);
                Some(Ret::This)
            }
            "ref" | "unref" => Some(Ret::This),
            "setTimeout" => {
                if self.net().socket_view(h).destroyed {
                    return Some(Ret::This);
                }
                // The property holds the JavaScript number (1e6 is 1000000).
                let shown = match c.json(0) {
                    Some(Json::Number(n)) => n
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map_or_else(|| Json::Number(n.clone()), |f| Json::from(f as i64)),
                    Some(j) => j.clone(),
                    None => Json::Null,
                };
                self.sock_state.entry(h).or_default().timeout_prop = Some(shown);
                match sansnet::options::timeout_ms(c.arg(0)) {
                    Ok(d) => self.net().set_timeout(h, d.unwrap_or(Duration::ZERO)),
                    Err(e) => {
                        self.throws(actor, &e);
                        return None;
                    }
                }
                match set_timeout_args(c.arg(0), c.arg(1)) {
                    Ok(_) => {
                        if let Some(Callback::Named(name)) = c.callback(1) {
                            self.add_listener(actor, Some("timeout"), Action::Call(name), Some(1));
                        }
                        Some(Ret::This)
                    }
                    Err(e) => {
                        self.throws(actor, &e);
                        None
                    }
                }
            }
            "setNoDelay" => {
                let v = set_no_delay_arg(c.arg(0));
                self.net().set_no_delay(h, v);
                Some(Ret::This)
            }
            "setKeepAlive" => match set_keep_alive_args(c.arg(0), c.arg(1)) {
                Ok(k) => {
                    let secs =
                        u32::try_from(k.initial_delay.as_millis() / 1000).unwrap_or(u32::MAX);
                    self.net().set_keep_alive(h, k.enable, secs);
                    Some(Ret::This)
                }
                Err(e) => {
                    self.throws(actor, &e);
                    None
                }
            },
            "address" => {
                let local = self.net().socket_view(h).local_address;
                Some(Ret::Json(local.map_or_else(
                    || json!({}),
                    |a| {
                        json!({
                            "address": a.ip().to_string(),
                            "family": if a.is_ipv4() { "IPv4" } else { "IPv6" },
                            "port": self.trace.port(a.port()),
                        })
                    },
                )))
            }
            "echo" => {
                self.sock_state.entry(h).or_default().echo = true;
                None
            }
            other => {
                self.trace
                    .line(actor, format!("!unknown operation {other}"));
                None
            }
        }
    }
}

/// What `destroy(value)` errors the socket with: nothing for a falsy value (Node only tests
/// truthiness), an object's `code` and `message`, else the value itself.
fn destroy_value(v: &Value) -> Option<NetError> {
    if !v.is_truthy() {
        return None;
    }
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e21 => format!("{}", *n as i64),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::BigInt(s) => s.clone(),
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        _ => "[object Object]".into(),
    };
    match v {
        Value::Object(_) => {
            let code = match v.get("code") {
                Value::Undefined => String::new(),
                c => text(c),
            };
            let message = match v.get("message") {
                Value::Undefined => String::new(),
                m => text(m),
            };
            Some(NetError::custom(&code, message))
        }
        other => Some(NetError::value(text(other))),
    }
}
