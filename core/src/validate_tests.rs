//! Unit tests of the validators (see `validate.rs`).

use super::*;

fn port(v: Value) -> Result<u16, Code> {
    validate_port(&v, "Port").map_err(|e| e.code)
}

#[test]
fn port_rule_accepts_what_node_accepts() {
    for (s, p) in [
        ("65535", 65535),
        ("-0", 0),
        ("0x10", 16),
        ("0b11", 3),
        ("0o17", 15),
        ("1e3", 1000),
        (" 80 ", 80),
        ("00080", 80),
    ] {
        assert_eq!(port(s.into()), Ok(p), "{s}");
    }
    assert_eq!(port(Value::Number(-0.0)), Ok(0));
    assert_eq!(port(Value::Number(65535.0)), Ok(65535));
}

#[test]
fn port_rule_rejects_what_node_rejects() {
    for s in ["65536", "", " ", "0x", "-0x1", "abc", "80abc", "1e3x"] {
        assert_eq!(port(s.into()), Err(Code::ErrSocketBadPort), "{s:?}");
    }
    for n in [
        -1.0,
        65536.0,
        1.5,
        f64::NAN,
        f64::INFINITY,
        4294967296.0,
        4294967295.0,
    ] {
        assert_eq!(port(Value::Number(n)), Err(Code::ErrSocketBadPort), "{n}");
    }
    for v in [
        Value::Bool(true),
        Value::Null,
        Value::Undefined,
        Value::Object(vec![]),
    ] {
        assert_eq!(port(v), Err(Code::ErrSocketBadPort));
    }
}

#[test]
fn messages_match_node() {
    let e = validate_port(&Value::Number(-1.0), "Port").unwrap_err();
    assert_eq!(
        e.message,
        "Port should be >= 0 and < 65536. Received type number (-1)."
    );
    let e = invalid_arg_type("options.port", &["number", "string"], &Value::Array(vec![]));
    assert_eq!(
        e.message,
        "The \"options.port\" property must be one of type number or string. Received an instance of Array"
    );
    let e = validate_int32(
        &Value::Number(0.0),
        "options.autoSelectFamilyAttemptTimeout",
        1,
        i32::MAX,
    )
    .unwrap_err();
    assert_eq!(
        e.message,
        "The value of \"options.autoSelectFamilyAttemptTimeout\" is out of range. It must be >= 1 && <= 2147483647. Received 0"
    );
    let e = invalid_arg_value(
        "options.family",
        &Value::Number(5.0),
        Some("must be one of: 0, 4, 6"),
    );
    assert_eq!(
        e.message,
        "The property 'options.family' must be one of: 0, 4, 6. Received 5"
    );
    assert_eq!(describe(&Value::String("x".into())), "type string ('x')");
}

#[test]
fn number_conversion_follows_javascript() {
    assert_eq!(string_to_number("  12 "), 12.0);
    assert_eq!(string_to_number(""), 0.0);
    assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
    assert!(string_to_number("1_000").is_nan());
    assert!(string_to_number("+0x10").is_nan());
    assert_eq!(string_to_number(".5"), 0.5);
    assert!(string_to_number(".").is_nan());
    assert_eq!(to_int32(4294967295.0), -1);
    assert_eq!(to_uint32(-1.0), 4294967295);
}
