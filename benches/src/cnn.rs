//! The convolutional-network workloads: W4 `signs-cnn` (the course's SIGNS ConvNet, Adam) and
//! W5 `resnet-cifar` (ResNet-20, SGD with momentum), both trained.
//!
//! As for the dense workloads (`mlp.rs`): a `dlkit_nn::Sequential` built from `LayerSpec`s,
//! trained the framework's way (`zero_grad`, forward to logits, the fused softmax
//! cross-entropy, `backward`, `step`) on NHWC f32 images uniform in [0, 1) from a fixed seed,
//! labels random classes. He initialisation for the convolutions and the hidden layers,
//! Xavier for the dense layer before the softmax, biases zero; batch norm starts at γ = 1,
//! β = 0 (ε 1e-5).
//!
//! W4 times one epoch of its ten per repetition (17 shuffled mini-batches of 64 from 1080
//! examples, the last one of 56) and scales by 10; W5 times 10 of its 50 steps per repetition
//! and scales by 5. `Settings::full` times whole schedules instead.

use crate::{time_long, BenchError, Figure, Measurement, Settings, Timing};
use dlkit_core::{DType, Tensor};
use dlkit_nn::layers::batch_norm::BatchNormSpec;
use dlkit_nn::layers::conv2d::{Conv2dSpec, PaddingSpec};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::global_avg_pool::GlobalAvgPoolSpec;
use dlkit_nn::layers::pool::Pool2dSpec;
use dlkit_nn::layers::residual::ResidualSpec;
use dlkit_nn::optim::{Adam, Momentum, MomentumForm, Optimizer};
use dlkit_nn::{BuildContext, Init, LayerSpec, Loss, Module, Sequential};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Seed of the synthetic data and of the initial weights.
pub const SEED: u64 = 4;

/// W4: image shape `[h, w, c]`, classes, examples, mini-batch, epochs, Adam's learning rate.
pub const W4_IMAGE: [usize; 3] = [64, 64, 3];
pub const W4_CLASSES: usize = 6;
pub const W4_EXAMPLES: usize = 1080;
pub const W4_BATCH: usize = 64;
pub const W4_EPOCHS: usize = 10;
pub const W4_LR: f64 = 0.009;

/// W5: image shape, classes, batch, steps in the schedule and per repetition, SGD's learning
/// rate and momentum (PyTorch's form: `v = μ v + g`, `w -= lr · v`).
pub const W5_IMAGE: [usize; 3] = [32, 32, 3];
pub const W5_CLASSES: usize = 10;
pub const W5_BATCH: usize = 64;
pub const W5_STEPS: usize = 50;
const W5_TIMED_STEPS: usize = 10;
pub const W5_LR: f64 = 0.1;
pub const W5_MOMENTUM: f64 = 0.9;
/// W5: channels of the three stages, and residual blocks per stage.
pub const W5_STAGES: [usize; 3] = [16, 32, 64];
pub const W5_BLOCKS: usize = 3;

/// `n` values uniform in [0, 1).
fn uniform(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random::<f32>()).collect()
}

fn conv(filters: usize, kernel: usize, stride: usize, padding: PaddingSpec) -> LayerSpec {
    LayerSpec::Conv2d(
        Conv2dSpec::new(filters, kernel)
            .with_stride(stride)
            .with_padding(padding),
    )
}

/// A convolution followed by batch norm: no bias (batch norm's β takes its place).
fn conv_bn(filters: usize, kernel: usize, stride: usize, pad: usize) -> [LayerSpec; 2] {
    let c = Conv2dSpec::new(filters, kernel)
        .with_stride(stride)
        .with_padding(PaddingSpec::uniform(pad))
        .with_bias(false);
    [
        LayerSpec::Conv2d(c),
        LayerSpec::BatchNorm(BatchNormSpec::default()),
    ]
}

fn max_pool(window: usize) -> LayerSpec {
    LayerSpec::MaxPool2d(Pool2dSpec::new(window).with_stride(window))
}

/// The output dense layer (Xavier) and the softmax the loss fuses with it.
fn classifier(classes: usize) -> [LayerSpec; 2] {
    let dense = DenseSpec {
        units: classes,
        bias: true,
        init: Some(Init::Xavier),
        trainable: true,
    };
    [LayerSpec::Dense(dense), LayerSpec::Softmax]
}

fn build(specs: &[LayerSpec], input: &[usize]) -> Result<Sequential, BenchError> {
    let mut ctx = BuildContext::new(DType::F32, SEED, Init::He);
    Ok(Sequential::build(specs, &mut ctx, input)?.0)
}

/// W4's network: CONV 4x4 8 same, ReLU, MAXPOOL 8x8/8, CONV 2x2 16 same, ReLU, MAXPOOL 4x4/4,
/// flatten, dense 6, softmax.
pub fn signs_cnn_specs() -> Vec<LayerSpec> {
    let mut specs = vec![
        conv(8, 4, 1, PaddingSpec::Same),
        LayerSpec::Relu,
        max_pool(8),
        conv(16, 2, 1, PaddingSpec::Same),
        LayerSpec::Relu,
        max_pool(4),
        LayerSpec::Flatten,
    ];
    specs.extend(classifier(W4_CLASSES));
    specs
}

/// W5's network (ResNet-20, He et al. 2016, section 4.2): 3x3 conv 16 + batch norm + ReLU;
/// three stages of [`W5_BLOCKS`] basic blocks (3x3 conv, batch norm, ReLU, 3x3 conv, batch
/// norm, added to the shortcut, ReLU) of 16, 32 and 64 channels; the first block of stages 2
/// and 3 has stride 2 and a 1x1 stride-2 conv + batch norm shortcut, the others the identity;
/// global average pool, dense 10, softmax. 3x3 convolutions pad 1 on every side.
pub fn resnet20_specs() -> Vec<LayerSpec> {
    let mut specs: Vec<LayerSpec> = conv_bn(W5_STAGES[0], 3, 1, 1).into();
    specs.push(LayerSpec::Relu);
    for (stage, &c) in W5_STAGES.iter().enumerate() {
        for block in 0..W5_BLOCKS {
            let stride = if stage > 0 && block == 0 { 2 } else { 1 };
            let mut main: Vec<LayerSpec> = conv_bn(c, 3, stride, 1).into();
            main.push(LayerSpec::Relu);
            main.extend(conv_bn(c, 3, 1, 1));
            let shortcut: Vec<LayerSpec> = match stride {
                1 => vec![],
                _ => conv_bn(c, 1, stride, 0).into(),
            };
            specs.push(LayerSpec::Residual(
                ResidualSpec::new(main).with_shortcut(shortcut),
            ));
        }
    }
    specs.push(LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}));
    specs.extend(classifier(W5_CLASSES));
    specs
}

/// One training step on the images `x` (`[n, h, w, c]`) with labels `y`; returns the loss.
fn train_step(
    model: &Sequential,
    opt: &mut dyn Optimizer,
    x: &Tensor,
    y: &[usize],
) -> Result<f64, BenchError> {
    opt.zero_grad();
    let loss = Loss::SoftmaxCrossEntropy.compute(&model.forward_logits(x)?, y)?;
    loss.backward();
    opt.step();
    Ok(loss.item())
}

/// The images `idx` of `x` (each `len` values) as one `[idx.len(), image...]` batch.
fn gather(x: &[f32], idx: &[usize], image: [usize; 3]) -> Tensor {
    let len: usize = image.iter().product();
    let mut batch = Vec::with_capacity(idx.len() * len);
    for &i in idx {
        batch.extend_from_slice(&x[i * len..(i + 1) * len]);
    }
    Tensor::from_vec(batch, &[idx.len(), image[0], image[1], image[2]])
}

/// Times `reps` calls of `run` (after one untimed warm-up), scaled by `scale`, and fails with
/// `run`'s first error or a non-finite last loss.
fn time_training(
    id: &str,
    settings: &Settings,
    scale: f64,
    mut run: impl FnMut() -> Result<f64, BenchError>,
) -> Result<Timing, BenchError> {
    let (mut failed, mut last) = (None, f64::NAN);
    let timing = time_long(settings, || match run() {
        Ok(loss) => last = loss,
        Err(e) => {
            failed.get_or_insert(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if !last.is_finite() {
        return Err(format!("{id}: the last loss is {last}").into());
    }
    Ok(timing.scaled(scale))
}

/// W4 `signs-cnn`: the course's SIGNS ConvNet, Adam (lr 0.009), mini-batches of 64 from 1080
/// shuffled examples; seconds for 10 epochs.
pub fn run_signs(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let epochs = if settings.full { W4_EPOCHS } else { 1 };
    run_signs_with(W4_EXAMPLES, epochs, settings)
}

/// W4 on `examples` examples, timing `epochs` epochs per repetition, scaled to ten.
pub fn run_signs_with(
    examples: usize,
    epochs: usize,
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let x = uniform(examples * W4_IMAGE.iter().product::<usize>(), &mut rng);
    let labels: Vec<usize> = (0..examples)
        .map(|_| rng.random_range(0..W4_CLASSES))
        .collect();
    let model = build(&signs_cnn_specs(), &W4_IMAGE)?;
    let mut opt = Adam::new(model.parameters(), W4_LR);
    let mut order: Vec<usize> = (0..examples).collect();
    let scale = W4_EPOCHS as f64 / epochs as f64;
    let timing = time_training("W4", settings, scale, || {
        let mut loss = f64::NAN;
        for _ in 0..epochs {
            order.shuffle(&mut rng);
            for idx in order.chunks(W4_BATCH) {
                let y: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
                loss = train_step(&model, &mut opt, &gather(&x, idx, W4_IMAGE), &y)?;
            }
        }
        Ok(loss)
    })?;
    let note = if epochs == W4_EPOCHS {
        String::new()
    } else {
        format!("{epochs} of {W4_EPOCHS} epochs timed, x{scale}")
    };
    Ok(vec![Measurement {
        workload: "W4",
        case: format!("{examples}x64x64x3 batch{W4_BATCH}"),
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
    }])
}

/// W5 `resnet-cifar`: ResNet-20 on 32x32x3 images, SGD with momentum 0.9 (lr 0.1), batch
/// 64; images per second over 50 training steps.
pub fn run_resnet(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    let steps = if settings.full {
        W5_STEPS
    } else {
        W5_TIMED_STEPS
    };
    run_resnet_with(W5_BATCH, steps, settings)
}

/// W5 with batches of `batch`, timing `steps` steps (each on its own images) per repetition,
/// scaled to 50.
pub fn run_resnet_with(
    batch: usize,
    steps: usize,
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + 1);
    let images = batch * steps;
    let x = uniform(images * W5_IMAGE.iter().product::<usize>(), &mut rng);
    let labels: Vec<usize> = (0..images)
        .map(|_| rng.random_range(0..W5_CLASSES))
        .collect();
    let model = build(&resnet20_specs(), &W5_IMAGE)?;
    let mut opt = Momentum::new(model.parameters(), W5_LR)
        .beta(W5_MOMENTUM)
        .form(MomentumForm::Pytorch);
    let all: Vec<usize> = (0..images).collect();
    let scale = W5_STEPS as f64 / steps as f64;
    let timing = time_training("W5", settings, scale, || {
        let mut loss = f64::NAN;
        for idx in all.chunks(batch) {
            let y: Vec<usize> = idx.iter().map(|&i| labels[i]).collect();
            loss = train_step(&model, &mut opt, &gather(&x, idx, W5_IMAGE), &y)?;
        }
        Ok(loss)
    })?;
    let note = if steps == W5_STEPS {
        String::new()
    } else {
        format!("{steps} of {W5_STEPS} steps timed, x{scale}")
    };
    Ok(vec![Measurement {
        workload: "W5",
        case: format!("batch{batch}"),
        variant: "tensor",
        threads: rayon::current_num_threads(),
        scale,
        note,
        figures: vec![
            Figure {
                key: "images_per_s",
                unit: "images/s",
                value: (W5_STEPS * batch) as f64 / timing.median,
            },
            Figure {
                key: "s",
                unit: "s/50 steps",
                value: timing.median,
            },
        ],
        timing,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_cnn_has_the_courses_shapes() {
        let model = build(&signs_cnn_specs(), &W4_IMAGE).unwrap();
        let sizes: Vec<usize> = model
            .parameters()
            .iter()
            .map(|p| p.tensor.numel())
            .collect();
        // conv 4x4x3x8 + 8, conv 2x2x8x16 + 16, dense 64x6 + 6.
        assert_eq!(sizes, [384, 8, 512, 16, 384, 6]);
    }

    #[test]
    fn resnet20_has_its_parameter_count() {
        let model = build(&resnet20_specs(), &W5_IMAGE).unwrap();
        let total: usize = model.parameters().iter().map(|p| p.tensor.numel()).sum();
        // 0.27M in He et al.: 19 3x3 convs, 2 projections, batch norms, dense 64x10 + 10.
        assert_eq!(total, 272_474);
    }

    #[test]
    fn small_runs_report_their_scale() {
        let ms = run_signs_with(70, 1, &Settings::smoke()).unwrap();
        assert_eq!(ms[0].note, "1 of 10 epochs timed, x10");
        assert_eq!(ms[0].case, "70x64x64x3 batch64");
        let ms = run_resnet_with(2, 2, &Settings::smoke()).unwrap();
        assert_eq!((ms[0].case.as_str(), ms[0].scale), ("batch2", 25.0));
        assert!(ms[0].to_json_line().contains("\"images_per_s\":"));
    }
}
