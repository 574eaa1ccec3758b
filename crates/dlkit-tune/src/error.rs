//! Errors of a study: each names the storage (its URL, password left out), the study and
//! what was expected.

use thiserror::Error;

use crate::trial::TrialState;

pub type Result<T> = std::result::Result<T, TuneError>;

#[derive(Debug, Error)]
pub enum TuneError {
    /// A `--storage` value that is neither a SQLite path nor a PostgreSQL URL.
    #[error("storage {url:?} is not supported: expected a file path, `sqlite:PATH` or `postgresql://USER@HOST:PORT/DATABASE`")]
    UnsupportedStorage { url: String },

    /// The SQLite file could not be opened or created, or is not a SQLite database.
    #[error("cannot open SQLite storage {path}: {reason}")]
    SqliteOpen { path: String, reason: String },

    /// The PostgreSQL server could not be reached or refused the connection.
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    PostgresConnect { url: String, reason: String },

    /// The storage holds tables written by another version of dlkit.
    #[error("storage {url} has schema version {found}, this dlkit reads version {expected}")]
    SchemaVersion {
        url: String,
        found: i64,
        expected: i64,
    },

    /// A query failed (lost connection, disk full, a lock held too long).
    #[error("storage {url}: {reason}")]
    Database { url: String, reason: String },

    /// A row the storage holds cannot be read back (hand-edited or foreign tables).
    #[error("storage {url}: study {study:?} holds an unreadable {what}: {reason}")]
    Corrupt {
        url: String,
        study: String,
        what: String,
        reason: String,
    },

    /// `open_study` on an existing study whose base config or search space differs.
    #[error("study {:?} in {} was made from another config: its fingerprint is {} (from {}), this config and search space give {} (from {}); use another study name, or the config the study was made from", .0.study, .0.url, .0.stored, .0.stored_from, .0.given, .0.given_from)]
    ConfigMismatch(Box<ConfigMismatch>),

    /// A study looked up by name that the storage does not hold.
    #[error("storage {url} holds no study {study:?}")]
    UnknownStudy { url: String, study: String },

    /// `report`, `heartbeat` or `finish` on a trial that is not running for this worker any
    /// more: the stale-trial reaper failed it (and re-queued its parameters) while the
    /// worker was silent. The worker should drop the trial and claim another.
    #[error("trial {number} of study {study:?} in {url} is no longer running for worker {worker:?}: it is {} (worker {})", state.as_str(), owner.as_deref().unwrap_or("none"))]
    TrialNotRunning {
        url: String,
        study: String,
        number: u64,
        worker: String,
        state: TrialState,
        owner: Option<String>,
    },

    /// `finish` with a state a trial cannot end in (waiting or running).
    #[error("trial {number} of study {study:?} cannot finish as {}: expected complete, pruned or failed", state.as_str())]
    FinishState {
        study: String,
        number: u64,
        state: TrialState,
    },

    /// A value that is not a number (NaN) sent to the storage: a diverged trial is failed,
    /// not stored with a NaN objective.
    #[error("trial {number} of study {study:?}: the {what} is NaN; fail the trial instead")]
    NanValue {
        study: String,
        number: u64,
        what: String,
    },
    /// A study file, its base config or the search space is wrong (the message names the
    /// file and field), or an output file cannot be written.
    #[error("{0}")]
    Config(String),

    /// The base config failed to load (its message names the file and field).
    #[error(transparent)]
    Train(Box<dlkit_train::TrainError>),
}

impl From<dlkit_train::TrainError> for TuneError {
    fn from(e: dlkit_train::TrainError) -> Self {
        TuneError::Train(Box::new(e))
    }
}

impl TuneError {
    /// Whether the error is about bad input (a study file, a config, a storage URL or a
    /// study made from another config), not a failure while running.
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            TuneError::Config(_)
                | TuneError::Train(_)
                | TuneError::UnsupportedStorage { .. }
                | TuneError::SqliteOpen { .. }
                | TuneError::PostgresConnect { .. }
                | TuneError::SchemaVersion { .. }
                | TuneError::ConfigMismatch { .. }
                | TuneError::UnknownStudy { .. }
        )
    }
}

/// The two fingerprints of [`TuneError::ConfigMismatch`] and where each came from.
#[derive(Debug)]
pub struct ConfigMismatch {
    pub url: String,
    pub study: String,
    pub stored: String,
    pub stored_from: String,
    pub given: String,
    pub given_from: String,
}
