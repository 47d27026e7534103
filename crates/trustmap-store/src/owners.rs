//! Owners: inferred by each scan (CODEOWNERS and the like) and set explicitly
//! ([`Store::set_owner`]); per role, explicit owners win over inferred ones.

use crate::db::{Db, Row, Val};
use crate::error::{Entity, Error};
use crate::{Store, audit, now_rfc3339};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// One owner record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerRow {
    pub role: String,
    pub name: String,
    pub source: String,
    pub explicit: bool,
    /// Whether this record is the one in effect (explicit wins over inferred).
    pub effective: bool,
}

/// What an explicit owner assignment applies to.
#[derive(Debug, Clone)]
pub enum OwnerTarget {
    Asset(String),
    /// Every asset with a place whose path matches this glob (see [`crate::AssetQuery`]),
    /// now and later: an owner rule ([`Store::set_owner_rule`], by nobody named).
    PathGlob(String),
}

/// One owner change made by [`Store::set_owner`].
#[derive(Debug, Clone, Serialize)]
pub struct OwnerChange {
    pub asset: String,
    pub role: String,
    pub from: Option<String>,
    /// `None`: no owner of the role any more (a rule removed).
    pub to: Option<String>,
}

impl Store {
    /// Sets the explicit owner and/or backup owner of one asset (it wins over any owner
    /// rule), or records an owner rule for a path glob (see `rules.rs`). Returns the
    /// effective changes (each also an audit event).
    pub fn set_owner(
        &self,
        target: &OwnerTarget,
        owner: Option<&str>,
        backup: Option<&str>,
    ) -> Result<Vec<OwnerChange>, Error> {
        self.set_owner_by(target, owner, backup, "")
    }

    /// [`Store::set_owner`] on behalf of `by` (the server's token name), which each
    /// `owner-changed` event then names; empty: nobody named (the CLI's per-asset owners).
    pub fn set_owner_by(
        &self,
        target: &OwnerTarget,
        owner: Option<&str>,
        backup: Option<&str>,
        by: &str,
    ) -> Result<Vec<OwnerChange>, Error> {
        let id = match target {
            OwnerTarget::Asset(id) => id,
            OwnerTarget::PathGlob(g) => {
                return Ok(self.set_owner_rule(g, None, owner, backup, by)?.1);
            }
        };
        self.conn()?.transaction(|db| {
            let Some(r) = db.query_one("SELECT rid FROM assets WHERE id = ?", &[id.into()])?
            else {
                return Err(Error::not_found(Entity::Asset, id));
            };
            let ids = [(id.clone(), r.int(0))];
            // The kept blast radius (`crate::reach`) counts owners: it follows in this
            // transaction.
            let snapshot = crate::reach::OwnerSnapshot::take(db, &[r.int(0)])?;
            let now = now_rfc3339();
            let mut audit = audit::AuditWriter::load(db)?;
            let mut changes = Vec::new();
            for (id, rid) in &ids {
                for (role, name) in [("owner", owner), ("backup", backup)] {
                    let Some(name) = name else { continue };
                    let before = effective_name(db, *rid, role)?;
                    let explicit_before = db
                        .query_one(
                            "SELECT name FROM owners WHERE asset_rid = ? AND role = ? AND explicit = 1
                             AND source = 'explicit'",
                            &[Val::Int(*rid), role.into()],
                        )?
                        .map(|r| r.text(0));
                    db.exec(
                        "DELETE FROM owners WHERE asset_rid = ? AND role = ? AND explicit = 1",
                        &[Val::Int(*rid), role.into()],
                    )?;
                    db.exec(
                        "INSERT INTO owners (asset_rid, role, name, source, explicit, set_at)
                         VALUES (?, ?, ?, 'explicit', 1, ?)",
                        &[Val::Int(*rid), role.into(), name.into(), now.as_str().into()],
                    )?;
                    // Audited whenever the explicit record changes (`audit verify` replays
                    // these events against the owners table), even when the name already
                    // was the effective (inferred) one.
                    if before.as_deref() != Some(name) || explicit_before.as_deref() != Some(name)
                    {
                        let mut data = serde_json::json!({"role": role, "from": before, "to": name, "source": "explicit"});
                        if !by.is_empty() {
                            data["by"] = by.into();
                        }
                        audit.append(&now, "owner-changed", id, data);
                    }
                    if before.as_deref() != Some(name) {
                        changes.push(OwnerChange {
                            asset: id.clone(),
                            role: role.to_string(),
                            from: before,
                            to: Some(name.to_string()),
                        });
                    }
                }
            }
            if let Some(s) = snapshot {
                s.apply(db)?;
            }
            audit.flush(db)?;
            Ok(changes)
        })
    }
}

impl Store {
    /// The explicit owners as the store has them of each of `ids` that has any (owners before
    /// backups): set per asset (source `explicit`) or by an owner rule (`rule:ID`). A scan
    /// uses [`Store::scan_owners`] instead, which decides the rules from its own places.
    pub fn explicit_owners(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<trustmap_core::Owner>>, Error> {
        let mut out: HashMap<String, Vec<trustmap_core::Owner>> = HashMap::new();
        for r in self.conn()?.query_in(
            "SELECT a.id, w.role, w.name, w.source FROM assets a
             JOIN owners w ON w.asset_rid = a.rid AND w.explicit = 1
             WHERE a.id IN ({in})
             ORDER BY a.id, CASE WHEN w.role = 'owner' THEN 0 ELSE 1 END, w.role, w.name",
            ids,
        )? {
            out.entry(r.text(0))
                .or_default()
                .push(trustmap_core::Owner {
                    name: r.text(2),
                    role: r.text(1),
                    source: r.text(3),
                });
        }
        Ok(out)
    }
}

/// The `source` of an explicit owner, in the owners table and in a report's owners: a scan
/// records only the other (inferred) owners of its report as inferred.
pub const EXPLICIT: &str = "explicit";

/// The owner names `--owner TEAM` selects among `names` (each distinct owner name): `TEAM`
/// itself, and, when `TEAM` has no `@` or `/`, every `@org/TEAM` (GitHub-style team names
/// matched by the team's name alone). Case-sensitive, as names are stored.
pub(crate) fn owner_names_matching(
    team: &str,
    names: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let bare = !team.contains(['@', '/']);
    let mut out: Vec<String> = names
        .into_iter()
        .filter(|n| {
            n == team
                || (bare
                    && n.starts_with('@')
                    && n.rsplit_once('/')
                        .is_some_and(|(org, t)| t == team && org.len() > 1))
        })
        .collect();
    if !out.iter().any(|n| n == team) {
        out.push(team.to_string());
    }
    out.sort();
    out
}

/// Whether `--owner TEAM` selects the owner `name` (see [`owner_names_matching`]).
pub fn owner_matches(team: &str, name: &str) -> bool {
    owner_names_matching(team, [name.to_string()])
        .iter()
        .any(|n| n == name)
}

/// At most this many distinct owner names are read to match a bare team name.
const MAX_OWNER_NAMES: usize = 100_000;

/// The stored owner names `team` selects (see [`owner_names_matching`]); a name with `@` or
/// `/` selects only itself, without reading the store. The distinct names are read by
/// walking the owners_name index from name to name (a loose index scan), not every row.
pub(crate) fn resolve_owner(db: &mut Db, team: &str) -> Result<Vec<String>, Error> {
    if team.contains(['@', '/']) {
        return Ok(vec![team.to_string()]);
    }
    let names = db
        .query(
            &format!(
                "WITH RECURSIVE n(name) AS (
                   SELECT MIN(name) FROM owners
                   UNION ALL
                   SELECT (SELECT MIN(o.name) FROM owners o WHERE o.name > n.name)
                   FROM n WHERE n.name IS NOT NULL)
                 SELECT name FROM n WHERE name IS NOT NULL LIMIT {MAX_OWNER_NAMES}"
            ),
            &[],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Vec<_>>();
    Ok(owner_names_matching(team, names))
}

/// An owner record from `role, name, source, explicit` columns starting at `at`.
pub(crate) fn owner_row(r: &Row, at: usize) -> OwnerRow {
    OwnerRow {
        role: r.text(at),
        name: r.text(at + 1),
        source: r.text(at + 2),
        explicit: r.int(at + 3) == 1,
        effective: false,
    }
}

pub(crate) fn load_owners(db: &mut Db, rid: i64) -> Result<Vec<OwnerRow>, Error> {
    Ok(db
        .query(
            "SELECT role, name, source, explicit FROM owners WHERE asset_rid = ?
             ORDER BY role, explicit DESC, name",
            &[Val::Int(rid)],
        )?
        .iter()
        .map(|r| owner_row(r, 0))
        .collect())
}

/// The owner records of each of `rids` that has any.
pub(crate) fn load_owners_of(
    db: &mut Db,
    rids: &[i64],
) -> Result<HashMap<i64, Vec<OwnerRow>>, Error> {
    let mut out: HashMap<i64, Vec<OwnerRow>> = HashMap::new();
    for r in db.query_in_ints(
        "SELECT asset_rid, role, name, source, explicit FROM owners WHERE asset_rid IN ({in})
         ORDER BY asset_rid, role, explicit DESC, name",
        rids,
    )? {
        out.entry(r.int(0)).or_default().push(owner_row(&r, 1));
    }
    Ok(out)
}

/// Explicit owners of a role win; without one, every inferred owner of that role counts.
pub(crate) fn mark_effective(owners: &mut [OwnerRow]) {
    let explicit_roles: BTreeSet<String> = owners
        .iter()
        .filter(|o| o.explicit)
        .map(|o| o.role.clone())
        .collect();
    for o in owners.iter_mut() {
        o.effective = o.explicit || !explicit_roles.contains(&o.role);
    }
}

/// The effective owners of `role` (names, sources), comma-separated.
pub(crate) fn effective(owners: &[OwnerRow], role: &str) -> (Option<String>, Option<String>) {
    let eff: Vec<&OwnerRow> = owners
        .iter()
        .filter(|o| o.role == role && o.effective)
        .collect();
    if eff.is_empty() {
        return (None, None);
    }
    let names = eff.iter().map(|o| o.name.as_str()).collect::<Vec<_>>();
    let sources = eff.iter().map(|o| o.source.as_str()).collect::<Vec<_>>();
    (Some(names.join(", ")), Some(sources.join(", ")))
}

fn effective_name(db: &mut Db, rid: i64, role: &str) -> Result<Option<String>, Error> {
    let mut owners = load_owners(db, rid)?;
    mark_effective(&mut owners);
    Ok(effective(&owners, role).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_team_name_matches_with_or_without_its_org() {
        let names = [
            "@acme/edge",
            "@other/edge",
            "edge",
            "@acme/edge-2",
            "@acme/sub/edge",
            "@/edge",
            "team-edge",
        ]
        .map(String::from);
        assert_eq!(
            owner_names_matching("edge", names.clone()),
            ["@acme/edge", "@acme/sub/edge", "@other/edge", "edge"]
        );
        assert_eq!(
            owner_names_matching("@acme/edge", names.clone()),
            ["@acme/edge"]
        );
        // Nothing stored under that name: the name itself (which matches nothing).
        assert_eq!(owner_names_matching("ledger", names), ["ledger"]);
    }

    #[test]
    fn explicit_owner_wins_per_role() {
        let row = |role: &str, name: &str, explicit: bool| OwnerRow {
            role: role.into(),
            name: name.into(),
            source: if explicit { "explicit" } else { "CODEOWNERS:1" }.into(),
            explicit,
            effective: false,
        };
        let mut o = vec![
            row("owner", "team-a", false),
            row("owner", "team-b", true),
            row("backup", "team-c", false),
        ];
        mark_effective(&mut o);
        assert_eq!(effective(&o, "owner").0.as_deref(), Some("team-b"));
        assert_eq!(effective(&o, "backup").0.as_deref(), Some("team-c"));
    }
}
