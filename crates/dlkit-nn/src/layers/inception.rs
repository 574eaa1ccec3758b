//! Inception blocks (Szegedy et al., 2015): several branches run on the same input and their
//! outputs are concatenated on the channel axis (the last, NHWC), so each branch must keep the
//! same height and width: `[h, w, c] -> [oh, ow, c_1 + c_2 + ...]`.
//!
//! In TOML:
//!
//! ```toml
//! [[layers]]
//! type = "inception"
//! branches = [
//!   [{ type = "conv2d", filters = 8, kernel = 1 }, { type = "relu" }],
//!   [{ type = "conv2d", filters = 4, kernel = 1 }, { type = "relu" },
//!    { type = "conv2d", filters = 8, kernel = 3, padding = "same" }, { type = "relu" }],
//!   [{ type = "max_pool2d", window = 3, stride = 1, padding = "same" },
//!    { type = "conv2d", filters = 4, kernel = 1 }, { type = "relu" }],
//! ]
//! ```
//!
//! An empty branch passes the input through (it is concatenated as it is). Parameters and
//! buffers are named `branches.{b}.{i}.…` after the branch and the layer's index in it.

use crate::error::{Error, Result};
use crate::layers::conv2d::{Conv2dSpec, PaddingSpec};
use crate::layers::pool::Pool2dSpec;
use crate::layers::residual::layer_specs;
use crate::layers::sequential::Sequential;
use crate::module::Module;
use crate::shape::{Shaped, Step};
use crate::spec::{is_trainable, trainable, BuildContext, Built, LayerSpec};
use dlkit_core::Tensor;
use serde::{Deserialize, Serialize};

/// `{ type = "inception", branches = [[...], [...]] }`; `trainable = false` freezes every
/// branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InceptionSpec {
    /// The branches, each a chain of layers applied to the block's input; their outputs are
    /// concatenated in this order.
    pub branches: Vec<Vec<LayerSpec>>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

impl InceptionSpec {
    pub fn new(branches: Vec<Vec<LayerSpec>>) -> Self {
        InceptionSpec {
            branches,
            trainable: true,
        }
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let (branches, out) = self.walk(ctx, input)?;
        let branches = branches.into_iter().map(Sequential::from_modules).collect();
        Ok((Box::new(Inception::new(branches)), out))
    }

    /// Takes `step` through each branch in order, all on the block's `input`, and checks
    /// that they output images of one height and width. Returns what each branch's layers
    /// became and the block's output shape `[h, w, c_1 + c_2 + …]`.
    pub(crate) fn walk<S: Step>(
        &self,
        step: &mut S,
        input: &[usize],
    ) -> Shaped<Vec<Vec<S::Layer>>> {
        if self.branches.is_empty() {
            return Err(Error::build("inception needs at least one branch"));
        }
        let mut branches = Vec::with_capacity(self.branches.len());
        let mut first: Option<[usize; 3]> = None;
        let mut channels = 0;
        for (b, specs) in self.branches.iter().enumerate() {
            let (layers, out) = Sequential::walk(specs, step, input).map_err(|e| match e {
                Error::Build(m) => Error::build(format!("inception branch {b}: {m}")),
                other => other,
            })?;
            let Ok(shape) = <[usize; 3]>::try_from(out.as_slice()) else {
                return Err(Error::build(format!(
                    "inception: branch {b} outputs {out:?}, but branches must output images \
                     [height, width, channels] to be concatenated on the channel axis"
                )));
            };
            match first {
                None => first = Some(shape),
                Some(f) if f[..2] != shape[..2] => {
                    return Err(Error::build(format!(
                        "inception: branch {b} outputs {out:?} but branch 0 outputs {f:?}; \
                         every branch must keep the same height and width (padding = \"same\" \
                         and the same stride in every branch)"
                    )));
                }
                Some(_) => {}
            }
            channels += shape[2];
            branches.push(layers);
        }
        let [h, w, _] = first.expect("at least one branch");
        Ok((branches, vec![h, w, channels]))
    }
}

/// An inception block: its branches' outputs concatenated on the last axis.
pub struct Inception {
    branches: Vec<Sequential>,
}

impl Inception {
    /// A block of built branches (an empty branch passes the input through). Shapes are
    /// checked when the block runs; [`InceptionSpec`] checks them when the model is built.
    pub fn new(branches: Vec<Sequential>) -> Self {
        Inception { branches }
    }

    pub fn branches(&self) -> &[Sequential] {
        &self.branches
    }

    /// The classic block of GoogLeNet (Inception v1), every convolution `same`, with a bias
    /// and followed by a ReLU:
    ///
    /// 1. 1x1 conv (`f1x1` filters);
    /// 2. 1x1 conv (`f3x3_reduce`) → 3x3 conv (`f3x3`);
    /// 3. 1x1 conv (`f5x5_reduce`) → 5x5 conv (`f5x5`);
    /// 4. 3x3 max pool, stride 1, `same` → 1x1 conv (`pool_proj`).
    ///
    /// Output channels: `f1x1 + f3x3 + f5x5 + pool_proj`, at the input's height and width.
    pub fn classic_block(
        f1x1: usize,
        f3x3_reduce: usize,
        f3x3: usize,
        f5x5_reduce: usize,
        f5x5: usize,
        pool_proj: usize,
    ) -> LayerSpec {
        let conv = |filters: usize, kernel: usize| {
            [
                LayerSpec::Conv2d(Conv2dSpec::new(filters, kernel).with_padding(PaddingSpec::Same)),
                LayerSpec::Relu,
            ]
        };
        let pool = LayerSpec::MaxPool2d(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        );
        LayerSpec::Inception(InceptionSpec::new(vec![
            conv(f1x1, 1).to_vec(),
            [conv(f3x3_reduce, 1), conv(f3x3, 3)].concat(),
            [conv(f5x5_reduce, 1), conv(f5x5, 5)].concat(),
            [vec![pool], conv(pool_proj, 1).to_vec()].concat(),
        ]))
    }
}

impl Module for Inception {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let outs = self
            .branches
            .iter()
            .map(|b| b.forward(x))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor> = outs.iter().collect();
        Ok(Tensor::try_concat(&refs, -1)?)
    }

    /// Branch `b` is named `"branches.b"`.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        let named = self.branches.iter().enumerate();
        named
            .map(|(b, seq)| (format!("branches.{b}"), seq as &dyn Module))
            .collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        let named = self.branches.iter_mut().enumerate();
        named
            .map(|(b, seq)| (format!("branches.{b}"), seq as &mut dyn Module))
            .collect()
    }

    fn spec(&self) -> Option<LayerSpec> {
        let branches = self
            .branches
            .iter()
            .map(layer_specs)
            .collect::<Option<_>>()?;
        Some(LayerSpec::Inception(InceptionSpec {
            branches,
            trainable: self.trainable(),
        }))
    }
}
