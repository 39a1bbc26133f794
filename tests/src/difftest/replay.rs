//! A generated scenario as its operations, without its waits: [`parse`] takes the steps
//! apart into [`Item`]s, [`build`] puts items back together through the [`Model`], which
//! derives the waits again. The minimizer drops items, not steps, so every candidate is
//! as free of timing races as a generated scenario (a dropped `wait` would let a real
//! driver's timing decide what a candidate shows). Accepted sockets are named by their
//! client in items (`srv#@c2`), since dropping a client renumbers the server's sockets.

use serde_json::{json, Value as Json};

use super::minimize::HasStep;
use super::model::{wait_step, Model, Timer, SRV, WAIT_TIMEOUT};
use super::ops::{Data, Op};

/// One piece of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A step of the server's setup, kept as it is.
    Setup(Json),
    /// A `connect` step (a new client).
    Connect(Json),
    /// An operation or a snapshot (accepted sockets named `srv#@CLIENT`).
    Op(Json),
    /// The server's side of the connects so far (its wait for 'connection' or 'drop').
    Accept,
    /// The end of a round: the model's waits.
    Settle,
    /// A [`Timer`] on a socket.
    Timer(String, Timer),
    /// The end: the server closes, and the scenario waits for it.
    Tail,
}

impl Item {
    /// The client an item belongs to, when it does (dropping that client's `connect`
    /// drops it too).
    pub fn client(&self) -> Option<String> {
        let actor = match self {
            Item::Connect(s) | Item::Op(s) => s
                .get("actor")
                .or_else(|| s.get("snapshot"))
                .and_then(Json::as_str)?,
            Item::Timer(a, _) => a.as_str(),
            _ => return None,
        };
        let client = actor.strip_prefix("srv#@").unwrap_or(actor);
        (client != SRV).then(|| client.to_string())
    }

    /// Whether the minimizer may drop it.
    pub fn droppable(&self) -> bool {
        !matches!(self, Item::Setup(_) | Item::Accept | Item::Tail)
    }
}

impl HasStep for Item {
    fn step(&self) -> Option<&Json> {
        match self {
            Item::Connect(s) | Item::Op(s) => Some(s),
            _ => None,
        }
    }

    fn step_mut(&mut self) -> Option<&mut Json> {
        match self {
            Item::Connect(s) | Item::Op(s) => Some(s),
            _ => None,
        }
    }
}

/// Adds to `drop` every item of a client whose `connect` is dropped.
pub fn with_dependents(items: &[Item], drop: &mut std::collections::BTreeSet<usize>) {
    let gone: Vec<String> = drop
        .iter()
        .filter(|&&i| matches!(items[i], Item::Connect(_)))
        .filter_map(|&i| items[i].client())
        .collect();
    for (i, it) in items.iter().enumerate() {
        if it.client().is_some_and(|c| gone.contains(&c)) {
            drop.insert(i);
        }
    }
}

fn actor_of(step: &Json) -> Option<&str> {
    step.get("actor")
        .or_else(|| step.get("snapshot"))
        .and_then(Json::as_str)
}

fn wait_of(step: &Json) -> Option<(&str, &str)> {
    step.get("wait").and_then(Json::as_str)?.rsplit_once(':')
}

/// The server's setup step, read into the model.
fn configure(m: &mut Model, step: &Json) {
    match step.get("do").and_then(Json::as_str) {
        Some("createServer") => {
            let o = &step["options"];
            m.srv_half_open = o["allowHalfOpen"] == true;
            m.pause_on_connect = o["pauseOnConnect"] == true;
        }
        Some("set") if step["prop"] == "maxConnections" => {
            m.max_conn = step["value"].as_u64().map(|v| v as u32);
        }
        Some("listen") => m.unix = step["options"].get("path").is_some(),
        _ => {}
    }
}

fn index_of(m: &Model, name: &str) -> Option<usize> {
    m.socks.iter().position(|s| s.is_actor() && s.name == name)
}

/// Real name → item name (`srv#3` → `srv#@c2`).
fn to_item_name(m: &Model, name: &str) -> Option<String> {
    if !name.starts_with("srv#") {
        return Some(name.to_string());
    }
    let s = &m.socks[index_of(m, name)?];
    Some(format!("srv#@{}", m.socks[s.peer?].name))
}

/// Item name → the socket's index.
fn resolve(m: &Model, name: &str) -> Option<usize> {
    match name.strip_prefix("srv#@") {
        Some(client) => {
            let c = index_of(m, client)?;
            let p = m.socks[c].peer?;
            m.socks[p].exists.then_some(p)
        }
        None => index_of(m, name),
    }
}

fn strings(j: &Json) -> Vec<String> {
    j.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

fn data_of(step: &Json) -> Option<Data> {
    if let Some(t) = step.get("data").and_then(Json::as_str) {
        return Some(Data::Text(t.to_string()));
    }
    step.get("bytes").and_then(Json::as_u64).map(Data::Bytes)
}

/// A step as the model's operation.
fn to_op(m: &Model, step: &Json) -> Option<Op> {
    if let Some(a) = step.get("snapshot").and_then(Json::as_str) {
        let props = strings(&step["props"]);
        if a == SRV {
            return Some(Op::ServerSnapshot(props));
        }
        return Some(Op::Snapshot {
            a: resolve(m, a)?,
            props,
        });
    }
    let op = step.get("do").and_then(Json::as_str)?;
    let actor = step.get("actor").and_then(Json::as_str)?;
    if actor == SRV {
        return match op {
            "getConnections" => Some(Op::GetConnections),
            "close" => Some(Op::ServerClose),
            _ => None,
        };
    }
    let a = resolve(m, actor)?;
    let flag = |k: &str| step.get(k) == Some(&json!(true));
    Some(match op {
        "write" => Op::Write {
            a,
            data: data_of(step)?,
            cb: flag("callback"),
            ret: step.get("record") == Some(&json!("return")),
        },
        "end" => Op::End {
            a,
            data: data_of(step),
            cb: flag("callback"),
        },
        "destroy" => Op::Destroy {
            a,
            error: step.get("error").and_then(Json::as_str).map(str::to_string),
        },
        "destroySoon" => Op::DestroySoon(a),
        "resetAndDestroy" => Op::Reset(a),
        "pause" => Op::Pause(a),
        "resume" => Op::Resume(a),
        "setNoDelay" => Op::NoDelay(a, flag("value")),
        "setKeepAlive" => Op::KeepAlive(
            a,
            flag("enable"),
            step.get("initialDelay").and_then(Json::as_u64).unwrap_or(0) as u32,
        ),
        "setTimeout" => Op::DeadTimeout(a),
        _ => return None,
    })
}

/// A step with its actor renamed.
fn renamed(step: &Json, name: &str) -> Json {
    let mut s = step.clone();
    if s.get("snapshot").is_some() {
        s["snapshot"] = json!(name);
    } else {
        s["actor"] = json!(name);
    }
    s
}

/// The timer unit starting at `steps[0]` (a `setTimeout` on a live socket), with its
/// length.
fn timer_at(steps: &[Json]) -> Option<(Timer, usize)> {
    let ms = &steps.first()?["ms"];
    let is_set0 = |s: Option<&Json>| s.is_some_and(|s| s["do"] == "setTimeout" && s["ms"] == 0);
    let Some(t) = ms.as_u64() else {
        return Some((Timer::Invalid(ms.clone()), 1));
    };
    let next = steps.get(1)?;
    if wait_of(next).is_some_and(|(_, e)| e == "timeout") && is_set0(steps.get(2)) {
        return Some((Timer::Wait(t), 3));
    }
    let slept = next.get("sleep").and_then(Json::as_u64)?;
    if t == 120 && slept == 30 {
        if is_set0(steps.get(2)) {
            return Some((Timer::Cancel(false), 3));
        }
        if is_set0(steps.get(3)) {
            return Some((Timer::Cancel(true), 4));
        }
        return None;
    }
    (slept == 3 * t + 10 && is_set0(steps.get(2))).then_some((Timer::Sleep(t), 3))
}

/// Takes a generated scenario's steps apart; `None` when they are not the generator's.
pub fn parse(steps: &[Json]) -> Option<Vec<Item>> {
    let mut m = Model::default();
    let mut items = Vec::new();
    let mut i = 0;
    let mut setup = true;
    while i < steps.len() {
        let step = &steps[i];
        if setup {
            configure(&mut m, step);
            items.push(Item::Setup(step.clone()));
            if wait_of(step).is_some_and(|(_, e)| e == "listening") {
                setup = false;
            }
            i += 1;
            continue;
        }
        if let Some((actor, event)) = wait_of(step) {
            if actor == SRV && event == "close" {
                items.push(Item::Tail);
                i += 1;
                continue;
            }
            if actor == SRV {
                m.accept_fresh()?;
                items.push(Item::Accept);
                i += 1;
                continue;
            }
            // A round's waits: the model must derive the same ones.
            let run = steps[i..]
                .iter()
                .take_while(|s| wait_of(s).is_some_and(|(a, _)| a != SRV))
                .count();
            let derived: Vec<Json> = m
                .settle()
                .ok()?
                .iter()
                .map(|(a, w)| wait_step(a, w))
                .collect();
            if derived[..] != steps[i..i + run] {
                return None;
            }
            items.push(Item::Settle);
            i += run;
            continue;
        }
        if step["do"] == "connect" {
            let name = actor_of(step)?;
            let half = step["options"]["allowHalfOpen"] == true;
            m.add_client(name, half);
            items.push(Item::Connect(step.clone()));
            i += 1;
            continue;
        }
        if step["do"] == "close"
            && actor_of(step) == Some(SRV)
            && steps
                .get(i + 1)
                .and_then(wait_of)
                .is_some_and(|w| w == (SRV, "close"))
        {
            items.push(Item::Tail);
            i += 2;
            continue;
        }
        let actor = actor_of(step)?;
        if step["do"] == "setTimeout" {
            let a = resolve(&m, &to_item_name(&m, actor)?)?;
            if m.timer_ok(a) {
                let (t, len) = timer_at(&steps[i..])?;
                let made = m.timer(a, &t).ok()?;
                if made[..] != steps[i..i + len] {
                    return None;
                }
                items.push(Item::Timer(to_item_name(&m, actor)?, t));
                i += len;
                continue;
            }
        }
        let item_name = to_item_name(&m, actor)?;
        let op = to_op(&m, &renamed(step, &item_name))?;
        if m.apply(&op).ok()? != *step {
            return None;
        }
        items.push(Item::Op(renamed(step, &item_name)));
        i += 1;
    }
    Some(items)
}

/// The waits of a round's end (the server's side first, if connects are pending).
fn settle(m: &mut Model, out: &mut Vec<Json>) -> Option<()> {
    accept(m, out);
    for (a, w) in m.settle().ok()? {
        out.push(wait_step(&a, &w));
    }
    Some(())
}

fn accept(m: &mut Model, out: &mut Vec<Json>) {
    if let Some((event, count)) = m.accept_fresh() {
        let mut w = json!({"wait": format!("{SRV}:{event}"), "timeout": WAIT_TIMEOUT});
        if count > 1 {
            w["count"] = json!(count);
        }
        out.push(w);
    }
}

/// Puts items together into steps, the model deriving the waits; `None` when the model
/// cannot vouch for them (an operation it refuses, a socket left open at the end).
pub fn build(items: &[Item]) -> Option<Vec<Json>> {
    let mut m = Model::default();
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Setup(step) => {
                configure(&mut m, step);
                out.push(step.clone());
            }
            Item::Connect(step) => {
                if m.srv_closed {
                    return None;
                }
                let half = step["options"]["allowHalfOpen"] == true;
                m.add_client(actor_of(step)?, half);
                out.push(step.clone());
            }
            Item::Op(step) => {
                let op = to_op(&m, step)?;
                out.push(m.apply(&op).ok()?);
            }
            Item::Accept => accept(&mut m, &mut out),
            Item::Settle => settle(&mut m, &mut out)?,
            Item::Timer(actor, t) => {
                settle(&mut m, &mut out)?;
                let a = resolve(&m, actor)?;
                out.extend(m.timer(a, t).ok()?);
            }
            Item::Tail => {
                settle(&mut m, &mut out)?;
                if !m.all_closed() {
                    return None;
                }
                if !m.srv_closed {
                    out.push(json!({"do": "close", "actor": SRV}));
                }
                out.push(json!({"wait": format!("{SRV}:close"), "timeout": WAIT_TIMEOUT}));
            }
        }
    }
    Some(out)
}
