//! One BlockList rule: how it matches an address (Node's `SocketAddress::compare`,
//! `is_match` and `is_in_network` in `src/node_sockaddr.cc`) and how it prints.

use std::cmp::Ordering;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::ip::format_inet;

/// A rule as Node's C++ `SocketAddressBlockList` keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `addAddress`: one address.
    Address(IpAddr),
    /// `addRange`: inclusive bounds, possibly of different families.
    Range(IpAddr, IpAddr),
    /// `addSubnet`: the network as given (host bits kept) and its prefix length.
    Subnet(IpNet),
}

/// Node's `SocketAddress::compare`. Two IPv4 or two IPv6 addresses compare numerically;
/// an IPv4 address is comparable with an IPv6 one only when the latter is IPv4-mapped
/// (`::ffff:a.b.c.d`), and then compares with its embedded IPv4 address. `None` is
/// Node's `NOT_COMPARABLE`.
pub(crate) fn compare(a: IpAddr, b: IpAddr) -> Option<Ordering> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some(a.cmp(&b)),
        (IpAddr::V6(a), IpAddr::V6(b)) => Some(a.cmp(&b)),
        (IpAddr::V4(a), IpAddr::V6(b)) => b.to_ipv4_mapped().map(|b| a.cmp(&b)),
        (IpAddr::V6(a), IpAddr::V4(b)) => a.to_ipv4_mapped().map(|a| a.cmp(&b)),
    }
}

/// Node's `SocketAddress::is_in_network`: an address of the other family is first
/// brought into the network's family (IPv4 → `::ffff:a.b.c.d`; IPv6 only when
/// IPv4-mapped), then the network's mask decides.
fn in_network(net: &IpNet, addr: IpAddr) -> bool {
    match (net, addr) {
        (IpNet::V4(n), IpAddr::V4(a)) => n.contains(&a),
        (IpNet::V4(n), IpAddr::V6(a)) => a.to_ipv4_mapped().is_some_and(|a| n.contains(&a)),
        (IpNet::V6(n), IpAddr::V4(a)) => n.contains(&a.to_ipv6_mapped()),
        (IpNet::V6(n), IpAddr::V6(a)) => n.contains(&a),
    }
}

fn family_name(addr: &IpAddr) -> &'static str {
    match addr {
        IpAddr::V4(_) => "IPv4",
        IpAddr::V6(_) => "IPv6",
    }
}

impl Rule {
    /// Whether this rule denies `addr`.
    pub(crate) fn matches(&self, addr: IpAddr) -> bool {
        match self {
            Rule::Address(a) => compare(*a, addr) == Some(Ordering::Equal),
            Rule::Range(start, end) => {
                matches!(
                    compare(addr, *start),
                    Some(Ordering::Equal | Ordering::Greater)
                ) && matches!(compare(addr, *end), Some(Ordering::Less | Ordering::Equal))
            }
            Rule::Subnet(net) => in_network(net, addr),
        }
    }

    /// The rule's text in `blockList.rules`; the family is that of the (first) address.
    pub(crate) fn text(&self) -> String {
        match self {
            Rule::Address(a) => format!("Address: {} {}", family_name(a), format_inet(a)),
            Rule::Range(s, e) => format!(
                "Range: {} {}-{}",
                family_name(s),
                format_inet(s),
                format_inet(e)
            ),
            Rule::Subnet(net) => {
                let a = net.addr();
                format!(
                    "Subnet: {} {}/{}",
                    family_name(&a),
                    format_inet(&a),
                    net.prefix_len()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn subnet(s: &str, p: u8) -> Rule {
        Rule::Subnet(IpNet::new(ip(s), p).unwrap())
    }

    #[test]
    fn compare_follows_node() {
        assert_eq!(
            compare(ip("1.0.1.0"), ip("1.0.0.255")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(ip("1.1.1.1"), ip("::ffff:1.1.1.2")),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(ip("::ffff:1.1.1.3"), ip("1.1.1.2")),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(ip("1.1.1.1"), ip("::1.1.1.1")), None);
        assert_eq!(compare(ip("::2"), ip("1.1.1.1")), None);
        assert_eq!(compare(ip("::2"), ip("::1")), Some(Ordering::Greater));
    }

    #[test]
    fn address_rules_match_the_mapped_form_both_ways() {
        let r = Rule::Address(ip("1.1.1.1"));
        assert!(r.matches(ip("1.1.1.1")));
        assert!(r.matches(ip("::ffff:1.1.1.1")));
        assert!(!r.matches(ip("::1.1.1.1")));
        assert!(!r.matches(ip("64:ff9b::1.1.1.1")));
        let r = Rule::Address(ip("::ffff:1.1.1.2"));
        assert!(r.matches(ip("1.1.1.2")));
        assert!(!r.matches(ip("1.1.1.1")));
    }

    #[test]
    fn range_rules_compare_like_node() {
        let r = Rule::Range(ip("10.0.0.2"), ip("10.0.0.10"));
        assert!(r.matches(ip("10.0.0.2")) && r.matches(ip("10.0.0.10")));
        assert!(!r.matches(ip("192.168.0.3")));
        assert!(r.matches(ip("::ffff:10.0.0.5")));
        assert!(!r.matches(ip("::10.0.0.5")));
        // An IPv6 range reaches IPv4 addresses only through IPv4-mapped bounds.
        let r = Rule::Range(ip("::1"), ip("::ffff:1.1.1.1"));
        assert!(!r.matches(ip("1.0.0.0")));
        assert!(r.matches(ip("::ffff:1.0.0.0")));
        let r = Rule::Range(ip("::ffff:10.0.0.1"), ip("::ffff:10.0.0.9"));
        assert!(r.matches(ip("10.0.0.5")));
        // Mixed families: comparable bounds work, the others match nothing.
        let r = Rule::Range(ip("1.1.1.1"), ip("::ffff:1.1.1.5"));
        assert!(r.matches(ip("1.1.1.3")) && r.matches(ip("::ffff:1.1.1.3")));
        assert!(!r.matches(ip("1.1.1.6")));
        let r = Rule::Range(ip("0.0.0.0"), ip("::"));
        assert!(!r.matches(ip("0.0.0.0")) && !r.matches(ip("::")));
        let r = Rule::Range(ip("1.1.1.1"), ip("::2"));
        for a in ["1.1.1.1", "2.2.2.2", "::1", "::2", "::ffff:1.1.1.1"] {
            assert!(!r.matches(ip(a)), "{a}");
        }
    }

    #[test]
    fn subnet_rules_mask_and_map() {
        let r = subnet("192.168.1.77", 24);
        assert!(r.matches(ip("192.168.1.1")));
        assert!(!r.matches(ip("192.168.2.1")));
        assert!(r.matches(ip("::ffff:192.168.1.1")));
        let r = subnet("1.2.3.4", 0);
        assert!(r.matches(ip("9.9.9.9")) && r.matches(ip("::ffff:9.9.9.9")));
        assert!(!r.matches(ip("::1")) && !r.matches(ip("::9.9.9.9")));
        let r = subnet("1.1.1.1", 32);
        assert!(r.matches(ip("1.1.1.1")) && !r.matches(ip("1.1.1.2")));
        assert!(subnet("::", 0,).matches(ip("1.2.3.4")));
        assert!(subnet("::", 80).matches(ip("1.2.3.4")));
        assert!(!subnet("::", 81).matches(ip("1.2.3.4")));
        assert!(subnet("::ffff:0:0", 96).matches(ip("1.2.3.4")));
        assert!(!subnet("::ffff:0:0", 96).matches(ip("::1.2.3.4")));
        assert!(subnet("::fffe:0:0", 95).matches(ip("1.2.3.5")));
        assert!(!subnet("::ffff:0.0.0.0", 97).matches(ip("200.2.3.6")));
        assert!(!subnet("2001::", 16).matches(ip("1.2.3.4")));
    }

    #[test]
    fn rule_text_is_canonical_and_keeps_host_bits() {
        assert_eq!(Rule::Address(ip("1.1.1.1")).text(), "Address: IPv4 1.1.1.1");
        assert_eq!(
            Rule::Range(ip("1.1.1.1"), ip("::2")).text(),
            "Range: IPv4 1.1.1.1-::2"
        );
        assert_eq!(
            Rule::Range(ip("::1"), ip("::f")).text(),
            "Range: IPv6 ::1-::f"
        );
        assert_eq!(
            subnet("192.168.1.77", 24).text(),
            "Subnet: IPv4 192.168.1.77/24"
        );
        assert_eq!(
            subnet("8592:757c:efae:4e45::", 64).text(),
            "Subnet: IPv6 8592:757c:efae:4e45::/64"
        );
    }
}
