//! Property tests: the loose face never panics, and `check` agrees with a plain model in
//! which every rule is an inclusive interval of one 128-bit space (IPv4 mapped into
//! `::ffff:0:0/96`) and a range bound is comparable with an address only when both are of
//! the same family or the IPv6 one lies in the mapped block (Node's `NOT_COMPARABLE`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

const MAPPED: u128 = 0xffff_u128 << 32;

#[derive(Clone, Copy, Debug)]
struct Pt {
    val: u128,
    v4: bool,
}

fn pt(ip: IpAddr) -> Pt {
    match ip {
        IpAddr::V4(a) => Pt {
            val: MAPPED | u128::from(u32::from(a)),
            v4: true,
        },
        IpAddr::V6(a) => Pt {
            val: u128::from(a),
            v4: false,
        },
    }
}

fn in_mapped(v: u128) -> bool {
    v >> 32 == 0xffff
}

fn comparable(a: Pt, b: Pt) -> bool {
    match (a.v4, b.v4) {
        (true, true) | (false, false) => true,
        (true, false) => in_mapped(b.val),
        (false, true) => in_mapped(a.val),
    }
}

#[derive(Clone, Debug)]
enum Model {
    Interval(u128, u128),
    Range(Pt, Pt),
}

impl Model {
    fn matches(&self, x: Pt) -> bool {
        match *self {
            Model::Interval(lo, hi) => lo <= x.val && x.val <= hi,
            Model::Range(s, e) => {
                comparable(x, s) && x.val >= s.val && comparable(x, e) && x.val <= e.val
            }
        }
    }
}

fn subnet_interval(net: IpAddr, prefix: u8) -> (u128, u128) {
    let p = pt(net);
    let bits = u32::from(prefix) + if p.v4 { 96 } else { 0 };
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    (p.val & mask, (p.val & mask) | !mask)
}

#[derive(Clone, Debug)]
enum Op {
    Address(IpAddr),
    Range(IpAddr, IpAddr),
    Subnet(IpAddr, u8),
}

fn v4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

fn v6(n: u128) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(n))
}

/// Addresses crowded around the places where families meet, so rules and checks collide.
fn addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(v4),
        (0u32..8).prop_map(v4),
        (0xffff_fff8u32..=u32::MAX).prop_map(v4),
        any::<u32>().prop_map(|n| v6(MAPPED | u128::from(n))),
        (0u32..8).prop_map(|n| v6(MAPPED | u128::from(n))),
        (0u128..8).prop_map(v6),
        (MAPPED - 8..MAPPED + 8).prop_map(v6),
        ((MAPPED | 0xffff_ffff) - 8..(MAPPED | 0xffff_ffff) + 8).prop_map(v6),
        (0u32..8).prop_map(|n| v6(u128::from(n) | (0x64ff9b_u128 << 96))),
        any::<u128>().prop_map(v6),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        addr().prop_map(Op::Address),
        (addr(), addr()).prop_map(|(a, b)| Op::Range(a, b)),
        (addr(), 0u8..=128).prop_map(|(a, p)| {
            let p = match a {
                IpAddr::V4(_) => p % 33,
                IpAddr::V6(_) => p,
            };
            Op::Subnet(a, p)
        }),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(Value::Number),
        (-200i32..300).prop_map(|n| Value::Number(f64::from(n))),
        ".*".prop_map(Value::String),
        "[0-9a-fA-F:.%]{0,45}".prop_map(Value::String),
        "(?i)ipv[46x]?".prop_map(Value::String),
        Just(Value::Array(vec![])),
        Just(Value::Object(vec![])),
        Just(Value::Instance("SocketAddress".into())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn check_agrees_with_the_interval_model(
        ops in proptest::collection::vec(op(), 0..6),
        checks in proptest::collection::vec(addr(), 1..24),
    ) {
        let mut bl = BlockList::new();
        let mut model = Vec::new();
        for op in &ops {
            match *op {
                Op::Address(a) => {
                    bl.add_address(a);
                    let v = pt(a).val;
                    model.push(Model::Interval(v, v));
                }
                Op::Range(s, e) => {
                    let (ps, pe) = (pt(s), pt(e));
                    let reversed = comparable(ps, pe) && ps.val > pe.val;
                    let res = bl.add_range(s, e);
                    prop_assert_eq!(res.is_err(), reversed, "{:?}", op);
                    if !reversed {
                        model.push(Model::Range(ps, pe));
                    }
                }
                Op::Subnet(n, p) => {
                    bl.add_subnet(n, p).unwrap();
                    let (lo, hi) = subnet_interval(n, p);
                    model.push(Model::Interval(lo, hi));
                }
            }
        }
        prop_assert_eq!(bl.rules().len(), model.len());
        // Each rule's own bounds are probes too.
        let mut probes = checks.clone();
        for op in &ops {
            match *op {
                Op::Address(a) => probes.push(a),
                Op::Range(s, e) => probes.extend([s, e]),
                Op::Subnet(n, _) => probes.push(n),
            }
        }
        for x in probes {
            let expected = model.iter().any(|m| m.matches(pt(x)));
            prop_assert_eq!(bl.check(x), expected, "{} with {:?}", x, bl.rules());
        }
    }

    #[test]
    fn loose_face_never_panics(
        a in value(), b in value(), fam in value(), prefix in value(),
    ) {
        let mut bl = BlockList::new();
        let _ = bl.add_address_value(AddressArg::Value(&a), &fam);
        let _ = bl.add_range_value(AddressArg::Value(&a), AddressArg::Value(&b), &fam);
        let _ = bl.add_subnet_value(AddressArg::Value(&a), &prefix, &fam);
        let _ = bl.check_value(AddressArg::Value(&b), &fam);
        let _ = bl.rules();
    }

    #[test]
    fn from_json_never_panics(data in proptest::collection::vec(
        prop_oneof![
            ".*",
            "(Address|Range|Subnet): IPv[46] [0-9a-fA-F:./-]{0,50}",
        ],
        0..6,
    )) {
        let mut bl = BlockList::new();
        let _ = bl.from_json(&data);
    }
}
