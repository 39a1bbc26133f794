//! SocketAddress operations of the format.

use serde_json::{json, Value as Json};

use sansnet::{NetError, SocketAddress};

use crate::scenario::to_value;

fn snapshot(sa: &SocketAddress) -> Json {
    json!({
        "address": sa.address(),
        "family": sa.family().lower_name(),
        "port": sa.port(),
        "flowlabel": sa.flowlabel(),
    })
}

/// `new net.SocketAddress(options)`: its properties, or Node's error.
pub fn socket_address(opts: &Json) -> Result<Json, NetError> {
    let v = if opts.is_null() {
        sansnet::Value::Undefined
    } else {
        to_value(opts)
    };
    SocketAddress::from_options(&v).map(|sa| snapshot(&sa))
}

/// `SocketAddress.parse(input)`: `{address, family, port}` or `None`.
pub fn parse(input: &str) -> Option<Json> {
    SocketAddress::parse(input).map(|sa| {
        json!({"address": sa.address(), "family": sa.family().lower_name(), "port": sa.port()})
    })
}
