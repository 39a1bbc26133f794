//! Node's side: each scenario runs three times with `node-runner.js`, several Node
//! processes at once; the three runs are kept in a cache keyed by the scenario's text, so a
//! rerun (or a minimization that comes back to a scenario) costs nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value as Json};

use super::compare;

/// How many times Node runs each scenario.
pub const NODE_RUNS: usize = 3;

/// What Node made of a scenario.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Three runs, one trace: Node's output (the full text, as `expected/` files hold it).
    Trace(String),
    /// The runs' traces differ.
    Nondeterministic,
    /// A run did not complete (exit status, stderr): a wait or the settle timed out.
    Failed(i32, String),
}

/// One Node run.
#[derive(Clone, Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs scenarios on Node.
#[derive(Debug)]
pub struct Node {
    node: String,
    script: PathBuf,
    cache: PathBuf,
    scratch: PathBuf,
    jobs: usize,
}

/// FNV-1a, 64 bits, as hex: the cache key of a scenario text.
pub fn hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Runs `f` on every item with at most `jobs` threads; results in item order.
pub fn parallel_map<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                out.lock().expect("results")[i] = Some(r);
            });
        }
    });
    out.into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

impl Node {
    /// Node (`node`, a command) running `script` (node-runner.js), caching in `work`.
    pub fn new(node: &str, script: &Path, work: &Path, jobs: usize) -> std::io::Result<Node> {
        let cache = work.join("node-cache");
        let scratch = work.join("scratch");
        std::fs::create_dir_all(&cache)?;
        std::fs::create_dir_all(&scratch)?;
        Ok(Node {
            node: node.to_string(),
            script: script.to_path_buf(),
            cache,
            scratch,
            jobs,
        })
    }

    /// Whether `node` runs at all.
    pub fn available(node: &str) -> bool {
        Command::new(node)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Node's verdict on each scenario text (three runs each, in parallel, cached).
    pub fn verdicts(&self, texts: &[String]) -> Vec<Verdict> {
        let mut runs: Vec<Option<Vec<Run>>> = texts.iter().map(|t| self.cached(t)).collect();
        let todo: Vec<(usize, usize)> = runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_none())
            .flat_map(|(i, _)| (0..NODE_RUNS).map(move |k| (i, k)))
            .collect();
        let fresh = parallel_map(self.jobs, &todo, |(i, _)| self.run_once(&texts[*i]));
        let mut by_text: Vec<Vec<Run>> = texts.iter().map(|_| Vec::new()).collect();
        for ((i, _), r) in todo.iter().zip(fresh) {
            by_text[*i].push(r);
        }
        for (i, r) in by_text.into_iter().enumerate() {
            if runs[i].is_none() {
                self.store(&texts[i], &r);
                runs[i] = Some(r);
            }
        }
        runs.into_iter()
            .map(|r| verdict(&r.expect("ran")))
            .collect()
    }

    fn cache_file(&self, text: &str) -> PathBuf {
        self.cache.join(format!("{}.json", hash(text)))
    }

    fn cached(&self, text: &str) -> Option<Vec<Run>> {
        let j: Json =
            serde_json::from_str(&std::fs::read_to_string(self.cache_file(text)).ok()?).ok()?;
        if j.get("scenario")?.as_str()? != text {
            return None;
        }
        let runs: Vec<Run> = j
            .get("runs")?
            .as_array()?
            .iter()
            .map(|r| {
                Some(Run {
                    code: r.get("code")?.as_i64()? as i32,
                    stdout: r.get("stdout")?.as_str()?.to_string(),
                    stderr: r.get("stderr")?.as_str()?.to_string(),
                })
            })
            .collect::<Option<_>>()?;
        (runs.len() == NODE_RUNS).then_some(runs)
    }

    fn store(&self, text: &str, runs: &[Run]) {
        // An infrastructure failure (node missing) is not worth remembering.
        if runs.iter().any(|r| r.code == -1) {
            return;
        }
        let j = json!({
            "scenario": text,
            "runs": runs.iter().map(|r| json!({"code": r.code, "stdout": r.stdout, "stderr": r.stderr})).collect::<Vec<_>>(),
        });
        // Written aside, then renamed: a concurrent reader never sees half a file.
        let file = self.cache_file(text);
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, j.to_string()).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }

    fn run_once(&self, text: &str) -> Run {
        // A file per run: concurrent runs (and concurrent difftests) never share one.
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, Ordering::SeqCst);
        let file = self
            .scratch
            .join(format!("{}-{}-{n}.json", hash(text), std::process::id()));
        if let Err(e) = std::fs::write(&file, text) {
            return Run {
                code: -1,
                stdout: String::new(),
                stderr: format!("cannot write {}: {e}", file.display()),
            };
        }
        let out = Command::new(&self.node)
            .arg(&self.script)
            .arg(&file)
            .output();
        let _ = std::fs::remove_file(&file);
        match out {
            Ok(o) => Run {
                code: o.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            },
            Err(e) => Run {
                code: -1,
                stdout: String::new(),
                stderr: format!("cannot run {}: {e}", self.node),
            },
        }
    }
}

fn verdict(runs: &[Run]) -> Verdict {
    if let Some(r) = runs.iter().find(|r| r.code != 0) {
        let last = r
            .stdout
            .lines()
            .filter(|l| l.contains("!timeout"))
            .collect::<Vec<_>>();
        let why = if last.is_empty() {
            r.stderr.trim().to_string()
        } else {
            last.join(" ").trim().to_string()
        };
        return Verdict::Failed(r.code, why);
    }
    let Some(first) = compare::traces(&runs[0].stdout) else {
        return Verdict::Failed(0, "Node printed no trace".into());
    };
    for r in &runs[1..] {
        match compare::traces(&r.stdout) {
            Some(t) if compare::same(&first, &t) => {}
            _ => return Verdict::Nondeterministic,
        }
    }
    Verdict::Trace(runs[0].stdout.clone())
}
