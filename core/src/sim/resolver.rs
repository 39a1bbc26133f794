//! The simulated resolver: the DNS table the test gave, and the numeric forms glibc's
//! `getaddrinfo` accepts without asking DNS.

use super::*;

impl Sim {
    /// The simulated resolver's answers for `host`: the DNS table, else a numeric IPv4
    /// form glibc's `getaddrinfo` accepts (`inet_aton`: `127.1`, `0x7f000001`,
    /// `2130706433`, `0`).
    pub(super) fn resolve(&self, host: &str) -> Option<Vec<LookupAnswer>> {
        if let Some(list) = self.dns.get(host) {
            return Some(list.clone());
        }
        let ip = inet_aton(host)?;
        Some(vec![LookupAnswer {
            address: ip.to_string(),
            family: 4,
        }])
    }
}

/// `inet_aton`'s numbers-and-dots forms: one to four parts, each decimal, octal (leading
/// `0`) or hexadecimal (`0x`); the last part fills the bytes the others leave.
fn inet_aton(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let n = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u32>().ok()?
        } else {
            return None;
        };
        nums.push(n);
    }
    let (last, head) = nums.split_last()?;
    if head.iter().any(|&n| n > 0xFF) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && *last >> rest_bits != 0 {
        return None;
    }
    let mut v: u32 = *last;
    for (k, &n) in head.iter().enumerate() {
        v |= n << (24 - 8 * k as u32);
    }
    Some(std::net::Ipv4Addr::from(v))
}

#[cfg(test)]
mod tests {
    use super::inet_aton;

    #[test]
    fn inet_aton_takes_the_numbers_and_dots_forms() {
        for (text, ip) in [
            ("127.1", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
            ("0", "0.0.0.0"),
            ("10.0.258", "10.0.1.2"),
            ("0177.0.0.01", "127.0.0.1"),
            ("1.2.3.4", "1.2.3.4"),
        ] {
            assert_eq!(
                inet_aton(text).map(|a| a.to_string()).as_deref(),
                Some(ip),
                "{text}"
            );
        }
        for text in [
            "",
            "1.2.3.4.5",
            "256.1",
            "1..2",
            "abc",
            "1.2.3.256",
            "08",
            "::1",
        ] {
            assert_eq!(inet_aton(text), None, "{text}");
        }
    }
}
