use super::*;
use crate::error::Code;

fn tcp(extra: &[(&str, Value)]) -> Value {
    let mut props = vec![("port", Value::Number(9.0)), ("host", "127.0.0.1".into())];
    props.extend(extra.iter().cloned());
    Value::object(&props)
}

fn named(extra: &[(&str, Value)]) -> Value {
    let mut props = vec![("port", Value::Number(9.0)), ("host", "localhost".into())];
    props.extend(extra.iter().cloned());
    Value::object(&props)
}

fn connect(args: &[Value]) -> Result<ConnectOptions, (Code, String)> {
    normalize_connect_args(args).map_err(|e| (e.code, e.message))
}

fn code(args: &[Value]) -> Code {
    connect(args).unwrap_err().0
}

#[test]
fn forms_and_targets() {
    let c = connect(&[80.0.into(), "example.com".into(), Value::Function(None)]).unwrap();
    assert_eq!(
        c.target,
        Target::Tcp {
            host: "example.com".into(),
            port: 80
        }
    );
    let c = connect(&["8080".into()]).unwrap();
    assert_eq!(
        c.target,
        Target::Tcp {
            host: "localhost".into(),
            port: 8080
        }
    );
    for path in ["abc", "-1", "0x", "80abc"] {
        let c = connect(&[path.into()]).unwrap();
        assert_eq!(c.target, Target::Ipc { path: path.into() });
    }
    assert_eq!(
        connect(&["0x10".into()]).unwrap().target,
        Target::Tcp {
            host: "localhost".into(),
            port: 16
        }
    );
    // `{path: ''}` is not a pipe but counts as "path present": TCP localhost:0.
    assert_eq!(
        connect(&[Value::object(&[("path", "".into())])])
            .unwrap()
            .target,
        Target::Tcp {
            host: "localhost".into(),
            port: 0
        }
    );
    // Path wins over port in connect.
    assert_eq!(
        connect(&[Value::object(&[
            ("path", "/tmp/s".into()),
            ("port", 80.0.into())
        ])])
        .unwrap()
        .target,
        Target::Ipc {
            path: "/tmp/s".into()
        }
    );
    // A falsy host is localhost.
    for h in [Value::Null, 0.0.into(), "".into(), false.into()] {
        let c = connect(&[Value::object(&[("port", 1.0.into()), ("host", h)])]).unwrap();
        assert_eq!(
            c.target,
            Target::Tcp {
                host: "localhost".into(),
                port: 1
            }
        );
    }
}

#[test]
fn missing_args() {
    for args in [
        vec![],
        vec![Value::object(&[])],
        vec![Value::object(&[("port", Value::Undefined)])],
        vec![Value::object(&[("path", Value::Null)])],
        vec![Value::Undefined, "127.0.0.1".into()],
    ] {
        assert_eq!(
            connect(&args).unwrap_err(),
            (
                Code::ErrMissingArgs,
                "The \"options\" or \"port\" or \"path\" argument must be specified".into()
            )
        );
    }
    assert_eq!(
        normalize_socket_connect_args(&[]).unwrap_err().code,
        Code::ErrMissingArgs
    );
}

#[test]
fn port_rules() {
    for p in [
        true.into(),
        Value::Null,
        Value::object(&[]),
        Value::Array(vec![]),
        Value::BigInt("1".into()),
    ] {
        assert_eq!(code(&[tcp(&[("port", p)])]), Code::ErrInvalidArgType);
    }
    assert_eq!(
        connect(&[Value::Null]).unwrap_err().1,
        "The \"options.port\" property must be one of type number or string. Received null"
    );
    assert_eq!(
        connect(&[80.5.into()]).unwrap_err().1,
        "Port should be >= 0 and < 65536. Received type number (80.5)."
    );
    assert_eq!(
        code(&[tcp(&[("port", "65536".into())])]),
        Code::ErrSocketBadPort
    );
    let c = connect(&[tcp(&[("port", "-0".into())])]).unwrap();
    assert_eq!(
        c.target,
        Target::Tcp {
            host: "127.0.0.1".into(),
            port: 0
        }
    );
    // A port with a null path is still a port.
    assert_eq!(
        code(&[Value::object(&[
            ("port", Value::Null),
            ("path", Value::Null)
        ])]),
        Code::ErrInvalidArgType
    );
}

#[test]
fn local_address_and_port() {
    assert_eq!(
        connect(&[tcp(&[("localAddress", "foo".into())])]).unwrap_err(),
        (Code::ErrInvalidIpAddress, "Invalid IP address: foo".into())
    );
    assert_eq!(
        connect(&[tcp(&[("localAddress", 1.0.into())])])
            .unwrap_err()
            .1,
        "Invalid IP address: 1"
    );
    let c = connect(&[tcp(&[("localAddress", "".into())])]).unwrap();
    assert_eq!(c.local_address, None);
    assert!(!c.binds_locally());
    let c = connect(&[tcp(&[(
        "localAddress",
        Value::Array(vec!["127.0.0.1".into()]),
    )])])
    .unwrap();
    assert_eq!(c.local_address, Some("127.0.0.1".parse().unwrap()));
    let c = connect(&[tcp(&[("localAddress", "fe80::1%lo".into())])]).unwrap();
    assert_eq!(c.local_address, Some("fe80::1".parse().unwrap()));

    assert_eq!(
        connect(&[tcp(&[("localPort", "80".into())])])
            .unwrap_err()
            .1,
        "The \"options.localPort\" property must be of type number. Received type string ('80')"
    );
    let lp = |v: f64| connect(&[tcp(&[("localPort", v.into())])]).map(|c| c.local_port);
    assert_eq!(lp(-1.0), Ok(Some(65535)));
    assert_eq!(lp(-61215.0), Ok(Some(4321)));
    assert_eq!(lp(0.0), Ok(None));
    assert_eq!(lp(f64::NAN), Ok(None));
    assert_eq!(lp(8080.0), Ok(Some(8080)));
    for bad in [70000.0, 1.5, f64::INFINITY] {
        assert_eq!(lp(bad).unwrap_err().0, Code::ErrSocketBadPort, "{bad}");
    }
    // Order: localAddress, then localPort, then port.
    assert_eq!(
        code(&[tcp(&[
            ("port", true.into()),
            ("localPort", "x".into()),
            ("localAddress", "x".into())
        ])]),
        Code::ErrInvalidIpAddress
    );
    assert_eq!(
        code(&[tcp(&[("port", true.into()), ("localPort", "x".into())])]),
        Code::ErrInvalidArgType
    );
}

#[test]
fn auto_select_family_options() {
    let _guard = crate::defaults::test_lock();
    assert_eq!(
        connect(&[tcp(&[("autoSelectFamily", "INVALID".into())])]).unwrap_err().1,
        "The \"options.autoSelectFamily\" property must be of type boolean. Received type string ('INVALID')"
    );
    assert_eq!(
        connect(&[tcp(&[("autoSelectFamily", Value::Null)])])
            .unwrap()
            .auto_select_family,
        Some(true),
        "unset: the process default, read when the call is made"
    );
    let t = |v: Value| {
        connect(&[tcp(&[("autoSelectFamilyAttemptTimeout", v)])])
            .map(|c| c.auto_select_family_attempt_timeout)
    };
    assert_eq!(t(1.0.into()), Ok(Some(Duration::from_millis(10))));
    assert_eq!(t(9.0.into()), Ok(Some(Duration::from_millis(10))));
    assert_eq!(t(11.0.into()), Ok(Some(Duration::from_millis(11))));
    assert_eq!(t(Value::Null), Ok(Some(Duration::from_millis(250))));
    for bad in [0.0, -10.0, 1.5, 2147483648.0] {
        assert_eq!(t(bad.into()).unwrap_err().0, Code::ErrOutOfRange, "{bad}");
    }
    assert_eq!(
        t(2147483648.0.into()).unwrap_err().1,
        "The value of \"options.autoSelectFamilyAttemptTimeout\" is out of range. It must be >= 1 && <= 2147483647. Received 2147483648"
    );
    assert_eq!(t("10".into()).unwrap_err().0, Code::ErrInvalidArgType);
    // autoSelectFamily is checked before the attempt timeout.
    assert_eq!(
        code(&[Value::object(&[
            ("port", 9.0.into()),
            ("autoSelectFamily", "x".into()),
            ("autoSelectFamilyAttemptTimeout", "y".into())
        ])]),
        Code::ErrInvalidArgType
    );
}

#[test]
fn lookup_options_only_for_host_names() {
    // Not validated at all for IP literals.
    for extra in [
        ("family", Value::Number(5.0)),
        ("lookup", "x".into()),
        ("hints", 999999.0.into()),
    ] {
        let c = connect(&[tcp(std::slice::from_ref(&extra))]).unwrap();
        assert_eq!(c.family, None, "{extra:?}");
        assert!(!c.custom_lookup);
    }
    assert_eq!(
        connect(&[named(&[("family", 5.0.into())])]).unwrap_err(),
        (
            Code::ErrInvalidArgValue,
            "The property 'options.family' must be one of: 0, 4, 6. Received 5".into()
        )
    );
    assert_eq!(
        connect(&[named(&[("family", "ipv4".into())])])
            .unwrap_err()
            .1,
        "The property 'options.family' must be one of: 0, 4, 6. Received 'ipv4'"
    );
    assert_eq!(
        code(&[named(&[("family", "4".into())])]),
        Code::ErrInvalidArgValue
    );
    assert_eq!(
        code(&[named(&[("family", false.into())])]),
        Code::ErrInvalidArgValue
    );
    assert_eq!(
        connect(&[named(&[("family", "IPv6".into())])])
            .unwrap()
            .family,
        Some(Family::V6)
    );
    assert_eq!(
        connect(&[named(&[("family", 4.0.into())])]).unwrap().family,
        Some(Family::V4)
    );
    assert_eq!(
        connect(&[named(&[("lookup", "x".into())])]).unwrap_err().1,
        "The \"options.lookup\" property must be of type function. Received type string ('x')"
    );
    assert!(
        connect(&[named(&[("lookup", Value::Function(None))])])
            .unwrap()
            .custom_lookup
    );
    assert_eq!(
        connect(&[named(&[("hints", (-1.0).into())])])
            .unwrap_err()
            .1,
        "The argument 'hints' is invalid. Received 4294967295"
    );
    assert_eq!(
        connect(&[named(&[("hints", "x".into())])]).unwrap_err().1,
        "The \"options.hints\" property must be of type number. Received type string ('x')"
    );
    let c = connect(&[named(&[("hints", 40.0.into())])]).unwrap();
    assert_eq!(c.hints, LookupHints::ADDRCONFIG | LookupHints::V4MAPPED);
    // Order: lookup, host, hints, family.
    assert_eq!(
        code(&[named(&[
            ("lookup", "x".into()),
            ("hints", "y".into()),
            ("family", 5.0.into())
        ])]),
        Code::ErrInvalidArgType
    );
    assert_eq!(
        connect(&[named(&[("family", "ipv4".into()), ("hints", 999.0.into())])])
            .unwrap_err()
            .1,
        "The argument 'hints' is invalid. Received 999"
    );
}

#[test]
fn host_types() {
    assert_eq!(
        connect(&[Value::object(&[
            ("port", 9.0.into()),
            ("host", 123.0.into())
        ])])
        .unwrap_err(),
        (
            Code::ErrInvalidArgType,
            "The \"hostname\" argument must be of type string. Received type number (123)".into()
        )
    );
    assert_eq!(
        connect(&[Value::object(&[
            ("port", 9.0.into()),
            ("host", Value::object(&[]))
        ])])
        .unwrap_err()
        .1,
        "The \"hostname\" argument must be of type string. Received an instance of Object"
    );
    // Node 20 aborts here (spec §7.4); newer Node throws ERR_INVALID_ARG_TYPE.
    let e = connect(&[Value::object(&[
        ("port", 9.0.into()),
        ("host", Value::Array(vec!["127.0.0.1".into()])),
    ])])
    .unwrap_err();
    assert_eq!(e.0, Code::ErrInvalidArgType);
    assert_eq!(
        e.1,
        "The \"options.host\" property must be of type string. Received an instance of Array"
    );
}

#[test]
fn constructor_and_timeout_come_first() {
    assert_eq!(
        connect(&[Value::object(&[("timeout", (-1.0).into())])])
            .unwrap_err()
            .0,
        Code::ErrOutOfRange
    );
    assert_eq!(
        connect(&[Value::object(&[
            ("timeout", "1".into()),
            ("objectMode", true.into())
        ])])
        .unwrap_err()
        .0,
        Code::ErrInvalidArgValue
    );
    assert_eq!(
        connect(&[tcp(&[("signal", "x".into()), ("timeout", "x".into())])])
            .unwrap_err()
            .1,
        "The \"signal\" argument must be an instance of AbortSignal. Received type string ('x')"
    );
    assert_eq!(
        connect(&[tcp(&[("timeout", "100".into())])]).unwrap_err().1,
        "The \"msecs\" argument must be of type number. Received type string ('100')"
    );
    // Falsy timeouts are not applied (NaN included).
    for t in [0.0, f64::NAN] {
        assert_eq!(
            connect(&[tcp(&[("timeout", t.into())])]).unwrap().timeout,
            None
        );
    }
    let c = connect(&[tcp(&[
        ("timeout", 100.0.into()),
        ("noDelay", true.into()),
        ("keepAlive", true.into()),
        ("keepAliveInitialDelay", 7000.0.into()),
        ("allowHalfOpen", true.into()),
    ])])
    .unwrap();
    assert_eq!(c.timeout, Some(Duration::from_millis(100)));
    assert!(c.socket.no_delay && c.socket.keep_alive && c.socket.allow_half_open);
    assert_eq!(c.socket.keep_alive_initial_delay, Duration::from_secs(7));
    // socket.connect() skips both.
    assert_eq!(
        normalize_socket_connect_args(&[tcp(&[("timeout", (-1.0).into())])])
            .unwrap()
            .timeout,
        None
    );
}

#[test]
fn typed_helpers() {
    let _guard = defaults::test_lock();
    let c = ConnectOptions::tcp("localhost", 80);
    assert!(c.uses_happy_eyeballs());
    assert_eq!(c.lookup_hints(), LookupHints::ADDRCONFIG);
    assert_eq!(c.effective_attempt_timeout(), Duration::from_millis(250));
    assert!(!c.clone().with_family(Family::V4).uses_happy_eyeballs());
    assert_eq!(
        c.clone().with_family(Family::V4).lookup_hints(),
        LookupHints::NONE
    );
    assert!(!c
        .clone()
        .with_local(Some("127.0.0.1".parse().unwrap()), None)
        .uses_happy_eyeballs());
    assert!(c.clone().with_local(None, Some(5000)).uses_happy_eyeballs());
    assert!(!c
        .clone()
        .with_auto_select_family(false)
        .uses_happy_eyeballs());
    assert!(!ConnectOptions::tcp("::1", 80).uses_happy_eyeballs());
    assert_eq!(
        ConnectOptions::tcp("::1", 80).ip_literal(),
        Some("::1".parse().unwrap())
    );
    assert!(!ConnectOptions::ipc("/tmp/x").uses_happy_eyeballs());
    assert_eq!(
        c.with_auto_select_family_attempt_timeout(Duration::from_millis(3))
            .effective_attempt_timeout(),
        Duration::from_millis(10)
    );
    assert_eq!(LookupHints::from_bits(56).map(LookupHints::bits), Some(56));
    assert_eq!(LookupHints::from_bits(1), None);
    assert!(LookupHints::from_bits(48)
        .unwrap()
        .contains(LookupHints::ALL));
}

/// Node's `socket.connect()` throws `ERR_MISSING_ARGS` before it sets `connecting`, and
/// everything else after.
#[test]
fn socket_connect_throws_before_or_after_connecting() {
    let before = |args: &[Value]| {
        matches!(
            socket_connect_args(args),
            Err(SocketConnectThrow::Before(_))
        )
    };
    let connecting = |args: &[Value]| match socket_connect_args(args) {
        Err(SocketConnectThrow::Connecting(e)) => Some(e.code),
        _ => None,
    };
    assert!(before(&[]));
    assert!(before(&[Value::object(&[("host", "localhost".into())])]));
    assert_eq!(
        connecting(&[Value::object(&[("port", true.into())])]),
        Some(Code::ErrInvalidArgType)
    );
    assert_eq!(
        connecting(&[Value::object(&[("port", (-1.0).into())])]),
        Some(Code::ErrSocketBadPort)
    );
    assert_eq!(
        connecting(&[Value::object(&[("path", 1.0.into())])]),
        Some(Code::ErrInvalidArgType)
    );
    assert_eq!(
        connecting(&[named(&[("hints", 3370.0.into())])]),
        Some(Code::ErrInvalidArgValue)
    );
    assert_eq!(
        connecting(&[named(&[("lookup", "foobar".into())])]),
        Some(Code::ErrInvalidArgType)
    );
    assert!(socket_connect_args(&[tcp(&[])]).is_ok());
}
