//! A study in one SQLite file (rusqlite's bundled SQLite, no system library), shared by the
//! workers of one machine: WAL mode, so readers never wait; every change is a
//! `BEGIN IMMEDIATE` transaction, which takes the write lock first and so serialises trial
//! numbering and the budget; a writer that finds the lock held waits (`busy_timeout`) and
//! retries.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};

use super::codec::{self, Attrs, Decoder, StudyRow, TrialRow};
use super::schema::{self, SCHEMA_VERSION};
use super::{SampleFn, Storage, StudyId, StudyInfo, StudyMeta, TrialRef};
use crate::error::{Result, TuneError};
use crate::trial::{Params, Trial, TrialState};

/// How long one statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a transaction start that still found the database busy is tried again.
const BUSY_RETRIES: u32 = 5;

const TRIAL_COLUMNS: &str = "id, number, state, params, value, worker, attrs";
const STUDY_COLUMNS: &str = "id, name, fingerprint, direction, meta, attrs";

pub struct SqliteStorage {
    url: String,
    conn: Mutex<Connection>,
}

impl SqliteStorage {
    /// Opens (creating if absent) the database file `path` and its folder, in WAL mode,
    /// with the tables of [`schema::SQLITE`].
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        let url = path.display().to_string();
        let fail = |reason: String| TuneError::SqliteOpen {
            path: url.clone(),
            reason,
        };
        if path.is_dir() {
            return Err(fail("it is a folder, expected a database file".to_string()));
        }
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|e| {
                fail(format!(
                    "cannot create its folder {}: {e}",
                    folder.display()
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(|e| fail(e.to_string()))?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(BUSY_TIMEOUT)?;
            retry_busy(|| conn.pragma_update(None, "journal_mode", "WAL"))?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "foreign_keys", true)
        };
        setup().map_err(|e| fail(e.to_string()))?;
        let storage = SqliteStorage {
            url,
            conn: Mutex::new(conn),
        };
        storage.create_schema()?;
        Ok(storage)
    }

    fn create_schema(&self) -> Result<()> {
        let version = self.write(|conn| {
            conn.execute_batch(schema::SQLITE).map_err(self.db())?;
            let found: Option<i64> = conn
                .query_row("SELECT version FROM dlkit_schema", [], |r| r.get(0))
                .optional()
                .map_err(self.db())?;
            if found.is_none() {
                conn.execute(
                    "INSERT INTO dlkit_schema (version) VALUES (?1)",
                    [SCHEMA_VERSION],
                )
                .map_err(self.db())?;
            }
            Ok(found.unwrap_or(SCHEMA_VERSION))
        })?;
        if version != SCHEMA_VERSION {
            return Err(TuneError::SchemaVersion {
                url: self.url.clone(),
                found: version,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> TuneError + '_ {
        |e| TuneError::Database {
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }

    fn decoder<'a>(&'a self, study: &'a str) -> Decoder<'a> {
        Decoder {
            url: &self.url,
            study,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A thread that panicked inside a transaction left it open.
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        conn
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: committed if `f` succeeds, rolled back
    /// otherwise.
    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN IMMEDIATE", f)
    }

    /// Runs `f` in a read transaction: one snapshot for all its statements.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN", f)
    }

    fn transaction<T>(&self, begin: &str, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.lock();
        retry_busy(|| conn.execute_batch(begin)).map_err(self.db())?;
        match f(&conn) {
            Ok(value) => match conn.execute_batch("COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(self.db()(e))
                }
            },
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn study_row(&self, conn: &Connection, name: &str) -> Result<Option<StudyInfo>> {
        let row = conn
            .query_row(
                &format!("SELECT {STUDY_COLUMNS} FROM dlkit_studies WHERE name = ?1"),
                [name],
                study_row,
            )
            .optional()
            .map_err(self.db())?;
        row.map(|r| self.decoder(name).study(r)).transpose()
    }

    fn all_trials(&self, conn: &Connection, study: &StudyId) -> Result<Vec<Trial>> {
        let db = self.db();
        let rows = conn
            .prepare_cached(&format!(
                "SELECT {TRIAL_COLUMNS} FROM dlkit_trials WHERE study_id = ?1 ORDER BY number"
            ))
            .and_then(|mut s| s.query_map([study.id()], trial_row)?.collect())
            .map_err(&db)?;
        let values: Vec<(i64, i64, f64)> = conn
            .prepare_cached(
                "SELECT v.trial_id, v.epoch, v.value FROM dlkit_trial_values v \
                 JOIN dlkit_trials t ON t.id = v.trial_id WHERE t.study_id = ?1",
            )
            .and_then(|mut s| {
                s.query_map([study.id()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(&db)?;
        self.decoder(study.name()).trials(rows, &values)
    }

    fn next_number(&self, conn: &Connection, study: &StudyId) -> Result<u64> {
        let next: i64 = conn
            .query_row(
                "SELECT COALESCE(MAX(number) + 1, 0) FROM dlkit_trials WHERE study_id = ?1",
                [study.id()],
                |r| r.get(0),
            )
            .map_err(self.db())?;
        self.decoder(study.name()).number(next)
    }

    fn insert_trial(
        &self,
        conn: &Connection,
        study: &StudyId,
        number: u64,
        params: &Params,
        worker: Option<&str>,
        attrs: &Attrs,
    ) -> Result<()> {
        let state = if worker.is_some() {
            TrialState::Running
        } else {
            TrialState::Waiting
        };
        conn.execute(
            "INSERT INTO dlkit_trials (study_id, number, state, params, worker, heartbeat, started, attrs) \
             VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?5 IS NULL THEN NULL ELSE unixepoch('subsec') END, \
             CASE WHEN ?5 IS NULL THEN NULL ELSE unixepoch('subsec') END, ?6)",
            params![
                study.id(),
                number as i64,
                state.as_str(),
                codec::json(params),
                worker,
                codec::json(attrs)
            ],
        )
        .map_err(self.db())?;
        Ok(())
    }

    /// The trial row's id and attributes, checked to be running for `trial.worker`.
    fn owned(&self, conn: &Connection, trial: &TrialRef) -> Result<(i64, String)> {
        let row: Option<(i64, String, Option<String>, String)> = conn
            .query_row(
                "SELECT id, state, worker, attrs FROM dlkit_trials WHERE study_id = ?1 AND number = ?2",
                params![trial.study.id(), trial.number as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(self.db())?;
        codec::check_owner(
            &self.url,
            trial,
            row.as_ref().map(|r| (r.1.clone(), r.2.clone())),
        )?;
        let (id, _, _, attrs) = row.expect("check_owner refuses a missing trial");
        Ok((id, attrs))
    }
}

impl Storage for SqliteStorage {
    fn url(&self) -> &str {
        &self.url
    }

    fn open_study(&self, name: &str, meta: &StudyMeta) -> Result<StudyId> {
        self.write(|conn| {
            if let Some(existing) = self.study_row(conn, name)? {
                codec::check_fingerprint(&self.url, &existing, meta)?;
                return Ok(existing.id);
            }
            conn.execute(
                "INSERT INTO dlkit_studies (name, fingerprint, direction, meta, attrs, created) \
                 VALUES (?1, ?2, ?3, ?4, '{}', unixepoch('subsec'))",
                params![
                    name,
                    meta.config_fingerprint,
                    codec::direction_str(meta.direction),
                    codec::json(&meta.meta)
                ],
            )
            .map_err(self.db())?;
            Ok(StudyId::new(conn.last_insert_rowid(), name))
        })
    }

    fn study(&self, name: &str) -> Result<Option<StudyInfo>> {
        self.read(|conn| self.study_row(conn, name))
    }

    fn studies(&self) -> Result<Vec<StudyInfo>> {
        let rows: Vec<StudyRow> = self.read(|conn| {
            conn.prepare(&format!(
                "SELECT {STUDY_COLUMNS} FROM dlkit_studies ORDER BY name"
            ))
            .and_then(|mut s| s.query_map([], study_row)?.collect())
            .map_err(self.db())
        })?;
        rows.into_iter()
            .map(|r| {
                let name = r.name.clone();
                self.decoder(&name).study(r)
            })
            .collect()
    }

    fn set_study_attr(&self, study: &StudyId, key: &str, value: &serde_json::Value) -> Result<()> {
        self.write(|conn| {
            let text: String = conn
                .query_row(
                    "SELECT attrs FROM dlkit_studies WHERE id = ?1",
                    [study.id()],
                    |r| r.get(0),
                )
                .map_err(self.db())?;
            let mut attrs = self.decoder(study.name()).attrs(&text)?;
            attrs.insert(key.to_string(), value.clone());
            conn.execute(
                "UPDATE dlkit_studies SET attrs = ?2 WHERE id = ?1",
                params![study.id(), codec::json(&attrs)],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn enqueue(&self, study: &StudyId, params: &Params) -> Result<u64> {
        self.write(|conn| {
            let number = self.next_number(conn, study)?;
            self.insert_trial(conn, study, number, params, None, &BTreeMap::new())?;
            Ok(number)
        })
    }

    fn claim(
        &self,
        study: &StudyId,
        worker: &str,
        max_trials: Option<u64>,
        sample: &mut SampleFn<'_>,
    ) -> Result<Option<Trial>> {
        self.write(|conn| {
            let waiting = conn
                .query_row(
                    &format!(
                        "SELECT {TRIAL_COLUMNS} FROM dlkit_trials \
                         WHERE study_id = ?1 AND state = 'waiting' ORDER BY number LIMIT 1"
                    ),
                    [study.id()],
                    trial_row,
                )
                .optional()
                .map_err(self.db())?;
            if let Some(row) = waiting {
                conn.execute(
                    "UPDATE dlkit_trials SET state = 'running', worker = ?2, \
                     heartbeat = unixepoch('subsec'), started = unixepoch('subsec') WHERE id = ?1",
                    params![row.id, worker],
                )
                .map_err(self.db())?;
                let trial = self.decoder(study.name()).trials(vec![row], &[])?.remove(0);
                return Ok(Some(codec::claimed(trial, worker)));
            }
            let trials = self.all_trials(conn, study)?;
            let Some(number) = codec::next_number(&trials, max_trials) else {
                return Ok(None);
            };
            let params = sample(number, &trials)?;
            self.insert_trial(conn, study, number, &params, Some(worker), &BTreeMap::new())?;
            Ok(Some(codec::running(number, params, worker)))
        })
    }

    fn report(&self, trial: &TrialRef, epoch: usize, value: f64) -> Result<()> {
        super::check_not_nan(trial, &format!("value of epoch {epoch}"), value)?;
        self.write(|conn| {
            let (id, _) = self.owned(conn, trial)?;
            conn.execute(
                "UPDATE dlkit_trials SET heartbeat = unixepoch('subsec') WHERE id = ?1",
                [id],
            )
            .map_err(self.db())?;
            conn.execute(
                "INSERT INTO dlkit_trial_values (trial_id, epoch, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (trial_id, epoch) DO UPDATE SET value = excluded.value",
                params![id, epoch as i64, value],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn heartbeat(&self, trial: &TrialRef) -> Result<()> {
        self.write(|conn| {
            let (id, _) = self.owned(conn, trial)?;
            conn.execute(
                "UPDATE dlkit_trials SET heartbeat = unixepoch('subsec') WHERE id = ?1",
                [id],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn finish(
        &self,
        trial: &TrialRef,
        state: TrialState,
        value: Option<f64>,
        attrs: &BTreeMap<String, serde_json::Value>,
    ) -> Result<()> {
        super::check_finish_state(trial, state)?;
        if let Some(v) = value {
            super::check_not_nan(trial, "objective", v)?;
        }
        self.write(|conn| {
            let (id, old) = self.owned(conn, trial)?;
            let mut merged = self.decoder(trial.study.name()).attrs(&old)?;
            merged.extend(attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
            conn.execute(
                "UPDATE dlkit_trials SET state = ?2, value = ?3, attrs = ?4, \
                 finished = unixepoch('subsec'), heartbeat = unixepoch('subsec') WHERE id = ?1",
                params![id, state.as_str(), value, codec::json(&merged)],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn trials(&self, study: &StudyId) -> Result<Vec<Trial>> {
        self.read(|conn| self.all_trials(conn, study))
    }

    fn fail_stale(&self, study: &StudyId, timeout: Duration) -> Result<Vec<u64>> {
        self.write(|conn| {
            let mut stale: Vec<TrialRow> = conn
                .prepare(&format!(
                    "UPDATE dlkit_trials SET state = 'failed', finished = unixepoch('subsec') \
                     WHERE study_id = ?1 AND state = 'running' \
                     AND heartbeat < unixepoch('subsec') - ?2 RETURNING {TRIAL_COLUMNS}"
                ))
                .and_then(|mut s| {
                    s.query_map(params![study.id(), timeout.as_secs_f64()], trial_row)?
                        .collect()
                })
                .map_err(self.db())?;
            stale.sort_by_key(|r| r.number);
            let decoder = self.decoder(study.name());
            let first = self.next_number(conn, study)?;
            let mut failed = Vec::with_capacity(stale.len());
            for (next, row) in (first..).zip(stale) {
                let number = decoder.number(row.number)?;
                let attrs = codec::stale_attrs(
                    decoder.attrs(&row.attrs)?,
                    row.worker.as_deref(),
                    timeout,
                    next,
                );
                conn.execute(
                    "UPDATE dlkit_trials SET attrs = ?2 WHERE id = ?1",
                    params![row.id, codec::json(&attrs)],
                )
                .map_err(self.db())?;
                let params = decoder.params(&row.params)?;
                self.insert_trial(
                    conn,
                    study,
                    next,
                    &params,
                    None,
                    &codec::requeued_attrs(number),
                )?;
                failed.push(number);
            }
            Ok(failed)
        })
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `f` again while another connection holds the lock past the busy timeout.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if is_busy(&e) && attempt < BUSY_RETRIES => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
            }
            result => return result,
        }
    }
}

fn trial_row(r: &Row<'_>) -> rusqlite::Result<TrialRow> {
    Ok(TrialRow {
        id: r.get(0)?,
        number: r.get(1)?,
        state: r.get(2)?,
        params: r.get(3)?,
        value: r.get(4)?,
        worker: r.get(5)?,
        attrs: r.get(6)?,
    })
}

fn study_row(r: &Row<'_>) -> rusqlite::Result<StudyRow> {
    Ok(StudyRow {
        id: r.get(0)?,
        name: r.get(1)?,
        fingerprint: r.get(2)?,
        direction: r.get(3)?,
        meta: r.get(4)?,
        attrs: r.get(5)?,
    })
}
