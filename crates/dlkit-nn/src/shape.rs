//! Output shapes, parameter counts and forward FLOPs of model descriptions, worked out from the
//! specs alone: no weight is allocated or drawn (but for a registered custom layer, which only
//! has a build).
//!
//! Building and counting walk a description the same way: each layer's shape comes from its
//! spec's `output_shape`, which its build calls too, and each container (chain, residual
//! block, inception block, graph) walks its layers once, generic over a [`Step`] that either
//! builds a layer ([`BuildContext`]) or counts it ([`Counting`]). So both give the same shapes
//! and the same errors, word for word.

use crate::error::Result;
use crate::init::Init;
use crate::layers::activation::Activation;
use crate::layers::flatten::Flatten;
use crate::layers::graph::{MergeOp, Stepped};
use crate::layers::pool::PoolKind;
use crate::layers::sequential::Sequential;
use crate::module::Module;
use crate::spec::{BuildContext, LayerSpec};
use dlkit_core::DType;

/// What a walk made of a layer or of a container's layers, and the output shape (one
/// example, batch axis excluded), or the error of the first layer that does not fit.
pub(crate) type Shaped<T> = Result<(T, Vec<usize>)>;

/// What a walk through a description does with each layer.
pub(crate) trait Step {
    /// What a layer becomes: a built module, or its number of parameters.
    type Layer;

    /// The layer `spec` for examples of shape `input` (batch axis excluded), and its output
    /// shape.
    fn layer(&mut self, spec: &LayerSpec, input: &[usize]) -> Shaped<Self::Layer>;
}

/// Building: each layer built, its weights drawn from the context.
impl Step for BuildContext {
    type Layer = Box<dyn Module>;

    fn layer(&mut self, spec: &LayerSpec, input: &[usize]) -> Shaped<Self::Layer> {
        spec.build(self, input)
    }
}

/// Counting: each layer's parameters, buffers and FLOPs counted from its spec, nothing built.
pub(crate) struct Counting;

impl Step for Counting {
    type Layer = Tally;

    fn layer(&mut self, spec: &LayerSpec, input: &[usize]) -> Shaped<Tally> {
        spec.count(input)
    }
}

impl LayerSpec {
    /// The shape of one example the layer outputs for examples of shape `input` (batch axis
    /// excluded), without building it; the error [`LayerSpec::build`] would give for a
    /// description that does not fit.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(self.count(input)?.1)
    }

    /// The number of scalars in the layer's parameters (frozen ones included, buffers such as
    /// batch norm's running statistics not) for examples of shape `input`, as the built
    /// layer's [`Module::parameters`] hold, without building it; the error
    /// [`LayerSpec::build`] would give for a description that does not fit.
    pub fn parameter_count(&self, input: &[usize]) -> Result<usize> {
        Ok(self.count(input)?.0.parameters)
    }

    /// The forward FLOPs of one example of shape `input` (see [`Tally::flops`] for what is
    /// counted), without building the layer; the error [`LayerSpec::build`] would give for a
    /// description that does not fit.
    pub fn flops(&self, input: &[usize]) -> Result<u64> {
        Ok(self.count(input)?.0.flops)
    }

    /// What the layer holds and costs for examples of shape `input`, and its output shape,
    /// without building it; the error [`LayerSpec::build`] would give for a description that
    /// does not fit.
    pub fn tally(&self, input: &[usize]) -> Shaped<Tally> {
        self.count(input)
    }

    /// The tally and the output shape for examples of shape `input`; a frozen layer
    /// (`trainable = false`) has no trainable parameters, nor has anything inside it.
    fn count(&self, input: &[usize]) -> Shaped<Tally> {
        let (mut tally, out) = self.count_layer(input)?;
        if !self.trainable() {
            tally.trainable = 0;
        }
        Ok((tally, out))
    }

    fn count_layer(&self, input: &[usize]) -> Shaped<Tally> {
        let n = |shape: &[usize]| shape.iter().product::<usize>() as u64;
        Ok(match self {
            LayerSpec::Sigmoid
            | LayerSpec::Tanh
            | LayerSpec::Relu
            | LayerSpec::LeakyRelu { .. }
            | LayerSpec::Softmax => {
                let act = self.activation().expect("an activation spec");
                (
                    Tally::flops_only(activation_flops(act, n(input))),
                    input.to_vec(),
                )
            }
            LayerSpec::Flatten => (Tally::default(), Flatten::output_shape(input)),
            LayerSpec::Dropout(spec) => (Tally::default(), spec.output_shape(input)?),
            LayerSpec::Dense(spec) => {
                let out = spec.output_shape(input)?;
                let units = spec.units as u64;
                let bias = if spec.bias { units } else { 0 };
                let flops = 2 * n(input) * units + bias;
                (Tally::learned(spec.parameter_count(input), flops), out)
            }
            LayerSpec::BatchNorm(spec) => {
                let out = spec.output_shape(input)?;
                let mut tally = Tally::learned(spec.parameter_count(input), 4 * n(input));
                // The running mean and variance, one each per feature, as many as γ and β.
                tally.buffers = tally.parameters;
                (tally, out)
            }
            LayerSpec::Conv2d(spec) => {
                let out = spec.output_shape(input)?;
                let [kh, kw] = spec.kernel.map(|k| k as u64);
                let positions = (out[0] * out[1]) as u64;
                let filters = spec.filters as u64;
                let bias = if spec.bias { filters * positions } else { 0 };
                let flops = 2 * kh * kw * input[2] as u64 * filters * positions + bias;
                (Tally::learned(spec.parameter_count(input), flops), out)
            }
            LayerSpec::MaxPool2d(spec) => {
                let out = spec.output_shape(PoolKind::Max, input)?;
                let [kh, kw] = spec.window.map(|k| k as u64);
                (Tally::flops_only((kh * kw - 1) * n(&out)), out)
            }
            LayerSpec::AvgPool2d(spec) => {
                let out = spec.output_shape(PoolKind::Avg, input)?;
                let [kh, kw] = spec.window.map(|k| k as u64);
                (Tally::flops_only(kh * kw * n(&out)), out)
            }
            LayerSpec::GlobalAvgPool(spec) => {
                let out = spec.output_shape(input)?;
                (Tally::flops_only(n(input)), out)
            }
            LayerSpec::Sequential { layers, .. } => {
                let (tallies, out) = Sequential::walk(layers, &mut Counting, input)?;
                (tallies.into_iter().sum(), out)
            }
            LayerSpec::Residual(spec) => {
                let ([main, shortcut], out) = spec.walk(&mut Counting, input)?;
                let mut tally: Tally = main.into_iter().chain(shortcut).sum();
                // The addition of the branches, then the activation of the sum.
                tally.flops += n(&out);
                tally.flops += spec.activation.map_or(0, |a| activation_flops(a, n(&out)));
                (tally, out)
            }
            LayerSpec::Inception(spec) => {
                let (branches, out) = spec.walk(&mut Counting, input)?;
                (branches.into_iter().flatten().sum(), out)
            }
            LayerSpec::Graph(spec) => {
                let walked = spec.walk(&mut Counting, &spec.layer_shapes(input)?)?;
                let n_in = spec.inputs.len();
                let tallies = walked.nodes.iter().enumerate().map(|(j, node)| match node {
                    Stepped::Layer(t) => *t,
                    // Adding k inputs takes k - 1 additions per element; concatenating none.
                    Stepped::Merge(MergeOp::Add) => {
                        let k = walked.sources[j].len() as u64;
                        Tally::flops_only(k.saturating_sub(1) * n(&walked.shapes[n_in + j]))
                    }
                    Stepped::Merge(MergeOp::Concatenate) => Tally::default(),
                });
                let tally = tallies.sum();
                (tally, walked.output_shapes().swap_remove(0))
            }
            LayerSpec::Custom(spec) => {
                // A registered type has only its build: it is built once, in f32 and unused;
                // its FLOPs are what its `CustomLayer::flops` says (0 by default).
                let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
                let (layer, out) = crate::registry::build_custom(spec, &mut ctx, input)?;
                let params = layer.parameters();
                let buffers = layer.buffers().iter().map(|(_, t)| t.numel()).sum();
                let tally = Tally {
                    parameters: params.iter().map(|p| p.tensor.numel()).sum(),
                    trainable: params
                        .iter()
                        .filter(|p| p.trainable())
                        .map(|p| p.tensor.numel())
                        .sum(),
                    buffers,
                    flops: crate::registry::custom_flops(spec, input, &out)?,
                };
                (tally, out)
            }
        })
    }
}

/// The forward FLOPs of `act` on `n` elements: 1 per element for ReLU, leaky ReLU, sigmoid
/// and tanh (each function counted as one operation), 3 per element for softmax (the
/// exponential, its share of the sum, the division).
fn activation_flops(act: Activation, n: u64) -> u64 {
    match act {
        Activation::Softmax => 3 * n,
        _ => n,
    }
}

/// What a layer holds and what its forward pass costs, for one example (batch axis
/// excluded), counted from its spec.
///
/// FLOPs are the floating-point operations of the forward pass in inference, 2 per
/// multiply-add:
///
/// - dense: `2 · n_in · units`, plus `units` for the bias;
/// - conv2d: `2 · kh · kw · c_in · filters · out_h · out_w`, plus `filters · out_h · out_w`
///   for the bias;
/// - batch norm: 4 per element (subtract the mean, divide by the standard deviation,
///   multiply by γ, add β);
/// - ReLU, leaky ReLU, sigmoid, tanh: 1 per element; softmax: 3 per element;
/// - max pooling: `kh · kw - 1` comparisons per output element; average pooling: `kh · kw`
///   per output element (the additions and the division); global average pooling: 1 per
///   input element;
/// - dropout (the identity in inference), flatten, concatenation: 0;
/// - a residual block: its branches, 1 per output element for the addition and its
///   activation; a graph's `add` of k inputs: `k - 1` per element;
/// - a registered custom layer: what its [`CustomLayer::flops`](crate::CustomLayer::flops)
///   says, 0 unless it says otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Scalars in the layer's parameters, frozen ones included ([`Module::parameters`]).
    pub parameters: usize,
    /// Those of them optimisers update: 0 in a frozen layer (`trainable = false`).
    pub trainable: usize,
    /// Scalars of state that are not parameters: batch norm's running mean and variance.
    pub buffers: usize,
    /// Forward FLOPs per example.
    pub flops: u64,
}

impl Tally {
    /// A layer without parameters that costs `flops`.
    fn flops_only(flops: u64) -> Tally {
        Tally {
            flops,
            ..Tally::default()
        }
    }

    /// A layer of `parameters` (all trainable until frozen) that costs `flops`.
    fn learned(parameters: usize, flops: u64) -> Tally {
        Tally {
            parameters,
            trainable: parameters,
            buffers: 0,
            flops,
        }
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;

    fn add(self, o: Tally) -> Tally {
        Tally {
            parameters: self.parameters + o.parameters,
            trainable: self.trainable + o.trainable,
            buffers: self.buffers + o.buffers,
            flops: self.flops + o.flops,
        }
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Tally {
        iter.fold(Tally::default(), |a, b| a + b)
    }
}
