//! Micro-benchmarks of the pure sansnet core (no I/O, no clock): the per-chunk work a
//! driver asks of the core socket state machine.
//!
//! `cargo bench -p sansnet-bench --bench core`; divan prints time per cycle and cycles/s.

use divan::counter::ItemsCount;
use divan::Bencher;
use sansnet::socket::{Chunk, Output, Socket, SocketIo};
use sansnet::{Instant, ServerOptions};

fn main() {
    divan::main();
}

/// A connected (accepted) core socket with its start-up outputs drained.
fn connected() -> Socket {
    let mut s = Socket::accepted(&ServerOptions::default(), None, None, false);
    while s.poll_output().is_some() {}
    s
}

/// `write(64 B)` → the `Write` request → `write_done` → poll until idle (the write
/// callback): what the smol driver does for each chunk the kernel takes at once.
#[divan::bench(sample_count = 200, sample_size = 1000)]
fn write_write_done_poll(bencher: Bencher<'_, '_>) {
    let mut s = connected();
    let chunk = vec![0u8; 64];
    let mut t = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        t += 1;
        let now = Instant::from_nanos(t);
        s.write(now, Chunk::bytes(chunk.clone()));
        while let Some(o) = s.poll_output() {
            if let Output::Io(SocketIo::Write { id, .. }) = o {
                s.write_done(now, id);
            }
        }
    });
}

/// `received(64 B)` → poll the `'data'` event: the core's share of every read.
#[divan::bench(sample_count = 200, sample_size = 1000)]
fn received_poll(bencher: Bencher<'_, '_>) {
    let mut s = connected();
    let chunk = vec![0u8; 64];
    let mut t = 0u64;
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        t += 1;
        s.received(Instant::from_nanos(t), chunk.clone());
        while let Some(o) = s.poll_output() {
            divan::black_box(o);
        }
    });
}
