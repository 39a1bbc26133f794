//! `net.SocketAddress` against the vectors: `SocketAddress.parse` (`socketaddress-parse.json`,
//! the `latest` column) and the constructor rows of `validation.json`.

use std::path::Path;

use sansnet::validate::{to_int32, to_number};
use sansnet::{SocketAddress, Value};
use serde_json::Value as Json;

fn load(name: &str) -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("vector JSON")
}

#[test]
fn parse_latest_column() {
    let doc = load("socketaddress-parse.json");
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let input = case["input"].as_str().expect("input");
        let got = SocketAddress::parse(input).map(|sa| {
            serde_json::json!({
                "address": sa.address(),
                "port": sa.port(),
                "family": sa.family().lower_name(),
            })
        });
        let want = match &case["latest"] {
            Json::Null => None,
            other => Some(other.clone()),
        };
        if got != want {
            failures.push(format!("{input:?}: got {got:?}, want {want:?}"));
        }
        // The non-string path of the same API.
        let via_value = SocketAddress::parse_value(&Value::String(input.to_string()));
        assert_eq!(via_value, Ok(SocketAddress::parse(input)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!cases.is_empty());
}

/// A tiny reader for the JavaScript literals in the `call` column.
struct Literal<'a> {
    s: &'a [u8],
    i: usize,
}

impl Literal<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let hit = self.s.get(self.i) == Some(&c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn word(&mut self) -> String {
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn value(&mut self) -> Value {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut props = Vec::new();
                while !self.eat(b'}') {
                    let key = self.word();
                    assert!(self.eat(b':'), "':' after {key}");
                    props.push((key, self.value()));
                    self.eat(b',');
                }
                Value::Object(props)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value());
                    self.eat(b',');
                }
                Value::Array(items)
            }
            Some(&q @ (b'\'' | b'"')) => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != q {
                    self.i += 1;
                }
                self.i += 1;
                Value::String(String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned())
            }
            Some(b'-') => {
                self.i += 1;
                match self.value() {
                    Value::Number(n) => Value::Number(-n),
                    other => panic!("-{other:?}"),
                }
            }
            _ => {
                let w = self.word();
                let base = match w.as_str() {
                    "undefined" => return Value::Undefined,
                    "null" => return Value::Null,
                    "true" => return Value::Bool(true),
                    "false" => return Value::Bool(false),
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    n if n.ends_with('n') => return Value::BigInt(n[..n.len() - 1].into()),
                    n => n.parse::<f64>().unwrap_or_else(|_| panic!("literal {n:?}")),
                };
                self.ws();
                if self.s[self.i..].starts_with(b"**") {
                    self.i += 2;
                    let Value::Number(e) = self.value() else {
                        panic!("exponent")
                    };
                    return Value::Number(base.powf(e));
                }
                Value::Number(base)
            }
        }
    }
}

/// `new net.SocketAddress(ARG).GETTER` → (ARG, GETTER).
fn constructor_call(call: &str) -> Option<(Value, String)> {
    let rest = call.strip_prefix("new net.SocketAddress(")?;
    let mut lit = Literal {
        s: rest.as_bytes(),
        i: 0,
    };
    let arg = if lit.eat(b')') {
        Value::Undefined
    } else {
        let v = lit.value();
        assert!(lit.eat(b')'), "closing paren in {call}");
        v
    };
    let getter = rest[lit.i..].trim_start_matches('.').to_string();
    Some((arg, getter))
}

fn getter(sa: &SocketAddress, name: &str) -> Json {
    match name {
        "address" => Json::from(sa.address()),
        "port" => Json::from(sa.port()),
        "family" => Json::from(sa.family().lower_name()),
        "flowlabel" => Json::from(sa.flowlabel()),
        other => panic!("getter {other:?}"),
    }
}

#[test]
fn constructor_rows() {
    let doc = load("validation.json");
    let mut checked = 0;
    for case in doc["cases"].as_array().expect("cases") {
        if case["group"] != "socketaddress" {
            continue;
        }
        let call = case["call"].as_str().expect("call");
        let Some((options, getter_name)) = constructor_call(call) else {
            continue; // e.g. `typeof net.SocketAddress.parse`: a version fact, not a call.
        };
        let node = &case["node20"];
        let result = SocketAddress::from_options(&options);
        match node["outcome"].as_str().expect("outcome") {
            "throws" => {
                let e = result.expect_err(call);
                assert_eq!(e.code.as_str(), node["code"], "{call}");
                assert_eq!(e.class.as_str(), node["name"], "{call}");
                assert_eq!(e.message, node["message"], "{call}");
            }
            "returned" => {
                let sa = result.unwrap_or_else(|e| panic!("{call}: {e}"));
                if !getter_name.is_empty() {
                    let want: Json =
                        serde_json::from_str(node["value"].as_str().expect("value")).expect("json");
                    assert_eq!(getter(&sa, &getter_name), want, "{call}");
                }
            }
            "process-crashed" => {
                // Node 20 defects; the spec says what a proper result is.
                let stderr = node["stderr_head"].as_str().unwrap_or_default();
                if stderr.contains("IsInt32") {
                    // A port that passes validatePort but is not an int32: v23 uses `port | 0`.
                    let port = options.get("port");
                    let sa = result.unwrap_or_else(|e| panic!("{call}: {e}"));
                    assert_eq!(i32::from(sa.port()), to_int32(to_number(port)), "{call}");
                } else if stderr.contains("kLabelMask") {
                    let e = result.expect_err(call);
                    assert_eq!(e.code.as_str(), "ERR_OUT_OF_RANGE", "{call}");
                } else {
                    panic!("unclassified crash row: {call}");
                }
            }
            other => panic!("outcome {other}"),
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} constructor rows");
}
