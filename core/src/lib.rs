//! # sansnet
//!
//! Node.js's `net` module as a pure, deterministic state machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod defaults;
pub mod error;
pub mod ip;
pub mod options;
pub mod time;
pub mod validate;
pub mod value;

pub use error::{Code, ErrorClass, NetError};
pub use ip::Family;
pub use options::{
    ConnectOptions, ListenOptions, ListenTarget, ServerOptions, SocketOptions, Target,
};
pub use time::{Duration, Instant};
pub use value::Value;
