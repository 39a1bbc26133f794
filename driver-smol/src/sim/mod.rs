//! Deterministic simulation of the application's own code, in virtual time.
//!
//! Inside [`Sim::run`], the very same [`Socket`](crate::Socket), [`Server`](crate::Server),
//! [`connect`](crate::connect), [`spawn`](crate::spawn), [`sleep`](crate::sleep) and
//! [`timeout`](crate::timeout) that run on real sockets under `smol::block_on` run against
//! [`sansnet::sim`] instead: the same core state machines, Node's event-loop phases, a
//! simulated kernel (loopback as Linux's, Nagle and delayed ACKs, listeners with backlogs,
//! unix socket paths, a DNS table) and a virtual clock that jumps to the next thing that
//! happens. Nothing in the application changes and it needs no generic parameter.
//!
//! ```
//! use sansnet_smol::{connect, sleep, spawn, ConnectOptions, ListenOptions, Server, ServerOptions};
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//!
//! // The application: an echo server and a client, as it would run on real sockets.
//! async fn app() -> Vec<u8> {
//!     let server = Server::new(ServerOptions::default());
//!     let addr = server.listen(ListenOptions::tcp(None, 0)).await.unwrap();
//!     let port = addr.port().unwrap();
//!     spawn(async move {
//!         let mut s = server.accept().await.unwrap();
//!         let mut buf = [0u8; 64];
//!         let n = s.read(&mut buf).await.unwrap();
//!         s.write_all(&buf[..n]).await.unwrap();
//!     })
//!     .detach();
//!     sleep(std::time::Duration::from_secs(1)).await; // virtual: takes no real time
//!     let mut c = connect(ConnectOptions::tcp("localhost", port)).await.unwrap();
//!     c.write_all(b"hello").await.unwrap();
//!     let mut buf = vec![0u8; 5];
//!     c.read_exact(&mut buf).await.unwrap();
//!     buf
//! }
//!
//! let mut sim = sansnet_smol::sim::Sim::new(7);
//! assert_eq!(sim.run(app()), b"hello");
//! assert!(sim.elapsed() >= std::time::Duration::from_secs(1));
//! // On real sockets: smol::block_on(app()).
//! ```
//!
//! ## Determinism and replay
//!
//! A run is a function of the seed and the code: the seed picks the ephemeral ports and
//! which ready task runs next; time is virtual. `SANSNET_SEED=N` replaces the seed of every
//! [`Sim::new`] (replay a failure); a run that panics prints its seed, the command to
//! replay it, and the end of its trace; `SANSNET_TRACE=1` prints every run's whole trace
//! ([`Sim::trace`] gives it to the test). [`check_determinism`] runs a simulation twice and
//! compares the whole trace.
//!
//! ## Faults
//!
//! [`Sim`] and [`SimHandle`] (reachable from the application's tasks through [`handle`]):
//! named hosts with several addresses ([`Sim::add_host`], so happy eyeballs runs for
//! real), link delays with jitter drawn from the seed ([`SimHandle::set_network_delay`],
//! [`SimHandle::set_link_delay`]), partitions and their repair, held links, black holes
//! (SYNs dropped), a host's crash and restart ([`SimHandle::spawn_on`],
//! [`SimHandle::crash`]), RST injection ([`SimHandle::reset_between`]), a file system per host for unix socket
//! paths ([`SimHandle::add_directory_on`]). A fault at a virtual time is scheduled with
//! [`SimHandle::after`] (or is any task that sleeps, then calls the handle).
//!
//! ## How the turns go
//!
//! Tasks run until every one waits: that is the application's JavaScript turn. Then the
//! simulator runs Node's loop to the next event an application observes (or the clock
//! moves to the next application timer), the tasks waiting for it wake, and so on. A
//! simulation where every task waits and nothing is left to happen panics (a deadlock).

mod exec;
mod server;
mod socket;
mod trace;
mod world;

use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use sansnet::socket::LookupAnswer;

pub(crate) use exec::{current, Ctx, Sleep};
pub(crate) use server::SimServer;
pub(crate) use socket::SimSocket;
use world::{lock, World};

/// A simulation: a simulated network and clock, and the executor that runs the
/// application's tasks in it.
#[derive(Debug)]
pub struct Sim {
    ctx: Ctx,
    seed: u64,
    /// Virtual time a run may take before it is called runaway.
    time_limit: std::time::Duration,
}

/// The seed `SANSNET_SEED` names, if any.
fn env_seed() -> Option<u64> {
    std::env::var("SANSNET_SEED").ok()?.trim().parse().ok()
}

impl Sim {
    /// A simulation whose every choice comes from `seed` (or from `SANSNET_SEED` when set).
    pub fn new(seed: u64) -> Sim {
        let seed = env_seed().unwrap_or(seed);
        Sim {
            ctx: Ctx {
                world: Arc::new(Mutex::new(World::new(seed))),
                exec: exec::Exec::new(seed),
            },
            seed,
            time_limit: std::time::Duration::from_secs(24 * 3600),
        }
    }

    /// How much virtual time [`Sim::run`] may take before it panics as a runaway (a
    /// retry loop that never succeeds): 24 hours unless set.
    pub fn set_time_limit(&mut self, limit: std::time::Duration) {
        self.time_limit = limit;
    }

    /// The seed this simulation replays from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A handle for faults and the clock, usable from the application's tasks.
    pub fn handle(&self) -> SimHandle {
        SimHandle {
            ctx: self.ctx.clone(),
        }
    }

    /// Runs `future` (and every task it spawns) to its end in virtual time.
    ///
    /// # Panics
    ///
    /// When every task waits and nothing is left to happen, when the run takes more virtual
    /// time than its limit ([`Sim::set_time_limit`]), or when a task panics; each prints
    /// the seed and the end of the trace.
    pub fn run<F: Future>(&mut self, future: F) -> F::Output {
        let _enter = exec::Enter::new(self.ctx.clone());
        let report = Report {
            seed: self.seed,
            world: self.ctx.world.clone(),
        };
        let mut future = pin!(future);
        let main = Arc::new(exec::MainWake::default());
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut poll_main = true;
        loop {
            if poll_main || main.take() {
                poll_main = false;
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    drop(report);
                    if std::env::var_os("SANSNET_TRACE").is_some() {
                        eprintln!("sansnet sim: seed {}\n{}", self.seed, self.trace());
                    }
                    return v;
                }
                continue;
            }
            if let Some(task) = self.ctx.exec.pick() {
                task.run();
                continue;
            }
            let mut w = lock(&self.ctx.world);
            if !w.advance() {
                drop(w);
                panic!(
                    "sansnet sim (seed {}): every task waits and nothing is left to happen",
                    self.seed
                );
            }
            let now = w
                .sim
                .now()
                .saturating_duration_since(sansnet::Instant::ZERO);
            drop(w);
            if now > self.time_limit {
                panic!(
                    "sansnet sim (seed {}): still running after {:?} of virtual time (Sim::set_time_limit)",
                    self.seed, self.time_limit
                );
            }
        }
    }

    /// Runs `f` with this simulation as the thread's: handles made inside live in it
    /// (a test harness that turns the loop itself, as [`Sim::turn`] does).
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _enter = exec::Enter::new(self.ctx.clone());
        f()
    }

    /// Turns Node's loop once, without running tasks: up to the first event an
    /// application observes, waiting in virtual time no later than `limit` (see
    /// [`sansnet::sim::Sim::turn`]). False when nothing happens before `limit`.
    pub fn turn(&mut self, limit: sansnet::Instant) -> bool {
        let mut w = lock(&self.ctx.world);
        let r = w.sim.turn(limit);
        w.distribute();
        r
    }

    /// What runs before a `setImmediate` callback ([`sansnet::sim::Sim::turn_immediate`]).
    pub fn turn_immediate(&mut self) -> bool {
        let mut w = lock(&self.ctx.world);
        let r = w.sim.turn_immediate();
        w.distribute();
        r
    }

    /// A `setImmediate` scheduled from the check phase
    /// ([`sansnet::sim::Sim::immediate_from_check`]).
    pub fn immediate_from_check(&mut self) {
        lock(&self.ctx.world).sim.immediate_from_check();
    }

    /// Moves the virtual clock to `at`.
    pub fn advance_clock(&mut self, at: sansnet::Instant) {
        lock(&self.ctx.world).sim.advance_clock(at);
    }

    /// Makes a directory on the simulated host (for unix socket paths).
    pub fn add_directory(&self, path: &str) {
        self.handle().add_directory(path);
    }

    /// A named host: `name` resolves to `addresses` in this order (IPv4 and IPv6 alike).
    pub fn add_host(&self, name: &str, addresses: &[IpAddr]) {
        self.handle().add_host(name, addresses);
    }

    /// The virtual time since the simulation began.
    pub fn elapsed(&self) -> std::time::Duration {
        self.handle().elapsed()
    }

    /// The virtual instant now.
    pub fn now(&self) -> sansnet::Instant {
        lock(&self.ctx.world).sim.now()
    }

    /// The trace so far: what the network carried, every event the applications
    /// observed, the faults and the application's timers, each with its virtual time.
    pub fn trace(&self) -> String {
        lock(&self.ctx.world).trace.render()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Tasks still waiting are dropped outside the world's lock: their futures may
        // hold handles, whose drop takes the lock.
        let ready = self.ctx.exec.clear();
        drop(ready);
        let wakers = lock(&self.ctx.world).take_wakers();
        drop(wakers);
    }
}

/// Prints the seed and the end of the trace when a simulation fails.
struct Report {
    seed: u64,
    world: world::Shared,
}

impl Drop for Report {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let trace = lock(&self.world).trace.render();
            let lines: Vec<&str> = trace.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!(
                "sansnet sim: failed with seed {seed}; replay it with\n  {}\n\
                 the last {} lines of its trace (SANSNET_TRACE=1 prints it all):\n{}",
                replay_command(self.seed),
                tail.len(),
                tail.join("\n"),
                seed = self.seed
            );
        }
    }
}

/// The command that replays the failing run: the seed, and under `cargo test` the
/// package, test binary and test (libtest names the thread after the test).
fn replay_command(seed: u64) -> String {
    let mut cmd = format!("SANSNET_SEED={seed} cargo test");
    if let Ok(pkg) = std::env::var("CARGO_PKG_NAME") {
        cmd.push_str(&format!(" -p {pkg}"));
    }
    let binary = std::env::current_exe().ok().and_then(|p| {
        let stem = p.file_stem()?.to_str()?.to_string();
        let name = stem
            .rsplit_once('-')
            .map_or(stem.clone(), |(n, _)| n.to_string());
        // Integration tests live in tests/NAME.rs; a crate's unit tests have its name.
        Some(name)
    });
    if let Some(b) = binary {
        let lib = std::env::var("CARGO_PKG_NAME").map(|p| p.replace('-', "_"));
        if lib.as_deref() == Ok(b.as_str()) {
            cmd.push_str(" --lib");
        } else {
            cmd.push_str(&format!(" --test {b}"));
        }
    }
    if let Some(test) = std::thread::current().name().filter(|n| *n != "main") {
        cmd.push_str(&format!(" -- --exact {test}"));
    }
    cmd
}

/// A handle on a simulation, for faults and the clock; `Clone` and `Send`, so the
/// application's tasks can hold one.
#[derive(Clone, Debug)]
pub struct SimHandle {
    ctx: Ctx,
}

/// The simulation the calling code runs in, if any.
pub fn handle() -> Option<SimHandle> {
    current().map(|ctx| SimHandle { ctx })
}

impl SimHandle {
    fn fault(&self, what: &str, f: impl FnOnce(&mut sansnet::sim::Sim)) {
        let mut w = lock(&self.ctx.world);
        let now = w.sim.now();
        w.trace.fault(now, what);
        f(&mut w.sim);
        w.distribute();
    }

    /// A named host: `name` resolves to `addresses`, in this order.
    pub fn add_host(&self, name: &str, addresses: &[IpAddr]) {
        let answers = addresses
            .iter()
            .map(|ip| LookupAnswer {
                address: ip.to_string(),
                family: if ip.is_ipv4() { 4 } else { 6 },
            })
            .collect();
        let mut w = lock(&self.ctx.world);
        for ip in addresses {
            w.sim.add_address(*ip);
        }
        w.host(name).addresses.extend_from_slice(addresses);
        w.sim.set_dns(name, answers);
    }

    /// Makes a directory (and its parents) on the simulated machine's default host (where
    /// tasks not spawned on a named host live), for unix socket paths.
    pub fn add_directory(&self, path: &str) {
        lock(&self.ctx.world).sim.add_directory(path);
    }

    /// Makes a directory on host `name`: each host has its own file system, so a unix
    /// socket path names different sockets on different hosts.
    pub fn add_directory_on(&self, name: &str, path: &str) {
        let mut w = lock(&self.ctx.world);
        let fs = w.host(name).fs;
        w.sim.add_directory_in(fs, path);
    }

    /// Runs `future` as a process of host `name`: it, the tasks it spawns and the
    /// sockets and servers they make (and accept) crash together ([`SimHandle::crash`]).
    pub fn spawn_on<F>(&self, name: &str, future: F) -> async_task::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let generation = lock(&self.ctx.world).generation(name);
        self.ctx.exec.spawn(exec::OnHost {
            world: self.ctx.world.clone(),
            host: name.to_string(),
            generation,
            future: Some(Box::pin(future)),
        })
    }

    /// Runs `fault` once `delay` of virtual time has passed (a fault scheduled ahead:
    /// `h.after(secs(2), |h| h.crash("db"))`).
    pub fn after(
        &self,
        delay: std::time::Duration,
        fault: impl FnOnce(&SimHandle) + Send + 'static,
    ) {
        let h = self.clone();
        let at = sleep(&self.ctx, delay);
        self.ctx
            .exec
            .spawn(async move {
                at.await;
                fault(&h);
            })
            .detach();
    }

    /// Host `name` crashes: its tasks are dropped (never finishing), its connections
    /// reset (peers get RST), its listeners gone (connects are refused). Start it again
    /// with [`SimHandle::spawn_on`].
    pub fn crash(&self, name: &str) {
        let wakers = lock(&self.ctx.world).crash(name);
        for w in wakers {
            w.wake();
        }
    }

    /// Cuts `ip` off: SYNs to it are lost (connects hang) and segments of its
    /// established connections wait, until [`SimHandle::repair`].
    pub fn partition(&self, ip: IpAddr) {
        self.fault(&format!("partition {ip}"), |s| {
            s.set_partitioned(ip, true);
            s.set_link_held(ip, true);
        });
    }

    /// Ends a partition of `ip`: what waited arrives, in order.
    pub fn repair(&self, ip: IpAddr) {
        self.fault(&format!("repair {ip}"), |s| {
            s.set_partitioned(ip, false);
            s.set_link_held(ip, false);
        });
    }

    /// Holds `ip`'s link: segments to and from it wait (new connects still pass) until
    /// [`SimHandle::release`].
    pub fn hold(&self, ip: IpAddr) {
        self.fault(&format!("hold {ip}"), |s| s.set_link_held(ip, true));
    }

    /// Releases a held link: what waited arrives, in order.
    pub fn release(&self, ip: IpAddr) {
        self.fault(&format!("release {ip}"), |s| s.set_link_held(ip, false));
    }

    /// Every link off loopback (between two hosts' addresses) takes `latency` plus up to
    /// `jitter` one way, drawn from the seed per segment; each direction stays in order.
    pub fn set_network_delay(&self, latency: std::time::Duration, jitter: std::time::Duration) {
        self.fault(&format!("network delay {latency:?} + {jitter:?}"), |s| {
            s.set_network_delay(sansnet::sim::LinkDelay { latency, jitter });
        });
    }

    /// The link between `a` and `b` takes `latency` plus up to `jitter` one way.
    pub fn set_link_delay(
        &self,
        a: IpAddr,
        b: IpAddr,
        latency: std::time::Duration,
        jitter: std::time::Duration,
    ) {
        self.fault(
            &format!("link {a} - {b} delay {latency:?} + {jitter:?}"),
            |s| {
                s.set_link_delay(a, b, sansnet::sim::LinkDelay { latency, jitter });
            },
        );
    }

    /// Connects and lookups take `latency` of virtual time (on loopback too).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.fault(&format!("latency {latency:?}"), |s| s.set_latency(latency));
    }

    /// A middlebox resets every open TCP connection between `a` and `b`: both ends get
    /// RST. Returns how many it reset.
    pub fn reset_between(&self, a: IpAddr, b: IpAddr) -> usize {
        let mut n = 0;
        self.fault(&format!("reset {a} - {b}"), |s| n = s.reset_between(a, b));
        n
    }

    /// A port on `ip` that drops every SYN (connects to it hang).
    pub fn blackhole(&self, ip: IpAddr) -> u16 {
        let mut port = 0;
        self.fault(&format!("black hole on {ip}"), |s| port = s.blackhole(ip));
        port
    }

    /// The virtual time since the simulation began.
    pub fn elapsed(&self) -> std::time::Duration {
        let now = lock(&self.ctx.world).sim.now();
        now.saturating_duration_since(sansnet::Instant::ZERO)
    }

    /// The trace so far (see [`Sim::trace`]).
    pub fn trace(&self) -> String {
        lock(&self.ctx.world).trace.render()
    }
}

/// Runs `f` twice with simulations of the same seed and compares their whole traces.
///
/// # Panics
///
/// When the two runs' traces differ (printing the first line that differs).
pub fn check_determinism<T>(seed: u64, mut f: impl FnMut(&mut Sim) -> T) -> T {
    let mut first = Sim::new(seed);
    let _ = f(&mut first);
    let a = first.trace();
    drop(first);
    let mut second = Sim::new(seed);
    let r = f(&mut second);
    let b = second.trace();
    if a != b {
        let (k, (x, y)) = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .map_or(
                (a.lines().count().min(b.lines().count()), ("(end)", "(end)")),
                |(k, p)| (k, p),
            );
        panic!(
            "sansnet sim (seed {}): two runs differ at trace line {}:\n  first:  {x}\n  second: {y}",
            second.seed(),
            k + 1
        );
    }
    r
}

impl Ctx {
    /// Spawns a task in the simulation; spawned by a host's task, it belongs to that
    /// host (and goes when it crashes).
    pub(crate) fn spawn<F>(&self, future: F) -> async_task::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match exec::current_host_generation() {
            Some((host, generation)) => self.exec.spawn(exec::OnHost {
                world: self.world.clone(),
                host,
                generation,
                future: Some(Box::pin(future)),
            }),
            None => self.exec.spawn(future),
        }
    }
}

/// `sleep` inside the simulation `ctx`.
pub(crate) fn sleep(ctx: &Ctx, d: std::time::Duration) -> Sleep {
    let at = lock(&ctx.world).sim.now() + d;
    Sleep {
        world: ctx.world.clone(),
        at,
        key: None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_replay_command_names_the_seed_package_and_test() {
        let cmd = super::replay_command(5);
        assert!(
            cmd.starts_with("SANSNET_SEED=5 cargo test -p sansnet-smol --lib"),
            "{cmd}"
        );
        assert!(
            cmd.ends_with(
                "-- --exact sim::tests::the_replay_command_names_the_seed_package_and_test"
            ),
            "{cmd}"
        );
    }
}
