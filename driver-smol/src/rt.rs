//! The runtime calls an application needs besides sockets, the same inside a simulation
//! and out: [`spawn`], [`sleep`], [`timeout`]. Outside a simulation they are smol's (its
//! global executor, async-io's timers); inside [`crate::sim::Sim::run`], the simulation's
//! executor and virtual clock.

use std::future::Future;
use std::io;
use std::time::Duration;

use async_task::Task;

use crate::sim;

/// Spawns a task: on smol's global executor, or on the simulation's inside one.
pub fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> Task<T> {
    match sim::current() {
        Some(ctx) => ctx.spawn(future),
        None => smol::spawn(future),
    }
}

/// Waits `d`: real time, or virtual time inside a simulation (taking no real time).
pub async fn sleep(d: Duration) {
    match sim::current() {
        Some(ctx) => sim::sleep(&ctx, d).await,
        None => {
            async_io::Timer::after(d).await;
        }
    }
}

/// `future`'s output, or `TimedOut` once `d` passed first (see [`sleep`]).
pub async fn timeout<T>(d: Duration, future: impl Future<Output = T>) -> io::Result<T> {
    futures_lite::future::or(async { Ok(future.await) }, async {
        sleep(d).await;
        Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"))
    })
    .await
}
