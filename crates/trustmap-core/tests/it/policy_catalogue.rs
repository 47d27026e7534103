//! The rule catalogue: every rule is complete, and every example behaves as it says.

use std::collections::HashSet;
use trustmap_core::policy::{self, Example, Inputs, Policy, RULES, Scenario};
use trustmap_core::{Finding, Severity};

/// The rules docs/ARCHITECTURE.md names, endpoint rules excepted (they land with the endpoint issue).
const DESIGN_RULES: &[&str] = &[
    "cert-expired",
    "cert-expiring",
    "cert-not-yet-valid",
    "cert-weak-signature",
    "cert-validity-too-long",
    "cert-self-signed-leaf",
    "cert-wildcard",
    "cert-missing-san",
    "cert-chain-incomplete",
    "cert-untrusted-root",
    "key-weak",
    "key-quantum-vulnerable",
    "key-unprotected",
    "key-ca-exposed",
    "key-duplicated",
    "key-rotation-overdue",
    "keystore-default-password",
    "secret-plaintext",
    "asset-unowned",
];

fn fired(findings: &[Finding], id: &str) -> bool {
    findings.iter().any(|f| f.rule == id)
}

#[test]
fn every_design_rule_is_in_the_catalogue_once() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate rule ids: {ids:?}");
    for id in DESIGN_RULES {
        assert!(unique.contains(id), "{id} missing from the catalogue");
    }
}

#[test]
fn every_rule_is_documented_and_mapped() {
    let known_prefixes = [
        "OWASP-NHI-2025:NHI",
        "NIST-CSF-2.0:",
        "PCI-DSS-4.0:",
        "NIST-SP-800-131A-r2",
        "NIST-IR-8547-ipd",
        "NIST-SP-800-57-1-r5",
        "CABF-BR:",
        "CABF-Ballot:",
        "NIST-SP-800-207",
        "NIST-SP-800-52-r2",
        "NIST-FIPS-203",
        "NSA-CNSA-2.0",
        "NIST-SP-1800-16",
    ];
    let csf = [
        "ID.AM-01", "ID.AM-02", "ID.AM-07", "ID.AM-08", "ID.RA-01", "GV.OC-03", "GV.RR-02",
        "PR.AA-01", "PR.AA-03", "PR.DS-01", "PR.DS-02", "PR.PS-01", "DE.CM-09",
    ];
    for r in RULES {
        assert!(
            r.id.as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "{} is not kebab-case",
            r.id
        );
        assert!(!r.description.is_empty() && !r.description.contains('\n'));
        assert!(r.rationale.len() > 60, "{}: rationale too short", r.id);
        assert!(!r.frameworks.is_empty(), "{}: no frameworks", r.id);
        assert!(!r.kinds.is_empty(), "{}: applies to nothing", r.id);
        for f in r.frameworks {
            assert!(
                known_prefixes.iter().any(|p| f.starts_with(p)),
                "{}: unknown framework reference {f}",
                r.id
            );
            if let Some(id) = f.strip_prefix("NIST-CSF-2.0:") {
                assert!(csf.contains(&id), "{}: {f} is not a CSF 2.0 id", r.id);
            }
            if let Some(id) = f.strip_prefix("PCI-DSS-4.0:") {
                assert!(
                    ["4.2.1", "4.2.1.1", "12.3.3"].contains(&id),
                    "{}: {f}",
                    r.id
                );
            }
        }
        // A draft is called a draft.
        if r.rationale.contains("IR 8547") {
            assert!(r.rationale.contains("draft"), "{}", r.id);
        }
        assert!(
            r.examples.iter().any(|e| e.fires) && r.examples.iter().any(|e| !e.fires),
            "{}: needs positive and negative examples",
            r.id
        );
    }
}

#[test]
fn every_example_fires_or_stays_silent_as_it_says() {
    let mut failures = Vec::new();
    for r in RULES {
        for Example {
            fires,
            note,
            scenario,
        } in r.examples
        {
            let findings = match Scenario::from_json(scenario) {
                Ok(s) => s.evaluate(),
                Err(e) => {
                    failures.push(format!("{} / {note}: bad scenario: {e}", r.id));
                    continue;
                }
            };
            let sc = Scenario::from_json(scenario).unwrap();
            for f in findings.iter().filter(|f| f.rule == r.id) {
                let a = sc.assets.iter().find(|a| a.id == f.asset).unwrap();
                if !r.kinds.contains(&a.kind) {
                    failures.push(format!("{} / {note}: fired on a {}", r.id, a.kind));
                }
            }
            if fired(&findings, r.id.as_str()) != *fires {
                let got: Vec<_> = findings.iter().map(|f| (&f.rule, &f.message)).collect();
                failures.push(format!(
                    "{} / {note}: expected {}, got {got:#?}",
                    r.id,
                    if *fires { "a finding" } else { "none" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn scenario(json: &str) -> Scenario {
    Scenario::from_json(json).unwrap()
}

fn finding<'a>(f: &'a [Finding], id: &str) -> &'a Finding {
    f.iter()
        .find(|f| f.rule == id)
        .unwrap_or_else(|| panic!("no {id} in {f:#?}"))
}

#[test]
fn quantum_vulnerable_carries_ir_8547_years() {
    let f = scenario(
        r#"{"assets":[{"kind":"private-key","key":{"algorithm":"RSA","bits":2048,"curve":null}}]}"#,
    )
    .evaluate();
    let q = finding(&f, "key-quantum-vulnerable");
    assert!(
        q.message.contains("2030") && q.message.contains("2035"),
        "{}",
        q.message
    );
    assert!(q.message.contains("draft"), "{}", q.message);
    assert_eq!(q.evidence["deprecated_after"], "2030");
    assert_eq!(q.evidence["disallowed_after"], "2035");
    assert_eq!(q.evidence["security_bits"], "112");
    // 128-bit strength: only the disallowance applies.
    let f = scenario(r#"{"assets":[{"kind":"private-key"}]}"#).evaluate();
    let q = finding(&f, "key-quantum-vulnerable");
    assert!(!q.evidence.contains_key("deprecated_after"));
    assert_eq!(q.evidence["disallowed_after"], "2035");
}

#[test]
fn validity_schedule_follows_sc081v3_by_issuance_date() {
    use time::macros::datetime;
    assert_eq!(
        policy::public_max_days(datetime!(2026-03-14 23:59:59 UTC)),
        398
    );
    assert_eq!(
        policy::public_max_days(datetime!(2026-03-15 00:00 UTC)),
        200
    );
    assert_eq!(
        policy::public_max_days(datetime!(2027-03-14 23:59:59 UTC)),
        200
    );
    assert_eq!(
        policy::public_max_days(datetime!(2027-03-15 00:00 UTC)),
        100
    );
    assert_eq!(
        policy::public_max_days(datetime!(2029-03-14 12:00 UTC)),
        100
    );
    assert_eq!(policy::public_max_days(datetime!(2029-03-15 00:00 UTC)), 47);
    // 47 days from 2029-04-01: exactly 47 days inclusive is fine, one second more is not.
    let cert = |na: &str| {
        format!(
            r#"{{"assets":[{{"kind":"certificate","certificate":{{"not_before":"2029-04-01T00:00:00Z","not_after":"{na}"}}}}]}}"#
        )
    };
    let ok = scenario(&cert("2029-05-17T23:59:59Z")).evaluate();
    assert!(!fired(&ok, "cert-validity-too-long"), "{ok:#?}");
    let long = scenario(&cert("2029-05-18T00:00:00Z")).evaluate();
    let v = finding(&long, "cert-validity-too-long");
    assert_eq!(v.evidence["validity_days"], "48");
    assert_eq!(v.evidence["max_days"], "47");
    assert_eq!(v.evidence["trust"], "public");
}

#[test]
fn public_trust_list_decides_public_when_given() {
    // The leaf's issuer is not in the inventory, but a public trust list is known and the
    // leaf does not chain to it: it is private, judged by the 398-day private limit.
    let s = r#"{"assets":[{"kind":"certificate","certificate":{"not_before":"2026-04-01T00:00:00Z","not_after":"2026-12-07T00:00:00Z"}}],
        "public_roots":["sha256:4444444444444444444444444444444444444444444444444444444444444444"]}"#;
    assert!(!fired(&scenario(s).evaluate(), "cert-validity-too-long"));
    // Chaining to a public root: the CA/B schedule (200 days for this issuance date).
    let s = r#"{"assets":[
        {"id":"crt_leaf","kind":"certificate","certificate":{"not_before":"2026-04-01T00:00:00Z","not_after":"2026-12-07T00:00:00Z"}},
        {"id":"crt_root","kind":"certificate","fingerprint":"sha256:4444444444444444444444444444444444444444444444444444444444444444","certificate":{"is_ca":true,"self_signed":true,"sans":[]}}],
      "relations":[{"from":"crt_leaf","to":"crt_root","type":"issued-by"}],
      "public_roots":["sha256:4444444444444444444444444444444444444444444444444444444444444444"]}"#;
    let f = scenario(s).evaluate();
    assert_eq!(
        finding(&f, "cert-validity-too-long").evidence["trust"],
        "public"
    );
    assert!(!fired(&f, "cert-untrusted-root") && !fired(&f, "cert-chain-incomplete"));
}

#[test]
fn expiring_is_graded_by_the_policy_windows() {
    // A one-year certificate: the day windows are shorter than its lifetime fractions.
    let at = |na: &str| {
        let s = scenario(&format!(
            r#"{{"assets":[{{"kind":"certificate","certificate":{{"not_before":"2026-01-01T00:00:00Z","not_after":"{na}"}}}}]}}"#
        ));
        s.evaluate()
            .into_iter()
            .find(|f| f.rule == "cert-expiring")
            .map(|f| f.severity)
    };
    assert_eq!(at("2026-11-28T00:00:00Z"), Some(Severity::Critical));
    assert_eq!(at("2026-12-03T00:00:00Z"), Some(Severity::High));
    assert_eq!(at("2026-12-13T00:00:00Z"), Some(Severity::Medium));
    assert_eq!(at("2026-12-24T00:00:00Z"), None);
}

#[test]
fn expiry_windows_scale_with_the_certificates_lifetime() {
    // Judged at EXAMPLE_NOW (2026-11-23T00:00:00Z); (notBefore, notAfter) -> severity.
    let at = |nb: &str, na: &str, policy: &str| {
        let s = scenario(&format!(
            r#"{{"assets":[{{"kind":"certificate","certificate":{{"not_before":"{nb}","not_after":"{na}"}}}}],"policy":{policy:?}}}"#
        ));
        s.evaluate()
            .into_iter()
            .find(|f| f.rule == "cert-expiring")
            .map(|f| (f.severity, f.evidence))
    };
    let sev = |nb: &str, na: &str| at(nb, na, "").map(|(s, _)| s);
    // A 90-day ACME certificate: medium from 18 days (a fifth), high from 9, critical from
    // 4.5; not from 30 days, a third of its life.
    let acme = |left_days: i64| {
        let na = time::macros::datetime!(2026-11-23 00:00 UTC) + time::Duration::days(left_days);
        let nb = na - time::Duration::days(90);
        let f = |t: time::OffsetDateTime| trustmap_core::rfc3339(t);
        sev(&f(nb), &f(na))
    };
    assert_eq!(acme(29), None);
    assert_eq!(acme(19), None);
    assert_eq!(acme(17), Some(Severity::Medium));
    assert_eq!(acme(10), Some(Severity::Medium));
    assert_eq!(acme(8), Some(Severity::High));
    assert_eq!(acme(4), Some(Severity::Critical));
    // A 24-hour certificate: not critical all its life; 4.8, 2.4 and 1.2 hours.
    let day_cert = |left_minutes: i64| {
        let na =
            time::macros::datetime!(2026-11-23 00:00 UTC) + time::Duration::minutes(left_minutes);
        let nb = na - time::Duration::hours(24);
        let f = |t: time::OffsetDateTime| trustmap_core::rfc3339(t);
        sev(&f(nb), &f(na))
    };
    assert_eq!(day_cert(20 * 60), None);
    assert_eq!(day_cert(5 * 60), None);
    assert_eq!(day_cert(4 * 60), Some(Severity::Medium));
    assert_eq!(day_cert(2 * 60), Some(Severity::High));
    assert_eq!(day_cert(60), Some(Severity::Critical));
    // A 2-year certificate: the day windows decide.
    assert_eq!(
        sev("2024-12-10T00:00:00Z", "2026-12-10T00:00:00Z"),
        Some(Severity::Medium)
    );
    assert_eq!(
        sev("2024-12-01T00:00:00Z", "2026-12-01T00:00:00Z"),
        Some(Severity::High)
    );
    // The evidence says which window and lifetime judged it.
    let (_, ev) = at("2026-09-14T00:00:00Z", "2026-12-10T00:00:00Z", "").unwrap();
    assert_eq!(ev["window_days"], "30");
    assert_eq!(ev["window_fraction"], "0.2");
    assert_eq!(ev["lifetime_days"], "87");
    // The policy sets the fractions: 1 leaves the days alone (the old fixed windows).
    let fixed = "[expiry.lifetime_fraction]\nmedium = 1\nhigh = 1\ncritical = 1\n";
    assert_eq!(
        at("2026-09-14T00:00:00Z", "2026-12-13T00:00:00Z", fixed).map(|(s, _)| s),
        Some(Severity::Medium)
    );
    assert_eq!(
        at("2026-09-14T00:00:00Z", "2026-12-13T00:00:00Z", "").map(|(s, _)| s),
        None
    );
}

#[test]
fn lints_become_findings_with_the_callers_severity() {
    let s = r#"{"assets":[{"id":"crt_x","kind":"certificate","certificate":{"lints":["x509-serial-zero","x509-missing-ski"]}}],
        "lint_severities":{"x509-serial-zero":"high"},
        "lint_descriptions":{"x509-serial-zero":"serial number is zero"}}"#;
    let f = scenario(s).evaluate();
    let zero = finding(&f, "x509-serial-zero");
    assert_eq!(zero.severity, Severity::High);
    assert!(
        zero.message.contains("serial number is zero"),
        "{}",
        zero.message
    );
    assert_eq!(zero.evidence["lint"], "x509-serial-zero");
    assert!(!zero.frameworks.is_empty());
    // Not in the lookup: low.
    assert_eq!(finding(&f, "x509-missing-ski").severity, Severity::Low);
    // Lints come after the catalogue's rules of the same severity.
    let high: Vec<&str> = f
        .iter()
        .filter(|f| f.severity == Severity::High)
        .map(|f| f.rule.as_str())
        .collect();
    assert_eq!(high.last(), Some(&"x509-serial-zero"), "{high:?}");
    // The policy re-grades or disables a lint like any rule, once it knows the id.
    let p = Policy::from_toml_with(
        "[rules]\nx509-serial-zero = \"off\"\n",
        "trustmap.toml",
        &["x509-serial-zero"],
    )
    .unwrap();
    let mut sc = scenario(s);
    sc.policy = p;
    let f = sc.evaluate();
    assert!(!fired(&f, "x509-serial-zero") && fired(&f, "x509-missing-ski"));
}

#[test]
fn rules_and_scopes_regrade_and_disable() {
    let s = r#"{"assets":[
        {"kind":"secret","occurrences":[{"path":"tests/fixtures/token.txt","line":3,"container":null}]},
        {"kind":"secret","fingerprint":"sha256:9999999999999999999999999999999999999999999999999999999999999999","occurrences":[{"path":"tests/a.env","line":1,"container":null},{"path":"src/app.env","line":1,"container":null}]},
        {"kind":"certificate","owners":[],"certificate":{"sans":["DNS:*.example.com"]}}]}"#;
    let mut sc = scenario(s);
    sc.policy = Policy::from_toml(
        "[rules]\ncert-wildcard = \"off\"\nasset-unowned = \"critical\"\n\n[[scope]]\npath = \"tests/**\"\nseverity = \"info\"\n",
        "trustmap.toml",
    )
    .unwrap();
    let f = sc.evaluate();
    assert!(!fired(&f, "cert-wildcard"));
    assert_eq!(finding(&f, "asset-unowned").severity, Severity::Critical);
    let secrets: Vec<_> = f.iter().filter(|f| f.rule == "secret-plaintext").collect();
    // Only under tests/: info. Also in src/: not scoped down.
    assert_eq!(secrets.len(), 2);
    let by_path = |p: &str| {
        secrets
            .iter()
            .find(|f| f.path.as_deref() == Some(p))
            .unwrap()
            .severity
    };
    assert_eq!(by_path("tests/fixtures/token.txt"), Severity::Info);
    assert_eq!(by_path("tests/a.env"), Severity::High);
    // Most severe first.
    assert!(f.windows(2).all(|w| w[0].severity >= w[1].severity));
}

#[test]
fn findings_sort_by_severity_then_catalogue_then_place() {
    let s = r#"{"assets":[
        {"kind":"certificate","occurrences":[{"path":"b.pem","line":1,"container":null}],"certificate":{"not_after":"2026-11-20T00:00:00Z"}},
        {"kind":"certificate","fingerprint":"sha256:0100000000000000000000000000000000000000000000000000000000000000","occurrences":[{"path":"a.pem","line":1,"container":null}],"certificate":{"not_after":"2026-11-20T00:00:00Z"}},
        {"kind":"private-key","key":{"encrypted":false}},
        {"kind":"secret"}]}"#;
    let f = scenario(s).evaluate();
    let high: Vec<(&str, Option<&str>)> = f
        .iter()
        .filter(|f| f.severity == Severity::High)
        .map(|f| (f.rule.as_str(), f.path.as_deref()))
        .collect();
    assert_eq!(
        high,
        [
            ("cert-expired", Some("a.pem")),
            ("cert-expired", Some("b.pem")),
            ("key-unprotected", Some("deploy/svc.pem")),
            ("secret-plaintext", Some("deploy/svc.pem")),
        ]
    );
}

#[test]
fn legacy_evaluate_uses_the_builtin_policy_without_evidence() {
    let sc = scenario(
        r#"{"assets":[{"kind":"private-key","key":{"encrypted":false,"algorithm":"RSA","bits":1024,"curve":null}}]}"#,
    );
    let old = policy::evaluate(&sc.assets, &sc.relations, sc.now);
    let new = policy::evaluate_with(
        &sc.assets,
        &sc.relations,
        &Policy::default(),
        sc.now,
        &Inputs::default(),
    );
    assert_eq!(old.len(), new.len());
    assert!(old.iter().all(|f| f.evidence.is_empty()));
    assert!(new.iter().any(|f| !f.evidence.is_empty()));
    // Evidence is skipped in JSON when empty, present when not.
    let j = serde_json::to_value(&old[0]).unwrap();
    assert!(j.get("evidence").is_none());
    let weak = new.iter().find(|f| f.rule == "key-weak").unwrap();
    let j = serde_json::to_value(weak).unwrap();
    assert_eq!(j["evidence"]["min_bits"], "2048");
    for k in [
        "rule",
        "severity",
        "asset",
        "path",
        "line",
        "message",
        "frameworks",
    ] {
        assert!(j.get(k).is_some(), "{k}");
    }
}

#[test]
fn rules_explain_themselves_and_serialise() {
    let r = policy::rule("key-quantum-vulnerable").unwrap();
    let text = r.explain();
    assert!(text.starts_with("key-quantum-vulnerable (low)"), "{text}");
    assert!(
        text.contains("NIST-IR-8547-ipd")
            && text.contains("fires on: ")
            && text.contains("silent on: ")
    );
    let j = serde_json::to_value(RULES).unwrap();
    assert_eq!(j[0]["id"], "cert-expired");
    assert_eq!(j[0]["severity"], "high");
    assert_eq!(j[0]["kinds"][0], "certificate");
    assert!(j[0]["examples"][0]["scenario"].is_string());
}

#[test]
fn a_root_known_by_name_completes_the_chain_and_decides_public() {
    // The leaf's issuer is a root that is not in the inventory but is known by subject DN.
    let s = r#"{"assets":[{"kind":"certificate","certificate":{"issuer":"CN=Public Root R1","not_before":"2026-04-01T00:00:00Z","not_after":"2026-12-07T00:00:00Z"}}],
        "anchor_names":{"CN=Public Root R1":true}}"#;
    let f = scenario(s).evaluate();
    assert!(
        !fired(&f, "cert-chain-incomplete") && !fired(&f, "cert-untrusted-root"),
        "{f:#?}"
    );
    assert_eq!(
        finding(&f, "cert-validity-too-long").evidence["trust"],
        "public"
    );
    // Known by its key identifier, private: the private limit (398) applies, 250 days is fine.
    let s = r#"{"assets":[{"kind":"certificate","certificate":{"aki":"0a0b","not_before":"2026-04-01T00:00:00Z","not_after":"2026-12-07T00:00:00Z"}}],
        "anchor_names":{"0a0b":false}}"#;
    let f = scenario(s).evaluate();
    assert!(
        !fired(&f, "cert-chain-incomplete") && !fired(&f, "cert-validity-too-long"),
        "{f:#?}"
    );
}
