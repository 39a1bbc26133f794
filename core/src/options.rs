//! Typed options (stand-in until the full argument rules land).

use std::net::IpAddr;

use crate::ip::Family;
use crate::time::Duration;

/// Where `connect` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// TCP to a host (name or IP literal) and port.
    Tcp {
        /// Host name or IP literal.
        host: String,
        /// Port.
        port: u16,
    },
    /// A unix-domain socket path.
    Ipc {
        /// The path.
        path: String,
    },
}

/// Options of `net.connect` / `socket.connect`.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Destination.
    pub target: Target,
    /// `family`: 4 or 6 restricts the lookup.
    pub family: Option<Family>,
    /// `hints` for the lookup.
    pub hints: i32,
    /// `localAddress`.
    pub local_address: Option<IpAddr>,
    /// `localPort`.
    pub local_port: Option<u16>,
    /// `autoSelectFamily` (None: the process default).
    pub auto_select_family: Option<bool>,
    /// `autoSelectFamilyAttemptTimeout` (None: the process default).
    pub auto_select_family_attempt_timeout: Option<Duration>,
    /// `timeout`: the idle timeout set at connect.
    pub timeout: Option<Duration>,
    /// `allowHalfOpen`.
    pub allow_half_open: bool,
    /// `noDelay`.
    pub no_delay: bool,
    /// `keepAlive`.
    pub keep_alive: bool,
    /// `keepAliveInitialDelay`.
    pub keep_alive_initial_delay: Duration,
}

impl ConnectOptions {
    /// TCP to `host:port` with Node's defaults.
    pub fn tcp(host: impl Into<String>, port: u16) -> ConnectOptions {
        ConnectOptions::with_target(Target::Tcp {
            host: host.into(),
            port,
        })
    }

    /// A unix-domain socket path with Node's defaults.
    pub fn ipc(path: impl Into<String>) -> ConnectOptions {
        ConnectOptions::with_target(Target::Ipc { path: path.into() })
    }

    fn with_target(target: Target) -> ConnectOptions {
        ConnectOptions {
            target,
            family: None,
            hints: 0,
            local_address: None,
            local_port: None,
            auto_select_family: None,
            auto_select_family_attempt_timeout: None,
            timeout: None,
            allow_half_open: false,
            no_delay: false,
            keep_alive: false,
            keep_alive_initial_delay: Duration::ZERO,
        }
    }
}
