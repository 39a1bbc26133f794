//! One thread serving every socket and server of the process's runtime with
//! `Runtime::wait_events` while the reactor thread also runs the loop (a test binary of
//! its own: from its first wait, the global runtime counts on that thread to take every
//! handle's events).

mod common;
#[path = "common/serve.rs"]
mod serve;

use common::bounded;
use sansnet_std::Runtime;
use serve::echo_clients;

#[test]
fn one_thread_echoes_thirty_connections_on_the_global_runtime() {
    bounded(60, || {
        let lens: Vec<usize> = (0..30)
            .map(|k| if k % 10 == 0 { 1 << 20 } else { 500 + k * 1499 })
            .collect();
        echo_clients(&Runtime::global(), &lens);
    });
}
