//! An operation's arguments as the JavaScript values Node's call receives (FORMAT.md v2,
//! "Keys that are absent" and "Arguments as JavaScript values"), and how a returned value
//! prints in a `NAME -> VALUE` line.

use serde_json::{json, Value as Json};

use sansnet::options::Encoding;
use sansnet::{SocketAddress, Value};

/// What the runner records when a function it passed is called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callback {
    /// A v1 callback: its line is this word and the error code (`writeCallback null`).
    Line(&'static str),
    /// A `{"$function": NAME}` argument: `call NAME ERR-or-null`.
    Named(String),
}

impl Callback {
    /// The line for a call whose first argument is `err` (a code) or not an error.
    pub fn line(&self, err: Option<String>) -> String {
        let err = err.unwrap_or_else(|| "null".into());
        match self {
            Callback::Line(word) => format!("{word} {err}"),
            Callback::Named(name) => format!("call {name} {err}"),
        }
    }
}

/// The arguments of one call.
#[derive(Clone, Debug, Default)]
pub struct Call {
    /// As the core's loose face takes them.
    pub values: Vec<Value>,
    /// As JSON, after `$` substitution (option encodings kept), `None` for a runner callback.
    pub json: Vec<Option<Json>>,
    /// Per position, the callback when the argument is a function.
    pub functions: Vec<Option<Callback>>,
    /// Whether the arguments came from `args` (else from the step's keys).
    pub explicit: bool,
}

impl Call {
    /// Argument `i` (`undefined` past the end).
    pub fn arg(&self, i: usize) -> &Value {
        self.values.get(i).unwrap_or(&sansnet::value::UNDEFINED)
    }

    /// Argument `i` as JSON, if given.
    pub fn json(&self, i: usize) -> Option<&Json> {
        self.json.get(i).and_then(Option::as_ref)
    }

    /// The callback at position `i`, if that argument is a function.
    pub fn callback(&self, i: usize) -> Option<Callback> {
        self.functions.get(i).cloned().flatten()
    }

    /// The last argument's callback when it is a function (Node's `normalizeArgs` rule).
    pub fn last_callback(&self) -> Option<Callback> {
        self.functions.last().cloned().flatten()
    }

    /// Appends a runner callback.
    pub fn push_callback(&mut self, cb: Callback) {
        self.values.push(Value::Function(None));
        self.json.push(None);
        self.functions.push(Some(cb));
    }

    /// Appends a JSON argument (`None`: an explicit `undefined`).
    pub fn push(&mut self, j: Option<&Json>) {
        match j {
            Some(j) => {
                self.values.push(js_value(j));
                self.functions.push(function_name(j).map(Callback::Named));
                self.json.push(Some(j.clone()));
            }
            None => {
                self.values.push(Value::Undefined);
                self.functions.push(None);
                self.json.push(Some(json!({"$undefined": true})));
            }
        }
    }

    /// The call built from JSON arguments.
    pub fn from_args(args: &[Json]) -> Call {
        let mut c = Call {
            explicit: true,
            ..Call::default()
        };
        for a in args {
            c.push(Some(a));
        }
        c
    }

    /// The call built from the step's keys in `keys` order: an absent key passes
    /// `undefined`, trailing absent keys are not passed.
    pub fn from_keys(step: &Json, keys: &[&str]) -> Call {
        let given: Vec<Option<&Json>> = keys.iter().map(|k| step.get(*k)).collect();
        let n = given.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
        let mut c = Call::default();
        for g in &given[..n] {
            c.push(*g);
        }
        c
    }
}

/// The `$`-encoding of a value, when it is one: `(key, object)`.
fn encoding(j: &Json) -> Option<(&str, &serde_json::Map<String, Json>)> {
    let o = j.as_object()?;
    let (k, _) = o.iter().next()?;
    k.starts_with('$').then_some((k.as_str(), o))
}

fn function_name(j: &Json) -> Option<String> {
    match encoding(j) {
        Some(("$function", o)) => Some(
            o.get("$function")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => None,
    }
}

/// The bytes of `{"$buffer": TEXT, "encoding": E}` (`Buffer.from(TEXT, E)`).
pub fn buffer_bytes(o: &serde_json::Map<String, Json>) -> Vec<u8> {
    let text = o.get("$buffer").and_then(Json::as_str).unwrap_or("");
    let enc = o
        .get("encoding")
        .and_then(Json::as_str)
        .and_then(Encoding::from_name)
        .unwrap_or(Encoding::Utf8);
    enc.encode(text)
}

/// The `SocketAddress` of `{"$socketAddress": {…}}`.
pub fn socket_address(j: &Json) -> Option<SocketAddress> {
    match encoding(j) {
        Some(("$socketAddress", o)) => {
            SocketAddress::from_options(&js_value(o.get("$socketAddress")?)).ok()
        }
        _ => None,
    }
}

/// A JSON value (FORMAT.md encodings included) as the JavaScript value Node receives.
pub fn js_value(j: &Json) -> Value {
    if let Some((key, o)) = encoding(j) {
        let text = || {
            o.get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        return match key {
            "$undefined" => Value::Undefined,
            "$number" => Value::Number(match text().as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                "-0" => -0.0,
                other => other.parse().unwrap_or(f64::NAN),
            }),
            "$bigint" => Value::BigInt(text()),
            "$symbol" => Value::Symbol(text()),
            "$buffer" => Value::Buffer(buffer_bytes(o)),
            "$socketAddress" => Value::Instance("SocketAddress".into()),
            "$blockList" => Value::Instance("BlockList".into()),
            "$function" => Value::Function(Some(text())),
            _ => Value::Object(Vec::new()),
        };
    }
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(js_value).collect()),
        Json::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        // Option encodings: a rule list is a BlockList, answers a lookup.
                        ("blockList", Json::Array(_)) => Value::Instance("BlockList".into()),
                        ("lookup", Json::Array(_)) => Value::Function(None),
                        _ => js_value(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
    }
}

/// The rules of a `blockList` option: a rule list, or `{"$blockList": rules}`.
pub fn block_list_rules(j: Option<&Json>) -> Option<&Json> {
    match j {
        Some(Json::Array(_)) => j,
        Some(other) => match encoding(other) {
            Some(("$blockList", o)) => o.get("$blockList"),
            _ => None,
        },
        None => None,
    }
}

/// A value as JSON the way `-> VALUE` lines and pure functions' lines print it
/// (before port substitution): a Buffer as its `toJSON()`, a SocketAddress as its
/// `toJSON()`, `undefined` as the text `undefined` (returned as `None`).
pub fn shown(j: &Json) -> Option<Json> {
    if let Some((key, o)) = encoding(j) {
        return match key {
            "$undefined" => None,
            "$number" => Some(Json::Null),
            "$bigint" | "$symbol" => None,
            "$buffer" => Some(json!({"type": "Buffer", "data": buffer_bytes(o)})),
            "$socketAddress" => socket_address(j).map(|sa| address_json(&sa)),
            _ => Some(json!({})),
        };
    }
    Some(j.clone())
}

/// A SocketAddress's `toJSON()`.
pub fn address_json(sa: &SocketAddress) -> Json {
    json!({
        "address": sa.address(),
        "family": sa.family().lower_name(),
        "port": sa.port(),
        "flowlabel": sa.flowlabel(),
    })
}

/// What a call returned, for `"record": "return"`.
#[derive(Clone, Debug)]
pub enum Ret {
    /// The actor's own object (`this`).
    This,
    /// Another actor's object.
    Actor(String),
    /// A value (ports not yet substituted).
    Json(Json),
    /// `undefined`.
    Undefined,
}
