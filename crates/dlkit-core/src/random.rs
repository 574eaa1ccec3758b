//! Seeded random tensors: the same seed gives the same numbers on every machine.

use crate::element::DType;
use crate::shape::numel;
use crate::tensor::Tensor;
use crate::with_dtype;
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A seeded random generator (ChaCha8), passed explicitly wherever randomness is drawn.
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform draw in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.random::<f64>()
    }

    /// A draw from the normal distribution N(mean, std²).
    pub fn normal(&mut self, mean: f64, std: f64) -> f64 {
        let z: f64 = StandardNormal.sample(&mut self.0);
        mean + std * z
    }

    /// A uniform integer in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// The underlying generator, for `rand` APIs such as shuffling.
    pub fn inner(&mut self) -> &mut ChaCha8Rng {
        &mut self.0
    }
}

impl Tensor {
    /// Uniform samples in `[lo, hi)`.
    pub fn rand_uniform(shape: &[usize], lo: f64, hi: f64, dtype: DType, rng: &mut Rng) -> Tensor {
        with_dtype!(dtype, T => Tensor::from_vec_unchecked(
            (0..numel(shape)).map(|_| T::of(rng.uniform(lo, hi))).collect::<Vec<T>>(),
            shape,
        ))
    }

    /// Normal samples with the given mean and standard deviation.
    pub fn rand_normal(
        shape: &[usize],
        mean: f64,
        std: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        with_dtype!(dtype, T => Tensor::from_vec_unchecked(
            (0..numel(shape)).map(|_| T::of(rng.normal(mean, std))).collect::<Vec<T>>(),
            shape,
        ))
    }
}
