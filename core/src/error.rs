//! Node's errors: a `code`, a JavaScript class name, a message in Node's words, and the
//! extra fields Node attaches to system errors (`syscall`, `address`, `port`, `errno`).
//!
//! API misuse is returned as `Err(NetError)` where Node throws synchronously; OS and peer
//! failures leave the core as an `'error'` event carrying a `NetError`.

use std::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $class:ident; )*) => {
        /// Node's error codes (`err.code`) that sansnet produces, plus the errno names.
        ///
        /// `Custom` carries any other code, such as the one a user passes to
        /// `destroy(err)`.
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
            /// A code sansnet does not know by name (user errors, rare errno names).
            Custom(String),
        }

        /// Node's name, e.g. `ERR_SOCKET_BAD_PORT`.
        impl fmt::Debug for Code {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Code {
            /// The code as Node spells it, e.g. `"ERR_SOCKET_BAD_PORT"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Code::$variant => $text, )*
                    Code::Custom(s) => s,
                }
            }

            /// The JavaScript class Node uses for this code when it throws it.
            pub fn default_class(&self) -> ErrorClass {
                match self {
                    $( Code::$variant => ErrorClass::$class, )*
                    Code::Custom(_) => ErrorClass::Error,
                }
            }

            /// The code for its text; unknown texts become [`Code::Custom`].
            pub fn from_name(name: &str) -> Code {
                match name {
                    $( $text => Code::$variant, )*
                    other => Code::Custom(other.to_string()),
                }
            }
        }
    };
}

codes! {
    /// A port outside 0..=65535 or not an integer.
    ErrSocketBadPort = "ERR_SOCKET_BAD_PORT", RangeError;
    /// An argument of the wrong JavaScript type.
    ErrInvalidArgType = "ERR_INVALID_ARG_TYPE", TypeError;
    /// An argument of the right type with an unacceptable value.
    ErrInvalidArgValue = "ERR_INVALID_ARG_VALUE", TypeError;
    /// A number outside its allowed range.
    ErrOutOfRange = "ERR_OUT_OF_RANGE", RangeError;
    /// A required argument is missing.
    ErrMissingArgs = "ERR_MISSING_ARGS", TypeError;
    /// Text that is not a socket address (SocketAddress, BlockList).
    ErrInvalidAddress = "ERR_INVALID_ADDRESS", Error;
    /// Text that is not an IP address where one is required.
    ErrInvalidIpAddress = "ERR_INVALID_IP_ADDRESS", TypeError;
    /// A lookup answered with a family that is neither 4 nor 6.
    ErrInvalidAddressFamily = "ERR_INVALID_ADDRESS_FAMILY", RangeError;
    /// The destination is denied by the socket's `blockList`.
    ErrIpBlocked = "ERR_IP_BLOCKED", Error;
    /// `listen()` on a server that already has a handle.
    ErrServerAlreadyListen = "ERR_SERVER_ALREADY_LISTEN", Error;
    /// `close()` on a server that is not listening.
    ErrServerNotRunning = "ERR_SERVER_NOT_RUNNING", Error;
    /// The socket has no connection (write on a never-connected socket, reset without one).
    ErrSocketClosed = "ERR_SOCKET_CLOSED", Error;
    /// A write queued while connecting, failed because the socket closed first.
    ErrSocketClosedBeforeConnection = "ERR_SOCKET_CLOSED_BEFORE_CONNECTION", Error;
    /// Happy eyeballs ended without any attempt (unreachable in practice).
    ErrSocketConnectionTimeout = "ERR_SOCKET_CONNECTION_TIMEOUT", Error;
    /// `write()` after `end()`.
    ErrStreamWriteAfterEnd = "ERR_STREAM_WRITE_AFTER_END", Error;
    /// `write()` after `destroy()`.
    ErrStreamDestroyed = "ERR_STREAM_DESTROYED", Error;
    /// `end(cb)` after `'finish'`.
    ErrStreamAlreadyFinished = "ERR_STREAM_ALREADY_FINISHED", Error;
    /// `write(null)`.
    ErrStreamNullValues = "ERR_STREAM_NULL_VALUES", TypeError;
    /// An encoding name Node does not know.
    ErrUnknownEncoding = "ERR_UNKNOWN_ENCODING", TypeError;
    /// `resetAndDestroy()` on a connection that is not TCP.
    ErrInvalidHandleType = "ERR_INVALID_HANDLE_TYPE", TypeError;
    /// An operation aborted through an `AbortSignal`.
    AbortErr = "ABORT_ERR", AbortError;
    /// Connection refused.
    Econnrefused = "ECONNREFUSED", Error;
    /// Connection reset by peer.
    Econnreset = "ECONNRESET", Error;
    /// Timed out.
    Etimedout = "ETIMEDOUT", Error;
    /// Address already in use.
    Eaddrinuse = "EADDRINUSE", Error;
    /// Address not available on this host.
    Eaddrnotavail = "EADDRNOTAVAIL", Error;
    /// Permission denied.
    Eacces = "EACCES", Error;
    /// No such file or directory (missing unix socket path).
    Enoent = "ENOENT", Error;
    /// Not a socket.
    Enotsock = "ENOTSOCK", Error;
    /// Broken pipe.
    Epipe = "EPIPE", Error;
    /// Operation cancelled.
    Ecanceled = "ECANCELED", Error;
    /// A connect is already in progress.
    Ealready = "EALREADY", Error;
    /// Host name not found.
    Enotfound = "ENOTFOUND", Error;
    /// Non-recoverable name server failure.
    EaiFail = "EAI_FAIL", Error;
    /// Temporary name server failure.
    EaiAgain = "EAI_AGAIN", Error;
    /// Network unreachable.
    Enetunreach = "ENETUNREACH", Error;
    /// Host unreachable.
    Ehostunreach = "EHOSTUNREACH", Error;
    /// Address family not supported.
    Eafnosupport = "EAFNOSUPPORT", Error;
    /// Invalid argument.
    Einval = "EINVAL", Error;
    /// File name too long (a unix socket path longer than the OS allows).
    Enametoolong = "ENAMETOOLONG", Error;
    /// Too many open files.
    Emfile = "EMFILE", Error;
    /// Too many open files in the system.
    Enfile = "ENFILE", Error;
    /// Operation not permitted.
    Eperm = "EPERM", Error;
    /// Connection aborted.
    Econnaborted = "ECONNABORTED", Error;
    /// Socket not connected.
    Enotconn = "ENOTCONN", Error;
    /// Bad file descriptor.
    Ebadf = "EBADF", Error;
    /// Resource temporarily unavailable.
    Eagain = "EAGAIN", Error;
    /// Not a directory.
    Enotdir = "ENOTDIR", Error;
    /// Read-only file system.
    Erofs = "EROFS", Error;
    /// Protocol not supported.
    Eprotonosupport = "EPROTONOSUPPORT", Error;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Linux errno numbers with their names and libuv's descriptions, for
/// [`Code::from_errno`], [`Code::errno`] and [`NetError::uv_description`].
const ERRNO_TABLE: &[(i32, Code, &str)] = &[
    (1, Code::Eperm, "operation not permitted"),
    (2, Code::Enoent, "no such file or directory"),
    (9, Code::Ebadf, "bad file descriptor"),
    (11, Code::Eagain, "resource temporarily unavailable"),
    (13, Code::Eacces, "permission denied"),
    (20, Code::Enotdir, "not a directory"),
    (22, Code::Einval, "invalid argument"),
    (23, Code::Enfile, "file table overflow"),
    (24, Code::Emfile, "too many open files"),
    (30, Code::Erofs, "read-only file system"),
    (32, Code::Epipe, "broken pipe"),
    (36, Code::Enametoolong, "name too long"),
    (88, Code::Enotsock, "socket operation on non-socket"),
    (93, Code::Eprotonosupport, "protocol not supported"),
    (97, Code::Eafnosupport, "address family not supported"),
    (98, Code::Eaddrinuse, "address already in use"),
    (99, Code::Eaddrnotavail, "address not available"),
    (101, Code::Enetunreach, "network is unreachable"),
    (103, Code::Econnaborted, "software caused connection abort"),
    (104, Code::Econnreset, "connection reset by peer"),
    (107, Code::Enotconn, "socket is not connected"),
    (110, Code::Etimedout, "connection timed out"),
    (111, Code::Econnrefused, "connection refused"),
    (113, Code::Ehostunreach, "host is unreachable"),
    (114, Code::Ealready, "connection already in progress"),
    (125, Code::Ecanceled, "operation canceled"),
];

impl Code {
    /// The errno name for a raw (positive, Linux) OS error number, as Node names it.
    /// Unknown numbers become `Custom("Unknown system error N")`.
    pub fn from_errno(errno: i32) -> Code {
        let n = errno.abs();
        ERRNO_TABLE
            .iter()
            .find(|(e, _, _)| *e == n)
            .map(|(_, c, _)| c.clone())
            .unwrap_or_else(|| Code::Custom(format!("Unknown system error {n}")))
    }

    /// Node's (negative, libuv) `errno` for an errno code, if this is one.
    pub fn errno(&self) -> Option<i32> {
        ERRNO_TABLE
            .iter()
            .find(|(_, c, _)| c == self)
            .map(|(e, _, _)| -*e)
    }

    /// libuv's description of an errno code (`"address already in use"`).
    pub fn uv_description(&self) -> Option<&'static str> {
        ERRNO_TABLE
            .iter()
            .find(|(_, c, _)| c == self)
            .map(|(_, _, d)| *d)
    }
}

/// The JavaScript class of an error (`err.name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// `Error` (also system errors).
    Error,
    /// `TypeError`.
    TypeError,
    /// `RangeError`.
    RangeError,
    /// `AbortError`.
    AbortError,
    /// `AggregateError` (happy eyeballs, every attempt failed).
    AggregateError,
    /// Not an `Error` object: a value the application gave `destroy()` (a string, a
    /// number, `true`), whose text (`String(value)`) is the message
    /// ([`NetError::value`]).
    Value,
}

impl ErrorClass {
    /// The class name as JavaScript prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Error => "Error",
            ErrorClass::TypeError => "TypeError",
            ErrorClass::RangeError => "RangeError",
            ErrorClass::AbortError => "AbortError",
            ErrorClass::AggregateError => "AggregateError",
            ErrorClass::Value => "",
        }
    }
}

/// An error as Node reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetError {
    /// `err.code`.
    pub code: Code,
    /// `err.name`.
    pub class: ErrorClass,
    /// `err.message`, in Node's words.
    pub message: String,
    /// `err.syscall` for system errors (`"connect"`, `"listen"`, `"bind"`, `"read"`, …).
    pub syscall: Option<&'static str>,
    /// `err.address` for system errors (an IP or a unix path).
    pub address: Option<Box<str>>,
    /// `err.port`: for system errors Node sets it only when non-zero (`-1` for a unix
    /// path, as Node's `listen` reports it); `ERR_INVALID_ADDRESS_FAMILY` always has one.
    pub port: Option<i32>,
    /// The inner errors of an `AggregateError`, in attempt order.
    pub errors: Box<[NetError]>,
    /// `err.localAddress` and `err.localPort` of a connect error whose socket was bound
    /// to a local port (see [`NetError::with_local`]).
    pub local: Option<Box<LocalName>>,
}

/// The local name a failed connect was bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalName {
    /// `err.localAddress`.
    pub address: String,
    /// `err.localPort`.
    pub port: u16,
}

impl NetError {
    /// An error with Node's default class for `code` and the given message.
    pub fn new(code: Code, message: impl Into<String>) -> NetError {
        NetError {
            class: code.default_class(),
            code,
            message: message.into(),
            syscall: None,
            address: None,
            port: None,
            errors: Box::default(),
            local: None,
        }
    }

    /// A user error with an arbitrary code (what `destroy(err)` is given).
    pub fn custom(code: &str, message: impl Into<String>) -> NetError {
        NetError::new(Code::from_name(code), message)
    }

    /// A value that is not an `Error` given to `destroy(value)`: Node only tests its
    /// truthiness, so a truthy string, number or `true` is emitted as the `'error'` as it
    /// is. `text` is `String(value)`; it is also the error's [`NetError::trace_code`].
    pub fn value(text: impl Into<String>) -> NetError {
        NetError {
            class: ErrorClass::Value,
            ..NetError::new(Code::Custom(String::new()), text)
        }
    }

    /// A system error from a syscall, shaped as Node's `ExceptionWithHostPort`:
    /// message `"<syscall> <CODE> <address>:<port>"` (no port part when `port` is `None` or 0).
    pub fn syscall(
        code: Code,
        syscall: &'static str,
        address: Option<&str>,
        port: Option<u16>,
    ) -> NetError {
        let port = port.filter(|p| *p != 0);
        let mut message = format!("{syscall} {}", code.as_str());
        if let Some(a) = address {
            message.push(' ');
            message.push_str(a);
            if let Some(p) = port {
                message.push_str(&format!(":{p}"));
            }
        }
        NetError {
            class: ErrorClass::Error,
            code,
            message,
            syscall: Some(syscall),
            address: address.map(Box::from),
            port: port.filter(|p| *p != 0).map(i32::from),
            errors: Box::default(),
            local: None,
        }
    }

    /// A listen failure as Node words it:
    /// `"listen EADDRINUSE: address already in use 127.0.0.1:8080"`. A unix path (`port`
    /// `None`) has port `-1`, as in Node.
    pub fn listen(code: Code, address: &str, port: Option<u16>) -> NetError {
        let desc = code.uv_description().unwrap_or("unknown error");
        let mut message = format!("listen {}: {desc} {address}", code.as_str());
        let port = Some(port.map_or(-1, i32::from)).filter(|p| *p != 0);
        if let Some(p) = port.filter(|p| *p > 0) {
            message.push_str(&format!(":{p}"));
        }
        NetError {
            class: ErrorClass::Error,
            code,
            message,
            syscall: Some("listen"),
            address: Some(Box::from(address)),
            port,
            errors: Box::default(),
            local: None,
        }
    }

    /// Happy eyeballs' final error: an `AggregateError` whose code is its first error's.
    /// With no errors at all Node would report `ERR_SOCKET_CONNECTION_TIMEOUT`.
    pub fn aggregate(errors: Vec<NetError>) -> NetError {
        match errors.first() {
            None => NetError::new(
                Code::ErrSocketConnectionTimeout,
                "Socket connection timeout",
            ),
            Some(first) => NetError {
                code: first.code.clone(),
                class: ErrorClass::AggregateError,
                message: String::new(),
                syscall: None,
                address: None,
                port: None,
                errors: errors.into(),
                local: None,
            },
        }
    }

    /// `ERR_INVALID_ADDRESS_FAMILY` for a lookup answer of an unknown family: "Invalid
    /// address family: 100 localhost:80", with the port (even 0) as its `port`.
    pub fn invalid_address_family(family: i64, host: &str, port: u16) -> NetError {
        NetError {
            port: Some(i32::from(port)),
            ..NetError::new(
                Code::ErrInvalidAddressFamily,
                format!("Invalid address family: {family} {host}:{port}"),
            )
        }
    }

    /// A connect error of a socket bound to a local port, as Node's `afterConnect` words
    /// it: `"connect ECONNREFUSED 127.0.0.1:80 - Local (127.0.0.1:5000)"`, with
    /// `localAddress` and `localPort`.
    pub fn with_local(mut self, address: &str, port: u16) -> NetError {
        self.message
            .push_str(&format!(" - Local ({address}:{port})"));
        self.local = Some(Box::new(LocalName {
            address: address.to_string(),
            port,
        }));
        self
    }

    /// `RangeError: Maximum call stack size exceeded`: the engine error (no `code`; its
    /// [`Code`] is an empty [`Code::Custom`]) Node throws where converting a deeply nested
    /// array to a string or number exhausts its stack
    /// ([`crate::validate::check_join_depth`]).
    pub fn stack_overflow() -> NetError {
        let mut e = NetError::new(
            Code::Custom(String::new()),
            "Maximum call stack size exceeded",
        );
        e.class = ErrorClass::RangeError;
        e
    }

    /// The `AbortError` an aborted signal destroys a socket with.
    pub fn abort() -> NetError {
        NetError::new(Code::AbortErr, "The operation was aborted")
    }

    /// `err.errno` (negative, as libuv reports it) for system errors.
    pub fn errno(&self) -> Option<i32> {
        self.code.errno()
    }

    /// The form the conformance trace prints: the code, or for an `AggregateError`
    /// `AggregateError[CODE,CODE,…]`.
    pub fn trace_code(&self) -> String {
        if self.class == ErrorClass::AggregateError {
            let inner: Vec<String> = self.errors.iter().map(|e| e.trace_code()).collect();
            format!("AggregateError[{}]", inner.join(","))
        } else if self.class == ErrorClass::Value {
            self.message.clone()
        } else {
            self.code.as_str().to_string()
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.class == ErrorClass::Value {
            return f.write_str(&self.message);
        }
        if self.code.as_str().is_empty() {
            return write!(f, "{}: {}", self.class.as_str(), self.message);
        }
        write!(
            f,
            "{} [{}]: {}",
            self.class.as_str(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for NetError {}

impl Code {
    /// Node's code for an OS error: its errno name, or for an error without an errno the
    /// code of its kind (`EIO` when none fits).
    pub fn from_io_error(e: &std::io::Error) -> Code {
        use std::io::ErrorKind as K;
        if let Some(n) = e.raw_os_error() {
            return Code::from_errno(n);
        }
        match e.kind() {
            K::InvalidInput => Code::Einval,
            K::WouldBlock => Code::Eagain,
            K::ConnectionRefused => Code::Econnrefused,
            K::ConnectionReset => Code::Econnreset,
            K::BrokenPipe | K::WriteZero => Code::Epipe,
            K::NotConnected => Code::Enotconn,
            K::TimedOut => Code::Etimedout,
            _ => Code::Custom("EIO".into()),
        }
    }
}

/// A [`NetError`] carried by an [`std::io::Error`]: it displays as the error and gives it
/// as its [`source`](std::error::Error::source), so an error report reaches Node's code,
/// message and details. [`NetError::of_io`] finds it.
#[derive(Debug)]
pub struct IoCause(pub NetError);

impl fmt::Display for IoCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl NetError {
    /// `ERR_SERVER_NOT_RUNNING`, as Node words it (`close(cb)` of a server that is not
    /// listening; a listen that ended before `'listening'`).
    pub fn server_not_running() -> NetError {
        NetError::new(Code::ErrServerNotRunning, "Server is not running.")
    }

    /// The Node error an [`std::io::Error`] made from one carries (`None` for an OS
    /// error that never was one).
    pub fn of_io(e: &std::io::Error) -> Option<&NetError> {
        e.get_ref()?.downcast_ref::<IoCause>().map(|c| &c.0)
    }
}

impl From<NetError> for std::io::Error {
    /// A Node error as an [`std::io::Error`] of the closest kind; its `source()` is the
    /// [`NetError`] ([`NetError::of_io`] finds it).
    fn from(e: NetError) -> std::io::Error {
        use std::io::ErrorKind as K;
        let kind = match e.code {
            Code::Econnrefused => K::ConnectionRefused,
            Code::Econnreset => K::ConnectionReset,
            Code::Econnaborted => K::ConnectionAborted,
            Code::Epipe => K::BrokenPipe,
            Code::Etimedout => K::TimedOut,
            Code::Eaddrinuse => K::AddrInUse,
            Code::Eaddrnotavail => K::AddrNotAvailable,
            Code::Enoent | Code::Enotfound => K::NotFound,
            Code::Enotconn | Code::ErrSocketClosed => K::NotConnected,
            Code::Eacces | Code::Eperm => K::PermissionDenied,
            Code::Einval => K::InvalidInput,
            _ => K::Other,
        };
        std::io::Error::new(kind, IoCause(e))
    }
}

/// `Result` with a [`NetError`].
pub type Result<T, E = NetError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_error_made_from_a_node_error_gives_it_as_its_source() {
        use std::error::Error as _;
        let e = NetError::syscall(Code::Econnrefused, "connect", Some("127.0.0.1"), Some(9));
        let io: std::io::Error = e.clone().into();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(io.to_string(), e.to_string());
        let source = io.source().expect("a source");
        assert_eq!(source.downcast_ref::<NetError>(), Some(&e));
        assert_eq!(NetError::of_io(&io), Some(&e));
        assert_eq!(NetError::of_io(&std::io::Error::other("os")), None);
        assert_eq!(format!("{:?}", e.code), "ECONNREFUSED");
    }

    #[test]
    fn errno_round_trip() {
        assert_eq!(Code::from_errno(111), Code::Econnrefused);
        assert_eq!(Code::from_errno(-98), Code::Eaddrinuse);
        assert_eq!(Code::Econnrefused.errno(), Some(-111));
        assert_eq!(Code::from_errno(4000).as_str(), "Unknown system error 4000");
    }

    #[test]
    fn syscall_messages_follow_node() {
        let e = NetError::syscall(
            Code::Econnrefused,
            "connect",
            Some("127.0.0.1"),
            Some(36767),
        );
        assert_eq!(e.message, "connect ECONNREFUSED 127.0.0.1:36767");
        let e = NetError::syscall(Code::Enoent, "connect", Some("/tmp/x.sock"), None);
        assert_eq!(e.message, "connect ENOENT /tmp/x.sock");
        assert_eq!(e.port, None);
        let e = NetError::listen(Code::Eaddrinuse, "127.0.0.1", Some(8080));
        assert_eq!(
            e.message,
            "listen EADDRINUSE: address already in use 127.0.0.1:8080"
        );
    }

    #[test]
    fn aggregate_takes_first_code() {
        let a = NetError::syscall(Code::Etimedout, "connect", Some("127.0.0.1"), Some(1));
        let b = NetError::syscall(Code::Econnrefused, "connect", Some("::1"), Some(1));
        let agg = NetError::aggregate(vec![a, b]);
        assert_eq!(agg.code, Code::Etimedout);
        assert_eq!(agg.message, "");
        assert_eq!(agg.trace_code(), "AggregateError[ETIMEDOUT,ECONNREFUSED]");
        assert_eq!(
            NetError::aggregate(vec![]).code,
            Code::ErrSocketConnectionTimeout
        );
    }

    #[test]
    fn custom_codes_keep_their_text() {
        assert_eq!(Code::from_name("EBOOM").as_str(), "EBOOM");
        assert_eq!(Code::from_name("ECONNRESET"), Code::Econnreset);
    }
}
