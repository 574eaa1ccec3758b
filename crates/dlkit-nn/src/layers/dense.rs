//! Dense (fully connected) layer: `Z = X Wᵀ + b`, with `W` stored `n[l] x n[l-1]` as in the
//! course and the batch first.

use crate::error::{Error, Result};
use crate::init::Init;
use crate::module::Module;
use crate::param::{Param, ParamKind};
use crate::spec::{is_trainable, trainable, BuildContext, Built, LayerSpec};
use dlkit_core::{DType, Rng, Tensor};
use serde::{Deserialize, Serialize};

/// `{ type = "dense", units = 20 }`; `bias = false` before batch norm; `init` overrides the
/// model's initialiser; `trainable = false` freezes the layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    pub units: usize,
    #[serde(default = "yes")]
    pub bias: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

fn yes() -> bool {
    true
}

impl DenseSpec {
    pub fn new(units: usize) -> Self {
        DenseSpec {
            units,
            bias: true,
            init: None,
            trainable: true,
        }
    }

    /// The output shape `[units]` for one example of shape `input`, which must be flat
    /// (`[features]`).
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        let [_] = *input else {
            return Err(Error::build(format!(
                "dense needs a flat input [features] but gets {input:?}; add a flatten layer before it"
            )));
        };
        if self.units == 0 {
            return Err(Error::build("dense needs units >= 1"));
        }
        Ok(vec![self.units])
    }

    /// The number of parameters for an input `[n_in]` that [`DenseSpec::output_shape`]
    /// accepts: `units · n_in` weights, plus `units` biases with `bias`.
    pub(crate) fn parameter_count(&self, input: &[usize]) -> usize {
        self.units * input[0] + if self.bias { self.units } else { 0 }
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(input)?;
        let n_in = input[0];
        let init = self.init.unwrap_or(ctx.init);
        // `[units, inputs]` is also the course's layout of `W`, so with the NumPy stream the
        // values are drawn in the course's order with no transpose.
        let w = ctx.sample_weight(init, &[self.units, n_in], n_in, self.units);
        let dense = Dense::with_weight(w, self.bias, init, ctx.dtype);
        Ok((Box::new(dense), out))
    }
}

/// A fully connected layer.
pub struct Dense {
    pub weight: Param,
    pub bias: Option<Param>,
    init: Option<Init>,
}

impl Dense {
    /// A layer from `n_in` to `n_out` units, weights drawn by `init`, biases zero.
    pub fn new(
        n_in: usize,
        n_out: usize,
        bias: bool,
        init: Init,
        dtype: DType,
        rng: &mut Rng,
    ) -> Self {
        let w = init.sample(&[n_out, n_in], n_in, n_out, dtype, rng);
        Dense::with_weight(w, bias, init, dtype)
    }

    /// A layer with drawn weights `w` `[n_out, n_in]` and, with `bias`, zero biases.
    fn with_weight(w: Tensor, bias: bool, init: Init, dtype: DType) -> Self {
        let n_out = w.shape()[0];
        Dense {
            weight: Param::new("weight", w, ParamKind::Weight),
            bias: bias.then(|| Param::new("bias", Tensor::zeros(&[n_out], dtype), ParamKind::Bias)),
            init: Some(init),
        }
    }

    /// A layer with given weights `[n_out, n_in]` and optional bias `[n_out]`.
    pub fn from_tensors(weight: Tensor, bias: Option<Tensor>) -> Self {
        Dense {
            weight: Param::new("weight", weight, ParamKind::Weight),
            bias: bias.map(|b| Param::new("bias", b, ParamKind::Bias)),
            init: None,
        }
    }
}

impl Module for Dense {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let z = x.try_matmul(&self.weight.tensor.t())?;
        Ok(match &self.bias {
            Some(b) => z.try_add(&b.tensor)?,
            None => z,
        })
    }

    fn own_parameters(&self) -> Vec<Param> {
        std::iter::once(self.weight.clone())
            .chain(self.bias.clone())
            .collect()
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::Dense(DenseSpec {
            units: self.weight.tensor.shape()[0],
            bias: self.bias.is_some(),
            init: self.init,
            trainable: self.trainable(),
        }))
    }
}
