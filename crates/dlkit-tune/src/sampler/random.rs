//! Random search: every parameter drawn independently on its own scale (Bergstra and Bengio,
//! 2012; the course's "try random values: don't use a grid").

use rand::Rng;

use super::{trial_rng, Sampler};
use crate::space::{Distribution, SearchSpace};
use crate::trial::{Direction, ParamValue, Params, Trial};

/// Draws every parameter from its distribution, ignoring the history.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomSampler {
    pub seed: u64,
}

impl Sampler for RandomSampler {
    fn sample(&self, space: &SearchSpace, _: &[Trial], number: u64, _: Direction) -> Params {
        let mut rng = trial_rng(self.seed, number);
        space
            .params()
            .iter()
            .map(|p| (p.path.clone(), sample_value(&p.distribution, &mut rng)))
            .collect()
    }
}

/// One draw of `distribution`: `u` uniform over its sampling range on the internal scale
/// (`log10 x` for log ranges, `log10(1 - x)` for `one_minus_log_uniform`), mapped back and,
/// for integers, rounded; a choice uniformly among all.
pub fn sample_value(distribution: &Distribution, rng: &mut impl Rng) -> ParamValue {
    match distribution {
        Distribution::Choice { choices } => ParamValue::Choice(rng.random_range(0..choices.len())),
        _ => {
            let (lo, hi) = distribution.sampling_range();
            distribution.from_internal(lo + (hi - lo) * rng.random::<f64>())
        }
    }
}
