//! The `onread` option: reads go to the callback in chunks of the buffer's size, never as
//! `'data'`, and `pause()` / `resume()` stop and restart reading at once.

use std::num::NonZeroUsize;

use super::tests::{attempt, drain, names, t};
use super::*;
use crate::value::Value;

/// A socket with an `onread` buffer of `size` bytes, connected to 127.0.0.1:80.
fn connected_onread(size: usize) -> Socket {
    let opts = SocketOptions::new().with_onread(NonZeroUsize::new(size).unwrap());
    let mut s = Socket::new(&opts);
    s.connect(t(0), &ConnectOptions::tcp("127.0.0.1", 80));
    let (_, io) = drain(&mut s);
    let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let remote: SocketAddr = "127.0.0.1:80".parse().unwrap();
    s.attempt_connected(t(1), attempt(&io), Some(local), Some(remote));
    drain(&mut s);
    s
}

fn reads(ev: &[SocketEvent]) -> Vec<usize> {
    ev.iter()
        .filter_map(|e| match e {
            SocketEvent::OnRead(b) => Some(b.len()),
            _ => None,
        })
        .collect()
}

/// Node's test-net-onread-static-buffer: 11 bytes through an 8-byte buffer are two calls
/// (8, then 3), no `'data'`; `'end'` follows the FIN and `bytesRead` counts them all.
#[test]
fn reads_come_in_chunks_of_the_buffer_size_instead_of_data() {
    let mut s = connected_onread(8);
    s.received(t(2), b"hello world".to_vec());
    s.eof(t(2));
    let (ev, _) = drain(&mut s);
    assert_eq!(reads(&ev), [8, 3]);
    assert!(!ev.iter().any(|e| matches!(e, SocketEvent::Data(_))));
    assert!(names(&ev).contains(&"End".to_string()));
    assert_eq!(s.bytes_read(), 11);
}

/// `pause()` stops reading from the OS at once (nothing is buffered in the stream);
/// `resume()` starts again at once.
#[test]
fn pause_stops_reading_and_resume_restarts_it() {
    let mut s = connected_onread(4);
    s.pause();
    assert!(drain(&mut s).1.contains(&SocketIo::StopReading));
    s.resume();
    assert!(drain(&mut s).1.contains(&SocketIo::StartReading));
    s.received(t(3), b"abcde".to_vec());
    assert_eq!(reads(&drain(&mut s).0), [4, 1]);
}

/// Without the option, a read is one `'data'`.
#[test]
fn without_onread_a_read_is_data() {
    let mut s = super::tests::connected();
    s.received(t(2), b"hello world".to_vec());
    assert_eq!(names(&drain(&mut s).0), ["data 11"]);
}

/// The loose face takes `onread` as Node's constructor does: a buffer and a callback, or
/// nothing (unchecked).
#[test]
fn the_loose_face_reads_onread_as_node_does() {
    let onread = |buffer: Value, callback: Value| {
        let o = Value::object(&[(
            "onread",
            Value::object(&[("buffer", buffer), ("callback", callback)]),
        )]);
        crate::options::socket_options_from_value(&o)
            .unwrap()
            .onread
    };
    let f = || Value::Function(None);
    assert_eq!(onread(Value::Buffer(vec![0; 8]), f()), NonZeroUsize::new(8));
    assert_eq!(onread(Value::Buffer(vec![0; 8]), 1.0.into()), None);
    assert_eq!(onread("buffer".into(), f()), None);
    assert_eq!(onread(Value::Buffer(Vec::new()), f()), None);
}
