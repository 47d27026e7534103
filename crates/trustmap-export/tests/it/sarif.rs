//! SARIF: schema-valid, within GitHub's limits, one result per unwaived finding with a file,
//! stable fingerprints, truncation past the limits.

use crate::common::{ctx, estate, report, valid_sarif};
use serde_json::{Value, json};
use trustmap_export::sarif::{self, Limits};

fn render(v: &Value) -> (String, Value) {
    let text = sarif::render(&report(v), &ctx());
    let doc = valid_sarif(&text);
    (text, doc)
}

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().unwrap()
}

fn result<'a>(doc: &'a Value, rule: &str) -> Option<&'a Value> {
    results(doc).iter().find(|r| r["ruleId"] == rule)
}

fn fingerprints(doc: &Value) -> Vec<(String, String)> {
    results(doc)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                r["partialFingerprints"]["primaryLocationLineHash"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn one_result_per_unwaived_finding_with_a_file() {
    let (_, doc) = render(&estate());
    let run = &doc["runs"][0];
    let ids: Vec<&str> = results(&doc)
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    // 9 findings: the waived one and the endpoint's are not results
    assert_eq!(
        ids,
        [
            "key-unprotected",
            "key-weak",
            "secret-plaintext",
            "keystore-default-password",
            "x509-serial-low-entropy",
            "org-legacy-ca-2027",
            "key-quantum-vulnerable"
        ]
    );
    assert_eq!(run["automationDetails"]["id"], "trustmap/42");
    assert_eq!(run["tool"]["driver"]["semanticVersion"], "0.1.0");
    assert_eq!(run["properties"]["waived"], 1);
    assert_eq!(run["properties"]["without-file"], 1);

    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let endpoint = notes
        .iter()
        .find(|n| n["associatedRule"]["id"] == "endpoint-weak-cipher")
        .expect("the endpoint finding is a notification");
    assert_eq!(endpoint["level"], "error");
    assert_eq!(
        endpoint["message"]["text"],
        "endpoint-weak-cipher (high) on ept_7777777777777777 at shop.example.test:443: offers TLS_RSA_WITH_RC4_128_SHA"
    );
    assert!(notes.iter().any(|n| {
        n["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("1 waived finding")
    }));
}

#[test]
fn levels_locations_and_baseline_state() {
    let (_, doc) = render(&estate());
    let r = result(&doc, "key-unprotected").unwrap();
    assert_eq!(r["level"], "error");
    assert_eq!(
        r["message"]["text"],
        "EC P-256 private key stored without a passphrase"
    );
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "tls/shop.key");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(r["properties"]["asset"], "key_1111111111111111");
    // a baseline was used: the baselined finding is unchanged, the others new
    assert_eq!(
        result(&doc, "secret-plaintext").unwrap()["baselineState"],
        "unchanged"
    );
    assert_eq!(r["baselineState"], "new");
    // a binary file (no line) points at line 1
    let ks = result(&doc, "keystore-default-password").unwrap();
    assert_eq!(
        ks["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    assert_eq!(
        result(&doc, "x509-serial-low-entropy").unwrap()["level"],
        "note"
    );

    // without any baselined finding there is no baselineState at all
    let mut v = estate();
    v["findings"][2]["baselined"] = json!(false);
    let (_, doc) = render(&v);
    assert!(
        results(&doc)
            .iter()
            .all(|r| r.get("baselineState").is_none())
    );
}

#[test]
fn rules_cover_the_catalogue_lints_and_rego() {
    let (_, doc) = render(&estate());
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let catalogue: Vec<&str> = trustmap_core::policy::RULES
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(&ids[..catalogue.len()], &catalogue[..]);
    assert_eq!(
        &ids[catalogue.len()..],
        ["org-legacy-ca-2027", "x509-serial-low-entropy"]
    );
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();

    let expired = by_id("cert-expired");
    assert_eq!(expired["name"], "CertExpired");
    assert_eq!(
        expired["shortDescription"]["text"],
        "Certificate is past its notAfter date"
    );
    assert!(
        expired["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("RFC 5280")
    );
    assert!(
        expired["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("PCI-DSS-4.0:4.2.1")
    );
    assert_eq!(expired["properties"]["security-severity"], "8.0");
    assert_eq!(expired["defaultConfiguration"]["level"], "error");
    let tags = expired["properties"]["tags"].as_array().unwrap();
    assert!(tags.contains(&json!("security")));

    // raised to critical by the policy in this report: the rule says so
    let qv = by_id("key-quantum-vulnerable");
    assert_eq!(qv["properties"]["security-severity"], "9.5");

    // lints: the description comes from the finding's message
    let lint = by_id("x509-serial-low-entropy");
    assert_eq!(
        lint["shortDescription"]["text"],
        "The serial number is shorter than 8 octets, so it cannot hold 64 bits of CSPRNG output."
    );
    assert_eq!(lint["properties"]["security-severity"], "3.0");
    // an endpoint rule is described by its catalogue entry, not as a custom rule
    let weak = by_id("endpoint-weak-cipher");
    assert!(
        weak["shortDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("A TLS endpoint accepts a weak cipher suite"),
        "{weak}"
    );
    assert_eq!(weak["properties"]["security-severity"], "8.0");
    let rego = by_id("org-legacy-ca-2027");
    assert_eq!(
        rego["shortDescription"]["text"],
        "Custom rule org-legacy-ca-2027 (Rego)"
    );
    assert_eq!(rego["properties"]["security-severity"], "8.0");
}

#[test]
fn fingerprints_ignore_root_host_scan_and_line() {
    let a = estate();
    let mut b = estate();
    b["scan"]["id"] = json!("9001");
    b["scan"]["host"] = json!("laptop");
    b["scan"]["roots"] = json!(["/home/me/checkout"]);
    for asset in b["assets"].as_array_mut().unwrap() {
        for o in asset["occurrences"].as_array_mut().unwrap() {
            if o["root"] == "/srv/a/repo" {
                o["root"] = json!("/home/me/checkout");
            }
        }
    }
    // the secret's id is keyed per inventory: another inventory, another id
    b["assets"][6]["id"] = json!("sec_9999999999999999");
    b["findings"][2]["asset"] = json!("sec_9999999999999999");
    // an edit above the key moves it down
    b["findings"][0]["line"] = json!(7);
    let (_, da) = render(&a);
    let (_, db) = render(&b);
    assert_eq!(fingerprints(&da), fingerprints(&db));
    let fa = fingerprints(&da);
    assert!(fa.iter().all(|(_, f)| f.len() == 34 && f.ends_with(":1")));

    // a different path is a different alert
    let mut c = estate();
    c["findings"][0]["path"] = json!("tls/moved.key");
    c["assets"][2]["occurrences"][0]["path"] = json!("tls/moved.key");
    let (_, dc) = render(&c);
    assert_ne!(fingerprints(&dc)[0], fa[0]);
    assert_eq!(fingerprints(&dc)[1..], fa[1..]);
    // so is another key at the same path
    let mut d = estate();
    d["findings"][0]["asset"] = json!("key_2222222222222222");
    let (_, dd) = render(&d);
    assert_ne!(fingerprints(&dd)[0], fa[0]);
}

#[test]
fn fingerprints_are_the_documented_recipe() {
    let (_, doc) = render(&estate());
    let r = result(&doc, "key-weak").unwrap();
    let want = format!(
        "{}:1",
        sarif::fingerprint("key-weak", "key_3333333333333333", "tls/old.key")
    );
    assert_eq!(r["partialFingerprints"]["primaryLocationLineHash"], want);
    assert_eq!(r["partialFingerprints"][sarif::FINGERPRINT_KEY], want);
    let s = result(&doc, "secret-plaintext").unwrap();
    let want = format!(
        "{}:1",
        sarif::fingerprint(
            "secret-plaintext",
            "secret:github-pat-classic:ghp_…(40 chars)",
            "deploy/.env"
        )
    );
    assert_eq!(s["partialFingerprints"]["primaryLocationLineHash"], want);
}

#[test]
fn same_rule_identity_and_path_are_numbered() {
    let mut v = estate();
    // a second secret with the same preview in the same file
    let mut second = v["assets"][6].clone();
    second["id"] = json!("sec_6666666666666667");
    second["occurrences"][0]["line"] = json!(9);
    v["assets"].as_array_mut().unwrap().push(second);
    let mut f = v["findings"][2].clone();
    f["asset"] = json!("sec_6666666666666667");
    f["line"] = json!(9);
    v["findings"].as_array_mut().unwrap().insert(3, f);
    let (_, doc) = render(&v);
    let secrets: Vec<String> = fingerprints(&doc)
        .into_iter()
        .filter(|(r, _)| r == "secret-plaintext")
        .map(|(_, f)| f)
        .collect();
    assert_eq!(secrets.len(), 2);
    assert!(secrets[0].ends_with(":1") && secrets[1].ends_with(":2"));
    assert_eq!(secrets[0][..32], secrets[1][..32]);
}

#[test]
fn two_exports_of_one_report_are_identical() {
    let (a, _) = render(&estate());
    let (b, _) = render(&estate());
    assert_eq!(a, b);
}

/// `n` findings of rising severity on one key; messages that do not compress.
fn many(n: usize, message_len: usize) -> Value {
    let mut v = estate();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let severities = ["info", "low", "medium", "high", "critical"];
    let findings: Vec<Value> = (0..n)
        .map(|i| {
            let msg: String = (0..message_len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (b'a' + (x % 26) as u8) as char
                })
                .collect();
            json!({"rule": "key-weak", "severity": severities[i * 5 / n], "asset": "key_3333333333333333",
                   "path": format!("keys/{i}.key"), "line": 1, "message": msg, "frameworks": []})
        })
        .collect();
    v["findings"] = json!(findings);
    v
}

#[test]
fn past_25000_results_the_most_severe_are_kept() {
    let v = many(25_010, 8);
    let text = sarif::render(&report(&v), &ctx());
    let doc: Value = serde_json::from_str(&text).unwrap();
    crate::common::github_ready(&text, &doc);
    let res = results(&doc);
    assert_eq!(res.len(), 25_000);
    // the last 10 of the least severe (info: keys/0 to keys/5001) went
    let uri = |r: &Value| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let kept: std::collections::BTreeSet<String> = res.iter().map(uri).collect();
    for i in 4992..=5001 {
        assert!(!kept.contains(&format!("keys/{i}.key")), "{i}");
    }
    assert!(kept.contains("keys/0.key") && kept.contains("keys/4991.key"));
    assert!(kept.contains("keys/5002.key") && kept.contains("keys/25009.key"));
    assert_eq!(uri(&res[0]), "keys/0.key");
    let run = &doc["runs"][0];
    assert_eq!(run["properties"]["results-left-out"], 10);
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| {
        n["level"] == "warning"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("10 of 25010 results left out")
    }));
}

#[test]
fn past_the_gzip_limit_the_most_severe_are_kept() {
    let v = many(400, 300);
    let limits = Limits {
        max_results: 25_000,
        max_gzip_bytes: 40_000,
    };
    let text = sarif::render_with(&report(&v), &ctx(), limits);
    assert!(sarif::gzip_len(&text) <= 40_000);
    let doc = valid_sarif(&text);
    let res = results(&doc);
    assert!(res.len() < 400 && res.len() > 50, "{}", res.len());
    // what is left is the most severe: the last findings are critical
    assert!(res.iter().all(|r| r["properties"]["severity"] != "info"));
    assert!(res.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "keys/399.key"
    ));
    let left = doc["runs"][0]["properties"]["results-left-out"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(left + res.len(), 400);
    // and the whole estate fits GitHub's real limits untouched
    let all = sarif::render(&report(&many(400, 300)), &ctx());
    let doc: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(results(&doc).len(), 400);
}
