//! The conformance runner's frame: actors, variables, steps, waits, listeners and
//! reactions; what the backend observed becomes trace lines in `observe`. The network operations
//! run on a [`Backend`] (the simulator, or a real driver); `--driver core` runs the pure
//! operations only.
//!
//! Listeners follow Node's `EventEmitter`: each actor has a list in the order the listeners
//! were added. The runner's own recording listener is added when the creating call returns,
//! so a callback given to that call (`createConnection(…, cb)`, `createServer(listener)`)
//! comes before it; callbacks of later calls (`listen(cb)`, `socket.connect(…, cb)`,
//! `setTimeout(ms, cb)`) and reactions (`on` steps) come after, in the order added. An
//! event runs the listeners present when it was emitted.

pub mod args;
mod observe;
mod ops;
mod props;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;

use serde_json::Value as Json;

use sansnet::server::BoundAddress;
use sansnet::socket::WriteId;
use sansnet::Duration;

use crate::backend::{Backend, SockId, SrvId};
use crate::pure::Pure;
use crate::scenario::{parse_step, Scenario, Step};
use crate::trace::{event_of, Trace};

use args::Callback;

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

#[derive(Debug, Default)]
struct SockState {
    echo: bool,
    connected: bool,
    closed: bool,
    /// `socket.timeout` as last assigned (Node assigns before validating).
    timeout_prop: Option<Json>,
    /// The `$function` name of the `onread` option's callback.
    onread: Option<String>,
    /// A `$function` lookup was called: in Node it never answers.
    silent_lookup: bool,
}

#[derive(Debug, Default)]
struct SrvState {
    echo: bool,
    accepted: usize,
    /// What each pending `close()` call's callback records, in call order.
    close_callbacks: VecDeque<Option<Callback>>,
    /// What each pending `getConnections()` call's callback records, in call order.
    count_callbacks: VecDeque<Callback>,
}

/// A listener on an actor.
#[derive(Clone, Debug)]
struct Listener {
    id: u64,
    /// The event; `None` for the runner's own recording (every event).
    event: Option<String>,
    action: Action,
    /// Occurrences left; `None` for every one.
    left: Option<usize>,
}

#[derive(Clone, Debug)]
enum Action {
    /// The runner's own recording.
    Record,
    /// A `$function` argument added as a listener: records `call NAME null`.
    Call(String),
    /// A reaction; `server` is set for a reaction on `SERVER:connection`, where
    /// `SERVER#new` names the accepted socket.
    React {
        steps: Vec<Json>,
        server: Option<String>,
    },
}

/// What the runner's own listener does for one event.
#[derive(Debug)]
enum Own {
    Line(String),
    Data(SockId, Vec<u8>),
    End(SockId),
    Connection(SrvId, SockId),
}

/// The process defaults a scenario sees (`net.setDefault…`), kept per run and written
/// into each connect's options.
#[derive(Clone, Copy, Debug)]
struct Defaults {
    auto_select_family: bool,
    attempt_timeout: Duration,
}

/// An actor's event counts and received bytes.
type Tally = (BTreeMap<String, usize>, usize);

/// The wait in progress.
#[derive(Clone, Debug)]
struct Wait {
    actor: String,
    event: String,
    count: usize,
    bytes: Option<usize>,
}

/// One scenario run on backend `B` (none: the pure operations only).
#[derive(Debug)]
pub struct Runner<B> {
    net: Option<B>,
    trace: Trace,
    pure: Pure,
    error_detail: bool,
    sockets: BTreeMap<String, SockId>,
    socket_names: BTreeMap<SockId, String>,
    sock_state: BTreeMap<SockId, SockState>,
    servers: BTreeMap<String, SrvId>,
    server_names: BTreeMap<SrvId, String>,
    srv_state: BTreeMap<SrvId, SrvState>,
    callbacks: BTreeMap<(SockId, WriteId), Callback>,
    listeners: BTreeMap<String, Vec<Listener>>,
    next_listener: u64,
    defaults: Defaults,
    waiting: Option<Wait>,
    satisfied: bool,
    /// The steps run in a check-phase callback (they resumed after a wait).
    in_check: bool,
    /// With `"waits": "since-last-wait"`: per actor, the tally used up by its last
    /// satisfied wait.
    used: Option<BTreeMap<String, Tally>>,
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
            error_detail: false,
            sockets: BTreeMap::new(),
            socket_names: BTreeMap::new(),
            sock_state: BTreeMap::new(),
            servers: BTreeMap::new(),
            server_names: BTreeMap::new(),
            srv_state: BTreeMap::new(),
            callbacks: BTreeMap::new(),
            listeners: BTreeMap::new(),
            next_listener: 0,
            defaults: Defaults {
                auto_select_family: sansnet::defaults::DEFAULT_AUTO_SELECT_FAMILY,
                attempt_timeout: sansnet::defaults::DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT,
            },
            waiting: None,
            satisfied: false,
            in_check: false,
            used: None,
        }
    }

    /// Runs a scenario; returns the trace text and the outcome.
    pub fn run(self, sc: &Scenario) -> Result<(String, Outcome), NeedsNetwork> {
        self.run_keeping(sc)
            .map(|(text, outcome, _)| (text, outcome))
    }

    /// [`Runner::run`], giving back the backend too (to look at what it recorded).
    pub fn run_keeping(
        mut self,
        sc: &Scenario,
    ) -> Result<(String, Outcome, Option<B>), NeedsNetwork> {
        self.error_detail = sc.error_detail;
        if sc.waits_since_last {
            self.used = Some(BTreeMap::new());
        }
        let mut outcome = Outcome::Completed;
        for step in &sc.steps {
            match step {
                Step::Do { op, actor, args } => {
                    self.op(op, actor, args)?;
                    self.collect();
                }
                Step::Wait {
                    actor,
                    event,
                    count,
                    bytes,
                    timeout,
                } => {
                    self.need_network("wait")?;
                    let w = Wait {
                        actor: actor.clone(),
                        event: event.clone(),
                        count: *count,
                        bytes: *bytes,
                    };
                    if !self.wait(w, *timeout) {
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
                Step::On {
                    actor,
                    event,
                    steps,
                    times,
                } => self.add_reaction(actor, event, steps.clone(), *times),
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
        Ok((self.trace.render(&sc.name), outcome, self.net.take()))
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
        self.in_check = false;
        let limit = self.net().now() + d;
        self.collect();
        while self.net().turn(limit) {
            self.collect();
        }
        self.net().advance_clock(limit);
    }

    fn wait(&mut self, w: Wait, timeout: u64) -> bool {
        let limit = self.net().now() + Duration::from_millis(timeout);
        self.waiting = Some(w);
        self.satisfied = false;
        self.collect();
        self.check_wait();
        if self.satisfied && self.in_check {
            // Already satisfied: the steps still resume on setImmediate, which, scheduled
            // from a check callback, runs in the next iteration's check phase.
            self.net().immediate_from_check();
        }
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
        self.in_check = true;
        true
    }

    /// After each observation: whether the wait in progress is satisfied, counting what
    /// its actor observed since it was created.
    fn check_wait(&mut self) {
        let Some(w) = &self.waiting else {
            return;
        };
        if self.satisfied {
            return;
        }
        let (counts, received) = self.trace.tally(&w.actor);
        let (used_counts, used_bytes) = self
            .used
            .as_ref()
            .and_then(|u| u.get(&w.actor).cloned())
            .unwrap_or_default();
        self.satisfied = match w.bytes {
            Some(b) => received - used_bytes.min(received) >= b,
            None => {
                let seen = counts.get(&w.event).copied().unwrap_or(0);
                let used = used_counts.get(&w.event).copied().unwrap_or(0);
                seen.saturating_sub(used) >= w.count
            }
        };
        if self.satisfied {
            if let Some(u) = &mut self.used {
                u.insert(w.actor.clone(), (counts, received));
            }
        }
    }

    /// Records a line and checks the wait.
    fn line(&mut self, actor: &str, line: String) {
        self.trace.line(actor, line);
        self.check_wait();
    }

    // ----- listeners -----------------------------------------------------------------

    fn add_listener(
        &mut self,
        actor: &str,
        event: Option<&str>,
        action: Action,
        left: Option<usize>,
    ) {
        self.next_listener += 1;
        let l = Listener {
            id: self.next_listener,
            event: event.map(str::to_string),
            action,
            left,
        };
        let list = self.listeners.entry(actor.to_string()).or_default();
        if matches!(l.action, Action::Record) {
            // The runner records before any reaction: those added before the actor existed
            // (a top-level `on` for a socket not yet accepted) run after its line. Listeners
            // the creating call added (a connect callback) stay first.
            let at = (list.iter())
                .position(|l| matches!(l.action, Action::React { .. }))
                .unwrap_or(list.len());
            list.insert(at, l);
        } else {
            list.push(l);
        }
    }

    fn add_reaction(&mut self, actor: &str, event: &str, steps: Vec<Json>, times: Option<usize>) {
        let server = (event == "connection").then(|| actor.to_string());
        self.add_listener(actor, Some(event), Action::React { steps, server }, times);
    }

    /// Uses up one occurrence of listener `id`; false if it is gone.
    fn consume(&mut self, actor: &str, id: u64) -> bool {
        let Some(list) = self.listeners.get_mut(actor) else {
            return false;
        };
        let Some(i) = list.iter().position(|l| l.id == id) else {
            return false;
        };
        if let Some(n) = &mut list[i].left {
            *n -= 1;
            if *n == 0 {
                list.remove(i);
            }
        }
        true
    }

    fn listeners_for(&self, actor: &str, event: &str, own: bool) -> Vec<Listener> {
        self.listeners
            .get(actor)
            .map(|list| {
                list.iter()
                    .filter(|l| match &l.event {
                        None => own,
                        Some(e) => e == event,
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Emits an event on an actor: its listeners run in order, the runner's own among them.
    fn emit(&mut self, actor: &str, event: &str, own: Own) {
        let list = self.listeners_for(actor, event, true);
        let mut own = Some(own);
        let mut accepted = None;
        for l in list {
            if !self.consume(actor, l.id) {
                continue;
            }
            match l.action {
                Action::Record => {
                    if let Some(o) = own.take() {
                        accepted = self.record(actor, o);
                    }
                }
                Action::Call(name) => self.pseudo(actor, format!("call {name} null")),
                Action::React { steps, server } => {
                    self.trace.flush(actor);
                    self.react(&steps, server.as_deref(), accepted.as_deref());
                }
            }
        }
    }

    /// A line that is not an emitter event (a callback, `throws`): recorded, then the
    /// reactions on it run.
    fn pseudo(&mut self, actor: &str, line: String) {
        let event = event_of(&line).to_string();
        self.line(actor, line);
        for l in self.listeners_for(actor, &event, false) {
            if !self.consume(actor, l.id) {
                continue;
            }
            if let Action::React { steps, server } = l.action {
                self.react(&steps, server.as_deref(), None);
            }
        }
    }

    /// The runner's own listener; returns the name of a socket just accepted.
    fn record(&mut self, actor: &str, own: Own) -> Option<String> {
        match own {
            Own::Line(l) => self.line(actor, l),
            Own::Data(h, d) => {
                self.trace.data(actor, &d);
                self.check_wait();
                if self.sock_state.get(&h).is_some_and(|s| s.echo) {
                    self.net().write(h, sansnet::socket::Chunk::bytes(d), false);
                }
            }
            Own::End(h) => {
                self.line(actor, "end".into());
                if self.sock_state.get(&h).is_some_and(|s| s.echo) {
                    self.net().end(h, None, false);
                }
            }
            Own::Connection(srv, sh) => {
                let st = self.srv_state.entry(srv).or_default();
                st.accepted += 1;
                let echo = st.echo;
                let name = format!("{actor}#{}", st.accepted);
                self.line(actor, format!("connection {name}"));
                self.new_socket_actor(&name, sh);
                self.sock_state.insert(
                    sh,
                    SockState {
                        echo,
                        connected: true,
                        ..SockState::default()
                    },
                );
                return Some(name);
            }
        }
        None
    }

    fn new_socket_actor(&mut self, name: &str, h: SockId) {
        self.trace.actor(name);
        self.sockets.insert(name.into(), h);
        self.socket_names.insert(h, name.into());
        self.add_listener(name, None, Action::Record, None);
    }

    /// Runs a reaction's steps inside the listener.
    fn react(&mut self, steps: &[Json], server: Option<&str>, accepted: Option<&str>) {
        for step in steps {
            let step = match (server, accepted) {
                (Some(srv), Some(new)) => replace_new(step, srv, new),
                _ => step.clone(),
            };
            match parse_step(&step) {
                Ok(Step::Do { op, actor, args }) => {
                    // A network operation under `--driver core` cannot run; nothing to do.
                    let _ = self.op(&op, &actor, &args);
                }
                Ok(Step::Snapshot { actor, props }) => self.snapshot(&actor, &props),
                Ok(Step::On {
                    actor,
                    event,
                    steps,
                    times,
                }) => self.add_reaction(&actor, &event, steps, times),
                Ok(_) | Err(_) => {}
            }
        }
    }
}

/// A reaction's step with `SERVER#new` replaced by the accepted socket's name: in the
/// actor of operations, the snapshot's actor and the actor part of nested `on` steps, and
/// inside those nested reactions' steps, except in a nested reaction on
/// `SERVER:connection` (where it means that later socket).
fn replace_new(step: &Json, server: &str, accepted: &str) -> Json {
    let placeholder = format!("{server}#new");
    let swap = |v: &Json| -> Json {
        match v.as_str() {
            Some(s) if s == placeholder => Json::from(accepted),
            _ => v.clone(),
        }
    };
    let mut out = step.clone();
    let Some(o) = out.as_object_mut() else {
        return out;
    };
    for key in ["actor", "snapshot"] {
        if let Some(v) = o.get(key).map(&swap) {
            o.insert(key.into(), v);
        }
    }
    if let Some(on) = o.get("on").and_then(Json::as_str).map(str::to_string) {
        let (actor, event) = on.rsplit_once(':').unwrap_or((&on, ""));
        let actor = if actor == placeholder {
            accepted
        } else {
            actor
        };
        o.insert("on".into(), Json::from(format!("{actor}:{event}")));
        let nested_new = event == "connection" && actor == server;
        if !nested_new {
            if let Some(Json::Array(steps)) = o.get("do") {
                let steps: Vec<Json> = steps
                    .iter()
                    .map(|s| replace_new(s, server, accepted))
                    .collect();
                o.insert("do".into(), Json::Array(steps));
            }
        }
    }
    out
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
