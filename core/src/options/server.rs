//! `net.createServer([options][, connectionListener])` and `server.getConnections(cb)`.

use crate::defaults;
use crate::error::NetError;
use crate::time::Duration;
use crate::validate;
use crate::value::Value;

use super::socket::{keep_alive_delay_from_ms, validate_block_list};

/// Options of `net.createServer(options)`, typed, with Node's defaults. The socket options
/// are applied to every accepted connection before `'connection'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerOptions {
    /// `allowHalfOpen` (default false), for accepted sockets.
    pub allow_half_open: bool,
    /// `pauseOnConnect` (default false): accepted sockets start paused.
    pub pause_on_connect: bool,
    /// `noDelay` (default false), for accepted sockets.
    pub no_delay: bool,
    /// `keepAlive` (default false), for accepted sockets.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay` in whole seconds, as Node stores it on
    /// `server.keepAliveInitialDelay` (negatives → 0).
    pub keep_alive_initial_delay: Duration,
    /// `highWaterMark` for accepted sockets (negative → the process default).
    pub high_water_mark: usize,
    /// `blockList` (Node ≥ 22.13 / 23.4): blocked peers are closed silently. The loose face
    /// only validates the argument; an embedder attaches its `BlockList` here.
    pub block_list: Option<crate::blocklist::BlockList>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions::new()
    }
}

impl ServerOptions {
    /// Node's defaults; the high-water mark comes from [`defaults::high_water_mark`] now.
    pub fn new() -> ServerOptions {
        ServerOptions {
            allow_half_open: false,
            pause_on_connect: false,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay: Duration::ZERO,
            high_water_mark: defaults::high_water_mark(),
            block_list: None,
        }
    }

    /// `allowHalfOpen` for accepted sockets.
    pub fn with_allow_half_open(mut self, v: bool) -> ServerOptions {
        self.allow_half_open = v;
        self
    }

    /// `pauseOnConnect`: accepted sockets start paused.
    pub fn with_pause_on_connect(mut self, v: bool) -> ServerOptions {
        self.pause_on_connect = v;
        self
    }

    /// `noDelay` for accepted sockets.
    pub fn with_no_delay(mut self, v: bool) -> ServerOptions {
        self.no_delay = v;
        self
    }

    /// `keepAlive` and `keepAliveInitialDelay` (counted in whole seconds, as Node does).
    pub fn with_keep_alive(mut self, enable: bool, initial_delay: Duration) -> ServerOptions {
        self.keep_alive = enable;
        self.keep_alive_initial_delay = Duration::from_secs(initial_delay.as_secs());
        self
    }

    /// `highWaterMark` for accepted sockets.
    pub fn with_high_water_mark(mut self, bytes: usize) -> ServerOptions {
        self.high_water_mark = bytes;
        self
    }

    /// `blockList`: connections from blocked peers are closed silently.
    pub fn with_block_list(mut self, list: crate::blocklist::BlockList) -> ServerOptions {
        self.block_list = Some(list);
        self
    }
}

/// `net.createServer(...)`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateServerArgs {
    /// The options.
    pub options: ServerOptions,
    /// A `'connection'` listener function was given.
    pub has_connection_listener: bool,
}

/// `net.createServer(...args)` / `new net.Server(...args)` with any arguments: a function
/// first is the listener; `null`/`undefined`/an object are the options (the listener, if a
/// function, follows); anything else → `ERR_INVALID_ARG_TYPE` ("The "options" argument must
/// be of type object"). Then [`server_options_from_value`].
pub fn server_options_from_args(args: &[Value]) -> Result<CreateServerArgs, NetError> {
    let arg = |i: usize| args.get(i).unwrap_or(&crate::value::UNDEFINED);
    match arg(0) {
        Value::Function(_) => Ok(CreateServerArgs {
            options: ServerOptions::new(),
            has_connection_listener: true,
        }),
        Value::Undefined
        | Value::Null
        | Value::Object(_)
        | Value::Array(_)
        | Value::Instance(_) => Ok(CreateServerArgs {
            options: server_options_from_value(arg(0))?,
            has_connection_listener: matches!(arg(1), Value::Function(_)),
        }),
        other => Err(validate::invalid_arg_type("options", &["object"], other)),
    }
}

/// The `net.Server` constructor's option checks, in Node's order: `keepAliveInitialDelay`
/// (a number, `ERR_INVALID_ARG_TYPE`; negatives → 0), `highWaterMark` (a number,
/// `ERR_INVALID_ARG_TYPE`; negatives → the default), then `blockList` (Node ≥ 22.13).
///
/// Deviation: a `highWaterMark` that is NaN, infinite or fractional is rejected here with
/// `ERR_INVALID_ARG_VALUE` ("The property 'options.highWaterMark' is invalid"); Node 20
/// accepts it and then throws from inside every accepted connection's socket constructor
/// (an uncaught exception).
pub fn server_options_from_value(options: &Value) -> Result<ServerOptions, NetError> {
    let get = |k: &str| options.get(k);
    let delay = get("keepAliveInitialDelay");
    let keep_alive_initial_delay = if matches!(delay, Value::Undefined) {
        Duration::ZERO
    } else {
        let ms = validate::validate_number(delay, "options.keepAliveInitialDelay")?;
        keep_alive_delay_from_ms(&Value::Number(ms.max(0.0)))
    };
    let hwm = get("highWaterMark");
    let high_water_mark = if matches!(hwm, Value::Undefined) {
        defaults::high_water_mark()
    } else {
        let n = validate::validate_number(hwm, "options.highWaterMark")?;
        if n < 0.0 {
            defaults::high_water_mark()
        } else if n.fract() != 0.0 || !n.is_finite() {
            return Err(validate::invalid_arg_value(
                "options.highWaterMark",
                hwm,
                None,
            ));
        } else {
            n as usize
        }
    };
    validate_block_list(get("blockList"))?;
    Ok(ServerOptions {
        allow_half_open: get("allowHalfOpen").is_truthy(),
        pause_on_connect: get("pauseOnConnect").is_truthy(),
        no_delay: get("noDelay").is_truthy(),
        keep_alive: get("keepAlive").is_truthy(),
        keep_alive_initial_delay,
        high_water_mark,
        block_list: None,
    })
}

/// `server.getConnections(callback)`: the callback is required (Node's
/// `process.nextTick(cb)` throws `ERR_INVALID_ARG_TYPE` "The "callback" argument must be of
/// type function").
pub fn get_connections_args(callback: &Value) -> Result<(), NetError> {
    validate::validate_function(callback, "callback")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    #[test]
    fn create_server_forms() {
        let _guard = defaults::test_lock();
        let a = server_options_from_args(&[]).unwrap();
        assert_eq!(a.options, ServerOptions::new());
        assert!(!a.has_connection_listener);
        assert!(
            server_options_from_args(&[Value::Function(None)])
                .unwrap()
                .has_connection_listener
        );
        assert!(
            server_options_from_args(&[Value::Null, Value::Function(None)])
                .unwrap()
                .has_connection_listener
        );
        assert!(server_options_from_args(&[Value::Undefined, 5.0.into()]).is_ok());
        assert!(server_options_from_args(&[Value::Array(vec![])]).is_ok());
        let e = server_options_from_args(&[0.0.into()]).unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidArgType);
        assert_eq!(
            e.message,
            "The \"options\" argument must be of type object. Received type number (0)"
        );
        assert_eq!(
            server_options_from_args(&["path".into()])
                .unwrap_err()
                .message,
            "The \"options\" argument must be of type object. Received type string ('path')"
        );

        let o = server_options_from_value(&Value::object(&[
            ("highWaterMark", (-5.0).into()),
            ("keepAliveInitialDelay", (-5.0).into()),
        ]))
        .unwrap();
        assert_eq!(o.high_water_mark, 16384);
        assert_eq!(o.keep_alive_initial_delay, Duration::ZERO);
        let o = server_options_from_value(&Value::object(&[
            ("highWaterMark", 1024.0.into()),
            ("keepAliveInitialDelay", 1999.0.into()),
            ("allowHalfOpen", "x".into()),
            ("pauseOnConnect", 1.0.into()),
            ("noDelay", true.into()),
            ("keepAlive", true.into()),
            ("blockList", Value::Instance("BlockList".into())),
        ]))
        .unwrap();
        assert_eq!(o.high_water_mark, 1024);
        assert_eq!(o.keep_alive_initial_delay, Duration::from_secs(1));
        assert!(o.allow_half_open && o.pause_on_connect && o.no_delay && o.keep_alive);
        assert!(
            o.block_list.is_none(),
            "the list itself is attached by the embedder"
        );
    }

    #[test]
    fn create_server_errors() {
        let e = |v: Value| server_options_from_value(&v).unwrap_err();
        assert_eq!(
            e(Value::object(&[("highWaterMark", Value::Null)])).message,
            "The \"options.highWaterMark\" property must be of type number. Received null"
        );
        assert_eq!(
            e(Value::object(&[("keepAliveInitialDelay", "x".into()), ("highWaterMark", "y".into())])).message,
            "The \"options.keepAliveInitialDelay\" property must be of type number. Received type string ('x')"
        );
        for bad in [f64::NAN, 5.5, f64::INFINITY] {
            assert_eq!(
                e(Value::object(&[("highWaterMark", bad.into())])).code,
                Code::ErrInvalidArgValue
            );
        }
        assert_eq!(
            e(Value::object(&[("blockList", Value::object(&[]))])).code,
            Code::ErrInvalidArgType
        );
        assert_eq!(
            get_connections_args(&Value::Undefined).unwrap_err().message,
            "The \"callback\" argument must be of type function. Received undefined"
        );
        assert!(get_connections_args(&Value::Function(None)).is_ok());
    }
}
