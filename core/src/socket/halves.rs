//! The two halves of a socket's stream, each its own small state machine. Node's
//! `readyState` and friends are derived from them, never stored beside them.

use std::collections::VecDeque;

use super::event::WriteId;
use crate::error::NetError;

/// A chunk handed to `write()` / `end()`: its bytes, and its length as Node counts it in
/// `bufferSize` (UTF-16 code units for string chunks, bytes otherwise).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The encoded bytes.
    pub bytes: Vec<u8>,
    /// The length `writableLength` counts.
    pub length: usize,
}

impl Chunk {
    /// A binary chunk (a Buffer): its length is its byte count.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Chunk {
        let bytes = bytes.into();
        Chunk {
            length: bytes.len(),
            bytes,
        }
    }

    /// A string chunk in UTF-8: its length is its UTF-16 code-unit count.
    pub fn text(text: &str) -> Chunk {
        Chunk {
            length: text.encode_utf16().count(),
            bytes: text.as_bytes().to_vec(),
        }
    }
}

impl Chunk {
    /// A string chunk in `encoding` (`socket.write(text, encoding)`): its bytes as the
    /// encoding makes them, its length in UTF-16 code units as `writableLength` counts a
    /// string.
    pub fn encoded(text: &str, encoding: crate::options::Encoding) -> Chunk {
        Chunk {
            length: crate::options::utf16_len(text),
            bytes: encoding.encode(text),
        }
    }
}

impl From<Vec<u8>> for Chunk {
    fn from(bytes: Vec<u8>) -> Chunk {
        Chunk::bytes(bytes)
    }
}

impl From<&[u8]> for Chunk {
    fn from(bytes: &[u8]) -> Chunk {
        Chunk::bytes(bytes)
    }
}

impl From<&str> for Chunk {
    fn from(text: &str) -> Chunk {
        Chunk::text(text)
    }
}

/// A write waiting for its callback.
#[derive(Clone, Debug)]
pub(crate) struct QueuedWrite {
    pub(crate) id: WriteId,
    pub(crate) bytes: Vec<u8>,
    pub(crate) length: usize,
    /// Whether the application wants its callback.
    pub(crate) callback: bool,
}

/// The readable half: what was received, whether it flows to the application, and whether
/// the peer's FIN was seen and `'end'` emitted.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReadHalf {
    /// Data waits here while the socket is paused.
    pub(crate) buffer: VecDeque<Vec<u8>>,
    pub(crate) buffered: usize,
    /// Whether `'data'` flows (not paused).
    pub(crate) flowing: bool,
    /// Whether the driver was asked to read from the OS.
    pub(crate) reading: bool,
    /// The peer's FIN arrived (end of stream pushed).
    pub(crate) eof: bool,
    /// `'end'` is scheduled for the next tick.
    pub(crate) end_scheduled: bool,
    /// `'end'` was emitted.
    pub(crate) end_emitted: bool,
    /// Node's `closeEmitted`: a `'close'` was emitted since this life began (one of an
    /// earlier life, late: see [`super::Deferred::Close`]). Readable's `endReadableNT`
    /// and Writable's `needFinish` then do nothing.
    pub(crate) close_emitted: bool,
}

/// Where the local FIN stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Shutdown {
    /// `end()` not called, or waiting for writes to complete.
    #[default]
    NotYet,
    /// The driver was asked to shut down the sending half.
    InFlight,
    /// `'finish'` was emitted.
    Finished,
}

/// The writable half: queued writes, the write in flight, `end()` and `'finish'`.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteHalf {
    /// Writes not yet handed to the driver (all of them while connecting).
    pub(crate) queue: VecDeque<QueuedWrite>,
    /// The writes of the batch in flight (one `SocketIo::Write`), awaiting completion.
    pub(crate) in_flight: Vec<QueuedWrite>,
    /// The id of the batch in flight.
    pub(crate) in_flight_id: Option<WriteId>,
    /// `writableLength`: queued plus in flight, in Node's units.
    pub(crate) length: usize,
    /// `write()` returned false and `'drain'` is owed.
    pub(crate) need_drain: bool,
    /// A `write()` happened whose high-water-mark check waits until the driver carried out
    /// the writes it emitted: Node checks after libuv's synchronous write attempt.
    pub(crate) check_drain: bool,
    /// The batch in flight was dispatched by a call whose outputs the driver is still
    /// carrying out: a completion now is synchronous.
    pub(crate) sync_window: bool,
    /// The batch in flight was dispatched by outputs the driver is still carrying out:
    /// its completion now is part of that synchronous section, not a later poll phase.
    pub(crate) dispatching: bool,
    /// An asynchronous write completion is being applied (libuv's write callbacks, from
    /// which it starts a shutdown waiting for them at once).
    pub(crate) in_write_callback: bool,
    /// The callbacks of an asynchronous completion whose afterWrite waits until the
    /// driver tried the writes handed to it meanwhile (Node's clearBuffer comes first).
    pub(crate) after_write: Option<Vec<super::SocketEvent>>,
    /// `end()` was called (`writableEnded`).
    pub(crate) ended: bool,
    /// The FIN's progress.
    pub(crate) shutdown: Shutdown,
    /// Callbacks of `end(cb)`, called at `'finish'`.
    pub(crate) end_callbacks: Vec<WriteId>,
    /// Node's `errored`: the first error of the stream (`destroy(err)`, a failed write).
    /// An errored stream holds further writes back, and its pending callbacks get it.
    pub(crate) errored: Option<Box<NetError>>,
    /// The error the stream takes once the write parked while connecting fails (after
    /// `'close'`, when destroyed while connecting).
    pub(crate) errored_after_close: Option<Box<NetError>>,
    /// After the peer's FIN with `allowHalfOpen` false, a write after `end()` is EPIPE.
    pub(crate) write_after_fin_is_epipe: bool,
    /// Callbacks of buffered writes and of `end()` that a destroy failed, waiting for
    /// Node's errorBuffer, and the `writableLength` they release then.
    pub(crate) error_buffer: Vec<super::SocketEvent>,
    pub(crate) error_buffer_length: usize,
    /// Bytes of writes a destroy failed that Node's `bytesWritten` still counts (its
    /// writable buffer) until errorBuffer empties it.
    pub(crate) error_buffer_bytes: u64,
    /// The same for writes queued while connecting, failed from a `'close'` listener.
    pub(crate) after_close_bytes: u64,
    /// Node's `_final` waits for `'connect'` but `end()` was forgotten since (a later
    /// happy-eyeballs attempt's new handle reset the stream): at `'connect'` it shuts the
    /// handle down, and its completion finishes nothing.
    pub(crate) orphan_final: bool,
    /// The FIN was asked for without `'finish'` (an orphaned `_final`): a later `end()`
    /// finishes on the next tick, as libuv's shutdown of a shut handle fails at once
    /// (`ENOTCONN`), which Node counts as done.
    pub(crate) fin_sent: bool,
    /// `destroySoon()`: destroy once finished.
    pub(crate) destroy_on_finish: bool,
    /// Bytes accepted by `write()` and `end(data)` (Node's `bytesWritten`).
    pub(crate) bytes_accepted: u64,
}

impl WriteHalf {
    /// Frees the buffers of the write lists that are empty.
    pub(crate) fn release_spare(&mut self) {
        crate::queue::release(&mut self.queue);
        if self.in_flight.is_empty() && self.in_flight.capacity() > 0 {
            self.in_flight = Vec::new();
        }
    }

    /// Node's `writable` on the writable side (not ended, not destroyed: the caller checks
    /// destruction).
    pub(crate) fn open(&self) -> bool {
        !self.ended
    }

    /// Whether every write has completed.
    pub(crate) fn flushed(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_empty()
    }

    pub(crate) fn finished(&self) -> bool {
        self.shutdown == Shutdown::Finished
    }
}
