//! The store's errors: typed so a front end can tell "no such thing" (HTTP 404) from "that
//! conflicts with what is there" (409), "that request makes no sense" (400) and "the
//! database failed" (500/503), with the driver's error kept as the source.

/// What was not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entity {
    Scan,
    Asset,
    Waiver,
    OwnerRule,
    Token,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Entity::Scan => "scan",
            Entity::Asset => "asset",
            Entity::Waiver => "waiver",
            Entity::OwnerRule => "owner rule",
            Entity::Token => "token",
        })
    }
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scan, asset or waiver named does not exist.
    #[error("no {what} with id {id:?}")]
    NotFound { what: Entity, id: String },
    /// No recorded scan matches a selection (`--as-of DATE`, `--host`).
    #[error("no scan{0}")]
    NoScan(String),
    /// The request conflicts with what is stored: a scan id recorded twice, a waiver
    /// revoked twice.
    #[error("{0}")]
    Conflict(String),
    /// The request itself is malformed: a bad glob, a bad `sslmode`, a bad date.
    #[error("{0}")]
    InvalidInput(String),
    /// The database failed, or returned what the store cannot read back.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A schema migration failed (and was rolled back).
    #[error("migration {version} failed")]
    Migration {
        version: i64,
        #[source]
        source: Box<Error>,
    },
    /// [`crate::Store::open_existing`] found no inventory at the target (shown with its
    /// password hidden): no such SQLite file, or a database never migrated.
    #[error(
        "no inventory at {0}: check the path or URL (only `trustmap scan` and `trustmap serve` create one)"
    )]
    NoInventory(String),
    /// A file the store needs could not be read or created.
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Why the database failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error("SQLite")]
    Sqlite(#[source] rusqlite::Error),
    #[error("PostgreSQL")]
    Postgres(#[source] postgres::Error),
    /// The database's schema is newer than this build knows.
    #[error(
        "the database has schema version {found}, newer than this trustmap knows ({known}); upgrade trustmap"
    )]
    NewerSchema { found: i64, known: i64 },
    /// Stored data the store cannot read back (a corrupt scan set, a key out of range).
    #[error("{0}")]
    Corrupt(String),
    /// Another writer held the inventory's write lock longer than this process waits
    /// (`TRUSTMAP_LOCK_TIMEOUT`, 600 s by default).
    #[error(
        "the inventory stayed locked by another writer for {} s (database is locked); retry when it is done, or wait longer with TRUSTMAP_LOCK_TIMEOUT=SECONDS",
        .0.as_secs()
    )]
    Locked(std::time::Duration),
    /// SQLite's integrity check failed: the file is damaged, and nothing more is written to
    /// it. The problems as the check reports them.
    #[error(
        "the database file is corrupt (SQLite {check}: {}); restore it from a backup",
        problems.join("; ")
    )]
    Damaged {
        check: &'static str,
        problems: Vec<String>,
    },
    /// Every pooled connection stayed in use for too long.
    #[error("no database connection became free within {0:?}")]
    PoolTimeout(std::time::Duration),
    /// Anything else the database layer reports (a journal mode that could not be set...).
    #[error("{0}")]
    Other(String),
}

/// The class of an [`Error`], for mapping to status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// HTTP 404.
    NotFound,
    /// HTTP 409.
    Conflict,
    /// HTTP 400.
    InvalidInput,
    /// HTTP 503: the database is unreachable or busy; retrying may help.
    Unavailable,
    /// HTTP 500.
    Internal,
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } | Error::NoScan(_) | Error::NoInventory(_) => {
                ErrorKind::NotFound
            }
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Backend(BackendError::PoolTimeout(_) | BackendError::Locked(_)) => {
                ErrorKind::Unavailable
            }
            Error::Backend(BackendError::Postgres(e)) if e.is_closed() => ErrorKind::Unavailable,
            Error::Backend(BackendError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Internal,
        }
    }

    pub(crate) fn not_found(what: Entity, id: impl Into<String>) -> Error {
        Error::NotFound {
            what,
            id: id.into(),
        }
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Error {
        Error::Backend(BackendError::Corrupt(message.into()))
    }

    pub(crate) fn other(message: impl Into<String>) -> Error {
        Error::Backend(BackendError::Other(message.into()))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            // Every SQLite connection waits up to the lock bound before answering BUSY.
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
                Error::Backend(BackendError::Locked(crate::db::lock_wait()))
            }
            _ => Error::Backend(BackendError::Sqlite(e)),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            return Error::Backend(BackendError::Locked(crate::db::lock_wait()));
        }
        Error::Backend(BackendError::Postgres(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_messages() {
        let e = Error::not_found(Entity::Asset, "crt_1");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.to_string(), "no asset with id \"crt_1\"");
        assert_eq!(Error::Conflict("x".into()).kind(), ErrorKind::Conflict);
        assert_eq!(
            Error::InvalidInput("x".into()).kind(),
            ErrorKind::InvalidInput
        );
        let e = Error::from(rusqlite::Error::InvalidQuery);
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert_eq!(e.to_string(), "SQLite");
        assert!(std::error::Error::source(&e).is_some(), "the driver error");
    }
}
