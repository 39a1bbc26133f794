//! Connecting: lookups, attempts (happy eyeballs), binding, reconnecting a destroyed
//! socket, and the attempt timer.

use super::*;
use crate::happy_eyeballs;

impl Socket {
    // ----- connect internals -------------------------------------------------------------

    /// A destroyed socket connected again: Node's `_undestroy`, names cleared.
    pub(super) fn reuse(&mut self) {
        self.life += 1;
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
                    | Deferred::Close { .. }
                    | Deferred::AfterClose(..)
                    | Deferred::AfterWrite(_)
                    | Deferred::WriteError(..)
            )
        });
    }

    /// `connect()` on a socket already connecting or connected: libuv refuses the second
    /// connect synchronously (`EALREADY` / `EISCONN`) and Node destroys the socket.
    pub(super) fn connect_while_busy(&mut self, opts: &ConnectOptions) {
        let code = if self.connecting() {
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
                self.do_destroy(Some(e));
            }
            Target::Tcp { host, port } => {
                let e = NetError::syscall(code, "connect", Some(host), Some(*port));
                self.do_destroy(Some(e));
            }
            Target::Ipc { path } => {
                let e = NetError::syscall(code, "connect", Some(path), None);
                self.do_destroy(Some(e));
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
                        self.conn = Conn::Idle;
                        self.do_destroy(Some(e));
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
                        self.conn = Conn::Idle;
                        self.do_destroy(Some(error));
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
    pub(super) fn announce_attempt(&mut self) {
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

    /// See [`Socket::attempt_bound`].
    pub(super) fn do_attempt_bound(&mut self, _now: Instant, id: AttemptId) {
        if matches!(&self.conn, Conn::Attempt { id: current, .. } if *current == id)
            && !self.destroyed()
        {
            self.announce_attempt();
        }
    }

    /// See [`Socket::attempt_bind_failed`].
    pub(super) fn do_attempt_bind_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        let Conn::Attempt {
            id: current, local, ..
        } = &self.conn
        else {
            return;
        };
        if *current != id || self.destroyed() {
            return;
        }
        let local = *local;
        let (ip, port) = local.map_or((None, None), |l| (Some(l.ip().to_string()), Some(l.port())));
        let error = NetError::syscall(code, "bind", ip.as_deref(), port);
        self.conn = Conn::Waiting;
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
                self.conn = Conn::Idle;
                self.do_destroy(Some(error));
            }
        }
    }

    /// The answer of a single-address lookup for a socket destroyed meanwhile: Node emits
    /// `'lookup'` all the same, and nothing else.
    pub(super) fn orphan_lookup_done(
        &mut self,
        host: String,
        result: Result<Vec<LookupAnswer>, NetError>,
    ) {
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
    pub(super) fn fail_unparsable(&mut self, address: String, port: u16, family: Family) {
        self.event(SocketEvent::ConnectionAttempt {
            address: address.clone(),
            port: Some(port),
            family: Some(family.number()),
        });
        let mut e = NetError::syscall(Code::Einval, "connect", Some(&address), Some(port));
        e.message.push_str(" - Local (undefined:undefined)");
        self.conn = Conn::Idle;
        self.do_destroy(Some(e));
    }

    /// The next happy-eyeballs candidate, or the aggregate failure.
    pub(super) fn next_candidate(&mut self, now: Instant) {
        loop {
            let Some(s) = self.he.as_mut() else { return };
            let Some(c) = s.take_next() else {
                let e = s.aggregate();
                self.he = None;
                self.conn = Conn::Idle;
                self.do_destroy(Some(e));
                return;
            };
            let port = s.port();
            if !s.taken_first() {
                self.reinitialize_handle();
            }
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

    /// See [`Socket::lookup_done`].
    pub(super) fn do_lookup_done(
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
        if *current != id || self.destroyed() {
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
                self.conn = Conn::Waiting;
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
            // The connect follows the 'lookup' listeners, if they left the socket
            // connecting.
            self.conn = match parsed {
                Some(ip) => Conn::Scheduled {
                    remote: Remote::Tcp(SocketAddr::new(ip, port)),
                    family: Some(family),
                },
                None => Conn::Unparsable {
                    address: first.address,
                    port,
                    family,
                },
            };
            self.q.next_tick(Deferred::StartConnect(self.life));
            return;
        }
        // One 'lookup' per answer, each after the listeners of the one before: Node stops
        // when they leave the socket no longer connecting.
        self.emit_lookups(LookupRest {
            answers,
            next: 0,
            host,
            port,
        });
    }

    /// The next happy-eyeballs `'lookup'` of `rest`, the rest waiting for its listeners;
    /// after the last, the attempts begin ([`Deferred::Lookups`]).
    pub(super) fn emit_lookups(&mut self, mut rest: LookupRest) {
        if let Some(a) = rest.answers.get(rest.next) {
            self.event(SocketEvent::Lookup {
                error: None,
                address: Some(a.address.clone()),
                family: Some(a.family),
                host: rest.host.clone(),
            });
            rest.next += 1;
            self.conn = Conn::Waiting;
            self.q
                .next_tick(Deferred::Lookups(self.life, Box::new(rest)));
            return;
        }
        let LookupRest {
            answers,
            host,
            port,
            ..
        } = rest;
        match happy_eyeballs::order(&answers, &host, port) {
            Err(e) => {
                self.conn = Conn::Waiting;
                self.q.next_tick(Deferred::Destroy(self.life, e));
            }
            // The last 'lookup''s listeners left the socket connecting: the attempts begin.
            Ok(c) if c.len() == 1 => {
                self.start_attempt(
                    Remote::Tcp(SocketAddr::new(c[0].ip, port)),
                    Some(c[0].family),
                );
            }
            Ok(c) => {
                self.he = Some(Box::new(Schedule::new(c, port, self.he_timeout)));
                self.attempted_addresses = Some(Vec::new());
                self.next_candidate(self.clock);
            }
        }
    }

    /// See [`Socket::attempt_connected`].
    pub(super) fn do_attempt_connected(
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
        if *current != id || self.destroyed() {
            return;
        }
        let ipc = matches!(target, Remote::Ipc(_));
        self.q.in_poll_phase();
        self.announce_attempt();
        if let Some(s) = self.he.as_mut() {
            s.attempt_settled();
        }
        self.he = None;
        self.conn = Conn::Open { ipc };
        self.local = local;
        self.remote = remote;
        self.apply_options_on_connect();
        self.event(SocketEvent::Connect);
        self.refresh_timer(now);
        if self.reset_on_connect {
            // 'ready' once what 'connect' started was carried out (see sync_section_done).
            self.ready_pending = true;
            return;
        }
        if self.r.flowing || self.r.buffered < self.cfg.readable_high_water_mark {
            self.r.reading = true;
            self.q.resume_reads();
            self.io(SocketIo::StartReading);
        }
        if self.w.queue.is_empty() {
            self.ready_pending = true;
            self.flush_writes(now);
        } else {
            // The first write made while connecting added Node's flush as a 'connect'
            // listener: the application's earlier listeners see the writes still queued.
            self.connect_flush_pending = true;
            self.q.after_listeners(Deferred::ConnectFlush(self.life));
        }
        if std::mem::take(&mut self.w.orphan_final) {
            // Its 'connect' listener, added by end(), comes after the application's
            // earlier ones and before the flush of writes parked since (queued last, as
            // work after the listeners goes to the front of the ticks).
            self.q.after_listeners(Deferred::OrphanFinal(self.life));
        }
    }

    /// See [`Socket::attempt_failed`].
    pub(super) fn do_attempt_failed(&mut self, now: Instant, id: AttemptId, code: Code) {
        if !matches!(&self.conn, Conn::Attempt { id: current, .. } if *current == id)
            || self.destroyed()
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
        self.conn = Conn::Waiting;
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
        // What follows the event waits for its listeners, as Node's code after `emit`:
        // the next address only if they left the socket connecting; a single attempt's
        // `destroy(ex)` does nothing to a socket they destroyed.
        let _ = now;
        match self.he.as_mut() {
            Some(s) if code != Code::Ecanceled => {
                s.attempt_settled();
                s.errors.push(error);
                self.q.next_tick(Deferred::NextCandidate(self.life));
            }
            _ => {
                self.he = None;
                // Node's afterConnect: no longer connecting, not destroyed yet.
                self.conn = Conn::Idle;
                self.q.next_tick(Deferred::Destroy(self.life, error));
            }
        }
    }

    pub(super) fn attempt_timed_out(&mut self, now: Instant) {
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
        self.conn = Conn::Waiting;
        // Node tries the next address after the event's listeners, unless they destroyed
        // the socket.
        let _ = now;
        self.q.next_tick(Deferred::NextCandidate(self.life));
    }
}
