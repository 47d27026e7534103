//! The overview (`GET /api/v1/overview`) of a generated inventory with findings:
//! `cargo run --release -p trustmap-store --example overview -- N TARGET [RUNS]` (TARGET: a
//! SQLite path or a postgres:// URL). When TARGET holds no scan, records one of N assets
//! (the `ingest` example's estate) with their findings: every expired or expiring
//! certificate, every quantum-vulnerable key and certificate, 1% of them waived and 1%
//! baselined. Then times `Store::overview` RUNS times (the first computes the tallies, the
//! others find them kept under the same audit head), the light report `/api/v1/findings`
//! reads (`Store::stored_findings`), and once the way the server answered
//! before it (the merged report rebuilt with `stored_report`, then tallied), printing the
//! peak RSS after each (SQLite's counts the database pages read through its memory map).

mod common;

use std::collections::BTreeMap;
use std::time::Instant;
use trustmap_core::{Finding, Report, Severity, Timestamp, Waiver};
use trustmap_store::{ScanMeta, ScanRoot, Store};

const NOW: &str = "2026-12-03T00:00:00Z";
const END: &str = "2027-03-03T00:00:00Z";

fn findings(r: &Report) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, a) in r.assets.iter().enumerate() {
        let mut add = |rule: &str, severity: Severity, message: String| {
            let mut f = Finding {
                rule: rule.into(),
                severity,
                asset: a.id.clone(),
                path: a.occurrences.first().map(|o| o.path.clone()),
                line: Some(1),
                message,
                frameworks: vec![],
                evidence: BTreeMap::new(),
                waiver: None,
                baselined: false,
            };
            match i % 100 {
                3 => {
                    f.waiver = Some(Waiver {
                        by: "bench".into(),
                        reason: "generated".into(),
                        until: Timestamp::parse("2027-12-01T00:00:00Z").unwrap(),
                    })
                }
                4 => f.baselined = true,
                _ => {}
            }
            out.push(f);
        };
        let alg = a
            .certificate
            .as_ref()
            .map(|c| c.public_key.algorithm.clone())
            .or(a.key.as_ref().map(|k| k.algorithm.clone()))
            .unwrap_or_default();
        if trustmap_core::quantum_vulnerable(&alg) {
            add(
                "key-quantum-vulnerable",
                Severity::Low,
                format!("{alg} is quantum-vulnerable"),
            );
        }
        if let Some(c) = &a.certificate {
            let t = c.not_after.to_string();
            if t.as_str() < NOW {
                add("cert-expired", Severity::Critical, format!("expired {t}"));
            } else if t.as_str() < END {
                add("cert-expiring", Severity::High, format!("expires {t}"));
            }
        }
    }
    out
}

fn vm_hwm_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let target = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/tmp/trustmap-overview.db".into());
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let store = Store::open(&target).expect("open");
    let (now, end) = (
        Timestamp::parse(NOW).unwrap(),
        Timestamp::parse(END).unwrap(),
    );
    if store.scans().expect("scans").is_empty() {
        let mut r = common::report("scan_o1", n, 0);
        r.findings = findings(&r);
        trustmap_core::policy::sort_findings(&mut r.findings);
        let meta = ScanMeta {
            host: "bench".into(),
            roots: vec![ScanRoot {
                given: "/srv".into(),
                canonical: "/srv".into(),
            }],
            finished_at: "2026-12-02T00:00:00Z".into(),
        };
        let t = Instant::now();
        store.record_scan(&r, &meta).expect("record");
        println!(
            "recorded {} assets, {} findings in {:.1} s",
            r.assets.len(),
            r.findings.len(),
            t.elapsed().as_secs_f64()
        );
    }
    println!("peak RSS before: {} MiB", vm_hwm_mib());
    for run in 1..=runs {
        let t = Instant::now();
        let o = store.overview(now, end, 1000).expect("overview");
        println!(
            "run {run}: Store::overview: {} assets, {} open / {} waived / {} baselined findings, \
             {} expired, {} within 90 days ({} listed) in {:.0} ms",
            o.assets,
            o.findings.open,
            o.findings.waived,
            o.findings.baselined,
            o.expired,
            o.within,
            o.expiring.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    println!("peak RSS after Store::overview: {} MiB", vm_hwm_mib());
    let t = Instant::now();
    let light = store
        .stored_findings(&Default::default())
        .expect("stored findings");
    println!(
        "Store::stored_findings (what /api/v1/findings reads): {} findings, {} assets' owners in {:.0} ms",
        light.report.findings.len(),
        light.report.assets.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(light);
    println!("peak RSS after stored_findings: {} MiB", vm_hwm_mib());
    // What `/api/v1/findings` now reads for the latest scans: the columns of every current
    // finding, then the JSON and owners of one page of 500.
    for run in 1..=2 {
        let t = Instant::now();
        let current = store.current_findings().expect("current findings");
        let read = t.elapsed().as_secs_f64();
        let page: Vec<i64> = current.findings.iter().take(500).map(|f| f.rid).collect();
        let assets: Vec<i64> = current
            .findings
            .iter()
            .take(500)
            .filter_map(|f| f.asset_rid)
            .collect();
        let bodies = store.finding_bodies(&page).expect("bodies");
        let owners = store.owner_names(&assets).expect("owners");
        println!(
            "run {run}: Store::current_findings: {} findings' columns in {:.0} ms; a page of {} \
             with {} owners in {:.0} ms more",
            current.findings.len(),
            read * 1e3,
            bodies.len(),
            owners.len(),
            (t.elapsed().as_secs_f64() - read) * 1e3
        );
    }
    println!("peak RSS after current_findings: {} MiB", vm_hwm_mib());
    let t = Instant::now();
    let stored = store
        .stored_report(&Default::default())
        .expect("stored report");
    let rebuilt = t.elapsed().as_secs_f64();
    let open = stored
        .report
        .findings
        .iter()
        .filter(|f| f.waiver.is_none() && !f.baselined)
        .count();
    println!(
        "before (stored_report, then tallied): {} assets, {open} open findings in {:.0} ms \
         (the rebuild {:.0} ms)",
        stored.report.assets.len(),
        t.elapsed().as_secs_f64() * 1e3,
        rebuilt * 1e3
    );
    println!("peak RSS after stored_report: {} MiB", vm_hwm_mib());
}
