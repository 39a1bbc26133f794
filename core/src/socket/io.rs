//! What the driver reports to a socket, the connect machinery, teardown, and the
//! deferred work of Node's ticks.

use super::*;
use crate::happy_eyeballs;

impl Socket {
    // ----- connect internals -------------------------------------------------------------

    /// A destroyed socket connected again: Node's `_undestroy`, names cleared.
    pub(super) fn reuse(&mut self) {
        self.life += 1;
        self.destroyed = false;
        self.conn = Conn::Idle;
        self.r = ReadHalf {
            flowing: true,
            ..ReadHalf::default()
        };
        // Callbacks the old life's errorBuffer owes are still delivered.
        for e in std::mem::take(&mut self.w.error_buffer) {
            self.q.next_tick(Deferred::Emit(e));
        }
        // `bytesRead` and `bytesWritten` are the handle's: a new connection gets a new
        // handle, which counts from 0 (Node's connect() replaces a destroyed one).
        self.w = WriteHalf::default();
        self.bytes_read = 0;
        self.he = None;
        self.attempted_addresses = None;
        self.local = None;
        self.remote = None;
        self.remote_cache = None;
        self.peer_gone = false;
        self.reset_on_connect = false;
        // Work of the old life is void; what it owes the application is not.
        self.q.retain_deferred(|d| {
            matches!(
                d,
                Deferred::Emit(_)
                    | Deferred::Close(..)
                    | Deferred::AfterClose(..)
                    | Deferred::AfterWrite(_)
                    | Deferred::WriteError(..)
            )
        });
    }

    /// `connect()` on a socket already connecting or connected: libuv refuses the second
    /// connect synchronously (`EALREADY` / `EISCONN`) and Node destroys the socket.
    pub(super) fn connect_while_busy(&mut self, opts: &ConnectOptions) {
        let code = if self.connecting {
            Code::Ealready
        } else {
            Code::Custom("EISCONN".into())
        };
        match &opts.target {
            Target::Tcp { host, port } if ip::is_ip(host) != 0 => {
                let fam = ip::is_ip(host);
                self.event(SocketEvent::ConnectionAttempt {
                    address: host.clone(),
                    port: Some(*port),
                    family: Some(fam),
                });
                let e = NetError::syscall(code, "connect", Some(host), Some(*port));
                self.destroy(Some(e));
            }
            Target::Tcp { host, port } => {
                let e = NetError::syscall(code, "connect", Some(host), Some(*port));
                self.destroy(Some(e));
            }
            Target::Ipc { path } => {
                let e = NetError::syscall(code, "connect", Some(path), None);
                self.destroy(Some(e));
            }
        }
    }

    /// Node's `internalConnect`: emit `'connectionAttempt'` (TCP only) and ask the driver.
    /// Returns false when the blockList denied the destination (no attempt made).
    pub(super) fn start_attempt(&mut self, remote: Remote, family: Option<Family>) -> bool {
        let id = AttemptId(self.id());
        let local = match (&remote, self.local_bind) {
            (Remote::Tcp(addr), Some(b)) => {
                let unspecified = if addr.is_ipv4() {
                    std::net::IpAddr::from([0, 0, 0, 0])
                } else {
                    std::net::IpAddr::from([0u16; 8])
                };
                Some(SocketAddr::new(b.address.unwrap_or(unspecified), b.port))
            }
            _ => None,
        };
        if let Remote::Tcp(addr) = &remote {
            if self.block_list.as_ref().is_some_and(|b| b.check(addr.ip())) {
                let e = NetError::new(
                    Code::ErrIpBlocked,
                    format!("IP({}) is blocked by net.BlockList", addr.ip()),
                );
                match self.he.as_mut() {
                    Some(s) => {
                        s.errors.push(e.clone());
                        self.event(SocketEvent::ConnectionAttemptFailed {
                            address: addr.ip().to_string(),
                            port: Some(addr.port()),
                            family: family.map(Family::number),
                            error: e,
                        });
                    }
                    None => {
                        self.connecting = false;
                        self.destroy(Some(e));
                    }
                }
                return false;
            }
        }
        if let (Remote::Tcp(addr), Some(l)) = (&remote, local) {
            if l.is_ipv4() != addr.is_ipv4() {
                // Node binds the local address as the target's family, and the other
                // family's address does not parse there: bind EINVAL, before any attempt.
                let error = NetError::syscall(
                    Code::Einval,
                    "bind",
                    Some(&l.ip().to_string()),
                    Some(l.port()),
                );
                match self.he.as_mut() {
                    Some(s) => s.errors.push(error),
                    None => {
                        self.connecting = false;
                        self.destroy(Some(error));
                    }
                }
                return false;
            }
        }
        // Node binds a local address before it announces the attempt.
        let announced = local.is_none();
        self.conn = Conn::Attempt {
            id,
            local,
            announced: false,
            remote: remote.clone(),
            family,
        };
        if announced {
            self.announce_attempt();
        }
        self.io(SocketIo::Connect {
            attempt: id,
            remote,
            local,
        });
        true
    }

    /// Emits `'connectionAttempt'` for the attempt in flight, once.
    fn announce_attempt(&mut self) {
        let Conn::Attempt {
            announced,
            remote,
            family,
            ..
        } = &mut self.conn
        else {
            return;
        };
        if std::mem::replace(announced, true) {
            return;
        }
        // A unix path is announced too, with no port and no family (Node emits it inside
        // `connect()`, so only a `socket.connect()` on an existing socket can observe it).
        let e = match remote {
            Remote::Tcp(addr) => SocketEvent::ConnectionAttempt {
                address: addr.ip().to_string(),
                port: Some(addr.port()),
                family: family.map(Family::number),
            },
            Remote::Ipc(path) => SocketEvent::ConnectionAttempt {
                address: path.clone(),
                port: None,
                family: None,
            },
        };
        self.event(e);
    }

    /// The driver bound the local address of attempt `id` (`localAddress` /
    /// `localPort`): the attempt is announced now. (A driver that does not report binds
    /// gets the announcement with the attempt's outcome.)
    pub fn attempt_bound(&mut self, _now: Instant, id: AttemptId) {
        if matches!(&self.conn, Conn::Attempt { id: current, .. } if *current == id)
            && !self.destroyed
        {
            self.announce_attempt();
        }
    }

    /// Binding the local address of attempt `id` failed: Node reports a `bind` error
    /// (`bind EADDRINUSE 127.0.0.1:8080`) without announcing the attempt; happy eyeballs
    /// records it and tries the next address.
    pub fn attempt_bind_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        let Conn::Attempt {
            id: current, local, ..
        } = &self.conn
        else {
            return;
        };
        if *current != id || self.destroyed {
            return;
        }
        let local = *local;
        let (ip, port) = local.map_or((None, None), |l| (Some(l.ip().to_string()), Some(l.port())));
        let error = NetError::syscall(code, "bind", ip.as_deref(), port);
        self.conn = Conn::Idle;
        match self.he.as_mut() {
            Some(s) => {
                s.attempt_settled();
                s.errors.push(error);
                if let Some(list) = self.attempted_addresses.as_mut() {
                    list.pop();
                }
                self.next_candidate(now);
            }
            None => {
                self.connecting = false;
                self.destroy(Some(error));
            }
        }
    }

    /// The answer of a single-address lookup for a socket destroyed meanwhile: Node emits
    /// `'lookup'` all the same, and nothing else.
    fn orphan_lookup_done(&mut self, host: String, result: Result<Vec<LookupAnswer>, NetError>) {
        let first = result.as_ref().ok().and_then(|a| a.first().cloned());
        let event = match (result, first) {
            (Err(e), _) => SocketEvent::Lookup {
                error: Some(e),
                address: None,
                family: None,
                host,
            },
            (Ok(_), Some(a)) => SocketEvent::Lookup {
                error: None,
                address: Some(a.address),
                family: Some(a.family),
                host,
            },
            (Ok(_), None) => SocketEvent::Lookup {
                error: Some(NetError::syscall(
                    Code::Enotfound,
                    "getaddrinfo",
                    Some(&host),
                    None,
                )),
                address: None,
                family: None,
                host,
            },
        };
        self.event(event);
    }

    /// Node's connect to an address `isIP` accepted but libuv cannot parse: the attempt is
    /// announced, then the connect syscall fails with EINVAL.
    fn fail_unparsable(&mut self, address: String, port: u16, family: Family) {
        self.event(SocketEvent::ConnectionAttempt {
            address: address.clone(),
            port: Some(port),
            family: Some(family.number()),
        });
        let mut e = NetError::syscall(Code::Einval, "connect", Some(&address), Some(port));
        e.message.push_str(" - Local (undefined:undefined)");
        self.connecting = false;
        self.destroy(Some(e));
    }

    /// The next happy-eyeballs candidate, or the aggregate failure.
    fn next_candidate(&mut self, now: Instant) {
        loop {
            let Some(s) = self.he.as_mut() else { return };
            let Some(c) = s.take_next() else {
                let e = s.aggregate();
                self.he = None;
                self.connecting = false;
                self.destroy(Some(e));
                return;
            };
            let port = s.port();
            if self.start_attempt(Remote::Tcp(SocketAddr::new(c.ip, port)), Some(c.family)) {
                if let Some(s) = self.he.as_mut() {
                    s.attempt_started(c, now);
                }
                if let Some(list) = self.attempted_addresses.as_mut() {
                    list.push(format!("{}:{}", c.ip, port));
                }
                return;
            }
        }
    }

    // ----- driver inputs -----------------------------------------------------------------

    /// The driver's answer to [`SocketIo::Lookup`]: every address (or the first, when not
    /// `all`), raw as the resolver gave them, or the resolver's error
    /// (`getaddrinfo ENOTFOUND host`).
    pub fn lookup_done(
        &mut self,
        now: Instant,
        id: LookupId,
        result: Result<Vec<LookupAnswer>, NetError>,
    ) {
        if self.orphan_lookup.as_ref().is_some_and(|(o, _)| *o == id) {
            if let Some((_, host)) = self.orphan_lookup.take() {
                self.orphan_lookup_done(host, result);
            }
            return;
        }
        let Conn::Lookup {
            id: current,
            host,
            port,
            all,
        } = &self.conn
        else {
            return;
        };
        if *current != id || self.destroyed {
            return;
        }
        let (host, port, all) = (host.clone(), *port, *all);
        self.refresh_timer(now);
        // A lookup with no answer at all failed: ENOTFOUND, as `dns.lookup` reports it,
        // on either path ('lookup' with the error, then the error).
        let result = result.and_then(|a| {
            if a.is_empty() {
                Err(NetError::syscall(
                    Code::Enotfound,
                    "getaddrinfo",
                    Some(&host),
                    None,
                ))
            } else {
                Ok(a)
            }
        });
        let answers = match result {
            Err(e) => {
                self.event(SocketEvent::Lookup {
                    error: Some(e.clone()),
                    address: None,
                    family: None,
                    host,
                });
                self.conn = Conn::Idle;
                self.q.next_tick(Deferred::Destroy(self.life, e));
                return;
            }
            Ok(a) => a,
        };
        if !all {
            let Some(first) = answers.into_iter().next() else {
                return; // not empty: see above
            };
            self.event(SocketEvent::Lookup {
                error: None,
                address: Some(first.address.clone()),
                family: Some(first.family),
                host: host.clone(),
            });
            let family = match first.family {
                4 => Family::V4,
                6 => Family::V6,
                _ => Family::V4,
            };
            if ip::is_ip(&first.address) == 0 {
                let e = NetError::new(
                    Code::ErrInvalidIpAddress,
                    format!("Invalid IP address: {}", first.address),
                );
                self.q.next_tick(Deferred::Destroy(self.life, e));
                return;
            }
            if !matches!(first.family, 4 | 6) {
                let e = NetError::invalid_address_family(first.family, &host, port);
                self.q.next_tick(Deferred::Destroy(self.life, e));
                return;
            }
            let parsed = ip::parse_inet(&first.address, Family::V4)
                .or_else(|| ip::parse_inet(&first.address, Family::V6));
            match parsed {
                Some(ip) => {
                    self.start_attempt(Remote::Tcp(SocketAddr::new(ip, port)), Some(family));
                }
                None => self.fail_unparsable(first.address, port, family),
            }
            return;
        }
        for a in &answers {
            self.event(SocketEvent::Lookup {
                error: None,
                address: Some(a.address.clone()),
                family: Some(a.family),
                host: host.clone(),
            });
        }
        match happy_eyeballs::order(&answers, &host, port) {
            Err(e) => {
                self.conn = Conn::Idle;
                self.q.next_tick(Deferred::Destroy(self.life, e));
            }
            Ok(c) if c.len() == 1 => {
                self.start_attempt(
                    Remote::Tcp(SocketAddr::new(c[0].ip, port)),
                    Some(c[0].family),
                );
            }
            Ok(c) => {
                self.he = Some(Schedule::new(c, port, self.he_timeout));
                self.attempted_addresses = Some(Vec::new());
                self.next_candidate(now);
            }
        }
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
        let Conn::Attempt {
            id: current,
            remote: target,
            ..
        } = &self.conn
        else {
            return;
        };
        if *current != id || self.destroyed {
            return;
        }
        let ipc = matches!(target, Remote::Ipc(_));
        self.q.in_poll_phase();
        self.announce_attempt();
        if let Some(s) = self.he.as_mut() {
            s.attempt_settled();
        }
        self.he = None;
        self.connecting = false;
        self.conn = Conn::Open { ipc };
        self.local = local;
        self.remote = remote;
        self.apply_options_on_connect();
        self.event(SocketEvent::Connect);
        // 'ready' once what 'connect' started was carried out (see sync_section_done).
        self.ready_pending = true;
        self.refresh_timer(now);
        if self.reset_on_connect {
            return;
        }
        if self.r.flowing || self.r.buffered < self.cfg.high_water_mark {
            self.r.reading = true;
            self.io(SocketIo::StartReading);
        }
        // The write parked while connecting goes out alone, from a 'connect' listener: a
        // callback Node runs as soon as libuv completes it, before 'ready'. The writes
        // queued behind it follow once it completed.
        match self.w.queue.pop_front() {
            Some(first) => self.dispatch(now, vec![first], false),
            None => self.flush_writes(now),
        }
    }

    /// The driver's report that attempt `id` failed with `code` (from the OS, or
    /// `ECANCELED`).
    pub fn attempt_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        if !matches!(&self.conn, Conn::Attempt { id: current, .. } if *current == id)
            || self.destroyed
        {
            return;
        }
        self.announce_attempt();
        let Conn::Attempt {
            remote,
            family,
            local,
            ..
        } = &self.conn
        else {
            return;
        };
        // Node adds the local name when the socket was bound to a local port.
        let bound = local.filter(|l| l.port() != 0);
        let (address, port, family) = match remote {
            Remote::Tcp(a) => (
                a.ip().to_string(),
                Some(a.port()),
                family.map(Family::number),
            ),
            Remote::Ipc(p) => (p.clone(), None, None),
        };
        // The attempt is over: nothing is left to abort.
        self.conn = Conn::Idle;
        let mut error = NetError::syscall(code.clone(), "connect", Some(&address), port);
        if let Some(l) = bound {
            error = error.with_local(&l.ip().to_string(), l.port());
        }
        self.event(SocketEvent::ConnectionAttemptFailed {
            address,
            port,
            family,
            error: error.clone(),
        });
        match self.he.as_mut() {
            Some(s) if code != Code::Ecanceled => {
                s.attempt_settled();
                s.errors.push(error);
                self.next_candidate(now);
            }
            _ => {
                self.he = None;
                self.connecting = false;
                self.destroy(Some(error));
            }
        }
    }

    /// Bytes read from the OS (only while reading was asked for), at most [`READ_SIZE`] per
    /// call, as libuv reads. Like every OS fact, it acts in the next poll phase, whenever
    /// it is reported (see the crate manual); a read shorter than [`READ_SIZE`] ends that
    /// poll phase's reading, as in libuv.
    ///
    /// Bytes reported before their poll phase began are read together, as one read of
    /// the kernel's buffer would take them: a driver may report them in any pieces.
    pub fn received(&mut self, now: Instant, mut data: Vec<u8>) {
        let life = self.life;
        if let Some((Deferred::Io(l, Fact::Received(at, last)), ends_poll)) = self.q.last_fact_mut()
        {
            if *l == life && last.len() < READ_SIZE {
                let take = data.len().min(READ_SIZE - last.len());
                last.extend(data.drain(..take));
                *at = now;
                *ends_poll = last.len() < READ_SIZE;
            }
        }
        while !data.is_empty() {
            let rest = if data.len() > READ_SIZE {
                data.split_off(READ_SIZE)
            } else {
                Vec::new()
            };
            let ends_poll = data.len() < READ_SIZE;
            self.q
                .fact(Deferred::Io(life, Fact::Received(now, data)), ends_poll);
            data = rest;
        }
    }

    /// The peer's FIN (a read of zero bytes). Acts in the next poll phase.
    pub fn eof(&mut self, now: Instant) {
        self.q.fact(Deferred::Io(self.life, Fact::Eof(now)), true);
    }

    /// The peer's FIN, read while the kernel reports a hang-up (`POLLHUP`: the peer of a
    /// unix socket closed, or a TCP connection is shut down both ways). libuv then takes
    /// the EOF in the same poll phase as a short read before it, instead of the next one.
    pub fn eof_on_hang_up(&mut self, now: Instant) {
        let life = self.life;
        if let Some((Deferred::Io(l, Fact::Received(..)), ends_poll)) = self.q.last_fact_mut() {
            if *l == life {
                *ends_poll = false;
            }
        }
        self.eof(now);
    }

    /// Reading failed (`ECONNRESET` when the peer reset): the socket is destroyed with a
    /// `read` error in the next poll phase.
    pub fn read_failed(&mut self, code: Code) {
        self.q
            .fact(Deferred::Io(self.life, Fact::ReadFailed(code)), true);
    }

    /// The batch [`SocketIo::Write`] `id` was fully taken by the OS. Reported while the
    /// driver carries out the call that wrote (libuv's synchronous attempt took every
    /// byte), it acts at once; later, it is a completion of the next poll phase.
    pub fn write_done(&mut self, now: Instant, id: WriteId) {
        if self.w.dispatching {
            self.apply_write_done(now, id);
        } else {
            self.q
                .fact(Deferred::Io(self.life, Fact::WriteDone(now, id)), false);
        }
    }

    /// Whether bytes the driver reported wait for a poll phase.
    fn has_unpolled_bytes(&self) -> bool {
        self.q
            .any_unapplied(|d| matches!(d, Deferred::Io(_, Fact::Received(..))))
    }

    /// A write failed (`EPIPE`, `ECONNRESET`): its callbacks get a `write` error, then the
    /// socket is destroyed with it; at once when the synchronous attempt failed, else in
    /// the next poll phase.
    ///
    /// The kernel reports a connection's error once, to the first syscall that asks: when
    /// the driver's read already took it (a reset waiting for its poll phase), the write
    /// that Node would have made first gets it instead of the `EPIPE` that follows.
    pub fn write_failed(&mut self, code: Code) {
        let unpolled = self.q.find_arriving(|d| match d {
            Deferred::Io(_, Fact::ReadFailed(c)) => Some(c.clone()),
            _ => None,
        });
        let code = match unpolled {
            Some(first) if code == Code::Epipe => first,
            _ => code,
        };
        if self.w.dispatching {
            self.apply(Fact::WriteFailed(code));
        } else {
            self.q
                .fact(Deferred::Io(self.life, Fact::WriteFailed(code)), true);
        }
    }

    /// An OS fact in its poll phase.
    fn apply(&mut self, fact: Fact) {
        match fact {
            Fact::Received(now, data) => self.apply_received(now, data),
            Fact::Eof(now) => {
                if !self.is_open() || self.r.eof {
                    return;
                }
                self.r.eof = true;
                self.refresh_timer(now);
                self.maybe_end();
            }
            Fact::ReadFailed(code) => {
                if !self.is_open() {
                    return;
                }
                let mut e = NetError::new(code.clone(), format!("read {}", code.as_str()));
                e.syscall = Some("read");
                self.destroy(Some(e));
            }
            Fact::WriteDone(now, id) => {
                self.w.in_write_callback = true;
                self.apply_write_done(now, id);
                self.w.in_write_callback = false;
            }
            Fact::WriteFailed(code) => {
                if !self.is_open() {
                    return;
                }
                let mut e = NetError::new(code.clone(), format!("write {}", code.as_str()));
                e.syscall = Some("write");
                // Its callbacks first, then the destroy (see write_error); libuv's
                // synchronous attempt (within write()) defers that to the next tick.
                self.write_error(e, None, self.w.sync_window);
            }
        }
    }

    fn apply_received(&mut self, now: Instant, data: Vec<u8>) {
        if !self.is_open() || data.is_empty() || self.r.eof {
            return;
        }
        self.bytes_read += data.len() as u64;
        self.refresh_timer(now);
        if self.r.flowing && self.r.buffer.is_empty() {
            self.event(SocketEvent::Data(data));
            return;
        }
        self.r.buffered += data.len();
        self.r.buffer.push_back(data);
        if self.r.buffered >= self.cfg.high_water_mark && self.r.reading {
            self.r.reading = false;
            self.io(SocketIo::StopReading);
        }
    }

    fn apply_write_done(&mut self, now: Instant, id: WriteId) {
        if self.w.in_flight_id != Some(id) {
            return;
        }
        self.w.in_flight_id = None;
        let done = std::mem::take(&mut self.w.in_flight);
        if self.destroyed {
            // Node calls the callback of a write that completes after destroy with null,
            // then errorBuffer.
            for w in &done {
                self.w.length = self.w.length.saturating_sub(w.length);
            }
            let callbacks: Vec<SocketEvent> = done
                .into_iter()
                .filter(|w| w.callback)
                .map(|w| SocketEvent::WriteCallback {
                    id: w.id,
                    error: None,
                })
                .collect();
            self.q.next_tick(Deferred::AfterWrite(callbacks));
            return;
        }
        self.refresh_timer(now);
        // Completed while the write()'s own outputs are still being carried out: libuv
        // took the bytes synchronously, and Node runs the callbacks on the next tick (after
        // the caller's following statements). Otherwise an I/O callback runs them now,
        // after 'drain'.
        let sync = self.w.sync_window;
        for w in &done {
            self.w.length -= w.length;
        }
        self.resolve_drain_check();
        if self.w.need_drain && self.w.length == 0 && !self.w.ended {
            self.w.need_drain = false;
            self.event(SocketEvent::Drain);
        }
        let callbacks: Vec<SocketEvent> = done
            .into_iter()
            .filter(|w| w.callback)
            .map(|w| SocketEvent::WriteCallback {
                id: w.id,
                error: None,
            })
            .collect();
        if sync {
            if !callbacks.is_empty() {
                self.q.next_tick(Deferred::AfterWrite(callbacks));
            }
        } else {
            for e in callbacks {
                self.event(e);
            }
        }
        self.flush_writes(now);
    }

    /// Node's errorBuffer: the callbacks a destroy failed, once (whichever of the
    /// destroy's tick and an earlier write's callbacks runs it first).
    fn error_buffer(&mut self) {
        let released = std::mem::take(&mut self.w.error_buffer_length);
        self.w.length = self.w.length.saturating_sub(released);
        for e in std::mem::take(&mut self.w.error_buffer) {
            self.event(e);
        }
        // Node's errorBuffer also fails the end() callbacks waiting for 'finish' (its
        // kOnFinished), those of an end() called after destroy() included; not while a
        // write is still in progress (the parked write of a connect is one).
        if self.destroyed && self.w.in_flight_id.is_none() && self.w.errored_after_close.is_none() {
            let error = self.w.errored.clone().unwrap_or_else(|| {
                NetError::new(
                    Code::ErrStreamDestroyed,
                    "Cannot call end after a stream was destroyed",
                )
            });
            for id in std::mem::take(&mut self.w.end_callbacks) {
                self.event(SocketEvent::EndCallback {
                    id,
                    error: Some(error.clone()),
                });
            }
        }
    }

    fn finish(&mut self) {
        self.w.shutdown = Shutdown::Finished;
        // Node calls the end() callbacks, then emits 'finish'.
        for id in std::mem::take(&mut self.w.end_callbacks) {
            self.event(SocketEvent::EndCallback { id, error: None });
        }
        self.event(SocketEvent::Finish);
        if self.w.destroy_on_finish || self.r.end_emitted {
            self.q.after_listeners(Deferred::AutoDestroy(self.life));
        }
    }

    /// Connected and not destroyed: the only state in which the OS can report traffic.
    fn is_open(&self) -> bool {
        !self.destroyed && matches!(self.conn, Conn::Open { .. })
    }

    // ----- reading to the application ------------------------------------------------------

    /// Schedules `'end'` once the FIN arrived and every byte was consumed.
    /// Paused or not: Node's `read(0)` after the EOF ends a stream with nothing buffered.
    fn maybe_end(&mut self) {
        if self.r.eof && self.r.buffer.is_empty() && !self.r.end_scheduled && !self.r.end_emitted {
            self.r.end_scheduled = true;
            self.q.next_tick(Deferred::EmitEnd(self.life));
        }
    }

    fn flow(&mut self) {
        // A resume() made before destroy() still hands out what was buffered: Node's
        // read() returns buffered data from a destroyed stream too.
        while self.r.flowing {
            let Some(chunk) = self.r.buffer.pop_front() else {
                break;
            };
            self.r.buffered -= chunk.len();
            self.event(SocketEvent::Data(chunk));
        }
        if self.r.flowing
            && !self.r.reading
            && !self.r.eof
            && !self.destroyed
            && matches!(self.conn, Conn::Open { .. })
        {
            self.r.reading = true;
            self.io(SocketIo::StartReading);
        }
        self.maybe_end();
    }

    // ----- teardown ----------------------------------------------------------------------

    /// Node's `destroy(err)`; `reset` closes with RST (`resetAndDestroy`).
    pub(super) fn destroy_with(&mut self, err: Option<NetError>, reset: bool) {
        if self.destroyed {
            return;
        }
        self.destroyed = true;
        let was_connecting = self.connecting;
        self.connecting = false;
        self.idle_deadline = None;
        let had_handle = self.has_handle;
        match std::mem::replace(&mut self.conn, Conn::Idle) {
            Conn::Lookup {
                id,
                host,
                all: false,
                ..
            } => self.orphan_lookup = Some((id, host)),
            Conn::Attempt {
                id, remote, family, ..
            } => {
                self.io(SocketIo::AbortAttempt { attempt: id });
                if self.he.is_some() {
                    // Node still reports the cancelled attempt after the user's destroy().
                    if let Remote::Tcp(a) = remote {
                        let e = NetError::syscall(
                            Code::Ecanceled,
                            "connect",
                            Some(&a.ip().to_string()),
                            Some(a.port()),
                        );
                        self.q
                            .next_tick(Deferred::Emit(SocketEvent::ConnectionAttemptFailed {
                                address: a.ip().to_string(),
                                port: Some(a.port()),
                                family: family.map(Family::number),
                                error: e,
                            }));
                    }
                }
            }
            // Bytes the OS delivered that no poll phase read yet are still unread in the
            // kernel, in Node's terms: closing then sends RST, not FIN.
            Conn::Open { .. } => self.io(if reset || self.has_unpolled_bytes() {
                SocketIo::Reset
            } else {
                SocketIo::Close
            }),
            _ => {}
        }
        self.he = None;
        self.has_handle = false;
        self.local = None;
        if self.server_owned {
            self.server_owned = false;
            self.io(SocketIo::ReleaseFromServer);
        }
        let had_error = err.is_some();
        if self.w.errored.is_none() {
            self.w.errored = err.clone();
        }
        // Node's errorBuffer hands pending callbacks the stream's error, if any.
        let stream_error = self.w.errored.clone();
        // Writes waiting for a connection fail after 'close'; buffered ones on the next tick.
        // They leave bytesWritten, except the first write parked while connecting (Node's
        // _pendingData).
        let mut queued: Vec<QueuedWrite> = self.w.queue.drain(..).collect();
        // Writable.destroy runs errorBuffer on the tick before 'error' unless a write is in
        // progress (errorBuffer waits for it: the callbacks then come after 'error').
        let writing = self.w.in_flight_id.is_some() || (was_connecting && !queued.is_empty());
        let mut error_event = err.map(|e| Deferred::Emit(SocketEvent::Error(e)));
        if writing {
            if let Some(e) = error_event.take() {
                self.q.next_tick(e);
            }
        }
        let parked = usize::from(was_connecting);
        let dropped: u64 = queued
            .iter()
            .skip(parked)
            .map(|w| w.bytes.len() as u64)
            .sum();
        self.w.bytes_accepted -= dropped;
        let close = if had_handle {
            CloseKind::HadError(had_error)
        } else {
            CloseKind::NoHandle
        };
        let mut after_close = Vec::new();
        let mut parked_length = 0;
        if was_connecting && !queued.is_empty() {
            parked_length = queued.iter().map(|w| w.length).sum();
            // The write parked while connecting fails from a 'close' listener with
            // ERR_SOCKET_CLOSED_BEFORE_CONNECTION; as onwriteError, that errors the stream
            // (unless destroy() gave an error) and fails the writes buffered behind it and
            // the end() callbacks with the stream's error, all after 'close'.
            let closed = NetError::new(
                Code::ErrSocketClosedBeforeConnection,
                "Socket closed before the connection was established",
            );
            let errored = stream_error.clone().unwrap_or_else(|| closed.clone());
            for (i, w) in std::mem::take(&mut queued).into_iter().enumerate() {
                if w.callback {
                    let error = if i == 0 {
                        closed.clone()
                    } else {
                        errored.clone()
                    };
                    after_close.push(SocketEvent::WriteCallback {
                        id: w.id,
                        error: Some(error),
                    });
                }
            }
            for id in std::mem::take(&mut self.w.end_callbacks) {
                after_close.push(SocketEvent::EndCallback {
                    id,
                    error: Some(errored.clone()),
                });
            }
            // The stream errors only then: an end() made meanwhile still waits (Node's
            // kOnFinished) and gets that error with the others.
            self.w.errored_after_close = Some(errored);
        }
        let destroyed_error = |what: &str| {
            stream_error.clone().unwrap_or_else(|| {
                NetError::new(
                    Code::ErrStreamDestroyed,
                    format!("Cannot call {what} after a stream was destroyed"),
                )
            })
        };
        for w in queued {
            self.w.error_buffer_length += w.length;
            if w.callback {
                let error = Some(destroyed_error("write"));
                self.w
                    .error_buffer
                    .push(SocketEvent::WriteCallback { id: w.id, error });
            }
        }
        for id in std::mem::take(&mut self.w.end_callbacks) {
            let error = Some(destroyed_error("end"));
            self.w
                .error_buffer
                .push(SocketEvent::EndCallback { id, error });
        }
        if !self.w.error_buffer.is_empty() || self.w.error_buffer_length > 0 {
            self.q.next_tick(Deferred::ErrorBuffer);
        }
        if let Some(e) = error_event {
            self.q.next_tick(e);
        }
        // Node emits a handle's 'close' once the handle closed (a later loop turn); a socket
        // that never had a handle closes on the next tick.
        if had_handle {
            self.q
                .closing(Deferred::Close(close, after_close, parked_length));
        } else {
            self.q
                .next_tick(Deferred::Close(close, after_close, parked_length));
        }
    }

    fn run(&mut self, d: Deferred) {
        match d {
            Deferred::StartConnect(life) => {
                if life != self.life || !self.connecting {
                    return;
                }
                match std::mem::replace(&mut self.conn, Conn::Idle) {
                    Conn::Scheduled { remote, family } => {
                        self.start_attempt(remote, family);
                    }
                    Conn::Unparsable {
                        address,
                        port,
                        family,
                    } => self.fail_unparsable(address, port, family),
                    other => self.conn = other,
                }
            }
            // Events and callbacks already owed are delivered even if the socket was
            // connected again meanwhile: the old life still ends with its 'close'.
            Deferred::Emit(e) => self.event(e),
            Deferred::Close(kind, after, released) => {
                self.event(SocketEvent::Close(kind));
                if !after.is_empty() || self.w.errored_after_close.is_some() {
                    self.q.next_tick(Deferred::AfterClose(after, released));
                }
            }
            Deferred::AfterClose(after, released) => {
                self.w.length = self.w.length.saturating_sub(released);
                for e in after {
                    self.event(e);
                }
                if let Some(e) = self.w.errored_after_close.take() {
                    let errored = self.w.errored.get_or_insert(e).clone();
                    for id in std::mem::take(&mut self.w.end_callbacks) {
                        self.event(SocketEvent::EndCallback {
                            id,
                            error: Some(errored.clone()),
                        });
                    }
                }
            }
            Deferred::AfterWrite(events) => {
                for e in events {
                    self.event(e);
                }
                if self.destroyed {
                    self.error_buffer();
                }
            }
            Deferred::ErrorBuffer => self.error_buffer(),
            Deferred::EmitEnd(life) => {
                self.r.end_scheduled = false;
                if life != self.life
                    || self.destroyed
                    || self.r.end_emitted
                    || !self.r.buffer.is_empty()
                {
                    return;
                }
                self.r.end_emitted = true;
                self.event(SocketEvent::End);
                if !self.cfg.allow_half_open {
                    // Node swaps in writeAfterFIN when 'end' is emitted.
                    self.w.write_after_fin_is_epipe = true;
                }
                if self.w.open() && !self.cfg.allow_half_open {
                    self.q.next_tick(Deferred::AutoEnd(life));
                } else if self.w.finished() {
                    self.q.after_listeners(Deferred::AutoDestroy(life));
                }
            }
            Deferred::AutoDestroy(life) => {
                if life == self.life && !self.destroyed {
                    self.destroy(None);
                }
            }
            Deferred::AutoEnd(life) => {
                if life == self.life && !self.destroyed && self.w.open() {
                    self.end(Instant::ZERO, None);
                }
            }
            Deferred::Flow(life) => {
                if life == self.life {
                    // Node's resume_: read(0) starts the handle reading even when pause()
                    // came in between; what arrives then waits in the buffer.
                    if !self.r.reading
                        && !self.r.eof
                        && !self.destroyed
                        && matches!(self.conn, Conn::Open { .. })
                        && self.r.buffered < self.cfg.high_water_mark
                    {
                        self.r.reading = true;
                        self.io(SocketIo::StartReading);
                    }
                    self.flow();
                }
            }
            Deferred::Destroy(life, e) => {
                if life == self.life {
                    self.connecting = false;
                    self.destroy(Some(e));
                }
            }
            Deferred::WriteError(life, e, failed) => {
                if life == self.life {
                    self.after_write_error(e, failed);
                } else {
                    // Connected again meanwhile: only the failed writes are still owed.
                    for id in failed {
                        self.event(SocketEvent::WriteCallback {
                            id,
                            error: Some(e.clone()),
                        });
                    }
                }
            }
            Deferred::FinishAfterShutdown(life) => {
                if life == self.life && !self.destroyed && self.w.shutdown == Shutdown::InFlight {
                    self.io(SocketIo::Shutdown);
                    self.finish();
                }
            }
            Deferred::Io(life, fact) => {
                if life == self.life {
                    self.apply(fact);
                }
            }
        }
    }

    // ----- the run loop ------------------------------------------------------------------

    /// The next output in causal order, running deferred work (Node's ticks) once nothing
    /// synchronous is left. `None`: nothing to do until the next input or deadline.
    pub fn poll_output(&mut self) -> Option<Output> {
        loop {
            if let Some(o) = self.q.pop() {
                return Some(o);
            }
            if self.sync_section_done() {
                continue;
            }
            let d = self.q.pop_deferred()?;
            self.run(d);
        }
    }

    /// The driver carried out everything emitted so far: what Node decides right after
    /// its synchronous I/O is decided now. `'ready'` follows `'connect'` once the writes
    /// the connection started were tried (a write libuv completes at once calls back in
    /// between); the high-water-mark check of the last `write()`s settles; completions
    /// from now on are asynchronous. Returns whether it emitted something.
    fn sync_section_done(&mut self) -> bool {
        self.resolve_drain_check();
        self.w.sync_window = false;
        self.w.dispatching = false;
        if std::mem::take(&mut self.ready_pending) {
            self.event(SocketEvent::Ready);
            if self.reset_on_connect && !self.destroyed {
                self.destroy_with(None, true);
            }
            return true;
        }
        false
    }

    /// Node's high-water-mark check of the last `write()`s, once the driver's synchronous
    /// I/O is done.
    fn resolve_drain_check(&mut self) {
        if std::mem::take(&mut self.w.check_drain)
            && self.w.length >= self.cfg.high_water_mark
            && !self.destroyed
        {
            self.w.need_drain = true;
        }
    }

    /// `write()`'s return value as Node computes it, once the driver carried out the
    /// writes emitted so far: whether the write buffer is below the high-water mark.
    pub fn write_return_value(&self) -> bool {
        // Node's writeOrBuffer: false once the stream errored or was destroyed (a refused
        // write errors or destroys it), so this is the whole answer for every driver.
        self.w.length < self.cfg.high_water_mark && self.w.errored.is_none() && !self.destroyed
    }

    /// Like [`Socket::poll_output`], but runs only next-tick work, not a later loop turn's
    /// (a handle's `'close'`): what happens before a `setImmediate` callback.
    pub fn poll_tick_output(&mut self) -> Option<Output> {
        loop {
            if let Some(o) = self.q.pop() {
                return Some(o);
            }
            if self.sync_section_done() {
                continue;
            }
            let d = self.q.pop_until_check()?;
            self.run(d);
        }
    }

    /// The next output already emitted, without running deferred work: what a caller may
    /// carry out between two synchronous calls (Node would not have reached its next tick).
    pub fn poll_emitted(&mut self) -> Option<Output> {
        if let Some(o) = self.q.pop() {
            return Some(o);
        }
        // The driver carried out everything emitted (a write it completed at once
        // included).
        self.sync_section_done();
        self.q.pop()
    }

    /// For a driver whose sockets share one loop: whether this socket has closing-phase
    /// work (a closed handle's `'close'`) waiting. [`Socket::poll_output`] runs it.
    pub fn has_closing_work(&self) -> bool {
        self.q.has_closing()
    }

    /// For a driver whose sockets share one loop: its poll phase begins, for every socket
    /// at once, with the facts that arrived before it (what [`Socket::poll_output`] would
    /// otherwise begin when this socket alone reaches it). Returns whether this socket has
    /// one; [`Socket::poll_tick_output`] then runs it.
    pub fn start_poll_phase(&mut self) -> bool {
        self.q.start_poll()
    }

    /// For a driver whose sockets share one loop: from now on it begins each iteration
    /// ([`Socket::start_iteration`]), so pending work asked outside a poll phase waits for
    /// the next iteration, after this one's closing phase, as in libuv.
    pub fn share_loop(&mut self) {
        self.q.share_loop();
    }

    /// For a driver whose sockets share one loop: a new iteration begins, for every socket
    /// at once, before its poll phase ([`Socket::start_poll_phase`]). Returns whether this
    /// socket has pending work for it; [`Socket::poll_tick_output`] then runs it.
    pub fn start_iteration(&mut self) -> bool {
        self.q.start_iteration()
    }

    /// Whether nothing at all is pending (no output, no deferred work).
    pub fn is_idle(&self) -> bool {
        self.q.is_idle()
    }

    /// Whether only work of a later event-loop turn (a handle's `'close'`) is pending: a
    /// JavaScript continuation after an event would run now.
    pub fn ticks_drained(&self) -> bool {
        self.q.ticks_drained()
    }

    /// The next deadline (idle timer, happy-eyeballs attempt timer). Side-effect free.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let he = self.he.as_ref().and_then(Schedule::deadline);
        match (self.idle_deadline, he) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the timers due at `now`. Harmless when early.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.clock = self.clock.max(now);
        if let Some(d) = self.he.as_ref().and_then(Schedule::deadline) {
            if d <= now {
                self.attempt_timed_out(now);
            }
        }
        if let Some(d) = self.idle_deadline {
            if d <= now && !self.destroyed {
                self.idle_deadline = None;
                self.event(SocketEvent::Timeout);
            }
        }
    }

    fn attempt_timed_out(&mut self, now: Instant) {
        let Conn::Attempt {
            id,
            remote: Remote::Tcp(addr),
            family,
            ..
        } = &self.conn
        else {
            return;
        };
        let (id, addr, family) = (*id, *addr, *family);
        self.announce_attempt();
        if let Some(s) = self.he.as_mut() {
            s.attempt_settled();
            s.errors.push(NetError::syscall(
                Code::Etimedout,
                "connect",
                Some(&addr.ip().to_string()),
                Some(addr.port()),
            ));
        }
        self.event(SocketEvent::ConnectionAttemptTimeout {
            address: addr.ip().to_string(),
            port: Some(addr.port()),
            family: family.map(Family::number),
        });
        self.io(SocketIo::AbortAttempt { attempt: id });
        self.conn = Conn::Idle;
        if self.connecting && !self.destroyed {
            self.next_candidate(now);
        }
    }
}
