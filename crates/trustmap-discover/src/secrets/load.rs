//! Rule files: trustmap's own format (`rules/*.toml`) and gitleaks configurations, each
//! read in two steps (raw serde structs with spans -> validated [`SecretRule`]s) so that
//! errors name the file, the line and the field.

use std::ops::Range;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use toml::Spanned;
use trustmap_core::Severity;

use super::{Allow, Example, RuleError, SecretGroup, SecretRule, Target, Validator};

/// Expands the template markers used by rule examples so that fake tokens are visibly
/// synthetic and never appear literally in the repository.
///
/// `«SPEC*N»` becomes `N` characters cycling through `SPEC`, where `SPEC` is one of the
/// alphabets `hex` (0-9a-f), `HEX` (0-9A-F), `alnum` (A-Za-z0-9), `upper` (A-Z), `lower`
/// (a-z), `digit` (0-9), `b64` (A-Za-z0-9+/), `b64url` (A-Za-z0-9-_), `bech32`
/// (uppercase bech32 charset), or else the literal text itself. `«alnum*6»` is `ABCDEF`,
/// `«ab*5»` is `ababa`. Text without markers is returned unchanged.
pub fn expand_template(text: &str) -> String {
    expand_with(text, |chars, n| chars.iter().cycle().take(n).collect())
}

/// [`expand_template`] with characters drawn by `next` (an index source, e.g. a seeded
/// PRNG), for tests that a rule accepts any value of its shape, not just one.
pub fn expand_template_random(text: &str, mut next: impl FnMut() -> u64) -> String {
    expand_with(text, |chars, n| {
        (0..n)
            .map(|_| chars[(next() % chars.len() as u64) as usize])
            .collect()
    })
}

fn expand_with(text: &str, mut fill: impl FnMut(&[char], usize) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('«') {
        out.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        let Some(close) = after.find('»') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &after[..close];
        match spec
            .rsplit_once('*')
            .and_then(|(a, n)| Some((a, n.parse::<usize>().ok()?)))
        {
            Some((alphabet, n)) if !alphabet.is_empty() => {
                let chars: Vec<char> = alphabet_of(alphabet).chars().collect();
                out.push_str(&fill(&chars, n));
            }
            _ => {
                out.push('«');
                out.push_str(spec);
                out.push('»');
            }
        }
        rest = &after[close + '»'.len_utf8()..];
    }
    out.push_str(rest);
    out
}

fn alphabet_of(name: &str) -> &str {
    match name {
        "hex" => "0123456789abcdef",
        "HEX" => "0123456789ABCDEF",
        "alnum" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "upper" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "lower" => "abcdefghijklmnopqrstuvwxyz",
        "alpha" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        "digit" => "0123456789",
        "b64" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "b64url" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        "bech32" => "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
        other => other,
    }
}

/// 1-based line of byte offset `at` in `text`.
fn line_at(text: &str, at: usize) -> usize {
    1 + text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            file: self.file.to_string(),
            line: line_at(self.text, span.start),
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    fn toml_err(&self, e: toml::de::Error) -> RuleError {
        let line = e.span().map_or(1, |s| line_at(self.text, s.start));
        let message = e.message().to_string();
        // serde names the field in messages like "missing field `regex`".
        let field = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .map(str::to_string);
        RuleError {
            file: self.file.to_string(),
            line,
            field,
            message,
        }
    }

    fn regex(&self, pattern: &Spanned<String>, field: &str) -> Result<Regex, RuleError> {
        compile(pattern.get_ref()).map_err(|e| self.err(pattern.span(), field, e))
    }
}

/// Compiles a rule regex over bytes; ASCII classes first (faster), Unicode if needed.
fn compile(pattern: &str) -> Result<Regex, String> {
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .size_limit(32 << 20)
            .dfa_size_limit(16 << 20)
            .build()
    };
    build(false).or_else(|_| build(true)).map_err(|e| {
        // regex errors are multi-line diagrams; keep the last, descriptive line.
        let text = e.to_string();
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid regex")
            .trim()
            .to_string()
    })
}

fn secret_group(re: &Regex) -> SecretGroup {
    match re.capture_names().position(|n| n == Some("secret")) {
        Some(i) => SecretGroup::Index(i),
        None => SecretGroup::FirstNonEmpty,
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

// ---------------------------------------------------------------------------------------
// trustmap's format

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeFile {
    #[serde(default)]
    rules: Vec<Spanned<NativeRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeRule {
    id: Spanned<String>,
    provider: Spanned<String>,
    description: Spanned<String>,
    #[serde(default)]
    severity: Option<Spanned<String>>,
    keywords: Spanned<Vec<String>>,
    #[serde(default)]
    exact_keywords: bool,
    regex: Spanned<String>,
    #[serde(default)]
    entropy: Option<Spanned<f64>>,
    #[serde(default)]
    path: Option<Spanned<String>>,
    /// Regexes over the secret: a match means "not a secret".
    #[serde(default)]
    allow: Vec<Spanned<String>>,
    /// Case-insensitive substrings of the secret that mean "not a secret".
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    validate: Option<Spanned<String>>,
    #[serde(default)]
    generic: bool,
    /// A literal that must follow the keyword in its window for the regex to be tried.
    #[serde(default)]
    requires: Option<Spanned<String>>,
    /// The keyword must end an assigned name (`name = `, `name: `, `"name": `).
    #[serde(default)]
    assignment: bool,
    #[serde(default)]
    examples: Vec<Spanned<RawExample>>,
    #[serde(default)]
    negatives: Vec<Spanned<RawExample>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExample {
    text: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default)]
    path: Option<String>,
}

/// Parses and validates a rule file in trustmap's format.
pub(crate) fn parse_native(text: &str, file: &str) -> Result<Vec<SecretRule>, RuleError> {
    let cx = Ctx { text, file };
    let raw: NativeFile = toml::from_str(text).map_err(|e| cx.toml_err(e))?;
    let mut out = Vec::with_capacity(raw.rules.len());
    for spanned in raw.rules {
        let rule_span = spanned.span();
        let r = spanned.into_inner();
        if !is_kebab(r.id.get_ref()) {
            return Err(cx.err(
                r.id.span(),
                "id",
                "must be kebab-case ([a-z0-9]+ joined by -)",
            ));
        }
        if r.provider.get_ref().trim().is_empty() {
            return Err(cx.err(r.provider.span(), "provider", "must not be empty"));
        }
        if r.description.get_ref().trim().is_empty() {
            return Err(cx.err(r.description.span(), "description", "must not be empty"));
        }
        let severity = match &r.severity {
            None => Severity::Medium,
            Some(s) => Severity::parse(s.get_ref()).ok_or_else(|| {
                cx.err(
                    s.span(),
                    "severity",
                    "expected info, low, medium, high or critical",
                )
            })?,
        };
        if r.keywords.get_ref().is_empty() {
            return Err(cx.err(
                r.keywords.span(),
                "keywords",
                "at least one keyword is required",
            ));
        }
        if let Some(k) = r.keywords.get_ref().iter().find(|k| k.len() < 2) {
            return Err(cx.err(
                r.keywords.span(),
                "keywords",
                format!("keyword {k:?} is too short (2 bytes at least)"),
            ));
        }
        let regex = cx.regex(&r.regex, "regex")?;
        let entropy = match &r.entropy {
            Some(e) if !(0.0..=8.0).contains(e.get_ref()) => {
                return Err(cx.err(e.span(), "entropy", "must be between 0 and 8 bits per char"));
            }
            Some(e) => Some(*e.get_ref() as f32),
            None => None,
        };
        let path = r.path.as_ref().map(|p| cx.regex(p, "path")).transpose()?;
        let allow_regexes = r
            .allow
            .iter()
            .map(|a| cx.regex(a, "allow"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut allow = Vec::new();
        if !allow_regexes.is_empty() || !r.stopwords.is_empty() {
            allow.push(Allow {
                target: Target::Secret,
                regexes: allow_regexes,
                stopwords: Vec::new(),
                paths: Vec::new(),
                all: false,
            });
            if !r.stopwords.is_empty() {
                allow.push(Allow {
                    target: Target::Secret,
                    regexes: Vec::new(),
                    stopwords: r.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
                    paths: Vec::new(),
                    all: false,
                });
            }
        }
        let validate = match &r.validate {
            None => None,
            Some(v) if v.get_ref() == "jwt" => Some(Validator::Jwt),
            Some(v) if v.get_ref() == "basic-auth" => Some(Validator::BasicAuth),
            Some(v) => {
                return Err(cx.err(
                    v.span(),
                    "validate",
                    "unknown validator (known: jwt, basic-auth)",
                ));
            }
        };
        let mut examples = Vec::new();
        for (list, positive) in [(&r.examples, true), (&r.negatives, false)] {
            for ex in list {
                let e = ex.get_ref();
                let field = if positive { "examples" } else { "negatives" };
                if positive != e.secret.is_some() {
                    return Err(cx.err(
                        ex.span(),
                        field,
                        if positive {
                            "a positive example needs `secret`"
                        } else {
                            "a negative example has no `secret`"
                        },
                    ));
                }
                examples.push(Example {
                    text: expand_template(&e.text),
                    secret: e.secret.as_deref().map(expand_template),
                    path: e.path.clone().unwrap_or_else(|| "example.txt".to_string()),
                    template: e.text.clone(),
                });
            }
        }
        if !examples.iter().any(|e| e.secret.is_some()) {
            return Err(cx.err(rule_span, "examples", "every rule needs a positive example"));
        }
        if let Some(req) = &r.requires
            && req.get_ref().is_empty()
        {
            return Err(cx.err(req.span(), "requires", "must not be empty"));
        }
        let keywords_exact = r.keywords.get_ref().clone();
        out.push(SecretRule {
            id: r.id.into_inner(),
            provider: r.provider.into_inner(),
            description: r.description.into_inner(),
            severity,
            keywords: keywords_exact
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            exact_keywords: r.exact_keywords,
            keywords_exact,
            entropy,
            generic: r.generic,
            source: file.to_string(),
            examples,
            group: secret_group(&regex),
            regex,
            path,
            allow,
            validate,
            requires: r
                .requires
                .map(|q| q.into_inner().into_bytes().into_boxed_slice()),
            assignment: r.assignment,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// gitleaks' format

#[derive(Deserialize)]
struct GlFile {
    #[serde(default)]
    rules: Vec<Spanned<GlRule>>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Deserialize)]
struct GlRule {
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<Spanned<String>>,
    #[serde(default, rename = "secretGroup")]
    secret_group: Option<Spanned<i64>>,
    #[serde(default)]
    entropy: Option<Spanned<f64>>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    path: Option<Spanned<String>>,
    #[serde(default)]
    allowlist: Option<GlAllow>,
    #[serde(default)]
    allowlists: Vec<GlAllow>,
}

#[derive(Deserialize)]
struct GlAllow {
    #[serde(default)]
    condition: Option<Spanned<String>>,
    #[serde(default, rename = "regexTarget")]
    regex_target: Option<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

impl Ctx<'_> {
    fn gl_allow(&self, a: &GlAllow, prefix: &str) -> Result<Allow, RuleError> {
        let target = match &a.regex_target {
            None => Target::Secret,
            Some(t) => match t.get_ref().as_str() {
                "secret" | "" => Target::Secret,
                "match" => Target::Match,
                "line" => Target::Line,
                _ => {
                    return Err(self.err(
                        t.span(),
                        &format!("{prefix}.regexTarget"),
                        "expected secret, match or line",
                    ));
                }
            },
        };
        let all = match &a.condition {
            None => false,
            Some(c) => match c.get_ref().to_ascii_uppercase().as_str() {
                "OR" | "" => false,
                "AND" => true,
                _ => {
                    return Err(self.err(
                        c.span(),
                        &format!("{prefix}.condition"),
                        "expected OR or AND",
                    ));
                }
            },
        };
        Ok(Allow {
            target,
            regexes: a
                .regexes
                .iter()
                .map(|r| self.regex(r, &format!("{prefix}.regexes")))
                .collect::<Result<_, _>>()?,
            stopwords: a.stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
            paths: a
                .paths
                .iter()
                .map(|r| self.regex(r, &format!("{prefix}.paths")))
                .collect::<Result<_, _>>()?,
            all,
        })
    }
}

/// Parses a gitleaks configuration into rules.
pub(crate) fn parse_gitleaks(text: &str, file: &str) -> Result<Vec<SecretRule>, RuleError> {
    let cx = Ctx { text, file };
    let raw: GlFile = toml::from_str(text).map_err(|e| cx.toml_err(e))?;
    let mut global = Vec::new();
    for a in raw.allowlist.iter().chain(&raw.allowlists) {
        global.push(cx.gl_allow(a, "allowlist")?);
    }
    let mut out = Vec::new();
    for spanned in raw.rules {
        let rule_span = spanned.span();
        let r = spanned.into_inner();
        let Some(id) = r.id else {
            return Err(cx.err(rule_span, "id", "missing"));
        };
        if id.get_ref().trim().is_empty() {
            return Err(cx.err(id.span(), "id", "must not be empty"));
        }
        // Path-only rules flag files, not secrets.
        let Some(pattern) = r.regex else { continue };
        let regex = cx.regex(&pattern, "regex")?;
        let group = match &r.secret_group {
            Some(g) if *g.get_ref() != 0 => {
                let n = *g.get_ref();
                if n < 0 || n as usize >= regex.captures_len() {
                    return Err(cx.err(
                        g.span(),
                        "secretGroup",
                        format!(
                            "the regex has {} capture group(s), not {n}",
                            regex.captures_len() - 1
                        ),
                    ));
                }
                SecretGroup::Index(n as usize)
            }
            _ => SecretGroup::FirstNonEmpty,
        };
        let entropy = match &r.entropy {
            Some(e) if !(0.0..=8.0).contains(e.get_ref()) => {
                return Err(cx.err(e.span(), "entropy", "must be between 0 and 8 bits per char"));
            }
            Some(e) => Some(*e.get_ref() as f32),
            None => None,
        };
        let path = r.path.as_ref().map(|p| cx.regex(p, "path")).transpose()?;
        let mut allow = global.clone();
        for a in r.allowlist.iter().chain(&r.allowlists) {
            allow.push(cx.gl_allow(a, "allowlists")?);
        }
        let keywords: Vec<String> = if r.keywords.is_empty() {
            derive_keywords(pattern.get_ref()).unwrap_or_default()
        } else {
            r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect()
        };
        let mut keywords_dedup: Vec<String> = Vec::new();
        for k in keywords {
            if !k.is_empty() && !keywords_dedup.contains(&k) {
                keywords_dedup.push(k);
            }
        }
        let id = id.into_inner();
        let provider = id.split('-').next().unwrap_or(&id).to_string();
        out.push(SecretRule {
            description: r.description.unwrap_or_else(|| id.clone()),
            id,
            provider,
            severity: Severity::Medium,
            keywords_exact: keywords_dedup.clone(),
            keywords: keywords_dedup,
            exact_keywords: false,
            entropy,
            generic: false,
            source: file.to_string(),
            examples: Vec::new(),
            regex,
            group,
            path,
            allow,
            validate: None,
            requires: None,
            assignment: false,
        });
    }
    Ok(out)
}

/// Lowercase literal prefixes every match of `pattern` starts with, when there is a small
/// finite set of them, each at least 3 bytes long.
fn derive_keywords(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = match regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
    {
        Ok(hir) => hir,
        Err(_) => regex_syntax::Parser::new().parse(pattern).ok()?,
    };
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 256 {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for lit in lits {
        let bytes = lit.as_bytes();
        if bytes.len() < 3 {
            return None;
        }
        let k = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(expand_template("a«alnum*6»b"), "aABCDEFb");
        assert_eq!(expand_template("«ab*5»"), "ababa");
        assert_eq!(expand_template("«hex*18»"), "0123456789abcdef01");
        assert_eq!(expand_template("no markers"), "no markers");
        assert_eq!(expand_template("«broken"), "«broken");
    }

    #[test]
    fn derived_keywords() {
        assert_eq!(
            derive_keywords(r"ghp_[0-9a-zA-Z]{36}"),
            Some(vec!["ghp_".into()])
        );
        assert_eq!(
            derive_keywords(r"(?i)(?:xoxb|xoxp)-[0-9]+"),
            Some(vec!["xoxb-".into(), "xoxp-".into()])
        );
        assert_eq!(derive_keywords(r"[a-z]+secret"), None);
    }
}
