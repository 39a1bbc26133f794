//! Every rule of [`super`] for a whole [`Sim`]: the sockets' event rules and states, the
//! servers' rules and counts, and the bytes of each connection.

use std::collections::BTreeMap;

use super::{bounded_outputs, deadline_after, socket_state, ServerChecker, SocketChecker};
use crate::blocklist::BlockList;
use crate::sim::{Observed, ServerHandle, ServerObserved, Sim, SocketHandle};
use crate::socket::SocketEvent;

/// What the checker knows of one simulated socket.
#[derive(Debug)]
struct Track {
    check: SocketChecker,
    /// The life (a destroyed socket connected again starts a new one).
    life: usize,
    /// The simulated connection end this life owns (once seen).
    endpoint: Option<usize>,
    /// Bytes this life received as `'data'`.
    rx: usize,
    /// This life emitted `'finish'`: every byte `write()` accepted was sent before the FIN.
    finished: bool,
    /// The server that admitted it, and whether it was destroyed (released) since.
    server: Option<(ServerHandle, bool)>,
}

impl Track {
    fn new(server: Option<ServerHandle>) -> Track {
        Track {
            check: SocketChecker::events_only(server.is_some()).with_fin_tracking(),
            life: 0,
            endpoint: None,
            rx: 0,
            finished: false,
            server: server.map(|h| (h, false)),
        }
    }
}

/// How often the byte rules could be applied (a sweep reports them, to show the checks
/// are not vacuous).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// `'data'` chunks compared with the bytes the peer's `write()` accepted.
    pub data_checked: u64,
    /// `'data'` chunks whose writer was not known (a connection the checker never saw).
    pub data_unchecked: u64,
    /// `'end'` events after which every accepted byte had to have arrived.
    pub ends_checked: u64,
    /// Live connections whose bytes were compared once everything settled.
    pub streams_checked: u64,
}

/// The checker of a whole simulation. The driver tells it what the application did that
/// the simulator cannot say ([`SimChecker::add_server`] with its blockList,
/// [`SimChecker::wrote`], [`SimChecker::new_life`]) and hands it everything observed
/// ([`SimChecker::observe_all`]).
#[derive(Debug, Default)]
pub struct SimChecker {
    sockets: BTreeMap<usize, Track>,
    servers: BTreeMap<usize, ServerChecker>,
    /// Connection end → the socket and life that owned it.
    endpoints: BTreeMap<usize, (usize, usize)>,
    /// The bytes `write()` accepted, by socket and life.
    tx: BTreeMap<(usize, usize), Vec<u8>>,
    /// How often the byte rules applied.
    pub stats: StreamStats,
}

impl SimChecker {
    /// A checker with nothing known yet.
    pub fn new() -> SimChecker {
        SimChecker::default()
    }

    /// A server was added, created with `block_list` as its `blockList` option.
    pub fn add_server(&mut self, h: ServerHandle, block_list: Option<BlockList>) {
        self.servers.insert(h.0, ServerChecker::new(block_list));
    }

    /// A client socket was added (`new net.Socket()`).
    pub fn add_socket(&mut self, h: SocketHandle) {
        self.sockets.insert(h.0, Track::new(None));
    }

    fn track(&mut self, h: SocketHandle) -> &mut Track {
        self.sockets.entry(h.0).or_insert_with(|| Track::new(None))
    }

    /// The socket, destroyed, is connected again: a new life. Call it after everything the
    /// old life emitted was observed. Returns false when the old life had not emitted
    /// `'close'` yet (it still owes it).
    pub fn new_life(&mut self, h: SocketHandle) -> bool {
        let t = self.track(h);
        t.life += 1;
        t.endpoint = None;
        t.rx = 0;
        t.finished = false;
        t.check.new_life()
    }

    /// `write(bytes)`, or `end([bytes])` with `end`, on socket `h`; what `write()`
    /// accepted (its `bytesWritten` grew by all of it) is recorded with [`Self::wrote`].
    pub fn write(&mut self, sim: &mut Sim, h: SocketHandle, bytes: Option<Vec<u8>>, end: bool) {
        let before = sim.socket_ref(h).bytes_written();
        let chunk = bytes.clone().map(crate::socket::Chunk::bytes);
        if end {
            sim.socket(h, |s, now| s.end(now, chunk));
        } else if let Some(c) = chunk {
            sim.socket(h, |s, now| s.write(now, c));
        }
        let bytes = bytes.unwrap_or_default();
        if sim.socket_ref(h).bytes_written() == before + bytes.len() as u64 {
            self.wrote(h, &bytes);
        }
    }

    /// After the loop ran up to `limit`: the connection counts, the clock moved to
    /// `limit`, and every socket's state with its timers handled.
    pub fn reached(&self, sim: &mut Sim, limit: crate::time::Instant) {
        self.count_connections(sim);
        sim.advance_clock(limit);
        self.states(sim, true);
    }

    /// `write()` (or `end(chunk)`) on `h` accepted `bytes`: its peer must receive them.
    pub fn wrote(&mut self, h: SocketHandle, bytes: &[u8]) {
        let life = self.track(h).life;
        self.tx
            .entry((h.0, life))
            .or_default()
            .extend_from_slice(bytes);
    }

    /// Notes the connection ends the sockets own now.
    fn refresh(&mut self, sim: &Sim) {
        for (&i, t) in self.sockets.iter_mut() {
            if let Some(ep) = sim.endpoint_of(SocketHandle(i)) {
                if t.endpoint != Some(ep) {
                    t.endpoint = Some(ep);
                    self.endpoints.insert(ep, (i, t.life));
                }
            }
        }
    }

    /// The socket and life at the other end of `h`'s connection, when known.
    fn peer(&self, h: usize) -> Option<(usize, usize)> {
        let ep = self.sockets.get(&h)?.endpoint?;
        // The simulator creates the two ends of a connection together: 2k and 2k + 1.
        self.endpoints.get(&(ep ^ 1)).copied()
    }

    /// Takes what the applications observed since the last call, checks it, and returns
    /// it (for the driver to log and react to). One call covers the outputs of one input:
    /// their number is bounded.
    pub fn observe_all(&mut self, sim: &mut Sim) -> Vec<Observed> {
        let seen = sim.take_observed();
        bounded_outputs(seen.len());
        self.refresh(sim);
        for o in &seen {
            self.observe(sim, o);
        }
        self.refresh(sim);
        for (&i, t) in self.sockets.iter_mut() {
            if let Some((_, released)) = &mut t.server {
                // A destroyed accepted socket asked for its release as it was destroyed.
                *released |= sim.socket_ref(SocketHandle(i)).destroyed();
            }
        }
        seen
    }

    /// Checks one observed event.
    fn observe(&mut self, sim: &Sim, o: &Observed) {
        match o {
            Observed::Socket(h, e) => self.socket_event(sim, *h, e),
            Observed::Server(h, ServerObserved::Connection(sh)) => {
                self.sockets.insert(sh.0, Track::new(Some(*h)));
                self.server(*h).connection(sim.server_ref(*h));
            }
            Observed::Server(h, ServerObserved::Drop(info)) => {
                self.server(*h).drop(sim.server_ref(*h), info.as_ref());
            }
            Observed::Server(h, ServerObserved::Close) => {
                self.server(*h).close(sim.server_ref(*h));
            }
            Observed::Server(..) => {}
        }
    }

    fn server(&mut self, h: ServerHandle) -> &mut ServerChecker {
        self.servers.entry(h.0).or_default()
    }

    fn socket_event(&mut self, sim: &Sim, h: SocketHandle, e: &SocketEvent) {
        let peer = self.peer(h.0);
        match e {
            SocketEvent::Data(bytes) => {
                let rx = self.track(h).rx;
                match peer {
                    Some(p) => {
                        let tx = self.tx.get(&p).map(Vec::as_slice).unwrap_or(&[]);
                        let end = rx + bytes.len();
                        assert!(
                            end <= tx.len() && tx[rx..end] == bytes[..],
                            "socket {h:?} received bytes {rx}..{end} that are not the bytes \
                             its peer's write() accepted ({} of them)",
                            tx.len()
                        );
                        self.stats.data_checked += 1;
                    }
                    None => self.stats.data_unchecked += 1,
                }
                self.track(h).rx += bytes.len();
            }
            SocketEvent::End => {
                let rx = self.track(h).rx;
                let fin = match peer {
                    // The peer's life ended (it was connected again): it closed.
                    Some((p, life)) if self.sockets.get(&p).is_some_and(|t| t.life == life) => {
                        let s = sim.socket_ref(SocketHandle(p));
                        let finished = self.sockets.get(&p).is_some_and(|t| t.finished);
                        if !s.destroyed() || finished {
                            let sent = self.tx.get(&(p, life)).map_or(0, Vec::len);
                            assert_eq!(
                                rx, sent,
                                "socket {h:?} got 'end' after {rx} bytes; its peer's write() \
                                 accepted {sent}, and the peer was not destroyed before \
                                 finishing"
                            );
                            self.stats.ends_checked += 1;
                        }
                        s.writable_ended() || s.destroyed() || s.orphan_fin_sent()
                    }
                    // Unknown: an end the server refused or a connect aborted, closed.
                    _ => true,
                };
                if fin {
                    self.track(h).check.peer_fin();
                }
            }
            SocketEvent::Finish => self.track(h).finished = true,
            _ => {}
        }
        self.track(h).check.event(e);
    }

    /// After a step: every socket's state is consistent; with `timers_handled` (the loop
    /// ran up to now), no deadline is in the past.
    pub fn states(&self, sim: &Sim, timers_handled: bool) {
        for &i in self.sockets.keys() {
            let s = sim.socket_ref(SocketHandle(i));
            socket_state(s);
            if timers_handled {
                deadline_after(s, sim.now());
            }
        }
    }

    /// Once the loop settled (every output carried out): each server counts exactly the
    /// sockets it admitted that were not destroyed since. (Between turns the release of a
    /// socket destroyed in a deferred step may still wait in its queue.)
    pub fn count_connections(&self, sim: &Sim) {
        for &i in self.servers.keys() {
            let h = ServerHandle(i);
            let live = self
                .sockets
                .values()
                .filter(|t| t.server == Some((h, false)))
                .count();
            let n = sim.server_ref(h).connections();
            assert_eq!(
                n as usize, live,
                "server {h:?} counts {n} connections, {live} admitted sockets are alive"
            );
        }
    }

    /// Once everything was pulled (the loop has nothing left before a far horizon): each
    /// idle socket emitted `'close'` exactly once if destroyed, never if not; and on each
    /// connection whose two ends are alive and flowing, each end received every byte the
    /// other's `write()` accepted.
    pub fn settled(&mut self, sim: &Sim) {
        for (&i, t) in &self.sockets {
            let s = sim.socket_ref(SocketHandle(i));
            if s.is_idle() {
                t.check.settled(s.destroyed());
            }
        }
        let mut checked = 0;
        for (&i, t) in &self.sockets {
            let s = sim.socket_ref(SocketHandle(i));
            let Some((p, life)) = self.peer(i) else {
                continue;
            };
            let Some(pt) = self.sockets.get(&p) else {
                continue;
            };
            let ps = sim.socket_ref(SocketHandle(p));
            let alive = !s.destroyed() && !ps.destroyed() && pt.life == life;
            if alive && s.is_flowing() && s.is_idle() && ps.is_idle() {
                let sent = self.tx.get(&(p, life)).map_or(0, Vec::len);
                assert_eq!(
                    t.rx, sent,
                    "socket {i} (alive, flowing) received {} bytes, its live peer {p}'s \
                     write() accepted {sent}",
                    t.rx
                );
                checked += 1;
            }
        }
        self.stats.streams_checked += checked;
    }

    /// `'connection'`, `'drop'` and `'close'` counts over all servers (for statistics).
    pub fn server_counts(&self) -> (usize, usize, usize) {
        self.servers.values().fold((0, 0, 0), |a, c| {
            let (x, y, z) = c.counts();
            (a.0 + x, a.1 + y, a.2 + z)
        })
    }
}
