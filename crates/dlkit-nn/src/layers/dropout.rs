//! Inverted dropout: in training `y = x ⊙ d / keep_prob` with `d ~ Bernoulli(keep_prob)` drawn
//! afresh per element and per forward pass, so the expected value of `y` is `x` and evaluation
//! needs no rescaling; in evaluation `y = x`. Backward: `dx = dy ⊙ d / keep_prob`.
//!
//! `keep_prob` is the course's parameter (the probability of keeping a unit); PyTorch's and
//! Keras' `p`/`rate` is the probability of dropping it, `p = 1 - keep_prob`.

use crate::error::{Error, Result};
use crate::module::Module;
use crate::spec::{BuildContext, Built, LayerSpec};
use dlkit_core::{with_dtype, DType, Rng, Tensor};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// `{ type = "dropout", keep_prob = 0.8 }`; `seed` fixes the layer's own generator (by
/// default it is seeded from the model's generator when the model is built).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutSpec {
    pub keep_prob: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl DropoutSpec {
    pub fn new(keep_prob: f64) -> Self {
        DropoutSpec {
            keep_prob,
            seed: None,
        }
    }

    /// Checks `0 < keep_prob <= 1`.
    pub fn validate(&self) -> Result<()> {
        let p = self.keep_prob;
        if !(p > 0.0 && p <= 1.0) {
            return Err(Error::build(format!(
                "dropout needs 0 < keep_prob <= 1 (the probability of keeping a unit), got {p}"
            )));
        }
        Ok(())
    }

    /// Builds the layer; without an explicit `seed`, the layer's generator is seeded with a
    /// draw from the model's generator (so the same model seed gives the same masks).
    /// The output shape for one example of shape `input`: `input` itself, once `keep_prob`
    /// is checked.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.validate()?;
        Ok(input.to_vec())
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(input)?;
        let seed = self
            .seed
            .unwrap_or_else(|| ctx.rng.below(usize::MAX) as u64);
        let mut layer = Dropout::new(self.keep_prob, seed)?;
        layer.explicit_seed = self.seed;
        Ok((Box::new(layer), out))
    }
}

/// Inverted dropout with its own seeded generator (behind a mutex: `forward` takes `&self`).
pub struct Dropout {
    keep_prob: f64,
    rng: Mutex<Rng>,
    explicit_seed: Option<u64>,
    training: bool,
}

impl Dropout {
    /// A layer in training mode keeping each unit with probability `keep_prob`, its masks
    /// drawn from a generator seeded with `seed`.
    pub fn new(keep_prob: f64, seed: u64) -> Result<Self> {
        DropoutSpec::new(keep_prob).validate()?;
        Ok(Dropout {
            keep_prob,
            rng: Mutex::new(Rng::new(seed)),
            explicit_seed: Some(seed),
            training: true,
        })
    }

    pub fn keep_prob(&self) -> f64 {
        self.keep_prob
    }

    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Draws a mask of `shape`: each element 1 with probability `keep_prob`, else 0
    /// (`d = U[0, 1) < keep_prob`). Advances the layer's generator.
    pub fn sample_mask(&self, shape: &[usize], dtype: DType) -> Tensor {
        let n: usize = shape.iter().product();
        let mut rng = self.rng.lock();
        let keep = self.keep_prob;
        with_dtype!(dtype, T => {
            let d: Vec<T> = (0..n)
                .map(|_| if rng.uniform(0.0, 1.0) < keep { T::one() } else { T::zero() })
                .collect();
            Tensor::from_vec(d, shape)
        })
    }

    /// `y = x ⊙ mask / keep_prob` with a given 0/1 mask of `x`'s shape, whatever the mode: the
    /// training forward with a fixed mask (for gradient checks and reproducing a pass).
    pub fn forward_with_mask(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        if mask.shape() != x.shape() {
            return Err(dlkit_core::Error::ShapeMismatch {
                op: "dropout",
                lhs: x.shape().to_vec(),
                rhs: mask.shape().to_vec(),
                detail: "the mask must have the input's shape".into(),
            }
            .into());
        }
        Ok(x.try_mul(mask)?.mul_scalar(1.0 / self.keep_prob))
    }
}

impl Module for Dropout {
    /// Training: `x ⊙ d / keep_prob` with a fresh mask `d`; evaluation (or `keep_prob = 1`):
    /// `x` unchanged.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.training || self.keep_prob == 1.0 {
            return Ok(x.clone());
        }
        // The mask scaled once, `d / keep_prob`, so the forward is a single multiplication.
        let scaled = self
            .sample_mask(x.shape(), x.dtype())
            .mul_scalar(1.0 / self.keep_prob);
        Ok(x.try_mul(&scaled)?)
    }

    fn own_reseed(&self, seed: u64) {
        *self.rng.lock() = Rng::new(seed);
    }

    fn set_own_training(&mut self, training: bool) {
        self.training = training;
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::Dropout(DropoutSpec {
            keep_prob: self.keep_prob,
            seed: self.explicit_seed,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_prob_is_validated() {
        for p in [0.0, -0.1, 1.5, f64::NAN] {
            let e = Dropout::new(p, 0)
                .err()
                .expect("invalid keep_prob accepted");
            assert!(e.to_string().contains("0 < keep_prob <= 1"), "{e}");
        }
        assert!(Dropout::new(1.0, 0).is_ok());
    }

    #[test]
    fn same_seed_same_mask() {
        let a = Dropout::new(0.5, 3).unwrap();
        let b = Dropout::new(0.5, 3).unwrap();
        let (ma, mb) = (
            a.sample_mask(&[4, 5], DType::F32),
            b.sample_mask(&[4, 5], DType::F32),
        );
        assert_eq!(ma.to_vec::<f32>(), mb.to_vec::<f32>());
        // The generator advances: the next mask differs.
        assert_ne!(
            a.sample_mask(&[4, 5], DType::F32).to_vec::<f32>(),
            ma.to_vec::<f32>()
        );
    }

    #[test]
    fn mask_shape_is_checked() {
        let d = Dropout::new(0.5, 0).unwrap();
        let x = Tensor::zeros(&[2, 3], DType::F64);
        let e = d
            .forward_with_mask(&x, &Tensor::ones(&[3, 2], DType::F64))
            .unwrap_err();
        assert!(e.to_string().contains("mask"), "{e}");
    }
}
