//! Parameter importances by mean decrease in impurity (MDI) of a random forest, as Optuna's
//! `MeanDecreaseImpurityImportanceEvaluator` computes them.
//!
//! A random forest of regression trees (Breiman, "Random Forests", Machine Learning 45, 2001)
//! is fitted to the complete trials, parameters -> objective. Each tree is grown on a
//! bootstrap sample of the trials (drawn with replacement, as many as there are trials);
//! each node takes the split, over every parameter, with the largest decrease in the sum of
//! squared deviations from the node's mean, `SSE(node) - SSE(left) - SSE(right)`. The
//! importance of a parameter in a tree is the sum of those decreases over the nodes split on
//! it (the variance decrease weighted by the node's share of samples, scaled); each tree's
//! importances are normalised to sum to 1, averaged over the trees, and normalised again, as
//! scikit-learn's `feature_importances_` (which Optuna's evaluator reads) does. The numbers
//! say how much of the objective's variation the forest explains by each parameter; MDI
//! favours parameters with many distinct values over ones with few (Strobl et al., 2007).
//!
//! The parameters enter on their own scale: a tree's splits depend only on the order of a
//! parameter's values, so the log10 scale Optuna uses for log-sampled parameters gives the
//! same trees. A categorical parameter is split on membership: at each node its choices are
//! ordered by their mean objective there, and the best split of that order is the best of all
//! two-group partitions of the choices (Breiman, Friedman, Olshen and Stone, "Classification
//! and Regression Trees", 1984, section 9.4), so the order of the choices in the config plays
//! no part.
//!
//! The forest is deterministic for a seed ([`ForestOptions::seed`], a ChaCha8 stream for the
//! bootstrap samples and the order in which each node tries the parameters, which breaks ties
//! between equally good splits). Defaults are smaller than Optuna's (64 trees of depth 64):
//! 32 trees of depth 6 with at least 2 trials to a leaf, enough for the tens to hundreds of
//! trials of a study.
//!
//! When no tree can split (fewer than `2 · min_samples_leaf` trials, or a constant objective)
//! nothing is learned and every importance is 0, never NaN.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::plots::{check_points, ParamAxis, TrialPoint};

/// The forest's size and seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForestOptions {
    /// Trees in the forest (32 by default).
    pub n_trees: usize,
    /// The deepest a node may be, the root being at depth 0 (6 by default).
    pub max_depth: usize,
    /// The fewest trials (bootstrap samples) a leaf may hold (2 by default).
    pub min_samples_leaf: usize,
    /// Seeds the bootstrap samples and the order in which nodes try the parameters (0).
    pub seed: u64,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            n_trees: 32,
            max_depth: 6,
            min_samples_leaf: 2,
            seed: 0,
        }
    }
}

impl ForestOptions {
    /// The method in a few words, for a plot's or a report's label.
    pub fn method_label(&self) -> String {
        format!(
            "mean decrease in impurity, random forest of {} trees",
            self.n_trees
        )
    }
}

/// One input of the forest: a value per sample, numeric or a categorical's choice index.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub values: Vec<f64>,
    /// Split on membership of the choices, not on the order of the indices.
    pub categorical: bool,
}

/// Why importances could not be computed.
#[derive(Debug, thiserror::Error)]
#[error("parameter importances: {0}")]
pub struct ImportanceError(String);

/// Each parameter's importance, by [`mean_decrease_impurity`] over the complete trials with a
/// finite value and every parameter, in `axes`' order and summing to 1 (or all 0 when nothing
/// was learned). Errors when a trial's values do not fit the axes (their number, a log
/// parameter's value <= 0, a choice index out of range), naming the trial and parameter.
pub fn param_importances(
    axes: &[ParamAxis],
    trials: &[TrialPoint],
    opts: &ForestOptions,
) -> Result<Vec<(String, f64)>, ImportanceError> {
    check_points(axes, trials).map_err(ImportanceError)?;
    let rows: Vec<&TrialPoint> = trials
        .iter()
        .filter(|t| t.complete_value().is_some() && t.params.iter().all(|v| v.is_finite()))
        .collect();
    let y: Vec<f64> = rows.iter().filter_map(|t| t.complete_value()).collect();
    let columns: Vec<Column> = axes
        .iter()
        .enumerate()
        .map(|(i, a)| Column {
            values: rows.iter().map(|t| t.params[i]).collect(),
            categorical: a.categorical.is_some(),
        })
        .collect();
    let importances = mean_decrease_impurity(&columns, &y, opts);
    Ok(axes
        .iter()
        .map(|a| a.name.clone())
        .zip(importances)
        .collect())
}

/// The normalised mean decrease in impurity of each column (see the module's documentation)
/// for the target `y`; all 0 when no tree splits (too few samples, constant `y`).
///
/// # Panics
///
/// When a column's length differs from `y`'s, or a value or `y` is not finite.
pub fn mean_decrease_impurity(columns: &[Column], y: &[f64], opts: &ForestOptions) -> Vec<f64> {
    let n = y.len();
    assert!(
        columns.iter().all(|c| c.values.len() == n),
        "every column has one value per target"
    );
    assert!(
        y.iter()
            .chain(columns.iter().flat_map(|c| &c.values))
            .all(|v| v.is_finite()),
        "the values and targets are finite"
    );
    let mut total = vec![0.0; columns.len()];
    if n == 0 {
        return total;
    }
    let mean = y.iter().sum::<f64>() / n as f64;
    let variance = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let forest = Forest {
        columns,
        y,
        opts,
        // Nodes whose variance is only rounding noise of the whole sample's are not split.
        min_variance: variance * 1e-12,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut trees = 0;
    for _ in 0..opts.n_trees {
        let mut sample: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        let mut tree = vec![0.0; columns.len()];
        forest.grow(&mut sample, 0, &mut tree, &mut rng);
        let sum: f64 = tree.iter().sum();
        if sum > 0.0 {
            for (t, v) in total.iter_mut().zip(&tree) {
                *t += v / sum;
            }
            trees += 1;
        }
    }
    let sum: f64 = total.iter().sum();
    if trees > 0 && sum > 0.0 {
        for t in &mut total {
            *t /= sum;
        }
    }
    total
}

struct Forest<'a> {
    columns: &'a [Column],
    y: &'a [f64],
    opts: &'a ForestOptions,
    min_variance: f64,
}

/// A node's best split so far: the column, the decrease in SSE, the node's samples in that
/// column's order and where the right part starts.
struct Split {
    column: usize,
    gain: f64,
    order: Vec<usize>,
    at: usize,
}

impl Forest<'_> {
    /// Grows the subtree on the samples `node` (indices into `y`, repeated as the bootstrap
    /// drew them) at `depth`, adding each split's decrease in SSE to its column in
    /// `importances`.
    fn grow(
        &self,
        node: &mut [usize],
        depth: usize,
        importances: &mut [f64],
        rng: &mut ChaCha8Rng,
    ) {
        let (n, leaf) = (node.len(), self.opts.min_samples_leaf.max(1));
        if depth >= self.opts.max_depth || n < 2 * leaf {
            return;
        }
        let mean = node.iter().map(|&i| self.y[i]).sum::<f64>() / n as f64;
        let sse: f64 = node.iter().map(|&i| (self.y[i] - mean).powi(2)).sum();
        if sse / n as f64 <= self.min_variance {
            return;
        }
        let mut order: Vec<usize> = (0..self.columns.len()).collect();
        order.shuffle(rng);
        let mut best: Option<Split> = None;
        for c in order {
            let keyed = self.keyed(c, node);
            // Prefix sums of the deviations from the node's mean: the SSE decrease of a split
            // is S_L²/n_L + S_R²/n_R - S²/n.
            let s: f64 = keyed.iter().map(|&(_, i)| self.y[i] - mean).sum();
            let mut s_left = 0.0;
            for at in 1..n {
                s_left += self.y[keyed[at - 1].1] - mean;
                if at < leaf || n - at < leaf || keyed[at - 1].0 == keyed[at].0 {
                    continue;
                }
                let (nl, nr) = (at as f64, (n - at) as f64);
                let gain = s_left * s_left / nl + (s - s_left).powi(2) / nr - s * s / n as f64;
                if gain > self.min_variance && best.as_ref().is_none_or(|b| gain > b.gain) {
                    best = Some(Split {
                        column: c,
                        gain,
                        order: keyed.iter().map(|&(_, i)| i).collect(),
                        at,
                    });
                }
            }
        }
        let Some(split) = best else {
            return;
        };
        importances[split.column] += split.gain;
        node.copy_from_slice(&split.order);
        let (left, right) = node.split_at_mut(split.at);
        self.grow(left, depth + 1, importances, rng);
        self.grow(right, depth + 1, importances, rng);
    }

    /// The node's samples sorted by their key in column `c`: the value of a numeric column;
    /// for a categorical one, the rank of the sample's choice when the node's choices are
    /// ordered by their mean target (ties by index).
    fn keyed(&self, c: usize, node: &[usize]) -> Vec<(f64, usize)> {
        let values = &self.columns[c].values;
        let mut keyed: Vec<(f64, usize)> = if self.columns[c].categorical {
            let mut stats: Vec<(f64, f64, usize)> = Vec::new(); // (choice, sum, count)
            for &i in node {
                match stats.iter_mut().find(|s| s.0 == values[i]) {
                    Some(s) => {
                        s.1 += self.y[i];
                        s.2 += 1;
                    }
                    None => stats.push((values[i], self.y[i], 1)),
                }
            }
            stats.sort_by(|a, b| {
                (a.1 / a.2 as f64)
                    .total_cmp(&(b.1 / b.2 as f64))
                    .then(a.0.total_cmp(&b.0))
            });
            node.iter()
                .map(|&i| {
                    let rank = stats.iter().position(|s| s.0 == values[i]);
                    (rank.unwrap_or_default() as f64, i)
                })
                .collect()
        } else {
            node.iter().map(|&i| (values[i], i)).collect()
        };
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        keyed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrialState;

    /// Uniform values in [0, 1) from a seeded stream.
    fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n).map(|_| rng.random::<f64>()).collect()
    }

    fn numeric(values: Vec<f64>) -> Column {
        Column {
            values,
            categorical: false,
        }
    }

    /// y = 3·x0 + x1 + noise, x2 unused: explained variances 9/12 and 1/12.
    fn synthetic(n: usize) -> (Vec<Column>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (x0, x1, x2) = (
            uniform(&mut rng, n),
            uniform(&mut rng, n),
            uniform(&mut rng, n),
        );
        let noise = uniform(&mut rng, n);
        let y = (0..n)
            .map(|i| 3.0 * x0[i] + x1[i] + 0.05 * noise[i])
            .collect();
        (vec![numeric(x0), numeric(x1), numeric(x2)], y)
    }

    #[test]
    fn strong_weak_and_unused_parameters_are_ordered() {
        let (columns, y) = synthetic(200);
        let imp = mean_decrease_impurity(&columns, &y, &ForestOptions::default());
        assert!(imp[0] > imp[1] && imp[1] > imp[2], "{imp:?}");
        assert!(imp[0] > 0.7, "{imp:?}");
        assert!(imp[2] < 0.05, "{imp:?}");
        assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{imp:?}");
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (columns, y) = synthetic(100);
        let opts = ForestOptions::default();
        let a = mean_decrease_impurity(&columns, &y, &opts);
        assert_eq!(a, mean_decrease_impurity(&columns, &y, &opts));
        let other = ForestOptions { seed: 1, ..opts };
        assert_ne!(a, mean_decrease_impurity(&columns, &y, &other));
    }

    #[test]
    fn nothing_to_learn_gives_zeros() {
        let opts = ForestOptions::default();
        let (columns, _) = synthetic(50);
        let zeros = vec![0.0; 3];
        assert_eq!(mean_decrease_impurity(&columns, &[0.3; 50], &opts), zeros);
        let one: Vec<Column> = columns
            .iter()
            .map(|c| numeric(c.values[..1].to_vec()))
            .collect();
        assert_eq!(mean_decrease_impurity(&one, &[0.9], &opts), zeros);
        let none: Vec<Column> = (0..3).map(|_| numeric(Vec::new())).collect();
        assert_eq!(mean_decrease_impurity(&none, &[], &opts), zeros);
        assert!(mean_decrease_impurity(&[], &[1.0, 2.0], &opts).is_empty());
    }

    #[test]
    fn a_constant_parameter_has_no_importance() {
        let (mut columns, y) = synthetic(100);
        columns[2] = numeric(vec![32.0; 100]);
        let imp = mean_decrease_impurity(&columns, &y, &ForestOptions::default());
        assert_eq!(imp[2], 0.0);
    }

    #[test]
    fn categoricals_split_on_membership_not_index_order() {
        // y is 1 for choices 0 and 2, 0 for choice 1: a membership split separates them at
        // once (SSE decrease 2n/9), a threshold on the index cannot (n/18 at best); z, a noisy
        // copy of y, beats the index (about n/6) but not the membership split.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 120;
        let choice: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        let y: Vec<f64> = choice.iter().map(|&c| (c != 1.0) as u8 as f64).collect();
        let noise = uniform(&mut rng, n);
        let z = y.iter().zip(&noise).map(|(y, e)| y + 1.2 * e).collect();
        let opts = ForestOptions {
            max_depth: 1,
            ..ForestOptions::default()
        };
        let mut columns = vec![
            Column {
                values: choice,
                categorical: true,
            },
            numeric(z),
        ];
        assert_eq!(mean_decrease_impurity(&columns, &y, &opts), vec![1.0, 0.0]);
        columns[0].categorical = false;
        assert_eq!(mean_decrease_impurity(&columns, &y, &opts), vec![0.0, 1.0]);
    }

    #[test]
    fn param_importances_use_complete_trials_and_name_bad_values() {
        let axes = vec![
            ParamAxis::log("optimizer.lr"),
            ParamAxis::categorical("act", vec!["relu".into(), "tanh".into()]),
        ];
        let trial = |number: u64, state, value: Option<f64>, lr: f64, act: f64| TrialPoint {
            number,
            state,
            value,
            params: vec![lr, act],
        };
        let mut trials: Vec<TrialPoint> = (0..40)
            .map(|k| {
                let lr = 10f64.powf(-4.0 + (k % 10) as f64 * 0.3);
                let v = -(lr.log10() + 2.0).powi(2);
                trial(k, TrialState::Complete, Some(v), lr, (k % 2) as f64)
            })
            .collect();
        // Ignored: pruned, failed, and a trial without the parameter.
        trials.push(trial(40, TrialState::Pruned, Some(100.0), 1e-4, 0.0));
        trials.push(trial(41, TrialState::Failed, None, 1e-4, 1.0));
        trials.push(trial(42, TrialState::Complete, Some(50.0), f64::NAN, 1.0));
        let imp = param_importances(&axes, &trials, &ForestOptions::default()).unwrap();
        assert_eq!(imp[0].0, "optimizer.lr");
        assert_eq!(imp[1].0, "act");
        assert!(imp[0].1 > 0.9, "{imp:?}");

        trials.push(trial(43, TrialState::Complete, Some(1.0), 0.0, 0.0));
        let err = param_importances(&axes, &trials, &ForestOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter importances: trial 43: optimizer.lr = 0 on a log axis (values must be > 0)"
        );
    }
}
