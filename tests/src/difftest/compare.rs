//! Trace comparison as the conformance tests do it: per actor, line by line; the order of
//! the actors is not part of the contract.

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// One actor whose lines differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorDiff {
    /// The actor.
    pub actor: String,
    /// Node's lines (empty when Node has no such actor).
    pub want: Vec<String>,
    /// The driver's lines (empty when the driver has no such actor).
    pub got: Vec<String>,
}

impl ActorDiff {
    /// The first line where the two differ.
    pub fn first_difference(&self) -> usize {
        self.want
            .iter()
            .zip(&self.got)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// The `traces` object of a runner's output, if it is one.
pub fn traces(text: &str) -> Option<Json> {
    let j: Json = serde_json::from_str(text).ok()?;
    let t = j.get("traces")?;
    t.is_object().then(|| t.clone())
}

fn lines(j: Option<&Json>) -> Vec<String> {
    j.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_string))
        .collect()
}

/// The actors whose lines differ, by actor name.
pub fn diff(want: &Json, got: &Json) -> Vec<ActorDiff> {
    let empty = serde_json::Map::new();
    let w = want.as_object().unwrap_or(&empty);
    let g = got.as_object().unwrap_or(&empty);
    let actors: BTreeSet<&String> = w.keys().chain(g.keys()).collect();
    actors
        .into_iter()
        .filter(|a| w.get(*a) != g.get(*a))
        .map(|a| ActorDiff {
            actor: a.clone(),
            want: lines(w.get(a)),
            got: lines(g.get(a)),
        })
        .collect()
}

/// Whether two `traces` objects are the same per actor.
pub fn same(a: &Json, b: &Json) -> bool {
    diff(a, b).is_empty()
}

/// The kind of an actor: `client`, `accepted` or `server` (names differ between
/// scenarios, roles do not).
fn role(actor: &str) -> &'static str {
    if actor.contains('#') {
        "accepted"
    } else if actor.starts_with('c') {
        "client"
    } else {
        "server"
    }
}

fn first_word(line: Option<&String>) -> &str {
    line.map_or("<none>", |l| l.split(' ').next().unwrap_or(""))
}

/// A short name for a mismatch, to tell kinds apart: the role of the first differing actor
/// and the first word of both lines where they part.
pub fn signature(diffs: &[ActorDiff]) -> String {
    let Some(d) = diffs.first() else {
        return "same".into();
    };
    let i = d.first_difference();
    format!(
        "{}: {} / {}",
        role(&d.actor),
        first_word(d.want.get(i)),
        first_word(d.got.get(i))
    )
}

/// The differences for a person: where each actor parts, with a line of context before;
/// `full`: every line of both.
pub fn describe(diffs: &[ActorDiff], driver: &str, full: bool) -> String {
    let mut out = String::new();
    for d in diffs {
        if full {
            out.push_str(&format!("  actor {}:\n", d.actor));
            out.push_str(&format!("    node:   {}\n", d.want.join(" | ")));
            out.push_str(&format!("    {driver:<7} {}\n", d.got.join(" | ")));
            continue;
        }
        let i = d.first_difference();
        let show = |v: &[String]| {
            let from = i.saturating_sub(1);
            let to = (i + 2).min(v.len());
            if from >= to {
                "(end)".to_string()
            } else {
                v[from..to].join(" | ")
            }
        };
        out.push_str(&format!(
            "  actor {} from line {}:\n    node:   {}\n    {driver:<7} {}\n",
            d.actor,
            i.saturating_sub(1) + 1,
            show(&d.want),
            show(&d.got)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actor_order_does_not_matter() {
        let a = json!({"x": ["a"], "y": ["b"]});
        let b = json!({"y": ["b"], "x": ["a"]});
        assert!(same(&a, &b));
        let c = json!({"y": ["b"], "x": ["a", "c"]});
        let d = diff(&a, &c);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].first_difference(), 1);
        assert_eq!(signature(&d), "server: <none> / c");
    }
}
