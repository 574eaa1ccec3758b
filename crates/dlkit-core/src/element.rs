//! The scalar types a tensor can hold (f32 for training, f64 for gradient checks).

use num_traits::{Float, FromPrimitive, ToPrimitive};
use std::fmt::{Debug, Display};

/// Runtime tag of a tensor's element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }
}

impl Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A floating-point element type the kernels are generic over.
pub trait Element:
    Float
    + FromPrimitive
    + ToPrimitive
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + std::ops::DivAssign
    + crate::storage::StorageElement
    + 'static
{
    const DTYPE: DType;

    /// Lossy conversion from f64 (exact for f64).
    fn of(v: f64) -> Self;

    /// Widening conversion to f64.
    fn f64(self) -> f64;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    #[inline(always)]
    fn of(v: f64) -> Self {
        v as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    #[inline(always)]
    fn of(v: f64) -> Self {
        v
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
}

/// Traits that element-generic code needs in scope (used by `with_dtype!`).
pub mod prelude {
    pub use super::Element;
    pub use num_traits::{Float, One, Zero};
}
