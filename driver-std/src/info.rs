//! What a handle can read without asking: the socket's getters as of an event or a call,
//! and the [`Bell`] that tells a caller with many handles that one of them has news.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sansnet::socket::SocketInfo;

use crate::mailbox::lock;

/// The getters at one point of the engine's history; later points have larger versions.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) version: u64,
    pub(crate) info: SocketInfo,
}

/// A counter that engines bump whenever they deliver something to a handle (an event, or
/// the news that they rest), so that one thread can wait for many sockets and servers at
/// once: remember [`Bell::count`], poll every handle with `try_next_event`, and if none
/// had anything, [`Bell::wait_past`] that count.
///
/// Give the same bell to every socket and server ([`crate::SocketSettings::bell`],
/// [`crate::ServerSettings::bell`]); a server's accepted sockets ring its bell.
#[derive(Debug, Default)]
pub struct Bell {
    rung: Mutex<u64>,
    cv: Condvar,
}

impl Bell {
    /// A new bell, to share.
    pub fn new() -> Arc<Bell> {
        Arc::new(Bell::default())
    }

    /// How many times it rang so far.
    pub fn count(&self) -> u64 {
        *lock(&self.rung)
    }

    /// Waits until the count passes `seen` or `timeout` elapses; returns the count.
    pub fn wait_past(&self, seen: u64, timeout: Duration) -> u64 {
        let deadline = std::time::Instant::now() + timeout;
        let mut rung = lock(&self.rung);
        while *rung <= seen {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            rung = match self.cv.wait_timeout(rung, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        *rung
    }

    pub(crate) fn ring(&self) {
        *lock(&self.rung) += 1;
        self.cv.notify_all();
    }
}
