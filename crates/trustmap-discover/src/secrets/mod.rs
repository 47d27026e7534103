//! Secret detection: the engine and its data-driven rule set.
//!
//! This module owns everything between "here are the bytes of a file" and "these byte
//! ranges hold plaintext secrets": the rule model ([`SecretRule`]), the rule files
//! (`rules/*.toml`, embedded by [`RuleSet::builtin`]), the importer for gitleaks rule files
//! ([`RuleSet::from_gitleaks_toml`]) and the matcher ([`RuleSet::scan`]).
//!
//! It does not own PEM private keys (the `pem`/`keys` parsers do), and it never stores,
//! logs or prints a secret's plaintext: [`SecretMatch`]'s `Debug` shows a redacted preview.
//!
//! # How a scan works
//!
//! 1. Content whose first 8 KiB hold a NUL byte is treated as binary and skipped: compiled
//!    binaries, images and archives are not scanned for secrets (UTF-16 text is skipped
//!    too; that is a known gap). Keystores and DER are other parsers' business.
//! 2. One multi-literal prefilter (see `prefilter.rs`: hashed rare trigrams, verified;
//!    ASCII case-insensitive) over the keywords of every rule finds every keyword
//!    occurrence in a single pass over the bytes. When no path-scoped rule applies to the
//!    file, a second prefilter without the scoped rules' keywords is used instead, so
//!    `password`/`token` in source code cost nothing.
//! 3. For each keyword hit, each rule owning that keyword runs its regex on a bounded
//!    window: the line holding the hit, clipped to [`WINDOW_BEFORE`] bytes before and
//!    [`WINDOW_AFTER`] bytes after it, after the rule's cheap pre-checks on that line
//!    (`requires`, `assignment`) pass. Overlapping windows of one rule (keyword-dense
//!    lines) are merged and scanned once, so a rule reads each byte at most once whatever
//!    the keyword density; after [`MAX_MATCHES`] candidates a file is searched no further.
//!    Regexes are compiled once, when the set is built.
//! 4. A candidate survives only if it passes the rule's entropy floor, the shared
//!    placeholder filter (`${VAR}`, `{{ .Values.x }}`, `<token>`, `xxxx`, `changeme`,
//!    `example`, environment lookups, ...), the rule's own allow-lists and stopwords, and the
//!    rule's validator (e.g. a JWT header must decode to JSON naming an `alg`).
//! 5. Matches are sorted, duplicates dropped, and a generic rule's match is dropped when a
//!    provider-specific rule matched overlapping bytes.
//!
//! # Rule files
//!
//! One TOML file per provider family under `rules/`, each a list of `[[rules]]`:
//!
//! | field | meaning |
//! |---|---|
//! | `id` | stable kebab-case id (public: SARIF, waivers, CI gates; never reused) |
//! | `provider`, `description`, `severity` | what it is; severity is a hint (default medium) |
//! | `keywords` | literals for the prefilter, ASCII-case-insensitive (`exact_keywords = true`: case must match too) |
//! | `regex` | confirms around a keyword; the secret is the group named `secret`, else the first non-empty group, else the whole match |
//! | `entropy` | minimum Shannon entropy of the secret, bits per character |
//! | `path` | regex over the relative path: the rule only runs on matching files |
//! | `allow`, `stopwords` | regexes / case-insensitive substrings of the secret that mean "not a secret" |
//! | `validate` | a named validator (`jwt`, `basic-auth`) |
//! | `generic` | a generic assignment rule: extra value sanity, yields to provider rules |
//! | `requires`, `assignment` | cheap pre-checks before the regex: a literal after the keyword on its line; the keyword ends an assigned name |
//! | `[[rules.examples]]` `text`, `secret`, `path` | must be reported, with exactly this secret |
//! | `[[rules.negatives]]` `text`, `path` | must not be reported |
//!
//! Example texts use `«SPEC*N»` markers ([`expand_template`]) so that fake tokens are
//! visibly synthetic and no token-shaped literal is committed; `tests/it/secret_rules.rs` runs
//! every example of every rule through the whole set.
//!
//! Rules whose keywords cannot be known (gitleaks rules without `keywords` whose regex has
//! no usable literal prefix) are run over the whole content; they are slower, so the
//! importer derives keywords from the regex's literal prefixes whenever it can.

mod filters;
mod load;
mod prefilter;

use std::fmt;

use regex::bytes::Regex;
use trustmap_core::Severity;

use prefilter::Prefilter;

pub use load::{expand_template, expand_template_random};

/// Bytes of context scanned before a keyword hit (bounded by the start of its line).
pub const WINDOW_BEFORE: usize = 256;
/// Bytes of context scanned after a keyword hit (bounded by the end of its line).
pub const WINDOW_AFTER: usize = 4096;
/// Content with a NUL byte in this many leading bytes is treated as binary.
pub const BINARY_SNIFF: usize = 8192;
/// Candidate matches kept per scanned content; past it the content is searched no further
/// and [`SecretScan::cut_short`] says where it stopped.
pub const MAX_MATCHES: usize = 10_000;

/// What [`RuleSet::scan_bounded`] found, and whether a bound stopped it.
#[derive(Debug, Default)]
pub struct SecretScan {
    pub matches: Vec<SecretMatch>,
    /// The byte offset where the search stopped because [`MAX_MATCHES`] was reached.
    pub cut_short: Option<usize>,
    /// Whether one of the configuration markers ([`crate::config::marker_words`]) occurs,
    /// exact case (looked for in the same pass as the keywords, to the end of the content
    /// even when the search was cut short; false for binary content).
    pub config_markers: bool,
}

/// One detection rule, validated and compiled.
#[derive(Debug, Clone)]
pub struct SecretRule {
    /// Stable kebab-case id, e.g. `github-pat-classic`; public (SARIF, waivers).
    pub id: String,
    /// Provider or family, e.g. `GitHub`.
    pub provider: String,
    /// One line saying what the secret is.
    pub description: String,
    /// Severity hint for the finding a match becomes.
    pub severity: Severity,
    /// Prefilter literals, lowercase; matched ASCII-case-insensitively (or exactly, see
    /// [`SecretRule::exact_keywords`]).
    pub keywords: Vec<String>,
    /// When true the keyword must appear with the case given in the rule file.
    pub exact_keywords: bool,
    /// Minimum Shannon entropy (bits per character) of the secret value.
    pub entropy: Option<f32>,
    /// A generic (keyword-assignment) rule: it yields to provider rules on the same bytes.
    pub generic: bool,
    /// The rule file it came from, e.g. `rules/github.toml`.
    pub source: String,
    /// Positive (`secret` is `Some`) and negative (`secret` is `None`) examples.
    pub examples: Vec<Example>,
    pub(crate) regex: Regex,
    /// Capture group index holding the secret (0 = whole match).
    pub(crate) group: SecretGroup,
    pub(crate) path: Option<Regex>,
    pub(crate) allow: Vec<Allow>,
    pub(crate) validate: Option<Validator>,
    /// Keywords as written (case kept), used when `exact_keywords` is set.
    pub(crate) keywords_exact: Vec<String>,
    /// A literal that must occur in the window after the keyword (cheap pre-check).
    pub(crate) requires: Option<Box<[u8]>>,
    /// The keyword must end a name that is assigned: after the rest of the identifier,
    /// an optional quote and blanks, `:` or `=` follows (cheap pre-check).
    pub(crate) assignment: bool,
}

impl SecretRule {
    /// The rule's regex source.
    pub fn regex(&self) -> &str {
        self.regex.as_str()
    }

    /// What the rule's validator checks beyond the pattern, if it has one (for `trustmap
    /// rules show`).
    pub fn validator(&self) -> Option<&'static str> {
        self.validate.map(|v| match v {
            Validator::Jwt => {
                "jwt: three base64url segments whose header decodes to a JSON object naming an `alg`"
            }
            Validator::BasicAuth => "basic-auth: base64 that decodes to `user:password`",
        })
    }

    /// The keywords as the rule file writes them (case kept when it matters).
    pub fn keywords_as_written(&self) -> &[String] {
        if self.exact_keywords && !self.keywords_exact.is_empty() {
            &self.keywords_exact
        } else {
            &self.keywords
        }
    }

    /// How many allow-lists (regexes, stopwords, paths) can drop a match of this rule.
    pub fn allow_lists(&self) -> usize {
        self.allow.len()
    }

    /// The path scope's regex source, if the rule is scoped.
    pub fn path_scope(&self) -> Option<&str> {
        self.path.as_ref().map(|r| r.as_str())
    }

    /// Whether the rule applies to a file at `path` (relative, forward slashes).
    pub fn applies_to(&self, path: &str) -> bool {
        self.path
            .as_ref()
            .is_none_or(|p| p.is_match(path.as_bytes()))
    }

    /// The cheap pre-checks on a keyword hit `[hs, he)` in window `[ws, we)`.
    fn worth_trying(&self, data: &[u8], he: usize, we: usize) -> bool {
        if let Some(lit) = &self.requires
            && memchr::memmem::find(&data[he..we], lit).is_none()
        {
            return false;
        }
        !self.assignment || assigned_after(&data[he..we])
    }

    /// Runs the regex on `data[start..end]` (look-around sees the bytes before `start`)
    /// and pushes every accepted candidate.
    fn scan_window(
        &self,
        index: usize,
        data: &[u8],
        start: usize,
        end: usize,
        path: &str,
        out: &mut Vec<Candidate>,
    ) {
        let hay = &data[..end];
        let mut at = start;
        while at <= end && out.len() <= MAX_MATCHES {
            let Some(caps) = self.regex.captures_at(hay, at) else {
                break;
            };
            let whole = caps.get(0).expect("group 0 always participates");
            at = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.end() + 1
            };
            let secret = match self.group {
                SecretGroup::Index(i) => caps.get(i),
                SecretGroup::FirstNonEmpty => (1..caps.len())
                    .filter_map(|i| caps.get(i))
                    .find(|m| !m.is_empty())
                    .or(Some(whole)),
            };
            let Some(secret) = secret else { continue };
            if secret.is_empty() {
                continue;
            }
            let value = secret.as_bytes();
            if !self.accept(value, data, whole.start(), whole.end(), path) {
                continue;
            }
            out.push(Candidate {
                rule: index,
                start: secret.start(),
                end: secret.end(),
            });
        }
    }

    /// The filter chain after a regex match.
    fn accept(&self, value: &[u8], data: &[u8], mstart: usize, mend: usize, path: &str) -> bool {
        if let Some(floor) = self.entropy
            && filters::shannon(value) < floor
        {
            return false;
        }
        if filters::is_placeholder(value) {
            return false;
        }
        if self.generic && !filters::generic_value_ok(value) {
            return false;
        }
        for allow in &self.allow {
            if allow.allows(
                value,
                &data[mstart..mend],
                line_of(data, mstart, mend),
                path,
            ) {
                return false;
            }
        }
        match self.validate {
            Some(Validator::Jwt) => filters::is_jwt(value),
            Some(Validator::BasicAuth) => filters::is_basic_auth(value),
            None => true,
        }
    }
}

/// Which capture group holds the secret.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretGroup {
    Index(usize),
    /// The first group that participated and is non-empty, else the whole match.
    FirstNonEmpty,
}

/// Named validators a rule can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Validator {
    /// Three base64url segments; the header decodes to a JSON object naming `alg`.
    Jwt,
    /// Base64 of `user:password`, the password non-empty and not a placeholder.
    BasicAuth,
}

/// What an allow-list regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Secret,
    Match,
    Line,
}

/// An allow-list: candidates it matches are not reported (gitleaks semantics).
#[derive(Debug, Clone)]
pub(crate) struct Allow {
    pub(crate) target: Target,
    pub(crate) regexes: Vec<Regex>,
    /// Lowercase substrings of the secret.
    pub(crate) stopwords: Vec<String>,
    pub(crate) paths: Vec<Regex>,
    /// All specified criteria must hold (`AND`) rather than any (`OR`).
    pub(crate) all: bool,
}

impl Allow {
    fn allows(&self, secret: &[u8], whole: &[u8], line: &[u8], path: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => whole,
            Target::Line => line,
        };
        let mut checks: [Option<bool>; 3] = [None; 3];
        if !self.regexes.is_empty() {
            checks[0] = Some(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            checks[1] = Some(
                self.stopwords
                    .iter()
                    .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some()),
            );
        }
        if !self.paths.is_empty() {
            checks[2] = Some(self.paths.iter().any(|r| r.is_match(path.as_bytes())));
        }
        let mut given = checks.iter().flatten().peekable();
        if given.peek().is_none() {
            return false;
        }
        if self.all {
            given.all(|&b| b)
        } else {
            given.any(|&b| b)
        }
    }
}

/// A positive or negative example of a rule, with template markers already expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Text to scan.
    pub text: String,
    /// The secret the rule must capture; `None` for a negative example.
    pub secret: Option<String>,
    /// Path to scan the text as (defaults to `example.txt`).
    pub path: String,
    /// The text as written in the rule file, `«SPEC*N»` markers unexpanded.
    pub template: String,
}

/// A secret found in some content. `Debug` never shows the value in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretMatch {
    /// Id of the rule that matched.
    pub rule: String,
    /// Provider of that rule.
    pub provider: String,
    /// Byte range of the secret value in the scanned data.
    pub start: usize,
    pub end: usize,
    /// The plaintext: hash it, redact it, never print it.
    pub value: String,
}

impl fmt::Debug for SecretMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretMatch")
            .field("rule", &self.rule)
            .field("provider", &self.provider)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("value", &trustmap_core::redact::redact(&self.value))
            .finish()
    }
}

/// A rule file that cannot be used: names the file, the line and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct RuleError {
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The offending field, when one is to blame (not for TOML syntax errors).
    pub field: Option<String>,
    pub message: String,
}

impl RuleError {
    fn render(&self) -> String {
        match &self.field {
            Some(field) => format!(
                "{}:{}: field `{}`: {}",
                self.file, self.line, field, self.message
            ),
            None => format!("{}:{}: {}", self.file, self.line, self.message),
        }
    }
}

/// A set of compiled rules and the one prefilter over all their keywords.
///
/// Build it once and share it (`&RuleSet` or `Arc<RuleSet>`): it is `Send + Sync` and
/// [`RuleSet::scan`] takes `&self`.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<SecretRule>,
    /// Over every distinct lowercase keyword; `None` when no rule has keywords.
    prefilter: Option<Prefilter>,
    /// Over the keywords of rules without a path scope, and each of its keywords' index in
    /// `owners`.
    unscoped: Option<(Prefilter, Vec<usize>)>,
    /// For each keyword: (rule index, exact keyword bytes when case matters).
    owners: Vec<Vec<Owner>>,
    /// Rules with a path scope.
    scoped: Vec<usize>,
    /// Rules without keywords: run over the whole content.
    unkeyed: Vec<usize>,
}

/// A rule owning a keyword: its index, and the keyword's exact bytes when case matters.
/// [`MARKER`] in place of a rule index: a configuration marker word, exact bytes given.
type Owner = (usize, Option<Box<[u8]>>);

/// The owner of a configuration marker word (see [`SecretScan::config_markers`]).
const MARKER: usize = usize::MAX;

/// The rule files compiled into the binary.
const BUILTIN: &[(&str, &str)] = &[
    ("rules/aws.toml", include_str!("../../rules/aws.toml")),
    ("rules/gcp.toml", include_str!("../../rules/gcp.toml")),
    ("rules/azure.toml", include_str!("../../rules/azure.toml")),
    ("rules/github.toml", include_str!("../../rules/github.toml")),
    ("rules/gitlab.toml", include_str!("../../rules/gitlab.toml")),
    (
        "rules/atlassian.toml",
        include_str!("../../rules/atlassian.toml"),
    ),
    ("rules/chat.toml", include_str!("../../rules/chat.toml")),
    (
        "rules/payments.toml",
        include_str!("../../rules/payments.toml"),
    ),
    ("rules/ai.toml", include_str!("../../rules/ai.toml")),
    (
        "rules/registries.toml",
        include_str!("../../rules/registries.toml"),
    ),
    ("rules/infra.toml", include_str!("../../rules/infra.toml")),
    (
        "rules/observability.toml",
        include_str!("../../rules/observability.toml"),
    ),
    (
        "rules/messaging.toml",
        include_str!("../../rules/messaging.toml"),
    ),
    ("rules/saas.toml", include_str!("../../rules/saas.toml")),
    ("rules/jwt.toml", include_str!("../../rules/jwt.toml")),
    (
        "rules/database.toml",
        include_str!("../../rules/database.toml"),
    ),
    ("rules/config.toml", include_str!("../../rules/config.toml")),
    (
        "rules/generic.toml",
        include_str!("../../rules/generic.toml"),
    ),
];

impl Default for RuleSet {
    /// An empty set.
    fn default() -> RuleSet {
        RuleSet::from_rules(Vec::new())
    }
}

impl RuleSet {
    /// The rules shipped with trustmap (`rules/*.toml`, embedded at compile time).
    ///
    /// # Panics
    ///
    /// If an embedded rule file is invalid; `tests/it/secret_rules.rs` guarantees they are not.
    pub fn builtin() -> RuleSet {
        let mut rules = Vec::new();
        for (file, text) in BUILTIN {
            match load::parse_native(text, file) {
                Ok(mut r) => rules.append(&mut r),
                Err(e) => panic!("builtin secret rules are invalid: {e}"),
            }
        }
        RuleSet::from_rules(rules)
    }

    /// Loads a rule file in trustmap's own format (see `rules/*.toml`).
    pub fn from_toml(text: &str, file: &str) -> Result<RuleSet, RuleError> {
        Ok(RuleSet::from_rules(load::parse_native(text, file)?))
    }

    /// Imports a gitleaks configuration (`[[rules]]` with `id`, `description`, `regex`,
    /// `secretGroup`, `entropy`, `keywords`, `path`, and `[rules.allowlist]` /
    /// `[[rules.allowlists]]` / top-level `[allowlist]` with `regexes`, `regexTarget`,
    /// `stopwords`, `paths`, `condition`).
    ///
    /// Path-only rules (no `regex`) describe files, not secrets, and are skipped.
    /// Rules without `keywords` get keywords derived from their regex's literal prefixes,
    /// or, failing that, are run over the whole content (slow).
    pub fn from_gitleaks_toml(text: &str, file: &str) -> Result<RuleSet, RuleError> {
        Ok(RuleSet::from_rules(load::parse_gitleaks(text, file)?))
    }

    /// Adds `other`'s rules (a rule whose id is already present replaces the old one)
    /// and rebuilds the prefilter.
    pub fn extend(&mut self, other: RuleSet) {
        let mut rules = std::mem::take(&mut self.rules);
        for rule in other.rules {
            rules.retain(|r| r.id != rule.id);
            rules.push(rule);
        }
        *self = RuleSet::from_rules(rules);
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the set has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[SecretRule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&SecretRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    fn from_rules(rules: Vec<SecretRule>) -> RuleSet {
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut unkeyed = Vec::new();
        let mut scoped = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            if rule.path.is_some() {
                scoped.push(i);
            }
            // A one-byte keyword would make the prefilter useless: scan such rules whole.
            if rule.keywords.is_empty() || rule.keywords.iter().any(|k| k.len() < 2) {
                unkeyed.push(i);
                continue;
            }
            for (k, kw) in rule.keywords.iter().enumerate() {
                let p = match patterns.iter().position(|p| p == kw) {
                    Some(p) => p,
                    None => {
                        patterns.push(kw.clone());
                        owners.push(Vec::new());
                        patterns.len() - 1
                    }
                };
                let exact = rule
                    .exact_keywords
                    .then(|| rule.keywords_exact[k].as_bytes().into());
                owners[p].push((i, exact));
            }
        }
        // The configuration markers ride on the same pass (case-insensitive there; their
        // case is checked at each hit).
        for word in crate::config::marker_words() {
            let kw = word.to_ascii_lowercase();
            let p = match patterns.iter().position(|p| *p == kw) {
                Some(p) => p,
                None => {
                    patterns.push(kw);
                    owners.push(Vec::new());
                    patterns.len() - 1
                }
            };
            owners[p].push((MARKER, Some(word.into_bytes().into_boxed_slice())));
        }
        let prefilter = (!patterns.is_empty()).then(|| Prefilter::new(&patterns));
        let unscoped_ids: Vec<usize> = (0..patterns.len())
            .filter(|&p| {
                owners[p]
                    .iter()
                    .any(|(r, _)| *r == MARKER || rules[*r].path.is_none())
            })
            .collect();
        let unscoped = (!scoped.is_empty() && !unscoped_ids.is_empty()).then(|| {
            let kws: Vec<String> = unscoped_ids.iter().map(|&p| patterns[p].clone()).collect();
            (Prefilter::new(&kws), unscoped_ids)
        });
        RuleSet {
            rules,
            prefilter,
            unscoped,
            owners,
            scoped,
            unkeyed,
        }
    }

    /// Finds the secrets in `data`, a file at `path` (relative, forward slashes; rules may
    /// be scoped by path). Returns matches sorted by position. Binary content is skipped.
    pub fn scan(&self, data: &[u8], path: &str) -> Vec<SecretMatch> {
        self.scan_bounded(data, path).matches
    }

    /// [`RuleSet::scan`], saying whether [`MAX_MATCHES`] cut the search short.
    pub fn scan_bounded(&self, data: &[u8], path: &str) -> SecretScan {
        if is_binary(data) {
            return SecretScan::default();
        }
        let mut cut_short = None;
        let mut found: Vec<Candidate> = Vec::new();
        // Per-rule state, allocated on the first keyword hit only.
        let mut state: Vec<RuleState> = Vec::new();
        let any_scoped = self.scoped.iter().any(|&r| self.rules[r].applies_to(path));
        let (prefilter, ids) = match (&self.prefilter, &self.unscoped) {
            (_, Some((pf, ids))) if !any_scoped => (Some(pf), Some(ids.as_slice())),
            (pf, _) => (pf.as_ref(), None),
        };
        let mut config_markers = false;
        if let Some(prefilter) = prefilter {
            prefilter.for_each(data, |k, hs, he| {
                let k = ids.map_or(k, |ids| ids[k]);
                if !config_markers {
                    config_markers = self.owners[k].iter().any(|(ri, exact)| {
                        *ri == MARKER && exact.as_deref() == Some(&data[hs..he])
                    });
                }
                if cut_short.is_some() {
                    return;
                }
                if found.len() >= MAX_MATCHES {
                    cut_short = Some(hs);
                    return;
                }
                for (ri, exact) in &self.owners[k] {
                    if *ri == MARKER {
                        continue;
                    }
                    if let Some(exact) = exact
                        && data[hs..he] != **exact
                    {
                        continue;
                    }
                    if state.is_empty() {
                        state = vec![RuleState::default(); self.rules.len()];
                    }
                    let rule = &self.rules[*ri];
                    let st = &mut state[*ri];
                    if st.path == PathState::Unknown {
                        st.path = if rule.applies_to(path) {
                            PathState::Yes
                        } else {
                            PathState::No
                        };
                    }
                    if st.path == PathState::No {
                        continue;
                    }
                    let (ws, we) = window(data, hs, he);
                    if ws >= st.start && we <= st.end || !rule.worth_trying(data, he, we) {
                        continue;
                    }
                    if st.pending && ws < st.end {
                        // Overlaps the window waiting to be scanned: grow it instead.
                        st.end = st.end.max(we);
                        continue;
                    }
                    if st.pending {
                        crate::timing::time(crate::timing::Phase::Confirm, || {
                            rule.scan_window(*ri, data, st.start, st.end, path, &mut found)
                        });
                    }
                    st.start = ws;
                    st.end = we;
                    st.pending = true;
                }
            });
            for (ri, st) in state.iter().enumerate() {
                if st.pending {
                    crate::timing::time(crate::timing::Phase::Confirm, || {
                        self.rules[ri].scan_window(ri, data, st.start, st.end, path, &mut found)
                    });
                }
            }
        }
        for &ri in &self.unkeyed {
            let rule = &self.rules[ri];
            if rule.applies_to(path) {
                crate::timing::time(crate::timing::Phase::Confirm, || {
                    rule.scan_window(ri, data, 0, data.len(), path, &mut found)
                });
            }
        }
        if found.len() > MAX_MATCHES {
            found.sort_unstable_by_key(|c| c.start);
            cut_short = cut_short.or(Some(found[MAX_MATCHES].start));
            found.truncate(MAX_MATCHES);
        }
        SecretScan {
            matches: self.finish(found, data),
            cut_short,
            config_markers,
        }
    }

    /// Sorts, deduplicates and lets provider rules win over generic ones.
    fn finish(&self, mut found: Vec<Candidate>, data: &[u8]) -> Vec<SecretMatch> {
        if found.is_empty() {
            return Vec::new();
        }
        found.sort_unstable_by_key(|c| (c.start, c.end, c.rule));
        found.dedup();
        // Specific matches in start order, with the running maximum of their ends: a
        // generic match overlaps one iff some specific match starting before its end ends
        // after its start.
        let mut max_end = 0;
        let specific: Vec<(usize, usize)> = found
            .iter()
            .filter(|c| !self.rules[c.rule].generic)
            .map(|c| {
                max_end = max_end.max(c.end);
                (c.start, max_end)
            })
            .collect();
        found
            .into_iter()
            .filter(|c| {
                if !self.rules[c.rule].generic {
                    return true;
                }
                let before = specific.partition_point(|&(s, _)| s < c.end);
                before == 0 || specific[before - 1].1 <= c.start
            })
            .map(|c| {
                let rule = &self.rules[c.rule];
                SecretMatch {
                    rule: rule.id.clone(),
                    provider: rule.provider.clone(),
                    start: c.start,
                    end: c.end,
                    value: String::from_utf8_lossy(&data[c.start..c.end]).into_owned(),
                }
            })
            .collect()
    }
}

/// True for a value that is a placeholder or a reference (`${VAR}`, `<token>`, `changeme`,
/// `process.env.X`...), not a secret.
pub fn is_placeholder(value: &[u8]) -> bool {
    filters::is_placeholder(value)
}

/// True when the leading [`BINARY_SNIFF`] bytes hold a NUL.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Candidate {
    rule: usize,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum PathState {
    #[default]
    Unknown,
    Yes,
    No,
}

#[derive(Debug, Clone, Copy, Default)]
struct RuleState {
    path: PathState,
    /// The window waiting to be scanned (`pending`), else the last one scanned.
    start: usize,
    end: usize,
    pending: bool,
}

/// The window around a keyword hit `[hs, he)`: its line, clipped.
fn window(data: &[u8], hs: usize, he: usize) -> (usize, usize) {
    let lo = hs.saturating_sub(WINDOW_BEFORE);
    let start = match memchr::memrchr(b'\n', &data[lo..hs]) {
        Some(i) => lo + i + 1,
        None => lo,
    };
    let hi = (he + WINDOW_AFTER).min(data.len());
    let end = match memchr::memchr(b'\n', &data[he..hi]) {
        Some(i) => he + i,
        None => hi,
    };
    (start, end)
}

/// True when `rest` (what follows a keyword) continues an identifier, then has an optional
/// closing quote, blanks, and `:` or `=`.
fn assigned_after(rest: &[u8]) -> bool {
    let mut i = 0;
    while i < rest.len()
        && (rest[i].is_ascii_alphanumeric() || matches!(rest[i], b'_' | b'-' | b'.'))
    {
        i += 1;
    }
    if i < rest.len() && matches!(rest[i], b'"' | b'\'' | b'`') {
        i += 1;
    }
    while i < rest.len() && matches!(rest[i], b' ' | b'\t') {
        i += 1;
    }
    i < rest.len() && matches!(rest[i], b':' | b'=')
}

/// The line holding `data[s..e]` (bounded like a window).
fn line_of(data: &[u8], s: usize, e: usize) -> &[u8] {
    let (ls, le) = window(data, s, e);
    &data[ls..le]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_words_are_seen_in_their_case_with_or_without_scoped_rules() {
        let set = RuleSet::builtin();
        assert!(
            !set.scoped.is_empty(),
            "the builtin set has path-scoped rules"
        );
        let seen = |text: &str, path: &str| set.scan_bounded(text.as_bytes(), path).config_markers;
        for path in ["conf/nginx.conf", ".github/workflows/ci.yml", "a/.env"] {
            assert!(seen("  ssl_certificate /etc/ssl/a.crt;\n", path), "{path}");
            assert!(seen(
                "<VirtualHost *:443>\nSSLCertificateFile a.crt\n",
                path
            ));
            assert!(seen("sslcertificatefile a.crt\n", path));
            assert!(seen("x = filebase64(\"k.pem\")\n", path));
            // Same letters, another case: not a word the parsers read.
            assert!(!seen("  SSL_CERTIFICATE /etc/ssl/a.crt;\n", path), "{path}");
            assert!(!seen("SslCertificateFile a.crt\n", path));
            assert!(!seen("server {\n  listen 443;\n  root /srv;\n}\n", path));
        }
        // Binary content is not a configuration.
        assert!(!seen("\0\0 ssl_certificate a.crt;", "x.bin"));
        // Every word of the list is found, at either parity of its start.
        for word in crate::config::marker_words() {
            assert!(seen(&format!("{word} "), "x"), "{word}");
            assert!(seen(&format!(" {word}"), "x"), "{word}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let m = SecretMatch {
            rule: "x".into(),
            provider: "y".into(),
            start: 0,
            end: 30,
            value: "supersecretvalue-that-must-not-leak".into(),
        };
        let shown = format!("{m:?}");
        assert!(!shown.contains("must-not-leak"), "{shown}");
    }

    #[test]
    fn window_is_the_line() {
        let data = b"first line\nkey = value here\nlast";
        let hs = 11 + 4;
        let (s, e) = window(data, hs, hs + 1);
        assert_eq!(&data[s..e], b"key = value here");
    }

    #[test]
    fn binary_is_skipped() {
        let set = RuleSet::builtin();
        let mut data = b"\0\x01\x02".to_vec();
        data.extend_from_slice(b" ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij ");
        assert!(set.scan(&data, "a.bin").is_empty());
    }

    #[test]
    fn send_sync() {
        fn is<T: Send + Sync>() {}
        is::<RuleSet>();
    }
}
