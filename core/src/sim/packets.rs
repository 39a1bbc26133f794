//! Packets arriving: SYN, SYN-ACK, data, FIN, RST, lookups and completions.

use super::*;

impl Sim {
    pub(super) fn deliver(&mut self, p: Packet) {
        let Some(p) = self.hold_back(p) else {
            return;
        };
        if self.packet_log.is_some() {
            self.log_packet(&p);
        }
        let now = self.now;
        match p {
            Packet::Syn {
                from,
                attempt,
                key,
                local,
            } => {
                let found = match &key {
                    ListenKey::Tcp(dest) if self.net.partitioned.contains(&dest.ip()) => return,
                    ListenKey::Tcp(dest) => self.net.find_tcp_listener(*dest),
                    ListenKey::Ipc(..) => self
                        .net
                        .listeners
                        .contains_key(&key)
                        .then(|| (key.clone(), false)),
                };
                let at = self.hop();
                // The answer (SYN-ACK or RST) crosses the link back.
                let back = match (&key, local) {
                    (ListenKey::Tcp(dest), Some(l)) => {
                        at + self.link_delay(dest.ip(), l.ip()).unwrap_or_default()
                    }
                    _ => at,
                };
                match found {
                    None => {
                        let code = match &key {
                            ListenKey::Ipc(fs, path) => self.fs(*fs).connect_error(path),
                            ListenKey::Tcp(_) => Code::Econnrefused,
                        };
                        self.schedule(
                            back,
                            Packet::Refused {
                                socket: from,
                                attempt,
                                code,
                            },
                        );
                    }
                    Some((lkey, mapped)) => {
                        let server = self.net.listeners[&lkey].server;
                        let Some(server) = server else { return }; // black hole: SYN dropped
                        let (c_local, s_local) = match (&key, local) {
                            (ListenKey::Tcp(dest), Some(l)) => {
                                let client_seen = if mapped {
                                    match l.ip() {
                                        IpAddr::V4(v4) => SocketAddr::new(
                                            IpAddr::V6(v4.to_ipv6_mapped()),
                                            l.port(),
                                        ),
                                        _ => l,
                                    }
                                } else {
                                    l
                                };
                                let server_local = if mapped {
                                    match dest.ip() {
                                        IpAddr::V4(v4) => SocketAddr::new(
                                            IpAddr::V6(v4.to_ipv6_mapped()),
                                            dest.port(),
                                        ),
                                        _ => *dest,
                                    }
                                } else {
                                    *dest
                                };
                                (Some(l), Some((server_local, client_seen)))
                            }
                            _ => (None, None),
                        };
                        let (c, s) = self.net.pair(from, c_local, s_local.map(|x| x.0));
                        if let Some((_, client_seen)) = s_local {
                            self.net.endpoints[s].remote = Some(client_seen);
                            self.net.endpoints[c].remote = match &key {
                                ListenKey::Tcp(d) => Some(*d),
                                _ => None,
                            };
                        }
                        // The server's accept completes first, as on loopback.
                        self.schedule(
                            at,
                            Packet::Accept {
                                server,
                                endpoint: s,
                            },
                        );
                        self.schedule(
                            back,
                            Packet::Connected {
                                socket: from,
                                attempt,
                                endpoint: c,
                            },
                        );
                    }
                }
            }
            Packet::Connected {
                socket,
                attempt,
                endpoint,
            } => {
                if self.sockets[socket.0].attempts.remove(&attempt.0).is_none() {
                    // Aborted meanwhile: the OS socket is closed, the peer sees FIN.
                    self.net.endpoints[endpoint].owner = None;
                    self.close_endpoint(endpoint, false);
                    return;
                }
                if self.net.endpoints[endpoint].reset {
                    // The peer reset the connection before this poll phase handled the
                    // connect: libuv reads the error with the connect's result
                    // (`SO_ERROR`), so the attempt fails.
                    let code = self.net.endpoints[endpoint].reset_code();
                    self.net.endpoints[endpoint].owner = None;
                    self.close_endpoint(endpoint, false);
                    self.sockets[socket.0]
                        .socket
                        .attempt_failed(now, attempt, code);
                    self.drain_socket(socket, false);
                    return;
                }
                self.sockets[socket.0].endpoint = Some(endpoint);
                let (local, remote) = (
                    self.net.endpoints[endpoint].local,
                    self.net.endpoints[endpoint].remote,
                );
                self.sockets[socket.0]
                    .socket
                    .attempt_connected(now, attempt, local, remote);
                self.drain_socket(socket, false);
            }
            Packet::Refused {
                socket,
                attempt,
                code,
            } => {
                if self.sockets[socket.0].attempts.remove(&attempt.0).is_some() {
                    self.sockets[socket.0]
                        .socket
                        .attempt_failed(now, attempt, code);
                    self.drain_socket(socket, false);
                }
            }
            Packet::Accept { server, endpoint } => {
                if self.net.endpoints[endpoint].closed {
                    return;
                }
                let token = self.next_token;
                self.next_token += 1;
                self.servers[server.0].pending.insert(token, endpoint);
                let (local, remote) = (
                    self.net.endpoints[endpoint].local,
                    self.net.endpoints[endpoint].remote,
                );
                self.servers[server.0].server.incoming(token, local, remote);
                self.drain_server(server, false);
            }
            Packet::Data { endpoint, data } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    if !e.reset && e.closed {
                        // Data to a closed socket: the kernel answers with RST.
                        let peer = e.peer;
                        self.send(Packet::Rst { endpoint: peer });
                    }
                    return;
                }
                let len = data.len();
                e.unread.push_back(data);
                self.data_arrived(endpoint, len);
                self.flush_endpoint(endpoint);
            }
            Packet::Fin { endpoint } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    return;
                }
                e.fin_pending = true;
                self.kernel_closed(endpoint);
                self.flush_endpoint(endpoint);
            }
            Packet::Rst { endpoint } => {
                let e = &mut self.net.endpoints[endpoint];
                if e.closed || e.reset {
                    return;
                }
                e.mark_reset();
                self.kernel_closed(endpoint);
                let e = &mut self.net.endpoints[endpoint];
                let code = e.reset_code();
                if let Some(owner) = e.owner {
                    self.sockets[owner.0].socket.read_failed(code);
                    self.drain_socket(owner, false);
                }
            }
            Packet::DelayedAck { endpoint } => self.delayed_ack(endpoint),
            Packet::Local(c) => self.complete(c),
        }
    }

    /// Logs a packet as it arrives.
    fn log_packet(&mut self, p: &Packet) {
        let ends = |sim: &Sim, ep: usize| {
            let e = &sim.net.endpoints[ep];
            match (e.remote, e.local) {
                (Some(from), Some(to)) => format!("{from} > {to}"),
                _ => format!("unix end {ep}"),
            }
        };
        let line = match p {
            Packet::Syn { key, local, .. } => match (local, key) {
                (Some(l), ListenKey::Tcp(d)) => format!("SYN {l} > {d}"),
                (_, ListenKey::Tcp(d)) => format!("SYN > {d}"),
                (_, ListenKey::Ipc(_, path)) => format!("connect {path}"),
            },
            Packet::Connected { endpoint, .. } => format!("SYN-ACK {}", ends(self, *endpoint)),
            Packet::Refused { code, .. } => format!("refused {code:?}"),
            Packet::Data { endpoint, data } => {
                format!("data {} bytes {}", data.len(), ends(self, *endpoint))
            }
            Packet::Fin { endpoint } => format!("FIN {}", ends(self, *endpoint)),
            Packet::Rst { endpoint } => format!("RST {}", ends(self, *endpoint)),
            Packet::Accept { .. } | Packet::DelayedAck { .. } | Packet::Local(_) => return,
        };
        let now = self.now;
        if let Some(log) = self.packet_log.as_mut() {
            log.push((now, line));
        }
    }

    pub(super) fn complete(&mut self, c: Completion) {
        let now = self.now;
        match c {
            Completion::WriteDone(h, id) => {
                self.sockets[h.0].socket.write_done(now, id);
                self.drain_socket(h, false);
            }
            Completion::Lookup(h, id, r) => {
                self.sockets[h.0].socket.lookup_done(now, id, r);
                self.drain_socket(h, false);
            }
            Completion::ServerLookup(h, id, r) => {
                self.servers[h.0].server.lookup_done(id, r);
                self.drain_server(h, false);
            }
        }
    }
}
