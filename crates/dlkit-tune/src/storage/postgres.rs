//! A study in PostgreSQL (the `postgres` crate's synchronous client), shared by workers on
//! several machines. Every change is one transaction; those that number trials or spend
//! the budget (`claim`, `enqueue`, `fail_stale`) first lock the study's row
//! (`SELECT ... FOR UPDATE`), and those that change one trial lock its row, so a worker's
//! `finish` and the reaper's `fail_stale` never both win. Times come from the server's
//! clock (`clock_timestamp()`), whatever the workers' clocks say.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, GenericClient, NoTls, Row, Transaction};

use super::codec::{self, Attrs, Decoder, StudyRow, TrialRow};
use super::schema::{self, SCHEMA_VERSION};
use super::url::redact_url;
use super::{SampleFn, Storage, StudyId, StudyInfo, StudyMeta, TrialRef};
use crate::error::{Result, TuneError};
use crate::trial::{Params, Trial, TrialState};

/// How long connecting may take when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server's time in seconds since the Unix epoch.
const NOW: &str = "extract(epoch from clock_timestamp())::double precision";

const TRIAL_COLUMNS: &str = "id, number, state, params, value, worker, attrs";
const STUDY_COLUMNS: &str = "id, name, fingerprint, direction, meta, attrs";

pub struct PostgresStorage {
    url: String,
    client: Mutex<Client>,
}

impl PostgresStorage {
    /// Connects to `url` (libpq's URL form, without TLS) and creates the tables of
    /// [`schema::POSTGRES`] if absent. Nothing is written when the server cannot be reached.
    pub fn open(url: &str) -> Result<PostgresStorage> {
        let shown = redact_url(url);
        let fail = |reason: String| TuneError::PostgresConnect {
            url: shown.clone(),
            reason,
        };
        let mut config: postgres::Config = url.parse().map_err(|e| fail(reason(&e)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("dlkit-tune");
        }
        let client = config.connect(NoTls).map_err(|e| fail(reason(&e)))?;
        let storage = PostgresStorage {
            url: shown,
            client: Mutex::new(client),
        };
        storage.create_schema()?;
        Ok(storage)
    }

    fn create_schema(&self) -> Result<()> {
        let version = self.transaction(|tx| {
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&schema::POSTGRES_LOCK],
            )
            .map_err(self.db())?;
            tx.batch_execute(schema::POSTGRES).map_err(self.db())?;
            let found: Option<i64> = tx
                .query_opt("SELECT version FROM dlkit_schema", &[])
                .map_err(self.db())?
                .map(|r| r.get(0));
            if found.is_none() {
                tx.execute(
                    "INSERT INTO dlkit_schema (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
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

    fn db(&self) -> impl Fn(postgres::Error) -> TuneError + '_ {
        |e| TuneError::Database {
            url: self.url.clone(),
            reason: reason(&e),
        }
    }

    fn decoder<'a>(&'a self, study: &'a str) -> Decoder<'a> {
        Decoder {
            url: &self.url,
            study,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        self.client
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in a transaction: committed if `f` succeeds, rolled back otherwise.
    fn transaction<T>(&self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut client = self.lock();
        let mut tx = client.transaction().map_err(self.db())?;
        let value = f(&mut tx)?;
        tx.commit().map_err(self.db())?;
        Ok(value)
    }

    /// Serialises trial numbering and the budget of `study`.
    fn lock_study(&self, tx: &mut Transaction<'_>, study: &StudyId) -> Result<()> {
        tx.execute(
            "SELECT id FROM dlkit_studies WHERE id = $1 FOR UPDATE",
            &[&study.id()],
        )
        .map_err(self.db())?;
        Ok(())
    }

    fn study_row(&self, tx: &mut impl GenericClient, name: &str) -> Result<Option<StudyInfo>> {
        let row = tx
            .query_opt(
                &format!("SELECT {STUDY_COLUMNS} FROM dlkit_studies WHERE name = $1"),
                &[&name],
            )
            .map_err(self.db())?;
        row.map(|r| self.decoder(name).study(study_row(&r)))
            .transpose()
    }

    fn all_trials(&self, tx: &mut Transaction<'_>, study: &StudyId) -> Result<Vec<Trial>> {
        let rows = tx
            .query(
                &format!(
                    "SELECT {TRIAL_COLUMNS} FROM dlkit_trials WHERE study_id = $1 ORDER BY number"
                ),
                &[&study.id()],
            )
            .map_err(self.db())?;
        let values: Vec<(i64, i64, f64)> = tx
            .query(
                "SELECT v.trial_id, v.epoch, v.value FROM dlkit_trial_values v \
                 JOIN dlkit_trials t ON t.id = v.trial_id WHERE t.study_id = $1",
                &[&study.id()],
            )
            .map_err(self.db())?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        self.decoder(study.name())
            .trials(rows.iter().map(trial_row).collect(), &values)
    }

    fn next_number(&self, tx: &mut Transaction<'_>, study: &StudyId) -> Result<u64> {
        let next: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(number) + 1, 0) FROM dlkit_trials WHERE study_id = $1",
                &[&study.id()],
            )
            .map_err(self.db())?
            .get(0);
        self.decoder(study.name()).number(next)
    }

    fn insert_trial(
        &self,
        tx: &mut Transaction<'_>,
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
        tx.execute(
            &format!(
                "INSERT INTO dlkit_trials (study_id, number, state, params, worker, heartbeat, started, attrs) \
                 VALUES ($1, $2, $3, $4, $5, CASE WHEN $3 = 'running' THEN {NOW} END, \
                 CASE WHEN $3 = 'running' THEN {NOW} END, $6)"
            ),
            &[
                &study.id(),
                &(number as i64),
                &state.as_str(),
                &codec::json(params),
                &worker,
                &codec::json(attrs),
            ],
        )
        .map_err(self.db())?;
        Ok(())
    }

    /// The trial row's id and attributes, locked and checked to be running for
    /// `trial.worker`.
    fn owned(&self, tx: &mut Transaction<'_>, trial: &TrialRef) -> Result<(i64, String)> {
        let row = tx
            .query_opt(
                "SELECT id, state, worker, attrs FROM dlkit_trials \
                 WHERE study_id = $1 AND number = $2 FOR UPDATE",
                &[&trial.study.id(), &(trial.number as i64)],
            )
            .map_err(self.db())?;
        codec::check_owner(&self.url, trial, row.as_ref().map(|r| (r.get(1), r.get(2))))?;
        let row = row.expect("check_owner refuses a missing trial");
        Ok((row.get(0), row.get(3)))
    }
}

impl Storage for PostgresStorage {
    fn url(&self) -> &str {
        &self.url
    }

    fn open_study(&self, name: &str, meta: &StudyMeta) -> Result<StudyId> {
        self.transaction(|tx| {
            if let Some(existing) = self.study_row(tx, name)? {
                codec::check_fingerprint(&self.url, &existing, meta)?;
                return Ok(existing.id);
            }
            let inserted = tx
                .query_opt(
                    &format!(
                        "INSERT INTO dlkit_studies (name, fingerprint, direction, meta, attrs, created) \
                         VALUES ($1, $2, $3, $4, '{{}}', {NOW}) ON CONFLICT (name) DO NOTHING RETURNING id"
                    ),
                    &[
                        &name,
                        &meta.config_fingerprint,
                        &codec::direction_str(meta.direction),
                        &codec::json(&meta.meta),
                    ],
                )
                .map_err(self.db())?;
            if let Some(row) = inserted {
                return Ok(StudyId::new(row.get(0), name));
            }
            // Another worker created it meanwhile.
            let existing = self.study_row(tx, name)?.ok_or_else(|| TuneError::UnknownStudy {
                url: self.url.clone(),
                study: name.to_string(),
            })?;
            codec::check_fingerprint(&self.url, &existing, meta)?;
            Ok(existing.id)
        })
    }

    fn study(&self, name: &str) -> Result<Option<StudyInfo>> {
        self.study_row(&mut *self.lock(), name)
    }

    fn studies(&self) -> Result<Vec<StudyInfo>> {
        let rows = self
            .lock()
            .query(
                &format!("SELECT {STUDY_COLUMNS} FROM dlkit_studies ORDER BY name"),
                &[],
            )
            .map_err(self.db())?;
        rows.iter()
            .map(|r| {
                let row = study_row(r);
                let name = row.name.clone();
                self.decoder(&name).study(row)
            })
            .collect()
    }

    fn set_study_attr(&self, study: &StudyId, key: &str, value: &serde_json::Value) -> Result<()> {
        self.transaction(|tx| {
            let text: String = tx
                .query_one(
                    "SELECT attrs FROM dlkit_studies WHERE id = $1 FOR UPDATE",
                    &[&study.id()],
                )
                .map_err(self.db())?
                .get(0);
            let mut attrs = self.decoder(study.name()).attrs(&text)?;
            attrs.insert(key.to_string(), value.clone());
            tx.execute(
                "UPDATE dlkit_studies SET attrs = $2 WHERE id = $1",
                &[&study.id(), &codec::json(&attrs)],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn enqueue(&self, study: &StudyId, params: &Params) -> Result<u64> {
        self.transaction(|tx| {
            self.lock_study(tx, study)?;
            let number = self.next_number(tx, study)?;
            self.insert_trial(tx, study, number, params, None, &BTreeMap::new())?;
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
        self.transaction(|tx| {
            self.lock_study(tx, study)?;
            let waiting = tx
                .query_opt(
                    &format!(
                        "SELECT {TRIAL_COLUMNS} FROM dlkit_trials \
                         WHERE study_id = $1 AND state = 'waiting' ORDER BY number LIMIT 1"
                    ),
                    &[&study.id()],
                )
                .map_err(self.db())?;
            if let Some(row) = waiting {
                let row = trial_row(&row);
                tx.execute(
                    &format!(
                        "UPDATE dlkit_trials SET state = 'running', worker = $2, \
                         heartbeat = {NOW}, started = {NOW} WHERE id = $1"
                    ),
                    &[&row.id, &worker],
                )
                .map_err(self.db())?;
                let trial = self.decoder(study.name()).trials(vec![row], &[])?.remove(0);
                return Ok(Some(codec::claimed(trial, worker)));
            }
            let trials = self.all_trials(tx, study)?;
            let Some(number) = codec::next_number(&trials, max_trials) else {
                return Ok(None);
            };
            let params = sample(number, &trials)?;
            self.insert_trial(tx, study, number, &params, Some(worker), &BTreeMap::new())?;
            Ok(Some(codec::running(number, params, worker)))
        })
    }

    fn report(&self, trial: &TrialRef, epoch: usize, value: f64) -> Result<()> {
        super::check_not_nan(trial, &format!("value of epoch {epoch}"), value)?;
        self.transaction(|tx| {
            let (id, _) = self.owned(tx, trial)?;
            tx.execute(
                &format!("UPDATE dlkit_trials SET heartbeat = {NOW} WHERE id = $1"),
                &[&id],
            )
            .map_err(self.db())?;
            tx.execute(
                "INSERT INTO dlkit_trial_values (trial_id, epoch, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (trial_id, epoch) DO UPDATE SET value = excluded.value",
                &[&id, &(epoch as i64), &value],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn heartbeat(&self, trial: &TrialRef) -> Result<()> {
        self.transaction(|tx| {
            let (id, _) = self.owned(tx, trial)?;
            tx.execute(
                &format!("UPDATE dlkit_trials SET heartbeat = {NOW} WHERE id = $1"),
                &[&id],
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
        self.transaction(|tx| {
            let (id, old) = self.owned(tx, trial)?;
            let mut merged = self.decoder(trial.study.name()).attrs(&old)?;
            merged.extend(attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
            tx.execute(
                &format!(
                    "UPDATE dlkit_trials SET state = $2, value = $3, attrs = $4, \
                     finished = {NOW}, heartbeat = {NOW} WHERE id = $1"
                ),
                &[&id, &state.as_str(), &value, &codec::json(&merged)],
            )
            .map_err(self.db())?;
            Ok(())
        })
    }

    fn trials(&self, study: &StudyId) -> Result<Vec<Trial>> {
        // One snapshot for the trials and their values.
        let mut client = self.lock();
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(self.db())?;
        let trials = self.all_trials(&mut tx, study)?;
        tx.commit().map_err(self.db())?;
        Ok(trials)
    }

    fn fail_stale(&self, study: &StudyId, timeout: Duration) -> Result<Vec<u64>> {
        self.transaction(|tx| {
            self.lock_study(tx, study)?;
            let rows = tx
                .query(
                    &format!(
                        "UPDATE dlkit_trials SET state = 'failed', finished = {NOW} \
                         WHERE study_id = $1 AND state = 'running' AND heartbeat < {NOW} - $2 \
                         RETURNING {TRIAL_COLUMNS}"
                    ),
                    &[&study.id(), &timeout.as_secs_f64()],
                )
                .map_err(self.db())?;
            let mut stale: Vec<TrialRow> = rows.iter().map(trial_row).collect();
            stale.sort_by_key(|r| r.number);
            let decoder = self.decoder(study.name());
            let first = self.next_number(tx, study)?;
            let mut failed = Vec::with_capacity(stale.len());
            for (next, row) in (first..).zip(stale) {
                let number = decoder.number(row.number)?;
                let attrs = codec::stale_attrs(
                    decoder.attrs(&row.attrs)?,
                    row.worker.as_deref(),
                    timeout,
                    next,
                );
                tx.execute(
                    "UPDATE dlkit_trials SET attrs = $2 WHERE id = $1",
                    &[&row.id, &codec::json(&attrs)],
                )
                .map_err(self.db())?;
                let params = decoder.params(&row.params)?;
                self.insert_trial(
                    tx,
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

/// The server's own message for a database error; otherwise the client's error with its
/// causes ("error connecting to server: Connection refused (os error 111)").
fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        };
    }
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn trial_row(r: &Row) -> TrialRow {
    TrialRow {
        id: r.get(0),
        number: r.get(1),
        state: r.get(2),
        params: r.get(3),
        value: r.get(4),
        worker: r.get(5),
        attrs: r.get(6),
    }
}

fn study_row(r: &Row) -> StudyRow {
    StudyRow {
        id: r.get(0),
        name: r.get(1),
        fingerprint: r.get(2),
        direction: r.get(3),
        meta: r.get(4),
        attrs: r.get(5),
    }
}
