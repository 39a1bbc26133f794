//! `util.inspect` with Node's default options (`depth: 2`, `breakLength: 80`,
//! `compact: 3`, no colours), over the loosely typed [`Value`]. Node quotes argument values
//! with it in its error messages (`ERR_INVALID_ARG_VALUE`: "Received { port: true }").
//!
//! Covered: primitives (`-0`, bigints, strings with Node's quote choice and escapes, long
//! strings split at line breaks), plain objects (identifier keys bare, other keys quoted,
//! array-index keys first as JavaScript orders them), arrays (grouped into columns past six
//! entries), nesting beyond depth 2 as `[Object]` / `[Array]`, the single-line / multi-line
//! decision. Functions print as `[Function (anonymous)]` (a [`Value::Function`] has no name);
//! other instances print as `Name {}` (`AbortSignal { aborted: false }` for signals).

use crate::value::Value;

const BREAK_LENGTH: usize = 80;
const DEPTH: usize = 2;
const COMPACT: usize = 3;
const MIN_LINE_LENGTH: usize = 16;

/// `util.inspect(value)` with Node's defaults.
pub fn inspect(v: &Value) -> String {
    let mut ctx = Ctx {
        indentation: 0,
        current_depth: 0,
    };
    format_value(&mut ctx, v, 0)
}

/// JavaScript `Number.prototype.toString()` (radix 10): shortest round-trip digits, with
/// exponent notation below 1e-6 and from 1e21 on.
pub fn js_number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == 0.0 {
        return "0".into();
    }
    let sign = if n < 0.0 { "-" } else { "" };
    // Rust's `{:e}` prints the shortest digits that round-trip: "1.2345e-7".
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let e: i64 = exp.parse().unwrap_or(0);
    let point = e + 1; // JavaScript's `n`: the decimal point sits after `point` digits.
    let body = if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let exp_sign = if point - 1 < 0 { "-" } else { "+" };
        let first = &digits[..1];
        let rest = &digits[1..];
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        format!("{first}{frac}e{exp_sign}{}", (point - 1).abs())
    };
    format!("{sign}{body}")
}

/// Node's `strEscape`: the string in single quotes, or in double quotes when it contains a
/// single quote but no double quote, or in backticks when it contains both; control
/// characters, C1 controls, the backslash and the chosen quote escaped.
pub fn quote_string(s: &str) -> String {
    let quote = if s.contains('\'') {
        if !s.contains('"') {
            '"'
        } else if !s.contains('`') && !s.contains("${") {
            '`'
        } else {
            '\''
        }
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        let code = c as u32;
        match c {
            '\'' if quote == '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            _ if code < 0x20 || (0x7f..0xa0).contains(&code) => {
                out.push_str(&format!("\\x{code:02X}"));
            }
            _ => out.push(c),
        }
    }
    out.push(quote);
    out
}

struct Ctx {
    indentation: usize,
    current_depth: usize,
}

fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn format_value(ctx: &mut Ctx, v: &Value, recurse_times: usize) -> String {
    match v {
        Value::Undefined => "undefined".into(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if *n == 0.0 && n.is_sign_negative() => "-0".into(),
        Value::Number(n) => js_number_to_string(*n),
        Value::BigInt(s) => format!("{s}n"),
        Value::String(s) => format_string(ctx, s),
        Value::Function => "[Function (anonymous)]".into(),
        Value::Symbol(d) => format!("Symbol({d})"),
        Value::Buffer(b) => format_buffer(b),
        Value::Instance(name) if name == "AbortSignal" => "AbortSignal { aborted: false }".into(),
        Value::Instance(name) => format!("{name} {{}}"),
        Value::Array(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            if recurse_times > DEPTH {
                return "[Array]".into();
            }
            let rt = recurse_times + 1;
            ctx.current_depth = rt;
            let output: Vec<String> = items
                .iter()
                .map(|item| {
                    ctx.indentation += 2;
                    let s = format_value(ctx, item, rt);
                    ctx.indentation -= 2;
                    s
                })
                .collect();
            let numeric = items
                .iter()
                .all(|i| matches!(i, Value::Number(_) | Value::BigInt(_)));
            reduce_to_single_string(ctx, output, ("[", "]"), Some(numeric), rt)
        }
        Value::Object(props) => {
            let props = ordered_props(props);
            if props.is_empty() {
                return "{}".into();
            }
            if recurse_times > DEPTH {
                return "[Object]".into();
            }
            let rt = recurse_times + 1;
            ctx.current_depth = rt;
            let output: Vec<String> = props
                .iter()
                .map(|(k, val)| {
                    ctx.indentation += 2;
                    let s = format_value(ctx, val, rt);
                    ctx.indentation -= 2;
                    format!("{}: {s}", format_key(k))
                })
                .collect();
            reduce_to_single_string(ctx, output, ("{", "}"), None, rt)
        }
    }
}

/// `<Buffer 3a 3a 31>`: at most 50 bytes (`buffer.INSPECT_MAX_BYTES`), then how many more.
fn format_buffer(b: &[u8]) -> String {
    let shown: Vec<String> = b.iter().take(50).map(|x| format!("{x:02x}")).collect();
    let mut out = format!(
        "<Buffer{}{}",
        if b.is_empty() { "" } else { " " },
        shown.join(" ")
    );
    if b.len() > 50 {
        let more = b.len() - 50;
        out.push_str(&format!(
            " ... {more} more byte{}",
            if more == 1 { "" } else { "s" }
        ));
    }
    out.push('>');
    out
}

fn format_string(ctx: &Ctx, s: &str) -> String {
    let len = js_len(s);
    if len > MIN_LINE_LENGTH && len + ctx.indentation + 4 > BREAK_LENGTH && s.contains('\n') {
        let mut pieces = Vec::new();
        let mut rest = s;
        while let Some(i) = rest.find('\n') {
            pieces.push(quote_string(&rest[..=i]));
            rest = &rest[i + 1..];
        }
        if !rest.is_empty() {
            pieces.push(quote_string(rest));
        }
        return pieces.join(&format!(" +\n{}", " ".repeat(ctx.indentation + 2)));
    }
    quote_string(s)
}

/// Own property order of a JavaScript object: array-index keys ascending, then the other
/// keys in insertion order; a repeated key keeps its first position and its last value.
fn ordered_props(props: &[(String, Value)]) -> Vec<(&str, &Value)> {
    // Linear in the number of keys: a map from key to its first position.
    let mut unique: Vec<(&str, &Value)> = Vec::with_capacity(props.len());
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(props.len());
    for (k, v) in props {
        match seen.get(k.as_str()) {
            Some(&i) => unique[i].1 = v,
            None => {
                seen.insert(k.as_str(), unique.len());
                unique.push((k.as_str(), v));
            }
        }
    }
    let index = |k: &str| -> Option<u32> {
        let ok = k == "0" || (!k.starts_with('0') && k.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return None;
        }
        k.parse::<u32>().ok().filter(|n| *n != u32::MAX)
    };
    let mut indexed: Vec<(u32, (&str, &Value))> = unique
        .iter()
        .filter_map(|p| index(p.0).map(|i| (i, *p)))
        .collect();
    indexed.sort_unstable_by_key(|(i, _)| *i);
    let mut out: Vec<(&str, &Value)> = indexed.into_iter().map(|(_, p)| p).collect();
    out.extend(unique.into_iter().filter(|p| index(p.0).is_none()));
    out
}

fn format_key(k: &str) -> String {
    let mut chars = k.chars();
    let ident = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        k.to_string()
    } else {
        quote_string(k)
    }
}

fn reduce_to_single_string(
    ctx: &Ctx,
    output: Vec<String>,
    braces: (&str, &str),
    array_numeric: Option<bool>,
    recurse_times: usize,
) -> String {
    let entries = output.len();
    let output = match array_numeric {
        Some(numeric) if entries > 6 => group_array_elements(ctx, output, numeric),
        _ => output,
    };
    if ctx.current_depth - recurse_times < COMPACT && entries == output.len() {
        let start = output.len() + ctx.indentation + braces.0.len() + 10;
        if is_below_break_length(&output, start) {
            let joined = output.join(", ");
            if !joined.contains('\n') {
                return format!("{} {joined} {}", braces.0, braces.1);
            }
        }
    }
    let indentation = format!("\n{}", " ".repeat(ctx.indentation));
    format!(
        "{}{indentation}  {}{indentation}{}",
        braces.0,
        output.join(&format!(",{indentation}  ")),
        braces.1
    )
}

fn is_below_break_length(output: &[String], start: usize) -> bool {
    let mut total = output.len() + start;
    if total + output.len() > BREAK_LENGTH {
        return false;
    }
    for o in output {
        total += js_len(o);
        if total > BREAK_LENGTH {
            return false;
        }
    }
    true
}

fn group_array_elements(ctx: &Ctx, output: Vec<String>, numeric: bool) -> Vec<String> {
    const SEPARATOR_SPACE: usize = 2;
    let data_len: Vec<usize> = output.iter().map(|o| js_len(o)).collect();
    let total_length: usize = data_len.iter().map(|l| l + SEPARATOR_SPACE).sum();
    let max_length = data_len.iter().copied().max().unwrap_or(0);
    let actual_max = max_length + SEPARATOR_SPACE;
    if !(actual_max * 3 + ctx.indentation < BREAK_LENGTH
        && (total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6))
    {
        return output;
    }
    let len = output.len();
    let average_bias = (actual_max as f64 - total_length as f64 / len as f64).sqrt();
    let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
    let columns = [
        ((2.5 * biased_max * len as f64).sqrt() / biased_max).round() as usize,
        (BREAK_LENGTH - ctx.indentation) / actual_max,
        COMPACT * 4,
        15,
    ]
    .into_iter()
    .min()
    .unwrap_or(1);
    if columns <= 1 {
        return output;
    }
    let max_line_length: Vec<usize> = (0..columns)
        .map(|i| {
            (i..len)
                .step_by(columns)
                .map(|j| data_len[j])
                .max()
                .unwrap_or(0)
                + SEPARATOR_SPACE
        })
        .collect();
    let pad = |s: String, width: usize| -> String {
        let fill = " ".repeat(width.saturating_sub(js_len(&s)));
        if numeric {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut rows = Vec::new();
    let mut i = 0;
    while i < len {
        let max = (i + columns).min(len);
        let mut row = String::new();
        for j in i..max - 1 {
            row.push_str(&pad(format!("{}, ", output[j]), max_line_length[j - i]));
        }
        let j = max - 1;
        if numeric {
            let width = max_line_length[j - i] - SEPARATOR_SPACE;
            row.push_str(&pad(output[j].clone(), width));
        } else {
            row.push_str(&output[j]);
        }
        rows.push(row);
        i += columns;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_keys_keep_their_order_and_the_last_value() {
        // 50,000 keys, one repeated: linear work (a quadratic scan took seconds here).
        let mut props: Vec<(String, Value)> = (0..50_000)
            .map(|i| (format!("k{i}"), Value::Number(1.0)))
            .collect();
        props.push(("k7".into(), Value::Number(2.0)));
        let text = inspect(&Value::Object(props));
        assert!(text.starts_with("{\n  k0: 1,\n  k1: 1,"), "{}", &text[..40]);
        assert!(text.contains("  k7: 2,\n"));
        assert!(text.ends_with("  k49999: 1\n}"));
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        for (n, s) in [
            (1.5, "1.5"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (2147483648.0, "2147483648"),
            (-4294967295.0, "-4294967295"),
            (123456789012345680000.0, "123456789012345680000"),
        ] {
            assert_eq!(js_number_to_string(n), s);
        }
        assert_eq!(inspect(&Value::Number(-0.0)), "-0");
    }

    #[test]
    fn objects_and_arrays_match_node() {
        assert_eq!(inspect(&Value::object(&[])), "{}");
        assert_eq!(inspect(&Value::object(&[("a", 1.0.into())])), "{ a: 1 }");
        assert_eq!(
            inspect(&Value::object(&[
                ("path", "\0abstract".into()),
                ("readableAll", true.into())
            ])),
            "{ path: '\\x00abstract', readableAll: true }"
        );
        assert_eq!(
            inspect(&Value::object(&[("port", Value::BigInt("1".into()))])),
            "{ port: 1n }"
        );
        let deep = Value::object(&[(
            "x",
            Value::object(&[(
                "y",
                Value::object(&[("z", Value::object(&[("w", 1.0.into())]))]),
            )]),
        )]);
        assert_eq!(inspect(&deep), "{ x: { y: { z: [Object] } } }");
        let arr = Value::Array(vec![
            1.0.into(),
            Value::Array(vec![
                2.0.into(),
                Value::Array(vec![3.0.into(), Value::Array(vec![4.0.into()])]),
            ]),
        ]);
        assert_eq!(inspect(&arr), "[ 1, [ 2, [ 3, [Array] ] ] ]");
        assert_eq!(
            inspect(&Value::object(&[
                ("a-b", "it's".into()),
                ("0", "a\"b'c".into()),
                ("b", "x\u{85}y\u{7f}".into())
            ])),
            "{ '0': `a\"b'c`, 'a-b': \"it's\", b: 'x\\x85y\\x7F' }"
        );
        assert_eq!(
            inspect(&Value::object(&[
                ("", 1.0.into()),
                ("a b", 2.0.into()),
                ("$x", 3.0.into()),
                ("_y", 4.0.into())
            ])),
            "{ '': 1, 'a b': 2, '$x': 3, _y: 4 }"
        );
    }

    #[test]
    fn long_output_breaks_lines_like_node() {
        let long = Value::object(&[("a", "x".repeat(70).into())]);
        assert_eq!(inspect(&long), format!("{{\n  a: '{}'\n}}", "x".repeat(70)));
        let v = Value::object(&[
            ("fd", (-1.0).into()),
            ("host", "localhost".into()),
            ("foo", "bar".into()),
            ("baz", Value::Array(vec![1.0.into(), 2.0.into()])),
            ("qux", "a".repeat(40).into()),
        ]);
        assert_eq!(
            inspect(&v),
            format!(
                "{{\n  fd: -1,\n  host: 'localhost',\n  foo: 'bar',\n  baz: [ 1, 2 ],\n  qux: '{}'\n}}",
                "a".repeat(40)
            )
        );
        let grouped = Value::object(&[(
            "a",
            Value::Array((1..=10).map(|i| f64::from(i).into()).collect()),
        )]);
        assert_eq!(
            inspect(&grouped),
            "{\n  a: [\n    1, 2, 3, 4,  5,\n    6, 7, 8, 9, 10\n  ]\n}"
        );
        let split = Value::object(&[(
            "a",
            "line1\nline2 is quite long and keeps going on and on and on and on and on and on"
                .into(),
        )]);
        assert_eq!(
            inspect(&split),
            "{\n  a: 'line1\\n' +\n    'line2 is quite long and keeps going on and on and on and on and on and on'\n}"
        );
    }
}
