//! Conformance scenarios (format v1, `tests/conformance/FORMAT.md`): parsing and option
//! values.

use serde_json::Value as Json;

use sansnet::Value;

/// A parsed scenario.
#[derive(Debug)]
pub struct Scenario {
    /// `name`.
    pub name: String,
    /// `settle` in ms (default 5000).
    pub settle: u64,
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
    let steps = json
        .get("steps")
        .and_then(Json::as_array)
        .ok_or("missing \"steps\"")?;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        out.push(parse_step(s).map_err(|e| format!("step {i}: {e}"))?);
    }
    Ok(Scenario {
        name,
        settle,
        steps: out,
    })
}

fn parse_step(s: &Json) -> Result<Step, String> {
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
