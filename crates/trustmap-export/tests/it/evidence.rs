//! Audit evidence (`trustmap_export::evidence`): every framework lists its controls, a finding
//! appears under exactly the controls its tags name, waived findings stand apart with their
//! waiver, the header carries the scan and the audit log's head, secrets never show, and hostile
//! text is escaped (and rendered as text in Debian's chromium, with the HTML report's harness).

use crate::common::{estate, report};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use trustmap_export::{EvidenceContext, Framework, evidence_html, evidence_json};

const HEAD: &str = "12:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn ectx() -> EvidenceContext<'static> {
    EvidenceContext {
        now: time::macros::datetime!(2026-12-02 08:30:00 UTC),
        version: "0.1.0",
        audit_head: Some(HEAD),
        audit_intact: Some(true),
    }
}

fn evidence(v: &Value, fw: Framework) -> Value {
    serde_json::from_str(&evidence_json(&report(v), fw, &ectx())).expect("evidence JSON parses")
}

fn control<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn framework_names_parse_and_print() {
    for (s, f) in [
        ("pci-dss-4.0", Framework::PciDss40),
        ("nist-csf-2.0", Framework::NistCsf20),
        ("owasp-nhi", Framework::OwaspNhi),
    ] {
        assert_eq!(s.parse::<Framework>().unwrap(), f);
        assert_eq!(f.to_string(), s);
    }
    assert!("pci-dss-3.2".parse::<Framework>().is_err());
}

#[test]
fn each_framework_lists_its_controls_in_order() {
    let v = estate();
    let expect: [(Framework, &[&str]); 3] = [
        (
            Framework::PciDss40,
            &["3.6", "3.7", "4.2.1", "4.2.1.1", "8.3.2", "8.6.2", "12.3.3"],
        ),
        (
            Framework::NistCsf20,
            &[
                "GV.OC-03", "GV.RR-02", "ID.AM-01", "ID.AM-02", "ID.AM-07", "ID.AM-08", "ID.RA-01",
                "PR.AA-01", "PR.AA-03", "PR.DS-01", "PR.DS-02", "PR.PS-01", "DE.CM-09",
            ],
        ),
        (
            Framework::OwaspNhi,
            &[
                "NHI1", "NHI2", "NHI3", "NHI4", "NHI5", "NHI6", "NHI7", "NHI8", "NHI9", "NHI10",
            ],
        ),
    ];
    for (fw, controls) in expect {
        let e = evidence(&v, fw);
        assert_eq!(e["framework"]["id"], fw.as_str());
        assert_eq!(ids(&e["controls"], "id"), controls, "{fw}");
        for c in e["controls"].as_array().unwrap() {
            assert!(!c["title"].as_str().unwrap().is_empty());
            assert_eq!(
                c["tag"],
                format!("{}{}", fw.tag_prefix(), c["id"].as_str().unwrap())
            );
        }
        assert_eq!(e["summary"]["controls"], controls.len());
    }
    let nhi = evidence(&v, Framework::OwaspNhi);
    assert_eq!(control(&nhi, "NHI2")["title"], "Secret Leakage");
    let pci = evidence(&v, Framework::PciDss40);
    // The catalogue maps rules to 4.2.1.1 and 12.3.3; nothing maps to 3.6.
    assert!(ids(&control(&pci, "4.2.1.1")["rules"], "id").contains(&"key-ca-exposed".to_string()));
    assert_eq!(control(&pci, "12.3.3")["status"], "no-open-findings");
    assert_eq!(control(&pci, "3.6")["status"], "not-assessed");
    assert_eq!(control(&pci, "3.6")["rules"], json!([]));
}

#[test]
fn a_finding_is_evidence_for_the_controls_its_tags_name_and_no_other() {
    let mut v = estate();
    // key-weak on key_3333 tagged for the inventory requirement only (not its parent 4.2.1).
    v["findings"][1]["frameworks"] = json!(["PCI-DSS-4.0:4.2.1.1", "OWASP-NHI-2025:NHI7"]);
    let pci = evidence(&v, Framework::PciDss40);
    for c in pci["controls"].as_array().unwrap() {
        let assets = ids(&c["findings"], "asset");
        assert_eq!(
            assets.contains(&"key_3333333333333333".to_string()),
            c["id"] == "4.2.1.1",
            "control {}: {assets:?}",
            c["id"]
        );
    }
    let c = control(&pci, "4.2.1.1");
    assert_eq!(c["status"], "findings-open");
    let f = &c["findings"][0];
    assert_eq!(
        (
            &f["rule"],
            &f["severity"],
            &f["kind"],
            &f["path"],
            &f["line"]
        ),
        (
            &json!("key-weak"),
            &json!("high"),
            &json!("private-key"),
            &json!("tls/old.key"),
            &json!(1)
        )
    );
    let nhi = evidence(&v, Framework::OwaspNhi);
    assert_eq!(
        ids(&control(&nhi, "NHI7")["findings"], "asset"),
        ["key_3333333333333333"]
    );
    assert_eq!(control(&nhi, "NHI1")["findings"], json!([]));
    // The other findings (tagged PR.AA-01 by the fixture) are all under PR.AA-01, most severe first.
    let csf = evidence(&v, Framework::NistCsf20);
    let pr = control(&csf, "PR.AA-01");
    let sev: Vec<String> = ids(&pr["findings"], "severity");
    assert_eq!(sev.first().map(String::as_str), Some("critical"));
    assert!(ids(&pr["findings"], "rule").contains(&"x509-serial-low-entropy".to_string()));
    assert!(
        ids(&pr["rules"], "id").contains(&"x509-serial-low-entropy".to_string()),
        "a lint that raised a finding here is listed among the rules"
    );
    assert!(!ids(&pr["findings"], "asset").contains(&"key_3333333333333333".to_string()));
    // A tag the table lacks becomes a control of its own.
    v["findings"][0]["frameworks"] = json!(["PCI-DSS-4.0:3.5.1"]);
    let pci = evidence(&v, Framework::PciDss40);
    assert_eq!(
        ids(&control(&pci, "3.5.1")["findings"], "rule"),
        ["key-unprotected"]
    );
}

#[test]
fn waived_findings_are_listed_apart_with_their_waiver() {
    let mut v = estate();
    v["findings"][4]["frameworks"] = json!(["NIST-CSF-2.0:ID.AM-08"]);
    let csf = evidence(&v, Framework::NistCsf20);
    let c = control(&csf, "ID.AM-08");
    assert_eq!(
        c["findings"],
        json!([]),
        "the only finding tagged here is waived"
    );
    assert_eq!(c["status"], "no-open-findings");
    assert_eq!(ids(&c["waived"], "rule"), ["cert-wildcard"]);
    assert_eq!(
        c["waived"][0]["waiver"],
        json!({"by": "alice", "reason": "appliance", "until": "2027-01-01T00:00:00Z"})
    );
    let html = evidence_html(&report(&v), Framework::NistCsf20, &ectx());
    let section = html.split("id=\"control-ID.AM-08\"").nth(1).unwrap();
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("<h3>Findings (0)</h3>"));
    assert!(section.contains("<h3>Waived (1)</h3>"));
    assert!(section.contains("appliance (by alice, until 2027-01-01T00:00:00Z)"));
}

#[test]
fn the_header_dates_the_answer_and_the_inventory_control_lists_every_certificate_and_key() {
    let v = estate();
    let text = evidence_json(&report(&v), Framework::PciDss40, &ectx());
    assert_eq!(
        text,
        evidence_json(&report(&v), Framework::PciDss40, &ectx()),
        "deterministic"
    );
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        e["audit"],
        json!({"head": HEAD, "entries": 12, "hash": &HEAD[3..], "verified": true})
    );
    assert_eq!(e["scan"]["id"], "42");
    assert_eq!(e["scan"]["started_at"], "2026-12-01T00:00:00Z");
    assert_eq!(e["scan"]["roots"], json!(["/srv/a/repo"]));
    assert_eq!(e["scan"]["host"], "build-7");
    assert_eq!(e["generated_at"], "2026-12-02T08:30:00Z");
    assert_eq!(e["trustmap_version"], "0.1.0");
    assert_eq!(
        e["inventory"],
        json!({"certificate": 2, "endpoint": 1, "keystore": 1, "private-key": 2, "public-key": 1, "secret": 1})
    );
    let inv = &control(&e, "4.2.1.1")["inventory"];
    assert_eq!(
        ids(inv, "id"),
        [
            "crt_1eaf000000000000",
            "crt_ca00000000000000",
            "key_1111111111111111",
            "key_3333333333333333",
            "pub_4444444444444444"
        ]
    );
    assert_eq!(
        inv[0],
        json!({"id": "crt_1eaf000000000000", "kind": "certificate", "subject": "CN=shop.example.test",
               "issuer": "CN=Example CA", "not_after": "2027-01-01T00:00:00Z", "algorithm": "EC P-256",
               "places": ["tls/shop.crt:1", "bundle/app.p12"], "owners": []})
    );
    assert!(control(&e, "4.2.1").get("inventory").is_none());
    let csf = evidence(&v, Framework::NistCsf20);
    assert_eq!(
        control(&csf, "ID.AM-08")["inventory"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    let html = evidence_html(&report(&v), Framework::PciDss40, &ectx());
    assert!(html.contains(&format!(
        "<dt>Audit log head</dt><dd>{HEAD} (hash chain verified)</dd>"
    )));
    assert!(html.contains("<dt>Scan started</dt><dd>2026-12-01T00:00:00Z</dd>"));
    let broken = EvidenceContext {
        audit_intact: Some(false),
        ..ectx()
    };
    let html = evidence_html(&report(&v), Framework::PciDss40, &broken);
    assert!(html.contains("(hash chain DID NOT VERIFY)"));
    let e: Value =
        serde_json::from_str(&evidence_json(&report(&v), Framework::PciDss40, &broken)).unwrap();
    assert_eq!(e["audit"]["verified"], false);
}

#[test]
fn a_secret_shows_as_its_id_and_rule_only() {
    let mut v = estate();
    v["findings"][2]["frameworks"] = json!(["OWASP-NHI-2025:NHI2"]);
    let e = evidence(&v, Framework::OwaspNhi);
    let f = &control(&e, "NHI2")["findings"][0];
    assert_eq!(f["asset"], "sec_6666666666666666");
    assert_eq!(f["rule"], "secret-plaintext");
    assert_eq!(f["message"], Value::Null);
    assert_eq!(f["baselined"], true, "baselined: known, still open");
    for text in [
        evidence_json(&report(&v), Framework::OwaspNhi, &ectx()),
        evidence_html(&report(&v), Framework::OwaspNhi, &ectx()),
    ] {
        assert!(!text.contains("ghp_"), "no preview of the secret");
        assert!(text.contains("sec_6666666666666666"));
    }
}

const HOSTILE: &str =
    "CN=evil<img src=x onerror=alert(1)></script><script>window.pwned=1</script>\u{1b}[31m\u{202e}";

fn hostile() -> Value {
    let mut v = estate();
    v["assets"][1]["certificate"]["subject"] = json!(HOSTILE);
    v["assets"][1]["occurrences"][0]["path"] = json!("tls/<b>x</b>\u{1b}.crt");
    v["scan"]["roots"] = json!(["</title><script>alert(2)</script>"]);
    v["findings"][4]["frameworks"] = json!(["PCI-DSS-4.0:4.2.1.1"]);
    v["findings"][4]["waiver"]["reason"] = json!("<img src=y onerror=alert(3)>");
    v
}

#[test]
fn hostile_text_is_escaped_in_the_evidence() {
    let v = hostile();
    let html = evidence_html(&report(&v), Framework::PciDss40, &ectx());
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"));
    assert!(html.contains("CN=evil&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;"));
    assert!(html.contains(r"\x1b[31m\u{202e}"));
    for c in html.chars() {
        assert!(c == '\n' || !c.is_control(), "raw control {c:?}");
        assert!(c != '\u{202e}', "raw bidi override");
    }
    let text = evidence_json(&report(&v), Framework::PciDss40, &ectx());
    assert!(!text.contains('<') && !text.contains('\u{1b}'));
    let e: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(control(&e, "4.2.1.1")["inventory"][0]["subject"], HOSTILE);
}

#[test]
fn the_evidence_page_renders_hostile_text_as_text_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("evidence.html");
    std::fs::write(
        &page,
        evidence_html(&report(&hostile()), Framework::PciDss40, &ectx()),
    )
    .unwrap();
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("../trustmap/tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed in {}: run scripts/test",
        browser.display()
    );
    let run = Command::new("node")
        .current_dir(&browser)
        .arg("check-page.js")
        .arg(&page)
        .args([
            "#control-4\\.2\\.1\\.1 table.inventory tbody tr",
            "#control-4\\.2\\.1\\.1 .waived tbody tr",
            "dd",
        ])
        .output()
        .expect("node runs (scripts/test installs nodejs, chromium and playwright-core)");
    assert!(
        run.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["requests"], json!([]));
    assert_eq!(r["dialogs"], json!([]));
    assert_eq!(r["errors"], json!([]));
    assert_eq!(r["pwned"], Value::Null);
    assert_eq!((&r["scripts"], &r["images"]), (&json!(0), &json!(0)));
    let rows = &r["text"]["#control-4\\.2\\.1\\.1 table.inventory tbody tr"];
    assert!(
        rows[0].as_str().unwrap().contains(r"CN=evil<img src=x onerror=alert(1)></script><script>window.pwned=1</script>\x1b[31m\u{202e}"),
        "{rows}"
    );
    assert!(
        rows[0]
            .as_str()
            .unwrap()
            .contains(r"tls/<b>x</b>\x1b.crt:1")
    );
    assert!(
        r["text"]["#control-4\\.2\\.1\\.1 .waived tbody tr"][0]
            .as_str()
            .unwrap()
            .contains("<img src=y onerror=alert(3)> (by alice")
    );
    assert!(
        r["title"]
            .as_str()
            .unwrap()
            .contains("PCI DSS v4.0 evidence: 42")
    );
    assert!(
        r["text"]["dd"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "</title><script>alert(2)</script>")
    );
}
