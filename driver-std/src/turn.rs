//! JavaScript's turns: what an application thread's calls and the events it took hold
//! (their deferred work waits) until that thread waits on anything, and releasing it.

use crate::event_loop::Loop;

impl Loop {
    /// The calling thread's turn now includes socket `i` (it made a call on it or took
    /// one of its events): its deferred work waits until that thread waits on something.
    pub(crate) fn hold(&mut self, i: usize) {
        self.floor_at(i);
        let e = &mut self.sockets[i];
        if !e.held {
            e.held = true;
            let gen = e.gen;
            self.record_hold(i, gen);
        }
    }

    /// The calling thread's turn holds handle `key` of generation `gen`.
    pub(crate) fn record_hold(&mut self, key: usize, gen: u64) {
        self.holds
            .entry(std::thread::current().id())
            .or_default()
            .push((key, gen));
    }

    /// Every thread's turn ends at once (a manual runtime's turn): what they held.
    pub(crate) fn holds_drain(&mut self) -> Vec<(usize, u64)> {
        self.holds.drain().flat_map(|(_, held)| held).collect()
    }

    /// What the threads' current turns hold (sockets by index, servers by
    /// `usize::MAX - index`, with their generation).
    pub(crate) fn holds_keys(&self) -> std::collections::HashSet<(usize, u64)> {
        self.holds.values().flatten().copied().collect()
    }

    /// [`Loop::hold`] for server `i`.
    pub(crate) fn hold_server(&mut self, i: usize) {
        let s = &mut self.servers[i];
        if !s.held {
            s.held = true;
            let gen = s.gen;
            self.record_hold(usize::MAX - i, gen);
        }
    }

    /// The calling thread waits: its turn is over, so what it held may run (Node's next
    /// tick comes once the current JavaScript returns, whatever it waits on next).
    pub(crate) fn end_turn(&mut self) {
        let Some(held) = self.holds.remove(&std::thread::current().id()) else {
            return;
        };
        for (k, gen) in held {
            self.release_key(k, gen);
        }
    }

    /// Releases what a turn held: socket `k`, or server `usize::MAX - k`, if still the
    /// one of generation `gen`.
    pub(crate) fn release_key(&mut self, k: usize, gen: u64) {
        if k > usize::MAX / 2 {
            if let Some(s) = self
                .servers
                .get_mut(usize::MAX - k)
                .filter(|s| s.gen == gen)
            {
                s.held = false;
                self.srv_active.insert(usize::MAX - k);
            }
        } else if self.sockets.get(k).is_some_and(|e| e.gen == gen && e.held) {
            self.release(k);
        }
    }

    /// Whether sockets admitted held are listed in [`Loop::admitted`]: in a manual
    /// runtime, whose turns release every handle. Elsewhere an admitted socket waits for
    /// its own first wait, or (one thread serving every handle) for the next wait of the
    /// thread that took its `'connection'` ([`Loop::took_admitted`]).
    pub(crate) fn keeps_admitted(&self) -> bool {
        self.manual && !self.serves_all
    }

    /// Releases the sockets admitted held that no turn recorded ([`Loop::admitted`]).
    pub(crate) fn release_admitted(&mut self) {
        for (i, gen) in std::mem::take(&mut self.admitted) {
            self.release_key(i, gen);
        }
    }

    /// The application waits on every handle (a manual runtime's turn): what every
    /// thread's turn holds, and the sockets admitted since, are released.
    pub(crate) fn release_all(&mut self) {
        self.end_turn();
        for (k, gen) in self.holds_drain() {
            self.release_key(k, gen);
        }
        self.release_admitted();
    }

    /// The application waits on socket `i`: its deferred work may run, and reading
    /// resumes if it had stopped for the application.
    pub(crate) fn release(&mut self, i: usize) {
        self.floor_at(i);
        self.sockets[i].held = false;
        self.may_read_again(i);
        self.active.insert(i);
    }
}
