//! dlkit-tune: hyperparameter search over dlkit configs, as the course teaches it ("try random
//! values: don't use a grid", "coarse to fine", "choose an appropriate scale", "train many
//! models in parallel").
//!
//! - [`trial`]: a trial's parameters, state and per-epoch values, shared by every part.
//! - [`storage`]: the study in SQLite or PostgreSQL, shared by workers.
//! - [`error`]: the crate's errors.

pub mod error;
pub mod storage;
pub mod trial;

pub use error::{Result, TuneError};
pub use storage::{Storage, StudyId, StudyInfo, StudyMeta, TrialRef};
pub use trial::{Direction, ParamValue, Params, Trial, TrialState};
