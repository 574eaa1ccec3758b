//! `dlkit gradcheck CONFIG`: the course's gradient check of a config's model.
//!
//! The model is built from the config's layers in f64 (same initialiser and seed) and run on
//! the first few training examples (`--examples`, 8 by default) after the config's
//! preprocessing, in training mode with the dropout masks fixed (every evaluation restarts
//! the dropout streams from one seed, so the cost is a deterministic function of the
//! parameters). The cost is the config's loss plus its L1/L2 penalty.
//!
//! [`dlkit_core::gradient_check`] compares the back-propagated gradient with the two-sided
//! difference `(J(θ + ε) − J(θ − ε)) / 2ε`, ε = 1e-7, through the relative difference
//! `‖g_approx − g‖₂ / (‖g_approx‖₂ + ‖g‖₂)`; the check passes below 1e-7.
//!
//! **Large models.** Each checked parameter costs two evaluations of the cost, so a model
//! with more than `--max-params` (2,000) parameters is checked on a random subset of them:
//! the budget is shared among the parameter tensors as evenly as their sizes allow (a tensor
//! smaller than its share is checked whole, the rest of its share goes to the others), and
//! within each tensor the entries are drawn uniformly without replacement from a generator
//! seeded with `--seed`. The perturbations are still applied to the full model, and the
//! relative difference is taken over the sampled entries only. `--max-params 0` checks
//! every parameter whatever the size.

use std::path::PathBuf;

use dlkit_core::gradcheck::{EPSILON, THRESHOLD};
use dlkit_core::{gradient_check, is_grad_enabled, DType, Rng, Tensor};
use dlkit_nn::{BuildContext, Module, Regularizer, Sequential};
use dlkit_train::evaluate::targets;

use crate::config::LoadedConfig;
use crate::data::load_splits;
use crate::error::{CliError, CliResult};
use crate::model::default_loss;

pub struct GradcheckArgs {
    pub config: PathBuf,
    pub examples: usize,
    pub max_params: usize,
    pub seed: u64,
}

pub fn gradcheck(args: &GradcheckArgs) -> CliResult<()> {
    let mut cfg = LoadedConfig::from_file(&args.config)?;
    cfg.resolve_data_paths()?;
    let c = cfg.config.clone();
    let splits = load_splits(&cfg)?;
    let m = args.examples.clamp(1, splits.train.len());
    let few = splits.train.select(&(0..m).collect::<Vec<_>>())?;
    // Statistics from the whole training set, as training fits them.
    let fitted = c
        .preprocess
        .fit(&splits.train.x)
        .map_err(|e| cfg.error("[preprocess]", e))?;
    let data = few.with_x(fitted.apply(&few.x)?.to_dtype(DType::F64))?;
    let mut ctx =
        BuildContext::with_init_rng(DType::F64, c.model.seed, c.model.init.0, c.model.rng)
            .map_err(|e| cfg.error("[model] seed", e))?;
    let (mut model, out) = Sequential::build(&c.model.layers, &mut ctx, data.feature_shape())
        .map_err(|e| cfg.error("[model] layers", e))?;
    model.set_training(true);
    let loss = c
        .train
        .loss
        .unwrap_or_else(|| default_loss(c.model.layers.last(), &out));
    let reg = match (c.train.l2, c.train.l1) {
        (Some(l), _) => Some(Regularizer::l2(l)),
        (None, Some(l)) => Some(Regularizer::l1(l)),
        _ => None,
    };
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
    let subset = args.max_params > 0 && total > args.max_params;
    let selection: Vec<Vec<usize>> = if subset {
        sample(&sizes, args.max_params, args.seed)
    } else {
        sizes.iter().map(|&n| (0..n).collect()).collect()
    };
    let checked: usize = selection.iter().map(Vec::len).sum();
    println!("config: {}", cfg.name);
    println!(
        "model in f64 on {m} training examples, loss {}{}: {total} parameters in {} tensors",
        loss.name(),
        reg.map_or(String::new(), |r| format!(
            " + {:?} penalty (lambda {})",
            r.norm, r.lambda
        )),
        params.len()
    );
    if subset {
        println!(
            "checking a random subset of {checked} parameters (more than --max-params {}; \
             seed {}; see `dlkit gradcheck --help`)",
            args.max_params, args.seed
        );
    } else {
        println!("checking all {checked} parameters");
    }

    let dropout_seed = c.train.seed ^ 0x6AAD_C4EC;
    let cost = || -> dlkit_nn::Result<Tensor> {
        model.reseed(dropout_seed);
        let logits = model.forward_logits(&data.x)?;
        let mut j = loss.compute(&logits, targets(&data.y))?;
        if let Some(r) = &reg {
            j = j.try_add(&r.penalty(&params, data.len())?)?;
        }
        Ok(j)
    };
    let inputs: Vec<Tensor> = params
        .iter()
        .zip(&selection)
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
        for ((p, sel), leaf) in params.iter().zip(&selection).zip(leaves) {
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
        for ((p, sel), leaf) in params.iter().zip(&selection).zip(leaves) {
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
    .map_err(|e| CliError::runtime(format!("gradient check: {e}")))?;
    if let Some(e) = failure.into_inner() {
        return Err(CliError::from(e).context("gradient check"));
    }

    println!(
        "{:<24}{:>10}{:>10}{:>16}",
        "parameter", "size", "checked", "relative diff"
    );
    for ((p, sel), d) in params.iter().zip(&selection).zip(&report.per_input) {
        println!(
            "{:<24}{:>10}{:>10}{:>16.3e}",
            p.name,
            p.tensor.numel(),
            sel.len(),
            d
        );
    }
    let diff = report.relative_difference;
    let pass = report.passes(THRESHOLD);
    println!(
        "relative difference {diff:.3e} (epsilon {EPSILON:e}, threshold {THRESHOLD:e}): {}",
        if pass { "PASS" } else { "FAIL" }
    );
    if pass {
        Ok(())
    } else {
        Err(CliError::runtime(format!(
            "gradient check failed: relative difference {diff:.3e} is not below {THRESHOLD:e}"
        )))
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
