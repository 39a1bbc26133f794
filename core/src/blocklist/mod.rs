//! `net.BlockList`: a list of deny rules (addresses, inclusive ranges, subnets) and the
//! check of an address against them, with Node's IPv4 / IPv6 interplay.
//!
//! Two faces:
//!
//! * the typed face ([`BlockList::add_address`], [`BlockList::add_range`],
//!   [`BlockList::add_subnet`], [`BlockList::check`]) over [`IpAddr`];
//! * the loose face (`*_value`) mirroring Node's JavaScript signatures over [`Value`], with
//!   Node's validation order, error codes and messages.
//!
//! Matching follows Node's C++ `SocketAddressBlockList` exactly:
//!
//! * an **address** or **subnet** rule of one family matches an address of the other family
//!   through the IPv4-mapped form (`::ffff:a.b.c.d`): an IPv4 rule matches `::ffff:1.1.1.1`,
//!   an IPv6 rule such as `::/0` or `::ffff:0:0/96` matches the IPv4 address `1.1.1.1`;
//! * a **range** rule compares the address with each bound; an IPv4 value and an IPv6 value
//!   are comparable only when the IPv6 one is IPv4-mapped. So an IPv6 range reaches IPv4
//!   addresses only if both its bounds are IPv4-mapped, and a range whose bounds are of
//!   different, incomparable families (`1.1.1.1-::2`) matches nothing;
//! * IPv4-compatible `::a.b.c.d` and NAT64 `64:ff9b::a.b.c.d` are plain IPv6.

mod json;
mod rule;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod spellings;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Code, NetError};
use crate::ip::{format_inet, parse_inet, Family};
use crate::validate::{invalid_arg_value, out_of_range, validate_int32, validate_string};
use crate::value::Value;

use rule::{compare, Rule};

/// An address argument of a BlockList method: text still to be parsed (Node's string
/// argument, with its `family` argument), or an address already built (Node's
/// `SocketAddress` argument, for which the `family` argument is ignored).
///
/// A `SocketAddress` `sa` is passed as `AddressArg::Ip(sa.ip())`, or as
/// [`AddressArg::Socket`] when its port and flow label should appear in error messages
/// exactly as Node prints them (they never affect matching).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddressArg<'a> {
    /// A JavaScript value: a string is parsed with the `family` argument; anything else is
    /// `ERR_INVALID_ARG_TYPE` (including a [`Value::Instance`], whose address is unknown).
    Value(&'a Value),
    /// An already-built address (a `SocketAddress`'s IP, port 0 in messages).
    Ip(IpAddr),
    /// An already-built `SocketAddress` with its port and flow label.
    Socket {
        /// The address.
        ip: IpAddr,
        /// The port (shown only in the `addRange` ordering error).
        port: u16,
        /// The IPv6 flow label (shown only in the `addRange` ordering error; IPv4
        /// addresses always show 0).
        flowlabel: u32,
    },
}

impl<'a> From<&'a Value> for AddressArg<'a> {
    fn from(v: &'a Value) -> AddressArg<'a> {
        AddressArg::Value(v)
    }
}

impl From<IpAddr> for AddressArg<'_> {
    fn from(ip: IpAddr) -> Self {
        AddressArg::Ip(ip)
    }
}

/// A converted address argument: what Node's `SocketAddress` holds.
#[derive(Clone, Copy, Debug)]
struct Sock {
    ip: IpAddr,
    port: u16,
    flowlabel: u32,
}

impl Sock {
    fn plain(ip: IpAddr) -> Sock {
        Sock {
            ip,
            port: 0,
            flowlabel: 0,
        }
    }

    /// `util.inspect(socketAddress)`, wrapped over lines as `util.inspect` does past its
    /// 80-column break length.
    fn inspect(&self) -> String {
        let (family, flowlabel) = match self.ip {
            IpAddr::V4(_) => ("ipv4", 0),
            IpAddr::V6(_) => ("ipv6", self.flowlabel),
        };
        let entries = [
            format!("address: '{}'", format_inet(&self.ip)),
            format!("port: {}", self.port),
            format!("family: '{family}'"),
            format!("flowlabel: {flowlabel}"),
        ];
        // isBelowBreakLength: entries + (entries + indentation + brace + 10) + text lengths.
        let width = entries.len() * 2 + 1 + 10 + entries.iter().map(String::len).sum::<usize>();
        if width <= 80 {
            format!("SocketAddress {{ {} }}", entries.join(", "))
        } else {
            format!("SocketAddress {{\n  {}\n}}", entries.join(",\n  "))
        }
    }
}

/// The largest prefix length of a family.
fn max_prefix(ip: &IpAddr) -> u8 {
    match ip {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// `ERR_INVALID_ADDRESS`, as the `SocketAddress` constructor throws it.
fn invalid_address() -> NetError {
    NetError::new(Code::ErrInvalidAddress, "Invalid socket address")
}

/// Why a string address argument could not become a `SocketAddress`.
enum ConvertError {
    /// A type error (`validateString`): thrown even by `check`.
    Type(NetError),
    /// The `SocketAddress` constructor's error (family value, unparsable address):
    /// `check` turns it into `false`.
    Construct(NetError),
}

impl From<ConvertError> for NetError {
    fn from(e: ConvertError) -> NetError {
        match e {
            ConvertError::Type(e) | ConvertError::Construct(e) => e,
        }
    }
}

/// Node's conversion of an address argument: `validateString(address, name)`,
/// `validateString(family, 'family')` (default `'ipv4'` when undefined), then
/// `new SocketAddress({ address, family })` (family value checked first, then the text).
fn convert(arg: AddressArg<'_>, name: &str, family: &Value) -> Result<Sock, ConvertError> {
    let text = match arg {
        AddressArg::Ip(ip) => return Ok(Sock::plain(ip)),
        AddressArg::Socket {
            ip,
            port,
            flowlabel,
        } => {
            return Ok(Sock {
                ip,
                port,
                flowlabel,
            })
        }
        AddressArg::Value(v) => validate_string(v, name).map_err(ConvertError::Type)?,
    };
    let default_family = Value::String("ipv4".into());
    let family = match family {
        Value::Undefined => &default_family,
        other => other,
    };
    let family_text = validate_string(family, "family").map_err(ConvertError::Type)?;
    let fam = match family_text.to_lowercase().as_str() {
        "ipv4" => Family::V4,
        "ipv6" => Family::V6,
        _ => {
            return Err(ConvertError::Construct(invalid_arg_value(
                "options.family",
                family,
                None,
            )))
        }
    };
    // The text reaches libuv's inet_pton as a C string: it ends at the first NUL.
    let text = text.split('\0').next().unwrap_or_default();
    parse_inet(text, fam)
        .map(Sock::plain)
        .ok_or_else(|| ConvertError::Construct(invalid_address()))
}

/// `net.BlockList`: deny rules checked newest first.
///
/// Rules are kept in a `Vec` in the order they were added (duplicates kept); every
/// observable order ([`BlockList::rules`], evaluation) is newest first, as in Node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockList {
    /// Oldest first.
    rules: Vec<Rule>,
}

impl BlockList {
    /// An empty list (`new net.BlockList()`).
    pub fn new() -> BlockList {
        BlockList::default()
    }

    // ---- typed face -------------------------------------------------------------------

    /// `addAddress(address)`: deny one address (and, across families, its IPv4-mapped
    /// counterpart).
    pub fn add_address(&mut self, addr: IpAddr) {
        self.rules.push(Rule::Address(addr));
    }

    /// `addRange(start, end)`: deny the inclusive range. `start > end` is
    /// `ERR_INVALID_ARG_VALUE` ("The argument 'start' must come before end. Received
    /// SocketAddress { … }"); equal bounds are fine; bounds of different families are
    /// accepted (and match only through IPv4-mapped bounds).
    pub fn add_range(&mut self, start: IpAddr, end: IpAddr) -> Result<(), NetError> {
        self.push_range(Sock::plain(start), Sock::plain(end))
    }

    /// `addSubnet(network, prefix)`: deny `network/prefix`. Host bits of `network` are
    /// kept in the rule text but masked off for matching. A prefix above 32 (IPv4) or 128
    /// (IPv6) is `ERR_OUT_OF_RANGE`, worded as Node's `validateInt32`.
    pub fn add_subnet(&mut self, network: IpAddr, prefix: u8) -> Result<(), NetError> {
        let max = max_prefix(&network);
        if prefix > max {
            return Err(out_of_range(
                "prefix",
                &format!(">= 0 && <= {max}"),
                &Value::Number(f64::from(prefix)),
            ));
        }
        self.push_subnet(network, prefix);
        Ok(())
    }

    /// `check(address)`: whether any rule denies `addr` (newest rule first, first match
    /// wins). The port and zone of an address never matter.
    pub fn check(&self, addr: IpAddr) -> bool {
        self.rules.iter().rev().any(|r| r.matches(addr))
    }

    /// `blockList.rules`: one text per rule, newest first, duplicates kept:
    /// `Address: IPv4 1.1.1.1`, `Range: IPv6 ::1-::f`, `Subnet: IPv4 192.168.1.77/24`
    /// (addresses in canonical `inet_ntop` form; a range prints its start's family).
    pub fn rules(&self) -> Vec<String> {
        self.rules.iter().rev().map(Rule::text).collect()
    }

    /// `blockList.toJSON()` (Node ≥ 24): the same as [`BlockList::rules`].
    pub fn to_json(&self) -> Vec<String> {
        self.rules()
    }

    /// `blockList.fromJSON(data)` (Node ≥ 24) for an array of strings: each string is
    /// matched against the six rule formats as Node's regular expressions do (the first
    /// matching format wins; text that matches none is ignored) and the rule is added
    /// through the loose face, so an address or prefix that matches a format but is
    /// invalid throws as the `add*` call would, after the earlier strings were added.
    /// IPv4-mapped dotted IPv6 text does not round-trip (Node's IPv6 pattern has no dots).
    pub fn from_json<S: AsRef<str>>(&mut self, data: &[S]) -> Result<(), NetError> {
        for item in data {
            let Some(op) = json::parse_rule(item.as_ref()) else {
                continue;
            };
            let fam = Value::String(op.family.lower_name().to_string());
            let a = Value::String(op.first.to_string());
            match op.kind {
                json::Kind::Address => self.add_address_value(AddressArg::Value(&a), &fam)?,
                json::Kind::Range(end) => {
                    let b = Value::String(end.to_string());
                    self.add_range_value(AddressArg::Value(&a), AddressArg::Value(&b), &fam)?;
                }
                json::Kind::Subnet(prefix) => {
                    let p = Value::Number(f64::from(prefix));
                    self.add_subnet_value(AddressArg::Value(&a), &p, &fam)?;
                }
            }
        }
        Ok(())
    }

    // ---- loose face (Node's JavaScript signatures) ------------------------------------

    /// `addAddress(address[, family])`. `family` is a string compared case-insensitively,
    /// `'ipv4'` when undefined, ignored when `address` is already built.
    ///
    /// Errors, in Node's order: `address` not a string → `ERR_INVALID_ARG_TYPE`; `family`
    /// not a string → `ERR_INVALID_ARG_TYPE`; `family` not `ipv4`/`ipv6` →
    /// `ERR_INVALID_ARG_VALUE` ("The property 'options.family' is invalid. Received …");
    /// text that libuv's `inet_pton` rejects for that family → `ERR_INVALID_ADDRESS`.
    pub fn add_address_value(
        &mut self,
        address: AddressArg<'_>,
        family: &Value,
    ) -> Result<(), NetError> {
        let a = convert(address, "address", family)?;
        self.add_address(a.ip);
        Ok(())
    }

    /// `addRange(start, end[, family])`: `start` is converted (validated and parsed)
    /// completely before `end`, then the bounds are compared (see
    /// [`BlockList::add_range`]).
    pub fn add_range_value(
        &mut self,
        start: AddressArg<'_>,
        end: AddressArg<'_>,
        family: &Value,
    ) -> Result<(), NetError> {
        let s = convert(start, "start", family)?;
        let e = convert(end, "end", family)?;
        self.push_range(s, e)
    }

    /// `addSubnet(network, prefix[, family])`: `network` is converted first (so its errors
    /// win), then `prefix` is validated as an int32 in `[0, 32]` / `[0, 128]` by the
    /// network's family: not a number → `ERR_INVALID_ARG_TYPE`; NaN, ±Infinity, a fraction
    /// or out of range → `ERR_OUT_OF_RANGE`. (`-0` is taken as 0; Node 20 aborts on it.)
    pub fn add_subnet_value(
        &mut self,
        network: AddressArg<'_>,
        prefix: &Value,
        family: &Value,
    ) -> Result<(), NetError> {
        let n = convert(network, "network", family)?;
        let max = max_prefix(&n.ip);
        let prefix = validate_int32(prefix, "prefix", 0, i32::from(max))?;
        // validate_int32 bounded it to 0..=max (≤ 128).
        self.push_subnet(n.ip, u8::try_from(prefix).unwrap_or(max));
        Ok(())
    }

    /// `check(address[, family])`. A non-string `address` or `family` is
    /// `ERR_INVALID_ARG_TYPE`; an unknown family value or unparsable text is `Ok(false)`.
    pub fn check_value(&self, address: AddressArg<'_>, family: &Value) -> Result<bool, NetError> {
        match convert(address, "address", family) {
            Ok(a) => Ok(self.check(a.ip)),
            Err(ConvertError::Type(e)) => Err(e),
            Err(ConvertError::Construct(_)) => Ok(false),
        }
    }

    // ---- internals --------------------------------------------------------------------

    fn push_range(&mut self, start: Sock, end: Sock) -> Result<(), NetError> {
        if compare(start.ip, end.ip) == Some(std::cmp::Ordering::Greater) {
            let mut shown = start.inspect();
            if shown.len() > 128 {
                shown.truncate(128);
                shown.push_str("...");
            }
            return Err(NetError::new(
                Code::ErrInvalidArgValue,
                format!("The argument 'start' must come before end. Received {shown}"),
            ));
        }
        self.rules.push(Rule::Range(start.ip, end.ip));
        Ok(())
    }

    fn push_subnet(&mut self, network: IpAddr, prefix: u8) {
        // The prefix was checked against the family's maximum by both callers.
        if let Ok(net) = IpNet::new(network, prefix) {
            self.rules.push(Rule::Subnet(net));
        }
    }
}

#[cfg(test)]
mod tests;
