//! Dense, dropout, batch norm, the losses and the weight penalties: f64 gradient checks at the
//! course's threshold (epsilon 1e-7, relative difference < 1e-7) through the well-conditioned
//! `L = sum(out * G)` with `G` fixed random, dropout's statistics, batch norm's running
//! statistics and evaluation mode, and the layers' descriptions.

#[path = "../../dlkit-core/tests/common/mod.rs"]
mod common;

use common::{away_from_zero, check_op, check_scalar, randn, uniform};
use dlkit_core::{DType, Tensor};
use dlkit_nn::layers::batch_norm::{BatchNorm, BatchNormSpec};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::{Dropout, DropoutSpec};
use dlkit_nn::regularize::{l1_penalty, l2_penalty, Regularizer};
use dlkit_nn::{BuildContext, Dense, Init, LayerSpec, Loss, Module, Param, ParamKind, Sequential};

// ---- gradient checks ------------------------------------------------------------------------

#[test]
fn gradcheck_dense() {
    let inputs = [randn(&[4, 3], 1), randn(&[5, 3], 2), randn(&[5], 3)];
    check_op("dense", &inputs, 4, |t| {
        Dense::from_tensors(t[1].clone(), Some(t[2].clone()))
            .forward(&t[0])
            .unwrap()
    });
    check_op("dense without bias", &inputs[..2], 5, |t| {
        Dense::from_tensors(t[1].clone(), None)
            .forward(&t[0])
            .unwrap()
    });
}

#[test]
fn gradcheck_dropout_with_fixed_mask() {
    let layer = Dropout::new(0.7, 11).unwrap();
    let mask = layer.sample_mask(&[6, 5], DType::F64);
    let kept = mask.to_vec_f64().iter().filter(|&&v| v == 1.0).count();
    assert!(
        kept > 0 && kept < 30,
        "the mask should keep some and drop some"
    );
    check_op("dropout", &[randn(&[6, 5], 12)], 13, |t| {
        layer.forward_with_mask(&t[0], &mask).unwrap()
    });
}

/// Checks batch norm in training mode through x, gamma and beta.
fn gradcheck_batch_norm_train(name: &str, shape: &[usize], seed: u64) {
    let c = *shape.last().unwrap();
    let x = randn(shape, seed).mul_scalar(2.0).add_scalar(0.5);
    let inputs = [x, uniform(&[c], 0.5, 1.5, seed + 1), randn(&[c], seed + 2)];
    let spec = BatchNormSpec {
        unbiased_running_var: true,
        ..BatchNormSpec::default()
    };
    check_op(name, &inputs, seed + 3, |t| {
        let bn = BatchNorm::from_tensors(t[1].clone(), t[2].clone(), spec.clone()).unwrap();
        bn.forward(&t[0]).unwrap()
    });
}

#[test]
fn gradcheck_batch_norm_train_dense() {
    gradcheck_batch_norm_train("batch_norm train [m, n]", &[6, 4], 20);
}

#[test]
fn gradcheck_batch_norm_train_nhwc() {
    gradcheck_batch_norm_train("batch_norm train [m, h, w, c]", &[2, 3, 3, 4], 30);
}

#[test]
fn gradcheck_batch_norm_eval() {
    let inputs = [
        randn(&[2, 2, 3, 3], 40),
        uniform(&[3], 0.5, 1.5, 41),
        randn(&[3], 42),
    ];
    check_op("batch_norm eval", &inputs, 43, |t| {
        let mut bn =
            BatchNorm::from_tensors(t[1].clone(), t[2].clone(), Default::default()).unwrap();
        bn.set_running_stats(
            &Tensor::from_vec(vec![0.3, -0.2, 1.0], &[3]),
            &Tensor::from_vec(vec![0.5, 2.0, 1.3], &[3]),
        )
        .unwrap();
        bn.set_training(false);
        bn.forward(&t[0]).unwrap()
    });
}

#[test]
fn gradcheck_losses() {
    let logits = randn(&[5, 3], 50).mul_scalar(2.0);
    let labels = vec![2usize, 0, 1, 1, 2];
    check_scalar(
        "softmax_cross_entropy indices",
        std::slice::from_ref(&logits),
        |t| Loss::SoftmaxCrossEntropy.compute(&t[0], &labels).unwrap(),
    );
    let mut onehot = vec![0.0; 15];
    labels
        .iter()
        .enumerate()
        .for_each(|(i, &l)| onehot[i * 3 + l] = 1.0);
    let onehot = Tensor::from_vec(onehot, &[5, 3]);
    check_scalar("softmax_cross_entropy one-hot", &[logits], |t| {
        Loss::SoftmaxCrossEntropy.compute(&t[0], &onehot).unwrap()
    });
    let z = randn(&[6, 1], 51).mul_scalar(2.0);
    let y = Tensor::from_vec(vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0], &[6, 1]);
    check_scalar("binary_cross_entropy", std::slice::from_ref(&z), |t| {
        Loss::BinaryCrossEntropy.compute(&t[0], &y).unwrap()
    });
    check_scalar("binary_cross_entropy indices", &[z], |t| {
        Loss::BinaryCrossEntropy
            .compute(&t[0], &vec![1usize, 0, 0, 1, 1, 0])
            .unwrap()
    });
    check_scalar(
        "mean_squared_error",
        &[randn(&[4, 2], 52), randn(&[4, 2], 53)],
        |t| Loss::MeanSquaredError.compute(&t[0], &t[1]).unwrap(),
    );
}

#[test]
fn gradcheck_penalties() {
    let inputs = [away_from_zero(&[3, 4], 60), away_from_zero(&[2, 3], 61)];
    let params = |t: &[Tensor]| {
        vec![
            Param::new("w0", t[0].clone(), ParamKind::Weight),
            Param::new("b", t[1].clone(), ParamKind::Bias),
        ]
    };
    check_scalar("l2_penalty", &inputs, |t| {
        l2_penalty(&params(t), 0.7, 5).unwrap()
    });
    check_scalar("l1_penalty", &inputs, |t| {
        l1_penalty(&params(t), 0.7, 5).unwrap()
    });
    let all = Regularizer::l2(0.3).with_all_params(true);
    let r = check_scalar("l2_penalty all params", &inputs, |t| {
        all.penalty(&params(t), 3).unwrap()
    });
    assert!(r.analytic[1].iter().all(|&g| g != 0.0), "bias penalised");
}

#[test]
fn gradcheck_through_a_model_with_cost_and_penalty() {
    // dense(bias = false) -> batch norm -> tanh -> dropout (fixed mask) -> dense, with the
    // softmax cross-entropy plus an L2 penalty: every piece of this file in one graph.
    let inputs = [
        randn(&[5, 3], 70),
        randn(&[4, 3], 71),
        uniform(&[4], 0.5, 1.5, 72),
        randn(&[4], 73),
        randn(&[2, 4], 74),
    ];
    let drop = Dropout::new(0.6, 75).unwrap();
    let mask = drop.sample_mask(&[5, 4], DType::F64);
    check_scalar("model", &inputs, |t| {
        let d1 = Dense::from_tensors(t[1].clone(), None);
        let bn = BatchNorm::from_tensors(t[2].clone(), t[3].clone(), Default::default()).unwrap();
        let d2 = Dense::from_tensors(t[4].clone(), None);
        let h = bn.forward(&d1.forward(&t[0]).unwrap()).unwrap().tanh();
        let logits = d2
            .forward(&drop.forward_with_mask(&h, &mask).unwrap())
            .unwrap();
        let params: Vec<Param> = [d1.parameters(), bn.parameters(), d2.parameters()].concat();
        let cost = Loss::SoftmaxCrossEntropy
            .compute(&logits, &vec![0usize, 1, 1, 0, 1])
            .unwrap();
        cost.add(&l2_penalty(&params, 0.5, 5).unwrap())
    });
}

// ---- dropout --------------------------------------------------------------------------------

#[test]
fn dropout_keeps_keep_prob_and_preserves_the_mean() {
    let keep = 0.8;
    let layer = Dropout::new(keep, 5).unwrap();
    let x = Tensor::ones(&[200, 500], DType::F64);
    let y = layer.forward(&x).unwrap().to_vec_f64();
    let n = y.len() as f64;
    let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / n;
    // n = 100 000: the standard deviation of the fraction is sqrt(0.8 * 0.2 / n) ≈ 0.0013.
    assert!((kept - keep).abs() < 0.006, "kept {kept}");
    assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / keep));
    let mean = y.iter().sum::<f64>() / n;
    assert!((mean - 1.0).abs() < 0.008, "mean {mean}");
    // On values other than ones, too: E[y] = x per element, so the means agree.
    let x = uniform(&[100, 1000], 1.0, 3.0, 6);
    let y = layer.forward(&x).unwrap();
    let (mx, my) = (x.mean_all().item(), y.mean_all().item());
    assert!((my - mx).abs() / mx < 0.01, "{mx} vs {my}");
}

#[test]
fn dropout_is_the_identity_in_eval_and_with_keep_prob_one() {
    let x = randn(&[8, 7], 80);
    let mut layer = Dropout::new(0.5, 1).unwrap();
    layer.set_training(false);
    assert_eq!(layer.forward(&x).unwrap().to_vec_f64(), x.to_vec_f64());
    let all = Dropout::new(1.0, 1).unwrap();
    assert!(all.is_training());
    assert_eq!(all.forward(&x).unwrap().to_vec_f64(), x.to_vec_f64());
}

#[test]
fn dropout_forward_draws_the_mask_sample_mask_draws() {
    let x = randn(&[4, 6], 81);
    let (a, b) = (Dropout::new(0.5, 9).unwrap(), Dropout::new(0.5, 9).unwrap());
    let y = a.forward(&x).unwrap();
    let expected = b
        .forward_with_mask(&x, &b.sample_mask(&[4, 6], DType::F64))
        .unwrap();
    assert_eq!(y.to_vec_f64(), expected.to_vec_f64());
    // The gradient is the scaled mask: dx = dy ⊙ d / keep_prob.
    let xg = x.clone().with_grad();
    let y = Dropout::new(0.5, 9).unwrap().forward(&xg).unwrap();
    y.sum_all().backward();
    assert_eq!(
        xg.grad().unwrap().to_vec_f64(),
        expected.div(&x).to_vec_f64()
    );
}

#[test]
fn dropout_masks_are_seeded_by_the_model() {
    let specs = [LayerSpec::Dropout(DropoutSpec::new(0.5))];
    let mask_of = |seed: u64, spec: &[LayerSpec]| {
        let mut ctx = BuildContext::new(DType::F32, seed, Init::He);
        let (model, _) = Sequential::build(spec, &mut ctx, &[50]).unwrap();
        model
            .forward(&Tensor::ones(&[4, 50], DType::F32))
            .unwrap()
            .to_vec::<f32>()
    };
    assert_eq!(mask_of(1, &specs), mask_of(1, &specs));
    assert_ne!(mask_of(1, &specs), mask_of(2, &specs));
    // An explicit seed wins over the model's.
    let seeded = [LayerSpec::Dropout(DropoutSpec {
        keep_prob: 0.5,
        seed: Some(4),
    })];
    assert_eq!(mask_of(1, &seeded), mask_of(2, &seeded));
}

// ---- batch norm -----------------------------------------------------------------------------

/// Per-feature mean and biased variance over all axes but the last, by hand.
fn stats(x: &[f64], c: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / c) as f64;
    let mut mean = vec![0.0; c];
    x.iter().enumerate().for_each(|(i, v)| mean[i % c] += v / n);
    let mut var = vec![0.0; c];
    x.iter()
        .enumerate()
        .for_each(|(i, v)| var[i % c] += (v - mean[i % c]).powi(2) / n);
    (mean, var)
}

fn assert_all_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

/// Three training steps; the running statistics must equal the hand-computed averages.
fn running_stats_follow_the_ewa(unbiased: bool) {
    let (momentum, c, shape) = (0.8, 3, [4, 2, 2, 3]);
    let spec = BatchNormSpec {
        momentum,
        unbiased_running_var: unbiased,
        ..Default::default()
    };
    let bn = BatchNorm::new(c, spec, DType::F64).unwrap();
    let (mut rm, mut rv) = (vec![0.0; c], vec![1.0; c]);
    let n = (shape.iter().product::<usize>() / c) as f64;
    for step in 0..3 {
        let x = randn(&shape, 90 + step)
            .mul_scalar(1.0 + step as f64)
            .add_scalar(step as f64);
        bn.forward(&x).unwrap();
        let (mean, var) = stats(&x.to_vec_f64(), c);
        let k = if unbiased { n / (n - 1.0) } else { 1.0 };
        for f in 0..c {
            rm[f] = momentum * rm[f] + (1.0 - momentum) * mean[f];
            rv[f] = momentum * rv[f] + (1.0 - momentum) * var[f] * k;
        }
        assert_all_close(&bn.running_mean().to_vec_f64(), &rm, 1e-12, "running mean");
        assert_all_close(&bn.running_var().to_vec_f64(), &rv, 1e-12, "running var");
    }
}

#[test]
fn batch_norm_running_statistics_are_the_course_ewa() {
    running_stats_follow_the_ewa(false);
}

#[test]
fn batch_norm_running_variance_can_be_unbiased() {
    running_stats_follow_the_ewa(true);
}

#[test]
fn batch_norm_eval_uses_the_running_statistics() {
    let c = 4;
    let mut bn = BatchNorm::from_tensors(
        Tensor::from_vec(vec![1.5, 0.5, 2.0, 1.0], &[c]),
        Tensor::from_vec(vec![0.1, -0.2, 0.3, 0.0], &[c]),
        Default::default(),
    )
    .unwrap();
    for step in 0..4 {
        bn.forward(&randn(&[16, c], 100 + step).add_scalar(3.0))
            .unwrap();
    }
    let (rm, rv) = (
        bn.running_mean().to_vec_f64(),
        bn.running_var().to_vec_f64(),
    );
    bn.set_training(false);
    // One example at a time works in evaluation, and the statistics stay as they were.
    let x = randn(&[1, c], 110);
    let y = bn.forward(&x).unwrap().to_vec_f64();
    let (g, b) = ([1.5, 0.5, 2.0, 1.0], [0.1, -0.2, 0.3, 0.0]);
    let expected: Vec<f64> = (0..c)
        .map(|f| g[f] * (x.to_vec_f64()[f] - rm[f]) / (rv[f] + 1e-5).sqrt() + b[f])
        .collect();
    assert_all_close(&y, &expected, 1e-14, "eval output");
    assert_eq!(bn.running_mean().to_vec_f64(), rm);
    assert_eq!(bn.running_var().to_vec_f64(), rv);
    // Training on a batch of one is refused with a message saying why.
    bn.set_training(true);
    let e = bn.forward(&x).unwrap_err().to_string();
    assert!(e.contains("more than one value per feature"), "{e}");
}

#[test]
fn batch_norm_parameters_and_buffers() {
    let specs = [
        LayerSpec::Dense(DenseSpec {
            bias: false,
            ..DenseSpec::new(6)
        }),
        LayerSpec::BatchNorm(BatchNormSpec::default()),
        LayerSpec::Relu,
    ];
    let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
    let (model, out) = Sequential::build(&specs, &mut ctx, &[3]).unwrap();
    assert_eq!(out, [6]);
    let params: Vec<(String, ParamKind, Vec<usize>)> = model
        .parameters()
        .into_iter()
        .map(|p| (p.name, p.kind, p.tensor.shape().to_vec()))
        .collect();
    assert_eq!(
        params,
        [
            ("0.weight".into(), ParamKind::Weight, vec![6, 3]),
            ("1.gamma".into(), ParamKind::Scale, vec![6]),
            ("1.beta".into(), ParamKind::Shift, vec![6]),
        ]
    );
    let buffers: Vec<(String, Vec<f64>)> = model
        .buffers()
        .into_iter()
        .map(|(n, t)| (n, t.to_vec_f64()))
        .collect();
    assert_eq!(
        buffers,
        [
            ("1.running_mean".into(), vec![0.0; 6]),
            ("1.running_var".into(), vec![1.0; 6])
        ]
    );
    // The buffers are the layer's own storage: a training step shows in them.
    model
        .forward(&Tensor::from_vec(
            (0..12).map(|v| v as f32).collect(),
            &[4, 3],
        ))
        .unwrap();
    assert_ne!(model.buffers()[0].1.to_vec_f64(), vec![0.0; 6]);
}

#[test]
fn batch_norm_normalises_nhwc_per_channel() {
    let bn = BatchNorm::new(3, Default::default(), DType::F64).unwrap();
    let x = randn(&[2, 4, 5, 3], 120)
        .mul(&Tensor::from_vec(vec![1.0, 5.0, 0.2], &[3]))
        .add(&Tensor::from_vec(vec![-3.0, 0.0, 7.0], &[3]));
    let y = bn.forward(&x).unwrap().to_vec_f64();
    let (mean, var) = stats(&y, 3);
    assert_all_close(&mean, &[0.0; 3], 1e-12, "mean");
    // Var(x̂) = σ² / (σ² + ε), just under 1.
    let (_, var_x) = stats(&x.to_vec_f64(), 3);
    let expected: Vec<f64> = var_x.iter().map(|v| v / (v + 1e-5)).collect();
    assert_all_close(&var, &expected, 1e-12, "variance");
}

// ---- descriptions ---------------------------------------------------------------------------

#[test]
fn specs_have_defaults_and_round_trip() {
    let bn: LayerSpec = serde_json::from_str(r#"{"type": "batch_norm"}"#).unwrap();
    assert_eq!(bn, LayerSpec::BatchNorm(BatchNormSpec::default()));
    let d = BatchNormSpec::default();
    assert_eq!(
        (d.momentum, d.epsilon, d.unbiased_running_var),
        (0.9, 1e-5, false)
    );
    let drop: LayerSpec = serde_json::from_str(r#"{"type": "dropout", "keep_prob": 0.8}"#).unwrap();
    assert_eq!(drop, LayerSpec::Dropout(DropoutSpec::new(0.8)));
    for spec in [
        bn,
        drop,
        LayerSpec::BatchNorm(BatchNormSpec {
            momentum: 0.99,
            epsilon: 1e-3,
            unbiased_running_var: true,
            momentum_pytorch: None,
            trainable: true,
        }),
        LayerSpec::Dropout(DropoutSpec {
            keep_prob: 0.5,
            seed: Some(3),
        }),
    ] {
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            serde_json::from_str::<LayerSpec>(&json).unwrap(),
            spec,
            "{json}"
        );
        let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
        let (built, _) = spec.build(&mut ctx, &[4]).unwrap();
        assert_eq!(built.spec(), Some(spec));
    }
    let e = serde_json::from_str::<LayerSpec>(r#"{"type": "batch_norm", "eps": 0.1}"#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("eps"), "{e}");
}

#[test]
fn bad_specs_fail_at_build_naming_the_layer() {
    let build = |specs: &[LayerSpec], input: &[usize]| {
        let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
        Sequential::build(specs, &mut ctx, input)
            .err()
            .expect("should not build")
            .to_string()
    };
    let e = build(
        &[
            LayerSpec::Dense(DenseSpec::new(4)),
            LayerSpec::Dropout(DropoutSpec::new(0.0)),
        ],
        &[3],
    );
    assert!(
        e.contains("layer 1 (dropout)") && e.contains("0 < keep_prob <= 1"),
        "{e}"
    );
    let e = build(
        &[LayerSpec::BatchNorm(BatchNormSpec {
            momentum: -0.1,
            ..Default::default()
        })],
        &[3],
    );
    assert!(
        e.contains("layer 0 (batch_norm)") && e.contains("momentum"),
        "{e}"
    );
    let e = build(&[LayerSpec::BatchNorm(BatchNormSpec::default())], &[]);
    assert!(e.contains("at least one axis"), "{e}");
}

#[test]
fn models_with_batch_norm_and_dropout_save_and_load() {
    let specs = [
        LayerSpec::Dense(DenseSpec {
            bias: false,
            ..DenseSpec::new(5)
        }),
        LayerSpec::BatchNorm(BatchNormSpec {
            momentum: 0.5,
            ..Default::default()
        }),
        LayerSpec::Relu,
        LayerSpec::Dropout(DropoutSpec::new(0.7)),
        LayerSpec::Dense(DenseSpec::new(2)),
    ];
    let mut ctx = BuildContext::new(DType::F32, 3, Init::He);
    let (mut model, _) = Sequential::build(&specs, &mut ctx, &[4]).unwrap();
    let x = Tensor::rand_normal(&[8, 4], 1.0, 2.0, DType::F32, &mut dlkit_core::Rng::new(4));
    model.forward(&x).unwrap(); // one training step moves the running statistics
    model.set_training(false);
    let before = model.forward(&x).unwrap().to_vec::<f32>();
    let dir = tempfile::tempdir().unwrap();
    dlkit_nn::save(&model, &[4], dir.path()).unwrap();
    let (mut loaded, _) = dlkit_nn::load(dir.path()).unwrap();
    loaded.set_training(false);
    assert_eq!(loaded.forward(&x).unwrap().to_vec::<f32>(), before);
    let running: Vec<Vec<f64>> = loaded
        .buffers()
        .iter()
        .map(|(_, t)| t.to_vec_f64())
        .collect();
    assert_ne!(running[0], vec![0.0; 5], "running mean restored");
}
