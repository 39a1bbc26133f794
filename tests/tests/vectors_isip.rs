//! `net.isIP` / `isIPv4` / `isIPv6` against `vectors/isip.json` (observed on Node 20).

use std::path::Path;

use sansnet::ip::{is_ip, is_ip_value, is_ipv4, is_ipv6};
use sansnet::validate::to_js_string;
use sansnet::Value;
use serde_json::Value as Json;

fn load(name: &str) -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("vector JSON")
}

#[test]
fn string_cases() {
    let doc = load("isip.json");
    let cases = doc["cases"].as_array().expect("cases");
    let mut failures = Vec::new();
    for case in cases {
        let input = case["input"].as_str().expect("input");
        let got = (is_ip(input), is_ipv4(input), is_ipv6(input));
        let want = (
            case["isIP"].as_u64().expect("isIP") as u8,
            case["isIPv4"].as_bool().expect("isIPv4"),
            case["isIPv6"].as_bool().expect("isIPv6"),
        );
        if got != want {
            failures.push(format!("{input:?}: got {got:?}, Node {want:?}"));
        }
        if let Some(by_test) = case.get("expectedByNodeTest").and_then(Json::as_u64) {
            assert_eq!(u64::from(got.0), by_test, "{input:?} vs Node's own test");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 200, "only {} cases", cases.len());
}

/// The coercion rows' inputs as loose values. Objects whose `String()` runs user code
/// (`new String(...)`, a custom `toString`) reach sansnet as the string the embedder got.
fn coercion_value(repr: &str, coerced: &str) -> Value {
    match repr {
        "undefined (no argument)" | "undefined" => Value::Undefined,
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "{}" => Value::Object(vec![]),
        r if r.starts_with('[') && r.ends_with(']') => Value::Array(
            r[1..r.len() - 1]
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| Value::String(s.trim().trim_matches(['\'', '"']).to_string()))
                .collect(),
        ),
        r => match r.parse::<f64>() {
            Ok(n) => Value::Number(n),
            Err(_) => Value::String(coerced.to_string()),
        },
    }
}

#[test]
fn coercion_cases() {
    let doc = load("isip.json");
    let rows = doc["coercion"].as_array().expect("coercion");
    for row in rows {
        let repr = row["inputRepr"].as_str().expect("inputRepr");
        let coerced = row["coercedString"].as_str().expect("coercedString");
        let value = coercion_value(repr, coerced);
        assert_eq!(to_js_string(&value), coerced, "String({repr})");
        let want = row["isIP"].as_u64().expect("isIP") as u8;
        assert_eq!(is_ip_value(&value), want, "isIP({repr})");
        assert_eq!(is_ipv4(coerced), row["isIPv4"].as_bool().expect("isIPv4"));
        assert_eq!(is_ipv6(coerced), row["isIPv6"].as_bool().expect("isIPv6"));
    }
    assert!(!rows.is_empty());
}
