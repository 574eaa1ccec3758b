//! Max and average pooling over windows of NHWC images, channel by channel:
//! `[m, h, w, c] -> [m, oh, ow, c]` with `oh = (h + top + bottom - kh) / sh + 1` (rounded
//! down), likewise `ow`.
//!
//! - Max: the largest value of each window (padding never wins: padded places are ignored,
//!   as TensorFlow's and PyTorch's max pooling do); the gradient goes to the window's first
//!   maximum in scan order, summed where windows overlap.
//! - Average: the mean of the window's real (unpadded) elements (TensorFlow's "same" average
//!   pooling; PyTorch's `count_include_pad = False`); each gets an equal share of the gradient.
//!
//! In TOML: `{ type = "max_pool2d", window = 2 }` (stride defaults to the window:
//! non-overlapping windows), `{ type = "avg_pool2d", window = 3, stride = 1, padding = "same" }`.
//! `window` and `stride` are one number (square) or `[height, width]`; `padding` as for
//! [`conv2d`](super::conv2d), each side smaller than the window.

use crate::error::{Error, Result};
use crate::layers::conv2d::{check_hw, hw, image, window_output, PaddingSpec};
use crate::module::Module;
use crate::spec::{BuildContext, Built, LayerSpec};
use dlkit_core::Tensor;
use serde::{Deserialize, Serialize};

/// `{ type = "max_pool2d" | "avg_pool2d", window = 2 }`, with optional `stride` (the window)
/// and `padding` (`"valid"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pool2dSpec {
    /// `[kh, kw]`; one number in a config stands for a square window.
    #[serde(with = "hw")]
    pub window: [usize; 2],
    /// `[sh, sw]`; absent: the window (non-overlapping windows).
    #[serde(default, with = "hw::opt", skip_serializing_if = "Option::is_none")]
    pub stride: Option<[usize; 2]>,
    #[serde(default)]
    pub padding: PaddingSpec,
}

/// The description of a max pooling layer (`type = "max_pool2d"`).
pub type MaxPool2dSpec = Pool2dSpec;
/// The description of an average pooling layer (`type = "avg_pool2d"`).
pub type AvgPool2dSpec = Pool2dSpec;

impl Pool2dSpec {
    /// A square `window x window` window with the stride of the window, no padding.
    pub fn new(window: usize) -> Self {
        Pool2dSpec {
            window: [window, window],
            stride: None,
            padding: PaddingSpec::Valid,
        }
    }

    /// The same spec with stride `s` along both axes.
    pub fn with_stride(mut self, s: usize) -> Self {
        self.stride = Some([s, s]);
        self
    }

    pub fn with_padding(mut self, padding: PaddingSpec) -> Self {
        self.padding = padding;
        self
    }

    /// The stride in effect: the one given, or the window.
    pub fn effective_stride(&self) -> [usize; 2] {
        self.stride.unwrap_or(self.window)
    }

    /// The output shape `[oh, ow, c]` of a `kind` pool for one example of shape `input`.
    pub fn output_shape(&self, kind: PoolKind, input: &[usize]) -> Result<Vec<usize>> {
        let name = kind.name();
        check_hw(name, "window", self.window)?;
        check_hw(name, "stride", self.effective_stride())?;
        let [h, w, c] = image(name, input)?;
        let stride = self.effective_stride();
        let (top, bottom, left, right) = self.padding.resolve((h, w), self.window, stride);
        let [kh, kw] = self.window;
        if top.max(bottom) >= kh || left.max(right) >= kw {
            return Err(Error::build(format!(
                "{name}: padding (top {top}, bottom {bottom}, left {left}, right {right}) must \
                 be smaller than the {kh}x{kw} window on every side, so that every window \
                 holds an input pixel"
            )));
        }
        let (oh, ow) = window_output(name, "window", (h, w), self.window, stride, self.padding)?;
        Ok(vec![oh, ow, c])
    }

    pub(crate) fn build(&self, kind: PoolKind, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(kind, input)?;
        Ok((Box::new(Pool2d::new(kind, self.clone())), out))
    }

    pub(crate) fn build_max(&self, _ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        self.build(PoolKind::Max, input)
    }

    pub(crate) fn build_avg(&self, _ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        self.build(PoolKind::Avg, input)
    }
}

/// Which value a pooling window keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

impl PoolKind {
    /// The layer's type name in configs.
    pub fn name(self) -> &'static str {
        match self {
            PoolKind::Max => "max_pool2d",
            PoolKind::Avg => "avg_pool2d",
        }
    }
}

/// A max or average pooling layer (no parameters).
#[derive(Clone, Debug)]
pub struct Pool2d {
    kind: PoolKind,
    spec: Pool2dSpec,
}

impl Pool2d {
    pub fn new(kind: PoolKind, spec: Pool2dSpec) -> Self {
        Pool2d { kind, spec }
    }

    /// Max pooling as `spec` describes.
    pub fn max(spec: Pool2dSpec) -> Self {
        Self::new(PoolKind::Max, spec)
    }

    /// Average pooling as `spec` describes.
    pub fn avg(spec: Pool2dSpec) -> Self {
        Self::new(PoolKind::Avg, spec)
    }

    pub fn kind(&self) -> PoolKind {
        self.kind
    }

    pub fn settings(&self) -> &Pool2dSpec {
        &self.spec
    }
}

impl Module for Pool2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let window = (self.spec.window[0], self.spec.window[1]);
        let s = self.spec.effective_stride();
        let (stride, padding) = ((s[0], s[1]), self.spec.padding.into());
        Ok(match self.kind {
            PoolKind::Max => x.try_max_pool2d_padded(window, stride, padding)?,
            PoolKind::Avg => x.try_avg_pool2d_padded(window, stride, padding)?,
        })
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(match self.kind {
            PoolKind::Max => LayerSpec::MaxPool2d(self.spec.clone()),
            PoolKind::Avg => LayerSpec::AvgPool2d(self.spec.clone()),
        })
    }
}
