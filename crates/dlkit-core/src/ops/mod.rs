//! Tensor operations, each with its backward rule beside its forward.

mod activation;
mod batch_norm;
mod binary;
mod conv;
mod conv_transpose;
mod elementwise;
mod loss;
mod matmul;
mod pool;
mod reduce;
mod shape_ops;
mod softmax;
mod unary;

pub use batch_norm::BatchNormOutput;
pub use conv::Padding;

/// Defines the panicking form of a `try_*` method: same arguments, panics with the error's
/// message.
macro_rules! plain {
    ($(#[$m:meta])* $name:ident => $try:ident($($arg:ident: $ty:ty),*)) => {
        $(#[$m])*
        pub fn $name(&self, $($arg: $ty),*) -> $crate::Tensor {
            self.$try($($arg),*).unwrap_or_else(|e| panic!("{e}"))
        }
    };
}
pub(crate) use plain;
