//! Output shapes and parameter counts of model descriptions, worked out from the specs alone:
//! no weight is allocated or drawn (but for a registered custom layer, which only has a build).
//!
//! Building and counting walk a description the same way: each layer's shape comes from its
//! spec's `output_shape`, which its build calls too, and each container (chain, residual
//! block, inception block, graph) walks its layers once, generic over a [`Step`] that either
//! builds a layer ([`BuildContext`]) or counts it ([`Counting`]). So both give the same shapes
//! and the same errors, word for word.

use crate::error::Result;
use crate::init::Init;
use crate::layers::flatten::Flatten;
use crate::layers::graph::Stepped;
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

/// Counting: each layer's parameters counted from its spec, nothing built.
pub(crate) struct Counting;

impl Step for Counting {
    type Layer = usize;

    fn layer(&mut self, spec: &LayerSpec, input: &[usize]) -> Shaped<usize> {
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
        Ok(self.count(input)?.0)
    }

    /// The parameter count and the output shape for examples of shape `input`.
    fn count(&self, input: &[usize]) -> Shaped<usize> {
        let sum = |counts: &[usize]| counts.iter().sum::<usize>();
        Ok(match self {
            LayerSpec::Sigmoid
            | LayerSpec::Tanh
            | LayerSpec::Relu
            | LayerSpec::LeakyRelu { .. }
            | LayerSpec::Softmax => (0, input.to_vec()),
            LayerSpec::Flatten => (0, Flatten::output_shape(input)),
            LayerSpec::Dropout(spec) => (0, spec.output_shape(input)?),
            LayerSpec::Dense(spec) => {
                let out = spec.output_shape(input)?;
                (spec.parameter_count(input), out)
            }
            LayerSpec::BatchNorm(spec) => {
                let out = spec.output_shape(input)?;
                (spec.parameter_count(input), out)
            }
            LayerSpec::Conv2d(spec) => {
                let out = spec.output_shape(input)?;
                (spec.parameter_count(input), out)
            }
            LayerSpec::MaxPool2d(spec) => (0, spec.output_shape(PoolKind::Max, input)?),
            LayerSpec::AvgPool2d(spec) => (0, spec.output_shape(PoolKind::Avg, input)?),
            LayerSpec::GlobalAvgPool(spec) => (0, spec.output_shape(input)?),
            LayerSpec::Sequential { layers, .. } => {
                let (counts, out) = Sequential::walk(layers, &mut Counting, input)?;
                (sum(&counts), out)
            }
            LayerSpec::Residual(spec) => {
                let ([main, shortcut], out) = spec.walk(&mut Counting, input)?;
                (sum(&main) + sum(&shortcut), out)
            }
            LayerSpec::Inception(spec) => {
                let (branches, out) = spec.walk(&mut Counting, input)?;
                (branches.iter().map(|b| sum(b)).sum(), out)
            }
            LayerSpec::Graph(spec) => {
                let walked = spec.walk(&mut Counting, &spec.layer_shapes(input)?)?;
                let counts = walked.nodes.iter().map(|node| match node {
                    Stepped::Layer(n) => *n,
                    Stepped::Merge(_) => 0,
                });
                let first = walked.output_shapes().swap_remove(0);
                (counts.sum(), first)
            }
            LayerSpec::Custom(spec) => {
                // A registered type has only its build: it is built once, in f32 and unused.
                let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
                let (layer, out) = crate::registry::build_custom(spec, &mut ctx, input)?;
                let count = layer.parameters().iter().map(|p| p.tensor.numel()).sum();
                (count, out)
            }
        })
    }
}
