//! Carrying out what the machines ask: events observed, I/O requests on the simulated
//! kernel (endpoints, send windows, FIN and RST), listens and lookups.

use super::*;

impl Sim {
    /// The application observes a socket event; `'finish'` means the FIN left (libuv's
    /// shutdown), which may close the connection in the kernel.
    pub(super) fn observe(&mut self, h: SocketHandle, e: SocketEvent) {
        let finished = matches!(e, SocketEvent::Finish);
        self.observed.push(Observed::Socket(h, e));
        if finished {
            if let Some(ep) = self.sockets[h.0].endpoint {
                self.kernel_closed(ep);
                let peer = self.net.endpoints[ep].peer;
                self.kernel_closed(peer);
            }
        }
    }

    pub(super) fn drain_socket(&mut self, h: SocketHandle, deferred: bool) {
        self.drain_socket_outputs(h, deferred);
        self.note_pending(h.0);
        let s = &self.sockets[h.0];
        let connected = s.endpoint.is_some_and(|ep| !self.net.endpoints[ep].closed);
        let retired = s.socket.destroyed()
            && s.socket.is_idle()
            && !connected
            && s.attempts.is_empty()
            && s.socket.poll_timeout().is_none();
        self.sockets[h.0].retired = retired;
    }

    fn drain_socket_outputs(&mut self, h: SocketHandle, deferred: bool) {
        loop {
            let s = &mut self.sockets[h.0].socket;
            let o = if deferred {
                s.poll_output()
            } else {
                s.poll_emitted()
            };
            match o {
                None => return,
                Some(Output::Event(e)) => {
                    self.observe(h, e);
                    if deferred {
                        // The application reacts before the next deferred work runs.
                        while let Some(o) = self.sockets[h.0].socket.poll_emitted() {
                            match o {
                                Output::Event(e) => self.observe(h, e),
                                Output::Io(io) => self.socket_io(h, io),
                            }
                        }
                        return;
                    }
                }
                Some(Output::Io(io)) => self.socket_io(h, io),
            }
        }
    }

    pub(super) fn drain_server(&mut self, h: ServerHandle, deferred: bool) {
        // After an event, only what was emitted synchronously: the application reacts
        // before the next deferred work runs.
        let mut deferred = deferred;
        loop {
            let s = &mut self.servers[h.0].server;
            let o = if deferred {
                s.poll_output()
            } else {
                s.poll_emitted()
            };
            match o {
                None => return,
                Some(ServerOutput::Io(io)) => self.server_io(h, io),
                Some(ServerOutput::Event(e)) => {
                    let seen = match e {
                        ServerEvent::Listening => ServerObserved::Listening,
                        ServerEvent::Connection { token, socket } => {
                            let endpoint = self.servers[h.0].pending.remove(&token);
                            let sh = self.add_socket(*socket, None);
                            self.sockets[sh.0].server = Some(h);
                            if let Some(ep) = endpoint {
                                self.sockets[sh.0].endpoint = Some(ep);
                                self.net.endpoints[ep].owner = Some(sh);
                                self.kernel_closed(ep);
                            }
                            self.observed
                                .push(Observed::Server(h, ServerObserved::Connection(sh)));
                            self.drain_socket(sh, false);
                            continue;
                        }
                        ServerEvent::Drop(d) => ServerObserved::Drop(d),
                        ServerEvent::Error(e) => ServerObserved::Error(e),
                        ServerEvent::Close => ServerObserved::Close,
                        ServerEvent::CloseCallback(e) => ServerObserved::CloseCallback(e),
                        ServerEvent::Connections(n) => ServerObserved::Connections(n),
                    };
                    self.observed.push(Observed::Server(h, seen));
                    deferred = false;
                }
            }
        }
    }

    pub(super) fn socket_io(&mut self, h: SocketHandle, io: SocketIo) {
        match io {
            SocketIo::Lookup {
                id,
                host,
                family,
                hints,
                all,
            } => {
                if let (None, Some(list)) =
                    (&self.sockets[h.0].resolver.0, &self.sockets[h.0].lookup)
                {
                    // A fixed list answers at once, as a JavaScript `lookup` that calls
                    // back with `process.nextTick`.
                    let list = list.clone();
                    self.sockets[h.0]
                        .socket
                        .lookup_answered_at_once(id, Ok(list));
                    return;
                }
                let answers = match (&self.sockets[h.0].resolver.0, &self.sockets[h.0].lookup) {
                    (Some(f), _) => f(&host, family, hints, all).map(|mut list| {
                        if !all {
                            list.truncate(1);
                        }
                        list
                    }),
                    (None, Some(list)) => Ok(list.clone()),
                    (None, None) => match self.resolve(&host) {
                        Some(list) => Ok(list
                            .iter()
                            .filter(|a| family.is_none_or(|f| a.family == i64::from(f.number())))
                            .cloned()
                            .collect()),
                        None => Err(NetError::syscall(
                            Code::Enotfound,
                            "getaddrinfo",
                            Some(&host),
                            None,
                        )),
                    },
                };
                let at = self.hop();
                self.schedule(at, Packet::Local(Completion::Lookup(h, id, answers)));
            }
            SocketIo::Connect {
                attempt,
                remote,
                local,
            } => {
                if let Some(l) = local {
                    // The local bind happens first, synchronously, as the kernel's would.
                    let now = self.now;
                    if l.port() != 0 && self.net.local_in_use(l) {
                        self.sockets[h.0].socket.attempt_bind_failed(
                            now,
                            attempt,
                            Code::Eaddrinuse,
                        );
                        return;
                    }
                    self.sockets[h.0].socket.attempt_bound(now, attempt);
                }
                self.sockets[h.0].attempts.insert(attempt.0, ());
                // Linux connects to the unspecified address as to the loopback one.
                let remote = match remote {
                    Remote::Tcp(a) if a.ip().is_unspecified() => {
                        let ip: IpAddr = if a.is_ipv4() {
                            std::net::Ipv4Addr::LOCALHOST.into()
                        } else {
                            std::net::Ipv6Addr::LOCALHOST.into()
                        };
                        Remote::Tcp(SocketAddr::new(ip, a.port()))
                    }
                    r => r,
                };
                let key = match &remote {
                    Remote::Tcp(a) => ListenKey::Tcp(*a),
                    Remote::Ipc(p) => ListenKey::Ipc(self.sockets[h.0].fs, p.clone()),
                };
                let local = match (&remote, local) {
                    (Remote::Tcp(dest), l) => {
                        // The kernel's source address: the one asked for, else the host's
                        // own of the destination's family (off loopback), else the
                        // destination's (loopback answers from where it was reached).
                        let source =
                            self.sockets[h.0].sources.iter().copied().find(|s| {
                                s.is_ipv4() == dest.is_ipv4() && !dest.ip().is_loopback()
                            });
                        let ip = l
                            .map(|l| l.ip())
                            .filter(|ip| !ip.is_unspecified())
                            .or(source)
                            .unwrap_or(dest.ip());
                        let port = match l.map(|l| l.port()) {
                            Some(p) if p != 0 => p,
                            _ => self.net.ephemeral_port(),
                        };
                        Some(SocketAddr::new(ip, port))
                    }
                    (Remote::Ipc(_), _) => None,
                };
                let mut at = self.hop();
                if let (Remote::Tcp(dest), Some(l)) = (&remote, local) {
                    at = at + self.link_delay(l.ip(), dest.ip()).unwrap_or_default();
                }
                self.schedule(
                    at,
                    Packet::Syn {
                        from: h,
                        attempt,
                        key,
                        local,
                    },
                );
            }
            SocketIo::AbortAttempt { attempt } => {
                self.sockets[h.0].attempts.remove(&attempt.0);
            }
            SocketIo::Write { id, data } => match self.sockets[h.0].endpoint {
                Some(ep) => {
                    self.net.endpoints[ep]
                        .backlog
                        .push_back((id, data.concat()));
                    self.pump(ep, false);
                }
                None => {
                    let now = self.now;
                    self.schedule(now, Packet::Local(Completion::WriteDone(h, id)));
                }
            },
            SocketIo::Shutdown => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    let e = &mut self.net.endpoints[ep];
                    if !e.fin_sent && !e.closed && !e.reset {
                        e.fin_sent = true;
                        let peer = e.peer;
                        // The FIN pushes what Nagle held and carries the ACK owed.
                        self.push_held(ep);
                        self.piggyback_ack(ep);
                        self.send(Packet::Fin { endpoint: peer });
                    }
                }
            }
            SocketIo::StartReading => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    self.net.endpoints[ep].reading = true;
                    self.flush_endpoint(ep);
                }
            }
            SocketIo::StopReading => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    self.net.endpoints[ep].reading = false;
                }
            }
            SocketIo::SetNoDelay(on) => {
                if let Some(ep) = self.sockets[h.0].endpoint {
                    self.net.endpoints[ep].tcp.no_delay = on;
                    if on {
                        self.push_held(ep);
                    }
                }
            }
            SocketIo::SetKeepAlive { .. } => {}
            SocketIo::Close => {
                if let Some(ep) = self.sockets[h.0].endpoint.take() {
                    let unread = !self.net.endpoints[ep].unread.is_empty();
                    self.close_endpoint(ep, unread);
                }
            }
            SocketIo::Reset => {
                if let Some(ep) = self.sockets[h.0].endpoint.take() {
                    self.close_endpoint(ep, true);
                }
            }
            SocketIo::ReleaseFromServer => {
                if let Some(sh) = self.sockets[h.0].server.take() {
                    self.servers[sh.0].server.connection_closed();
                    self.drain_server(sh, false);
                }
            }
        }
    }

    /// Sends what the send window allows of an endpoint's pending writes; a write whose
    /// last byte was taken completes at once, as libuv's synchronous write does. `drain`:
    /// also carry out what the owner emits (when not already inside its drain).
    pub(super) fn pump(&mut self, ep: usize, drain: bool) {
        loop {
            let e = &mut self.net.endpoints[ep];
            if e.reset && !e.closed && !e.backlog.is_empty() {
                // The peer reset the connection: the write fails.
                e.backlog.clear();
                let code = e.write_error_code();
                if let Some(o) = e.owner {
                    self.sockets[o.0].socket.write_failed(code);
                    if drain {
                        self.drain_socket(o, false);
                    }
                }
                return;
            }
            if e.closed || e.reset {
                e.backlog.clear();
                return;
            }
            let unix = e.local.is_none() && e.remote.is_none();
            let (peer, waiting) = (e.peer, !e.backlog.is_empty());
            if unix && waiting && self.net.endpoints[peer].closed {
                // A unix socket's write to a peer that is gone fails at once: EPIPE.
                let e = &mut self.net.endpoints[ep];
                e.backlog.clear();
                if let Some(o) = e.owner {
                    self.sockets[o.0].socket.write_failed(Code::Epipe);
                    if drain {
                        self.drain_socket(o, false);
                    }
                }
                return;
            }
            // Bytes the reader's socket was handed but no poll phase has taken yet are
            // still in its kernel (libuv reads them then, or leaves them there once
            // reading stopped): they hold back the sender as much as undelivered ones.
            let unpolled = (self.net.endpoints[peer].owner)
                .map_or(0, |o| self.sockets[o.0].socket.unpolled_read_bytes());
            let e = &mut self.net.endpoints[ep];
            let capacity = if unix {
                UNIX_SEND_CAPACITY
            } else {
                SEND_CAPACITY
            };
            let room = capacity.saturating_sub(e.outstanding + unpolled);
            let Some((id, data)) = e.backlog.front_mut() else {
                return;
            };
            if room == 0 && !data.is_empty() {
                // libuv writes again at once what its first attempt left (`uv_write`
                // after `uv_try_write`): over loopback, data sent to a closed peer has
                // already brought its RST, and that attempt fails.
                if self.reset_by_closed_peer(ep) {
                    continue;
                }
                return;
            }
            let n = room.min(data.len());
            let chunk: Vec<u8> = data.drain(..n).collect();
            let id = *id;
            let done = data.is_empty();
            if done {
                e.backlog.pop_front();
            }
            e.outstanding += n;
            let (peer, owner) = (e.peer, e.owner);
            let _ = peer;
            if !chunk.is_empty() {
                self.transmit(ep, chunk);
            }
            if let (true, Some(o)) = (done, owner) {
                let now = self.now;
                self.sockets[o.0].socket.write_done(now, id);
                if drain {
                    self.drain_socket(o, false);
                }
            }
        }
    }

    /// Whether data `ep` sent over loopback is on its way to a closed peer: Linux
    /// delivers it, and the peer kernel's RST back, within the sending syscall, so `ep`
    /// is reset now (its next write meets the error; the Data segment's own RST, when
    /// delivered, then finds it reset).
    fn reset_by_closed_peer(&mut self, ep: usize) -> bool {
        let peer = self.net.endpoints[ep].peer;
        let p = &self.net.endpoints[peer];
        let data_to_closed_peer = p.closed
            && !p.reset
            && self
                .kernel
                .iter()
                .any(|k| matches!(k, Packet::Data { endpoint, .. } if *endpoint == peer));
        if !data_to_closed_peer || self.net.endpoints[ep].reset {
            return false;
        }
        self.net.endpoints[ep].mark_reset();
        self.kernel_closed(ep);
        true
    }

    /// Closes an endpoint: RST to the peer if `rst`, else FIN (if not sent yet).
    pub(super) fn close_endpoint(&mut self, ep: usize, rst: bool) {
        if self.net.endpoints[ep].closed {
            return;
        }
        if rst {
            self.net.endpoints[ep].tcp.held.clear();
        } else if !self.net.endpoints[ep].reset {
            // What Nagle held leaves with the FIN.
            self.push_held(ep);
        }
        let e = &mut self.net.endpoints[ep];
        e.closed = true;
        let peer = e.peer;
        // A unix socket's peer hangs up when this end closes.
        self.tell_hang_up(peer);
        let e = &mut self.net.endpoints[ep];
        e.owner = None;
        e.unread.clear();
        let peer = e.peer;
        let fin_sent = e.fin_sent;
        let reset = e.reset;
        if reset {
            return;
        }
        if rst {
            self.send(Packet::Rst { endpoint: peer });
        } else if !fin_sent {
            self.net.endpoints[ep].fin_sent = true;
            self.send(Packet::Fin { endpoint: peer });
        }
    }

    /// Tells an endpoint's owner once the kernel closed the connection (both FINs, or a
    /// reset): `getpeername` fails from then on.
    ///
    /// Our FIN counts from `'finish'`: the core asks for it at `end()`, but libuv sends it
    /// in the pending phase where `'finish'` comes.
    pub(super) fn kernel_closed(&mut self, ep: usize) {
        let e = &self.net.endpoints[ep];
        let Some(o) = e.owner else { return };
        // A FIN counts once its socket finished, or from the close that sent it.
        let fin_left = |owner: Option<SocketHandle>| {
            owner.is_none_or(|h| self.sockets[h.0].socket.writable_finished())
        };
        let ours = e.fin_sent && fin_left(Some(o));
        let theirs = e.fin_pending && fin_left(self.net.endpoints[e.peer].owner);
        if (ours && theirs) || e.reset {
            self.sockets[o.0].socket.peer_address_gone();
        }
        self.tell_hang_up(ep);
    }

    /// Tells an endpoint's owner when its kernel starts reporting a hang-up: bytes and an
    /// EOF it was given and has not polled yet are then read in one poll phase.
    pub(super) fn tell_hang_up(&mut self, ep: usize) {
        if let Some(o) = self.net.endpoints[ep].owner {
            if self.hung_up(ep) {
                self.sockets[o.0].socket.hung_up();
            }
        }
    }

    /// Whether the kernel reports a hang-up on an endpoint (`POLLHUP`): a reset, the peer
    /// of a unix socket closed, or a TCP connection shut down both ways (our FIN counts
    /// from `'finish'`, as in [`Sim::kernel_closed`]).
    pub(super) fn hung_up(&self, ep: usize) -> bool {
        let e = &self.net.endpoints[ep];
        let peer = &self.net.endpoints[e.peer];
        let ours = e.fin_sent
            && e.owner
                .is_none_or(|h| self.sockets[h.0].socket.writable_finished());
        let unix = e.local.is_none() && e.remote.is_none();
        e.reset || (unix && peer.closed) || (ours && e.fin_pending)
    }

    /// Hands an endpoint's unread bytes and FIN to its owner while it reads.
    pub(super) fn flush_endpoint(&mut self, ep: usize) {
        let Some(owner) = self.net.endpoints[ep].owner else {
            return;
        };
        let mut read = false;
        while self.net.endpoints[ep].reading {
            let Some(mut data) = self.net.endpoints[ep].unread.pop_front() else {
                if read {
                    self.read_drained(ep);
                }
                break;
            };
            // One read takes what libuv's buffer holds: the rest stays in the kernel
            // (and holds back the sender) once the reader stops at its high-water mark.
            if data.len() > crate::socket::READ_SIZE {
                let rest = data.split_off(crate::socket::READ_SIZE);
                self.net.endpoints[ep].unread.push_front(rest);
            }
            read = true;
            let now = self.now;
            let len = data.len();
            self.sockets[owner.0].socket.received(now, data);
            self.drain_socket(owner, false);
            let sender = self.net.endpoints[ep].peer;
            let s = &mut self.net.endpoints[sender];
            s.outstanding = s.outstanding.saturating_sub(len);
            self.pump(sender, true);
        }
        let e = &self.net.endpoints[ep];
        if e.reading && e.unread.is_empty() && e.fin_pending && !e.fin_delivered {
            self.net.endpoints[ep].fin_delivered = true;
            let now = self.now;
            if self.hung_up(ep) {
                self.sockets[owner.0].socket.eof_on_hang_up(now);
            } else {
                self.sockets[owner.0].socket.eof(now);
            }
            self.drain_socket(owner, false);
        }
    }

    pub(super) fn server_io(&mut self, h: ServerHandle, io: ServerIo) {
        match io {
            ServerIo::Lookup { id, host } => {
                let answers = self.resolve(&host).ok_or_else(|| {
                    NetError::syscall(Code::Enotfound, "getaddrinfo", Some(&host), None)
                });
                let at = self.hop();
                self.schedule(at, Packet::Local(Completion::ServerLookup(h, id, answers)));
            }
            ServerIo::Listen {
                id,
                address,
                options,
            } => {
                let result = match address {
                    BoundAddressRequest::Tcp(addr) => {
                        // An IPv4-mapped IPv6 address is local as its IPv4 address is.
                        let ip = match addr.ip() {
                            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr.ip(), IpAddr::V4),
                            v4 => v4,
                        };
                        let is_local = ip.is_loopback()
                            || ip.is_unspecified()
                            || self.net.addresses.contains(&ip);
                        if !is_local {
                            Err(Code::Eaddrnotavail)
                        } else if addr.port() != 0 && self.net.tcp_in_use(addr, options.ipv6_only) {
                            Err(Code::Eaddrinuse)
                        } else {
                            let port = if addr.port() == 0 {
                                self.net.ephemeral_port()
                            } else {
                                addr.port()
                            };
                            let bound = SocketAddr::new(addr.ip(), port);
                            let key = ListenKey::Tcp(bound);
                            self.net.listeners.insert(
                                key.clone(),
                                Listener {
                                    server: Some(h),
                                    options: Some(options),
                                },
                            );
                            self.servers[h.0].key = Some(key);
                            Ok(BoundAddress::Tcp(bound))
                        }
                    }
                    BoundAddressRequest::Ipc(path) => {
                        let fs = self.servers[h.0].fs;
                        let key = ListenKey::Ipc(fs, path.clone());
                        if self.net.listeners.contains_key(&key) {
                            Err(Code::Eaddrinuse)
                        } else if let Err(code) = self.fs(fs).can_bind(&path) {
                            Err(code)
                        } else {
                            self.net.listeners.insert(
                                key.clone(),
                                Listener {
                                    server: Some(h),
                                    options: Some(options),
                                },
                            );
                            self.servers[h.0].key = Some(key);
                            Ok(BoundAddress::Ipc(path))
                        }
                    }
                };
                // The bind and listen syscalls answer at once, as they do for libuv.
                self.servers[h.0].server.listen_done(id, result);
            }
            ServerIo::CloseListener => {
                if let Some(key) = self.servers[h.0].key.take() {
                    self.net.listeners.remove(&key);
                }
            }
            ServerIo::Unlink { .. } => {}
            ServerIo::CloseAccepted { token } => {
                if let Some(ep) = self.servers[h.0].pending.remove(&token) {
                    let unread = !self.net.endpoints[ep].unread.is_empty();
                    self.close_endpoint(ep, unread);
                }
            }
        }
    }
}
