//! The README's JSON sample is real output: the scan of the committed example estate
//! (`examples/estate`), judged at a fixed instant, cut to an excerpt by fixed rules, must
//! equal the README's block except for the fields that change with every run (the scan's id,
//! start, duration and host, and the tool version). When they diverge the test fails and
//! prints the block to paste; `TRUSTMAP_UPDATE_README=1 cargo test -p trustmap --test
//! readme_cli` writes it into the README.

use std::path::{Path, PathBuf};
use trustmap_core::{Asset, AssetKind, Report};

/// The instant the sample is judged at (`--now`): expiry findings do not drift with time.
const NOW: &str = "2026-11-23T12:10:19Z";
/// The excerpt's certificate: the one with the most places and owners in the estate.
const CERT_PATH: &str = "services/payments/tls/server.crt";
/// The excerpt's secret.
const SECRET_RULE: &str = "github-pat-classic";
/// Where the block sits in the README.
const HEADING: &str = "### JSON";
/// The placeholder for the assets the excerpt leaves out.
const ELIDED: &str = "…";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The excerpt of a report: the scan header, the certificate at [`CERT_PATH`] and the first
/// secret of [`SECRET_RULE`], then [`ELIDED`]; the relations that touch the certificate; the
/// findings on it; every error. Returns the excerpt and how many assets the report has.
fn excerpt(r: &Report) -> (Report, usize) {
    let at = |a: &&Asset| a.occurrences.iter().any(|o| o.path == CERT_PATH);
    let cert = r
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Certificate && at(a))
        .expect("the estate has the payments certificate");
    let secret = r
        .assets
        .iter()
        .find(|a| a.secret.as_ref().is_some_and(|s| s.rule == SECRET_RULE))
        .expect("the estate has a GitHub token");
    let id = &cert.id;
    let mut x = r.clone();
    x.assets = vec![cert.clone(), secret.clone()];
    x.relations.retain(|rel| rel.from == *id || rel.to == *id);
    x.findings.retain(|f| f.asset == *id);
    (x, r.assets.len())
}

/// Pretty JSON, fields in the report's order, with a bare `…` after the excerpt's assets.
fn render(x: &Report) -> String {
    let text = serde_json::to_string_pretty(x).unwrap();
    let end = "\n  ],\n  \"relations\"";
    let at = text.find(end).expect("assets precede relations");
    format!("{},\n    {ELIDED}{}", &text[..at], &text[at..])
}

/// Volatile values blanked: the scan's id, start, duration and host, the tool's version.
fn masked(block: &str) -> String {
    // A secret's id and fingerprint are keyed with a random key on every `--no-store` run.
    let mut in_secret = false;
    block
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("\"id\": \"sec_") {
                in_secret = true;
            } else if t.starts_with("\"id\":") {
                in_secret = false;
            }
            let secret_id = t.starts_with("\"id\": \"sec_")
                || t.starts_with("\"asset\": \"sec_")
                || (in_secret && t.starts_with("\"fingerprint\":"));
            let volatile = [
                "\"started_at\":",
                "\"duration_ms\":",
                "\"host\":",
                "\"version\":",
            ]
            .iter()
            .any(|k| t.starts_with(k))
                || t.starts_with("\"id\": \"scan_")
                || secret_id;
            match (volatile, l.split_once(':')) {
                (true, Some((k, v))) => {
                    let comma = if v.trim_end().ends_with(',') { "," } else { "" };
                    format!("{k}: <volatile>{comma}")
                }
                _ => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's JSON block under [`HEADING`] and the byte range it occupies, and the
/// sentence after it.
fn readme_block(readme: &str) -> (std::ops::Range<usize>, String) {
    let h = readme.find(HEADING).expect("README has a JSON section");
    let open = h + readme[h..].find("```json\n").expect("a ```json block") + "```json\n".len();
    let close = open + readme[open..].find("\n```\n").expect("the block ends");
    let after = readme[close + 5..]
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    (open..close, after)
}

#[test]
fn the_readme_json_sample_is_the_example_estates_real_output() {
    // Run from the repository root, as the README does: roots and places read
    // `examples/estate`.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .current_dir(repo())
        .args([
            "scan",
            "examples/estate",
            "--format",
            "json",
            "--no-store",
            "--now",
            NOW,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report = serde_json::from_slice(&out.stdout).unwrap();
    // The excerpt is rendered from the typed report (fields in output order): check that
    // the round trip through it loses nothing of the real output.
    let raw: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(serde_json::to_value(&report).unwrap(), raw);
    let (v, n) = excerpt(&report);
    let expected = render(&v);
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (range, after) = readme_block(&readme);
    let count = format!("(Excerpt: two of the {n} assets");
    if std::env::var_os("TRUSTMAP_UPDATE_README").is_some() {
        let mut new = readme.clone();
        new.replace_range(range, &expected);
        std::fs::write(&readme_path, new).unwrap();
        return;
    }
    let got = &readme[range];
    assert!(
        masked(got) == masked(&expected),
        "README's JSON sample differs from the real output; \
         TRUSTMAP_UPDATE_README=1 cargo test -p trustmap --test it readme rewrites it.\n\
         expected:\n{expected}"
    );
    assert!(
        after.starts_with(&count),
        "{after:?} should start {count:?}"
    );
}

#[test]
fn masking_keeps_everything_but_the_volatile_fields() {
    let a = "  \"scan\": {\n    \"id\": \"scan_1\",\n    \"started_at\": \"x\",\n    \"roots\": []\n  }";
    let b = "  \"scan\": {\n    \"id\": \"scan_2\",\n    \"started_at\": \"y\",\n    \"roots\": []\n  }";
    assert_eq!(masked(a), masked(b));
    let c = b.replace("\"roots\": []", "\"roots\": [\"x\"]");
    assert_ne!(masked(a), masked(&c));
    // An asset id is not volatile.
    assert_ne!(masked("\"id\": \"crt_1\""), masked("\"id\": \"crt_2\""));
}

/// The command the README's tour opens with, and the line its output block starts with.
const TOUR_COMMAND: &str = "$ trustmap scan examples/estate\n";

/// The first line of a summary says how long the scan took: blank the timing.
fn masked_summary(text: &str) -> String {
    text.lines()
        .map(|l| match l.split_once(" in ") {
            Some((head, tail)) if l.starts_with("trustmap ") && l.contains(" scanned ") => {
                let rest = tail.split_once(": ").map_or("", |(_, r)| r);
                let head = head.split_once(" scanned").map_or(head, |(_, h)| h);
                format!("trustmap <version> scanned{head} in <time>: {rest}")
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_tour_summary_is_the_example_estates_real_output() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .current_dir(repo())
        .args(["scan", "examples/estate", "--no-store", "--now", NOW])
        .output()
        .unwrap();
    // No --fail-on: findings do not fail the run.
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    let readme_path = repo().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = readme.find(TOUR_COMMAND).expect("the tour's first command") + TOUR_COMMAND.len();
    let end = start + readme[start..].find("\n```").expect("the block closes") + 1;
    if std::env::var_os("TRUSTMAP_UPDATE_README").is_some() {
        let mut new = readme.clone();
        new.replace_range(start..end, &summary);
        std::fs::write(&readme_path, new).unwrap();
        return;
    }
    assert!(
        masked_summary(&readme[start..end]) == masked_summary(&summary),
        "README's tour summary differs from the real output; \
         TRUSTMAP_UPDATE_README=1 cargo test -p trustmap --test it readme rewrites it.\n\
         expected:\n{summary}"
    );
}

#[test]
fn summary_masking_blanks_only_the_timing() {
    let a = "trustmap 0.1.0 scanned 44 files (57.0 KB) in 0.10s: examples/estate\nPolicy: x";
    let b = "trustmap 0.2.0 scanned 44 files (57.0 KB) in 1.93s: examples/estate\nPolicy: x";
    assert_eq!(masked_summary(a), masked_summary(b));
    assert_ne!(
        masked_summary(a),
        masked_summary(&a.replace("44 files", "45 files"))
    );
    assert_ne!(
        masked_summary(a),
        masked_summary(&a.replace("Policy: x", "Policy: y"))
    );
}
