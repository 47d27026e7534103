//! CI gates and post-quantum readiness from the command line: `trustmap baseline`,
//! `scan --baseline --fail-on`, `trustmap pqc`. Every scan runs with `--no-store`.

use crate::common::{ec_cert, openssl, trustmap};
use base64::Engine as _;
use serde_json::Value;
use std::path::Path;

fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = trustmap(args);
    assert!(code == 0 || code == 1, "{args:?}: {code} {err}");
    (code, serde_json::from_str(&out).expect("JSON on stdout"))
}

fn findings(r: &Value) -> &Vec<Value> {
    r["findings"].as_array().unwrap()
}

#[test]
fn baseline_fails_only_on_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("trustmap-baseline.json");
    let (ds, bs) = (d.to_str().unwrap(), base.to_str().unwrap());
    // A self-signed certificate and its unprotected key: high findings from day one.
    ec_cert(d, "old", "365");

    let (code, stdout, err) = trustmap(&["baseline", ds, "--no-store", "-q", "--output", bs]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("wrote") && stdout.contains(bs), "{stdout}");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert_eq!(file["trustmap_baseline"], 1);
    let entries = file["findings"].as_array().unwrap();
    assert!(!entries.is_empty());
    let keys: Vec<&str> = entries.iter().map(|e| e["key"].as_str().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "sorted, one per key");
    for e in entries {
        let k = e["key"].as_str().unwrap();
        let (rule, asset, path) = (
            e["rule"].as_str().unwrap(),
            e["asset"].as_str().unwrap(),
            e["path"].as_str().unwrap(),
        );
        assert_eq!(k, format!("{rule}:{asset}:{path}"));
        assert!(e["severity"].is_string() && e.get("line").is_none());
    }

    // Without the baseline the old high findings fail the gate; with it they do not.
    let (code, _, _) = trustmap(&["scan", ds, "--no-store", "-q", "--fail-on", "high"]);
    assert_eq!(code, 1);
    let scan = |extra: &[&str]| {
        let mut a = vec![
            "scan",
            ds,
            "--no-store",
            "-q",
            "--fail-on",
            "high",
            "--baseline",
            bs,
        ];
        a.extend_from_slice(extra);
        trustmap(&a)
    };
    // The key moves down its file (its line drifts): still the same finding.
    let pem = std::fs::read_to_string(d.join("old.key")).unwrap();
    std::fs::write(d.join("old.key"), format!("# rotated 2026\n\n{pem}")).unwrap();
    let (code, _, err) = scan(&[]);
    assert_eq!(code, 0, "{err}");
    let (code, r) = json(&[
        "scan",
        ds,
        "--no-store",
        "-q",
        "-f",
        "json",
        "--baseline",
        bs,
    ]);
    assert_eq!(code, 0);
    assert!(
        findings(&r)
            .iter()
            .all(|f| f["baselined"] == Value::Bool(true)),
        "{r:#}"
    );
    let (_, text, _) = scan(&[]);
    assert!(text.contains(", 0 new since the baseline)"), "{text}");

    // A new unprotected key: the gate fails, and only the new findings are not baselined.
    openssl(
        d,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "new.key",
        ],
    );
    let (code, text, _) = scan(&[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("new since the baseline)"), "{text}");
    let (code, r) = json(&[
        "scan",
        ds,
        "--no-store",
        "-q",
        "-f",
        "json",
        "--fail-on",
        "high",
        "--baseline",
        bs,
    ]);
    assert_eq!(code, 1);
    let new: Vec<&Value> = findings(&r)
        .iter()
        .filter(|f| f.get("baselined").is_none())
        .collect();
    assert!(!new.is_empty());
    assert!(new.iter().all(|f| f["path"] == "new.key"), "{new:#?}");
    assert!(
        new.iter()
            .any(|f| f["rule"] == "key-unprotected" && f["severity"] == "high")
    );
    let old = findings(&r).len() - new.len();
    assert_eq!(old, entries.len(), "every old finding is baselined");
    assert!(
        text.contains(&format!(
            "({} findings, {} new since the baseline)",
            findings(&r).len(),
            new.len()
        )),
        "{text}"
    );
}

#[test]
fn a_missing_or_malformed_baseline_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ec_cert(d, "svc", "30");
    let ds = d.to_str().unwrap();
    let other = tempfile::tempdir().unwrap();
    let cases = [
        ("missing.json", None),
        ("garbage.json", Some("{not json")),
        ("wrong.json", Some(r#"{"findings": []}"#)),
        (
            "future.json",
            Some(r#"{"trustmap_baseline": 9, "findings": []}"#),
        ),
    ];
    for (name, text) in cases {
        let path = other.path().join(name);
        if let Some(t) = text {
            std::fs::write(&path, t).unwrap();
        }
        let p = path.to_str().unwrap();
        let (code, out, err) = trustmap(&["scan", ds, "--no-store", "-q", "--baseline", p]);
        assert_eq!(code, 2, "{name}: {out}");
        assert!(err.contains(p), "{name}: {err}");
        assert!(out.is_empty(), "fails before scanning: {out}");
    }
}

/// A SubjectPublicKeyInfo with the ML-DSA-44 OID and a (dummy) 1312-byte key, as PEM.
fn ml_dsa_44_pem() -> String {
    let oid = [
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11,
    ];
    let mut alg = vec![0x30, oid.len() as u8];
    alg.extend(oid);
    let key_len = 1312 + 1; // unused-bits byte
    let mut bits = vec![0x03, 0x82, (key_len >> 8) as u8, key_len as u8, 0x00];
    bits.extend((0..1312u32).map(|i| (i * 7 + 3) as u8));
    let body_len = alg.len() + bits.len();
    let mut spki = vec![0x30, 0x82, (body_len >> 8) as u8, body_len as u8];
    spki.extend(alg);
    spki.extend(bits);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&spki);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

/// A root CA (RSA 2048, ten years) and a leaf it signs (EC P-256, valid longer than the CA).
fn pki(d: &Path) {
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/CN=Test Root CA",
        ],
    );
    openssl(
        d,
        &[
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
            "/CN=leaf.example.test",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-days",
            "5000", "-out", "leaf.crt",
        ],
    );
    std::fs::remove_file(d.join("leaf.csr")).unwrap();
}

#[test]
fn pqc_counts_vulnerable_assets_and_ranks_ca_keys_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    pki(d);
    std::fs::write(d.join("ml-dsa.pub"), ml_dsa_44_pem()).unwrap();
    let ds = d.to_str().unwrap();

    let (code, r) = json(&["pqc", ds, "--no-store", "-q", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(r["deprecated_after"], 2030);
    assert_eq!(r["disallowed_after"], 2035);
    // ca.crt, ca.key, leaf.crt, leaf.key are vulnerable; the ML-DSA key is not.
    assert_eq!(r["quantum_vulnerable"]["vulnerable"], 4, "{r:#}");
    assert_eq!(r["quantum_vulnerable"]["total"], 5, "{r:#}");
    assert_eq!(r["quantum_vulnerable"]["percent"], 80.0);
    assert_eq!(r["by_kind"]["public-key"]["vulnerable"], 0, "{r:#}");
    assert_eq!(r["by_kind"]["public-key"]["total"], 1);
    assert_eq!(r["by_kind"]["certificate"]["vulnerable"], 2);
    assert_eq!(r["by_owner"]["unowned"]["total"], 5);
    // RSA 2048 is 112-bit: deprecated after 2030 already (the CA's certificate and key).
    assert_eq!(r["deprecated_after_2030"], 2);

    let plan = r["migrate_first"].as_array().unwrap();
    let paths: Vec<&str> = plan.iter().map(|p| p["path"].as_str().unwrap()).collect();
    // The CA first although the leaf lives longer; the CA's key before its certificate.
    assert_eq!(paths, ["ca.key", "ca.crt", "leaf.key", "leaf.crt"], "{r:#}");
    assert_eq!(plan[0]["ca"], true);
    assert_eq!(plan[2]["ca"], false);
    assert!(plan[0]["why"].as_str().unwrap().contains("root CA"));
    for p in plan {
        for field in ["rank", "id", "label", "owner", "why"] {
            assert!(!p[field].is_null(), "{field}: {p:#}");
        }
    }

    let (code, text, _) = trustmap(&["pqc", ds, "--no-store", "-q"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("4 of 5 certificates and keys quantum-vulnerable (80%)"),
        "{text}"
    );
    assert!(
        text.contains("Migrate first") && text.contains("ca.key"),
        "{text}"
    );
    assert!(!text.contains("ml-dsa.pub"), "{text}");

    // The scan summary carries a one-line readiness note.
    let (_, text, _) = trustmap(&["scan", ds, "--no-store", "-q"]);
    assert!(
        text.contains("Post-quantum readiness: 4 of 5 certificates and keys quantum-vulnerable; IR 8547 (draft): deprecated after 2030, disallowed after 2035"),
        "{text}"
    );
}

#[test]
fn pqc_ranks_keys_without_certificates_by_age_from_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = tempfile::tempdir().unwrap();
    let db = db.path().join("inventory.db");
    let (ds, dbs) = (d.to_str().unwrap(), db.to_str().unwrap());
    let genkey = |name: &str| {
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                name,
            ],
        )
    };
    genkey("old.key");
    let (code, _, err) = trustmap(&["scan", ds, "-q", "--db", dbs]);
    assert_eq!(code, 0, "{err}");
    // first_seen has second precision
    std::thread::sleep(std::time::Duration::from_millis(1100));
    genkey("new.key");
    let (code, r) = json(&["pqc", ds, "-q", "--db", dbs, "--format", "json"]);
    assert_eq!(code, 0);
    let plan = r["migrate_first"].as_array().unwrap();
    let paths: Vec<&str> = plan.iter().map(|p| p["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["old.key", "new.key"], "{r:#}");
    let seen: Vec<&str> = plan
        .iter()
        .map(|p| p["first_seen"].as_str().unwrap())
        .collect();
    assert!(seen[0] < seen[1], "{seen:?}");
    assert!(
        plan[0]["why"]
            .as_str()
            .unwrap()
            .contains("in the inventory since")
    );
    // Without the store there is no history: lifetime unknown.
    let (_, r) = json(&["pqc", ds, "-q", "--no-store", "--format", "json"]);
    assert!(r["migrate_first"][0]["first_seen"].is_null());
}

/// Secrets (rule, path) of a JSON report.
fn secrets_at(r: &Value) -> Vec<(String, String)> {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "secret")
        .flat_map(|a| {
            a["occurrences"].as_array().unwrap().iter().map(|o| {
                (
                    a["secret"]["rule"].as_str().unwrap().to_string(),
                    o["path"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

/// Kinds found at a path.
fn kinds_at(r: &Value, path: &str) -> Vec<String> {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["occurrences"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["path"] == path)
        })
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn trustmaps_own_files_are_not_material_yet_hide_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    // A keystore opened by a default password: its findings' keys in a baseline read
    // `keystore-default-password:kst_...:app.p12`, which the generic password rule took
    // for `password: <value>`.
    ec_cert(d, "app", "365");
    openssl(
        d,
        &[
            "pkcs12",
            "-export",
            "-in",
            "app.crt",
            "-inkey",
            "app.key",
            "-out",
            "app.p12",
            "-passout",
            "pass:changeit",
        ],
    );
    // The policy in the tree re-grades that rule: `keystore-default-password = "critical"`.
    std::fs::write(
        d.join("trustmap.toml"),
        "[rules]\nkeystore-default-password = \"critical\"\n",
    )
    .unwrap();
    let base = d.join("trustmap-baseline.json");
    let (code, _, err) = trustmap(&[
        "baseline",
        ds,
        "--no-store",
        "-q",
        "--output",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&base)
            .unwrap()
            .contains("keystore-default-password:kst_")
    );
    // A report an earlier run wrote into the tree.
    std::fs::create_dir(d.join("reports")).unwrap();
    let report = d.join("reports/last.json");
    let (code, _, err) = trustmap(&[
        "scan",
        ds,
        "--no-store",
        "-q",
        "-f",
        "json",
        "--output",
        report.to_str().unwrap(),
    ]);
    assert!(code == 0, "{err}");

    let own = [
        "trustmap-baseline.json",
        "trustmap.toml",
        "reports/last.json",
    ];
    // With the baseline given (identity), and without it (the format marker).
    for extra in [&["--baseline", base.to_str().unwrap()][..], &[]] {
        let args = [&["scan", ds, "--no-store", "-q", "-f", "json"][..], extra].concat();
        let (_, r) = json(&args);
        let s = secrets_at(&r);
        assert!(
            s.iter().all(|(_, p)| !own.contains(&p.as_str())),
            "{extra:?}: {s:?}"
        );
        assert!(kinds_at(&r, "app.p12").contains(&"keystore".to_string()));
    }

    // A name is not an identity: a file called trustmap-baseline.json that is no baseline
    // is scanned like any other.
    let pw = crate::common::generated_token(16);
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::write(
        d.join("other/trustmap-baseline.json"),
        format!("{{\"db_password\": \"{pw}\"}}\n"),
    )
    .unwrap();
    // Being trustmap's hides no material: a file shaped like a baseline still yields the
    // provider token and the private key planted in it.
    let akid = trustmap_discover::secrets::expand_template("AKIA«upper*16»");
    let pem = std::fs::read_to_string(d.join("app.key"))
        .unwrap()
        .replace('\n', "\\n");
    std::fs::write(
        d.join("other/planted.json"),
        format!(
            "{{\"trustmap_baseline\": 1, \"tool\": \"trustmap\", \"findings\": [], \"note\": \"{akid}\", \"key\": \"{pem}\"}}\n"
        ),
    )
    .unwrap();
    let (_, r) = json(&["scan", ds, "--no-store", "-q", "-f", "json"]);
    let s = secrets_at(&r);
    assert!(
        s.contains(&(
            "generic-password".to_string(),
            "other/trustmap-baseline.json".to_string()
        )),
        "{s:?}"
    );
    assert!(
        s.contains(&(
            "aws-access-key-id".to_string(),
            "other/planted.json".to_string()
        )),
        "{s:?}"
    );
    assert!(
        kinds_at(&r, "other/planted.json").contains(&"private-key".to_string()),
        "{r}"
    );
    assert!(s.iter().all(|(_, p)| !own.contains(&p.as_str())), "{s:?}");
}

#[test]
fn a_scanned_trees_own_policy_cannot_lower_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ec_cert(d, "svc", "300");
    // An unprotected key: `key-unprotected` is high, so `--fail-on high` fails the job.
    let gate = ["scan", ds, "--no-store", "--fail-on", "high", "-f", "json"];
    let (code, _) = json(&gate);
    assert_eq!(code, 1);
    // The repository ships a policy that switches everything off, widens every window,
    // trusts a root and excludes its key.
    let hostile = "exclude = [\"*.key\"]\n\n[expiry]\ncritical = 1\nhigh = 2\nmedium = 3\n\n\
        [validity]\nprivate_max_days = 3650\n\n[keys.min_bits]\nRSA = 512\n\n\
        [signatures]\nallowed_hashes = [\"MD5\", \"SHA-1\", \"SHA-256\"]\n\n\
        [trust]\nroots = [\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]\n\n\
        [rules]\nkey-unprotected = \"off\"\ncert-self-signed-leaf = \"info\"\n\n\
        [[scope]]\npath = \"**\"\nseverity = \"off\"\n";
    std::fs::write(d.join("trustmap.toml"), hostile).unwrap();
    let (code, r) = json(&gate);
    assert_eq!(code, 1, "the tree's policy must not turn the gate off");
    assert!(
        findings(&r)
            .iter()
            .any(|f| f["rule"] == "key-unprotected" && f["severity"] == "high"),
        "{r}"
    );
    let ignored: Vec<&str> = r["scan"]["policy_ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for expected in [
        "expiry.critical = 1 (shorter than 7)",
        "validity.private_max_days = 3650 (longer than 398)",
        "keys.min_bits.RSA = 512 (below 2048)",
        "signatures.allowed_hashes \"MD5\" (not allowed by default)",
        "exclude \"*.key\"",
        "rules.key-unprotected = \"off\"",
        "rules.cert-self-signed-leaf = \"info\" (below its default low)",
        "scope[0] ** severity = \"off\"",
    ] {
        assert!(ignored.contains(&expected), "{expected} not in {ignored:?}");
    }
    assert!(
        ignored.iter().any(|i| i.starts_with("trust.roots")),
        "{ignored:?}"
    );
    // The human summary says the same and how to apply the file on purpose.
    let (code, out, _) = trustmap(&["scan", ds, "--no-store", "--fail-on", "high"]);
    assert_eq!(code, 1);
    assert!(!out.contains("Nothing needs attention"), "{out}");
    assert!(out.contains("pass --policy"), "{out}");
    // Named with --policy by the person running the scan, it applies as written.
    let policy = d.join("trustmap.toml");
    let mut chosen = gate.to_vec();
    chosen.extend(["--policy", policy.to_str().unwrap()]);
    let (code, r) = json(&chosen);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["scan"]["policy_ignored"], serde_json::json!([]));
}

#[test]
fn policy_bundles_are_confined_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = d.to_str().unwrap();
    ec_cert(d, "svc", "300");
    let policy = d.join("strict.toml");
    let run = |bundle: &str| {
        std::fs::write(&policy, format!("[trust]\nbundles = [\"{bundle}\"]\n")).unwrap();
        trustmap(&[
            "scan",
            ds,
            "--no-store",
            "--policy",
            policy.to_str().unwrap(),
        ])
    };
    // A device that never ends, a path outside the policy's directory and the scanned root.
    let (code, _, err) = run("/dev/zero");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/dev/zero"), "{err}");
    let outside = tempfile::tempdir().unwrap();
    ec_cert(outside.path(), "ca", "300");
    let (code, _, err) = run(outside.path().join("ca.crt").to_str().unwrap());
    assert_eq!(code, 2);
    assert!(err.contains("outside the policy file's directory"), "{err}");
    let (code, _, err) = run("../../../../../../../etc/ssl/certs/ca-certificates.crt");
    assert_eq!(code, 2);
    assert!(
        err.contains("outside") || err.contains("No such file"),
        "{err}"
    );
    // A FIFO is refused before it is opened (opening one would wait for a writer).
    let fifo = d.join("bundle.pem");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let (code, _, err) = run("bundle.pem");
    assert_eq!(code, 2);
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::remove_file(&fifo).unwrap();
    // A bundle beside the policy file applies.
    let (code, _, err) = run("svc.crt");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_summary_names_the_new_findings_and_all_lists_every_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("trustmap-baseline.json");
    let (ds, bs) = (d.to_str().unwrap(), base.to_str().unwrap());
    ec_cert(d, "old", "365");
    let (code, _, err) = trustmap(&["baseline", ds, "--no-store", "-q", "--output", bs]);
    assert_eq!(code, 0, "{err}");
    // Fourteen new unprotected keys: more than the summary lists per severity.
    for i in 0..14 {
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "ed25519",
                "-out",
                &format!("new{i:02}.key"),
            ],
        );
    }
    let (code, text, _) = trustmap(&["scan", ds, "--no-store", "--baseline", bs]);
    assert_eq!(code, 0);
    assert!(text.contains("new since the baseline"), "{text}");
    // The section's lines, and the number its heading gives.
    let section = |t: &str| -> (usize, usize) {
        let rest = t.split("NEW SINCE THE BASELINE (").nth(1).unwrap_or("");
        let n: usize = rest.split(')').next().unwrap_or("0").parse().unwrap_or(0);
        let lines = rest
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("    ") && !l.contains("... and"))
            .filter(|l| l.contains(".key:1"))
            .count();
        (n, lines)
    };
    // 14 keys, each unprotected, quantum-vulnerable and unowned: 42 new findings, the first
    // 12 named (the high ones first), the rest counted.
    let (n, lines) = section(&text);
    assert_eq!((n, lines), (42, 12), "{text}");
    assert!(
        text.contains("... and 30 more (--all lists every one)"),
        "{text}"
    );
    assert!(
        !text.contains("old.key:1  "),
        "the baselined key is not new: {text}"
    );
    let (_, all, _) = trustmap(&["scan", ds, "--no-store", "--baseline", bs, "--all"]);
    assert_eq!(section(&all), (42, 42), "{all}");
    // --all lists low findings one by one instead of counting them by rule.
    let lows = all
        .lines()
        .filter(|l| {
            l.trim_start().starts_with("key-quantum-vulnerable") || l.contains("asset-unowned ")
        })
        .count();
    assert!(lows >= 14, "{all}");
}
