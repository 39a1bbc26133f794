//! Node's argument validators (`internal/validators.js`) and the JavaScript conversions they
//! rest on, over the loosely typed [`Value`]. Each returns the error Node would throw, with
//! Node's code, class and message.

use crate::error::{Code, NetError};
use crate::value::Value;

/// JavaScript `Number(string)`: whitespace trimmed, empty is 0, `0x`/`0o`/`0b` prefixes,
/// `Infinity`, decimal with exponent; anything else is `NaN`.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return 0.0;
    }
    let radix = |digits: &str, radix: u32| -> f64 {
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return f64::NAN;
        }
        digits.chars().fold(0.0, |acc, c| {
            acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
        })
    };
    let lower = t.get(..2).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("0x") => return radix(&t[2..], 16),
        Some("0o") => return radix(&t[2..], 8),
        Some("0b") => return radix(&t[2..], 2),
        _ => {}
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    // StrDecimalLiteral: digits [. digits] [e [+-] digits], at least one digit in the mantissa.
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return f64::NAN;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return f64::NAN;
        }
    }
    if i != bytes.len() {
        return f64::NAN;
    }
    sign * body.parse::<f64>().unwrap_or(f64::NAN)
}

/// The characters JavaScript's `String.prototype.trim` and `Number()` strip.
pub fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript `ToNumber` for the values `net` converts (`+value`).
pub fn to_number(v: &Value) -> f64 {
    match v {
        Value::Undefined => f64::NAN,
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => *n,
        Value::String(s) => string_to_number(s),
        Value::Buffer(b) => string_to_number(&String::from_utf8_lossy(b)),
        Value::Array(items) => match items.as_slice() {
            [] => 0.0,
            [one] => to_number(&Value::String(to_js_string(one))),
            _ => f64::NAN,
        },
        _ => f64::NAN,
    }
}

/// JavaScript `ToUint32` (`x >>> 0`).
pub fn to_uint32(n: f64) -> u32 {
    if !n.is_finite() {
        return 0;
    }
    let t = n.trunc().rem_euclid(4_294_967_296.0);
    t as u32
}

/// JavaScript `ToInt32` (`x | 0`).
pub fn to_int32(n: f64) -> i32 {
    to_uint32(n) as i32
}

/// JavaScript `String(value)` for the values `net` stringifies. Arrays are joined with
/// commas, nested arrays in turn, `null`/`undefined` elements as empty text; the walk uses
/// a heap stack, so any nesting works (Node's engine gives up earlier: see
/// [`check_join_depth`]).
pub fn to_js_string(v: &Value) -> String {
    let Value::Array(items) = v else {
        return scalar_string(v);
    };
    let mut out = String::new();
    // Each level: the elements still to join, and whether one was joined already.
    let mut stack = vec![(items.iter(), false)];
    while let Some((iter, started)) = stack.last_mut() {
        let Some(item) = iter.next() else {
            stack.pop();
            continue;
        };
        if *started {
            out.push(',');
        }
        *started = true;
        match item {
            Value::Array(inner) => stack.push((inner.iter(), false)),
            i if i.is_nullish() => {}
            i => out.push_str(&scalar_string(i)),
        }
    }
    out
}

fn scalar_string(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(*n),
        Value::BigInt(s) => s.clone(),
        Value::String(s) => s.clone(),
        Value::Array(_) => to_js_string(v),
        Value::Object(_) => "[object Object]".into(),
        Value::Symbol(d) => format!("Symbol({d})"),
        Value::Buffer(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Function(name) => format!("function {}() {{}}", name.as_deref().unwrap_or("")),
        Value::Instance(name) => format!("[object {name}]"),
    }
}

/// How deeply arrays may nest inside arrays before converting them to a string or a
/// number fails. `String(array)` joins nested arrays recursively, and V8 runs out of
/// stack after about 3,200 levels with Node's default 984 KiB stack (3,219 for a bare
/// `String(a)`, 3,217 inside `net.connect`: the figure moves with the frames below it).
/// sansnet fixes the limit here so the outcome is deterministic.
pub const MAX_JOIN_DEPTH: usize = 3_200;

/// `RangeError: Maximum call stack size exceeded` (no `code`) where `String(value)` or
/// `Number(value)` of an array nested deeper than [`MAX_JOIN_DEPTH`] would exhaust Node's
/// stack. Objects end the nesting (`String({})` is `[object Object]`, no recursion).
pub fn check_join_depth(v: &Value) -> Result<(), NetError> {
    let Value::Array(items) = v else {
        return Ok(());
    };
    let mut stack = vec![(items.iter(), 1usize)];
    while let Some((iter, depth)) = stack.last_mut() {
        let depth = *depth;
        match iter.next() {
            None => {
                stack.pop();
            }
            Some(Value::Array(inner)) => {
                if depth + 1 > MAX_JOIN_DEPTH {
                    return Err(NetError::stack_overflow());
                }
                stack.push((inner.iter(), depth + 1));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// [`to_js_string`], failing as Node does for arrays nested past [`MAX_JOIN_DEPTH`].
pub fn try_to_js_string(v: &Value) -> Result<String, NetError> {
    check_join_depth(v)?;
    Ok(to_js_string(v))
}

/// [`to_number`], failing as Node does for arrays nested past [`MAX_JOIN_DEPTH`].
pub fn try_to_number(v: &Value) -> Result<f64, NetError> {
    check_join_depth(v)?;
    Ok(to_number(v))
}

/// JavaScript `Number.prototype.toString()` for the numbers that appear in messages.
pub fn number_to_string(n: f64) -> String {
    crate::options::inspect::js_number_to_string(n)
}

/// `util.inspect` with Node's default options, as Node's messages quote values (`-0`,
/// `'text'`, `1n`, `{ port: true }`); see [`crate::options::inspect`].
pub fn inspect(v: &Value) -> String {
    crate::options::inspect::inspect(v)
}

/// `util.inspect(value, { depth })` (`util.format('%s')` uses depth 0 for objects).
pub fn inspect_with_depth(v: &Value, depth: usize) -> String {
    crate::options::inspect::inspect_with_depth(v, depth)
}

/// `util.format('%s', value)`, as Node's `%s` messages (`ERR_INVALID_IP_ADDRESS`,
/// `ERR_UNKNOWN_ENCODING`) quote their argument: numbers as `util.inspect` prints them
/// (`-0`), bigints with `n`, plain objects and arrays inspected with depth 0
/// (`{ a: [Object] }`), anything else as `String(value)`.
pub fn format_s(v: &Value) -> String {
    match v {
        Value::Number(_) | Value::BigInt(_) => inspect(v),
        Value::Object(_) | Value::Array(_) | Value::Instance(_) => inspect_with_depth(v, 0),
        other => to_js_string(other),
    }
}

/// Node's `determineSpecificType`, the text after "Received" in its messages: the type
/// and value of a primitive (a string past 28 UTF-16 units cut to 25 and `...`, quoted
/// with `'` unless it contains one, else as `JSON.stringify` quotes it), the class of an
/// object.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Function(name) => format!("function {}", name.as_deref().unwrap_or("")),
        Value::Array(_) => "an instance of Array".into(),
        Value::Object(_) => "an instance of Object".into(),
        Value::Instance(name) => format!("an instance of {name}"),
        Value::Buffer(_) => "an instance of Buffer".into(),
        Value::Bool(b) => format!("type boolean ({b})"),
        Value::Number(n) if *n == 0.0 && n.is_sign_negative() => "type number (-0)".into(),
        Value::Number(n) => format!("type number ({})", number_to_string(*n)),
        Value::BigInt(s) => format!("type bigint ({s}n)"),
        Value::Symbol(d) => format!("type symbol (Symbol({d}))"),
        Value::String(s) => {
            let (shown, lone, cut) = if s.encode_utf16().nth(28).is_some() {
                let (prefix, lone) = crate::options::inspect::utf16_prefix(s, 25);
                (prefix, lone, "...")
            } else {
                (s.as_str(), None, "")
            };
            if shown.contains('\'') {
                let mut text = String::from(shown);
                text.push_str(cut);
                format!("type string ({})", json_quote(&text, lone, cut.len()))
            } else {
                // A lone surrogate cannot live in a Rust string: U+FFFD stands for it.
                let half = if lone.is_some() { "\u{fffd}" } else { "" };
                format!("type string ('{shown}{half}{cut}')")
            }
        }
    }
}

/// `JSON.stringify(text)`, where a lone high surrogate `lone` sits `tail` bytes before the
/// end of `text` (the cut of [`describe`]).
fn json_quote(text: &str, lone: Option<u16>, tail: usize) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let split = text.len() - tail;
    for (i, c) in text.char_indices() {
        if i == split {
            if let Some(unit) = lone {
                out.push_str(&format!("\\u{unit:x}"));
            }
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    if split == text.len() {
        if let Some(unit) = lone {
            out.push_str(&format!("\\u{unit:x}"));
        }
    }
    out.push('"');
    out
}

/// `ERR_INVALID_ARG_TYPE`: `name` is an argument (`"chunk"`) or a property
/// (`"options.port"`); `expected` lists JavaScript types (`"number"`) and class names
/// (`"Buffer"`).
pub fn invalid_arg_type(name: &str, expected: &[&str], actual: &Value) -> NetError {
    const TYPES: &[&str] = &[
        "string", "function", "number", "object", "boolean", "bigint", "symbol",
    ];
    let mut msg = String::from("The ");
    if name.ends_with(" argument") {
        msg.push_str(name);
        msg.push(' ');
    } else {
        let kind = if name.contains('.') {
            "property"
        } else {
            "argument"
        };
        msg.push_str(&format!("\"{name}\" {kind} "));
    }
    msg.push_str("must be ");
    let types: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|t| TYPES.contains(t))
        .collect();
    let instances: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|t| !TYPES.contains(t))
        .collect();
    if !types.is_empty() {
        match types.len() {
            1 => msg.push_str(&format!("of type {}", types[0])),
            2 => msg.push_str(&format!("one of type {} or {}", types[0], types[1])),
            n => msg.push_str(&format!(
                "one of type {}, or {}",
                types[..n - 1].join(", "),
                types[n - 1]
            )),
        }
        if !instances.is_empty() {
            msg.push_str(" or ");
        }
    }
    if !instances.is_empty() {
        match instances.len() {
            1 => msg.push_str(&format!("an instance of {}", instances[0])),
            2 => msg.push_str(&format!(
                "an instance of {} or {}",
                instances[0], instances[1]
            )),
            n => msg.push_str(&format!(
                "an instance of {}, or {}",
                instances[..n - 1].join(", "),
                instances[n - 1]
            )),
        }
    }
    msg.push_str(&format!(". Received {}", describe(actual)));
    NetError::new(Code::ErrInvalidArgType, msg)
}

/// `ERR_INVALID_ARG_VALUE`: "The property 'options.family' is invalid. Received 5"
/// (`reason` replaces "is invalid").
pub fn invalid_arg_value(name: &str, value: &Value, reason: Option<&str>) -> NetError {
    let kind = if name.contains('.') {
        "property"
    } else {
        "argument"
    };
    let reason = reason.unwrap_or("is invalid");
    let (mut shown, _) = crate::options::inspect::inspect_prefix(value, 128);
    if shown.encode_utf16().nth(128).is_some() {
        let units: Vec<u16> = shown.encode_utf16().take(128).collect();
        shown = String::from_utf16_lossy(&units) + "...";
    }
    NetError::new(
        Code::ErrInvalidArgValue,
        format!("The {kind} '{name}' {reason}. Received {shown}"),
    )
}

/// `ERR_OUT_OF_RANGE`: "The value of "name" is out of range. It must be RANGE. Received X".
pub fn out_of_range(name: &str, range: &str, received: &Value) -> NetError {
    let shown = match received {
        Value::Number(n) if n.fract() == 0.0 && n.abs() > 4_294_967_296.0 => {
            group_digits(&number_to_string(*n))
        }
        Value::BigInt(s) => {
            let digits = s.trim_start_matches('-');
            let big = digits.len() > 10 || (digits.len() == 10 && digits > "4294967296");
            if big {
                format!("{}n", group_digits(s))
            } else {
                format!("{s}n")
            }
        }
        other => inspect(other),
    };
    NetError::new(
        Code::ErrOutOfRange,
        format!("The value of \"{name}\" is out of range. It must be {range}. Received {shown}"),
    )
}

fn group_digits(s: &str) -> String {
    let (sign, digits) = s.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", s));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('_');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// `ERR_SOCKET_BAD_PORT`: "NAME should be >= 0 and < 65536. Received …."
pub fn bad_port(name: &str, port: &Value) -> NetError {
    NetError::new(
        Code::ErrSocketBadPort,
        format!(
            "{name} should be >= 0 and < 65536. Received {}.",
            describe(port)
        ),
    )
}

/// Node's `validatePort`: a number or a non-blank string whose `Number()` is an integer in
/// 0..=65535. Returns the port (`value | 0`).
pub fn validate_port(value: &Value, name: &str) -> Result<u16, NetError> {
    let n = match value {
        Value::Number(n) => *n,
        Value::String(s) if !s.trim_matches(is_js_whitespace).is_empty() => string_to_number(s),
        _ => return Err(bad_port(name, value)),
    };
    if n != f64::from(to_uint32(n)) || n > 65535.0 {
        return Err(bad_port(name, value));
    }
    Ok(to_int32(n) as u16)
}

/// Node's `validateInt32(value, name, min, max)`.
pub fn validate_int32(value: &Value, name: &str, min: i32, max: i32) -> Result<i32, NetError> {
    let Value::Number(n) = value else {
        return Err(invalid_arg_type(name, &["number"], value));
    };
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(out_of_range(name, "an integer", value));
    }
    if *n < f64::from(min) || *n > f64::from(max) {
        return Err(out_of_range(name, &format!(">= {min} && <= {max}"), value));
    }
    Ok(*n as i32)
}

/// Node's `validateUint32(value, name, positive)`.
pub fn validate_uint32(value: &Value, name: &str, positive: bool) -> Result<u32, NetError> {
    let Value::Number(n) = value else {
        return Err(invalid_arg_type(name, &["number"], value));
    };
    if n.fract() != 0.0 || !n.is_finite() {
        return Err(out_of_range(name, "an integer", value));
    }
    let min = if positive { 1.0 } else { 0.0 };
    if *n < min || *n > 4_294_967_295.0 {
        let range = format!(">= {} && <= 4294967295", min as u8);
        return Err(out_of_range(name, &range, value));
    }
    Ok(*n as u32)
}

/// Node's `validateNumber(value, name)` (no range).
pub fn validate_number(value: &Value, name: &str) -> Result<f64, NetError> {
    match value {
        Value::Number(n) => Ok(*n),
        other => Err(invalid_arg_type(name, &["number"], other)),
    }
}

/// Node's `validateString(value, name)`.
pub fn validate_string<'v>(value: &'v Value, name: &str) -> Result<&'v str, NetError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(invalid_arg_type(name, &["string"], other)),
    }
}

/// Node's `validateBoolean(value, name)`.
pub fn validate_boolean(value: &Value, name: &str) -> Result<bool, NetError> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(invalid_arg_type(name, &["boolean"], other)),
    }
}

/// Node's `validateFunction(value, name)`.
pub fn validate_function(value: &Value, name: &str) -> Result<(), NetError> {
    match value {
        Value::Function(_) => Ok(()),
        other => Err(invalid_arg_type(name, &["function"], other)),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
