//! What the server's replicas share (migration 14): scheduled scan jobs, which scans have
//! been looked at for alerts, and the alerts waiting to be delivered (an outbox).
//!
//! Every claim is a read-then-write inside one write transaction. Both backends serialise
//! write transactions (SQLite's writer lock, `BEGIN IMMEDIATE`; PostgreSQL's advisory
//! write lock taken by `Db::begin`), so of two replicas claiming the same row at the same
//! moment exactly one sees it free. A claim is a lease with an end: a replica killed while
//! it holds one leaves a row another replica takes over once the lease has run out. Times
//! are RFC 3339 UTC text with whole seconds, compared as text.

use crate::db::{Row, Val};
use crate::error::Error;
use crate::{Store, audit};
use serde::Serialize;
use time::OffsetDateTime;

/// The state of one scheduled job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRow {
    pub name: String,
    /// When it is next due.
    pub next_at: String,
    /// The replica running it now, if any, and until when its claim holds.
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    /// Completed runs.
    pub runs: i64,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    /// The scan the last successful run recorded.
    pub last_scan: Option<String>,
    /// Why the last run failed (cleared by a successful one).
    pub last_error: Option<String>,
}

/// One alert to deliver to one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// What makes it the same alert: at most one row per (key, webhook), ever.
    pub key: String,
    /// The webhook's name in the server's configuration (never its URL: a Slack webhook
    /// URL is itself a credential).
    pub webhook: String,
    /// `finding`, `expiry`, `rotation`, `gone` or `overflow`.
    pub event: String,
    pub asset: String,
    /// The request body, as the webhook receives it.
    pub body: String,
}

/// An alert as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub key: String,
    pub webhook: String,
    pub event: String,
    pub scan_id: String,
    pub asset: String,
    pub created_at: String,
    #[serde(skip)]
    pub body: String,
    /// `pending`, `sent` or `failed` (gave up).
    pub state: String,
    pub attempts: i64,
    pub next_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
}

/// At most this many alerts are listed by [`Store::alerts`].
pub const MAX_LISTED_ALERTS: usize = 1_000;

fn ts(t: OffsetDateTime) -> String {
    trustmap_core::rfc3339(t)
}

const JOB_COLUMNS: &str = "name, next_at, lease_owner, lease_until, runs, last_started_at, \
                           last_finished_at, last_scan, last_error";

fn job_row(r: &Row) -> JobRow {
    JobRow {
        name: r.text(0),
        next_at: r.text(1),
        lease_owner: r.opt_text(2),
        lease_until: r.opt_text(3),
        runs: r.int(4),
        last_started_at: r.opt_text(5),
        last_finished_at: r.opt_text(6),
        last_scan: r.opt_text(7),
        last_error: r.opt_text(8),
    }
}

const ALERT_COLUMNS: &str = "id, key, webhook, event, scan_id, asset, created_at, body, state, \
                             attempts, next_at, sent_at, last_error";

fn alert_row(r: &Row) -> AlertRow {
    AlertRow {
        id: r.int(0),
        key: r.text(1),
        webhook: r.text(2),
        event: r.text(3),
        scan_id: r.text(4),
        asset: r.text(5),
        created_at: r.text(6),
        body: r.text(7),
        state: r.text(8),
        attempts: r.int(9),
        next_at: r.text(10),
        sent_at: r.opt_text(11),
        last_error: r.opt_text(12),
    }
}

impl Store {
    /// Claims a run of job `name` for `owner` when it is due at `now` and nobody holds it;
    /// the claim holds for `lease`. A job seen for the first time is due at once. Returns
    /// whether this caller won the run.
    pub fn claim_job(
        &self,
        name: &str,
        owner: &str,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<bool, Error> {
        let now_s = ts(now);
        let mut db = self.conn()?;
        db.transaction(|db| {
            db.exec(
                "INSERT INTO server_jobs (name, next_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                &[name.into(), now_s.clone().into()],
            )?;
            let row = db
                .query_one(
                    "SELECT next_at, lease_until FROM server_jobs WHERE name = ?",
                    &[name.into()],
                )?
                .ok_or_else(|| Error::InvalidInput(format!("job {name} vanished")))?;
            let due = row.text(0) <= now_s;
            let free = row.opt_text(1).is_none_or(|until| until < now_s);
            if !(due && free) {
                return Ok(false);
            }
            db.exec(
                "UPDATE server_jobs SET lease_owner = ?, lease_until = ?, last_started_at = ? \
                 WHERE name = ?",
                &[
                    owner.into(),
                    ts(now + lease).into(),
                    now_s.clone().into(),
                    name.into(),
                ],
            )?;
            Ok(true)
        })
    }

    /// Ends `owner`'s run of `name`: due again at `next_at`, with the scan it recorded or
    /// why it failed. Does nothing when `owner` no longer holds the job (its lease ran out
    /// and another replica took it); returns whether it did.
    pub fn finish_job(
        &self,
        name: &str,
        owner: &str,
        finished: OffsetDateTime,
        next_at: OffsetDateTime,
        outcome: Result<&str, &str>,
    ) -> Result<bool, Error> {
        let (scan, error) = match outcome {
            Ok(scan) => (Val::from(Some(scan)), Val::OptText(None)),
            Err(e) => (Val::OptText(None), Val::from(Some(e))),
        };
        let mut db = self.conn()?;
        let n = db.transaction(|db| {
            db.exec(
                "UPDATE server_jobs SET next_at = ?, lease_owner = NULL, lease_until = NULL, \
                 runs = runs + 1, last_finished_at = ?, last_scan = COALESCE(?, last_scan), \
                 last_error = ? WHERE name = ? AND lease_owner = ?",
                &[
                    ts(next_at).into(),
                    ts(finished).into(),
                    scan,
                    error,
                    name.into(),
                    owner.into(),
                ],
            )
        })?;
        Ok(n == 1)
    }

    /// Every job the store knows, by name.
    pub fn jobs(&self) -> Result<Vec<JobRow>, Error> {
        let mut db = self.conn()?;
        Ok(db
            .query(
                &format!("SELECT {JOB_COLUMNS} FROM server_jobs ORDER BY name"),
                &[],
            )?
            .iter()
            .map(job_row)
            .collect())
    }

    /// Marks every recorded scan as already looked at, when no scan has been yet: turning
    /// alerts on does not replay the inventory's history. Returns how many were marked.
    pub fn start_alerts(&self, by: &str, now: OffsetDateTime) -> Result<u64, Error> {
        let mut db = self.conn()?;
        db.transaction(|db| {
            if db
                .query_one("SELECT scan_id FROM alert_scans LIMIT 1", &[])?
                .is_some()
            {
                return Ok(0);
            }
            // `WHERE true`: SQLite would read `ON CONFLICT` as a join constraint of the SELECT.
            db.exec(
                "INSERT INTO alert_scans (scan_id, evaluated_at, evaluated_by, alerts) \
                 SELECT id, ?, ?, 0 FROM scans WHERE true ON CONFLICT (scan_id) DO NOTHING",
                &[ts(now).into(), format!("{by} (before alerts)").into()],
            )
        })
    }

    /// Scans nobody has looked at for alerts yet, oldest first, at most `limit`.
    pub fn scans_to_alert(&self, limit: usize) -> Result<Vec<String>, Error> {
        let mut db = self.conn()?;
        Ok(db
            .query(
                "SELECT s.id FROM scans s WHERE NOT EXISTS \
                 (SELECT 1 FROM alert_scans a WHERE a.scan_id = s.id) ORDER BY s.seq LIMIT ?",
                &[Val::Int(limit as i64)],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect())
    }

    /// Records that `by` looked at `scan` and queues its alerts, in one transaction. When
    /// another replica looked at the scan first, queues nothing and returns `None`;
    /// otherwise how many alerts were new (an alert whose key and webhook were queued
    /// before, by any scan, is not queued again).
    pub fn queue_alerts(
        &self,
        scan: &str,
        by: &str,
        now: OffsetDateTime,
        alerts: &[NewAlert],
    ) -> Result<Option<u64>, Error> {
        let now_s = ts(now);
        let mut db = self.conn()?;
        db.transaction(|db| {
            let won = db.exec(
                "INSERT INTO alert_scans (scan_id, evaluated_at, evaluated_by, alerts) \
                 VALUES (?, ?, ?, 0) ON CONFLICT (scan_id) DO NOTHING",
                &[scan.into(), now_s.clone().into(), by.into()],
            )?;
            if won == 0 {
                return Ok(None);
            }
            let mut queued = 0;
            for a in alerts {
                queued += db.exec(
                    "INSERT INTO alerts (key, webhook, event, scan_id, asset, created_at, body, \
                     state, attempts, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?) \
                     ON CONFLICT (key, webhook) DO NOTHING",
                    &[
                        a.key.as_str().into(),
                        a.webhook.as_str().into(),
                        a.event.as_str().into(),
                        scan.into(),
                        a.asset.as_str().into(),
                        now_s.clone().into(),
                        a.body.as_str().into(),
                        now_s.clone().into(),
                    ],
                )?;
            }
            db.exec(
                "UPDATE alert_scans SET alerts = ? WHERE scan_id = ?",
                &[Val::Int(queued as i64), scan.into()],
            )?;
            if queued > 0 {
                let mut log = audit::AuditWriter::load(db)?;
                log.append(
                    &now_s,
                    "alerts-queued",
                    scan,
                    serde_json::json!({"alerts": queued, "by": by}),
                );
                log.flush(db)?;
            }
            Ok(Some(queued))
        })
    }

    /// Claims up to `limit` alerts due at `now` for `owner`, for `lease`.
    pub fn claim_alerts(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease: time::Duration,
        limit: usize,
    ) -> Result<Vec<AlertRow>, Error> {
        let now_s = ts(now);
        let mut db = self.conn()?;
        db.transaction(|db| {
            let rows: Vec<AlertRow> = db
                .query(
                    &format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'pending' AND next_at <= ? \
                         AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?"
                    ),
                    &[
                        now_s.clone().into(),
                        now_s.clone().into(),
                        Val::Int(limit as i64),
                    ],
                )?
                .iter()
                .map(alert_row)
                .collect();
            for r in &rows {
                db.exec(
                    "UPDATE alerts SET lease_owner = ?, lease_until = ? WHERE id = ?",
                    &[owner.into(), ts(now + lease).into(), Val::Int(r.id)],
                )?;
            }
            Ok(rows)
        })
    }

    /// Ends `owner`'s delivery attempt of alert `id`: `Ok(())` delivered; `Err(why)` failed,
    /// tried again at `retry_at`, or given up (`failed`) when that is `None`. Does nothing
    /// when `owner` no longer holds the alert; returns whether it did.
    pub fn alert_attempted(
        &self,
        id: i64,
        owner: &str,
        now: OffsetDateTime,
        outcome: Result<(), (&str, Option<OffsetDateTime>)>,
    ) -> Result<bool, Error> {
        let mut db = self.conn()?;
        let n = db.transaction(|db| match outcome {
            Ok(()) => db.exec(
                "UPDATE alerts SET state = 'sent', sent_at = ?, attempts = attempts + 1, \
                 lease_owner = NULL, lease_until = NULL, last_error = NULL \
                 WHERE id = ? AND lease_owner = ? AND state = 'pending'",
                &[ts(now).into(), Val::Int(id), owner.into()],
            ),
            Err((why, retry_at)) => db.exec(
                "UPDATE alerts SET state = ?, next_at = ?, attempts = attempts + 1, \
                 lease_owner = NULL, lease_until = NULL, last_error = ? \
                 WHERE id = ? AND lease_owner = ? AND state = 'pending'",
                &[
                    if retry_at.is_some() {
                        "pending"
                    } else {
                        "failed"
                    }
                    .into(),
                    ts(retry_at.unwrap_or(now)).into(),
                    why.into(),
                    Val::Int(id),
                    owner.into(),
                ],
            ),
        })?;
        Ok(n == 1)
    }

    /// The newest alerts first, at most `limit` (capped at [`MAX_LISTED_ALERTS`]).
    pub fn alerts(&self, limit: usize) -> Result<Vec<AlertRow>, Error> {
        let mut db = self.conn()?;
        Ok(db
            .query(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts ORDER BY id DESC LIMIT ?"),
                &[Val::Int(limit.min(MAX_LISTED_ALERTS) as i64)],
            )?
            .iter()
            .map(alert_row)
            .collect())
    }
}
