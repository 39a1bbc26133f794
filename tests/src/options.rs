//! Scenario option objects → the core's typed options, through Node's argument rules
//! (the loose face of `sansnet::options`). A `blockList` given as a list of rules
//! (FORMAT.md) becomes a real `BlockList`, attached after validation.

use serde_json::Value as Json;

use sansnet::options::{self, ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::{Duration, NetError, Value};

use crate::scenario::to_value;

/// The options object as the JavaScript value Node would receive: a rule list under
/// `blockList` stands for a `net.BlockList` instance, an answer list under `lookup` for a
/// custom lookup function.
fn loose(o: &Json) -> Value {
    match to_value(o) {
        Value::Object(props) => Value::Object(
            props
                .into_iter()
                .map(|(k, v)| {
                    if k == "blockList" && matches!(v, Value::Array(_)) {
                        (k, Value::Instance("BlockList".into()))
                    } else if k == "lookup" && matches!(v, Value::Array(_)) {
                        (k, Value::Function)
                    } else {
                        (k, v)
                    }
                })
                .collect(),
        ),
        Value::Null => Value::Undefined,
        other => other,
    }
}

/// `new net.Socket(options)`.
pub fn socket(o: &Json) -> Result<SocketOptions, NetError> {
    let mut s = options::socket_options_from_value(&loose(o))?;
    s.block_list = crate::pure::block_list_from_rules(o.get("blockList"))?;
    Ok(s)
}

/// `net.connect(options)`.
pub fn connect(o: &Json) -> Result<ConnectOptions, NetError> {
    let mut c = options::normalize_connect_args(&[loose(o)])?;
    c.socket.block_list = crate::pure::block_list_from_rules(o.get("blockList"))?;
    Ok(c)
}

/// `socket.setTimeout(ms)`.
pub fn timeout(ms: &Json) -> Result<Duration, NetError> {
    Ok(options::timeout_ms(&to_value(ms))?.unwrap_or(Duration::ZERO))
}

/// `net.createServer(options)`.
pub fn server(o: &Json) -> Result<ServerOptions, NetError> {
    let mut s = options::server_options_from_value(&loose(o))?;
    s.block_list = crate::pure::block_list_from_rules(o.get("blockList"))?;
    Ok(s)
}

/// `server.listen(options)`.
pub fn listen(o: &Json) -> Result<ListenOptions, NetError> {
    options::normalize_listen_args(&[loose(o)])
}
