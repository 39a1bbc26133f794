//! Arbitrary JavaScript-like [`Value`] trees, biased towards what `node:net`'s argument
//! rules look at: the option keys they read, the constructor names they recognise, and
//! the numbers and strings at their boundaries.

use arbitrary::{Result, Unstructured};
use sansnet::Value;

/// Keys the loose faces read (plus a few they do not).
const KEYS: &[&str] = &[
    "port",
    "host",
    "path",
    "family",
    "hints",
    "timeout",
    "localAddress",
    "localPort",
    "lookup",
    "autoSelectFamily",
    "autoSelectFamilyAttemptTimeout",
    "allowHalfOpen",
    "pauseOnConnect",
    "noDelay",
    "keepAlive",
    "keepAliveInitialDelay",
    "highWaterMark",
    "readableHighWaterMark",
    "writableHighWaterMark",
    "objectMode",
    "readableObjectMode",
    "writableObjectMode",
    "encoding",
    "defaultEncoding",
    "signal",
    "fd",
    "blockList",
    "backlog",
    "exclusive",
    "ipv6Only",
    "reusePort",
    "readableAll",
    "writableAll",
    "handle",
    "_handle",
    "address",
    "flowlabel",
    "readable",
    "writable",
    "__proto__",
    "",
];

/// Constructor names the loose faces recognise.
const INSTANCES: &[&str] = &[
    "AbortSignal",
    "BlockList",
    "SocketAddress",
    "Buffer",
    "Uint8Array",
    "Uint8ClampedArray",
    "Uint16Array",
    "DataView",
    "ArrayBuffer",
    "Date",
    "Map",
    "",
];

/// Strings at the boundaries of the grammars and coercions.
const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "80",
    "65535",
    "65536",
    "-1",
    "0x10",
    "1e3",
    "Infinity",
    "NaN",
    "127.0.0.1",
    "::1",
    "::ffff:1.2.3.4",
    "fe80::1%eth0",
    "1.2.3.4:80",
    "[::1]:443",
    "localhost",
    "example.com",
    "/tmp/x.sock",
    "\0abstract",
    "ipv4",
    "ipv6",
    "IPv4",
    "IPv6",
    "utf8",
    "hex",
    "base64",
    "latin1",
    "ucs2",
    "buffer",
];

/// Numbers at the boundaries of the validators.
const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    4.0,
    6.0,
    9.0,
    10.0,
    80.0,
    128.0,
    511.0,
    1024.0,
    65535.0,
    65536.0,
    2147483647.0,
    2147483648.0,
    4294967295.0,
    4294967296.0,
    9007199254740992.0,
    1e21,
    f64::MAX,
    f64::MIN_POSITIVE,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// A string: from the table above, or arbitrary text.
pub fn string(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 | 1 => (*u.choose(STRINGS)?).to_string(),
        _ => String::arbitrary_take(u)?,
    })
}

/// A number: from the table above, a small integer, or any bits.
pub fn number(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 | 1 => *u.choose(NUMBERS)?,
        2 => f64::from(u.arbitrary::<i16>()?),
        _ => f64::from_bits(u.arbitrary()?),
    })
}

/// A value tree at most `depth` levels deep.
pub fn value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let max = if depth == 0 { 7 } else { 9 };
    Ok(match u.int_in_range(0u8..=max)? {
        0 => Value::Undefined,
        1 => Value::Null,
        2 => Value::Bool(u.arbitrary()?),
        3 => Value::Number(number(u)?),
        4 => Value::BigInt(match u.int_in_range(0u8..=2)? {
            0 => "0".into(),
            1 => u.arbitrary::<i64>()?.to_string(),
            _ => String::arbitrary_take(u)?,
        }),
        5 => Value::String(string(u)?),
        6 => Value::Function(None),
        7 => Value::Instance((*u.choose(INSTANCES)?).to_string()),
        8 => {
            let n = u.int_in_range(0usize..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => object(u, depth - 1)?,
    })
}

/// A plain object whose keys are mostly the ones the options read.
pub fn object(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let n = u.int_in_range(0usize..=8)?;
    let mut props = Vec::with_capacity(n);
    for _ in 0..n {
        let key = if u.ratio(7u8, 8u8)? {
            (*u.choose(KEYS)?).to_string()
        } else {
            String::arbitrary_take(u)?
        };
        props.push((key, value(u, depth)?));
    }
    Ok(Value::Object(props))
}

/// An argument list of a JavaScript call (0 to 4 arguments).
pub fn args(u: &mut Unstructured<'_>) -> Result<Vec<Value>> {
    let n = u.int_in_range(0usize..=4)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        // Options objects are the interesting first argument: give them a fair share.
        v.push(if u.ratio(1u8, 3u8)? {
            object(u, 2)?
        } else {
            value(u, 2)?
        });
    }
    Ok(v)
}

trait TakeString {
    fn arbitrary_take(u: &mut Unstructured<'_>) -> Result<String>;
}

impl TakeString for String {
    /// A short arbitrary string (at most 64 bytes of input), so that one long string does
    /// not swallow the rest of the input.
    fn arbitrary_take(u: &mut Unstructured<'_>) -> Result<String> {
        let n = u.int_in_range(0usize..=64)?;
        let bytes = u.bytes(n.min(u.len()))?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }
}
