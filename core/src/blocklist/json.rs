//! `BlockList.prototype.fromJSON`'s rule recognition (Node ≥ 24, `#parseIPInfo`), without
//! regular expressions but with the same results as Node's unanchored, greedy patterns:
//!
//! ```text
//! if text contains "IPv4":
//!   /Subnet: IPv4 (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})/
//!   /Address: IPv4 (\d{1,3}(?:\.\d{1,3}){3})/
//!   /Range: IPv4 (\d{1,3}(?:\.\d{1,3}){3})-(\d{1,3}(?:\.\d{1,3}){3})/
//! if text contains "IPv6":
//!   /Subnet: IPv6 ([0-9a-fA-F:]{1,39})\/([0-9]{1,3})/i
//!   /Address: IPv6 ([0-9a-fA-F:]{1,39})/i
//!   /Range: IPv6 ([0-9a-fA-F:]{1,39})-([0-9a-fA-F:]{1,39})/i
//! ```
//!
//! The first pattern that matches decides; a text matching none is ignored.

use crate::ip::Family;

/// What a recognised rule text asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    /// `addAddress(first, family)`.
    Address,
    /// `addRange(first, end, family)`.
    Range(&'a str),
    /// `addSubnet(first, prefix, family)` (`NumberParseInt` of up to three digits).
    Subnet(u16),
}

/// A recognised rule text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonRule<'a> {
    /// The family argument Node passes.
    pub(crate) family: Family,
    /// The address, range start or network text.
    pub(crate) first: &'a str,
    /// The rule kind and its other argument.
    pub(crate) kind: Kind<'a>,
}

/// Recognises one string of `fromJSON` data.
pub(crate) fn parse_rule(item: &str) -> Option<JsonRule<'_>> {
    let rule = |first, kind, family| JsonRule {
        family,
        first,
        kind,
    };
    if item.contains("IPv4") {
        if let Some((net, p)) = search(item, "Subnet: IPv4 ", false, |s| {
            quad(s, |r| r.strip_prefix('/').and_then(|r| number(r, 2)))
        }) {
            return Some(rule(net, Kind::Subnet(p), Family::V4));
        }
        if let Some((a, ())) = search(item, "Address: IPv4 ", false, |s| quad(s, |_| Some(()))) {
            return Some(rule(a, Kind::Address, Family::V4));
        }
        if let Some((s, e)) = search(item, "Range: IPv4 ", false, |s| {
            quad(s, |r| {
                r.strip_prefix('-')
                    .and_then(|r| quad(r, |_| Some(())).map(|(e, ())| e))
            })
        }) {
            return Some(rule(s, Kind::Range(e), Family::V4));
        }
    }
    if item.contains("IPv6") {
        if let Some((net, p)) = search(item, "Subnet: IPv6 ", true, |s| {
            hex(s, |r| r.strip_prefix('/').and_then(|r| number(r, 3)))
        }) {
            return Some(rule(net, Kind::Subnet(p), Family::V6));
        }
        if let Some((a, ())) = search(item, "Address: IPv6 ", true, |s| hex(s, |_| Some(()))) {
            return Some(rule(a, Kind::Address, Family::V6));
        }
        if let Some((s, e)) = search(item, "Range: IPv6 ", true, |s| {
            hex(s, |r| {
                r.strip_prefix('-')
                    .and_then(|r| hex(r, |_| Some(())).map(|(e, ())| e))
            })
        }) {
            return Some(rule(s, Kind::Range(e), Family::V6));
        }
    }
    None
}

/// The leftmost position where `literal` (ASCII; case-insensitively if `ci`) is followed by
/// text that `rest` accepts.
fn search<'a, T>(
    item: &'a str,
    literal: &str,
    ci: bool,
    rest: impl Fn(&'a str) -> Option<T>,
) -> Option<T> {
    let bytes = item.as_bytes();
    let lit = literal.as_bytes();
    (0..bytes.len().saturating_sub(lit.len() - 1))
        .filter(|&i| {
            let window = &bytes[i..i + lit.len()];
            if ci {
                window.eq_ignore_ascii_case(lit)
            } else {
                window == lit
            }
        })
        // The literal is ASCII, so `i + lit.len()` is a character boundary.
        .find_map(|i| rest(&item[i + lit.len()..]))
}

/// The length of the run of leading characters accepted by `class`.
fn run(s: &str, class: impl Fn(u8) -> bool) -> usize {
    s.bytes().take_while(|&b| class(b)).count()
}

/// `X{1,max}` with greedy backtracking: the longest prefix of the `class` run (at most
/// `max`) after which `rest` matches, and what `rest` returned.
fn greedy<'a, T>(
    s: &'a str,
    class: impl Fn(u8) -> bool,
    max: usize,
    rest: impl Fn(&'a str) -> Option<T>,
) -> Option<(usize, T)> {
    let n = run(s, class).min(max);
    (1..=n).rev().find_map(|k| rest(&s[k..]).map(|t| (k, t)))
}

/// `(\d{1,3}(?:\.\d{1,3}){3})` followed by `rest`: the captured text and `rest`'s result.
fn quad<'a, T>(s: &'a str, rest: impl Fn(&'a str) -> Option<T>) -> Option<(&'a str, T)> {
    let mut pos = 0;
    for _ in 0..3 {
        // A group followed by `.` must take its whole digit run.
        let (k, ()) = greedy(
            &s[pos..],
            |b| b.is_ascii_digit(),
            3,
            |r| r.starts_with('.').then_some(()),
        )?;
        pos += k + 1;
    }
    let (k, t) = greedy(&s[pos..], |b| b.is_ascii_digit(), 3, rest)?;
    Some((&s[..pos + k], t))
}

/// `([0-9a-fA-F:]{1,39})` followed by `rest`.
fn hex<'a, T>(s: &'a str, rest: impl Fn(&'a str) -> Option<T>) -> Option<(&'a str, T)> {
    let (k, t) = greedy(s, |b| b.is_ascii_hexdigit() || b == b':', 39, rest)?;
    Some((&s[..k], t))
}

/// `(\d{1,max})` at the end of a pattern, as `NumberParseInt` reads it.
fn number(s: &str, max: usize) -> Option<u16> {
    let (k, ()) = greedy(s, |b| b.is_ascii_digit(), max, |_| Some(()))?;
    s[..k].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(Family, &str, Kind<'_>)> {
        parse_rule(s).map(|r| (r.family, r.first, r.kind))
    }

    #[test]
    fn recognises_the_six_formats() {
        assert_eq!(
            p("Address: IPv4 1.1.1.1"),
            Some((Family::V4, "1.1.1.1", Kind::Address))
        );
        assert_eq!(
            p("Range: IPv4 10.0.0.1-10.0.0.10"),
            Some((Family::V4, "10.0.0.1", Kind::Range("10.0.0.10")))
        );
        assert_eq!(
            p("Subnet: IPv4 192.168.1.77/24"),
            Some((Family::V4, "192.168.1.77", Kind::Subnet(24)))
        );
        assert_eq!(
            p("Address: IPv6 ::1"),
            Some((Family::V6, "::1", Kind::Address))
        );
        assert_eq!(
            p("Range: IPv6 ::1-::f"),
            Some((Family::V6, "::1", Kind::Range("::f")))
        );
        assert_eq!(
            p("Subnet: IPv6 8592:757c:efae:4e45::/64"),
            Some((Family::V6, "8592:757c:efae:4e45::", Kind::Subnet(64)))
        );
    }

    #[test]
    fn follows_the_regular_expressions_quirks() {
        // Unanchored, greedy, bounded repetitions.
        assert_eq!(
            p("xx Address: IPv4 1.1.1.1234 yy"),
            Some((Family::V4, "1.1.1.123", Kind::Address))
        );
        assert_eq!(
            p("Subnet: IPv4 1.1.1.0/245"),
            Some((Family::V4, "1.1.1.0", Kind::Subnet(24)))
        );
        assert_eq!(p("Subnet: IPv4 1.1.1.1000/24"), None);
        assert_eq!(p("Address: IPv4 1.1.1000.1"), None);
        assert_eq!(
            p("Subnet: IPv6 ::/1289"),
            Some((Family::V6, "::", Kind::Subnet(128)))
        );
        // IPv6 patterns are case-insensitive, but "IPv6" must appear as such.
        assert_eq!(
            p("address: ipv6 ::2 IPv6"),
            Some((Family::V6, "::2", Kind::Address))
        );
        assert_eq!(p("address: ipv6 ::2"), None);
        assert_eq!(p("address: IPv4 1.1.1.1"), None);
        // Mapped dotted text: the subnet pattern fails, the address pattern stops at '.'.
        assert_eq!(p("Subnet: IPv6 ::ffff:0.0.0.0/96"), None);
        assert_eq!(
            p("Address: IPv6 ::ffff:1.2.3.4"),
            Some((Family::V6, "::ffff:1", Kind::Address))
        );
        assert_eq!(p("Range: IPv6 ::ffff:10.0.0.1-::ffff:10.0.0.9"), None);
        assert_eq!(p("Range: IPv4 1.1.1.1-::2"), None);
        // At most 39 characters for a bound that must be followed by a literal.
        let long = format!("Subnet: IPv6 {}/64", "0".repeat(40));
        assert_eq!(p(&long), None);
        let long = format!("Address: IPv6 {}", "a".repeat(45));
        assert_eq!(p(&long).map(|r| r.1.len()), Some(39));
        // The leftmost place where the whole pattern matches wins.
        assert_eq!(
            p("Address: IPv4 x Address: IPv4 2.2.2.2"),
            Some((Family::V4, "2.2.2.2", Kind::Address))
        );
        // IPv4 formats are tried first, in the order subnet, address, range.
        assert_eq!(
            p("Range: IPv4 1.1.1.1-1.1.1.2 Subnet: IPv4 3.3.3.3/8"),
            Some((Family::V4, "3.3.3.3", Kind::Subnet(8)))
        );
        assert_eq!(p(""), None);
        assert_eq!(p("IPv4"), None);
        assert_eq!(p("Address: IPv4 é1.1.1.1"), None);
    }
}
