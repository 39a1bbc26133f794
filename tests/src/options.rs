//! Scenario option objects → the core's typed options, through Node's argument rules.

use serde_json::Value as Json;

use sansnet::options::ConnectOptions;
use sansnet::server::{Listen, ServerConfig};
use sansnet::socket::{AcceptConfig, SocketConfig};
use sansnet::validate;
use sansnet::{Duration, NetError};

use crate::scenario::to_value;

fn truthy(o: &Json, k: &str) -> bool {
    o.get(k).is_some_and(|v| to_value(v).is_truthy())
}

/// `new net.Socket(options)`.
pub fn socket_config(o: &Json) -> Result<SocketConfig, NetError> {
    Ok(SocketConfig {
        allow_half_open: truthy(o, "allowHalfOpen"),
        ..SocketConfig::default()
    })
}

/// `net.connect(options)`.
pub fn connect(o: &Json) -> Result<ConnectOptions, NetError> {
    let v = to_value(o);
    let mut c = sansnet::options::normalize_connect_args(&[v])?;
    c.block_list = crate::pure::block_list_from_rules(o.get("blockList"))?;
    Ok(c)
}

/// `socket.setTimeout(ms)`.
pub fn timeout(ms: &Json) -> Result<Duration, NetError> {
    Ok(sansnet::options::timeout_ms(&to_value(ms))?.unwrap_or(Duration::ZERO))
}

/// `net.createServer(options)`.
pub fn server_config(o: &Json) -> Result<ServerConfig, NetError> {
    let delay = o.get("keepAliveInitialDelay").map(to_value);
    if let Some(d) = &delay {
        if !d.is_nullish() {
            validate::validate_number(d, "options.keepAliveInitialDelay")?;
        }
    }
    let secs = delay
        .and_then(|d| match d {
            sansnet::Value::Number(n) => Some((n.max(0.0) / 1000.0).trunc() as u32),
            _ => None,
        })
        .unwrap_or(0);
    Ok(ServerConfig {
        accept: AcceptConfig {
            allow_half_open: truthy(o, "allowHalfOpen"),
            pause_on_connect: truthy(o, "pauseOnConnect"),
            no_delay: truthy(o, "noDelay"),
            keep_alive: truthy(o, "keepAlive").then_some(secs),
            high_water_mark: None,
        },
        block_list: crate::pure::block_list_from_rules(o.get("blockList"))?,
    })
}

/// `server.listen(options)`.
pub fn listen(o: &Json) -> Result<Listen, NetError> {
    sansnet::options::normalize_listen_args(&[to_value(o)])
}
