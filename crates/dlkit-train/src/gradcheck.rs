//! The course's gradient check of a config's model, set up as training sets it up.
//!
//! The model is built from the config's layers in f64 (same initialiser and seed) and run on
//! the first few training examples ([`GradcheckOptions::examples`]) after the config's
//! preprocessing, in training mode with the dropout masks fixed (every evaluation restarts
//! the dropout streams from one seed, so the cost is a deterministic function of the
//! parameters). The cost is the config's loss plus its L1/L2 penalty.
//!
//! [`dlkit_core::gradient_check`] compares the back-propagated gradient with the two-sided
//! difference `(J(θ + ε) − J(θ − ε)) / 2ε`, ε = 1e-7, through the relative difference
//! `‖g_approx − g‖₂ / (‖g_approx‖₂ + ‖g‖₂)`; the check passes below 1e-7.
//!
//! **Large models.** Each checked parameter costs two evaluations of the cost, so a model
//! with more than [`GradcheckOptions::max_params`] parameters is checked on a random subset of them:
//! the budget is shared among the parameter tensors as evenly as their sizes allow (a tensor
//! smaller than its share is checked whole, the rest of its share goes to the others), and
//! within each tensor the entries are drawn uniformly without replacement from a generator
//! seeded with [`GradcheckOptions::seed`]. The perturbations are still applied to the full model, and the
//! relative difference is taken over the sampled entries only. `max_params = 0` checks
//! every parameter whatever the size.

//!
//! A config with `[model] from` is checked on the layers it works out, frozen layers
//! included; the kept layers start from the saved weights when the saved model is f64, from
//! freshly drawn ones otherwise (the check is of the gradients, at any weights).
//!
//! The config is validated as for training ([`LoadedConfig::validate`]: one penalty, ranges)
//! and the model checked against the data with the same messages.

use dlkit_core::gradcheck::{EPSILON, THRESHOLD};
use dlkit_core::{gradient_check, is_grad_enabled, DType, Rng, Tensor};
use dlkit_data::Dataset;
use dlkit_nn::{Loss, Module, Param, Regularizer, Sequential};

use crate::config::LoadedConfig;
use crate::error::{TrainError, TrainResult};
use crate::evaluate::targets;
use crate::experiment::build_model;
use crate::transfer::{fit_preprocessing, read_base};

/// What is checked.
#[derive(Clone, Copy, Debug)]
pub struct GradcheckOptions {
    /// Training examples to evaluate the cost on (8 by default).
    pub examples: usize,
    /// Check every parameter up to this many, a random subset of this size above it (0:
    /// always all; 2,000 by default).
    pub max_params: usize,
    /// Seeds the choice of the subset.
    pub seed: u64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions {
            examples: 8,
            max_params: 2000,
            seed: 0,
        }
    }
}

/// A gradient check set up: the model in f64 on a few preprocessed training examples.
pub struct Gradcheck {
    /// How errors and reports name the config.
    pub config_name: String,
    /// The examples the cost is evaluated on.
    pub examples: usize,
    pub loss: Loss,
    pub regularizer: Option<Regularizer>,
    /// Trainable scalars in all, and the number of them checked.
    pub parameters: usize,
    pub checked: usize,
    /// Whether a random subset is checked (more parameters than `max_params`).
    pub subset: bool,
    pub options: GradcheckOptions,
    model: Sequential,
    data: Dataset,
    params: Vec<Param>,
    selection: Vec<Vec<usize>>,
    dropout_seed: u64,
}

/// One parameter tensor's part of the check.
#[derive(Clone, Debug)]
pub struct CheckedTensor {
    pub name: String,
    pub size: usize,
    pub checked: usize,
    /// The relative difference over this tensor's checked entries.
    pub relative_difference: f64,
}

/// The result of a gradient check.
#[derive(Clone, Debug)]
pub struct GradcheckReport {
    pub tensors: Vec<CheckedTensor>,
    /// Over every checked entry.
    pub relative_difference: f64,
    /// Below [`THRESHOLD`].
    pub passes: bool,
}

impl GradcheckReport {
    /// An error unless the check passed.
    pub fn check(&self) -> TrainResult<()> {
        if self.passes {
            return Ok(());
        }
        Err(TrainError::Runtime(format!(
            "gradient check failed: relative difference {:.3e} is not below {THRESHOLD:e}",
            self.relative_difference
        )))
    }
}

impl Gradcheck {
    /// Validates the config, reads its training data, fits the preprocessing on all of it
    /// and builds the model in f64 in training mode on the first `examples` examples.
    pub fn new(mut cfg: LoadedConfig, options: GradcheckOptions) -> TrainResult<Gradcheck> {
        cfg.resolve_data_paths()?;
        cfg.validate()?;
        let c = &cfg.config;
        let splits = c.data.load(&cfg.name)?;
        let m = options.examples.clamp(1, splits.train.len());
        let few = splits.train.select(&(0..m).collect::<Vec<_>>())?;
        // Statistics from the whole training set, as training fits them.
        let base = read_base(&cfg)?;
        let fitted = fit_preprocessing(&cfg, base.as_ref(), &splits.train.x)?;
        let data = few.with_x(fitted.apply(&few.x)?.to_dtype(DType::F64))?;
        let (mut model, loss, _) = build_model(
            &cfg,
            DType::F64,
            data.feature_shape(),
            few.feature_shape(),
            splits.class_names().len(),
            base.as_ref(),
        )?;
        model.set_training(true);
        let params: Vec<_> = model
            .parameters()
            .into_iter()
            .filter(|p| p.trainable())
            .collect();
        if params.is_empty() {
            return Err(cfg.error("[model] layers", "the model has no trainable parameters"));
        }
        let sizes: Vec<usize> = params.iter().map(|p| p.tensor.numel()).collect();
        let total: usize = sizes.iter().sum();
        let subset = options.max_params > 0 && total > options.max_params;
        let selection: Vec<Vec<usize>> = if subset {
            sample(&sizes, options.max_params, options.seed)
        } else {
            sizes.iter().map(|&n| (0..n).collect()).collect()
        };
        Ok(Gradcheck {
            regularizer: cfg.regularizer()?,
            dropout_seed: c.train.seed ^ 0x6AAD_C4EC,
            config_name: cfg.name.clone(),
            examples: m,
            loss,
            parameters: total,
            checked: selection.iter().map(Vec::len).sum(),
            subset,
            options,
            model,
            data,
            params,
            selection,
        })
    }

    /// The number of parameter tensors.
    pub fn tensors(&self) -> usize {
        self.params.len()
    }

    /// Compares the back-propagated gradient with the two-sided difference.
    pub fn run(&self) -> TrainResult<GradcheckReport> {
        let (model, data, params, selection) =
            (&self.model, &self.data, &self.params, &self.selection);
        let (loss, reg) = (self.loss, &self.regularizer);
        let cost = || -> dlkit_nn::Result<Tensor> {
            model.reseed(self.dropout_seed);
            let logits = model.forward_logits(&data.x)?;
            let mut j = loss.compute(&logits, targets(&data.y))?;
            if let Some(r) = reg {
                j = j.try_add(&r.penalty(params, data.len())?)?;
            }
            Ok(j)
        };
        let inputs: Vec<Tensor> = params
            .iter()
            .zip(selection)
            .map(|(p, sel)| {
                let all = p.tensor.to_vec_f64();
                Tensor::from_vec(
                    sel.iter().map(|&i| all[i]).collect::<Vec<f64>>(),
                    &[sel.len()],
                )
            })
            .collect();
        let failure: std::cell::RefCell<Option<dlkit_nn::Error>> = Default::default();
        let run = |leaves: &[Tensor]| -> dlkit_nn::Result<Tensor> {
            // The sampled entries take the leaves' values.
            for ((p, sel), leaf) in params.iter().zip(selection).zip(leaves) {
                let values = leaf.to_vec::<f64>();
                p.tensor.update::<f64>(|d| {
                    for (&i, &v) in sel.iter().zip(&values) {
                        d[i] = v;
                    }
                });
            }
            if !is_grad_enabled() {
                return cost(); // a two-sided difference evaluation
            }
            // The back-propagated gradient, carried onto the leaves: the result is J in value
            // and has gradient g (the model's backward pass) with respect to each leaf.
            params.iter().for_each(|p| p.tensor.zero_grad());
            let j = cost()?;
            j.try_backward()?;
            let mut out = Tensor::scalar(j.item());
            for ((p, sel), leaf) in params.iter().zip(selection).zip(leaves) {
                let g = p
                    .tensor
                    .grad()
                    .map(|g| g.to_vec_f64())
                    .unwrap_or_else(|| vec![0.0; p.tensor.numel()]);
                let g_sel: Vec<f64> = sel.iter().map(|&i| g[i]).collect();
                let at: f64 = leaf
                    .to_vec::<f64>()
                    .iter()
                    .zip(&g_sel)
                    .map(|(a, b)| a * b)
                    .sum();
                let g_t = Tensor::from_vec(g_sel, &[sel.len()]);
                out = out.try_add(&leaf.try_mul(&g_t)?.sum_all().add_scalar(-at))?;
            }
            Ok(out)
        };
        let report = gradient_check(&inputs, EPSILON, |leaves| match run(leaves) {
            Ok(t) => t,
            Err(e) => {
                failure.borrow_mut().get_or_insert(e);
                Tensor::scalar(f64::NAN)
            }
        })
        .map_err(|e| TrainError::Runtime(format!("gradient check: {e}")))?;
        if let Some(e) = failure.into_inner() {
            return Err(TrainError::from(e).context("gradient check"));
        }
        let tensors = params
            .iter()
            .zip(selection)
            .zip(&report.per_input)
            .map(|((p, sel), &d)| CheckedTensor {
                name: p.name.clone(),
                size: p.tensor.numel(),
                checked: sel.len(),
                relative_difference: d,
            })
            .collect();
        Ok(GradcheckReport {
            tensors,
            relative_difference: report.relative_difference,
            passes: report.passes(THRESHOLD),
        })
    }
}

/// Which entries of tensors of `sizes` to check within a budget of `budget` entries: shares
/// as even as the sizes allow, entries drawn uniformly without replacement.
fn sample(sizes: &[usize], budget: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut quota = vec![0usize; sizes.len()];
    let mut open: Vec<usize> = (0..sizes.len()).collect();
    let mut left = budget;
    while !open.is_empty() && left > 0 {
        let share = (left / open.len()).max(1);
        let mut still = Vec::new();
        for &t in &open {
            let take = share.min(sizes[t] - quota[t]).min(left);
            quota[t] += take;
            left -= take;
            if quota[t] < sizes[t] {
                still.push(t);
            }
        }
        if still.len() == open.len() && share == 1 && left == 0 {
            break;
        }
        open = still;
    }
    let mut rng = Rng::new(seed);
    sizes
        .iter()
        .zip(&quota)
        .map(|(&n, &q)| {
            // Partial Fisher-Yates: the first q of a random permutation, then sorted.
            let mut idx: Vec<usize> = (0..n).collect();
            for i in 0..q {
                let j = i + rng.below(n - i);
                idx.swap(i, j);
            }
            let mut pick = idx[..q].to_vec();
            pick.sort_unstable();
            pick
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn the_budget_is_shared_and_small_tensors_are_whole() {
        let s = sample(&[245_760, 20, 140, 7, 35, 5, 5, 1], 2000, 0);
        let counts: Vec<usize> = s.iter().map(Vec::len).collect();
        assert_eq!(counts.iter().sum::<usize>(), 2000);
        assert_eq!(&counts[1..], &[20, 140, 7, 35, 5, 5, 1]);
        assert!(s[0].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            sample(&[10, 10], 4, 1).iter().map(Vec::len).sum::<usize>(),
            4
        );
    }
}
