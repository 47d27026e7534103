//! Waivers: a rule accepted for one asset until a date, granted and revoked with an audit
//! event each. Which findings a waiver covers is the caller's to decide.

use crate::db::{Db, Row, Val};
use crate::error::{Entity, Error};
use crate::{Store, audit, now_rfc3339};
use serde::Serialize;

/// A waiver to record: `until` is RFC 3339 UTC.
#[derive(Debug, Clone)]
pub struct NewWaiver {
    pub rule: String,
    pub asset: String,
    pub reason: String,
    pub until: String,
    pub by: String,
}

/// A stored waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverRow {
    pub id: i64,
    pub rule: String,
    pub asset: String,
    pub reason: String,
    /// RFC 3339 UTC: the waiver no longer applies from this instant.
    pub until: String,
    pub by: String,
    pub granted_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

const WAIVER_SELECT: &str = "SELECT id, rule, asset_id, reason, expires_at, granted_by, granted_at, revoked_at, revoked_by FROM waivers";

fn waiver_row(r: &Row) -> WaiverRow {
    WaiverRow {
        id: r.int(0),
        rule: r.text(1),
        asset: r.text(2),
        reason: r.text(3),
        until: r.text(4),
        by: r.text(5),
        granted_at: r.text(6),
        revoked_at: r.opt_text(7),
        revoked_by: r.opt_text(8),
    }
}

fn waiver_by_id(db: &mut Db, id: i64) -> Result<Option<WaiverRow>, Error> {
    Ok(db
        .query_one(&format!("{WAIVER_SELECT} WHERE id = ?"), &[Val::Int(id)])?
        .as_ref()
        .map(waiver_row))
}

impl Store {
    /// Records a waiver (and a `waiver-granted` audit event). The asset must be in the
    /// inventory, and no waiver of the same rule on it may be in force (neither revoked nor
    /// expired): that is an [`Error::Conflict`] naming it. The rule id, whether it can apply
    /// to the asset's kind, and the date are the caller's to check
    /// (`trustmap_engine::waivers::grant` does).
    pub fn grant_waiver(&self, w: &NewWaiver) -> Result<WaiverRow, Error> {
        self.conn()?.transaction(|db| {
            if db
                .query_one("SELECT id FROM assets WHERE id = ?", &[w.asset.as_str().into()])?
                .is_none()
            {
                return Err(Error::not_found(Entity::Asset, &w.asset));
            }
            let now = now_rfc3339();
            if let Some(r) = db.query_one(
                "SELECT id, expires_at FROM waivers WHERE rule = ? AND asset_id = ?
                 AND revoked_at IS NULL AND expires_at > ? ORDER BY id LIMIT 1",
                &[
                    w.rule.as_str().into(),
                    w.asset.as_str().into(),
                    now.as_str().into(),
                ],
            )? {
                return Err(Error::Conflict(format!(
                    "waiver {} already waives {} on {} until {}: revoke it first to grant another",
                    r.int(0),
                    w.rule,
                    w.asset,
                    r.text(1),
                )));
            }
            let id = db
                .query_one(
                    "INSERT INTO waivers (rule, asset_id, reason, expires_at, granted_by, granted_at)
                     VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    &[
                        w.rule.as_str().into(),
                        w.asset.as_str().into(),
                        w.reason.as_str().into(),
                        w.until.as_str().into(),
                        w.by.as_str().into(),
                        now.as_str().into(),
                    ],
                )?
                .map(|r| r.int(0))
                .ok_or_else(|| Error::other("inserting the waiver returned no id"))?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "waiver-granted",
                &w.asset,
                serde_json::json!({"waiver": id, "rule": w.rule, "by": w.by, "reason": w.reason, "until": w.until}),
            );
            audit.flush(db)?;
            Ok(WaiverRow {
                id,
                rule: w.rule.clone(),
                asset: w.asset.clone(),
                reason: w.reason.clone(),
                until: w.until.clone(),
                by: w.by.clone(),
                granted_at: now,
                revoked_at: None,
                revoked_by: None,
            })
        })
    }

    /// Revokes a waiver (and records a `waiver-revoked` audit event). A waiver revoked
    /// already is a [`Error::Conflict`].
    pub fn revoke_waiver(&self, id: i64, by: &str) -> Result<WaiverRow, Error> {
        self.conn()?.transaction(|db| {
            let Some(mut w) = waiver_by_id(db, id)? else {
                return Err(Error::not_found(Entity::Waiver, id.to_string()));
            };
            if w.revoked_at.is_some() {
                return Err(Error::Conflict(format!("waiver {id} is already revoked")));
            }
            let now = now_rfc3339();
            db.exec(
                "UPDATE waivers SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                &[now.as_str().into(), by.into(), Val::Int(id)],
            )?;
            let mut audit = audit::AuditWriter::load(db)?;
            audit.append(
                &now,
                "waiver-revoked",
                &w.asset,
                serde_json::json!({"waiver": id, "rule": w.rule, "by": by}),
            );
            audit.flush(db)?;
            w.revoked_at = Some(now);
            w.revoked_by = Some(by.to_string());
            Ok(w)
        })
    }

    /// Every waiver ever granted (revoked and expired ones too), oldest first, as the audit
    /// log's `waiver-granted` and `waiver-revoked` events say: the chained events are the
    /// record, the `waivers` table only an index of them. A table row edited by hand
    /// (`expires_at` moved to 2099) therefore changes nothing that is applied, and
    /// `audit verify` reports it.
    pub fn waivers(&self) -> Result<Vec<WaiverRow>, Error> {
        let events = audit::waiver_events(&mut *self.conn()?)?;
        let mut waivers = std::collections::BTreeMap::new();
        for e in &events {
            audit::apply_waiver_event(&mut waivers, e);
        }
        Ok(waivers.into_values().collect())
    }
}

/// The rows of the `waivers` table, oldest first (for `audit verify` to compare).
pub(crate) fn stored_waivers(db: &mut Db) -> Result<Vec<WaiverRow>, Error> {
    Ok(db
        .query(&format!("{WAIVER_SELECT} ORDER BY id"), &[])?
        .iter()
        .map(waiver_row)
        .collect())
}
