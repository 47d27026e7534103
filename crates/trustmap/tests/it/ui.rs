//! The web UI of `trustmap serve` in a real browser: Debian's chromium driven by
//! playwright-core (`tests/browser/check-ui.js`; scripts/test installs both, and a missing
//! browser fails the test). A real server over an inventory seeded by two real scans of
//! `examples/estate` and a generated tree (one certificate's subject is markup that would
//! run if it were parsed), worked page by page as a reader and as an admin: every number
//! the pages show is compared with what the API and the CLI answer, no request leaves
//! loopback, no script error, no CSP violation, nothing from the scanned files runs.
//!
//! `TRUSTMAP_UPDATE_SCREENSHOTS=1` also writes the README's screenshots (`docs/ui-*.png`).

use crate::common::{backends, browser_script, ec_cert, ec_cert_as, generated_token, on_db_ok};
use crate::serve::{Serve, agent, call, get, token};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

/// A subject that closes a script element and one that breaks out of an attribute.
const EVIL_CN: &str = "<script>pwned=1</script>\"><img src=x onerror=\"pwned=2\">";

/// The generated part of the estate: certificates expiring within 90 days (one with a
/// hostile subject), their keys, a GitHub token; `rotate` swaps one certificate for another.
fn fixtures(d: &Path, rotate: bool) {
    if !rotate {
        ec_cert(d, "svc", "30");
        ec_cert(d, "api", "60");
        ec_cert_as(
            d,
            "evil",
            "45",
            &format!("/CN={}", EVIL_CN.replace('/', "\\/")),
            &[],
        );
        std::fs::write(
            d.join(".env"),
            format!("GITHUB_TOKEN=ghp_{}\n", generated_token(36)),
        )
        .unwrap();
    } else {
        std::fs::remove_file(d.join("api.crt")).unwrap();
        std::fs::remove_file(d.join("api.key")).unwrap();
        ec_cert(d, "new", "80");
    }
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn run_browser(plan: &Value) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let plan_file = tmp.path().join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    browser_script("check-ui.js", &[plan_file.as_os_str()])
}

#[test]
fn the_web_ui_shows_what_the_api_says_edits_as_admin_only_and_runs_nothing_scanned() {
    // SQLite, and PostgreSQL when the tests have one.
    for db in backends("ui", "browser") {
        ui_on(&db);
    }
}

fn ui_on(db: &crate::common::Db) {
    let fx = tempfile::tempdir().unwrap();
    fixtures(fx.path(), false);
    let estate = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/estate")
        .canonicalize()
        .unwrap();
    let roots = [estate.to_str().unwrap(), fx.path().to_str().unwrap()];
    on_db_ok(db, 0, &["scan", roots[0], roots[1], "-q"]);
    fixtures(fx.path(), true);
    on_db_ok(db, 0, &["scan", roots[0], roots[1], "-q"]);
    let reader = token(db, "reader", "reader-ui");
    let admin = token(db, "admin", "admin-ui");
    let scanner = token(db, "scanner", "scanner-ui");
    let s = Serve::start(db, &[]);

    // The page and its files: served without a token, under a strict policy.
    let (st, page) = call("GET", &s.url("/"), None, None);
    assert_eq!(st, 200);
    assert!(
        page["text"]
            .as_str()
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let resp = agent().get(format!("{}/ui/app.js", s.base)).call().unwrap();
    let h = |n: &str| resp.headers().get(n).unwrap().to_str().unwrap().to_string();
    assert_eq!(h("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(h("x-content-type-options"), "nosniff");
    let csp = h("content-security-policy");
    for d in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(d), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let (st, v) = call("GET", &s.url("/ui/nope.js"), None, None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("not_found")));

    // What the API and the CLI say, to compare the pages with.
    let overview = get(&s, "/api/v1/overview", &reader);
    let cli_assets: Value =
        serde_json::from_str(&on_db_ok(db, 0, &["assets", "--format", "json"])).unwrap();
    let certs_api = {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("/api/v1/assets?kind=certificate&limit=3&cursor={c}"),
                None => "/api/v1/assets?kind=certificate&limit=3".into(),
            };
            let p = get(&s, &q, &reader);
            let page: Vec<String> = p["assets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_str().unwrap().to_string())
                .collect();
            all.push(page);
            match p["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        all
    };
    assert!(certs_api.len() >= 3, "several pages of certificates");
    let asset_by_label = |label: &str| -> String {
        cli_assets
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == label && a["kind"] == "certificate")
            .unwrap_or_else(|| panic!("no certificate {label}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let evil = asset_by_label(EVIL_CN);
    let svc = asset_by_label("svc.example.test");
    let svc_detail = get(&s, &format!("/api/v1/assets/{svc}"), &reader);
    let rule = svc_detail["findings"][0]["rule"]
        .as_str()
        .expect("the self-signed certificate has a finding")
        .to_string();
    let svc_search: BTreeSet<String> = get(&s, "/api/v1/assets?path=*svc*", &reader)["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert!(svc_search.contains(&svc));
    let scans = get(&s, "/api/v1/scans", &reader)["scans"].clone();
    let (first, second) = (
        scans[0]["id"].as_str().unwrap().to_string(),
        scans[1]["id"].as_str().unwrap().to_string(),
    );
    let diff = get(
        &s,
        &format!("/api/v1/scans/diff?from={first}&to={second}"),
        &reader,
    );
    let top_rule = overview["findings"]["by_rule"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();

    let shots = std::env::var_os("TRUSTMAP_UPDATE_SCREENSHOTS")
        .map(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs"));
    let plan = json!({
        "base": s.base, "reader": reader, "admin": admin, "scanner": scanner,
        "evil": evil, "kind": "certificate", "pageSize": 3, "search": "svc",
        "owner": "team-payments", "rule": top_rule,
        "waive": {"asset": svc, "rule": rule, "reason": "lab certificate, replaced in Q1", "until": "2099-01-01"},
        "diff": {"from": first, "to": second},
        "screenshots": shots.as_ref().map(|p| p.to_str().unwrap()),
    });
    let out = run_browser(&plan);

    // Offline, no script error, no policy violation, no dialog, no cookie.
    assert_eq!(out["outside"], json!([]), "requests left loopback");
    assert_eq!(out["errors"], json!([]), "script errors");
    assert_eq!(out["csp"], json!([]), "CSP violations");
    assert_eq!(out["dialogs"], json!([]));
    assert_eq!(out["cookies"], 0);
    assert!(
        out["scannerSignIn"]
            .as_str()
            .unwrap()
            .contains("scanner token can only push"),
        "{}",
        out["scannerSignIn"]
    );
    assert_eq!(out["scannerNav"], true);
    assert_eq!(out["who"], "reader-ui (reader)");

    // Overview: the API's numbers, and the CLI's asset count.
    let ov = &out["overview"];
    assert_eq!(ov["error"], Value::Null);
    let stats = &ov["stats"];
    assert_eq!(stats["assets"], overview["assets"]);
    assert_eq!(stats["assets"], cli_assets.as_array().unwrap().len());
    for (k, n) in overview["by_kind"].as_object().unwrap() {
        assert_eq!(&stats[k], n, "{k}");
        assert_eq!(&ov["byKind"][k], n, "{k}");
    }
    assert_eq!(stats["open findings"], overview["findings"]["open"]);
    assert_eq!(stats["expired"], overview["expiry"]["expired"]);
    assert_eq!(stats["expiring in 90 days"], overview["expiry"]["within"]);
    assert_eq!(ov["bySeverity"], overview["findings"]["by_severity"]);
    assert_eq!(ov["pq"], overview["pq"]);
    let marks: BTreeSet<String> = ids(&ov["marks"]).into_iter().collect();
    let expiring: BTreeSet<String> = overview["expiry"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(marks, expiring);
    for id in [&evil, &svc] {
        assert!(marks.contains(id), "{id} expires within 90 days");
    }
    let mut trend = Vec::new();
    for sc in scans.as_array().unwrap() {
        for k in ["assets", "findings"] {
            trend.push(json!([sc["id"], k, sc["counts"][k]]));
        }
    }
    let mut seen: Vec<Value> = ov["trend"].as_array().unwrap().clone();
    seen.sort_by_key(|v| v.to_string());
    trend.sort_by_key(|v| v.to_string());
    assert_eq!(seen, trend);

    // Inventory: the pages the API gives, then back one; sorted; searched.
    let inv = &out["inventory"];
    assert_eq!(inv["error"], Value::Null);
    let pages: Vec<Vec<String>> = inv["pages"].as_array().unwrap().iter().map(ids).collect();
    assert_eq!(pages, certs_api);
    assert_eq!(ids(&inv["back"]), certs_api[certs_api.len() - 2]);
    let total: usize = certs_api.iter().map(Vec::len).sum();
    assert!(
        inv["shown"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{total} assets match; page 1 shows 3")),
        "{}",
        inv["shown"]
    );
    assert_eq!(inv["sortState"], "ascending");
    let labels: Vec<String> = ids(&inv["sortedLabels"]);
    let mut sorted = labels.clone();
    sorted.sort();
    assert_eq!(labels, sorted);
    let searched: BTreeSet<String> = ids(&inv["searched"]).into_iter().collect();
    assert_eq!(searched, svc_search);

    // The hostile subject is text: in the title and the facts, and nothing ran.
    let e = &out["evil"];
    assert_eq!(e["title"], EVIL_CN);
    assert_eq!(e["hash"], format!("#/asset/{evil}"));
    assert_eq!(e["facts"]["certificate.subject_cn"], EVIL_CN);
    assert_eq!(e["pwned"], Value::Null);
    assert_eq!(e["images"], 0);
    assert_eq!(e["scripts"], json!(["/ui/dom.js", "/ui/app.js"]));

    // The reader sees everything about the asset and no edit control; the API refuses anyway.
    let ra = &out["readerAsset"];
    assert_eq!(ra["error"], Value::Null);
    assert_eq!(
        (&ra["ownerForm"], &ra["waiveButtons"], &ra["waivers"]),
        (&json!(0), &json!(0), &json!(0))
    );
    let detail = &svc_detail["asset"];
    let places: Vec<Value> = detail["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let line = o["line"]
                .as_i64()
                .map(|l| format!(":{l}"))
                .unwrap_or_default();
            json!([o["host"], format!("{}{line}", o["path"].as_str().unwrap())])
        })
        .collect();
    assert_eq!(ra["places"], json!(places));
    let related: BTreeSet<String> = detail["relations_out"]
        .as_array()
        .unwrap()
        .iter()
        .chain(detail["relations_in"].as_array().unwrap())
        .map(|r| r["asset"].as_str().unwrap().to_string())
        .collect();
    assert!(!related.is_empty(), "the certificate has its key");
    let drawn: BTreeSet<String> = ids(&ra["graphNodes"]).into_iter().collect();
    assert_eq!(drawn, related);
    assert_eq!(ra["relations"].as_array().unwrap().len(), {
        detail["relations_out"].as_array().unwrap().len()
            + detail["relations_in"].as_array().unwrap().len()
    });
    assert!(
        ra["impact"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} asset(s) break", svc_detail["impact"]["total"])),
        "{}",
        ra["impact"]
    );
    let rules: Vec<Value> = svc_detail["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    assert_eq!(ra["findings"], json!(rules));
    assert_eq!(ra["history"], json!([second, first]));
    let (st, _) = call(
        "PUT",
        &s.url(&format!("/api/v1/assets/{svc}/owners")),
        Some(&reader),
        Some((
            br#"{"owner": "team-x"}"#,
            &[("Content-Type", "application/json")],
        )),
    );
    assert_eq!(st, 403);

    // The admin set an owner and granted a waiver through the page: the API has them.
    assert_eq!(out["adminError"], Value::Null);
    assert!(
        out["adminOwners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "owner" && r[1] == "team-payments" && r[3] == "yes"),
        "{}",
        out["adminOwners"]
    );
    let after = get(&s, &format!("/api/v1/assets/{svc}"), &admin);
    assert_eq!(after["asset"]["owner"], "team-payments");
    let waivers = get(&s, "/api/v1/waivers", &admin)["waivers"].clone();
    let w = waivers
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["asset"] == svc.as_str())
        .expect("the waiver granted in the page");
    assert_eq!(w["rule"], rule.as_str());
    assert_eq!(w["by"], "token:admin-ui");
    assert_eq!(w["reason"], "lab certificate, replaced in Q1");
    let row = &out["adminWaivers"][0];
    assert_eq!(row[1], rule.as_str());
    assert_eq!(row[4], "token:admin-ui");
    assert_eq!(row[5], "active");
    assert!(
        out["adminFindingWaiver"]
            .as_str()
            .unwrap()
            .starts_with("waiver granted by token:admin-ui until 2099-01-01"),
        "{}",
        out["adminFindingWaiver"]
    );

    // The audit log page: both writes, by the admin's token, and the chain verifies.
    let a = &out["audit"];
    assert_eq!(a["intact"], "true", "{}", a["verdict"]);
    assert!(a["verdict"].as_str().unwrap().starts_with("Verified"));
    let events = a["events"].as_array().unwrap();
    for kind in ["owner-changed", "waiver-granted"] {
        assert!(
            events
                .iter()
                .any(|e| e[0] == kind && e[2] == "token:admin-ui"),
            "{kind} by token:admin-ui in {events:?}"
        );
    }
    assert_eq!(
        events.len(),
        get(&s, "/api/v1/audit", &admin)["events"]
            .as_array()
            .unwrap()
            .len()
    );

    // Findings by owner and rule, as the API tallies them now; a rule's findings.
    let now = get(&s, "/api/v1/overview", &admin);
    assert_eq!(out["findings"]["byOwner"], now["findings"]["by_owner"]);
    assert_eq!(out["findings"]["byRule"], now["findings"]["by_rule"]);
    assert!(
        now["findings"]["by_owner"]["team-payments"]
            .as_u64()
            .is_some()
    );
    let rule_rows = out["findings"]["ruleRows"].as_array().unwrap();
    let listed = get(&s, &format!("/api/v1/findings?rule={top_rule}"), &admin);
    assert_eq!(
        rule_rows.len(),
        listed["findings"].as_array().unwrap().len()
    );
    assert!(rule_rows.iter().all(|r| r == top_rule.as_str()));

    // Scans and their diff.
    assert_eq!(out["scans"], json!([second, first]));
    let d = &out["diff"];
    assert_eq!(d["error"], Value::Null);
    for k in ["new", "gone", "rotated", "moved"] {
        assert_eq!(
            d["counts"][k],
            diff[k].as_array().unwrap().len(),
            "{k}: {d}"
        );
    }
    assert_eq!(d["new"], diff["new"]);
    assert_eq!(d["gone"], diff["gone"]);
    assert!(
        !diff["new"].as_array().unwrap().is_empty() && !diff["gone"].as_array().unwrap().is_empty()
    );
    assert_eq!(
        out["signedOut"],
        json!({"token": null, "signin": true}),
        "signing out forgets the token"
    );
}
