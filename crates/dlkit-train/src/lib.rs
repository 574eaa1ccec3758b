//! dlkit-train: what surrounds training a dlkit model.
//!
//! - [`metrics`]: accuracy, precision, recall, F1 (binary and macro), confusion matrices, and
//!   the course's optimizing and satisficing metrics.
//! - [`diagnose`]: the ML-strategy diagnosis (avoidable bias, variance, data mismatch,
//!   overfitting to dev) with the course's remedies.
//! - [`plots`]: cost and accuracy curves, confusion-matrix heat maps and decision boundaries
//!   as PNG or SVG, drawn with a font shipped in the crate (no system fonts needed).
//! - [`atomic`]: files written whole or not at all (temporary file + rename).

pub mod atomic;
pub mod diagnose;
pub mod metrics;
pub mod plots;
