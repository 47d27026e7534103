//! One self-contained HTML report that opens offline: no network, no external script, style or
//! font. The report's data is embedded once as JSON (`<script type="application/json">`,
//! with `<`, `>` and `&` written as `\u003c`, `\u003e`, `\u0026` so no text from a scanned file
//! can close the element), and a small script renders every view from it with `textContent`
//! only (never `innerHTML` with data), so a subject holding markup shows as text.
//!
//! Views: the posture summary (counts, findings by severity), an expiry timeline (an inline
//! SVG bar per month of the next two years, expired ones first), findings by severity, rule
//! and owner, the algorithm and key-size mix, post-quantum readiness, a sortable and
//! filterable inventory table, and a detail view per asset (its places, relations and
//! findings), opened by clicking a row or by the page's `#asset=ID` fragment.

use crate::Context;
use trustmap_core::Report;

/// The page: a fixed template, the report as JSON and the instant it is judged at.
pub fn render(report: &Report, ctx: &Context) -> String {
    let data = serde_json::json!({
        "report": report,
        "now": trustmap_core::model::rfc3339(ctx.now),
        "version": ctx.version,
    });
    let json = script_safe(&data.to_string());
    let title = format!(
        "trustmap report: {}",
        escape_text(&report.scan.roots.join(", "))
    );
    TEMPLATE
        .replace("{{TITLE}}", &title)
        .replace("{{DATA}}", &json)
}

/// JSON text that cannot end the `<script>` element it sits in, nor open a comment or CDATA.
pub fn script_safe(json: &str) -> String {
    let mut s = String::with_capacity(json.len());
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

const TEMPLATE: &str = include_str!("report.html");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_its_script_element() {
        let s = script_safe(r#"{"subject":"</script><script>alert(1)</script><!--"}"#);
        assert!(!s.contains('<') && !s.contains('>'));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            back["subject"],
            "</script><script>alert(1)</script><!--"
        );
        assert_eq!(escape_text("a<b>&\"c\u{1b}"), "a&lt;b&gt;&amp;&quot;c");
    }
}
