//! Node's loop phases, decided by the core whatever the moment a driver reports an OS
//! fact: each case is what Node 20 prints for the same facts on loopback.

use super::tests::{attempt, connected, drain, drain_until_check, names, socket, t};
use super::*;

/// `srv.write('x'); c.end()` in one turn: the shutdown asked with nothing queued completes
/// in the next iteration's pending phase, before that iteration's poll reads the byte.
/// Node: `finish data end close`.
#[test]
fn finish_of_an_end_with_nothing_queued_comes_before_the_next_poll() {
    // The driver read the byte after end() ...
    let mut s = connected();
    s.end(t(2), None);
    s.received(t(2), b"x".to_vec());
    assert_eq!(names(&drain(&mut s).0), ["Finish", "data 1"]);
    // ... or before it: the order is the same.
    let mut s = connected();
    s.received(t(2), b"x".to_vec());
    s.end(t(2), None);
    assert_eq!(names(&drain(&mut s).0), ["Finish", "data 1"]);
}

/// The peer wrote and ended in one turn; our 'data' listener calls `end()`. libuv stops
/// reading after the short read, runs the shutdown in the pending phase right after the
/// poll phase, and reads EOF in the next one. Node: `data finish end close`.
#[test]
fn a_short_read_ends_the_poll_phase_and_pending_work_runs_after_it() {
    let mut s = connected();
    s.received(t(2), b"x".to_vec());
    s.eof(t(2));
    assert!(matches!(
        s.poll_output(),
        Some(Output::Event(SocketEvent::Data(_)))
    ));
    s.end(t(2), None);
    assert_eq!(
        names(&drain(&mut s).0),
        ["Finish", "End", "close HadError(false)"]
    );
}

/// Reads reported in pieces before their poll phase are one read, as one `read()` of
/// the kernel's buffer takes them; more than [`READ_SIZE`] is several reads of one poll.
#[test]
fn reads_before_a_poll_phase_are_taken_together() {
    let mut s = connected();
    s.received(t(2), b"ab".to_vec());
    s.received(t(2), b"cd".to_vec());
    assert_eq!(names(&drain(&mut s).0), ["data 4"]);

    let mut s = connected();
    s.received(t(2), vec![7; READ_SIZE + 10]);
    s.eof(t(2));
    let (ev, _) = drain(&mut s);
    assert_eq!(
        names(&ev),
        [
            &format!("data {READ_SIZE}"),
            "data 10",
            "End",
            "Finish",
            "close HadError(false)"
        ]
    );
}

/// Bytes the OS delivered that no poll phase read yet are still unread in the kernel, in
/// Node's terms: destroying the socket then closes with RST, not FIN.
#[test]
fn destroy_with_bytes_not_yet_polled_resets() {
    let mut s = connected();
    s.received(t(2), b"x".to_vec());
    s.destroy(None);
    let (ev, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::Reset), "{io:?}");
    assert_eq!(names(&ev), ["close HadError(false)"]);

    let mut s = connected();
    s.received(t(2), b"x".to_vec());
    drain(&mut s);
    s.destroy(None);
    let (_, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::Close), "{io:?}");
}

/// A write completed by the OS after the call that made it is a completion of the next
/// poll phase: its callback comes after what that call's ticks emitted.
#[test]
fn an_asynchronous_write_completion_waits_for_the_poll_phase() {
    let mut s = connected();
    let w = s.write(t(2), Chunk::text("x"));
    let (_, io) = {
        // The driver could not write at once: nothing completes while carrying out.
        let mut io = Vec::new();
        while let Some(o) = s.poll_emitted() {
            if let Output::Io(i) = o {
                io.push(i);
            }
        }
        (Vec::<SocketEvent>::new(), io)
    };
    let id = io
        .iter()
        .find_map(|i| match i {
            SocketIo::Write { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a write");
    s.write_done(t(3), id);
    assert_eq!(s.writable_length(), 1, "not applied before the poll phase");
    let (ev, _) = drain(&mut s);
    assert_eq!(
        ev,
        [SocketEvent::WriteCallback {
            id: w.id,
            error: None
        }]
    );
    assert_eq!(s.writable_length(), 0);
}

/// Deadlines are checked on every entry point: a read reported after an idle timeout was
/// due (the driver was late with `handle_timeout`) still finds the `'timeout'` first.
#[test]
fn an_overdue_idle_timeout_fires_before_the_activity_that_would_refresh_it() {
    let mut s = connected();
    s.set_timeout(t(1), Duration::from_millis(10));
    s.received(t(50), b"x".to_vec());
    s.handle_timeout(t(50));
    assert_eq!(names(&drain(&mut s).0), ["Timeout", "data 1"]);

    let mut s = connected();
    s.set_timeout(t(1), Duration::from_millis(10));
    s.received(t(50), b"x".to_vec());
    assert_eq!(names(&drain(&mut s).0), ["Timeout", "data 1"]);
    assert_eq!(s.poll_timeout(), Some(t(60)), "re-armed by the read");
}

/// Node (checked on Node 20): on a `pauseOnConnect` socket, `resume(); pause()` in one turn
/// still starts reading (resume_'s `read(0)`), so the peer's FIN ends it: `end`, `finish`,
/// `close false`.
#[test]
fn resume_then_pause_still_starts_reading() {
    let opts = crate::options::ServerOptions {
        pause_on_connect: true,
        ..crate::options::ServerOptions::default()
    };
    let mut s = Socket::accepted(&opts, None, None, false);
    let (_, io) = drain(&mut s);
    assert!(!io.contains(&SocketIo::StartReading), "{io:?}");
    s.resume();
    s.pause();
    let (_, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::StartReading), "{io:?}");
    s.eof(t(2));
    assert_eq!(
        names(&drain(&mut s).0),
        ["End", "Finish", "close HadError(false)"]
    );
}

/// Node (checked on Node 20): once the kernel closed the connection (both FINs, or a
/// reset) `getpeername` fails, so `remoteAddress` reads `undefined` unless an earlier read
/// cached it.
#[test]
fn the_peer_address_is_gone_once_the_kernel_closed_the_connection() {
    let mut s = connected();
    s.peer_address_gone();
    assert_eq!(s.remote_address(), None);

    let mut s = connected();
    let before = s.remote_address();
    assert!(before.is_some());
    s.peer_address_gone();
    assert_eq!(s.remote_address(), before, "cached by the earlier read");
}

/// A fact applied after its report acts at the latest time the socket has seen: the idle
/// timer it re-arms is never already past (found by the `socket` fuzz target).
#[test]
fn a_fact_applied_late_re_arms_the_idle_timer_from_now() {
    let mut s = connected();
    s.set_timeout(t(1), Duration::from_millis(10));
    s.received(t(5), b"x".to_vec());
    s.handle_timeout(t(100));
    assert_eq!(names(&drain(&mut s).0), ["Timeout", "data 1"]);
    assert_eq!(s.poll_timeout(), Some(t(110)));
}

/// A unix socket's peer wrote and closed: the kernel reports a hang-up, and libuv reads
/// past the short read to the EOF in the same poll phase. Our 'data' listener calls
/// `end()`: Node gives `data end finish` (without the hang-up, `data finish end`).
#[test]
fn after_a_hang_up_the_eof_comes_in_the_same_poll_phase_as_the_short_read() {
    let mut s = connected();
    s.received(t(2), b"xyz".to_vec());
    s.eof_on_hang_up(t(2));
    assert!(matches!(
        s.poll_output(),
        Some(Output::Event(SocketEvent::Data(_)))
    ));
    s.end(t(2), None);
    assert_eq!(
        names(&drain(&mut s).0),
        ["End", "Finish", "close HadError(false)"]
    );
}

/// libuv completes a connect in its poll phase: in a loop shared with other sockets, the
/// shutdown of an `end()` queued while connecting (nothing left to write) runs in the
/// pending phase right after that poll phase, before the loop's check phase, not in the
/// next iteration. Node: `connect ready finish` before a `setImmediate` of the
/// 'connect' listener runs.
#[test]
fn a_connect_completes_in_a_poll_phase_so_its_shutdown_runs_right_after_it() {
    let mut s = socket();
    s.share_loop();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    s.end(t(0), None);
    let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let remote: SocketAddr = "127.0.0.1:80".parse().unwrap();
    s.attempt_connected(t(1), attempt(&io), Some(local), Some(remote));
    let (mut ev, _) = drain_until_check(&mut s);
    assert_eq!(names(&ev), ["Connect", "Ready"]);
    // The shutdown waits for its turn in the loop's pending queue, which the driver
    // grants once nothing comes before it (here at once: no other socket asked).
    assert!(s.has_pending_due() && !s.has_work_before_pending());
    assert_eq!(s.take_pending_asks(), 1);
    s.grant_pending();
    ev.extend(drain_until_check(&mut s).0);
    assert_eq!(names(&ev), ["Connect", "Ready", "Finish"]);
}

/// The hang-up may come after the EOF was reported (the unix peer ended, then closed):
/// as long as no poll phase took them, libuv's next one reads both.
#[test]
fn a_hang_up_after_the_eof_still_joins_it_to_the_short_read() {
    let mut s = connected();
    s.received(t(2), b"xyz".to_vec());
    s.eof(t(2));
    s.hung_up();
    assert!(matches!(
        s.poll_output(),
        Some(Output::Event(SocketEvent::Data(_)))
    ));
    s.end(t(2), None);
    assert_eq!(
        names(&drain(&mut s).0),
        ["End", "Finish", "close HadError(false)"]
    );
}

/// A paused socket stops reading with the read that takes its buffer past the
/// high-water mark, as libuv's read loop ends at `readStop`: what the driver read beyond
/// it stays in the kernel (unpolled, not counted in `bytesRead`) until reading resumes.
#[test]
fn reading_stops_with_the_read_that_fills_the_buffer() {
    let mut s = connected();
    s.pause();
    drain(&mut s);
    for _ in 0..4 {
        s.received(t(2), vec![1; READ_SIZE]);
    }
    let (_, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::StopReading), "{io:?}");
    assert_eq!(
        s.bytes_read(),
        READ_SIZE as u64,
        "one read past the high-water mark"
    );
    s.resume();
    let (ev, _) = drain(&mut s);
    let data: usize = ev
        .iter()
        .map(|e| match e {
            SocketEvent::Data(d) => d.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(data, 4 * READ_SIZE, "every byte, once reading resumed");
}

/// The readable side stops reading at its own high-water mark (`readableHighWaterMark`),
/// not the writable side's; the getters report both.
#[test]
fn reading_stops_at_the_readable_high_water_mark() {
    let opts = SocketOptions {
        readable_high_water_mark: 8,
        writable_high_water_mark: 1 << 20,
        ..SocketOptions::default()
    };
    let mut s = Socket::new(&opts);
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    let local = "127.0.0.1:5000".parse().ok();
    let remote = "127.0.0.1:80".parse().ok();
    s.attempt_connected(t(1), attempt(&io), local, remote);
    drain(&mut s);
    let info = s.info();
    assert_eq!(
        (info.readable_high_water_mark, info.writable_high_water_mark),
        (8, 1 << 20)
    );
    s.pause();
    drain(&mut s);
    s.received(t(2), vec![1; 10]);
    let (_, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::StopReading), "{io:?}");
    let info = s.info();
    assert_eq!((info.readable_flowing, info.readable_length), (false, 10));
}

/// A reset reported while bytes read before it wait for their poll phase: libuv reads
/// the bytes, and the hang-up that comes with the reset turns its short read into the
/// EOF; the error is never read (Node: `data`, `end`, not `error ECONNRESET`).
#[test]
fn a_reset_behind_unpolled_bytes_reads_as_the_eof() {
    let mut s = connected();
    s.received(t(2), b"a".to_vec());
    s.read_failed(Code::Econnreset);
    let names = names(&drain(&mut s).0);
    assert_eq!(names[..2], ["data 1", "End"], "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("error")), "{names:?}");
}

/// Nothing fires inside an application call (Node runs no timer between a call and its
/// return): a write made after the idle deadline passed, before the loop ran its timers,
/// re-arms the timer (its activity) instead of emitting `'timeout'` within the call.
#[test]
fn an_overdue_idle_timeout_does_not_fire_inside_a_call() {
    let mut s = connected();
    s.set_timeout(t(1), Duration::from_millis(10));
    drain(&mut s);
    s.write(t(50), Chunk::text("x"));
    let mut ev = Vec::new();
    while let Some(o) = s.poll_emitted() {
        if let Output::Event(e) = o {
            ev.push(e);
        }
    }
    assert!(!ev.contains(&SocketEvent::Timeout), "{ev:?}");
    assert_eq!(s.poll_timeout(), Some(t(60)), "re-armed by the write");
}
