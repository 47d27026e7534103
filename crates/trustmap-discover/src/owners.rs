//! Owners inferred from the tree: GitHub/GitLab `CODEOWNERS` files (at the root, in
//! `.github/` or in `docs/`, first found wins, as GitHub does). Kubernetes labels are read by
//! [`crate::k8s`] and travel on each [`crate::Found`].
//!
//! Matching follows CODEOWNERS semantics: gitignore-style patterns, the last matching line
//! wins, a line with no owners un-assigns. Patterns become `globset` globs.

use globset::{Glob, GlobBuilder, GlobMatcher};
use std::path::Path;
use trustmap_core::Owner;

/// Where CODEOWNERS may live, in GitHub's order of precedence.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

#[derive(Debug)]
struct Rule {
    matchers: Vec<GlobMatcher>,
    owners: Vec<String>,
    line: usize,
}

/// The parsed CODEOWNERS of one scan root.
#[derive(Debug)]
pub struct CodeOwners {
    /// Path of the file relative to the root, for `source`.
    file: String,
    rules: Vec<Rule>,
}

impl CodeOwners {
    /// Loads the first CODEOWNERS found under `root`, if any.
    pub fn load(root: &Path) -> Option<CodeOwners> {
        LOCATIONS.iter().find_map(|loc| {
            let text = std::fs::read_to_string(root.join(loc)).ok()?;
            Some(CodeOwners::parse(loc, &text))
        })
    }

    /// Parses CODEOWNERS text; lines that are not valid patterns are skipped.
    pub fn parse(file: &str, text: &str) -> CodeOwners {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split(" #").next().unwrap_or("").trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                continue; // comments and GitLab [Section] headers
            }
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            let owners: Vec<String> = parts.map(str::to_string).collect();
            let matchers = globs(pattern);
            if !matchers.is_empty() {
                rules.push(Rule {
                    matchers,
                    owners,
                    line: i + 1,
                });
            }
        }
        CodeOwners {
            file: file.to_string(),
            rules,
        }
    }

    /// Owners of a root-relative, forward-slash path: the last matching rule wins.
    pub fn owners_of(&self, path: &str) -> Vec<Owner> {
        let path = path.trim_start_matches('/');
        let Some(rule) = self
            .rules
            .iter()
            .rev()
            .find(|r| r.matchers.iter().any(|m| m.is_match(path)))
        else {
            return Vec::new();
        };
        rule.owners
            .iter()
            .map(|o| Owner {
                name: o.clone(),
                role: "owner".into(),
                source: format!("{}:{}", self.file, rule.line),
            })
            .collect()
    }
}

/// gitignore-style pattern -> globs over root-relative paths.
fn globs(pattern: &str) -> Vec<GlobMatcher> {
    let anchored = pattern.starts_with('/') || pattern.trim_end_matches('/').contains('/');
    let dir_only = pattern.ends_with('/');
    let p = pattern.trim_start_matches('/').trim_end_matches('/');
    if p.is_empty() {
        return Vec::new();
    }
    let base = if anchored {
        p.to_string()
    } else {
        format!("**/{p}")
    };
    // `docs/*` owns docs' files but not nested ones (GitHub's documented behaviour), so a
    // trailing wildcard does not extend into subdirectories.
    let mut out = Vec::new();
    if !p.ends_with('*') {
        out.push(format!("{base}/**"));
    }
    if !dir_only {
        out.push(base);
    }
    out.iter()
        .filter_map(|g| {
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .or_else(|_| Glob::new(g))
                .ok()
                .map(|g| g.compile_matcher())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &CodeOwners, p: &str) -> Vec<String> {
        c.owners_of(p).into_iter().map(|o| o.name).collect()
    }

    #[test]
    fn last_match_wins_and_patterns_follow_gitignore() {
        let c = CodeOwners::parse(
            "CODEOWNERS",
            "# comment\n* @acme/everyone\n/services/payments/ @acme/payments @alice\n*.tf @acme/infra\ndocs/* @acme/docs\n/pki/private/\n",
        );
        assert_eq!(names(&c, "README.md"), ["@acme/everyone"]);
        assert_eq!(
            names(&c, "services/payments/tls/server.crt"),
            ["@acme/payments", "@alice"]
        );
        assert_eq!(names(&c, "infra/deep/main.tf"), ["@acme/infra"]);
        assert_eq!(names(&c, "docs/a.md"), ["@acme/docs"]);
        // `docs/*` does not reach into subdirectories.
        assert_eq!(names(&c, "docs/x/a.md"), ["@acme/everyone"]);
        // A rule with no owners un-assigns.
        assert!(names(&c, "pki/private/ca.key").is_empty());
        assert_eq!(c.owners_of("services/payments/a")[0].source, "CODEOWNERS:3");
    }

    #[test]
    fn unanchored_names_match_at_any_depth() {
        let c = CodeOwners::parse("CODEOWNERS", "deploy/ @acme/platform\nsecrets @acme/sec\n");
        assert_eq!(names(&c, "deploy/id_ed25519"), ["@acme/platform"]);
        assert_eq!(names(&c, "a/b/secrets/x"), ["@acme/sec"]);
        // GitHub: "apps/" owns an apps directory anywhere in the repository.
        assert_eq!(names(&c, "a/deploy/x"), ["@acme/platform"]);
        assert!(names(&c, "deployment/x").is_empty());
    }
}
