//! The inventory end to end: the real binary recording scans into a store and answering
//! from it. Written once, run on SQLite always and on PostgreSQL whenever
//! `TRUSTMAP_TEST_PG_URL` is set (each test in its own fresh schema). No test touches the
//! real home: every command gets `--db`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::Db;

fn backends(test: &str) -> Vec<Db> {
    crate::common::backends("t", test)
}

fn run(db: &Db, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    c.args(args)
        .args(["--db", &db.target])
        .env_remove("TRUSTMAP_DB");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run trustmap")
}

/// Runs and expects exit 0; returns stdout.
fn ok(db: &Db, args: &[&str]) -> String {
    let out = run(db, args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "[{}] trustmap {args:?}\nstdout: {}\nstderr: {}",
        db.name,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(db: &Db, args: &[&str]) -> Value {
    let text = ok(db, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("[{}] {args:?}: {e}: {text}", db.name))
}

/// Scans `dir` into the store; returns the report (the unchanged JSON contract).
fn scan(db: &Db, dir: &Path) -> Value {
    json(
        db,
        &["scan", dir.to_str().unwrap(), "--format", "json", "--quiet"],
    )
}

use crate::common::{ec_cert, id_at};

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn tree() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("estate");
    std::fs::create_dir_all(&d).unwrap();
    (t, d)
}

#[test]
fn rotation_gone_new_and_moved_between_scans() {
    for db in backends("rotation") {
        let (_t, d) = tree();
        ec_cert(&d, "web", "90");
        ec_cert(&d, "old", "90");
        ec_cert(&d, "wander", "90");
        let r1 = scan(&db, &d);
        let web1 = id_at(&r1, "certificate", "web.crt");
        let webkey1 = id_at(&r1, "private-key", "web.key");
        let old_crt = id_at(&r1, "certificate", "old.crt");
        let wander = id_at(&r1, "certificate", "wander.crt");

        // Renew web (new key, new certificate, same files), retire old, move wander, add one.
        ec_cert(&d, "web", "90");
        std::fs::remove_file(d.join("old.crt")).unwrap();
        std::fs::remove_file(d.join("old.key")).unwrap();
        std::fs::create_dir_all(d.join("moved")).unwrap();
        std::fs::rename(d.join("wander.crt"), d.join("moved/wander.crt")).unwrap();
        ec_cert(&d, "fresh", "90");
        let r2 = scan(&db, &d);
        let web2 = id_at(&r2, "certificate", "web.crt");
        let webkey2 = id_at(&r2, "private-key", "web.key");
        let fresh = id_at(&r2, "certificate", "fresh.crt");
        assert_ne!(web1, web2, "[{}] renewal gives a new identity", db.name);

        let diff = json(&db, &["diff", "--format", "json"]);
        let rotated = diff["rotated"].as_array().unwrap();
        assert!(
            rotated
                .iter()
                .any(|r| r["path"] == "web.crt" && r["from"] == web1 && r["to"] == web2),
            "[{}] certificate rotation missing: {diff:#}",
            db.name
        );
        assert!(
            rotated
                .iter()
                .any(|r| r["path"] == "web.key" && r["from"] == webkey1 && r["to"] == webkey2),
            "[{}] key rotation missing: {diff:#}",
            db.name
        );
        let gone = strs(&diff["gone"]);
        assert!(gone.contains(&old_crt), "[{}] {diff:#}", db.name);
        assert!(!gone.contains(&web1), "[{}] rotated is not gone", db.name);
        let new = strs(&diff["new"]);
        assert!(new.contains(&fresh), "[{}] {diff:#}", db.name);
        assert!(!new.contains(&web2), "[{}] rotated is not new", db.name);
        let moved = diff["moved"].as_array().unwrap();
        assert!(
            moved.iter().any(|m| m["id"] == wander
                && m["from"].as_array().unwrap().len() == 1
                && m["from"][0]["path"] == "wander.crt"
                && m["to"].as_array().unwrap().len() == 1
                && m["to"][0]["path"] == "moved/wander.crt"
                && m["to"][0]["host"] == m["from"][0]["host"]
                && m["to"][0]["root"] == m["from"][0]["root"]),
            "[{}] {diff:#}",
            db.name
        );

        // The same answer with explicit ids, and in the readable form.
        let (s1, s2) = (
            r1["scan"]["id"].as_str().unwrap(),
            r2["scan"]["id"].as_str().unwrap(),
        );
        let explicit = json(&db, &["diff", "--from", s1, "--to", s2, "-f", "json"]);
        assert_eq!(explicit, diff);
        let text = ok(&db, &["diff"]);
        assert!(
            text.contains(&format!("web.crt: {web1} replaced by {web2}")),
            "{text}"
        );

        // The audit log says the same.
        let events: Vec<Value> = ok(&db, &["audit", "export"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let has = |kind: &str, subject: &str| {
            events
                .iter()
                .any(|e| e["kind"] == kind && e["subject"] == subject)
        };
        assert!(has("rotated", &web2), "[{}]", db.name);
        assert!(has("asset-gone", &old_crt), "[{}]", db.name);
        assert!(
            has("asset-gone", &web1),
            "[{}] replaced cert is gone",
            db.name
        );
        assert!(has("asset-first-seen", &fresh), "[{}]", db.name);
        assert!(has("scan-started", s2) && has("scan-finished", s2));

        // Listings show what is there now; gone and rotated-away assets on request.
        let listed = |args: &[&str]| -> Vec<String> {
            let mut a = vec!["assets", "-f", "json"];
            a.extend_from_slice(args);
            json(&db, &a)
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        };
        let now = listed(&[]);
        assert!(now.contains(&web2) && now.contains(&fresh) && now.contains(&wander));
        assert!(
            !now.contains(&web1) && !now.contains(&old_crt),
            "[{}] {now:?}",
            db.name
        );
        let all = listed(&["--include-gone"]);
        assert!(
            all.contains(&web1) && all.contains(&old_crt),
            "[{}]",
            db.name
        );
        assert_eq!(
            all.len(),
            now.len() + 4,
            "[{}] old web cert and key, old.crt and old.key: {all:?}",
            db.name
        );

        // History per asset.
        let show = json(&db, &["show", &web1, "-f", "json"]);
        assert_eq!(show["scans"].as_array().unwrap().len(), 1);
        assert_eq!(show["present"], false);
        assert!(ok(&db, &["show", &web1]).contains("(gone"));
        let show = json(&db, &["show", &fresh, "-f", "json"]);
        assert_eq!(show["scans"][0][0], s2);
        let scans = json(&db, &["scans", "-f", "json"]);
        assert_eq!(scans.as_array().unwrap().len(), 2);
        assert_eq!(scans[1]["id"], s2);
        assert_eq!(scans[0]["counts"]["certificate"], 3);
        // First and last seen, for assets and for each of their places.
        let (f1, f2) = (&scans[0]["finished_at"], &scans[1]["finished_at"]);
        let gone_web = json(&db, &["show", &web1, "-f", "json"]);
        assert_eq!(gone_web["last_seen"], *f1, "[{}] {gone_web:#}", db.name);
        let w = json(&db, &["show", &wander, "-f", "json"]);
        assert_eq!(
            (&w["first_seen"], &w["last_seen"]),
            (f1, f2),
            "[{}] {w:#}",
            db.name
        );
        let place = |p: &str| {
            w["occurrences"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["path"] == p)
                .cloned()
                .unwrap()
        };
        assert_eq!(place("wander.crt")["last_seen"], *f1, "[{}]", db.name);
        assert_eq!(place("wander.crt")["scans"], serde_json::json!([s1]));
        assert_eq!(place("moved/wander.crt")["scans"], serde_json::json!([s2]));
        assert_eq!(
            place("moved/wander.crt")["first_seen"],
            *f2,
            "[{}]",
            db.name
        );
        let row = json(&db, &["assets", "--path", "moved/*", "-f", "json"]);
        assert_eq!(row[0]["last_seen"], *f2, "[{}] {row:#}", db.name);
    }
}

#[test]
fn stored_scan_prints_the_same_json_contract() {
    for db in backends("contract") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        let stored = scan(&db, &d);
        let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
            .args(["scan", d.to_str().unwrap(), "-f", "json", "--no-store"])
            .output()
            .unwrap();
        let plain: Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["tool", "assets", "relations", "findings", "errors"] {
            assert_eq!(stored[key], plain[key], "[{}] {key}", db.name);
        }
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&stored), keys(&plain));
        assert_eq!(keys(&stored["scan"]), keys(&plain["scan"]));
    }
}

#[test]
fn edited_deleted_or_reordered_audit_events_fail_verification() {
    for db in backends("audit") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        ec_cert(&d, "b", "30");
        scan(&db, &d);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
        let n = ok(&db, &["audit", "export"]).lines().count();
        assert!(n >= 8, "[{}] {n} events", db.name);

        let tamper = |sql: &str| {
            let s = trustmap_store::Store::open(&db.target).unwrap();
            s.execute_raw(sql).unwrap();
        };
        let verify = || {
            let out = run(&db, &["audit", "verify"], &[]);
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        // Edit.
        tamper("UPDATE audit_events SET data = '{\"forged\":true}' WHERE seq = 3");
        let (code, text) = verify();
        assert_eq!(code, Some(1), "[{}] {text}", db.name);
        assert!(text.contains("event 3 "), "[{}] {text}", db.name);
        assert!(text.contains("edited"), "[{}] {text}", db.name);
    }
    // Truncation: removing the newest events leaves an intact chain, but the scan they
    // recorded has lost its events (and a head kept from an earlier verify no longer
    // matches: `hostile_store::a_saved_head_catches_truncation_and_a_rewritten_log`).
    for db in backends("audit_truncate") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        let text = ok(&db, &["audit", "verify"]);
        let head = text.trim().rsplit(' ').next().unwrap().to_string();
        assert_eq!(head.split_once(':').unwrap().1.len(), 64, "{text}");
        ec_cert(&d, "b", "30");
        scan(&db, &d);
        let grown = ok(&db, &["audit", "verify", "--head", &head]);
        assert!(grown.contains("are unchanged"), "[{}] {grown}", db.name);
        let n = ok(&db, &["audit", "export"]).lines().count();
        let s = trustmap_store::Store::open(&db.target).unwrap();
        s.execute_raw(&format!("DELETE FROM audit_events WHERE seq >= {}", n - 3))
            .unwrap();
        drop(s);
        let out = run(&db, &["audit", "verify"], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "[{}] {text}", db.name);
        assert!(
            text.contains("scan-started/scan-finished events are missing"),
            "[{}] {text}",
            db.name
        );
    }
    // Deletion and reordering, each on a store of its own.
    for db in backends("audit_delete") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        let s = trustmap_store::Store::open(&db.target).unwrap();
        s.execute_raw("DELETE FROM audit_events WHERE seq = 2")
            .unwrap();
        drop(s);
        let out = run(&db, &["audit", "verify"], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "[{}] {text}", db.name);
        assert!(text.contains("event 3 "), "[{}] {text}", db.name);
    }
    for db in backends("audit_reorder") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        let s = trustmap_store::Store::open(&db.target).unwrap();
        s.execute_raw(
            "UPDATE audit_events SET seq = 1000 WHERE seq = 2;
             UPDATE audit_events SET seq = 2 WHERE seq = 3;
             UPDATE audit_events SET seq = 3 WHERE seq = 1000;",
        )
        .unwrap();
        drop(s);
        let out = run(&db, &["audit", "verify"], &[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "[{}] {text}", db.name);
        assert!(text.contains("event 2 "), "[{}] {text}", db.name);
    }
}

#[test]
fn audit_export_since_filters_by_date() {
    for db in backends("export") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        let all = ok(&db, &["audit", "export", "--since", "2000-01-01"]);
        assert!(all.lines().count() >= 3);
        for l in all.lines() {
            let e: Value = serde_json::from_str(l).unwrap();
            for k in ["seq", "at", "kind", "subject", "data", "prev_hash", "hash"] {
                assert!(!e[k].is_null(), "{k} in {l}");
            }
        }
        assert_eq!(ok(&db, &["audit", "export", "--since", "2999-01-01"]), "");
        let bad = run(&db, &["audit", "export", "--since", "yesterday"], &[]);
        assert_eq!(bad.status.code(), Some(2));
    }
}

#[test]
fn a_killed_scan_leaves_the_previous_state_intact() {
    for db in backends("killed") {
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        let r1 = scan(&db, &d);
        let before = json(&db, &["assets", "-f", "json"]);
        let events = ok(&db, &["audit", "export"]);

        ec_cert(&d, "b", "30");
        let killed = run(
            &db,
            &["scan", d.to_str().unwrap(), "-f", "json", "-q"],
            &[("TRUSTMAP_TEST_ABORT_BEFORE_COMMIT", "1")],
        );
        assert!(
            !killed.status.success(),
            "[{}] the scan was killed",
            db.name
        );

        let scans = json(&db, &["scans", "-f", "json"]);
        assert_eq!(scans.as_array().unwrap().len(), 1, "[{}]", db.name);
        assert_eq!(scans[0]["id"], r1["scan"]["id"]);
        assert_eq!(json(&db, &["assets", "-f", "json"]), before);
        assert_eq!(ok(&db, &["audit", "export"]), events);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));

        // And the store takes the next scan normally.
        scan(&db, &d);
        assert_eq!(
            json(&db, &["scans", "-f", "json"])
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let diff = json(&db, &["diff", "-f", "json"]);
        assert_eq!(
            diff["new"].as_array().unwrap().len(),
            2,
            "[{}] {diff}",
            db.name
        );
    }
}

#[test]
fn concurrent_scans_into_one_store_all_succeed() {
    for db in backends("concurrent") {
        let (_t, d) = tree();
        for i in 0..6 {
            ec_cert(&d, &format!("c{i}"), "30");
        }
        // Four scanners start at once against a store that does not exist yet: they race
        // on creation, migration and the write lock.
        let children: Vec<_> = (0..4)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_trustmap"))
                    .args(["scan", d.to_str().unwrap(), "-q", "--output", "/dev/null"])
                    .args(["--db", &db.target])
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert!(
                c.wait().unwrap().success(),
                "[{}] a concurrent scan failed",
                db.name
            );
        }
        let scans = json(&db, &["scans", "-f", "json"]);
        assert_eq!(scans.as_array().unwrap().len(), 4, "[{}]", db.name);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
        let export = ok(&db, &["audit", "export"]);
        let first_seen = export
            .lines()
            .filter(|l| l.contains("\"asset-first-seen\""))
            .count();
        assert_eq!(
            first_seen, 12,
            "[{}] each asset first seen once: {export}",
            db.name
        );
    }
}

#[test]
fn an_older_schema_is_migrated_not_dropped() {
    for db in backends("migrate") {
        {
            let s = trustmap_store::Store::open_at_version(&db.target, 1).unwrap();
            assert_eq!(s.schema_version().unwrap(), 1);
            s.execute_raw(
                r#"INSERT INTO scans (id, seq, started_at, finished_at, roots, roots_key, host,
                       tool_version, files_scanned, bytes_scanned, counts)
                   VALUES ('scan_old', 1, '2025-01-01T00:00:00Z', '2025-01-01T00:00:05Z',
                       '["/srv"]', '["/srv"]', 'oldhost', '0.0.1', 3, 300,
                       '{"assets":1,"certificate":1}');
                   INSERT INTO assets (id, kind, fingerprint, label, facts, first_seen, last_seen,
                       first_scan, last_scan)
                   VALUES ('crt_00000000000000aa', 'certificate', 'sha256:aa', 'legacy.example',
                       '{"certificate":{"issuer":"CN=Old CA","not_after":"2025-06-01T00:00:00Z","public_key":{"algorithm":"RSA"}}}',
                       '2025-01-01T00:00:05Z', '2025-01-01T00:00:05Z', 'scan_old', 'scan_old');
                   INSERT INTO occurrences (asset_id, path, container, line, first_seen, last_seen)
                   VALUES ('crt_00000000000000aa', 'tls/legacy.crt', '', 1,
                       '2025-01-01T00:00:05Z', '2025-01-01T00:00:05Z');
                   INSERT INTO asset_scans (scan_seq, asset_id) VALUES (1, 'crt_00000000000000aa');"#,
            )
            .unwrap();
        }
        // Any command opens and migrates it; the old scan and asset are still there, and the
        // new indexed columns were filled from the stored facts.
        let scans = json(&db, &["scans", "-f", "json"]);
        assert_eq!(scans[0]["id"], "scan_old", "[{}]", db.name);
        let expired = json(
            &db,
            &["assets", "--expired", "--issuer", "old ca", "-f", "json"],
        );
        assert_eq!(
            expired[0]["id"], "crt_00000000000000aa",
            "[{}] {expired}",
            db.name
        );
        assert_eq!(expired[0]["algorithm"], "RSA");
        let s = trustmap_store::Store::open(&db.target).unwrap();
        assert_eq!(
            s.schema_version().unwrap(),
            trustmap_store::Store::latest_schema_version()
        );
        drop(s);
        // And new scans go on top.
        let (_t, d) = tree();
        ec_cert(&d, "a", "30");
        scan(&db, &d);
        assert_eq!(
            json(&db, &["scans", "-f", "json"])
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
    }
}

#[test]
fn explicit_owners_win_over_inferred_and_are_audited() {
    for db in backends("owners") {
        let (_t, d) = tree();
        std::fs::create_dir_all(d.join("payments")).unwrap();
        std::fs::create_dir_all(d.join("edge")).unwrap();
        ec_cert(&d.join("payments"), "pay", "30");
        ec_cert(&d.join("edge"), "edge", "30");
        ec_cert(&d, "stray", "30");
        std::fs::write(
            d.join("CODEOWNERS"),
            "/payments/ @org/payments\n/edge/ @org/edge\n",
        )
        .unwrap();
        let r = scan(&db, &d);
        let pay = id_at(&r, "certificate", "payments/pay.crt");
        let edge = id_at(&r, "certificate", "edge/edge.crt");
        let stray = id_at(&r, "certificate", "stray.crt");

        let a = json(&db, &["assets", "--owner", "@org/payments", "-f", "json"]);
        let ids: Vec<&str> = a
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&pay.as_str()),
            "[{}] inferred owner: {a}",
            db.name
        );
        assert!(
            a[0]["owner_source"]
                .as_str()
                .unwrap()
                .contains("CODEOWNERS")
        );

        // Explicit beats inferred, and a backup owner can be named.
        ok(
            &db,
            &[
                "owner",
                "set",
                &pay,
                "--owner",
                "team-ledger",
                "--backup",
                "team-sre",
            ],
        );
        let show = json(&db, &["show", &pay, "-f", "json"]);
        assert_eq!(show["owner"], "team-ledger", "[{}] {show}", db.name);
        assert_eq!(show["owner_source"], "explicit");
        assert_eq!(show["backup"], "team-sre");
        assert!(
            show["owners"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["name"] == "@org/payments" && o["effective"] == false),
            "[{}] the inferred owner is kept but overridden: {show}",
            db.name
        );
        let a = json(&db, &["assets", "--owner", "@org/payments", "-f", "json"]);
        assert!(
            !a.as_array().unwrap().iter().any(|x| x["id"] == pay),
            "[{}] overridden owner no longer matches",
            db.name
        );
        // A rescan keeps the explicit owner.
        scan(&db, &d);
        let show = json(&db, &["show", &pay, "-f", "json"]);
        assert_eq!(show["owner"], "team-ledger", "[{}]", db.name);

        // By path glob.
        let unowned = json(
            &db,
            &["assets", "--unowned", "--kind", "certificate", "-f", "json"],
        );
        assert_eq!(
            unowned.as_array().unwrap().len(),
            1,
            "[{}] {unowned}",
            db.name
        );
        assert_eq!(unowned[0]["id"], stray);
        ok(
            &db,
            &["owner", "set", "--path", "stray.*", "--owner", "team-misc"],
        );
        let unowned = json(&db, &["assets", "--unowned", "-f", "json"]);
        assert_eq!(
            unowned.as_array().unwrap().len(),
            0,
            "[{}] {unowned}",
            db.name
        );
        let misc = json(&db, &["assets", "--owner", "team-misc", "-f", "json"]);
        assert_eq!(
            misc.as_array().unwrap().len(),
            2,
            "[{}] cert and key: {misc}",
            db.name
        );

        let events = ok(&db, &["audit", "export"]);
        let changes: Vec<Value> = events
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["kind"] == "owner-changed")
            .collect();
        assert!(changes.iter().any(|e| e["subject"] == pay
            && e["data"]["to"] == "team-ledger"
            && e["data"]["from"] == "@org/payments"));
        assert!(
            changes
                .iter()
                .any(|e| e["subject"] == stray && e["data"]["to"] == "team-misc")
        );
        // An inferred owner that changes between scans is an audited change too.
        std::fs::write(
            d.join("CODEOWNERS"),
            "/payments/ @org/payments\n/edge/ @org/edge-new\n",
        )
        .unwrap();
        scan(&db, &d);
        let show = json(&db, &["show", &edge, "-f", "json"]);
        assert_eq!(show["owner"], "@org/edge-new", "[{}] {show}", db.name);
        let events = ok(&db, &["audit", "export"]);
        assert!(
            events.lines().any(|l| {
                let e: Value = serde_json::from_str(l).unwrap();
                e["kind"] == "owner-changed"
                    && e["subject"] == edge
                    && e["data"]["from"] == "@org/edge"
                    && e["data"]["to"] == "@org/edge-new"
                    && e["data"]["source"] == "inferred"
            }),
            "[{}] {events}",
            db.name
        );
        // The explicitly owned asset's effective owner did not change: no event for it.
        let pay_events = events
            .lines()
            .filter(|l| l.contains("owner-changed") && l.contains(&pay))
            .count();
        assert_eq!(
            pay_events, 2,
            "[{}] owner and backup set once each",
            db.name
        );
        let bad = run(
            &db,
            &["owner", "set", "crt_nonexistent000", "--owner", "x"],
            &[],
        );
        assert_eq!(bad.status.code(), Some(2));
    }
}

#[test]
fn asset_queries_combine_filters() {
    let estate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/estate");
    for db in backends("queries") {
        let (_t, d) = tree();
        ec_cert(&d, "soon", "10");
        ec_cert(&d, "later", "400");
        let r = scan(&db, &d);
        let soon = id_at(&r, "certificate", "soon.crt");
        let later = id_at(&r, "certificate", "later.crt");
        let e = scan(&db, &estate);
        let expired_status = id_at(&e, "certificate", "services/api-gateway/certs/status.crt");

        let ids = |args: &[&str]| -> Vec<String> {
            let mut a = vec!["assets", "-f", "json"];
            a.extend_from_slice(args);
            json(&db, &a)
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        };
        let expiring = ids(&["--expiring", "30d"]);
        assert!(expiring.contains(&soon), "[{}] {expiring:?}", db.name);
        assert!(!expiring.contains(&later));
        assert!(
            !expiring.contains(&expired_status),
            "expired is not expiring"
        );
        let expired = ids(&["--expired"]);
        assert!(
            expired.contains(&expired_status),
            "[{}] {expired:?}",
            db.name
        );
        assert!(!expired.contains(&soon));

        let certs = ids(&["--kind", "certificate"]);
        assert!(certs.iter().all(|i| i.starts_with("crt_")));
        assert!(certs.len() >= 12);
        let keys = ids(&["--kind", "private-key", "--path", "soon.*"]);
        assert_eq!(keys.len(), 1, "[{}] {keys:?}", db.name);
        assert!(keys[0].starts_with("key_"));
        let ec = ids(&[
            "--algorithm",
            "ec",
            "--path",
            "*.crt",
            "--kind",
            "certificate",
        ]);
        assert!(ec.contains(&soon) && ec.contains(&later));
        let qv = ids(&["--quantum-vulnerable"]);
        assert!(qv.contains(&soon));
        assert!(
            qv.iter().all(|i| !i.starts_with("sec_")),
            "secrets have no public-key algorithm"
        );
        let by_issuer = ids(&["--issuer", "SOON.example"]);
        assert_eq!(by_issuer, vec![soon.clone()], "[{}]", db.name);
        let none = ids(&["--kind", "secret", "--expired"]);
        assert!(none.is_empty());

        // --count agrees with the listing; --limit keeps the first rows of the same order.
        let count = ok(&db, &["assets", "--kind", "certificate", "--count"]);
        assert_eq!(count.trim(), certs.len().to_string(), "[{}]", db.name);
        let counted = json(
            &db,
            &["assets", "--quantum-vulnerable", "--count", "-f", "json"],
        );
        assert_eq!(counted["count"], qv.len() as u64, "[{}]", db.name);
        let first3 = ids(&["--kind", "certificate", "--limit", "3"]);
        assert_eq!(first3, certs[..3].to_vec(), "[{}]", db.name);

        let csv = ok(
            &db,
            &[
                "assets",
                "--kind",
                "certificate",
                "--path",
                "*soon*",
                "-f",
                "csv",
            ],
        );
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("id,kind,label,not_after"));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with(&format!("{soon},certificate,"))
        );
        let table = ok(&db, &["assets", "--expiring", "30d"]);
        assert!(table.starts_with("ID"), "{table}");
        assert!(table.contains(&soon));

        let show = ok(&db, &["show", &soon]);
        for s in [
            "fingerprint",
            "soon.crt",
            "soon.example.test",
            "history: seen in 1 scan",
            "key-of",
        ] {
            assert!(show.contains(s), "[{}] {s} in {show}", db.name);
        }
        let missing = run(&db, &["show", "crt_0000000000000000"], &[]);
        assert_eq!(missing.status.code(), Some(2));
    }
}

#[test]
fn default_store_is_under_the_data_directory_and_no_store_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let (_t, d) = tree();
    ec_cert(&d, "a", "30");
    let trustmap = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trustmap"))
            .args(args)
            .env_remove("TRUSTMAP_DB")
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", &data)
            .output()
            .unwrap()
    };
    let out = trustmap(&["scan", d.to_str().unwrap(), "-q", "--no-store"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!data.exists(), "--no-store wrote to the data directory");

    let out = trustmap(&["scan", d.to_str().unwrap(), "-q"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("trustmap/inventory.db").is_file());
    let out = trustmap(&["scans", "-f", "json"]);
    let scans: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(scans.as_array().unwrap().len(), 1);

    // TRUSTMAP_DB chooses another store.
    let other = home.path().join("other.db");
    let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
        .args(["scan", d.to_str().unwrap(), "-q"])
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", &data)
        .env("TRUSTMAP_DB", &other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(other.is_file());
}

#[test]
fn diff_picks_scans_by_roots_or_by_the_newer_scan() {
    for db in backends("diffroots") {
        let (_ta, a) = tree();
        let (_tb, b) = tree();
        ec_cert(&a, "a1", "30");
        ec_cert(&b, "b1", "30");
        let a1 = scan(&db, &a);
        let b1 = scan(&db, &b);
        ec_cert(&a, "a2", "30");
        let a2 = scan(&db, &a);
        ec_cert(&b, "b2", "30");
        let b2 = scan(&db, &b);
        let sid = |r: &Value| r["scan"]["id"].as_str().unwrap().to_string();
        let new_ids = |d: &Value| strs(&d["new"]);

        // Default: the latest scan (b2) against the previous scan of its roots (b1).
        let d = json(&db, &["diff", "-f", "json"]);
        assert_eq!(
            (d["from_scan"].as_str(), d["to_scan"].as_str()),
            (Some(&*sid(&b1)), Some(&*sid(&b2)))
        );
        // --roots: the latest two scans of those roots, whatever was scanned since.
        let d = json(&db, &["diff", "--roots", a.to_str().unwrap(), "-f", "json"]);
        assert_eq!(d["to_scan"], sid(&a2), "[{}] {d:#}", db.name);
        assert_eq!(d["from_scan"], sid(&a1));
        let a2_cert = id_at(&a2, "certificate", "a2.crt");
        assert!(new_ids(&d).contains(&a2_cert), "[{}] {d:#}", db.name);
        assert_eq!(new_ids(&d).len(), 2, "a2's certificate and key: {d:#}");
        // --to alone: the scan before it over the same roots.
        let d = json(&db, &["diff", "--to", &sid(&a2), "-f", "json"]);
        assert_eq!(d["from_scan"], sid(&a1), "[{}]", db.name);
        let first = run(&db, &["diff", "--to", &sid(&a1)], &[]);
        assert_eq!(first.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&first.stderr).contains("first scan of its roots"));
    }
}

#[test]
fn one_file_under_two_roots_is_two_places_and_each_goes_on_its_own() {
    for db in backends("tworoots") {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("hostA"), t.path().join("hostB"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("etc")).unwrap();
        }
        ec_cert(&a.join("etc"), "tls", "90");
        for f in ["tls.crt", "tls.key"] {
            std::fs::copy(a.join("etc").join(f), b.join("etc").join(f)).unwrap();
        }
        let ra = scan(&db, &a);
        scan(&db, &b);
        let crt = id_at(&ra, "certificate", "etc/tls.crt");
        let root_of = |d: &Path| {
            std::fs::canonicalize(d)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        let (root_a, root_b) = (root_of(&a), root_of(&b));

        // One asset, two places, both present.
        let listed = json(&db, &["assets", "--kind", "certificate", "-f", "json"]);
        let row = &listed.as_array().unwrap()[0];
        assert_eq!(row["id"], crt.as_str(), "[{}] {listed:#}", db.name);
        let places = row["places"].as_array().unwrap();
        let roots: Vec<&str> = places.iter().map(|p| p["root"].as_str().unwrap()).collect();
        assert_eq!(
            roots,
            vec![root_a.as_str(), root_b.as_str()],
            "[{}]",
            db.name
        );
        assert!(
            places
                .iter()
                .all(|p| p["present"] == true && p["path"] == "etc/tls.crt")
        );
        let host = places[0]["host"].as_str().unwrap().to_string();
        assert_eq!(row["paths"][0], format!("{host}:etc/tls.crt"));
        let table = ok(&db, &["assets", "--kind", "certificate"]);
        assert!(
            table.contains(&format!("{host}:etc/tls.crt (+1)")),
            "[{}] {table}",
            db.name
        );
        let text = ok(&db, &["show", &crt]);
        for root in [&root_a, &root_b] {
            assert!(
                text.contains(&format!("{host}:etc/tls.crt:1 under {root}")),
                "[{}] {text}",
                db.name
            );
        }

        // The file goes from A: A's diff says gone; only B's place is present.
        std::fs::remove_file(a.join("etc/tls.crt")).unwrap();
        std::fs::remove_file(a.join("etc/tls.key")).unwrap();
        scan(&db, &a);
        let d = json(&db, &["diff", "--roots", a.to_str().unwrap(), "-f", "json"]);
        assert!(strs(&d["gone"]).contains(&crt), "[{}] {d:#}", db.name);
        let listed = json(&db, &["assets", "--kind", "certificate", "-f", "json"]);
        let row = &listed.as_array().unwrap()[0];
        assert_eq!(row["id"], crt.as_str(), "[{}] B still has it", db.name);
        let present: Vec<&str> = row["places"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["present"] == true)
            .map(|p| p["root"].as_str().unwrap())
            .collect();
        assert_eq!(present, vec![root_b.as_str()], "[{}] {row:#}", db.name);
        let text = ok(&db, &["show", &crt]);
        assert!(
            text.contains(&format!("under {root_a} [gone]")),
            "[{}] {text}",
            db.name
        );
        assert!(!text.contains(&format!("under {root_b} [gone]")));
    }
}

/// Host filters and place counts go by present places: an asset deleted on host A but still
/// on host B is listed under `--host hostB` only (with `--include-gone`, under both), its
/// table row counts no gone places, and `diff --roots --host` picks that host's scans.
#[test]
fn host_filters_and_place_counts_follow_present_places() {
    for db in backends("hostpresent") {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d.join("etc")).unwrap();
        }
        ec_cert(&a.join("etc"), "tls", "90");
        std::fs::copy(a.join("etc/tls.crt"), b.join("etc/tls.crt")).unwrap();
        let scan_as = |dir: &Path, host: &str| {
            json(
                &db,
                &[
                    "scan",
                    dir.to_str().unwrap(),
                    "--host",
                    host,
                    "--format",
                    "json",
                    "--quiet",
                ],
            )
        };
        let ra = scan_as(&a, "hostA");
        scan_as(&b, "hostB");
        let crt = id_at(&ra, "certificate", "etc/tls.crt");
        let count = |args: &[&str]| -> u64 {
            let mut all = vec!["assets", "--kind", "certificate", "--count"];
            all.extend_from_slice(args);
            ok(&db, &all).trim().parse().unwrap()
        };
        assert_eq!(count(&["--host", "hostA"]), 1, "[{}]", db.name);
        assert_eq!(count(&["--host", "hostB"]), 1, "[{}]", db.name);
        let table = ok(&db, &["assets", "--kind", "certificate"]);
        assert!(
            table.contains("hostA:etc/tls.crt (+1)"),
            "[{}] {table}",
            db.name
        );

        std::fs::remove_file(a.join("etc/tls.crt")).unwrap();
        scan_as(&a, "hostA");
        assert_eq!(count(&["--host", "hostA"]), 0, "[{}] gone from A", db.name);
        assert_eq!(count(&["--host", "hostA", "--include-gone"]), 1);
        assert_eq!(count(&["--host", "hostB"]), 1, "[{}]", db.name);
        assert_eq!(count(&["--host", "hostA", "--path", "etc/*"]), 0);
        assert_eq!(count(&["--host", "hostB", "--path", "etc/*"]), 1);
        let listed = json(
            &db,
            &[
                "assets",
                "--kind",
                "certificate",
                "--host",
                "hostB",
                "-f",
                "json",
            ],
        );
        assert_eq!(listed[0]["id"], crt.as_str(), "[{}]", db.name);
        let table = ok(&db, &["assets", "--kind", "certificate"]);
        assert!(
            table.contains("hostB:etc/tls.crt") && !table.contains("(+1)"),
            "[{}] a gone place is not counted: {table}",
            db.name
        );

        // diff --roots takes the host that scanned them; this machine never scanned `a`.
        let d = json(
            &db,
            &[
                "diff",
                "--roots",
                a.to_str().unwrap(),
                "--host",
                "hostA",
                "-f",
                "json",
            ],
        );
        assert!(strs(&d["gone"]).contains(&crt), "[{}] {d:#}", db.name);
        let out = run(&db, &["diff", "--roots", a.to_str().unwrap()], &[]);
        assert_ne!(
            out.status.code(),
            Some(0),
            "[{}] no scans by this host",
            db.name
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("by host"));
    }
}
