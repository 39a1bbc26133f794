//! The simulated world's shared state: the core simulator, what each handle has not taken
//! yet, the tasks waiting on them, the application's timers, and the trace.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use sansnet::sim::{Observed, ServerHandle, ServerObserved, Sim as Core, SocketHandle};
use sansnet::socket::SocketEvent;
use sansnet::{Instant, NetError};

use super::trace::Trace;

/// A server event as a simulated server keeps it: a connection is a simulator handle
/// until the application takes it.
pub(crate) type SrvEvent = sansnet_std::ServerEvent<SocketHandle>;

/// The world behind one lock, shared by every handle of a simulation and its executor.
pub(crate) type Shared = Arc<Mutex<World>>;

/// Locks the world (a panicking task does not poison it for the report that follows).
pub(crate) fn lock(w: &Shared) -> MutexGuard<'_, World> {
    match w.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// What a socket's handle has not taken yet, and who waits for it.
#[derive(Debug, Default)]
pub(crate) struct SockSlot {
    pub(crate) events: VecDeque<SocketEvent>,
    /// The rest of a `'data'` chunk the byte stream read in part.
    pub(crate) leftover: Option<(Vec<u8>, usize)>,
    pub(crate) wakers: Vec<Waker>,
    /// A handle exists (events are kept for it).
    pub(crate) handle: bool,
    pub(crate) last_error: Option<NetError>,
}

/// What a server's handle has not taken yet, and who waits for it.
#[derive(Debug, Default)]
pub(crate) struct SrvSlot {
    pub(crate) events: VecDeque<SrvEvent>,
    pub(crate) wakers: Vec<Waker>,
    pub(crate) handle: bool,
}

/// The simulation's state.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) sim: Core,
    pub(crate) sockets: Vec<SockSlot>,
    pub(crate) servers: Vec<SrvSlot>,
    /// The application's sleeps, by deadline then order of arming.
    timers: BTreeMap<(Instant, u64), Waker>,
    timer_seq: u64,
    pub(crate) trace: Trace,
    /// Named hosts whose tasks, sockets and servers crash together.
    pub(crate) hosts: BTreeMap<String, Host>,
    /// The host each server was made on, by handle.
    server_hosts: BTreeMap<usize, String>,
}

/// A host's processes: what crashes with it.
#[derive(Debug, Default)]
pub(crate) struct Host {
    /// Bumped by each crash: tasks of an older generation are gone.
    pub(crate) generation: u64,
    /// Its addresses (the source of its connections).
    pub(crate) addresses: Vec<std::net::IpAddr>,
    /// Its file system (for unix socket paths) in the simulator.
    pub(crate) fs: u32,
    pub(crate) sockets: Vec<SocketHandle>,
    pub(crate) servers: Vec<ServerHandle>,
}

fn wake_all(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}

impl World {
    pub(crate) fn new(seed: u64) -> World {
        let mut sim = Core::new(seed);
        sim.log_packets();
        World {
            sim,
            sockets: Vec::new(),
            servers: Vec::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            trace: Trace::default(),
            hosts: BTreeMap::new(),
            server_hosts: BTreeMap::new(),
        }
    }

    /// Host `name` (made on first use, with a file system of its own).
    pub(crate) fn host(&mut self, name: &str) -> &mut Host {
        let next_fs = self.hosts.len() as u32 + 1;
        self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            fs: next_fs,
            ..Host::default()
        })
    }

    /// Socket `h` belongs to `host`'s processes (made by its tasks, or accepted by its
    /// servers).
    pub(crate) fn own_socket(&mut self, host: Option<&str>, h: SocketHandle) {
        if let Some(name) = host {
            let host = self.host(name);
            host.sockets.push(h);
            let (addresses, fs) = (host.addresses.clone(), host.fs);
            self.sim.set_source_addresses(h, addresses);
            self.sim.set_socket_file_system(h, fs);
        }
    }

    /// Server `h` belongs to `host`'s processes.
    pub(crate) fn own_server(&mut self, host: Option<&str>, h: ServerHandle) {
        if let Some(name) = host {
            let host = self.host(name);
            host.servers.push(h);
            let fs = host.fs;
            self.server_hosts.insert(h.0, name.to_string());
            self.sim.set_server_file_system(h, fs);
        }
    }

    /// `host`'s current generation (made on first use).
    pub(crate) fn generation(&mut self, host: &str) -> u64 {
        self.host(host).generation
    }

    /// `host` crashes: its tasks are gone (they are dropped when next polled), its
    /// connections reset, its listeners gone. Returns the wakers to wake (outside the
    /// lock).
    pub(crate) fn crash(&mut self, host: &str) -> Vec<Waker> {
        let now = self.sim.now();
        self.trace.fault(now, &format!("crash {host}"));
        let h = self.host(host);
        h.generation += 1;
        let sockets = std::mem::take(&mut h.sockets);
        let servers = std::mem::take(&mut h.servers);
        let mut wakers = Vec::new();
        for s in sockets {
            self.sim.crash_socket(s);
            let slot = self.sock(s);
            slot.events.clear();
            slot.leftover = None;
            wakers.append(&mut slot.wakers);
        }
        for s in servers {
            self.sim.crash_server(s);
            self.server_hosts.remove(&s.0);
            let slot = self.srv(s);
            slot.events.clear();
            wakers.append(&mut slot.wakers);
        }
        self.distribute();
        wakers
    }

    /// Socket `h`'s slot (made on first use: sockets accepted inside the simulator).
    pub(crate) fn sock(&mut self, h: SocketHandle) -> &mut SockSlot {
        if self.sockets.len() <= h.0 {
            self.sockets.resize_with(h.0 + 1, SockSlot::default);
        }
        &mut self.sockets[h.0]
    }

    /// Server `h`'s slot.
    pub(crate) fn srv(&mut self, h: ServerHandle) -> &mut SrvSlot {
        if self.servers.len() <= h.0 {
            self.servers.resize_with(h.0 + 1, SrvSlot::default);
        }
        &mut self.servers[h.0]
    }

    /// Hands what the simulator's applications observed to their handles and wakes the
    /// tasks waiting for them. Connections and events nobody holds a handle for are let
    /// go (a connection whose server handle is gone is dropped, as Node's would be
    /// without a `'connection'` listener... ending gracefully).
    pub(crate) fn distribute(&mut self) {
        for (t, line) in self.sim.take_packet_log() {
            self.trace.packet(t, &line);
        }
        loop {
            let observed = self.sim.take_observed();
            if observed.is_empty() {
                return;
            }
            let now = self.sim.now();
            for o in observed {
                match o {
                    Observed::Socket(h, e) => {
                        self.trace.socket_event(now, h, &e);
                        let slot = self.sock(h);
                        if let SocketEvent::Error(err) = &e {
                            slot.last_error = Some(err.clone());
                        }
                        if slot.handle {
                            slot.events.push_back(e);
                            wake_all(&mut slot.wakers);
                        }
                    }
                    Observed::Server(h, e) => {
                        self.trace.server_event(now, h, &e);
                        let ev = match e {
                            ServerObserved::Listening => SrvEvent::Listening,
                            ServerObserved::Connection(s) => {
                                self.sock(s).handle = true;
                                let host = self.server_hosts.get(&h.0).cloned();
                                self.own_socket(host.as_deref(), s);
                                SrvEvent::Connection(s)
                            }
                            ServerObserved::Drop(d) => SrvEvent::Drop(d),
                            ServerObserved::Error(e) => SrvEvent::Error(e),
                            ServerObserved::Close => SrvEvent::Close,
                            ServerObserved::CloseCallback(e) => SrvEvent::CloseCallback(e),
                            ServerObserved::Connections(n) => SrvEvent::Connections(n),
                        };
                        let slot = self.srv(h);
                        if slot.handle {
                            slot.events.push_back(ev);
                            wake_all(&mut slot.wakers);
                        } else if let SrvEvent::Connection(s) = ev {
                            self.drop_socket(s);
                        }
                    }
                }
            }
        }
    }

    /// Socket `h`'s handle is gone: it ends gracefully, as `destroySoon()`.
    pub(crate) fn drop_socket(&mut self, h: SocketHandle) {
        let slot = self.sock(h);
        slot.handle = false;
        slot.events.clear();
        slot.leftover = None;
        slot.wakers.clear();
        self.sim.socket(h, |s, now| s.handle_dropped(now));
    }

    /// Server `h`'s handle is gone: it closes; connections nobody took are dropped.
    pub(crate) fn drop_server(&mut self, h: ServerHandle) {
        let slot = self.srv(h);
        slot.handle = false;
        slot.wakers.clear();
        let untaken = SrvEvent::take_connections(&mut slot.events);
        slot.events.clear();
        for s in untaken {
            self.drop_socket(s);
        }
        self.sim.server(h, |s| s.handle_dropped());
        self.distribute();
    }

    /// Arms an application timer; its key for [`World::disarm`].
    pub(crate) fn arm(&mut self, at: Instant, waker: Waker) -> (Instant, u64) {
        self.timer_seq += 1;
        let key = (at, self.timer_seq);
        self.timers.insert(key, waker);
        key
    }

    /// Replaces an armed timer's waker (the task polled it again).
    pub(crate) fn rearm(&mut self, key: (Instant, u64), waker: &Waker) {
        if let Some(w) = self.timers.get_mut(&key) {
            if !w.will_wake(waker) {
                *w = waker.clone();
            }
        }
    }

    /// Every waker the world holds (the simulation ends: dropped outside the lock).
    pub(crate) fn take_wakers(&mut self) -> Vec<Waker> {
        let mut all = Vec::new();
        for s in &mut self.sockets {
            all.append(&mut s.wakers);
        }
        for s in &mut self.servers {
            all.append(&mut s.wakers);
        }
        all.extend(std::mem::take(&mut self.timers).into_values());
        all
    }

    /// Forgets a timer.
    pub(crate) fn disarm(&mut self, key: (Instant, u64)) {
        self.timers.remove(&key);
    }

    /// Every task waits: the application's turn is over. Runs the simulator to its next
    /// event for the application, or moves the clock to the next application timer.
    /// False when nothing is left to happen.
    pub(crate) fn advance(&mut self) -> bool {
        let next_timer = self.timers.keys().next().map(|k| k.0);
        let limit = next_timer.unwrap_or(Instant::from_nanos(u64::MAX));
        if self.sim.turn(limit) {
            self.distribute();
            return true;
        }
        let Some(at) = next_timer else {
            return false;
        };
        self.sim.advance_clock(at);
        self.trace.timer(at);
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > at {
                break;
            }
            entry.remove().wake();
        }
        true
    }
}
