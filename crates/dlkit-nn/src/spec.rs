//! Model descriptions: each layer as plain data (TOML/JSON through serde), built into modules
//! with shapes inferred and checked layer by layer, as Keras does.

use crate::error::{Error, Result};
use crate::init::{Init, InitRng};
use crate::layers::{activation::Activation, dense::DenseSpec, sequential::Sequential};
use crate::layers::{batch_norm::BatchNormSpec, dropout::DropoutSpec, flatten::Flatten};
use crate::layers::{conv2d::Conv2dSpec, global_avg_pool::GlobalAvgPoolSpec, pool::Pool2dSpec};
use crate::layers::{graph::GraphSpec, inception::InceptionSpec, residual::ResidualSpec};
use crate::module::Module;
use crate::registry::CustomSpec;
use dlkit_core::{DType, NumpyRandom, Rng, Tensor};

/// One layer of a model description. In TOML: `{ type = "dense", units = 20 }`.
/// Serialised as an internally tagged enum (`type`, snake case), every layer's unknown fields
/// rejected; see `spec_serde`.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    Dense(DenseSpec),
    Dropout(DropoutSpec),
    BatchNorm(BatchNormSpec),
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu {
        /// Default 0.01.
        slope: f64,
    },
    Softmax,
    Flatten,
    Sequential {
        layers: Vec<LayerSpec>,
        /// Default true; written only when false.
        trainable: bool,
    },
    Conv2d(Conv2dSpec),
    MaxPool2d(Pool2dSpec),
    AvgPool2d(Pool2dSpec),
    GlobalAvgPool(GlobalAvgPoolSpec),
    Residual(ResidualSpec),
    Inception(InceptionSpec),
    Graph(GraphSpec),
    /// A layer type registered from outside dlkit-nn ([`crate::register_layer`]).
    Custom(CustomSpec),
}

pub(crate) fn default_slope() -> f64 {
    0.01
}

/// The default of every layer's `trainable` field: layers learn unless frozen.
pub(crate) fn trainable() -> bool {
    true
}

/// `trainable` is written only when false, so that descriptions of models without frozen
/// layers stay as they were.
pub(crate) fn is_trainable(on: &bool) -> bool {
    *on
}

/// What building needs besides the layer itself: the dtype, the seeded generators, and the
/// initialiser of layers that name none.
///
/// Initial weights come from `rng` (dlkit's stream, [`InitRng::Dlkit`]), or from `numpy`
/// when it is set ([`InitRng::Numpy`]); layers draw them through
/// [`BuildContext::sample_weight`]. Other draws at build time (dropout's mask seeds) always
/// come from `rng`.
pub struct BuildContext {
    pub dtype: DType,
    pub rng: Rng,
    pub init: Init,
    /// NumPy's legacy stream, seeded once with the model's seed, that draws every weight
    /// tensor in place of `rng` when set.
    pub numpy: Option<NumpyRandom>,
}

impl BuildContext {
    /// A context drawing weights from dlkit's stream, [`Rng::new`]`(seed)`.
    pub fn new(dtype: DType, seed: u64, init: Init) -> Self {
        BuildContext {
            dtype,
            rng: Rng::new(seed),
            init,
            numpy: None,
        }
    }

    /// A context drawing weights from the stream `init_rng` names: as [`BuildContext::new`]
    /// for [`InitRng::Dlkit`]; for [`InitRng::Numpy`], from [`NumpyRandom::new`]`(seed)`
    /// (`np.random.seed(seed)`), an error when `seed` does not fit in a `u32` (NumPy's
    /// legacy seeds are `0..=2^32 - 1`).
    pub fn with_init_rng(dtype: DType, seed: u64, init: Init, init_rng: InitRng) -> Result<Self> {
        let mut ctx = BuildContext::new(dtype, seed, init);
        if init_rng == InitRng::Numpy {
            let seed = u32::try_from(seed).map_err(|_| {
                Error::Config(format!(
                    "the numpy stream is seeded as np.random.seed(seed), which takes 0 to {}; \
                     {seed} does not fit",
                    u32::MAX
                ))
            })?;
            ctx.numpy = Some(NumpyRandom::new(seed));
        }
        Ok(ctx)
    }

    /// The stream weights are drawn from.
    pub fn init_rng(&self) -> InitRng {
        match self.numpy {
            Some(_) => InitRng::Numpy,
            None => InitRng::Dlkit,
        }
    }

    /// A weight tensor of `shape` (row-major, the order values are drawn in) for a layer with
    /// the given fan-in and fan-out, drawn by `init` from this context's stream:
    /// [`Init::sample_numpy`] from `numpy` when set, [`Init::sample`] from `rng` otherwise.
    pub fn sample_weight(
        &mut self,
        init: Init,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
    ) -> Tensor {
        match &mut self.numpy {
            Some(numpy) => init.sample_numpy(shape, fan_in, fan_out, self.dtype, numpy),
            None => init.sample(shape, fan_in, fan_out, self.dtype, &mut self.rng),
        }
    }
}

/// A built layer and the shape of one example it outputs (batch axis excluded).
pub type Built = (Box<dyn Module>, Vec<usize>);

impl LayerSpec {
    /// The layer's type name as written in configs, used in error messages.
    pub fn kind(&self) -> &str {
        match self {
            LayerSpec::Dense(_) => "dense",
            LayerSpec::Dropout(_) => "dropout",
            LayerSpec::BatchNorm(_) => "batch_norm",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "leaky_relu",
            LayerSpec::Softmax => "softmax",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Sequential { .. } => "sequential",
            LayerSpec::Conv2d(_) => "conv2d",
            LayerSpec::MaxPool2d(_) => "max_pool2d",
            LayerSpec::AvgPool2d(_) => "avg_pool2d",
            LayerSpec::GlobalAvgPool(_) => "global_avg_pool",
            LayerSpec::Residual(_) => "residual",
            LayerSpec::Inception(_) => "inception",
            LayerSpec::Graph(_) => "graph",
            LayerSpec::Custom(c) => &c.type_name,
        }
    }

    /// The activation this spec stands for, if it is one.
    pub fn activation(&self) -> Option<Activation> {
        Some(match *self {
            LayerSpec::Sigmoid => Activation::Sigmoid,
            LayerSpec::Tanh => Activation::Tanh,
            LayerSpec::Relu => Activation::Relu,
            LayerSpec::LeakyRelu { slope } => Activation::LeakyRelu { slope },
            LayerSpec::Softmax => Activation::Softmax,
            _ => return None,
        })
    }

    /// Whether the layer learns: false for `trainable = false`, which freezes its parameters
    /// and, in a container, every layer inside (see [`Module::set_trainable`]). Layers
    /// without parameters have no such field and are trainable.
    pub fn trainable(&self) -> bool {
        match self {
            LayerSpec::Dense(spec) => spec.trainable,
            LayerSpec::BatchNorm(spec) => spec.trainable,
            LayerSpec::Conv2d(spec) => spec.trainable,
            LayerSpec::Sequential { trainable, .. } => *trainable,
            LayerSpec::Residual(spec) => spec.trainable,
            LayerSpec::Inception(spec) => spec.trainable,
            LayerSpec::Graph(spec) => spec.trainable,
            _ => true,
        }
    }

    /// The layer's `trainable` field, for layers that have one (those with parameters and
    /// the containers); `None` for parameterless layers and custom layers, which have none.
    pub fn trainable_mut(&mut self) -> Option<&mut bool> {
        match self {
            LayerSpec::Dense(spec) => Some(&mut spec.trainable),
            LayerSpec::BatchNorm(spec) => Some(&mut spec.trainable),
            LayerSpec::Conv2d(spec) => Some(&mut spec.trainable),
            LayerSpec::Sequential { trainable, .. } => Some(trainable),
            LayerSpec::Residual(spec) => Some(&mut spec.trainable),
            LayerSpec::Inception(spec) => Some(&mut spec.trainable),
            LayerSpec::Graph(spec) => Some(&mut spec.trainable),
            _ => None,
        }
    }

    /// Builds the layer for inputs of shape `input` (one example, batch axis excluded),
    /// frozen when the spec says `trainable = false`. Errors describe what the layer needs;
    /// containers add which layers are involved.
    pub fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let (layer, out) = self.build_layer(ctx, input)?;
        if !self.trainable() {
            layer.set_trainable(false);
        }
        Ok((layer, out))
    }

    fn build_layer(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        if let Some(act) = self.activation() {
            return Ok((Box::new(act), input.to_vec()));
        }
        match self {
            LayerSpec::Dense(spec) => spec.build(ctx, input),
            LayerSpec::Dropout(spec) => spec.build(ctx, input),
            LayerSpec::BatchNorm(spec) => spec.build(ctx, input),
            LayerSpec::Conv2d(spec) => spec.build(ctx, input),
            LayerSpec::MaxPool2d(spec) => spec.build_max(ctx, input),
            LayerSpec::AvgPool2d(spec) => spec.build_avg(ctx, input),
            LayerSpec::GlobalAvgPool(spec) => spec.build(ctx, input),
            LayerSpec::Residual(spec) => spec.build(ctx, input),
            LayerSpec::Inception(spec) => spec.build(ctx, input),
            LayerSpec::Graph(spec) => spec.build(ctx, input),
            LayerSpec::Custom(spec) => crate::registry::build_custom(spec, ctx, input),
            LayerSpec::Flatten => Ok((Box::new(Flatten), Flatten::output_shape(input))),
            LayerSpec::Sequential { layers, .. } => {
                let (seq, out) = Sequential::build(layers, ctx, input)?;
                Ok((Box::new(seq), out))
            }
            other => Err(Error::build(format!("{} is not buildable", other.kind()))),
        }
    }
}
