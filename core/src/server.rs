//! `net.Server` as a pure state machine: listening, admitting or refusing accepted
//! connections (maxConnections → `'drop'`, blockList → silent close), and closing once
//! every admitted socket is gone.
//!
//! The server counts the sockets it admitted; each [`Socket`] it hands out asks, when
//! destroyed, that the driver call [`Server::connection_closed`]
//! ([`SocketIo::ReleaseFromServer`](crate::socket::SocketIo::ReleaseFromServer)).

use std::net::{IpAddr, SocketAddr};

use crate::error::{Code, NetError};
use crate::ip::{self, Family};
use crate::options::{ListenOptions, ListenTarget, ServerOptions};
use crate::queue::Queue;
use crate::socket::{LookupAnswer, LookupId, Socket};

/// Where the listener is bound: an [`Address`](crate::Address) (one enum for every address of a socket
/// or server).
pub use crate::address::Address as BoundAddress;

/// The addresses of a dropped connection (`'drop'`'s argument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropInfo {
    /// The server side.
    pub local: SocketAddr,
    /// The peer.
    pub remote: SocketAddr,
}

/// A `net.Server` event, or a callback the application passed.
#[derive(Debug)]
pub enum ServerEvent {
    /// `'listening'`.
    Listening,
    /// `'connection'(socket)`: the admitted socket, with the driver's token of the
    /// accepted OS socket.
    Connection {
        /// The token given to [`Server::incoming`].
        token: u64,
        /// The new socket.
        socket: Box<Socket>,
    },
    /// `'drop'(data)`: refused because of `maxConnections` (no data for unix sockets).
    Drop(Option<DropInfo>),
    /// `'error'(err)`.
    Error(NetError),
    /// `'close'`.
    Close,
    /// The callback of `close(cb)`: `null` or `ERR_SERVER_NOT_RUNNING`.
    CloseCallback(Option<NetError>),
    /// The callback of `getConnections(cb)` ([`Server::get_connections`]): the count of
    /// admitted sockets when it was called.
    Connections(u32),
}

/// What the driver is asked to do for a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerIo {
    /// Resolve the listen host: answer with [`Server::lookup_done`] (first address).
    Lookup {
        /// The lookup.
        id: LookupId,
        /// The host.
        host: String,
    },
    /// Bind and listen: answer with [`Server::listen_done`].
    Listen {
        /// Identifies this listen.
        id: u64,
        /// Where.
        address: BoundAddressRequest,
        /// The options.
        options: ListenOptions,
    },
    /// Close the listening OS socket: new connects are refused from now on.
    CloseListener,
    /// Remove the unix socket path the server created.
    Unlink {
        /// The path.
        path: String,
    },
    /// Close an accepted OS socket the server refused (drop or blockList).
    CloseAccepted {
        /// The token given to [`Server::incoming`].
        token: u64,
    },
}

/// The address a listen binds: an [`Address`](crate::Address).
pub use crate::address::Address as BoundAddressRequest;

/// One output of a server.
#[derive(Debug)]
pub enum ServerOutput {
    /// An event for the application.
    Event(ServerEvent),
    /// An I/O request for the driver.
    Io(ServerIo),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// No handle.
    Idle,
    /// Resolving the host (no handle yet: a second listen supersedes).
    Lookup { id: LookupId, listen: ListenOptions },
    /// The driver is binding (a handle exists).
    Binding {
        id: u64,
        listen: ListenOptions,
        fallback: bool,
    },
    /// Listening.
    Listening { id: u64, address: BoundAddress },
}

#[derive(Debug)]
enum Deferred {
    /// Node's emitListeningNT.
    Listening,
    Error(NetError),
    Close,
    Listen(u64, SocketAddr, ListenOptions),
    Connections(u32),
}

/// A `net.Server`.
#[derive(Debug)]
pub struct Server {
    q: Queue<ServerOutput, Deferred>,
    cfg: ServerOptions,
    state: State,
    next_id: u64,
    connections: u32,
    /// `server.maxConnections` (`None`: undefined). Zero drops every connection, as the
    /// docs say and Node ≥ 23.9 does.
    pub max_connections: Option<u32>,
    close_callbacks: Vec<Option<NetError>>,
    pipe_path: Option<String>,
}

impl Server {
    /// The options it was created with: Node's `server.keepAlive`,
    /// `server.keepAliveInitialDelay` and `server.noDelay` among them.
    pub fn options(&self) -> &ServerOptions {
        &self.cfg
    }

    /// `net.createServer(options)`.
    pub fn new(cfg: ServerOptions) -> Server {
        Server {
            q: Queue::default(),
            cfg,
            state: State::Idle,
            next_id: 1,
            connections: 0,
            max_connections: None,
            close_callbacks: Vec::new(),
            pipe_path: None,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn io(&mut self, io: ServerIo) {
        self.q.push(ServerOutput::Io(io));
    }

    fn has_handle(&self) -> bool {
        matches!(self.state, State::Binding { .. } | State::Listening { .. })
    }

    /// `server.listen(options)`. `Err(ERR_SERVER_ALREADY_LISTEN)` once a handle exists
    /// (a second listen while the host is still being resolved supersedes the first).
    pub fn listen(&mut self, listen: ListenOptions) -> Result<(), NetError> {
        if self.has_handle() {
            return Err(NetError::new(
                Code::ErrServerAlreadyListen,
                "Listen method has been called more than once without closing.",
            ));
        }
        match &listen.target {
            ListenTarget::Ipc { path } => {
                self.pipe_path = Some(path.clone());
                self.bind(BoundAddressRequest::Ipc(path.clone()), listen, false);
            }
            ListenTarget::Tcp { host: None, port } => {
                let any6 = SocketAddr::new(IpAddr::from([0u16; 8]), *port);
                self.bind(BoundAddressRequest::Tcp(any6), listen, true);
            }
            ListenTarget::Tcp {
                host: Some(host),
                port,
            } => {
                let literal = ip::is_ip(host);
                if literal != 0 {
                    // dns.lookup answers an IP literal asynchronously too.
                    let fam = if literal == 4 { Family::V4 } else { Family::V6 };
                    let Some(ip) = ip::parse_inet(host, fam) else {
                        // `isIP` accepts it, libuv's parser does not: Node's bind fails.
                        let e = NetError::listen(Code::Einval, host, Some(*port));
                        self.q.next_tick(Deferred::Error(e));
                        return Ok(());
                    };
                    let id = LookupId(self.id());
                    let port = *port;
                    self.state = State::Lookup {
                        id,
                        listen: listen.clone(),
                    };
                    self.q
                        .next_tick(Deferred::Listen(id.0, SocketAddr::new(ip, port), listen));
                } else {
                    let id = LookupId(self.id());
                    let host = host.clone();
                    self.state = State::Lookup { id, listen };
                    self.io(ServerIo::Lookup { id, host });
                }
            }
        }
        Ok(())
    }

    fn bind(&mut self, address: BoundAddressRequest, options: ListenOptions, fallback: bool) {
        let id = self.id();
        self.state = State::Binding {
            id,
            listen: options.clone(),
            fallback,
        };
        self.io(ServerIo::Listen {
            id,
            address,
            options,
        });
    }

    /// The driver's answer to [`ServerIo::Lookup`].
    pub fn lookup_done(&mut self, id: LookupId, result: Result<Vec<LookupAnswer>, NetError>) {
        let State::Lookup {
            id: current,
            listen,
        } = &self.state
        else {
            return;
        };
        if *current != id {
            return;
        }
        let listen = listen.clone();
        let ListenTarget::Tcp { port, .. } = listen.target else {
            return;
        };
        let first = result.and_then(|a| {
            a.into_iter()
                .find_map(|a| {
                    ip::parse_inet(&a.address, Family::V4)
                        .or_else(|| ip::parse_inet(&a.address, Family::V6))
                })
                .ok_or_else(|| NetError::new(Code::Enotfound, "getaddrinfo ENOTFOUND"))
        });
        match first {
            Ok(ip) => self.bind(
                BoundAddressRequest::Tcp(SocketAddr::new(ip, port)),
                listen,
                false,
            ),
            Err(e) => {
                self.state = State::Idle;
                self.q.next_tick(Deferred::Error(e));
            }
        }
    }

    /// The driver's answer to [`ServerIo::Listen`]: the bound address, or the OS error.
    pub fn listen_done(&mut self, id: u64, result: Result<BoundAddress, Code>) {
        let State::Binding {
            id: current,
            listen,
            fallback,
        } = &self.state
        else {
            return;
        };
        if *current != id {
            return;
        }
        let (listen, fallback) = (listen.clone(), *fallback);
        match result {
            Ok(address) => {
                self.state = State::Listening { id, address };
                self.q.next_tick(Deferred::Listening);
            }
            Err(Code::Eafnosupport | Code::Eaddrnotavail) if fallback => {
                let ListenTarget::Tcp { port, .. } = listen.target else {
                    return;
                };
                let any4 = SocketAddr::new(IpAddr::from([0, 0, 0, 0]), port);
                self.bind(BoundAddressRequest::Tcp(any4), listen, false);
            }
            Err(code) => {
                self.state = State::Idle;
                let e = match &listen.target {
                    // libuv's uv_pipe_bind reports a missing folder (ENOENT) as EACCES.
                    ListenTarget::Ipc { path } => {
                        let code = if code == Code::Enoent {
                            Code::Eacces
                        } else {
                            code
                        };
                        NetError::listen(code, path, None)
                    }
                    ListenTarget::Tcp { host, port } => {
                        let shown = match host {
                            Some(h) => h.clone(),
                            None if fallback => "::".to_string(),
                            None => "0.0.0.0".to_string(),
                        };
                        NetError::listen(code, &shown, Some(*port))
                    }
                };
                self.q.next_tick(Deferred::Error(e));
            }
        }
    }

    /// A connection the OS accepted (`token` names it for the driver). The server admits it
    /// (`'connection'` with a new [`Socket`]) or refuses it (`'drop'` when at
    /// `maxConnections`; silently when the blockList denies the peer); a refused one is
    /// closed through [`ServerIo::CloseAccepted`].
    pub fn incoming(&mut self, token: u64, local: Option<SocketAddr>, remote: Option<SocketAddr>) {
        if !matches!(self.state, State::Listening { .. }) {
            self.io(ServerIo::CloseAccepted { token });
            return;
        }
        if let Some(max) = self.max_connections {
            if self.connections >= max {
                self.io(ServerIo::CloseAccepted { token });
                let info = match (local, remote) {
                    (Some(local), Some(remote)) => Some(DropInfo { local, remote }),
                    _ => None,
                };
                self.q.push(ServerOutput::Event(ServerEvent::Drop(info)));
                return;
            }
        }
        if let (Some(list), Some(peer)) = (&self.cfg.block_list, remote) {
            if list.check(peer.ip()) {
                self.io(ServerIo::CloseAccepted { token });
                return;
            }
        }
        self.connections += 1;
        let ipc = remote.is_none() && local.is_none();
        let socket = Socket::accepted(&self.cfg, local, remote, ipc);
        self.q.push(ServerOutput::Event(ServerEvent::Connection {
            token,
            socket: Box::new(socket),
        }));
    }

    /// An admitted socket was destroyed ([`SocketIo::ReleaseFromServer`](crate::socket::SocketIo::ReleaseFromServer)).
    pub fn connection_closed(&mut self) {
        self.connections = self.connections.saturating_sub(1);
        self.emit_close_if_drained();
    }

    fn emit_close_if_drained(&mut self) {
        if !self.has_handle()
            && self.connections == 0
            && !matches!(self.state, State::Lookup { .. })
        {
            self.q.next_tick(Deferred::Close);
        }
    }

    /// A driver's handle on this server is gone: a listening server closes (its
    /// admitted sockets live on), one that is not listening yet gives up its listen.
    pub fn handle_dropped(&mut self) {
        if self.listening() {
            self.close();
        } else {
            self.abort();
        }
    }

    /// `server.close(cb)`: stop accepting now; `'close'` once every admitted socket is
    /// gone. The callback gets `ERR_SERVER_NOT_RUNNING` when the server was not listening
    /// (and `'close'` is still emitted, each time, as in Node).
    pub fn close(&mut self) {
        let running = self.has_handle();
        self.close_callbacks
            .push((!running).then(NetError::server_not_running));
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Listening { .. } | State::Binding { .. } => {
                self.io(ServerIo::CloseListener);
                if let Some(path) = self.pipe_path.clone() {
                    if !path.starts_with('\0') {
                        self.io(ServerIo::Unlink { path });
                    }
                }
            }
            State::Lookup { .. } | State::Idle => {}
        }
        self.emit_close_if_drained();
    }

    /// Accepting a connection failed and the driver could not shed the queue (libuv, out
    /// of descriptors, accepts and closes the queued connections with a spare one; only
    /// without it does Node hear of the failure): `'error'` with syscall `accept`
    /// (`accept EMFILE`), as Node's `onconnection`. The server keeps listening.
    pub fn accept_failed(&mut self, code: Code) {
        if !self.listening() {
            return;
        }
        let e = NetError::syscall(code, "accept", None, None);
        self.q.push(ServerOutput::Event(ServerEvent::Error(e)));
    }

    /// The server's `AbortSignal` aborted: `close()`.
    pub fn abort(&mut self) {
        if self.has_handle() || matches!(self.state, State::Lookup { .. }) {
            self.state = State::Idle;
            self.io(ServerIo::CloseListener);
            self.emit_close_if_drained();
        }
    }

    /// `server.listening`.
    pub fn listening(&self) -> bool {
        matches!(self.state, State::Listening { .. })
    }

    /// `server.address()`: the bound address while listening; a unix path stays readable
    /// after close, as in Node.
    pub fn address(&self) -> Option<BoundAddress> {
        match &self.state {
            State::Listening { address, .. } => Some(address.clone()),
            _ => self.pipe_path.clone().map(BoundAddress::Ipc),
        }
    }

    /// The count `server.getConnections()` reports: admitted sockets not yet destroyed.
    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// `server.getConnections(cb)`: Node reads the count now and calls back on the next
    /// tick, so [`ServerEvent::Connections`] comes after the deferred work already waiting
    /// (a `'close'`, a `'listening'`) and before what is deferred after this call.
    pub fn get_connections(&mut self) {
        self.q.next_tick(Deferred::Connections(self.connections));
    }

    /// The next output already emitted, without running deferred work.
    pub fn poll_emitted(&mut self) -> Option<ServerOutput> {
        self.q.pop()
    }

    /// Whether nothing at all is pending (no output, no deferred work).
    pub fn is_idle(&self) -> bool {
        self.q.is_idle()
    }

    /// Whether the server will emit no more events until the application calls it again:
    /// not listening and nothing pending. A handle's wait for an event (or for a
    /// connection) that finds none then ends empty.
    pub fn emits_no_more(&self) -> bool {
        !self.listening() && self.is_idle()
    }

    /// The next output; deferred work (Node's ticks) runs when nothing synchronous is left.
    pub fn poll_output(&mut self) -> Option<ServerOutput> {
        loop {
            if let Some(o) = self.q.pop() {
                return Some(o);
            }
            match self.q.pop_deferred()? {
                Deferred::Listening => {
                    // Node's emitListeningNT only checks that the server has a handle:
                    // after listen(), close(), listen() in one turn, the first one's tick
                    // finds the second's handle and emits too.
                    if matches!(self.state, State::Listening { .. }) {
                        self.q.push(ServerOutput::Event(ServerEvent::Listening));
                    }
                }
                Deferred::Error(e) => self.q.push(ServerOutput::Event(ServerEvent::Error(e))),
                Deferred::Close => {
                    self.q.push(ServerOutput::Event(ServerEvent::Close));
                    for cb in std::mem::take(&mut self.close_callbacks) {
                        self.q
                            .push(ServerOutput::Event(ServerEvent::CloseCallback(cb)));
                    }
                }
                Deferred::Listen(id, addr, listen) => {
                    if matches!(&self.state, State::Lookup { id: cur, .. } if cur.0 == id) {
                        self.bind(BoundAddressRequest::Tcp(addr), listen, false);
                    }
                }
                Deferred::Connections(n) => {
                    self.q
                        .push(ServerOutput::Event(ServerEvent::Connections(n)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
