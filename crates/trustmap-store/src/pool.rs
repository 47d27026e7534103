//! A small connection pool: what lets one [`crate::Store`] serve many threads.
//!
//! Written here rather than taken from r2d2 (with r2d2_sqlite and r2d2_postgres): the store
//! needs three things those adapters do not give in one place: one connection type over both
//! backends (our [`Db`], with its per-connection statement cache), a way to close the idle
//! connections before a SQLite bulk load (leaving WAL needs the only connection to the
//! file), and opening SQLite connections differently after the first (only the first one
//! sets the journal mode). It is a mutex-guarded stack of idle connections, opened on demand
//! up to a bound; a [`Conn`] goes back on the stack when dropped, unless it may be broken.

use crate::db::Db;
use crate::error::{BackendError, Error};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Opens one connection; `true` for the first connection of the pool.
type Connect = dyn Fn(bool) -> Result<Db, Error> + Send + Sync;

/// How long [`Pool::get`] waits for a connection when all are in use.
const WAIT: Duration = Duration::from_secs(120);

pub(crate) struct Pool {
    connect: Box<Connect>,
    state: Mutex<State>,
    freed: Condvar,
    max: usize,
}

struct State {
    idle: Vec<Db>,
    /// Connections open, idle or in use.
    open: usize,
    /// Whether a connection was ever opened.
    opened_once: bool,
}

impl Pool {
    pub fn new(
        max: usize,
        connect: impl Fn(bool) -> Result<Db, Error> + Send + Sync + 'static,
    ) -> Arc<Pool> {
        Arc::new(Pool {
            connect: Box::new(connect),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                opened_once: false,
            }),
            freed: Condvar::new(),
            max: max.max(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves the state consistent (plain pushes, pops
        // and counts), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection: an idle one, else a new one while under the bound, else the first one
    /// returned.
    pub fn get(self: &Arc<Self>) -> Result<Conn, Error> {
        let mut state = self.lock();
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(db) = state.idle.pop() {
                return Ok(Conn {
                    pool: Arc::clone(self),
                    db: Some(db),
                });
            }
            if state.open < self.max {
                state.open += 1;
                let first = !state.opened_once;
                state.opened_once = true;
                drop(state);
                return match (self.connect)(first) {
                    Ok(db) => Ok(Conn {
                        pool: Arc::clone(self),
                        db: Some(db),
                    }),
                    Err(e) => {
                        let mut state = self.lock();
                        state.open -= 1;
                        if first {
                            state.opened_once = false;
                        }
                        drop(state);
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(BackendError::PoolTimeout(WAIT).into());
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Closes every idle connection (SQLite: before leaving WAL for a bulk load).
    pub fn close_idle(&self) {
        let idle = {
            let mut state = self.lock();
            let idle = std::mem::take(&mut state.idle);
            state.open -= idle.len();
            idle
        };
        drop(idle);
        self.freed.notify_all();
    }

    fn put(&self, db: Option<Db>) {
        let mut state = self.lock();
        match db {
            Some(db) => state.idle.push(db),
            None => state.open -= 1,
        }
        drop(state);
        self.freed.notify_one();
    }
}

/// A connection out of the pool; back into it when dropped.
pub(crate) struct Conn {
    pool: Arc<Pool>,
    db: Option<Db>,
}

impl std::ops::Deref for Conn {
    type Target = Db;
    fn deref(&self) -> &Db {
        self.db.as_ref().expect("a connection until dropped")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Db {
        self.db.as_mut().expect("a connection until dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // A connection dropped while unwinding, or left inside a transaction, or closed by
        // the server, is not handed to the next caller.
        let db = self
            .db
            .take()
            .filter(|db| !std::thread::panicking() && db.reusable());
        self.pool.put(db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_pool(max: usize) -> Arc<Pool> {
        Pool::new(max, |_| {
            Ok(Db::Sqlite(
                rusqlite::Connection::open_in_memory().map_err(Error::from)?,
            ))
        })
    }

    #[test]
    fn connections_are_reused_and_bounded() {
        let pool = memory_pool(2);
        let a = pool.get().unwrap();
        let b = pool.get().unwrap();
        assert_eq!(pool.lock().open, 2);
        // A third waits for one to come back.
        let waiter = {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || pool.get().map(|_| ()).is_ok())
        };
        std::thread::sleep(Duration::from_millis(50));
        drop(a);
        assert!(waiter.join().unwrap());
        assert_eq!(pool.lock().open, 2);
        drop(b);
        assert_eq!(pool.lock().idle.len(), 2);
        pool.close_idle();
        assert_eq!(pool.lock().open, 0);
    }

    #[test]
    fn a_connection_left_in_a_transaction_is_not_reused() {
        let pool = memory_pool(2);
        let mut c = pool.get().unwrap();
        c.batch("BEGIN").unwrap();
        drop(c);
        assert_eq!(pool.lock().idle.len(), 0);
        assert_eq!(pool.lock().open, 0);
    }
}
