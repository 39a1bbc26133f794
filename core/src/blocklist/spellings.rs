//! No way around a rule by spelling an address differently: every spelling below was run
//! through Node 20's `BlockList` (`/tmp`-style script in the comments) and sansnet must give
//! the same answer. Node rejects the spellings `inet_aton` would take (leading zeros,
//! octal, hex, short forms, a bare number) as invalid addresses: `check` answers `false`
//! for them and `addAddress` throws `ERR_INVALID_ADDRESS`. The resolver may still turn such
//! a host name into an address (`dns.lookup('0177.0.0.1')` is `127.0.0.1`), which is why a
//! socket checks the address it connects to, after the lookup (see the socket and server
//! tests named `*_spelled_*`).

use super::*;

fn rules() -> BlockList {
    // const bl = new net.BlockList(); bl.addAddress('1.2.3.4'); bl.addAddress('127.0.0.1');
    // bl.addSubnet('10.0.0.0', 8); bl.addAddress('fe80::1', 'ipv6'); bl.addAddress('::1', 'ipv6');
    let mut bl = BlockList::new();
    for (a, f) in [("1.2.3.4", "ipv4"), ("127.0.0.1", "ipv4")] {
        bl.add_address_value(AddressArg::Value(&a.into()), &f.into())
            .unwrap();
    }
    bl.add_subnet_value(
        AddressArg::Value(&"10.0.0.0".into()),
        &8.0.into(),
        &"ipv4".into(),
    )
    .unwrap();
    for a in ["fe80::1", "::1"] {
        bl.add_address_value(AddressArg::Value(&a.into()), &"ipv6".into())
            .unwrap();
    }
    bl
}

/// `bl.check(address, family)` in Node 20 for each spelling.
const CHECKS: &[(&str, &str, bool)] = &[
    ("1.2.3.4", "ipv4", true),
    // IPv4-mapped, in every spelling, matches the IPv4 rule.
    ("::ffff:1.2.3.4", "ipv6", true),
    ("::ffff:0102:0304", "ipv6", true),
    ("::FFFF:1.2.3.4", "ipv6", true),
    ("0:0:0:0:0:ffff:1.2.3.4", "ipv6", true),
    ("::ffff:127.0.0.1", "ipv6", true),
    ("::ffff:7f00:1", "ipv6", true),
    ("::ffff:10.1.2.3", "ipv6", true),
    // IPv4-compatible (deprecated) is plain IPv6 for Node: no match.
    ("::1.2.3.4", "ipv6", false),
    ("::127.0.0.1", "ipv6", false),
    // inet_aton spellings are not IP addresses for Node (isIP is 0): false.
    ("01.02.03.04", "ipv4", false),
    ("1.2.3.04", "ipv4", false),
    ("0x7f.1", "ipv4", false),
    ("0177.0.0.1", "ipv4", false),
    ("127.1", "ipv4", false),
    ("2130706433", "ipv4", false),
    ("0x7f000001", "ipv4", false),
    // Zones, case, zero-padding and expanded forms of IPv6 all match.
    ("fe80::1%eth0", "ipv6", true),
    ("fe80::1%25eth0", "ipv6", true),
    ("FE80::1", "ipv6", true),
    ("fe80:0:0:0:0:0:0:1", "ipv6", true),
    ("fe80::0001", "ipv6", true),
    ("0:0:0:0:0:0:0:1", "ipv6", true),
    ("::0001", "ipv6", true),
    // Brackets and surrounding whitespace are not addresses.
    ("[fe80::1]", "ipv6", false),
    ("1.2.3.4 ", "ipv4", false),
    (" 1.2.3.4", "ipv4", false),
    ("1.2.3.4\n", "ipv4", false),
    // The family argument must fit the text.
    ("1.2.3.4", "ipv6", false),
    ("::ffff:1.2.3.4", "ipv4", false),
    // Family names are case-insensitive.
    ("1.2.3.4", "IPV4", true),
    ("1.2.3.4", "IPv4", true),
];

#[test]
fn every_spelling_gets_nodes_answer() {
    let bl = rules();
    for &(address, family, blocked) in CHECKS {
        let got = bl
            .check_value(AddressArg::Value(&address.into()), &family.into())
            .unwrap();
        assert_eq!(got, blocked, "check({address:?}, {family:?})");
    }
}

#[test]
fn rules_in_odd_spellings_are_refused_or_normalised_as_in_node() {
    // bl.addAddress('01.02.03.04') etc.: ERR_INVALID_ADDRESS "Invalid socket address".
    for (a, f) in [
        ("01.02.03.04", "ipv4"),
        ("0x7f.1", "ipv4"),
        ("0177.0.0.1", "ipv4"),
        ("::ffff:1.2.3.4", "ipv4"),
    ] {
        let mut bl = BlockList::new();
        let e = bl
            .add_address_value(AddressArg::Value(&a.into()), &f.into())
            .unwrap_err();
        assert_eq!(e.code, Code::ErrInvalidAddress, "{a}");
        assert_eq!(e.message, "Invalid socket address", "{a}");
        assert!(bl.rules().is_empty());
    }
    // Accepted spellings are stored canonically and match every other spelling.
    for (a, f, rule) in [
        ("fe80::1%eth0", "ipv6", "Address: IPv6 fe80::1"),
        ("FE80::1", "ipv6", "Address: IPv6 fe80::1"),
        ("::FFFF:1.2.3.4", "ipv6", "Address: IPv6 ::ffff:1.2.3.4"),
        ("1.2.3.4", "IPV4", "Address: IPv4 1.2.3.4"),
    ] {
        let mut bl = BlockList::new();
        bl.add_address_value(AddressArg::Value(&a.into()), &f.into())
            .unwrap();
        assert_eq!(bl.rules(), [rule], "{a}");
    }
    // An IPv4-mapped rule blocks the IPv4 address, and the reverse.
    let mut bl = BlockList::new();
    bl.add_address_value(AddressArg::Value(&"::FFFF:1.2.3.4".into()), &"ipv6".into())
        .unwrap();
    assert!(bl.check("1.2.3.4".parse().unwrap()));
    let mut bl = BlockList::new();
    bl.add_address("1.2.3.4".parse().unwrap());
    assert!(bl.check("::ffff:1.2.3.4".parse().unwrap()));
    assert!(!bl.check("::1.2.3.4".parse().unwrap()));
}
