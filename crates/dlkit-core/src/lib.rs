//! dlkit-core: tensors with reverse-mode autograd and fast CPU kernels.
//!
//! ```
//! use dlkit_core::{DType, Tensor};
//! let w = Tensor::from_vec(vec![1.0f64, 2.0], &[2, 1]).with_grad();
//! let x = Tensor::from_vec(vec![3.0f64, 4.0], &[1, 2]);
//! let loss = x.matmul(&w).sum_all();
//! loss.backward();
//! assert_eq!(w.grad().unwrap().to_vec::<f64>(), vec![3.0, 4.0]);
//! assert_eq!(loss.dtype(), DType::F64);
//! ```

pub mod autograd;
pub mod element;
pub mod error;
pub mod gradcheck;
pub mod kernels;
pub mod layout;
pub mod numpy_random;
mod ops;
pub mod random;
pub mod shape;
pub mod storage;
mod tensor;

pub use autograd::{is_grad_enabled, no_grad, NoGradGuard};
pub use element::{DType, Element};
pub use error::{Error, Result};
pub use gradcheck::{gradient_check, GradCheckReport};
pub use numpy_random::NumpyRandom;
pub use ops::{BatchNormOutput, Padding};
pub use random::Rng;
pub use storage::Device;
pub use tensor::{Tensor, TensorId};
