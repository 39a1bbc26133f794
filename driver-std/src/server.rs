//! The application's handle on a server: Node's `net.Server` calls and events, and a
//! blocking `accept()` in the manner of `std::net::TcpListener`.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sansnet::options::{ListenOptions, ServerOptions};
use sansnet::server::{BoundAddress, Server as Core};
use sansnet::{Code, Duration, NetError};

use crate::info::Bell;
use crate::lookup::LookupFn;
use crate::mailbox::{lock, Mailbox};
use crate::server_engine::{Delivered, ServerCmd, ServerEngine, ServerEvent, ServerInfo};
use crate::socket::Socket;
use crate::to_io_error;

/// `net.createServer(options)` with what the driver adds: a resolver for the listen host
/// (also given to accepted sockets) and a bell (also rung by accepted sockets).
#[derive(Clone, Default)]
pub struct ServerSettings {
    /// How accepted sockets start, and the `blockList`.
    pub options: ServerOptions,
    /// Node's `lookup` for the listen host: replaces the system resolver.
    pub lookup: Option<LookupFn>,
    /// Rung whenever the server or one of its sockets delivers an event (see [`Bell`]).
    pub bell: Option<Arc<Bell>>,
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("options", &self.options)
            .field("lookup", &self.lookup.as_ref().map(|_| "custom"))
            .field("bell", &self.bell.is_some())
            .finish()
    }
}

/// A `net.Server`, driven by its own thread while it listens (or has other work).
///
/// Calls return once the server's engine carried them out. Events come out of
/// [`Server::next_event`] in Node's order; [`Server::accept`] takes the next
/// `'connection'` from the same stream. Dropping the handle closes the server (the sockets
/// it accepted live on).
pub struct Server {
    mb: Arc<Mailbox<ServerEngine>>,
    events: Mutex<Receiver<Delivered>>,
    resting_sent: Arc<AtomicBool>,
    /// Events [`Server::accept`] passed over, for [`Server::next_event`].
    stash: Mutex<VecDeque<ServerEvent>>,
    /// [`Server::hold`] was called and not yet released by asking for an event.
    holding: AtomicBool,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("info", &self.info())
            .finish()
    }
}

fn not_running() -> NetError {
    NetError::new(Code::ErrServerNotRunning, "Server is not running.")
}

impl Server {
    /// `net.createServer(options)`: no thread until it listens. Fails only when the
    /// process is out of descriptors.
    pub fn new(options: ServerOptions) -> io::Result<Server> {
        Server::with_settings(ServerSettings {
            options,
            ..ServerSettings::default()
        })
    }

    /// `net.createServer(options)` with a resolver or a bell.
    pub fn with_settings(s: ServerSettings) -> io::Result<Server> {
        let (tx, rx) = mpsc::channel();
        let resting_sent = Arc::new(AtomicBool::new(false));
        let flag = resting_sent.clone();
        let core = Core::new(s.options);
        let mb = Mailbox::new(|me| ServerEngine::new(core, me, tx, flag, s.bell, s.lookup))?;
        Ok(Server {
            mb,
            events: Mutex::new(rx),
            resting_sent,
            stash: Mutex::new(VecDeque::new()),
            holding: AtomicBool::new(false),
        })
    }

    /// `server.listen(options)` as Node has it: `Err` only for what Node throws
    /// (`ERR_SERVER_ALREADY_LISTEN`); `'listening'` or `'error'` follows as an event.
    pub fn start_listen(&self, listen: ListenOptions) -> Result<(), NetError> {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::Listen(listen, tx, None));
        rx.recv().unwrap_or_else(|_| Err(not_running()))
    }

    /// `server.listen(options)`, blocking until `'listening'` (the bound address) or the
    /// error (`EADDRINUSE`, …, also emitted as `'error'`).
    pub fn listen(&self, listen: ListenOptions) -> Result<BoundAddress, NetError> {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        self.mb.send(ServerCmd::Listen(listen, tx, Some(done_tx)));
        rx.recv().unwrap_or_else(|_| Err(not_running()))?;
        done_rx.recv().unwrap_or_else(|_| Err(not_running()))
    }

    /// The next admitted connection. Other events are set aside for
    /// [`Server::next_event`]; `'error'` fails, and so do `'close'` and a server that
    /// does not listen.
    pub fn accept(&self) -> io::Result<Socket> {
        loop {
            match self.take(None) {
                Some(ServerEvent::Connection(s)) => return Ok(s),
                Some(ServerEvent::Error(e)) => return Err(to_io_error(e)),
                Some(ServerEvent::Close) | None => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotConnected,
                        "the server is not listening",
                    ))
                }
                Some(e) => lock(&self.stash).push_back(e),
            }
        }
    }

    /// The admitted connections, until the server closes or fails.
    pub fn incoming(&self) -> impl Iterator<Item = Socket> + '_ {
        std::iter::from_fn(move || self.accept().ok())
    }

    /// The next event, in Node's order, blocking until there is one. `None` once the
    /// server rests (closed, or never listening) and every event was taken.
    pub fn next_event(&self) -> Option<ServerEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        self.take(None)
    }

    /// The next event if one is there now.
    pub fn try_next_event(&self) -> Option<ServerEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        self.take(Some(Instant::now()))
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event_timeout(&self, timeout: Duration) -> Option<ServerEvent> {
        if let Some(e) = lock(&self.stash).pop_front() {
            return Some(e);
        }
        self.take(Some(Instant::now() + timeout))
    }

    /// Enters a synchronous section, as JavaScript code between two waits: the server's
    /// deferred work (Node's next tick: `'listening'`, `'close'` and the `close()`
    /// callbacks) waits until the application next asks for an event, so that calls made
    /// meanwhile (`close()` twice, say) see what JavaScript would see.
    pub fn hold(&self) {
        self.holding.store(true, Ordering::Release);
        self.mb.send(ServerCmd::Hold);
    }

    fn take(&self, until: Option<Instant>) -> Option<ServerEvent> {
        if self.holding.swap(false, Ordering::AcqRel) {
            self.mb.send(ServerCmd::Release);
        }
        let rx = lock(&self.events);
        loop {
            let d = match rx.try_recv() {
                Ok(d) => d,
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) if self.mb.is_resting() => rx.try_recv().ok()?,
                Err(TryRecvError::Empty) => match until {
                    None => rx.recv().ok()?,
                    Some(t) => rx
                        .recv_timeout(t.saturating_duration_since(Instant::now()))
                        .ok()?,
                },
            };
            match d {
                Delivered::Resting => self.resting_sent.store(false, Ordering::Release),
                Delivered::Event(e) => return Some(*e),
            }
        }
    }

    /// `server.close(cb)` as Node has it: stop accepting now; returns at once.
    /// `'close'` (once every admitted socket is gone) and the callback's value
    /// ([`ServerEvent::CloseCallback`]) follow as events.
    pub fn start_close(&self) {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::Close(tx, None));
        let _ = rx.recv();
    }

    /// `server.close(cb)`, blocking until the server is fully closed: `'close'` was
    /// emitted (every admitted socket is gone) and the server's thread has ended.
    /// `ERR_SERVER_NOT_RUNNING` when it was not listening.
    ///
    /// Admitted sockets that nobody took (a `'connection'` still in the event stream when
    /// no other thread is reading it) are dropped here, which ends them gracefully
    /// (`destroySoon()`): a socket nobody reads would otherwise hold the server open. The
    /// other events stay readable.
    pub fn close(&self) -> Result<(), NetError> {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        self.mb.send(ServerCmd::Close(tx, Some(done_tx)));
        let _ = rx.recv();
        if let Ok(events) = self.events.try_lock() {
            let mut stash = lock(&self.stash);
            while let Ok(d) = events.try_recv() {
                match d {
                    Delivered::Event(e) if matches!(*e, ServerEvent::Connection(_)) => drop(e),
                    Delivered::Event(e) => stash.push_back(*e),
                    Delivered::Resting => self.resting_sent.store(false, Ordering::Release),
                }
            }
        }
        let r = done_rx.recv().unwrap_or(Ok(()));
        self.mb.wait_rested();
        r
    }

    /// The server's `AbortSignal` aborted: `close()` without a callback.
    pub fn abort(&self) {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::Abort(tx));
        let _ = rx.recv();
    }

    /// The getters, now.
    pub fn info(&self) -> ServerInfo {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::Info(tx));
        rx.recv().unwrap_or_default()
    }

    /// `server.address()`.
    pub fn address(&self) -> Option<BoundAddress> {
        self.info().address
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        self.info().listening
    }

    /// `server.getConnections()`: admitted sockets not yet destroyed (every release the
    /// server's sockets reported before this call is counted).
    pub fn get_connections(&self) -> u32 {
        self.info().connections
    }

    /// `server.getConnections(cb)` as Node has it: returns at once; the count, read now,
    /// follows as [`ServerEvent::Connections`] on the server's next tick (after the
    /// `'close'` or `'listening'` already due).
    pub fn start_get_connections(&self) {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::GetConnections(tx));
        let _ = rx.recv();
    }

    /// `server.maxConnections = max` (`None`: unlimited).
    pub fn set_max_connections(&self, max: Option<u32>) {
        let (tx, rx) = mpsc::channel();
        self.mb.send(ServerCmd::SetMaxConnections(max, tx));
        let _ = rx.recv();
    }

    /// `server.maxConnections`.
    pub fn max_connections(&self) -> Option<u32> {
        self.info().max_connections
    }

    /// Whether the server rests: no thread, nothing in flight, every event delivered.
    pub fn is_resting(&self) -> bool {
        self.mb.is_resting()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.mb.close(ServerCmd::Gone);
    }
}
