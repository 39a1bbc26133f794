//! IP address text: Node's `isIP` grammar, the `inet_pton` grammar SocketAddress and
//! BlockList accept, and the canonical `inet_ntop` text they print.
//!
//! The three grammars differ on purpose (they are Node's):
//! * [`is_ip`] is Node's anchored regular expression: strict dotted quads, RFC 4291 IPv6
//!   text, an optional `%zone` of `[0-9A-Za-z.:-]+` on any IPv6 form.
//! * [`parse_inet`] is libuv's `uv_ip4_addr` / `uv_ip6_addr`: the same strict quads and
//!   IPv6 text, but the text ends at the first NUL (it is a C string), and everything from
//!   the first `%` on is a zone that is accepted, whatever it is, and dropped.
//! * [`format_inet`] is libuv's `inet_ntop`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::validate::to_js_string;
use crate::value::Value;

/// An address family, as Node's `family` fields name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4 (`4`, `'IPv4'`, `'ipv4'`).
    V4,
    /// IPv6 (`6`, `'IPv6'`, `'ipv6'`).
    V6,
}

impl Family {
    /// The number Node passes in events (`4` or `6`).
    pub fn number(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }

    /// The string socket getters return (`'IPv4'` / `'IPv6'`).
    pub fn socket_name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    /// The lower-case string SocketAddress and BlockList use (`'ipv4'` / `'ipv6'`).
    pub fn lower_name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }

    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

// ---------------------------------------------------------------------------------------
// isIP: Node's regular expressions (lib/internal/net.js), written out by hand.
// ---------------------------------------------------------------------------------------

/// Node's `net.isIP`: 4, 6 or 0.
pub fn is_ip(s: &str) -> u8 {
    if is_ipv4(s) {
        4
    } else if is_ipv6(s) {
        6
    } else {
        0
    }
}

/// `net.isIP(value)` for any value: JavaScript `String(value)` first, as Node's
/// `RegExp.prototype.test` does (`isIP(['1.2.3.4'])` is 4, `isIP(null)` is 0).
pub fn is_ip_value(value: &Value) -> u8 {
    is_ip(&to_js_string(value))
}

/// [`is_ip_value`] as Node's `net.isIP` behaves for hostile input: an array nested past
/// [`crate::validate::MAX_JOIN_DEPTH`] is `RangeError: Maximum call stack size exceeded`
/// (Node's `String(value)` exhausts its stack), where [`is_ip_value`] still answers.
pub fn try_is_ip_value(value: &Value) -> Result<u8, crate::error::NetError> {
    Ok(is_ip(&crate::validate::try_to_js_string(value)?))
}

/// Node's `net.isIPv4`: exactly four dot-separated decimal octets 0–255 without leading
/// zeros, ASCII digits only, nothing around them.
pub fn is_ipv4(s: &str) -> bool {
    is_quad(s.as_bytes())
}

/// Node's `net.isIPv6`: RFC 4291 text (8 groups of 1–4 hex digits, or at most 7 around a
/// single `::`, the last two optionally a strict dotted quad), then an optional zone:
/// `%` and one or more of `[0-9A-Za-z.:-]`.
pub fn is_ipv6(s: &str) -> bool {
    let b = s.as_bytes();
    let (addr, zone) = match b.iter().position(|&c| c == b'%') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    if let Some(zone) = zone {
        let zone_char = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'-');
        if zone.is_empty() || !zone.iter().all(zone_char) {
            return false;
        }
    }
    is_v6_text(addr)
}

/// The regex `dec-octet`: `0`, `[1-9]`, `[1-9][0-9]`, `1[0-9][0-9]`, `2[0-4][0-9]`,
/// `25[0-5]`.
fn is_dec_octet(b: &[u8]) -> bool {
    match b {
        [d] => d.is_ascii_digit(),
        [first, rest @ ..] if b.len() <= 3 => {
            *first != b'0'
                && rest.iter().all(u8::is_ascii_digit)
                && first.is_ascii_digit()
                && b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) <= 255
        }
        _ => false,
    }
}

fn is_quad(b: &[u8]) -> bool {
    let mut parts = 0;
    for part in b.split(|&c| c == b'.') {
        parts += 1;
        if parts > 4 || !is_dec_octet(part) {
            return false;
        }
    }
    parts == 4
}

fn is_hex_group(b: &[u8]) -> bool {
    (1..=4).contains(&b.len()) && b.iter().all(u8::is_ascii_hexdigit)
}

/// Counts the groups of a `:`-separated run (no `::` inside); the last one may be a
/// dotted quad (worth two groups) when `v4_allowed`. `None` if any group is malformed.
fn count_groups(b: &[u8], v4_allowed: bool) -> Option<usize> {
    if b.is_empty() {
        return Some(0);
    }
    let groups: Vec<&[u8]> = b.split(|&c| c == b':').collect();
    let last = groups.len() - 1;
    let mut units = 0;
    for (i, g) in groups.iter().enumerate() {
        if is_hex_group(g) {
            units += 1;
        } else if i == last && v4_allowed && is_quad(g) {
            units += 2;
        } else {
            return None;
        }
    }
    Some(units)
}

fn is_v6_text(b: &[u8]) -> bool {
    match b.windows(2).position(|w| w == b"::") {
        None => count_groups(b, true) == Some(8),
        Some(i) => {
            let (head, tail) = (&b[..i], &b[i + 2..]);
            if tail.windows(2).any(|w| w == b"::") {
                return false;
            }
            // A quad may only close the whole address: after `::`, or without a tail.
            match (count_groups(head, false), count_groups(tail, true)) {
                (Some(h), Some(t)) => h + t <= 7,
                _ => false,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// inet_pton: libuv's uv_ip4_addr / uv_ip6_addr (the path of `new SocketAddress`).
// ---------------------------------------------------------------------------------------

/// The `inet_pton` grammar of SocketAddress and BlockList (libuv's `uv_ip4_addr` /
/// `uv_ip6_addr`): a strict dotted quad (no leading zeros) for IPv4; RFC 4291 text with an
/// optional embedded quad for IPv6, where everything from the first `%` on is a zone that
/// is accepted and dropped. No brackets, no whitespace.
///
/// Node hands the text over as a C string, so it ends at the first NUL (`'1.2.3.4\0x'` is
/// `1.2.3.4`); and libuv copies the part before a zone into a 40-byte buffer, so with a
/// zone only the first 39 bytes of the address are read (both observed on Node 20).
pub fn parse_inet(text: &str, family: Family) -> Option<IpAddr> {
    let bytes = text.as_bytes();
    let c_str = &bytes[..bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len())];
    match family {
        Family::V4 => pton4(c_str).map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        Family::V6 => {
            let addr = match c_str.iter().position(|&c| c == b'%') {
                Some(i) => &c_str[..i.min(39)],
                None => c_str,
            };
            pton6(addr).map(|o| IpAddr::V6(Ipv6Addr::from(o)))
        }
    }
}

/// libuv's `inet_pton4`: four decimal octets, no leading zeros, nothing else.
fn pton4(src: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut octets = 0;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &ch in src {
        if ch.is_ascii_digit() {
            if saw_digit && cur == 0 {
                return None;
            }
            cur = cur * 10 + u32::from(ch - b'0');
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4).then_some(out)
}

/// libuv's `inet_pton6` (the ISC code): groups of at most four hex digits, one `::`
/// standing for at least one zero group, an optional final dotted quad.
fn pton6(src: &[u8]) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0;
    if src.first() == Some(&b':') {
        if src.get(1) != Some(&b':') {
            return None;
        }
        i = 1;
    }
    let mut curtok = i;
    let mut seen_xdigits = 0;
    let mut val: u32 = 0;
    while i < src.len() {
        let ch = src[i];
        i += 1;
        if let Some(d) = char::from(ch).to_digit(16) {
            val = (val << 4) | d;
            seen_xdigits += 1;
            if seen_xdigits > 4 {
                return None;
            }
            continue;
        }
        if ch == b':' {
            curtok = i;
            if seen_xdigits == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == src.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            out[tp..tp + 2].copy_from_slice(&(val as u16).to_be_bytes());
            tp += 2;
            seen_xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            let quad = pton4(&src[curtok..])?;
            out[tp..tp + 4].copy_from_slice(&quad);
            tp += 4;
            seen_xdigits = 0;
            break;
        }
        return None;
    }
    if seen_xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        out[tp..tp + 2].copy_from_slice(&(val as u16).to_be_bytes());
        tp += 2;
    }
    if let Some(c) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - c;
        out.copy_within(c..tp, 16 - n);
        out[c..16 - n].fill(0);
        tp = 16;
    }
    (tp == 16).then_some(out)
}

// ---------------------------------------------------------------------------------------
// inet_ntop: libuv's text for an address.
// ---------------------------------------------------------------------------------------

/// The canonical `inet_ntop` text Node prints for an address (libuv's `inet_ntop6`):
/// lower-case hex without leading zeros; the longest run of two or more zero groups (the
/// first on ties) compressed to `::`; `::ffff:a.b.c.d` for IPv4-mapped addresses and
/// `::a.b.c.d` when exactly the first six groups are zero (so `::1:0` prints as
/// `::0.1.0.0`, while `::1` and `::` stay as they are).
pub fn format_inet(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => ntop6(v6),
    }
}

fn ntop6(addr: &Ipv6Addr) -> String {
    let words = addr.segments();
    // The longest run of zero words; a run of one does not count.
    // (start, length) of zero runs.
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            cur = Some(cur.map_or((i, 1), |(b, l)| (b, l + 1)));
        } else if let Some(run) = cur.take() {
            if best.is_none_or(|(_, l)| run.1 > l) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = cur {
        if best.is_none_or(|(_, l)| run.1 > l) {
            best = Some(run);
        }
    }
    let best = best.filter(|&(_, l)| l >= 2);
    let mut out = String::with_capacity(41);
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    out.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        let embedded = matches!(best, Some((0, 6)))
            || matches!(best, Some((0, 7)) if words[7] != 1)
            || matches!(best, Some((0, 5)) if words[5] == 0xffff);
        if i == 6 && embedded {
            let o = addr.octets();
            out.push_str(&Ipv4Addr::new(o[12], o[13], o[14], o[15]).to_string());
            break;
        }
        out.push_str(&format!("{:x}", words[i]));
        i += 1;
    }
    if let Some((base, len)) = best {
        if base + len == 8 {
            out.push(':');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isipv4_is_strict() {
        for ok in [
            "0.0.0.0",
            "255.255.255.255",
            "1.2.3.4",
            "10.0.99.199",
            "249.250.251.252",
        ] {
            assert!(is_ipv4(ok), "{ok}");
        }
        for bad in [
            "01.2.3.4",
            "00.0.0.0",
            "1.2.3.04",
            "256.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4\n",
            " 1.2.3.4",
            "1.2.3.4%eth0",
            "١.٢.٣.٤",
            "１.2.3.4",
            "1.2.3.+4",
            "",
        ] {
            assert!(!is_ipv4(bad), "{bad:?}");
        }
    }

    #[test]
    fn isipv6_follows_rfc4291_text() {
        for ok in [
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "::1.2.3.4",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5::1.2.3.4",
            "2001:DB8::",
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
            "0000:0000:0000:0000:0000:0000:0000:0000",
        ] {
            assert!(is_ipv6(ok), "{ok}");
        }
        for bad in [
            ":",
            ":::",
            "1:::2",
            "::1::",
            ":1::",
            "::1:",
            "1:2:3:4:5:6:7",
            "1::2:3:4:5:6:7:8",
            "1:2:3:4:5:6::1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "::ffff:01.2.3.4",
            "1.2.3.4::",
            "12345::",
            "[::1]",
            "::1/128",
            "",
        ] {
            assert!(!is_ipv6(bad), "{bad:?}");
        }
    }

    #[test]
    fn zones_on_any_ipv6_form() {
        for ok in [
            "fe80::1%eth0",
            "::1%lo",
            "fe80::1%en0:1",
            "::%eth0",
            "fe80::1%-",
        ] {
            assert!(is_ipv6(ok), "{ok}");
            assert_eq!(is_ip(ok), 6);
        }
        assert!(is_ipv6("::ffff:1.2.3.4%eth0"));
        for bad in [
            "fe80::1%",
            "fe80::1%eth_0",
            "fe80::1%eth 0",
            "fe80::1%a%b",
            "fe80::1%é",
        ] {
            assert!(!is_ipv6(bad), "{bad:?}");
        }
    }

    #[test]
    fn is_ip_value_coerces_with_string() {
        assert_eq!(is_ip_value(&Value::Undefined), 0);
        assert_eq!(is_ip_value(&Value::Array(vec!["1.2.3.4".into()])), 4);
        assert_eq!(is_ip_value(&Value::Number(123.0)), 0);
        assert_eq!(is_ip_value(&"::1".into()), 6);
    }

    fn v6(s: &str) -> Option<String> {
        parse_inet(s, Family::V6).map(|a| format_inet(&a))
    }

    #[test]
    fn pton_is_libuv() {
        assert_eq!(
            parse_inet("1.2.3.4", Family::V4),
            Some("1.2.3.4".parse().unwrap())
        );
        for bad in [
            "01.2.3.4",
            "1.2.3.4.",
            "127.1",
            "0x7f000001",
            " 1.2.3.4",
            "",
            "::1",
        ] {
            assert_eq!(parse_inet(bad, Family::V4), None, "{bad:?}");
        }
        assert_eq!(parse_inet("1.2.3.4%eth0", Family::V4), None);
        assert_eq!(v6("fe80::1%eth0").as_deref(), Some("fe80::1"));
        assert_eq!(v6("fe80::1%").as_deref(), Some("fe80::1"));
        assert_eq!(v6("1:2:3:4:5:6:7::").as_deref(), Some("1:2:3:4:5:6:7:0"));
        assert_eq!(v6("::1:2:3:4:5:6:7").as_deref(), Some("0:1:2:3:4:5:6:7"));
        assert_eq!(
            v6("1:2:3:4:5::1.2.3.4").as_deref(),
            Some("1:2:3:4:5:0:102:304")
        );
        for bad in [
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "1::2::3",
            "1:2:3:4:5:6::1.2.3.4",
            "::01.2.3.4",
            "::1.2.3",
            ":1::",
            "1:",
            "12345::",
            "::1.2.3.4:5",
            "[::1]",
            "%eth0",
            "",
        ] {
            assert_eq!(v6(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pton_reads_a_c_string() {
        assert_eq!(
            parse_inet("1.2.3.4\0junk", Family::V4),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(v6("::1\0junk").as_deref(), Some("::1"));
        // With a zone only 39 bytes of address are read.
        let long = "0000:0000:0000:0000:0000:0000:0000:00001%eth0";
        assert_eq!(v6(long).as_deref(), Some("::"));
        let quad = "0000:0000:0000:0000:0000:0000:255.255.255.255";
        assert_eq!(v6(quad).as_deref(), Some("::255.255.255.255"));
        assert_eq!(v6(&format!("{quad}%e")), None);
    }

    #[test]
    fn ntop_is_libuv() {
        for (input, text) in [
            ("::1.2.3.4", "::1.2.3.4"),
            ("::1:0", "::0.1.0.0"),
            ("::ffff:0:0", "::ffff:0.0.0.0"),
            ("::ffff:0102:0304", "::ffff:1.2.3.4"),
            ("::ffff:1:0:0", "::ffff:1:0:0"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:0:1:0:0:1", "1::1:0:0:1"),
            ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
            ("::2", "::2"),
            ("::1", "::1"),
            ("::", "::"),
            ("0:0:0:0:0:1:0:0", "::1:0:0"),
            ("ABCD::0d00", "abcd::d00"),
            ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
        ] {
            assert_eq!(v6(input).as_deref(), Some(text), "{input}");
        }
    }
}
