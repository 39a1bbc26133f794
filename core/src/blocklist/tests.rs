use super::*;
use crate::error::ErrorClass;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

const U: Value = Value::Undefined;

fn check(bl: &BlockList, a: &str, fam: &Value) -> bool {
    bl.check_value(AddressArg::Value(&s(a)), fam).unwrap()
}

#[test]
fn typed_face_adds_checks_and_prints_newest_first() {
    let mut bl = BlockList::new();
    bl.add_address(ip("1.1.1.1"));
    bl.add_range(ip("10.0.0.1"), ip("10.0.0.10")).unwrap();
    bl.add_subnet(ip("192.168.1.77"), 24).unwrap();
    bl.add_address(ip("1.1.1.1"));
    bl.add_range(ip("::1"), ip("::f")).unwrap();
    assert_eq!(
        bl.rules(),
        [
            "Range: IPv6 ::1-::f",
            "Address: IPv4 1.1.1.1",
            "Subnet: IPv4 192.168.1.77/24",
            "Range: IPv4 10.0.0.1-10.0.0.10",
            "Address: IPv4 1.1.1.1",
        ]
    );
    assert_eq!(bl.to_json(), bl.rules());
    assert!(bl.check(ip("1.1.1.1")));
    assert!(bl.check(ip("10.0.0.10")));
    assert!(!bl.check(ip("10.0.0.11")));
    assert!(bl.check(ip("192.168.1.200")));
    assert!(bl.check(ip("::ffff:192.168.1.200")));
    assert!(bl.check(ip("::a")));
    assert!(!bl.check(ip("::10")));
    assert!(!BlockList::new().check(ip("::")));
}

#[test]
fn range_order_is_checked_with_node_message() {
    let mut bl = BlockList::new();
    bl.add_range(ip("1.1.1.1"), ip("1.1.1.1")).unwrap();
    let e = bl.add_range(ip("2.0.0.0"), ip("1.0.0.255")).unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
    assert_eq!(e.class, ErrorClass::TypeError);
    assert_eq!(
        e.message,
        "The argument 'start' must come before end. Received SocketAddress { address: '2.0.0.0', port: 0, family: 'ipv4', flowlabel: 0 }"
    );
    // Beyond util.inspect's break length the object is printed over several lines.
    let e = bl
        .add_range(ip("11:22:33:4:5:6:7:9"), ip("11:22:33:4:5:6:7:8"))
        .unwrap_err();
    assert_eq!(
        e.message,
        "The argument 'start' must come before end. Received SocketAddress {\n  address: '11:22:33:4:5:6:7:9',\n  port: 0,\n  family: 'ipv6',\n  flowlabel: 0\n}"
    );
    let e = bl
        .add_range(ip("11:22:3:4:5:6:7:9"), ip("11:22:3:4:5:6:7:8"))
        .unwrap_err();
    assert!(e
        .message
        .ends_with("{ address: '11:22:3:4:5:6:7:9', port: 0, family: 'ipv6', flowlabel: 0 }"));
    // A SocketAddress shows its port (and, for IPv6, its flow label).
    let start = AddressArg::Socket {
        ip: ip("1.1.1.2"),
        port: 65535,
        flowlabel: 5,
    };
    let e = bl
        .add_range_value(start, AddressArg::Ip(ip("1.1.1.1")), &U)
        .unwrap_err();
    assert!(e
        .message
        .ends_with("{ address: '1.1.1.2', port: 65535, family: 'ipv4', flowlabel: 0 }"));
    // Mixed families: comparable through the mapped form, otherwise accepted.
    assert!(bl.add_range(ip("1.1.1.5"), ip("::ffff:1.1.1.1")).is_err());
    bl.add_range(ip("1.1.1.1"), ip("::2")).unwrap();
    bl.add_range(ip("::2"), ip("1.1.1.1")).unwrap();
    assert_eq!(bl.rules()[0], "Range: IPv6 ::2-1.1.1.1");
    assert_eq!(bl.rules()[1], "Range: IPv4 1.1.1.1-::2");
}

#[test]
fn subnet_prefix_limits() {
    let mut bl = BlockList::new();
    bl.add_subnet(ip("1.2.3.4"), 32).unwrap();
    bl.add_subnet(ip("::"), 128).unwrap();
    let e = bl.add_subnet(ip("1.2.3.4"), 33).unwrap_err();
    assert_eq!(e.code, Code::ErrOutOfRange);
    assert_eq!(
        e.message,
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 32. Received 33"
    );
    assert!(bl.add_subnet(ip("::"), 129).is_err());
    assert_eq!(bl.rules().len(), 2);
}

#[test]
fn loose_face_family_is_a_case_insensitive_string() {
    let mut bl = BlockList::new();
    bl.add_address_value(AddressArg::Value(&s("::1")), &s("IPV6"))
        .unwrap();
    bl.add_address_value(AddressArg::Value(&s("1.1.1.1")), &s("IpV4"))
        .unwrap();
    bl.add_address_value(AddressArg::Value(&s("2.2.2.2")), &U)
        .unwrap();
    assert_eq!(
        bl.rules(),
        [
            "Address: IPv4 2.2.2.2",
            "Address: IPv4 1.1.1.1",
            "Address: IPv6 ::1"
        ]
    );
    let e = bl
        .add_address_value(AddressArg::Value(&s("1.1.1.1")), &s("foo"))
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
    assert_eq!(
        e.message,
        "The property 'options.family' is invalid. Received 'foo'"
    );
    let e = bl
        .add_address_value(AddressArg::Value(&s("1.1.1.1")), &s("\u{130}pv4"))
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
    for fam in [Value::Null, Value::Number(4.0)] {
        let e = bl
            .add_address_value(AddressArg::Value(&s("1.1.1.1")), &fam)
            .unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidArgType);
    }
    let e = bl
        .add_address_value(AddressArg::Value(&s("1.1.1.1")), &Value::Null)
        .unwrap_err();
    assert_eq!(
        e.message,
        "The \"family\" argument must be of type string. Received null"
    );
}

#[test]
fn loose_face_address_errors() {
    let mut bl = BlockList::new();
    let e = bl
        .add_address_value(AddressArg::Value(&Value::Number(1.0)), &U)
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgType);
    assert_eq!(
        e.message,
        "The \"address\" argument must be of type string. Received type number (1)"
    );
    // The address type is checked before the family type.
    let e = bl
        .add_address_value(AddressArg::Value(&Value::Null), &Value::Number(1.0))
        .unwrap_err();
    assert!(e.message.starts_with("The \"address\" argument"));
    for (a, fam) in [
        ("not-an-ip", U),
        ("::1", U),
        ("1.1.1.1", s("ipv6")),
        ("127.000.000.001", U),
        ("1.1.1.1%eth0", U),
        ("", U),
    ] {
        let e = bl
            .add_address_value(AddressArg::Value(&s(a)), &fam)
            .unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidAddress, "{a}");
        assert_eq!(e.class, ErrorClass::Error);
        assert_eq!(e.message, "Invalid socket address");
    }
    // A family value error wins over an address error.
    let e = bl
        .add_address_value(AddressArg::Value(&s("")), &s(""))
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
    assert!(bl.rules().is_empty());
    // A zone is dropped; text ends at a NUL as it does in Node's C++ layer.
    bl.add_address_value(AddressArg::Value(&s("fe80::1%eth0")), &s("ipv6"))
        .unwrap();
    bl.add_address_value(AddressArg::Value(&s("1.1.1.1\0x")), &U)
        .unwrap();
    assert_eq!(
        bl.rules(),
        ["Address: IPv4 1.1.1.1", "Address: IPv6 fe80::1"]
    );
}

#[test]
fn built_addresses_ignore_the_family_argument() {
    let mut bl = BlockList::new();
    let bogus = Value::Number(5.0);
    bl.add_address_value(AddressArg::Ip(ip("::1")), &bogus)
        .unwrap();
    bl.add_subnet_value(AddressArg::Ip(ip("::1")), &Value::Number(64.0), &bogus)
        .unwrap();
    bl.add_range_value(
        AddressArg::Ip(ip("1.1.1.1")),
        AddressArg::Ip(ip("1.1.1.2")),
        &bogus,
    )
    .unwrap();
    assert!(bl
        .check_value(AddressArg::Ip(ip("1.1.1.2")), &bogus)
        .unwrap());
    // ...but a string bound next to a built one still validates it.
    let e = bl
        .add_range_value(
            AddressArg::Ip(ip("1.1.1.1")),
            AddressArg::Value(&s("1.1.1.2")),
            &bogus,
        )
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgType);
    assert_eq!(
        bl.rules(),
        [
            "Range: IPv4 1.1.1.1-1.1.1.2",
            "Subnet: IPv6 ::1/64",
            "Address: IPv6 ::1"
        ]
    );
}

#[test]
fn range_value_converts_start_before_end() {
    let mut bl = BlockList::new();
    let five = Value::Number(5.0);
    let e = bl
        .add_range_value(AddressArg::Value(&s("bad")), AddressArg::Value(&five), &U)
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidAddress);
    let e = bl
        .add_range_value(
            AddressArg::Value(&s("1.1.1.1")),
            AddressArg::Value(&five),
            &U,
        )
        .unwrap_err();
    assert_eq!(
        e.message,
        "The \"end\" argument must be of type string. Received type number (5)"
    );
    let e = bl
        .add_range_value(AddressArg::Value(&five), AddressArg::Value(&s("x")), &U)
        .unwrap_err();
    assert!(e.message.starts_with("The \"start\" argument"));
    let e = bl
        .add_range_value(
            AddressArg::Value(&s("1.1.1.2")),
            AddressArg::Value(&s("1.1.1.1")),
            &U,
        )
        .unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
    bl.add_range_value(
        AddressArg::Value(&s("::1")),
        AddressArg::Value(&s("::f")),
        &s("ipv6"),
    )
    .unwrap();
    assert_eq!(bl.rules(), ["Range: IPv6 ::1-::f"]);
}

#[test]
fn subnet_value_validates_prefix_after_the_network() {
    let mut bl = BlockList::new();
    let net = s("1.1.1.1");
    let sub = |bl: &mut BlockList, n: &Value, p: Value, f: &Value| {
        bl.add_subnet_value(AddressArg::Value(n), &p, f)
            .map_err(|e| (e.code, e.message))
    };
    let (code, msg) = sub(&mut bl, &net, s(""), &U).unwrap_err();
    assert_eq!(code, Code::ErrInvalidArgType);
    assert_eq!(
        msg,
        "The \"prefix\" argument must be of type number. Received type string ('')"
    );
    assert_eq!(
        sub(&mut bl, &net, U, &U).unwrap_err().0,
        Code::ErrInvalidArgType
    );
    let (code, msg) = sub(&mut bl, &net, Value::Number(8.5), &U).unwrap_err();
    assert_eq!(code, Code::ErrOutOfRange);
    assert_eq!(
        msg,
        "The value of \"prefix\" is out of range. It must be an integer. Received 8.5"
    );
    for p in [f64::NAN, f64::INFINITY, -1.0, 33.0, 1e10] {
        assert_eq!(
            sub(&mut bl, &net, Value::Number(p), &U).unwrap_err().0,
            Code::ErrOutOfRange
        );
    }
    let (_, msg) = sub(&mut bl, &s("::"), Value::Number(129.0), &s("ipv6")).unwrap_err();
    assert_eq!(
        msg,
        "The value of \"prefix\" is out of range. It must be >= 0 && <= 128. Received 129"
    );
    // The network's errors win over the prefix's.
    assert_eq!(
        sub(&mut bl, &s("bad"), s("x"), &U).unwrap_err().0,
        Code::ErrInvalidAddress
    );
    assert_eq!(
        sub(&mut bl, &s(""), Value::Number(1.0), &s(""))
            .unwrap_err()
            .0,
        Code::ErrInvalidArgValue
    );
    let (_, msg) = sub(&mut bl, &Value::Number(5.0), Value::Number(8.0), &U).unwrap_err();
    assert!(msg.starts_with("The \"network\" argument"));
    assert!(bl.rules().is_empty());
    // 33 is fine for IPv6; -0 is 0.
    sub(&mut bl, &s("::"), Value::Number(33.0), &s("ipv6")).unwrap();
    sub(&mut bl, &net, Value::Number(-0.0), &U).unwrap();
    assert_eq!(bl.rules(), ["Subnet: IPv4 1.1.1.1/0", "Subnet: IPv6 ::/33"]);
}

#[test]
fn check_value_returns_false_for_bad_text_and_throws_for_bad_types() {
    let mut bl = BlockList::new();
    bl.add_subnet(ip("::"), 0).unwrap();
    assert!(check(&bl, "1.1.1.1", &U));
    assert!(check(&bl, "::1%lo", &s("ipv6")));
    assert!(!check(&bl, "not-an-ip", &U));
    assert!(!check(&bl, "::1", &U));
    assert!(!check(&bl, "1.1.1.1", &s("bogus")));
    let err = |a: &Value, f: &Value| bl.check_value(AddressArg::Value(a), f).unwrap_err().message;
    assert_eq!(
        err(&Value::Number(1.0), &U),
        "The \"address\" argument must be of type string. Received type number (1)"
    );
    assert_eq!(
        err(&s("bad"), &Value::Number(5.0)),
        "The \"family\" argument must be of type string. Received type number (5)"
    );
    assert_eq!(
        err(&s("1.1.1.1"), &Value::Null),
        "The \"family\" argument must be of type string. Received null"
    );
    assert!(err(&Value::Number(5.0), &Value::Number(5.0)).starts_with("The \"address\""));
}

#[test]
fn matching_follows_node_v4_v6_interplay() {
    let mut bl = BlockList::new();
    bl.add_address_value(AddressArg::Value(&s("1.1.1.1")), &U)
        .unwrap();
    bl.add_address_value(AddressArg::Value(&s("::ffff:1.1.1.2")), &s("ipv6"))
        .unwrap();
    let v6 = s("ipv6");
    assert!(check(&bl, "1.1.1.1", &U));
    assert!(!check(&bl, "1.1.1.1", &v6));
    assert!(check(&bl, "::ffff:1.1.1.1", &v6));
    assert!(check(&bl, "::ffff:0101:0101", &v6));
    assert!(check(&bl, "1.1.1.2", &U));
    assert!(!check(&bl, "::1.1.1.1", &v6));
    assert!(!check(&bl, "64:ff9b::1.1.1.1", &v6));

    let mut bl = BlockList::new();
    bl.add_subnet(ip("1.2.3.4"), 0).unwrap();
    assert!(!check(&bl, "::1", &v6));
    assert!(check(&bl, "::ffff:9.9.9.9", &v6));
}

#[test]
fn from_json_round_trips_what_the_patterns_accept() {
    let mut bl = BlockList::new();
    bl.add_subnet(ip("8592:757c:efae:4e45::"), 64).unwrap();
    bl.add_range(ip("::1"), ip("::f")).unwrap();
    bl.add_address(ip("::1"));
    bl.add_subnet(ip("192.168.1.77"), 24).unwrap();
    bl.add_range(ip("10.0.0.1"), ip("10.0.0.10")).unwrap();
    bl.add_address(ip("1.1.1.1"));
    // Data are applied in order, so newest-first rules come back reversed.
    let mut data = bl.to_json();
    data.reverse();
    let mut copy = BlockList::new();
    copy.from_json(&data).unwrap();
    assert_eq!(copy.rules(), bl.rules());

    // Unrecognised text is ignored; mapped dotted IPv6 does not round-trip.
    let mut bl = BlockList::new();
    bl.from_json(&[
        "nonsense",
        "Subnet: IPv6 ::ffff:0.0.0.0/96",
        "Range: IPv4 1.1.1.1-::2",
        "Address: IPv6 ::ffff:1.2.3.4",
    ])
    .unwrap();
    // (Node prints ::ffff:1 in libuv's IPv4-compatible form.)
    assert_eq!(bl.rules(), ["Address: IPv6 ::255.255.0.1"]);

    // A recognised but invalid rule throws as the add call does, after earlier rules.
    let mut bl = BlockList::new();
    let e = bl
        .from_json(&[
            "Address: IPv4 1.1.1.1",
            "Subnet: IPv4 1.1.1.1/33",
            "Address: IPv4 2.2.2.2",
        ])
        .unwrap_err();
    assert_eq!(e.code, Code::ErrOutOfRange);
    assert_eq!(bl.rules(), ["Address: IPv4 1.1.1.1"]);
    let e = bl.from_json(&["Address: IPv4 01.1.1.1"]).unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidAddress);
    let e = bl.from_json(&["Range: IPv4 1.1.1.2-1.1.1.1"]).unwrap_err();
    assert_eq!(e.code, Code::ErrInvalidArgValue);
}
