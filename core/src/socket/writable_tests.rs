//! Node's writable-stream rules as a socket follows them, each checked against what Node 20
//! printed for the same calls: which error a refused `write()` / `end()` gets, when `end()`
//! calls back, `'end'` on a paused socket, and the order of a failed write's callbacks.

use super::tests::{attempt, drain, he_socket, names, socket, t};
use super::*;
use crate::options::SocketOptions;

/// A socket connected to 127.0.0.1:80, quiet.
fn connected(opts: &SocketOptions) -> Socket {
    let mut s = Socket::new(opts);
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    let Some(SocketIo::Connect { attempt, .. }) = io.into_iter().next() else {
        panic!("no connect asked")
    };
    let local = "127.0.0.1:5000".parse().ok();
    let remote = "127.0.0.1:80".parse().ok();
    s.attempt_connected(t(1), attempt, local, remote);
    drain(&mut s);
    s
}

/// The events emitted so far without running deferred work (Node's ticks).
fn emitted(s: &mut Socket) -> Vec<String> {
    let ev = std::iter::from_fn(|| s.poll_emitted())
        .filter_map(|o| match o {
            Output::Event(e) => Some(e),
            Output::Io(_) => None,
        })
        .collect::<Vec<_>>();
    lines(&ev)
}

/// Trace-like lines: callbacks by id (`cb3 CODE`), other events by name.
fn lines(ev: &[SocketEvent]) -> Vec<String> {
    let code = |e: &Option<NetError>| e.as_ref().map_or("null".into(), |e| e.trace_code());
    ev.iter()
        .map(|e| match e {
            SocketEvent::WriteCallback { id, error } => format!("cb{} {}", id.0, code(error)),
            SocketEvent::EndCallback { id, error } => format!("endCb{} {}", id.0, code(error)),
            SocketEvent::Error(e) => format!("error {}", e.trace_code()),
            SocketEvent::Close(k) => format!("close {k:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn events(s: &mut Socket) -> Vec<String> {
    lines(&drain(s).0)
}

/// Up to `'finish'`: the FIN asked by `end()` goes out (libuv's shutdown callback).
fn finish(s: &mut Socket) -> Vec<String> {
    let (ev, io) = drain(s);
    assert!(io.contains(&SocketIo::Shutdown), "{io:?}");
    lines(&ev)
}

#[test]
fn write_and_end_data_after_end_then_destroy_fail_with_write_after_end() {
    // Node 20, connected: s.end(); s.destroy(); s.write('x', cb); s.write('y');
    // s.end('z', cb); s.end(cb) → cb ERR_STREAM_WRITE_AFTER_END,
    // endCb(data) ERR_STREAM_WRITE_AFTER_END, endCb ERR_STREAM_DESTROYED (next tick), no
    // 'error' (already destroyed), 'close' false.
    let mut s = connected(&SocketOptions::new());
    s.end(t(2), None);
    s.destroy(None);
    drain(&mut s);
    let w = s.write(t(2), Chunk::text("x"));
    assert!(!w.ok);
    assert!(!s.write_with(t(2), Chunk::text("y"), false).ok);
    let data = s.end(t(2), Some(Chunk::text("z")));
    let plain = s.end(t(2), None);
    assert!(
        emitted(&mut s).is_empty(),
        "callbacks wait for the next tick"
    );
    assert_eq!(
        events(&mut s),
        [
            format!("cb{} ERR_STREAM_WRITE_AFTER_END", w.id.0),
            format!("endCb{} ERR_STREAM_WRITE_AFTER_END", data.id.0),
            format!("endCb{} ERR_STREAM_DESTROYED", plain.id.0),
        ]
    );
    // Destroyed without ending, a write is ERR_STREAM_DESTROYED, also without 'error'.
    let mut s = connected(&SocketOptions::new());
    s.destroy(None);
    let w = s.write(t(2), Chunk::text("x"));
    let data = s.end(t(2), Some(Chunk::text("z")));
    assert_eq!(
        events(&mut s),
        [
            format!("cb{} ERR_STREAM_DESTROYED", w.id.0),
            format!("endCb{} ERR_STREAM_DESTROYED", data.id.0),
            "close HadError(false)".into(),
        ]
    );
}

#[test]
fn end_on_a_destroyed_socket_follows_node() {
    // Node 20: s.destroy(); s.end(cb) → cb never called, writableEnded true, 'close' false.
    let mut s = connected(&SocketOptions::new());
    s.destroy(None);
    s.end(t(2), None);
    assert!(s.writable_ended());
    assert_eq!(events(&mut s), ["close HadError(false)"]);
    // s.destroy(err); s.end(cb) → 'error', endCb ERR_STREAM_DESTROYED, 'close' true.
    let mut s = connected(&SocketOptions::new());
    s.destroy(Some(NetError::custom("EBOOM", "boom")));
    let r = s.end(t(2), None);
    assert_eq!(
        events(&mut s),
        [
            "error EBOOM".into(),
            format!("endCb{} ERR_STREAM_DESTROYED", r.id.0),
            "close HadError(true)".into(),
        ]
    );
}

#[test]
fn end_after_finish_calls_back_with_already_finished_on_the_next_tick() {
    // Node 20, in a 'finish' listener: s.end(cb) → cb ERR_STREAM_ALREADY_FINISHED on the
    // next tick; s.end('x', cb) → 'error' ERR_STREAM_WRITE_AFTER_END, then
    // endCb ERR_STREAM_WRITE_AFTER_END, 'close' true; after 'close', s.end(cb) →
    // ERR_STREAM_ALREADY_FINISHED ('finished' is checked before 'destroyed').
    let mut s = connected(&SocketOptions::new());
    let first = s.end(t(2), None);
    assert_eq!(
        finish(&mut s),
        [format!("endCb{} null", first.id.0), "Finish".into()]
    );
    let again = s.end(t(4), None);
    assert!(emitted(&mut s).is_empty(), "not synchronous");
    assert_eq!(
        events(&mut s),
        [format!("endCb{} ERR_STREAM_ALREADY_FINISHED", again.id.0)]
    );
    assert!(!s.destroyed());
    let data = s.end(t(4), Some(Chunk::text("x")));
    assert_eq!(
        events(&mut s),
        [
            "error ERR_STREAM_WRITE_AFTER_END".into(),
            format!("endCb{} ERR_STREAM_WRITE_AFTER_END", data.id.0),
            "close HadError(true)".into(),
        ]
    );
    let late = s.end(t(5), None);
    assert_eq!(
        events(&mut s),
        [format!("endCb{} ERR_STREAM_ALREADY_FINISHED", late.id.0)]
    );
}

#[test]
fn a_paused_socket_ends_when_the_fin_finds_nothing_buffered() {
    // Node 20: a connection paused with pause(), the peer's end() → 'end', 'finish',
    // 'close' false, still paused (readableFlowing false). With data buffered, 'end' waits
    // for resume() (fin_without_a_consumer_waits_for_resume).
    let mut s = connected(&SocketOptions::new());
    s.pause();
    s.eof(t(2));
    let (ev, io) = drain(&mut s);
    let ev: Vec<_> = ev
        .into_iter()
        .filter(|e| !matches!(e, SocketEvent::EndCallback { .. }))
        .collect();
    assert_eq!(lines(&ev), ["End", "Finish", "close HadError(false)"]);
    assert!(io.contains(&SocketIo::Shutdown), "the automatic end()");
    assert!(!s.is_flowing());
}

#[test]
fn a_write_the_os_refuses_calls_back_before_error() {
    // Node 20, a write failing in a later I/O callback (onwriteError): the write's
    // callback, the buffered writes' and end()'s callbacks, then 'error' on the next tick,
    // then 'close' true.
    let mut s = connected(&SocketOptions::new());
    let a = s.write(t(2), Chunk::text("a"));
    drain(&mut s);
    let b = s.write(t(2), Chunk::text("b"));
    let end = s.end(t(2), None);
    drain(&mut s);
    s.write_failed(Code::Econnreset);
    let ev = drain(&mut s).0;
    assert_eq!(
        lines(&ev),
        [
            format!("cb{} ECONNRESET", a.id.0),
            format!("cb{} ECONNRESET", b.id.0),
            format!("endCb{} ECONNRESET", end.id.0),
            "error ECONNRESET".into(),
            "close HadError(true)".into(),
        ]
    );
    let SocketEvent::Error(e) = &ev[3] else {
        unreachable!()
    };
    assert_eq!(
        (e.message.as_str(), e.syscall),
        ("write ECONNRESET", Some("write"))
    );
}

#[test]
fn a_write_refused_at_once_errors_the_stream_and_calls_back_on_the_next_tick() {
    // Node 20, the peer reset, write('hello', cb1) fails in libuv's synchronous attempt:
    // write → false; write('world', cb2) → false, held back; end(cb3) does not end;
    // next tick: cb1, cb2, cb3 ECONNRESET; then 'error' ECONNRESET, 'close' true.
    let mut s = connected(&SocketOptions::new());
    let a = s.write(t(2), Chunk::text("hello"));
    while let Some(o) = s.poll_emitted() {
        if let Output::Io(SocketIo::Write { .. }) = o {
            s.write_failed(Code::Econnreset);
        }
    }
    assert!(!s.write_return_value());
    assert!(!s.destroyed(), "destroyed on the next tick");
    let b = s.write(t(2), Chunk::text("world"));
    assert!(!b.ok);
    let (_, io) = drain_emitted(&mut s);
    assert!(io.is_empty(), "an errored stream holds writes back: {io:?}");
    let end = s.end(t(2), None);
    assert!(
        !s.writable_ended(),
        "an errored stream does not start ending"
    );
    assert_eq!(
        events(&mut s),
        [
            format!("cb{} ECONNRESET", a.id.0),
            format!("cb{} ECONNRESET", b.id.0),
            format!("endCb{} ECONNRESET", end.id.0),
            "error ECONNRESET".into(),
            "close HadError(true)".into(),
        ]
    );
    assert_eq!(s.writable_length(), 0);
}

#[test]
fn a_write_without_a_handle_fails_like_a_refused_one() {
    // Node 20, new net.Socket(): write('a', cb1) → false, not destroyed yet;
    // write('b', cb2) → false; end(cb3) → writableEnded false; then cb1, cb2, cb3
    // ERR_SOCKET_CLOSED, 'error' ERR_SOCKET_CLOSED, 'close'.
    let mut s = Socket::new(&SocketOptions::new());
    let a = s.write(t(0), Chunk::text("a"));
    assert!(!a.ok);
    assert!(!s.destroyed());
    let b = s.write(t(0), Chunk::text("b"));
    assert!(!b.ok);
    let end = s.end(t(0), None);
    assert!(!s.writable_ended());
    assert_eq!(
        events(&mut s),
        [
            format!("cb{} ERR_SOCKET_CLOSED", a.id.0),
            format!("cb{} ERR_SOCKET_CLOSED", b.id.0),
            format!("endCb{} ERR_SOCKET_CLOSED", end.id.0),
            "error ERR_SOCKET_CLOSED".into(),
            "close NoHandle".into(),
        ]
    );
    assert_eq!(s.bytes_written(), 0);
}

/// What was emitted without running deferred work, events and I/O.
fn drain_emitted(s: &mut Socket) -> (Vec<SocketEvent>, Vec<SocketIo>) {
    let (mut ev, mut io) = (Vec::new(), Vec::new());
    while let Some(o) = s.poll_emitted() {
        match o {
            Output::Event(e) => ev.push(e),
            Output::Io(i) => io.push(i),
        }
    }
    (ev, io)
}

#[test]
fn a_refused_write_is_called_back_even_if_the_socket_is_connected_again() {
    // Node's onwriteError is a plain next tick: destroy() and connect() in between do not
    // cancel the failed write's callback (no 'error' though: destroyed without one).
    let mut s = connected(&SocketOptions::new());
    let a = s.write(t(2), Chunk::text("hello"));
    while let Some(o) = s.poll_emitted() {
        if let Output::Io(SocketIo::Write { .. }) = o {
            s.write_failed(Code::Econnreset);
        }
    }
    s.destroy(None);
    s.connect(t(3), &ConnectOptions::tcp("127.0.0.1", 80));
    let ev = events(&mut s);
    assert_eq!(ev[0], format!("cb{} ECONNRESET", a.id.0), "{ev:?}");
    assert!(!ev.iter().any(|e| e.starts_with("error")), "{ev:?}");
}

/// Node (checked on Node 20): `c = net.connect(port); c.write(a, cb1); c.write(b, cb2);
/// c.end(cb3); c.destroy(err)` prints `error EBOOM`, `close true`, `cb1
/// ERR_SOCKET_CLOSED_BEFORE_CONNECTION`, `cb2 EBOOM`, `cb3 EBOOM`: the write parked while
/// connecting fails from a 'close' listener and, as onwriteError, fails what is buffered
/// behind it with the stream's error; without `err` that error is its own.
#[test]
fn writes_parked_while_connecting_fail_after_close_with_the_streams_error() {
    for (err, rest) in [
        (Some("EBOOM"), "EBOOM"),
        (None, "ERR_SOCKET_CLOSED_BEFORE_CONNECTION"),
    ] {
        let mut s = Socket::new(&SocketOptions::new());
        s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
        drain(&mut s);
        let a = s.write(t(0), Chunk::text("a")).id.0;
        let b = s.write(t(0), Chunk::text("b")).id.0;
        let e = s.end(t(0), None).id.0;
        s.destroy(err.map(|c| NetError::new(Code::Custom(c.into()), c)));
        let mut want = Vec::new();
        if let Some(c) = err {
            want.push(format!("error {c}"));
        }
        want.push(format!("close HadError({})", err.is_some()));
        want.push(format!("cb{a} ERR_SOCKET_CLOSED_BEFORE_CONNECTION"));
        want.push(format!("cb{b} {rest}"));
        want.push(format!("endCb{e} {rest}"));
        assert_eq!(events(&mut s), want);
    }
}

/// Node (checked on Node 20): on a connected socket, `end(cb); destroy(err)` prints
/// `endCb ECUSTOM`, `error ECUSTOM`, `close true` (Writable.destroy runs errorBuffer on the
/// tick before 'error'); with a write still in progress errorBuffer waits for it, so
/// `'error'` comes first.
#[test]
fn destroy_calls_back_before_error_unless_a_write_is_in_progress() {
    let mut s = connected(&SocketOptions::new());
    let e = s.end(t(2), None).id.0;
    // The shutdown was asked but has not completed: nothing is being written.
    while s.poll_emitted().is_some() {}
    s.destroy(Some(NetError::new(Code::Custom("ECUSTOM".into()), "x")));
    assert_eq!(
        events(&mut s),
        [
            format!("endCb{e} ECUSTOM"),
            "error ECUSTOM".into(),
            "close HadError(true)".into()
        ]
    );

    let mut s = connected(&SocketOptions::new());
    s.write(t(2), Chunk::text("x"));
    let q = s.write(t(2), Chunk::text("y")).id.0;
    // The first write is in flight (the OS has not taken it yet).
    while s.poll_emitted().is_some() {}
    s.destroy(Some(NetError::new(Code::Custom("ECUSTOM".into()), "x")));
    let got = events(&mut s);
    assert_eq!(got[0], "error ECUSTOM", "{got:?}");
    assert!(got.contains(&format!("cb{q} ECUSTOM")), "{got:?}");
}

/// Node (checked on Node 20): `s.write(a, cb1); s.end(cb2); s.write(b, cb3)` on a connected
/// socket, the first write taken at once, prints `cb1 null`, `cb2 WAE`, `cb3 WAE`, `error
/// WAE`: the first write's afterWriteTick finds the stream destroyed and runs errorBuffer
/// before the refused write's own callback tick.
#[test]
fn an_earlier_writes_callbacks_run_error_buffer_on_a_destroyed_stream() {
    let mut s = connected(&SocketOptions::new());
    let a = s.write(t(2), Chunk::text("a")).id.0;
    // The OS takes the write at once, while the driver carries out the call.
    while let Some(o) = s.poll_emitted() {
        if let Output::Io(SocketIo::Write { id, .. }) = o {
            s.write_done(t(2), id);
        }
    }
    let e = s.end(t(2), None).id.0;
    let b = s.write(t(2), Chunk::text("b")).id.0;
    assert_eq!(
        events(&mut s),
        [
            format!("cb{a} null"),
            format!("endCb{e} ERR_STREAM_WRITE_AFTER_END"),
            format!("cb{b} ERR_STREAM_WRITE_AFTER_END"),
            "error ERR_STREAM_WRITE_AFTER_END".into(),
            "close HadError(true)".into()
        ]
    );
}

/// errorBuffer releases what the failed writes held: `writableLength` is 0 once their
/// callbacks ran (Node decrements `state.length` there). With a write in the OS's hands,
/// errorBuffer waits for it: libuv cancels it as the handle closes, and its callback
/// (null), then the buffered write's (the stream's error), come before `'close'`.
#[test]
fn failed_buffered_writes_release_writable_length() {
    let mut s = connected(&SocketOptions::new());
    let first = s.write(t(2), Chunk::text("first")).id.0;
    while s.poll_emitted().is_some() {}
    let second = s.write(t(2), Chunk::text("second")).id.0;
    assert_eq!(s.writable_length(), 11);
    s.destroy(Some(NetError::new(Code::Custom("EBOOM".into()), "x")));
    assert_eq!(
        s.writable_length(),
        11,
        "nothing is released within destroy()"
    );
    assert_eq!(
        events(&mut s),
        [
            "error EBOOM".to_string(),
            format!("cb{first} null"),
            format!("cb{second} EBOOM"),
            "close HadError(true)".into()
        ]
    );
    assert_eq!(s.writable_length(), 0);

    let mut s = Socket::new(&SocketOptions::new());
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    drain(&mut s);
    s.write(t(0), Chunk::text("parked"));
    s.destroy(None);
    drain(&mut s);
    assert_eq!(s.writable_length(), 0);
}

/// A write whose first bytes the driver sent straight from the caller's buffer
/// ([`Socket::write_sent`]) is the same write as one the core hands over whole: the same
/// events, `write()` value, `bytesWritten` and `writableLength`, whether the OS took all
/// of it, part or none.
#[test]
fn a_write_sent_in_part_by_the_driver_is_the_same_write() {
    /// Writes 10 bytes (`sent` of them already taken by the OS, or through the core when
    /// `None`), carries out the write the core asks for at once (the OS takes it whole),
    /// and reports what the application sees.
    fn run(sent: Option<usize>) -> (bool, bool, u64, usize, Vec<String>, usize) {
        let opts = SocketOptions::default();
        let mut s = connected(&opts);
        assert!(s.writes_at_once());
        let data = vec![7u8; 10];
        let r = match sent {
            Some(n) => s.write_sent(t(2), n, data[n..].to_vec(), true),
            None => s.write_with(t(2), Chunk::bytes(data), true),
        };
        let mut asked = 0;
        let mut ev = Vec::new();
        while let Some(o) = s.poll_emitted() {
            match o {
                Output::Io(SocketIo::Write { id, data }) => {
                    asked = data.iter().map(Vec::len).sum();
                    s.write_done(t(2), id);
                }
                Output::Event(e) => ev.push(e),
                Output::Io(_) => {}
            }
        }
        let ok = s.write_return_value();
        let (written, length) = (s.bytes_written(), s.writable_length());
        ev.extend(drain(&mut s).0);
        (r.ok, ok, written, length, lines(&ev), asked)
    }
    let whole = run(None);
    assert_eq!(whole.5, 10);
    assert_eq!(whole.2, 10);
    for sent in [0, 4, 10] {
        let (ok, value, written, length, events, asked) = run(Some(sent));
        assert_eq!(
            (ok, value, written, length, &events),
            (whole.0, whole.1, whole.2, whole.3, &whole.4)
        );
        assert_eq!(asked, 10 - sent, "only the rest is left to write");
    }
}

/// A write goes to the OS at once only with nothing ahead of it and the stream open.
#[test]
fn writes_at_once_only_when_nothing_is_ahead() {
    let opts = SocketOptions::default();
    let s = Socket::new(&opts);
    assert!(!s.writes_at_once(), "not connected");
    let mut s = connected(&opts);
    s.write_with(t(2), Chunk::bytes(vec![1u8; 4]), false);
    assert!(!s.writes_at_once(), "a write in flight");
    let id = std::iter::from_fn(|| s.poll_emitted())
        .find_map(|o| match o {
            Output::Io(SocketIo::Write { id, .. }) => Some(id),
            _ => None,
        })
        .expect("the write asked");
    s.write_done(t(3), id);
    drain(&mut s);
    assert!(s.writes_at_once(), "the write completed");
    s.end_with(t(4), None, false);
    assert!(!s.writes_at_once(), "ended");
}

#[test]
fn a_later_happy_eyeballs_attempt_forgets_an_end_made_while_connecting() {
    // end() during the first attempt: Node's _final waits for 'connect'. The second
    // attempt's new handle resets the stream (_undestroy): writableEnded is false again,
    // the waiting _final still sends the FIN at 'connect' but finishes nothing; 'finish'
    // comes after the automatic end() at the peer's 'end'.
    let (mut s, _, io) = he_socket(&[("::1", 6), ("127.0.0.1", 4)]);
    s.end_with(t(1), None, true);
    assert!(drain(&mut s).0.is_empty());
    s.attempt_failed(t(2), attempt(&io), Code::Econnrefused);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["ConnectionAttemptFailed", "ConnectionAttempt"]);
    assert!(!s.writable_ended(), "end() is forgotten");
    s.attempt_connected(t(3), attempt(&io), None, None);
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["Connect", "Ready"]);
    assert!(
        io.contains(&SocketIo::Shutdown),
        "the waiting _final shuts down"
    );
    assert!(!s.info().writable_finished);
    s.eof(t(4));
    let (ev, io) = drain(&mut s);
    assert_eq!(names(&ev), ["End", "Finish", "close HadError(false)"]);
    assert!(
        matches!(ev[1], SocketEvent::EndCallback { error: None, .. }),
        "the end() callback waited for 'finish': {ev:?}"
    );
    assert!(!io.contains(&SocketIo::Shutdown), "the FIN left once");
}

#[test]
fn drain_comes_after_the_writes_buffered_meanwhile_went_out() {
    // Node's onwrite sends what was buffered (clearBuffer) before its afterWrite: a
    // buffered write the OS takes at once empties the buffer, so 'drain' comes before the
    // first write's callback, and the second's follows on the next tick.
    let mut s = super::tests::connected();
    let first = s.write_with(t(2), Chunk::bytes(vec![0u8; 16_383]), true);
    let (_, io) = drain(&mut s);
    let second = s.write_with(t(2), Chunk::bytes(vec![1u8]), true);
    assert!(!second.ok, "the buffer reached the high-water mark");
    assert!(drain(&mut s).1.is_empty(), "one batch in flight at a time");
    let SocketIo::Write { id, .. } = io.last().cloned().unwrap() else {
        panic!("{io:?}")
    };
    s.write_done(t(3), id);
    // The driver carries out each output as it pulls it; the OS takes the rest at once.
    let mut ev = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Io(SocketIo::Write { id, .. }) => s.write_done(t(3), id),
            Output::Event(e) => ev.push(e),
            Output::Io(_) => {}
        }
    }
    assert_eq!(
        names(&ev),
        ["Drain", "writeCallback null", "writeCallback null"]
    );
    let ids: Vec<WriteId> = ev
        .iter()
        .filter_map(|e| match e {
            SocketEvent::WriteCallback { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids, [first.id, second.id]);
}

#[test]
fn writes_queued_while_connecting_wait_for_the_connect_listeners() {
    // Node's flush is a 'connect' listener added by the first write: a listener added
    // before it sees the writes queued, and a destroy() there makes the flush fail them.
    let mut s = socket();
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    s.write_with(t(0), Chunk::bytes(b"abc".to_vec()), true);
    s.write_with(t(0), Chunk::bytes(b"d".to_vec()), true);
    s.end_with(t(0), None, true);
    s.attempt_connected(t(1), attempt(&io), None, None);
    let mut ev = Vec::new();
    while let Some(o) = s.poll_emitted() {
        if let Output::Event(e) = o {
            ev.push(e);
        }
    }
    assert_eq!(names(&ev), ["Connect"]);
    assert_eq!(s.info().writable_length, 4, "still queued inside 'connect'");
    s.destroy(None);
    let (ev, io) = drain(&mut s);
    assert!(!io.iter().any(|i| matches!(i, SocketIo::Write { .. })));
    let codes: Vec<String> =
        ev.iter()
            .filter_map(|e| match e {
                SocketEvent::WriteCallback { error, .. }
                | SocketEvent::EndCallback { error, .. } => error.as_ref().map(|e| e.trace_code()),
                _ => None,
            })
            .collect();
    assert_eq!(
        codes,
        [
            "ERR_SOCKET_CLOSED",
            "ERR_SOCKET_CLOSED",
            "ERR_SOCKET_CLOSED"
        ]
    );
    assert_eq!(names(&ev)[2], "Ready", "after the flush: {ev:?}");
}
