//! Stand-in: replaced by the full BlockList.
use std::net::IpAddr;
/// A stand-in BlockList.
#[derive(Clone, Debug, Default)]
pub struct BlockList {
    rules: Vec<IpAddr>,
}
impl BlockList {
    /// Whether `ip` is blocked.
    pub fn check(&self, ip: IpAddr) -> bool {
        self.rules.contains(&ip)
    }
}
