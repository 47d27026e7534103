//! The two backends behind one small SQL interface.
//!
//! Everything above this module is written once: SQL uses `?` placeholders (rewritten to
//! `$1, $2, ...` for PostgreSQL), values are integers or text (timestamps are RFC 3339
//! text, which sorts chronologically; structured facts are JSON text), and every write
//! happens between [`Db::begin`] and [`Db::commit`]. Writers are serialised on both
//! backends: `BEGIN IMMEDIATE` plus a busy timeout on SQLite, a transaction-scoped advisory
//! lock on PostgreSQL. That keeps the audit chain and scan sequence numbers linear even when
//! several scanners write at once.

use crate::error::Error;
use std::collections::HashMap;
use std::time::Duration;

/// A parameter.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(v.clone())
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::OptInt(v)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::OptText(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::OptText(v.map(str::to_string))
    }
}

/// One value read back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    /// The value as text, without copying when it is text.
    pub fn into_text(self) -> String {
        match self {
            Cell::Text(s) => s,
            Cell::Int(n) => n.to_string(),
            Cell::Null => String::new(),
        }
    }
}

/// One row read back.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub Vec<Cell>);

impl Row {
    /// Column `i` as text, moved out of the row (which is left with a null there).
    pub fn into_text(mut self, i: usize) -> String {
        std::mem::replace(&mut self.0[i], Cell::Null).into_text()
    }
    pub fn text(&self, i: usize) -> String {
        self.0[i].clone().into_text()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match &self.0[i] {
            Cell::Null => None,
            _ => Some(self.text(i)),
        }
    }
    pub fn int(&self, i: usize) -> i64 {
        match &self.0[i] {
            Cell::Int(n) => *n,
            Cell::Text(s) => s.parse().unwrap_or(0),
            Cell::Null => 0,
        }
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match &self.0[i] {
            Cell::Null => None,
            _ => Some(self.int(i)),
        }
    }
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres {
        client: Box<postgres::Client>,
        statements: HashMap<String, postgres::Statement>,
        /// Between [`Db::begin`] and [`Db::commit`] or [`Db::rollback`].
        in_transaction: bool,
    },
}

/// How long a writer waits for another writer's lock by default: recording a very large
/// scan can take minutes, and the waiting scan has nothing better to do.
const LOCK_WAIT: Duration = Duration::from_secs(600);

/// How long a writer waits for another writer's lock (SQLite's busy timeout, PostgreSQL's
/// `lock_timeout` around the write lock): `TRUSTMAP_LOCK_TIMEOUT` seconds, else 600 s. Past
/// it the store answers [`crate::BackendError::Locked`] instead of waiting on.
pub(crate) fn lock_wait() -> Duration {
    static WAIT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *WAIT.get_or_init(|| {
        std::env::var("TRUSTMAP_LOCK_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(LOCK_WAIT, Duration::from_secs)
    })
}

/// A memory map of up to 2 GB (SQLite's compiled-in maximum) for reads.
const MMAP: &str = "PRAGMA mmap_size=2147418112";

/// Advisory lock key that serialises writers on PostgreSQL ("trustmap" in ASCII, truncated).
const PG_WRITE_LOCK: i64 = 0x7472_7573_746d_6170;

impl Db {
    /// Opens a SQLite connection. The `first` connection of a store also sets the
    /// journal mode (WAL) and the page size of a new database; later ones leave the file's
    /// settings alone (a bulk load may have it in the rollback journal for a while).
    pub fn open_sqlite(path: &std::path::Path, first: bool) -> Result<Db, Error> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::Io {
                path: dir.display().to_string(),
                source: e,
            })?;
        }
        let conn = rusqlite::Connection::open(path)?;
        conn.busy_timeout(lock_wait())?;
        if first {
            Self::sqlite_file_settings(&conn)?;
        }
        // synchronous=NORMAL is durable in WAL mode except for the last commits on power loss;
        // a page cache of up to 128 MiB (allocated only as used) keeps a large scan's
        // transaction from spilling pages to disk mid-write, and statement journals of the
        // multi-row upserts stay in memory.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
             PRAGMA cache_size=-131072; PRAGMA temp_store=MEMORY;",
        )?;
        // Reads through a memory map rather than a read() per page: a `trustmap assets`
        // process starts with an empty page cache and reads thousands of scattered pages
        // (at 1M assets, an owner's count took 150-230 ms through read(), 80-90 ms mapped).
        conn.execute_batch(MMAP)?;
        Ok(Db::Sqlite(conn))
    }

    /// Page size and journal mode: settings of the file, made by a store's first connection.
    fn sqlite_file_settings(conn: &rusqlite::Connection) -> Result<(), Error> {
        // 16 KiB pages for a new database (an existing one keeps its size): a quarter as
        // many pages to fetch, split and write. Loading 1M assets took 8% less time than
        // with the default 4 KiB (three alternating pairs, BENCHMARKS.md); re-scans and
        // queries kept their times.
        conn.execute_batch("PRAGMA page_size=16384")?;
        // WAL: readers never block the writer, and a crash mid-transaction leaves the last
        // committed state intact. (On a file already in WAL this only reads the mode.)
        //
        // The switch needs the only lock on the file. While another process writes a bulk
        // load through the rollback journal it holds the write lock, and SQLite answers
        // SQLITE_BUSY at once (waiting could deadlock, so the busy handler is not called):
        // this connection then goes on in the file's current mode, which is just as correct
        // (readers read the last committed state, writers wait for the write lock), and a
        // later opener switches. Never waiting here is what lets a reader read during a
        // bulk load instead of failing "database is locked".
        conn.busy_timeout(Duration::ZERO)?;
        let mode = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0));
        conn.busy_timeout(lock_wait())?;
        match mode {
            // Any mode this returns on a file is WAL or a rollback journal; both are safe.
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Connects to PostgreSQL, over TLS as the URL's `sslmode` says ([`crate::pg_tls`]).
    pub fn open_postgres(url: &str) -> Result<Db, Error> {
        let mut client = crate::pg_tls::connect(url)?;
        // Every wait for a lock is bounded: the write lock, and the table locks a first bulk
        // load holds while it rebuilds indexes (readers wait for those, they never fail
        // before the bound).
        client.batch_execute(&format!(
            "SET lock_timeout = '{}ms'",
            lock_wait().as_millis().max(1)
        ))?;
        Ok(Db::Postgres {
            client: Box::new(client),
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    /// Whether the connection can go back to the pool: open, and outside any transaction.
    pub fn reusable(&self) -> bool {
        match self {
            Db::Sqlite(c) => c.is_autocommit(),
            Db::Postgres {
                client,
                in_transaction,
                ..
            } => !client.is_closed() && !in_transaction,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Runs several statements without parameters.
    pub fn batch(&mut self, sql: &str) -> Result<(), Error> {
        match self {
            Db::Sqlite(c) => c.execute_batch(sql)?,
            Db::Postgres { client, .. } => client.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Starts a write transaction, waiting for any other writer to finish (at most
    /// [`lock_wait`], then [`crate::BackendError::Locked`]).
    pub fn begin(&mut self) -> Result<(), Error> {
        match self {
            Db::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Db::Postgres {
                client,
                in_transaction,
                ..
            } => {
                *in_transaction = true;
                client.batch_execute("BEGIN")?;
                client.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_WRITE_LOCK])?;
            }
        }
        Ok(())
    }

    /// SQLite only, outside a transaction: switches to the rollback journal (`on`) or back
    /// to WAL. A bulk load into an empty database is written once this way: a rollback
    /// journal keeps only the pages that existed before the transaction (an empty
    /// database has next to none), where WAL writes every page to the log and copies it
    /// into the database again at the checkpoint. A crash mid-load still leaves the
    /// previous state: the next opener rolls the hot journal back. Leaving WAL needs the
    /// only connection to the database; when another is open this returns false and the
    /// load goes through WAL as usual. Reads are not memory-mapped while in the rollback
    /// journal (see below).
    pub fn rollback_journal(&mut self, on: bool) -> Result<bool, Error> {
        let Db::Sqlite(c) = self else {
            return Ok(false);
        };
        let want = if on { "delete" } else { "wal" };
        // Never wait for other connections here: they are why the switch is refused.
        c.busy_timeout(Duration::ZERO)?;
        let mode = c.query_row(&format!("PRAGMA journal_mode={want}"), [], |r| {
            r.get::<_, String>(0)
        });
        c.busy_timeout(lock_wait())?;
        let switched = mode.is_ok_and(|m| m.eq_ignore_ascii_case(want));
        // No memory map while a bulk load grows the file: SQLite remaps it as it grows
        // (measured slower: 29.0-29.5 s against 27.1 s for 1M assets).
        c.execute_batch(if on && switched {
            "PRAGMA mmap_size=0"
        } else {
            MMAP
        })?;
        Ok(switched)
    }

    /// SQLite's own check of the database file: `PRAGMA integrity_check` (`full`: every
    /// page, index entry and constraint) or `PRAGMA quick_check` (pages and records, no
    /// index cross-check). The problems it reports, at most 20; empty when the file is
    /// sound. PostgreSQL has no such check here (nothing, see ARCHITECTURE.md).
    pub fn integrity_problems(&mut self, full: bool) -> Result<Vec<String>, Error> {
        let Db::Sqlite(c) = self else {
            return Ok(Vec::new());
        };
        let sql = if full {
            "PRAGMA integrity_check(20)"
        } else {
            "PRAGMA quick_check(20)"
        };
        let rows = match c.prepare(sql).and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        }) {
            Ok(rows) => rows,
            // A file damaged where the check starts reading is refused by the check itself.
            Err(rusqlite::Error::SqliteFailure(e, msg))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                ) =>
            {
                vec![msg.unwrap_or_else(|| e.to_string())]
            }
            Err(e) => return Err(e.into()),
        };
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// The database file, for SQLite.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        match self {
            Db::Sqlite(c) => c.path().filter(|p| !p.is_empty()).map(Into::into),
            Db::Postgres { .. } => None,
        }
    }

    pub fn commit(&mut self) -> Result<(), Error> {
        self.end_transaction("COMMIT")
    }

    pub fn rollback(&mut self) -> Result<(), Error> {
        self.end_transaction("ROLLBACK")
    }

    fn end_transaction(&mut self, sql: &str) -> Result<(), Error> {
        let done = self.batch(sql);
        if let Db::Postgres { in_transaction, .. } = self
            && done.is_ok()
        {
            *in_transaction = false;
        }
        done
    }

    /// Runs `f` in a write transaction: committed when it returns Ok, rolled back otherwise.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Db) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.begin()?;
        match f(self) {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    /// Executes one statement; returns the number of rows changed.
    pub fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, Error> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.execute(rusqlite::params_from_iter(params.iter()))?;
                Ok(n as u64)
            }
            Db::Postgres {
                client, statements, ..
            } => {
                let st = pg_statement(client, statements, sql)?;
                let boxed = params.iter().map(to_pg).collect::<Vec<_>>();
                let refs = boxed
                    .iter()
                    .map(|b| b.as_ref() as &(dyn postgres::types::ToSql + Sync))
                    .collect::<Vec<_>>();
                Ok(client.execute(&st, &refs)?)
            }
        }
    }

    /// Runs one query and reads every row.
    pub fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, Error> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut cells = Vec::with_capacity(n);
                    for i in 0..n {
                        cells.push(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Cell::Null,
                            rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                            rusqlite::types::ValueRef::Real(v) => Cell::Int(v as i64),
                            rusqlite::types::ValueRef::Text(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(b) => Cell::Text(hex::encode(b)),
                        });
                    }
                    out.push(Row(cells));
                }
                Ok(out)
            }
            Db::Postgres {
                client, statements, ..
            } => {
                let st = pg_statement(client, statements, sql)?;
                let boxed = params.iter().map(to_pg).collect::<Vec<_>>();
                let refs = boxed
                    .iter()
                    .map(|b| b.as_ref() as &(dyn postgres::types::ToSql + Sync))
                    .collect::<Vec<_>>();
                let rows = client.query(&st, &refs)?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    pub fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, Error> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Multi-row statement: `head VALUES (?, ...), (?, ...) tail`, in chunks that stay
    /// under both backends' parameter limits. Returns the rows of any RETURNING clause.
    pub fn bulk(&mut self, head: &str, rows: &[Vec<Val>], tail: &str) -> Result<Vec<Row>, Error> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(Vec::new());
        };
        let per_chunk = (MAX_PARAMS / width.max(1)).max(1);
        let tuple = format!("({})", vec!["?"; width].join(", "));
        let mut out = Vec::new();
        for chunk in rows.chunks(per_chunk) {
            let sql = format!(
                "{head} VALUES {} {tail}",
                vec![tuple.as_str(); chunk.len()].join(", ")
            );
            let params: Vec<Val> = chunk.iter().flatten().cloned().collect();
            out.extend(self.query(&sql, &params)?);
        }
        Ok(out)
    }

    /// Runs `sql` (which contains `{in}`) once per chunk of `ids`, `{in}` becoming `?, ?, ...`.
    pub fn query_in(&mut self, sql: &str, ids: &[String]) -> Result<Vec<Row>, Error> {
        let vals: Vec<Val> = ids.iter().map(Val::from).collect();
        self.query_in_vals(sql, &[], &vals)
    }

    /// [`Db::query_in`] over integer keys.
    pub fn query_in_ints(&mut self, sql: &str, ids: &[i64]) -> Result<Vec<Row>, Error> {
        let vals: Vec<Val> = ids.iter().map(|&i| Val::Int(i)).collect();
        self.query_in_vals(sql, &[], &vals)
    }

    /// Runs `sql` once per chunk of `list`: `{in}` becomes `?, ?, ...`; `before` are the
    /// parameters of the placeholders that come before `{in}`.
    pub fn query_in_vals(
        &mut self,
        sql: &str,
        before: &[Val],
        list: &[Val],
    ) -> Result<Vec<Row>, Error> {
        let mut out = Vec::new();
        for chunk in list.chunks(MAX_PARAMS) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let params: Vec<Val> = before.iter().chain(chunk).cloned().collect();
            out.extend(self.query(&sql.replace("{in}", &marks), &params)?);
        }
        Ok(out)
    }
}

impl Db {
    /// Plain inserts of many rows (no conflict handling: the caller knows they are new).
    /// SQLite: one prepared single-row statement run per row, borrowing the values; that
    /// is SQLite's fastest path. PostgreSQL: `COPY ... FROM STDIN` in text format.
    pub fn insert_rows(
        &mut self,
        table: &str,
        cols: &[&str],
        rows: &[Vec<Val>],
    ) -> Result<(), Error> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Db::Sqlite(c) => {
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    cols.join(", "),
                    vec!["?"; cols.len()].join(", ")
                );
                let mut st = c.prepare_cached(&sql)?;
                for r in rows {
                    st.execute(rusqlite::params_from_iter(r.iter()))?;
                }
            }
            Db::Postgres { client, .. } => {
                use std::io::Write as _;
                let mut w =
                    client.copy_in(&format!("COPY {table} ({}) FROM STDIN", cols.join(", ")))?;
                let mut buf = Vec::with_capacity(1 << 20);
                for r in rows {
                    for (i, v) in r.iter().enumerate() {
                        if i > 0 {
                            buf.push(b'\t');
                        }
                        copy_field(&mut buf, v);
                    }
                    buf.push(b'\n');
                    if buf.len() >= 1 << 20 {
                        w.write_all(&buf)
                            .map_err(|e| Error::other(format!("COPY {table}: {e}")))?;
                        buf.clear();
                    }
                }
                w.write_all(&buf)
                    .map_err(|e| Error::other(format!("COPY {table}: {e}")))?;
                w.finish()?;
            }
        }
        Ok(())
    }
}

/// One value in COPY's text format: `\N` for NULL, backslash escapes for the separators.
fn copy_field(buf: &mut Vec<u8>, v: &Val) {
    let text = match v {
        Val::Int(n) | Val::OptInt(Some(n)) => {
            buf.extend_from_slice(n.to_string().as_bytes());
            return;
        }
        Val::Text(s) | Val::OptText(Some(s)) => s,
        Val::OptInt(None) | Val::OptText(None) => {
            buf.extend_from_slice(b"\\N");
            return;
        }
    };
    for &b in text.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            _ => buf.push(b),
        }
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::Int(n) | Val::OptInt(Some(n)) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Val::Text(s) | Val::OptText(Some(s)) => {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }
            Val::OptInt(None) | Val::OptText(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

/// Parameters per statement in bulk writes: under SQLite's 32766 and PostgreSQL's 65535.
const MAX_PARAMS: usize = 3000;

fn to_pg(v: &Val) -> Box<dyn postgres::types::ToSql + Sync> {
    match v {
        Val::Int(n) => Box::new(*n),
        Val::Text(s) => Box::new(s.clone()),
        Val::OptInt(n) => Box::new(*n),
        Val::OptText(s) => Box::new(s.clone()),
    }
}

/// `?` placeholders to `$1, $2, ...` (our SQL has no `?` inside string literals).
fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

fn pg_statement(
    client: &mut postgres::Client,
    cache: &mut HashMap<String, postgres::Statement>,
    sql: &str,
) -> Result<postgres::Statement, Error> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = client.prepare(&pg_sql(sql))?;
    cache.insert(sql.to_string(), st.clone());
    Ok(st)
}

fn pg_row(r: &postgres::Row) -> Result<Row, Error> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let cell = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?
                .map_or(Cell::Null, Cell::Int)
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else if *t == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else if *t == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map_or(Cell::Null, |v| Cell::Int(v.into()))
        } else {
            r.try_get::<_, Option<String>>(i)?
                .map_or(Cell::Null, Cell::Text)
        };
        cells.push(cell);
    }
    Ok(Row(cells))
}

#[cfg(test)]
mod tests {
    #[test]
    fn copy_fields_escape_separators_and_nulls() {
        let mut buf = Vec::new();
        super::copy_field(&mut buf, &super::Val::Text("a\tb\nc\\d".into()));
        assert_eq!(buf, b"a\\tb\\nc\\\\d");
        buf.clear();
        super::copy_field(&mut buf, &super::Val::OptText(None));
        assert_eq!(buf, b"\\N");
    }

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            super::pg_sql("SELECT a FROM t WHERE x = ? AND y IN (?, ?)"),
            "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)"
        );
    }
}
