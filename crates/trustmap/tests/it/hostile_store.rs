//! The store under concurrency, corruption and tampering (issue 14): real processes against
//! one inventory, on SQLite always and on PostgreSQL when `TRUSTMAP_TEST_PG_URL` is set.
//! Scans are held between writing and committing with the engine's test hook
//! `TRUSTMAP_TEST_PAUSE_BEFORE_COMMIT=DIR` (it creates DIR/paused, then waits for DIR/go),
//! so what runs meanwhile is ordered by files, never by sleeps.

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output};

use crate::common::{Db, ec_cert};

fn backends(test: &str) -> Vec<Db> {
    crate::common::backends("h", test)
}

fn cmd(db: &Db, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    c.args(args)
        .args(["--db", &db.target])
        .env_remove("TRUSTMAP_DB");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn run(db: &Db, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out: Output = cmd(db, args, env).output().expect("run trustmap");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(db: &Db, args: &[&str]) -> String {
    let (c, out, err) = run(db, args, &[]);
    assert_eq!(c, 0, "[{}] {args:?}\nstdout: {out}\nstderr: {err}", db.name);
    out
}

/// A tree of `n` self-signed certificates and their keys.
fn certs(n: usize) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for i in 0..n {
        ec_cert(t.path(), &format!("c{i}"), "30");
    }
    t
}

/// Starts a scan of `dir` that writes everything (as a bulk load, on SQLite through the
/// rollback journal) and then waits before committing until `hold/go` exists.
fn held_scan(db: &Db, dir: &Path, hold: &Path) -> Child {
    let mut c = cmd(
        db,
        &["scan", dir.to_str().unwrap(), "-q", "--output", "/dev/null"],
        &[
            ("TRUSTMAP_TEST_BULK_LOAD", "1"),
            ("TRUSTMAP_TEST_PAUSE_BEFORE_COMMIT", hold.to_str().unwrap()),
        ],
    )
    .spawn()
    .unwrap();
    // Bounded: a scan that never pauses fails the test instead of hanging it.
    for _ in 0..6000 {
        if hold.join("paused").exists() {
            return c;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
    panic!("[{}] the held scan never reached its commit", db.name);
}

#[test]
fn readers_and_a_second_scan_during_a_bulk_load_neither_fail_nor_break_it() {
    for db in backends("bulk") {
        let first = certs(3);
        let second = certs(1);
        let hold = tempfile::tempdir().unwrap();
        let mut loader = held_scan(&db, first.path(), hold.path());
        // The loader has written everything and holds the write lock. On SQLite a reader
        // reads the last committed state (nothing yet) at once; on PostgreSQL it waits for
        // the indexes the first load rebuilds, and reads once that is committed.
        let mut reader = Some(
            cmd(&db, &["assets", "--count"], &[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        if db.name == "sqlite" {
            let out = reader.take().unwrap().wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
        }
        // A second scan waits for the lock instead of failing.
        let waiting = cmd(
            &db,
            &[
                "scan",
                second.path().to_str().unwrap(),
                "-q",
                "--output",
                "/dev/null",
            ],
            &[],
        )
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        std::fs::write(hold.path().join("go"), b"").unwrap();
        let loaded = loader.wait().unwrap();
        if let Some(reader) = reader {
            let out = reader.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "6");
        }
        let waited = waiting.wait_with_output().unwrap();
        assert!(loaded.success(), "[{}] the loading scan failed", db.name);
        assert!(
            waited.status.success(),
            "[{}] the second scan failed: {}",
            db.name,
            String::from_utf8_lossy(&waited.stderr)
        );
        let scans: Value = serde_json::from_str(&ok(&db, &["scans", "-f", "json"])).unwrap();
        assert_eq!(scans.as_array().unwrap().len(), 2, "[{}]", db.name);
        assert_eq!(ok(&db, &["assets", "--count"]).trim(), "8", "[{}]", db.name);
        let verify = ok(&db, &["audit", "verify"]);
        assert!(verify.contains("intact"), "[{}] {verify}", db.name);
    }
}

#[test]
fn a_writer_that_waits_past_the_lock_bound_fails_with_a_clear_error() {
    for db in backends("lockbound") {
        let first = certs(1);
        let hold = tempfile::tempdir().unwrap();
        let mut loader = held_scan(&db, first.path(), hold.path());
        let (c, _, err) = run(
            &db,
            &[
                "scan",
                first.path().to_str().unwrap(),
                "-q",
                "--output",
                "/dev/null",
            ],
            &[("TRUSTMAP_LOCK_TIMEOUT", "1")],
        );
        std::fs::write(hold.path().join("go"), b"").unwrap();
        assert!(loader.wait().unwrap().success(), "[{}]", db.name);
        assert_eq!(c, 2, "[{}] {err}", db.name);
        assert!(
            err.contains("stayed locked by another writer for 1 s"),
            "[{}] {err}",
            db.name
        );
        let scans: Value = serde_json::from_str(&ok(&db, &["scans", "-f", "json"])).unwrap();
        assert_eq!(scans.as_array().unwrap().len(), 1, "[{}]", db.name);
    }
}

#[test]
fn a_database_with_random_bytes_in_the_middle_is_refused() {
    let db = backends("corrupt").remove(0);
    assert_eq!(db.name, "sqlite");
    let t = certs(8);
    ok(
        &db,
        &[
            "scan",
            t.path().to_str().unwrap(),
            "-q",
            "--output",
            "/dev/null",
        ],
    );
    assert!(ok(&db, &["audit", "verify"]).contains("intact"));
    // Random bytes over the middle third of the file (past the header and schema page).
    let mut bytes = std::fs::read(&db.target).unwrap();
    let (a, b) = (bytes.len() / 3, 2 * bytes.len() / 3);
    let mut x: u32 = 0x9e37_79b9;
    for byte in &mut bytes[a..b] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *byte = x as u8;
    }
    std::fs::write(&db.target, bytes).unwrap();

    let (c, out, err) = run(&db, &["audit", "verify"], &[]);
    assert_eq!(c, 1, "verify: {out} {err}");
    assert!(
        out.contains("BROKEN: the database file is corrupt (SQLite integrity_check)"),
        "{out} {err}"
    );
    let (c, out, err) = run(
        &db,
        &[
            "scan",
            t.path().to_str().unwrap(),
            "-q",
            "--output",
            "/dev/null",
        ],
        &[],
    );
    assert_eq!(c, 2, "scan: {out} {err}");
    assert!(
        err.contains("the database file is corrupt (SQLite quick_check"),
        "{err}"
    );
}

/// Runs raw SQL against the store (the attacker with write access to the database).
fn tamper(db: &Db, sql: &str) {
    crate::common::raw_sql(db, sql)
}

/// An unencrypted private key: a `key-unprotected` finding to waive.
fn key_tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    crate::common::openssl(
        t.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "app.key",
        ],
    );
    t
}

fn waiver_of(report: &Value, rule: &str) -> Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {report}"))
        .get("waiver")
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_waiver_extended_by_sql_is_caught_by_verify_and_not_applied() {
    for db in backends("waiver") {
        let t = key_tree();
        let dir = t.path().to_str().unwrap();
        let scan = |now: &str| -> Value {
            serde_json::from_str(&ok(
                &db,
                &["scan", dir, "--format", "json", "--quiet", "--now", now],
            ))
            .unwrap()
        };
        let report = scan("2030-01-01");
        let key = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "key-unprotected")
            .unwrap()["asset"]
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
                "appliance",
                "--until",
                "2031-01-01",
                "--by",
                "alice",
            ],
        );
        assert_eq!(
            waiver_of(&scan("2030-06-01"), "key-unprotected")["by"],
            "alice"
        );
        tamper(
            &db,
            "UPDATE waivers SET expires_at = '2099-12-31T23:59:59Z'",
        );
        // After the real expiry the waiver no longer applies, whatever its row says.
        assert_eq!(
            waiver_of(&scan("2032-01-01"), "key-unprotected"),
            Value::Null,
            "[{}]",
            db.name
        );
        let (c, out, _) = run(&db, &["audit", "verify"], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains("waiver 1 (key-unprotected on ")
                && out.contains("the table says until 2099-12-31T23:59:59Z")
                && out.contains("the events until 2031-01-01T23:59:59Z"),
            "[{}] {out}",
            db.name
        );
    }
}

#[test]
fn an_explicit_owner_changed_by_sql_fails_verify() {
    for db in backends("owner") {
        let t = key_tree();
        let report: Value = serde_json::from_str(&ok(
            &db,
            &[
                "scan",
                t.path().to_str().unwrap(),
                "--format",
                "json",
                "--quiet",
            ],
        ))
        .unwrap();
        let key = report["assets"][0]["id"].as_str().unwrap().to_string();
        ok(&db, &["owner", "set", &key, "--owner", "team-a"]);
        assert!(ok(&db, &["audit", "verify"]).contains("intact"));
        tamper(&db, "UPDATE owners SET name = 'mallory' WHERE explicit = 1");
        let (c, out, _) = run(&db, &["audit", "verify"], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains(&format!(
                "explicit owner of {key} is \"mallory\" but its last owner-changed event set \"team-a\""
            )),
            "[{}] {out}",
            db.name
        );
    }
}

#[test]
fn scans_whose_events_were_deleted_fail_plain_verify() {
    for db in backends("noevents") {
        let t = certs(1);
        ok(
            &db,
            &[
                "scan",
                t.path().to_str().unwrap(),
                "-q",
                "--output",
                "/dev/null",
            ],
        );
        tamper(&db, "DELETE FROM audit_events");
        let (c, out, _) = run(&db, &["audit", "verify"], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains("0 events")
                && out.contains("its scan-started/scan-finished events are missing"),
            "[{}] {out}",
            db.name
        );
    }
}

/// Rewrites every event from `from` on with fresh hashes, as an attacker who knows the
/// (public) hashing rule would after editing one.
fn rehash_from(db: &Db, from: i64) {
    let s = trustmap_store::Store::open_existing(&db.target).unwrap();
    let rows = s
        .query_raw(
            "SELECT seq, at, kind, subject, data, prev_hash, hash FROM audit_events ORDER BY seq",
        )
        .unwrap();
    let mut prev = String::new();
    for r in rows {
        let seq: i64 = r[0].parse().unwrap();
        if seq < from {
            prev = r[6].clone();
            continue;
        }
        let canonical = serde_json::to_string(&(&prev, seq, &r[1], &r[2], &r[3], &r[4])).unwrap();
        let hash = trustmap_core::sha256_hex(canonical.as_bytes());
        s.execute_raw(&format!(
            "UPDATE audit_events SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {seq}"
        ))
        .unwrap();
        prev = hash;
    }
}

#[test]
fn a_saved_head_catches_truncation_and_a_rewritten_log() {
    for db in backends("head") {
        let t = certs(2);
        let dir = t.path().to_str().unwrap();
        let heads = tempfile::tempdir().unwrap();
        let file = heads.path().join("head");
        ok(&db, &["scan", dir, "-q", "--output", "/dev/null"]);
        let printed = ok(
            &db,
            &["audit", "verify", "--write-head", file.to_str().unwrap()],
        );
        let saved = std::fs::read_to_string(&file).unwrap().trim().to_string();
        let (n, hash) = saved.split_once(':').unwrap();
        assert_eq!(hash.len(), 64, "{saved}");
        assert!(
            printed.contains(&format!("{n} events, head {saved}")),
            "{printed}"
        );
        ok(&db, &["scan", dir, "-q", "--output", "/dev/null"]);
        let grown = ok(&db, &["audit", "verify", "--head", file.to_str().unwrap()]);
        assert!(
            grown.contains(&format!("events 1-{n} are unchanged")),
            "{grown}"
        );
        // The printed value works as well as the file.
        ok(&db, &["audit", "verify", "--head", &saved]);

        // Editing an early event and re-hashing everything after it: the chain holds, the
        // saved head does not.
        tamper(
            &db,
            "UPDATE audit_events SET data = '{\"forged\":true}' WHERE seq = 2",
        );
        rehash_from(&db, 2);
        assert!(
            ok(&db, &["audit", "verify"]).contains("intact"),
            "[{}]",
            db.name
        );
        let (c, out, _) = run(&db, &["audit", "verify", "--head", &saved], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains(&format!(
                "the earlier head {hash} at event {n} is not in the log"
            )),
            "[{}] {out}",
            db.name
        );
    }
    for db in backends("head_truncate") {
        let t = certs(2);
        let dir = t.path().to_str().unwrap();
        ok(&db, &["scan", dir, "-q", "--output", "/dev/null"]);
        let printed = ok(&db, &["audit", "verify"]);
        let saved = printed.trim().rsplit(' ').next().unwrap().to_string();
        let n: i64 = saved.split_once(':').unwrap().0.parse().unwrap();
        // The last two events go (scan-finished among them), and the scan row with them,
        // leaving a consistent store that only the saved head can tell from the real one.
        tamper(
            &db,
            &format!("DELETE FROM audit_events WHERE seq > {}", n - 2),
        );
        let (c, out, _) = run(&db, &["audit", "verify"], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains("scan-finished events are missing"),
            "[{}] {out}",
            db.name
        );
        tamper(&db, "DELETE FROM scans");
        assert!(
            ok(&db, &["audit", "verify"]).contains("intact"),
            "[{}]",
            db.name
        );
        let (c, out, _) = run(&db, &["audit", "verify", "--head", &saved], &[]);
        assert_eq!(c, 1, "[{}] {out}", db.name);
        assert!(
            out.contains("events were removed from the end"),
            "[{}] {out}",
            db.name
        );
    }
}

/// The fingerprint and id of the one secret in a report.
fn secret_identity(report: &Value) -> (String, String) {
    let a = report["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "secret")
        .unwrap_or_else(|| panic!("no secret in {report}"));
    (
        a["fingerprint"].as_str().unwrap().to_string(),
        a["id"].as_str().unwrap().to_string(),
    )
}

#[test]
fn secret_fingerprints_are_keyed_per_inventory_not_a_password_verifier() {
    let t = tempfile::tempdir().unwrap();
    let token = format!("ghp_{}", crate::common::generated_token(36));
    std::fs::write(t.path().join("ci.env"), format!("GITHUB_TOKEN={token}\n")).unwrap();
    let dir = t.path().to_str().unwrap();
    let plain = format!("sha256:{}", trustmap_core::sha256_hex(token.as_bytes()));
    let plain_id = format!("sec_{}", &plain[7..23]);
    for db in backends("keyed") {
        let scan = || -> Value {
            serde_json::from_str(&ok(&db, &["scan", dir, "--format", "json", "--quiet"])).unwrap()
        };
        let (fp, id) = secret_identity(&scan());
        assert_ne!(fp, plain, "[{}] the unsalted SHA-256 of the value", db.name);
        assert!(fp.starts_with("sha256:") && fp.len() == 71, "{fp}");
        // The same secret keeps its identity in this inventory...
        assert_eq!(
            secret_identity(&scan()),
            (fp.clone(), id.clone()),
            "[{}]",
            db.name
        );
        // ...and neither the plain hash nor its 16-digit prefix is stored anywhere.
        let s = trustmap_store::Store::open_existing(&db.target).unwrap();
        let ids = s.query_raw("SELECT id, fingerprint FROM assets").unwrap();
        assert!(
            ids.iter().all(|r| r[0] != plain_id && r[1] != plain),
            "[{}] {ids:?}",
            db.name
        );
        drop(s);
        if db.name == "sqlite" {
            let bytes = std::fs::read(&db.target).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            assert!(
                !hay.contains(&plain[7..23]),
                "the plain hash is in the file"
            );
        }
    }
    // Without a store, each run has a key of its own.
    let a = secret_identity(&crate::common::scan_json(t.path(), &[]));
    let b = secret_identity(&crate::common::scan_json(t.path(), &[]));
    assert_ne!(a.0, b.0);
    assert_ne!(a.0, plain);
}
