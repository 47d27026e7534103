//! Owner rules: `trustmap owner set --path GLOB` as a standing rule, not a one-off.
//!
//! A rule (a path glob, optionally a host, an owner and/or a backup owner) gives its owners
//! to every asset seen at a matching place: the assets in the inventory when it is set, and
//! every later one, in the very scan that first sees it.
//!
//! Kept as: the rules in force in `owner_rules` (migration 11), each change a chained audit
//! event (`owner-rule-set`, `owner-rule-removed`, subject `rule:ID`). What a rule gives an
//! asset is an explicit owner row with source `rule:ID`, recomputed
//! - when a rule is set or removed: for the assets with a recorded place it matches (or
//!   that it owned), from all their recorded places;
//! - when a scan is recorded: for the assets that scan saw, from the places it saw;
//! - before the engine judges a scan ([`Store::scan_owners`]): in memory, from the places
//!   the scan saw, so `asset-unowned` never fires on an asset a rule owns.
//!
//! Precedence, per role: a per-asset explicit owner (`owner set ASSET`, source `explicit`)
//! wins over every rule. Among the rules that match some place of the asset and name
//! someone for the role, the longest glob (in characters: the most specific) wins, and of
//! equally long ones the latest (highest id). A rule's owner wins over inferred owners
//! (CODEOWNERS) like any explicit owner. Removing a rule takes its owners off the assets it
//! owned (they fall back to the next matching rule, else to what was inferred).
//!
//! `audit verify` replays the rule events against `owner_rules`, and checks that every
//! rule-derived owner row names a rule in force and that rule's owner for its role. The
//! rows themselves are derived: their changes are logged as `owner-changed` events with
//! source `rule:ID`, but are not replayed one by one.

use crate::db::{Db, Row, Val};
use crate::error::{Entity, Error};
use crate::owners::{EXPLICIT, OwnerChange, OwnerRow, effective, mark_effective, owner_row};
use crate::query::{Glob, glob_matches, literal_prefix, parse_glob, path_matches};
use crate::{Store, audit, now_rfc3339};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use trustmap_core::Owner;

/// At most this many rules are in force: each is matched against every place of every
/// scan that records into the inventory.
pub const MAX_OWNER_RULES: usize = 1000;

/// One owner rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRule {
    pub id: i64,
    /// Path glob (relative to the scan root), as [`crate::AssetQuery::path_glob`].
    pub glob: String,
    /// Only places on this host; `None`: any host.
    pub host: Option<String>,
    pub owner: Option<String>,
    pub backup: Option<String>,
    pub set_at: String,
    pub set_by: String,
}

impl OwnerRule {
    /// The `source` of the owners this rule gives: `rule:ID`.
    pub fn source(&self) -> String {
        rule_source(self.id)
    }

    fn name(&self, role: &str) -> Option<&str> {
        match role {
            "owner" => self.owner.as_deref(),
            "backup" => self.backup.as_deref(),
            _ => None,
        }
    }
}

pub(crate) fn rule_source(id: i64) -> String {
    format!("rule:{id}")
}

/// The rule id of a rule-derived owner's source.
pub(crate) fn source_rule(source: &str) -> Option<i64> {
    source.strip_prefix("rule:")?.parse().ok()
}

/// The schema version that made the rules table.
const RULES_VERSION: i64 = 11;

const ROLES: [&str; 2] = ["owner", "backup"];

const SELECT: &str = "SELECT id, glob, host, owner, backup, set_at, set_by FROM owner_rules";

fn rule_row(r: &Row) -> OwnerRule {
    OwnerRule {
        id: r.int(0),
        glob: r.text(1),
        host: r.opt_text(2),
        owner: r.opt_text(3),
        backup: r.opt_text(4),
        set_at: r.text(5),
        set_by: r.text(6),
    }
}

/// A rule with its glob parsed.
pub(crate) struct Compiled {
    rule: OwnerRule,
    parts: Vec<Glob>,
    /// The glob's literal start: most places are refused by it alone.
    prefix: String,
    len: usize,
}

impl Compiled {
    fn new(rule: OwnerRule) -> Result<Compiled, Error> {
        let parts = parse_glob(&rule.glob)?;
        Ok(Compiled {
            prefix: literal_prefix(&parts),
            len: rule.glob.chars().count(),
            parts,
            rule,
        })
    }

    fn matches(&self, host: &str, path: &str) -> bool {
        self.rule.host.as_deref().is_none_or(|h| h == host)
            && path.starts_with(&self.prefix)
            && glob_matches(&self.parts, path)
    }
}

/// The rules in force, oldest first.
pub(crate) fn load(db: &mut Db) -> Result<Vec<Compiled>, Error> {
    db.query(
        &format!("{SELECT} ORDER BY id LIMIT {MAX_OWNER_RULES}"),
        &[],
    )?
    .iter()
    .map(|r| Compiled::new(rule_row(r)))
    .collect()
}

/// Per role (owner, backup), the rule that decides it for an asset at these places
/// (host, path): see the module docs.
fn decide<'a>(rules: &'a [Compiled], places: &[(&str, &str)]) -> [Option<&'a OwnerRule>; 2] {
    let mut best: [Option<&Compiled>; 2] = [None, None];
    for c in rules {
        if !places.iter().any(|(h, p)| c.matches(h, p)) {
            continue;
        }
        for (i, role) in ROLES.iter().enumerate() {
            if c.rule.name(role).is_some()
                && best[i].is_none_or(|b| (c.len, c.rule.id) > (b.len, b.rule.id))
            {
                best[i] = Some(c);
            }
        }
    }
    best.map(|b| b.map(|c| &c.rule))
}

/// One asset to apply the rules to: its key, id, and the places (host, path) that count.
pub(crate) struct Target {
    pub rid: i64,
    pub id: String,
    pub places: Vec<(String, String)>,
}

/// Recomputes the rule-derived owners of `targets` and writes what changed; each change of
/// an effective owner is an `owner-changed` event (source `rule:ID`, or `rule-removed`).
pub(crate) fn apply(
    db: &mut Db,
    rules: &[Compiled],
    targets: &[Target],
    now: &str,
    audit: &mut audit::AuditWriter,
) -> Result<Vec<OwnerChange>, Error> {
    let rids: Vec<i64> = targets.iter().map(|t| t.rid).collect();
    let mut rows: HashMap<i64, Vec<OwnerRow>> = HashMap::new();
    for r in db.query_in_ints(
        "SELECT asset_rid, role, name, source, explicit FROM owners WHERE asset_rid IN ({in})
         ORDER BY asset_rid, role, explicit DESC, name",
        &rids,
    )? {
        rows.entry(r.int(0)).or_default().push(owner_row(&r, 1));
    }
    let mut changes = Vec::new();
    for t in targets {
        let places: Vec<(&str, &str)> = t
            .places
            .iter()
            .map(|(h, p)| (h.as_str(), p.as_str()))
            .collect();
        let decided = decide(rules, &places);
        let mut owners = rows.remove(&t.rid).unwrap_or_default();
        for (i, role) in ROLES.iter().enumerate() {
            let is_role = |o: &OwnerRow| o.role == *role && o.explicit;
            if owners.iter().any(|o| is_role(o) && o.source == EXPLICIT) {
                continue; // a per-asset owner wins
            }
            let want = decided[i].map(|r| {
                (
                    r.name(role).expect("decided for the role").to_string(),
                    r.source(),
                )
            });
            let have = owners
                .iter()
                .find(|o| is_role(o))
                .map(|o| (o.name.clone(), o.source.clone()));
            if want == have {
                continue;
            }
            mark_effective(&mut owners);
            let before = effective(&owners, role).0;
            owners.retain(|o| !is_role(o));
            db.exec(
                "DELETE FROM owners WHERE asset_rid = ? AND role = ? AND explicit = 1",
                &[Val::Int(t.rid), (*role).into()],
            )?;
            if let Some((name, source)) = &want {
                db.exec(
                    "INSERT INTO owners (asset_rid, role, name, source, explicit, set_at)
                     VALUES (?, ?, ?, ?, 1, ?)",
                    &[
                        Val::Int(t.rid),
                        (*role).into(),
                        name.as_str().into(),
                        source.as_str().into(),
                        now.into(),
                    ],
                )?;
                owners.push(OwnerRow {
                    role: role.to_string(),
                    name: name.clone(),
                    source: source.clone(),
                    explicit: true,
                    effective: false,
                });
            }
            mark_effective(&mut owners);
            let after = effective(&owners, role).0;
            if before != after {
                let source = want.map_or_else(|| "rule-removed".to_string(), |w| w.1);
                audit.append(
                    now,
                    "owner-changed",
                    &t.id,
                    serde_json::json!({"role": role, "from": before, "to": after, "source": source}),
                );
                changes.push(OwnerChange {
                    asset: t.id.clone(),
                    role: role.to_string(),
                    from: before,
                    to: after,
                });
            }
        }
    }
    Ok(changes)
}

/// [`apply`] outside a scan: the kept blast radius (`crate::reach`) follows the owner
/// changes in the same transaction (a scan recomputes it whole instead).
fn apply_kept(
    db: &mut Db,
    rules: &[Compiled],
    targets: &[Target],
    now: &str,
    audit: &mut audit::AuditWriter,
) -> Result<Vec<OwnerChange>, Error> {
    let rids: Vec<i64> = targets.iter().map(|t| t.rid).collect();
    let snapshot = crate::reach::OwnerSnapshot::take(db, &rids)?;
    let changes = apply(db, rules, targets, now, audit)?;
    if let Some(s) = snapshot {
        s.apply(db)?;
    }
    Ok(changes)
}

/// The targets (with all their recorded places) among the assets these rows name (`rid`,
/// `id`).
fn targets_of(db: &mut Db, assets: Vec<Row>) -> Result<Vec<Target>, Error> {
    let mut targets: Vec<Target> = assets
        .iter()
        .map(|r| Target {
            rid: r.int(0),
            id: r.text(1),
            places: Vec::new(),
        })
        .collect();
    let at: HashMap<i64, usize> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.rid, i))
        .collect();
    let rids: Vec<i64> = targets.iter().map(|t| t.rid).collect();
    for r in db.query_in_ints(
        "SELECT asset_rid, host, path FROM occurrences WHERE asset_rid IN ({in})",
        &rids,
    )? {
        if let Some(&i) = at.get(&r.int(0)) {
            targets[i].places.push((r.text(1), r.text(2)));
        }
    }
    Ok(targets)
}

/// Applies the rules to the assets a scan saw, at the places it saw them (inside the scan's
/// transaction). Only assets a rule matches, or that a rule owned, are written.
pub(crate) fn apply_to_scan(
    db: &mut Db,
    assets: &[&trustmap_core::Asset],
    rid_of: &HashMap<&str, i64>,
    host: &str,
    now: &str,
    audit: &mut audit::AuditWriter,
) -> Result<(), Error> {
    // (A store opened at an older version, for tests of migrations, has no rules.)
    if crate::schema::current_version(db)? < RULES_VERSION {
        return Ok(());
    }
    let rules = load(db)?;
    // No rule in force: no rule-derived owner either (removing a rule takes its owners off
    // in the same transaction), so nothing to read.
    if rules.is_empty() {
        return Ok(());
    }
    let ruled: HashSet<i64> = db
        .query(
            "SELECT asset_rid FROM owners WHERE explicit = 1 AND source LIKE 'rule:%'",
            &[],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect();
    let targets: Vec<Target> = assets
        .iter()
        .filter_map(|a| {
            let rid = *rid_of.get(a.id.as_str())?;
            let places: Vec<(String, String)> = a
                .occurrences
                .iter()
                .map(|o| (host.to_string(), o.path.clone()))
                .collect();
            let refs: Vec<(&str, &str)> = places
                .iter()
                .map(|(h, p)| (h.as_str(), p.as_str()))
                .collect();
            let matched = decide(&rules, &refs).iter().any(Option::is_some);
            (matched || ruled.contains(&rid)).then(|| Target {
                rid,
                id: a.id.clone(),
                places,
            })
        })
        .collect();
    apply(db, &rules, &targets, now, audit)?;
    Ok(())
}

impl Store {
    /// The owner rules in force, oldest first.
    pub fn owner_rules(&self) -> Result<Vec<OwnerRule>, Error> {
        Ok(self
            .conn()?
            .query(&format!("{SELECT} ORDER BY id"), &[])?
            .iter()
            .map(rule_row)
            .collect())
    }

    /// Sets the rule for `glob` (on `host`, or any host): a new rule, or the one already
    /// set for that glob and host, whose owner and backup the given ones replace. Applies
    /// it now to every asset with a recorded place it matches. Returns the rule and the
    /// effective owner changes (each an audit event, as is the rule's change).
    pub fn set_owner_rule(
        &self,
        glob: &str,
        host: Option<&str>,
        owner: Option<&str>,
        backup: Option<&str>,
        by: &str,
    ) -> Result<(OwnerRule, Vec<OwnerChange>), Error> {
        if owner.is_none() && backup.is_none() {
            return Err(Error::InvalidInput(
                "an owner rule names an owner or a backup owner".into(),
            ));
        }
        // A bad glob is refused before any lock is taken.
        let (cond, mut params) = path_matches("o.path", glob, self.backend())?;
        let host = host.filter(|h| !h.is_empty());
        self.conn()?.transaction(|db| {
            let now = now_rfc3339();
            let existing = db
                .query_one(
                    &format!(
                        "{SELECT} WHERE glob = ? AND COALESCE(host, '') = ? ORDER BY id LIMIT 1"
                    ),
                    &[glob.into(), host.unwrap_or("").into()],
                )?
                .map(|r| rule_row(&r));
            let rule = match existing {
                Some(mut r) => {
                    if let Some(o) = owner {
                        r.owner = Some(o.to_string());
                    }
                    if let Some(b) = backup {
                        r.backup = Some(b.to_string());
                    }
                    r.set_at = now.clone();
                    r.set_by = by.to_string();
                    db.exec(
                        "UPDATE owner_rules SET owner = ?, backup = ?, set_at = ?, set_by = ?
                         WHERE id = ?",
                        &[
                            r.owner.clone().into(),
                            r.backup.clone().into(),
                            now.as_str().into(),
                            by.into(),
                            Val::Int(r.id),
                        ],
                    )?;
                    r
                }
                None => {
                    let n = db
                        .query_one("SELECT COUNT(*) FROM owner_rules", &[])?
                        .map_or(0, |r| r.int(0));
                    if n >= MAX_OWNER_RULES as i64 {
                        return Err(Error::Conflict(format!(
                            "{n} owner rules are set, the most an inventory keeps: remove one first"
                        )));
                    }
                    let id = db
                        .query_one(
                            "INSERT INTO owner_rules (glob, host, owner, backup, set_at, set_by)
                             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                            &[
                                glob.into(),
                                host.map(str::to_string).into(),
                                owner.map(str::to_string).into(),
                                backup.map(str::to_string).into(),
                                now.as_str().into(),
                                by.into(),
                            ],
                        )?
                        .map(|r| r.int(0))
                        .ok_or_else(|| Error::other("inserting the owner rule returned no id"))?;
                    OwnerRule {
                        id,
                        glob: glob.to_string(),
                        host: host.map(str::to_string),
                        owner: owner.map(str::to_string),
                        backup: backup.map(str::to_string),
                        set_at: now.clone(),
                        set_by: by.to_string(),
                    }
                }
            };
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "owner-rule-set",
                &rule.source(),
                serde_json::json!({"rule": rule.id, "glob": rule.glob, "host": rule.host,
                    "owner": rule.owner, "backup": rule.backup, "by": by}),
            );
            let mut sql = format!(
                "SELECT DISTINCT a.rid, a.id FROM occurrences o JOIN assets a ON a.rid = o.asset_rid
                 WHERE {cond}"
            );
            if let Some(h) = host {
                sql.push_str(" AND o.host = ?");
                params.push(h.into());
            }
            let assets = db.query(&sql, &params)?;
            let targets = targets_of(db, assets)?;
            let rules = load(db)?;
            let changes = apply_kept(db, &rules, &targets, &now, &mut audit)?;
            audit.flush(db)?;
            Ok((rule, changes))
        })
    }

    /// Removes an owner rule, and its owners from the assets it owned (they fall back to the
    /// next matching rule, else to the inferred owners). Returns the rule and the effective
    /// owner changes.
    pub fn remove_owner_rule(
        &self,
        id: i64,
        by: &str,
    ) -> Result<(OwnerRule, Vec<OwnerChange>), Error> {
        self.conn()?.transaction(|db| {
            let Some(rule) = db
                .query_one(&format!("{SELECT} WHERE id = ?"), &[Val::Int(id)])?
                .map(|r| rule_row(&r))
            else {
                return Err(Error::not_found(Entity::OwnerRule, id.to_string()));
            };
            let now = now_rfc3339();
            db.exec("DELETE FROM owner_rules WHERE id = ?", &[Val::Int(id)])?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "owner-rule-removed",
                &rule.source(),
                serde_json::json!({"rule": id, "glob": rule.glob, "host": rule.host, "by": by}),
            );
            let assets = db.query(
                "SELECT DISTINCT a.rid, a.id FROM owners w JOIN assets a ON a.rid = w.asset_rid
                 WHERE w.explicit = 1 AND w.source = ?",
                &[rule.source().into()],
            )?;
            let targets = targets_of(db, assets)?;
            let rules = load(db)?;
            let changes = apply_kept(db, &rules, &targets, &now, &mut audit)?;
            audit.flush(db)?;
            Ok((rule, changes))
        })
    }

    /// The explicit owners a scan's assets get from the store before it is judged: each
    /// asset's own (source `explicit`), and for a role it has none of, the deciding rule's
    /// for the places this scan saw it at on `host` (source `rule:ID`). Owners before
    /// backups; assets without any are absent.
    pub fn scan_owners(
        &self,
        assets: &[trustmap_core::Asset],
        host: &str,
    ) -> Result<HashMap<String, Vec<Owner>>, Error> {
        let mut conn = self.conn()?;
        let ids: Vec<String> = assets.iter().map(|a| a.id.clone()).collect();
        let mut own: HashMap<String, Vec<Owner>> = HashMap::new();
        for r in conn.query_in(
            "SELECT a.id, w.role, w.name FROM assets a
             JOIN owners w ON w.asset_rid = a.rid AND w.explicit = 1 AND w.source = 'explicit'
             WHERE a.id IN ({in})
             ORDER BY a.id, w.role, w.name",
            &ids,
        )? {
            own.entry(r.text(0)).or_default().push(Owner {
                name: r.text(2),
                role: r.text(1),
                source: EXPLICIT.to_string(),
            });
        }
        let rules = load(&mut conn)?;
        drop(conn);
        let mut out = HashMap::new();
        for a in assets {
            let mut owners = own.remove(&a.id).unwrap_or_default();
            if !rules.is_empty() {
                let places: Vec<(&str, &str)> = a
                    .occurrences
                    .iter()
                    .map(|o| (host, o.path.as_str()))
                    .collect();
                for (i, rule) in decide(&rules, &places).iter().enumerate() {
                    let role = ROLES[i];
                    if let Some(rule) = rule
                        && !owners.iter().any(|o| o.role == role)
                    {
                        owners.push(Owner {
                            name: rule.name(role).expect("decided for the role").to_string(),
                            role: role.to_string(),
                            source: rule.source(),
                        });
                    }
                }
            }
            if !owners.is_empty() {
                owners.sort_by_key(|o| o.role != "owner");
                out.insert(a.id.clone(), owners);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, glob: &str, owner: Option<&str>, backup: Option<&str>) -> Compiled {
        Compiled::new(OwnerRule {
            id,
            glob: glob.into(),
            host: None,
            owner: owner.map(Into::into),
            backup: backup.map(Into::into),
            set_at: String::new(),
            set_by: String::new(),
        })
        .unwrap()
    }

    #[test]
    fn the_longest_glob_wins_then_the_latest_rule() {
        let rules = [
            rule(1, "services/*", Some("broad"), Some("broad-backup")),
            rule(2, "services/legacy/*", Some("legacy"), None),
            rule(3, "services/legacy/*", Some("legacy-later"), None),
            rule(4, "other/*", Some("other"), None),
        ];
        let d = decide(&rules, &[("h", "services/legacy/a.crt")]);
        assert_eq!(d[0].unwrap().id, 3, "longest glob, latest of the two");
        assert_eq!(
            d[1].unwrap().id,
            1,
            "the backup from the only rule naming one"
        );
        let d = decide(&rules, &[("h", "services/edge/a.crt")]);
        assert_eq!(d[0].unwrap().id, 1);
        let d = decide(&rules, &[("h", "elsewhere/a.crt")]);
        assert!(d[0].is_none() && d[1].is_none());
    }

    #[test]
    fn a_rule_on_a_host_matches_only_places_on_it() {
        let mut r = rule(1, "etc/*", Some("ops"), None);
        r.rule.host = Some("web1".into());
        assert!(r.matches("web1", "etc/tls.crt"));
        assert!(!r.matches("web2", "etc/tls.crt"));
    }

    #[test]
    fn globs_match_in_memory_as_sqlite_glob_does() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let globs = [
            "services/legacy/*",
            "*.crt",
            "a?c",
            "[a-c]x*",
            "[^a]*",
            "*a*b*c",
            "[]]x",
            "x[-]y",
            "exact",
            "*",
        ];
        let paths = [
            "services/legacy/old.crt",
            "services/legacy",
            "a/b.crt",
            "abc",
            "abbc",
            "bx/y",
            "dx",
            "aXbYc",
            "]x",
            "x-y",
            "exact",
            "",
            "é.crt",
        ];
        for g in globs {
            let parts = parse_glob(g).unwrap();
            for p in paths {
                let sqlite: bool = db
                    .query_row("SELECT ? GLOB ?", [p, g], |r| r.get(0))
                    .unwrap();
                assert_eq!(glob_matches(&parts, p), sqlite, "{p:?} GLOB {g:?}");
            }
        }
    }
}
