//! Versioned migrations, the same for both backends.
//!
//! Each migration runs once, in its own write transaction, and is recorded in
//! `schema_migrations`. A database from an older trustmap is brought forward step by step;
//! nothing is ever dropped. Add a migration at the end; never edit a released one.

use crate::db::{Backend, Db, Val};
use crate::error::{BackendError, Error};

/// Data work after a migration's SQL, in the same transaction.
type Backfill = fn(&mut Db) -> Result<(), Error>;

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    /// SQL; `{serial}` becomes the backend's auto-increment primary key type.
    pub sql: &'static str,
    /// PostgreSQL's own SQL, when it differs.
    pub sql_pg: Option<&'static str>,
    /// Data work after the SQL (backfills), in the same transaction.
    pub after: Option<Backfill>,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "scans, assets, occurrences, relations",
        sql: r#"
CREATE TABLE scans (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    roots TEXT NOT NULL,
    roots_key TEXT NOT NULL,
    host TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    files_scanned BIGINT NOT NULL,
    bytes_scanned BIGINT NOT NULL,
    counts TEXT NOT NULL
);
CREATE INDEX scans_roots_key ON scans (roots_key, seq);
CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    label TEXT NOT NULL,
    facts TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    first_scan TEXT NOT NULL,
    last_scan TEXT NOT NULL
);
CREATE TABLE occurrences (
    id {serial},
    asset_id TEXT NOT NULL REFERENCES assets (id),
    path TEXT NOT NULL,
    container TEXT NOT NULL,
    line BIGINT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    UNIQUE (asset_id, path, container)
);
CREATE TABLE asset_scans (
    scan_seq BIGINT NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id),
    PRIMARY KEY (scan_seq, asset_id)
);
CREATE TABLE occurrence_scans (
    scan_seq BIGINT NOT NULL,
    occurrence_id BIGINT NOT NULL REFERENCES occurrences (id),
    line BIGINT,
    PRIMARY KEY (scan_seq, occurrence_id)
);
CREATE TABLE relations (
    from_id TEXT NOT NULL,
    to_id TEXT NOT NULL,
    type TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, type)
);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 2,
        name: "owners, audit log, query columns and indexes",
        sql: r#"
CREATE TABLE owners (
    asset_id TEXT NOT NULL REFERENCES assets (id),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    explicit BIGINT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (asset_id, role, explicit, name)
);
CREATE INDEX owners_name ON owners (name, role);
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
ALTER TABLE assets ADD COLUMN not_after TEXT;
ALTER TABLE assets ADD COLUMN issuer TEXT;
ALTER TABLE assets ADD COLUMN algorithm TEXT;
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_not_after ON assets (not_after);
CREATE INDEX assets_algorithm ON assets (algorithm);
CREATE INDEX occurrences_path ON occurrences (path);
CREATE INDEX occurrences_asset ON occurrences (asset_id);
CREATE INDEX asset_scans_asset ON asset_scans (asset_id);
CREATE INDEX occurrence_scans_occurrence ON occurrence_scans (occurrence_id);
"#,
        sql_pg: None,
        after: Some(backfill_query_columns),
    },
    Migration {
        version: 3,
        name: "path prefix index for PostgreSQL LIKE",
        // SQLite's GLOB already uses occurrences_path.
        sql: "",
        sql_pg: Some(
            "CREATE INDEX occurrences_path_pattern ON occurrences (path text_pattern_ops)",
        ),
        after: None,
    },
    Migration {
        version: 4,
        name: "waivers",
        sql: r#"
CREATE TABLE waivers (
    id {serial},
    rule TEXT NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id),
    reason TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX waivers_asset_rule ON waivers (asset_id, rule);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 5,
        name: "integer keys, per-scan bitmaps, live counts (for a million assets)",
        // The version 1-4 tables are renamed, the new ones created, the data carried over by
        // `crate::migrate5::backfill`, then the old tables dropped and the
        // [`SECONDARY_INDEXES`] built.
        sql: r#"
DROP INDEX assets_kind;
DROP INDEX assets_not_after;
DROP INDEX assets_algorithm;
DROP INDEX occurrences_path;
DROP INDEX occurrences_asset;
DROP INDEX asset_scans_asset;
DROP INDEX occurrence_scans_occurrence;
DROP INDEX owners_name;
DROP INDEX waivers_asset_rule;
DROP INDEX IF EXISTS occurrences_path_pattern;
ALTER TABLE waivers RENAME TO v4_waivers;
ALTER TABLE owners RENAME TO v4_owners;
ALTER TABLE occurrence_scans RENAME TO v4_occurrence_scans;
ALTER TABLE asset_scans RENAME TO v4_asset_scans;
ALTER TABLE occurrences RENAME TO v4_occurrences;
ALTER TABLE relations RENAME TO v4_relations;
ALTER TABLE assets RENAME TO v4_assets;
CREATE TABLE assets (
    rid {intpk},
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    label TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    first_scan BIGINT NOT NULL,
    last_seen TEXT NOT NULL,
    live BIGINT NOT NULL,
    state TEXT NOT NULL,
    not_after TEXT,
    issuer TEXT,
    algorithm TEXT
);
CREATE TABLE asset_facts (
    rid {intpk},
    facts TEXT NOT NULL
);
CREATE TABLE issuers (
    name TEXT PRIMARY KEY
);
CREATE TABLE occurrences (
    rid {intpk},
    asset_rid BIGINT NOT NULL,
    path TEXT NOT NULL,
    container TEXT NOT NULL,
    line BIGINT,
    first_seen TEXT NOT NULL
);
CREATE TABLE scan_sets (
    scan_seq BIGINT NOT NULL,
    what TEXT NOT NULL,
    members TEXT NOT NULL,
    PRIMARY KEY (scan_seq, what)
);
CREATE TABLE relations (
    from_rid BIGINT NOT NULL,
    to_rid BIGINT NOT NULL,
    type TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (from_rid, to_rid, type)
);
CREATE INDEX relations_to ON relations (to_rid);
CREATE TABLE owners (
    asset_rid BIGINT NOT NULL,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    explicit BIGINT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (asset_rid, role, explicit, name)
){without_rowid};
ALTER TABLE audit_events RENAME TO v4_audit_events;
DROP INDEX audit_events_at;
CREATE TABLE audit_events (
    seq {intpk},
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
INSERT INTO audit_events SELECT seq, at, kind, subject, data, prev_hash, hash FROM v4_audit_events;
DROP TABLE v4_audit_events;
CREATE TABLE waivers (
    id {serial},
    rule TEXT NOT NULL,
    asset_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX waivers_asset_rule ON waivers (asset_id, rule);
"#,
        sql_pg: None,
        after: Some(crate::migrate5::backfill),
    },
    Migration {
        version: 6,
        name: "covering indexes for the owner, expiry and issuer filters",
        // Counts answered from the index alone (`live` in the index), and the owner
        // filter's two ranges (explicit, inferred) read from owners_name without the table.
        sql: r#"
DROP INDEX owners_name;
CREATE INDEX owners_name ON owners (name, role, explicit, asset_rid);
DROP INDEX assets_not_after;
CREATE INDEX assets_not_after ON assets (not_after, live) WHERE not_after IS NOT NULL;
DROP INDEX assets_issuer;
CREATE INDEX assets_issuer ON assets (issuer, not_after, live) WHERE issuer IS NOT NULL;
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 7,
        name: "asset ids unique through a named index (dropped around a bulk load)",
        // Inserting a million assets checking an inline UNIQUE id as they go takes 4.9 s;
        // without it 1.2 s, and building the unique index afterwards by sorting 1.5 s. An
        // inline constraint cannot be dropped (SQLite), so the table is rebuilt once.
        sql: r#"
DROP INDEX assets_kind;
DROP INDEX assets_not_after;
DROP INDEX assets_issuer;
DROP INDEX assets_algorithm;
ALTER TABLE assets RENAME TO v6_assets;
CREATE TABLE assets (
    rid {intpk},
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    label TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    first_scan BIGINT NOT NULL,
    last_seen TEXT NOT NULL,
    live BIGINT NOT NULL,
    state TEXT NOT NULL,
    not_after TEXT,
    issuer TEXT,
    algorithm TEXT
);
INSERT INTO assets (rid, id, kind, fingerprint, label, first_seen, first_scan, last_seen,
                    live, state, not_after, issuer, algorithm)
    SELECT rid, id, kind, fingerprint, label, first_seen, first_scan, last_seen,
           live, state, not_after, issuer, algorithm FROM v6_assets;
DROP TABLE v6_assets;
CREATE UNIQUE INDEX assets_id ON assets (id);
CREATE INDEX assets_kind ON assets (kind, rid);
CREATE INDEX assets_not_after ON assets (not_after, live) WHERE not_after IS NOT NULL;
CREATE INDEX assets_issuer ON assets (issuer, not_after, live) WHERE issuer IS NOT NULL;
CREATE INDEX assets_algorithm ON assets (algorithm, kind, live);
"#,
        // PostgreSQL drops a constraint in place (its name depends on the history of the
        // schema, so it is looked up).
        sql_pg: Some(
            r#"
DO $$
DECLARE c text;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'assets'::regclass AND contype = 'u' LOOP
        EXECUTE format('ALTER TABLE assets DROP CONSTRAINT %I', c);
    END LOOP;
END $$;
CREATE UNIQUE INDEX assets_id ON assets (id);
"#,
        ),
        after: None,
    },
    Migration {
        version: 8,
        name: "places know their host and scan root; roots keys name the host",
        // A place's identity becomes (host, root, path, container). `crate::migrate8`
        // gives each place the host (and single root) of the first scan that saw it, puts
        // the host into every scan's roots key, recounts `assets.live` by those keys, and
        // builds the host index.
        sql: r#"
ALTER TABLE occurrences ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE occurrences ADD COLUMN root TEXT NOT NULL DEFAULT '';
"#,
        sql_pg: None,
        after: Some(crate::migrate8::backfill),
    },
    Migration {
        version: 9,
        name: "secret fingerprints keyed per inventory; waiver events indexed",
        // The inventory's keys (the secret-fingerprint key, made here), secrets re-keyed
        // (`crate::migrate9`), and a partial index over the events the waivers are read
        // from (the engine reads waivers from the chain, not from their table).
        sql: r#"
CREATE TABLE inventory_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_events_waivers ON audit_events (seq)
    WHERE kind IN ('waiver-granted', 'waiver-revoked', 'secret-ids-rekeyed');
"#,
        sql_pg: None,
        after: Some(crate::migrate9::backfill),
    },
    Migration {
        version: 10,
        name: "findings and report headers kept per scan",
        // Each distinct finding once (`findings.rs`), each scan's set of them in
        // `scan_sets`; what else a report holds that no other table does (header, roots as
        // given and canonical, errors) in `scan_reports`. Scans recorded before have neither
        // and are reported as such.
        sql: r#"
CREATE TABLE findings (
    rid {intpk},
    hash TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    asset TEXT NOT NULL,
    path TEXT,
    line BIGINT,
    body TEXT NOT NULL
);
CREATE TABLE scan_reports (
    scan_seq BIGINT PRIMARY KEY,
    info TEXT NOT NULL,
    errors TEXT NOT NULL
);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 11,
        name: "owner rules: path-glob owners that apply to assets found later",
        // The rules in force (`crate::rules`); each change is an audit event, and what a
        // rule gives an asset is an explicit owner row with source `rule:ID`.
        sql: r#"
CREATE TABLE owner_rules (
    id {serial},
    glob TEXT NOT NULL,
    host TEXT,
    owner TEXT,
    backup TEXT,
    set_at TEXT NOT NULL,
    set_by TEXT NOT NULL
);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 12,
        name: "API tokens of the server, stored hashed",
        // `crate::tokens`: a token's SHA-256 only (the token is shown once, when created);
        // each creation and revocation is an audit event, which `audit verify` replays
        // against this table.
        sql: r#"
CREATE TABLE api_tokens (
    id {serial},
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX findings_asset ON findings (asset);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 13,
        name: "blast radius kept per asset with many dependants",
        // `crate::reach`: per asset with at least `reach::MIN_KEPT` present dependants, how
        // many there are (per kind, per owner to notify) and which (a bitmap, to move the
        // owner counts when an owner changes). Rewritten by every scan, in its transaction;
        // the backfill computes it for the inventory as it stands.
        sql: r#"
CREATE TABLE reach (
    rid BIGINT PRIMARY KEY,
    total BIGINT NOT NULL,
    kinds TEXT NOT NULL,
    owners TEXT NOT NULL,
    members TEXT NOT NULL
);
"#,
        sql_pg: None,
        after: Some(crate::reach::rebuild),
    },
    Migration {
        version: 14,
        name: "the server's scheduled scans and webhook alerts",
        // `crate::jobs`. Replicas of `trustmap serve` on one database claim a job run, a
        // scan's alert evaluation and each alert's delivery here, in write transactions
        // (which both backends serialise: SQLite's writer lock, PostgreSQL's advisory write
        // lock), so no two replicas run one job or send one alert. Leases expire, so a
        // replica killed mid-run is taken over. Times are RFC 3339 UTC text, compared as text.
        sql: r#"
CREATE TABLE server_jobs (
    name TEXT PRIMARY KEY,
    next_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    runs BIGINT NOT NULL DEFAULT 0,
    last_started_at TEXT,
    last_finished_at TEXT,
    last_scan TEXT,
    last_error TEXT
);
CREATE TABLE alert_scans (
    scan_id TEXT PRIMARY KEY,
    evaluated_at TEXT NOT NULL,
    evaluated_by TEXT NOT NULL,
    alerts BIGINT NOT NULL
);
CREATE TABLE alerts (
    id {serial},
    key TEXT NOT NULL,
    webhook TEXT NOT NULL,
    event TEXT NOT NULL,
    scan_id TEXT NOT NULL,
    asset TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    sent_at TEXT,
    last_error TEXT,
    UNIQUE (key, webhook)
);
CREATE INDEX alerts_due ON alerts (state, next_at);
"#,
        sql_pg: None,
        after: None,
    },
    Migration {
        version: 15,
        name: "a finding's standing (open, waived, baselined) and asset key as columns",
        // `crate::overview` tallies the current findings by standing and owner without
        // reading their JSON or joining on asset ids; rows are immutable (a finding whose
        // marks change is a new row), so the columns are written once. The backfill reads
        // only rows whose JSON can hold a mark.
        sql: r#"
ALTER TABLE findings ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE findings ADD COLUMN asset_rid BIGINT;
"#,
        sql_pg: None,
        after: Some(crate::overview::backfill_status),
    },
];

/// Secondary indexes added after migration 5, which builds the others (the columns of
/// these did not exist yet).
pub(crate) const ADDED_AFTER_5: &[&str] = &["occurrences_host"];

/// Indexes that only serve queries (no uniqueness), as (name, definition): built after
/// migration 5 has carried the data over, and dropped and rebuilt around a bulk load (a
/// first scan of a large estate), where building an index by sorting is faster than
/// growing it entry by entry. (Keeping the indexes led by a column of a few values, which
/// a load only appends to, was tried: 34.6 s instead of 30.1 s for 1M assets.) The
/// current definitions (migration 6 changed three). `{pattern_ops}` as in the migrations.
pub(crate) const SECONDARY_INDEXES: &[(&str, &str)] = &[
    ("assets_kind", "assets (kind, rid)"),
    (
        "assets_not_after",
        "assets (not_after, live) WHERE not_after IS NOT NULL",
    ),
    (
        "assets_issuer",
        "assets (issuer, not_after, live) WHERE issuer IS NOT NULL",
    ),
    ("assets_algorithm", "assets (algorithm, kind, live)"),
    ("occurrences_asset", "occurrences (asset_rid)"),
    ("occurrences_path", "occurrences (path {pattern_ops})"),
    // `--host` (migration 8). Not (host, path): the path index serves a path glob, and a
    // second copy of every path would cost each bulk load as much again.
    ("occurrences_host", "occurrences (host)"),
    ("owners_name", "owners (name, role, explicit, asset_rid)"),
    // "Has an explicit owner", asked per candidate by the --owner filter.
    (
        "owners_explicit",
        "owners (asset_rid) WHERE explicit = 1 AND role = 'owner'",
    ),
];

/// The other indexes a bulk load drops and builds back, as (name, `UNIQUE ` or nothing,
/// definition): the unique index on asset ids (migration 7; the load deduplicates ids
/// itself, and rebuilding the index fails, rolling the load back, if that were ever
/// wrong), and the audit log's time index (growing it by a million equal entries cost a load 1.1 s;
/// building it afterwards took 0.9 s in the `sqlite3` shell).
const BULK_LOAD_ALSO: &[(&str, &str, &str)] = &[
    ("assets_id", "UNIQUE ", "assets (id)"),
    ("audit_events_at", "", "audit_events (at)"),
];

/// Drops every index a bulk load does without ([`SECONDARY_INDEXES`] and
/// [`BULK_LOAD_ALSO`]), or builds them back.
pub(crate) fn bulk_load_indexes(db: &mut Db, create: bool) -> Result<(), Error> {
    let also = BULK_LOAD_ALSO.iter().map(|(name, unique, def)| {
        if create {
            format!("CREATE {unique}INDEX {name} ON {def};")
        } else {
            format!("DROP INDEX {name};")
        }
    });
    db.batch(&also.collect::<Vec<_>>().join("\n"))?;
    secondary_indexes(db, create)
}

/// Builds [`SECONDARY_INDEXES`] (`create`) or drops them.
pub(crate) fn secondary_indexes(db: &mut Db, create: bool) -> Result<(), Error> {
    secondary_indexes_but(db, create, &[])
}

/// [`secondary_indexes`] except those named in `skip`.
pub(crate) fn secondary_indexes_but(db: &mut Db, create: bool, skip: &[&str]) -> Result<(), Error> {
    let pattern_ops = match db.backend() {
        Backend::Sqlite => "",
        Backend::Postgres => "text_pattern_ops",
    };
    let sql: Vec<String> = SECONDARY_INDEXES
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(name, def)| {
            if create {
                format!(
                    "CREATE INDEX {name} ON {};",
                    def.replace("{pattern_ops}", pattern_ops)
                )
            } else {
                format!("DROP INDEX {name};")
            }
        })
        .collect();
    db.batch(&sql.join("\n"))
}

pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the schema up to `target` (normally the latest version).
///
/// Reads first: a database already at `target` is left alone without taking any lock (a
/// reader opening the store never waits for a writer). Only when a migration is due is the
/// write lock taken, once per migration, and whether it is still due checked again under it
/// (another process may have just migrated). A missing `schema_migrations` table is
/// version 0.
pub(crate) fn migrate(db: &mut Db, target: i64) -> Result<i64, Error> {
    let current = current_version(db)?;
    if current > latest_version() {
        return Err(BackendError::NewerSchema {
            found: current,
            known: latest_version(),
        }
        .into());
    }
    if !MIGRATIONS
        .iter()
        .any(|m| m.version > current && m.version <= target)
    {
        return Ok(current);
    }
    db.transaction(|db| {
        db.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
    })?;
    for m in MIGRATIONS.iter().filter(|m| m.version <= target) {
        db.transaction(|db| apply(db, m))?;
    }
    current_version(db)
}

/// Runs one migration inside the caller's write transaction, unless it is recorded already.
fn apply(db: &mut Db, m: &Migration) -> Result<(), Error> {
    let done = db.query_one(
        "SELECT version FROM schema_migrations WHERE version = ?",
        &[Val::Int(m.version)],
    )?;
    if done.is_some() {
        return Ok(());
    }
    // {serial}: a key the database assigns; {intpk}: an integer key trustmap assigns
    // (on SQLite both are the rowid itself); {pattern_ops}: PostgreSQL's operator
    // class that lets LIKE 'prefix%' use the index (SQLite's GLOB needs none).
    // {without_rowid}: SQLite keeps a table keyed by its primary key alone.
    let (serial, intpk, pattern_ops, without_rowid) = match db.backend() {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY",
            "INTEGER PRIMARY KEY",
            "",
            " WITHOUT ROWID",
        ),
        Backend::Postgres => (
            "BIGSERIAL PRIMARY KEY",
            "BIGINT PRIMARY KEY",
            "text_pattern_ops",
            "",
        ),
    };
    let sql = match (db.backend(), m.sql_pg) {
        (Backend::Postgres, Some(pg)) => pg,
        _ => m.sql,
    };
    let sql = sql
        .replace("{serial}", serial)
        .replace("{intpk}", intpk)
        .replace("{pattern_ops}", pattern_ops)
        .replace("{without_rowid}", without_rowid);
    let failed = |e: Error| Error::Migration {
        version: m.version,
        source: Box::new(e),
    };
    db.batch(&sql).map_err(failed)?;
    if let Some(after) = m.after {
        after(db).map_err(failed)?;
    }
    db.exec(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        &[
            Val::Int(m.version),
            Val::from(m.name),
            Val::Text(crate::now_rfc3339()),
        ],
    )?;
    Ok(())
}

/// The schema version, read without any lock; 0 for a database without schema_migrations.
pub(crate) fn current_version(db: &mut Db) -> Result<i64, Error> {
    let exists = match db.backend() {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
        Backend::Postgres => {
            "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 ELSE 1 END"
        }
    };
    if db.query_one(exists, &[])?.is_none_or(|r| r.int(0) == 0) {
        return Ok(0);
    }
    Ok(db
        .query_one("SELECT MAX(version) FROM schema_migrations", &[])?
        .and_then(|r| r.opt_int(0))
        .unwrap_or(0))
}

/// Version 2 added indexed columns that version 1 kept only inside `facts`.
fn backfill_query_columns(db: &mut Db) -> Result<(), Error> {
    let rows = db.query("SELECT id, facts FROM assets", &[])?;
    for r in rows {
        let facts: serde_json::Value = serde_json::from_str(&r.text(1)).unwrap_or_default();
        let q = crate::facts::QueryColumns::from_facts(&facts);
        db.exec(
            "UPDATE assets SET not_after = ?, issuer = ?, algorithm = ? WHERE id = ?",
            &[
                q.not_after.into(),
                q.issuer.into(),
                q.algorithm.into(),
                Val::Text(r.text(0)),
            ],
        )?;
    }
    Ok(())
}
