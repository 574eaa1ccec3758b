//! The layers: each file holds one layer's spec, its construction and its forward.

pub mod activation;
pub mod batch_norm;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod sequential;
