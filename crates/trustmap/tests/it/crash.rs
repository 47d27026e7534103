//! A server killed with SIGKILL while it receives and records a large push: the inventory
//! is as it was before the push or as it is after it, never in between, and the scanner's
//! retry of the same push then records it once.

use crate::common::{backends, ec_cert, on_db_ok};
use crate::serve::Serve;
use serde_json::{Value, json};
use std::io::Write;
use std::time::Duration;

/// Assets in the pushed scan: enough that reading and recording it takes a while.
const ASSETS: usize = 10_000;

/// A push of `ASSETS` certificates, made by copying a real one under new identities.
fn big_push(template: &Value, scan: &str, host: &str, offset: usize) -> Vec<u8> {
    let cert = template["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "certificate")
        .unwrap();
    let mut report = template.clone();
    report["scan"]["id"] = json!(scan);
    report["scan"]["host"] = json!(host);
    report["scan"]["roots"] = json!(["/srv"]);
    report["relations"] = json!([]);
    report["findings"] = json!([]);
    report["assets"] = (0..ASSETS)
        .map(|i| {
            let mut a = cert.clone();
            let fp = format!("{:064x}", i + offset);
            a["id"] = json!(format!("crt_{}", &fp[48..]));
            a["fingerprint"] = json!(format!("sha256:{fp}"));
            a["occurrences"] = json!([{"path": format!("svc{}/tls/c{i}.crt", i % 100), "line": 1}]);
            a["owners"] = json!([]);
            a
        })
        .collect();
    let push = json!({
        "version": 1,
        "report": report,
        "roots": [{"given": "/srv", "canonical": "/srv"}],
        "finished_at": "2026-12-03T00:00:00Z",
        "secrets": "sha256-digest",
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(push.to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn post(base: &str, token: &str, body: &[u8]) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into();
    agent
        .post(format!("{base}/api/v1/scans"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .send(body)
        .map(|mut r| {
            let status = r.status().as_u16();
            if status >= 400 {
                eprintln!(
                    "push answered {status}: {}",
                    r.body_mut().read_to_string().unwrap_or_default()
                );
            }
            status
        })
        .map_err(|e| e.to_string())
}

#[test]
fn a_server_killed_mid_push_leaves_the_inventory_as_before_or_after_it() {
    for db in backends("crash", "push") {
        let dir = tempfile::tempdir().unwrap();
        ec_cert(dir.path(), "web", "30");
        let template: Value = serde_json::from_str(&on_db_ok(
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
        let scanner = on_db_ok(
            &db,
            0,
            &["token", "create", "--role", "scanner", "--name", "big"],
        )
        .trim()
        .to_string();
        // How long a push of this size takes here, end to end: the kills are timed from it.
        let took = {
            let server = Serve::start(&db, &[]);
            let t = std::time::Instant::now();
            let timing = big_push(&template, "scan_000000000000717e", "timing-host", ASSETS);
            assert_eq!(post(server.base(), &scanner, &timing), Ok(201));
            t.elapsed().as_millis() as u64
        };
        let body = big_push(&template, "scan_00000000000b1600", "big-host", 0);
        let store = || trustmap_store::Store::open_existing(&db.target).unwrap();
        let before_assets = store().count_assets(&Default::default()).unwrap();
        let mut seen = Vec::new();
        // Until one lands after the commit (recording a second large scan can take longer
        // than the first, which went in as a bulk load).
        for percent in [5u64, 40, 70, 100, 130, 170, 220, 300, 400] {
            let delay_ms = took * percent / 100;
            let mut server = Serve::start(&db, &[]);
            let (base, token, payload) = (server.base().to_string(), scanner.clone(), body.clone());
            let pushing = std::thread::spawn(move || post(&base, &token, &payload));
            std::thread::sleep(Duration::from_millis(delay_ms));
            server.kill();
            let answered = pushing.join().unwrap();
            // Reopened as the next process would: consistent, and either before or after.
            let s = store();
            assert_eq!(
                s.integrity_problems(true).unwrap(),
                Vec::<String>::new(),
                "[{}]",
                db.name
            );
            let verdict = s.verify_audit().unwrap();
            assert!(
                verdict.intact(),
                "[{}] after a kill at {delay_ms} ms: {verdict:?}",
                db.name
            );
            let recorded = s
                .scans()
                .unwrap()
                .iter()
                .any(|x| x.id == "scan_00000000000b1600");
            let assets = s.count_assets(&Default::default()).unwrap();
            if recorded {
                assert_eq!(
                    assets,
                    before_assets + ASSETS as u64,
                    "[{}] at {delay_ms} ms",
                    db.name
                );
            } else {
                assert_eq!(
                    assets, before_assets,
                    "[{}] half a push at {delay_ms} ms",
                    db.name
                );
                assert!(
                    answered != Ok(201),
                    "[{}] answered 201 but not recorded",
                    db.name
                );
            }
            seen.push((delay_ms, recorded));
            if recorded {
                break;
            }
        }
        eprintln!(
            "[{}] a push takes {took} ms; killed at ms, recorded: {seen:?}",
            db.name
        );
        assert!(
            !seen[0].1,
            "[{}] the first kill came after the push: {seen:?}",
            db.name
        );
        // The scanner's retry, to a restarted server: recorded once.
        let server = Serve::start(&db, &[]);
        let again = post(server.base(), &scanner, &body).unwrap();
        let s = store();
        assert!(
            matches!((seen.last().unwrap().1, again), (true, 200) | (false, 201)),
            "[{}] {seen:?} then {again}",
            db.name
        );
        assert_eq!(
            s.scans()
                .unwrap()
                .iter()
                .filter(|x| x.id == "scan_00000000000b1600")
                .count(),
            1
        );
        assert_eq!(
            s.count_assets(&Default::default()).unwrap(),
            before_assets + ASSETS as u64
        );
        assert!(s.verify_audit().unwrap().intact());
    }
}
