//! The append-only, hash-chained audit log.
//!
//! Event `n` stores `hash = SHA-256(JSON [prev_hash, seq, at, kind, subject, data])`, where
//! `prev_hash` is event `n-1`'s hash (64 zeros for the first) and `data` is the exact JSON
//! text stored. Editing any field, deleting an event or swapping two changes a hash or
//! breaks a link, and [`verify`] names the first event where the chain no longer holds.
//! (Truncating the newest events is not detectable from the log alone; an exported head
//! hash kept elsewhere covers that.)

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
            });
        }
        checked += 1;
        prev = e.hash;
    }
    Ok(AuditVerdict {
        events: checked,
        head: (checked > 0).then_some(prev),
        broken: None,
    })
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
