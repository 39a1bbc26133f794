//! The `loose` target: arbitrary argument lists ([`Value`]s, as JavaScript would pass them)
//! to every call of the loose face (`sansnet::options`, `validate`, the BlockList's and
//! SocketAddress's `*_value` functions, the `net.setDefault…` setters), a few calls in a
//! row on one socket and one server. Every call returns the typed arguments or an error
//! Node would throw synchronously: an `ERR_*` code Node has, with its class and a message;
//! never a panic. What a call accepts is then used: the options build the socket and the
//! server, connect and listen, the chunks are written; their outputs keep the invariants
//! of [`sansnet::sim::check`].

use arbitrary::{Result, Unstructured};
use sansnet::blocklist::{AddressArg, BlockList};
use sansnet::options::{self, stream, ConnectOptions, Encoding};
use sansnet::server::{Server, ServerOutput};
use sansnet::sim::check::{self, ServerChecker, SocketChecker};
use sansnet::socket::Socket;
use sansnet::{defaults, ip, validate, Code, Duration, ErrorClass, Instant, NetError};
use sansnet::{SocketAddress, Value};

use crate::value;

/// An error of the loose face is one Node throws: a known `ERR_*` code, its class, a
/// message, and nothing of a system error.
pub fn node_error(e: &NetError, call: &str, args: &[Value]) {
    let code = e.code.as_str();
    let known = !matches!(e.code, Code::Custom(_)) && code.starts_with("ERR_");
    assert!(
        known,
        "{call}({args:?}): not a Node argument error code: {e:?}"
    );
    // Node throws ERR_INVALID_ARG_VALUE as a TypeError or, for some values, a RangeError.
    let class_ok = e.class == e.code.default_class()
        || (e.code == Code::ErrInvalidArgValue && e.class == ErrorClass::RangeError);
    assert!(class_ok, "{call}({args:?}): {code} as a {:?}", e.class);
    assert!(
        !e.message.is_empty(),
        "{call}({args:?}): {code} without a message"
    );
    assert!(
        e.syscall.is_none() && e.errors.is_empty() && e.errno().is_none(),
        "{call}({args:?}): an argument error dressed as a system error: {e:?}"
    );
}

/// What the calls so far built.
struct Session {
    now: Instant,
    socket: Socket,
    check: SocketChecker,
    server: Server,
    server_check: ServerChecker,
    encoding: Encoding,
}

impl Session {
    fn new() -> Session {
        let opts = options::SocketOptions::new();
        Session {
            now: Instant::ZERO,
            socket: Socket::new(&opts),
            check: SocketChecker::new(false),
            server: Server::new(options::ServerOptions::new()),
            server_check: ServerChecker::new(None),
            encoding: opts.default_encoding,
        }
    }

    /// Pulls everything the socket and the server emitted and checks it.
    fn pull(&mut self) {
        let mut n = 0;
        while let Some(o) = self.socket.poll_output() {
            n += 1;
            check::bounded_outputs(n);
            self.check.output(&o);
        }
        n = 0;
        while let Some(o) = self.server.poll_output() {
            n += 1;
            check::bounded_outputs(n);
            if let ServerOutput::Event(sansnet::server::ServerEvent::Close) = o {
                self.server_check.close(&self.server);
            }
        }
        check::socket_state(&self.socket);
        self.now = self.now + Duration::from_millis(1);
        self.socket.handle_timeout(self.now);
        check::deadline_after(&self.socket, self.now);
    }

    /// A new socket: the old one is destroyed and drained first (its rules end with it).
    fn replace_socket(&mut self, opts: &options::SocketOptions) {
        self.socket.destroy(None);
        self.pull();
        self.check.settled(self.socket.destroyed());
        self.socket = Socket::new(opts);
        self.check = SocketChecker::new(false);
        self.encoding = opts.default_encoding;
    }

    /// `net.connect` (`fresh`: a new socket of the options) or `socket.connect`.
    fn connect(&mut self, o: &ConnectOptions, fresh: bool) {
        if fresh {
            self.replace_socket(&o.socket);
        } else if self.socket.destroyed() {
            self.pull();
            self.check.new_life();
        }
        self.socket.connect(self.now, o);
    }

    /// One loose call with arbitrary arguments.
    fn call(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let args = value::args(u)?;
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Undefined);
        let err = |e: &NetError, call: &str| node_error(e, call, &args);
        let now = self.now;
        match u.int_in_range(0u8..=15)? {
            0 => match options::normalize_connect_args(&args) {
                Ok(o) => self.connect(&o, true),
                Err(e) => err(&e, "net.connect"),
            },
            1 => match options::normalize_socket_connect_args(&args) {
                Ok(o) => self.connect(&o, false),
                Err(e) => err(&e, "socket.connect"),
            },
            2 => match options::normalize_listen_args(&args) {
                Ok(o) => {
                    if let Err(e) = self.server.listen(o) {
                        err(&e, "server.listen (typed)");
                    }
                }
                Err(e) => err(&e, "server.listen"),
            },
            3 => match options::socket_options_from_value(&arg(0)) {
                Ok(o) => self.replace_socket(&o),
                Err(e) => err(&e, "new net.Socket"),
            },
            4 => match options::server_options_from_args(&args) {
                Ok(a) => {
                    let list = a.options.block_list.clone();
                    let max = self.server.max_connections;
                    self.server = Server::new(a.options);
                    self.server.max_connections = max;
                    self.server_check = ServerChecker::new(list);
                }
                Err(e) => err(&e, "net.createServer"),
            },
            5 => {
                if let Err(e) = options::server_options_from_value(&arg(0)) {
                    err(&e, "new net.Server(options)");
                }
                match options::get_connections_args(&arg(1)) {
                    Ok(()) => self.server.get_connections(),
                    Err(e) => err(&e, "server.getConnections"),
                }
            }
            6 => match options::set_timeout_args(&arg(0), &arg(1)) {
                Ok(t) => {
                    let d = t.timeout.unwrap_or(Duration::ZERO);
                    self.socket.set_timeout(now, d);
                }
                Err(e) => err(&e, "socket.setTimeout"),
            },
            7 => {
                self.socket.set_no_delay(options::set_no_delay_arg(&arg(0)));
                match options::set_keep_alive_args(&arg(1), &arg(2)) {
                    Ok(k) => {
                        let secs = u32::try_from(k.initial_delay.as_secs()).unwrap_or(u32::MAX);
                        self.socket.set_keep_alive(k.enable, secs);
                    }
                    Err(e) => err(&e, "socket.setKeepAlive"),
                }
                let _ = options::keep_alive_delay_from_ms(&arg(3));
                let _ = options::socket::keep_alive_delay_secs(&arg(3));
            }
            8 => match options::write_args(&args) {
                Ok(w) => {
                    if let Some(c) = w.chunk.into_text_chunk(self.encoding) {
                        let _ = self.socket.write(now, c.into());
                    }
                }
                Err(e) => err(&e, "socket.write"),
            },
            9 => match options::end_args(&args) {
                Ok(a) => {
                    let chunk = a.chunk.and_then(|c| c.into_text_chunk(self.encoding));
                    let chunk = chunk.map(Into::into);
                    let _ = self.socket.end(now, chunk);
                }
                Err(e) => err(&e, "socket.end"),
            },
            10 => {
                if let Err(e) = stream::validate_chunk(&arg(0), &arg(1)) {
                    err(&e, "validateChunk");
                }
                err(&stream::unknown_encoding(&arg(2)), "unknown encoding");
                if let Ok(Some(d)) = options::timeout_ms(&arg(3)) {
                    assert!(d >= Duration::from_millis(1) && d <= options::socket::TIMEOUT_MAX);
                }
            }
            11 => validators(u, &args)?,
            12 => self.block_list(u, &args)?,
            13 => {
                match SocketAddress::from_options(&arg(0)) {
                    Ok(sa) => {
                        let again = SocketAddress::from_options(&sa.to_json());
                        assert_eq!(again.as_ref().ok(), Some(&sa), "{args:?} → {sa:?}");
                    }
                    Err(e) => err(&e, "new SocketAddress"),
                }
                if let Err(e) = SocketAddress::parse_value(&arg(1)) {
                    err(&e, "SocketAddress.parse");
                }
                let n = ip::is_ip_value(&arg(2));
                assert!(matches!(n, 0 | 4 | 6), "isIP gave {n}");
            }
            14 => {
                // Process-wide: restored at once, so other calls see Node's defaults.
                if let Err(e) = defaults::set_default_auto_select_family(&arg(0)) {
                    err(&e, "net.setDefaultAutoSelectFamily");
                }
                match defaults::set_default_auto_select_family_attempt_timeout(&arg(1)) {
                    Ok(d) => assert!(d >= defaults::MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT),
                    Err(e) => err(&e, "net.setDefaultAutoSelectFamilyAttemptTimeout"),
                }
                if let Err(e) = defaults::set_default_high_water_mark(&arg(2)) {
                    err(&e, "stream.setDefaultHighWaterMark");
                }
                defaults::set_auto_select_family(defaults::DEFAULT_AUTO_SELECT_FAMILY);
                defaults::set_auto_select_family_attempt_timeout(
                    defaults::DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT,
                );
                defaults::set_high_water_mark(defaults::DEFAULT_HIGH_WATER_MARK);
            }
            _ => {
                let v = validate::to_number(&arg(0));
                self.server.max_connections = (v >= 0.0).then(|| validate::to_uint32(v));
                match u.int_in_range(0u8..=2)? {
                    0 => self.server.close(),
                    1 => self.socket.destroy(None),
                    _ => {
                        if let Err(e) = self.socket.reset_and_destroy() {
                            assert!(!e.message.is_empty());
                        }
                    }
                }
            }
        }
        self.pull();
        Ok(())
    }

    /// The BlockList's loose face.
    fn block_list(&mut self, u: &mut Unstructured<'_>, args: &[Value]) -> Result<()> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Undefined);
        let err = |e: &NetError, call: &str| node_error(e, call, args);
        let mut list = BlockList::new();
        for _ in 0..u.int_in_range(1u8..=4)? {
            let (a, b, c) = (arg(0), arg(1), arg(2));
            let r = match u.int_in_range(0u8..=3)? {
                0 => list.add_address_value(AddressArg::Value(&a), &b),
                1 => list.add_range_value(AddressArg::Value(&a), AddressArg::Value(&b), &c),
                2 => list.add_subnet_value(AddressArg::Value(&a), &b, &c),
                _ => list.check_value(AddressArg::Value(&a), &b).map(|_| ()),
            };
            if let Err(e) = r {
                err(&e, "blockList");
            }
        }
        let strings: Vec<String> = args.iter().map(validate::to_js_string).collect();
        if let Err(e) = BlockList::new().from_json(&strings) {
            err(&e, "BlockList.fromJSON");
        }
        Ok(())
    }
}

/// Node's validators with arbitrary values and bounds.
fn validators(u: &mut Unstructured<'_>, args: &[Value]) -> Result<()> {
    let name = value::string(u)?;
    let (lo, hi): (i32, i32) = (u.arbitrary()?, u.arbitrary()?);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    for a in args {
        let err = |e: NetError, call: &str| node_error(&e, call, args);
        if let Err(e) = validate::validate_port(a, &name) {
            err(e, "validatePort");
        }
        if let Ok(n) = validate::validate_int32(a, &name, lo, hi) {
            assert!(
                (lo..=hi).contains(&n),
                "validateInt32 gave {n} outside {lo}..={hi}"
            );
        } else if let Err(e) = validate::validate_int32(a, &name, lo, hi) {
            err(e, "validateInt32");
        }
        if let Err(e) = validate::validate_uint32(a, &name, u.arbitrary()?) {
            err(e, "validateUint32");
        }
        for (r, call) in [
            (
                validate::validate_number(a, &name).map(|_| ()),
                "validateNumber",
            ),
            (
                validate::validate_string(a, &name).map(|_| ()),
                "validateString",
            ),
            (
                validate::validate_boolean(a, &name).map(|_| ()),
                "validateBoolean",
            ),
            (validate::validate_function(a, &name), "validateFunction"),
        ] {
            if let Err(e) = r {
                err(e, call);
            }
        }
        err(validate::bad_port(&name, a), "badPort");
    }
    Ok(())
}

/// Runs one input: up to 8 loose calls on one socket and one server.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut s = Session::new();
    for _ in 0..8 {
        if u.is_empty() || s.call(&mut u).is_err() {
            break;
        }
    }
    s.socket.destroy(None);
    s.server.close();
    s.pull();
    s.check.settled(s.socket.destroyed());
}
