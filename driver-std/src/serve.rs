//! One thread serving every socket and server of a runtime, as Node's one JavaScript
//! thread does ([`Runtime::wait_events`]): the handles whose events wait to be taken are
//! listed as their queues stop being empty, so a wait costs what changed, not a scan.

use slab::Slab;

use crate::event_loop::Loop;
use crate::runtime::Runtime;
use crate::server_io::SrvEntry;
use crate::socket_io::SockEntry;

impl Runtime {
    /// Node's loop turn for a thread that serves every socket and server of this runtime,
    /// as Node's one JavaScript thread does: the calling thread's turn ends (what its
    /// calls and the events it took held may run: Node's next ticks), the loop runs (on
    /// this thread when nobody else waits for the OS; in a [`Runtime::manual`] runtime
    /// always on this thread) until at least one handle has events waiting to be taken,
    /// and those handles are appended to `ready`, each once ([`Socket::id`],
    /// [`Server::id`]). False when `timeout` passed with none (`None`: no limit;
    /// [`Duration::ZERO`]: only what is ready without waiting).
    ///
    /// Take every event of each handle reported, with [`Socket::try_next_event`] /
    /// [`Server::try_next_event`] until `None`, reacting to each as a Node listener would
    /// (a `write()` for a `'data'`, …): each call that takes an event ends a listener,
    /// so the socket's deferred work between two events runs then. A handle is reported
    /// when its queue stops being empty, and again at every call while events wait in
    /// it; an admitted connection arrives as [`ServerEvent::Connection`] on its
    /// server's queue (so the server is reported), and its own events follow once this
    /// thread waits again.
    ///
    /// From the first call on, the runtime counts on this thread to take every handle's
    /// events: a socket's events not yet taken hold its deferred work (its `'end'` after
    /// a `'data'` not taken, its automatic `end()`, its `'close'`) even while the thread
    /// is busy elsewhere, as a JavaScript listener runs before the next tick. Drop the
    /// handles whose events you do not want (a dropped handle's socket goes on by
    /// itself). Blocking calls on a handle ([`Socket::next_event`], a byte-stream read,
    /// [`Server::listen`]) still work on such a runtime, and also end the turn.
    ///
    /// There is no scan of every handle: a wait costs what changed since the last.
    ///
    /// [`Socket::id`]: crate::Socket::id
    /// [`Server::id`]: crate::Server::id
    /// [`Socket::try_next_event`]: crate::Socket::try_next_event
    /// [`Server::try_next_event`]: crate::Server::try_next_event
    /// [`Socket::next_event`]: crate::Socket::next_event
    /// [`Server::listen`]: crate::Server::listen
    /// [`ServerEvent::Connection`]: crate::ServerEvent::Connection
    /// [`Duration::ZERO`]: std::time::Duration::ZERO
    pub fn wait_events(
        &self,
        ready: &mut Vec<HandleId>,
        timeout: Option<std::time::Duration>,
    ) -> bool {
        let deadline = timeout.and_then(|t| std::time::Instant::now().checked_add(t));
        let sh = &self.shared;
        let mut st = sh.lock();
        st.serve_all();
        st.end_turn();
        let cv = st.events_cv.clone();
        let (mut st, found) = sh.wait_until(
            st,
            &cv,
            deadline,
            EVERY_HANDLE,
            |st| st.any_events().then_some(()),
            |st, d| st.events_waiting = st.events_waiting.saturating_add_signed(d),
        );
        if found.is_none() {
            return false;
        }
        // What else is ready without waiting: the handles come out together, as the
        // callbacks of one loop iteration do.
        st.run_all();
        let before = ready.len();
        st.take_ready(ready);
        sh.after_call(&mut st);
        ready.len() > before
    }
}

impl Loop {
    /// From now on one thread serves every handle ([`Runtime::wait_events`]): events not
    /// taken hold deferred work, and handles are listed when events wait in them. The
    /// first time only, every handle is looked at once: those with events are listed, and
    /// sockets admitted held whose `'connection'` was taken and that no turn records yet
    /// are held by the calling thread's turn (released at its wait).
    fn serve_all(&mut self) {
        if self.serves_all {
            return;
        }
        self.serves_all = true;
        self.admitted.clear();
        let mut recorded: std::collections::HashSet<usize> = self
            .holds_keys()
            .into_iter()
            .filter(|&(k, gen)| self.sockets.get(k).is_some_and(|e| e.gen == gen))
            .map(|(k, _)| k)
            .collect();
        for (i, s) in self.servers.iter() {
            if s.handle && !s.events.is_empty() {
                self.with_events.insert(usize::MAX - i);
            }
            for e in &s.events {
                if let crate::ServerEvent::Connection(j) = e {
                    recorded.insert(*j);
                }
            }
        }
        let mut taken = Vec::new();
        for (i, e) in self.sockets.iter() {
            if e.handle && !e.events.is_empty() {
                self.with_events.insert(i);
            }
            if e.held && !recorded.contains(&i) {
                taken.push(i);
            }
        }
        for i in taken {
            self.took_admitted(i);
        }
    }

    /// Whether a handle listed for the thread that serves every handle still has events
    /// waiting (the listed handles found empty leave the list).
    fn any_events(&mut self) -> bool {
        let (sockets, servers) = (&self.sockets, &self.servers);
        self.with_events
            .retain(|&k| handle_events(sockets, servers, k).is_some());
        !self.with_events.is_empty()
    }

    /// Appends the handles with events waiting to be taken; they stay listed until a look
    /// finds them empty.
    fn take_ready(&mut self, ready: &mut Vec<HandleId>) {
        let (sockets, servers) = (&self.sockets, &self.servers);
        self.with_events
            .retain(|&k| match handle_events(sockets, servers, k) {
                Some(id) => {
                    ready.push(id);
                    true
                }
                None => false,
            });
    }

    /// The calling thread took the `'connection'` of admitted socket `j`. When one thread
    /// serves every handle, that thread's turn holds the socket (as a `'connection'`
    /// listener's call would): its next wait releases it, and the socket's events not
    /// taken hold its deferred work from then on. Elsewhere the socket's own first wait
    /// releases it (the thread that takes it from the server may hand it to another).
    pub(crate) fn took_admitted(&mut self, j: usize) {
        if let Some(e) = self.sockets.get(j).filter(|e| self.serves_all && e.held) {
            let gen = e.gen;
            self.record_hold(j, gen);
        }
    }

    /// The queue of handle `key` (socket `key`, or server `usize::MAX - key`) stopped
    /// being empty: while one thread serves every handle, it is listed for that thread,
    /// which is woken.
    pub(crate) fn events_wait(&mut self, key: usize) {
        if self.serves_all && self.with_events.insert(key) {
            if self.events_waiting > 0 {
                self.events_cv.notify_all();
            }
            if self.sleeping.is_some() && self.poll_waiter == Some(EVERY_HANDLE) {
                self.reactor.notify();
            }
        }
    }
}

/// The key [`Loop::poll_waiter`] has while the thread waiting for the OS waits for any
/// handle's event ([`crate::Runtime::wait_events`]).
pub(crate) const EVERY_HANDLE: usize = usize::MAX / 2;

/// The handle of key `k` (socket `k`, or server `usize::MAX - k`) if events wait in its
/// queue.
fn handle_events(
    sockets: &Slab<SockEntry>,
    servers: &Slab<SrvEntry>,
    k: usize,
) -> Option<HandleId> {
    if k > usize::MAX / 2 {
        let s = servers.get(usize::MAX - k)?;
        (s.handle && !s.events.is_empty()).then(|| HandleId::server(s.gen))
    } else {
        let e = sockets.get(k)?;
        (e.handle && !e.events.is_empty()).then(|| HandleId::socket(e.gen))
    }
}

/// Which socket or server of a runtime: [`crate::Socket::id`], [`crate::Server::id`],
/// and what [`Runtime::wait_events`] reports.
///
/// Unique among every handle a runtime ever had (a generation, never reused), so an id
/// kept past its handle's drop never names another. Small and cheap to hash: made to key
/// an application's map from ids to its handles (and whatever state it keeps for them).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandleId(u64);

impl HandleId {
    /// The bit that marks a server.
    const SERVER: u64 = 1 << 63;

    pub(crate) fn socket(gen: u64) -> HandleId {
        HandleId(gen & !HandleId::SERVER)
    }

    pub(crate) fn server(gen: u64) -> HandleId {
        HandleId(gen | HandleId::SERVER)
    }

    /// Whether it names a [`crate::Socket`].
    pub fn is_socket(self) -> bool {
        self.0 & HandleId::SERVER == 0
    }

    /// Whether it names a [`crate::Server`].
    pub fn is_server(self) -> bool {
        !self.is_socket()
    }
}

impl std::fmt::Debug for HandleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_socket() { "Socket" } else { "Server" };
        write!(f, "{kind}#{}", self.0 & !HandleId::SERVER)
    }
}
