//! `server.listen(...)`: every form of spec §3.1.

use crate::error::NetError;
use crate::validate::{self, to_int32, to_number};
use crate::value::Value;

use super::socket::validate_abort_signal;
use super::{has_key, is_non_negative_number, is_pipe_name, normalize_args};

/// The backlog Node passes to `listen(2)` when none is given (`backlog || 511`; Linux
/// rounds 511 + 1 up to a 512-entry queue).
pub const DEFAULT_BACKLOG: u32 = 511;

/// What a server listens on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListenTarget {
    /// TCP. `host: None` binds the unspecified address (`::`, falling back to `0.0.0.0`);
    /// a host is resolved with one `dns.lookup` and the first answer bound. Port 0 picks a
    /// free port.
    Tcp {
        /// Host name or IP literal, if one was given.
        host: Option<String>,
        /// Port (0 = any free port).
        port: u16,
    },
    /// A unix domain socket path (a leading `'\0'` makes it abstract on Linux).
    Ipc {
        /// The socket path.
        path: String,
    },
}

/// Options of `server.listen()`, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenOptions {
    /// Where to listen.
    pub target: ListenTarget,
    /// The backlog handed to `listen(2)`, as the kernel sees it: `backlog || 511` converted
    /// with `ToInt32` and read as unsigned (a negative backlog becomes a huge count the
    /// kernel clamps to `somaxconn`; a non-numeric one becomes 0).
    pub backlog: u32,
    /// `ipv6Only === true`: no dual-stack (`UV_TCP_IPV6ONLY`).
    pub ipv6_only: bool,
    /// `reusePort === true` (Node ≥ 23.1 / 22.12: `SO_REUSEPORT`; Node 20 ignores it).
    pub reuse_port: bool,
    /// `exclusive` (only matters in cluster workers).
    pub exclusive: bool,
    /// `readableAll === true`: make the IPC socket readable by all users.
    pub readable_all: bool,
    /// `writableAll === true`: make the IPC socket writable by all users.
    pub writable_all: bool,
    /// An `AbortSignal` was given: aborting it closes the server (already aborted: closes on
    /// the next tick, no `'listening'`).
    pub has_signal: bool,
}

impl ListenOptions {
    /// TCP on `host` (or the unspecified address) and `port`, Node's defaults.
    pub fn tcp(host: Option<String>, port: u16) -> ListenOptions {
        ListenOptions::with_target(ListenTarget::Tcp { host, port })
    }

    /// A unix socket at `path`, Node's defaults.
    pub fn ipc(path: impl Into<String>) -> ListenOptions {
        ListenOptions::with_target(ListenTarget::Ipc { path: path.into() })
    }

    fn with_target(target: ListenTarget) -> ListenOptions {
        ListenOptions {
            target,
            backlog: DEFAULT_BACKLOG,
            ipv6_only: false,
            reuse_port: false,
            exclusive: false,
            readable_all: false,
            writable_all: false,
            has_signal: false,
        }
    }

    /// With a backlog (0 keeps Node's `backlog || 511` rule: 511).
    pub fn with_backlog(mut self, backlog: u32) -> ListenOptions {
        self.backlog = if backlog == 0 {
            DEFAULT_BACKLOG
        } else {
            backlog
        };
        self
    }

    /// With `ipv6Only`.
    pub fn with_ipv6_only(mut self, v: bool) -> ListenOptions {
        self.ipv6_only = v;
        self
    }
}

/// `toNumber(x)` of `net.js` when it is truthy: a number > 0. `Number(x)` of an array
/// nested too deeply fails as in Node ([`validate::check_join_depth`]).
fn positive_number(v: Option<&Value>) -> Result<Option<f64>, NetError> {
    let Some(v) = v else {
        return Ok(None);
    };
    if v.is_truthy() {
        validate::check_join_depth(v)?;
    }
    Ok((v.is_truthy() && is_non_negative_number(v))
        .then(|| to_number(v))
        .filter(|n| *n != 0.0))
}

fn invalid_options(options: &Value, reason: Option<&str>) -> NetError {
    validate::invalid_arg_value("options", options, reason)
}

/// `server.listen(...args)` with any arguments, in Node's order:
///
/// 1. argument normalisation as for `connect` (options object, path string, or
///    port[, host]; a trailing callback is the `'listening'` listener and is ignored here);
///    the backlog is `options.backlog ||` the first of `args[1]`, `args[2]` that is a
///    positive number (not validated);
/// 2. `signal` present → must be an `AbortSignal` (`ERR_INVALID_ARG_TYPE`, "options.signal");
/// 3. `listen()`, `listen(cb)`, `listen(null)`, `{port: undefined}`, `{port: null}` → port 0;
/// 4. a number or string port → `validatePort(port, 'options.port')`
///    (`ERR_SOCKET_BAD_PORT`); a truthy host must be a string (`ERR_INVALID_ARG_TYPE`,
///    "hostname"). A port takes precedence over a path;
/// 5. a truthy path that is a pipe name → IPC; abstract (`'\0…'`) with `readableAll` or
///    `writableAll` → `ERR_INVALID_ARG_VALUE`;
/// 6. neither `port` nor `path` key → `ERR_INVALID_ARG_VALUE` ("must have the property
///    "port" or "path""); otherwise (a port of another type, a non-pipe path) →
///    `ERR_INVALID_ARG_VALUE` ("is invalid").
///
/// `ERR_SERVER_ALREADY_LISTEN` depends on the server's state and is the state machine's.
/// Not supported (`ERR_INVALID_ARG_VALUE` "is not supported"): listening on an existing
/// handle (`listen(handle)`, `{handle}`, `{_handle}`) or descriptor (`{fd}` with `fd >= 0`),
/// which Node 20 supports for its own process plumbing; `{fd: -1}` is Node's "must have the
/// property" error.
pub fn normalize_listen_args(args: &[Value]) -> Result<ListenOptions, NetError> {
    let mut options = normalize_args(args).options;
    let backlog_from_args = match positive_number(args.get(1))? {
        Some(n) => Some(n),
        None => positive_number(args.get(2))?,
    };

    for key in ["_handle", "handle"] {
        let h = options.get(key);
        if h.is_truthy() {
            return Err(validate::invalid_arg_value(
                &format!("options.{}", key.trim_start_matches('_')),
                h,
                Some("is not supported"),
            ));
        }
    }
    let ipv6_only = matches!(options.get("ipv6Only"), Value::Bool(true));
    let signal = options.get("signal");
    let has_signal = !matches!(signal, Value::Undefined);
    if has_signal {
        validate_abort_signal(signal, "options.signal")?;
    }
    if let fd @ Value::Number(n) = options.get("fd") {
        if *n >= 0.0 {
            return Err(validate::invalid_arg_value(
                "options.fd",
                fd,
                Some("is not supported"),
            ));
        }
    }

    let port = options.get("port");
    if args.is_empty()
        || matches!(args[0], Value::Function(_))
        || (matches!(port, Value::Undefined) && has_key(&options, "port"))
        || matches!(port, Value::Null)
    {
        set_key(&mut options, "port", Value::Number(0.0));
    }

    let backlog = {
        let b = options.get("backlog");
        let chosen = if b.is_truthy() {
            Some(validate::try_to_number(b)?)
        } else {
            backlog_from_args
        };
        chosen.map_or(DEFAULT_BACKLOG, |n| to_int32(n) as u32)
    };
    let base = |target: ListenTarget| ListenOptions {
        target,
        backlog,
        ipv6_only,
        reuse_port: matches!(options.get("reusePort"), Value::Bool(true)),
        exclusive: options.get("exclusive").is_truthy(),
        readable_all: matches!(options.get("readableAll"), Value::Bool(true)),
        writable_all: matches!(options.get("writableAll"), Value::Bool(true)),
        has_signal,
    };

    let port = options.get("port");
    if matches!(port, Value::Number(_) | Value::String(_)) {
        let port = validate::validate_port(port, "options.port")?;
        let host = match options.get("host") {
            h if !h.is_truthy() => None,
            Value::String(s) => Some(s.clone()),
            other => return Err(validate::invalid_arg_type("hostname", &["string"], other)),
        };
        return Ok(base(ListenTarget::Tcp { host, port }));
    }

    let path = options.get("path");
    if path.is_truthy() && is_pipe_name(path) {
        let Value::String(path) = path else {
            unreachable!("a pipe name is a string")
        };
        if path.starts_with('\0')
            && (options.get("readableAll").is_truthy() || options.get("writableAll").is_truthy())
        {
            return Err(invalid_options(
                &options,
                Some("can not set readableAll or writableAllt to true when path is abstract unix socket"),
            ));
        }
        return Ok(base(ListenTarget::Ipc { path: path.clone() }));
    }

    if !has_key(&options, "port") && !has_key(&options, "path") {
        return Err(invalid_options(
            &options,
            Some("must have the property \"port\" or \"path\""),
        ));
    }
    Err(invalid_options(&options, None))
}

/// Sets (or adds) an own property, as `options.port = 0` does.
fn set_key(options: &mut std::borrow::Cow<'_, Value>, key: &str, v: Value) {
    if !matches!(**options, Value::Object(_)) {
        return;
    }
    if let Value::Object(props) = options.to_mut() {
        match props.iter_mut().rev().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => props.push((key.to_string(), v)),
        }
    }
}

#[cfg(test)]
#[path = "listen_tests.rs"]
mod tests;
