//! Audit evidence: a report read against one framework's controls, as JSON
//! ([`evidence_json`]) and as a static HTML page ([`evidence_html`]).
//!
//! For each control the framework names that bears on certificates, keys and secrets (a
//! hand-kept table: id and short title from the framework's public text) the evidence gives
//! its status, the catalogue rules mapped to it (their `frameworks` tags, e.g.
//! `PCI-DSS-4.0:4.2.1.1`), the findings that bear on it (each finding's own tags decide,
//! exactly: a finding tagged `4.2.1.1` is not evidence for `4.2.1`), with waived findings
//! apart and their waivers, the number of assets of the kinds its rules examine, and for the
//! inventory controls (PCI DSS 4.2.1.1, CSF ID.AM-08) every certificate and key with id,
//! subject, expiry, algorithm and places. A tag of the framework that the table lacks becomes
//! a control of its own at the end, so nothing a finding says is dropped.
//!
//! Status: `findings-open` (an unwaived finding, baselined ones included: baselined means
//! known, not fixed), `no-open-findings` (rules assess it, none has an unwaived finding) or
//! `not-assessed` (no trustmap rule maps to it; the auditor needs other evidence).
//!
//! The header dates the answer: the scan (id, start, roots, host), the audit log's head
//! (`COUNT:HASH`) and whether its chain verified, when the evidence was generated and by which
//! version. Secrets appear as asset id and rule only, never value, preview or message. Pure and
//! deterministic: the same report and context give the same bytes.

use crate::html::escape_visible as esc;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::str::FromStr;
use trustmap_core::policy::RULES;
use trustmap_core::{Asset, AssetKind, Finding, Report};

/// A framework the evidence can be written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framework {
    /// PCI DSS v4.0 (`pci-dss-4.0`).
    PciDss40,
    /// NIST Cybersecurity Framework 2.0 (`nist-csf-2.0`).
    NistCsf20,
    /// OWASP Non-Human Identities Top 10, 2025 (`owasp-nhi`).
    OwaspNhi,
}

impl Framework {
    pub const ALL: [Framework; 3] = [
        Framework::PciDss40,
        Framework::NistCsf20,
        Framework::OwaspNhi,
    ];

    /// The name on the command line: `pci-dss-4.0`, `nist-csf-2.0`, `owasp-nhi`.
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::PciDss40 => "pci-dss-4.0",
            Framework::NistCsf20 => "nist-csf-2.0",
            Framework::OwaspNhi => "owasp-nhi",
        }
    }

    /// The framework's full name.
    pub fn title(self) -> &'static str {
        match self {
            Framework::PciDss40 => "PCI DSS v4.0",
            Framework::NistCsf20 => "NIST Cybersecurity Framework (CSF) 2.0",
            Framework::OwaspNhi => "OWASP Non-Human Identities Top 10 (2025)",
        }
    }

    /// The prefix of the catalogue's tags for it, up to and including the colon.
    pub fn tag_prefix(self) -> &'static str {
        match self {
            Framework::PciDss40 => "PCI-DSS-4.0:",
            Framework::NistCsf20 => "NIST-CSF-2.0:",
            Framework::OwaspNhi => "OWASP-NHI-2025:",
        }
    }

    /// The controls it names that bear on cryptographic material and credentials, in the
    /// framework's order: `(id, short title, inventory control)`.
    pub fn controls(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Framework::PciDss40 => PCI_DSS_40,
            Framework::NistCsf20 => NIST_CSF_20,
            Framework::OwaspNhi => OWASP_NHI_2025,
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Framework, String> {
        Framework::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown framework {s:?}: one of pci-dss-4.0, nist-csf-2.0, owasp-nhi")
            })
    }
}

/// PCI DSS v4.0 (March 2022), the requirements on keys, certificates, protocols and stored
/// credentials; titles shortened from the requirement text.
const PCI_DSS_40: &[(&str, &str, bool)] = &[
    (
        "3.6",
        "Cryptographic keys used to protect stored account data are secured",
        false,
    ),
    (
        "3.7",
        "Key-management processes and procedures covering all aspects of the key lifecycle are defined and implemented",
        false,
    ),
    (
        "4.2.1",
        "Strong cryptography and security protocols safeguard PAN in transit; only trusted keys and certificates are accepted, certificates are valid and not expired or revoked",
        false,
    ),
    (
        "4.2.1.1",
        "An inventory of the entity's trusted keys and certificates used to protect PAN during transmission is maintained",
        true,
    ),
    (
        "8.3.2",
        "Strong cryptography renders all authentication factors unreadable during transmission and storage",
        false,
    ),
    (
        "8.6.2",
        "Passwords/passphrases for application and system accounts are not hard coded in scripts, configuration/property files, or source code",
        false,
    ),
    (
        "12.3.3",
        "Cryptographic cipher suites and protocols in use are documented and reviewed at least once every 12 months",
        false,
    ),
];

/// NIST CSF 2.0 (February 2024) subcategories; titles are the subcategory text.
const NIST_CSF_20: &[(&str, &str, bool)] = &[
    (
        "GV.OC-03",
        "Legal, regulatory, and contractual requirements regarding cybersecurity are understood and managed",
        false,
    ),
    (
        "GV.RR-02",
        "Roles, responsibilities, and authorities related to cybersecurity risk management are established, communicated, understood, and enforced",
        false,
    ),
    (
        "ID.AM-01",
        "Inventories of hardware managed by the organization are maintained",
        false,
    ),
    (
        "ID.AM-02",
        "Inventories of software, services, and systems managed by the organization are maintained",
        false,
    ),
    (
        "ID.AM-07",
        "Inventories of data and corresponding metadata for designated data types are maintained",
        false,
    ),
    (
        "ID.AM-08",
        "Systems, hardware, software, services, and data are managed throughout their life cycles",
        true,
    ),
    (
        "ID.RA-01",
        "Vulnerabilities in assets are identified, validated, and recorded",
        false,
    ),
    (
        "PR.AA-01",
        "Identities and credentials for authorized users, services, and hardware are managed by the organization",
        false,
    ),
    (
        "PR.AA-03",
        "Users, services, and hardware are authenticated",
        false,
    ),
    (
        "PR.DS-01",
        "The confidentiality, integrity, and availability of data-at-rest are protected",
        false,
    ),
    (
        "PR.DS-02",
        "The confidentiality, integrity, and availability of data-in-transit are protected",
        false,
    ),
    (
        "PR.PS-01",
        "Configuration management practices are established and applied",
        false,
    ),
    (
        "DE.CM-09",
        "Computing hardware and software, runtime environments, and their data are monitored to find potentially adverse events",
        false,
    ),
];

/// OWASP Non-Human Identities Top 10 (2025).
const OWASP_NHI_2025: &[(&str, &str, bool)] = &[
    ("NHI1", "Improper Offboarding", false),
    ("NHI2", "Secret Leakage", false),
    ("NHI3", "Vulnerable Third-Party NHI", false),
    ("NHI4", "Insecure Authentication", false),
    ("NHI5", "Overprivileged NHI", false),
    ("NHI6", "Insecure Cloud Deployment Configurations", false),
    ("NHI7", "Long-Lived Secrets", false),
    ("NHI8", "Environment Isolation", false),
    ("NHI9", "NHI Reuse", false),
    ("NHI10", "Human Use of NHI", false),
];

/// What the evidence needs besides the report (the exporters' [`Context`](crate::Context),
/// plus the audit log).
#[derive(Debug, Clone, Copy)]
pub struct EvidenceContext<'a> {
    /// When the evidence is generated.
    pub now: time::OffsetDateTime,
    /// trustmap's version.
    pub version: &'a str,
    /// The audit log's head as `trustmap audit` prints it, `COUNT:HASH`, when there is a log.
    pub audit_head: Option<&'a str>,
    /// Whether the audit log's hash chain verified (`None`: not checked).
    pub audit_intact: Option<bool>,
}

/// The evidence as JSON (pretty, markup and invisible characters escaped like the other JSON
/// formats).
pub fn evidence_json(report: &Report, fw: Framework, ctx: &EvidenceContext) -> String {
    crate::json::to_text(&build(report, fw, ctx))
}

/// The evidence as one static HTML page: no script, no fetch, every value escaped.
pub fn evidence_html(report: &Report, fw: Framework, ctx: &EvidenceContext) -> String {
    html(&build(report, fw, ctx))
}

#[derive(Serialize)]
struct Evidence<'a> {
    evidence_format: &'static str,
    framework: FrameworkOut,
    generated_at: String,
    trustmap_version: &'a str,
    scan: ScanOut<'a>,
    audit: AuditOut<'a>,
    inventory: BTreeMap<&'static str, usize>,
    summary: BTreeMap<&'static str, usize>,
    controls: Vec<Control<'a>>,
}

#[derive(Serialize)]
struct FrameworkOut {
    id: &'static str,
    title: &'static str,
    tag_prefix: &'static str,
}

#[derive(Serialize)]
struct ScanOut<'a> {
    id: &'a str,
    started_at: String,
    roots: &'a [String],
    host: &'a str,
    files_scanned: u64,
    policy: Option<&'a str>,
}

#[derive(Serialize)]
struct AuditOut<'a> {
    head: Option<&'a str>,
    entries: Option<u64>,
    hash: Option<&'a str>,
    verified: Option<bool>,
}

#[derive(Serialize)]
struct Control<'a> {
    id: String,
    tag: String,
    title: &'static str,
    status: &'static str,
    rules: Vec<RuleOut>,
    findings: Vec<FindingOut<'a>>,
    waived: Vec<FindingOut<'a>>,
    examined: BTreeMap<&'static str, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<Vec<InventoryItem<'a>>>,
}

#[derive(Serialize)]
struct RuleOut {
    id: String,
    severity: &'static str,
    description: String,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'a str,
    severity: &'static str,
    asset: &'a str,
    kind: &'static str,
    path: Option<&'a str>,
    line: Option<u64>,
    /// The finding's message; none for secrets (it may quote the redacted value).
    message: Option<&'a str>,
    baselined: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<WaiverOut<'a>>,
}

#[derive(Serialize)]
struct WaiverOut<'a> {
    by: &'a str,
    reason: &'a str,
    until: String,
}

#[derive(Serialize)]
struct InventoryItem<'a> {
    id: &'a str,
    kind: &'static str,
    subject: Option<&'a str>,
    issuer: Option<&'a str>,
    not_after: Option<String>,
    algorithm: String,
    places: Vec<String>,
    owners: Vec<&'a str>,
}

fn kind_str(k: AssetKind) -> &'static str {
    k.as_str()
}

fn algorithm(a: &Asset) -> String {
    let Some(k) = a
        .key
        .as_ref()
        .or(a.certificate.as_ref().map(|c| &c.public_key))
    else {
        return String::new();
    };
    match (&k.curve, k.bits) {
        (Some(c), _) => format!("{} {c}", k.algorithm),
        (None, Some(b)) => format!("{} {b}", k.algorithm),
        _ => k.algorithm.clone(),
    }
}

fn place(o: &trustmap_core::Occurrence) -> String {
    match o.line {
        Some(l) => format!("{}:{l}", o.path),
        None => o.path.clone(),
    }
}

fn finding_out<'a>(f: &'a Finding, assets: &BTreeMap<&str, &'a Asset>) -> FindingOut<'a> {
    let kind = assets.get(f.asset.as_str()).map(|a| a.kind);
    FindingOut {
        rule: &f.rule,
        severity: f.severity.as_str(),
        asset: &f.asset,
        kind: kind.map(kind_str).unwrap_or("unknown"),
        path: f.path.as_deref(),
        line: f.line,
        message: (kind != Some(AssetKind::Secret)).then_some(f.message.as_str()),
        baselined: f.baselined,
        waiver: f.waiver.as_ref().map(|w| WaiverOut {
            by: &w.by,
            reason: &w.reason,
            until: w.until.to_string(),
        }),
    }
}

fn build<'a>(report: &'a Report, fw: Framework, ctx: &EvidenceContext<'a>) -> Evidence<'a> {
    let prefix = fw.tag_prefix();
    let assets: BTreeMap<&str, &Asset> = report.assets.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    for a in &report.assets {
        *by_kind.entry(kind_str(a.kind)).or_default() += 1;
    }

    // Controls: the table's, then tags of this framework that findings or rules carry and the
    // table lacks.
    let mut ids: Vec<(String, &'static str, bool)> = fw
        .controls()
        .iter()
        .map(|(id, title, inv)| (id.to_string(), *title, *inv))
        .collect();
    let extra: BTreeSet<&str> = RULES
        .iter()
        .flat_map(|r| r.frameworks.iter().copied())
        .chain(
            report
                .findings
                .iter()
                .flat_map(|f| f.frameworks.iter().map(String::as_str)),
        )
        .filter_map(|t| t.strip_prefix(prefix))
        .filter(|id| !id.is_empty() && !fw.controls().iter().any(|c| c.0 == *id))
        .collect();
    ids.extend(
        extra
            .into_iter()
            .map(|id| (id.to_string(), "(not in trustmap's control list)", false)),
    );

    let mut findings_sorted: Vec<&Finding> = report.findings.iter().collect();
    findings_sorted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.asset.cmp(&b.asset))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.line.cmp(&b.line))
    });

    let controls: Vec<Control> = ids
        .into_iter()
        .map(|(id, title, inventory_control)| {
            let tag = format!("{prefix}{id}");
            let mapped: Vec<_> = RULES
                .iter()
                .filter(|r| r.frameworks.contains(&tag.as_str()))
                .collect();
            let mut rules: Vec<RuleOut> = mapped
                .iter()
                .map(|r| RuleOut {
                    id: r.id.as_str().to_string(),
                    severity: r.severity.as_str(),
                    description: r.description.to_string(),
                })
                .collect();
            let tagged: Vec<&Finding> = findings_sorted
                .iter()
                .copied()
                .filter(|f| f.frameworks.contains(&tag))
                .collect();
            // Rules outside the catalogue (X.509 lints, Rego) that raised a finding here.
            let others: BTreeSet<&str> = tagged
                .iter()
                .map(|f| f.rule.as_str())
                .filter(|r| !rules.iter().any(|x| x.id == *r))
                .collect();
            for r in others {
                let sev = tagged
                    .iter()
                    .filter(|f| f.rule == r)
                    .map(|f| f.severity)
                    .max();
                rules.push(RuleOut {
                    id: r.to_string(),
                    severity: sev.map(|s| s.as_str()).unwrap_or("info"),
                    description: if r.starts_with("x509-") {
                        "X.509 certificate profile lint (RFC 5280, CA/Browser Forum BR)".to_string()
                    } else {
                        "rule outside the built-in catalogue".to_string()
                    },
                });
            }
            let (waived, open): (Vec<&Finding>, Vec<&Finding>) =
                tagged.iter().partition(|f| f.waiver.is_some());
            let status = if !open.is_empty() {
                "findings-open"
            } else if !rules.is_empty() {
                "no-open-findings"
            } else {
                "not-assessed"
            };
            let kinds: BTreeSet<AssetKind> = mapped
                .iter()
                .flat_map(|r| r.kinds.iter().copied())
                .collect();
            let examined = kinds
                .into_iter()
                .map(|k| (kind_str(k), *by_kind.get(kind_str(k)).unwrap_or(&0)))
                .collect();
            let inventory = inventory_control.then(|| inventory_list(report));
            Control {
                id,
                tag,
                title,
                status,
                rules,
                findings: open.iter().map(|f| finding_out(f, &assets)).collect(),
                waived: waived.iter().map(|f| finding_out(f, &assets)).collect(),
                examined,
                inventory,
            }
        })
        .collect();

    let mut summary = BTreeMap::new();
    summary.insert("controls", controls.len());
    for s in ["findings-open", "no-open-findings", "not-assessed"] {
        summary.insert(s, controls.iter().filter(|c| c.status == s).count());
    }
    let (entries, hash) = match ctx.audit_head.and_then(|h| h.split_once(':')) {
        Some((n, h)) => (n.parse().ok(), Some(h)),
        None => (None, None),
    };
    Evidence {
        evidence_format: "trustmap-evidence/1",
        framework: FrameworkOut {
            id: fw.as_str(),
            title: fw.title(),
            tag_prefix: prefix,
        },
        generated_at: trustmap_core::rfc3339(ctx.now),
        trustmap_version: ctx.version,
        scan: ScanOut {
            id: &report.scan.id,
            started_at: report.scan.started_at.to_string(),
            roots: &report.scan.roots,
            host: &report.scan.host,
            files_scanned: report.scan.files_scanned,
            policy: report.scan.policy.as_deref(),
        },
        audit: AuditOut {
            head: ctx.audit_head,
            entries,
            hash,
            verified: ctx.audit_intact,
        },
        inventory: by_kind,
        summary,
        controls,
    }
}

/// Every certificate and key, by kind then id.
fn inventory_list(report: &Report) -> Vec<InventoryItem<'_>> {
    let mut v: Vec<InventoryItem> = report
        .assets
        .iter()
        .filter(|a| {
            matches!(
                a.kind,
                AssetKind::Certificate | AssetKind::PrivateKey | AssetKind::PublicKey
            )
        })
        .map(|a| InventoryItem {
            id: &a.id,
            kind: kind_str(a.kind),
            subject: a.certificate.as_ref().map(|c| c.subject.as_str()),
            issuer: a.certificate.as_ref().map(|c| c.issuer.as_str()),
            not_after: a.certificate.as_ref().map(|c| c.not_after.to_string()),
            algorithm: algorithm(a),
            places: a.occurrences.iter().map(place).collect(),
            owners: a.owners.iter().map(|o| o.name.as_str()).collect(),
        })
        .collect();
    v.sort_by(|a, b| a.kind.cmp(b.kind).then_with(|| a.id.cmp(b.id)));
    v
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;margin:24px;max-width:1200px}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px;border-top:1px solid #d9dde5;padding-top:14px}\
h3{font-size:14px;margin:12px 0 4px}table{border-collapse:collapse;width:100%;margin:4px 0 8px}\
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #e3e6ec;vertical-align:top;word-break:break-word}\
th{background:#f3f4f7;white-space:nowrap}code{font-size:12px}.muted{color:#5b6475}\
.status{display:inline-block;white-space:nowrap;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}\
.findings-open{background:#fbe3e0;color:#8b0000}.no-open-findings{background:#e2f3e5;color:#1e6b30}\
.not-assessed{background:#eceef2;color:#5b6475}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}\
dt{color:#5b6475}dd{margin:0}@media print{h2{break-before:auto}}";

fn status_text(s: &str) -> &'static str {
    match s {
        "findings-open" => "findings open",
        "no-open-findings" => "no open findings",
        _ => "not assessed by trustmap",
    }
}

fn findings_table(out: &mut String, list: &[FindingOut], waived: bool) {
    out.push_str(
        "<table><thead><tr><th>Severity</th><th>Rule</th><th>Asset</th><th>Place</th><th>",
    );
    out.push_str(if waived { "Waiver" } else { "Message" });
    out.push_str("</th></tr></thead><tbody>\n");
    for f in list {
        let place = match (f.path, f.line) {
            (Some(p), Some(l)) => format!("{p}:{l}"),
            (Some(p), None) => p.to_string(),
            _ => String::new(),
        };
        let last = match (&f.waiver, waived) {
            (Some(w), true) => format!("{} (by {}, until {})", w.reason, w.by, w.until),
            _ => {
                let mut m = f.message.unwrap_or("").to_string();
                if f.baselined {
                    m.push_str(" (baselined)");
                }
                m
            }
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code> {}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(f.severity),
            esc(f.rule),
            esc(f.asset),
            esc(f.kind),
            esc(&place),
            esc(&last)
        );
    }
    out.push_str("</tbody></table>\n");
}

fn html(e: &Evidence) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{} evidence: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(e.framework.title),
        esc(e.scan.id)
    );
    let _ = writeln!(o, "<h1>Audit evidence: {}</h1>", esc(e.framework.title));
    let audit = match (e.audit.head, e.audit.verified) {
        (Some(h), Some(true)) => format!("{h} (hash chain verified)"),
        (Some(h), Some(false)) => format!("{h} (hash chain DID NOT VERIFY)"),
        (Some(h), None) => format!("{h} (not verified)"),
        (None, _) => "no audit log".to_string(),
    };
    o.push_str("<dl id=\"header\">\n");
    for (k, v) in [
        (
            "Framework",
            format!("{} ({})", e.framework.title, e.framework.id),
        ),
        ("Scan", e.scan.id.to_string()),
        ("Scan started", e.scan.started_at.clone()),
        ("Roots", e.scan.roots.join(", ")),
        ("Host", e.scan.host.to_string()),
        ("Policy", e.scan.policy.unwrap_or("built-in").to_string()),
        ("Audit log head", audit),
        ("Generated", e.generated_at.clone()),
        ("trustmap", e.trustmap_version.to_string()),
    ] {
        let _ = writeln!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    o.push_str("</dl>\n");
    let inv: Vec<String> = e
        .inventory
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let _ = writeln!(
        o,
        "<p id=\"summary\">{} controls: {} with findings open, {} with no open findings, {} not assessed by trustmap. Inventory: {}.</p>",
        e.summary["controls"],
        e.summary["findings-open"],
        e.summary["no-open-findings"],
        e.summary["not-assessed"],
        esc(&if inv.is_empty() {
            "nothing".to_string()
        } else {
            inv.join(", ")
        })
    );
    o.push_str("<table id=\"controls\"><thead><tr><th>Control</th><th>Status</th><th>Open findings</th><th>Waived</th></tr></thead><tbody>\n");
    for c in &e.controls {
        let _ = writeln!(
            o,
            "<tr><td><a href=\"#control-{}\">{}</a> {}</td><td><span class=\"status {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
            esc(&c.id),
            esc(&c.id),
            esc(c.title),
            c.status,
            status_text(c.status),
            c.findings.len(),
            c.waived.len()
        );
    }
    o.push_str("</tbody></table>\n");
    for c in &e.controls {
        let _ = writeln!(
            o,
            "<section class=\"control\" id=\"control-{}\" data-status=\"{}\">\n<h2>{} {} <span class=\"status {}\">{}</span></h2>",
            esc(&c.id),
            c.status,
            esc(&c.id),
            esc(c.title),
            c.status,
            status_text(c.status)
        );
        if c.rules.is_empty() {
            o.push_str("<p class=\"muted\">No trustmap rule maps to this control: other evidence is needed.</p>\n");
        } else {
            o.push_str("<h3>Rules</h3><ul class=\"rules\">\n");
            for r in &c.rules {
                let _ = writeln!(
                    o,
                    "<li><code>{}</code> ({}): {}</li>",
                    esc(&r.id),
                    esc(r.severity),
                    esc(&r.description)
                );
            }
            o.push_str("</ul>\n");
            let ex: Vec<String> = c.examined.iter().map(|(k, n)| format!("{n} {k}")).collect();
            if !ex.is_empty() {
                let _ = writeln!(
                    o,
                    "<p class=\"examined\">Examined: {}.</p>",
                    esc(&ex.join(", "))
                );
            }
        }
        if !c.rules.is_empty() || !c.findings.is_empty() {
            let _ = writeln!(o, "<h3>Findings ({})</h3>", c.findings.len());
        }
        if !c.findings.is_empty() {
            o.push_str("<div class=\"findings\">");
            findings_table(&mut o, &c.findings, false);
            o.push_str("</div>\n");
        }
        if !c.waived.is_empty() {
            let _ = writeln!(
                o,
                "<h3>Waived ({})</h3><div class=\"waived\">",
                c.waived.len()
            );
            findings_table(&mut o, &c.waived, true);
            o.push_str("</div>\n");
        }
        if let Some(items) = &c.inventory {
            let _ = writeln!(
                o,
                "<h3>Inventory of certificates and keys ({})</h3>",
                items.len()
            );
            o.push_str("<table class=\"inventory\"><thead><tr><th>Id</th><th>Kind</th><th>Subject</th><th>Not after</th><th>Algorithm</th><th>Places</th><th>Owners</th></tr></thead><tbody>\n");
            for i in items {
                let _ = writeln!(
                    o,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(i.id),
                    esc(i.kind),
                    esc(i.subject.unwrap_or("")),
                    esc(i.not_after.as_deref().unwrap_or("")),
                    esc(&i.algorithm),
                    i.places
                        .iter()
                        .map(|p| esc(p))
                        .collect::<Vec<_>>()
                        .join("<br>"),
                    esc(&i.owners.join(", "))
                );
            }
            o.push_str("</tbody></table>\n");
        }
        o.push_str("</section>\n");
    }
    o.push_str("</body>\n</html>\n");
    o
}
