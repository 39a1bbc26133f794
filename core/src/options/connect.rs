//! `net.connect()` / `net.createConnection()` / `socket.connect()`: the target, the DNS
//! options and the happy-eyeballs switches (spec §1.2, §2.1).

use std::net::IpAddr;
use std::ops::BitOr;

use crate::defaults;
use crate::error::{Code, NetError};
use crate::ip::{self, Family};
use crate::time::Duration;
use crate::validate::{self, to_int32};
use crate::value::Value;

use super::socket::{socket_options_from_value, timeout_ms, SocketOptions};
use super::{normalize_args, NormalizedArgs};

/// Where a client connects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// TCP: a host name or IP literal (Node's default `'localhost'`) and a port (0 allowed:
    /// connecting to it fails asynchronously with `ECONNREFUSED`).
    Tcp {
        /// Host name or IP literal, as given (an IPv6 literal may carry a `%zone`).
        host: String,
        /// Port.
        port: u16,
    },
    /// A unix domain socket (Windows: named pipe).
    Ipc {
        /// The socket path.
        path: String,
    },
}

/// `getaddrinfo` hint flags a lookup may carry: only `ADDRCONFIG`, `V4MAPPED`, `ALL` and
/// their combinations exist (Node rejects any other bit with `ERR_INVALID_ARG_VALUE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LookupHints(u32);

impl LookupHints {
    /// No flags.
    pub const NONE: LookupHints = LookupHints(0);
    /// `dns.ADDRCONFIG` (32 on Linux): only families configured on this host.
    pub const ADDRCONFIG: LookupHints = LookupHints(32);
    /// `dns.V4MAPPED` (8): IPv4-mapped IPv6 answers when no IPv6 address exists.
    pub const V4MAPPED: LookupHints = LookupHints(8);
    /// `dns.ALL` (16): with `V4MAPPED`, both IPv6 and mapped IPv4 answers.
    pub const ALL: LookupHints = LookupHints(16);

    /// The flags of `bits`, or `None` when `bits` has any other bit set.
    pub fn from_bits(bits: u32) -> Option<LookupHints> {
        let all = Self::ADDRCONFIG.0 | Self::V4MAPPED.0 | Self::ALL.0;
        (bits & !all == 0).then_some(LookupHints(bits))
    }

    /// The numeric value passed to `getaddrinfo`.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// No flag set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every flag of `other` is set.
    pub fn contains(self, other: LookupHints) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for LookupHints {
    type Output = LookupHints;
    fn bitor(self, rhs: LookupHints) -> LookupHints {
        LookupHints(self.0 | rhs.0)
    }
}

/// Options of a client connection, typed. Built with [`ConnectOptions::tcp`] /
/// [`ConnectOptions::ipc`] and the `with_*` methods, or by [`normalize_connect_args`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Where to connect.
    pub target: Target,
    /// `family` for the lookup (`4`/`'IPv4'`, `6`/`'IPv6'`); `None` = any (`0`). A set
    /// family forces the single-address path. Unused for IP literals and IPC.
    pub family: Option<Family>,
    /// `hints` as given (see [`ConnectOptions::lookup_hints`] for what the lookup gets).
    pub hints: LookupHints,
    /// `localAddress`: bind to it before connecting (forces the single-address path).
    /// An IPv6 `%zone` suffix is not kept.
    pub local_address: Option<IpAddr>,
    /// `localPort`: bind to it before connecting (`Some(0)`: an explicit bind to any port).
    pub local_port: Option<u16>,
    /// `autoSelectFamily`; `None` = the process default at connect time.
    pub auto_select_family: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout`, already floored to 10 ms; `None` = the process
    /// default at connect time.
    pub auto_select_family_attempt_timeout: Option<Duration>,
    /// `timeout` (only `net.connect()` applies it): the socket's idle timeout.
    pub timeout: Option<Duration>,
    /// A custom `lookup` function replaces `dns.lookup` (the embedder resolves).
    pub custom_lookup: bool,
    /// The `new Socket(options)` part of the options (`allowHalfOpen`, `noDelay`,
    /// `keepAlive`, `keepAliveInitialDelay`, `signal`, `blockList`, high-water marks…).
    pub socket: SocketOptions,
}

impl ConnectOptions {
    /// A TCP connection to `host:port` with Node's defaults.
    pub fn tcp(host: impl Into<String>, port: u16) -> ConnectOptions {
        ConnectOptions::with_target(Target::Tcp {
            host: host.into(),
            port,
        })
    }

    /// A unix-socket connection to `path` with Node's defaults.
    pub fn ipc(path: impl Into<String>) -> ConnectOptions {
        ConnectOptions::with_target(Target::Ipc { path: path.into() })
    }

    fn with_target(target: Target) -> ConnectOptions {
        ConnectOptions {
            target,
            family: None,
            hints: LookupHints::NONE,
            local_address: None,
            local_port: None,
            auto_select_family: None,
            auto_select_family_attempt_timeout: None,
            timeout: None,
            custom_lookup: false,
            socket: SocketOptions::new(),
        }
    }

    /// With a lookup family.
    pub fn with_family(mut self, family: Family) -> ConnectOptions {
        self.family = Some(family);
        self
    }

    /// With lookup hints.
    pub fn with_hints(mut self, hints: LookupHints) -> ConnectOptions {
        self.hints = hints;
        self
    }

    /// With a local address and/or port to bind first.
    pub fn with_local(mut self, address: Option<IpAddr>, port: Option<u16>) -> ConnectOptions {
        self.local_address = address;
        self.local_port = port;
        self
    }

    /// With `autoSelectFamily`.
    pub fn with_auto_select_family(mut self, enable: bool) -> ConnectOptions {
        self.auto_select_family = Some(enable);
        self
    }

    /// With `autoSelectFamilyAttemptTimeout`, clamped as Node clamps it (whole ms, ≥ 10 ms).
    pub fn with_auto_select_family_attempt_timeout(mut self, timeout: Duration) -> ConnectOptions {
        self.auto_select_family_attempt_timeout = Some(defaults::clamp_attempt_timeout(timeout));
        self
    }

    /// With an idle timeout (`None` or zero: none).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> ConnectOptions {
        self.timeout = timeout.filter(|t| !t.is_zero());
        self
    }

    /// With a custom lookup.
    pub fn with_custom_lookup(mut self) -> ConnectOptions {
        self.custom_lookup = true;
        self
    }

    /// With socket options.
    pub fn with_socket(mut self, socket: SocketOptions) -> ConnectOptions {
        self.socket = socket;
        self
    }

    /// The IP address when the target is a TCP IP literal: then there is no lookup at all
    /// (the connect is scheduled on the next tick).
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match &self.target {
            Target::Tcp { host, .. } => parse_ip_literal(host),
            Target::Ipc { .. } => None,
        }
    }

    /// The hints the lookup receives: the given ones, or `ADDRCONFIG` when none were given
    /// and no family is set (Node on non-Windows).
    pub fn lookup_hints(&self) -> LookupHints {
        if self.hints.is_empty() && self.family.is_none() {
            LookupHints::ADDRCONFIG
        } else {
            self.hints
        }
    }

    /// `autoSelectFamily`, or Node's built-in default when unset. (The loose face resolves
    /// the process default into the options when the call is made, see
    /// [`ConnectOptions::with_process_defaults`]; the state machines read no global.)
    pub fn effective_auto_select_family(&self) -> bool {
        self.auto_select_family
            .unwrap_or(defaults::DEFAULT_AUTO_SELECT_FAMILY)
    }

    /// The attempt timeout, or Node's built-in default when unset, never below 10 ms.
    pub fn effective_attempt_timeout(&self) -> Duration {
        defaults::clamp_attempt_timeout(
            self.auto_select_family_attempt_timeout
                .unwrap_or(defaults::DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT),
        )
    }

    /// Fills what the call left unset with the process defaults as they are now
    /// (`net.getDefaultAutoSelectFamily()`, `net.getDefaultAutoSelectFamilyAttemptTimeout()`),
    /// as Node reads them when `connect()` is called.
    pub fn with_process_defaults(mut self) -> ConnectOptions {
        self.auto_select_family = Some(
            self.auto_select_family
                .unwrap_or_else(defaults::auto_select_family),
        );
        self.auto_select_family_attempt_timeout = Some(
            self.auto_select_family_attempt_timeout
                .unwrap_or_else(defaults::auto_select_family_attempt_timeout),
        );
        self
    }

    /// Whether `connect()` calls the custom `lookup` function: a TCP host that is not an
    /// IP literal. Node calls it synchronously inside `connect()` (and the core asks for
    /// it, [`SocketIo::Lookup`](crate::socket::SocketIo::Lookup), within the same call).
    pub fn calls_custom_lookup(&self) -> bool {
        self.custom_lookup
            && matches!(self.target, Target::Tcp { .. })
            && self.ip_literal().is_none()
    }

    /// Whether a local bind precedes the connect (`localAddress || localPort`).
    pub fn binds_locally(&self) -> bool {
        self.local_address.is_some() || self.local_port.is_some()
    }

    /// Whether the happy-eyeballs (multi-address) path is taken (spec §2.1): a TCP host
    /// name (not an IP literal), no family, no local address, `autoSelectFamily` on.
    pub fn uses_happy_eyeballs(&self) -> bool {
        matches!(self.target, Target::Tcp { .. })
            && self.ip_literal().is_none()
            && self.family.is_none()
            && self.local_address.is_none()
            && self.effective_auto_select_family()
    }
}

/// An IP literal as Node's `isIP` accepts it, as an address (a `%zone` is dropped).
pub fn parse_ip_literal(text: &str) -> Option<IpAddr> {
    if ip::is_ip(text) == 0 {
        return None;
    }
    let base = text.split_once('%').map_or(text, |(a, _)| a);
    base.parse().ok()
}

fn missing_args() -> NetError {
    NetError::new(
        Code::ErrMissingArgs,
        "The \"options\" or \"port\" or \"path\" argument must be specified",
    )
}

/// `ERR_INVALID_IP_ADDRESS` ("Invalid IP address: %s").
fn invalid_ip(value: &Value) -> NetError {
    NetError::new(
        Code::ErrInvalidIpAddress,
        format!("Invalid IP address: {}", validate::format_s(value)),
    )
}

/// `net.connect(...args)` / `net.createConnection(...args)` with any arguments, in Node's
/// order: argument normalisation (options object; a string that is not a non-negative
/// number is a path; else port and an optional string host; a trailing callback), the
/// `new Socket(options)` checks ([`socket_options_from_value`]), `options.timeout` when
/// truthy ([`timeout_ms`]), then the `socket.connect()` checks
/// ([`normalize_socket_connect_args`]).
pub fn normalize_connect_args(args: &[Value]) -> Result<ConnectOptions, NetError> {
    let NormalizedArgs { options, .. } = normalize_args(args);
    let socket = socket_options_from_value(&options)?;
    let timeout = match options.get("timeout") {
        t if t.is_truthy() => timeout_ms(t)?,
        _ => None,
    };
    let mut c = connect_from_options(&options)?;
    c.socket = socket;
    c.timeout = timeout;
    Ok(c.with_process_defaults())
}

/// `socket.connect(...args)` with any arguments (no constructor checks, no `timeout`; the
/// returned `socket` field keeps Node's defaults — the socket's own options come from its
/// constructor). Checks, in Node's order:
///
/// 1. `port === undefined && path == null` → `ERR_MISSING_ARGS`;
/// 2. a truthy `path` is IPC and must be a string (`ERR_INVALID_ARG_TYPE`); a falsy one
///    (`''`) means TCP to `localhost:0`;
/// 3. TCP: `localAddress` (truthy) must be an IP (`ERR_INVALID_IP_ADDRESS`); `localPort`
///    (truthy) must be a number (`ERR_INVALID_ARG_TYPE`); `port` must be a number or
///    string (`ERR_INVALID_ARG_TYPE`) and pass `validatePort` (`ERR_SOCKET_BAD_PORT`,
///    "Port …"); `autoSelectFamily` a boolean; `autoSelectFamilyAttemptTimeout`
///    `validateInt32(v, 1)`, 1..=9 raised to 10;
/// 4. only for a host that is not an IP literal (default `'localhost'`): `lookup` a
///    function, then `dns.lookup`'s checks: host a string (`ERR_INVALID_ARG_TYPE`,
///    "hostname"), `hints` a number with valid flags only, `family` 0/4/6 or
///    `'IPv4'`/`'IPv6'` (`ERR_INVALID_ARG_VALUE`).
///
/// Deviations from Node 20, all turning a crash or a late failure into an error:
/// a non-string host that stringifies to an IP (`['127.0.0.1']`) is `ERR_INVALID_ARG_TYPE`
/// (Node 20 aborts; Node ≥ 24.2 throws this code); a positive `localPort` that is not an
/// integer ≤ 65535 is `ERR_SOCKET_BAD_PORT` (Node 20 binds a truncated port and fails
/// asynchronously with `EADDRINUSE`; negative ports wrap as Node's bind does: −1 → 65535);
/// `family`/`hints`/host are validated even with a custom `lookup` (Node passes them to it
/// unchecked).
///
/// Only the first check throws from a socket left as it was: see [`socket_connect_args`].
pub fn normalize_socket_connect_args(args: &[Value]) -> Result<ConnectOptions, NetError> {
    socket_connect_args(args).map_err(SocketConnectThrow::into_error)
}

/// Where `socket.connect()` threw, relative to its first steps (see
/// [`socket_connect_args`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketConnectThrow {
    /// Before anything changed (`ERR_MISSING_ARGS`): the socket is as it was.
    Before(NetError),
    /// After Node revived the socket, gave it a handle and set `connecting`: the driver
    /// tells the socket with [`Socket::connect_rejected`](crate::socket::Socket::connect_rejected).
    Connecting(NetError),
}

impl SocketConnectThrow {
    /// What was thrown.
    pub fn error(&self) -> &NetError {
        match self {
            SocketConnectThrow::Before(e) | SocketConnectThrow::Connecting(e) => e,
        }
    }

    /// The error thrown.
    pub fn into_error(self) -> NetError {
        match self {
            SocketConnectThrow::Before(e) | SocketConnectThrow::Connecting(e) => e,
        }
    }
}

/// [`normalize_socket_connect_args`], saying where the call threw: Node's
/// `Socket.prototype.connect` checks only `ERR_MISSING_ARGS` before it sets
/// `this.connecting = true`; every other check (`options.path`, then `lookupAndConnect`'s
/// `localAddress`, `localPort`, `port`, the happy-eyeballs switches, `lookup` and
/// `dns.lookup`'s host, hints and family) throws from a socket already connecting.
pub fn socket_connect_args(args: &[Value]) -> Result<ConnectOptions, SocketConnectThrow> {
    let options = normalize_args(args).options;
    if matches!(options.get("port"), Value::Undefined) && options.get("path").is_nullish() {
        return Err(SocketConnectThrow::Before(missing_args()));
    }
    connect_from_options(&options)
        .map(ConnectOptions::with_process_defaults)
        .map_err(SocketConnectThrow::Connecting)
}

fn connect_from_options(options: &Value) -> Result<ConnectOptions, NetError> {
    let get = |k: &str| options.get(k);
    let port = get("port");
    let path = get("path");
    if matches!(port, Value::Undefined) && path.is_nullish() {
        return Err(missing_args());
    }
    if path.is_truthy() {
        let path = validate::validate_string(path, "options.path")?;
        return Ok(ConnectOptions::ipc(path));
    }

    let local_address = match get("localAddress") {
        v if !v.is_truthy() => None,
        v => {
            let text = validate::try_to_js_string(v)?;
            Some(parse_ip_literal(&text).ok_or_else(|| invalid_ip(v))?)
        }
    };
    let local_port = match get("localPort") {
        v if !v.is_truthy() => None,
        v => {
            let n = validate::validate_number(v, "options.localPort")?;
            if n > 0.0 && !(n.fract() == 0.0 && n <= 65535.0) {
                return Err(validate::bad_port("options.localPort", v));
            }
            Some(to_int32(n) as u16)
        }
    };
    let port = match port {
        Value::Undefined => 0,
        Value::Number(_) | Value::String(_) => validate::validate_port(port, "Port")?,
        other => {
            return Err(validate::invalid_arg_type(
                "options.port",
                &["number", "string"],
                other,
            ))
        }
    };
    let auto_select_family = match get("autoSelectFamily") {
        v if v.is_nullish() => None,
        v => Some(validate::validate_boolean(v, "options.autoSelectFamily")?),
    };
    let attempt_timeout = match get("autoSelectFamilyAttemptTimeout") {
        v if v.is_nullish() => None,
        v => {
            let ms =
                validate::validate_int32(v, "options.autoSelectFamilyAttemptTimeout", 1, i32::MAX)?;
            Some(defaults::clamp_attempt_timeout(Duration::from_millis(
                ms as u64,
            )))
        }
    };

    let host_value = get("host");
    let host = match host_value {
        v if !v.is_truthy() => Some("localhost".to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let mut c = ConnectOptions::tcp(host.clone().unwrap_or_default(), port)
        .with_local(local_address, local_port);
    c.auto_select_family = auto_select_family;
    c.auto_select_family_attempt_timeout = attempt_timeout;

    let Some(host) = host else {
        // A truthy non-string host.
        if ip::is_ip(&validate::try_to_js_string(host_value)?) != 0 {
            return Err(validate::invalid_arg_type(
                "options.host",
                &["string"],
                host_value,
            ));
        }
        lookup_fn(get("lookup"))?;
        return Err(validate::invalid_arg_type(
            "hostname",
            &["string"],
            host_value,
        ));
    };
    if ip::is_ip(&host) != 0 {
        return Ok(c);
    }
    c.custom_lookup = lookup_fn(get("lookup"))?;
    c.hints = match get("hints") {
        v if !v.is_truthy() => LookupHints::NONE,
        v => {
            let n = validate::validate_number(v, "options.hints")?;
            let bits = validate::to_uint32(n);
            LookupHints::from_bits(bits).ok_or_else(|| {
                validate::invalid_arg_value("hints", &Value::Number(f64::from(bits)), None)
            })?
        }
    };
    c.family = match get("family") {
        Value::String(s) if s == "IPv4" => Some(Family::V4),
        Value::String(s) if s == "IPv6" => Some(Family::V6),
        v if v.is_nullish() => None,
        Value::Number(n) if *n == 0.0 => None,
        Value::Number(n) if *n == 4.0 => Some(Family::V4),
        Value::Number(n) if *n == 6.0 => Some(Family::V6),
        v => {
            return Err(validate::invalid_arg_value(
                "options.family",
                v,
                Some("must be one of: 0, 4, 6"),
            ))
        }
    };
    Ok(c)
}

/// `options.lookup`: `null`/`undefined` → none; a function → custom; else
/// `ERR_INVALID_ARG_TYPE`.
fn lookup_fn(v: &Value) -> Result<bool, NetError> {
    match v {
        v if v.is_nullish() => Ok(false),
        v => validate::validate_function(v, "options.lookup").map(|()| true),
    }
}

#[cfg(test)]
#[path = "connect_tests.rs"]
mod tests;
