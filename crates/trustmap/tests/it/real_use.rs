//! What real use broke (issue 13), through the real binary: explicit owners in scans,
//! read commands on a mistyped `--db`, `--expiring` windows, passwords in `--help` and
//! errors, closed pipes, `--owner` by team name, waivers that could never apply.

use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::{Db, ec_cert};

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    c.args(args).env_remove("TRUSTMAP_DB");
    c
}

fn run(db: &str, args: &[&str]) -> Output {
    cmd(args).args(["--db", db]).output().expect("run trustmap")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = run(db, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "trustmap {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn json(db: &str, args: &[&str]) -> Value {
    let t = ok(db, args);
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{args:?}: {e}: {t}"))
}

fn scan(db: &str, dir: &Path) -> Value {
    json(
        db,
        &["scan", dir.to_str().unwrap(), "--format", "json", "--quiet"],
    )
}

fn id_at(report: &Value, kind: &str, path: &str) -> String {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind && a["occurrences"][0]["path"] == path)
        .unwrap_or_else(|| panic!("no {kind} at {path}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn asset<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
}

fn unowned_findings(report: &Value, id: &str) -> usize {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "asset-unowned" && f["asset"] == id)
        .count()
}

/// `services/legacy/old.{crt,key}` and `services/edge/edge.{crt,key}`, CODEOWNERS giving
/// `services/edge/` to `@acme/platform`.
fn estate() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (dir, name) in [("services/legacy", "old"), ("services/edge", "edge")] {
        let d = t.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        ec_cert(&d, name, "90");
    }
    std::fs::write(
        t.path().join("CODEOWNERS"),
        "/services/edge/ @acme/platform\n",
    )
    .unwrap();
    t
}

fn backends(test: &str) -> Vec<Db> {
    crate::common::backends("u", test)
}

#[test]
fn explicit_owners_reach_every_later_scan_and_owner_filters_take_team_names() {
    for db in backends("owners") {
        let db = db.target.as_str();
        let tree = estate();
        let r = scan(db, tree.path());
        let legacy = id_at(&r, "certificate", "services/legacy/old.crt");
        let edge = id_at(&r, "certificate", "services/edge/edge.crt");
        assert_eq!(unowned_findings(&r, &legacy), 1);

        ok(
            db,
            &[
                "owner",
                "set",
                "--path",
                "services/legacy/*",
                "--owner",
                "@acme/legacy",
            ],
        );
        ok(db, &["owner", "set", &edge, "--owner", "@acme/edge"]);

        for _ in 0..2 {
            let r = scan(db, tree.path());
            assert_eq!(
                asset(&r, &legacy)["owners"],
                serde_json::json!([{"name": "@acme/legacy", "role": "owner", "source": "rule:1"}])
            );
            assert_eq!(unowned_findings(&r, &legacy), 0);
            // Explicit wins over CODEOWNERS.
            assert_eq!(
                asset(&r, &edge)["owners"],
                serde_json::json!([{"name": "@acme/edge", "role": "owner", "source": "explicit"}])
            );
            let summary = ok(db, &["scan", tree.path().to_str().unwrap(), "--quiet"]);
            assert!(!summary.contains("[unowned]"), "{summary}");
            assert!(summary.contains("@acme/legacy"), "{summary}");
        }

        // --owner by team name, with or without the @org/ prefix.
        let ids = |owner: &str| -> Vec<String> {
            let v = json(db, &["assets", "--owner", owner, "--format", "json"]);
            let mut ids: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids("edge"), vec![edge.clone()]);
        assert_eq!(ids("@acme/edge"), vec![edge.clone()]);
        assert!(
            ids("acme/edge").is_empty(),
            "a partial prefix is no team name"
        );
        assert!(ids("edg").is_empty());
        assert!(ids("@other/edge").is_empty());
        // The legacy key is owned through its certificate's path too.
        assert!(ids("legacy").contains(&legacy));
        let n = ok(db, &["assets", "--owner", "legacy", "--count"]);
        assert_eq!(n.trim(), ids("@acme/legacy").len().to_string());
    }
}

/// The rules `owner rules --format json` lists, as (id, glob, owner).
fn rules(db: &str) -> Vec<(i64, String, String)> {
    json(db, &["owner", "rules", "--format", "json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["glob"].as_str().unwrap().to_string(),
                r["owner"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_path_owner_rule_owns_assets_found_later_until_it_is_removed() {
    for db in backends("rules") {
        let db = db.target.as_str();
        let tree = estate();
        let legacy_dir = tree.path().join("services/legacy");
        // A rule set before anything is under its path is kept all the same.
        ok(db, &["scan", tree.path().to_str().unwrap(), "--quiet"]);
        ok(
            db,
            &[
                "owner",
                "set",
                "--path",
                "services/legacy/new*",
                "--owner",
                "@acme/new",
                "--by",
                "alice",
            ],
        );
        ok(
            db,
            &[
                "owner",
                "set",
                "--path",
                "services/legacy/*",
                "--owner",
                "@acme/legacy",
            ],
        );
        let listed = rules(db);
        assert_eq!(
            listed,
            [
                (
                    1,
                    "services/legacy/new*".to_string(),
                    "@acme/new".to_string()
                ),
                (
                    2,
                    "services/legacy/*".to_string(),
                    "@acme/legacy".to_string()
                )
            ]
        );
        let table = ok(db, &["owner", "rules"]);
        assert!(
            table.contains("services/legacy/new*") && table.contains("alice"),
            "{table}"
        );

        // A certificate added under the glob tomorrow is owned by the rule in the scan
        // that first sees it: in the JSON, the summary and the findings.
        ec_cert(&legacy_dir, "later", "90");
        let r = scan(db, tree.path());
        let later = id_at(&r, "certificate", "services/legacy/later.crt");
        assert_eq!(
            asset(&r, &later)["owners"],
            serde_json::json!([{"name": "@acme/legacy", "role": "owner", "source": "rule:2"}])
        );
        assert_eq!(unowned_findings(&r, &later), 0);
        let show = json(db, &["show", &later, "-f", "json"]);
        assert_eq!(show["owner"], "@acme/legacy", "{show}");
        assert_eq!(show["owner_source"], "rule:2");
        // The most specific (longest) glob wins over a broader one.
        ec_cert(&legacy_dir, "newer", "90");
        let summary = ok(db, &["scan", tree.path().to_str().unwrap(), "--quiet"]);
        assert!(!summary.contains("[unowned]"), "{summary}");
        let r = scan(db, tree.path());
        let newer = id_at(&r, "certificate", "services/legacy/newer.crt");
        assert_eq!(asset(&r, &newer)["owners"][0]["name"], "@acme/new");
        assert_eq!(unowned_findings(&r, &newer), 0);

        // An asset's own explicit owner beats the rule, in scans and in the store.
        ok(db, &["owner", "set", &later, "--owner", "@acme/mine"]);
        let r = scan(db, tree.path());
        assert_eq!(
            asset(&r, &later)["owners"],
            serde_json::json!([{"name": "@acme/mine", "role": "owner", "source": "explicit"}])
        );
        assert_eq!(
            json(db, &["show", &later, "-f", "json"])["owner"],
            "@acme/mine"
        );

        // Removed, a rule owns nothing any more: not what it owned, not what comes later.
        ok(db, &["owner", "unset", "--path", "services/legacy/*"]);
        assert_eq!(rules(db).len(), 1);
        ec_cert(&legacy_dir, "latest", "90");
        let r = scan(db, tree.path());
        let latest = id_at(&r, "certificate", "services/legacy/latest.crt");
        assert_eq!(asset(&r, &latest)["owners"], Value::Null);
        assert_eq!(unowned_findings(&r, &latest), 1);
        let old = id_at(&r, "certificate", "services/legacy/old.crt");
        assert_eq!(unowned_findings(&r, &old), 1);
        assert_eq!(asset(&r, &later)["owners"][0]["name"], "@acme/mine");
        assert_eq!(asset(&r, &newer)["owners"][0]["name"], "@acme/new");
        ok(db, &["owner", "unset", "--rule", "1"]);
        assert!(rules(db).is_empty());
        assert_eq!(
            json(db, &["show", &newer, "-f", "json"])["owner"],
            Value::Null
        );
        let bad = run(db, &["owner", "unset", "--rule", "1"]);
        assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));

        let verify = ok(db, &["audit", "verify"]);
        assert!(verify.contains("intact"), "{verify}");
        let events = ok(db, &["audit", "export"]);
        assert_eq!(events.matches("\"owner-rule-set\"").count(), 2, "{events}");
        assert_eq!(events.matches("\"owner-rule-removed\"").count(), 2);
    }
}

#[test]
fn read_commands_on_a_missing_inventory_fail_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo.db");
    let typo = typo.to_str().unwrap();
    let commands: &[&[&str]] = &[
        &["audit", "verify"],
        &["audit", "export"],
        &["scans"],
        &["assets"],
        &["assets", "--count"],
        &["show", "crt_0123456789abcdef"],
        &["diff"],
        &["waivers"],
        &["waive", "--revoke", "1", "--by", "alice"],
        &[
            "waive",
            "key-unprotected",
            "key_0123456789abcdef",
            "--reason",
            "r",
            "--until",
            "2099-01-01",
            "--by",
            "alice",
        ],
        &["owner", "set", "crt_0123456789abcdef", "--owner", "team"],
    ];
    for args in commands {
        let out = run(typo, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("no inventory at {typo}")),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!Path::new(typo).exists(), "{args:?} created {typo}");
    }

    // baseline and pqc need no inventory: they scan without recording, and say so.
    let tree = estate();
    let root = tree.path().to_str().unwrap();
    let base = dir.path().join("base.json");
    let out = run(
        typo,
        &["baseline", root, "--output", base.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("not recorded"),
        "{}",
        text(&out.stderr)
    );
    let out = run(typo, &["pqc", root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!Path::new(typo).exists());

    // scan creates it; then the read commands answer.
    scan(typo, tree.path());
    assert!(ok(typo, &["audit", "verify"]).contains("audit log intact"));
    // baseline now records into it.
    ok(
        typo,
        &[
            "baseline",
            root,
            "--quiet",
            "--output",
            base.to_str().unwrap(),
        ],
    );
    assert_eq!(
        json(typo, &["scans", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A PostgreSQL database (schema) never migrated is no inventory either.
    if let Ok(url) = std::env::var("TRUSTMAP_TEST_PG_URL")
        && !url.is_empty()
    {
        let schema = format!("u_missing_{}", std::process::id());
        let target = trustmap_store::fresh_pg_schema(&url, &schema).unwrap();
        let out = run(&target, &["audit", "verify"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("no inventory at postgres"), "{err}");
        let store_err = trustmap_store::Store::open_existing(&target).err().unwrap();
        assert!(
            matches!(store_err, trustmap_store::Error::NoInventory(_)),
            "{store_err}"
        );
        let _ = trustmap_store::drop_pg_schema(&url, &schema);
    }
}

#[test]
fn windows_and_numbers_are_validated_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let db = db.to_str().unwrap();
    let tree = estate();
    scan(db, tree.path());

    for (window, says) in [
        ("99999999d", "too long"),
        ("999999999999999999d", "too long"),
        ("99999999999999999999999999d", "too long"),
        ("30", "did you mean 30d?"),
        ("soon", "bad window"),
        ("3x", "unknown unit"),
    ] {
        let out = run(db, &["assets", "--expiring", window]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--expiring {window}: {err}");
        assert!(err.contains(says), "--expiring {window}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Two certificates expire within 90 days; both within a year, none within a day.
    let count = |w: &str| {
        ok(db, &["assets", "--expiring", w, "--count"])
            .trim()
            .to_string()
    };
    assert_eq!(count("1y"), "2");
    assert_eq!(count("6m"), "2");
    assert_eq!(count("13w"), "2");
    assert_eq!(count("1d"), "0");
    // A window that reaches past year 9999 from --now.
    let out = run(db, &["assets", "--expiring", "100y", "--now", "9990-01-01"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("past year 9999"),
        "{}",
        text(&out.stderr)
    );

    // Other numbers and dates: an error naming the argument, never a panic.
    let cases: &[&[&str]] = &[
        &["assets", "--limit", "99999999999999999999999"],
        &["assets", "--limit", "-1"],
        &["assets", "--now", "99999-01-01"],
        &["audit", "export", "--since", "2026-02-30"],
        &["waive", "--revoke", "99999999999999999999", "--by", "a"],
        &[
            "waive",
            "key-unprotected",
            "key_0123456789abcdef",
            "--reason",
            "r",
            "--until",
            "99999-12-31",
            "--by",
            "a",
        ],
        &["scan", ".", "--threads", "99999999999999999999999"],
        &["scan", ".", "--no-store", "--threads", "100000000"],
        &["assets", "--limit", "18446744073709551615"],
    ];
    for args in cases {
        let out = run(db, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn database_passwords_are_never_shown() {
    let secret = "pw-not-real-7f3a";
    let url = format!("postgres://alice:{secret}@127.0.0.1:1/inventory?sslmode=disable");
    // --help of every command with --db shows the variable, not its value.
    for sub in [
        "scan",
        "assets",
        "audit verify",
        "waivers",
        "pqc",
        "baseline",
    ] {
        let args: Vec<&str> = sub.split(' ').chain(["--help"]).collect();
        let out = cmd(&args).env("TRUSTMAP_DB", &url).output().unwrap();
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{sub}");
        assert!(all.contains("TRUSTMAP_DB"), "{sub}: {all}");
        assert!(
            !all.contains(secret),
            "{sub} --help shows the password: {all}"
        );
    }
    // Failing to connect names the target with the password hidden; a password holding
    // `@` is hidden whole.
    let tricky = format!("postgres://alice:{secret}@x@127.0.0.1:1/inventory?sslmode=disable");
    let in_query =
        format!("postgres://127.0.0.1:1/inventory?user=alice&password={secret}&sslmode=disable");
    for target in [&url, &tricky, &in_query] {
        for args in [&["scans"][..], &["scan", ".", "--quiet"][..]] {
            let out = cmd(args).env("TRUSTMAP_DB", target).output().unwrap();
            let all = text(&out.stdout) + &text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
            assert!(
                all.contains("127.0.0.1:1"),
                "{args:?}: the target is named: {all}"
            );
            assert!(!all.contains(secret), "{args:?} shows the password: {all}");
            assert!(!all.contains("x@127"), "{args:?} shows part of it: {all}");
        }
    }
}

/// Runs `args` with stdout a pipe whose reader closed after `keep` bytes (`| head -c`).
fn with_closed_pipe(db: &str, args: &[&str], keep: usize) -> (Option<i32>, String, Vec<u8>) {
    let mut c = cmd(args);
    if args[0] != "rules" {
        c.args(["--db", db]);
    }
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = vec![0; keep];
    if keep > 0 {
        stdout.read_exact(&mut head).unwrap();
    }
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), text(&out.stderr), head)
}

#[test]
fn a_summary_whose_reader_closed_both_streams_still_exits_cleanly() {
    // `trustmap scan DIR 2>&1 | head`: the "recorded" line comes after the summary, on a
    // stderr that is closed by then. It used to panic (exit 101) after recording.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let db = db.to_str().unwrap();
    let tree = tempfile::tempdir().unwrap();
    ec_cert(tree.path(), "c", "30");
    let mut child = cmd(&["scan", tree.path().to_str().unwrap(), "--db", db])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    drop(child.stderr.take());
    let mut head = vec![0; 8];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(&head, b"trustmap");
    assert_eq!(
        json(db, &["scans", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let db = db.to_str().unwrap();
    // Enough assets that the JSON outgrows a pipe's buffer (64 KiB).
    let tree = tempfile::tempdir().unwrap();
    for i in 0..40 {
        ec_cert(tree.path(), &format!("c{i}"), "30");
    }
    let root = tree.path().to_str().unwrap();
    let (code, err, head) =
        with_closed_pipe(db, &["scan", root, "--format", "json", "--quiet"], 100);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(head.starts_with(b"{"));
    // The scan was still recorded.
    assert_eq!(
        json(db, &["scans", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A gate still gates.
    let (code, err, _) = with_closed_pipe(
        db,
        &[
            "scan",
            root,
            "--format",
            "json",
            "--quiet",
            "--fail-on",
            "low",
        ],
        100,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.is_empty(), "{err}");
    for args in [
        &["assets", "--format", "json"][..],
        &["assets", "--format", "csv"][..],
        &["audit", "export"][..],
        &["rules", "--format", "json"][..],
        &["pqc", root, "--quiet"][..],
    ] {
        let (code, err, _) = with_closed_pipe(db, args, 0);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn waivers_that_could_never_apply_or_repeat_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("i.db");
    let db = db.to_str().unwrap();
    let tree = tempfile::tempdir().unwrap();
    let token = crate::common::generated_token(36);
    std::fs::write(
        tree.path().join("ci.env"),
        format!("GITHUB_TOKEN=ghp_{token}\n"),
    )
    .unwrap();
    ec_cert(tree.path(), "svc", "30");
    let r = scan(db, tree.path());
    let secret = r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "secret")
        .expect("the token is found")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let waive = |rule: &str, asset: &str| {
        run(
            db,
            &[
                "waive",
                rule,
                asset,
                "--reason",
                "accepted",
                "--until",
                "2099-01-01",
                "--by",
                "alice",
            ],
        )
    };

    let out = waive("cert-expired", &secret);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is a secret") && err.contains("certificate"),
        "{err}"
    );

    let out = waive("secret-plaintext", &secret);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = waive("secret-plaintext", &secret);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("already waives secret-plaintext"), "{err}");
    assert_eq!(
        json(db, &["waivers", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
