//! `trustmap serve`, `trustmap token` and `trustmap scan --push`: a real server process on
//! loopback, real HTTP, on SQLite and (with TRUSTMAP_TEST_PG_URL) PostgreSQL.

use crate::common::{Db, backends, ec_cert, generated_token, on_db, on_db_ok};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `trustmap` command on `db`.
pub fn command(db: &Db) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trustmap"));
    c.env("TRUSTMAP_DB", &db.target);
    c
}

/// A `trustmap serve` process; SIGTERM when dropped.
pub struct Serve {
    child: Child,
    pub(crate) base: String,
    /// What it printed on stderr after the listening line.
    rest: std::sync::mpsc::Receiver<String>,
}

impl Serve {
    pub fn start(db: &Db, extra: &[&str]) -> Serve {
        Serve::start_with(db, extra, &[])
    }

    /// [`Serve::start`] with environment variables.
    pub fn start_with(db: &Db, extra: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = command(db)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start trustmap serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve prints where it listens");
        let base = first
            .split("listening on ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap_or_else(|| panic!("not a listening line: {first}"))
            .to_string();
        Serve {
            child,
            base,
            rest: rx,
        }
    }

    /// What it printed on stderr since the listening line (or the last call).
    pub fn said(&self) -> Vec<String> {
        self.rest.try_iter().collect()
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// SIGKILL, and reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then the exit status (within 30 s).
    pub fn stop(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..300 {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A request body and its extra headers.
pub(crate) type Body<'a> = (&'a [u8], &'a [(&'a str, &'a str)]);

/// One request: (status, body as JSON, or `{"text": body}` when it is not JSON).
pub(crate) fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Body<'_>>,
) -> (u16, Value) {
    let a = agent();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let resp = match body {
        Some((bytes, headers)) => {
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            a.run(req.body(bytes.to_vec()).unwrap())
        }
        None => a.run(req.body(()).unwrap()),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
    (status, v)
}

/// `len` bytes sent with curl (which asks `Expect: 100-continue` first): (status, body).
fn curl_oversized(method: &str, url: &str, token: &str, len: usize) -> (u16, Value) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big");
    std::fs::write(&f, vec![b' '; len]).unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-X",
            method,
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Expect: 100-continue",
            "--data-binary",
            &format!("@{}", f.display()),
            "-w",
            "\n%{http_code}",
            url,
        ])
        .output()
        .expect("curl is installed (scripts/test)");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        code.trim().parse().unwrap_or(0),
        serde_json::from_str(body).unwrap_or_else(|_| json!({ "text": body })),
    )
}

pub(crate) fn get(s: &Serve, path: &str, token: &str) -> Value {
    let (status, v) = call("GET", &s.url(path), Some(token), None);
    assert_eq!(status, 200, "GET {path}: {v}");
    v
}

/// `trustmap token create`: the token printed.
pub(crate) fn token(db: &Db, role: &str, name: &str) -> String {
    on_db_ok(db, 0, &["token", "create", "--role", role, "--name", name])
        .trim()
        .to_string()
}

/// A tree with a certificate, its key and a generated GitHub token.
fn estate(dir: &Path) -> String {
    ec_cert(dir, "web", "30");
    let token = format!("ghp_{}", generated_token(36));
    std::fs::write(dir.join(".env"), format!("APP=1\nGITHUB_TOKEN={token}\n")).unwrap();
    token
}

/// What writes leave behind: audit events, waivers, owner rules, scans, explicit owners.
fn written(db: &Db) -> Vec<String> {
    let s = trustmap_store::Store::open_existing(&db.target).unwrap();
    [
        "SELECT COUNT(*) FROM audit_events",
        "SELECT COUNT(*) FROM waivers",
        "SELECT COUNT(*) FROM owner_rules",
        "SELECT COUNT(*) FROM scans",
        "SELECT COUNT(*) FROM owners WHERE explicit = 1",
    ]
    .iter()
    .map(|q| s.query_raw(q).unwrap()[0][0].clone())
    .collect()
}

/// Every route, with a body that would be valid for it.
fn routes(asset: &str, scan: &str) -> Vec<(&'static str, String, Option<Value>, &'static str)> {
    vec![
        ("GET", "/api/v1/scans".into(), None, "read"),
        ("GET", format!("/api/v1/scans/{scan}"), None, "read"),
        ("GET", "/api/v1/scans/diff".into(), None, "read"),
        ("GET", "/api/v1/assets".into(), None, "read"),
        ("GET", format!("/api/v1/assets/{asset}"), None, "read"),
        ("GET", "/api/v1/owner-rules".into(), None, "read"),
        ("GET", "/api/v1/findings".into(), None, "read"),
        ("GET", "/api/v1/audit".into(), None, "read"),
        ("GET", "/api/v1/audit/verify".into(), None, "read"),
        ("GET", "/api/v1/reports?format=sarif".into(), None, "read"),
        ("GET", "/api/v1/metrics".into(), None, "read"),
        ("GET", "/api/v1/me".into(), None, "read"),
        ("GET", "/api/v1/overview".into(), None, "read"),
        ("GET", "/api/v1/waivers".into(), None, "admin"),
        (
            "PUT",
            format!("/api/v1/assets/{asset}/owners"),
            Some(json!({"owner": "team-edge"})),
            "admin",
        ),
        (
            "POST",
            "/api/v1/owner-rules".into(),
            Some(json!({"path": "*.crt", "owner": "team-edge"})),
            "admin",
        ),
        ("DELETE", "/api/v1/owner-rules/1".into(), None, "admin"),
        (
            "POST",
            "/api/v1/waivers".into(),
            Some(
                json!({"rule": "cert-untrusted-root", "asset": asset, "reason": "lab", "until": "2099-01-01"}),
            ),
            "admin",
        ),
        ("DELETE", "/api/v1/waivers/1".into(), None, "admin"),
        ("POST", "/api/v1/scans".into(), Some(json!({})), "push"),
    ]
}

#[test]
fn every_route_refuses_missing_revoked_and_wrong_tokens_and_bad_bodies_writing_nothing() {
    for db in backends("serve", "auth") {
        let dir = tempfile::tempdir().unwrap();
        estate(dir.path());
        on_db_ok(&db, 0, &["scan", dir.path().to_str().unwrap(), "-q"]);
        let reader = token(&db, "reader", "reader-1");
        let scanner = token(&db, "scanner", "scanner-1");
        let admin = token(&db, "admin", "admin-1");
        let revoked = token(&db, "admin", "old-admin");
        on_db_ok(&db, 0, &["token", "revoke", "old-admin"]);
        let listed: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["token", "list", "--format", "json"]))
                .unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 4);
        assert!(!listed.to_string().contains(&admin), "a token in the list");
        let s = Serve::start(&db, &["--max-push-mib", "1"]);
        let scans = get(&s, "/api/v1/scans", &reader);
        let scan = scans["scans"][0]["id"].as_str().unwrap().to_string();
        let assets = get(&s, "/api/v1/assets?kind=certificate", &reader);
        let asset = assets["assets"][0]["id"].as_str().unwrap().to_string();
        let before = written(&db);
        let json_body = |v: &Option<Value>| v.as_ref().map(|v| v.to_string().into_bytes());
        for (method, path, body, need) in routes(&asset, &scan) {
            let b = json_body(&body);
            let with = |token: Option<&str>| {
                call(
                    method,
                    &s.url(&path),
                    token,
                    b.as_deref()
                        .map(|b| (b, &[("Content-Type", "application/json")][..])),
                )
            };
            let (st, v) = with(None);
            assert_eq!(
                st, 401,
                "[{}] {method} {path} without a token: {v}",
                db.name
            );
            assert_eq!(v["error"]["code"], "unauthorized");
            let (st, v) = with(Some(&revoked));
            assert_eq!(st, 401, "[{}] {method} {path} revoked: {v}", db.name);
            let (st, _) = with(Some("tmk_0123456789abcdef"));
            assert_eq!(st, 401, "{method} {path} with a made-up token");
            let wrong: &[&str] = match need {
                "read" => &[&scanner],
                "admin" => &[&reader, &scanner],
                _ => &[&reader, &admin],
            };
            for t in wrong {
                let (st, v) = with(Some(t));
                assert_eq!(st, 403, "[{}] {method} {path} wrong role: {v}", db.name);
                assert_eq!(v["error"]["code"], "forbidden");
            }
            if let Some(b) = &b {
                let right = if need == "push" { &scanner } else { &admin };
                // Malformed: cut in half.
                let (st, v) = call(
                    method,
                    &s.url(&path),
                    Some(right),
                    Some((&b[..b.len() / 2], &[])),
                );
                assert_eq!(st, 400, "[{}] {method} {path} malformed: {v}", db.name);
                assert_eq!(v["error"]["code"], "bad_request");
                // Oversized: past the 64 KiB body limit (1 MiB for a push here). The server
                // answers before reading the body; curl waits for that answer (Expect:
                // 100-continue) where a client that sends the whole body first would see
                // the connection closed under it.
                let (st, v) = curl_oversized(method, &s.url(&path), right, 2 << 20);
                assert_eq!(st, 413, "[{}] {method} {path} oversized: {v}", db.name);
                assert_eq!(v["error"]["code"], "payload_too_large");
            }
        }
        // A gzip bomb: 1 KiB that inflates past the bound (4 MiB for 1 MiB pushes).
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![b' '; 8 << 20]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 64 << 10);
        let (st, v) = call(
            "POST",
            &s.url("/api/v1/scans"),
            Some(&scanner),
            Some((&bomb, &[("Content-Encoding", "gzip")])),
        );
        assert_eq!(st, 413, "gzip bomb: {v}");
        assert_eq!(
            written(&db),
            before,
            "[{}] a refused request wrote something",
            db.name
        );
        // An unknown route is a JSON 404 for anyone.
        let (st, v) = call("GET", &s.url("/api/v1/nothing"), Some(&reader), None);
        assert_eq!((st, v["error"]["code"].as_str()), (404, Some("not_found")));
        // The OpenAPI document needs no token.
        let (st, v) = call("GET", &s.url("/api/v1/openapi.json"), None, None);
        assert_eq!(st, 200);
        assert!(v["paths"]["/api/v1/assets"]["get"].is_object());
    }
}

#[test]
fn the_overview_and_me_answer_what_the_cli_reports() {
    for db in backends("serve", "overview") {
        let dir = tempfile::tempdir().unwrap();
        estate(dir.path());
        ec_cert(dir.path(), "soon", "10");
        ec_cert(dir.path(), "later", "200");
        on_db_ok(&db, 0, &["scan", dir.path().to_str().unwrap(), "-q"]);
        let reader = token(&db, "reader", "reader-o");
        let admin = token(&db, "admin", "admin-o");
        let report: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["report", "--format", "json"])).unwrap();
        let s = Serve::start(&db, &[]);
        assert_eq!(
            get(&s, "/api/v1/me", &reader),
            json!({"name": "reader-o", "role": "reader"})
        );
        assert_eq!(get(&s, "/api/v1/me", &admin)["role"], "admin");
        let o = get(&s, "/api/v1/overview", &reader);
        let assets = report["assets"].as_array().unwrap();
        assert_eq!(o["assets"], assets.len());
        for (k, n) in o["by_kind"].as_object().unwrap() {
            assert_eq!(
                assets.iter().filter(|a| a["kind"] == k.as_str()).count(),
                n.as_u64().unwrap() as usize,
                "{k}"
            );
        }
        let open: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["waiver"].is_null() && f["baselined"] != true)
            .collect();
        assert_eq!(o["findings"]["open"], open.len());
        let sev_sum: u64 = o["findings"]["by_severity"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(sev_sum as usize, open.len());
        // web (30 days) and soon (10 days) expire within 90 days; later (200) does not.
        let soon: Vec<&str> = o["expiry"]["certificates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["label"].as_str().unwrap())
            .collect();
        assert_eq!(soon, ["soon.example.test", "web.example.test"]);
        assert_eq!(o["expiry"]["within"], 2);
        assert_eq!(
            o["pq"]["quantum-vulnerable"], 6,
            "three EC certificates, three EC keys"
        );
        // A longer window takes in the 200-day certificate; windows out of bounds are 400s.
        let year = get(&s, "/api/v1/overview?days=365", &reader);
        assert_eq!(year["expiry"]["within"], 3);
        for bad in ["days=0", "days=3661", "days=x", "now=yesterday", "nope=1"] {
            let (st, v) = call(
                "GET",
                &s.url(&format!("/api/v1/overview?{bad}")),
                Some(&reader),
                None,
            );
            assert_eq!(st, 400, "{bad}: {v}");
            assert_eq!(v["error"]["code"], "bad_request");
        }
    }
}

#[test]
fn admin_writes_are_audited_under_the_token_name_and_verify() {
    for db in backends("serve", "admin") {
        let dir = tempfile::tempdir().unwrap();
        estate(dir.path());
        on_db_ok(&db, 0, &["scan", dir.path().to_str().unwrap(), "-q"]);
        let admin = token(&db, "admin", "sec-team");
        let s = Serve::start(&db, &[]);
        let assets = get(&s, "/api/v1/assets?kind=certificate", &admin);
        let asset = assets["assets"][0]["id"].as_str().unwrap().to_string();
        let put = |path: &str, method: &str, body: Value| {
            let b = body.to_string();
            call(
                method,
                &s.url(path),
                Some(&admin),
                Some((b.as_bytes(), &[])),
            )
        };
        let (st, v) = put(
            &format!("/api/v1/assets/{asset}/owners"),
            "PUT",
            json!({"owner": "team-edge"}),
        );
        assert_eq!(st, 200, "{v}");
        let (st, w) = put(
            "/api/v1/waivers",
            "POST",
            json!({"rule": "cert-untrusted-root", "asset": asset, "reason": "lab", "until": "2099-01-01"}),
        );
        assert_eq!(st, 201, "{w}");
        assert_eq!(w["by"], "token:sec-team");
        // The same waiver again conflicts.
        let (st, v) = put(
            "/api/v1/waivers",
            "POST",
            json!({"rule": "cert-untrusted-root", "asset": asset, "reason": "lab", "until": "2099-01-01"}),
        );
        assert_eq!((st, v["error"]["code"].as_str()), (409, Some("conflict")));
        let (st, v) = call(
            "DELETE",
            &s.url(&format!("/api/v1/waivers/{}", w["id"])),
            Some(&admin),
            None,
        );
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["revoked_by"], "token:sec-team");
        // The API's answers are the CLI's.
        let detail = get(&s, &format!("/api/v1/assets/{asset}"), &admin);
        assert_eq!(detail["asset"]["owner"], "team-edge");
        let cli: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["findings", "--format", "json"])).unwrap();
        let api = get(&s, "/api/v1/findings", &admin);
        assert_eq!(api["findings"], cli);
        // A limit lists the first ones, in the same order, and counts them all.
        let n = cli.as_array().unwrap().len();
        assert!(n >= 2, "{cli}");
        let first = get(&s, "/api/v1/findings?limit=1", &admin);
        assert_eq!(first["findings"], json!([cli[0]]));
        assert_eq!(
            (first["matched"].as_u64(), api["matched"].as_u64()),
            (Some(n as u64), Some(n as u64))
        );
        for bad in ["0", "100001", "x"] {
            let (st, v) = call(
                "GET",
                &s.url(&format!("/api/v1/findings?limit={bad}")),
                Some(&admin),
                None,
            );
            assert_eq!(st, 400, "limit={bad}: {v}");
        }
        let audit = get(&s, "/api/v1/audit", &admin);
        let events = audit["events"].as_array().unwrap();
        let by: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|e| Some((e["kind"].as_str()?, e["data"]["by"].as_str()?)))
            .collect();
        assert!(by.contains(&("owner-changed", "token:sec-team")), "{by:?}");
        assert!(by.contains(&("waiver-granted", "token:sec-team")), "{by:?}");
        assert!(by.contains(&("waiver-revoked", "token:sec-team")), "{by:?}");
        assert!(by.iter().any(|(k, _)| *k == "token-created"), "{by:?}");
        let verify = get(&s, "/api/v1/audit/verify", &admin);
        assert_eq!(verify["intact"], true, "{verify}");
        // A token's role raised by hand in the database is caught by the replay.
        crate::common::raw_sql(
            &db,
            "UPDATE api_tokens SET role = 'admin' WHERE name = 'sec-team'",
        );
        crate::common::raw_sql(&db, "UPDATE api_tokens SET revoked_at = NULL");
        let verify = get(&s, "/api/v1/audit/verify", &admin);
        assert_eq!(
            verify["intact"], true,
            "role unchanged, nothing revoked: {verify}"
        );
        crate::common::raw_sql(
            &db,
            "UPDATE api_tokens SET hash = 'ab' WHERE name = 'sec-team'",
        );
        let (code, out, _) = on_db(&db, &["audit", "verify"]);
        assert_ne!(code, 0, "a swapped token hash verifies: {out}");
    }
}

#[test]
fn a_pushed_scan_is_recorded_once_under_its_host_and_listed_as_the_cli_lists_it() {
    for db in backends("serve", "push") {
        let dir = tempfile::tempdir().unwrap();
        let secret = estate(dir.path());
        let s = Serve::start(&db, &[]);
        let scanner = token(&db, "scanner", "host-scanner");
        let reader = token(&db, "reader", "auditor");
        let tf = dir.path().join("../token-".to_string() + db.name);
        std::fs::write(&tf, &scanner).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_trustmap"))
            .args([
                "scan",
                dir.path().to_str().unwrap(),
                "--host",
                "remote-1",
                "--push",
                &s.base,
                "--token-file",
                tf.to_str().unwrap(),
                "-q",
            ])
            .env_remove("TRUSTMAP_DB")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("pushed scan_"), "{stderr}");
        assert!(out.stdout.is_empty(), "a pushed scan prints no report");
        assert!(!stderr.contains(&secret));
        let scans = get(&s, "/api/v1/scans", &reader);
        assert_eq!(scans["scans"].as_array().unwrap().len(), 1);
        assert_eq!(scans["scans"][0]["host"], "remote-1");
        // What the API lists is what `trustmap assets` prints.
        let cli: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["assets", "--format", "json"])).unwrap();
        let api = get(&s, "/api/v1/assets", &reader);
        assert_eq!(api["assets"], cli);
        assert!(cli.as_array().unwrap().len() >= 3, "{cli}");
        // The secret has the inventory's keyed identity: a local scan of the same tree into
        // the same inventory finds the same secret id.
        let pushed_secret = cli
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "secret")
            .unwrap()["id"]
            .clone();
        let local: Value = serde_json::from_str(&on_db_ok(
            &db,
            0,
            &[
                "scan",
                dir.path().to_str().unwrap(),
                "--format",
                "json",
                "-q",
            ],
        ))
        .unwrap();
        let local_secret = local["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "secret")
            .unwrap()["id"]
            .clone();
        assert_eq!(pushed_secret, local_secret);
        // Neither the secret nor its plain SHA-256 is stored anywhere.
        let digest = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(secret.as_bytes()))
        };
        let store = trustmap_store::Store::open_existing(&db.target).unwrap();
        let events = store.audit_events(None).unwrap();
        let dump = format!(
            "{:?}{:?}{:?}",
            events,
            store.assets(&Default::default()).unwrap(),
            store.query_raw("SELECT body FROM findings").unwrap()
        );
        assert!(!dump.contains(&digest[..16]) && !dump.contains(&secret));
        let started = events.iter().find(|e| e.kind == "scan-started").unwrap();
        assert_eq!(started.data["pushed_by"], "token:host-scanner");
        // A push is idempotent by scan id: the same scan again is 200, not a second scan.
        let report: Value = serde_json::from_str(&on_db_ok(
            &db,
            0,
            &[
                "report",
                "--as-of",
                scans["scans"][0]["id"].as_str().unwrap(),
                "--format",
                "json",
            ],
        ))
        .unwrap();
        let roots = vec![json!({"given": report["scan"]["roots"][0], "canonical": "/srv/x"})];
        let push = json!({"version": 1, "report": report, "roots": roots,
                          "finished_at": "2026-01-01T00:00:00Z", "secrets": "sha256-digest"});
        let body = push.to_string();
        let (st, v) = call(
            "POST",
            &s.url("/api/v1/scans"),
            Some(&scanner),
            Some((body.as_bytes(), &[])),
        );
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["recorded"], false);
        assert_eq!(
            get(&s, "/api/v1/scans", &reader)["scans"]
                .as_array()
                .unwrap()
                .len(),
            2,
            "the pushed scan and the local one, no duplicate"
        );
        let verify = get(&s, "/api/v1/audit/verify", &reader);
        assert_eq!(verify["intact"], true, "{verify}");
        drop(s);
    }
}

#[test]
fn assets_page_by_cursor_without_repeats_or_gaps() {
    let db = backends("serve", "pages").remove(0);
    let dir = tempfile::tempdir().unwrap();
    for i in 0..7 {
        ec_cert(dir.path(), &format!("c{i}"), "30");
    }
    on_db_ok(&db, 0, &["scan", dir.path().to_str().unwrap(), "-q"]);
    let reader = token(&db, "reader", "pager");
    let s = Serve::start(&db, &[]);
    let all: Value =
        serde_json::from_str(&on_db_ok(&db, 0, &["assets", "--format", "json"])).unwrap();
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/assets?limit=3&cursor={c}"),
            None => "/api/v1/assets?limit=3".to_string(),
        };
        let page = get(&s, &path, &reader);
        pages += 1;
        ids.extend(
            page["assets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 20);
    }
    let want: Vec<Value> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(
        pages,
        want.len().div_ceil(3) + usize::from(want.len().is_multiple_of(3))
    );
    let count = get(&s, "/api/v1/assets?count=true", &reader);
    assert_eq!(count["count"], want.len());
    for bad in [
        "limit=0",
        "limit=1001",
        "cursor=zzz",
        "kind=dragon",
        "expiring=7",
        "bogus=1",
    ] {
        let (st, v) = call(
            "GET",
            &s.url(&format!("/api/v1/assets?{bad}")),
            Some(&reader),
            None,
        );
        assert_eq!(
            (st, v["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {v}"
        );
    }
}

#[test]
fn a_token_past_its_rate_is_told_to_wait() {
    let db = backends("serve", "rate").remove(0);
    let dir = tempfile::tempdir().unwrap();
    ec_cert(dir.path(), "web", "30");
    on_db_ok(&db, 0, &["scan", dir.path().to_str().unwrap(), "-q"]);
    let reader = token(&db, "reader", "busy");
    let other = token(&db, "reader", "calm");
    let s = Serve::start(&db, &["--rate", "1"]);
    // A burst of 4, then 429.
    let codes: Vec<u16> = (0..6)
        .map(|_| call("GET", &s.url("/api/v1/scans"), Some(&reader), None).0)
        .collect();
    assert_eq!(&codes[..4], &[200; 4], "{codes:?}");
    assert!(codes[4..].contains(&429), "{codes:?}");
    let (st, v) = call("GET", &s.url("/api/v1/scans"), Some(&reader), None);
    if st == 429 {
        assert_eq!(v["error"]["code"], "rate_limited");
    }
    assert_eq!(
        call("GET", &s.url("/api/v1/scans"), Some(&other), None).0,
        200
    );
}

#[test]
fn serve_speaks_tls_and_stops_cleanly_on_sigterm() {
    let db = backends("serve", "tls").remove(0);
    let dir = tempfile::tempdir().unwrap();
    ec_cert(dir.path(), "localhost", "30");
    let (cert, key) = (
        dir.path().join("localhost.crt"),
        dir.path().join("localhost.key"),
    );
    let mut s = Serve::start(
        &db,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);
    // `serve` created the inventory.
    assert!(Path::new(&db.target).is_file());
    let out = Command::new("curl")
        .args([
            "-sS",
            "--cacert",
            cert.to_str().unwrap(),
            "--resolve",
            &format!(
                "localhost.example.test:{}:127.0.0.1",
                s.base.rsplit(':').next().unwrap()
            ),
            &format!(
                "https://localhost.example.test:{}/api/v1/openapi.json",
                s.base.rsplit(':').next().unwrap()
            ),
        ])
        .output()
        .expect("curl is installed (scripts/test)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(s.stop(), Some(0));
    let said: Vec<String> = s.rest.try_iter().collect();
    assert!(said.iter().any(|l| l.contains("stopping")), "{said:?}");
}

/// A push of `n` generated certificates from scanner `s` (host `fleet-S`), as JSON.
fn generated_push(s: usize, n: usize) -> Vec<u8> {
    let assets: Vec<Value> = (0..n)
        .map(|i| {
            let fp = trustmap_core::fingerprint(format!("fleet {s} cert {i}").as_bytes());
            json!({
                "id": trustmap_core::asset_id(trustmap_core::AssetKind::Certificate, &fp),
                "kind": "certificate",
                "fingerprint": fp,
                "occurrences": [{"path": format!("tls/cert{i}.pem"), "line": 1}],
                "certificate": {
                    "subject": format!("CN=svc{i}.fleet{s}.example"), "issuer": "CN=Fleet CA",
                    "serial": format!("{i:x}"), "not_before": "2026-01-01T00:00:00Z",
                    "not_after": "2027-06-01T00:00:00Z", "sans": [], "is_ca": false,
                    "self_signed": false, "signature_algorithm": "sha256WithRSAEncryption",
                    "signature_algorithm_oid": "1.2.840.113549.1.1.11", "version": 3,
                    "public_key": {"algorithm": "RSA", "bits": 2048}
                },
                "owners": []
            })
        })
        .collect();
    let report = json!({
        "tool": {"name": "trustmap", "version": "test"},
        "scan": {"id": format!("scan_{:016x}", 0x000f_1ee7_0000_u64 + s as u64),
                 "started_at": "2026-12-03T00:00:00Z", "roots": ["/etc"],
                 "host": format!("fleet-{s}"), "files_scanned": n, "bytes_scanned": 0,
                 "duration_ms": 1},
        "assets": assets, "relations": [], "findings": [], "errors": []
    });
    json!({"version": 1, "report": report,
           "roots": [{"given": "/etc", "canonical": "/etc"}],
           "finished_at": "2026-12-03T00:01:00Z", "secrets": "sha256-digest"})
    .to_string()
    .into_bytes()
}

/// A gauge's value in `/api/v1/metrics`.
fn gauge(s: &Serve, token: &str, name: &str) -> u64 {
    let (status, v) = call("GET", &s.url("/api/v1/metrics"), Some(token), None);
    assert_eq!(status, 200, "{v}");
    let text = v["text"].as_str().unwrap().to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[test]
fn pushes_beyond_pushes_at_once_wait_their_turn_and_all_are_recorded() {
    let db = backends("serve", "slots").remove(0);
    let s = Serve::start(&db, &["--pushes-at-once", "1"]);
    let scanner = token(&db, "scanner", "fleet");
    let reader = token(&db, "reader", "watch");
    assert_eq!(
        gauge(&s, &reader, "trustmap_server_pushes_in_progress_max"),
        0
    );
    // Six scanners push 3,000 certificates each at the same instant.
    let bodies: Vec<Vec<u8>> = (0..6).map(|i| generated_push(i, 3000)).collect();
    let url = s.url("/api/v1/scans");
    let barrier = std::sync::Barrier::new(bodies.len());
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let handles: Vec<_> = bodies
            .iter()
            .map(|b| {
                let (url, scanner, barrier) = (&url, &scanner, &barrier);
                sc.spawn(move || {
                    barrier.wait();
                    call("POST", url, Some(scanner), Some((b, &[]))).0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![201; 6]);
    // One at a time was inflated and recorded; the others waited.
    assert_eq!(
        gauge(&s, &reader, "trustmap_server_pushes_in_progress_max"),
        1
    );
    assert!(gauge(&s, &reader, "trustmap_server_pushes_waiting_max") >= 1);
    assert_eq!(gauge(&s, &reader, "trustmap_server_pushes_in_progress"), 0);
    assert_eq!(gauge(&s, &reader, "trustmap_server_pushes_waiting"), 0);
    let scans = get(&s, "/api/v1/scans", &reader);
    assert_eq!(scans["scans"].as_array().unwrap().len(), 6);
    let overview = get(&s, "/api/v1/overview", &reader);
    assert_eq!(overview["assets"], 18_000);
    assert_eq!(get(&s, "/api/v1/audit/verify", &reader)["intact"], true);
}

#[test]
fn the_findings_api_reads_columns_and_answers_as_the_cli_does_across_hosts() {
    for db in backends("serve", "currentf") {
        let estate = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/estate")
            .canonicalize()
            .unwrap();
        let root = estate.to_str().unwrap();
        // The same tree from two hosts: findings at places once per host (`host:path`).
        on_db_ok(&db, 0, &["scan", root, "--host", "alpha", "-q"]);
        on_db_ok(&db, 0, &["scan", root, "--host", "beta", "-q"]);
        // A waiver, which beta's next scan marks on its finding and alpha's does not.
        let listed: Value =
            serde_json::from_str(&on_db_ok(&db, 0, &["findings", "--format", "json"])).unwrap();
        let f0 = &listed[0];
        on_db_ok(
            &db,
            0,
            &[
                "waive",
                f0["rule"].as_str().unwrap(),
                f0["asset"].as_str().unwrap(),
                "--reason",
                "test",
                "--until",
                "2099-12-31",
                "--by",
                "tester",
            ],
        );
        on_db_ok(&db, 0, &["scan", root, "--host", "beta", "-q"]);
        let reader = token(&db, "reader", "watch");
        let s = Serve::start(&db, &[]);
        let all = get(&s, "/api/v1/findings", &reader);
        let n = all["findings"].as_array().unwrap().len();
        assert!(n > 20, "{all}");
        assert!(
            all["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["waiver"].is_object()),
            "beta's rescan marks the waived finding"
        );
        assert_eq!(
            (all["total"].as_u64(), all["matched"].as_u64()),
            (Some(n as u64), Some(n as u64))
        );
        let owner = all["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|f| f["owners"][0].as_str())
            .expect("an owned finding")
            .to_string();
        let rule = all["findings"][n / 2]["rule"].as_str().unwrap().to_string();
        let team = owner.rsplit('/').next().unwrap().to_string();
        for (api, cli) in [
            ("", vec![]),
            ("severity=high", vec!["--severity", "high"]),
            (&format!("rule={rule}") as &str, vec!["--rule", &rule]),
            (&format!("owner={team}"), vec!["--owner", &team]),
            ("unowned=true", vec!["--unowned"]),
            ("path=beta:*", vec!["--path", "beta:*"]),
            ("waived=no", vec!["--waived", "no"]),
            ("waived=yes", vec!["--waived", "yes"]),
        ] {
            let mut args = vec!["findings", "--format", "json"];
            args.extend(cli.iter().copied());
            let want: Value = serde_json::from_str(&on_db_ok(&db, 0, &args)).unwrap();
            let got = get(&s, &format!("/api/v1/findings?{api}"), &reader);
            assert_eq!(got["findings"], want, "{} {api}", db.name);
            assert_eq!(
                got["matched"].as_u64(),
                Some(want.as_array().unwrap().len() as u64)
            );
            // A page is the first of the same list.
            let page = get(&s, &format!("/api/v1/findings?{api}&limit=3"), &reader);
            let first: Vec<Value> = want.as_array().unwrap().iter().take(3).cloned().collect();
            assert_eq!(page["findings"], json!(first), "{api} limit=3");
        }
        // The filters that read a scan other than the latest ones still work (the merged
        // report's way).
        let scans = get(&s, "/api/v1/scans", &reader);
        let alpha = scans["scans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["host"] == "alpha")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let want: Value = serde_json::from_str(&on_db_ok(
            &db,
            0,
            &["findings", "--format", "json", "--as-of", &alpha],
        ))
        .unwrap();
        assert_eq!(
            get(&s, &format!("/api/v1/findings?as_of={alpha}"), &reader)["findings"],
            want
        );
    }
}
