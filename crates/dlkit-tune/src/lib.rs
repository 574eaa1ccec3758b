//! dlkit-tune: hyperparameter search over dlkit configs, as the course teaches it ("try random
//! values: don't use a grid", "coarse to fine", "choose an appropriate scale", "train many
//! models in parallel").
//!
//! - [`trial`]: a trial's parameters, state and per-epoch values, shared by every part.

pub mod importance;
pub mod plots;
pub mod trial;

pub use trial::{Direction, ParamValue, Params, Trial, TrialState};
