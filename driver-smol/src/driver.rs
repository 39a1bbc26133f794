//! The driver task: runs a runtime's loop on the executor whenever its `epoll` is
//! readable (async-io waits for it) or a deadline passes.

use std::os::fd::OwnedFd;
use std::sync::OnceLock;

use async_io::{Async, Timer};
use futures_lite::future;
use sansnet_std::Runtime;

/// This crate's default runtime: driven by a task on smol's global executor (started at
/// first use), so that the loop, the I/O and the tasks of the handles share its thread.
///
/// # Panics
///
/// When the OS refuses an `epoll` instance at first use.
pub fn runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let rt = Runtime::driven().expect("sansnet-smol: an epoll instance");
            smol::spawn(drive(rt.clone())).detach();
            rt
        })
        .clone()
}

/// Runs `rt`'s loop forever: whenever its `epoll` is readable, a call gave the loop work
/// ([`Runtime::poll_work`]) or its next deadline passes, and again at once after a run in
/// which the OS reported something ([`Runtime::run_busy`]), once the tasks it woke have
/// run. Spawn it on the executor that runs the handles' tasks.
///
/// # Panics
///
/// When the OS refuses to duplicate the `epoll` descriptor or to watch it.
pub async fn drive(rt: Runtime) {
    let fd: OwnedFd = rt
        .fd()
        .try_clone_to_owned()
        .expect("sansnet-smol: a descriptor for the runtime's epoll");
    let ready = Async::new(fd).expect("sansnet-smol: watching the runtime's epoll");
    loop {
        let (busy, next) = rt.run_busy();
        if busy {
            // The tasks just woken run first; their replies' readiness is then found by
            // the next run without waiting for the reactor.
            future::yield_now().await;
            continue;
        }
        let timer = async {
            match next {
                Some(at) => {
                    Timer::at(at).await;
                }
                None => future::pending::<()>().await,
            }
        };
        let work = future::poll_fn(|cx| rt.poll_work(cx));
        let _ = future::or(async { ready.readable().await.map(|_| ()) }, async {
            future::or(timer, work).await;
            Ok(())
        })
        .await;
    }
}
