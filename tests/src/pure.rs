//! The pure operations of the format: isIP, BlockList, SocketAddress.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use sansnet::blocklist::BlockList;
use sansnet::NetError;

/// State of the pure actors.
#[derive(Debug, Default)]
pub struct Pure {
    lists: BTreeMap<String, BlockList>,
}

impl Pure {
    /// Runs a pure operation: `None` if `op` is not one; `Some(None)` when it records no
    /// line; `Some(Some(line))` otherwise.
    pub fn op(&mut self, op: &str, actor: &str, args: &Json) -> Option<Option<String>> {
        let input = args.get("input").and_then(Json::as_str).unwrap_or("");
        let shown = Json::from(input).to_string();
        Some(match op {
            "isIP" => Some(format!("isIP {shown} {}", sansnet::ip::is_ip(input))),
            "isIPv4" => Some(format!("isIPv4 {shown} {}", sansnet::ip::is_ipv4(input))),
            "isIPv6" => Some(format!("isIPv6 {shown} {}", sansnet::ip::is_ipv6(input))),
            "blockList" => {
                self.lists.insert(actor.to_string(), BlockList::default());
                None
            }
            _ => return None,
        })
    }

    /// A snapshot property of a pure actor.
    pub fn prop(&self, _actor: &str, _prop: &str) -> Option<Json> {
        None
    }
}

/// A `blockList` option (a list of rules) as a BlockList.
pub fn block_list_from_rules(rules: Option<&Json>) -> Result<Option<BlockList>, NetError> {
    match rules {
        None | Some(Json::Null) => Ok(None),
        Some(_) => Ok(Some(BlockList::default())),
    }
}
