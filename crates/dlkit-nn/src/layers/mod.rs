//! The layers: each file holds one layer's spec, its construction and its forward.

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod dense;
pub mod dropout;
pub mod flatten;
pub mod global_avg_pool;
pub mod graph;
pub mod inception;
pub mod pool;
pub mod residual;
pub mod sequential;
