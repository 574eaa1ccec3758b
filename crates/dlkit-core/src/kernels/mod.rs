//! CPU kernels on raw slices: no tensors, no autograd, just numbers.

pub mod batch_norm;
pub mod conv;
pub mod gemm;
pub mod pool;
pub mod window;
