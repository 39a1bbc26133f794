//! `util.inspect` with Node's default options (`depth: 2`, `breakLength: 80`,
//! `compact: 3`, `maxArrayLength: 100`, `maxStringLength: 10000`, no colours), over the
//! loosely typed [`Value`]. Node quotes argument values with it in its error messages
//! (`ERR_INVALID_ARG_VALUE`: "Received { port: true }").
//!
//! Covered: primitives (`-0`, bigints, strings with Node's quote choice and escapes, long
//! strings split at line breaks, strings past 10,000 UTF-16 units cut with
//! "... N more characters"), plain objects (identifier keys bare, other keys quoted,
//! array-index keys first as JavaScript orders them), arrays (grouped into columns past six
//! entries, the first 100 shown then "... N more items"), nesting beyond the depth as
//! `[Object]` / `[Array]`, the single-line / multi-line decision, and Node's output budget
//! (once the text at one indentation passes 2**27 characters, deeper objects are no longer
//! expanded). Functions print as `[Function: name]`, or `[Function (anonymous)]`
//! without a name; other instances print as `Name {}` (`AbortSignal { aborted: false }` for signals).
//!
//! The work is linear in the size of the value, and the recursion is bounded by the depth
//! (at most four frames for the default depth), whatever the nesting of the value.

use crate::value::Value;

const BREAK_LENGTH: usize = 80;
const DEPTH: usize = 2;
const COMPACT: usize = 3;
const MIN_LINE_LENGTH: usize = 16;
/// `maxArrayLength`: array entries shown before "... N more items".
const MAX_ARRAY_LENGTH: usize = 100;
/// `maxStringLength`: UTF-16 units of a string shown before "... N more characters".
const MAX_STRING_LENGTH: usize = 10_000;
/// Past this many characters of output at one indentation level Node stops expanding
/// objects (its `ctx.budget`, which keeps it from building strings beyond V8's limit).
const BUDGET: usize = 1 << 27;

/// `util.inspect(value)` with Node's defaults.
pub fn inspect(v: &Value) -> String {
    inspect_with_depth(v, DEPTH)
}

/// `util.inspect(value, { depth })` with Node's other defaults; `util.format('%s', value)`
/// inspects objects with depth 0.
pub fn inspect_with_depth(v: &Value, depth: usize) -> String {
    let mut ctx = Ctx {
        indentation: 0,
        current_depth: 0,
        depth: Some(depth),
        budget: Vec::new(),
    };
    format_value(&mut ctx, v, 0)
}

/// An object with this many distinct keys or more is printed over several lines whatever
/// its entries (Node's `isBelowBreakLength`: `3 * entries + 11 > breakLength`).
const MANY_ENTRIES: usize = 24;

/// `util.inspect(value)` when only its first `max` UTF-16 units matter (Node's
/// `ERR_INVALID_ARG_VALUE` quotes 128 of them): the same text, but at least `max` units of
/// it rather than all when that is known to be enough. An object with many keys at the top
/// is one entry per line, so its entries are formatted only until the text is long enough;
/// a message quoting a 100,000-key object costs the ordering of its keys, not the printing
/// of all of them. Returns `(text, complete)`.
pub fn inspect_prefix(v: &Value, max: usize) -> (String, bool) {
    let Value::Object(props) = v else {
        return (inspect(v), true);
    };
    if props.len() < MANY_ENTRIES {
        return (inspect(v), true);
    }
    let props = ordered_props(props);
    if props.len() < MANY_ENTRIES {
        return (inspect(v), true);
    }
    let mut ctx = Ctx {
        indentation: 0,
        current_depth: 1,
        depth: Some(DEPTH),
        budget: Vec::new(),
    };
    let mut out = String::from("{\n  ");
    let mut units = js_len(&out);
    for (i, (k, val)) in props.iter().enumerate() {
        if units > max {
            return (out, false);
        }
        let sep = if i > 0 { ",\n  " } else { "" };
        ctx.indentation += 2;
        let s = format_value(&mut ctx, val, 1);
        ctx.indentation -= 2;
        let key = format_key(k);
        for piece in [sep, &key, ": ", &s] {
            out.push_str(piece);
            units += js_len(piece);
        }
    }
    out.push_str("\n}");
    (out, true)
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
    // Between 1e-7 and 1e21 JavaScript prints no exponent, and neither does Rust's
    // shortest round-trip `Display` (the common case, and far cheaper than the general one).
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return (n as i64).to_string();
    }
    if (1e-6..1e21).contains(&n.abs()) {
        return n.to_string();
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
    quote_string_tail(s, None)
}

/// [`quote_string`] of `s` followed by a lone high surrogate (the half of a pair that a
/// cut at a UTF-16 length kept), which Node escapes as `\ud83d`.
fn quote_string_tail(s: &str, lone: Option<u16>) -> String {
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
    if let Some(unit) = lone {
        out.push_str(&format!("\\u{unit:x}"));
    }
    out.push(quote);
    out
}

/// The first `max` UTF-16 units of `s`: the longest whole-character prefix, and the high
/// surrogate of a character the cut splits (JavaScript's `slice` keeps that half).
pub(crate) fn utf16_prefix(s: &str, max: usize) -> (&str, Option<u16>) {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let n = c.len_utf16();
        if units + n > max {
            let lone = (units < max).then(|| {
                let mut buf = [0u16; 2];
                c.encode_utf16(&mut buf);
                buf[0]
            });
            return (&s[..i], lone);
        }
        units += n;
    }
    (s, None)
}

struct Ctx {
    indentation: usize,
    current_depth: usize,
    /// `ctx.depth`; `None` is Node's `-1` (set when the budget is spent).
    depth: Option<usize>,
    /// `ctx.budget`: characters of output so far per indentation level.
    budget: Vec<usize>,
}

impl Ctx {
    /// `recurseTimes > ctx.depth`.
    fn beyond(&self, recurse_times: usize) -> bool {
        self.depth.is_none_or(|d| recurse_times > d)
    }

    /// Counts an object's output against the budget of its indentation level.
    fn spend(&mut self, len: usize) {
        if self.budget.len() <= self.indentation {
            self.budget.resize(self.indentation + 1, 0);
        }
        self.budget[self.indentation] += len;
        if self.budget[self.indentation] > BUDGET {
            self.depth = None;
        }
    }
}

fn js_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// A fast, non-keyed hash for the key de-duplication of [`ordered_props`] (FxHash's
/// multiply-rotate; no need for DoS resistance: the caller already holds every key).
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        // MurmurHash3's finaliser: every input bit reaches the low bits the table uses.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
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
        Value::Function(Some(name)) if !name.is_empty() => format!("[Function: {name}]"),
        Value::Function(_) => "[Function (anonymous)]".into(),
        Value::Symbol(d) => format!("Symbol({d})"),
        Value::Buffer(b) => format_buffer(b),
        Value::Instance(name) if name == "AbortSignal" => "AbortSignal { aborted: false }".into(),
        Value::Instance(name) => format!("{name} {{}}"),
        Value::Array(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            if ctx.beyond(recurse_times) {
                return "[Array]".into();
            }
            let rt = recurse_times + 1;
            ctx.current_depth = rt;
            let shown = items.len().min(MAX_ARRAY_LENGTH);
            let mut output: Vec<String> = items[..shown]
                .iter()
                .map(|item| {
                    ctx.indentation += 2;
                    let s = format_value(ctx, item, rt);
                    ctx.indentation -= 2;
                    s
                })
                .collect();
            let remaining = items.len() - shown;
            if remaining > 0 {
                output.push(format!("... {remaining} more item{}", plural(remaining)));
            }
            // Node looks at `value[i]` for every entry of the output, the "more items"
            // one included.
            let numeric = items
                .iter()
                .take(output.len())
                .all(|i| matches!(i, Value::Number(_) | Value::BigInt(_)));
            let array = ArrayInfo {
                numeric,
                more: remaining > 0,
            };
            let res = reduce_to_single_string(ctx, output, ("[", "]"), Some(array), rt);
            ctx.spend(js_len(&res));
            res
        }
        Value::Object(props) => {
            if props.is_empty() {
                return "{}".into();
            }
            if ctx.beyond(recurse_times) {
                return "[Object]".into();
            }
            let props = ordered_props(props);
            let rt = recurse_times + 1;
            ctx.current_depth = rt;
            let output: Vec<String> = props
                .iter()
                .map(|(k, val)| {
                    ctx.indentation += 2;
                    let s = format_value(ctx, val, rt);
                    ctx.indentation -= 2;
                    let key = format_key(k);
                    let mut entry = String::with_capacity(key.len() + 2 + s.len());
                    entry.push_str(&key);
                    entry.push_str(": ");
                    entry.push_str(&s);
                    entry
                })
                .collect();
            let res = reduce_to_single_string(ctx, output, ("{", "}"), None, rt);
            ctx.spend(js_len(&res));
            res
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n > 1 {
        "s"
    } else {
        ""
    }
}

/// What the array grouping needs to know about an array's output.
#[derive(Clone, Copy)]
struct ArrayInfo {
    /// Every shown entry is a number or a bigint (right-aligned columns).
    numeric: bool,
    /// The last output entry is "... N more items" (not part of the grouping).
    more: bool,
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
    let total = js_len(s);
    let (value, lone, trailer) = if total > MAX_STRING_LENGTH {
        let (prefix, lone) = utf16_prefix(s, MAX_STRING_LENGTH);
        let remaining = total - MAX_STRING_LENGTH;
        let trailer = format!("... {remaining} more character{}", plural(remaining));
        (prefix, lone, trailer)
    } else {
        (s, None, String::new())
    };
    let len = total.min(MAX_STRING_LENGTH);
    if len > MIN_LINE_LENGTH && len + ctx.indentation + 4 > BREAK_LENGTH {
        // `value.split(/(?<=\n)/)`: each line keeps its line break.
        let mut pieces = Vec::new();
        let mut rest = value;
        while let Some(i) = rest.find('\n') {
            if i + 1 == rest.len() && lone.is_none() {
                break;
            }
            pieces.push(quote_string(&rest[..=i]));
            rest = &rest[i + 1..];
        }
        pieces.push(quote_string_tail(rest, lone));
        let sep = format!(" +\n{}", " ".repeat(ctx.indentation + 2));
        return pieces.join(&sep) + &trailer;
    }
    quote_string_tail(value, lone) + &trailer
}

/// Own property order of a JavaScript object: array-index keys ascending, then the other
/// keys in insertion order; a repeated key keeps its first position and its last value.
fn ordered_props(props: &[(String, Value)]) -> Vec<(&str, &Value)> {
    use std::collections::hash_map::Entry;
    // Linear in the number of keys: a map from key to its first position; each key is
    // hashed once and classified once.
    let mut unique: Vec<(&str, &Value, Option<u32>)> = Vec::with_capacity(props.len());
    let mut seen: std::collections::HashMap<&str, usize, std::hash::BuildHasherDefault<KeyHasher>> =
        std::collections::HashMap::with_capacity_and_hasher(props.len(), Default::default());
    let mut indexed = 0;
    for (k, v) in props {
        match seen.entry(k.as_str()) {
            Entry::Occupied(e) => unique[*e.get()].1 = v,
            Entry::Vacant(e) => {
                e.insert(unique.len());
                let index = array_index(k);
                indexed += usize::from(index.is_some());
                unique.push((k.as_str(), v, index));
            }
        }
    }
    if indexed == 0 {
        return unique.into_iter().map(|(k, v, _)| (k, v)).collect();
    }
    let mut first: Vec<(u32, &str, &Value)> = unique
        .iter()
        .filter_map(|&(k, v, i)| i.map(|i| (i, k, v)))
        .collect();
    first.sort_unstable_by_key(|(i, _, _)| *i);
    let mut out: Vec<(&str, &Value)> = first.into_iter().map(|(_, k, v)| (k, v)).collect();
    out.extend(
        unique
            .into_iter()
            .filter(|p| p.2.is_none())
            .map(|(k, v, _)| (k, v)),
    );
    out
}

/// The array index a key names (`"0"`, `"42"`, up to 2**32 - 2), which JavaScript lists
/// before the other keys.
fn array_index(k: &str) -> Option<u32> {
    let ok = k == "0" || (!k.starts_with('0') && k.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return None;
    }
    k.parse::<u32>().ok().filter(|n| *n != u32::MAX)
}

fn format_key(k: &str) -> std::borrow::Cow<'_, str> {
    if k == "__proto__" {
        return "['__proto__']".into();
    }
    let mut bytes = k.bytes();
    let ident = matches!(bytes.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if ident {
        k.into()
    } else {
        quote_string(k).into()
    }
}

fn reduce_to_single_string(
    ctx: &Ctx,
    output: Vec<String>,
    braces: (&str, &str),
    array: Option<ArrayInfo>,
    recurse_times: usize,
) -> String {
    let entries = output.len();
    let output = match array {
        Some(array) if entries > 6 => group_array_elements(ctx, output, array),
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

fn group_array_elements(ctx: &Ctx, output: Vec<String>, array: ArrayInfo) -> Vec<String> {
    const SEPARATOR_SPACE: usize = 2;
    // The "... N more items" entry takes no part in the grouping.
    let output_length = output.len() - usize::from(array.more);
    let data_len: Vec<usize> = output[..output_length].iter().map(|o| js_len(o)).collect();
    let total_length: usize = data_len.iter().map(|l| l + SEPARATOR_SPACE).sum();
    let max_length = data_len.iter().copied().max().unwrap_or(0);
    let actual_max = max_length + SEPARATOR_SPACE;
    if !(actual_max * 3 + ctx.indentation < BREAK_LENGTH
        && (total_length as f64 / actual_max as f64 > 5.0 || max_length <= 6))
    {
        return output;
    }
    // Node divides by the whole output's length here, the extra entry included.
    let average_bias = (actual_max as f64 - total_length as f64 / output.len() as f64).sqrt();
    let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
    let columns = [
        ((2.5 * biased_max * output_length as f64).sqrt() / biased_max).round() as usize,
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
            (i..output_length)
                .step_by(columns)
                .map(|j| data_len[j])
                .max()
                .unwrap_or(0)
                + SEPARATOR_SPACE
        })
        .collect();
    let pad = |s: &str, width: usize| -> String {
        let fill = " ".repeat(width.saturating_sub(js_len(s)));
        if array.numeric {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    let mut rows = Vec::new();
    let mut i = 0;
    while i < output_length {
        let max = (i + columns).min(output_length);
        let mut row = String::new();
        for j in i..max - 1 {
            row.push_str(&pad(&format!("{}, ", output[j]), max_line_length[j - i]));
        }
        let j = max - 1;
        if array.numeric {
            let width = max_line_length[j - i] - SEPARATOR_SPACE;
            row.push_str(&pad(&output[j], width));
        } else {
            row.push_str(&output[j]);
        }
        rows.push(row);
        i += columns;
    }
    if array.more {
        rows.extend(output.into_iter().last());
    }
    rows
}

#[cfg(test)]
#[path = "inspect_tests.rs"]
mod tests;
