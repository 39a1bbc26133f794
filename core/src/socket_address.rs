//! `net.SocketAddress`: an IP address, a port and an IPv6 flow label, with Node's
//! constructor rules ([`SocketAddress::from_options`]), its canonical text and
//! `SocketAddress.parse` ([`SocketAddress::parse`]).

mod idna_map;
#[cfg(test)]
mod tests;
mod url_host;

use std::fmt;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::error::{Code, NetError};
use crate::ip::{format_inet, parse_inet, Family};
use crate::validate::{
    invalid_arg_type, invalid_arg_value, is_js_whitespace, out_of_range, validate_port,
    validate_string, validate_uint32,
};
use crate::value::Value;

/// The largest IPv6 flow label (20 bits).
pub const FLOWLABEL_MAX: u32 = 0xF_FFFF;

/// A socket address as `net.SocketAddress` holds it.
///
/// IPv4 addresses always carry flow label 0 (Node ignores the option for them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SocketAddress {
    ip: IpAddr,
    port: u16,
    flowlabel: u32,
}

impl SocketAddress {
    /// A socket address from typed parts. A flow label above [`FLOWLABEL_MAX`] on an IPv6
    /// address is `ERR_OUT_OF_RANGE` (Node 20 aborts the process there); on an IPv4
    /// address the flow label is ignored, as in Node, and reads back as 0.
    pub fn new(ip: IpAddr, port: u16, flowlabel: u32) -> Result<SocketAddress, NetError> {
        SocketAddress::checked(ip, port, flowlabel, "flowlabel")
    }

    fn checked(ip: IpAddr, port: u16, flowlabel: u32, name: &str) -> Result<Self, NetError> {
        match ip {
            IpAddr::V4(_) => Ok(SocketAddress {
                ip,
                port,
                flowlabel: 0,
            }),
            IpAddr::V6(_) if flowlabel > FLOWLABEL_MAX => Err(out_of_range(
                name,
                &format!(">= 0 && <= {FLOWLABEL_MAX}"),
                &Value::Number(f64::from(flowlabel)),
            )),
            IpAddr::V6(_) => Ok(SocketAddress {
                ip,
                port,
                flowlabel,
            }),
        }
    }

    /// `new net.SocketAddress(options)`, in Node's validation order:
    ///
    /// 1. `options` must be an object (`undefined` is `{}`): else `ERR_INVALID_ARG_TYPE`.
    /// 2. `family` (default `'ipv4'`) is lower-cased if it is a string and must then be
    ///    `'ipv4'` or `'ipv6'`: else `ERR_INVALID_ARG_VALUE`.
    /// 3. `address` defaults to `'127.0.0.1'` if the family *as given* is exactly `'ipv4'`,
    ///    else to `'::'` (so `{family: 'IPv4'}` alone fails below); a non-string is
    ///    `ERR_INVALID_ARG_TYPE`.
    /// 4. `port` (default 0): `validatePort` under the name `options.port`, then `port | 0`
    ///    (`'80'` and `-0` are accepted, as since v23.4; Node 20 aborts on them).
    /// 5. `flowlabel` (default 0): `validateUint32`.
    /// 6. The address must parse in the family ([`parse_inet`]): else `ERR_INVALID_ADDRESS`.
    /// 7. An IPv6 flow label above 20 bits is `ERR_OUT_OF_RANGE` (a Node 20 abort).
    pub fn from_options(options: &Value) -> Result<SocketAddress, NetError> {
        match options {
            Value::Undefined | Value::Object(_) | Value::Instance(_) => {}
            other => return Err(invalid_arg_type("options", &["object"], other)),
        }
        let default_family = Value::from("ipv4");
        let family_value = match options.get("family") {
            Value::Undefined => &default_family,
            given => given,
        };
        let default_address = match family_value {
            Value::String(s) if s == "ipv4" => "127.0.0.1",
            _ => "::",
        };
        let family = match family_value {
            Value::String(s) => match s.to_lowercase().as_str() {
                "ipv4" => Some(Family::V4),
                "ipv6" => Some(Family::V6),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| invalid_arg_value("options.family", family_value, None))?;
        let address = match options.get("address") {
            Value::Undefined => default_address,
            given => validate_string(given, "options.address")?,
        };
        let port = match options.get("port") {
            Value::Undefined => 0,
            given => validate_port(given, "options.port")?,
        };
        let flowlabel = match options.get("flowlabel") {
            Value::Undefined => 0,
            given => validate_uint32(given, "options.flowlabel", false)?,
        };
        let ip = parse_inet(address, family)
            .ok_or_else(|| NetError::new(Code::ErrInvalidAddress, "Invalid socket address"))?;
        SocketAddress::checked(ip, port, flowlabel, "options.flowlabel")
    }

    /// `net.SocketAddress.parse(input)` (v22.13 / v23.4+), with the explicit-port fix of
    /// nodejs/node PR #62912. `None` is Node's `undefined`.
    ///
    /// The address is the host of the WHATWG URL `"http://" + input`, which must be an IP
    /// address: lenient IPv4 forms are normalised (`'127.1'`, `'0x7f.1'`, `'2130706433'`,
    /// full-width digits, a trailing dot), IPv6 needs brackets and takes no zone;
    /// userinfo, path, query and fragment are ignored, tabs and newlines removed, and an
    /// explicit port must be valid for the URL (digits, at most 65535).
    ///
    /// The port is then read from the raw input, as the PR does: `parseInt` (base 10) of
    /// the text after the last `']:'` (bracketed IPv6) or the last `':'` (IPv4), `NaN`
    /// counting as 0. So `'1.2.3.4:80'` has port 80 (released Node says 0, issue #62906)
    /// and so does `'user:80@5.6.7.8'`; a value that `validatePort` rejects gives `None`.
    pub fn parse(input: &str) -> Option<SocketAddress> {
        let ip = url_host::parse_http_host(input)?;
        let port = explicit_port(input, ip.is_ipv6())?;
        Some(SocketAddress {
            ip,
            port,
            flowlabel: 0,
        })
    }

    /// [`SocketAddress::parse`] for any value: a non-string is `ERR_INVALID_ARG_TYPE`
    /// (`The "input" argument must be of type string. …`).
    pub fn parse_value(input: &Value) -> Result<Option<SocketAddress>, NetError> {
        match input {
            Value::String(s) => Ok(SocketAddress::parse(s)),
            other => Err(invalid_arg_type("input", &["string"], other)),
        }
    }

    /// The `address` getter: canonical `inet_ntop` text, zone dropped (`'fe80::1'`,
    /// `'::ffff:1.2.3.4'`).
    pub fn address(&self) -> String {
        format_inet(&self.ip)
    }

    /// The address as a typed value.
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// The family (the `family` getter is its [`Family::lower_name`]).
    pub fn family(&self) -> Family {
        Family::of(&self.ip)
    }

    /// The `port` getter.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `flowlabel` getter (always 0 for IPv4).
    pub fn flowlabel(&self) -> u32 {
        self.flowlabel
    }

    /// `toJSON()`: `{address, port, family, flowlabel}`.
    pub fn to_json(&self) -> Value {
        Value::Object(vec![
            ("address".into(), Value::String(self.address())),
            ("port".into(), Value::Number(f64::from(self.port))),
            ("family".into(), Value::from(self.family().lower_name())),
            ("flowlabel".into(), Value::Number(f64::from(self.flowlabel))),
        ])
    }

    /// The standard-library socket address (flow label included, no scope id).
    pub fn socket_addr(&self) -> SocketAddr {
        match self.ip {
            IpAddr::V4(ip) => SocketAddr::V4(SocketAddrV4::new(ip, self.port)),
            IpAddr::V6(ip) => SocketAddr::V6(SocketAddrV6::new(ip, self.port, self.flowlabel, 0)),
        }
    }
}

/// `address:port`, the address bracketed for IPv6 (`[::1]:80`).
impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            IpAddr::V4(_) => write!(f, "{}:{}", self.address(), self.port),
            IpAddr::V6(_) => write!(f, "[{}]:{}", self.address(), self.port),
        }
    }
}

/// The PR #62912 port: `parseInt(text after the last ':' or ']:', 10) || 0`, then
/// `validatePort` (`None` when it would throw).
fn explicit_port(input: &str, bracketed: bool) -> Option<u16> {
    let start = if bracketed {
        input.rfind("]:").map(|i| i + 2)
    } else {
        input.rfind(':').map(|i| i + 1)
    };
    let Some(start) = start else {
        return Some(0);
    };
    match js_parse_int(&input[start..]) {
        None => Some(0),
        Some(n) => u16::try_from(n).ok(),
    }
}

/// JavaScript `parseInt(text, 10)`: leading whitespace, a sign, then the longest run of
/// ASCII digits; `None` for `NaN`. Saturates far beyond any port.
fn js_parse_int(text: &str) -> Option<i64> {
    let t = text.trim_start_matches(is_js_whitespace);
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let len = body.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return None;
    }
    let value = body.as_bytes()[..len].iter().fold(0i64, |n, d| {
        n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    Some(if negative { -value } else { value })
}
