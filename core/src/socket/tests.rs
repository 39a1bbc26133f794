//! The socket's transitions, one by one, including the subtle ones of spec §11, driven by
//! hand (the test plays the driver).

use super::*;
use crate::options::SocketOptions;

pub(super) fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

pub(super) fn socket() -> Socket {
    Socket::new(&SocketOptions::new())
}

/// Everything the socket emits until it is quiet: events and I/O requests.
pub(super) fn drain(s: &mut Socket) -> (Vec<SocketEvent>, Vec<SocketIo>) {
    let (mut ev, mut io) = (Vec::new(), Vec::new());
    while let Some(o) = s.poll_output() {
        match o {
            Output::Event(e) => ev.push(e),
            Output::Io(i) => io.push(i),
        }
    }
    (ev, io)
}

/// The next poll phase and its ticks, up to the loop's check phase.
pub(super) fn drain_until_check(s: &mut Socket) -> (Vec<SocketEvent>, Vec<SocketIo>) {
    let (mut ev, mut io) = (Vec::new(), Vec::new());
    let mut first = s.poll_output();
    while let Some(o) = first.take().or_else(|| s.poll_tick_output()) {
        match o {
            Output::Event(e) => ev.push(e),
            Output::Io(i) => io.push(i),
        }
    }
    (ev, io)
}

/// Event names; `end()` callbacks are left out (every `end()` has one; tests that care
/// look at them directly).
pub(super) fn names(ev: &[SocketEvent]) -> Vec<String> {
    ev.iter()
        .filter(|e| !matches!(e, SocketEvent::EndCallback { .. }))
        .map(|e| match e {
            SocketEvent::Error(e) => format!("error {}", e.trace_code()),
            SocketEvent::Close(k) => format!("close {k:?}"),
            SocketEvent::WriteCallback { error, .. } => {
                format!(
                    "writeCallback {}",
                    error.as_ref().map_or("null".into(), |e| e.trace_code())
                )
            }
            SocketEvent::EndCallback { error, .. } => {
                format!(
                    "endCallback {}",
                    error.as_ref().map_or("null".into(), |e| e.trace_code())
                )
            }
            SocketEvent::Data(d) => format!("data {}", d.len()),
            other => format!("{other:?}")
                .split([' ', '(', '{'])
                .next()
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

pub(super) fn attempt(io: &[SocketIo]) -> AttemptId {
    io.iter()
        .find_map(|i| match i {
            SocketIo::Connect { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .expect("a connect was asked")
}

/// A socket connected to 127.0.0.1:80.
pub(super) fn connected() -> Socket {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let remote: SocketAddr = "127.0.0.1:80".parse().unwrap();
    s.attempt_connected(t(1), attempt(&io), Some(local), Some(remote));
    drain(&mut s);
    s
}

#[test]
fn ip_literal_connect_waits_a_tick_so_destroy_prevents_it() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    assert_eq!(s.ready_state(), ReadyState::Opening);
    s.destroy(None);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["close HadError(false)"]);
    assert!(!io.iter().any(|i| matches!(i, SocketIo::Connect { .. })));
}

#[test]
fn refused_connect_reports_attempt_error_and_close_true() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["ConnectionAttempt"]);
    s.attempt_failed(t(1), attempt(&io), Code::Econnrefused);
    let (ev, _) = drain(&mut s);
    assert_eq!(
        names(&ev),
        [
            "ConnectionAttemptFailed",
            "error ECONNREFUSED",
            "close HadError(true)"
        ]
    );
    let SocketEvent::Error(e) = &ev[1] else {
        unreachable!()
    };
    assert_eq!(e.message, "connect ECONNREFUSED 127.0.0.1:80");
    assert!(s.destroyed() && s.pending());
}

#[test]
fn a_socket_that_never_had_a_handle_closes_without_argument() {
    let mut s = socket();
    assert_eq!(s.ready_state(), ReadyState::Open);
    assert!(s.pending());
    assert_eq!(s.buffer_size(), None);
    s.destroy(None);
    assert_eq!(names(&drain(&mut s).0), ["close NoHandle"]);
}

#[test]
fn only_the_first_destroy_counts() {
    let mut s = connected();
    s.destroy(Some(NetError::custom("E1", "one")));
    s.destroy(Some(NetError::custom("E2", "two")));
    assert_eq!(
        names(&drain(&mut s).0),
        ["error E1", "close HadError(true)"]
    );
}

#[test]
fn writes_before_connect_flush_after_it_and_fail_after_close_if_destroyed() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let a = s.write(t(0), Chunk::text("abc"));
    let b = s.write(t(0), Chunk::text("ä"));
    assert!(a.ok && b.ok);
    assert_eq!(s.buffer_size(), Some(4));
    assert_eq!(s.bytes_written(), 5, "bytesWritten counts encoded bytes");
    s.destroy(None);
    let ev = names(&drain(&mut s).0);
    assert_eq!(
        ev,
        [
            "close HadError(false)",
            "writeCallback ERR_SOCKET_CLOSED_BEFORE_CONNECTION",
            "writeCallback ERR_SOCKET_CLOSED_BEFORE_CONNECTION"
        ]
    );
}

#[test]
fn queued_writes_go_out_once_connected() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    s.write(t(0), Chunk::text("hello"));
    let (_, io) = drain(&mut s);
    s.attempt_connected(t(1), attempt(&io), None, None);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["Connect", "Ready"]);
    assert!(io
        .iter()
        .any(|i| matches!(i, SocketIo::Write { data, .. } if data.concat() == b"hello")));
}

#[test]
fn write_after_end_destroys_with_write_after_end() {
    let mut s = connected();
    s.end(t(2), None);
    let r = s.write(t(2), Chunk::text("late"));
    assert!(!r.ok);
    assert!(s.destroyed(), "destroyed synchronously");
    assert_eq!(
        names(&drain(&mut s).0),
        [
            "writeCallback ERR_STREAM_WRITE_AFTER_END",
            "error ERR_STREAM_WRITE_AFTER_END",
            "close HadError(true)"
        ]
    );
}

#[test]
fn write_after_destroy_fails_its_callback_without_error_event() {
    let mut s = connected();
    s.destroy(None);
    s.write(t(2), Chunk::text("x"));
    assert_eq!(
        names(&drain(&mut s).0),
        [
            "writeCallback ERR_STREAM_DESTROYED",
            "close HadError(false)"
        ]
    );
}

#[test]
fn peer_fin_without_half_open_ends_our_side_and_closes() {
    let mut s = connected();
    s.eof(t(2));
    let (ev, io) = drain_until_check(&mut s);
    assert_eq!(names(&ev), ["End", "Finish"]);
    assert!(
        io.contains(&SocketIo::Shutdown),
        "the automatic end() after 'end'"
    );
    assert_eq!(s.ready_state(), ReadyState::Closed);
    // The shutdown asked after the poll phase completes in its pending phase, before
    // the check phase; 'close' comes in the closing phase.
    assert_eq!(names(&drain(&mut s).0), ["close HadError(false)"]);
    // A write after the automatic end: EPIPE to the callback, no 'error' (destroyed).
    s.write(t(4), Chunk::text("x"));
    assert_eq!(names(&drain(&mut s).0), ["writeCallback EPIPE"]);
}

#[test]
fn write_after_the_automatic_end_is_epipe() {
    let mut s = connected();
    // A write the OS has not taken yet keeps the automatic end() from finishing.
    s.write_with(t(2), Chunk::text("pending"), false);
    while s.poll_emitted().is_some() {}
    s.eof(t(2));
    while !s.writable_ended() {
        if s.poll_output().is_none() {
            assert!(s.writable_ended(), "the automatic end() never came");
        }
    }
    s.write(t(3), Chunk::text("x"));
    let ev = names(&drain(&mut s).0);
    assert_eq!(
        ev,
        ["writeCallback EPIPE", "error EPIPE", "close HadError(true)"]
    );
}

#[test]
fn half_open_keeps_the_writable_side() {
    let mut s = Socket::new(&SocketOptions::new().with_allow_half_open(true));
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    s.attempt_connected(t(1), attempt(&io), None, None);
    drain(&mut s);
    s.eof(t(2));
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["End"]);
    assert!(!io.contains(&SocketIo::Shutdown));
    assert_eq!(s.ready_state(), ReadyState::WriteOnly);
    s.end(t(3), None);
    let (ev, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::Shutdown));
    assert_eq!(names(&ev), ["Finish", "close HadError(false)"]);
}

#[test]
fn fin_without_a_consumer_waits_for_resume() {
    let mut s = connected();
    s.pause();
    s.received(t(2), b"abc".to_vec());
    s.eof(t(2));
    assert!(
        names(&drain(&mut s).0).is_empty(),
        "paused: no 'data', no 'end'"
    );
    s.resume();
    assert_eq!(
        names(&drain(&mut s).0),
        ["data 3", "End", "Finish", "close HadError(false)"]
    );
}

#[test]
fn idle_timeout_fires_once_per_idle_period_and_never_closes() {
    let mut s = connected();
    s.set_timeout(t(10), Duration::from_millis(100));
    assert_eq!(s.poll_timeout(), Some(t(110)));
    s.handle_timeout(t(50));
    assert!(drain(&mut s).0.is_empty(), "early: nothing");
    s.handle_timeout(t(110));
    assert_eq!(names(&drain(&mut s).0), ["Timeout"]);
    assert_eq!(s.poll_timeout(), None, "one-shot");
    s.received(t(300), b"x".to_vec());
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(t(400)), "re-armed by activity");
    assert!(!s.destroyed());
    s.set_timeout(t(301), Duration::ZERO);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn reset_while_connecting_waits_for_connect() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    s.reset_and_destroy().unwrap();
    s.attempt_connected(t(1), attempt(&io), None, None);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["Connect", "Ready", "close HadError(false)"]);
    assert!(io.contains(&SocketIo::Reset));
}

#[test]
fn reset_without_handle_and_on_ipc() {
    let mut s = socket();
    s.reset_and_destroy().unwrap();
    assert_eq!(
        names(&drain(&mut s).0),
        ["error ERR_SOCKET_CLOSED", "close NoHandle"]
    );
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::ipc("/tmp/x.sock"));
    let (_, io) = drain(&mut s);
    s.attempt_connected(t(1), attempt(&io), None, None);
    drain(&mut s);
    assert_eq!(
        s.reset_and_destroy().unwrap_err().code,
        Code::ErrInvalidHandleType
    );
}

#[test]
fn remote_address_is_cached_on_first_read() {
    let mut s = connected();
    assert!(s.remote_address().is_some());
    s.destroy(None);
    assert!(
        s.remote_address().is_some(),
        "read while connected: survives close"
    );
    assert!(
        s.local_address().is_none(),
        "local names are cleared by destroy"
    );
    let mut s = connected();
    s.destroy(None);
    assert!(s.remote_address().is_none(), "never read while connected");
}

pub(super) fn he_socket(answers: &[(&str, i64)]) -> (Socket, Vec<SocketEvent>, Vec<SocketIo>) {
    let mut s = socket();
    s.connect(
        t(0),
        &ConnectOptions::tcp("dual.test", 80)
            .with_auto_select_family_attempt_timeout(Duration::from_millis(100)),
    );
    let (_, io) = drain(&mut s);
    let id = io
        .iter()
        .find_map(|i| match i {
            SocketIo::Lookup { id, all: true, .. } => Some(*id),
            _ => None,
        })
        .expect("a lookup for all addresses");
    let a = answers
        .iter()
        .map(|(a, f)| LookupAnswer {
            address: a.to_string(),
            family: *f,
        })
        .collect();
    s.lookup_done(t(1), id, Ok(a));
    let (ev, io) = drain(&mut s);
    (s, ev, io)
}

#[test]
fn happy_eyeballs_times_out_an_attempt_and_tries_the_next() {
    let (mut s, ev, io) = he_socket(&[("127.0.0.1", 4), ("::1", 6)]);
    assert_eq!(names(&ev), ["Lookup", "Lookup", "ConnectionAttempt"]);
    let first = attempt(&io);
    assert_eq!(s.poll_timeout(), Some(t(101)));
    s.handle_timeout(t(101));
    let (ev, io) = drain(&mut s);
    assert_eq!(
        names(&ev),
        ["ConnectionAttemptTimeout", "ConnectionAttempt"]
    );
    assert!(io.contains(&SocketIo::AbortAttempt { attempt: first }));
    assert_eq!(s.poll_timeout(), None, "the last attempt has no timer");
    // A late success of the aborted attempt is ignored.
    s.attempt_connected(t(102), first, None, None);
    assert!(drain(&mut s).0.is_empty());
    s.attempt_connected(t(103), attempt(&io), None, None);
    assert_eq!(names(&drain(&mut s).0), ["Connect", "Ready"]);
    assert_eq!(
        s.auto_select_family_attempted_addresses().unwrap(),
        ["127.0.0.1:80", "::1:80"]
    );
}

#[test]
fn happy_eyeballs_all_failing_aggregates_with_the_first_code() {
    let (mut s, _, io) = he_socket(&[("::1", 6), ("127.0.0.1", 4)]);
    s.handle_timeout(t(101));
    let (_, io2) = drain(&mut s);
    let _ = io;
    s.attempt_failed(t(102), attempt(&io2), Code::Econnrefused);
    let (ev, _) = drain(&mut s);
    let SocketEvent::Error(e) = &ev[ev.len() - 2] else {
        panic!("{ev:?}")
    };
    assert_eq!(e.trace_code(), "AggregateError[ETIMEDOUT,ECONNREFUSED]");
    assert_eq!(e.code, Code::Etimedout);
}

#[test]
fn happy_eyeballs_with_one_distinct_address_is_a_plain_connect() {
    let (s, ev, _) = he_socket(&[("127.0.0.1", 4), ("127.0.0.1", 4)]);
    assert_eq!(names(&ev), ["Lookup", "Lookup", "ConnectionAttempt"]);
    assert!(s.auto_select_family_attempted_addresses().is_none());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn lookup_error_emits_lookup_then_error() {
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("nowhere.test", 80));
    let (_, io) = drain(&mut s);
    let SocketIo::Lookup { id, .. } = io[0].clone() else {
        panic!("{io:?}")
    };
    let e = NetError::syscall(Code::Enotfound, "getaddrinfo", Some("nowhere.test"), None);
    s.lookup_done(t(1), id, Err(e));
    assert_eq!(
        names(&drain(&mut s).0),
        ["Lookup", "error ENOTFOUND", "close HadError(true)"]
    );
}

#[test]
fn blocked_destination_fails_before_any_attempt() {
    let mut list = crate::blocklist::BlockList::default();
    list.add_address("127.0.0.1".parse().unwrap());
    let mut opts = ConnectOptions::tcp("127.0.0.1", 80);
    opts.socket.block_list = Some(list);
    let mut s = socket();
    s.connect(t(0), &opts);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["error ERR_IP_BLOCKED", "close HadError(true)"]);
    assert!(!io.iter().any(|i| matches!(i, SocketIo::Connect { .. })));
}

#[test]
fn drain_follows_a_write_that_filled_the_buffer() {
    let mut s = connected();
    let r = s.write(t(2), Chunk::bytes(vec![0u8; 20_000]));
    assert!(!r.ok);
    let (_, io) = drain(&mut s);
    assert!(s.writable_need_drain());
    let SocketIo::Write { id, .. } = io.last().cloned().unwrap() else {
        panic!("{io:?}")
    };
    s.write_done(t(3), id);
    // Node's afterWrite: 'drain' first, then the callback (observed: cb0 cb1 cb2 drain cb3).
    assert_eq!(names(&drain(&mut s).0), ["Drain", "writeCallback null"]);
}

#[test]
fn a_write_the_driver_completes_at_once_needs_no_drain() {
    let mut s = connected();
    s.write(t(2), Chunk::bytes(vec![0u8; 20_000]));
    // The driver carries out each output as it pulls it; the OS takes every byte at once.
    let mut wrote = false;
    while let Some(o) = s.poll_emitted() {
        if let Output::Io(SocketIo::Write { id, .. }) = o {
            s.write_done(t(2), id);
            wrote = true;
        }
    }
    assert!(wrote, "a write was asked");
    assert!(s.write_return_value(), "as libuv's synchronous write: true");
    assert!(!s.writable_need_drain());
    let ev = names(&drain(&mut s).0);
    assert!(!ev.contains(&"Drain".to_string()), "{ev:?}");
}

#[test]
fn end_callbacks_run_at_finish_or_get_the_destroy_error() {
    let mut s = connected();
    let r = s.end(t(2), None);
    let (ev, io) = drain(&mut s);
    assert!(io.contains(&SocketIo::Shutdown));
    assert!(ev.contains(&SocketEvent::EndCallback {
        id: r.id,
        error: None
    }));

    let mut s = connected();
    let r = s.end(t(2), None);
    s.write(t(2), Chunk::text("late"));
    let (ev, _) = drain(&mut s);
    let cb = ev.iter().find_map(|e| match e {
        SocketEvent::EndCallback { id, error } if *id == r.id => error.clone(),
        _ => None,
    });
    assert_eq!(
        cb.map(|e| e.code),
        Some(Code::ErrStreamWriteAfterEnd),
        "the stream's error, as Node's errorBuffer"
    );
}

#[test]
fn reconnecting_a_destroyed_socket_still_ends_the_old_life_with_close() {
    // Node: `s.destroy(); s.connect(port)` emits 'close' (no argument), then connects.
    let mut s = socket();
    s.destroy(None);
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (ev, _) = drain(&mut s);
    assert_eq!(names(&ev), ["close NoHandle", "ConnectionAttempt"]);
    // With a handle, 'close' waits for the handle to close: after the new attempt.
    let mut s = connected();
    s.destroy(None);
    s.connect(t(2), &ConnectOptions::tcp("127.0.0.1", 80));
    let (ev, _) = drain(&mut s);
    assert_eq!(names(&ev), ["ConnectionAttempt", "close HadError(false)"]);
}

#[test]
fn a_local_bind_failure_is_a_bind_error_without_an_attempt() {
    let mut s = socket();
    let opts = ConnectOptions::tcp("127.0.0.1", 80)
        .with_local(Some("127.0.0.1".parse().unwrap()), Some(5000));
    s.connect(t(0), &opts);
    let (ev, io) = drain(&mut s);
    assert!(
        ev.is_empty(),
        "no attempt announced before the bind: {ev:?}"
    );
    s.attempt_bind_failed(t(1), attempt(&io), Code::Eaddrinuse);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["error EADDRINUSE", "close HadError(true)"]);
    let SocketEvent::Error(e) = &ev[0] else {
        unreachable!()
    };
    assert_eq!(e.message, "bind EADDRINUSE 127.0.0.1:5000");
    assert_eq!(e.syscall, Some("bind"));
    assert!(!io
        .iter()
        .any(|i| matches!(i, SocketIo::AbortAttempt { .. })));
}

#[test]
fn a_bound_attempt_is_announced_once() {
    let mut s = socket();
    let opts = ConnectOptions::tcp("127.0.0.1", 80).with_local(None, Some(5000));
    s.connect(t(0), &opts);
    let (_, io) = drain(&mut s);
    s.attempt_bound(t(1), attempt(&io));
    assert_eq!(names(&drain(&mut s).0), ["ConnectionAttempt"]);
    s.attempt_connected(t(2), attempt(&io), None, None);
    assert_eq!(names(&drain(&mut s).0), ["Connect", "Ready"]);
}

#[test]
fn an_overdue_idle_timeout_fires_before_later_activity() {
    // setTimeout(10) at t=1; the driver feeds a read at t=50 before its timer: Node's
    // timer (due at 11) ran first, so 'timeout' comes before the bytes re-arm the timer.
    let mut s = connected();
    s.set_timeout(t(1), Duration::from_millis(10));
    s.received(t(50), b"x".to_vec());
    s.handle_timeout(t(50));
    let ev = names(&drain(&mut s).0);
    assert_eq!(ev.first().map(String::as_str), Some("Timeout"), "{ev:?}");
    assert!(ev.contains(&"data 1".to_string()), "{ev:?}");
    assert_eq!(s.poll_timeout(), Some(t(60)), "re-armed by the read");
}

#[test]
fn a_lookup_without_answers_is_enotfound_on_both_paths() {
    for family in [None, Some(Family::V4)] {
        let mut s = socket();
        let mut opts = ConnectOptions::tcp("nowhere.test", 80);
        opts.family = family;
        s.connect(t(0), &opts);
        let (_, io) = drain(&mut s);
        let Some(SocketIo::Lookup { id, .. }) = io
            .iter()
            .find(|i| matches!(i, SocketIo::Lookup { .. }))
            .cloned()
        else {
            panic!("no lookup asked: {io:?}");
        };
        s.lookup_done(t(1), id, Ok(Vec::new()));
        let ev = drain(&mut s).0;
        assert!(
            matches!(&ev[0], SocketEvent::Lookup { error: Some(e), .. } if e.code == Code::Enotfound),
            "{family:?}: {ev:?}"
        );
        assert_eq!(
            names(&ev)[1..],
            ["error ENOTFOUND", "close HadError(true)"],
            "{family:?}"
        );
    }
}

#[test]
fn a_reconnected_socket_counts_its_bytes_from_zero() {
    let mut s = connected();
    s.write(t(1), Chunk::text("foo"));
    s.received(t(2), b"abcd".to_vec());
    drain(&mut s);
    assert_eq!((s.bytes_read(), s.bytes_written()), (4, 3));
    s.destroy(None);
    drain(&mut s);
    assert_eq!(
        (s.bytes_read(), s.bytes_written()),
        (4, 3),
        "kept after destroy"
    );
    s.connect(t(3), &ConnectOptions::tcp("127.0.0.1", 80));
    assert_eq!((s.bytes_read(), s.bytes_written()), (0, 0), "a new handle");
}

#[test]
fn a_bound_connect_error_names_its_local_address() {
    let mut s = socket();
    let opts = ConnectOptions::tcp("127.0.0.1", 9)
        .with_local(Some("127.0.0.1".parse().unwrap()), Some(5000));
    s.connect(t(0), &opts);
    let (_, io) = drain(&mut s);
    let id = attempt(&io);
    s.attempt_bound(t(1), id);
    s.attempt_failed(t(1), id, Code::Econnrefused);
    let ev = drain(&mut s).0;
    let Some(SocketEvent::Error(e)) = ev.iter().find(|e| matches!(e, SocketEvent::Error(_))) else {
        panic!("{ev:?}")
    };
    assert_eq!(
        e.message,
        "connect ECONNREFUSED 127.0.0.1:9 - Local (127.0.0.1:5000)"
    );
    let l = e.local.as_deref().expect("the local name");
    assert_eq!((l.address.as_str(), l.port), ("127.0.0.1", 5000));
}

#[test]
fn a_connection_idle_after_traffic_holds_no_queue_buffers() {
    let mut s = connected();
    s.received(t(2), b"ping".to_vec());
    let (ev, _) = drain(&mut s);
    assert!(names(&ev).iter().any(|n| n.starts_with("data")));
    s.write(t(3), Chunk::text("pong"));
    let mut id = None;
    while let Some(o) = s.poll_emitted() {
        if let Output::Io(SocketIo::Write { id: w, .. }) = o {
            id = Some(w);
        }
    }
    assert!(s.q.held_capacity() > 0 || !s.w.in_flight.is_empty());
    s.write_done(t(4), id.expect("a write"));
    drain(&mut s);
    assert!(s.is_idle());
    assert_eq!(s.q.held_capacity(), 0);
    assert_eq!(s.w.queue.capacity() + s.w.in_flight.capacity(), 0);
}
