//! The `parsers` target: arbitrary text through the address grammars and arbitrary value
//! trees through the loose (JavaScript-like) faces of the options, BlockList and
//! SocketAddress. Nothing may panic, and the address grammars must agree with each other
//! where the crate says they do.

use std::net::IpAddr;

use arbitrary::{Result, Unstructured};
use sansnet::blocklist::{AddressArg, BlockList};
use sansnet::ip::{self, Family};
use sansnet::options::{self, inspect, socket, stream};
use sansnet::{validate, SocketAddress, Value};

use crate::value;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    // The first byte picks where the rest goes, so each face gets whole inputs.
    let Ok(which) = u.int_in_range(0u8..=4) else {
        return;
    };
    let _ = match which {
        0 => text(&mut u),
        1 => blocklist(&mut u),
        2 => options(&mut u),
        3 => socket_address(&mut u),
        _ => misc(&mut u),
    };
}

/// Raw input text: all of what is left, as a string (lossy UTF-8).
fn rest_text(u: &mut Unstructured<'_>) -> String {
    let bytes = u.bytes(u.len()).unwrap_or_default();
    String::from_utf8_lossy(bytes).into_owned()
}

/// `isIP`, `parse_inet` (both families), `format_inet` and `SocketAddress::parse`.
pub fn text(u: &mut Unstructured<'_>) -> Result<()> {
    let s = rest_text(u);
    check_text(&s);
    Ok(())
}

/// The checks of [`text`] on one string.
pub fn check_text(s: &str) {
    let kind = ip::is_ip(s);
    assert!(matches!(kind, 0 | 4 | 6), "is_ip({s:?}) = {kind}");
    assert_eq!(ip::is_ipv4(s), kind == 4, "is_ipv4 vs is_ip on {s:?}");
    assert_eq!(ip::is_ipv6(s), kind == 6, "is_ipv6 vs is_ip on {s:?}");
    assert_eq!(ip::is_ip_value(&Value::String(s.to_string())), kind);

    for family in [Family::V4, Family::V6] {
        let Some(addr) = ip::parse_inet(s, family) else {
            continue;
        };
        assert_eq!(Family::of(&addr), family, "parse_inet({s:?}, {family:?})");
        let shown = ip::format_inet(&addr);
        assert_eq!(
            ip::parse_inet(&shown, family),
            Some(addr),
            "format_inet(parse_inet({s:?})) = {shown:?} does not parse back"
        );
        assert_eq!(
            ip::is_ip(&shown),
            family.number(),
            "the canonical text {shown:?} of {s:?} is not an isIP address"
        );
        assert_eq!(
            ip::format_inet(&addr),
            shown,
            "format_inet is not a function"
        );
    }
    // Node's isIP grammar is the libuv one without NULs and with a restricted zone: what
    // isIPv4 accepts, inet_pton4 accepts too.
    if kind == 4 {
        assert!(
            ip::parse_inet(s, Family::V4).is_some(),
            "isIP({s:?}) is 4 but inet_pton4 rejects it"
        );
    }

    if let Some(sa) = SocketAddress::parse(s) {
        round_trip_socket_address(&sa, s);
    }
}

/// A parsed `SocketAddress` prints as `address:port` text that parses back to it, and its
/// `toJSON()` builds it again.
fn round_trip_socket_address(sa: &SocketAddress, input: &str) {
    let shown = sa.to_string();
    let again = SocketAddress::parse(&shown);
    assert_eq!(
        again.map(|a| (a.ip(), a.port())),
        Some((sa.ip(), sa.port())),
        "SocketAddress::parse({input:?}) = {sa:?} prints as {shown:?}, which parses differently"
    );
    let rebuilt = SocketAddress::from_options(&sa.to_json());
    assert_eq!(
        rebuilt.as_ref().ok(),
        Some(sa),
        "SocketAddress::from_options(toJSON()) of {sa:?} from {input:?}: {rebuilt:?}"
    );
}

/// An address argument: mostly a string value, sometimes any value or an address.
fn address_arg(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0u8..=5)? {
        0..=3 => Value::String(value::string(u)?),
        4 => Value::String(ip_text(u)?),
        _ => value::value(u, 1)?,
    })
}

/// The text of an arbitrary address in one of its printed forms.
fn ip_text(u: &mut Unstructured<'_>) -> Result<String> {
    let ip = any_ip(u)?;
    Ok(if u.arbitrary()? {
        ip::format_inet(&ip)
    } else {
        ip.to_string()
    })
}

fn any_ip(u: &mut Unstructured<'_>) -> Result<IpAddr> {
    Ok(if u.arbitrary()? {
        IpAddr::from(u.arbitrary::<[u8; 4]>()?)
    } else {
        // Mostly near the interesting blocks: ::, ::ffff:0:0/96, 64:ff9b::/96.
        let low = u128::from(u.arbitrary::<u32>()?);
        let high = match u.int_in_range(0u8..=3)? {
            0 => 0,
            1 => 0xffff_u128 << 32,
            2 => 0x0064_ff9b_u128 << 96,
            _ => u.arbitrary::<u128>()? & !0xffff_ffff,
        };
        IpAddr::from((high | low).to_be_bytes())
    })
}

fn family_value(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0u8..=4)? {
        0 => Value::Undefined,
        1 => Value::from("ipv4"),
        2 => Value::from("ipv6"),
        3 => Value::from(*u.choose(&["IPv4", "IPV6", "ipv5", ""])?),
        _ => value::value(u, 1)?,
    })
}

/// The BlockList's loose face: rules added from arbitrary values, then checks; the loose
/// check agrees with the typed one on text that parses.
pub fn blocklist(u: &mut Unstructured<'_>) -> Result<()> {
    let mut list = BlockList::new();
    let n = u.int_in_range(0usize..=12)?;
    for _ in 0..n {
        let fam = family_value(u)?;
        let _ = match u.int_in_range(0u8..=4)? {
            0 => {
                let a = address_arg(u)?;
                list.add_address_value(AddressArg::Value(&a), &fam)
            }
            1 => {
                let (a, b) = (address_arg(u)?, address_arg(u)?);
                list.add_range_value(AddressArg::Value(&a), AddressArg::Value(&b), &fam)
            }
            2 => {
                let a = address_arg(u)?;
                let prefix = match u.int_in_range(0u8..=2)? {
                    0 => Value::Number(f64::from(u.int_in_range(0u8..=130)?)),
                    _ => value::value(u, 1)?,
                };
                list.add_subnet_value(AddressArg::Value(&a), &prefix, &fam)
            }
            3 => {
                let (a, b) = (any_ip(u)?, any_ip(u)?);
                list.add_range_value(
                    AddressArg::Socket {
                        ip: a,
                        port: u.arbitrary()?,
                        flowlabel: u.arbitrary()?,
                    },
                    AddressArg::Ip(b),
                    &fam,
                )
            }
            _ => {
                let strings: Vec<String> = (0..u.int_in_range(0usize..=3)?)
                    .map(|_| value::string(u))
                    .collect::<Result<_>>()?;
                list.from_json(&strings)
            }
        };
    }
    let rules = list.rules();
    assert_eq!(rules, list.to_json());
    // fromJSON of toJSON never panics (it may not round-trip: mapped dotted text).
    let _ = BlockList::new().from_json(&rules);

    for _ in 0..u.int_in_range(1usize..=8)? {
        let a = address_arg(u)?;
        let fam = family_value(u)?;
        let loose = list.check_value(AddressArg::Value(&a), &fam);
        if let (Value::String(s), Value::String(f)) = (&a, &fam) {
            let family = match f.to_ascii_lowercase().as_str() {
                "ipv4" => Some(Family::V4),
                "ipv6" => Some(Family::V6),
                _ => None,
            };
            if let Some(ip) = family.and_then(|f| ip::parse_inet(s, f)) {
                assert_eq!(
                    loose.as_ref().ok(),
                    Some(&list.check(ip)),
                    "check_value({s:?}, {f:?}) disagrees with check({ip})"
                );
            }
        }
        let ip = any_ip(u)?;
        let _ = list.check(ip);
        let _ = list.check_value(AddressArg::Ip(ip), &fam);
    }
    Ok(())
}

/// The options' loose faces, with arbitrary argument lists.
pub fn options(u: &mut Unstructured<'_>) -> Result<()> {
    let args = value::args(u)?;
    let which = u.int_in_range(0u8..=10)?;
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Undefined);
    match which {
        0 => {
            if let Ok(c) = options::connect::normalize_connect_args(&args) {
                if let Some(t) = c.timeout {
                    assert!(!t.is_zero(), "connect timeout Some(0) from {args:?}");
                }
                let _ = c.uses_happy_eyeballs();
                let _ = c.effective_attempt_timeout();
                let _ = c.lookup_hints();
            }
        }
        1 => {
            let _ = options::connect::normalize_socket_connect_args(&args);
        }
        2 => {
            let _ = options::listen::normalize_listen_args(&args);
        }
        3 => {
            let _ = socket::socket_options_from_value(&arg(0));
        }
        4 => {
            let _ = options::server::server_options_from_args(&args);
            let _ = options::server::server_options_from_value(&arg(0));
            let _ = options::server::get_connections_args(&arg(0));
        }
        5 => {
            if let Ok(Some(d)) = socket::timeout_ms(&arg(0)) {
                assert!(
                    d >= std::time::Duration::from_millis(1) && d <= socket::TIMEOUT_MAX,
                    "timeout_ms({:?}) = {d:?}",
                    arg(0)
                );
            }
            let _ = socket::set_timeout_args(&arg(0), &arg(1));
        }
        6 => {
            let _ = socket::set_no_delay_arg(&arg(0));
            let _ = socket::set_keep_alive_args(&arg(0), &arg(1));
            let _ = socket::keep_alive_delay_secs(&arg(0));
            let _ = socket::keep_alive_delay_from_ms(&arg(0));
        }
        7 => {
            if let Ok(w) = stream::write_args(&args) {
                let _ = w;
            }
            let _ = stream::end_args(&args);
            let _ = stream::validate_chunk(&arg(0), &arg(1));
        }
        8 => {
            for a in &args {
                let _ = inspect::inspect(a);
                let _ = validate::inspect(a);
                let _ = validate::describe(a);
                let _ = validate::to_js_string(a);
                let n = validate::to_number(a);
                let _ = validate::to_uint32(n);
                let _ = validate::to_int32(n);
                let _ = validate::number_to_string(n);
                let _ = inspect::js_number_to_string(n);
                let _ = options::js_boolean(a);
                let _ = options::is_pipe_name(a);
                let _ = a.is_truthy();
            }
        }
        9 => {
            for a in &args {
                let _ = validate::validate_port(a, "port");
                let _ = validate::validate_int32(a, "n", -5, 5);
                let _ = validate::validate_uint32(a, "n", true);
                let _ = validate::validate_number(a, "n");
                let _ = validate::validate_string(a, "s");
                let _ = validate::validate_boolean(a, "b");
                let _ = validate::validate_function(a, "f");
                let _ = validate::bad_port("port", a);
            }
        }
        _ => {
            let s = value::string(u)?;
            let _ = validate::string_to_number(&s);
            let _ = inspect::quote_string(&s);
            let _ = stream::utf16_len(&s);
            if let Some(e) = stream::Encoding::from_name(&s) {
                let _ = e.encode(&s);
                let _ = e.byte_length(&s);
                assert_eq!(stream::Encoding::from_name(e.name()), Some(e));
            }
            let _ = stream::unknown_encoding(&Value::String(s));
        }
    }
    Ok(())
}

/// `new SocketAddress(options)` and `SocketAddress.parse(value)` with arbitrary values.
pub fn socket_address(u: &mut Unstructured<'_>) -> Result<()> {
    let options = if u.arbitrary()? {
        value::object(u, 1)?
    } else {
        value::value(u, 2)?
    };
    if let Ok(sa) = SocketAddress::from_options(&options) {
        let again = SocketAddress::from_options(&sa.to_json());
        assert_eq!(again.as_ref().ok(), Some(&sa), "{options:?} → {sa:?}");
        let _ = sa.socket_addr();
    }
    if let Ok(Some(sa)) = SocketAddress::parse_value(&value::value(u, 1)?) {
        let _ = sa.to_json();
    }
    let ip = any_ip(u)?;
    if let Ok(sa) = SocketAddress::new(ip, u.arbitrary()?, u.arbitrary()?) {
        round_trip_socket_address(&sa, "SocketAddress::new");
    }
    Ok(())
}

/// Arbitrary strings of interesting shapes through every grammar at once.
pub fn misc(u: &mut Unstructured<'_>) -> Result<()> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(1usize..=6)? {
        match u.int_in_range(0u8..=5)? {
            0 => s.push_str(&ip_text(u)?),
            1 => s.push_str(u.choose(&[":", "::", ".", "%", "[", "]", "0", "ffff", "\0"])?),
            2 => s.push_str(&u.arbitrary::<u16>()?.to_string()),
            3 => s.push_str(&format!("{:x}", u.arbitrary::<u16>()?)),
            4 => s.push(u.arbitrary::<char>()?),
            _ => s.push_str(&value::string(u)?),
        }
    }
    check_text(&s);
    Ok(())
}
