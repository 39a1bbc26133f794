//! The canonical trace: actors in creation order, their lines, `data` merging, variables
//! written back for ports and paths.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The event a trace line counts as: its first word, or `call NAME` for a callback line.
pub fn event_of(line: &str) -> &str {
    let mut words = line.splitn(3, ' ');
    let first = words.next().unwrap_or("");
    match (first, words.next()) {
        ("call", Some(name)) => &line[..first.len() + 1 + name.len()],
        _ => first,
    }
}

/// FNV-1a, 32 bits.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The `data` line for received bytes.
pub fn data_line(bytes: &[u8]) -> String {
    let printable = bytes.iter().all(|b| (0x20..0x7f).contains(b));
    if bytes.len() <= 64 && printable {
        format!(
            "data {} {}",
            bytes.len(),
            Json::String(String::from_utf8_lossy(bytes).into_owned())
        )
    } else {
        format!("data {} fnv1a:{:08x}", bytes.len(), fnv1a(bytes))
    }
}

#[derive(Debug, Default)]
struct Actor {
    lines: Vec<String>,
    /// Bytes of consecutive 'data' events not yet written as a line.
    data: Vec<u8>,
    counts: BTreeMap<String, usize>,
    received: usize,
}

/// Every actor's observations.
#[derive(Debug, Default)]
pub struct Trace {
    order: Vec<String>,
    actors: BTreeMap<String, Actor>,
    /// Port and path values bound to variables (`$srv.port`), written back in lines.
    vars: Vec<(String, String)>,
    /// Fresh `$tmp` paths handed out.
    tmp: Vec<String>,
}

impl Trace {
    /// Creates an actor (idempotent); actors print in creation order.
    pub fn actor(&mut self, name: &str) {
        if !self.actors.contains_key(name) {
            self.order.push(name.to_string());
            self.actors.insert(name.to_string(), Actor::default());
        }
    }

    /// Whether the actor exists.
    pub fn has(&self, name: &str) -> bool {
        self.actors.contains_key(name)
    }

    fn flush_data(a: &mut Actor) {
        if !a.data.is_empty() {
            let line = data_line(&a.data);
            a.lines.push(line);
            a.data.clear();
        }
    }

    /// Ends the actor's pending merged `data` line, if any.
    pub fn flush(&mut self, actor: &str) {
        if let Some(a) = self.actors.get_mut(actor) {
            Self::flush_data(a);
        }
    }

    /// Records a line (and counts the event named by its first word, or by its first two
    /// words for a `call NAME` line).
    pub fn line(&mut self, actor: &str, line: impl Into<String>) {
        self.actor(actor);
        let a = self.actors.get_mut(actor).expect("actor exists");
        Self::flush_data(a);
        let line = line.into();
        let event = event_of(&line).to_string();
        *a.counts.entry(event).or_default() += 1;
        a.lines.push(line);
    }

    /// Records received bytes (merged with the data received just before).
    pub fn data(&mut self, actor: &str, bytes: &[u8]) {
        self.actor(actor);
        let a = self.actors.get_mut(actor).expect("actor exists");
        a.data.extend_from_slice(bytes);
        a.received += bytes.len();
        *a.counts.entry("data".into()).or_default() += 1;
    }

    /// How many times the actor observed `event`.
    pub fn count(&self, actor: &str, event: &str) -> usize {
        self.actors
            .get(actor)
            .and_then(|a| a.counts.get(event).copied())
            .unwrap_or(0)
    }

    /// Every event count and the byte count of an actor, as of now.
    pub fn tally(&self, actor: &str) -> (BTreeMap<String, usize>, usize) {
        self.actors
            .get(actor)
            .map_or_else(Default::default, |a| (a.counts.clone(), a.received))
    }

    /// Bytes the actor received.
    pub fn received(&self, actor: &str) -> usize {
        self.actors.get(actor).map_or(0, |a| a.received)
    }

    /// Binds a variable (`$srv.port` → `"40123"`).
    pub fn bind(&mut self, var: String, value: String) {
        if let Some(slot) = self.vars.iter_mut().find(|(v, _)| *v == var) {
            slot.1 = value;
        } else {
            self.vars.push((var, value));
        }
    }

    /// The value of a variable.
    pub fn var(&self, var: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(v, _)| v == var)
            .map(|(_, x)| x.as_str())
    }

    /// A port as a trace shows it: its variable if bound, else `*` (an ephemeral port).
    pub fn port(&self, port: u16) -> String {
        let p = port.to_string();
        self.vars
            .iter()
            .find(|(v, x)| *x == p && v.ends_with(".port"))
            .map_or_else(|| "*".to_string(), |(v, _)| v.clone())
    }

    /// A destination port in an event line: its variable if bound, else the number.
    pub fn port_or_number(&self, port: u16) -> String {
        let p = port.to_string();
        self.vars
            .iter()
            .find(|(v, x)| *x == p && v.ends_with(".port"))
            .map_or(p, |(v, _)| v.clone())
    }

    /// A path as a trace shows it: its variable if bound (the first bound one when two
    /// hold it), `$tmp` for a fresh path never bound.
    pub fn path(&self, path: &str) -> String {
        self.vars
            .iter()
            .find(|(v, x)| x == path && v.ends_with(".path"))
            .map_or_else(
                || {
                    if self.tmp.iter().any(|t| t == path) {
                        "$tmp".to_string()
                    } else {
                        path.to_string()
                    }
                },
                |(v, _)| v.clone(),
            )
    }

    /// Remembers a fresh `$tmp` path.
    pub fn tmp_path(&mut self, path: &str) {
        self.tmp.push(path.to_string());
    }

    /// An error message as a trace shows it: bound ports and paths (and fresh paths never
    /// bound) written as their variables.
    pub fn message(&self, message: &str) -> String {
        let mut out = message.to_string();
        let mut paths: Vec<&str> = self
            .vars
            .iter()
            .filter(|(v, _)| v.ends_with(".path"))
            .map(|(_, x)| x.as_str())
            .chain(self.tmp.iter().map(String::as_str))
            .collect();
        paths.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in paths {
            if !p.is_empty() && out.contains(p) {
                out = out.replace(p, &self.path(p));
            }
        }
        for (v, x) in self.vars.iter().filter(|(v, _)| v.ends_with(".port")) {
            let pat = format!(":{x}");
            let mut rebuilt = String::new();
            let mut rest = out.as_str();
            while let Some(i) = rest.find(&pat) {
                let after = &rest[i + pat.len()..];
                rebuilt.push_str(&rest[..i]);
                if after.starts_with(|c: char| c.is_ascii_digit()) {
                    rebuilt.push_str(&pat);
                } else {
                    rebuilt.push(':');
                    rebuilt.push_str(v);
                }
                rest = after;
            }
            rebuilt.push_str(rest);
            out = rebuilt;
        }
        out
    }

    /// The canonical JSON text.
    pub fn render(mut self, name: &str) -> String {
        let mut traces = serde_json::Map::new();
        for actor in &self.order {
            let a = self.actors.get_mut(actor).expect("actor exists");
            Self::flush_data(a);
            traces.insert(actor.clone(), Json::from(a.lines.clone()));
        }
        let mut out = serde_json::Map::new();
        out.insert("name".into(), Json::from(name));
        out.insert("traces".into(), Json::Object(traces));
        pretty(&Json::Object(out))
    }
}

/// `JSON.stringify(v, null, 1)`.
pub fn pretty(v: &Json) -> String {
    let mut out = String::new();
    write_pretty(v, 0, &mut out);
    out
}

fn write_pretty(v: &Json, depth: usize, out: &mut String) {
    let pad = |d: usize| " ".repeat(d);
    match v {
        Json::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Json::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (k, item)) in map.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&Json::String(k.clone()).to_string());
                out.push_str(": ");
                write_pretty(item, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_lines() {
        assert_eq!(data_line(b"hello"), "data 5 \"hello\"");
        assert_eq!(
            data_line(&[0u8]),
            format!("data 1 fnv1a:{:08x}", fnv1a(&[0]))
        );
        assert_eq!(fnv1a(b""), 0x811c9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c292c);
    }

    #[test]
    fn consecutive_data_merges() {
        let mut t = Trace::default();
        t.data("c", b"ab");
        t.data("c", b"cd");
        t.line("c", "end");
        t.data("c", b"x");
        let out = t.render("n");
        assert!(
            out.contains("\"data 4 \\\"abcd\\\"\",\n   \"end\",\n   \"data 1 \\\"x\\\"\""),
            "{out}"
        );
    }
}
