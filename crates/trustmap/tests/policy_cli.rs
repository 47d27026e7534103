//! The policy from the command line: `trustmap init`, `trustmap rules`, `--policy` and the
//! default `trustmap.toml` in the scanned root, and errors that name file, line and field.

mod common;

use common::trustmap;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn rules_found(dir: &Path, extra: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec![
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--no-store",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = trustmap(&args);
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
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
    let st = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(dir.join(name))
        .output()
        .unwrap();
    assert!(st.status.success());
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
    std::fs::write(d.join("trustmap.toml"), edited).unwrap();
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
    let ssl = |args: &[&str]| {
        let st = Command::new("openssl")
            .current_dir(d)
            .args(args)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
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
    std::fs::write(
        d.join("trustmap.toml"),
        format!("[trust]\nroots = [\"{fp}\"]\n"),
    )
    .unwrap();
    assert!(untrusted(&rules_found(d, &[])).is_empty());
}

#[test]
fn key_age_for_rotation_comes_from_the_inventory_history() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("tree");
    std::fs::create_dir(&d).unwrap();
    let st = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(d.join("signing.key"))
        .output()
        .unwrap();
    assert!(st.status.success());
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
