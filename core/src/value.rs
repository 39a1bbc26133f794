//! The loosely typed face: JSON-like values as an embedder (a JavaScript runtime, a
//! configuration file, the conformance runner) hands them over, before Node's coercions
//! and validation turn them into typed options.

/// A JavaScript value, as far as `node:net`'s argument rules need to tell values apart.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `undefined` (also: an absent property).
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (`NaN`, `±Infinity` and `-0` included).
    Number(f64),
    /// A BigInt, by its decimal text (`1n` is `BigInt("1")`).
    BigInt(String),
    /// A string.
    String(String),
    /// A Symbol, by its description (`Symbol('port')` is `Symbol("port")`).
    Symbol(String),
    /// A `Buffer` (a `Uint8Array`) with its bytes.
    Buffer(Vec<u8>),
    /// An array.
    Array(Vec<Value>),
    /// A plain object: its own properties in insertion order.
    Object(Vec<(String, Value)>),
    /// A function (a callback, a custom lookup).
    Function,
    /// Any other object, by its constructor name (`"AbortSignal"`, `"BlockList"`, …).
    Instance(String),
}

impl Value {
    /// A plain object from `(key, value)` pairs, in order (`{ port: 80, host: 'x' }`).
    pub fn object(props: &[(&str, Value)]) -> Value {
        Value::Object(
            props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// A property of an object value; `Undefined` for anything else or a missing key.
    pub fn get(&self, key: &str) -> &Value {
        match self {
            Value::Object(props) => props
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or(&Value::Undefined),
            _ => &Value::Undefined,
        }
    }

    /// `undefined` or `null`.
    pub fn is_nullish(&self) -> bool {
        matches!(self, Value::Undefined | Value::Null)
    }

    /// JavaScript truthiness.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::BigInt(s) => s.trim_start_matches('-') != "0",
            Value::String(s) => !s.is_empty(),
            _ => true,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
