//! `Sequential`: layers applied one after another; parameters named `"{index}.{name}"`.

use crate::error::{Error, Result};
use crate::layers::activation::Activation;
use crate::module::Module;
use crate::param::Param;
use crate::spec::{BuildContext, LayerSpec};
use dlkit_core::Tensor;

/// A chain of modules.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// A chain of already built modules (shapes are not checked; see [`Sequential::build`]).
    pub fn from_modules(layers: Vec<Box<dyn Module>>) -> Self {
        Sequential { layers }
    }

    /// Builds `specs` for examples of shape `input`, inferring each layer's input shape from
    /// the previous layer's output. A layer that does not fit is an error naming it and the
    /// layer before it. Returns the chain and its output shape.
    pub fn build(
        specs: &[LayerSpec],
        ctx: &mut BuildContext,
        input: &[usize],
    ) -> Result<(Sequential, Vec<usize>)> {
        let mut shape = input.to_vec();
        let mut layers = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let (layer, out) = spec.build(ctx, &shape).map_err(|e| {
                let after = match i {
                    0 => format!("the input of shape {shape:?}"),
                    _ => format!(
                        "layer {} ({}) with output shape {shape:?}",
                        i - 1,
                        specs[i - 1].kind()
                    ),
                };
                let why = match e {
                    Error::Build(m) => m,
                    other => other.to_string(),
                };
                Error::build(format!(
                    "layer {i} ({}) does not fit after {after}: {why}",
                    spec.kind()
                ))
            })?;
            layers.push(layer);
            shape = out;
        }
        Ok((Sequential { layers }, shape))
    }

    pub fn push(&mut self, layer: Box<dyn Module>) {
        self.layers.push(layer);
    }

    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The final sigmoid or softmax, if the chain ends with one.
    pub fn output_activation(&self) -> Option<Activation> {
        self.layers
            .last()
            .and_then(|l| l.spec().activation())
            .filter(|a| matches!(a, Activation::Sigmoid | Activation::Softmax))
    }

    /// The output before a final sigmoid or softmax: the logits that the fused, stable
    /// losses take.
    pub fn forward_logits(&self, x: &Tensor) -> Result<Tensor> {
        let n = self.layers.len() - usize::from(self.output_activation().is_some());
        self.layers[..n]
            .iter()
            .try_fold(x.clone(), |h, l| l.forward(&h))
    }
}

impl Module for Sequential {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.layers.iter().try_fold(x.clone(), |h, l| l.forward(&h))
    }

    fn parameters(&self) -> Vec<Param> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.parameters()
                    .into_iter()
                    .map(move |p| p.prefixed(&i.to_string()))
            })
            .collect()
    }

    fn buffers(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, l)| {
                l.buffers()
                    .into_iter()
                    .map(move |(n, t)| (format!("{i}.{n}"), t))
            })
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        self.layers
            .iter_mut()
            .for_each(|l| l.set_training(training));
    }

    /// Layer `i` gets `child_seed(seed, i)`.
    fn reseed(&self, seed: u64) {
        for (i, l) in self.layers.iter().enumerate() {
            l.reseed(child_seed(seed, i));
        }
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Sequential {
            layers: self.layers.iter().map(|l| l.spec()).collect(),
        }
    }
}

/// A seed for child `index` of a container, mixed so that neighbours' streams differ
/// (SplitMix64's finaliser).
pub fn child_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
