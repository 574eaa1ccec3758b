//! Optimisers and schedules against the NumPy references of scripts/make_optim_fixtures.py,
//! plus the exponentially weighted average, frozen parameters and a convergence check.

use dlkit_core::{DType, Tensor};
use dlkit_nn::optim::{Adam, GradientDescent, Optimizer};
use dlkit_nn::{Ewa, LrSchedule, OptimizerConfig, Param, ParamKind};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/optim.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Sets `p`'s gradient to exactly `g`: the gradient of `L = sum(w * G)` is `G`.
fn set_grad(p: &Param, g: &[f64]) {
    let g = Tensor::from_vec(g.to_vec(), p.tensor.shape()).to_dtype(p.tensor.dtype());
    p.tensor.zero_grad();
    p.tensor.mul(&g).sum_all().backward();
}

/// Runs every optimiser variant of the fixture in `dtype`; returns the largest deviation,
/// relative to max(1, |expected|).
fn check_optimizers(dtype: DType, tol: f64) -> f64 {
    let fx = fixture();
    let names = ["w", "b"];
    let mut worst = 0.0f64;
    for case in fx["optimizers"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let config: OptimizerConfig = serde_json::from_value(case["config"].clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let params: Vec<Param> = names
            .iter()
            .map(|&n| {
                let spec = &fx["params"][n];
                let shape: Vec<usize> =
                    floats(&spec["shape"]).iter().map(|&d| d as usize).collect();
                let kind = match spec["kind"].as_str().unwrap() {
                    "weight" => ParamKind::Weight,
                    _ => ParamKind::Bias,
                };
                let t = Tensor::from_vec(floats(&spec["init"]), &shape).to_dtype(dtype);
                Param::new(n, t, kind)
            })
            .collect();
        let mut opt = config.build(params.clone()).unwrap();
        for (step, expected) in case["steps"].as_array().unwrap().iter().enumerate() {
            for p in &params {
                set_grad(p, &floats(&fx["params"][p.name.as_str()]["grads"][step]));
            }
            opt.step();
            for p in &params {
                let got = p.tensor.to_vec_f64();
                let want = floats(&expected[p.name.as_str()]);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    let dev = (g - w).abs() / w.abs().max(1.0);
                    worst = worst.max(dev);
                    assert!(
                        dev <= tol,
                        "{name} ({dtype}) step {} {}[{i}]: got {g}, NumPy {w}",
                        step + 1,
                        p.name
                    );
                }
            }
        }
    }
    worst
}

#[test]
fn optimizers_match_numpy_f64() {
    let worst = check_optimizers(DType::F64, 1e-6);
    println!("f64: largest deviation from NumPy {worst:.3e}");
    assert!(worst < 1e-12, "f64 deviation {worst:e}");
}

#[test]
fn optimizers_match_numpy_f32() {
    let worst = check_optimizers(DType::F32, 1e-6);
    println!("f32: largest deviation from NumPy {worst:.3e}");
}

#[test]
fn schedules_match_numpy() {
    let fx = fixture();
    for case in fx["schedules"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let schedule: LrSchedule = serde_json::from_value(case["config"].clone()).unwrap();
        schedule.validate().unwrap();
        let base = case["base_lr"].as_f64().unwrap();
        for (epoch, want) in floats(&case["lr"]).into_iter().enumerate() {
            let got = schedule.lr(epoch, base);
            assert!(
                (got - want).abs() <= 1e-12,
                "{name} epoch {epoch}: got {got}, NumPy {want}"
            );
        }
    }
}

#[test]
fn ewa_matches_hand_computed_sequence() {
    // β = 0.5, θ = 1, 2, 3: v = 0.5, 1.25, 2.125; corrected by 1 − 0.5ᵗ = 0.5, 0.75, 0.875.
    let thetas = [1.0, 2.0, 3.0];
    let plain = Ewa::smooth(&thetas, 0.5, false);
    let corrected = Ewa::smooth(&thetas, 0.5, true);
    let want_plain = [0.5, 1.25, 2.125];
    let want_corrected = [1.0, 1.25 / 0.75, 2.125 / 0.875];
    for i in 0..3 {
        assert!((plain[i] - want_plain[i]).abs() < 1e-15, "{plain:?}");
        assert!(
            (corrected[i] - want_corrected[i]).abs() < 1e-15,
            "{corrected:?}"
        );
    }
    // β = 0.9 on a constant: the corrected average is exact from the start.
    let mut avg = Ewa::new(0.9).bias_corrected(true);
    for _ in 0..5 {
        assert!((avg.update(4.0) - 4.0).abs() < 1e-12);
    }
    assert_eq!(avg.count(), 5);
    avg.reset();
    assert_eq!(avg.value(), 0.0);
}

#[test]
fn frozen_and_gradless_params_are_not_updated() {
    let make =
        |name, v: f64| Param::new(name, Tensor::from_vec(vec![v; 3], &[3]), ParamKind::Weight);
    let (live, frozen, gradless) = (make("live", 1.0), make("frozen", 2.0), make("none", 3.0));
    let mut opt = Adam::new(vec![live.clone(), frozen.clone(), gradless.clone()], 0.1)
        .weight_decay(0.5)
        .clip_norm(1.0);
    live.tensor.add(&frozen.tensor).sum_all().backward();
    // Frozen after backward: it still holds a gradient, which must be ignored.
    frozen.tensor.set_requires_grad(false);
    assert!(frozen.tensor.grad().is_some());
    opt.step();
    assert!(live.tensor.to_vec::<f64>().iter().all(|&v| v < 1.0));
    assert_eq!(frozen.tensor.to_vec::<f64>(), vec![2.0; 3]);
    assert_eq!(gradless.tensor.to_vec::<f64>(), vec![3.0; 3]);

    // set_trainable(false) also drops the gradient; the same holds for gradient descent.
    let mut sgd = GradientDescent::new(vec![live.clone()], 0.1);
    live.set_trainable(false);
    let before = live.tensor.to_vec::<f64>();
    sgd.step();
    assert_eq!(live.tensor.to_vec::<f64>(), before);
}

#[test]
fn adam_minimises_a_quadratic() {
    // J(w) = Σ (w − c)², minimum at c.
    let c = Tensor::from_vec(vec![1.5f32, -2.0, 0.5, 3.0], &[4]);
    let w = Param::new("w", Tensor::zeros(&[4], DType::F32), ParamKind::Weight);
    let mut opt = Adam::new(vec![w.clone()], 0.01);
    let loss = |w: &Tensor| w.sub(&c).square().sum_all();
    let start = loss(&w.tensor).item();
    for _ in 0..2000 {
        opt.zero_grad();
        loss(&w.tensor).backward();
        opt.step();
    }
    let end = loss(&w.tensor).item();
    assert!(end < 1e-4 * start, "J went from {start} to {end}");
    for (got, want) in w.tensor.to_vec::<f32>().iter().zip(c.to_vec::<f32>()) {
        assert!((got - want).abs() < 1e-2, "w = {got}, optimum {want}");
    }
}

#[test]
fn learning_rate_can_be_set_by_a_schedule() {
    let w = Param::new("w", Tensor::ones(&[2], DType::F64), ParamKind::Weight);
    let mut opt: Box<dyn Optimizer> = OptimizerConfig::default().build(vec![w]).unwrap();
    assert_eq!(opt.name(), "adam");
    assert_eq!(opt.learning_rate(), 0.001);
    let schedule = LrSchedule::StepDecay {
        step_size: 1,
        factor: 0.5,
    };
    opt.set_learning_rate(schedule.lr(2, 0.001));
    assert_eq!(opt.learning_rate(), 0.00025);
}

#[test]
fn configs_deserialise_with_defaults_and_reject_mistakes() {
    let parse = |s: &str| serde_json::from_str::<OptimizerConfig>(s);
    let sgd = parse(r#"{"type": "sgd"}"#).unwrap();
    assert_eq!(sgd.name(), "gradient_descent");
    assert_eq!(sgd.lr(), 0.01);
    assert_eq!(sgd.grad_options().decay_on, vec![ParamKind::Weight]);
    assert!(matches!(
        parse(r#"{"type": "momentum"}"#).unwrap(),
        OptimizerConfig::Momentum { beta, .. } if beta == 0.9
    ));
    assert!(matches!(
        parse(r#"{"type": "rmsprop"}"#).unwrap(),
        OptimizerConfig::Rmsprop { beta, eps, lr, .. } if beta == 0.9 && eps == 1e-8 && lr == 0.001
    ));
    assert_eq!(
        parse(r#"{"type": "adam"}"#).unwrap(),
        OptimizerConfig::default()
    );
    // Unknown fields and types are errors, as are values out of range.
    assert!(parse(r#"{"type": "adam", "beta": 0.9}"#).is_err());
    assert!(parse(r#"{"type": "adagrad"}"#).is_err());
    let bad = parse(r#"{"type": "adam", "beta2": 1.0}"#).unwrap();
    let msg = bad.validate().unwrap_err().to_string();
    assert!(msg.contains("beta2"), "{msg}");
    assert!(parse(r#"{"type": "sgd", "lr": -1}"#)
        .unwrap()
        .build(vec![])
        .is_err());

    let sched = |s: &str| serde_json::from_str::<LrSchedule>(s);
    assert_eq!(
        sched(r#"{"type": "exponential"}"#).unwrap(),
        LrSchedule::Exponential { base: 0.95 }
    );
    assert!(sched(r#"{"type": "step_decay"}"#).is_err()); // step_size is required
    assert!(sched(r#"{"type": "constant", "rate": 1}"#).is_err());
    let zero = sched(r#"{"type": "fixed_interval", "decay_rate": 1, "time_interval": 0}"#);
    assert!(zero.unwrap().validate().is_err());
}

#[test]
fn optimiser_state_round_trips_so_training_resumes_exactly() {
    use dlkit_nn::optim::{Adam, Optimizer};
    use dlkit_nn::{Param, ParamKind};
    let make = || {
        Param::new(
            "w",
            dlkit_core::Tensor::from_vec(vec![3.0f64, -2.0], &[2]),
            ParamKind::Weight,
        )
    };
    let step = |opt: &mut Adam, w: &Param| {
        opt.zero_grad();
        w.tensor.square().sum_all().backward();
        opt.step();
    };
    let w1 = make();
    let mut a = Adam::new(vec![w1.clone()], 0.1);
    for _ in 0..5 {
        step(&mut a, &w1);
    }
    let saved = a.state();
    assert_eq!(
        saved.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["w.v", "w.s", "w.t"]
    );
    // A new optimiser over a copy of the weights, with the state restored, continues identically.
    let w2 = make();
    w2.tensor.assign(&w1.tensor);
    let mut b = Adam::new(vec![w2.clone()], 0.1);
    b.load_state(&saved).unwrap();
    for _ in 0..5 {
        step(&mut a, &w1);
        step(&mut b, &w2);
    }
    assert_eq!(w1.tensor.to_vec::<f64>(), w2.tensor.to_vec::<f64>());
    let mut bad = saved.clone();
    bad[0].1.push(0.0);
    let e = b.load_state(&bad).unwrap_err().to_string();
    assert!(e.contains("w.v") && e.contains("3 values"), "{e}");
    assert!(b
        .load_state(&saved[..2])
        .unwrap_err()
        .to_string()
        .contains("w.t"));
}
