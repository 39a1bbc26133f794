use super::*;
use crate::ip::is_ip;
use proptest::prelude::*;

fn json(sa: &SocketAddress) -> (String, u16, &'static str, u32) {
    (
        sa.address(),
        sa.port(),
        sa.family().lower_name(),
        sa.flowlabel(),
    )
}

fn err(options: Value) -> (Code, String) {
    let e = SocketAddress::from_options(&options).unwrap_err();
    (e.code, e.message)
}

#[test]
fn defaults() {
    let sa = SocketAddress::from_options(&Value::Undefined).unwrap();
    assert_eq!(json(&sa), ("127.0.0.1".into(), 0, "ipv4", 0));
    let sa = SocketAddress::from_options(&Value::object(&[("family", "ipv6".into())])).unwrap();
    assert_eq!(json(&sa), ("::".into(), 0, "ipv6", 0));
    // The default address follows the family as given, before lower-casing.
    let sa = SocketAddress::from_options(&Value::object(&[("family", "IPV6".into())])).unwrap();
    assert_eq!(sa.address(), "::");
    let (code, msg) = err(Value::object(&[("family", "IPv4".into())]));
    assert_eq!(code, Code::ErrInvalidAddress);
    assert_eq!(msg, "Invalid socket address");
    // Any object is accepted (a Date, say).
    assert!(SocketAddress::from_options(&Value::Instance("Date".into())).is_ok());
}

#[test]
fn options_must_be_an_object() {
    for (v, shown) in [
        (Value::Number(1.0), "type number (1)"),
        (Value::Null, "null"),
        (Value::Array(vec![]), "an instance of Array"),
        (Value::Function(None), "function "),
    ] {
        let (code, msg) = err(v);
        assert_eq!(code, Code::ErrInvalidArgType);
        assert_eq!(
            msg,
            format!("The \"options\" argument must be of type object. Received {shown}")
        );
    }
}

#[test]
fn validation_order_and_messages() {
    let (code, msg) = err(Value::object(&[("family", Value::Bool(false))]));
    assert_eq!(code, Code::ErrInvalidArgValue);
    assert_eq!(
        msg,
        "The property 'options.family' is invalid. Received false"
    );
    let (_, msg) = err(Value::object(&[("family", Value::Null)]));
    assert_eq!(
        msg,
        "The property 'options.family' is invalid. Received null"
    );
    // family before address before port before flowlabel.
    let (code, _) = err(Value::object(&[
        ("family", "x".into()),
        ("address", Value::Number(1.0)),
        ("port", Value::Number(-1.0)),
    ]));
    assert_eq!(code, Code::ErrInvalidArgValue);
    let (code, msg) = err(Value::object(&[
        ("address", Value::Number(1.0)),
        ("port", (-1.0).into()),
    ]));
    assert_eq!(code, Code::ErrInvalidArgType);
    assert_eq!(
        msg,
        "The \"options.address\" property must be of type string. Received type number (1)"
    );
    let (code, msg) = err(Value::object(&[
        ("port", (-1.0).into()),
        ("flowlabel", "x".into()),
    ]));
    assert_eq!(code, Code::ErrSocketBadPort);
    assert_eq!(
        msg,
        "options.port should be >= 0 and < 65536. Received type number (-1)."
    );
    // Port is validated before the address is parsed.
    let (code, _) = err(Value::object(&[
        ("family", "ipv6".into()),
        ("address", "zz".into()),
        ("port", (-1.0).into()),
    ]));
    assert_eq!(code, Code::ErrSocketBadPort);
    let (code, msg) = err(Value::object(&[("port", Value::Null)]));
    assert_eq!(code, Code::ErrSocketBadPort);
    assert_eq!(
        msg,
        "options.port should be >= 0 and < 65536. Received null."
    );
}

#[test]
fn port_is_validate_port_then_int32() {
    for (port, expect) in [
        (Value::from("80"), 80),
        (Value::Number(-0.0), 0),
        (Value::from("-0"), 0),
        (Value::from("0x10"), 16),
        (Value::from(" 80 "), 80),
        (Value::Number(65535.0), 65535),
    ] {
        let sa = SocketAddress::from_options(&Value::object(&[("port", port.clone())])).unwrap();
        assert_eq!(sa.port(), expect, "{port:?}");
    }
    for port in [
        Value::Bool(false),
        Value::Object(vec![]),
        Value::Number(1.5),
        Value::Number(65536.0),
        Value::BigInt("80".into()),
    ] {
        assert_eq!(
            err(Value::object(&[("port", port)])).0,
            Code::ErrSocketBadPort
        );
    }
}

#[test]
fn flowlabel_rules() {
    let v6 = |f: Value| Value::object(&[("family", "ipv6".into()), ("flowlabel", f)]);
    let sa = SocketAddress::from_options(&v6(Value::Number(1048575.0))).unwrap();
    assert_eq!(sa.flowlabel(), 0xFFFFF);
    let (code, msg) = err(v6(Value::Number(1048576.0)));
    assert_eq!(code, Code::ErrOutOfRange);
    assert_eq!(
        msg,
        "The value of \"options.flowlabel\" is out of range. It must be >= 0 && <= 1048575. \
         Received 1048576"
    );
    let (code, msg) = err(v6(Value::Number(4294967296.0)));
    assert_eq!(code, Code::ErrOutOfRange);
    assert!(msg.ends_with("It must be >= 0 && <= 4294967295. Received 4294967296"));
    let (code, msg) = err(v6("1".into()));
    assert_eq!(code, Code::ErrInvalidArgType);
    assert_eq!(
        msg,
        "The \"options.flowlabel\" property must be of type number. Received type string ('1')"
    );
    assert_eq!(err(v6(Value::Number(1.5))).0, Code::ErrOutOfRange);
    assert_eq!(err(v6(Value::Number(-1.0))).0, Code::ErrOutOfRange);
    // A bad address wins over the 20-bit limit (checked after parsing).
    let bad = Value::object(&[
        ("family", "ipv6".into()),
        ("address", "zz".into()),
        ("flowlabel", Value::Number(1048576.0)),
    ]);
    assert_eq!(err(bad).0, Code::ErrInvalidAddress);
    // IPv4 ignores any uint32 flow label.
    let sa = SocketAddress::from_options(&Value::object(&[(
        "flowlabel",
        Value::Number(4294967295.0),
    )]));
    assert_eq!(sa.unwrap().flowlabel(), 0);
}

#[test]
fn typed_constructor() {
    let ip: IpAddr = "fe80::1".parse().unwrap();
    let sa = SocketAddress::new(ip, 443, 7).unwrap();
    assert_eq!(json(&sa), ("fe80::1".into(), 443, "ipv6", 7));
    assert_eq!(sa.to_string(), "[fe80::1]:443");
    assert_eq!(sa.socket_addr().to_string(), "[fe80::1]:443");
    let e = SocketAddress::new(ip, 1, 0x100000).unwrap_err();
    assert_eq!(e.code, Code::ErrOutOfRange);
    let v4 = SocketAddress::new("1.2.3.4".parse().unwrap(), 80, 0x100000).unwrap();
    assert_eq!((v4.flowlabel(), v4.to_string()), (0, "1.2.3.4:80".into()));
    let json = v4.to_json();
    let Value::Object(props) = &json else {
        panic!("toJSON is an object")
    };
    assert_eq!(props.len(), 4);
}

#[test]
fn canonical_address_text() {
    for (family, input, out) in [
        ("ipv6", "fe80::1%eth0", "fe80::1"),
        ("ipv6", "0:0:0:0:0:0:0:1", "::1"),
        ("ipv6", "ABCD::1", "abcd::1"),
        ("ipv6", "::ffff:0102:0304", "::ffff:1.2.3.4"),
        ("ipv4", "10.0.0.1", "10.0.0.1"),
    ] {
        let o = Value::object(&[("family", family.into()), ("address", input.into())]);
        assert_eq!(SocketAddress::from_options(&o).unwrap().address(), out);
    }
}

fn parsed(input: &str) -> Option<(String, u16, &'static str)> {
    SocketAddress::parse(input).map(|sa| (sa.address(), sa.port(), sa.family().lower_name()))
}

#[test]
fn parse_keeps_explicit_ports() {
    let v4 = |a: &str, p| Some((a.to_string(), p, "ipv4"));
    let v6 = |a: &str, p| Some((a.to_string(), p, "ipv6"));
    assert_eq!(parsed("1.2.3.4:80"), v4("1.2.3.4", 80));
    assert_eq!(parsed("1.2.3.4:0080"), v4("1.2.3.4", 80));
    assert_eq!(parsed("[::1]:80"), v6("::1", 80));
    assert_eq!(parsed("[::1]"), v6("::1", 0));
    assert_eq!(parsed("[1:0::]"), v6("1::", 0));
    assert_eq!(parsed("user:80@5.6.7.8"), v4("5.6.7.8", 80));
    assert_eq!(parsed("user:pass@1.2.3.4"), v4("1.2.3.4", 0));
    assert_eq!(parsed("user:pass@1.2.3.4:81/x?y#z"), v4("1.2.3.4", 81));
    assert_eq!(parsed("1.2.3.4\t:9"), v4("1.2.3.4", 9));
    assert_eq!(parsed("1.2.3.4:"), v4("1.2.3.4", 0));
    assert_eq!(parsed("999999999:12"), v4("59.154.201.255", 12));
    // The raw-text port is validated like the constructor's.
    assert_eq!(parsed("user:-5@1.2.3.4"), None);
    assert_eq!(parsed("user:99999@1.2.3.4"), None);
    assert_eq!(parsed("user:-0@1.2.3.4"), v4("1.2.3.4", 0));
    assert_eq!(parsed("1.2.3.4: 80"), None);
    assert_eq!(parsed("::1"), None);
    assert_eq!(parsed("localhost"), None);
}

#[test]
fn parse_value_wants_a_string() {
    let e = SocketAddress::parse_value(&Value::Number(1.0)).unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgType);
    assert_eq!(
        e.message,
        "The \"input\" argument must be of type string. Received type number (1)"
    );
    assert_eq!(SocketAddress::parse_value(&"x".into()), Ok(None));
}

#[test]
fn js_parse_int_is_base_ten() {
    assert_eq!(js_parse_int(" \u{a0}80abc"), Some(80));
    assert_eq!(js_parse_int("+7"), Some(7));
    assert_eq!(js_parse_int("-12"), Some(-12));
    assert_eq!(js_parse_int("0x10"), Some(0));
    assert_eq!(js_parse_int("abc"), None);
    assert_eq!(js_parse_int("-"), None);
    assert_eq!(js_parse_int("99999999999999999999999"), Some(i64::MAX));
}

proptest! {
    #[test]
    fn nothing_panics(s in any::<String>()) {
        let _ = is_ip(&s);
        let _ = parse_inet(&s, Family::V4);
        let _ = parse_inet(&s, Family::V6);
        let _ = SocketAddress::parse(&s);
    }

    #[test]
    fn nothing_panics_near_addresses(s in "[0-9a-fA-FxX:.%@/\\[\\]\t ]{0,48}") {
        let _ = is_ip(&s);
        let _ = parse_inet(&s, Family::V6);
        let _ = SocketAddress::parse(&s);
    }

    #[test]
    fn format_inet_reparses(bytes in any::<[u8; 16]>(), zeros in any::<u8>(), v4 in any::<u32>()) {
        // Zero some groups so that compression paths are exercised.
        let mut segs = std::net::Ipv6Addr::from(bytes).segments();
        for (i, s) in segs.iter_mut().enumerate() {
            if zeros & (1 << i) != 0 {
                *s = 0;
            }
        }
        let v6 = IpAddr::V6(segs.into());
        let text = format_inet(&v6);
        prop_assert_eq!(parse_inet(&text, Family::V6), Some(v6));
        prop_assert_eq!(is_ip(&text), 6);
        let v4 = IpAddr::V4(v4.into());
        let text = format_inet(&v4);
        prop_assert_eq!(parse_inet(&text, Family::V4), Some(v4));
        prop_assert_eq!(is_ip(&text), 4);
    }

    #[test]
    fn display_parses_back(bytes in any::<[u8; 16]>(), v4 in any::<u32>(), port in any::<u16>()) {
        for ip in [IpAddr::V6(bytes.into()), IpAddr::V4(v4.into())] {
            let sa = SocketAddress::new(ip, port, 0).unwrap();
            prop_assert_eq!(SocketAddress::parse(&sa.to_string()), Some(sa));
        }
    }
}
