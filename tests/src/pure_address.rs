//! SocketAddress operations of the format (stand-in until SocketAddress lands).

use serde_json::Value as Json;

use sansnet::NetError;

/// `new net.SocketAddress(options)`: the snapshot properties, or Node's error.
pub fn socket_address(_opts: &Json) -> Result<Json, NetError> {
    Err(NetError::new(sansnet::Code::ErrInvalidAddress, "Invalid socket address"))
}

/// `SocketAddress.parse(input)`: `{address, family, port}` or `None`.
pub fn parse(_input: &str) -> Option<Json> {
    None
}
