//! The slice of the WHATWG URL parser (<https://url.spec.whatwg.org/>) that
//! `SocketAddress.parse` runs on `"http://" + input`: input clean-up, the authority, host
//! and port states of a special URL, and the host parser's IPv6 and IPv4 branches.
//!
//! Only hosts that are IP addresses matter: a domain host ends in `new SocketAddress(...)`,
//! which never accepts one (a dotted quad always "ends in a number" and so is parsed as
//! IPv4 here). So a domain and a URL failure both give `None`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::idna_map::push_mapped;

/// The host of `"http://" + input` when it is an IP address: `None` if the URL does not
/// parse or its host is a domain. An explicit port must be valid for the URL to parse
/// (digits only, at most 65535), but its value is not needed.
pub(super) fn parse_http_host(input: &str) -> Option<IpAddr> {
    // Trailing C0 controls and spaces go (leading ones would be before "http://"), then
    // every tab and newline anywhere.
    let trimmed = input.trim_end_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    // "Special authority ignore slashes": any number of extra slashes and backslashes.
    let rest = cleaned.trim_start_matches(['/', '\\']);
    // The authority runs to the first "/", "?", "#" or "\" (special scheme).
    let authority = match rest.find(['/', '?', '#', '\\']) {
        Some(i) => &rest[..i],
        None => rest,
    };
    // Userinfo ends at the last "@"; nothing after it is a missing host.
    let host_port = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let (host, port) = split_host_port(host_port);
    if host.is_empty() {
        return None;
    }
    if let Some(port) = port {
        if !port.bytes().all(|b| b.is_ascii_digit()) || !port_fits(port) {
            return None;
        }
    }
    parse_host(host)
}

/// The host state: the host ends at the first `:` outside brackets.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    let mut inside_brackets = false;
    for (i, c) in s.char_indices() {
        match c {
            '[' => inside_brackets = true,
            ']' => inside_brackets = false,
            ':' if !inside_brackets => return (&s[..i], Some(&s[i + 1..])),
            _ => {}
        }
    }
    (s, None)
}

/// A digit string whose value (leading zeros allowed) is at most 65535.
fn port_fits(digits: &str) -> bool {
    digits
        .bytes()
        .try_fold(0u32, |n, d| {
            let n = n * 10 + u32::from(d - b'0');
            (n <= 65535).then_some(n)
        })
        .is_some()
}

/// The host parser for a special URL, keeping only IP results.
fn parse_host(host: &str) -> Option<IpAddr> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        return parse_ipv6(inner.as_bytes()).map(|w| IpAddr::V6(Ipv6Addr::from(w)));
    }
    let decoded = String::from_utf8_lossy(&percent_decode(host.as_bytes())).into_owned();
    let ascii = map_domain(&decoded)?;
    parse_ipv4(&ascii).map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

/// Percent-decoding: `%` and two hex digits become that byte; any other `%` stays.
fn percent_decode(b: &[u8]) -> Vec<u8> {
    let hex = |i: usize| b.get(i).and_then(|&c| char::from(c).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Domain to ASCII, as far as an IPv4 host can come out of it: ASCII letters lower-cased,
/// non-ASCII code points through the UTS #46 mapping. `None` as soon as a character
/// appears that no IPv4 host can contain (the URL would fail, or its host be a domain).
fn map_domain(domain: &str) -> Option<String> {
    let mut out = String::with_capacity(domain.len());
    for c in domain.chars() {
        if c.is_ascii() {
            let c = c.to_ascii_lowercase();
            if !(c.is_ascii_hexdigit() || c == 'x' || c == '.') {
                return None;
            }
            out.push(c);
        } else if !push_mapped(c, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The IPv4 number parser: decimal, `0x` hex or leading-`0` octal; `0x` alone is 0.
/// Values saturate (anything above 2^32 fails later anyway).
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if part.len() >= 2 && (part.starts_with("0x") || part.starts_with("0X")) {
        (&part[2..], 16)
    } else if part.len() >= 2 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    digits.chars().try_fold(0u64, |n, c| {
        let d = c.to_digit(radix)?;
        Some(
            n.saturating_mul(u64::from(radix))
                .saturating_add(u64::from(d)),
        )
    })
}

/// The IPv4 parser: one to four parts (one trailing dot allowed), every part but the last
/// at most 255, the last filling the remaining bytes.
fn parse_ipv4(input: &str) -> Option<u32> {
    let mut parts: Vec<&str> = input.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| parse_ipv4_number(p))
        .collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    if *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut ipv4 = *last;
    for (counter, n) in init.iter().enumerate() {
        ipv4 += n * 256u64.pow(3 - counter as u32);
    }
    u32::try_from(ipv4).ok()
}

/// The IPv6 parser (the text between the brackets).
fn parse_ipv6(input: &[u8]) -> Option<[u16; 8]> {
    let mut address = [0u16; 8];
    let mut piece_index = 0usize;
    let mut compress: Option<usize> = None;
    let mut p = 0usize;
    let at = |p: usize| input.get(p).copied();
    if at(p) == Some(b':') {
        if at(p + 1) != Some(b':') {
            return None;
        }
        p += 2;
        piece_index += 1;
        compress = Some(piece_index);
    }
    while let Some(c) = at(p) {
        if piece_index == 8 {
            return None;
        }
        if c == b':' {
            if compress.is_some() {
                return None;
            }
            p += 1;
            piece_index += 1;
            compress = Some(piece_index);
            continue;
        }
        let (mut value, mut length) = (0u16, 0usize);
        while length < 4 {
            let Some(d) = at(p).and_then(|c| char::from(c).to_digit(16)) else {
                break;
            };
            value = value * 0x10 + d as u16;
            p += 1;
            length += 1;
        }
        match at(p) {
            Some(b'.') => {
                if length == 0 || piece_index > 6 {
                    return None;
                }
                p -= length;
                parse_embedded_ipv4(input, p, &mut address, piece_index)?;
                piece_index += 2;
                break;
            }
            Some(b':') => {
                p += 1;
                at(p)?;
            }
            Some(_) => return None,
            None => {}
        }
        address[piece_index] = value;
        piece_index += 1;
    }
    if let Some(compress) = compress {
        let mut swaps = piece_index - compress;
        piece_index = 7;
        while piece_index != 0 && swaps > 0 {
            address.swap(piece_index, compress + swaps - 1);
            piece_index -= 1;
            swaps -= 1;
        }
    } else if piece_index != 8 {
        return None;
    }
    Some(address)
}

/// The dotted quad that ends an IPv6 address, from `p` to the end: exactly four decimal
/// numbers 0–255 without leading zeros, written into two pieces.
fn parse_embedded_ipv4(
    input: &[u8],
    mut p: usize,
    address: &mut [u16; 8],
    at: usize,
) -> Option<()> {
    let mut numbers_seen = 0;
    let mut pieces = [0u16; 2];
    while p < input.len() {
        if numbers_seen > 0 {
            if input[p] == b'.' && numbers_seen < 4 {
                p += 1;
            } else {
                return None;
            }
        }
        if !input.get(p).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut piece: Option<u16> = None;
        while let Some(d) = input.get(p).filter(|d| d.is_ascii_digit()) {
            let n = u16::from(d - b'0');
            piece = match piece {
                None => Some(n),
                Some(0) => return None,
                Some(v) => Some(v * 10 + n),
            };
            if piece > Some(255) {
                return None;
            }
            p += 1;
        }
        let slot = &mut pieces[numbers_seen / 2];
        *slot = *slot * 0x100 + piece.unwrap_or(0);
        numbers_seen += 1;
    }
    if numbers_seen != 4 {
        return None;
    }
    address[at] = pieces[0];
    address[at + 1] = pieces[1];
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ip::format_inet;

    fn host(input: &str) -> Option<String> {
        parse_http_host(input).map(|ip| format_inet(&ip))
    }

    #[test]
    fn ipv4_numbers_are_lenient() {
        for (input, out) in [
            ("127.1", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("0X7F.1", "127.0.0.1"),
            ("017700000001", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("256", "0.0.1.0"),
            ("192.168.257", "192.168.1.1"),
            ("0x.0x.0", "0.0.0.0"),
            ("0x", "0.0.0.0"),
            ("1.2.3.0x", "1.2.3.0"),
            ("01.02.03.04", "1.2.3.4"),
            ("1.2.3.4.", "1.2.3.4"),
            ("4294967295", "255.255.255.255"),
            ("0xffffffff.", "255.255.255.255"),
        ] {
            assert_eq!(host(input).as_deref(), Some(out), "{input}");
        }
        for bad in [
            "4294967296",
            "0x100000000",
            "1.2.3.4.5",
            "1..2",
            ".1.2.3",
            "1.2.3.4..",
            "09.1.1.1",
            "1.2.3.09",
            "1.2.3.a",
            "259.1.1.1",
            "abc.123",
            "localhost",
            "99999999999999999999999",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
    }

    #[test]
    fn unicode_and_percent_forms_are_mapped() {
        for (input, out) in [
            ("１２７.０.０.１", "127.0.0.1"),
            ("１．２．３．４", "1.2.3.4"),
            ("1。2。3。4", "1.2.3.4"),
            ("①.2.3.4", "1.2.3.4"),
            ("𝟏.2.3.4", "1.2.3.4"),
            ("0ⅹ1", "0.0.0.1"),
            ("\u{ad}1.2.3.4", "1.2.3.4"),
            ("1.2.3.4\u{feff}", "1.2.3.4"),
            ("%31.2.3.4", "1.2.3.4"),
            ("%EF%BB%BF1.2.3.4", "1.2.3.4"),
            ("1%2e2%2e3%2e4", "1.2.3.4"),
        ] {
            assert_eq!(host(input).as_deref(), Some(out), "{input}");
        }
        for bad in [
            "ⓐ.1",
            "⒈2.3.4",
            "1.2.3.4%00",
            "1.2.3.4%",
            "%zz",
            "1.2.3.4%20",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
    }

    #[test]
    fn url_structure() {
        for (input, out) in [
            ("1.2.3.4 ", "1.2.3.4"),
            ("1.2.3.4\u{1}", "1.2.3.4"),
            ("/1.2.3.4", "1.2.3.4"),
            ("\\1.2.3.4", "1.2.3.4"),
            ("@1.2.3.4", "1.2.3.4"),
            ("a@b@1.2.3.4", "1.2.3.4"),
            ("1.2.3.4?x:5", "1.2.3.4"),
            ("1.2.3.4#a:9", "1.2.3.4"),
            ("1.2.3.4\\x", "1.2.3.4"),
            ("1.2.3.4:0080", "1.2.3.4"),
            ("1.2.3.4:", "1.2.3.4"),
            ("1.2.3.4\n", "1.2.3.4"),
            ("\n1.2.3.4", "1.2.3.4"),
            ("1.2.3.4:\t80", "1.2.3.4"),
            ("[::1]:", "::1"),
            ("[1::]:1", "1::"),
        ] {
            assert_eq!(host(input).as_deref(), Some(out), "{input:?}");
        }
        for bad in [
            "",
            " ",
            " 1.2.3.4",
            "\u{0}1.2.3.4",
            "1.2.3.4@",
            ":80",
            "1.2.3.4:65536",
            "1.2.3.4:+1",
            "1.2.3.4: 80",
            "[::1]:80:90",
            "[::1]x",
        ] {
            assert_eq!(host(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ipv6_hosts() {
        for (input, out) in [
            ("[::1.2.3.4]", "::1.2.3.4"),
            ("[1:2:3:4:5:6:7::]", "1:2:3:4:5:6:7:0"),
            ("[::1:2:3:4:5:6:7]", "0:1:2:3:4:5:6:7"),
            ("[1:2:3:4:5:6:1.2.3.4]", "1:2:3:4:5:6:102:304"),
            ("[::]", "::"),
            ("[::FFFF:0102:0304]", "::ffff:1.2.3.4"),
        ] {
            assert_eq!(host(input).as_deref(), Some(out), "{input}");
        }
        for bad in [
            "[ ::1]",
            "[::1 ]",
            "[::1.2.3]",
            "[::01.2.3.4]",
            "[1:2:3:4:5:6:7:1.2.3.4]",
            "[::1.2.3.4.5]",
            "[::1.256.3.4]",
            "[]",
            "[:]",
            "[1]",
            "[::%31]",
            "[%3A%3A1]",
            "[fe80::1%25eth0]",
            "[1.2.3.4]",
            "::1",
        ] {
            assert_eq!(host(bad), None, "{bad}");
        }
    }
}
