//! The pure operations of the format: isIP, BlockList, SocketAddress.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use sansnet::blocklist::{AddressArg, BlockList};
use sansnet::validate::to_js_string;
use sansnet::{NetError, SocketAddress, Value};

use crate::runner::args::{self, Call, Ret};
use crate::scenario::to_value;

/// State of the pure actors.
#[derive(Debug, Default)]
pub struct Pure {
    lists: BTreeMap<String, BlockList>,
    addresses: BTreeMap<String, Json>,
}

/// What a pure operation did: its line (if any) and what it returned, or what it threw.
pub type PureResult = Result<(Option<String>, Ret), NetError>;

/// The step keys that stand for each pure operation's arguments, in order.
pub fn keys(op: &str) -> Option<&'static [&'static str]> {
    Some(match op {
        "isIP" | "isIPv4" | "isIPv6" | "parseSocketAddress" => &["input"],
        "blockList" => &[],
        "addAddress" => &["address", "type"],
        "addRange" => &["start", "end", "type"],
        "addSubnet" => &["net", "prefix", "type"],
        "check" => &["address", "type"],
        "socketAddress" => &["options"],
        _ => return None,
    })
}

/// An address argument: a SocketAddress given as `{"$socketAddress": …}` is one.
fn address_arg<'a>(call: &'a Call, i: usize) -> AddressArg<'a> {
    match call.json(i).and_then(args::socket_address) {
        Some(sa) => AddressArg::Socket {
            ip: sa.ip(),
            port: sa.port(),
            flowlabel: sa.flowlabel(),
        },
        None => AddressArg::Value(call.arg(i)),
    }
}

/// How a pure function's first argument prints in its line.
fn shown(call: &Call) -> String {
    call.json(0)
        .and_then(args::shown)
        .map_or_else(|| "undefined".into(), |j| crate::runner::sorted(&j))
}

impl Pure {
    /// Runs a pure operation; `None` if `op` is not one.
    pub fn op(&mut self, op: &str, actor: &str, call: &Call) -> Option<PureResult> {
        let text = || to_js_string(call.arg(0));
        let family = call.arg(1);
        Some(match op {
            "isIP" => Ok((
                Some(format!("isIP {} {}", shown(call), sansnet::ip::is_ip(&text()))),
                Ret::Json(Json::from(sansnet::ip::is_ip(&text()))),
            )),
            "isIPv4" => {
                let v = sansnet::ip::is_ipv4(&text());
                Ok((Some(format!("isIPv4 {} {v}", shown(call))), Ret::Json(v.into())))
            }
            "isIPv6" => {
                let v = sansnet::ip::is_ipv6(&text());
                Ok((Some(format!("isIPv6 {} {v}", shown(call))), Ret::Json(v.into())))
            }
            "blockList" => {
                self.lists.insert(actor.to_string(), BlockList::default());
                Ok((None, Ret::This))
            }
            "addAddress" | "addRange" | "addSubnet" | "check" if self.lists.contains_key(actor) => {
                let list = self.lists.get_mut(actor)?;
                let done = |r: Result<(), NetError>| r.map(|()| (None, Ret::Undefined));
                match op {
                    "addAddress" => done(list.add_address_value(address_arg(call, 0), family)),
                    "addRange" => done(list.add_range_value(
                        address_arg(call, 0),
                        address_arg(call, 1),
                        call.arg(2),
                    )),
                    "addSubnet" => done(list.add_subnet_value(
                        address_arg(call, 0),
                        call.arg(1),
                        call.arg(2),
                    )),
                    _ => {
                        let ty = call.json(1).and_then(Json::as_str).unwrap_or("ipv4");
                        list.check_value(address_arg(call, 0), family).map(|b| {
                            (
                                Some(format!("check {} {ty} {b}", shown(call))),
                                Ret::Json(b.into()),
                            )
                        })
                    }
                }
            }
            "socketAddress" => {
                // A step's `"options": null` means no options; `args: [null]` passes null.
                let v = match call.arg(0) {
                    Value::Null if !call.explicit => Value::Undefined,
                    v => v.clone(),
                };
                SocketAddress::from_options(&v).map(|sa| {
                    self.addresses
                        .insert(actor.to_string(), args::address_json(&sa));
                    (None, Ret::This)
                })
            }
            "parseSocketAddress" => SocketAddress::parse_value(call.arg(0)).map(|sa| {
                let v = sa.map(|sa| {
                    serde_json::json!({"address": sa.address(), "family": sa.family().lower_name(), "port": sa.port()})
                });
                let text = v.as_ref().map_or("undefined".into(), Json::to_string);
                (
                    Some(format!("parse {} {text}", shown(call))),
                    v.map_or(Ret::Undefined, Ret::Json),
                )
            }),
            _ => return None,
        })
    }

    /// A snapshot property of a pure actor.
    pub fn prop(&self, actor: &str, prop: &str) -> Option<Json> {
        if let Some(list) = self.lists.get(actor) {
            return Some(match prop {
                "rules" => Json::from(list.rules()),
                _ => Json::from("<undefined>"),
            });
        }
        let a = self.addresses.get(actor)?;
        Some(
            a.get(prop)
                .cloned()
                .unwrap_or_else(|| Json::from("<undefined>")),
        )
    }

    /// Whether `actor` is a pure actor, and of which kind (`blockList`, `socketAddress`).
    pub fn kind(&self, actor: &str) -> Option<&'static str> {
        if self.lists.contains_key(actor) {
            Some("blockList")
        } else if self.addresses.contains_key(actor) {
            Some("socketAddress")
        } else {
            None
        }
    }
}

fn arg(args: &Json, key: &str) -> Value {
    args.get(key).map_or(Value::Undefined, to_value)
}

/// A `blockList` option (a list of rules, FORMAT.md) as a BlockList.
pub fn block_list_from_rules(rules: Option<&Json>) -> Result<Option<BlockList>, NetError> {
    let Some(Json::Array(rules)) = args::block_list_rules(rules) else {
        return Ok(None);
    };
    let mut list = BlockList::default();
    for r in rules {
        let family = arg(r, "type");
        if let Some(a) = r.get("address") {
            list.add_address_value(AddressArg::Value(&to_value(a)), &family)?;
        } else if let Some(Json::Array(range)) = r.get("range") {
            let s = range.first().map_or(Value::Undefined, to_value);
            let e = range.get(1).map_or(Value::Undefined, to_value);
            list.add_range_value(AddressArg::Value(&s), AddressArg::Value(&e), &family)?;
        } else if let Some(n) = r.get("subnet") {
            let p = arg(r, "prefix");
            list.add_subnet_value(AddressArg::Value(&to_value(n)), &p, &family)?;
        }
    }
    Ok(Some(list))
}
