//! What passes between a socket's handle and its engine: the calls, their replies, the
//! conditions a handle waits for, the events delivered, and the counters both read.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;

use sansnet::options::ConnectOptions;
use sansnet::socket::{Chunk, LookupId, SocketEvent, WriteResult};
use sansnet::{Duration, NetError};

use crate::info::Snapshot;
use crate::lookup::LookupResult;

/// State the handle and the engine share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Events the application finished with: it asked for the one after them.
    pub(crate) acked: AtomicU64,
    /// How many times the application waited on the socket (asked for an event, read,
    /// flushed, waited for `'drain'` or `'finish'`): each ends its turn.
    pub(crate) waits: AtomicU64,
    /// Deferred work is held until the application's next wait (it made a call).
    pub(crate) held: AtomicBool,
    /// The last wait lets only next-tick work run, not a later loop turn's (`'close'`).
    pub(crate) ticks_only: AtomicBool,
    /// Threads blocked waiting on the socket right now: a call another thread makes
    /// meanwhile does not hold deferred work (the waiting thread's turn is over).
    pub(crate) blocked: AtomicUsize,
    /// Bytes of `'data'` delivered and not yet taken.
    pub(crate) unconsumed: AtomicUsize,
    /// A [`Delivered::Resting`] is in the channel and not taken yet.
    pub(crate) resting_sent: AtomicBool,
}

/// What the channel to the handle carries.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// An event, with the getters as of its emission.
    Event(SocketEvent, Arc<Snapshot>),
    /// The engine rests: nothing more comes until the application calls.
    Resting,
}

/// A Node method call.
#[derive(Debug)]
pub(crate) enum Call {
    Connect(Box<ConnectOptions>),
    /// `write(chunk)`; `quiet`: a byte-stream write, whose callback event is not
    /// delivered (nobody waits for it, and a writer that never reads would pile them up).
    Write(Chunk, bool),
    End(Option<Chunk>),
    Destroy(Option<NetError>),
    DestroySoon,
    ResetAndDestroy,
    Pause,
    Resume,
    SetTimeout(Duration),
    SetNoDelay(bool),
    SetKeepAlive(bool, u32),
    RemoteAddress,
    Abort,
    Info,
}

/// A call's return value.
#[derive(Debug)]
pub(crate) enum Answer {
    Done,
    Write(WriteResult),
    Reset(Result<(), NetError>),
    Remote(Option<SocketAddr>),
}

/// A call's reply: its value and the getters right after it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) answer: Answer,
    pub(crate) snapshot: Arc<Snapshot>,
}

/// A condition on the core a handle waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Until {
    /// `write()` would return true again (`'drain'` for a byte stream).
    Drained,
    /// Every write taken by the OS (`writableLength == 0`).
    Flushed,
    /// `'finish'` emitted.
    Finished,
}

/// What reaches the engine.
#[derive(Debug)]
pub(crate) enum Cmd {
    Call(Call, Sender<Reply>),
    Wait(Until, Sender<io::Result<()>>),
    LookupDone(LookupId, LookupResult),
    /// The handle was dropped: `destroySoon()`, then end.
    Gone,
}

/// Counts a thread as blocked on the socket while it lives.
pub(crate) struct Blocked<'a>(&'a Shared);

impl<'a> Blocked<'a> {
    pub(crate) fn new(shared: &'a Shared) -> Blocked<'a> {
        shared.blocked.fetch_add(1, Ordering::AcqRel);
        Blocked(shared)
    }
}

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        self.0.blocked.fetch_sub(1, Ordering::AcqRel);
    }
}
