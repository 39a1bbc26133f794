//! Argument rules for every `node:net` entry point, with two faces.
//!
//! * **Typed options** ([`ConnectOptions`], [`SocketOptions`], [`ServerOptions`],
//!   [`ListenOptions`], and the chunks of [`crate::socket::Chunk`]): plain Rust values in which Node's invalid states cannot
//!   be written (a port is a `u16`, a local address an [`std::net::IpAddr`], a target either
//!   TCP or IPC). Their constructors apply Node's defaults.
//! * **The loose face** ([`normalize_connect_args`], [`socket_options_from_value`],
//!   [`server_options_from_args`], [`normalize_listen_args`], [`write_args`],
//!   [`set_timeout_args`], …): takes [`Value`]s exactly as Node's JavaScript functions take
//!   their arguments, applies Node's argument normalisation, coercions and validation
//!   **in Node's order**, and returns the typed options or the [`NetError`] Node would throw
//!   synchronously (same code, class and message).
//!
//! Where Node 20 crashes or silently misbehaves on an argument (spec §7.4), the loose face
//! returns a proper error instead; each such place says so in its documentation.
//!
//! [`NetError`]: crate::error::NetError

pub mod connect;
pub mod inspect;
pub mod listen;
pub mod server;
pub mod socket;
pub mod stream;

pub use connect::{
    normalize_connect_args, normalize_socket_connect_args, socket_connect_args, ConnectOptions,
    LookupHints, SocketConnectThrow, Target,
};
pub use listen::{normalize_listen_args, ListenOptions, ListenTarget, DEFAULT_BACKLOG};
pub use server::{
    get_connections_args, server_options_from_args, server_options_from_value, CreateServerArgs,
    ServerOptions,
};
pub use socket::{
    keep_alive_delay_from_ms, set_keep_alive_args, set_no_delay_arg, set_timeout_args,
    socket_options_from_value, timeout_ms, SetKeepAliveArgs, SetTimeoutArgs, SocketOptions,
};
pub use stream::{end_args, utf16_len, write_args, ChunkArg, Encoding, EndArgs, WriteArgs};

use std::borrow::Cow;

use crate::validate::to_number;
use crate::value::Value;

/// JavaScript `Boolean(value)`: how Node reads `allowHalfOpen`, `noDelay`, `keepAlive`,
/// `pauseOnConnect` and `setNoDelay`/`setKeepAlive`'s `enable`.
pub fn js_boolean(v: &Value) -> bool {
    v.is_truthy()
}

/// `key in value` for an options object (an own property, even one set to `undefined`).
pub(crate) fn has_key(v: &Value, key: &str) -> bool {
    matches!(v, Value::Object(props) if props.iter().any(|(k, _)| k == key))
}

/// Node's `isPipeName`: a string that is not a non-negative number (`'abc'`, `'-1'`,
/// `'8080x'`). `'80'`, `'0x10'`, `'-0'` and `''` are ports.
pub fn is_pipe_name(v: &Value) -> bool {
    matches!(v, Value::String(_)) && !is_non_negative_number(v)
}

/// Node's `toNumber(x)` in `net.js`: `Number(x) >= 0`.
pub(crate) fn is_non_negative_number(v: &Value) -> bool {
    to_number(v) >= 0.0
}

/// The result of Node's `normalizeArgs` (shared by `connect` and `listen`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NormalizedArgs<'a> {
    /// The options object: the first argument when it is an object (borrowed: a huge or
    /// deeply nested argument is not copied), else one built from the positional
    /// arguments (`{path}` or `{port[, host]}`).
    pub options: Cow<'a, Value>,
    /// Whether the last argument is a function (the callback).
    pub has_callback: bool,
}

/// Node's `normalizeArgs(args)`.
pub(crate) fn normalize_args(args: &[Value]) -> NormalizedArgs<'_> {
    let Some(arg0) = args.first() else {
        return NormalizedArgs {
            options: Cow::Owned(Value::Object(Vec::new())),
            has_callback: false,
        };
    };
    let options = match arg0 {
        Value::Object(_) | Value::Array(_) | Value::Instance(_) => Cow::Borrowed(arg0),
        _ if is_pipe_name(arg0) => Cow::Owned(Value::Object(vec![("path".into(), arg0.clone())])),
        _ => {
            let mut props = vec![("port".to_string(), arg0.clone())];
            if let Some(host @ Value::String(_)) = args.get(1) {
                props.push(("host".into(), host.clone()));
            }
            Cow::Owned(Value::Object(props))
        }
    };
    NormalizedArgs {
        options,
        has_callback: matches!(args.last(), Some(Value::Function(_))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_names_follow_node() {
        for s in ["abc", "-1", "8080x", "0x", "/tmp/x.sock"] {
            assert!(is_pipe_name(&s.into()), "{s}");
        }
        for s in ["80", "0x10", "-0", "", " 80 ", "1e3"] {
            assert!(!is_pipe_name(&s.into()), "{s}");
        }
        assert!(!is_pipe_name(&Value::Number(-1.0)));
    }

    #[test]
    fn normalize_args_builds_options() {
        let n = normalize_args(&[]);
        assert_eq!(*n.options, Value::Object(vec![]));
        let args1 = [80.0.into(), "h".into(), Value::Function(None)];
        let n = normalize_args(&args1);
        assert_eq!(
            *n.options,
            Value::Object(vec![
                ("port".into(), 80.0.into()),
                ("host".into(), "h".into())
            ])
        );
        assert!(n.has_callback);
        let args2 = ["abc".into()];
        let n = normalize_args(&args2);
        assert_eq!(
            *n.options,
            Value::Object(vec![("path".into(), "abc".into())])
        );
        let args3 = [80.0.into(), 5.0.into()];
        let n = normalize_args(&args3);
        assert_eq!(
            *n.options,
            Value::Object(vec![("port".into(), 80.0.into())])
        );
        assert!(!n.has_callback);
    }
}
