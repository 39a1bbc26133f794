//! A socket handle in a simulation: the same calls as a real one, run on the simulator's
//! core socket; its events taken from the world's slot.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use sansnet::options::ConnectOptions;
use sansnet::sim::SocketHandle;
use sansnet::socket::{Chunk, Socket as Core, SocketEvent, SocketInfo, Wait, WaitEnd, WriteResult};
use sansnet::{Duration, Instant, NetError};
use sansnet_std::{LookupRequest, SocketSettings};

use super::world::{lock, Shared, World};

/// A `net.Socket` living in a simulation.
pub(crate) struct SimSocket {
    pub(crate) world: Shared,
    pub(crate) h: SocketHandle,
}

impl std::fmt::Debug for SimSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Socket(simulated #{})", self.h.0)
    }
}

impl SimSocket {
    /// `new net.Socket(options)` in `world`.
    pub(crate) fn new(world: Shared, s: SocketSettings) -> SimSocket {
        let mut w = lock(&world);
        // Fixed answers take precedence over a resolver function, as on the OS.
        let custom = s.lookup.filter(|_| s.lookup_answers.is_none());
        let h = w.sim.add_socket(Core::new(&s.options), s.lookup_answers);
        if let Some(f) = custom {
            w.sim.set_resolver(
                h,
                Arc::new(move |host, family, hints, all| {
                    f(&LookupRequest {
                        host: host.to_string(),
                        family,
                        hints,
                        all,
                    })
                }),
            );
        }
        w.sock(h).handle = true;
        w.own_socket(super::exec::current_host().as_deref(), h);
        drop(w);
        SimSocket { world, h }
    }

    /// A handle on a socket the simulator accepted.
    pub(crate) fn accepted(world: Shared, h: SocketHandle) -> SimSocket {
        SimSocket { world, h }
    }

    /// Runs an application call on the core socket, then hands out what it emitted.
    fn call<R>(&self, f: impl FnOnce(&mut Core, Instant) -> R) -> R {
        let mut w = lock(&self.world);
        let r = w.sim.socket(self.h, f);
        w.distribute();
        r
    }

    pub(crate) fn connect(&self, opts: ConnectOptions) {
        let opts = opts.with_process_defaults();
        lock(&self.world).sock(self.h).last_error = None;
        self.call(|s, now| s.connect(now, &opts));
    }

    pub(crate) fn connect_rejected(&self) {
        self.call(|s, now| s.connect_rejected(now));
    }

    pub(crate) fn write(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_with(chunk.into(), false)
    }

    pub(crate) fn write_with_callback(&self, chunk: impl Into<Chunk>) -> WriteResult {
        self.write_with(chunk.into(), true)
    }

    fn write_with(&self, chunk: Chunk, callback: bool) -> WriteResult {
        let mut w = lock(&self.world);
        let r = w
            .sim
            .socket(self.h, |s, now| s.write_with(now, chunk, callback));
        // Node's value: decided after the synchronous write attempt the simulator made.
        let ok = w.sim.socket_ref(self.h).write_return_value();
        w.distribute();
        WriteResult { ok, ..r }
    }

    pub(crate) fn end(&self, chunk: Option<Chunk>) -> WriteResult {
        self.call(|s, now| s.end_with(now, chunk, false))
    }

    pub(crate) fn end_with_callback(&self, chunk: Option<Chunk>) -> WriteResult {
        self.call(|s, now| s.end_with(now, chunk, true))
    }

    pub(crate) fn destroy(&self, err: Option<NetError>) {
        self.call(|s, _| s.destroy(err));
    }

    pub(crate) fn destroy_soon(&self) {
        self.call(|s, now| s.destroy_soon(now));
    }

    pub(crate) fn reset_and_destroy(&self) -> Result<(), NetError> {
        self.call(|s, _| s.reset_and_destroy())
    }

    pub(crate) fn pause(&self) {
        self.call(|s, _| s.pause());
    }

    pub(crate) fn resume(&self) {
        self.call(|s, _| s.resume());
    }

    pub(crate) fn set_timeout(&self, timeout: Duration) {
        self.call(|s, now| s.set_timeout(now, timeout));
    }

    pub(crate) fn set_no_delay(&self, no_delay: bool) {
        self.call(|s, _| s.set_no_delay(no_delay));
    }

    pub(crate) fn set_keep_alive(&self, enable: bool, initial_delay: Duration) {
        let secs = u32::try_from(initial_delay.as_secs()).unwrap_or(u32::MAX);
        self.call(|s, _| s.set_keep_alive(enable, secs));
    }

    pub(crate) fn abort(&self) {
        self.call(|s, _| s.abort());
    }

    pub(crate) fn remote_address(&self) -> Option<SocketAddr> {
        self.call(|s, _| s.remote_address())
    }

    pub(crate) fn info(&self) -> SocketInfo {
        self.call(|s, _| s.info())
    }

    pub(crate) fn try_next_event(&self) -> Option<SocketEvent> {
        lock(&self.world).sock(self.h).events.pop_front()
    }

    /// Polls `cond`; `Pending` registers the task's waker with the socket.
    fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        cond: fn(&mut World, SocketHandle) -> Option<T>,
    ) -> Poll<T> {
        let mut w = lock(&self.world);
        if let Some(t) = cond(&mut w, self.h) {
            return Poll::Ready(t);
        }
        let wakers = &mut w.sock(self.h).wakers;
        if !wakers.iter().any(|k| k.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    pub(crate) fn poll_next_event(&self, cx: &mut Context<'_>) -> Poll<Option<SocketEvent>> {
        self.poll(cx, next)
    }

    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, |w, h| wait_end(w, h, Wait::Connect))
    }

    pub(crate) fn poll_finished(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, |w, h| wait_end(w, h, Wait::Finish))
    }

    pub(crate) fn poll_flushed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, |w, h| wait_end(w, h, Wait::Flush))
    }

    pub(crate) fn poll_drained(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll(cx, |w, h| wait_end(w, h, Wait::Drain))
    }

    pub(crate) fn poll_read_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            {
                let mut w = lock(&self.world);
                let slot = w.sock(self.h);
                if let Some((data, pos)) = slot.leftover.as_mut() {
                    let n = buf.len().min(data.len() - *pos);
                    buf[..n].copy_from_slice(&data[*pos..*pos + n]);
                    *pos += n;
                    if *pos == data.len() {
                        slot.leftover = None;
                    }
                    return Poll::Ready(Ok(n));
                }
            }
            let e = match self.poll_next_event(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(e) => e,
            };
            match e {
                None | Some(SocketEvent::End | SocketEvent::Close(_)) => return Poll::Ready(Ok(0)),
                Some(SocketEvent::Data(d)) => {
                    let n = buf.len().min(d.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    if n < d.len() {
                        lock(&self.world).sock(self.h).leftover = Some((d, n));
                    }
                    return Poll::Ready(Ok(n));
                }
                Some(SocketEvent::Error(e)) => return Poll::Ready(Err(e.into())),
                Some(_) => {}
            }
        }
    }

    pub(crate) fn poll_write_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if !buf.is_empty() {
            std::task::ready!(self.poll_drained(cx))?;
            self.write_with(Chunk::bytes(buf), false);
        }
        Poll::Ready(Ok(buf.len()))
    }

    pub(crate) fn poll_end(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.info().writable_ended {
            self.end(None);
        }
        self.poll_finished(cx)
    }
}

impl Drop for SimSocket {
    fn drop(&mut self) {
        let mut w = lock(&self.world);
        w.drop_socket(self.h);
        w.distribute();
    }
}

/// The next event, or `Some(None)` when none will ever come.
fn next(w: &mut World, h: SocketHandle) -> Option<Option<SocketEvent>> {
    if let Some(e) = w.sock(h).events.pop_front() {
        return Some(Some(e));
    }
    w.sim.socket_ref(h).emits_no_more().then_some(None)
}

/// The end of a wait on socket `h`, as the core rules it: `Ok`, or the error the socket
/// was destroyed with once known (`'error'` comes a tick after the destroy).
fn wait_end(w: &mut World, h: SocketHandle, wait: Wait) -> Option<io::Result<()>> {
    let core = w.sim.socket_ref(h);
    let idle = core.is_idle();
    let end = core.wait_over(wait, &w.sockets.get(h.0)?.events)?;
    let slot = w.sock(h);
    match (end, &slot.last_error) {
        (WaitEnd::Done, _) => Some(Ok(())),
        (WaitEnd::Destroyed, Some(e)) => Some(Err(e.clone().into())),
        (WaitEnd::Destroyed, None) => idle.then(|| {
            Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the socket is closed",
            ))
        }),
    }
}
