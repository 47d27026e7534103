//! Custom rules in Rego (`scan --rego FILE|DIR`), evaluated with regorus.
//!
//! Each `.rego` file is its own policy. For every asset the input is
//! `{"asset": <asset as in the JSON contract>, "relations": [relations touching it]}` and
//! `data.trustmap.custom.findings` (a set or array of `{"id", "severity", "message"}`) becomes
//! findings on that asset.
//!
//! A Rego file is a program: a function that calls itself overflows regorus's stack (which
//! aborts a process, it cannot be caught), a rule can build millions of values, a loop can
//! run for ever. So each file is evaluated in a child process, the front end's own binary
//! started again with [`CHILD_ARG`] (front ends call [`child_main`] when they see it), under
//! a [`Limits`] watch: wall time, resident memory and the number of findings. A breach kills
//! the child and is an error naming the file and the limit; the scan itself never crashes.

use crate::Error;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};
use trustmap_core::{Asset, Finding, Relation, Severity};

type Result<T> = std::result::Result<T, Error>;

fn rego_err(msg: String) -> Error {
    Error::Rego(msg)
}

const QUERY: &str = "data.trustmap.custom.findings";

/// The first argument that makes a front end's binary a Rego evaluator ([`child_main`]).
pub const CHILD_ARG: &str = "__trustmap-rego-eval";

/// The largest `.rego` file read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// What one Rego file may spend on one scan.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall time for all the assets of the scan.
    pub time: Duration,
    /// Resident memory of the evaluating process.
    pub memory_bytes: u64,
    /// Findings from the file over all assets.
    pub findings: usize,
    /// The program to run as the evaluator; `None`: this process's own executable.
    pub exe: Option<PathBuf>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            time: Duration::from_secs(120),
            memory_bytes: 2 << 30,
            findings: 1_000_000,
            exe: None,
        }
    }
}

/// The loaded rule files (parsed once here, so a syntax error fails before any walk).
pub struct CustomRules {
    files: Vec<PathBuf>,
    limits: Limits,
}

/// The `.rego` files named by `--rego`: files as given, directories searched (sorted).
pub fn files(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in args {
        if p.is_dir() {
            let mut found = Vec::new();
            collect_dir(p, &mut found, 0)?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Error::NoSuchPath(p.clone()));
        }
    }
    Ok(out)
}

/// How deep `--rego DIR` is searched, and how many files it may hold: past either, the
/// directory is refused with an error (a rule silently left out would loosen the gate).
const MAX_DIR_DEPTH: usize = 32;
const MAX_DIR_FILES: usize = 1024;

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    if depth > MAX_DIR_DEPTH {
        return Err(rego_err(format!(
            "Rego directory {} nests deeper than {MAX_DIR_DEPTH} levels; name the files or a shallower directory",
            dir.display()
        )));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::read("Rego directory", dir, e))?;
    for e in entries {
        let e = e.map_err(|e| Error::read("Rego directory", dir, e))?;
        let path = e.path();
        // Symbolic links to directories are not followed (no cycles).
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            collect_dir(&path, out, depth + 1)?;
        } else if path.extension().is_some_and(|x| x == "rego") {
            if out.len() >= MAX_DIR_FILES {
                return Err(rego_err(format!(
                    "Rego directory {} holds more than {MAX_DIR_FILES} .rego files",
                    dir.display()
                )));
            }
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and parses one Rego file into an engine.
fn engine_for(file: &Path) -> Result<regorus::Engine> {
    let name = file.display().to_string();
    let data = crate::policy::read_bounded("Rego file", file, MAX_FILE_BYTES)?;
    let text = String::from_utf8(data)
        .map_err(|_| rego_err(format!("Rego file {name} is not UTF-8 text")))?;
    let mut engine = regorus::Engine::new();
    engine
        .add_policy(name.clone(), text)
        .map_err(|e| rego_err(format!("Rego file {name} does not parse:\n{e}")))?;
    Ok(engine)
}

impl CustomRules {
    /// Read and parse every file; a file that does not parse is an error naming it (regorus
    /// reports `file:line:col`).
    pub fn load(args: &[PathBuf]) -> Result<Option<CustomRules>> {
        CustomRules::load_with(args, Limits::default())
    }

    /// [`CustomRules::load`] with other limits.
    pub fn load_with(args: &[PathBuf], limits: Limits) -> Result<Option<CustomRules>> {
        if args.is_empty() {
            return Ok(None);
        }
        let files = files(args)?;
        for file in &files {
            engine_for(file)?;
        }
        Ok(Some(CustomRules { files, limits }))
    }

    /// Findings from every rule file for every asset.
    pub fn evaluate(&mut self, assets: &[Asset], relations: &[Relation]) -> Result<Vec<Finding>> {
        // Each asset's input, built once: the relations touching it, by index.
        let mut touching: HashMap<&str, Vec<&Relation>> = HashMap::new();
        for r in relations {
            touching.entry(r.from.as_str()).or_default().push(r);
            if r.to != r.from {
                touching.entry(r.to.as_str()).or_default().push(r);
            }
        }
        let inputs: Vec<String> = assets
            .iter()
            .map(|a| {
                let rels = touching.get(a.id.as_str()).map_or(&[][..], Vec::as_slice);
                serde_json::json!({ "asset": a, "relations": rels }).to_string()
            })
            .collect();
        let mut out = Vec::new();
        for file in &self.files {
            let name = file.display().to_string();
            for (i, item) in run_child(file, &inputs, &self.limits)? {
                let a = &assets[i];
                out.push(finding(&name, a, &item)?);
            }
        }
        Ok(out)
    }
}

/// Why the watchdog stopped a child.
const RUNNING: u8 = 0;
const TIMED_OUT: u8 = 1;
const OUT_OF_MEMORY: u8 = 2;

/// Evaluates `file` for every input in a child process under `limits`: (asset index, finding
/// object) pairs.
fn run_child(
    file: &Path,
    inputs: &[String],
    limits: &Limits,
) -> Result<Vec<(usize, serde_json::Value)>> {
    let name = file.display().to_string();
    let exe = match &limits.exe {
        Some(e) => e.clone(),
        None => std::env::current_exe()
            .map_err(|e| rego_err(format!("Rego file {name}: cannot start the evaluator: {e}")))?,
    };
    let mut child = std::process::Command::new(&exe)
        .arg(CHILD_ARG)
        .arg(file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| rego_err(format!("Rego file {name}: cannot start the evaluator: {e}")))?;
    let pid = child.id();
    let stop = Arc::new(AtomicU8::new(RUNNING));
    // Set, under the lock, once the child is reaped: the watchdog kills only while holding
    // the lock and seeing it unset, so it never signals a reused pid.
    let done = Arc::new(std::sync::Mutex::new(false));

    // The inputs go in on one thread while results come out on this one.
    let mut stdin = child.stdin.take().expect("piped stdin");
    let owned: Vec<String> = inputs.to_vec();
    let writer = std::thread::spawn(move || {
        for line in owned {
            if stdin.write_all(line.as_bytes()).is_err() || stdin.write_all(b"\n").is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("piped stderr");
    let errors = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = (&mut stderr).take(8192).read_to_end(&mut text);
        // Drain the rest so the child never blocks on a full pipe.
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        String::from_utf8_lossy(&text).into_owned()
    });
    let watchdog = {
        let stop = stop.clone();
        let done = done.clone();
        let limits = limits.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            loop {
                let breach = if start.elapsed() > limits.time {
                    TIMED_OUT
                } else if resident_bytes(pid).is_some_and(|b| b > limits.memory_bytes) {
                    OUT_OF_MEMORY
                } else {
                    RUNNING
                };
                let reaped = done.lock().map_or(true, |d| {
                    if !*d && breach != RUNNING {
                        stop.store(breach, Ordering::Relaxed);
                        kill(pid);
                    }
                    *d
                });
                if reaped || breach != RUNNING {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let mut results = Vec::new();
    let mut failure: Option<String> = None;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        // One result line per asset; a line longer than the limit cannot be honest output.
        let n = (&mut reader)
            .take(64 << 20)
            .read_until(b'\n', &mut line)
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        let parsed: std::result::Result<ChildLine, _> = serde_json::from_slice(&line);
        match parsed {
            Ok(ChildLine::Findings { i, findings }) if i < inputs.len() => {
                if results.len() + findings.len() > limits.findings {
                    failure = Some(format!(
                        "produced more than {} findings (the limit per Rego file)",
                        limits.findings
                    ));
                    kill(pid);
                    break;
                }
                results.extend(findings.into_iter().map(|f| (i, f)));
            }
            Ok(ChildLine::Error { error }) => {
                failure = Some(error);
                break;
            }
            _ => {
                failure = Some("the evaluator wrote something that is not a result".into());
                kill(pid);
                break;
            }
        }
    }
    // Reap the child under the lock (the watchdog still runs until then, so a child that
    // closed its output but goes on running is stopped by its limits).
    let status = loop {
        let mut d = done.lock().unwrap_or_else(|p| p.into_inner());
        match child.try_wait() {
            Ok(Some(s)) => {
                *d = true;
                break Ok(s);
            }
            Ok(None) => {}
            Err(e) => {
                *d = true;
                break Err(e);
            }
        }
        drop(d);
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = watchdog.join();
    let _ = writer.join();
    let stderr = errors.join().unwrap_or_default();
    match stop.load(Ordering::Relaxed) {
        TIMED_OUT => {
            return Err(rego_err(format!(
                "Rego file {name}: evaluation stopped after {} s (the time limit per Rego file):                  a rule that never ends?",
                limits.time.as_secs()
            )));
        }
        OUT_OF_MEMORY => {
            return Err(rego_err(format!(
                "Rego file {name}: evaluation stopped at {} MiB of memory (the limit per Rego file)",
                limits.memory_bytes >> 20
            )));
        }
        _ => {}
    }
    if let Some(f) = failure {
        return Err(rego_err(if f.starts_with("Rego file") {
            f
        } else {
            format!("Rego file {name}: {f}")
        }));
    }
    match status {
        Ok(s) if s.success() => Ok(results),
        Ok(s) => {
            let why = if stderr.contains("overflowed its stack") {
                "overflowed its stack: a function or rule that calls itself without end?"
                    .to_string()
            } else {
                let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                format!(
                    "crashed ({s}){}",
                    if first.is_empty() {
                        String::new()
                    } else {
                        format!(": {first}")
                    }
                )
            };
            Err(rego_err(format!("Rego file {name}: evaluation {why}")))
        }
        Err(e) => Err(rego_err(format!("Rego file {name}: evaluator: {e}"))),
    }
}

/// One line from the evaluator.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum ChildLine {
    Findings {
        i: usize,
        findings: Vec<serde_json::Value>,
    },
    Error {
        error: String,
    },
}

/// Resident memory of a process, where the system tells (Linux `/proc`).
fn resident_bytes(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// SIGKILL to the evaluator by pid, before it is reaped (so the pid is still the child's).
fn kill(pid: u32) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// The evaluator: `argv[1]` is [`CHILD_ARG`], `argv[2]` the Rego file. Reads one input per
/// line on stdin (as [`CustomRules::evaluate`] writes them) and writes one result line per
/// input. Front ends call this before parsing their arguments; it returns the exit code.
pub fn child_main(file: &Path) -> i32 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let fail = |out: &mut std::io::BufWriter<std::io::StdoutLock>, error: String| {
        let _ = serde_json::to_writer(&mut *out, &ChildLine::Error { error });
        let _ = out.write_all(b"\n");
        let _ = out.flush();
        3
    };
    let mut engine = match engine_for(file) {
        Ok(e) => e,
        Err(e) => return fail(&mut out, e.to_string()),
    };
    let name = file.display().to_string();
    let stdin = std::io::stdin();
    for (i, line) in stdin.lock().lines().enumerate() {
        let Ok(line) = line else { break };
        let input = match regorus::Value::from_json_str(&line) {
            Ok(v) => v,
            Err(e) => return fail(&mut out, format!("Rego input {i}: {e}")),
        };
        engine.set_input(input);
        let value = match engine.eval_rule(QUERY.to_string()) {
            Ok(v) => v,
            Err(e) => {
                return fail(
                    &mut out,
                    format!("Rego file {name}: evaluating {QUERY}: {e}"),
                );
            }
        };
        let findings = if value == regorus::Value::Undefined {
            Vec::new()
        } else {
            let json = match value.to_json_str() {
                Ok(j) => j,
                Err(e) => return fail(&mut out, format!("Rego file {name}: {QUERY}: {e}")),
            };
            match serde_json::from_str::<serde_json::Value>(&json) {
                Ok(serde_json::Value::Array(items)) => items,
                Ok(other) => {
                    return fail(
                        &mut out,
                        format!(
                            "Rego file {name}: {QUERY} must be a set or array of objects, got {other}"
                        ),
                    );
                }
                Err(e) => return fail(&mut out, format!("Rego file {name}: {QUERY}: {e}")),
            }
        };
        if findings.is_empty() {
            continue;
        }
        if serde_json::to_writer(&mut out, &ChildLine::Findings { i, findings }).is_err()
            || out.write_all(b"\n").is_err()
        {
            return 3;
        }
    }
    if out.flush().is_err() {
        return 3;
    }
    0
}

/// Whether `id` appears as a string literal (`"id"`) in one of the `.rego` files named by
/// `args`, after checking that every file parses; and the ids the files spell out as
/// `"id": "..."`, for a "did you mean". A rule that computes its id (e.g. with `sprintf`)
/// is not seen, so it cannot be waived.
pub fn mentions_id(args: &[PathBuf], id: &str) -> Result<(bool, Vec<String>)> {
    CustomRules::load(args)?;
    let quoted = format!("\"{id}\"");
    let mut found = false;
    let mut ids = Vec::new();
    for file in files(args)? {
        let text = crate::policy::read_bounded("Rego file", &file, MAX_FILE_BYTES)?;
        let text = String::from_utf8_lossy(&text);
        found |= text.contains(&quoted);
        for literal in literal_ids(&text) {
            if !ids.contains(&literal) {
                ids.push(literal);
            }
        }
    }
    Ok((found, ids))
}

/// The values of `"id": "..."` pairs in Rego text.
fn literal_ids(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"id\"") {
        rest = &rest[i + 4..];
        let Some(after) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let Some(value) = after.trim_start().strip_prefix('"') else {
            continue;
        };
        if let Some(end) = value.find('"') {
            out.push(value[..end].to_string());
        }
    }
    out
}

fn finding(file: &str, a: &Asset, item: &serde_json::Value) -> Result<Finding> {
    let field = |k: &str| item.get(k).and_then(|v| v.as_str());
    let id = field("id").filter(|s| !s.is_empty()).ok_or_else(|| {
        rego_err(format!(
            "Rego file {file}: a finding has no string \"id\": {item}"
        ))
    })?;
    let severity = field("severity").unwrap_or("");
    let severity = Severity::parse(severity).ok_or_else(|| {
        rego_err(format!(
            "Rego rule {id} (in {file}): invalid severity {severity:?}: use info, low, medium, \
             high or critical"
        ))
    })?;
    let message = field("message").unwrap_or(id);
    let first = a.occurrences.first();
    Ok(Finding {
        rule: id.to_string(),
        severity,
        asset: a.id.clone(),
        path: first.map(|o| o.path.clone()),
        line: first.and_then(|o| o.line),
        message: message.to_string(),
        frameworks: Vec::new(),
        evidence: Default::default(),
        waiver: None,
        baselined: false,
    })
}

/// Findings in the same order as the policy engine's (one definition, in trustmap-core).
pub fn sort(findings: &mut [Finding]) {
    trustmap_core::policy::sort_findings(findings);
}

#[cfg(test)]
mod tests {
    use super::{MAX_DIR_DEPTH, MAX_DIR_FILES, files, literal_ids};

    #[test]
    fn rego_directories_past_the_bounds_are_refused_not_cut_short() {
        let t = tempfile::tempdir().unwrap();
        // At the depth bound: found.
        let mut deep = t.path().join("ok");
        for i in 0..MAX_DIR_DEPTH {
            deep.push(format!("d{i}"));
        }
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("r.rego"), "package x").unwrap();
        assert_eq!(
            files(&[t.path().join("ok")]).unwrap(),
            [deep.join("r.rego")]
        );
        // One level deeper: an error naming the bound.
        let deeper = deep.join("one-more");
        std::fs::create_dir(&deeper).unwrap();
        let e = files(&[t.path().join("ok")]).unwrap_err().to_string();
        assert!(e.contains("deeper than 32 levels"), "{e}");
        // Too many files.
        let many = t.path().join("many");
        std::fs::create_dir(&many).unwrap();
        for i in 0..=MAX_DIR_FILES {
            std::fs::write(many.join(format!("r{i}.rego")), "package x").unwrap();
        }
        let e = files(&[many]).unwrap_err().to_string();
        assert!(e.contains("more than 1024 .rego files"), "{e}");
    }

    #[test]
    fn literal_ids_are_read_from_id_pairs() {
        let text = r#"f := {"id": "org-a", "severity": "high"}
            g := {"id" :"org-b"}
            h := {"id": sprintf("x-%d", [1])}
            "ident": "no""#;
        assert_eq!(literal_ids(text), ["org-a", "org-b"]);
    }
}
