//! CPU kernels on raw slices: no tensors, no autograd, just numbers.

pub mod gemm;
