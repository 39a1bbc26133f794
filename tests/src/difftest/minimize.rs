//! Delta debugging of a scenario's step list: drop chunks, then single steps, as long as
//! the failure stays. Dropping the `connect` of an actor drops every step on that actor
//! too, so candidates stay valid scenarios; the server's setup is never dropped.

use std::collections::BTreeSet;

use serde_json::Value as Json;

/// The actor a step is about (`do`'s actor, a wait's actor, a snapshot's actor).
fn actor_of(step: &Json) -> Option<&str> {
    if let Some(a) = step.get("actor").and_then(Json::as_str) {
        return Some(a);
    }
    if let Some(w) = step.get("wait").and_then(Json::as_str) {
        return w.rsplit_once(':').map(|(a, _)| a);
    }
    step.get("snapshot").and_then(Json::as_str)
}

/// How many leading steps set the server up (up to its 'listening'): never dropped.
pub fn setup_len(steps: &[Json]) -> usize {
    steps
        .iter()
        .position(|s| {
            s.get("wait")
                .and_then(Json::as_str)
                .is_some_and(|w| w.ends_with(":listening"))
        })
        .map_or(0, |i| i + 1)
}

/// Something that may hold a step (the minimizer simplifies those).
pub trait HasStep {
    /// The step, if any.
    fn step(&self) -> Option<&Json>;
    /// The step, to change.
    fn step_mut(&mut self) -> Option<&mut Json>;
}

impl HasStep for Json {
    fn step(&self) -> Option<&Json> {
        Some(self)
    }

    fn step_mut(&mut self) -> Option<&mut Json> {
        Some(self)
    }
}

/// Adds to `drop` every step on an actor whose creating `connect` is dropped.
pub fn with_dependents(steps: &[Json], drop: &mut BTreeSet<usize>) {
    let gone: BTreeSet<&str> = drop
        .iter()
        .filter(|&&i| steps[i].get("do").and_then(Json::as_str) == Some("connect"))
        .filter_map(|&i| actor_of(&steps[i]))
        .collect();
    for (i, s) in steps.iter().enumerate() {
        if actor_of(s).is_some_and(|a| gone.contains(a)) {
            drop.insert(i);
        }
    }
}

/// Delta debugging: the smallest list found for which `fails` holds (it holds for
/// `items`), trying at most `budget` candidates. Only items with `droppable(index)` are
/// dropped, each with what `deps` adds.
pub fn ddmin_with<T: Clone>(
    items: &[T],
    droppable: impl Fn(usize) -> bool,
    deps: impl Fn(&[T], &mut BTreeSet<usize>),
    budget: usize,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Vec<T> {
    let mut keep: Vec<usize> = (0..items.len()).collect();
    let mut tries = 0;
    let mut gran = 2usize;
    let candidate = |keep: &[usize], remove: &[usize]| -> Vec<usize> {
        let mut drop: BTreeSet<usize> = remove.iter().copied().collect();
        deps(items, &mut drop);
        keep.iter().copied().filter(|i| !drop.contains(i)).collect()
    };
    loop {
        let units: Vec<usize> = keep.iter().copied().filter(|&i| droppable(i)).collect();
        if units.is_empty() || tries >= budget {
            break;
        }
        let gran_now = gran.min(units.len());
        let chunk = units.len().div_ceil(gran_now);
        let mut reduced = false;
        for part in units.chunks(chunk) {
            if tries >= budget {
                break;
            }
            let next = candidate(&keep, part);
            if next.len() == keep.len() {
                continue;
            }
            tries += 1;
            let list: Vec<T> = next.iter().map(|&i| items[i].clone()).collect();
            if fails(&list) {
                keep = next;
                gran = gran.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if gran_now >= units.len() {
                break;
            }
            gran = (gran * 2).min(units.len());
        }
    }
    keep.into_iter().map(|i| items[i].clone()).collect()
}

/// [`ddmin_with`] on plain steps: the server's setup stays, dropping a `connect` drops
/// the steps of its actor.
pub fn ddmin(steps: &[Json], budget: usize, fails: impl FnMut(&[Json]) -> bool) -> Vec<Json> {
    let fixed = setup_len(steps);
    ddmin_with(steps, |i| i >= fixed, with_dependents, budget, fails)
}

/// The optional parts of a step: keys of its options (not where it connects or listens)
/// and its flags.
fn optional_keys(step: &Json) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    if let Some(o) = step.get("options").and_then(Json::as_object) {
        for k in o.keys() {
            if !["host", "port", "path"].contains(&k.as_str()) {
                out.push((true, k.clone()));
            }
        }
    }
    for k in ["callback", "record", "error"] {
        if step.get(k).is_some() {
            out.push((false, k.to_string()));
        }
    }
    if step["do"] == "end" {
        for k in ["data", "bytes"] {
            if step.get(k).is_some() {
                out.push((false, k.to_string()));
            }
        }
    }
    out
}

/// Drops the optional parts of steps (an option, a callback, the data of an `end`) one at
/// a time, as long as `fails` holds; at most `budget` candidates.
pub fn simplify<T: Clone + HasStep>(
    items: &[T],
    budget: usize,
    mut fails: impl FnMut(&[T]) -> bool,
) -> Vec<T> {
    let mut cur = items.to_vec();
    let mut tries = 0;
    for i in 0..cur.len() {
        let keys = cur[i].step().map(optional_keys).unwrap_or_default();
        for (in_options, key) in keys {
            if tries >= budget {
                return cur;
            }
            let mut cand = cur.clone();
            if let Some(step) = cand[i].step_mut() {
                let obj = if in_options {
                    step.get_mut("options").and_then(Json::as_object_mut)
                } else {
                    step.as_object_mut()
                };
                if let Some(o) = obj {
                    o.remove(&key);
                }
            }
            tries += 1;
            if fails(&cand) {
                cur = cand;
            }
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_one_step_that_matters() {
        let mut steps = vec![
            json!({"do": "createServer", "actor": "srv"}),
            json!({"wait": "srv:listening"}),
        ];
        for i in 0..20 {
            steps.push(json!({"do": "write", "actor": "c1", "data": i.to_string()}));
        }
        let min = ddmin(&steps, 200, |s| {
            s.iter()
                .any(|x| x.get("data").and_then(Json::as_str) == Some("13"))
        });
        assert_eq!(min.len(), 3);
        assert_eq!(min[2]["data"], "13");
    }

    #[test]
    fn dropping_a_connect_drops_its_actor() {
        let steps = vec![
            json!({"wait": "srv:listening"}),
            json!({"do": "connect", "actor": "c1"}),
            json!({"do": "write", "actor": "c1"}),
            json!({"wait": "c1:close"}),
            json!({"do": "close", "actor": "srv"}),
        ];
        let min = ddmin(&steps, 50, |s| s.iter().any(|x| x["do"] == "close"));
        assert_eq!(min.len(), 2);
    }

    #[test]
    fn options_and_flags_go_when_they_do_not_matter() {
        let steps = vec![
            json!({"do": "connect", "actor": "c1", "options": {"port": 1, "noDelay": true, "allowHalfOpen": true}}),
            json!({"do": "write", "actor": "c1", "data": "x", "callback": true}),
        ];
        let min = simplify(&steps, 50, |s| {
            s[0]["options"].get("allowHalfOpen").is_some()
        });
        assert_eq!(
            min[0],
            json!({"do": "connect", "actor": "c1", "options": {"port": 1, "allowHalfOpen": true}})
        );
        assert_eq!(min[1], json!({"do": "write", "actor": "c1", "data": "x"}));
    }
}
