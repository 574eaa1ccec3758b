//! dlkit-train: what surrounds training a dlkit model.
//!
//! - [`metrics`]: accuracy, precision, recall, F1 (binary and macro), confusion matrices, and
//!   the course's optimizing and satisficing metrics.
//! - [`diagnose`]: the ML-strategy diagnosis (avoidable bias, variance, data mismatch,
//!   overfitting to dev) with the course's remedies.

pub mod diagnose;
pub mod metrics;
