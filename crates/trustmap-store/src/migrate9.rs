//! Migration 9's data work: the inventory's secret-fingerprint key, and secrets re-keyed.
//!
//! A secret's fingerprint was the plain SHA-256 of its value: published in reports and the
//! database, a ready verifier for a guessed password. From this version it is
//! `HMAC-SHA256(key, SHA-256(value))` under a random key the inventory keeps
//! (`inventory_keys`, never in reports): the same secret still has one identity across
//! scans and places of one inventory, and a guess can no longer be checked without the key.
//!
//! Because the keyed fingerprint is taken over the value's SHA-256, the old fingerprints
//! can be re-keyed without the plaintext, which the store never had: each secret asset gets
//! its new fingerprint and id here, so its next sighting finds it (no "gone" and "new" pair
//! after the upgrade). Waivers follow the new ids, and one chained `secret-ids-rekeyed`
//! event records each (old, new) pair, which `audit verify` and the waiver replay follow.
//! What cannot be re-keyed: the audit events written before the upgrade, which keep the
//! old fingerprints in their data (rewriting them would break the chain).

use crate::db::{Db, Val};
use crate::error::Error;

/// The name of the secret-fingerprint key in `inventory_keys`.
pub(crate) const SECRET_KEY: &str = "secret-fingerprint";

pub(crate) fn backfill(db: &mut Db) -> Result<(), Error> {
    let key = match crate::secret_key::read(db)? {
        Some(k) => k,
        None => {
            let k = crate::secret_key::random()?;
            db.exec(
                "INSERT INTO inventory_keys (name, value, created_at) VALUES (?, ?, ?)",
                &[
                    SECRET_KEY.into(),
                    Val::Text(hex::encode(k)),
                    Val::Text(crate::now_rfc3339()),
                ],
            )?;
            k
        }
    };
    let rows = db.query(
        "SELECT rid, id, fingerprint FROM assets WHERE kind = 'secret' ORDER BY rid",
        &[],
    )?;
    let mut renamed = Vec::new();
    for r in rows {
        let (rid, old_id, old_fp) = (r.int(0), r.text(1), r.text(2));
        let Some(digest) = old_fp
            .strip_prefix("sha256:")
            .and_then(|h| hex::decode(h).ok())
            .filter(|d| d.len() == 32)
        else {
            continue;
        };
        let fp = crate::secret_key::keyed_fingerprint(&key, &digest);
        let id = trustmap_core::asset_id(trustmap_core::AssetKind::Secret, &fp);
        db.exec(
            "UPDATE assets SET id = ?, fingerprint = ? WHERE rid = ?",
            &[Val::Text(id.clone()), Val::Text(fp), Val::Int(rid)],
        )?;
        db.exec(
            "UPDATE waivers SET asset_id = ? WHERE asset_id = ?",
            &[Val::Text(id.clone()), Val::Text(old_id.clone())],
        )?;
        renamed.push((old_id, id));
    }
    if !renamed.is_empty() {
        let mut audit = crate::audit::AuditWriter::load(db)?;
        let now = crate::now_rfc3339();
        audit.append(
            &now,
            "secret-ids-rekeyed",
            "inventory",
            serde_json::json!({ "renamed": renamed }),
        );
        audit.flush(db)?;
    }
    Ok(())
}
