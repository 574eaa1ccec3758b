//! The dense-network workloads: W1 `logreg-cat`, W2 `deep-cat`, W3 `mnist-mlp` (training)
//! and W8 `mlp-infer` (inference with W3's network).
//!
//! Every model is a `dlkit_nn::Sequential` built from `LayerSpec`s, trained the framework's
//! way: `zero_grad`, forward to logits, the fused loss (`Loss::compute`), `backward`,
//! `step`. Data are synthetic, uniform in [0, 1) from a fixed seed (the course's images
//! divided by 255), labels random classes. Initialisation: He for the ReLU layers, Xavier for
//! the sigmoid or softmax output layer, biases zero.
//!
//! W1 and W2 time a tenth of their schedule (200 of 2000 and 250 of 2500 iterations) per
//! repetition and scale it by 10; W3 times 100 mini-batches of 128 (12,800 of the epoch's
//! 60,000 examples) and scales to the epoch. `Settings::full` times whole schedules instead.

use crate::{time, time_long, BenchError, Figure, Measurement, Settings, Timing};
use dlkit_core::{no_grad, DType, Tensor};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::optim::{Adam, GradientDescent, Optimizer};
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Sequential};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seed of the synthetic data and of the initial weights.
pub const SEED: u64 = 1;

/// The cat/non-cat training set of the course: 209 images of 64 x 64 x 3.
pub const CAT_EXAMPLES: usize = 209;
/// Features of one flattened cat image.
pub const CAT_FEATURES: usize = 12288;

/// W1: iterations of full-batch gradient descent in the schedule, and per repetition.
pub const W1_ITERS: usize = 2000;
const W1_TIMED: usize = 200;
/// W1: learning rate.
pub const W1_LR: f64 = 0.005;

/// W2: layer sizes (input first), iterations in the schedule and per repetition.
pub const W2_LAYERS: [usize; 5] = [12288, 20, 7, 5, 1];
pub const W2_ITERS: usize = 2500;
const W2_TIMED: usize = 250;
/// W2: learning rate.
pub const W2_LR: f64 = 0.0075;

/// W3: layer sizes (input first), mini-batch, examples per epoch and mini-batches per
/// repetition.
pub const W3_LAYERS: [usize; 4] = [784, 512, 256, 10];
pub const W3_BATCH: usize = 128;
pub const W3_EXAMPLES: usize = 60_000;
const W3_TIMED_STEPS: usize = 100;
/// W3: Adam's learning rate (β1 0.9, β2 0.999, ε 1e-8 are `Adam`'s defaults).
pub const W3_LR: f64 = 1e-3;

/// W8: inference batch sizes.
pub const W8_BATCHES: [usize; 2] = [1, 256];

/// `n` values uniform in [0, 1).
fn uniform(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random::<f32>()).collect()
}

fn dense(units: usize, init: Init) -> LayerSpec {
    LayerSpec::Dense(DenseSpec {
        units,
        bias: true,
        init: Some(init),
        trainable: true,
    })
}

/// `sizes[0]` inputs, ReLU hidden layers of `sizes[1..n-1]`, an output layer of `sizes[n-1]`
/// followed by `out` (sigmoid or softmax).
fn mlp(sizes: &[usize], out: LayerSpec) -> Result<Sequential, BenchError> {
    let mut specs = Vec::new();
    for &units in &sizes[1..sizes.len() - 1] {
        specs.push(dense(units, Init::He));
        specs.push(LayerSpec::Relu);
    }
    specs.push(dense(sizes[sizes.len() - 1], Init::Xavier));
    specs.push(out);
    let mut ctx = BuildContext::new(DType::F32, SEED, Init::He);
    Ok(Sequential::build(&specs, &mut ctx, &sizes[..1])?.0)
}

/// One full-batch gradient-descent step of a binary classifier; returns the loss.
fn gd_step(
    model: &Sequential,
    opt: &mut GradientDescent,
    x: &Tensor,
    y: &Tensor,
) -> Result<f64, BenchError> {
    opt.zero_grad();
    let loss = Loss::BinaryCrossEntropy.compute(&model.forward_logits(x)?, y)?;
    loss.backward();
    opt.step();
    Ok(loss.item())
}

/// Times `iters` (of a schedule of `total`) gradient-descent iterations of `model` on the cat
/// shapes; the timing is scaled to `total`.
fn time_gd(
    model: &Sequential,
    lr: f64,
    iters: usize,
    total: usize,
    settings: &Settings,
) -> Result<(Timing, f64, String), BenchError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let x = Tensor::from_vec(
        uniform(CAT_EXAMPLES * CAT_FEATURES, &mut rng),
        &[CAT_EXAMPLES, CAT_FEATURES],
    );
    let labels: Vec<f32> = (0..CAT_EXAMPLES)
        .map(|_| f32::from(rng.random::<bool>()))
        .collect();
    let y = Tensor::from_vec(labels, &[CAT_EXAMPLES, 1]);
    let mut opt = GradientDescent::new(model.parameters(), lr);
    let first = gd_step(model, &mut opt, &x, &y)?;
    if !first.is_finite() {
        return Err(format!("the first loss is {first}").into());
    }
    let mut failed = None;
    let timing = time_long(settings, || {
        for _ in 0..iters {
            if let Err(e) = gd_step(model, &mut opt, &x, &y) {
                failed.get_or_insert(e);
            }
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let scale = total as f64 / iters as f64;
    let note = if iters == total {
        String::new()
    } else {
        format!("{iters} of {total} iterations timed, x{scale}")
    };
    Ok((timing.scaled(scale), scale, note))
}

/// W1 `logreg-cat`: logistic regression (one sigmoid unit) on X 209 x 12288, full-batch
/// gradient descent, lr 0.005; seconds for 2000 iterations.
pub fn run_logreg(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let model = mlp(&[CAT_FEATURES, 1], LayerSpec::Sigmoid)?;
    let iters = if settings.full { W1_ITERS } else { W1_TIMED };
    let (timing, scale, note) = time_gd(&model, W1_LR, iters, W1_ITERS, settings)?;
    Ok(vec![seconds("W1", "209x12288", timing, scale, note)])
}

/// W2 `deep-cat`: [12288, 20, 7, 5, 1], ReLU hidden, sigmoid output, binary cross-entropy,
/// full-batch gradient descent, lr 0.0075; seconds for 2500 iterations.
pub fn run_deep(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let model = mlp(&W2_LAYERS, LayerSpec::Sigmoid)?;
    let iters = if settings.full { W2_ITERS } else { W2_TIMED };
    let (timing, scale, note) = time_gd(&model, W2_LR, iters, W2_ITERS, settings)?;
    Ok(vec![seconds(
        "W2",
        "209x[12288,20,7,5,1]",
        timing,
        scale,
        note,
    )])
}

fn seconds(
    workload: &'static str,
    case: &str,
    timing: Timing,
    scale: f64,
    note: String,
) -> Measurement {
    Measurement {
        workload,
        case: case.to_string(),
        variant: "tensor",
        threads: rayon::current_num_threads(),
        scale,
        note,
        figures: vec![Figure {
            key: "s",
            unit: "s",
            value: timing.median,
        }],
        timing,
    }
}

/// W3 `mnist-mlp`: 784-512-256-10, ReLU, softmax cross-entropy, Adam (lr 1e-3), mini-batch
/// 128 drawn from a shuffled epoch of 60,000 synthetic examples; examples per second.
pub fn run_mnist(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let steps = if settings.full {
        W3_EXAMPLES.div_ceil(W3_BATCH)
    } else {
        W3_TIMED_STEPS
    };
    run_mnist_with(W3_EXAMPLES, steps, settings)
}

/// W3 on `examples` examples, timing the first `steps` mini-batches of each shuffled epoch.
pub fn run_mnist_with(
    examples: usize,
    steps: usize,
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let [n_in, .., n_out] = W3_LAYERS;
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let x = uniform(examples * n_in, &mut rng);
    let labels: Vec<usize> = (0..examples).map(|_| rng.random_range(0..n_out)).collect();
    let model = mlp(&W3_LAYERS, LayerSpec::Softmax)?;
    let mut opt = Adam::new(model.parameters(), W3_LR);
    let mut order: Vec<usize> = (0..examples).collect();
    let timed = (steps * W3_BATCH).min(examples);
    let mut failed = None;
    let mut last_loss = f64::NAN;
    let mut epoch = || -> Result<(), BenchError> {
        order.shuffle(&mut rng);
        for idx in order[..timed].chunks(W3_BATCH) {
            let mut batch = Vec::with_capacity(idx.len() * n_in);
            for &i in idx {
                batch.extend_from_slice(&x[i * n_in..(i + 1) * n_in]);
            }
            let xb = Tensor::from_vec(batch, &[idx.len(), n_in]);
            let yb: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
            opt.zero_grad();
            let loss = Loss::SoftmaxCrossEntropy.compute(&model.forward_logits(&xb)?, &yb)?;
            loss.backward();
            opt.step();
            last_loss = loss.item();
        }
        Ok(())
    };
    let timing = time_long(settings, || {
        if let Err(e) = epoch() {
            failed.get_or_insert(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if !last_loss.is_finite() {
        return Err(format!("W3: the last loss is {last_loss}").into());
    }
    let scale = examples as f64 / timed as f64;
    let note = if timed == examples {
        String::new()
    } else {
        format!("{timed} of {examples} examples timed, x{scale:.4}")
    };
    let timing = timing.scaled(scale);
    Ok(vec![Measurement {
        workload: "W3",
        case: format!(
            "{W3_BATCH}x[{}]",
            W3_LAYERS.map(|d| d.to_string()).join(",")
        ),
        variant: "tensor",
        threads: rayon::current_num_threads(),
        scale,
        note,
        figures: vec![
            Figure {
                key: "examples_per_s",
                unit: "examples/s",
                value: examples as f64 / timing.median,
            },
            Figure {
                key: "s",
                unit: "s/epoch",
                value: timing.median,
            },
        ],
        timing,
    }])
}

/// W8 `mlp-infer`: W3's network (softmax output), inference without the graph, batch 1 and
/// 256; microseconds per batch.
pub fn run_infer(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    run_infer_with(&W8_BATCHES, settings)
}

/// W8 with the given batch sizes.
pub fn run_infer_with(
    batches: &[usize],
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let mut model = mlp(&W3_LAYERS, LayerSpec::Softmax)?;
    model.set_training(false);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 8);
    let mut out = Vec::new();
    for &b in batches {
        let x = Tensor::from_vec(uniform(b * W3_LAYERS[0], &mut rng), &[b, W3_LAYERS[0]]);
        let probs = no_grad(|| model.forward(&x))?;
        let sums = probs.sum(&[-1], false).to_vec::<f32>();
        if probs.shape() != [b, 10] || sums.iter().any(|s| (s - 1.0).abs() > 1e-4) {
            return Err(format!("W8: batch {b} gives {probs:?}").into());
        }
        let timing = time(settings, || {
            let _ = no_grad(|| model.forward(&x));
        });
        out.push(Measurement {
            workload: "W8",
            case: format!("batch{b}"),
            variant: "tensor",
            threads: rayon::current_num_threads(),
            scale: 1.0,
            note: String::new(),
            figures: vec![Figure {
                key: "us",
                unit: "us",
                value: timing.median * 1e6,
            }],
            timing,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_descent_lowers_the_loss_of_a_small_classifier() {
        let model = mlp(&[30, 8, 1], LayerSpec::Sigmoid).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = Tensor::from_vec(uniform(40 * 30, &mut rng), &[40, 30]);
        let y: Vec<f32> = (0..40).map(|i| (i % 2) as f32).collect();
        let y = Tensor::from_vec(y, &[40, 1]);
        let mut opt = GradientDescent::new(model.parameters(), 0.5);
        let first = gd_step(&model, &mut opt, &x, &y).unwrap();
        let mut last = first;
        for _ in 0..200 {
            last = gd_step(&model, &mut opt, &x, &y).unwrap();
        }
        assert!(last < first, "{first} -> {last}");
    }

    #[test]
    fn mnist_fraction_is_scaled_to_the_epoch() {
        let ms = run_mnist_with(1000, 2, &Settings::smoke()).unwrap();
        let m = &ms[0];
        assert_eq!(m.note, "256 of 1000 examples timed, x3.9062");
        assert!((m.scale - 1000.0 / 256.0).abs() < 1e-12);
        assert!((m.figures[0].value * m.timing.median - 1000.0).abs() < 1e-6);
        assert_eq!(m.case, "128x[784,512,256,10]"); // as scripts/bench_numpy.py names it
        assert!(m.to_json_line().contains("\"examples_per_s\":"));
    }

    #[test]
    fn inference_reports_each_batch() {
        let ms = run_infer_with(&[1, 3], &Settings::smoke()).unwrap();
        let cases: Vec<_> = ms.iter().map(|m| m.case.as_str()).collect();
        assert_eq!(cases, ["batch1", "batch3"]);
        assert!(ms.iter().all(|m| m.figures[0].value > 0.0));
    }
}
