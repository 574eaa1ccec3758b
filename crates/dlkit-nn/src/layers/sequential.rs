//! `Sequential`: layers applied one after another; parameters named `"{index}.{name}"`.

use crate::error::{Error, Result};
use crate::layers::activation::Activation;
pub use crate::module::child_seed;
use crate::module::Module;
use crate::shape::{Shaped, Step};
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
        let (layers, out) = Self::walk(specs, ctx, input)?;
        Ok((Sequential { layers }, out))
    }

    /// Takes `step` through `specs` in order for examples of shape `input`, each layer on
    /// the previous layer's output shape, with [`Sequential::build`]'s errors. Returns what
    /// each layer became and the chain's output shape.
    pub(crate) fn walk<S: Step>(
        specs: &[LayerSpec],
        step: &mut S,
        input: &[usize],
    ) -> Shaped<Vec<S::Layer>> {
        let mut shape = input.to_vec();
        let mut layers = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let (layer, out) = step.layer(spec, &shape).map_err(|e| {
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
        Ok((layers, shape))
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
            .and_then(|l| l.spec()?.activation())
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

    /// Layer `i` is named `"i"`.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        let named = self.layers.iter().enumerate();
        named.map(|(i, l)| (i.to_string(), l.as_ref())).collect()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        let named = self.layers.iter_mut().enumerate();
        named
            .map(|(i, l)| (i.to_string(), l.as_mut() as &mut dyn Module))
            .collect()
    }

    /// The layers' specs; `None` when a layer has none.
    fn spec(&self) -> Option<LayerSpec> {
        let layers = self
            .layers
            .iter()
            .map(|l| l.spec())
            .collect::<Option<_>>()?;
        Some(LayerSpec::Sequential {
            layers,
            trainable: self.trainable(),
        })
    }
}
