//! `new net.Socket(options)` and the per-socket setters: `setTimeout`, `setNoDelay`,
//! `setKeepAlive`.

use crate::defaults;
use crate::error::NetError;
use crate::time::Duration;
use crate::validate::{self, to_int32, to_number};
use crate::value::Value;

use super::stream::{unknown_encoding, Encoding};

/// The largest timer duration Node keeps (`TIMEOUT_MAX`, 2^31 − 1 ms); larger values are
/// clamped to it with a `TimeoutOverflowWarning`.
pub const TIMEOUT_MAX: Duration = Duration::from_millis(i32::MAX as u64);

/// Options of `new net.Socket(options)`, typed, with Node's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `fd`: an existing descriptor to wrap (validated as an int32 ≥ 0; adopting it is the
    /// driver's business).
    pub fd: Option<i32>,
    /// `allowHalfOpen` (default false): keep the writable side open after the peer's FIN.
    pub allow_half_open: bool,
    /// `readable: false` starts the readable side ended.
    pub readable: bool,
    /// `writable: false` starts the writable side ended.
    pub writable: bool,
    /// The readable high-water mark (`readableHighWaterMark`, or `highWaterMark`).
    pub readable_high_water_mark: usize,
    /// The writable high-water mark (`writableHighWaterMark`, or `highWaterMark`): where
    /// `write()` starts returning false.
    pub writable_high_water_mark: usize,
    /// `encoding`: `'data'` carries strings decoded with it.
    pub encoding: Option<Encoding>,
    /// `defaultEncoding`: the encoding of string chunks written without one.
    pub default_encoding: Encoding,
    /// `noDelay` (default false): disable Nagle once connected.
    pub no_delay: bool,
    /// `keepAlive` (default false): enable TCP keep-alive once connected.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay`, converted as Node does to whole seconds (negatives → 0);
    /// zero leaves the kernel's default idle time.
    pub keep_alive_initial_delay: Duration,
    /// An `AbortSignal` was given: aborting it destroys the socket with `AbortError`.
    pub has_signal: bool,
    /// `blockList` (Node ≥ 22.13 / 23.4): destinations it denies fail with
    /// `ERR_IP_BLOCKED`. The loose face only validates the argument (a `Value` cannot carry
    /// the list): an embedder attaches its `BlockList` here.
    pub block_list: Option<crate::blocklist::BlockList>,
    /// `onread: {buffer, callback}`: the socket reads into a buffer of this many bytes and
    /// hands each read to the callback ([`SocketEvent::OnRead`](crate::socket::SocketEvent::OnRead))
    /// instead of emitting `'data'`; `pause()` and `resume()` stop and restart reading at
    /// once. The drivers' byte-stream faces (`Read`, `AsyncRead`) then see no bytes.
    pub onread: Option<std::num::NonZeroUsize>,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions::new()
    }
}

impl SocketOptions {
    /// Node's defaults; the high-water marks come from [`defaults::high_water_mark`] now.
    pub fn new() -> SocketOptions {
        let hwm = defaults::high_water_mark();
        SocketOptions {
            fd: None,
            allow_half_open: false,
            readable: true,
            writable: true,
            readable_high_water_mark: hwm,
            writable_high_water_mark: hwm,
            encoding: None,
            default_encoding: Encoding::Utf8,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay: Duration::ZERO,
            has_signal: false,
            block_list: None,
            onread: None,
        }
    }

    /// With `allowHalfOpen`.
    pub fn with_allow_half_open(mut self, v: bool) -> SocketOptions {
        self.allow_half_open = v;
        self
    }

    /// With `noDelay`.
    pub fn with_no_delay(mut self, v: bool) -> SocketOptions {
        self.no_delay = v;
        self
    }

    /// With `keepAlive` and its initial delay, truncated to whole seconds as Node does.
    pub fn with_keep_alive(mut self, enable: bool, initial_delay: Duration) -> SocketOptions {
        self.keep_alive = enable;
        self.keep_alive_initial_delay = Duration::from_secs(initial_delay.as_secs());
        self
    }

    /// With `onread` and a buffer of `buffer_size` bytes.
    pub fn with_onread(mut self, buffer_size: std::num::NonZeroUsize) -> SocketOptions {
        self.onread = Some(buffer_size);
        self
    }

    /// With both high-water marks (`highWaterMark`).
    pub fn with_high_water_mark(mut self, bytes: usize) -> SocketOptions {
        self.readable_high_water_mark = bytes;
        self.writable_high_water_mark = bytes;
        self
    }
}

/// The "must be an instance of AbortSignal" check Node's `validateAbortSignal` makes.
/// Node accepts any object with an `aborted` property (and then crashes on a fake one);
/// only a real [`Value::Instance`]`("AbortSignal")` passes here.
pub(crate) fn validate_abort_signal(v: &Value, name: &str) -> Result<(), NetError> {
    match v {
        Value::Instance(n) if n == "AbortSignal" => Ok(()),
        other => Err(validate::invalid_arg_type(name, &["AbortSignal"], other)),
    }
}

/// The `blockList` check of Node ≥ 22.13 / 23.4: a truthy value must be a `net.BlockList`.
pub(crate) fn validate_block_list(v: &Value) -> Result<bool, NetError> {
    match v {
        Value::Instance(n) if n == "BlockList" => Ok(true),
        other if !other.is_truthy() => Ok(false),
        other => Err(validate::invalid_arg_type(
            "options.blockList",
            &["net.BlockList"],
            other,
        )),
    }
}

/// `~~(ms / 1000)`: Node's conversion of a keep-alive delay in milliseconds to whole
/// seconds (truncation toward zero, any value coerced with `Number()`, NaN → 0).
pub fn keep_alive_delay_secs(ms: &Value) -> i32 {
    to_int32(to_number(ms) / 1000.0)
}

/// A keep-alive delay in milliseconds as a duration of whole seconds; negative results
/// become zero (the option form clamps them; for `setKeepAlive()` Node hands a negative
/// count to the OS, which rejects it and keeps its default — the effect of zero).
pub fn keep_alive_delay_from_ms(ms: &Value) -> Duration {
    Duration::from_secs(u64::try_from(keep_alive_delay_secs(ms)).unwrap_or(0))
}

/// A high-water-mark option of the stream constructor: `null`/`undefined` → `None`;
/// otherwise an integer ≥ 0 or `ERR_INVALID_ARG_VALUE` naming `name`.
fn high_water_mark(v: &Value, name: &str) -> Result<Option<usize>, NetError> {
    match v {
        Value::Undefined | Value::Null => Ok(None),
        Value::Number(n) if n.fract() == 0.0 && n.is_finite() && *n >= 0.0 => Ok(Some(*n as usize)),
        other => Err(validate::invalid_arg_value(name, other, None)),
    }
}

/// The stream constructor's `defaultEncoding` rule.
fn default_encoding(v: &Value) -> Result<Encoding, NetError> {
    match v {
        Value::Undefined | Value::Null => Ok(Encoding::Utf8),
        Value::String(s) => Encoding::from_name(s).ok_or_else(|| unknown_encoding(v)),
        other => Err(unknown_encoding(other)),
    }
}

/// `new net.Socket(options)` with any argument: Node's constructor checks in Node's order —
/// `objectMode`, `readableObjectMode`/`writableObjectMode` (`ERR_INVALID_ARG_VALUE`, "is
/// not supported"), `keepAliveInitialDelay` (a number, negatives clamped to 0), the stream
/// options (`highWaterMark` and the per-side marks: integers ≥ 0, `ERR_INVALID_ARG_VALUE`;
/// `defaultEncoding`, `encoding`: `ERR_UNKNOWN_ENCODING`), `signal` (an `AbortSignal`,
/// `ERR_INVALID_ARG_TYPE`), `fd` (`validateInt32(fd, 'fd', 0)`), then `blockList`
/// (Node ≥ 22.13). A number argument is the legacy `new Socket(fd)`.
pub fn socket_options_from_value(options: &Value) -> Result<SocketOptions, NetError> {
    let get = |k: &str| options.get(k);
    if get("objectMode").is_truthy() {
        return Err(validate::invalid_arg_value(
            "options.objectMode",
            get("objectMode"),
            Some("is not supported"),
        ));
    }
    let readable_om = get("readableObjectMode");
    let writable_om = get("writableObjectMode");
    if readable_om.is_truthy() || writable_om.is_truthy() {
        let (name, value) = if readable_om.is_truthy() {
            ("options.readableObjectMode", readable_om)
        } else {
            ("options.writableObjectMode", writable_om)
        };
        return Err(validate::invalid_arg_value(
            name,
            value,
            Some("is not supported"),
        ));
    }
    let delay = get("keepAliveInitialDelay");
    let keep_alive_initial_delay = if matches!(delay, Value::Undefined) {
        Duration::ZERO
    } else {
        let ms = validate::validate_number(delay, "options.keepAliveInitialDelay")?;
        keep_alive_delay_from_ms(&Value::Number(ms.max(0.0)))
    };

    let fd_value = match options {
        Value::Number(_) => options,
        _ => get("fd"),
    };
    let hwm = get("highWaterMark");
    let side_hwm =
        |side: &str| -> Result<usize, NetError> {
            let key = format!("{side}HighWaterMark");
            let v = if hwm.is_nullish() { get(&key) } else { hwm };
            Ok(high_water_mark(v, &format!("options.{key}"))?
                .unwrap_or_else(defaults::high_water_mark))
        };
    let readable_high_water_mark = side_hwm("readable")?;
    let default_encoding = default_encoding(get("defaultEncoding"))?;
    let encoding = match get("encoding") {
        e if !e.is_truthy() => None,
        Value::String(s) => {
            Some(Encoding::from_name(s).ok_or_else(|| unknown_encoding(get("encoding")))?)
        }
        other => return Err(unknown_encoding(other)),
    };
    let writable_high_water_mark = side_hwm("writable")?;
    let signal = get("signal");
    if signal.is_truthy() {
        validate_abort_signal(signal, "signal")?;
    }
    let fd = match fd_value {
        Value::Undefined => None,
        v => Some(validate::validate_int32(v, "fd", 0, i32::MAX)?),
    };
    validate_block_list(get("blockList"))?;

    Ok(SocketOptions {
        fd,
        allow_half_open: get("allowHalfOpen").is_truthy(),
        readable: !matches!(get("readable"), Value::Bool(false)),
        writable: !matches!(get("writable"), Value::Bool(false)),
        readable_high_water_mark,
        writable_high_water_mark,
        encoding,
        default_encoding,
        no_delay: get("noDelay").is_truthy(),
        keep_alive: get("keepAlive").is_truthy(),
        keep_alive_initial_delay,
        has_signal: signal.is_truthy(),
        block_list: None,
        onread: onread(get("onread")),
    })
}

/// Node's `onread` rule: an object whose `buffer` is a `Uint8Array` (or a function giving
/// one) and whose `callback` is a function; anything else is ignored, unchecked. Only a
/// buffer can be read here (a `Value` cannot call a function to learn its buffer's
/// size), and only a non-empty one (with an empty one Node's reads fail with `ENOBUFS`).
fn onread(v: &Value) -> Option<std::num::NonZeroUsize> {
    match (v.get("buffer"), v.get("callback")) {
        (Value::Buffer(b), Value::Function(_)) => std::num::NonZeroUsize::new(b.len()),
        _ => None,
    }
}

/// Node's `getTimerDuration(msecs, 'msecs')` plus the timer's own rule: a non-number →
/// `ERR_INVALID_ARG_TYPE`; negative, NaN or ±Infinity → `ERR_OUT_OF_RANGE`; above
/// 2^31 − 1 clamped to it (Node warns); 0 (or −0) → `None`, the timer disabled; fractions
/// are kept, except that anything below 1 ms behaves as 1 ms.
pub fn timeout_ms(ms: &Value) -> Result<Option<Duration>, NetError> {
    let n = validate::validate_number(ms, "msecs")?;
    if n < 0.0 || !n.is_finite() {
        return Err(validate::out_of_range(
            "msecs",
            "a non-negative finite number",
            ms,
        ));
    }
    if n == 0.0 {
        return Ok(None);
    }
    let clamped = n.clamp(1.0, f64::from(i32::MAX));
    Ok(Some(Duration::from_nanos((clamped * 1e6).round() as u64)))
}

/// `socket.setTimeout(msecs[, callback])`, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetTimeoutArgs {
    /// The idle timeout; `None` disables it (and removes the callback from `'timeout'`).
    pub timeout: Option<Duration>,
    /// A callback was given (added with `once('timeout')`, or removed when disabling).
    pub has_callback: bool,
}

/// `socket.setTimeout(msecs, callback)` with any arguments (pass `Value::Undefined` for a
/// missing callback): [`timeout_ms`], then a callback other than `undefined` must be a
/// function (`ERR_INVALID_ARG_TYPE`, also when `msecs` is 0).
///
/// Node checks the callback only **after** it has stored `socket.timeout` and re-armed or
/// cleared the timer, so a call failing on its callback still changes the timer; to
/// reproduce that, apply [`timeout_ms`] first. On a destroyed socket Node validates nothing
/// (the state machine decides that, not this function).
pub fn set_timeout_args(msecs: &Value, callback: &Value) -> Result<SetTimeoutArgs, NetError> {
    let timeout = timeout_ms(msecs)?;
    if !matches!(callback, Value::Undefined) {
        validate::validate_function(callback, "callback")?;
    }
    Ok(SetTimeoutArgs {
        timeout,
        has_callback: !matches!(callback, Value::Undefined),
    })
}

/// `socket.setNoDelay([noDelay])`: `undefined` means true, anything else `Boolean()`.
pub fn set_no_delay_arg(enable: &Value) -> bool {
    matches!(enable, Value::Undefined) || enable.is_truthy()
}

/// `socket.setKeepAlive([enable][, initialDelay])`, coerced as Node coerces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SetKeepAliveArgs {
    /// `Boolean(enable)`.
    pub enable: bool,
    /// `~~(initialDelay / 1000)` seconds (see [`keep_alive_delay_from_ms`]).
    pub initial_delay: Duration,
}

/// `socket.setKeepAlive(enable, initialDelay)` with any arguments. It throws only where
/// Node's `initialDelay / 1000` does: for an array nested past
/// [`validate::MAX_JOIN_DEPTH`] (`RangeError: Maximum call stack size exceeded`).
pub fn set_keep_alive_args(
    enable: &Value,
    initial_delay_ms: &Value,
) -> Result<SetKeepAliveArgs, NetError> {
    validate::check_join_depth(initial_delay_ms)?;
    Ok(SetKeepAliveArgs {
        enable: enable.is_truthy(),
        initial_delay: keep_alive_delay_from_ms(initial_delay_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn err(v: Value) -> (Code, String) {
        let e = socket_options_from_value(&v).unwrap_err();
        (e.code, e.message)
    }

    #[test]
    fn constructor_defaults() {
        let _guard = defaults::test_lock();
        let o = socket_options_from_value(&Value::Undefined).unwrap();
        assert_eq!(o, SocketOptions::new());
        assert_eq!(o.writable_high_water_mark, 16384);
        assert!(!o.allow_half_open && !o.no_delay && !o.keep_alive && o.readable);
        assert_eq!(socket_options_from_value(&"abc".into()).unwrap(), o);
        assert_eq!(socket_options_from_value(&Value::Null).unwrap(), o);
        let o = socket_options_from_value(&Value::object(&[
            ("highWaterMark", Value::Null),
            ("readableHighWaterMark", 7.0.into()),
            ("allowHalfOpen", "x".into()),
            ("keepAlive", 1.0.into()),
            ("keepAliveInitialDelay", (-123000.0).into()),
            ("signal", Value::Instance("AbortSignal".into())),
            ("fd", 3.0.into()),
            ("readable", false.into()),
            ("encoding", "HEX".into()),
        ]))
        .unwrap();
        assert_eq!(o.readable_high_water_mark, 7);
        assert_eq!(o.writable_high_water_mark, 16384);
        assert!(o.allow_half_open && o.keep_alive && o.has_signal && !o.readable);
        assert_eq!(o.keep_alive_initial_delay, Duration::ZERO);
        assert_eq!(o.fd, Some(3));
        assert_eq!(o.encoding, Some(Encoding::Hex));
        let o =
            socket_options_from_value(&Value::object(&[("keepAliveInitialDelay", 7999.0.into())]))
                .unwrap();
        assert_eq!(o.keep_alive_initial_delay, Duration::from_secs(7));
        // `signal: null` / `0` are falsy: not validated, no signal.
        assert!(
            !socket_options_from_value(&Value::object(&[("signal", Value::Null)]))
                .unwrap()
                .has_signal
        );
    }

    #[test]
    fn constructor_errors_match_node() {
        assert_eq!(
            err(Value::object(&[("readableObjectMode", true.into())])),
            (
                Code::ErrInvalidArgValue,
                "The property 'options.readableObjectMode' is not supported. Received true".into()
            )
        );
        assert_eq!(
            err(Value::object(&[
                ("objectMode", 0.0.into()),
                ("writableObjectMode", "x".into())
            ]))
            .1,
            "The property 'options.writableObjectMode' is not supported. Received 'x'"
        );
        assert_eq!(
            err(Value::object(&[(
                "objectMode",
                Value::object(&[("a", 1.0.into())])
            )]))
            .1,
            "The property 'options.objectMode' is not supported. Received { a: 1 }"
        );
        assert_eq!(
            err(1.5.into()),
            (
                Code::ErrOutOfRange,
                "The value of \"fd\" is out of range. It must be an integer. Received 1.5".into()
            )
        );
        assert_eq!(
            err(Value::object(&[("fd", (-1.0).into())])).1,
            "The value of \"fd\" is out of range. It must be >= 0 && <= 2147483647. Received -1"
        );
        assert_eq!(
            err(Value::object(&[("fd", Value::Null)])).1,
            "The \"fd\" argument must be of type number. Received null"
        );
        assert_eq!(
            err(Value::object(&[("keepAliveInitialDelay", Value::Null)])).1,
            "The \"options.keepAliveInitialDelay\" property must be of type number. Received null"
        );
        assert_eq!(
            err(Value::object(&[("signal", "x".into())])).1,
            "The \"signal\" argument must be an instance of AbortSignal. Received type string ('x')"
        );
        assert_eq!(
            err(Value::object(&[(
                "signal",
                Value::object(&[("aborted", false.into())])
            )]))
            .0,
            Code::ErrInvalidArgType
        );
        assert_eq!(
            err(Value::object(&[("highWaterMark", (-1.0).into())])).1,
            "The property 'options.readableHighWaterMark' is invalid. Received -1"
        );
        assert_eq!(
            err(Value::object(&[("highWaterMark", "5".into())])).1,
            "The property 'options.readableHighWaterMark' is invalid. Received '5'"
        );
        assert_eq!(
            err(Value::object(&[("writableHighWaterMark", (-7.0).into())])).1,
            "The property 'options.writableHighWaterMark' is invalid. Received -7"
        );
        assert_eq!(
            err(Value::object(&[("encoding", "bogus".into())])),
            (Code::ErrUnknownEncoding, "Unknown encoding: bogus".into())
        );
        assert_eq!(
            err(Value::object(&[("defaultEncoding", "".into())])).1,
            "Unknown encoding: "
        );
        assert_eq!(
            err(Value::object(&[("blockList", "x".into())])).1,
            "The \"options.blockList\" property must be an instance of net.BlockList. Received type string ('x')"
        );
        // Order: the object-mode check precedes everything else.
        assert_eq!(
            err(Value::object(&[
                ("fd", "x".into()),
                ("writableObjectMode", true.into())
            ]))
            .0,
            Code::ErrInvalidArgValue
        );
        // keepAliveInitialDelay precedes the stream options, which precede signal and fd.
        assert_eq!(
            err(Value::object(&[
                ("fd", "x".into()),
                ("signal", "x".into()),
                ("highWaterMark", (-1.0).into()),
                ("keepAliveInitialDelay", "x".into())
            ]))
            .1,
            "The \"options.keepAliveInitialDelay\" property must be of type number. Received type string ('x')"
        );
        assert_eq!(
            err(Value::object(&[("fd", "x".into()), ("signal", "x".into())])).1,
            "The \"signal\" argument must be an instance of AbortSignal. Received type string ('x')"
        );
    }

    #[test]
    fn set_timeout_rules() {
        let t = |v: Value| timeout_ms(&v).map_err(|e| e.code);
        assert_eq!(t(0.0.into()), Ok(None));
        assert_eq!(t((-0.0).into()), Ok(None));
        assert_eq!(t(0.5.into()), Ok(Some(Duration::from_millis(1))));
        assert_eq!(t(1.5.into()), Ok(Some(Duration::from_micros(1500))));
        assert_eq!(t(100.0.into()), Ok(Some(Duration::from_millis(100))));
        assert_eq!(t(2147483648.0.into()), Ok(Some(TIMEOUT_MAX)));
        for bad in [-1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(t(bad.into()), Err(Code::ErrOutOfRange), "{bad}");
        }
        assert_eq!(t("100".into()), Err(Code::ErrInvalidArgType));
        assert_eq!(
            timeout_ms(&(-1.0).into()).unwrap_err().message,
            "The value of \"msecs\" is out of range. It must be a non-negative finite number. Received -1"
        );
        assert_eq!(
            timeout_ms(&"100".into()).unwrap_err().message,
            "The \"msecs\" argument must be of type number. Received type string ('100')"
        );
        let e = set_timeout_args(&0.0.into(), &"notfn".into()).unwrap_err();
        assert_eq!(
            e.message,
            "The \"callback\" argument must be of type function. Received type string ('notfn')"
        );
        assert_eq!(
            set_timeout_args(&10.0.into(), &Value::Function(None)).unwrap(),
            SetTimeoutArgs {
                timeout: Some(Duration::from_millis(10)),
                has_callback: true
            }
        );
        // The duration is checked before the callback.
        assert_eq!(
            set_timeout_args(&(-1.0).into(), &"x".into())
                .unwrap_err()
                .code,
            Code::ErrOutOfRange
        );
    }

    #[test]
    fn no_delay_and_keep_alive_coercions() {
        assert!(set_no_delay_arg(&Value::Undefined));
        assert!(!set_no_delay_arg(&Value::Null));
        assert!(!set_no_delay_arg(&0.0.into()));
        assert!(set_no_delay_arg(&"x".into()));
        for (ms, secs) in [
            (Value::Number(123.0), 0),
            (Value::Number(456123.0), 456),
            (Value::Undefined, 0),
            (Value::String("5000".into()), 5),
            (Value::String("x".into()), 0),
            (Value::Number(-5000.0), -5),
            (Value::Number(1e13), 1410065408),
        ] {
            assert_eq!(keep_alive_delay_secs(&ms), secs, "{ms:?}");
        }
        assert_eq!(
            set_keep_alive_args(&1.0.into(), &(-5000.0).into()).unwrap(),
            SetKeepAliveArgs {
                enable: true,
                initial_delay: Duration::ZERO
            }
        );
        assert_eq!(
            set_keep_alive_args(&Value::Undefined, &7000.0.into())
                .unwrap()
                .initial_delay,
            Duration::from_secs(7)
        );
    }
}
