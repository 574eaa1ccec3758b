//! Where a study lives: its trials, their parameters, per-epoch values and states, and the
//! worker that ran each. SQLite (one file, WAL mode) by default, PostgreSQL for workers on
//! several machines; both hold the same tables ([`schema`]).
//!
//! Workers share a study through the storage alone:
//! - [`Storage::claim`] takes or creates a trial in one transaction (on PostgreSQL the study
//!   row is locked, `SELECT ... FOR UPDATE`; on SQLite the database is, `BEGIN IMMEDIATE`), so
//!   no two workers run the same trial, trial numbers are dense (0, 1, 2, ...) and the
//!   trial budget is never overrun;
//! - a running trial's worker refreshes its heartbeat ([`Storage::heartbeat`],
//!   [`Storage::report`]); [`Storage::fail_stale`] fails the trials whose heartbeat is older
//!   than a timeout, by the database's own clock (workers' clocks may disagree), and queues
//!   their parameters again as new waiting trials;
//! - a trial failed that way cannot be finished by its worker afterwards
//!   ([`TuneError::TrialNotRunning`]).

mod codec;
mod postgres;
pub mod schema;
mod sqlite;
mod url;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::error::{Result, TuneError};
use crate::trial::{Direction, Params, Trial, TrialState};

pub use self::postgres::PostgresStorage;
pub use self::sqlite::SqliteStorage;
pub use self::url::{redact_url, StorageUrl};

/// The attribute of a failed trial naming the trial its parameters were queued again as.
/// Such a failure does not count against the trial budget: the new trial does.
pub const REQUEUED_AS: &str = "requeued_as";
/// The attribute of a re-queued trial naming the failed trial whose parameters it runs.
pub const REQUEUED_FROM: &str = "requeued_from";
/// The attribute of a failed trial that says why it failed.
pub const FAIL_REASON: &str = "fail_reason";

/// A study in a storage: its row id and its name (for messages).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StudyId {
    id: i64,
    name: String,
}

impl StudyId {
    pub(crate) fn new(id: i64, name: &str) -> StudyId {
        StudyId {
            id,
            name: name.to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn id(&self) -> i64 {
        self.id
    }
}

/// A trial claimed by a worker: what [`Storage::report`], [`Storage::heartbeat`] and
/// [`Storage::finish`] act on. Only the worker that claimed the trial may change it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrialRef {
    pub study: StudyId,
    pub number: u64,
    pub worker: String,
}

impl TrialRef {
    /// The trial that `worker` got from [`Storage::claim`].
    pub fn claimed(study: &StudyId, trial: &Trial, worker: &str) -> TrialRef {
        TrialRef {
            study: study.clone(),
            number: trial.number,
            worker: worker.to_string(),
        }
    }
}

/// What a study is made from, fixed when it is created.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyMeta {
    /// A hash of the base config and the search space, computed by the caller: a study is
    /// continued only by the config it was made from.
    pub config_fingerprint: String,
    pub direction: Direction,
    /// Free-form: the search space, sampler settings. A string under `"config"` (the base
    /// config's file) names where a fingerprint came from in [`TuneError::ConfigMismatch`].
    pub meta: serde_json::Value,
}

impl StudyMeta {
    /// Where the fingerprint came from, for messages: `meta.config`, else "unnamed config".
    pub fn source(&self) -> String {
        self.meta
            .get("config")
            .and_then(|c| c.as_str())
            .unwrap_or("unnamed config")
            .to_string()
    }
}

/// A study as stored: its meta and its study-level attributes (the best trial's summary).
#[derive(Clone, Debug, PartialEq)]
pub struct StudyInfo {
    pub id: StudyId,
    pub meta: StudyMeta,
    pub attrs: BTreeMap<String, serde_json::Value>,
}

/// Draws a new trial's parameters, given its number and all the study's trials so far
/// (called inside [`Storage::claim`]'s transaction).
pub type SampleFn<'a> = dyn FnMut(u64, &[Trial]) -> Result<Params> + 'a;

/// A study storage. Every method is one transaction; an implementation holds one connection
/// and serialises the calls of the threads that share it.
pub trait Storage: Send + Sync {
    /// The storage's URL, password left out: what messages name.
    fn url(&self) -> &str;

    /// Creates the study `name`, or opens it when it exists. An existing study whose
    /// fingerprint differs from `meta`'s is [`TuneError::ConfigMismatch`], and nothing is
    /// written.
    fn open_study(&self, name: &str, meta: &StudyMeta) -> Result<StudyId>;

    /// The study `name`, if the storage holds it.
    fn study(&self, name: &str) -> Result<Option<StudyInfo>>;

    /// Every study, by name.
    fn studies(&self) -> Result<Vec<StudyInfo>>;

    /// Sets a study-level attribute (the best trial's summary), replacing its old value.
    fn set_study_attr(&self, study: &StudyId, key: &str, value: &serde_json::Value) -> Result<()>;

    /// Queues a waiting trial with `params` (a grid point) and returns its number.
    fn enqueue(&self, study: &StudyId, params: &Params) -> Result<u64>;

    /// In one transaction: takes the oldest waiting trial (now running for `worker`, its
    /// heartbeat now); else, while the study has fewer than `max_trials` trials (see
    /// [`budget_used`]; `None`: no limit), creates the next trial, running, with the
    /// parameters `sample` draws for it; else `None`: the study is done.
    fn claim(
        &self,
        study: &StudyId,
        worker: &str,
        max_trials: Option<u64>,
        sample: &mut SampleFn<'_>,
    ) -> Result<Option<Trial>>;

    /// Stores the dev value of `epoch` (replacing an earlier report of that epoch) and
    /// refreshes the heartbeat. [`TuneError::TrialNotRunning`] if the trial is no longer
    /// running for this worker.
    fn report(&self, trial: &TrialRef, epoch: usize, value: f64) -> Result<()>;

    /// Refreshes the heartbeat of a running trial ([`TuneError::TrialNotRunning`] as for
    /// `report`).
    fn heartbeat(&self, trial: &TrialRef) -> Result<()>;

    /// Ends a trial running for this worker as complete, pruned or failed, with its
    /// objective and `attrs` (added to those it has). A trial that is not running for this
    /// worker (failed by [`Storage::fail_stale`] meanwhile) is left as it is:
    /// [`TuneError::TrialNotRunning`].
    fn finish(
        &self,
        trial: &TrialRef,
        state: TrialState,
        value: Option<f64>,
        attrs: &BTreeMap<String, serde_json::Value>,
    ) -> Result<()>;

    /// Every trial of the study, by number, with its intermediate values and attributes.
    fn trials(&self, study: &StudyId) -> Result<Vec<Trial>>;

    /// Fails the running trials whose heartbeat is older than `timeout` by the database's
    /// clock ([`FAIL_REASON`] says so, [`REQUEUED_AS`] names the new trial) and queues their
    /// parameters again as waiting trials ([`REQUEUED_FROM`]). Returns the failed numbers.
    fn fail_stale(&self, study: &StudyId, timeout: Duration) -> Result<Vec<u64>>;
}

/// The trials that count against a study's `max_trials`: all of them, waiting and running
/// ones included, except failed trials whose parameters were queued again (the re-queued
/// trial counts in their place, so a dead worker does not eat the budget). A trial that
/// failed by its own error counts.
pub fn budget_used(trials: &[Trial]) -> u64 {
    trials
        .iter()
        .filter(|t| !(t.state == TrialState::Failed && t.attrs.contains_key(REQUEUED_AS)))
        .count() as u64
}

/// Opens the storage of `url`: `sqlite:PATH` or a plain path (the file and its folder are
/// created if absent), or `postgresql://...` / `postgres://...`. The tables are created if
/// absent. A PostgreSQL server that cannot be reached is an error within a few seconds
/// (`connect_timeout`, 5 s unless the URL sets it) and writes nothing.
pub fn open(url: &str) -> Result<Box<dyn Storage>> {
    Ok(match StorageUrl::parse(url)? {
        StorageUrl::Sqlite(path) => Box::new(SqliteStorage::open(&path)?),
        StorageUrl::Postgres(url) => Box::new(PostgresStorage::open(&url)?),
    })
}

/// `finish`'s state must end a trial.
fn check_finish_state(trial: &TrialRef, state: TrialState) -> Result<()> {
    match state {
        TrialState::Complete | TrialState::Pruned | TrialState::Failed => Ok(()),
        TrialState::Waiting | TrialState::Running => Err(TuneError::FinishState {
            study: trial.study.name().to_string(),
            number: trial.number,
            state,
        }),
    }
}

/// NaN cannot be stored alike by both back ends (SQLite turns it into NULL).
fn check_not_nan(trial: &TrialRef, what: &str, value: f64) -> Result<()> {
    if value.is_nan() {
        return Err(TuneError::NanValue {
            study: trial.study.name().to_string(),
            number: trial.number,
            what: what.to_string(),
        });
    }
    Ok(())
}
