//! The loosely typed face: JSON-like values as an embedder (a JavaScript runtime, a
//! configuration file, the conformance runner) hands them over, before Node's coercions
//! and validation turn them into typed options.
//!
//! A value may be nested arbitrarily deep (a hostile caller can build an array a million
//! levels deep): `Clone`, `PartialEq` and `Drop` walk it with an explicit stack instead of
//! recursion, and `Debug` stops at [`DEBUG_DEPTH`] levels, so none of them can overflow
//! the thread's stack.

use std::fmt;

/// `undefined`, borrowed for as long as needed (`Value` has a `Drop`, so `&Value::Undefined`
/// is a temporary, not a `'static` constant): what [`Value::get`] returns for a missing key.
pub static UNDEFINED: Value = Value::Undefined;

/// How many levels of nesting `Debug` prints; deeper values print as `..`.
pub const DEBUG_DEPTH: usize = 64;

/// A JavaScript value, as far as `node:net`'s argument rules need to tell values apart.
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
    /// A function (a callback, a custom lookup), with its `name` (`None`: anonymous).
    Function(Option<String>),
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
                .unwrap_or(&UNDEFINED),
            _ => &UNDEFINED,
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

impl Value {
    /// An array or an object with at least one element (something a walk descends into).
    fn has_children(&self) -> bool {
        match self {
            Value::Array(items) => !items.is_empty(),
            Value::Object(props) => !props.is_empty(),
            _ => false,
        }
    }

    /// A copy of a value without children (an empty container for a container).
    fn shallow_clone(&self) -> Value {
        match self {
            Value::Undefined => Value::Undefined,
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Number(n) => Value::Number(*n),
            Value::BigInt(s) => Value::BigInt(s.clone()),
            Value::String(s) => Value::String(s.clone()),
            Value::Symbol(s) => Value::Symbol(s.clone()),
            Value::Buffer(b) => Value::Buffer(b.clone()),
            Value::Array(items) => Value::Array(Vec::with_capacity(items.len())),
            Value::Object(props) => Value::Object(Vec::with_capacity(props.len())),
            Value::Function(name) => Value::Function(name.clone()),
            Value::Instance(name) => Value::Instance(name.clone()),
        }
    }
}

/// A container being copied: its source and the copies of its first children.
enum CloneFrame<'a> {
    Array(&'a [Value], Vec<Value>),
    Object(&'a [(String, Value)], Vec<(String, Value)>),
}

impl<'a> CloneFrame<'a> {
    fn new(v: &'a Value) -> CloneFrame<'a> {
        match v {
            Value::Array(items) => CloneFrame::Array(items, Vec::with_capacity(items.len())),
            Value::Object(props) => CloneFrame::Object(props, Vec::with_capacity(props.len())),
            _ => unreachable!("only containers get a frame"),
        }
    }

    /// The next child to copy.
    fn next(&self) -> Option<&'a Value> {
        match self {
            CloneFrame::Array(src, done) => src.get(done.len()),
            CloneFrame::Object(src, done) => src.get(done.len()).map(|(_, v)| v),
        }
    }

    fn push(&mut self, copy: Value) {
        match self {
            CloneFrame::Array(_, done) => done.push(copy),
            CloneFrame::Object(src, done) => done.push((src[done.len()].0.clone(), copy)),
        }
    }

    fn finish(self) -> Value {
        match self {
            CloneFrame::Array(_, done) => Value::Array(done),
            CloneFrame::Object(_, done) => Value::Object(done),
        }
    }
}

impl Clone for Value {
    fn clone(&self) -> Value {
        if !self.has_children() {
            return self.shallow_clone();
        }
        let mut stack = vec![CloneFrame::new(self)];
        loop {
            let top = stack.last_mut().expect("the root frame is popped last");
            match top.next() {
                Some(child) if child.has_children() => stack.push(CloneFrame::new(child)),
                Some(child) => top.push(child.shallow_clone()),
                None => {
                    let done = stack.pop().expect("a frame is on the stack").finish();
                    match stack.last_mut() {
                        Some(parent) => parent.push(done),
                        None => return done,
                    }
                }
            }
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        let mut stack = vec![(self, other)];
        while let Some(pair) = stack.pop() {
            let same = match pair {
                (Value::Undefined, Value::Undefined) | (Value::Null, Value::Null) => true,
                (Value::Function(a), Value::Function(b)) => a == b,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Number(a), Value::Number(b)) => a == b,
                (Value::BigInt(a), Value::BigInt(b))
                | (Value::String(a), Value::String(b))
                | (Value::Symbol(a), Value::Symbol(b))
                | (Value::Instance(a), Value::Instance(b)) => a == b,
                (Value::Buffer(a), Value::Buffer(b)) => a == b,
                (Value::Array(a), Value::Array(b)) => {
                    stack.extend(a.iter().zip(b));
                    a.len() == b.len()
                }
                (Value::Object(a), Value::Object(b)) => {
                    let keys = a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0);
                    stack.extend(a.iter().zip(b).map(|(x, y)| (&x.1, &y.1)));
                    keys
                }
                _ => false,
            };
            if !same {
                return false;
            }
        }
        true
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        // Move the grandchildren of nested containers onto a heap stack, so that every
        // value is dropped with empty containers and no drop recurses.
        let nested = match self {
            Value::Array(items) => items.iter().any(Value::has_children),
            Value::Object(props) => props.iter().any(|(_, v)| v.has_children()),
            _ => false,
        };
        if !nested {
            return;
        }
        let mut stack: Vec<Value> = Vec::new();
        take_children(self, &mut stack);
        while let Some(mut v) = stack.pop() {
            take_children(&mut v, &mut stack);
        }
    }
}

fn take_children(v: &mut Value, stack: &mut Vec<Value>) {
    match v {
        Value::Array(items) => stack.append(items),
        Value::Object(props) => stack.extend(std::mem::take(props).into_iter().map(|(_, v)| v)),
        _ => {}
    }
}

/// `Debug` of a value at some nesting depth.
struct DebugAt<'a>(&'a Value, usize);

impl fmt::Debug for DebugAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = self.1;
        if depth >= DEBUG_DEPTH && self.0.has_children() {
            return f.write_str("..");
        }
        match self.0 {
            Value::Undefined => f.write_str("Undefined"),
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            Value::Number(n) => f.debug_tuple("Number").field(n).finish(),
            Value::BigInt(s) => f.debug_tuple("BigInt").field(s).finish(),
            Value::String(s) => f.debug_tuple("String").field(s).finish(),
            Value::Symbol(s) => f.debug_tuple("Symbol").field(s).finish(),
            Value::Buffer(b) => f.debug_tuple("Buffer").field(b).finish(),
            Value::Array(items) => {
                let list: Vec<DebugAt<'_>> = items.iter().map(|v| DebugAt(v, depth + 1)).collect();
                f.debug_tuple("Array").field(&list).finish()
            }
            Value::Object(props) => {
                let list: Vec<(&String, DebugAt<'_>)> = props
                    .iter()
                    .map(|(k, v)| (k, DebugAt(v, depth + 1)))
                    .collect();
                f.debug_tuple("Object").field(&list).finish()
            }
            Value::Function(_) => f.write_str("Function"),
            Value::Instance(name) => f.debug_tuple("Instance").field(name).finish(),
        }
    }
}

impl fmt::Debug for Value {
    /// As a derived `Debug` would print it, with values nested deeper than
    /// [`DEBUG_DEPTH`] printed as `..`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        DebugAt(self, 0).fmt(f)
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
