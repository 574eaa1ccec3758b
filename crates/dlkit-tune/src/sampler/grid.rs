//! Grid search, for comparison with random search: every combination of a few values per
//! parameter.

use serde::{Deserialize, Serialize};

use super::Sampler;
use crate::space::{Distribution, SearchSpace};
use crate::trial::{Direction, ParamValue, Params, Trial};

/// `{ type = "grid", points_per_param = 5 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridOptions {
    /// Points per numeric range (default 5); choices always take every value.
    pub points_per_param: usize,
}

impl Default for GridOptions {
    fn default() -> Self {
        GridOptions {
            points_per_param: 5,
        }
    }
}

/// Trial `number` takes grid point `number % len` of [`grid_points`]. A study usually
/// enqueues the whole grid instead; this serves workers that ask for more.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSampler {
    pub options: GridOptions,
}

impl Sampler for GridSampler {
    fn sample(&self, space: &SearchSpace, _: &[Trial], number: u64, _: Direction) -> Params {
        let points = grid_points(space, self.options.points_per_param);
        points[(number % points.len() as u64) as usize].clone()
    }
}

/// The grid: each parameter's [`axis`], combined in parameter (path) order with the last
/// parameter varying fastest.
pub fn grid_points(space: &SearchSpace, per_param: usize) -> Vec<Params> {
    space.params().iter().fold(vec![Params::new()], |grid, p| {
        let values = axis(&p.distribution, per_param);
        grid.iter()
            .flat_map(|point| {
                values.iter().map(|v| {
                    let mut point = point.clone();
                    point.insert(p.path.clone(), *v);
                    point
                })
            })
            .collect()
    })
}

/// A parameter's grid values, in increasing order: `n` points evenly spaced on the internal
/// scale, `lo + (hi - lo) i / (n - 1)` (the middle when `n = 1`), so a log range gets
/// `1e-4, 1e-3, ...`; integers are those points rounded, repeats dropped (all values when the
/// range holds at most `n`); choices are every index.
pub fn axis(distribution: &Distribution, n: usize) -> Vec<ParamValue> {
    if let Distribution::Choice { choices } = distribution {
        return (0..choices.len()).map(ParamValue::Choice).collect();
    }
    let (lo, hi) = distribution.internal_range();
    let mut values: Vec<ParamValue> = (0..n)
        .map(|i| {
            let t = if n == 1 {
                0.5
            } else {
                i as f64 / (n - 1) as f64
            };
            distribution.from_internal(lo + (hi - lo) * t)
        })
        .collect();
    values.sort_by(|a, b| a.as_f64().total_cmp(&b.as_f64()));
    values.dedup();
    values
}
