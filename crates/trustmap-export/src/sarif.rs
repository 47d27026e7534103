//! SARIF 2.1.0 for code scanning (`trustmap scan --format sarif`), within GitHub code
//! scanning's documented limits.
//!
//! The mapping:
//! - one run, tool `trustmap`; `automationDetails.id` is `trustmap/<scan id>` (category
//!   `trustmap`, run id the scan's);
//! - rules: every rule of the catalogue (`policy::RULES`), then the other ids that have
//!   findings, by id: reserved built-in rules (endpoints), X.509 lints, custom Rego rules; each with
//!   a short and a full description (at most [`MAX_DESCRIPTION`] characters), `help` as text
//!   and markdown, tags `security` and `cryptography`, `precision`, and
//!   `security-severity` (a string, see [`security_severity`]) from the highest severity the
//!   rule has in this report (the catalogue's default when it has no finding);
//! - results: one per finding that is not waived and has a file. A finding under an active
//!   waiver is not a result (GitHub then closes its alert; `trustmap waivers` lists it); their
//!   count is a notification. A baselined finding is a result with `baselineState:
//!   "unchanged"` (it still exists, so its alert stays open); when the report used a baseline
//!   the others are `"new"`. `level`: critical and high -> error, medium -> warning, low and
//!   info -> note. The location is the repository-relative path (see [`repository_path`]),
//!   percent-encoded as a URI reference under `%SRCROOT%`, and the line (1 for binary files,
//!   which have none);
//! - findings with no file (endpoints: their place is `host:port`) cannot be shown by code
//!   scanning, which needs a file location: each becomes a tool execution notification naming
//!   the rule, the asset and the place, at the result's level;
//! - fingerprints ([`fingerprint`]): a hash of the rule id, the asset's identity and the
//!   repository-relative path, never the scanned root, the host, the scan id or the line, so
//!   an alert survives a scan from another checkout directory, another machine, or a later
//!   scan of the same repository from git history or an image;
//! - limits: at most [`MAX_RESULTS`] (25,000) results and [`MAX_GZIP_BYTES`] (10 MB) gzipped;
//!   past either, the most severe results are kept (the report's order within a severity),
//!   the rest are left out and a warning notification says how many and why.
//!
//! Text from scanned files (subjects, paths) reaches messages: control characters in
//! messages are made visible (`\u{1b}`), paths are percent-encoded, and the JSON text escapes
//! markup (see `json.rs`).

use crate::Context;
use crate::json::{to_text, truncate};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write as _;
use trustmap_core::policy::{RULES, rule};
use trustmap_core::{Asset, AssetKind, Finding, Report, Severity};

/// The `$schema` written into the log.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// GitHub code scanning accepts at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub code scanning accepts a SARIF file of at most 10 MB gzipped.
pub const MAX_GZIP_BYTES: usize = 10 * 1000 * 1000;
/// GitHub limits rule descriptions to 1,000 characters (and rejects 1,024 or more).
pub const MAX_DESCRIPTION: usize = 1000;
/// The key of trustmap's own fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "trustmap/v1";

/// The limits a rendering keeps within; [`Limits::GITHUB`] unless a test needs smaller ones.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_results: usize,
    pub max_gzip_bytes: usize,
}

impl Limits {
    /// GitHub code scanning's documented upload limits.
    pub const GITHUB: Limits = Limits {
        max_results: MAX_RESULTS,
        max_gzip_bytes: MAX_GZIP_BYTES,
    };
}

/// The report as SARIF 2.1.0, within GitHub's limits.
pub fn render(report: &Report, ctx: &Context) -> String {
    render_with(report, ctx, Limits::GITHUB)
}

/// The report as SARIF 2.1.0 within `limits`.
pub fn render_with(report: &Report, ctx: &Context, limits: Limits) -> String {
    let plan = Plan::new(report);
    // The most severe first (stable: the report's order within a severity).
    let mut order: Vec<usize> = (0..plan.results.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(plan.results[i].finding.severity));
    let mut keep = order.len().min(limits.max_results);
    loop {
        let mut kept: Vec<usize> = order[..keep].to_vec();
        kept.sort_unstable();
        let text = to_text(&plan.log(report, ctx, &kept, limits));
        if keep == 0 || text.len() <= limits.max_gzip_bytes.saturating_sub(64 * 1024) {
            return text;
        }
        let size = gzip_len(&text);
        if size <= limits.max_gzip_bytes {
            return text;
        }
        // Shrink in proportion to the excess, and by at least one result.
        let target = (keep as f64 * limits.max_gzip_bytes as f64 / size as f64 * 0.95) as usize;
        keep = target.min(keep - 1);
    }
}

/// Bytes of `text` gzipped at the default level, as the upload sends it.
pub fn gzip_len(text: &str) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    gz.write_all(text.as_bytes()).expect("in memory");
    gz.finish().expect("in memory").len()
}

/// GitHub's `security-severity` for a trustmap severity: critical 9.5, high 8.0, medium 5.5,
/// low 3.0, info 1.0 (GitHub reads over 9.0 as critical, 7.0-8.9 high, 4.0-6.9 medium, 3.9
/// or less low; it has no "info", which shows as low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The path of a finding relative to the repository it was found in, forward slashes.
///
/// Finding paths are relative to the scanned root (with several roots, prefixed by the root
/// as given). The root itself is added back when it is a relative path inside the working
/// directory (`trustmap scan config` from the checkout gives `config/tls.crt`, as
/// `trustmap scan .` does); an absolute root, or one that leaves the working directory, is
/// taken as the repository root. So the same repository scanned from `/tmp/a/repo` or
/// `/srv/b/repo`, on any host, gives the same paths.
pub fn repository_path(path: &str, asset: Option<&Asset>) -> String {
    let root = asset.and_then(|a| {
        a.occurrences
            .iter()
            .find(|o| o.path == path)
            .and_then(|o| o.root.as_deref())
    });
    let Some(root) = root else {
        return path.to_string();
    };
    let root = root.trim_end_matches('/');
    // With several roots the path starts with the root as given.
    let rel = path
        .strip_prefix(root)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(path);
    let clean: Vec<&str> = root
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let relative_inside = !root.starts_with('/') && !root.contains(':') && !clean.contains(&"..");
    if !relative_inside || clean.is_empty() {
        return rel.to_string();
    }
    let root = clean.join("/");
    // A root that is a file: the path is its file name.
    if root == rel || root.ends_with(&format!("/{rel}")) {
        return root;
    }
    format!("{root}/{rel}")
}

/// What identifies an asset across scans and inventories: its id (the SHA-256 of the
/// material), except for secrets, whose fingerprints are keyed per inventory: for them the
/// detection rule and the redacted preview the report already shows.
pub fn asset_identity(finding: &Finding, asset: Option<&Asset>) -> String {
    match asset {
        Some(a) if a.kind == AssetKind::Secret => match &a.secret {
            Some(s) => format!("secret:{}:{}", s.rule, s.redacted),
            None => "secret".to_string(),
        },
        _ => finding.asset.clone(),
    }
}

/// The stable fingerprint of a finding: lowercase hex of SHA-256 over
/// `trustmap-sarif-v1`, the rule id, the asset identity ([`asset_identity`]) and the
/// repository-relative path ([`repository_path`]), NUL-separated; the first 32 digits.
pub fn fingerprint(rule: &str, identity: &str, path: &str) -> String {
    let mut h = Sha256::new();
    for part in ["trustmap-sarif-v1", rule, identity, path] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())[..32].to_string()
}

/// Text shown to people: control characters (C0, DEL, C1) and bidirectional overrides become
/// visible `\u{..}` escapes.
pub(crate) fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || crate::json::needs_escape(c) && !matches!(c, '<' | '>' | '&') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A path as a URI reference: every byte outside the unreserved set, `/` and the sub-delims
/// allowed in a path is percent-encoded (`:` too, so `a:b.pem` is not read as a scheme).
pub(crate) fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One finding that becomes a result.
struct Candidate<'a> {
    finding: &'a Finding,
    rule_index: usize,
    path: String,
    fingerprint: String,
}

/// Everything but the choice of which results fit: rules, candidates, notifications.
struct Plan<'a> {
    rules: Vec<RuleOut>,
    results: Vec<Candidate<'a>>,
    fileless: Vec<Notification>,
    waived: usize,
    baseline_used: bool,
}

impl<'a> Plan<'a> {
    fn new(report: &'a Report) -> Plan<'a> {
        let assets: BTreeMap<&str, &Asset> =
            report.assets.iter().map(|a| (a.id.as_str(), a)).collect();
        let rules = rules(report, &assets);
        let index: BTreeMap<&str, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let mut results = Vec::new();
        let mut fileless = Vec::new();
        let mut waived = 0;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for f in &report.findings {
            if f.waiver.is_some() {
                waived += 1;
                continue;
            }
            let asset = assets.get(f.asset.as_str()).copied();
            let rule_index = index[f.rule.as_str()];
            let has_file = asset.is_none_or(|a| a.kind != AssetKind::Endpoint);
            let Some(path) = f.path.as_deref().filter(|_| has_file) else {
                let place = f.path.as_deref().unwrap_or("no place");
                fileless.push(Notification {
                    level: level(f.severity),
                    message: Text::plain(format!(
                        "{} ({}) on {} at {}: {}",
                        f.rule,
                        f.severity.as_str(),
                        f.asset,
                        visible(place),
                        visible(&f.message)
                    )),
                    associated_rule: Some(RuleRef {
                        id: f.rule.clone(),
                        index: rule_index,
                    }),
                });
                continue;
            };
            let path = repository_path(path, asset);
            let base = fingerprint(&f.rule, &asset_identity(f, asset), &path);
            // The same rule, asset identity and path twice (two secrets with one preview in
            // one file): numbered in report order, as GitHub numbers its line hashes.
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            results.push(Candidate {
                finding: f,
                rule_index,
                path,
                fingerprint: format!("{base}:{n}"),
            });
        }
        Plan {
            rules,
            results,
            fileless,
            waived,
            baseline_used: report.findings.iter().any(|f| f.baselined),
        }
    }

    fn log(&self, report: &Report, ctx: &Context, kept: &[usize], limits: Limits) -> Log {
        let results: Vec<ResultOut> = kept
            .iter()
            .map(|&i| self.result(&self.results[i]))
            .collect();
        let mut notes = self.fileless.clone();
        if self.waived > 0 {
            notes.push(Notification::note(format!(
                "{} waived finding(s) are not results (`trustmap waivers` lists them)",
                self.waived
            )));
        }
        let left_out = self.results.len() - kept.len();
        if left_out > 0 {
            notes.push(Notification {
                level: "warning",
                message: Text::plain(format!(
                    "{left_out} of {} results left out to stay within GitHub code scanning's \
                     limits ({} results a run, {} bytes gzipped): the most severe are kept; \
                     the JSON report (--format json) has every finding",
                    self.results.len(),
                    limits.max_results,
                    limits.max_gzip_bytes
                )),
                associated_rule: None,
            });
        }
        let version = ctx.version.clone();
        Log {
            schema: SCHEMA_URI,
            version: "2.1.0",
            runs: vec![Run {
                tool: Tool {
                    driver: Driver {
                        name: "trustmap",
                        full_name: format!("trustmap {version}"),
                        semantic_version: version.clone(),
                        version,
                        rules: self.rules.clone(),
                    },
                },
                automation_details: AutomationDetails {
                    id: format!("trustmap/{}", report.scan.id),
                },
                invocations: vec![Invocation {
                    execution_successful: true,
                    start_time_utc: report.scan.started_at.to_string(),
                    tool_execution_notifications: notes,
                }],
                column_kind: "unicodeCodePoints",
                results,
                properties: RunProperties {
                    scan_id: report.scan.id.clone(),
                    findings: report.findings.len(),
                    results_left_out: left_out,
                    waived: self.waived,
                    without_file: self.fileless.len(),
                },
            }],
        }
    }

    fn result(&self, c: &Candidate<'_>) -> ResultOut {
        let f = c.finding;
        ResultOut {
            rule_id: f.rule.clone(),
            rule_index: c.rule_index,
            level: level(f.severity),
            message: Text::plain(visible(&f.message)),
            locations: vec![Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation {
                        uri: uri_path(&c.path),
                        uri_base_id: "%SRCROOT%",
                    },
                    region: Region {
                        start_line: f.line.filter(|l| *l > 0).unwrap_or(1),
                    },
                },
            }],
            partial_fingerprints: BTreeMap::from([
                ("primaryLocationLineHash", c.fingerprint.clone()),
                (FINGERPRINT_KEY, c.fingerprint.clone()),
            ]),
            baseline_state: if f.baselined {
                Some("unchanged")
            } else if self.baseline_used {
                Some("new")
            } else {
                None
            },
            properties: ResultProperties {
                severity: f.severity.as_str(),
                asset: f.asset.clone(),
                frameworks: f.frameworks.clone(),
            },
        }
    }
}

/// The rule descriptors: the catalogue in order, then the other ids of the findings by id.
fn rules(report: &Report, assets: &BTreeMap<&str, &Asset>) -> Vec<RuleOut> {
    // The highest severity each rule has in this report.
    let mut worst: BTreeMap<&str, Severity> = BTreeMap::new();
    for f in &report.findings {
        let w = worst.entry(f.rule.as_str()).or_insert(f.severity);
        *w = (*w).max(f.severity);
    }
    let mut out: Vec<RuleOut> = RULES
        .iter()
        .map(|r| {
            let id = r.id.as_str();
            let severity = worst.get(id).copied().unwrap_or(r.severity).max(r.severity);
            let frameworks = r.frameworks.join(", ");
            let text = format!(
                "{}\n\n{}\n\nFrameworks: {}\nAsset kinds: {}\nWaive an accepted exception: \
                 trustmap waive {id} ASSET_ID --reason TEXT --until DATE --by NAME",
                r.description,
                r.rationale,
                if frameworks.is_empty() {
                    "none"
                } else {
                    &frameworks
                },
                r.kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            let markdown = format!(
                "**{}**\n\n{}\n\n**Frameworks:** {}\n\n**Asset kinds:** {}\n\nAn accepted \
                 exception is waived with `trustmap waive {id} ASSET_ID --reason TEXT --until \
                 DATE --by NAME`.",
                md(r.description),
                md(r.rationale),
                if frameworks.is_empty() {
                    "none".into()
                } else {
                    md(&frameworks)
                },
                r.kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            rule_out(
                id,
                r.description,
                r.rationale,
                severity,
                text,
                markdown,
                r.kinds.iter().map(|k| k.as_str().to_string()).collect(),
            )
        })
        .collect();
    // X.509 lints and Rego rules: by id, described from their findings.
    let mut others: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &report.findings {
        if rule(&f.rule).is_none() {
            others.entry(f.rule.as_str()).or_insert(f);
        }
    }
    for (id, f) in others {
        let severity = worst[id];
        if f.evidence.get("lint").map(String::as_str) == Some(id) || id.starts_with("x509-") {
            let what = lint_description(f, assets.get(f.asset.as_str()).copied())
                .unwrap_or_else(|| format!("The certificate violates X.509 lint {id}."));
            let full = format!(
                "{what} An X.509 certificate profile check (RFC 5280, CA/Browser Forum \
                 Baseline Requirements); `trustmap rules` lists every lint with its citation."
            );
            let text = format!(
                "{full}\n\nWaive an accepted exception: trustmap waive {id} ASSET_ID --reason \
                 TEXT --until DATE --by NAME"
            );
            let markdown = format!(
                "{}\n\nAn accepted exception is waived with `trustmap waive {} ASSET_ID \
                 --reason TEXT --until DATE --by NAME`.",
                md(&full),
                md(id)
            );
            out.push(rule_out(
                id,
                &what,
                &full,
                severity,
                text,
                markdown,
                vec!["x509-lint".into(), "certificate".into()],
            ));
        } else if trustmap_core::RuleId::parse(id).is_some() {
            // Reserved for a scanner that has not landed (endpoint rules): no catalogue entry.
            let short = format!("Built-in rule {id}");
            let full = format!(
                "The built-in trustmap rule {id}; `trustmap rules` describes the rules of this \
                 version."
            );
            let text = format!(
                "{full}\n\nWaive an accepted exception: trustmap waive {id} ASSET_ID --reason \
                 TEXT --until DATE --by NAME"
            );
            let markdown = md(&full);
            out.push(rule_out(
                id,
                &short,
                &full,
                severity,
                text,
                markdown,
                vec![],
            ));
        } else {
            let short = format!("Custom rule {id} (Rego)");
            let full = format!(
                "A finding of the custom Rego rule {id}, from the policy files given with \
                 --rego. Its message says what it found; the rule file says why."
            );
            let text = format!("{full}\n\nWaive: trustmap waive {id} ASSET_ID --rego FILES ...");
            let markdown = format!(
                "A finding of the custom Rego rule `{}`, from the policy files given with \
                 `--rego`. Its message says what it found; the rule file says why.",
                id.replace('`', "'")
            );
            out.push(rule_out(
                id,
                &short,
                &full,
                severity,
                text,
                markdown,
                vec!["custom".into()],
            ));
        }
    }
    out
}

/// The lint's one-line description, from a lint finding's message (`LABEL: DESCRIPTION (ID)`).
fn lint_description(f: &Finding, asset: Option<&Asset>) -> Option<String> {
    let label = asset?.label();
    let rest = f.message.strip_prefix(&format!("{label}: "))?;
    let d = rest.strip_suffix(&format!(" ({})", f.rule))?;
    Some(d.to_string())
}

fn rule_out(
    id: &str,
    short: &str,
    full: &str,
    severity: Severity,
    text: String,
    markdown: String,
    extra_tags: Vec<String>,
) -> RuleOut {
    let mut tags = vec!["security".to_string(), "cryptography".to_string()];
    tags.extend(extra_tags);
    tags.dedup();
    RuleOut {
        id: id.to_string(),
        name: pascal(id),
        short_description: Text::plain(truncate(short, MAX_DESCRIPTION)),
        full_description: Text::plain(truncate(full, MAX_DESCRIPTION)),
        help: Help { text, markdown },
        default_configuration: Config {
            level: level(severity),
        },
        properties: RuleProperties {
            tags,
            precision: "high",
            security_severity: security_severity(severity),
        },
    }
}

/// `cert-expired` -> `CertExpired`.
fn pascal(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Markdown's inline special characters (emphasis, code, links, HTML, tables) escaped with a
/// backslash; the help texts are single paragraphs, so line-start markers cannot occur.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>|".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    automation_details: AutomationDetails,
    invocations: Vec<Invocation>,
    column_kind: &'static str,
    results: Vec<ResultOut>,
    properties: RunProperties,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    full_name: String,
    version: String,
    semantic_version: String,
    rules: Vec<RuleOut>,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    start_time_utc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_rule: Option<RuleRef>,
}

impl Notification {
    fn note(text: String) -> Notification {
        Notification {
            level: "note",
            message: Text::plain(text),
            associated_rule: None,
        }
    }
}

#[derive(Serialize, Clone)]
struct RuleRef {
    id: String,
    index: usize,
}

#[derive(Serialize, Clone)]
struct Text {
    text: String,
}

impl Text {
    fn plain(text: String) -> Text {
        Text { text }
    }
}

#[derive(Serialize, Clone)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct RuleOut {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Config,
    properties: RuleProperties,
}

#[derive(Serialize, Clone)]
struct Config {
    level: &'static str,
}

#[derive(Serialize, Clone)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultOut {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

#[derive(Serialize)]
struct ResultProperties {
    severity: &'static str,
    asset: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    frameworks: Vec<String>,
}

#[derive(Serialize)]
struct RunProperties {
    #[serde(rename = "scan-id")]
    scan_id: String,
    findings: usize,
    #[serde(rename = "results-left-out")]
    results_left_out: usize,
    waived: usize,
    #[serde(rename = "without-file")]
    without_file: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustmap_core::Occurrence;

    fn asset(id: &str, path: &str, root: Option<&str>) -> Asset {
        Asset {
            id: id.into(),
            kind: AssetKind::Certificate,
            fingerprint: format!("sha256:{}", "0".repeat(64)),
            occurrences: vec![Occurrence {
                path: path.into(),
                line: Some(1),
                offset: None,
                container: None,
                root: root.map(str::to_string),
            }],
            certificate: None,
            key: None,
            secret: None,
            keystore: None,
            consumer: None,
            endpoint: None,
            owners: vec![],
        }
    }

    #[test]
    fn repository_paths_add_relative_roots_and_drop_absolute_ones() {
        let p = |path: &str, root: Option<&str>| {
            repository_path(path, Some(&asset("crt_1", path, root)))
        };
        assert_eq!(p("tls/a.crt", Some("/tmp/x/repo")), "tls/a.crt");
        assert_eq!(p("tls/a.crt", Some(".")), "tls/a.crt");
        assert_eq!(p("tls/a.crt", Some("./")), "tls/a.crt");
        assert_eq!(p("a.crt", Some("config/tls")), "config/tls/a.crt");
        assert_eq!(p("a.crt", Some("./config/")), "config/a.crt");
        // several roots: the path already starts with the root as given
        assert_eq!(p("config/a.crt", Some("config")), "config/a.crt");
        assert_eq!(p("/srv/repo/a.crt", Some("/srv/repo")), "a.crt");
        // a file root
        assert_eq!(p("a.crt", Some("certs/a.crt")), "certs/a.crt");
        assert_eq!(p("a.crt", Some("/abs/certs/a.crt")), "a.crt");
        // outside the working directory: taken as the repository root
        assert_eq!(p("a.crt", Some("../other")), "a.crt");
        assert_eq!(repository_path("x.pem", None), "x.pem");
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri_path("a b/c#d%.pem"), "a%20b/c%23d%25.pem");
        assert_eq!(uri_path("host:1.pem"), "host%3A1.pem");
        assert_eq!(uri_path("é\u{1b}.pem"), "%C3%A9%1B.pem");
        assert_eq!(uri_path("ok/path_1-2.~crt"), "ok/path_1-2.~crt");
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(
            visible("a\u{1b}[31mb\u{202e}c<d>"),
            "a\\u{1b}[31mb\\u{202e}c<d>"
        );
    }

    #[test]
    fn names_and_severities() {
        assert_eq!(pascal("cert-expired"), "CertExpired");
        assert_eq!(pascal("x509-serial-zero"), "X509SerialZero");
        assert_eq!(security_severity(Severity::Critical), "9.5");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(md("a_b*[c]"), "a\\_b\\*\\[c\\]");
    }

    #[test]
    fn fingerprints_depend_on_rule_identity_and_path_only() {
        let a = fingerprint("key-weak", "key_1", "a/b.key");
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint("key-weak", "key_1", "a/b.key"));
        assert_ne!(a, fingerprint("key-weak", "key_1", "a/c.key"));
        assert_ne!(a, fingerprint("key-unprotected", "key_1", "a/b.key"));
        assert_ne!(a, fingerprint("key-weak", "key_2", "a/b.key"));
        // NUL separation: moving a character between parts changes the hash
        assert_ne!(fingerprint("ab", "c", "d"), fingerprint("a", "bc", "d"));
    }
}
