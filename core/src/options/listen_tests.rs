use super::*;
use crate::error::Code;

fn listen(args: &[Value]) -> Result<ListenOptions, (Code, String)> {
    normalize_listen_args(args).map_err(|e| (e.code, e.message))
}

fn tcp(host: Option<&str>, port: u16) -> ListenTarget {
    ListenTarget::Tcp {
        host: host.map(str::to_string),
        port,
    }
}

#[test]
fn forms_without_port_listen_on_zero() {
    for args in [
        vec![],
        vec![Value::Function(None)],
        vec![Value::Null],
        vec![Value::Undefined],
        vec![Value::Null, Value::Function(None)],
        vec![Value::object(&[("port", Value::Undefined)])],
        vec![Value::object(&[("port", Value::Null)])],
    ] {
        let l = listen(&args).unwrap();
        assert_eq!(l.target, tcp(None, 0), "{args:?}");
        assert_eq!(l.backlog, 511);
    }
}

#[test]
fn positional_forms() {
    let l = listen(&[
        8080.0.into(),
        "127.0.0.1".into(),
        10.0.into(),
        Value::Function(None),
    ])
    .unwrap();
    assert_eq!(l.target, tcp(Some("127.0.0.1"), 8080));
    assert_eq!(l.backlog, 10);
    let l = listen(&[0.0.into(), 100.0.into()]).unwrap();
    assert_eq!((l.target, l.backlog), (tcp(None, 0), 100));
    let l = listen(&["80".into(), "x".into()]).unwrap();
    assert_eq!(l.target, tcp(Some("x"), 80));
    let l = listen(&["/tmp/s.sock".into(), 5.0.into()]).unwrap();
    assert_eq!(
        (l.target, l.backlog),
        (
            ListenTarget::Ipc {
                path: "/tmp/s.sock".into()
            },
            5
        )
    );
    // A non-string second argument is not a host.
    assert_eq!(
        listen(&[0.0.into(), 0.0.into()]).unwrap().target,
        tcp(None, 0)
    );
    assert_eq!(
        listen(&[true.into()]).unwrap_err(),
        (
            Code::ErrInvalidArgValue,
            "The argument 'options' is invalid. Received { port: true }".into()
        )
    );
    assert_eq!(listen(&["".into()]).unwrap_err().0, Code::ErrSocketBadPort);
}

#[test]
fn backlog_rule() {
    let b = |extra: Value, args: &[Value]| {
        let mut all = vec![Value::object(&[("port", 0.0.into()), ("backlog", extra)])];
        all.extend_from_slice(args);
        listen(&all).unwrap().backlog
    };
    assert_eq!(b(Value::Undefined, &[]), 511);
    assert_eq!(b(0.0.into(), &[]), 511);
    assert_eq!(b(5.0.into(), &[]), 5);
    assert_eq!(b("x".into(), &[]), 0);
    assert_eq!(b((-5.0).into(), &[]), (-5i32) as u32);
    assert_eq!(b(Value::Undefined, &[20.0.into()]), 20);
    assert_eq!(b(Value::Undefined, &[(-20.0).into()]), 511);
    assert_eq!(b(Value::Undefined, &["x".into(), 7.0.into()]), 7);
    assert_eq!(b(3.0.into(), &[20.0.into()]), 3);
    assert_eq!(ListenOptions::tcp(None, 0).with_backlog(0).backlog, 511);
}

#[test]
fn options_errors() {
    for (v, shown) in [
        (Value::object(&[]), "{}"),
        (
            Value::object(&[("host", "localhost".into())]),
            "{ host: 'localhost' }",
        ),
        (
            Value::object(&[("exclusive", true.into())]),
            "{ exclusive: true }",
        ),
        (Value::object(&[("fd", (-1.0).into())]), "{ fd: -1 }"),
    ] {
        assert_eq!(
            listen(&[v]).unwrap_err(),
            (
                Code::ErrInvalidArgValue,
                format!("The argument 'options' must have the property \"port\" or \"path\". Received {shown}")
            )
        );
    }
    for (v, shown) in [
        (Value::object(&[("port", true.into())]), "{ port: true }"),
        (
            Value::object(&[("port", Value::BigInt("1".into()))]),
            "{ port: 1n }",
        ),
        (
            Value::object(&[("port", Value::object(&[]))]),
            "{ port: {} }",
        ),
        (Value::object(&[("path", (-1.0).into())]), "{ path: -1 }"),
        (Value::object(&[("path", "80".into())]), "{ path: '80' }"),
        (Value::object(&[("path", "".into())]), "{ path: '' }"),
    ] {
        assert_eq!(
            listen(&[v]).unwrap_err(),
            (
                Code::ErrInvalidArgValue,
                format!("The argument 'options' is invalid. Received {shown}")
            )
        );
    }
    assert_eq!(
        listen(&[Value::object(&[("path", "\0abs".into()), ("writableAll", 1.0.into())])]).unwrap_err().1,
        "The argument 'options' can not set readableAll or writableAllt to true when path is abstract unix socket. Received { path: '\\x00abs', writableAll: 1 }"
    );
    let l = listen(&[Value::object(&[
        ("path", "\0abs".into()),
        ("writableAll", 0.0.into()),
    ])])
    .unwrap();
    assert_eq!(
        l.target,
        ListenTarget::Ipc {
            path: "\0abs".into()
        }
    );
    assert_eq!(
        listen(&[Value::object(&[
            ("port", Value::Undefined),
            ("signal", Value::Null)
        ])])
        .unwrap_err()
        .1,
        "The \"options.signal\" property must be an instance of AbortSignal. Received null"
    );
    assert_eq!(
        listen(&[Value::object(&[
            ("port", 0.0.into()),
            ("host", 123.0.into())
        ])])
        .unwrap_err()
        .1,
        "The \"hostname\" argument must be of type string. Received type number (123)"
    );
    assert_eq!(
        listen(&[Value::object(&[("port", "abc".into())])])
            .unwrap_err()
            .1,
        "options.port should be >= 0 and < 65536. Received type string ('abc')."
    );
    assert_eq!(
        listen(&[Value::object(&[("fd", 3.0.into())])])
            .unwrap_err()
            .0,
        Code::ErrInvalidArgValue
    );
    assert_eq!(
        listen(&[Value::object(&[("handle", 5.0.into())])])
            .unwrap_err()
            .0,
        Code::ErrInvalidArgValue
    );
}

#[test]
fn precedence_and_flags() {
    // Port wins over path; a bad port is reported even with a good path.
    assert_eq!(
        listen(&[Value::object(&[
            ("port", (-1.0).into()),
            ("path", "x".into())
        ])])
        .unwrap_err()
        .0,
        Code::ErrSocketBadPort
    );
    let l = listen(&[Value::object(&[
        ("port", Value::object(&[])),
        ("path", "/tmp/zz.sock".into()),
    ])])
    .unwrap();
    assert_eq!(
        l.target,
        ListenTarget::Ipc {
            path: "/tmp/zz.sock".into()
        }
    );
    let l = listen(&[Value::object(&[
        ("port", 0.0.into()),
        ("host", "".into()),
        ("ipv6Only", true.into()),
        ("reusePort", true.into()),
        ("exclusive", 1.0.into()),
        ("signal", Value::Instance("AbortSignal".into())),
    ])])
    .unwrap();
    assert_eq!(l.target, tcp(None, 0));
    assert!(l.ipv6_only && l.reuse_port && l.exclusive && l.has_signal);
    let l = listen(&[Value::object(&[
        ("port", 0.0.into()),
        ("ipv6Only", 1.0.into()),
    ])])
    .unwrap();
    assert!(!l.ipv6_only);
    // The signal is checked before the port.
    assert_eq!(
        listen(&[Value::object(&[
            ("port", (-1.0).into()),
            ("signal", "x".into())
        ])])
        .unwrap_err()
        .0,
        Code::ErrInvalidArgType
    );
}
