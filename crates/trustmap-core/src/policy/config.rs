//! The policy file, `trustmap.toml`: parsed in two steps, raw (serde) -> validated
//! [`Policy`], with errors ([`PolicyError`]) that name the file, line and field.
//!
//! Syntax and type errors come from the `toml` crate with a byte span; semantic errors
//! (an unknown rule id, a negative number of days, windows out of order) carry the dotted
//! path of the field. Either way the span or path is resolved against a `toml_edit` parse of
//! the same text, so every error knows both its line and its field.

use super::catalogue::RULES;
use super::reach::ImpactPolicy;
use crate::RuleId;
use crate::Severity;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;

/// A policy file that could not be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {field}: {message}")]
pub struct PolicyError {
    /// The file name as the caller gave it.
    pub file: String,
    /// 1-based line of the offending field (1 when the whole file is at fault).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted path of the field: `expiry.high`, `rules.cert-wildcard`, `scope[0].severity`.
    pub field: String,
    pub message: String,
}

/// What a `[rules]` entry does to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSetting {
    /// `"off"`: the rule is not evaluated.
    Off,
    /// `"on"`: the rule runs at its default severity (the default for every rule).
    On,
    /// A severity: the rule runs and its findings get this severity.
    Severity(Severity),
}

/// A `[[validity.override]]` entry: which certificates it selects and what limit applies.
#[derive(Debug, Clone)]
pub struct ValidityOverride {
    pub selector: Selector,
    /// `Some(days)`: a private limit; `None`: `public = true`, the CA/B schedule applies.
    pub max_days: Option<u32>,
}

/// Selects certificates or findings by issuer DN or by path.
#[derive(Debug, Clone)]
pub enum Selector {
    /// Glob over the issuer DN (case-insensitive).
    Issuer(String, GlobMatcher),
    /// Glob over the path of every occurrence (all must match).
    Path(String, GlobMatcher),
}

/// A `[[scope]]` entry: findings on assets whose every occurrence matches `path` get
/// `setting` (a severity, or `Off` to drop them); optionally only for some rules.
#[derive(Debug, Clone)]
pub struct Scope {
    pub path: String,
    pub matcher: GlobMatcher,
    pub setting: RuleSetting,
    /// Empty: every rule.
    pub rules: Vec<String>,
}

/// The validated policy. [`Policy::default`] is the built-in policy, equal to
/// [`default_policy_toml`] parsed.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `cert-expiring` windows in days, most severe first: (severity, days ahead).
    pub expiry_windows: Vec<(Severity, u32)>,
    /// `[expiry.lifetime_fraction]`: the same windows as fractions (0 < f <= 1) of a
    /// certificate's lifetime (notAfter - notBefore). A window is the smaller of its days
    /// and its fraction of the lifetime ([`Policy::expiry_window_secs`]), so short-lived
    /// certificates are not "expiring" for most of their life. One entry per window in
    /// `expiry_windows`.
    pub expiry_fractions: Vec<(Severity, f64)>,
    /// Limit for leaf certificates that are not publicly trusted.
    pub private_max_days: u32,
    pub validity_overrides: Vec<ValidityOverride>,
    /// Minimum key size in bits per algorithm name (RSA, DSA, EC, ...).
    pub min_key_bits: BTreeMap<String, u32>,
    /// Signature hashes that do not raise `cert-weak-signature`.
    pub allowed_hashes: Vec<String>,
    /// Cryptoperiods in days per key kind (signature, authentication, key-agreement, symmetric).
    pub rotation_days: BTreeMap<String, u32>,
    /// Trusted root fingerprints (certificate or SPKI SHA-256, lowercase hex, no prefix).
    pub trusted_roots: HashSet<String>,
    /// Bundle files named by the policy, as written; the CLI resolves and reads them.
    pub trusted_bundles: Vec<String>,
    /// `[rules]`: id -> setting. Ids are catalogue ids or extra ids (X.509 lints).
    pub rules: HashMap<String, RuleSetting>,
    pub scopes: Vec<Scope>,
    /// `exclude`: gitignore-style globs, relative to each scanned root, of paths the walk
    /// skips (added to `--exclude`; the report counts what they excluded).
    pub exclude: Vec<String>,
    /// `[impact]`: how findings' severities rise with the consumers and endpoints that
    /// depend on their asset.
    pub impact: ImpactPolicy,
    /// Set on a policy the person running the scan did not choose (see
    /// [`Policy::tightened`]): `[rules]` and `[[scope]]` severities apply only where they
    /// raise a finding's severity, and `"off"` switches nothing off.
    pub raise_only: bool,
}

/// Key kinds with cryptoperiods (NIST SP 800-57 Part 1 Rev 5, table 1).
pub const KEY_KINDS: [&str; 4] = ["signature", "authentication", "key-agreement", "symmetric"];

/// Signature hash names `signatures.allowed_hashes` accepts.
pub const HASH_NAMES: &[&str] = &[
    "MD2",
    "MD4",
    "MD5",
    "SHA-1",
    "SHA-224",
    "SHA-256",
    "SHA-384",
    "SHA-512",
    "SHA-512/224",
    "SHA-512/256",
    "SHA3-224",
    "SHA3-256",
    "SHA3-384",
    "SHA3-512",
    "SHAKE128",
    "SHAKE256",
];

const DEFAULT_TOML: &str = include_str!("default_policy.toml");

/// The commented `trustmap.toml` that `trustmap init` writes; parsing it gives
/// [`Policy::default`].
pub fn default_policy_toml() -> &'static str {
    DEFAULT_TOML
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            expiry_windows: vec![
                (Severity::Critical, 7),
                (Severity::High, 14),
                (Severity::Medium, 30),
            ],
            expiry_fractions: vec![
                (Severity::Critical, default_fraction(Severity::Critical)),
                (Severity::High, default_fraction(Severity::High)),
                (Severity::Medium, default_fraction(Severity::Medium)),
            ],
            private_max_days: 398,
            validity_overrides: Vec::new(),
            min_key_bits: [("RSA", 2048), ("DSA", 2048), ("EC", 224)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            allowed_hashes: [
                "SHA-224", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384", "SHA3-512",
            ]
            .into_iter()
            .map(str::to_string)
            .collect(),
            rotation_days: [
                ("signature", 1095),
                ("authentication", 730),
                ("key-agreement", 730),
                ("symmetric", 730),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            trusted_roots: HashSet::new(),
            trusted_bundles: Vec::new(),
            rules: HashMap::new(),
            scopes: Vec::new(),
            exclude: Vec::new(),
            impact: ImpactPolicy::default(),
            raise_only: false,
        }
    }
}

/// The default lifetime fraction of each expiry window: a fifth of the lifetime for medium,
/// a tenth for high, a twentieth for critical (a 90-day ACME certificate: 18, 9 and 4.5
/// days; a 24-hour one: 4.8, 2.4 and 1.2 hours; from a 150-day lifetime up the day windows
/// decide). `low` and `info`, which have no day window by default, get 0.3 and 0.4 when
/// the file gives them one.
pub const fn default_fraction(sev: Severity) -> f64 {
    match sev {
        Severity::Critical => 0.05,
        Severity::High => 0.1,
        Severity::Medium => 0.2,
        Severity::Low => 0.3,
        Severity::Info => 0.4,
    }
}

impl Policy {
    /// The `cert-expiring` window of `sev` in seconds for a certificate whose lifetime
    /// (notAfter - notBefore) is `lifetime_secs`: the smaller of the day window and the
    /// lifetime fraction. `None` when the policy has no window of that severity.
    pub fn expiry_window_secs(&self, sev: Severity, lifetime_secs: i64) -> Option<i64> {
        let days = self.expiry_windows.iter().find(|(s, _)| *s == sev)?.1;
        let by_days = i64::from(days) * 86_400;
        let fraction = self
            .expiry_fractions
            .iter()
            .find(|(s, _)| *s == sev)
            .map_or(1.0, |(_, f)| *f);
        let by_life = (fraction * lifetime_secs.max(0) as f64).floor() as i64;
        Some(by_days.min(by_life))
    }
}

// ---------------------------------------------------------------- raw (serde) shape

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    expiry: Option<RawExpiry>,
    #[serde(default)]
    validity: Option<RawValidity>,
    #[serde(default)]
    keys: Option<RawKeys>,
    #[serde(default)]
    signatures: Option<RawSignatures>,
    #[serde(default)]
    rotation: Option<BTreeMap<String, i64>>,
    #[serde(default)]
    trust: Option<RawTrust>,
    #[serde(default)]
    rules: Option<BTreeMap<String, String>>,
    #[serde(default)]
    scope: Vec<RawScope>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    impact: Option<RawImpact>,
}

/// `[impact]`: severity thresholds by reach.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImpact {
    enabled: Option<bool>,
    raise_by_one_at: Option<i64>,
    raise_to_critical_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpiry {
    info: Option<i64>,
    low: Option<i64>,
    medium: Option<i64>,
    high: Option<i64>,
    critical: Option<i64>,
    lifetime_fraction: Option<RawFractions>,
}

/// `[expiry.lifetime_fraction]`: fractions of the lifetime per severity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFractions {
    info: Option<f64>,
    low: Option<f64>,
    medium: Option<f64>,
    high: Option<f64>,
    critical: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValidity {
    private_max_days: Option<i64>,
    #[serde(default, rename = "override")]
    overrides: Vec<RawOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    issuer: Option<String>,
    path: Option<String>,
    max_days: Option<i64>,
    public: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeys {
    min_bits: Option<BTreeMap<String, i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignatures {
    allowed_hashes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    #[serde(default)]
    roots: Vec<String>,
    #[serde(default)]
    bundles: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    path: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
}

// ---------------------------------------------------------------- spans

/// Every field of the document with its span: dotted path -> (key span, value span).
struct Spans {
    file: String,
    text: String,
    fields: FieldSpans,
}

impl Spans {
    fn new(file: &str, text: &str) -> Spans {
        let mut fields = Vec::new();
        if let Ok(doc) = toml_edit::ImDocument::parse(text) {
            walk_table(doc.as_table(), "", &mut fields);
        }
        Spans {
            file: file.to_string(),
            text: text.to_string(),
            fields,
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        (line, column)
    }

    /// An error at a field named by its dotted path (the value's span, else the key's, else
    /// the nearest enclosing field's).
    fn at_field(&self, field: &str, message: impl Into<String>) -> PolicyError {
        let mut probe = field.to_string();
        let offset = loop {
            if let Some((_, k, v)) = self.fields.iter().find(|(p, _, _)| *p == probe)
                && let Some(r) = v.clone().or(k.clone())
            {
                break Some(r.start);
            }
            match probe.rfind(['.', '[']) {
                Some(i) => probe.truncate(i),
                None => break None,
            }
        };
        let (line, column) = offset.map_or((1, 1), |o| self.line_col(o));
        PolicyError {
            file: self.file.clone(),
            line,
            column,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// For a file that does not parse: the field on `line` read from the text (the last
    /// table header before it and the key before `=`).
    fn field_by_text(&self, line: usize) -> String {
        let mut table = String::new();
        for (i, l) in self.text.lines().enumerate() {
            let t = l.trim();
            if let Some(h) = t.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
                table = h.trim().to_string();
            } else if let Some(h) = t.strip_prefix('[').and_then(|h| h.split(']').next()) {
                table = h.trim().to_string();
            }
            if i + 1 == line {
                return match t.split_once('=') {
                    Some((k, _)) if !t.starts_with('[') => join(&table, k.trim().trim_matches('"')),
                    _ if !table.is_empty() => table,
                    _ => "(document)".to_string(),
                };
            }
        }
        "(document)".to_string()
    }

    /// An error at a byte span (from the `toml` parser): the field is the innermost one
    /// whose key or value contains it.
    fn at_span(&self, span: Option<Range<usize>>, message: &str) -> PolicyError {
        let (line, column, field) = match span {
            Some(s) => {
                let (line, column) = self.line_col(s.start);
                let inside = |r: &Option<Range<usize>>| {
                    r.as_ref()
                        .is_some_and(|r| r.start <= s.start && s.start < r.end.max(r.start + 1))
                };
                let field = self
                    .fields
                    .iter()
                    .filter(|(_, k, v)| inside(k) || inside(v))
                    .max_by_key(|(p, _, _)| p.len())
                    .map(|(p, _, _)| p.clone())
                    .unwrap_or_else(|| self.field_by_text(line));
                (line, column, field)
            }
            None => (1, 1, "(document)".to_string()),
        };
        PolicyError {
            file: self.file.clone(),
            line,
            column,
            field,
            message: message.trim().to_string(),
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

type FieldSpans = Vec<(String, Option<Range<usize>>, Option<Range<usize>>)>;

fn walk_table(t: &toml_edit::Table, prefix: &str, out: &mut FieldSpans) {
    for (k, item) in t.iter() {
        let path = join(prefix, k);
        let key_span = t.key(k).and_then(|k| k.span());
        walk_item(item, path, key_span, out);
    }
}

fn walk_item(
    item: &toml_edit::Item,
    path: String,
    key: Option<Range<usize>>,
    out: &mut FieldSpans,
) {
    match item {
        toml_edit::Item::Table(t) => {
            out.push((path.clone(), key, t.span()));
            walk_table(t, &path, out);
        }
        toml_edit::Item::ArrayOfTables(a) => {
            out.push((path.clone(), key, a.span()));
            for (i, t) in a.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push((p.clone(), None, t.span()));
                walk_table(t, &p, out);
            }
        }
        toml_edit::Item::Value(v) => walk_value(v, path, key, out),
        toml_edit::Item::None => {}
    }
}

fn walk_value(v: &toml_edit::Value, path: String, key: Option<Range<usize>>, out: &mut FieldSpans) {
    out.push((path.clone(), key, v.span()));
    match v {
        toml_edit::Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                walk_value(e, format!("{path}[{i}]"), None, out);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (k, e) in t.iter() {
                let key_span = t.key(k).and_then(|k| k.span());
                walk_value(e, join(&path, k), key_span, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- validation

impl Policy {
    /// Parses and validates a policy file. `file` names it in errors. Rule ids in `[rules]`
    /// and `[[scope]]` must be in the catalogue.
    pub fn from_toml(text: &str, file: &str) -> Result<Policy, PolicyError> {
        Policy::from_toml_with(text, file, &[])
    }

    /// Like [`Policy::from_toml`], also accepting `extra_rule_ids` (the X.509 lint ids of
    /// `trustmap_discover::lint::LINTS`, which core does not know).
    pub fn from_toml_with(
        text: &str,
        file: &str,
        extra_rule_ids: &[&str],
    ) -> Result<Policy, PolicyError> {
        let spans = Spans::new(file, text);
        let raw: Raw = toml::from_str(text).map_err(|e| spans.at_span(e.span(), e.message()))?;
        validate(raw, &spans, extra_rule_ids)
    }

    /// The setting `[rules]` gives a rule (`On` when not named).
    pub fn rule_setting(&self, id: &str) -> RuleSetting {
        self.rules.get(id).copied().unwrap_or(RuleSetting::On)
    }

    /// Whether a rule is evaluated at all.
    pub fn enabled(&self, id: &str) -> bool {
        self.raise_only || self.rule_setting(id) != RuleSetting::Off
    }
}

fn days(spans: &Spans, field: &str, v: i64) -> Result<u32, PolicyError> {
    if v <= 0 {
        return Err(spans.at_field(field, format!("must be a positive number, not {v}")));
    }
    u32::try_from(v).map_err(|_| spans.at_field(field, format!("{v} is too large")))
}

/// `[expiry.lifetime_fraction]` validated: each in (0, 1], only for severities with a day
/// window, ordered like the day windows; the others keep [`default_fraction`].
fn fractions(
    spans: &Spans,
    raw: Option<RawFractions>,
    windows: &[(Severity, u32)],
) -> Result<Vec<(Severity, f64)>, PolicyError> {
    let given = |sev: Severity| {
        raw.as_ref().and_then(|r| match sev {
            Severity::Critical => r.critical,
            Severity::High => r.high,
            Severity::Medium => r.medium,
            Severity::Low => r.low,
            Severity::Info => r.info,
        })
    };
    let field = |sev: Severity| format!("expiry.lifetime_fraction.{}", sev.as_str());
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let Some(f) = given(sev) else { continue };
        if !(f > 0.0 && f <= 1.0) {
            return Err(spans.at_field(
                &field(sev),
                format!(
                    "must be a fraction of the certificate's lifetime above 0 and at most 1 (0.2 = a fifth), not {f}"
                ),
            ));
        }
        if !windows.iter().any(|(s, _)| *s == sev) {
            return Err(spans.at_field(
                &field(sev),
                format!(
                    "there is no {0} window to shorten: set `{0} = DAYS` in [expiry] too",
                    sev.as_str()
                ),
            ));
        }
    }
    // A window the file gives no fraction keeps its default, raised to the fraction of the
    // more severe window before it, so that only fractions the file sets can be out of order.
    let mut out: Vec<(Severity, f64, bool)> = Vec::with_capacity(windows.len());
    for (s, _) in windows {
        let entry = match given(*s) {
            Some(f) => (*s, f, true),
            None => {
                let prev = out.last().map_or(0.0, |e| e.1);
                (*s, default_fraction(*s).max(prev), false)
            }
        };
        out.push(entry);
    }
    for pair in out.windows(2) {
        let ((s1, f1, _), (s2, f2, given2)) = (pair[0], pair[1]);
        if f1 > f2 {
            let at = if given2 { s2 } else { s1 };
            return Err(spans.at_field(
                &field(at),
                format!(
                    "the {} fraction ({f2}) must be at least the {} fraction ({f1}): a less severe warning starts earlier",
                    s2.as_str(),
                    s1.as_str()
                ),
            ));
        }
    }
    Ok(out.into_iter().map(|(s, f, _)| (s, f)).collect())
}

fn setting(spans: &Spans, field: &str, s: &str) -> Result<RuleSetting, PolicyError> {
    match s {
        "off" => Ok(RuleSetting::Off),
        "on" => Ok(RuleSetting::On),
        _ => Severity::parse(s)
            .map(RuleSetting::Severity)
            .ok_or_else(|| {
                spans.at_field(
                    field,
                    format!("`{s}` is not one of off, on, info, low, medium, high, critical"),
                )
            }),
    }
}

fn known_rule(spans: &Spans, field: &str, id: &str, extra: &[&str]) -> Result<(), PolicyError> {
    if RuleId::parse(id).is_some() || extra.contains(&id) {
        return Ok(());
    }
    let near = RULES
        .iter()
        .map(|r| r.id.as_str())
        .filter(|r| r.split('-').next() == id.split('-').next())
        .collect::<Vec<_>>()
        .join(", ");
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(" (rules of that family: {near})")
    };
    Err(spans.at_field(field, format!("unknown rule id `{id}`{hint}")))
}

fn glob(
    spans: &Spans,
    field: &str,
    pattern: &str,
    case_insensitive: bool,
) -> Result<GlobMatcher, PolicyError> {
    globset::GlobBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .literal_separator(false)
        .build()
        .map(|g: Glob| g.compile_matcher())
        .map_err(|e| spans.at_field(field, format!("bad glob `{pattern}`: {}", e.kind())))
}

/// Normalises a fingerprint: optional `sha256:`, colons allowed, 64 hex digits.
pub(crate) fn normalise_fingerprint(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix("sha256:")
        .or_else(|| s.strip_prefix("SHA256:"))
        .unwrap_or(s);
    let hex: String = s
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

fn validate(raw: Raw, spans: &Spans, extra: &[&str]) -> Result<Policy, PolicyError> {
    let mut p = Policy::default();
    if let Some(e) = raw.expiry {
        // Windows not named keep their defaults; `low` and `info` have none.
        let default = |sev: Severity| {
            p.expiry_windows
                .iter()
                .find(|(s, _)| *s == sev)
                .map(|(_, d)| *d)
        };
        let mut windows = Vec::new();
        for (sev, v) in [
            (Severity::Critical, e.critical),
            (Severity::High, e.high),
            (Severity::Medium, e.medium),
            (Severity::Low, e.low),
            (Severity::Info, e.info),
        ] {
            match v {
                Some(v) => {
                    let d = days(spans, &format!("expiry.{}", sev.as_str()), v)?;
                    windows.push((sev, d, true));
                }
                None => {
                    if let Some(d) = default(sev) {
                        windows.push((sev, d, false));
                    }
                }
            }
        }
        for pair in windows.windows(2) {
            let ((s1, d1, _), (s2, d2, given2)) = (pair[0], pair[1]);
            if d1 > d2 {
                // Blame the window the file sets.
                let at = if given2 { s2 } else { s1 };
                return Err(spans.at_field(
                    &format!("expiry.{}", at.as_str()),
                    format!(
                        "the {} window ({d2} days) must be at least the {} window ({d1} days): a less severe warning starts earlier",
                        s2.as_str(),
                        s1.as_str()
                    ),
                ));
            }
        }
        p.expiry_windows = windows.into_iter().map(|(s, d, _)| (s, d)).collect();
        p.expiry_fractions = fractions(spans, e.lifetime_fraction, &p.expiry_windows)?;
    }
    if let Some(v) = raw.validity {
        if let Some(d) = v.private_max_days {
            p.private_max_days = days(spans, "validity.private_max_days", d)?;
        }
        for (i, o) in v.overrides.into_iter().enumerate() {
            let f = format!("validity.override[{i}]");
            let selector = match (o.issuer, o.path) {
                (Some(iss), None) => {
                    let m = glob(spans, &format!("{f}.issuer"), &iss, true)?;
                    Selector::Issuer(iss, m)
                }
                (None, Some(path)) => {
                    let m = glob(spans, &format!("{f}.path"), &path, false)?;
                    Selector::Path(path, m)
                }
                _ => {
                    return Err(spans.at_field(&f, "give exactly one of `issuer` or `path`"));
                }
            };
            let max_days = match (o.max_days, o.public) {
                (Some(d), None | Some(false)) => Some(days(spans, &format!("{f}.max_days"), d)?),
                (None, Some(true)) => None,
                _ => {
                    return Err(
                        spans.at_field(&f, "give exactly one of `max_days = N` or `public = true`")
                    );
                }
            };
            p.validity_overrides
                .push(ValidityOverride { selector, max_days });
        }
    }
    if let Some(k) = raw.keys
        && let Some(m) = k.min_bits
    {
        for (alg, v) in m {
            let b = days(spans, &format!("keys.min_bits.{alg}"), v)?;
            p.min_key_bits.insert(alg, b);
        }
    }
    if let Some(s) = raw.signatures
        && let Some(h) = s.allowed_hashes
    {
        for (i, name) in h.iter().enumerate() {
            if !HASH_NAMES.contains(&name.as_str()) {
                return Err(spans.at_field(
                    &format!("signatures.allowed_hashes[{i}]"),
                    format!("unknown hash `{name}` (known: {})", HASH_NAMES.join(", ")),
                ));
            }
        }
        p.allowed_hashes = h;
    }
    if let Some(r) = raw.rotation {
        for (kind, v) in r {
            let f = format!("rotation.{kind}");
            if !KEY_KINDS.contains(&kind.as_str()) {
                return Err(spans.at_field(
                    &f,
                    format!(
                        "unknown key kind `{kind}` (known: {})",
                        KEY_KINDS.join(", ")
                    ),
                ));
            }
            p.rotation_days.insert(kind, days(spans, &f, v)?);
        }
    }
    if let Some(t) = raw.trust {
        for (i, r) in t.roots.iter().enumerate() {
            let fp = normalise_fingerprint(r).ok_or_else(|| {
                spans.at_field(
                    &format!("trust.roots[{i}]"),
                    format!(
                        "`{r}` is not a SHA-256 fingerprint (64 hex digits, optionally `sha256:`)"
                    ),
                )
            })?;
            p.trusted_roots.insert(fp);
        }
        for (i, b) in t.bundles.iter().enumerate() {
            if b.trim().is_empty() {
                return Err(spans.at_field(&format!("trust.bundles[{i}]"), "empty path"));
            }
        }
        p.trusted_bundles = t.bundles;
    }
    if let Some(r) = raw.rules {
        for (id, s) in r {
            let f = format!("rules.{id}");
            known_rule(spans, &f, &id, extra)?;
            p.rules.insert(id.clone(), setting(spans, &f, &s)?);
        }
    }
    for (i, s) in raw.scope.into_iter().enumerate() {
        let f = format!("scope[{i}]");
        let path = s
            .path
            .ok_or_else(|| spans.at_field(&f, "missing `path` (a glob such as \"tests/**\")"))?;
        let matcher = glob(spans, &format!("{f}.path"), &path, false)?;
        let sev = s.severity.ok_or_else(|| {
            spans.at_field(
                &f,
                "missing `severity` (info, low, medium, high, critical or off)",
            )
        })?;
        let setting = setting(spans, &format!("{f}.severity"), &sev)?;
        for (j, id) in s.rules.iter().enumerate() {
            known_rule(spans, &format!("{f}.rules[{j}]"), id, extra)?;
        }
        p.scopes.push(Scope {
            path,
            matcher,
            setting,
            rules: s.rules,
        });
    }
    if let Some(i) = raw.impact {
        if let Some(e) = i.enabled {
            p.impact.enabled = e;
        }
        let count = |field: &str, v: i64| -> Result<u32, PolicyError> {
            if v < 1 {
                return Err(spans.at_field(
                    field,
                    format!(
                        "must be a number of consumers and endpoints of at least 1, not {v} (to raise nothing, set `enabled = false`)"
                    ),
                ));
            }
            u32::try_from(v).map_err(|_| spans.at_field(field, format!("{v} is too large")))
        };
        if let Some(v) = i.raise_by_one_at {
            p.impact.raise_by_one_at = count("impact.raise_by_one_at", v)?;
        }
        if let Some(v) = i.raise_to_critical_at {
            p.impact.raise_to_critical_at = count("impact.raise_to_critical_at", v)?;
        }
        if p.impact.raise_by_one_at > p.impact.raise_to_critical_at {
            // Blame the threshold the file sets (the later one when it sets both).
            let field = if i.raise_to_critical_at.is_some() {
                "impact.raise_to_critical_at"
            } else {
                "impact.raise_by_one_at"
            };
            return Err(spans.at_field(
                field,
                format!(
                    "raise_to_critical_at ({}) must be at least raise_by_one_at ({}): a finding is raised one step before it is made critical",
                    p.impact.raise_to_critical_at, p.impact.raise_by_one_at
                ),
            ));
        }
    }
    for (i, pattern) in raw.exclude.into_iter().enumerate() {
        let body = pattern.trim_start_matches('!').trim_matches('/');
        if body.is_empty() {
            return Err(spans.at_field(&format!("exclude[{i}]"), "empty exclude pattern"));
        }
        glob(spans, &format!("exclude[{i}]"), body, false)?;
        p.exclude.push(pattern);
    }
    Ok(p)
}

impl fmt::Display for RuleSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSetting::Off => f.write_str("off"),
            RuleSetting::On => f.write_str("on"),
            RuleSetting::Severity(s) => f.write_str(s.as_str()),
        }
    }
}

/// Comparable summary of a policy (globs by pattern): used to check that the commented
/// default file equals the built-in defaults.
impl PartialEq for Policy {
    fn eq(&self, o: &Policy) -> bool {
        let ov = |p: &Policy| {
            p.validity_overrides
                .iter()
                .map(|v| (v.selector.pattern().to_string(), v.max_days))
                .collect::<Vec<_>>()
        };
        let sc = |p: &Policy| {
            p.scopes
                .iter()
                .map(|s| (s.path.clone(), s.setting, s.rules.clone()))
                .collect::<Vec<_>>()
        };
        self.expiry_windows == o.expiry_windows
            && self.expiry_fractions == o.expiry_fractions
            && self.private_max_days == o.private_max_days
            && ov(self) == ov(o)
            && self.min_key_bits == o.min_key_bits
            && self.allowed_hashes == o.allowed_hashes
            && self.rotation_days == o.rotation_days
            && self.trusted_roots == o.trusted_roots
            && self.trusted_bundles == o.trusted_bundles
            && self.rules == o.rules
            && sc(self) == sc(o)
            && self.exclude == o.exclude
            && self.impact == o.impact
            && self.raise_only == o.raise_only
    }
}

impl Selector {
    pub fn pattern(&self) -> &str {
        match self {
            Selector::Issuer(p, _) | Selector::Path(p, _) => p,
        }
    }
}
