//! Weight initialisers (biases start at zero). Every draw comes from a seeded [`Rng`].

use dlkit_core::{DType, Rng, Tensor};
use serde::{Deserialize, Serialize};

/// How a weight tensor is initialised, given its fan-in `n_prev` (inputs per unit) and
/// fan-out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Init {
    /// All zeros: every unit computes the same function, so symmetry is never broken.
    Zeros,
    /// `N(0, 1) * scale`, the course's `np.random.randn(...) * 0.01` (or `* 10`).
    Normal { scale: f64 },
    /// Xavier: `N(0, 1) * sqrt(1 / n_prev)`, for tanh layers.
    Xavier,
    /// He: `N(0, 1) * sqrt(2 / n_prev)`, for ReLU layers (the default).
    #[default]
    He,
    /// Glorot uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))` (Keras' default).
    GlorotUniform,
}

impl Init {
    /// A weight tensor of `shape` for a layer with the given fan-in and fan-out.
    pub fn sample(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let fan_in = fan_in.max(1) as f64;
        match *self {
            Init::Zeros => Tensor::zeros(shape, dtype),
            Init::Normal { scale } => Tensor::rand_normal(shape, 0.0, scale, dtype, rng),
            Init::Xavier => Tensor::rand_normal(shape, 0.0, (1.0 / fan_in).sqrt(), dtype, rng),
            Init::He => Tensor::rand_normal(shape, 0.0, (2.0 / fan_in).sqrt(), dtype, rng),
            Init::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out.max(1) as f64)).sqrt();
                Tensor::rand_uniform(shape, -limit, limit, dtype, rng)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor) -> f64 {
        let v = t.to_vec_f64();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn scales_follow_their_formulas() {
        let mut rng = Rng::new(7);
        let shape = [200, 500];
        let he = Init::He.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&he) - (2.0f64 / 500.0).sqrt()).abs() < 0.002);
        let xavier = Init::Xavier.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&xavier) - (1.0f64 / 500.0).sqrt()).abs() < 0.002);
        let normal = Init::Normal { scale: 0.01 }.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&normal) - 0.01).abs() < 0.0005);
        let glorot = Init::GlorotUniform.sample(&shape, 500, 200, DType::F64, &mut rng);
        let limit = (6.0f64 / 700.0).sqrt();
        assert!(glorot.to_vec_f64().iter().all(|v| v.abs() <= limit));
        assert!((std_of(&glorot) - limit / 3f64.sqrt()).abs() < 0.002);
        let zeros = Init::Zeros.sample(&shape, 500, 200, DType::F32, &mut rng);
        assert!(zeros.to_vec_f64().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Init::He.sample(&[3, 4], 4, 3, DType::F32, &mut Rng::new(1));
        let b = Init::He.sample(&[3, 4], 4, 3, DType::F32, &mut Rng::new(1));
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    }
}
