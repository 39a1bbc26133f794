//! Conformance scenarios (format v2, `tests/conformance/FORMAT.md`): parsing and checking.

use serde_json::Value as Json;

use sansnet::Value;

/// A parsed scenario.
#[derive(Debug)]
pub struct Scenario {
    /// `name`.
    pub name: String,
    /// `settle` in ms (default 5000).
    pub settle: u64,
    /// `errorDetail`: error lines show the error's details.
    pub error_detail: bool,
    /// `"waits": "since-last-wait"` (a project extension, used by the differential
    /// tester's generator): a wait counts only what its actor observed after its previous
    /// satisfied wait, instead of totals.
    pub waits_since_last: bool,
    /// The steps.
    pub steps: Vec<Step>,
}

/// One step.
#[derive(Debug, Clone)]
pub enum Step {
    /// `{"do": OP, "actor": A, …}`: the whole object is kept for the operation's keys.
    Do {
        /// The operation.
        op: String,
        /// The actor.
        actor: String,
        /// The step object.
        args: Json,
    },
    /// `{"wait": "A:EVENT", "count": N, "bytes": N, "timeout": MS}`.
    Wait {
        /// The actor.
        actor: String,
        /// The event.
        event: String,
        /// How many times (default 1).
        count: usize,
        /// For `data`: bytes received at least.
        bytes: Option<usize>,
        /// Milliseconds (default 5000).
        timeout: u64,
    },
    /// `{"sleep": MS}`.
    Sleep(u64),
    /// `{"snapshot": A, "props": [...]}`.
    Snapshot {
        /// The actor.
        actor: String,
        /// The properties.
        props: Vec<String>,
    },
    /// `{"on": "A:EVENT", "do": [STEP, …], "times": N}`: a reaction.
    On {
        /// The actor.
        actor: String,
        /// The event (`call NAME` for a callback).
        event: String,
        /// The steps, as JSON (parsed when they run, after `A#new` substitution).
        steps: Vec<Json>,
        /// How many occurrences run the steps; `None` for every one (`times: 0`).
        times: Option<usize>,
    },
}

/// Parses a scenario; `Err` names what is invalid (exit status 2).
pub fn parse(text: &str) -> Result<Scenario, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let name = json
        .get("name")
        .and_then(Json::as_str)
        .ok_or("missing \"name\"")?
        .to_string();
    let settle = json.get("settle").and_then(Json::as_u64).unwrap_or(5000);
    let error_detail = json
        .get("errorDetail")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let waits_since_last = json.get("waits").and_then(Json::as_str) == Some("since-last-wait");
    let steps = json
        .get("steps")
        .and_then(Json::as_array)
        .ok_or("missing \"steps\"")?;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let step = parse_step(s).map_err(|e| format!("step {}: {e}", i + 1))?;
        check_new(s, &[], false).map_err(|e| format!("step {}: {e}", i + 1))?;
        out.push(step);
    }
    Ok(Scenario {
        name,
        settle,
        error_detail,
        waits_since_last,
        steps: out,
    })
}

/// Checks that `A#new` appears only inside a reaction on `A:connection` (`servers`: the
/// servers whose 'connection' reactions enclose this step) and that a reaction holds no
/// `wait`, `sleep` or `blackhole`.
fn check_new(s: &Json, servers: &[String], in_reaction: bool) -> Result<(), String> {
    let named = |field: Option<&str>| -> Result<(), String> {
        match field.and_then(|a| a.strip_suffix("#new")) {
            Some(srv) if !servers.iter().any(|x| x == srv) => {
                Err(format!("{srv}#new outside a reaction on {srv}:connection"))
            }
            _ => Ok(()),
        }
    };
    if in_reaction
        && (s.get("wait").is_some()
            || s.get("sleep").is_some()
            || s.get("do").and_then(Json::as_str) == Some("blackhole"))
    {
        return Err("wait, sleep and blackhole cannot run inside a reaction".into());
    }
    if let Some(on) = s.get("on").and_then(Json::as_str) {
        let (actor, event) = on.rsplit_once(':').unwrap_or((on, ""));
        named(Some(actor))?;
        let mut inner = servers.to_vec();
        if event == "connection" {
            inner.push(actor.to_string());
        }
        for step in s.get("do").and_then(Json::as_array).into_iter().flatten() {
            check_new(step, &inner, true)?;
        }
        return Ok(());
    }
    named(s.get("actor").and_then(Json::as_str))?;
    named(s.get("snapshot").and_then(Json::as_str))
}

/// Parses one step (also a step inside a reaction).
pub fn parse_step(s: &Json) -> Result<Step, String> {
    if let Some(on) = s.get("on").and_then(Json::as_str) {
        let (actor, event) = on.rsplit_once(':').ok_or("on must be \"ACTOR:EVENT\"")?;
        let steps = s
            .get("do")
            .and_then(Json::as_array)
            .ok_or("\"on\" without a \"do\" list")?;
        for st in steps {
            parse_step(st)?;
        }
        let times = s.get("times").and_then(Json::as_u64).unwrap_or(1) as usize;
        return Ok(Step::On {
            actor: actor.to_string(),
            event: event.to_string(),
            steps: steps.clone(),
            times: (times > 0).then_some(times),
        });
    }
    if let Some(op) = s.get("do").and_then(Json::as_str) {
        let actor = s
            .get("actor")
            .and_then(Json::as_str)
            .ok_or("\"do\" without \"actor\"")?;
        return Ok(Step::Do {
            op: op.to_string(),
            actor: actor.to_string(),
            args: s.clone(),
        });
    }
    if let Some(w) = s.get("wait").and_then(Json::as_str) {
        let (actor, event) = w.rsplit_once(':').ok_or("wait must be \"ACTOR:EVENT\"")?;
        return Ok(Step::Wait {
            actor: actor.to_string(),
            event: event.to_string(),
            count: s.get("count").and_then(Json::as_u64).unwrap_or(1) as usize,
            bytes: s.get("bytes").and_then(Json::as_u64).map(|b| b as usize),
            timeout: s.get("timeout").and_then(Json::as_u64).unwrap_or(5000),
        });
    }
    if let Some(ms) = s.get("sleep") {
        return Ok(Step::Sleep(ms.as_u64().ok_or("sleep must be a number")?));
    }
    if let Some(a) = s.get("snapshot").and_then(Json::as_str) {
        let props = s
            .get("props")
            .and_then(Json::as_array)
            .ok_or("snapshot without \"props\"")?
            .iter()
            .map(|p| {
                p.as_str()
                    .map(str::to_string)
                    .ok_or("props must be strings")
            })
            .collect::<Result<_, _>>()?;
        return Ok(Step::Snapshot {
            actor: a.to_string(),
            props,
        });
    }
    Err("unknown step".into())
}

/// A JSON value as the JavaScript value Node's API would receive.
pub fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(to_value).collect()),
        Json::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect()),
    }
}
