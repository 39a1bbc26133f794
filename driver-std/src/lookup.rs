//! Name lookup on a helper thread (never on an engine's thread): the system resolver through
//! `std::net::ToSocketAddrs`, or a closure the application gives (Node's `lookup` option).

use std::io;
use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::thread::JoinHandle;

use sansnet::ip::Family;
use sansnet::socket::LookupAnswer;
use sansnet::{Code, NetError};

/// What a lookup is asked: Node's `dns.lookup(host, { family, hints, all })`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupRequest {
    /// The host name.
    pub host: String,
    /// The family wanted (`None`: any).
    pub family: Option<Family>,
    /// `getaddrinfo` hints (the system resolver here cannot pass them on).
    pub hints: i32,
    /// Whether every address is wanted (happy eyeballs) or only the first.
    pub all: bool,
}

/// A custom resolver (Node's `lookup` option). It runs on a helper thread of its own, which
/// the socket joins before it rests; the driver keeps only the first answer when `all` is
/// false.
pub type LookupFn =
    Arc<dyn Fn(&LookupRequest) -> Result<Vec<LookupAnswer>, NetError> + Send + Sync>;

/// Where a socket's lookups go, besides the system resolver.
#[derive(Clone)]
pub(crate) enum Resolver {
    /// A custom resolver ([`LookupFn`]), on a helper thread.
    Custom(LookupFn),
    /// Fixed answers, given at once ([`crate::SocketSettings::lookup_answers`]).
    Answers(Arc<[LookupAnswer]>),
}

impl Resolver {
    /// The resolver of a socket's settings: fixed answers first, else the function.
    pub(crate) fn of(answers: Option<Vec<LookupAnswer>>, f: Option<LookupFn>) -> Option<Resolver> {
        match (answers, f) {
            (Some(a), _) => Some(Resolver::Answers(a.into())),
            (None, Some(f)) => Some(Resolver::Custom(f)),
            (None, None) => None,
        }
    }
}

/// The answer of a lookup, as the core takes it.
pub(crate) type LookupResult = Result<Vec<LookupAnswer>, NetError>;

/// Starts a lookup on a helper thread; `done` gets the answer on that thread.
pub(crate) fn spawn(
    f: Option<LookupFn>,
    req: LookupRequest,
    done: impl FnOnce(LookupResult) + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sansnet-lookup".into())
        .spawn(move || {
            let answers = match &f {
                Some(f) => f(&req),
                None => system(&req),
            };
            done(answers.map(|mut a| {
                if !req.all {
                    a.truncate(1);
                }
                a
            }));
        })
}

/// `getaddrinfo` through the standard library, filtered by family, in the resolver's
/// order (Node's default `verbatim` order).
pub(crate) fn system(req: &LookupRequest) -> LookupResult {
    let fail = |code: Code| NetError::syscall(code, "getaddrinfo", Some(&req.host), None);
    let addrs = (req.host.as_str(), 0).to_socket_addrs().map_err(|e| {
        // The standard library reports resolver failures only as text.
        let text = e.to_string();
        fail(if text.contains("Temporary failure") {
            Code::EaiAgain
        } else if text.contains("Non-recoverable") {
            Code::EaiFail
        } else {
            Code::Enotfound
        })
    })?;
    let mut answers: Vec<LookupAnswer> = Vec::new();
    for a in addrs {
        let family = if a.is_ipv4() { Family::V4 } else { Family::V6 };
        if req.family.is_some_and(|f| f != family) {
            continue;
        }
        let answer = LookupAnswer::ip(a.ip());
        if !answers.contains(&answer) {
            answers.push(answer);
        }
    }
    if answers.is_empty() {
        return Err(fail(Code::Enotfound));
    }
    Ok(answers)
}

/// The request a server makes for its listen host: the first answer of any family.
pub(crate) fn listen_request(host: String) -> LookupRequest {
    LookupRequest {
        host,
        family: None,
        hints: 0,
        all: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_family_filter() {
        let req = LookupRequest {
            host: "127.0.0.1".into(),
            family: None,
            hints: 0,
            all: true,
        };
        let a = system(&req).unwrap();
        assert_eq!(a, vec![LookupAnswer::ip([127, 0, 0, 1].into())]);
        let req = LookupRequest {
            family: Some(Family::V6),
            ..req
        };
        assert_eq!(system(&req).unwrap_err().code, Code::Enotfound);
    }
}
