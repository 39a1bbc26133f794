//! # sansnet
//!
//! Node.js's `net` module as a pure, deterministic state machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocklist;
pub mod defaults;
pub mod error;
pub mod happy_eyeballs;
pub mod ip;
pub mod options;
mod queue;
pub mod server;
#[cfg(feature = "sim")]
pub mod sim;
pub mod socket;
pub mod socket_address;
pub mod time;
pub mod validate;
pub mod value;

pub use blocklist::{AddressArg, BlockList};
pub use error::{Code, ErrorClass, NetError};
pub use ip::Family;
pub use options::{
    ConnectOptions, ListenOptions, ListenTarget, ServerOptions, SocketOptions, Target,
};
pub use socket_address::SocketAddress;
pub use time::{Duration, Instant};
pub use value::Value;
