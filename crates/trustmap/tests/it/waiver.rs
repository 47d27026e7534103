//! Waivers end to end: the real binary granting, listing, applying, expiring and revoking
//! waivers. Run on SQLite always and on PostgreSQL whenever `TRUSTMAP_TEST_PG_URL` is set
//! (each test in its own fresh schema), like `store.rs`. Expiry is tested with `--now`
//! (RFC 3339 or YYYY-MM-DD), which judges a scan or lists waivers as if it were that instant.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::Db;

fn backends(test: &str) -> Vec<Db> {
    crate::common::backends("w", test)
}

/// Runs with the store given through `TRUSTMAP_DB` (as a CI job would); `extra` arguments
/// go last (`--now ...`).
fn run(db: &Db, args: &[&str], extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    c.args(args).args(extra).env("TRUSTMAP_DB", &db.target);
    c.output().expect("run trustmap")
}

fn code(db: &Db, args: &[&str], extra: &[&str]) -> (i32, String, String) {
    let out = run(db, args, extra);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(db: &Db, args: &[&str]) -> String {
    let (c, out, err) = code(db, args, &[]);
    assert_eq!(
        c, 0,
        "[{}] trustmap {args:?}\nstdout: {out}\nstderr: {err}",
        db.name
    );
    out
}

fn json(db: &Db, args: &[&str], extra: &[&str]) -> Value {
    let (_, out, err) = code(db, args, extra);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("[{}] {args:?}: {e}: {out} {err}", db.name))
}

/// An unencrypted P-256 private key: one high finding (`key-unprotected`), plus low ones.
fn key_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let st = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "app.key",
        ])
        .current_dir(t.path())
        .output()
        .expect("openssl");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    t
}

fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {report}"))
}

fn scan_json(db: &Db, dir: &Path, extra: &[&str]) -> Value {
    json(
        db,
        &["scan", dir.to_str().unwrap(), "--format", "json", "--quiet"],
        extra,
    )
}

#[test]
fn a_waived_finding_is_reported_not_failed_until_the_waiver_expires() {
    for db in backends("expiry") {
        let t = key_tree();
        let dir = t.path().to_str().unwrap();
        let report = scan_json(&db, t.path(), &[]);
        let f = finding(&report, "key-unprotected");
        assert_eq!(f["severity"], "high", "[{}]", db.name);
        assert!(
            f.get("waiver").is_none(),
            "[{}] no waiver key when absent",
            db.name
        );
        let key = f["asset"].as_str().unwrap().to_string();
        assert_eq!(
            code(&db, &["scan", dir, "--quiet", "--fail-on", "high"], &[]).0,
            1
        );

        let out = ok(
            &db,
            &[
                "waive",
                "key-unprotected",
                &key,
                "--reason",
                "vendor appliance cannot read encrypted keys; replacement ordered",
                "--until",
                "2099-12-31",
                "--by",
                "alice",
            ],
        );
        assert!(out.contains("2099-12-31T23:59:59Z"), "[{}] {out}", db.name);

        // Waived: still reported, marked, and not counted by --fail-on.
        let (c, summary, err) = code(&db, &["scan", dir, "--quiet", "--fail-on", "high"], &[]);
        assert_eq!(c, 0, "[{}] {summary} {err}", db.name);
        assert!(
            summary.contains("key-unprotected")
                && summary.contains("(waived by alice until 2099-12-31T23:59:59Z)"),
            "[{}] {summary}",
            db.name
        );
        assert!(summary.contains("1 waived"), "[{}] {summary}", db.name);
        let report = scan_json(&db, t.path(), &[]);
        let w = &finding(&report, "key-unprotected")["waiver"];
        assert_eq!(w["by"], "alice", "[{}] {report}", db.name);
        assert_eq!(w["until"], "2099-12-31T23:59:59Z");
        assert!(w["reason"].as_str().unwrap().contains("vendor appliance"));
        assert!(finding(&report, "asset-unowned").get("waiver").is_none());
        // --no-store does not read the store, so no waivers apply.
        assert_eq!(
            code(
                &db,
                &["scan", dir, "--quiet", "--no-store", "--fail-on", "high"],
                &[]
            )
            .0,
            1
        );

        let list = json(&db, &["waivers", "-f", "json"], &[]);
        assert_eq!(list.as_array().unwrap().len(), 1, "[{}] {list}", db.name);
        assert_eq!(list[0]["status"], "active");
        assert_eq!(list[0]["asset"], key.as_str());

        // The day after: the waiver has expired and the finding is raised again.
        let later = ["--now", "2100-01-01T00:00:00Z"];
        let (c, summary, _) = code(&db, &["scan", dir, "--quiet", "--fail-on", "high"], &later);
        assert_eq!(c, 1, "[{}] {summary}", db.name);
        assert!(
            summary.contains("(waiver by alice expired 2099-12-31T23:59:59Z)")
                && summary.contains("1 raised again (waiver expired)"),
            "[{}] {summary}",
            db.name
        );
        let report = scan_json(&db, t.path(), &later);
        let f = finding(&report, "key-unprotected");
        assert!(f.get("waiver").is_none(), "[{}] {f}", db.name);
        assert_eq!(f["evidence"]["waiver_expired"], "2099-12-31T23:59:59Z");
        let list = json(&db, &["waivers", "-f", "json"], &later);
        assert_eq!(list[0]["status"], "expired", "[{}]", db.name);

        // The grant is in the audit log, and the chain still verifies.
        let events = ok(&db, &["audit", "export"]);
        let granted: Vec<&str> = events
            .lines()
            .filter(|l| l.contains("\"waiver-granted\""))
            .collect();
        assert_eq!(granted.len(), 1, "[{}] {events}", db.name);
        assert!(granted[0].contains("alice") && granted[0].contains(&key));
        assert!(
            ok(&db, &["audit", "verify"]).contains("intact"),
            "[{}]",
            db.name
        );
    }
}

#[test]
fn a_revoked_waiver_no_longer_applies() {
    for db in backends("revoke") {
        let t = key_tree();
        let dir = t.path().to_str().unwrap();
        let report = scan_json(&db, t.path(), &[]);
        let key = finding(&report, "key-unprotected")["asset"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &db,
            &[
                "waive",
                "key-unprotected",
                &key,
                "--reason",
                "migration window",
                "--until",
                "2099-06-30T12:00:00+02:00",
                "--by",
                "alice",
            ],
        );
        let list = json(&db, &["waivers", "-f", "json"], &[]);
        assert_eq!(
            list[0]["until"], "2099-06-30T10:00:00Z",
            "[{}] stored as UTC",
            db.name
        );
        let id = list[0]["id"].to_string();
        assert_eq!(
            code(&db, &["scan", dir, "--quiet", "--fail-on", "high"], &[]).0,
            0
        );
        ok(&db, &["waive", "--revoke", &id, "--by", "bob"]);
        assert_eq!(
            code(&db, &["scan", dir, "--quiet", "--fail-on", "high"], &[]).0,
            1
        );
        let list = json(&db, &["waivers", "-f", "json"], &[]);
        assert_eq!(list[0]["status"], "revoked", "[{}]", db.name);
        assert_eq!(list[0]["revoked_by"], "bob");
        let events = ok(&db, &["audit", "export"]);
        assert!(events.contains("\"waiver-revoked\""), "[{}]", db.name);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
        // Revoking twice, or an unknown waiver, is an error.
        assert_eq!(
            code(&db, &["waive", "--revoke", &id, "--by", "bob"], &[]).0,
            2
        );
        assert_eq!(
            code(&db, &["waive", "--revoke", "999", "--by", "bob"], &[]).0,
            2
        );
    }
}

#[test]
fn bad_waivers_are_refused_with_exit_2() {
    for db in backends("refuse") {
        let t = key_tree();
        let report = scan_json(&db, t.path(), &[]);
        let key = finding(&report, "key-unprotected")["asset"]
            .as_str()
            .unwrap()
            .to_string();
        let waive = |rule: &str, asset: &str, until: &str| {
            code(
                &db,
                &[
                    "waive", rule, asset, "--reason", "because", "--until", until, "--by", "alice",
                ],
                &[],
            )
        };
        let (c, _, err) = waive("no-such-rule", &key, "2099-01-01");
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("unknown rule \"no-such-rule\""),
            "[{}] {err}",
            db.name
        );
        let (c, _, err) = waive("key-unprotected", &key, "2020-01-01");
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(err.contains("not in the future"), "[{}] {err}", db.name);
        let (c, _, err) = waive("key-unprotected", &key, "next tuesday");
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(err.contains("bad date"), "[{}] {err}", db.name);
        let (c, _, err) = waive("key-unprotected", "key_0000000000000000", "2099-01-01");
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(err.contains("no asset with id"), "[{}] {err}", db.name);
        // X.509 lints are rules too, of certificates only: not on a key.
        let (c, _, err) = waive("x509-serial-zero", &key, "2099-01-01");
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("is a private-key, and x509-serial-zero applies only to certificate"),
            "[{}] {err}",
            db.name
        );
        // Nothing refused was recorded.
        let list = json(&db, &["waivers", "-f", "json"], &[]);
        assert_eq!(list.as_array().unwrap().len(), 0, "[{}] {list}", db.name);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
    }
}

/// Two custom Rego rules on every private key: one high, one low.
const CUSTOM_RULES: &str = r#"package trustmap.custom

import rego.v1

findings contains f if {
	input.asset.kind == "private-key"
	f := {"id": "org-no-keys-in-repo", "severity": "high", "message": "private key in the repository"}
}

findings contains f if {
	input.asset.kind == "private-key"
	f := {"id": "org-key-registered", "severity": "low", "message": "key not in the key register"}
}
"#;

#[test]
fn custom_rego_findings_can_be_waived() {
    for db in backends("rego") {
        let t = key_tree();
        let dir = t.path().to_str().unwrap();
        let rules = tempfile::tempdir().unwrap();
        let rego_file = rules.path().join("org.rego");
        std::fs::write(&rego_file, CUSTOM_RULES).unwrap();
        let rego = rego_file.to_str().unwrap();
        let scan = |args: &[&str], extra: &[&str]| {
            let mut all = vec!["scan", dir, "--quiet", "--rego", rego];
            all.extend_from_slice(args);
            code(&db, &all, extra)
        };
        let (_, out, err) = scan(&["--format", "json"], &[]);
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        let custom = finding(&report, "org-no-keys-in-repo");
        assert_eq!(custom["severity"], "high", "[{}] {custom}", db.name);
        let key = custom["asset"].as_str().unwrap().to_string();
        assert_eq!(finding(&report, "key-unprotected")["asset"], key.as_str());
        let grant = |rule: &str, rego: Option<&str>| {
            let mut args = vec![
                "waive",
                rule,
                &key,
                "--reason",
                "test fixture key, never deployed",
                "--until",
                "2099-12-31",
                "--by",
                "alice",
            ];
            if let Some(r) = rego {
                args.extend_from_slice(&["--rego", r]);
            }
            code(&db, &args, &[])
        };

        // The built-in high finding waived, the custom one still fails the gate.
        assert_eq!(grant("key-unprotected", None).0, 0, "[{}]", db.name);
        let (c, summary, err) = scan(&["--fail-on", "high"], &[]);
        assert_eq!(c, 1, "[{}] {summary} {err}", db.name);

        // A custom id needs the rule files, and must be one of theirs.
        let (c, _, err) = grant("org-no-keys-in-repo", None);
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("unknown rule \"org-no-keys-in-repo\"")
                && err.contains("pass its rules with --rego FILE|DIR"),
            "[{}] {err}",
            db.name
        );
        let (c, _, err) = grant("org-no-key-in-repo", Some(rego));
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("not in the --rego files (did you mean org-no-keys-in-repo?)"),
            "[{}] {err}",
            db.name
        );
        // A typo of a built-in id is still caught, with a suggestion.
        let (c, _, err) = grant("key-unprotcted", None);
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("did you mean key-unprotected?"),
            "[{}] {err}",
            db.name
        );
        assert_eq!(
            json(&db, &["waivers", "-f", "json"], &[])
                .as_array()
                .unwrap()
                .len(),
            1,
            "[{}] refused waivers are not recorded",
            db.name
        );

        let (c, out, err) = grant("org-no-keys-in-repo", Some(rego));
        assert_eq!(c, 0, "[{}] {err}", db.name);
        assert!(
            out.contains("org-no-keys-in-repo on ") && out.contains("until 2099-12-31T23:59:59Z"),
            "[{}] {out}",
            db.name
        );
        assert!(
            err.contains("note: org-no-keys-in-repo is a custom Rego rule"),
            "[{}] {err}",
            db.name
        );
        // A directory works as with `scan --rego`.
        let rules_dir = rules.path().to_str().unwrap();
        assert_eq!(
            grant("org-key-registered", Some(rules_dir)).0,
            0,
            "[{}]",
            db.name
        );

        // Both custom findings are now reported as waived and no longer fail the gate.
        let (c, summary, err) = scan(&["--fail-on", "high"], &[]);
        assert_eq!(c, 0, "[{}] {summary} {err}", db.name);
        assert!(
            summary.contains("org-no-keys-in-repo")
                && summary.contains(
                    "private key in the repository [unowned] (waived by alice until 2099-12-31T23:59:59Z)"
                ),
            "[{}] {summary}",
            db.name
        );
        // The low one is counted by rule, and the count says it is waived.
        assert!(
            summary.contains("org-key-registered     1 asset (1 waived)"),
            "[{}] {summary}",
            db.name
        );
        assert!(
            summary.contains("Waivers: 3 waived"),
            "[{}] {summary}",
            db.name
        );
        let (_, out, _) = scan(&["--format", "json"], &[]);
        let report: Value = serde_json::from_str(&out).unwrap();
        for rule in ["org-no-keys-in-repo", "org-key-registered"] {
            let w = &finding(&report, rule)["waiver"];
            assert_eq!(w["by"], "alice", "[{}] {rule}: {report}", db.name);
            assert_eq!(w["until"], "2099-12-31T23:59:59Z");
        }

        // Expired, the custom finding is raised again like a built-in one.
        let later = ["--now", "2100-01-01T00:00:00Z"];
        let (c, summary, _) = scan(&["--fail-on", "high"], &later);
        assert_eq!(c, 1, "[{}] {summary}", db.name);
        assert!(
            summary.contains("org-key-registered     1 asset (1 waiver expired)"),
            "[{}] {summary}",
            db.name
        );
    }
}
