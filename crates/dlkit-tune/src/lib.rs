//! dlkit-tune: hyperparameter search over dlkit configs, as the course teaches it ("try random
//! values: don't use a grid", "coarse to fine", "choose an appropriate scale", "train many
//! models in parallel").
//!
//! - [`trial`]: a trial's parameters, state and per-epoch values, shared by every part.
//! - [`config`]: the `[tune]` table; [`space`]: the search space, parameter by parameter;
//!   [`apply`]: a trial's parameters set into the base config; [`objective`]: the value a
//!   trial is judged by.
//! - [`sampler`]: random, grid, coarse-to-fine and TPE; [`pruner`]: median and ASHA.
//! - [`plots`]: a study's history, parallel coordinates, parameter scatters and importances;
//!   [`importance`]: parameter importances (mean decrease in impurity of a random forest).

pub mod apply;
pub mod config;
pub mod error;
pub mod importance;
pub mod objective;
pub mod path;
pub mod plots;
pub mod pruner;
pub mod report;
pub mod run;
pub mod sampler;
pub mod space;
pub mod space_error;
pub mod storage;
pub mod study;
pub mod trial;
pub mod worker;

pub use config::TuneConfig;
pub use error::{Result, TuneError};
pub use pruner::{Pruner, PrunerConfig};
pub use sampler::{Sampler, SamplerConfig};
pub use space::{Distribution, Param, Scale, SearchSpace};
pub use space_error::SpaceError;
pub use storage::{Storage, StudyId, StudyInfo, StudyMeta, TrialRef};
pub use study::Study;
pub use trial::{Direction, ParamValue, Params, Trial, TrialState};
