//! An echo server on one thread: `echo-loop [--host H] [--port P]` (defaults 127.0.0.1
//! and 0).
//!
//! Prints `listening on HOST:PORT` (the bound address) as its first line, then serves
//! every connection from the main thread, as Node's one JavaScript thread would
//! (`net.createServer(s => s.pipe(s))`): [`Runtime::wait_events`] says which handles have
//! events, and each event gets a listener's reaction. Writes back every `'data'`,
//! pauses the socket while `write()` asks to wait for `'drain'`, ends the connection at
//! its `'end'`, forgets it at its `'close'`; until killed.

mod common;

use std::collections::HashMap;

use sansnet_std::{
    HandleId, ListenOptions, Runtime, Server, ServerEvent, ServerSettings, Socket, SocketEvent,
};

fn main() {
    let (host, port) = common::host_and_port("echo-loop");
    // A runtime of its own, run only by this thread: no other thread to wake or to share
    // the loop's lock with.
    let rt = Runtime::manual().unwrap_or_else(|e| common::fail(&e));
    let server = Server::with_settings(ServerSettings {
        runtime: Some(rt.clone()),
        ..ServerSettings::default()
    });
    let bound = server
        .listen(ListenOptions::tcp(Some(host), port))
        .unwrap_or_else(|e| common::fail(&e));
    common::say_listening(&bound);

    let server_id = server.id();
    let mut sockets: HashMap<HandleId, Socket> = HashMap::new();
    let mut ready = Vec::new();
    loop {
        ready.clear();
        rt.wait_events(&mut ready, None);
        for &id in &ready {
            if id == server_id {
                while let Some(event) = server.try_next_event() {
                    match event {
                        ServerEvent::Connection(socket) => {
                            sockets.insert(socket.id(), socket);
                        }
                        ServerEvent::Error(e) => common::fail(&e),
                        _ => {}
                    }
                }
            } else if let Some(socket) = sockets.get(&id) {
                if !echo(socket) {
                    // 'close': nothing more will come; dropping the handle forgets it.
                    sockets.remove(&id);
                }
            }
        }
    }
}

/// Reacts to every event waiting on `socket`, as its listeners would; false at `'close'`.
fn echo(socket: &Socket) -> bool {
    while let Some(event) = socket.try_next_event() {
        match event {
            SocketEvent::Data(bytes) => {
                let flowing = socket.write(bytes).ok;
                if !flowing {
                    // The peer reads slower than it writes: wait for 'drain'.
                    socket.pause();
                }
            }
            SocketEvent::Drain => socket.resume(),
            SocketEvent::End => {
                socket.end(None);
            }
            SocketEvent::Close(_) => return false,
            _ => {}
        }
    }
    true
}
