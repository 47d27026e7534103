//! Asset filters ([`AssetQuery`]) as SQL, and path globs on both backends.
//!
//! A glob means the same on both: SQLite's `GLOB` (`*` any run of characters, `/` included;
//! `?` one character; `[abc]`, `[a-c]`, `[^x]` one character of, or not of, a set; case
//! sensitive; everything else literal). PostgreSQL gets the same glob as an anchored POSIX
//! regular expression (`~ '^...$'`), with a `LIKE 'prefix%'` on the glob's literal prefix
//! in front so the path index narrows the rows first.

use crate::QUANTUM_VULNERABLE;
use crate::db::{Backend, Val};
use crate::error::Error;
use roaring::RoaringBitmap;
use trustmap_core::model::AssetKind;
use trustmap_core::timestamp::Timestamp;

/// Filters for [`crate::Store::assets`]; all given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    pub kind: Option<AssetKind>,
    /// Certificates whose notAfter is at or after `now` and at or before this instant.
    pub expiring_before: Option<Timestamp>,
    /// Certificates whose notAfter is before `now`.
    pub expired: bool,
    /// "Now" for the two filters above.
    pub now: Timestamp,
    /// Effective owner (explicit, else inferred) is this name; a bare team name (no `@` or
    /// `/`) also matches it under any `@org/` prefix: `edge` matches `@acme/edge`.
    pub owner: Option<String>,
    /// No owner at all.
    pub unowned: bool,
    /// Issuer contains this text (case-insensitive).
    pub issuer: Option<String>,
    /// Key algorithm (case-insensitive): RSA, EC, Ed25519, ...
    pub algorithm: Option<String>,
    /// Some place's path (relative to its scan root) matches this glob: `*`, `?`, `[a-c]`,
    /// `[^x]`; `*` also crosses `/`. Without `include_gone`, only places the latest scan of
    /// their host and roots saw count.
    pub path_glob: Option<String>,
    /// Some place is on this host (exactly). With `path_glob`, the same place must match both.
    /// Without `include_gone`, only places the latest scan of their host and roots saw count.
    pub host: Option<String>,
    /// Classical public-key algorithm ([`QUANTUM_VULNERABLE`]).
    pub quantum_vulnerable: bool,
    /// Also list assets that the latest scan of their roots no longer saw (gone, rotated away).
    pub include_gone: bool,
    /// At most this many rows.
    pub limit: Option<usize>,
}

/// SQL: the asset was seen by the latest scan of some set of roots.
const PRESENT: &str = "a.live > 0";

/// One element of a parsed glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Literal(char),
    /// `?`
    One,
    /// `*`
    Any,
    /// `[...]`: ranges (a single character is a range of one), negated with `^`.
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Parses a glob as SQLite's GLOB reads it; refuses what SQLite would silently never match
/// (an unterminated `[`) and ranges written backwards, which PostgreSQL would reject.
pub(crate) fn parse_glob(glob: &str) -> Result<Vec<Glob>, Error> {
    let bad = |why: &str| Error::InvalidInput(format!("bad path glob {glob:?}: {why}"));
    let mut out = Vec::new();
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                if out.last() != Some(&Glob::Any) {
                    out.push(Glob::Any)
                }
            }
            '?' => out.push(Glob::One),
            '[' => {
                // As SQLite: `^` first negates; a `]` first is a member; `-` between two
                // members is a range, elsewhere a member.
                let negated = chars.next_if_eq(&'^').is_some();
                let mut ranges: Vec<(char, char)> = Vec::new();
                if chars.next_if_eq(&']').is_some() {
                    ranges.push((']', ']'));
                }
                // (A leading `]` starts no range, as in SQLite.)
                let mut prior: Option<char> = None;
                let mut closed = false;
                while let Some(m) = chars.next() {
                    if m == ']' {
                        closed = true;
                        break;
                    }
                    match (m, prior, chars.peek()) {
                        ('-', Some(lo), Some(&hi)) if hi != ']' => {
                            chars.next();
                            if hi < lo {
                                return Err(bad(&format!("range {lo}-{hi} is backwards")));
                            }
                            // The single `lo` pushed before is part of the range now.
                            ranges.pop();
                            ranges.push((lo, hi));
                            prior = None;
                        }
                        _ => {
                            ranges.push((m, m));
                            prior = Some(m);
                        }
                    }
                }
                if !closed {
                    return Err(bad("a [ is not closed"));
                }
                out.push(Glob::Set { negated, ranges });
            }
            c => out.push(Glob::Literal(c)),
        }
    }
    Ok(out)
}

/// Whether `text` matches the parsed glob as SQLite's GLOB would (the same glob in SQL and
/// here: owner rules are matched in memory against the places a scan saw). The usual
/// two-pointer wildcard match: linear but for backtracking to the last `*`, so at most
/// `text × glob` steps, whatever the input.
pub(crate) fn glob_matches(parts: &[Glob], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let one = |g: &Glob, c: char| match g {
        Glob::Literal(l) => *l == c,
        Glob::One => true,
        Glob::Set { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
        }
        Glob::Any => false,
    };
    let (mut p, mut i) = (0, 0);
    // The last `*` seen and the text position it is currently taken to end at.
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        if p < parts.len() && parts[p] == Glob::Any {
            star = Some((p, i));
            p += 1;
        } else if p < parts.len() && one(&parts[p], t[i]) {
            p += 1;
            i += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    parts[p..].iter().all(|g| *g == Glob::Any)
}

/// A character as a regular-expression literal (inside or outside brackets).
fn regex_char(out: &mut String, c: char) {
    if !c.is_alphanumeric() && c != '/' && c != ' ' && c != '_' && c != '%' {
        out.push('\\');
    }
    out.push(c);
}

/// The glob as an anchored PostgreSQL regular expression (ARE syntax).
fn glob_to_regex(parts: &[Glob]) -> String {
    let mut re = String::from("^");
    for p in parts {
        match p {
            Glob::Literal(c) => regex_char(&mut re, *c),
            Glob::One => re.push('.'),
            Glob::Any => re.push_str(".*"),
            Glob::Set { negated, ranges } => {
                re.push('[');
                if *negated {
                    re.push('^');
                }
                for (lo, hi) in ranges {
                    regex_char(&mut re, *lo);
                    if hi != lo {
                        re.push('-');
                        regex_char(&mut re, *hi);
                    }
                }
                re.push(']');
            }
        }
    }
    re.push('$');
    re
}

/// The literal characters a glob starts with.
pub(crate) fn literal_prefix(parts: &[Glob]) -> String {
    parts
        .iter()
        .map_while(|p| match p {
            Glob::Literal(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// LIKE's own wildcards and its escape character escaped.
pub(crate) fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// SQL matching `column` against a glob (see the module docs), in a form that uses the path
/// index for a literal prefix: SQLite's GLOB; PostgreSQL's LIKE on the prefix (with the
/// text_pattern_ops index) and `~` on the whole glob.
pub(crate) fn path_matches(
    column: &str,
    glob: &str,
    backend: Backend,
) -> Result<(String, Vec<Val>), Error> {
    let parts = parse_glob(glob)?;
    Ok(match backend {
        Backend::Sqlite => (format!("{column} GLOB ?"), vec![Val::from(glob)]),
        Backend::Postgres => {
            let regex = Val::Text(glob_to_regex(&parts));
            let prefix = literal_prefix(&parts);
            if prefix.is_empty() {
                (format!("{column} ~ ?"), vec![regex])
            } else {
                (
                    format!("{column} LIKE ? ESCAPE '\\' AND {column} ~ ?"),
                    vec![Val::Text(format!("{}%", like_literal(&prefix))), regex],
                )
            }
        }
    })
}

/// SQL: the asset's key is among those `keys` (a subquery) selects, found by looking each
/// of them up rather than by scanning the assets. PostgreSQL: `= ANY(ARRAY(...))`, which
/// runs the subquery once, first, and probes the primary key with its sorted keys; given
/// `IN (...)`, its planner (costing a random read at 4 sequential ones) instead hashes a
/// scan of every asset, or for a first page walks the `(kind, rid)` index probing each
/// asset in turn: 0.5-3 s at a million assets for the thousands an owner or a path
/// prefix selects. SQLite already runs `IN (...)` that way.
fn rid_in(keys: &str, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!("a.rid IN ({keys})"),
        Backend::Postgres => format!("a.rid = ANY(ARRAY({keys}))"),
    }
}

/// The places (`rid`, `asset_rid` of `occurrences`) that `q`'s host and path filters select,
/// present or not; `None` when `q` filters on neither.
pub(crate) fn place_query(
    q: &AssetQuery,
    backend: Backend,
) -> Result<Option<(String, Vec<Val>)>, Error> {
    if q.path_glob.is_none() && q.host.is_none() {
        return Ok(None);
    }
    let mut conds = Vec::new();
    let mut params = Vec::new();
    if let Some(h) = &q.host {
        conds.push("o.host = ?".to_string());
        params.push(Val::from(h));
    }
    if let Some(g) = &q.path_glob {
        let (cond, p) = path_matches("o.path", g, backend)?;
        conds.push(cond);
        params.extend(p);
    }
    Ok(Some((
        format!(
            "SELECT o.rid, o.asset_rid FROM occurrences o WHERE {}",
            conds.join(" AND ")
        ),
        params,
    )))
}

/// The WHERE clause (over `assets a`) and its parameters. `owner_names`: the stored names
/// `q.owner` selects (`owners::resolve_owner`); when empty, `q.owner` itself.
/// `present_matches`, when given, stands for the host and path filters: the assets with a
/// present place that matches them.
pub(crate) fn asset_filter(
    q: &AssetQuery,
    backend: Backend,
    owner_names: &[String],
    present_matches: Option<&RoaringBitmap>,
) -> Result<(String, Vec<Val>), Error> {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut params = Vec::new();
    if !q.include_gone {
        clauses.push(PRESENT.to_string());
    }
    if let Some(k) = q.kind {
        clauses.push("a.kind = ?".into());
        params.push(Val::from(k.as_str()));
    }
    // notAfter is stored as RFC 3339 UTC to the second, which orders as text.
    if let Some(before) = q.expiring_before {
        clauses.push("a.not_after IS NOT NULL AND a.not_after >= ? AND a.not_after <= ?".into());
        params.push(Val::Text(q.now.to_string()));
        params.push(Val::Text(before.to_string()));
    }
    if q.expired {
        clauses.push("a.not_after IS NOT NULL AND a.not_after < ?".into());
        params.push(Val::Text(q.now.to_string()));
    }
    if let Some(o) = &q.owner {
        // Effective owner: the assets `o` owns explicitly, then those it owns by inference
        // that have no explicit owner (an anti-join with the few explicit owners). Both read
        // from the owners_name index alone (name, role, explicit, asset_rid).
        let names: Vec<Val> = if owner_names.is_empty() {
            vec![Val::from(o)]
        } else {
            owner_names.iter().map(Val::from).collect()
        };
        let marks = vec!["?"; names.len()].join(", ");
        clauses.push(rid_in(
            &format!(
                "SELECT w.asset_rid FROM owners w
                 WHERE w.name IN ({marks}) AND w.role = 'owner' AND w.explicit = 1
                 UNION ALL
                 SELECT w.asset_rid FROM owners w
                 WHERE w.name IN ({marks}) AND w.role = 'owner' AND w.explicit <> 1
                   AND NOT EXISTS (SELECT 1 FROM owners x
                     WHERE x.asset_rid = w.asset_rid AND x.role = 'owner' AND x.explicit = 1)"
            ),
            backend,
        ));
        params.extend(names.iter().cloned());
        params.extend(names);
    }
    if q.unowned {
        clauses.push(
            "NOT EXISTS (SELECT 1 FROM owners w WHERE w.asset_rid = a.rid AND w.role = 'owner')"
                .into(),
        );
    }
    if let Some(i) = &q.issuer {
        // Matched against the distinct issuers, then found through the issuer index.
        clauses.push(
            "a.issuer IN (SELECT name FROM issuers WHERE LOWER(name) LIKE ? ESCAPE '\\')".into(),
        );
        params.push(Val::Text(format!("%{}%", like_literal(&i.to_lowercase()))));
    }
    if let Some(alg) = &q.algorithm {
        clauses.push("LOWER(a.algorithm) = ?".into());
        params.push(Val::Text(alg.to_lowercase()));
    }
    if let Some(rids) = present_matches {
        // Resolved by the caller against the places' presence (see `place_query`).
        let list = rids.iter().map(|r| r.to_string()).collect::<Vec<_>>();
        clauses.push(match backend {
            Backend::Sqlite => "a.rid IN (SELECT value FROM json_each(?))".into(),
            Backend::Postgres => "a.rid = ANY(string_to_array(?, ',')::bigint[])".into(),
        });
        params.push(Val::Text(match backend {
            Backend::Sqlite => format!("[{}]", list.join(",")),
            Backend::Postgres => list.join(","),
        }));
    } else if let Some((places, p)) = place_query(q, backend)? {
        params.extend(p);
        let places = format!("SELECT asset_rid FROM ({places}) m");
        // A literal prefix is a range of the path index, usually a narrow one: look its
        // assets up. A leading wildcard reads every place anyway, and matching them to the
        // assets by hashing is then faster (PostgreSQL, `*.pem` matching all of 3M places:
        // 1.7 s against 2.7 s).
        let scans_all = q
            .path_glob
            .as_deref()
            .is_some_and(|g| g.starts_with(['*', '?', '[']));
        clauses.push(if scans_all {
            format!("a.rid IN ({places})")
        } else {
            rid_in(&places, backend)
        });
    }
    if q.quantum_vulnerable {
        let list = QUANTUM_VULNERABLE
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(", ");
        clauses.push(format!("a.algorithm IN ({list})"));
    }
    Ok((clauses.join(" AND "), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex(glob: &str) -> String {
        glob_to_regex(&parse_glob(glob).unwrap())
    }

    #[test]
    fn globs_become_anchored_regexes() {
        assert_eq!(regex("certs/*.pem"), "^certs/.*\\.pem$");
        assert_eq!(regex("**/tls_?.crt"), "^.*/tls_.\\.crt$");
        assert_eq!(regex("100%"), "^100%$");
        assert_eq!(regex("[abc]x"), "^[abc]x$");
        assert_eq!(regex("[a-c]"), "^[a-c]$");
        assert_eq!(regex("[^x]"), "^[^x]$");
        assert_eq!(regex("[]a]"), "^[\\]a]$");
        assert_eq!(regex("[-a]"), "^[\\-a]$");
        assert_eq!(regex("[a-]"), "^[a\\-]$");
        assert_eq!(regex("[!x]"), "^[\\!x]$", "SQLite negates with ^ only");
        assert_eq!(regex("[]-a]"), "^[\\]\\-a]$");
        assert_eq!(regex("a.b+c(d)"), "^a\\.b\\+c\\(d\\)$");
        assert!(parse_glob("[abc").is_err());
        assert!(parse_glob("[c-a]").is_err());
    }

    #[test]
    fn the_literal_prefix_narrows_through_like() {
        let (sql, params) = path_matches("o.path", "a_b%/*.pem", Backend::Postgres).unwrap();
        assert_eq!(sql, "o.path LIKE ? ESCAPE '\\' AND o.path ~ ?");
        assert!(matches!(&params[0], Val::Text(t) if t == "a\\_b\\%/%"));
        let (sql, params) = path_matches("o.path", "*.pem", Backend::Postgres).unwrap();
        assert_eq!(sql, "o.path ~ ?");
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn issuer_filter_is_a_literal_substring() {
        let q = AssetQuery {
            issuer: Some("A_B 100%".into()),
            include_gone: true,
            ..Default::default()
        };
        let (_, params) = asset_filter(&q, Backend::Sqlite, &[], None).unwrap();
        assert!(matches!(&params[0], Val::Text(t) if t == "%a\\_b 100\\%%"));
    }

    #[test]
    fn every_placeholder_has_its_parameter() {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            for glob in ["certs/*.pem", "*.pem"] {
                for host in [None, Some("h1".to_string())] {
                    let q = AssetQuery {
                        kind: Some(AssetKind::Certificate),
                        expiring_before: Timestamp::parse("2026-12-01T00:00:00Z"),
                        expired: true,
                        now: Timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
                        owner: Some("team-a".into()),
                        unowned: true,
                        issuer: Some("CA".into()),
                        algorithm: Some("RSA".into()),
                        path_glob: Some(glob.into()),
                        host: host.clone(),
                        quantum_vulnerable: true,
                        ..Default::default()
                    };
                    let (sql, params) = asset_filter(&q, backend, &[], None).unwrap();
                    assert_eq!(sql.matches('?').count(), params.len(), "{sql}");
                    // PostgreSQL looks up the assets an owner or a path prefix selects.
                    let lookups = sql.matches("= ANY(ARRAY(").count();
                    let expected = match (backend, glob) {
                        (Backend::Sqlite, _) => 0,
                        (Backend::Postgres, "*.pem") => 1,
                        (Backend::Postgres, _) => 2,
                    };
                    assert_eq!(lookups, expected, "{sql}");
                }
            }
        }
    }
}
