//! A server handle in a simulation: the same calls as a real one, run on the simulator's
//! core server; its events taken from the world's slot.

use std::io;
use std::task::{Context, Poll};

use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::{BoundAddress, Server as Core};
use sansnet::sim::{ServerHandle, SocketHandle};
use sansnet::NetError;
use sansnet_std::ServerInfo;

use super::world::{lock, Shared, SrvEvent, World};

/// A `net.Server` living in a simulation.
pub(crate) struct SimServer {
    pub(crate) world: Shared,
    pub(crate) h: ServerHandle,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server(simulated #{})", self.h.0)
    }
}

impl SimServer {
    pub(crate) fn new(world: Shared, options: ServerOptions) -> SimServer {
        let mut w = lock(&world);
        let h = w.sim.add_server(Core::new(options));
        w.srv(h).handle = true;
        w.own_server(super::exec::current_host().as_deref(), h);
        drop(w);
        SimServer { world, h }
    }

    fn call<R>(&self, f: impl FnOnce(&mut Core) -> R) -> R {
        let mut w = lock(&self.world);
        let r = w.sim.server(self.h, f);
        w.distribute();
        r
    }

    pub(crate) fn start_listen(&self, listen: ListenOptions) -> Result<(), NetError> {
        self.call(|s| s.listen(listen))
    }

    pub(crate) fn start_close(&self) {
        self.call(Core::close);
    }

    pub(crate) fn abort(&self) {
        self.call(Core::abort);
    }

    pub(crate) fn start_get_connections(&self) {
        self.call(Core::get_connections);
    }

    pub(crate) fn set_max_connections(&self, max: Option<u32>) {
        self.call(|s| s.max_connections = max);
    }

    pub(crate) fn info(&self) -> ServerInfo {
        let w = lock(&self.world);
        ServerInfo::of(w.sim.server_ref(self.h))
    }

    pub(crate) fn try_next_event(&self) -> Option<SrvEvent> {
        lock(&self.world).srv(self.h).events.pop_front()
    }

    /// Polls `cond`; `Pending` registers the task's waker with the server.
    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        cond: fn(&mut World, ServerHandle) -> Option<T>,
    ) -> Poll<T> {
        let mut w = lock(&self.world);
        if let Some(t) = cond(&mut w, self.h) {
            return Poll::Ready(t);
        }
        let wakers = &mut w.srv(self.h).wakers;
        if !wakers.iter().any(|k| k.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    pub(crate) fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<SrvEvent>> {
        self.poll(cx, |w, h| {
            if let Some(e) = w.srv(h).events.pop_front() {
                return Some(Some(e));
            }
            w.sim.server_ref(h).emits_no_more().then_some(None)
        })
    }

    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketHandle>> {
        self.poll(cx, |w, h| {
            let no_more = w.sim.server_ref(h).emits_no_more();
            SrvEvent::accept_from(&mut w.srv(h).events, no_more)
        })
    }

    pub(crate) fn poll_listening(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<BoundAddress, NetError>> {
        self.poll(cx, |w, h| {
            let address = w.sim.server_ref(h).address();
            w.srv(h)
                .events
                .iter()
                .find_map(|e| e.listen_outcome(address.as_ref()))
        })
    }

    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<Result<(), NetError>> {
        self.poll(cx, |w, h| {
            for s in SrvEvent::take_connections(&mut w.srv(h).events) {
                w.drop_socket(s);
            }
            w.distribute();
            w.srv(h).events.iter().find_map(SrvEvent::close_outcome)
        })
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        lock(&self.world).drop_server(self.h);
    }
}
