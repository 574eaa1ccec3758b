//! `[model]` of a config: dtype, initialiser, seed, random stream and layers, built into a
//! [`Sequential`] for an input shape; the loss that fits its last layer; and, for transfer
//! learning, the saved model it starts from with the layers kept and frozen
//! ([`ModelConfig::transfer`]).

use std::path::PathBuf;

use dlkit_core::DType;
use serde::{Deserialize, Serialize};

use crate::init::{Init, InitRng};
use crate::layer_selection::LayerSelection;
use crate::pretrained::PretrainedWeights;
use crate::shape::Counting;
use crate::spec::{BuildContext, LayerSpec};
use crate::{Loss, Module, Result, Sequential};

/// `[model]`: the network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `"f32"` (default) or `"f64"`.
    #[serde(default)]
    pub dtype: DTypeName,
    /// The initialiser of layers that name none: `"he"` (default), `"xavier"`, `"zeros"`,
    /// `"glorot_uniform"`, or `{ type = "normal", scale = 0.01 }`.
    #[serde(default, serialize_with = "Init::serialize_as_name")]
    pub init: Init,
    /// Seeds the initial weights (with `rng = "numpy"`, NumPy's seed: 0 to 2^32 - 1).
    #[serde(default)]
    pub seed: u64,
    /// The stream that draws the initial weights: `"dlkit"` (default), dlkit's own seeded
    /// generator; or `"numpy"`, the course's NumPy stream (`np.random.seed(seed)`, then each
    /// layer's `np.random.randn(n[l], n[l-1])` scaled as `init` says), so that a course
    /// notebook's initial weights are reproduced exactly.
    #[serde(default)]
    pub rng: InitRng,
    /// Transfer learning: the saved model the new one starts from (a run folder, a model
    /// folder or a `model.json`), whose kept layers keep their trained weights and batch-norm
    /// statistics. Read by the trainer; see [`ModelConfig::transfer`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
    /// With `from`: which layers of the saved model are kept ([`LayerSelection`]; all when
    /// left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep: Option<LayerSelection>,
    /// Which layers of the model are frozen ([`LayerSelection`], or `"kept"`): with `from`,
    /// every kept layer when left out; `[]` freezes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<LayerSelection>,
    /// With `from`: fit `[preprocess]` afresh on this run's training inputs instead of reusing
    /// the saved model's fitted preprocessing (for data on another scale, such as digits of
    /// 0..16 after a model trained on MNIST's 0..255).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refit_preprocessing: bool,
    /// The layers, in order: `{ type = "dense", units = 20 }`, `{ type = "relu" }`, ...;
    /// with `from`, the new head after the kept layers (may be empty).
    #[serde(default)]
    pub layers: Vec<LayerSpec>,
    /// The weights the built model starts from, instead of the initialiser's (see
    /// [`PretrainedWeights`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<PretrainedWeights>,
}

/// A dtype by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DTypeName {
    #[default]
    F32,
    F64,
}

impl DTypeName {
    pub fn dtype(self) -> DType {
        match self {
            DTypeName::F32 => DType::F32,
            DTypeName::F64 => DType::F64,
        }
    }
}

impl ModelConfig {
    /// The context layers draw their weights from, in `dtype` (the config's, or f64 for a
    /// gradient check). Fails for a NumPy stream with a seed above `u32::MAX`.
    pub fn build_context(&self, dtype: DType) -> Result<BuildContext> {
        BuildContext::with_init_rng(dtype, self.seed, self.init, self.rng)
    }

    /// The model of `layers` for examples of shape `input` (batch axis excluded) and its
    /// output shape. With `from`, the model is that of [`ModelConfig::transfer`]'s layers.
    pub fn build(
        &self,
        ctx: &mut BuildContext,
        input: &[usize],
    ) -> Result<(Sequential, Vec<usize>)> {
        Sequential::build(&self.layers, ctx, input)
    }

    /// The model's output shape for examples of shape `input`, worked out from the layers'
    /// specs without building them: the shape [`ModelConfig::build`] returns, or its error.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        Ok(Sequential::walk(&self.layers, &mut Counting, input)?.1)
    }

    /// The number of scalars in the model's parameters for examples of shape `input`, worked
    /// out from the layers' specs without building them: [`parameter_count`] of the model
    /// [`ModelConfig::build`] returns, or its error.
    pub fn parameter_count(&self, input: &[usize]) -> Result<usize> {
        let (tallies, _) = Sequential::walk(&self.layers, &mut Counting, input)?;
        Ok(tallies.iter().map(|t| t.parameters).sum())
    }

    /// The loss `loss` (or, when `None`, [`default_loss`]) checked against the model's
    /// output shape `out` and the data's `n_classes`; the error says what to change.
    pub fn output_loss(
        &self,
        loss: Option<Loss>,
        out: &[usize],
        n_classes: usize,
    ) -> std::result::Result<Loss, String> {
        let layers = &self.layers;
        let Some(last) = layers.len().checked_sub(1) else {
            return Err("the model has no layers".to_string());
        };
        let last_name = format!("the last layer (layer {last}, {})", layers[last].kind());
        let loss = loss.unwrap_or_else(|| default_loss(layers.last(), out));
        let problem = match (loss, out) {
            (_, [_, _, ..]) => Some(format!(
                "{last_name} outputs {out:?} per example; a classifier needs a flat output: add \
                 {{ type = \"flatten\" }} and a dense layer"
            )),
            (Loss::BinaryCrossEntropy, [1]) if n_classes <= 2 => None,
            (Loss::BinaryCrossEntropy, [1]) => Some(format!(
                "binary_cross_entropy is for two classes but the data have {n_classes}: end with \
                 {{ type = \"dense\", units = {n_classes} }}, {{ type = \"softmax\" }} and use \
                 softmax_cross_entropy"
            )),
            (Loss::BinaryCrossEntropy, _) => Some(format!(
                "binary_cross_entropy needs one output unit, but {last_name} gives {out:?}"
            )),
            (Loss::SoftmaxCrossEntropy, [k]) if *k == n_classes && *k >= 2 => None,
            (Loss::SoftmaxCrossEntropy, _) => Some(format!(
                "softmax_cross_entropy needs one output unit per class ({n_classes}), but \
                 {last_name} gives {out:?}"
            )),
            (Loss::MeanSquaredError, _) => Some(
                "mean_squared_error needs real-valued targets, but the data have class labels: \
                 use binary_cross_entropy or softmax_cross_entropy"
                    .to_string(),
            ),
        };
        match problem {
            Some(p) => Err(p),
            None => Ok(loss),
        }
    }
}

/// The loss for a model whose last layer is `last` and whose output is `out`: sigmoid or one
/// unit gives binary cross-entropy, anything else softmax cross-entropy.
pub fn default_loss(last: Option<&LayerSpec>, out: &[usize]) -> Loss {
    match last {
        Some(LayerSpec::Sigmoid) => Loss::BinaryCrossEntropy,
        Some(LayerSpec::Softmax) => Loss::SoftmaxCrossEntropy,
        _ if out == [1] => Loss::BinaryCrossEntropy,
        _ => Loss::SoftmaxCrossEntropy,
    }
}

/// Keras-style names of the top-level layers: each layer's kind and its count among the layers
/// of that kind, from 1 (`["conv2d_1", "relu_1", "conv2d_2", "relu_2", "dense_1"]`). Transfer
/// learning and `dlkit summary` address a layer by this name or by its index.
pub fn layer_names(specs: &[LayerSpec]) -> Vec<String> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    specs
        .iter()
        .map(|spec| {
            let count = seen.entry(spec.kind()).or_insert(0);
            *count += 1;
            format!("{}_{count}", spec.kind())
        })
        .collect()
}

/// Each layer of `specs` with the shape it outputs for examples of shape `input`
/// (`"dense 20 -> [20]"`), for reports, from the specs alone ([`LayerSpec::output_shape`]);
/// a layer that does not fit is named alone.
pub fn describe_layers(specs: &[LayerSpec], input: &[usize]) -> Vec<String> {
    let mut shape = input.to_vec();
    specs
        .iter()
        .map(|spec| {
            let name = match spec {
                LayerSpec::Dense(d) => format!("dense {}", d.units),
                LayerSpec::Dropout(d) => format!("dropout (keep {})", d.keep_prob),
                LayerSpec::LeakyRelu { slope } => format!("leaky_relu ({slope})"),
                other => other.kind().to_string(),
            };
            match spec.output_shape(&shape) {
                Ok(out) => {
                    shape = out;
                    format!("{name} -> {shape:?}")
                }
                Err(_) => name,
            }
        })
        .collect()
}

/// The number of scalars in a built model's parameters ([`ModelConfig::parameter_count`]
/// counts them from the config).
pub fn parameter_count(model: &Sequential) -> usize {
    model.parameters().iter().map(|p| p.tensor.numel()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_named_by_kind_and_count() {
        let specs = [
            LayerSpec::Conv2d(crate::layers::conv2d::Conv2dSpec::new(8, 3)),
            LayerSpec::Relu,
            LayerSpec::Conv2d(crate::layers::conv2d::Conv2dSpec::new(8, 3)),
            LayerSpec::Relu,
            LayerSpec::Flatten,
        ];
        let names = layer_names(&specs);
        assert_eq!(
            names,
            ["conv2d_1", "relu_1", "conv2d_2", "relu_2", "flatten_1"]
        );
    }

    #[test]
    fn model_and_layer_init_take_a_name_or_a_table() {
        let text = r#"
            init = "xavier"
            layers = [
              { type = "dense", units = 3, init = "he" },
              { type = "dense", units = 1, init = { type = "normal", scale = 0.01 } },
              { type = "sigmoid" },
            ]
        "#;
        let c: ModelConfig = toml::from_str(text).unwrap();
        assert_eq!(c.init, Init::Xavier);
        let again: ModelConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
        assert_eq!(again.layers, c.layers);
        let mut ctx = c.build_context(DType::F32).unwrap();
        let (_, out) = c.build(&mut ctx, &[4]).unwrap();
        assert_eq!(out, [1]);
        assert_eq!(c.output_loss(None, &out, 2), Ok(Loss::BinaryCrossEntropy));
        let e = c.output_loss(None, &out, 3).unwrap_err();
        assert!(
            e.starts_with("binary_cross_entropy is for two classes"),
            "{e}"
        );
        assert_eq!(describe_layers(&c.layers, &[4])[0], "dense 3 -> [3]");
    }
}
