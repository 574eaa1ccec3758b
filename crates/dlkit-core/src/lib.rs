//! dlkit-core: tensors with reverse-mode autograd and fast CPU kernels.

pub mod element;
pub mod kernels;

pub use element::{DType, Element};
