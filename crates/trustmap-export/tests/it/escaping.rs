//! Text from scanned files (a subject with control characters and markup, a path with odd
//! bytes) goes through both JSON formats valid, escaped, and unchanged once parsed.

use crate::common::{ctx, estate, report, valid_cyclonedx, valid_sarif};
use serde_json::json;

const SUBJECT: &str = "CN=evil\u{1b}[31m\u{7}<script>alert(1)</script>\u{202e}gpj.exe&x";
const PATH: &str = "tls/<b>a\u{1b}b</b> #1.crt";

fn hostile() -> serde_json::Value {
    let mut v = estate();
    let leaf = &mut v["assets"][1];
    leaf["certificate"]["subject"] = json!(SUBJECT);
    leaf["certificate"]["subject_cn"] =
        json!("evil\u{1b}[31m\u{7}<script>alert(1)</script>\u{202e}");
    leaf["occurrences"][0]["path"] = json!(PATH);
    v["findings"][5]["path"] = json!(PATH);
    v["findings"][5]["message"] = json!(format!("{SUBJECT} has a short serial"));
    v
}

/// No raw markup or control character anywhere in the text (newlines of the layout aside).
fn escaped(text: &str) {
    assert!(!text.contains("<script>") && !text.contains('<') && !text.contains('>'));
    assert!(text.contains(r"\u003cscript\u003e"));
    for c in text.chars() {
        assert!(c == '\n' || !c.is_control(), "raw control {:?}", c);
        assert!(c != '\u{202e}', "raw bidi override");
    }
}

#[test]
fn hostile_subjects_and_paths_in_the_cbom() {
    let text = trustmap_export::cyclonedx::render(&report(&hostile()), &ctx());
    escaped(&text);
    let doc = valid_cyclonedx(&text);
    let leaf = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == "crt_1eaf000000000000")
        .unwrap();
    // the data is the certificate's, exactly
    assert_eq!(
        leaf["cryptoProperties"]["certificateProperties"]["subjectName"],
        SUBJECT
    );
    assert_eq!(leaf["evidence"]["occurrences"][0]["location"], PATH);
}

#[test]
fn hostile_subjects_and_paths_in_sarif() {
    let text = trustmap_export::sarif::render(&report(&hostile()), &ctx());
    escaped(&text);
    let doc = valid_sarif(&text);
    let r = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "x509-serial-low-entropy")
        .unwrap();
    // shown to people: control characters visible, markup left to the viewer's text escaping
    assert_eq!(
        r["message"]["text"],
        "CN=evil\\u{1b}[31m\\u{7}<script>alert(1)</script>\\u{202e}gpj.exe&x has a short serial"
    );
    // a URI reference: percent-encoded
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tls/%3Cb%3Ea%1Bb%3C/b%3E%20%231.crt"
    );
}
