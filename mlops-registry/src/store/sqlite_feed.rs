//! The change feed of `SqliteStore`: a cheap poll of `PRAGMA data_version` on a read-only
//! connection of its own. The value changes when any other connection (in this process or
//! another) commits, and only then is the small `models` table scanned for revisions that
//! moved.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use mlops_core::ModelName;
use rusqlite::{Connection, OpenFlags};

use crate::error::{RegistryError, Result};
use crate::model::Revision;
use crate::store::feed::{Change, ChangeEvent, ChangeFeed};

/// How often an idle feed asks SQLite whether anything was committed.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(2);

fn err(e: rusqlite::Error) -> RegistryError {
    RegistryError::Storage {
        message: e.to_string(),
    }
}

#[derive(Debug)]
pub(crate) struct SqliteFeed {
    conn: Connection,
    data_version: i64,
    known: HashMap<ModelName, Revision>,
    pending: VecDeque<Change>,
}

impl SqliteFeed {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        let mut feed = Self {
            conn,
            data_version: 0,
            known: HashMap::new(),
            pending: VecDeque::new(),
        };
        feed.data_version = feed.read_data_version()?;
        feed.scan()?;
        feed.pending.clear();
        Ok(feed)
    }

    fn read_data_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(err)
    }

    /// Queues a change for every model whose revision moved since the last scan.
    fn scan(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, revision FROM models")
            .map_err(err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(err)?;
        for row in rows {
            let (name, rev) = row.map_err(err)?;
            let (Ok(name), Ok(rev)) = (ModelName::new(name), u64::try_from(rev)) else {
                continue;
            };
            let revision = Revision::from_u64(rev);
            if self.known.get(&name) != Some(&revision) {
                self.known.insert(name.clone(), revision);
                self.pending.push_back(Change {
                    model: name,
                    revision,
                });
            }
        }
        Ok(())
    }
}

impl ChangeFeed for SqliteFeed {
    fn next(&mut self, timeout: Duration) -> Result<Option<ChangeEvent>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(c) = self.pending.pop_front() {
                return Ok(Some(ChangeEvent::Changed(c)));
            }
            let v = self.read_data_version()?;
            if v != self.data_version {
                self.data_version = v;
                self.scan()?;
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(POLL_INTERVAL.min(deadline - now));
        }
    }
}
