//! Typed options (stand-in until the full argument rules land).

use std::net::IpAddr;

use crate::ip::Family;
use crate::time::Duration;

/// Where `connect` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// TCP to a host (name or IP literal) and port.
    Tcp {
        /// Host name or IP literal.
        host: String,
        /// Port.
        port: u16,
    },
    /// A unix-domain socket path.
    Ipc {
        /// The path.
        path: String,
    },
}

/// Options of `net.connect` / `socket.connect`.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Destination.
    pub target: Target,
    /// `family`: 4 or 6 restricts the lookup.
    pub family: Option<Family>,
    /// `hints` for the lookup.
    pub hints: i32,
    /// `localAddress`.
    pub local_address: Option<IpAddr>,
    /// `localPort`.
    pub local_port: Option<u16>,
    /// `autoSelectFamily` (None: the process default).
    pub auto_select_family: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout` (None: the process default).
    pub auto_select_family_attempt_timeout: Option<Duration>,
    /// `timeout`: the idle timeout set at connect.
    pub timeout: Option<Duration>,
    /// `allowHalfOpen`.
    pub allow_half_open: bool,
    /// `noDelay`.
    pub no_delay: bool,
    /// `keepAlive`.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay`.
    pub keep_alive_initial_delay: Duration,
    /// `blockList`: destinations it denies fail with `ERR_IP_BLOCKED` before any attempt.
    pub block_list: Option<crate::blocklist::BlockList>,
}

impl ConnectOptions {
    /// TCP to `host:port` with Node's defaults.
    pub fn tcp(host: impl Into<String>, port: u16) -> ConnectOptions {
        ConnectOptions::with_target(Target::Tcp {
            host: host.into(),
            port,
        })
    }

    /// A unix-domain socket path with Node's defaults.
    pub fn ipc(path: impl Into<String>) -> ConnectOptions {
        ConnectOptions::with_target(Target::Ipc { path: path.into() })
    }

    fn with_target(target: Target) -> ConnectOptions {
        ConnectOptions {
            target,
            family: None,
            hints: 0,
            local_address: None,
            local_port: None,
            auto_select_family: None,
            auto_select_family_attempt_timeout: None,
            timeout: None,
            allow_half_open: false,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay: Duration::ZERO,
            block_list: None,
        }
    }
}

use crate::error::NetError;
use crate::validate;
use crate::value::Value;

/// Stand-in: `net.connect(options)` for an options object.
pub fn normalize_connect_args(args: &[Value]) -> Result<ConnectOptions, NetError> {
    let o = args.first().cloned().unwrap_or(Value::Undefined);
    if let Value::String(path) = o.get("path") {
        if !path.is_empty() {
            return Ok(ConnectOptions::ipc(path.clone()));
        }
    }
    let port = o.get("port");
    if !matches!(port, Value::Number(_) | Value::String(_)) {
        return Err(validate::invalid_arg_type(
            "options.port",
            &["number", "string"],
            port,
        ));
    }
    let port = validate::validate_port(port, "Port")?;
    let host = match o.get("host") {
        Value::String(s) => s.clone(),
        _ => "localhost".into(),
    };
    let mut c = ConnectOptions::tcp(host.clone(), port);
    if let v @ Value::Number(_) = o.get("autoSelectFamilyAttemptTimeout") {
        let t = validate::validate_int32(v, "options.autoSelectFamilyAttemptTimeout", 1, i32::MAX)?;
        c.auto_select_family_attempt_timeout = Some(Duration::from_millis(t.max(10) as u64));
    }
    if let Value::Bool(b) = o.get("autoSelectFamily") {
        c.auto_select_family = Some(*b);
    }
    if crate::ip::is_ip(&host) == 0 {
        match o.get("family") {
            Value::Undefined | Value::Null => {}
            Value::Number(n) if *n == 4.0 => c.family = Some(Family::V4),
            Value::Number(n) if *n == 6.0 => c.family = Some(Family::V6),
            Value::Number(n) if *n == 0.0 => {}
            other => {
                return Err(validate::invalid_arg_value(
                    "options.family",
                    other,
                    Some("must be one of: 0, 4, 6"),
                ))
            }
        }
    }
    c.allow_half_open = o.get("allowHalfOpen").is_truthy();
    if let Value::Number(t) = o.get("timeout") {
        c.timeout = timeout_ms(&Value::Number(*t))?;
    }
    Ok(c)
}

/// Stand-in: `socket.setTimeout(ms)`.
pub fn timeout_ms(v: &Value) -> Result<Option<Duration>, NetError> {
    let n = validate::validate_number(v, "msecs")?;
    if n < 0.0 || !n.is_finite() {
        return Err(validate::out_of_range(
            "msecs",
            "a non-negative finite number",
            v,
        ));
    }
    if n == 0.0 {
        return Ok(None);
    }
    Ok(Some(Duration::from_millis(
        n.clamp(1.0, 2_147_483_647.0) as u64
    )))
}

/// Stand-in: `server.listen(options)`.
pub fn normalize_listen_args(args: &[Value]) -> Result<crate::server::Listen, NetError> {
    let o = args.first().cloned().unwrap_or(Value::Undefined);
    let port = o.get("port");
    if !port.is_nullish() {
        let p = validate::validate_port(port, "options.port")?;
        let host = match o.get("host") {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        };
        return Ok(crate::server::Listen::tcp(host, p));
    }
    if let Value::String(p) = o.get("path") {
        return Ok(crate::server::Listen::ipc(p));
    }
    Err(validate::invalid_arg_value(
        "options",
        &o,
        Some("must have the property \"port\" or \"path\""),
    ))
}
