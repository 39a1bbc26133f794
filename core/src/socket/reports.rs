//! What the driver reports about the OS: lookups answered, attempts bound, connected or
//! failed, bytes and EOF read, writes done or failed. Each is an [`Input`] applied through
//! [`Socket::handle`].

use super::*;

impl Socket {
    /// The driver bound the local address of attempt `id` (`localAddress` /
    /// `localPort`): the attempt is announced now. (A driver that does not report binds
    /// gets the announcement with the attempt's outcome.)
    pub fn attempt_bound(&mut self, now: Instant, id: AttemptId) {
        self.handle(now, Input::AttemptBound(id));
    }

    /// Binding the local address of attempt `id` failed: Node reports a `bind` error
    /// (`bind EADDRINUSE 127.0.0.1:8080`) without announcing the attempt; happy eyeballs
    /// records it and tries the next address.
    pub fn attempt_bind_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        self.handle(now, Input::AttemptBindFailed(id, code));
    }

    /// An answer to [`SocketIo::Lookup`] that a custom resolver gave at once, within the
    /// call that asked (a fixed list of answers, a test double): applied on the next tick,
    /// as Node applies a JavaScript `lookup` function that calls back with
    /// `process.nextTick` ([`Socket::lookup_done`] otherwise).
    pub fn lookup_answered_at_once(
        &mut self,
        id: LookupId,
        result: Result<Vec<LookupAnswer>, NetError>,
    ) {
        self.handle(self.clock, Input::LookupAnsweredAtOnce(id, result));
    }

    /// The driver's answer to [`SocketIo::Lookup`]: every address (or the first, when not
    /// `all`), raw as the resolver gave them, or the resolver's error
    /// (`getaddrinfo ENOTFOUND host`).
    pub fn lookup_done(
        &mut self,
        now: Instant,
        id: LookupId,
        result: Result<Vec<LookupAnswer>, NetError>,
    ) {
        self.handle(now, Input::LookupDone(id, result));
    }

    /// The driver's report that attempt `id` connected, with the local and peer addresses
    /// (`None` for unix-domain sockets).
    pub fn attempt_connected(
        &mut self,
        now: Instant,
        id: AttemptId,
        local: Option<SocketAddr>,
        remote: Option<SocketAddr>,
    ) {
        self.handle(now, Input::AttemptConnected { id, local, remote });
    }

    /// The driver's report that attempt `id` failed with `code` (from the OS, or
    /// `ECANCELED`).
    pub fn attempt_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        self.handle(now, Input::AttemptFailed(id, code));
    }

    /// Bytes read from the OS (only while reading was asked for), at most [`READ_SIZE`] per
    /// call, as libuv reads. Like every OS fact, it acts in the next poll phase, whenever
    /// it is reported (see the crate manual); a read shorter than [`READ_SIZE`] ends that
    /// poll phase's reading, as in libuv.
    ///
    /// Bytes reported before their poll phase began are read together, as one read of
    /// the kernel's buffer would take them: a driver may report them in any pieces.
    pub fn received(&mut self, now: Instant, data: Vec<u8>) {
        self.handle(now, Input::Received(data));
    }

    /// The peer's FIN (a read of zero bytes). Acts in the next poll phase.
    pub fn eof(&mut self, now: Instant) {
        self.handle(now, Input::Eof);
    }

    /// The peer's FIN, read while the kernel reports a hang-up (`POLLHUP`: the peer of a
    /// unix socket closed, or a TCP connection is shut down both ways). libuv then takes
    /// the EOF in the same poll phase as a short read before it, instead of the next one.
    pub fn eof_on_hang_up(&mut self, now: Instant) {
        self.handle(now, Input::EofOnHangUp);
    }

    /// The kernel now reports a hang-up (`POLLHUP`: the peer of a unix socket closed, or a
    /// TCP connection is shut down both ways) for bytes and an EOF reported before it and
    /// not yet taken by a poll phase: libuv's next poll phase takes both, instead of
    /// stopping at the short read. (A driver that learns of the hang-up when it reads the
    /// EOF calls [`Socket::eof_on_hang_up`] instead.)
    pub fn hung_up(&mut self) {
        self.handle(self.clock, Input::HungUp);
    }

    /// Reading failed (`ECONNRESET` when the peer reset): the socket is destroyed with a
    /// `read` error in the next poll phase.
    pub fn read_failed(&mut self, code: Code) {
        self.handle(self.clock, Input::ReadFailed(code));
    }

    /// The batch [`SocketIo::Write`] `id` was fully taken by the OS. Reported while the
    /// driver carries out the call that wrote (libuv's synchronous attempt took every
    /// byte), it acts at once; later, it is a completion of the next poll phase.
    pub fn write_done(&mut self, now: Instant, id: WriteId) {
        self.handle(now, Input::WriteDone(id));
    }

    /// A write failed (`EPIPE`, `ECONNRESET`): its callbacks get a `write` error, then the
    /// socket is destroyed with it; at once when the synchronous attempt failed, else in
    /// the next poll phase.
    ///
    /// The kernel reports a connection's error once, to the first syscall that asks: when
    /// the driver's read already took it (a reset waiting for its poll phase), the write
    /// that Node would have made first gets it instead of the `EPIPE` that follows.
    pub fn write_failed(&mut self, code: Code) {
        self.handle(self.clock, Input::WriteFailed(code));
    }
}
