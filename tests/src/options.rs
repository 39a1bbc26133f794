//! A call's arguments → the core's typed options, through Node's argument rules (the
//! loose face of `sansnet::options`). A `blockList` given as a list of rules (FORMAT.md)
//! becomes a real `BlockList`, attached after validation; a `lookup` given as answers
//! becomes the answers of a custom lookup.

use serde_json::Value as Json;

use sansnet::options::{self, ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::socket::LookupAnswer;
use sansnet::NetError;

use crate::runner::args::Call;

/// The options object among the arguments (the first one, when it is an object).
fn options_json(call: &Call) -> Option<&Json> {
    call.json(0).filter(|j| {
        j.as_object()
            .is_some_and(|o| !o.keys().next().is_some_and(|k| k.starts_with('$')))
    })
}

fn block_list(call: &Call) -> Result<Option<sansnet::blocklist::BlockList>, NetError> {
    crate::pure::block_list_from_rules(options_json(call).and_then(|o| o.get("blockList")))
}

/// The answers of a `lookup` option given as a list.
pub fn lookup(call: &Call) -> Option<Vec<LookupAnswer>> {
    let list = options_json(call)?.get("lookup")?.as_array()?;
    Some(
        list.iter()
            .filter_map(|a| {
                Some(LookupAnswer {
                    address: a.get(0)?.as_str()?.to_string(),
                    family: a.get(1)?.as_i64()?,
                })
            })
            .collect(),
    )
}

/// `new net.Socket(...args)`.
pub fn socket(call: &Call) -> Result<SocketOptions, NetError> {
    let o = match call.arg(0) {
        sansnet::Value::Null => &sansnet::Value::Undefined,
        v => v,
    };
    let mut s = options::socket_options_from_value(o)?;
    s.block_list = block_list(call)?;
    Ok(s)
}

/// `net.createConnection(...args)`.
pub fn connect(call: &Call) -> Result<ConnectOptions, NetError> {
    let mut c = options::normalize_connect_args(&call.values)?;
    c.socket.block_list = block_list(call)?;
    Ok(c)
}

/// `net.createServer(...args)`.
pub fn server(call: &Call) -> Result<ServerOptions, NetError> {
    let mut s = options::server_options_from_args(&call.values)?.options;
    s.block_list = block_list(call)?;
    Ok(s)
}

/// `server.listen(...args)`.
pub fn listen(call: &Call) -> Result<ListenOptions, NetError> {
    options::normalize_listen_args(&call.values)
}
