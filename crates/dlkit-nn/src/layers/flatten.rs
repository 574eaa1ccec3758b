//! Flatten: `[m, d1, d2, ...] -> [m, d1 * d2 * ...]`.

use crate::error::Result;
use crate::module::Module;
use crate::spec::LayerSpec;
use dlkit_core::Tensor;

/// Collapses every axis but the batch axis.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flatten;

impl Flatten {
    /// The output shape `[d1 · d2 · …]` for one example of shape `input` (`[]` gives `[1]`).
    pub fn output_shape(input: &[usize]) -> Vec<usize> {
        vec![input.iter().product()]
    }
}

impl Module for Flatten {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.flatten_from1())
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::Flatten)
    }
}
