//! CSV (RFC 4180) for spreadsheets: one row per asset and one row per finding in one table,
//! told apart by the first column (`record`: `asset` or `finding`), so a filter on it gives
//! either list and both share the columns people sort by (path, owner, severity).
//!
//! Cells that come from scanned files are made safe for the programs that open them:
//! control characters become the text `\xNN` (no escape sequence reaches a terminal, no
//! stray line break a reader mistakes for a row), and a cell that starts with `=`, `+`, `-`,
//! `@`, a tab or a carriage return gets a leading `'`, so a spreadsheet shows it as text
//! instead of running it as a formula (OWASP's CSV injection guidance). Hand-written: the
//! quoting is ten lines and the guard is the part that matters.

use crate::Context;
use std::fmt::Write as _;
use trustmap_core::policy::quantum_vulnerable;
use trustmap_core::{Asset, Report};

/// The columns, in order.
pub const COLUMNS: [&str; 20] = [
    "record",
    "asset",
    "kind",
    "name",
    "path",
    "line",
    "places",
    "owner",
    "algorithm",
    "bits",
    "curve",
    "not_before",
    "not_after",
    "issuer",
    "quantum_vulnerable",
    "fingerprint",
    "rule",
    "severity",
    "status",
    "message",
];

/// The report as CSV: the header, then assets (report order), then findings.
pub fn render(report: &Report, _ctx: &Context) -> String {
    let mut out = String::new();
    row(&mut out, COLUMNS.iter().map(|c| c.to_string()));
    for a in &report.assets {
        row(&mut out, asset_cells(a, None));
    }
    for f in &report.findings {
        let asset = report.asset(&f.asset);
        let status = f.status();
        let mut cells = match asset {
            Some(a) => asset_cells(a, Some(f.path.as_deref().unwrap_or(""))),
            None => {
                let mut v = vec![String::new(); COLUMNS.len()];
                v[1] = f.asset.clone();
                v[4] = f.path.clone().unwrap_or_default();
                v
            }
        };
        cells[0] = "finding".into();
        cells[5] = f.line.map(|l| l.to_string()).unwrap_or_default();
        cells[16] = f.rule.clone();
        cells[17] = f.severity.as_str().into();
        cells[18] = status.into();
        cells[19] = f.message.clone();
        row(&mut out, cells);
    }
    out
}

/// An asset's cells; `path`: the finding's path instead of the first occurrence's.
fn asset_cells(a: &Asset, path: Option<&str>) -> Vec<String> {
    let first = a.occurrences.first();
    let key = a
        .key
        .as_ref()
        .or(a.certificate.as_ref().map(|c| &c.public_key));
    let cert = a.certificate.as_ref();
    let algorithm = key.map(|k| k.algorithm.clone()).unwrap_or_default();
    let vulnerable = key.is_some_and(|k| quantum_vulnerable(&k.algorithm));
    vec![
        "asset".into(),
        a.id.clone(),
        a.kind.as_str().into(),
        a.label(),
        path.map(str::to_string)
            .or(first.map(|o| o.path.clone()))
            .unwrap_or_default(),
        first
            .and_then(|o| o.line)
            .map(|l| l.to_string())
            .unwrap_or_default(),
        a.occurrences.len().to_string(),
        a.owners.first().map(|o| o.name.clone()).unwrap_or_default(),
        algorithm,
        key.and_then(|k| k.bits)
            .map(|b| b.to_string())
            .unwrap_or_default(),
        key.and_then(|k| k.curve.clone()).unwrap_or_default(),
        cert.map(|c| c.not_before.to_string()).unwrap_or_default(),
        cert.map(|c| c.not_after.to_string()).unwrap_or_default(),
        cert.map(|c| c.issuer.clone()).unwrap_or_default(),
        if key.is_some() {
            vulnerable.to_string()
        } else {
            String::new()
        },
        a.fingerprint.clone(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]
}

fn row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    for (i, c) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell(&c));
    }
    out.push_str("\r\n");
}

/// One cell: control characters spelled out, formulas neutralised, quoted when needed.
pub fn cell(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        if ch.is_control() {
            let _ = write!(s, "\\x{:02x}", ch as u32);
        } else {
            s.push(ch);
        }
    }
    // Control characters (tab and CR among them) are escaped above, so only these can start
    // a formula, and only these need quoting.
    if s.starts_with(['=', '+', '-', '@']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_guarded_and_free_of_control_characters() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("CN=a\u{1b}[2Jb\nc"), "CN=a\\x1b[2Jb\\x0ac");
    }
}
