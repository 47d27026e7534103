//! Prometheus text exposition format 0.0.4.
//!
//! Certificates use the metric names and the label schema of enix's x509-certificate-exporter
//! (v4, `docs/metrics.md`), so its Grafana dashboards and alert rules work unchanged:
//! `x509_cert_not_after`, `x509_cert_not_before`, `x509_cert_expired`,
//! `x509_cert_expires_in_seconds`, `x509_cert_valid_since_seconds` and `x509_cert_error`,
//! one series per place a certificate was seen, every label of the schema present (empty
//! when it does not apply): `filename`, `filepath`, `embedded_kind`, `embedded_key`,
//! `secret_namespace`, `secret_name`, `secret_key`, `configmap_*`, `cabundle_*`,
//! `serial_number` (decimal), `crl_number`, `issuer_C/ST/L/O/OU/CN`, `subject_C/ST/L/O/OU/CN`
//! (the first value of each, as the exporter takes them) and `discriminator` (empty unless two
//! different certificates would otherwise have the same labels: then the first 16 hex of the
//! certificate's SHA-256, as the exporter's `auto` mode does). `filepath` is the path as
//! trustmap reports it (relative to the scanned root); `x509_cert_error` is 1 for each file
//! the scan could not read or parse, with its `filename` and `filepath`.
//!
//! trustmap's own series: findings by rule, severity, owner and status; assets by kind and
//! algorithm; quantum-vulnerable assets by kind; and scan health.

use crate::Context;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use trustmap_core::policy::quantum_vulnerable;
use trustmap_core::{Asset, Report};

/// The x509-certificate-exporter label schema, in its order.
const LOCATION: [&str; 13] = [
    "filename",
    "filepath",
    "embedded_kind",
    "embedded_key",
    "secret_namespace",
    "secret_name",
    "secret_key",
    "configmap_namespace",
    "configmap_name",
    "configmap_key",
    "cabundle_resource_kind",
    "cabundle_resource_name",
    "cabundle_entry",
];
const DN_FIELDS: [&str; 6] = ["C", "ST", "L", "O", "OU", "CN"];

/// The report as Prometheus metrics, judged at `ctx.now`.
pub fn render(report: &Report, ctx: &Context) -> String {
    let now = ctx.now.unix_timestamp();
    let mut out = String::new();

    // One label set per certificate place; two different certificates with equal labels get
    // a discriminator, the same certificate twice at one place is one series.
    struct Series<'a> {
        labels: Vec<(String, String)>,
        asset: Option<&'a Asset>,
    }
    let mut series: Vec<Series> = Vec::new();
    for a in &report.assets {
        let Some(c) = &a.certificate else { continue };
        let mut seen = std::collections::HashSet::new();
        for o in &a.occurrences {
            let mut labels = location(&o.path);
            if let Some(key) = secret_key(o.container.as_deref()) {
                set(&mut labels, "secret_key", key);
            }
            labels.push(("serial_number".into(), decimal(&c.serial)));
            labels.push(("crl_number".into(), String::new()));
            for (prefix, dn) in [("issuer", &c.issuer), ("subject", &c.subject)] {
                let fields = dn_fields(dn);
                for f in DN_FIELDS {
                    labels.push((
                        format!("{prefix}_{f}"),
                        fields.get(f).cloned().unwrap_or_default(),
                    ));
                }
            }
            labels.push(("discriminator".into(), String::new()));
            if seen.insert(labels.clone()) {
                series.push(Series {
                    labels,
                    asset: Some(a),
                });
            }
        }
    }
    let mut by_labels: HashMap<Vec<(String, String)>, Vec<usize>> = HashMap::new();
    for (i, s) in series.iter().enumerate() {
        by_labels.entry(s.labels.clone()).or_default().push(i);
    }
    for idx in by_labels.values().filter(|v| v.len() > 1) {
        for &i in idx {
            let fp = series[i].asset.map_or("", |a| a.fingerprint.as_str());
            let hex = fp.strip_prefix("sha256:").unwrap_or(fp);
            set(
                &mut series[i].labels,
                "discriminator",
                &hex[..hex.len().min(16)],
            );
        }
    }

    /// (notBefore, notAfter, now) -> value.
    type Value = fn(i64, i64, i64) -> i64;
    let cert_metrics: [(&str, &str, Value); 5] = [
        (
            "x509_cert_not_after",
            "Unix timestamp of the certificate's NotAfter.",
            |_, na, _| na,
        ),
        (
            "x509_cert_not_before",
            "Unix timestamp of the certificate's NotBefore.",
            |nb, _, _| nb,
        ),
        (
            "x509_cert_expired",
            "1 if the certificate is expired at the scan's instant, 0 otherwise.",
            |_, na, now| i64::from(now > na),
        ),
        (
            "x509_cert_expires_in_seconds",
            "Seconds until NotAfter (negative once expired).",
            |_, na, now| na - now,
        ),
        (
            "x509_cert_valid_since_seconds",
            "Seconds since NotBefore (negative when not yet valid).",
            |nb, _, now| now - nb,
        ),
    ];
    for (name, help, value) in cert_metrics {
        header(&mut out, name, help, "gauge");
        for s in &series {
            let Some(c) = s.asset.and_then(|a| a.certificate.as_ref()) else {
                continue;
            };
            let nb = c.not_before.get().unix_timestamp();
            let na = c.not_after.get().unix_timestamp();
            sample(&mut out, name, &s.labels, value(nb, na, now) as f64);
        }
    }
    header(
        &mut out,
        "x509_cert_error",
        "1 if an item that should have been read failed (bad PEM, locked keystore, unreadable file), 0 otherwise.",
        "gauge",
    );
    for s in &series {
        sample(&mut out, "x509_cert_error", &s.labels, 0.0);
    }
    let mut error_labels = std::collections::BTreeSet::new();
    for e in &report.errors {
        let mut labels = location(&e.path);
        for n in ["serial_number", "crl_number"] {
            labels.push((n.into(), String::new()));
        }
        for prefix in ["issuer", "subject"] {
            for f in DN_FIELDS {
                labels.push((format!("{prefix}_{f}"), String::new()));
            }
        }
        labels.push(("discriminator".into(), String::new()));
        if error_labels.insert(labels.clone()) {
            sample(&mut out, "x509_cert_error", &labels, 1.0);
        }
    }

    // trustmap's own series.
    let mut findings: BTreeMap<(String, String, String, String), u64> = BTreeMap::new();
    for f in &report.findings {
        let owner = report
            .asset(&f.asset)
            .and_then(|a| a.owners.first())
            .map(|o| o.name.clone())
            .unwrap_or_default();
        let status = f.status();
        *findings
            .entry((
                f.rule.clone(),
                f.severity.as_str().into(),
                owner,
                status.into(),
            ))
            .or_default() += 1;
    }
    header(
        &mut out,
        "trustmap_findings",
        "Findings by rule, severity, owner (empty: unowned) and status (open, waived, baselined).",
        "gauge",
    );
    for ((rule, severity, owner, status), n) in &findings {
        let labels = pairs(&[
            ("rule", rule),
            ("severity", severity),
            ("owner", owner),
            ("status", status),
        ]);
        sample(&mut out, "trustmap_findings", &labels, *n as f64);
    }
    let mut assets: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut vulnerable: BTreeMap<String, u64> = BTreeMap::new();
    for a in &report.assets {
        let key = a
            .key
            .as_ref()
            .or(a.certificate.as_ref().map(|c| &c.public_key));
        let alg = key.map(|k| k.algorithm.clone()).unwrap_or_default();
        *assets.entry((a.kind.as_str().into(), alg)).or_default() += 1;
        if key.is_some_and(|k| quantum_vulnerable(&k.algorithm)) {
            *vulnerable.entry(a.kind.as_str().into()).or_default() += 1;
        }
    }
    header(
        &mut out,
        "trustmap_assets",
        "Assets by kind and key algorithm (empty for secrets and keystores).",
        "gauge",
    );
    for ((kind, alg), n) in &assets {
        let labels = pairs(&[("kind", kind), ("algorithm", alg)]);
        sample(&mut out, "trustmap_assets", &labels, *n as f64);
    }
    header(
        &mut out,
        "trustmap_quantum_vulnerable_assets",
        "Certificates and keys whose algorithm a quantum computer breaks (NIST IR 8547), by kind.",
        "gauge",
    );
    for (kind, n) in &vulnerable {
        let labels = pairs(&[("kind", kind)]);
        sample(
            &mut out,
            "trustmap_quantum_vulnerable_assets",
            &labels,
            *n as f64,
        );
    }
    let host = pairs(&[("host", &report.scan.host)]);
    let scalars: [(&str, &str, f64); 5] = [
        (
            "trustmap_scan_timestamp_seconds",
            "Unix time the scan started.",
            report.scan.started_at.get().unix_timestamp() as f64,
        ),
        (
            "trustmap_scan_duration_seconds",
            "How long the scan took.",
            report.scan.duration_ms as f64 / 1000.0,
        ),
        (
            "trustmap_scan_files",
            "Files the scan read.",
            report.scan.files_scanned as f64,
        ),
        (
            "trustmap_scan_bytes",
            "Bytes the scan read.",
            report.scan.bytes_scanned as f64,
        ),
        (
            "trustmap_scan_errors",
            "Files or objects the scan could not read or parse.",
            report.errors.len() as f64,
        ),
    ];
    for (name, help, v) in scalars {
        header(&mut out, name, help, "gauge");
        sample(&mut out, name, &host, v);
    }
    header(
        &mut out,
        "trustmap_build_info",
        "trustmap's version, always 1.",
        "gauge",
    );
    sample(
        &mut out,
        "trustmap_build_info",
        &pairs(&[("version", &ctx.version)]),
        1.0,
    );
    out
}

fn pairs(p: &[(&str, &String)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn set(labels: &mut [(String, String)], name: &str, value: &str) {
    if let Some(l) = labels.iter_mut().find(|(n, _)| n == name) {
        l.1 = value.to_string();
    }
}

/// The location labels of a file path (`filename` its last component).
fn location(path: &str) -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = LOCATION
        .iter()
        .map(|n| (n.to_string(), String::new()))
        .collect();
    let name = path.rsplit('/').next().unwrap_or(path);
    set(&mut labels, "filename", name);
    set(&mut labels, "filepath", path);
    labels
}

/// `data.tls.crt, base64` (a Kubernetes Secret's data entry): `tls.crt`.
fn secret_key(container: Option<&str>) -> Option<&str> {
    let c = container?;
    let route = c.split(',').next()?.trim();
    route
        .strip_prefix("data.")
        .or_else(|| route.strip_prefix("stringData."))
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(String, String)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", label_value(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

/// A label value escaped as the text format requires (`\\`, `\"`, `\n`); other control
/// characters (from scanned subjects) are written as the text `\xNN` so none reaches a
/// terminal or a dashboard raw.
pub fn label_value(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(s, "\\\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s
}

/// A hex serial number in decimal, as the exporter shows it. Hand-written long division:
/// serials are at most 20 bytes and no big-integer crate is needed for that.
pub fn decimal(hex: &str) -> String {
    let mut digits: Vec<u8> = Vec::new();
    for c in hex.chars() {
        let Some(v) = c.to_digit(16) else {
            return String::new();
        };
        // digits (little-endian base 10) = digits * 16 + v
        let mut carry = v;
        for d in digits.iter_mut() {
            let x = u32::from(*d) * 16 + carry;
            *d = (x % 10) as u8;
            carry = x / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    if digits.is_empty() {
        return if hex.is_empty() {
            String::new()
        } else {
            "0".into()
        };
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The attributes of an RFC 4514 distinguished name (as trustmap prints them): the first
/// value of each type. Hand-written: the escapes are `\` followed by a special character or
/// two hex digits, and only splitting on unescaped `,` and `+` is needed.
pub fn dn_fields(dn: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = dn.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' | '+' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let k = k.trim().to_ascii_uppercase();
        let k = match k.as_str() {
            "COMMONNAME" | "2.5.4.3" => "CN".to_string(),
            "S" | "STATEORPROVINCENAME" | "2.5.4.8" => "ST".to_string(),
            _ => k,
        };
        out.entry(k).or_insert_with(|| unescape(v.trim()));
    }
    out
}

fn unescape(v: &str) -> String {
    let mut bytes = Vec::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(x) => {
                    bytes.push(x);
                    i += 3;
                }
                None => {
                    bytes.push(b[i + 1]);
                    i += 2;
                }
            }
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_in_decimal() {
        assert_eq!(decimal("00"), "0");
        assert_eq!(decimal("0a"), "10");
        assert_eq!(decimal("ff"), "255");
        assert_eq!(decimal("0100"), "256");
        // 2^64 - 1 and 2^64: past u64.
        assert_eq!(decimal("ffffffffffffffff"), "18446744073709551615");
        assert_eq!(decimal("010000000000000000"), "18446744073709551616");
        assert_eq!(decimal("xyz"), "");
    }

    #[test]
    fn distinguished_names_split_on_unescaped_separators() {
        let f = dn_fields("CN=api.example.test,OU=Ops+OU=Dev,O=Chunghwa Telecom Co.\\, Ltd.,C=TW");
        assert_eq!(f["CN"], "api.example.test");
        assert_eq!(f["OU"], "Ops");
        assert_eq!(f["O"], "Chunghwa Telecom Co., Ltd.");
        assert_eq!(f["C"], "TW");
        assert_eq!(dn_fields("CN=caf\\C3\\A9")["CN"], "café");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label_value("x\u{1b}[2J"), "x\\\\x1b[2J");
    }
}
