//! Links between the simulated hosts: loopback is instant (segments are in the peer's
//! kernel before the sending call returns); a link between two other addresses may take a
//! latency plus a jitter drawn from the seed, each direction of a connection staying in
//! order.

use super::*;
use crate::time::Duration;

/// A link's one-way delay: `latency` plus up to `jitter`, drawn per segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkDelay {
    /// The fixed part.
    pub latency: Duration,
    /// The most a segment may take beyond `latency` (uniform, from the seed).
    pub jitter: Duration,
}

/// The delays configured: a default for links off loopback, and per pair of addresses.
#[derive(Debug, Default)]
pub(crate) struct Links {
    pub(crate) default: Option<LinkDelay>,
    pub(crate) pairs: BTreeMap<(IpAddr, IpAddr), LinkDelay>,
    /// When the last segment to each endpoint arrives (a direction stays in order).
    pub(crate) last_arrival: BTreeMap<usize, Instant>,
}

fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Sim {
    /// Every link between two addresses that are not both loopback takes `delay` (one
    /// way), unless a pair has its own ([`Sim::set_link_delay`]).
    pub fn set_network_delay(&mut self, delay: LinkDelay) {
        self.links.default = Some(delay);
    }

    /// The link between `a` and `b` takes `delay` one way (both directions).
    pub fn set_link_delay(&mut self, a: IpAddr, b: IpAddr, delay: LinkDelay) {
        self.links.pairs.insert(pair(a, b), delay);
    }

    /// The one-way delay of a segment from `a` to `b`, drawn now; `None` on loopback.
    pub(super) fn link_delay(&mut self, a: IpAddr, b: IpAddr) -> Option<Duration> {
        let d = match self.links.pairs.get(&pair(a, b)) {
            Some(d) => *d,
            None if a.is_loopback() && b.is_loopback() => return None,
            None => self.links.default?,
        };
        let jitter = u64::try_from(d.jitter.as_nanos()).unwrap_or(u64::MAX);
        let extra = if jitter == 0 {
            0
        } else {
            self.rng.below(jitter.saturating_add(1))
        };
        Some(d.latency + Duration::from_nanos(extra))
    }

    /// When a segment sent now to endpoint `ep` arrives, if its link is not instant.
    pub(super) fn segment_arrival(&mut self, ep: usize) -> Option<Instant> {
        let e = &self.net.endpoints[ep];
        let (Some(to), Some(from)) = (e.local, e.remote) else {
            return None;
        };
        let d = self.link_delay(from.ip(), to.ip())?;
        let last = self.links.last_arrival.get(&ep).copied();
        let at = last.map_or(self.now + d, |l| l.max(self.now + d));
        self.links.last_arrival.insert(ep, at);
        Some(at)
    }
}
