//! The policy from the command line: `trustmap init`, `trustmap rules`, `--policy` and the
//! default `trustmap.toml` in the scanned root, and errors that name file, line and field.

use crate::common::{openssl, scan_json, trustmap};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn rules_found(dir: &Path, extra: &[&str]) -> Vec<(String, String, String)> {
    let r = scan_json(dir, extra);
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// An unencrypted EC key at `dir/name`.
fn key(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir.join(name).parent().unwrap()).unwrap();
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            name,
        ],
    );
}

#[test]
fn init_writes_a_policy_that_scans_use_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, out, _) = trustmap(&["init", d.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("trustmap.toml"));
    let text = std::fs::read_to_string(d.join("trustmap.toml")).unwrap();
    assert!(text.contains("[expiry]") && text.contains("private_max_days = 398"));
    let (code, _, err) = trustmap(&["init", d.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("exists"), "{err}");

    key(d, "app/server.key");
    key(d, "tests/fixture.key");
    let found = rules_found(d, &[]);
    let sev = |rule: &str, path: &str| {
        found
            .iter()
            .find(|(r, _, p)| r == rule && p == path)
            .map(|(_, s, _)| s.clone())
    };
    assert_eq!(
        sev("key-unprotected", "app/server.key").as_deref(),
        Some("high")
    );
    assert_eq!(
        sev("key-unprotected", "tests/fixture.key").as_deref(),
        Some("high")
    );

    // Edit the policy in the root: re-grade a rule, switch one off, scope tests/ to info.
    let edited = text.replace(
        "[rules]\n",
        "[rules]\nkey-quantum-vulnerable = \"off\"\nkey-unprotected = \"critical\"\n",
    ) + "\n[[scope]]\npath = \"tests/**\"\nseverity = \"info\"\n";
    let policy = d.join("trustmap.toml");
    std::fs::write(&policy, edited).unwrap();
    // Found in the scanned tree, it may only tighten: the re-grade up applies, the rule
    // switched off and the scope down to info do not.
    let found = rules_found(d, &[]);
    let sev = |rule: &str, path: &str| {
        found
            .iter()
            .find(|(r, _, p)| r == rule && p == path)
            .map(|(_, s, _)| s.clone())
    };
    assert_eq!(
        sev("key-unprotected", "app/server.key").as_deref(),
        Some("critical")
    );
    assert_eq!(
        sev("key-unprotected", "tests/fixture.key").as_deref(),
        Some("critical")
    );
    assert!(
        found.iter().any(|(r, _, _)| r == "key-quantum-vulnerable"),
        "{found:?}"
    );
    // Named with --policy, the person running the scan chose it: it applies as written.
    let found = rules_found(d, &["--policy", policy.to_str().unwrap()]);
    let sev = |rule: &str, path: &str| {
        found
            .iter()
            .find(|(r, _, p)| r == rule && p == path)
            .map(|(_, s, _)| s.clone())
    };
    assert_eq!(
        sev("key-unprotected", "app/server.key").as_deref(),
        Some("critical")
    );
    assert_eq!(
        sev("key-unprotected", "tests/fixture.key").as_deref(),
        Some("info")
    );
    assert!(
        found.iter().all(|(r, _, _)| r != "key-quantum-vulnerable"),
        "{found:?}"
    );
}

#[test]
fn a_bad_policy_file_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    key(d, "a.key");
    let policy = d.join("strict.toml");
    std::fs::write(
        &policy,
        "[expiry]\nmedium = 30\n\n[keys.min_bits]\nRSA = -5\n",
    )
    .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("strict.toml:5") && err.contains("RSA"),
        "{err}"
    );

    std::fs::write(&policy, "[rules]\nno-such-rule = \"off\"\n").unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("strict.toml:2") && err.contains("no-such-rule"),
        "{err}"
    );
}

#[test]
fn rules_lists_the_catalogue_and_explains_one() {
    let (code, out, _) = trustmap(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "cert-expired",
        "key-ca-exposed",
        "secret-plaintext",
        "asset-unowned",
        "key-quantum-vulnerable",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    assert!(v["x509_lints"].as_array().unwrap().len() >= 25);
    let (code, out, _) = trustmap(&["rules", "show", "cert-validity-too-long"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("SC-081") && out.contains("frameworks:"),
        "{out}"
    );
    let (code, out, _) = trustmap(&["rules", "show", "x509-serial-zero"]);
    assert_eq!(code, 0);
    assert!(out.contains("citation:"), "{out}");
    let (code, _, err) = trustmap(&["rules", "show", "cert-expird"]);
    assert_eq!(code, 2);
    assert!(err.contains("no rule"), "{err}");
}

#[test]
fn a_private_root_trusted_in_the_policy_stops_untrusted_root_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ssl = |args: &[&str]| openssl(d, args);
    ssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "3650",
        "-subj",
        "/CN=Private Root",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    ssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=svc.internal",
    ]);
    ssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.crt",
        "-days",
        "90",
    ]);
    for f in ["leaf.csr", "ca.srl", "ca.key"] {
        std::fs::remove_file(d.join(f)).unwrap();
    }
    let untrusted = |found: &[(String, String, String)]| -> Vec<String> {
        let mut v: Vec<String> = found
            .iter()
            .filter(|(r, _, _)| r == "cert-untrusted-root")
            .map(|(_, _, p)| p.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(untrusted(&rules_found(d, &[])), ["ca.crt", "leaf.crt"]);

    let der = Command::new("openssl")
        .current_dir(d)
        .args(["x509", "-in", "ca.crt", "-outform", "DER"])
        .output()
        .unwrap()
        .stdout;
    let fp = trustmap_core::fingerprint(&der);
    let policy = d.join("trustmap.toml");
    std::fs::write(&policy, format!("[trust]\nroots = [\"{fp}\"]\n")).unwrap();
    // Trusting a root loosens the gate: a tree's own policy cannot do it...
    assert_eq!(untrusted(&rules_found(d, &[])), ["ca.crt", "leaf.crt"]);
    // ... the person running the scan can.
    let chosen = ["--policy", policy.to_str().unwrap()];
    assert!(untrusted(&rules_found(d, &chosen)).is_empty());
}

#[test]
fn key_age_for_rotation_comes_from_the_inventory_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("tree");
    std::fs::create_dir(&d).unwrap();
    openssl(
        &d,
        &["genpkey", "-algorithm", "ed25519", "-out", "signing.key"],
    );
    let db = dir.path().join("inventory.db");
    let db = db.to_str().unwrap();
    let rotation = |extra: &[&str]| -> usize {
        let mut args = vec![
            "scan",
            d.to_str().unwrap(),
            "--format",
            "json",
            "-q",
            "--db",
            db,
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = trustmap(&args);
        assert_eq!(code, 0, "{err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "key-rotation-overdue")
            .count()
    };
    assert_eq!(rotation(&[]), 0, "a key first seen today is not overdue");
    // The inventory says the key has been around since 2019.
    let py = format!(
        "import sqlite3; c = sqlite3.connect({db:?}); c.execute(\"UPDATE assets SET first_seen = '2019-01-01T00:00:00Z' WHERE kind = 'private-key'\"); c.commit()"
    );
    assert!(
        Command::new("python3")
            .args(["-c", &py])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(rotation(&[]), 1, "older than its cryptoperiod");
    assert_eq!(
        rotation(&["--no-store"]),
        0,
        "without the inventory there is no history"
    );
}

/// (severity of key-unprotected on `path`, scan.policy) for a scan of `root`.
fn unprotected(root: &Path, path: &str, extra: &[&str]) -> (Option<String>, Value) {
    let mut args = vec!["scan", root.to_str().unwrap(), "-f", "json", "--no-store"];
    args.extend_from_slice(extra);
    let (code, out, err) = trustmap(&args);
    assert!(code == 0 || code == 1, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let sev = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "key-unprotected" && f["path"] == path)
        .map(|f| f["severity"].as_str().unwrap().to_string());
    (sev, r["scan"]["policy"].clone())
}

fn grade(dir: &Path, severity: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("trustmap.toml"),
        format!("[rules]\nkey-unprotected = \"{severity}\"\n"),
    )
    .unwrap();
}

#[test]
fn the_policy_is_found_up_to_the_repository_root_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let outer = dir.path();
    let repo = outer.join("repo");
    let sub = repo.join("pol/sub");
    key(&sub, "a.key");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    // Outside the repository: never applies to what is inside it.
    grade(outer, "info");
    assert_eq!(
        unprotected(&sub, "a.key", &[]),
        (Some("high".into()), Value::Null)
    );
    // The repository root's policy applies to a directory deep inside it...
    grade(&repo, "critical");
    let (sev, policy) = unprotected(&sub, "a.key", &[]);
    assert_eq!(sev.as_deref(), Some("critical"));
    let shown = policy.as_str().unwrap().to_string();
    assert!(shown.ends_with("repo/trustmap.toml"), "{shown}");
    // ... and the summary says which file judged the scan.
    let (_, out, _) = trustmap(&["scan", sub.to_str().unwrap(), "--no-store"]);
    assert!(out.contains(&format!("Policy: {shown}\n")), "{out}");
    // The nearest one wins (`trustmap scan pol/sub` reads pol/trustmap.toml), for a file
    // root too; found in the tree, it cannot grade below the default (high).
    grade(&repo.join("pol"), "low");
    let (sev, policy) = unprotected(&sub, "a.key", &[]);
    assert_eq!(sev.as_deref(), Some("high"));
    assert!(policy.as_str().unwrap().ends_with("repo/pol/trustmap.toml"));
    let (sev, _) = unprotected(&sub.join("a.key"), "a.key", &[]);
    assert_eq!(sev.as_deref(), Some("high"));
    let r = crate::common::scan_json(&sub, &[]);
    assert_eq!(
        r["scan"]["policy_ignored"],
        serde_json::json!(["rules.key-unprotected = \"low\" (below its default high)"])
    );
    let (_, out, _) = trustmap(&["scan", sub.to_str().unwrap(), "--no-store"]);
    assert!(
        out.contains("1 setting that would loosen it was ignored")
            && out.contains("    rules.key-unprotected = \"low\" (below its default high)"),
        "{out}"
    );
    // --policy wins over the discovered file, and is named as given.
    let explicit = outer.join("strict.toml");
    std::fs::write(&explicit, "[rules]\nkey-unprotected = \"medium\"\n").unwrap();
    let (sev, policy) = unprotected(&sub, "a.key", &["--policy", explicit.to_str().unwrap()]);
    assert_eq!(sev.as_deref(), Some("medium"));
    assert_eq!(policy, explicit.to_str().unwrap());

    // Without a repository, nothing above the scanned directory applies (a trustmap.toml
    // dropped in /tmp must not steer scans below it); its own directory still does.
    let plain = outer.join("plain");
    key(&plain.join("x"), "b.key");
    grade(&plain, "critical");
    assert_eq!(
        unprotected(&plain.join("x"), "b.key", &[]),
        (Some("high".into()), Value::Null)
    );
    assert_eq!(
        unprotected(&plain, "x/b.key", &[]).0.as_deref(),
        Some("critical")
    );

    // Roots governed by different policies: an error that says to choose one.
    let (code, _, err) = trustmap(&[
        "scan",
        sub.to_str().unwrap(),
        plain.to_str().unwrap(),
        "--no-store",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--policy"), "{err}");
}

#[test]
fn a_scanned_trees_policy_cannot_loosen_the_gate_given_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    key(repo, "app/server.key");
    let app = repo.join("app");
    // The tree's policy tightens and loosens other rules; the gate stays the caller's:
    // --fail-on high fails on the high key-unprotected finding.
    std::fs::write(
        repo.join("trustmap.toml"),
        "[rules]\nasset-unowned = \"off\"\nkey-quantum-vulnerable = \"off\"\n",
    )
    .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        app.to_str().unwrap(),
        "--no-store",
        "--fail-on",
        "high",
    ]);
    assert_eq!(code, 1, "{err}");
    // A policy file cannot set the gate at all: such a key is refused (exit 2, never 0),
    // naming the line and field.
    for text in [
        "fail_on = \"critical\"\n\n[rules]\nasset-unowned = \"off\"\n",
        "[gate]\nfail_on = \"critical\"\n",
    ] {
        std::fs::write(repo.join("trustmap.toml"), text).unwrap();
        let (code, _, err) = trustmap(&[
            "scan",
            app.to_str().unwrap(),
            "--no-store",
            "--fail-on",
            "high",
        ]);
        assert_eq!(code, 2, "{text}");
        assert!(
            err.contains("trustmap.toml:") && err.contains("unknown field"),
            "{err}"
        );
    }
}

#[test]
fn secret_rules_are_in_the_catalogue_without_their_samples() {
    let (code, out, _) = trustmap(&["rules", "--secrets"]);
    assert_eq!(code, 0);
    let set = trustmap_discover::secrets::RuleSet::builtin();
    assert!(
        out.starts_with(&format!("{} secret rules\n", set.len())),
        "{out}"
    );
    for r in set.rules() {
        assert!(out.contains(&format!("  {} ", r.id)), "{} missing", r.id);
    }
    let (code, out, _) = trustmap(&["rules"]);
    assert_eq!(code, 0);
    assert!(out.contains("trustmap rules --secrets"), "{out}");

    let (code, out, err) = trustmap(&["rules", "show", "aws-access-key-id"]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "aws-access-key-id (high)",
        "AWS access key id",
        "AKIA",
        "entropy of at least 2.5",
        "not checked with the provider",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let (code, out, _) = trustmap(&["rules", "show", "jwt"]);
    assert_eq!(code, 0);
    assert!(out.contains("validated offline: jwt"), "{out}");
    // Never a sample secret, in the text or the JSON.
    let (_, json, _) = trustmap(&["rules", "--secrets", "-f", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["secret_rules"].as_array().unwrap().len(), set.len());
    assert!(v["secret_rules"][0].get("examples").is_none());
    for r in set.rules() {
        let (_, shown, _) = trustmap(&["rules", "show", &r.id]);
        for e in r.examples.iter().filter_map(|e| e.secret.as_deref()) {
            assert!(
                !shown.contains(e) && !json.contains(e),
                "{}: sample shown",
                r.id
            );
        }
    }
    let (code, _, err) = trustmap(&["rules", "show", "aws-access-key"]);
    assert_eq!(code, 2);
    assert!(err.contains("aws-access-key-id"), "{err}");
}

#[test]
fn expiry_windows_by_lifetime_from_the_policy_file() {
    // A 90-day certificate judged 80 days in (10 left): the default windows make it medium
    // (a fifth of 90 days is 18), not high (a tenth is 9); fractions of 1 restore the
    // fixed 14-day high window.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::common::ec_cert(d, "acme", "90");
    let now = (time::OffsetDateTime::now_utc() + time::Duration::days(80))
        .date()
        .to_string();
    let sev = |extra: &[&str]| {
        let mut args = vec!["scan", d.to_str().unwrap(), "-f", "json", "--no-store"];
        args.extend_from_slice(&["--now", &now]);
        args.extend_from_slice(extra);
        let (code, out, err) = trustmap(&args);
        assert_eq!(code, 0, "{err}");
        let r: Value = serde_json::from_str(&out).unwrap();
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "cert-expiring")
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(sev(&[]).as_deref(), Some("medium"));
    let fixed = d.join("fixed.toml");
    std::fs::write(
        &fixed,
        "[expiry.lifetime_fraction]\ncritical = 1\nhigh = 1\nmedium = 1\n",
    )
    .unwrap();
    assert_eq!(
        sev(&["--policy", fixed.to_str().unwrap()]).as_deref(),
        Some("high")
    );
    // A bad value names the file, line and field.
    std::fs::write(
        &fixed,
        "[expiry]\nhigh = 14\n\n[expiry.lifetime_fraction]\nhigh = 10\n",
    )
    .unwrap();
    let (code, _, err) = trustmap(&[
        "scan",
        d.to_str().unwrap(),
        "--no-store",
        "--policy",
        fixed.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("fixed.toml:5") && err.contains("expiry.lifetime_fraction.high"),
        "{err}"
    );
}
