//! Global average pooling: the mean of each channel over the whole image,
//! `[m, h, w, c] -> [m, c]` (ResNet's and Inception's last pooling, before the classifier).
//! Backward: each pixel of channel `k` gets `dy[k] / (h·w)`.
//!
//! In TOML: `{ type = "global_avg_pool" }`.

use crate::error::Result;
use crate::layers::conv2d::image;
use crate::module::Module;
use crate::spec::{BuildContext, Built, LayerSpec};
use dlkit_core::Tensor;
use serde::{Deserialize, Serialize};

/// `{ type = "global_avg_pool" }`: no settings (any other field is an error).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalAvgPoolSpec {}

impl GlobalAvgPoolSpec {
    /// The output shape `[c]` for one example of shape `input` (`[h, w, c]`).
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [_, _, c] = image("global_avg_pool", input)?;
        Ok(vec![c])
    }

    pub(crate) fn build(&self, _ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(input)?;
        Ok((Box::new(GlobalAvgPool), out))
    }
}

/// Global average pooling (no parameters).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlobalAvgPool;

impl Module for GlobalAvgPool {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.try_global_avg_pool2d()?)
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}))
    }
}
