//! One self-contained HTML report that opens offline: no network, no external script, style or
//! font. The report's data is embedded once as JSON (`<script type="application/json">`,
//! with `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026` so no text from a scanned file
//! can close the element), and one script (`dom.js`, shared with the web UI, then
//! `report.js`) renders every view from it with `textContent` only (never `innerHTML` with
//! data), so a subject holding markup shows as text; control characters and bidi overrides
//! are shown as `\x1b`, `\u{202e}`.
//!
//! The page's Content-Security-Policy allows no fetch of any kind (`default-src 'none'`) and
//! runs only the script whose SHA-256 it names, so even markup that got in could neither run
//! an inline handler nor load anything.
//!
//! Views: the posture summary (counts), open findings by severity, rule and owner, an expiry
//! timeline (an inline SVG with one mark per certificate, stacked by month: expired, the next
//! 24 months, later), the algorithm and key-size mix, post-quantum readiness (classified here,
//! with [`trustmap_core::quantum_vulnerable`]), files that could not be read, a sortable and
//! filterable inventory table (500 rows until "Show all"), and a detail view per asset (facts,
//! places, relations, findings with waivers), opened by clicking a row or a chart mark, or by
//! the page's `#asset=ID` fragment.

use crate::Context;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use trustmap_core::Report;

const TEMPLATE: &str = include_str!("report.html");
/// The report's script: the shared helpers, then the report's own code.
const SCRIPT: &str = concat!(include_str!("dom.js"), include_str!("report.js"));
/// Helpers the report and the web UI share (`show`, `el`, `row`, `tally`, `stackChart`).
pub const DOM_JS: &str = include_str!("dom.js");
/// Styles the report (inlined) and the web UI (`/ui/base.css`) share.
pub const BASE_CSS: &str = include_str!("base.css");

/// The page: a fixed template, the report as JSON and the instant it is judged at.
pub fn render(report: &Report, ctx: &Context) -> String {
    #[derive(serde::Serialize)]
    struct Data<'a> {
        report: &'a Report,
        now: String,
        version: &'a str,
        pq: BTreeMap<&'a str, &'static str>,
    }
    let data = Data {
        report,
        now: trustmap_core::model::rfc3339(ctx.now),
        version: &ctx.version,
        pq: pq_classes(report),
    };
    // Serialising the model (strings, numbers, string-keyed maps) cannot fail.
    let json = script_safe(&serde_json::to_string(&data).expect("the report serialises"));
    let title = format!(
        "trustmap report: {}",
        escape_text(&report.scan.roots.join(", "))
    );
    fill(
        TEMPLATE,
        &[
            ("{{SCRIPT_HASH}}", &script_hash(SCRIPT)),
            ("{{TITLE}}", &title),
            ("{{STYLE}}", BASE_CSS),
            ("{{DATA}}", &json),
            ("{{SCRIPT}}", SCRIPT),
        ],
    )
}

/// Each certificate's and key's post-quantum class, by asset id: `quantum-vulnerable`,
/// `post-quantum` (ML-KEM, ML-DSA, SLH-DSA) or `unknown` (encrypted, unrecognised).
fn pq_classes(report: &Report) -> BTreeMap<&str, &'static str> {
    report
        .assets
        .iter()
        .filter_map(|a| {
            let key = a
                .key
                .as_ref()
                .or(a.certificate.as_ref().map(|c| &c.public_key))?;
            Some((a.id.as_str(), pq_class(&key.algorithm)))
        })
        .collect()
}

/// A key algorithm's post-quantum class: `quantum-vulnerable`, `post-quantum` (ML-KEM,
/// ML-DSA, SLH-DSA) or `unknown` (the report and the server's overview both use it).
pub fn pq_class(alg: &str) -> &'static str {
    if trustmap_core::quantum_vulnerable(alg) {
        "quantum-vulnerable"
    } else if ["ML-KEM", "ML-DSA", "SLH-DSA"]
        .iter()
        .any(|p| alg.starts_with(p))
    {
        "post-quantum"
    } else {
        "unknown"
    }
}

/// `template` with each placeholder replaced once, in the order given, searching only the
/// template's own text (a value that holds a placeholder is never expanded).
fn fill(template: &str, parts: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + parts.iter().map(|p| p.1.len()).sum::<usize>());
    let mut rest = template;
    for (marker, value) in parts {
        let at = rest
            .find(marker)
            .expect("the template holds every placeholder, in order");
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + marker.len()..];
    }
    out.push_str(rest);
    out
}

/// The CSP source that allows exactly `script`: `sha256-` + base64 of its SHA-256.
fn script_hash(script: &str) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    )
}

/// JSON text that cannot end the `<script>` element it sits in, nor open a comment or CDATA.
pub fn script_safe(json: &str) -> String {
    if !json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return json.to_string();
    }
    let mut s = String::with_capacity(json.len() + json.len() / 16);
    for ch in json.chars() {
        match ch {
            '<' => s.push_str("\\u003c"),
            '>' => s.push_str("\\u003e"),
            '&' => s.push_str("\\u0026"),
            '\u{2028}' => s.push_str("\\u2028"),
            '\u{2029}' => s.push_str("\\u2029"),
            c => s.push(c),
        }
    }
    s
}

/// Text for an HTML text node (the title): `<`, `>`, `&`, quotes escaped, controls dropped.
pub fn escape_text(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s
}

/// Text for HTML element content or a quoted attribute: `<`, `>`, `&`, quotes escaped, and
/// control characters and bidi overrides shown as `\x1b`, `\u{202e}` (as the page's script
/// shows them).
pub fn escape_visible(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '&' => s.push_str("&amp;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                s.push_str(&format!("\\x{:02x}", c as u32))
            }
            c @ ('\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') => {
                s.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_its_script_element() {
        let s = script_safe(r#"{"subject":"</script><script>alert(1)</script><!--"}"#);
        assert!(!s.contains('<') && !s.contains('>'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["subject"], "</script><script>alert(1)</script><!--");
        assert_eq!(escape_text("a<b>&\"c\u{1b}"), "a&lt;b&gt;&amp;&quot;c");
        assert_eq!(
            escape_visible("<i>\u{1b}[31m\u{202e}'"),
            "&lt;i&gt;\\x1b[31m\\u{202e}&#39;"
        );
    }

    #[test]
    fn placeholders_in_values_are_not_expanded() {
        let page = fill(
            "<t>{{A}}</t><d>{{B}}</d>",
            &[("{{A}}", "{{B}}"), ("{{B}}", "x")],
        );
        assert_eq!(page, "<t>{{B}}</t><d>x</d>");
    }

    #[test]
    fn the_policy_names_the_script_it_runs() {
        let report: Report = serde_json::from_value(serde_json::json!({
            "tool": {"name": "trustmap", "version": "0"},
            "scan": {"id": "scan_1", "started_at": "2026-01-01T00:00:00Z", "roots": ["{{DATA}}"],
                     "host": "h", "files_scanned": 0, "bytes_scanned": 0, "duration_ms": 0},
            "assets": [], "relations": [], "findings": [], "errors": []
        }))
        .unwrap();
        let ctx = Context {
            now: time::OffsetDateTime::UNIX_EPOCH,
            version: "0".into(),
        };
        let page = render(&report, &ctx);
        assert!(page.contains("<title>trustmap report: {{DATA}}</title>"));
        // echo -n 'x' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            script_hash("x"),
            "sha256-LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE="
        );
        assert!(page.contains(&format!("script-src '{}'", script_hash(SCRIPT))));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
    }
}
