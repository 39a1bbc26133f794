//! `tests/vectors/blocklist.json` (scenarios: ops, rules after each op, checks) and the
//! `blocklist` rows of `tests/vectors/validation.json` (one JavaScript call each, parsed
//! from its simple literal arguments) against `sansnet::BlockList`.

use std::net::IpAddr;

use sansnet::ip::{parse_inet, Family};
use sansnet::{AddressArg, BlockList, NetError, Value};
use serde_json::Value as Json;

fn load(name: &str) -> Json {
    let path = format!("{}/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An argument as the vectors give it: a JavaScript value or a `SocketAddress`.
#[derive(Clone, Debug)]
enum Arg {
    Value(Value),
    Socket {
        ip: IpAddr,
        port: u16,
        flowlabel: u32,
    },
}

impl Arg {
    fn as_address(&self) -> AddressArg<'_> {
        match self {
            Arg::Value(v) => AddressArg::Value(v),
            Arg::Socket {
                ip,
                port,
                flowlabel,
            } => AddressArg::Socket {
                ip: *ip,
                port: *port,
                flowlabel: *flowlabel,
            },
        }
    }

    fn as_value(&self) -> &Value {
        match self {
            Arg::Value(v) => v,
            Arg::Socket { .. } => panic!("a SocketAddress where a value was expected"),
        }
    }
}

fn json_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().unwrap()),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(json_value).collect()),
        Json::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
        }
    }
}

/// `new net.SocketAddress({ address, family, port, flowlabel })` for valid options.
fn socket_address(opts: &Value) -> Option<Arg> {
    let family = match opts.get("family") {
        Value::Undefined => "ipv4".to_string(),
        Value::String(s) => s.to_lowercase(),
        _ => return None,
    };
    let family = match family.as_str() {
        "ipv4" => Family::V4,
        "ipv6" => Family::V6,
        _ => return None,
    };
    let default = if family == Family::V4 {
        "127.0.0.1"
    } else {
        "::"
    };
    let address = match opts.get("address") {
        Value::Undefined => default.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let num = |key: &str| match opts.get(key) {
        Value::Undefined => Some(0.0),
        Value::Number(n) => Some(*n),
        _ => None,
    };
    Some(Arg::Socket {
        ip: parse_inet(&address, family)?,
        port: num("port")? as u16,
        flowlabel: num("flowlabel")? as u32,
    })
}

fn json_arg(j: &Json) -> Arg {
    if j.is_object() && j.get("address").is_some() {
        socket_address(&json_value(j)).expect("a valid SocketAddress in the vectors")
    } else {
        Arg::Value(json_value(j))
    }
}

static UNDEFINED: Arg = Arg::Value(Value::Undefined);

/// Calls `method` with JavaScript-style arguments (missing ones are `undefined`).
/// `Ok(None)` is a method returning `undefined`, `Ok(Some(b))` a `check` result.
fn call(bl: &mut BlockList, method: &str, args: &[Arg]) -> Result<Option<bool>, NetError> {
    let a = |i: usize| args.get(i).unwrap_or(&UNDEFINED);
    match method {
        "addAddress" => bl
            .add_address_value(a(0).as_address(), a(1).as_value())
            .map(|()| None),
        "addRange" => bl
            .add_range_value(a(0).as_address(), a(1).as_address(), a(2).as_value())
            .map(|()| None),
        "addSubnet" => bl
            .add_subnet_value(a(0).as_address(), a(1).as_value(), a(2).as_value())
            .map(|()| None),
        "check" => bl.check_value(a(0).as_address(), a(1).as_value()).map(Some),
        other => panic!("unknown BlockList method {other}"),
    }
}

fn strings(j: &Json) -> Vec<String> {
    j.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn blocklist_scenarios() {
    let vectors = load("blocklist.json");
    let scenarios = vectors["scenarios"].as_array().unwrap();
    let (mut passed, mut total) = (0, 0);
    let mut failures = Vec::new();
    for sc in scenarios {
        let name = sc["name"].as_str().unwrap();
        let mut bl = BlockList::new();
        let after = sc.get("rulesAfterEachOp").and_then(Json::as_array);
        for (i, op) in sc["ops"].as_array().unwrap().iter().enumerate() {
            let method = op["op"].as_str().unwrap();
            let method = method.split('(').next().unwrap();
            let args: Vec<Arg> = op["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(json_arg)
                .collect();
            total += 1;
            // An op may record what Node threw: a code, or `{code, message}`.
            let throws = op.get("throws").or_else(|| op.get("error"));
            let got = call(&mut bl, method, &args);
            let ok = match (&got, throws) {
                (Ok(_), None) => true,
                (Err(e), Some(Json::String(code))) => e.code.as_str() == code,
                (Err(e), Some(t)) => {
                    t["code"] == e.code.as_str()
                        && t.get("message").is_none_or(|m| m == e.message.as_str())
                }
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failures.push(format!(
                    "{name}: op {i} {method}{args:?} gave {got:?}, Node: {throws:?}"
                ));
            }
            if let Some(expected) = after.and_then(|a| a.get(i)) {
                total += 1;
                if bl.rules() == strings(expected) {
                    passed += 1;
                } else {
                    failures.push(format!(
                        "{name}: rules after op {i}: {:?} != {expected}",
                        bl.rules()
                    ));
                }
            }
        }
        if let Some(rules) = sc.get("rules") {
            total += 1;
            if bl.rules() == strings(rules) {
                passed += 1;
            } else {
                failures.push(format!("{name}: rules {:?} != {rules}", bl.rules()));
            }
        }
        for c in sc["checks"].as_array().unwrap() {
            let args: Vec<Arg> = c["args"].as_array().unwrap().iter().map(json_arg).collect();
            let expected = c["expected"].as_bool().unwrap();
            total += 1;
            match call(&mut bl, "check", &args) {
                Ok(Some(got)) if got == expected => passed += 1,
                other => failures.push(format!(
                    "{name}: check{args:?} = {other:?}, expected {expected}"
                )),
            }
        }
    }
    println!(
        "blocklist.json: {} scenarios, {passed}/{total} assertions pass",
        scenarios.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- validation.json: a small parser for the calls' literal arguments ----------------

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, lit: &str) -> Option<()> {
        self.eat(lit).then_some(())
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || b"_$".contains(&self.s[self.pos]))
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into())
    }

    fn string(&mut self, quote: u8) -> Option<String> {
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.pos)?;
            self.pos += 1;
            match c {
                b'\\' => {
                    let e = *self.s.get(self.pos)?;
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'0' => out.push(0),
                        b'x' | b'u' => {
                            let n = if e == b'x' { 2 } else { 4 };
                            let hex =
                                std::str::from_utf8(self.s.get(self.pos..self.pos + n)?).ok()?;
                            self.pos += n;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c if c == quote => return String::from_utf8(out).ok(),
                c => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Option<f64> {
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'.')
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.pos]).ok()?;
        let n = match text {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            t => t.parse().ok()?,
        };
        if self.eat("**") {
            let exp = self.number()?;
            return Some(n.powf(exp));
        }
        Some(n)
    }

    fn arg(&mut self) -> Option<Arg> {
        self.ws();
        let c = *self.s.get(self.pos)?;
        if c == b'\'' || c == b'"' {
            self.pos += 1;
            return self.string(c).map(|s| Arg::Value(Value::String(s)));
        }
        if c == b'-'
            || c.is_ascii_digit()
            || self.s[self.pos..].starts_with(b"NaN")
            || self.s[self.pos..].starts_with(b"Infinity")
        {
            return self.number().map(|n| Arg::Value(Value::Number(n)));
        }
        if self.eat("new net.SocketAddress(") {
            let opts = if self.eat(")") {
                Value::Object(vec![])
            } else {
                let Arg::Value(v) = self.arg()? else {
                    return None;
                };
                self.expect(")")?;
                v
            };
            return socket_address(&opts);
        }
        if self.eat("[") {
            let mut items = Vec::new();
            while !self.eat("]") {
                let Arg::Value(v) = self.arg()? else {
                    return None;
                };
                items.push(v);
                self.eat(",");
            }
            return Some(Arg::Value(Value::Array(items)));
        }
        if self.eat("{") {
            let mut props = Vec::new();
            while !self.eat("}") {
                let key = self.ident()?;
                self.expect(":")?;
                let Arg::Value(v) = self.arg()? else {
                    return None;
                };
                props.push((key, v));
                self.eat(",");
            }
            return Some(Arg::Value(Value::Object(props)));
        }
        let v = match self.ident()?.as_str() {
            "undefined" => Value::Undefined,
            "null" => Value::Null,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        };
        Some(Arg::Value(v))
    }
}

/// `new net.BlockList().method(args…)` → (method, args).
fn parse_call(call: &str) -> Option<(String, Vec<Arg>)> {
    let rest = call.trim().strip_prefix("new net.BlockList().")?;
    let mut p = Parser {
        s: rest.as_bytes(),
        pos: 0,
    };
    let method = p.ident()?;
    p.expect("(")?;
    let mut args = Vec::new();
    while !p.eat(")") {
        args.push(p.arg()?);
        p.eat(",");
    }
    p.ws();
    (p.pos == p.s.len()).then_some((method, args))
}

#[test]
fn blocklist_validation_rows() {
    let vectors = load("validation.json");
    let rows: Vec<&Json> = vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["group"] == "blocklist")
        .collect();
    let (mut passed, mut skipped) = (0, Vec::new());
    let mut failures = Vec::new();
    for row in &rows {
        let call_text = row["call"].as_str().unwrap();
        let Some((method, args)) = parse_call(call_text) else {
            // Only calls on a fresh BlockList are in reach (not `typeof net.BlockList.x`).
            if call_text.contains("new net.BlockList().") {
                failures.push(format!("{call_text}: arguments not understood"));
            } else {
                skipped.push(call_text);
            }
            continue;
        };
        let node = &row["node20"];
        let got = call(&mut BlockList::new(), &method, &args);
        let ok = match (node["outcome"].as_str().unwrap(), &got) {
            ("throws", Err(e)) => {
                e.code.as_str() == node["code"]
                    && e.class.as_str() == node["name"]
                    && e.message == node["message"]
            }
            ("returned", Ok(v)) => {
                let shown = match v {
                    None => "undefined".to_string(),
                    Some(b) => b.to_string(),
                };
                node["value"] == shown.as_str()
            }
            _ => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!("{call_text}: got {got:?}, Node: {node}"));
        }
    }
    println!(
        "validation.json blocklist rows: {passed}/{} pass, {} not BlockList calls: {skipped:?}",
        rows.len(),
        skipped.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
