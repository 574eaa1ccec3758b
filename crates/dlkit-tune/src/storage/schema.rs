//! The tables, the same on both back ends (only the column types' spelling differs).
//!
//! - `dlkit_schema(version)`: one row, [`SCHEMA_VERSION`];
//! - `dlkit_studies(id, name, fingerprint, direction, meta, attrs, created)`;
//! - `dlkit_trials(id, study_id, number, state, params, value, worker, heartbeat, started,
//!   finished, attrs)`, `number` dense per study from 0;
//! - `dlkit_trial_values(trial_id, epoch, value)`: the per-epoch dev values.
//!
//! `params`, `meta` and `attrs` are JSON text; `state` is [`crate::TrialState::as_str`];
//! `direction` is `minimize` or `maximize`; times are seconds since the Unix epoch
//! (fractional) by the database's clock.

/// The version of these tables; a storage holding another is refused.
pub const SCHEMA_VERSION: i64 = 1;

/// SQLite's statements, run in one `BEGIN IMMEDIATE` transaction.
pub const SQLITE: &str = "
CREATE TABLE IF NOT EXISTS dlkit_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dlkit_studies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    direction TEXT NOT NULL,
    meta TEXT NOT NULL,
    attrs TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dlkit_trials (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES dlkit_studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    value REAL,
    worker TEXT,
    heartbeat REAL,
    started REAL,
    finished REAL,
    attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS dlkit_trials_state ON dlkit_trials (study_id, state, number);
CREATE TABLE IF NOT EXISTS dlkit_trial_values (
    trial_id INTEGER NOT NULL REFERENCES dlkit_trials(id),
    epoch INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (trial_id, epoch)
);
";

/// PostgreSQL's statements, run in one transaction under [`POSTGRES_LOCK`].
pub const POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS dlkit_schema (version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS dlkit_studies (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    direction TEXT NOT NULL,
    meta TEXT NOT NULL,
    attrs TEXT NOT NULL DEFAULT '{}',
    created DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS dlkit_trials (
    id BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES dlkit_studies(id),
    number BIGINT NOT NULL,
    state TEXT NOT NULL,
    params TEXT NOT NULL,
    value DOUBLE PRECISION,
    worker TEXT,
    heartbeat DOUBLE PRECISION,
    started DOUBLE PRECISION,
    finished DOUBLE PRECISION,
    attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS dlkit_trials_state ON dlkit_trials (study_id, state, number);
CREATE TABLE IF NOT EXISTS dlkit_trial_values (
    trial_id BIGINT NOT NULL REFERENCES dlkit_trials(id),
    epoch BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (trial_id, epoch)
);
";

/// The transaction-level advisory lock key around PostgreSQL's schema creation: two
/// processes running `CREATE TABLE IF NOT EXISTS` at once can otherwise both try to create
/// the table's type and one fails. (The ASCII of "dlkitune".)
pub const POSTGRES_LOCK: i64 = 0x646c_6b69_7475_6e65;
