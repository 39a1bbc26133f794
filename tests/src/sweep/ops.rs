//! The operations of a sweep, carried out on the simulator.

use std::net::{IpAddr, Ipv6Addr};

use sansnet::blocklist::BlockList;
use sansnet::options::{ConnectOptions, ListenOptions, ServerOptions, SocketOptions};
use sansnet::server::{BoundAddress, Server};
use sansnet::socket::{LookupAnswer, Socket};
use sansnet::{Duration, NetError};

use super::workload::{Dest, Op, Where};
use super::{Run, MAX_SERVERS, MAX_SOCKETS, PATHS};

const V4: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

impl Run {
    fn connect_options(&self, dest: Dest) -> (ConnectOptions, Option<Vec<LookupAnswer>>) {
        let port = |j| self.server_port(j);
        let o = match dest {
            Dest::V4(j) => ConnectOptions::tcp("127.0.0.1", port(j)),
            Dest::V6(j) => ConnectOptions::tcp("::1", port(j)),
            Dest::Dual(j) => ConnectOptions::tcp("dual.test", port(j)),
            Dest::Localhost(j) => ConnectOptions::tcp("localhost", port(j)),
            Dest::Path(j) => match self
                .server(j)
                .and_then(|s| self.sim.server_ref(s).address())
            {
                Some(BoundAddress::Ipc(p)) => ConnectOptions::ipc(p),
                _ => ConnectOptions::ipc(PATHS[j % PATHS.len()]),
            },
            Dest::Refused(p) => ConnectOptions::tcp("127.0.0.1", p),
            Dest::Unknown => ConnectOptions::tcp("nowhere.test", 80),
            Dest::Empty => ConnectOptions::tcp("empty.test", 80),
            Dest::Far => ConnectOptions::tcp("far.test", 80),
            Dest::Blackhole => match self.blackhole {
                Some((ip, p)) => ConnectOptions::tcp(ip.to_string(), p),
                None => ConnectOptions::tcp("127.0.0.1", 9),
            },
            Dest::OddLookup(j) => {
                let answers = vec![
                    LookupAnswer {
                        address: "127.0.0.1".into(),
                        family: 4,
                    },
                    LookupAnswer {
                        address: "::1".into(),
                        family: [6, 5, 0][j % 3],
                    },
                ];
                let o = ConnectOptions::tcp("odd.test", port(j)).with_custom_lookup();
                return (o, Some(answers));
            }
        };
        (o, None)
    }

    pub(super) fn op(&mut self, op: &Op) {
        let now = self.sim.now();
        match *op {
            Op::NewServer {
                pause,
                half_open,
                max,
                block,
                echo,
            } => {
                if self.servers.len() < MAX_SERVERS {
                    let mut cfg = ServerOptions::new();
                    cfg.pause_on_connect = pause;
                    cfg.allow_half_open = half_open;
                    if block > 0 {
                        let mut list = BlockList::new();
                        list.add_address(if block == 1 { V6 } else { V4 });
                        cfg.block_list = Some(list);
                    }
                    let list = cfg.block_list.clone();
                    let mut s = Server::new(cfg);
                    s.max_connections = max;
                    let h = self.sim.add_server(s);
                    self.check.add_server(h, list);
                    self.servers.push((h, echo));
                }
            }
            Op::Listen(i, w) => {
                let Some(h) = self.server(i) else { return };
                let opts = match w {
                    Where::Any => ListenOptions::tcp(None, 0),
                    Where::V4 => ListenOptions::tcp(Some("127.0.0.1".into()), 0),
                    Where::V6 => ListenOptions::tcp(Some("::1".into()), 0),
                    Where::Name => ListenOptions::tcp(Some("v4.test".into()), 0),
                    Where::PortOf(j) => ListenOptions::tcp(None, self.server_port(j)),
                    Where::Remote => ListenOptions::tcp(Some("192.0.2.1".into()), 0),
                    Where::Path(j) => ListenOptions::ipc(PATHS[j % PATHS.len()]),
                    Where::Unknown => ListenOptions::tcp(Some("nowhere.test".into()), 0),
                };
                let r = self.sim.server(h, |s| s.listen(opts));
                self.line(format_args!("listen {r:?}"));
            }
            Op::CloseServer(i) => {
                if let Some(h) = self.server(i) {
                    self.sim.server(h, Server::close);
                }
            }
            Op::SetMax(i, max) => {
                if let Some(h) = self.server(i) {
                    self.sim.server(h, |s| s.max_connections = max);
                }
            }
            Op::NewSocket {
                half_open,
                hwm,
                block,
            } => {
                if self.sockets.len() < MAX_SOCKETS {
                    let mut opts = SocketOptions::new()
                        .with_allow_half_open(half_open)
                        .with_high_water_mark(hwm);
                    if block {
                        let mut list = BlockList::new();
                        list.add_address(V6);
                        opts.block_list = Some(list);
                    }
                    let h = self.sim.add_socket(Socket::new(&opts), None);
                    self.sockets.push(h);
                    self.check.add_socket(h);
                }
            }
            Op::Connect {
                socket,
                dest,
                auto_select,
                timeout,
            } => {
                let Some(h) = self.idle_socket(socket) else {
                    return;
                };
                let (mut opts, lookup) = self.connect_options(dest);
                if let Some(a) = auto_select {
                    opts = opts.with_auto_select_family(a);
                }
                opts = opts.with_timeout(timeout.map(Duration::from_millis));
                if lookup.is_some() {
                    // A custom lookup belongs to a socket: a fresh one.
                    if self.sockets.len() >= MAX_SOCKETS {
                        return;
                    }
                    let h = self
                        .sim
                        .add_socket(Socket::new(&SocketOptions::new()), lookup);
                    self.sockets.push(h);
                    self.check.add_socket(h);
                    self.sim.socket(h, |s, now| s.connect(now, &opts));
                    return;
                }
                if self.sim.socket_ref(h).destroyed() {
                    // What the old life emitted and the simulator has not carried out yet
                    // belongs to the old life: let it out before the reuse starts a new one.
                    self.sim.socket(h, |_, _| ());
                    self.observe();
                    self.check.new_life(h);
                    // Connected again, it is a client: it no longer echoes.
                    self.echo.remove(&h.0);
                }
                self.sim.socket(h, |s, now| s.connect(now, &opts));
            }
            Op::Write(i, n) => {
                if let Some(h) = self.socket(i) {
                    let bytes = self.pattern(n);
                    self.write(h, Some(bytes), false);
                }
            }
            Op::End(i, n) => {
                if let Some(h) = self.socket(i) {
                    let bytes = n.map(|n| self.pattern(n));
                    self.write(h, bytes, true);
                }
            }
            Op::Destroy(i, err) => {
                if let Some(h) = self.socket(i) {
                    let e = err.then(|| NetError::custom("ESWEEP", "sweep"));
                    self.sim.socket(h, |s, _| s.destroy(e));
                }
            }
            Op::DestroySoon(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, now| s.destroy_soon(now));
                }
            }
            Op::Reset(i) => {
                if let Some(h) = self.socket(i) {
                    let r = self.sim.socket(h, |s, _| s.reset_and_destroy());
                    self.line(format_args!("resetAndDestroy {r:?}"));
                }
            }
            Op::Pause(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, _| s.pause());
                }
            }
            Op::Resume(i) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, _| s.resume());
                }
            }
            Op::SetTimeout(i, ms) => {
                if let Some(h) = self.socket(i) {
                    let d = Duration::from_millis(ms);
                    self.sim.socket(h, |s, now| s.set_timeout(now, d));
                }
            }
            Op::Tune(i, on) => {
                if let Some(h) = self.socket(i) {
                    self.sim.socket(h, |s, _| {
                        s.set_no_delay(on);
                        s.set_keep_alive(!on, 1);
                    });
                }
            }
            Op::Vanish(i, reset) => {
                // Prefer a socket with writes waiting: its peer goes away mid-write.
                let n = self.sockets.len();
                let busy = (0..n)
                    .map(|k| self.sockets[(i + k) % n])
                    .find(|&h| self.sim.socket_ref(h).writable_length() > 0);
                let Some(peer) = busy.or(self.socket(i)).and_then(|h| self.peer(h)) else {
                    return;
                };
                if reset {
                    let _ = self.sim.socket(peer, |s, _| s.reset_and_destroy());
                } else {
                    self.sim.socket(peer, |s, _| s.destroy(None));
                }
            }
            Op::Blackhole(v6) => {
                let ip = if v6 { V6 } else { V4 };
                let port = self.sim.blackhole(ip);
                self.blackhole = Some((ip, port));
            }
            Op::Partition(v6, cut) => self.sim.set_partitioned(if v6 { V6 } else { V4 }, cut),
            Op::Latency(ms) => self.sim.set_latency(Duration::from_millis(ms)),
            Op::Advance(ms) => self.run_until(now + Duration::from_millis(ms)),
            Op::Turn => {
                self.sim.turn(now);
            }
            Op::TurnImmediate => {
                self.sim.turn_immediate();
            }
        }
    }
}
