//! Invariants of the socket state machine under random sequences of application calls,
//! I/O completions (current and stale) and time advances.

use proptest::prelude::*;

use super::*;
use crate::options::SocketOptions;

#[derive(Clone, Debug)]
enum Step {
    ConnectIp(bool),
    ConnectHost,
    ConnectIpc,
    Write(u16),
    End(bool),
    Destroy(bool),
    DestroySoon,
    Reset,
    Pause,
    Resume,
    SetTimeout(u16),
    Advance(u16),
    LookupOk(u8),
    LookupErr,
    Connected(u8),
    Failed(u8),
    Received(u16),
    Eof,
    ReadFailed,
    WriteDone(u8),
    Shutdown,
    Stale,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<bool>().prop_map(Step::ConnectIp),
        Just(Step::ConnectHost),
        Just(Step::ConnectIpc),
        any::<u16>().prop_map(Step::Write),
        any::<bool>().prop_map(Step::End),
        any::<bool>().prop_map(Step::Destroy),
        Just(Step::DestroySoon),
        Just(Step::Reset),
        Just(Step::Pause),
        Just(Step::Resume),
        (0u16..500).prop_map(Step::SetTimeout),
        (0u16..600).prop_map(Step::Advance),
        (0u8..4).prop_map(Step::LookupOk),
        Just(Step::LookupErr),
        any::<u8>().prop_map(Step::Connected),
        any::<u8>().prop_map(Step::Failed),
        (1u16..40000).prop_map(Step::Received),
        Just(Step::Eof),
        Just(Step::ReadFailed),
        any::<u8>().prop_map(Step::WriteDone),
        Just(Step::Shutdown),
        Just(Step::Stale),
    ]
}

/// The driver's side of the bookkeeping: what it was asked and has not answered.
#[derive(Default)]
struct Harness {
    now: u64,
    lookups: Vec<LookupId>,
    attempts: Vec<AttemptId>,
    writes: Vec<WriteId>,
    shutdown: bool,
    events: Vec<SocketEvent>,
    closes: usize,
    errors: usize,
    ends: usize,
    connected: bool,
    /// Every output pulled, in order.
    pulled: Vec<Output>,
}

impl Harness {
    fn drain(&mut self, s: &mut Socket) -> Result<(), TestCaseError> {
        let mut n = 0;
        while let Some(o) = s.poll_output() {
            n += 1;
            prop_assert!(n < 10_000, "one input gave an unbounded number of outputs");
            self.pulled.push(o.clone());
            match o {
                Output::Io(SocketIo::Lookup { id, .. }) => self.lookups.push(id),
                Output::Io(SocketIo::Connect { attempt, .. }) => self.attempts.push(attempt),
                Output::Io(SocketIo::AbortAttempt { attempt }) => {
                    self.attempts.retain(|a| *a != attempt)
                }
                Output::Io(SocketIo::Write { id, .. }) => self.writes.push(id),
                Output::Io(SocketIo::Shutdown) => self.shutdown = true,
                Output::Io(_) => {}
                Output::Event(e) => {
                    // Callbacks (not events) may run after 'close', as in Node.
                    let callback = matches!(
                        e,
                        SocketEvent::WriteCallback { .. } | SocketEvent::EndCallback { .. }
                    );
                    prop_assert!(self.closes == 0 || callback, "event {e:?} after 'close'");
                    match &e {
                        SocketEvent::Close(_) => self.closes += 1,
                        SocketEvent::Error(_) => self.errors += 1,
                        SocketEvent::End => self.ends += 1,
                        SocketEvent::Connect => self.connected = true,
                        SocketEvent::Data(_) => {
                            prop_assert!(self.connected, "'data' before 'connect'")
                        }
                        _ => {}
                    }
                    prop_assert!(self.errors <= 1, "two 'error' events");
                    prop_assert!(self.ends <= 1, "two 'end' events");
                    self.events.push(e);
                }
            }
        }
        Ok(())
    }
}

fn consistent(s: &Socket) -> Result<(), TestCaseError> {
    if s.destroyed() {
        prop_assert_eq!(s.ready_state(), ReadyState::Closed);
        prop_assert!(s.pending());
        prop_assert!(!s.connecting());
        prop_assert!(s.buffer_size().is_none());
    }
    if s.connecting() {
        prop_assert_eq!(s.ready_state(), ReadyState::Opening);
        prop_assert!(s.pending());
    }
    Ok(())
}

fn pick<T: Copy>(v: &[T], i: u8) -> Option<T> {
    (!v.is_empty()).then(|| v[usize::from(i) % v.len()])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn socket_invariants_hold(
        steps in proptest::collection::vec(step(), 1..60),
        half_open in any::<bool>(),
        record_from in 0usize..60,
    ) {
        let mut s = Socket::new(&SocketOptions::new().with_allow_half_open(half_open));
        let mut h = Harness::default();
        let mut connected_once = false;
        // The run is recorded from some step on; it must replay to the same outputs and
        // the same state.
        let mut recorded_from = None;
        for (k, st) in steps.into_iter().enumerate() {
            if k == record_from {
                s.start_recording();
                recorded_from = Some(h.pulled.len());
            }
            let now = Instant::from_millis(h.now);
            if matches!(st, Step::ConnectIp(_) | Step::ConnectHost | Step::ConnectIpc) && !connected_once && s.destroyed() {
                // Connecting a destroyed socket reuses it (Node's reconnect): a new life.
                h.drain(&mut s)?;
                h = Harness { now: h.now, pulled: std::mem::take(&mut h.pulled), ..Harness::default() };
            }
            let before = h.events.len();
            match st {
                Step::ConnectIp(_) if connected_once => {}
                Step::ConnectIp(v6) => {
                    connected_once = true;
                    let host = if v6 { "::1" } else { "127.0.0.1" };
                    s.connect(now, &ConnectOptions::tcp(host, 80));
                }
                Step::ConnectHost if !connected_once => {
                    connected_once = true;
                    s.connect(now, &ConnectOptions::tcp("dual.test", 80));
                }
                Step::ConnectIpc if !connected_once => {
                    connected_once = true;
                    s.connect(now, &ConnectOptions::ipc("/tmp/x.sock"));
                }
                Step::ConnectHost | Step::ConnectIpc => {}
                Step::Write(n) => {
                    s.write(now, Chunk::bytes(vec![7u8; usize::from(n % 5000)]));
                }
                Step::End(data) => {
                    s.end(now, data.then(|| Chunk::text("bye")));
                }
                Step::Destroy(err) => s.destroy(err.then(|| NetError::custom("EBOOM", "boom"))),
                Step::DestroySoon => s.destroy_soon(now),
                Step::Reset => {
                    let _ = s.reset_and_destroy();
                }
                Step::Pause => s.pause(),
                Step::Resume => s.resume(),
                Step::SetTimeout(ms) => s.set_timeout(now, Duration::from_millis(u64::from(ms))),
                Step::Advance(ms) => {
                    h.now += u64::from(ms);
                    let now = Instant::from_millis(h.now);
                    s.handle_timeout(now);
                    h.drain(&mut s)?;
                    if let Some(t) = s.poll_timeout() {
                        prop_assert!(t > now, "deadline {t:?} not after now {now:?} once handled");
                    }
                }
                Step::LookupOk(n) => {
                    if let Some(id) = h.lookups.pop() {
                        let all = [("::1", 6), ("127.0.0.1", 4), ("::2", 6), ("bad", 4)];
                        let answers = all[..usize::from(n)]
                            .iter()
                            .map(|(a, f)| LookupAnswer { address: a.to_string(), family: *f })
                            .collect();
                        s.lookup_done(now, id, Ok(answers));
                    }
                }
                Step::LookupErr => {
                    if let Some(id) = h.lookups.pop() {
                        let e = NetError::syscall(Code::Enotfound, "getaddrinfo", Some("dual.test"), None);
                        s.lookup_done(now, id, Err(e));
                    }
                }
                Step::Connected(i) => {
                    if let Some(a) = pick(&h.attempts, i) {
                        h.attempts.retain(|x| *x != a);
                        s.attempt_connected(now, a, None, None);
                    }
                }
                Step::Failed(i) => {
                    if let Some(a) = pick(&h.attempts, i) {
                        h.attempts.retain(|x| *x != a);
                        let code = if i % 2 == 0 { Code::Econnrefused } else { Code::Ecanceled };
                        s.attempt_failed(now, a, code);
                    }
                }
                Step::Received(n) => s.received(now, vec![1u8; usize::from(n)]),
                Step::Eof => s.eof(now),
                Step::ReadFailed => s.read_failed(Code::Econnreset),
                Step::WriteDone(i) => {
                    if let Some(w) = pick(&h.writes, i) {
                        h.writes.retain(|x| *x != w);
                        s.write_done(now, w);
                    }
                }
                Step::Shutdown => {
                    // The FIN went out; nothing is reported (Node ignores the status).
                    h.shutdown = false;
                }
                Step::Stale => {
                    // Completions for ids that were never current change nothing.
                    s.attempt_connected(now, AttemptId(u64::MAX), None, None);
                    s.attempt_failed(now, AttemptId(u64::MAX - 1), Code::Econnrefused);
                    s.write_done(now, WriteId(u64::MAX));
                    s.lookup_done(now, LookupId(u64::MAX), Ok(vec![]));
                    let mut probe = Harness::default();
                    while let Some(o) = s.poll_emitted() {
                        probe.events.push(match o {
                            Output::Event(e) => e,
                            Output::Io(io) => {
                                return Err(TestCaseError::fail(format!("stale completion asked {io:?}")))
                            }
                        });
                    }
                    prop_assert!(probe.events.is_empty(), "stale completion emitted {:?}", probe.events);
                }
            }
            h.drain(&mut s)?;
            consistent(&s)?;
            prop_assert!(h.events.len() - before < 10_000);
        }
        h.drain(&mut s)?;
        if s.destroyed() {
            prop_assert_eq!(h.closes, 1, "a destroyed socket emits 'close' exactly once: {:?}", h.events);
        } else {
            prop_assert_eq!(h.closes, 0);
        }
        if let Some(i) = h.events.iter().position(|e| matches!(e, SocketEvent::Error(_))) {
            let close = h.events.iter().position(|e| matches!(e, SocketEvent::Close(_)));
            prop_assert!(close.is_some_and(|c| c > i), "'error' must come before 'close'");
        }
        if let (Some(mark), Some(rec)) = (recorded_from, s.take_recording()) {
            let (replayed, outcomes) = rec.replay();
            let outputs: Vec<Output> = outcomes
                .into_iter()
                .filter_map(|o| match o {
                    Outcome::Output(Some(o)) => Some(o),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(&outputs[..], &h.pulled[mark..], "the replay pulled other outputs");
            prop_assert_eq!(format!("{replayed:?}"), format!("{s:?}"), "the replay ended elsewhere");
        }
    }
}
