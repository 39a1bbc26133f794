//! The pure operations of the format: isIP, BlockList, SocketAddress.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use sansnet::blocklist::{AddressArg, BlockList};
use sansnet::{NetError, Value};

use crate::scenario::to_value;

/// State of the pure actors.
#[derive(Debug, Default)]
pub struct Pure {
    lists: BTreeMap<String, BlockList>,
    addresses: BTreeMap<String, Json>,
}

fn arg(args: &Json, key: &str) -> Value {
    args.get(key).map_or(Value::Undefined, to_value)
}

fn outcome(r: Result<(), NetError>) -> Option<String> {
    r.err().map(|e| format!("throws {}", e.trace_code()))
}

impl Pure {
    /// Runs a pure operation: `None` if `op` is not one; `Some(None)` when it records no
    /// line; `Some(Some(line))` otherwise.
    pub fn op(&mut self, op: &str, actor: &str, args: &Json) -> Option<Option<String>> {
        let input = args.get("input").and_then(Json::as_str).unwrap_or("");
        let shown = Json::from(input).to_string();
        let family = arg(args, "type");
        Some(match op {
            "isIP" => Some(format!("isIP {shown} {}", sansnet::ip::is_ip(input))),
            "isIPv4" => Some(format!("isIPv4 {shown} {}", sansnet::ip::is_ipv4(input))),
            "isIPv6" => Some(format!("isIPv6 {shown} {}", sansnet::ip::is_ipv6(input))),
            "blockList" => {
                self.lists.insert(actor.to_string(), BlockList::default());
                None
            }
            "addAddress" | "addRange" | "addSubnet" | "check" if self.lists.contains_key(actor) => {
                let list = self.lists.get_mut(actor)?;
                match op {
                    "addAddress" => {
                        let a = arg(args, "address");
                        outcome(list.add_address_value(AddressArg::Value(&a), &family))
                    }
                    "addRange" => {
                        let (s, e) = (arg(args, "start"), arg(args, "end"));
                        outcome(list.add_range_value(
                            AddressArg::Value(&s),
                            AddressArg::Value(&e),
                            &family,
                        ))
                    }
                    "addSubnet" => {
                        let (n, p) = (arg(args, "net"), arg(args, "prefix"));
                        outcome(list.add_subnet_value(AddressArg::Value(&n), &p, &family))
                    }
                    _ => {
                        let a = arg(args, "address");
                        let shown = args
                            .get("address")
                            .map_or("undefined".into(), Json::to_string);
                        let ty = args.get("type").and_then(Json::as_str).unwrap_or("ipv4");
                        match list.check_value(AddressArg::Value(&a), &family) {
                            Ok(b) => Some(format!("check {shown} {ty} {b}")),
                            Err(e) => Some(format!("throws {}", e.trace_code())),
                        }
                    }
                }
            }
            "socketAddress" => {
                let opts = args.get("options").cloned().unwrap_or(Json::Null);
                match crate::pure_address::socket_address(&opts) {
                    Ok(v) => {
                        self.addresses.insert(actor.to_string(), v);
                        None
                    }
                    Err(e) => Some(format!("throws {}", e.trace_code())),
                }
            }
            "parseSocketAddress" => Some(format!(
                "parse {shown} {}",
                crate::pure_address::parse(input).map_or("undefined".into(), |v| v.to_string())
            )),
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
}

/// A `blockList` option (a list of rules, FORMAT.md) as a BlockList.
pub fn block_list_from_rules(rules: Option<&Json>) -> Result<Option<BlockList>, NetError> {
    let Some(Json::Array(rules)) = rules else {
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
