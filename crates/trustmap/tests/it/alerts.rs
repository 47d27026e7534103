//! `trustmap serve --config`: scans the server runs on a schedule, and the alerts they bring
//! posted to webhooks (a local HTTP receiver here), routed by owner, each once; and two
//! replicas on one database sharing the work without doing any of it twice. SQLite always,
//! PostgreSQL with TRUSTMAP_TEST_PG_URL.

use crate::common::{Db, backends, ec_cert, on_db, on_db_ok};
use crate::serve::Serve;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request a webhook received: (path, body).
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback: records every POST; answers 500 to the first `fail`
/// requests on `/flaky`, 200 otherwise.
struct Receiver {
    base: String,
    got: Received,
}

impl Receiver {
    fn start(fail: usize) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let got: Received = Arc::default();
        let seen = got.clone();
        std::thread::spawn(move || {
            let mut failed = 0;
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = if path == "/flaky" && failed < fail {
                    failed += 1;
                    "500 Internal Server Error"
                } else {
                    seen.lock()
                        .unwrap()
                        .push((path, String::from_utf8_lossy(&body).into_owned()));
                    "200 OK"
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver { base, got }
    }

    fn bodies(&self, path: &str) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// The `text` of each JSON body received on `path` (what a Slack channel shows).
    fn texts(&self, path: &str) -> Vec<String> {
        self.json(path)
            .iter()
            .map(|v| v["text"].as_str().unwrap().to_string())
            .collect()
    }

    fn json(&self, path: &str) -> Vec<Value> {
        self.bodies(path)
            .iter()
            .map(|b| serde_json::from_str(b).unwrap())
            .collect()
    }
}

/// Waits (at most 90 s) until `done` holds.
fn wait_for(what: &str, done: impl FnMut() -> bool) {
    assert!(waited(done), "timed out waiting for {what}");
}

/// Whether `done` came to hold within 90 s.
fn waited(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(90) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}

/// The recorded scans, oldest first.
fn scans(db: &Db) -> Vec<Value> {
    let out = on_db_ok(db, 0, &["scans", "--format", "json"]);
    let mut v: Vec<Value> = serde_json::from_str(&out).unwrap();
    v.sort_by_key(|s| s["seq"].as_i64());
    v
}

fn alert_rows(db: &Db) -> Vec<(String, String, i64)> {
    let s = trustmap_store::Store::open_existing(&db.target).unwrap();
    s.alerts(1000)
        .unwrap()
        .into_iter()
        .map(|a| (a.webhook, a.state, a.attempts))
        .collect()
}

fn cert_in(dir: &Path, name: &str, days: &str) {
    ec_cert(dir, name, days);
}

#[test]
fn scheduled_scans_alert_each_owners_webhook_once_per_change() {
    for db in backends("alerts", "sched") {
        let tree = tempfile::tempdir().unwrap();
        let root = tree.path();
        std::fs::create_dir_all(root.join("payments")).unwrap();
        std::fs::create_dir_all(root.join("web")).unwrap();
        std::fs::write(root.join("CODEOWNERS"), "/payments/ @acme/payments\n").unwrap();
        // api: expires in 10 days, owned by payments, its unprotected key next to it.
        cert_in(&root.join("payments"), "api", "10");
        // www: a year left, no owner.
        cert_in(&root.join("web"), "www", "400");
        std::fs::remove_file(root.join("web/www.key")).unwrap();
        let hooks = Receiver::start(1);
        let conf = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            conf.path(),
            format!(
                r#"
[server]
url = "https://tm.example"
tick = "1s"

[[schedule]]
name = "estate"
paths = ["{root}"]
every = "2s"

[alerts]
severity = "high"
expiry_days = [30]
retry = "1s"

[[alerts.webhook]]
name = "payments"
url = "{base}/payments"
format = "slack"
owners = ["payments"]

[[alerts.webhook]]
name = "everyone-else"
url_env = "TEST_DEFAULT_HOOK"
format = "json"
"#,
                root = root.display(),
                base = hooks.base
            ),
        )
        .unwrap();
        let check = crate::serve::command(&db)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(conf.path())
            .arg("--check-config")
            .env("TEST_DEFAULT_HOOK", format!("{}/flaky", hooks.base))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&check.stdout);
        assert!(said.contains("job estate: every 2 s:"), "{said}");
        assert!(
            said.contains("webhook payments (Slack): owners payments"),
            "{said}"
        );
        assert!(
            !said.contains("/flaky") && !said.contains(&hooks.base),
            "a webhook URL shown: {said}"
        );

        let mut server = Serve::start_with(
            &db,
            &["--config", &conf.path().to_string_lossy()],
            &[("TEST_DEFAULT_HOOK", &format!("{}/flaky", hooks.base))],
        );
        // First scan: the expiring certificate and the key's findings go to payments.
        wait_for("the first scan's alerts", || {
            hooks.bodies("/payments").len() >= 3
        });
        let first: Vec<String> = hooks.texts("/payments");
        let expiry: Vec<&String> = first
            .iter()
            .filter(|t| t.contains("Certificate api.example.test: expires at"))
            .collect();
        assert_eq!(expiry.len(), 1, "{first:#?}");
        assert!(
            expiry[0].contains("inside the 30-day window"),
            "{}",
            expiry[0]
        );
        assert!(
            expiry[0].contains("owners: @acme/payments"),
            "{}",
            expiry[0]
        );
        assert!(
            expiry[0].contains("<https://tm.example/#/asset/crt_"),
            "{}",
            expiry[0]
        );
        assert!(
            first
                .iter()
                .any(|t| t.starts_with("trustmap: [critical] key-ca-exposed")),
            "{first:#?}"
        );
        assert!(
            first
                .iter()
                .any(|t| t.starts_with("trustmap: [high] key-unprotected")),
            "{first:#?}"
        );
        // Nothing of www's reaches payments; nothing at or above high was raised for it.
        assert!(
            first.iter().all(|t| !t.contains("www.example.test")),
            "{first:#?}"
        );
        assert!(hooks.bodies("/flaky").is_empty());

        // Then: www is removed, api is renewed in place.
        let before = scans(&db).len();
        std::fs::remove_file(root.join("web/www.crt")).unwrap();
        cert_in(&root.join("payments"), "api", "20");
        wait_for("a scan of the changed tree", || {
            scans(&db).len() >= before + 2
        });
        wait_for("the gone alert (retried once)", || {
            !hooks.json("/flaky").is_empty()
        });
        // And a few more scans of an unchanged tree: they bring nothing.
        let settled = scans(&db).len();
        wait_for("two more scans", || scans(&db).len() >= settled + 2);
        std::thread::sleep(Duration::from_secs(2));
        // The API lists the job and the alerts with their state, never a webhook's URL.
        let reader = on_db_ok(
            &db,
            0,
            &["token", "create", "--role", "reader", "--name", "r"],
        );
        let get = |path: &str| {
            let (status, v) =
                crate::serve::call("GET", &server.url(path), Some(reader.trim()), None);
            assert_eq!(status, 200, "{path}: {v}");
            v
        };
        let jobs = get("/api/v1/jobs");
        assert_eq!(jobs["jobs"][0]["name"], "estate", "{jobs}");
        assert!(jobs["jobs"][0]["runs"].as_i64().unwrap() >= 4, "{jobs}");
        let listed = get("/api/v1/alerts?limit=1000");
        let listed_alerts = listed["alerts"].as_array().unwrap();
        assert!(!listed_alerts.is_empty());
        assert!(
            listed_alerts
                .iter()
                .any(|a| a["webhook"] == "everyone-else" && a["attempts"] == 2)
        );
        assert!(!listed.to_string().contains(&hooks.base), "{listed}");
        assert_eq!(
            crate::serve::call(
                "GET",
                &server.url("/api/v1/alerts?limit=0"),
                Some(reader.trim()),
                None
            )
            .0,
            400
        );
        let code = server.stop();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(code, Some(0), "[{}] {:#?}", db.name, server.said());

        let default = hooks.json("/flaky");
        assert_eq!(default.len(), 1, "{default:#?}");
        assert_eq!(default[0]["event"], "gone");
        assert_eq!(default[0]["asset"]["label"], "www.example.test");
        assert_eq!(default[0]["owners"], serde_json::json!([]));
        assert_eq!(
            default[0]["place"]
                .as_str()
                .map(|p| p.ends_with(":web/www.crt")),
            Some(true)
        );
        assert!(
            default[0]["link"]
                .as_str()
                .unwrap()
                .starts_with("https://tm.example/#/asset/crt_")
        );

        let texts: Vec<String> = hooks.texts("/payments");
        let mut unique = texts.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), texts.len(), "an alert sent twice: {texts:#?}");
        let rotated: Vec<&String> = texts
            .iter()
            .filter(|t| t.starts_with("trustmap: Rotated: certificate at "))
            .collect();
        assert_eq!(rotated.len(), 1, "{texts:#?}");
        assert!(
            rotated[0].contains(":payments/api.crt replaced crt_"),
            "{}",
            rotated[0]
        );
        // The renewed certificate has 20 days left: it is in the window too, announced once.
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.contains("Certificate api.example.test: expires at"))
                .count(),
            2,
            "{texts:#?}"
        );
        // The store agrees: every alert sent, the flaky webhook's after a second attempt.
        let rows = alert_rows(&db);
        assert!(
            rows.iter().all(|(_, state, _)| state == "sent"),
            "[{}] {rows:?}",
            db.name
        );
        assert_eq!(
            rows.len(),
            texts.len() + default.len(),
            "[{}] {rows:?}",
            db.name
        );
        assert!(
            rows.contains(&("everyone-else".into(), "sent".into(), 2)),
            "[{}] {rows:?}",
            db.name
        );
        on_db_ok(&db, 0, &["audit", "verify"]);
    }
}

#[test]
fn two_replicas_on_one_database_never_run_a_job_or_send_an_alert_twice() {
    for db in backends("alerts", "replicas") {
        let tree = tempfile::tempdir().unwrap();
        let root = tree.path().to_path_buf();
        std::fs::create_dir_all(root.join("payments")).unwrap();
        std::fs::write(root.join("CODEOWNERS"), "/payments/ @acme/payments\n").unwrap();
        cert_in(&root.join("payments"), "api", "400");
        // Ten new keys, made before the servers start, moved in one by one later.
        let staged = tempfile::tempdir().unwrap();
        for i in 0..10 {
            crate::common::openssl(
                staged.path(),
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    &format!("new{i}.key"),
                ],
            );
        }
        let hooks = Receiver::start(0);
        let conf = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            conf.path(),
            format!(
                r#"
[server]
tick = "1s"

[[schedule]]
name = "payments"
paths = ["{root}"]
every = "1s"

[alerts]
severity = "high"
events = ["finding"]

[[alerts.webhook]]
name = "payments"
url = "{base}/payments"
owners = ["payments"]
"#,
                root = root.display(),
                base = hooks.base
            ),
        )
        .unwrap();
        // The store exists (with its schema) before two processes race to open it.
        on_db_ok(
            &db,
            0,
            &[
                "scan",
                "--quiet",
                "--format",
                "json",
                &root.join("CODEOWNERS").to_string_lossy(),
            ],
        );
        let config = conf.path().to_string_lossy().into_owned();
        let mut a = Serve::start_with(&db, &["--config", &config], &[]);
        let mut b = Serve::start_with(&db, &["--config", &config], &[]);
        // While both run, a new key appears every 700 ms: each scan brings a finding.
        for i in 0..10 {
            std::fs::rename(
                staged.path().join(format!("new{i}.key")),
                root.join(format!("payments/new{i}.key")),
            )
            .unwrap();
            std::thread::sleep(Duration::from_millis(700));
        }
        let announced = |got: &[Value], i: usize| {
            let path = format!("payments/new{i}.key");
            got.iter().any(|v| {
                v["rule"] == "key-unprotected"
                    && v["place"].as_str().is_some_and(|p| p.ends_with(&path))
            })
        };
        let all = waited(|| {
            let got = hooks.json("/payments");
            (0..10).all(|i| announced(&got, i))
        });
        assert!(
            all,
            "[{}] not every new key announced: {:#?}\nA: {:#?}\nB: {:#?}",
            db.name,
            hooks.json("/payments"),
            a.said(),
            b.said()
        );
        assert_eq!(a.stop(), Some(0));
        assert_eq!(b.stop(), Some(0));

        let runs: Vec<Value> = scans(&db)
            .into_iter()
            .filter(|s| s["roots"][0].as_str() == Some(&root.to_string_lossy()))
            .collect();
        assert!(
            runs.len() >= 4,
            "[{}] only {} scheduled scans",
            db.name,
            runs.len()
        );
        // One run at a time: each started after the one before it finished.
        for w in runs.windows(2) {
            assert!(
                w[1]["started_at"].as_str() >= w[0]["finished_at"].as_str(),
                "[{}] overlapping runs: {w:#?}",
                db.name
            );
        }
        let s = trustmap_store::Store::open_existing(&db.target).unwrap();
        let jobs = s.jobs().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].runs as usize, runs.len(), "[{}] {jobs:?}", db.name);
        // Every alert delivered exactly once.
        let got = hooks.json("/payments");
        let mut keys: Vec<String> = got
            .iter()
            .map(|v| v["key"].as_str().unwrap().to_string())
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "[{}] an alert delivered twice", db.name);
        let rows = alert_rows(&db);
        assert_eq!(
            rows.iter().filter(|(_, st, _)| st == "sent").count(),
            n,
            "[{}] {rows:?}",
            db.name
        );
    }
}

#[test]
fn a_bad_server_configuration_names_its_line_and_field() {
    let db = &backends("alerts", "badconf")[0];
    let conf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        conf.path(),
        "[[schedule]]\nname = \"x\"\npaths = [\"/srv\"]\nevery = \"often\"\n",
    )
    .unwrap();
    let (code, _, err) = on_db(
        db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            &conf.path().to_string_lossy(),
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{}:4: schedule[0].every: \"often\"",
            conf.path().display()
        )),
        "{err}"
    );
}
