//! Node's happy eyeballs (`autoSelectFamily`): sequential attempts with a per-attempt
//! timeout, not RFC 8305 racing.
//!
//! At most one attempt is in flight. The candidates are the lookup answers that are IP
//! addresses with family 4 or 6, deduplicated, the family of the first valid answer first,
//! then interleaved with the other family. Every attempt but the last gets a timer
//! ([`DEFAULT_ATTEMPT_TIMEOUT`] by default, never under [`MIN_ATTEMPT_TIMEOUT`]); when it
//! fires the attempt is aborted, an `ETIMEDOUT` error is recorded and the next candidate is
//! tried. When every candidate failed the socket is destroyed with an `AggregateError` of
//! the recorded errors, whose code is the first error's.
//!
//! This module computes the schedule; the socket emits the events and the driver only
//! executes the attempts.

use std::net::IpAddr;

use crate::error::{Code, NetError};
use crate::ip::{self, Family};
use crate::socket::LookupAnswer;
use crate::time::{Duration, Instant};

/// The default per-attempt timeout: 250 ms, as in Node 20 to 24 (defined once, in
/// [`crate::defaults`]).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration =
    crate::defaults::DEFAULT_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT;

/// The floor of the per-attempt timeout: Node raises 1–9 ms to 10 ms (defined once, in
/// [`crate::defaults`]).
pub const MIN_ATTEMPT_TIMEOUT: Duration = crate::defaults::MIN_AUTO_SELECT_FAMILY_ATTEMPT_TIMEOUT;

/// One address to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The address.
    pub ip: IpAddr,
    /// Its family.
    pub family: Family,
}

/// Orders lookup answers as Node does. `Err` when no answer is usable: the first answer is
/// not an IP (`ERR_INVALID_IP_ADDRESS`) or its family is not 4/6
/// (`ERR_INVALID_ADDRESS_FAMILY`); an empty answer list (a crash in Node 20) is `ENOTFOUND`.
pub fn order(answers: &[LookupAnswer], host: &str, port: u16) -> Result<Vec<Candidate>, NetError> {
    let valid = |a: &LookupAnswer| {
        let fam = match a.family {
            4 => Family::V4,
            6 => Family::V6,
            _ => return None,
        };
        if ip::is_ip(&a.address) == 0 {
            return None;
        }
        // Node checks "is some IP" and "family is 4 or 6", not that they agree; the
        // connect goes to the address as written.
        let addr = ip::parse_inet(&a.address, Family::V4)
            .or_else(|| ip::parse_inet(&a.address, Family::V6))?;
        Some(Candidate {
            ip: addr,
            family: fam,
        })
    };
    let mut groups: [Vec<(Candidate, &str)>; 2] = [Vec::new(), Vec::new()];
    let mut first_family = None;
    for a in answers {
        let Some(c) = valid(a) else { continue };
        let first = *first_family.get_or_insert(c.family);
        let g = usize::from(c.family != first);
        if !groups[g].iter().any(|(_, text)| *text == a.address) {
            groups[g].push((c, a.address.as_str()));
        }
    }
    if first_family.is_none() {
        let Some(first) = answers.first() else {
            return Err(NetError {
                address: None,
                ..NetError::syscall(Code::Enotfound, "getaddrinfo", Some(host), None)
            });
        };
        if ip::is_ip(&first.address) == 0 {
            return Err(NetError::new(
                Code::ErrInvalidIpAddress,
                format!("Invalid IP address: {}", first.address),
            ));
        }
        return Err(NetError::invalid_address_family(first.family, host, port));
    }
    let [g0, g1] = groups;
    let mut out = Vec::with_capacity(g0.len() + g1.len());
    let (mut a, mut b) = (g0.into_iter(), g1.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y).map(|(c, _)| c)),
        }
    }
    Ok(out)
}

/// The state of a happy-eyeballs connect: which candidate is next, the timer of the attempt
/// in flight, and the errors recorded so far.
#[derive(Clone, Debug)]
pub struct Schedule {
    candidates: Vec<Candidate>,
    next: usize,
    port: u16,
    attempt_timeout: Duration,
    /// The errors recorded, in attempt order.
    pub errors: Vec<NetError>,
    deadline: Option<Instant>,
}

impl Schedule {
    /// A schedule over ordered candidates; the timeout is floored at 10 ms.
    pub fn new(candidates: Vec<Candidate>, port: u16, attempt_timeout: Duration) -> Schedule {
        Schedule {
            candidates,
            next: 0,
            port,
            attempt_timeout: attempt_timeout.max(MIN_ATTEMPT_TIMEOUT),
            errors: Vec::new(),
            deadline: None,
        }
    }

    /// The destination port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Takes the next candidate, or `None` when all were tried.
    pub fn take_next(&mut self) -> Option<Candidate> {
        let c = self.candidates.get(self.next).copied()?;
        self.next += 1;
        Some(c)
    }

    /// Whether the candidate just taken is the first one: Node makes its attempt on the
    /// socket's own handle, and every later one on a new handle.
    pub fn taken_first(&self) -> bool {
        self.next == 1
    }

    /// Whether the candidate just taken is the last one (its attempt has no timer).
    pub fn taken_last(&self) -> bool {
        self.next >= self.candidates.len()
    }

    /// Records that an attempt to `c` is being made now, and arms its timer unless it is
    /// the last candidate.
    pub fn attempt_started(&mut self, _c: Candidate, now: Instant) {
        self.deadline = if self.taken_last() {
            None
        } else {
            Some(now + self.attempt_timeout)
        };
    }

    /// Clears the timer of the attempt in flight (it completed).
    pub fn attempt_settled(&mut self) {
        self.deadline = None;
    }

    /// When the attempt in flight times out.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The final error once every candidate failed.
    pub fn aggregate(&mut self) -> NetError {
        NetError::aggregate(std::mem::take(&mut self.errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ans(list: &[(&str, i64)]) -> Vec<LookupAnswer> {
        list.iter()
            .map(|(a, f)| LookupAnswer {
                address: a.to_string(),
                family: *f,
            })
            .collect()
    }

    fn texts(c: &[Candidate]) -> Vec<String> {
        c.iter().map(|c| c.ip.to_string()).collect()
    }

    #[test]
    fn interleaves_starting_with_first_family() {
        let a = ans(&[
            ("127.0.0.2", 4),
            ("127.0.0.3", 4),
            ("127.0.0.2", 4),
            ("::1", 6),
            ("not-an-ip", 4),
            ("127.0.0.4", 5),
            ("::ffff:127.0.0.9", 6),
            ("127.0.0.5", 4),
        ]);
        let c = order(&a, "h", 1).unwrap();
        assert_eq!(
            texts(&c),
            [
                "127.0.0.2",
                "::1",
                "127.0.0.3",
                "::ffff:127.0.0.9",
                "127.0.0.5"
            ]
        );
    }

    #[test]
    fn node_test_order() {
        let a = ans(&[
            ("fe80::a", 6),
            ("fe80::b", 6),
            ("::1", 6),
            ("10.0.0.1", 4),
            ("10.0.0.2", 4),
            ("127.0.0.1", 4),
        ]);
        let c = order(&a, "h", 1).unwrap();
        assert_eq!(
            texts(&c),
            [
                "fe80::a",
                "10.0.0.1",
                "fe80::b",
                "10.0.0.2",
                "::1",
                "127.0.0.1"
            ]
        );
    }

    #[test]
    fn no_valid_answer_errors() {
        assert_eq!(
            order(&ans(&[("x", 4)]), "h", 1).unwrap_err().code,
            Code::ErrInvalidIpAddress
        );
        assert_eq!(
            order(&ans(&[("1.2.3.4", 5)]), "h", 1).unwrap_err().code,
            Code::ErrInvalidAddressFamily
        );
        assert_eq!(order(&[], "h", 1).unwrap_err().code, Code::Enotfound);
    }

    #[test]
    fn last_attempt_is_untimed_and_floor_applies() {
        let c = order(&ans(&[("::1", 6), ("127.0.0.1", 4)]), "h", 80).unwrap();
        let mut s = Schedule::new(c, 80, Duration::from_millis(1));
        let first = s.take_next().unwrap();
        s.attempt_started(first, Instant::ZERO);
        assert_eq!(s.deadline(), Some(Instant::from_millis(10)));
        let second = s.take_next().unwrap();
        s.attempt_started(second, Instant::from_millis(10));
        assert_eq!(s.deadline(), None);
        assert!(s.take_next().is_none());
    }
}
