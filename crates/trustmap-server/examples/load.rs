//! The server under load (BENCHMARKS.md, "The server under load"):
//!
//! `cargo run --release -p trustmap-server --example load -- BIN TARGET [SCANNERS ASSETS READERS [SERVE ARGS...]]`
//!
//! (SERVE ARGS go to `trustmap serve` as they are, e.g. `--pushes-at-once 64`.)
//!
//! BIN is a release `trustmap` binary, TARGET a SQLite path or a postgres:// URL (an empty
//! store). Starts `BIN serve` on loopback over TARGET, then SCANNERS (50) scanners push a scan
//! of ASSETS (10,000) assets each, all at once, while READERS (100) clients page through
//! `/api/v1/assets` (100 a page, following the cursor, starting over at the end) until the
//! last push is answered. Prints pushes per second, push and read latencies (p50, p99),
//! the server's peak RSS, and the proof nothing was lost: every scan listed, the audit log
//! intact, the inventory holding every pushed asset.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use trustmap_core::{
    Asset, AssetKind, CertificateInfo, KeyInfo, Occurrence, Owner, Report, ScanInfo, Timestamp,
    ToolInfo, asset_id, fingerprint,
};
use trustmap_store::{Store, TokenRole};

/// Scanner `s`'s asset `i`: its own certificates (distinct on every host).
fn asset(s: usize, i: usize) -> Asset {
    let kind = AssetKind::Certificate;
    let fp = fingerprint(format!("host {s} cert {i}").as_bytes());
    Asset {
        id: asset_id(kind, &fp),
        kind,
        fingerprint: fp,
        occurrences: vec![Occurrence {
            path: format!("etc/svc{}/tls/cert{i}.pem", i % 100),
            line: Some(1),
            offset: Some(0),
            container: None,
            root: None,
        }],
        certificate: Some(CertificateInfo {
            subject: format!("CN=svc{i}.host{s}.example.com"),
            issuer: format!("CN=Issuing CA {}", i % 20),
            serial: format!("{s:x}{i:08x}"),
            not_before: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            not_after: Timestamp::parse(&format!(
                "2027-{:02}-{:02}T00:00:00Z",
                1 + i % 12,
                1 + i % 28
            ))
            .unwrap(),
            sans: vec![format!("DNS:svc{i}.host{s}.example.com")],
            signature_algorithm: "sha256WithRSAEncryption".into(),
            signature_algorithm_oid: "1.2.840.113549.1.1.11".into(),
            signature_hash: Some("SHA-256".into()),
            public_key: KeyInfo {
                algorithm: "RSA".into(),
                bits: Some(2048),
                ..Default::default()
            },
            version: 3,
            ..Default::default()
        }),
        key: None,
        secret: None,
        keystore: None,
        consumer: None,
        endpoint: None,
        owners: vec![Owner {
            name: format!("team-{}", i % 50),
            role: "owner".into(),
            source: "CODEOWNERS:1".into(),
        }],
    }
}

/// Scanner `s`'s push, gzip-compressed.
fn push_body(s: usize, n: usize) -> Vec<u8> {
    let report = Report {
        tool: ToolInfo {
            name: "trustmap".into(),
            version: "load".into(),
        },
        scan: ScanInfo {
            id: format!("scan_{:016x}", 0x10ad_0000 + s),
            started_at: Timestamp::parse("2026-12-03T00:00:00Z").unwrap(),
            roots: vec!["/etc".into()],
            host: format!("scanner-{s:02}"),
            files_scanned: n as u64,
            bytes_scanned: 0,
            duration_ms: 0,
            policy: None,
            policy_ignored: vec![],
            excluded: 0,
        },
        assets: (0..n).map(|i| asset(s, i)).collect(),
        relations: vec![],
        findings: vec![],
        errors: vec![],
    };
    let push = serde_json::json!({
        "version": 1,
        "report": report,
        "roots": [{"given": "/etc", "canonical": "/etc"}],
        "finished_at": "2026-12-03T00:01:00Z",
        "secrets": "sha256-digest",
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(push.to_string().as_bytes()).unwrap();
    gz.finish().unwrap()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(1800)))
        .build()
        .into()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (bin, target) = (&args[0], &args[1]);
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (scanners, assets, readers) = (num(2, 50), num(3, 10_000), num(4, 100));

    let store = Store::open(target).expect("open the store");
    let (_, scan_token) = store
        .create_token("load-scanner", TokenRole::Scanner, "bench")
        .unwrap();
    let (_, read_token) = store
        .create_token("load-reader", TokenRole::Reader, "bench")
        .unwrap();
    drop(store);

    let mut server = Command::new(bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "1000000",
            "--db",
            target,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start trustmap serve");
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .expect("the listening line")
        .to_string();
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let pid = server.id();

    eprintln!("load: making {scanners} pushes of {assets} assets");
    let bodies: Vec<Vec<u8>> = (0..scanners).map(|s| push_body(s, assets)).collect();
    let mib = bodies.iter().map(Vec::len).sum::<usize>() as f64 / (1 << 20) as f64;
    eprintln!("load: {mib:.1} MiB compressed; {readers} readers start");

    let done = Arc::new(AtomicBool::new(false));
    let reads: Arc<Mutex<Vec<f64>>> = Arc::default();
    let read_errors = Arc::new(Mutex::new(0usize));
    let reader_threads: Vec<_> = (0..readers)
        .map(|_| {
            let (base, token, done, reads, errs) = (
                base.clone(),
                read_token.clone(),
                done.clone(),
                reads.clone(),
                read_errors.clone(),
            );
            std::thread::spawn(move || {
                let a = agent();
                let mut cursor: Option<String> = None;
                let mut mine = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let url = match &cursor {
                        Some(c) => format!("{base}/api/v1/assets?limit=100&cursor={c}"),
                        None => format!("{base}/api/v1/assets?limit=100"),
                    };
                    let t = Instant::now();
                    let r = a
                        .get(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .call();
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    match r {
                        Ok(mut resp) if resp.status().is_success() => {
                            mine.push(ms);
                            let v: serde_json::Value =
                                serde_json::from_str(&resp.body_mut().read_to_string().unwrap())
                                    .unwrap();
                            cursor = v["next_cursor"].as_str().map(str::to_string);
                        }
                        _ => *errs.lock().unwrap() += 1,
                    }
                }
                reads.lock().unwrap().extend(mine);
            })
        })
        .collect();

    let barrier = Arc::new(Barrier::new(scanners + 1));
    let push_threads: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (base, token, barrier) = (base.clone(), scan_token.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let t = Instant::now();
                let status = agent()
                    .post(format!("{base}/api/v1/scans"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("Content-Type", "application/json")
                    .header("Content-Encoding", "gzip")
                    .send(&body[..])
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                (status, t.elapsed().as_secs_f64())
            })
        })
        .collect();
    barrier.wait();
    let t0 = Instant::now();
    let pushed: Vec<(u16, f64)> = push_threads
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let wall = t0.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    for h in reader_threads {
        h.join().unwrap();
    }
    let rss_kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);

    let ok = pushed.iter().filter(|(s, _)| *s == 201).count();
    let mut push_s: Vec<f64> = pushed.iter().map(|(_, t)| *t).collect();
    push_s.sort_by(f64::total_cmp);
    let mut r = reads.lock().unwrap().clone();
    r.sort_by(f64::total_cmp);
    let get = |path: &str| -> serde_json::Value {
        let mut resp = agent()
            .get(format!("{base}{path}"))
            .header("Authorization", &format!("Bearer {read_token}"))
            .call()
            .unwrap();
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap()
    };
    let listed = get("/api/v1/scans")["scans"].as_array().map_or(0, Vec::len);
    let intact = get("/api/v1/audit/verify")["intact"] == true;
    let count = get("/api/v1/assets?count=true");
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();

    println!(
        "{scanners} pushes of {assets} assets ({mib:.1} MiB gzip), {readers} readers, {}",
        if target.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!(
        "pushes: {ok}/{scanners} recorded (201) in {wall:.1} s: {:.2} pushes/s, {:.0} assets/s; \
         push latency p50 {:.1} s, p99 {:.1} s",
        ok as f64 / wall,
        (ok * assets) as f64 / wall,
        percentile(&push_s, 0.5),
        percentile(&push_s, 0.99)
    );
    println!(
        "reads: {} pages of 100 ({:.0}/s), p50 {:.1} ms, p99 {:.1} ms, {} errors",
        r.len(),
        r.len() as f64 / wall,
        percentile(&r, 0.5),
        percentile(&r, 0.99),
        read_errors.lock().unwrap()
    );
    println!("server peak RSS: {} MiB", rss_kib / 1024);
    println!(
        "nothing lost: {listed} scans listed (want {scanners}), audit log intact: {intact}, assets: {}",
        count
    );
    let all_there = ok == scanners && listed == scanners && intact;
    std::process::exit(if all_there { 0 } else { 1 });
}
