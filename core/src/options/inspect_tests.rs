//! Unit tests of `util.inspect` (see `inspect.rs`).

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
        "line1\nline2 is quite long and keeps going on and on and on and on and on and on".into(),
    )]);
    assert_eq!(
        inspect(&split),
        "{\n  a: 'line1\\n' +\n    'line2 is quite long and keeps going on and on and on and on and on and on'\n}"
    );
}

#[test]
fn a_prefix_is_the_start_of_the_whole_text() {
    for n in [0, 1, 23, 24, 25, 200] {
        let props: Vec<(String, Value)> = (0..n)
            .map(|i| {
                let v = match i % 4 {
                    0 => Value::Number(f64::from(i)),
                    1 => Value::String("x\ny".repeat(i as usize)),
                    2 => Value::object(&[("a", Value::Array(vec![1.0.into(); 30]))]),
                    _ => Value::Array(vec![]),
                };
                (
                    if i % 5 == 0 {
                        format!("{}", i / 5)
                    } else {
                        format!("k{i}")
                    },
                    v,
                )
            })
            .collect();
        let v = Value::Object(props);
        let whole = inspect(&v);
        for max in [0, 10, 128, 1000, 100_000] {
            let (prefix, complete) = inspect_prefix(&v, max);
            assert!(whole.starts_with(&prefix), "{n} keys, {max}");
            assert!(
                js_len(&prefix) >= max.min(js_len(&whole)),
                "{n} keys, {max}"
            );
            assert_eq!(complete, prefix == whole, "{n} keys, {max}");
        }
    }
}

#[test]
fn long_strings_and_arrays_are_cut_as_node_cuts_them() {
    // node -p "util.inspect('x'.repeat(10002))"
    let long = inspect(&Value::String("x".repeat(10_002)));
    assert_eq!(
        long,
        format!("'{}'... 2 more characters", "x".repeat(10_000))
    );
    let one = inspect(&Value::String("x".repeat(10_001)));
    assert!(one.ends_with("'... 1 more character"));
    // A cut through a surrogate pair keeps the high half, escaped.
    // node -p "util.inspect('a' + '\u{1F600}'.repeat(5000)).slice(-30)"
    let emoji = inspect(&Value::String(format!("a{}", "\u{1F600}".repeat(5_000))));
    assert!(emoji.ends_with("\u{1F600}\\ud83d'... 1 more character"));
    // node -p "util.inspect(Array.from({length: 101}, (_, i) => i))"
    let arr = inspect(&Value::Array(
        (0..101).map(|i| f64::from(i).into()).collect(),
    ));
    assert!(arr.starts_with("[\n   0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11,\n"));
    assert!(
        arr.ends_with("  96, 97, 98, 99,\n  ... 1 more item\n]"),
        "{arr}"
    );
    assert_eq!(
        inspect(&Value::object(&[("__proto__", 1.0.into())])),
        "{ ['__proto__']: 1 }"
    );
}
