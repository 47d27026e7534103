//! The append-only, hash-chained audit log, and what it vouches for.
//!
//! Event `n` stores `hash = SHA-256(JSON [prev_hash, seq, at, kind, subject, data])`, where
//! `prev_hash` is event `n-1`'s hash (64 zeros for the first) and `data` is the exact JSON
//! text stored. Editing any field, deleting an event or swapping two changes a hash or
//! breaks a link, and [`verify`] names the first event where the chain no longer holds.
//!
//! The state that changes a verdict lives in tables beside the log, so [`verify`] also
//! replays the log and compares: every waiver (granted, expiry, revoked), every explicit
//! owner and every owner rule must be what its events say (an owner a rule gives must be
//! that rule's, in force), and every recorded scan must have its
//! `scan-started` and `scan-finished` events. The engine reads waivers from the events
//! themselves ([`crate::Store::waivers`]), so a waiver edited in its table is never applied.
//!
//! What the chain alone cannot show: events removed from the end together with the state
//! they vouch for, or a log rewritten and re-hashed from some event on (anyone who can
//! write the database can compute SHA-256). The head (event count and hash) printed by
//! `audit verify` and kept outside the database covers both: [`crate::Store::audit_event_hash`]
//! must still give the same hash at the same position.

use crate::Error;
use crate::db::{Db, Val};
use serde::Serialize;
use trustmap_core::sha256_hex;

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
    pub data: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// Result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// Events checked.
    pub events: u64,
    /// Hash of the last event (the head), when there is one.
    pub head: Option<String>,
    /// The first event where the chain is broken.
    pub broken: Option<BrokenEvent>,
    /// Stored state the intact chain does not vouch for: a waiver or explicit owner that
    /// differs from its events, a scan without its events. Empty when the chain is broken
    /// (nothing is compared against a broken chain).
    pub unvouched: Vec<String>,
}

impl AuditVerdict {
    /// Whether the chain holds and vouches for every waiver, explicit owner and scan.
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.unvouched.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenEvent {
    pub seq: i64,
    pub kind: String,
    pub subject: String,
    pub reason: String,
}

fn event_hash(prev: &str, seq: i64, at: &str, kind: &str, subject: &str, data: &str) -> String {
    // The JSON array [prev, seq, at, kind, subject, data]: a tuple serializes to exactly that.
    let canonical = serde_json::to_string(&(prev, seq, at, kind, subject, data))
        .expect("strings and integers serialize");
    sha256_hex(canonical.as_bytes())
}

/// Appends events inside an open write transaction (which serialises writers). Events are
/// chained as they are appended and written by [`AuditWriter::flush`].
pub(crate) struct AuditWriter {
    seq: i64,
    prev: String,
    pending: Vec<Vec<Val>>,
}

impl AuditWriter {
    pub fn load(db: &mut Db) -> Result<AuditWriter, Error> {
        let last = db.query_one(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            &[],
        )?;
        let (seq, prev) = match last {
            Some(r) => (r.int(0), r.text(1)),
            None => (0, GENESIS.to_string()),
        };
        Ok(AuditWriter {
            seq,
            prev,
            pending: Vec::new(),
        })
    }

    pub fn append(&mut self, at: &str, kind: &str, subject: &str, data: serde_json::Value) {
        self.append_text(at, kind, subject, data.to_string());
    }

    /// [`AuditWriter::append`] with the data already serialized.
    pub fn append_text(&mut self, at: &str, kind: &str, subject: &str, data: String) {
        let seq = self.seq + 1;
        let hash = event_hash(&self.prev, seq, at, kind, subject, &data);
        self.pending.push(vec![
            Val::Int(seq),
            at.into(),
            kind.into(),
            subject.into(),
            Val::Text(data),
            Val::Text(std::mem::replace(&mut self.prev, hash.clone())),
            Val::Text(hash),
        ]);
        self.seq = seq;
    }

    /// The events appended since the last take, as rows for [`write_events`].
    pub fn take_pending(&mut self) -> Vec<Vec<Val>> {
        std::mem::take(&mut self.pending)
    }

    /// Writes the appended events.
    pub fn flush(&mut self, db: &mut Db) -> Result<(), Error> {
        let rows = self.take_pending();
        write_events(db, &rows)
    }
}

/// Writes events taken from an [`AuditWriter`].
pub(crate) fn write_events(db: &mut Db, rows: &[Vec<Val>]) -> Result<(), Error> {
    db.insert_rows(
        "audit_events",
        &["seq", "at", "kind", "subject", "data", "prev_hash", "hash"],
        rows,
    )
}

const SELECT: &str = "SELECT seq, at, kind, subject, data, prev_hash, hash FROM audit_events";

fn event(r: &crate::db::Row) -> (AuditEvent, String) {
    let raw = r.text(4);
    (
        AuditEvent {
            seq: r.int(0),
            at: r.text(1),
            kind: r.text(2),
            subject: r.text(3),
            data: serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw.clone())),
            prev_hash: r.text(5),
            hash: r.text(6),
        },
        raw,
    )
}

impl crate::Store {
    /// Checks the audit log's hash chain.
    pub fn verify_audit(&self) -> Result<AuditVerdict, Error> {
        verify(&mut *self.conn()?)
    }

    /// The hash of event `seq`, if the log holds it: a head kept from an earlier verify
    /// (`seq:hash`) is still the log's prefix when this gives the same hash.
    pub fn audit_event_hash(&self, seq: i64) -> Result<Option<String>, Error> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT hash FROM audit_events WHERE seq = ?",
                &[Val::Int(seq)],
            )?
            .map(|r| r.text(0)))
    }

    /// The position of the audit event with this hash, if the log holds one. With an intact
    /// chain, finding an earlier head proves every event up to it is unchanged.
    pub fn audit_event_with_hash(&self, hash: &str) -> Result<Option<i64>, Error> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT seq FROM audit_events WHERE hash = ?",
                &[hash.to_ascii_lowercase().into()],
            )?
            .map(|r| r.int(0)))
    }

    /// Audit events at or after `since` (RFC 3339), oldest first.
    pub fn audit_events(&self, since: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
        events_since(&mut *self.conn()?, since)
    }
}

fn verify(db: &mut Db) -> Result<AuditVerdict, Error> {
    let rows = db.query(&format!("{SELECT} ORDER BY seq"), &[])?;
    let mut prev = GENESIS.to_string();
    let mut checked = 0;
    let mut replay = Replay::default();
    for (expected_seq, r) in (1_i64..).zip(rows.iter()) {
        let (e, raw) = event(r);
        let reason = if e.seq != expected_seq {
            Some(format!(
                "expected event {expected_seq} here, found {} (an event was deleted or reordered)",
                e.seq
            ))
        } else if e.prev_hash != prev {
            Some("its previous-hash link does not match the event before it".to_string())
        } else if event_hash(&e.prev_hash, e.seq, &e.at, &e.kind, &e.subject, &raw) != e.hash {
            Some("its contents do not match its hash (the event was edited)".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Ok(AuditVerdict {
                events: checked,
                head: None,
                broken: Some(BrokenEvent {
                    seq: e.seq,
                    kind: e.kind,
                    subject: e.subject,
                    reason,
                }),
                unvouched: Vec::new(),
            });
        }
        checked += 1;
        replay.add(&e);
        prev = e.hash;
    }
    let unvouched = replay.compare(db)?;
    Ok(AuditVerdict {
        events: checked,
        head: (checked > 0).then_some(prev),
        broken: None,
        unvouched,
    })
}

/// The waiver, explicit-owner and owner-rule state the events say, and the scans they
/// record.
#[derive(Default)]
struct Replay {
    waivers: std::collections::BTreeMap<i64, crate::WaiverRow>,
    /// (asset, role) -> the explicit owner its last explicit `owner-changed` event set.
    owners: std::collections::BTreeMap<(String, String), String>,
    /// The owner rules in force, as their `owner-rule-set` and `owner-rule-removed` events
    /// say.
    rules: std::collections::BTreeMap<i64, crate::OwnerRule>,
    /// Scan ids with a `scan-started` event, and with a `scan-finished` one.
    started: std::collections::HashSet<String>,
    finished: std::collections::HashSet<String>,
    /// Scan id -> the digest of its findings its `scan-finished` event carries (scans
    /// recorded at schema version 10 or later).
    findings: std::collections::HashMap<String, String>,
    /// The API tokens the `token-created` / `token-revoked` events make.
    tokens: crate::tokens::TokenReplay,
}

impl Replay {
    fn add(&mut self, e: &AuditEvent) {
        match e.kind.as_str() {
            "scan-started" => {
                self.started.insert(e.subject.clone());
            }
            "scan-finished" => {
                self.finished.insert(e.subject.clone());
                if let Some(d) = e.data["findings_sha256"].as_str() {
                    self.findings.insert(e.subject.clone(), d.to_string());
                }
            }
            "waiver-granted" | "waiver-revoked" => apply_waiver_event(&mut self.waivers, e),
            "token-created" | "token-revoked" => self.tokens.add(e),
            "secret-ids-rekeyed" => {
                apply_waiver_event(&mut self.waivers, e);
                for (old, new) in renamed(e) {
                    let keys: Vec<_> = self
                        .owners
                        .keys()
                        .filter(|(a, _)| *a == old)
                        .cloned()
                        .collect();
                    for k in keys {
                        if let Some(v) = self.owners.remove(&k) {
                            self.owners.insert((new.clone(), k.1), v);
                        }
                    }
                }
            }
            "owner-rule-set" => {
                if let Some(id) = e.data["rule"].as_i64() {
                    let text = |k: &str| e.data[k].as_str().map(str::to_string);
                    self.rules.insert(
                        id,
                        crate::OwnerRule {
                            id,
                            glob: text("glob").unwrap_or_default(),
                            host: text("host"),
                            owner: text("owner"),
                            backup: text("backup"),
                            set_at: e.at.clone(),
                            set_by: text("by").unwrap_or_default(),
                        },
                    );
                }
            }
            "owner-rule-removed" => {
                if let Some(id) = e.data["rule"].as_i64() {
                    self.rules.remove(&id);
                }
            }
            "owner-changed" if e.data["source"] == "explicit" => {
                if let (Some(role), Some(to)) = (e.data["role"].as_str(), e.data["to"].as_str()) {
                    self.owners
                        .insert((e.subject.clone(), role.to_string()), to.to_string());
                }
            }
            _ => {}
        }
    }

    /// What the tables hold that these events do not vouch for, one line each.
    fn compare(mut self, db: &mut Db) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        // Scans recorded before the audit log existed (schema version 2) have no events.
        let log_since = db
            .query_one(
                "SELECT applied_at FROM schema_migrations WHERE version = 2",
                &[],
            )?
            .map(|r| r.text(0))
            .unwrap_or_default();
        for r in db.query("SELECT id, finished_at, seq FROM scans ORDER BY seq", &[])? {
            let id = r.text(0);
            // Scans recorded before findings were kept have neither findings nor a digest.
            if let Some(problem) =
                crate::findings::vouch(db, r.int(2), self.findings.get(&id).map(String::as_str))?
            {
                out.push(format!("scan {id}: {problem}"));
            }
            if r.text(1) < log_since {
                continue;
            }
            if !self.started.contains(&id) || !self.finished.contains(&id) {
                out.push(format!(
                    "scan {id} is recorded but its scan-started/scan-finished events are missing (events were removed)"
                ));
            }
        }
        for stored in crate::waivers::stored_waivers(db)? {
            let id = stored.id;
            match self.waivers.remove(&id) {
                None => out.push(format!(
                    "waiver {id} ({} on {}) has no waiver-granted event",
                    stored.rule, stored.asset
                )),
                Some(told) if told != stored => out.push(format!(
                    "waiver {id} ({} on {}) differs from its events: the table says {}, the events {} (the events are applied)",
                    stored.rule,
                    stored.asset,
                    waiver_terms(&stored),
                    waiver_terms(&told)
                )),
                Some(_) => {}
            }
        }
        for (id, w) in self.waivers {
            out.push(format!(
                "waiver {id} ({} on {}) is in the events but not in the waivers table",
                w.rule, w.asset
            ));
        }
        let stored_rules = db.query(
            "SELECT id, glob, host, owner, backup, set_at, set_by FROM owner_rules ORDER BY id",
            &[],
        )?;
        let mut told_rules = self.rules.clone();
        for r in &stored_rules {
            let id = r.int(0);
            let stored = (r.text(1), r.opt_text(2), r.opt_text(3), r.opt_text(4));
            match told_rules.remove(&id) {
                None => out.push(format!(
                    "owner rule {id} ({:?}) has no owner-rule-set event",
                    stored.0
                )),
                Some(t) if (t.glob.clone(), t.host.clone(), t.owner.clone(), t.backup.clone()) != stored => {
                    out.push(format!(
                        "owner rule {id} differs from its events: the table says {:?} -> {:?}/{:?}, the events {:?} -> {:?}/{:?}",
                        stored.0, stored.2, stored.3, t.glob, t.owner, t.backup
                    ))
                }
                Some(_) => {}
            }
        }
        for (id, t) in told_rules {
            out.push(format!(
                "owner rule {id} ({:?}) is in the events but not in the owner_rules table",
                t.glob
            ));
        }
        for r in db.query(
            "SELECT a.id, w.role, w.name, w.source FROM owners w JOIN assets a ON a.rid = w.asset_rid
             WHERE w.explicit = 1 ORDER BY a.id, w.role",
            &[],
        )? {
            if let Some(rule) = crate::rules::source_rule(&r.text(3)) {
                // A rule's owner: vouched for by the rule's events.
                let (asset, role, name) = (r.text(0), r.text(1), r.text(2));
                let told = self.rules.get(&rule).and_then(|t| match role.as_str() {
                    "owner" => t.owner.clone(),
                    "backup" => t.backup.clone(),
                    _ => None,
                });
                if told.as_deref() != Some(name.as_str()) {
                    out.push(format!(
                        "{role} {name:?} of {asset} is from owner rule {rule}, whose events do not give it"
                    ));
                }
                continue;
            }
            let (asset, role, name) = (r.text(0), r.text(1), r.text(2));
            match self.owners.remove(&(asset.clone(), role.clone())) {
                Some(told) if told == name => {}
                Some(told) => out.push(format!(
                    "explicit {role} of {asset} is {name:?} but its last owner-changed event set {told:?}"
                )),
                None => out.push(format!(
                    "explicit {role} of {asset} ({name:?}) has no owner-changed event"
                )),
            }
        }
        for ((asset, role), name) in self.owners {
            out.push(format!(
                "explicit {role} of {asset} ({name:?}) is in the events but not in the owners table"
            ));
        }
        self.tokens.compare(db, &mut out)?;
        Ok(out)
    }
}

/// A waiver's terms for messages.
fn waiver_terms(w: &crate::WaiverRow) -> String {
    let mut s = format!("until {} granted {} by {:?}", w.until, w.granted_at, w.by);
    if let Some(at) = &w.revoked_at {
        s.push_str(&format!(", revoked {at}"));
    }
    s
}

/// The (old, new) asset ids of a `secret-ids-rekeyed` event (migration 9).
fn renamed(e: &AuditEvent) -> Vec<(String, String)> {
    serde_json::from_value(e.data["renamed"].clone()).unwrap_or_default()
}

/// Folds one `waiver-granted`, `waiver-revoked` or `secret-ids-rekeyed` event into the
/// waivers it builds.
pub(crate) fn apply_waiver_event(
    waivers: &mut std::collections::BTreeMap<i64, crate::WaiverRow>,
    e: &AuditEvent,
) {
    if e.kind == "secret-ids-rekeyed" {
        let renamed: std::collections::HashMap<String, String> = renamed(e).into_iter().collect();
        for w in waivers.values_mut() {
            if let Some(new) = renamed.get(&w.asset) {
                w.asset = new.clone();
            }
        }
        return;
    }
    let Some(id) = e.data["waiver"].as_i64() else {
        return;
    };
    let text = |k: &str| e.data[k].as_str().unwrap_or_default().to_string();
    if e.kind == "waiver-granted" {
        waivers.insert(
            id,
            crate::WaiverRow {
                id,
                rule: text("rule"),
                asset: e.subject.clone(),
                reason: text("reason"),
                until: text("until"),
                by: text("by"),
                granted_at: e.at.clone(),
                revoked_at: None,
                revoked_by: None,
            },
        );
    } else if let Some(w) = waivers.get_mut(&id) {
        w.revoked_at = Some(e.at.clone());
        w.revoked_by = Some(text("by"));
    }
}

/// The waiver events, oldest first (a partial index keeps this from reading the whole log).
pub(crate) fn waiver_events(db: &mut Db) -> Result<Vec<AuditEvent>, Error> {
    Ok(db
        .query(
            &format!(
                "{SELECT} WHERE kind IN ('waiver-granted', 'waiver-revoked', 'secret-ids-rekeyed') ORDER BY seq"
            ),
            &[],
        )?
        .iter()
        .map(|r| event(r).0)
        .collect())
}

fn events_since(db: &mut Db, since: Option<&str>) -> Result<Vec<AuditEvent>, Error> {
    let rows = match since {
        Some(s) => db.query(&format!("{SELECT} WHERE at >= ? ORDER BY seq"), &[s.into()])?,
        None => db.query(&format!("{SELECT} ORDER BY seq"), &[])?,
    };
    Ok(rows.iter().map(|r| event(r).0).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_covers_every_field() {
        let base = super::event_hash("p", 1, "t", "k", "s", "{}");
        assert_ne!(base, super::event_hash("q", 1, "t", "k", "s", "{}"));
        assert_ne!(base, super::event_hash("p", 2, "t", "k", "s", "{}"));
        assert_ne!(base, super::event_hash("p", 1, "u", "k", "s", "{}"));
        assert_ne!(base, super::event_hash("p", 1, "t", "l", "s", "{}"));
        assert_ne!(base, super::event_hash("p", 1, "t", "k", "z", "{}"));
        assert_ne!(base, super::event_hash("p", 1, "t", "k", "s", "{ }"));
    }
}
