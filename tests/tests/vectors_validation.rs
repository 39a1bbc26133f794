//! Drives the rows of `vectors/validation.json` that target the argument rules of
//! `sansnet::options` and `sansnet::defaults`: each row's `call` (a JavaScript expression
//! Node 20 ran) is parsed, turned into the matching loose-face call, and its outcome
//! compared with Node's.
//!
//! * `throws` rows must fail with the same code and class; messages are compared and the
//!   count of exact matches is reported (all are expected to match: see `MESSAGE_EXCEPTIONS`).
//! * `returned` rows must validate. Their asynchronous outcome (`ECONNREFUSED`, `ENOENT`,
//!   `'listening'`, …) needs a network; the simulator's conformance runs check those.
//! * `process-crashed` rows (Node 20 aborted) must give a proper error or value.
//!
//! Groups owned by other modules are listed in `OTHER_GROUPS`, rows the parser cannot read
//! in `UNPARSED`; the test fails if any other row is left out, so nothing is skipped
//! silently.

use sansnet::options::{
    end_args, get_connections_args, normalize_connect_args, normalize_listen_args,
    normalize_socket_connect_args, server_options_from_args, set_keep_alive_args, set_no_delay_arg,
    set_timeout_args, socket_options_from_value, write_args,
};
use sansnet::{defaults, NetError, Value};

#[path = "vectors_validation/extra_cases.rs"]
mod extra_cases;
#[path = "vectors_validation/js_parser.rs"]
mod js_parser;

use extra_cases::EXTRA_CASES;
use js_parser::{num, Parser};

/// Groups whose rows belong to other modules or need a live socket/server state.
const OTHER_GROUPS: &[(&str, &str)] = &[
    ("blocklist", "net.BlockList (blocklist module)"),
    ("socketaddress", "net.SocketAddress (socketaddress module)"),
    (
        "socket.resetAndDestroy",
        "needs a connected pipe socket (socket state machine)",
    ),
    (
        "socket.connect",
        "second connect() while connecting (socket state machine)",
    ),
    ("server.address", "server state (server state machine)"),
];

/// Rows (by `api`) whose `call` the parser below cannot read. Kept empty.
const UNPARSED: &[&str] = &[];

/// Rows (by `api`) whose message is known to differ from Node's, with the reason.
const MESSAGE_EXCEPTIONS: &[(&str, &str)] = &[];

fn mine(group: &str) -> bool {
    group.starts_with("connect.")
        || group.starts_with("server.listen.")
        || matches!(
            group,
            "socket.ctor"
                | "socket.setTimeout"
                | "socket.write"
                | "server.ctor"
                | "server.getConnections"
                | "net.defaults"
        )
}

// ---------------------------------------------------------------------------------------
// From a parsed call to the loose face.

/// What the call returned, in the vectors' words (`Socket`, `Server`, …), or Node's error.
type Outcome = Result<&'static str, NetError>;

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&sansnet::value::UNDEFINED)
}

fn first_args(links: &[(String, Vec<Value>)]) -> &[Value] {
    &links[0].1
}

/// Runs a `net.…` chain; `None` when the shape is unknown.
fn run_chain(is_new: bool, links: &[(String, Vec<Value>)]) -> Option<Outcome> {
    let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
    let last = &links.last()?.1;
    Some(match (is_new, names.as_slice()) {
        (false, ["net.connect" | "net.createConnection"]) => {
            normalize_connect_args(last).map(|_| "Socket")
        }
        (true, ["net.Socket"]) => socket_options_from_value(arg(last, 0)).map(|_| "Socket"),
        (true, ["net.Socket", method]) => {
            if let Err(e) = socket_options_from_value(arg(first_args(links), 0)) {
                return Some(Err(e));
            }
            match *method {
                "connect" => normalize_socket_connect_args(last).map(|_| "Socket"),
                "setTimeout" => set_timeout_args(arg(last, 0), arg(last, 1)).map(|_| "Socket"),
                "write" => write_args(last).map(|_| "boolean"),
                "end" => end_args(last).map(|_| "Socket"),
                "setNoDelay" => {
                    set_no_delay_arg(arg(last, 0));
                    Ok("Socket")
                }
                "setKeepAlive" => set_keep_alive_args(arg(last, 0), arg(last, 1)).map(|_| "Socket"),
                _ => return None,
            }
        }
        (false, ["net.createServer"]) => server_options_from_args(last).map(|_| "Server"),
        (false, ["net.createServer", method]) => {
            if let Err(e) = server_options_from_args(first_args(links)) {
                return Some(Err(e));
            }
            match *method {
                "listen" => normalize_listen_args(last).map(|_| "Server"),
                "getConnections" => get_connections_args(arg(last, 0)).map(|()| "Server"),
                _ => return None,
            }
        }
        (false, ["net.setDefaultAutoSelectFamily"]) => {
            let before = defaults::auto_select_family();
            let r = defaults::set_default_auto_select_family(arg(last, 0)).map(|()| "undefined");
            defaults::set_auto_select_family(before);
            r
        }
        (false, ["net.setDefaultAutoSelectFamilyAttemptTimeout"]) => {
            let before = defaults::auto_select_family_attempt_timeout();
            let r = defaults::set_default_auto_select_family_attempt_timeout(arg(last, 0))
                .map(|_| "undefined");
            defaults::set_auto_select_family_attempt_timeout(before);
            r
        }
        _ => return None,
    })
}

/// Parses and runs a row's `call`; `Err` when the parser cannot read it.
fn run(call: &str) -> Result<Outcome, String> {
    // `(() => { const s = new net.Socket(); s.on('error', () => {}); return s.M(ARGS); })()`
    const IIFE_HEAD: &str =
        "(() => { const s = new net.Socket(); s.on('error', () => {}); return s.";
    if let Some(rest) = call.strip_prefix(IIFE_HEAD) {
        let body = rest.strip_suffix("; })()").ok_or("unknown IIFE shape")?;
        let mut p = Parser::new(&format!("new net.Socket().{body}"));
        let (is_new, links) = p.chain()?;
        if !p.at_end() {
            return Err(format!("trailing text in {body:?}"));
        }
        return run_chain(is_new, &links).ok_or_else(|| format!("unknown call {body}"));
    }
    let mut p = Parser::new(call);
    let (is_new, links) = p.chain()?;
    if !p.at_end() {
        return Err("trailing text".into());
    }
    run_chain(is_new, &links).ok_or_else(|| "unknown call shape".into())
}

#[test]
fn validation_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/validation.json");
    let text = std::fs::read_to_string(path).expect("validation.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let cases = doc["cases"].as_array().expect("cases");

    let mut failures = Vec::new();
    let mut unparsed = Vec::new();
    let (mut driven, mut thrown, mut messages_equal, mut returned) = (0, 0, 0, 0);
    for case in cases {
        let group = case["group"].as_str().unwrap_or_default();
        let api = case["api"].as_str().unwrap_or_default();
        let call = case["call"].as_str().unwrap_or_default();
        let node = &case["node20"];
        if !mine(group) {
            assert!(
                OTHER_GROUPS.iter().any(|(g, _)| *g == group),
                "row {api:?} of group {group:?} is neither driven nor listed as excluded"
            );
            continue;
        }
        let outcome = match run(call) {
            Ok(o) => o,
            Err(why) => {
                unparsed.push((api.to_string(), why));
                continue;
            }
        };
        driven += 1;
        match node["outcome"].as_str() {
            Some("throws") => {
                thrown += 1;
                let code = node["code"].as_str().unwrap_or_default();
                let name = node["name"].as_str().unwrap_or_default();
                let message = node["message"].as_str().unwrap_or_default();
                match outcome {
                    Err(e) if e.code.as_str() == code && e.class.as_str() == name => {
                        if e.message == message {
                            messages_equal += 1;
                        } else if !MESSAGE_EXCEPTIONS.iter().any(|(a, _)| *a == api) {
                            failures.push(format!(
                                "{api}: message\n   got  {:?}\n   node {message:?}",
                                e.message
                            ));
                        }
                    }
                    Err(e) => failures.push(format!(
                        "{api}: got {} {}, Node threw {name} {code}",
                        e.class.as_str(),
                        e.code
                    )),
                    Ok(v) => failures.push(format!("{api}: returned {v}, Node threw {code}")),
                }
            }
            Some("returned") => {
                // The asynchronous part (`node20.async`) needs a network: checked by the
                // simulator's conformance scenarios, not here.
                returned += 1;
                if let Err(e) = outcome {
                    failures.push(format!("{api}: threw {e}, Node returned"));
                }
            }
            Some("process-crashed") => {
                // Node 20 aborted; any proper outcome (error or value) is acceptable.
            }
            other => failures.push(format!("{api}: unknown outcome {other:?}")),
        }
    }

    eprintln!(
        "validation vectors: {driven} driven ({thrown} throws, {returned} returned), \
         {messages_equal}/{thrown} messages identical to Node's"
    );
    let unparsed_names: Vec<&str> = unparsed.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        unparsed_names, UNPARSED,
        "rows the parser cannot read must be listed in UNPARSED: {unparsed:?}"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        messages_equal + MESSAGE_EXCEPTIONS.len(),
        thrown,
        "message exceptions out of date"
    );
}

#[test]
fn extra_cases_observed_on_node() {
    let mut failures = Vec::new();
    for (call, expected) in EXTRA_CASES {
        let outcome = match run(call) {
            Ok(o) => o,
            Err(why) => {
                failures.push(format!("{call}: cannot parse: {why}"));
                continue;
            }
        };
        match (expected, outcome) {
            (None, Ok(_)) => {}
            (None, Err(e)) => failures.push(format!("{call}: threw {e}, Node returned")),
            (Some((code, name, message)), Err(e)) => {
                if e.code.as_str() != *code || e.class.as_str() != *name || e.message != *message {
                    failures.push(format!(
                        "{call}:\n   got  {} {} {:?}\n   node {name} {code} {message:?}",
                        e.class.as_str(),
                        e.code,
                        e.message
                    ));
                }
            }
            (Some((code, _, _)), Ok(v)) => {
                failures.push(format!("{call}: returned {v}, Node threw {code}"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parser_reads_the_literal_subset() {
    let v = |s: &str| Parser::new(s).expr().unwrap();
    assert_eq!(v("2**31"), num(2147483648.0));
    assert_eq!(v("2 ** 31"), num(2147483648.0));
    assert_eq!(v("-1 >>> 0"), num(4294967295.0));
    assert_eq!(v("1n"), Value::BigInt("1".into()));
    assert!(matches!(v("-0"), Value::Number(n) if n == 0.0 && n.is_sign_negative()));
    assert!(matches!(v("NaN"), Value::Number(n) if n.is_nan()));
    assert_eq!(v("-Infinity"), num(f64::NEG_INFINITY));
    assert_eq!(v("'\\0abs'"), Value::String("\0abs".into()));
    assert_eq!(v("\"it's\""), Value::String("it's".into()));
    assert_eq!(
        v("{ port: [1, 'a'], 'x-y': null, b: undefined, }"),
        Value::Object(vec![
            ("port".into(), Value::Array(vec![num(1.0), "a".into()])),
            ("x-y".into(), Value::Null),
            ("b".into(), Value::Undefined),
        ])
    );
    assert_eq!(v("() => {}"), Value::Function(None));
    assert_eq!(v("'ab'.repeat(2) + 'c'"), Value::String("ababc".into()));
    assert_eq!(v("function () { return 1; }"), Value::Function(None));
    assert_eq!(
        v("new AbortController().signal"),
        Value::Instance("AbortSignal".into())
    );
    assert_eq!(
        v("new net.BlockList()"),
        Value::Instance("BlockList".into())
    );
    let (is_new, links) = Parser::new("new net.Socket().setTimeout(2 ** 31)")
        .chain()
        .unwrap();
    assert!(is_new);
    assert_eq!(links[0], ("net.Socket".to_string(), vec![]));
    assert_eq!(
        links[1],
        ("setTimeout".to_string(), vec![num(2147483648.0)])
    );
}
