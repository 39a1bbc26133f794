//! The rules of one server's events, checked as the application observes them.

use crate::blocklist::BlockList;
use crate::server::{DropInfo, Server};

/// The checker of one server's events. It is told what the application configured (the
/// blockList is not readable back from a [`Server`]) and reads the server's counters.
#[derive(Debug, Default)]
pub struct ServerChecker {
    block_list: Option<BlockList>,
    connections: usize,
    drops: usize,
    closes: usize,
}

impl ServerChecker {
    /// A checker of a server created with `block_list` (its `blockList` option).
    pub fn new(block_list: Option<BlockList>) -> ServerChecker {
        ServerChecker {
            block_list,
            ..ServerChecker::default()
        }
    }

    /// `'connection'`, observed right after the server admitted it: the count is within
    /// `maxConnections`.
    pub fn connection(&mut self, server: &Server) {
        self.connections += 1;
        let n = server.connections();
        assert!(n >= 1, "'connection' with {n} connections counted");
        if let Some(max) = server.max_connections {
            assert!(
                n <= max,
                "'connection' admitted a connection beyond maxConnections ({n} > {max})"
            );
        }
    }

    /// `'drop'`: only when `maxConnections` is set, never for a peer the blockList denies
    /// (Node closes those silently).
    pub fn drop(&mut self, server: &Server, info: Option<&DropInfo>) {
        self.drops += 1;
        assert!(
            server.max_connections.is_some(),
            "'drop' on a server without maxConnections"
        );
        if let (Some(list), Some(info)) = (&self.block_list, info) {
            // Node checks maxConnections first: a blocked peer may be dropped at the limit.
            let at_limit = server
                .max_connections
                .is_some_and(|max| server.connections() >= max);
            assert!(
                at_limit || !list.check(info.remote.ip()),
                "'drop' for a peer the blockList denies ({}) below maxConnections",
                info.remote
            );
        }
    }

    /// `'close'`: only once no connection is counted.
    pub fn close(&mut self, server: &Server) {
        self.closes += 1;
        let n = server.connections();
        assert_eq!(n, 0, "server 'close' with {n} connections counted");
    }

    /// How many `'connection'`, `'drop'` and `'close'` events were seen (for statistics).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.connections, self.drops, self.closes)
    }
}
