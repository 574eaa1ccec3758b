//! The PyTorch-form optimisers (SGD with momentum, dampening and Nesterov; RMSprop centred and
//! with momentum; Adam and AdamW with AMSGrad) against the values PyTorch computed in
//! scripts/make_torch_optim_fixtures.py, and their configs' checks.

use dlkit_core::{DType, Tensor};
use dlkit_nn::optim::{AdamW, Optimizer};
use dlkit_nn::{OptimizerConfig, Param, ParamKind};

#[path = "common/torch_fixture.rs"]
mod torch_fixture;

use torch_fixture::{fixture, floats, shape};

/// Sets `p`'s gradient to exactly `g`: the gradient of `L = sum(w * G)` is `G`.
fn set_grad(p: &Param, g: &[f64]) {
    let g = Tensor::from_vec(g.to_vec(), p.tensor.shape()).to_dtype(p.tensor.dtype());
    p.tensor.zero_grad();
    p.tensor.mul(&g).sum_all().backward();
}

/// Runs every optimiser of the fixture in `dtype`, asserting each parameter after each step
/// within `tol` of PyTorch's, relative to max(1, |expected|).
fn check_optimizers(dtype: DType, tol: f64) {
    let fx = fixture();
    for case in fx["optimizers"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let config: OptimizerConfig = serde_json::from_value(case["config"].clone())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let params: Vec<Param> = ["w", "b"]
            .iter()
            .map(|&n| {
                let spec = &fx["params"][n];
                let shape: Vec<usize> = shape(&spec["shape"]);
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
                let want = floats(&expected[p.name.as_str()]);
                for (i, (g, w)) in p.tensor.to_vec_f64().iter().zip(&want).enumerate() {
                    let dev = (g - w).abs() / w.abs().max(1.0);
                    assert!(
                        dev <= tol,
                        "{name} ({dtype}) step {} {}[{i}]: got {g}, PyTorch {w}",
                        step + 1,
                        p.name
                    );
                }
            }
        }
    }
}

#[test]
fn optimizers_match_pytorch_f64() {
    check_optimizers(DType::F64, 1e-10);
}

#[test]
fn optimizers_match_pytorch_f32() {
    check_optimizers(DType::F32, 1e-5);
}

#[test]
fn pytorch_options_change_the_updates_and_state() {
    // The fixture's AMSGrad and centred runs must differ from the plain ones, or they test
    // nothing.
    let fx = fixture();
    let last = |name: &str| {
        let case = fx["optimizers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        floats(&case["steps"][3]["w"])
    };
    assert_ne!(last("adam"), last("adam_amsgrad"));
    assert_ne!(last("rmsprop"), last("rmsprop_centered"));
    assert_ne!(last("sgd_momentum"), last("sgd_nesterov"));

    let w = Param::new("w", Tensor::ones(&[2], DType::F64), ParamKind::Weight);
    let mut opt = AdamW::new(vec![w.clone()], 0.1).amsgrad(true);
    w.tensor.square().sum_all().backward();
    opt.step();
    let names: Vec<String> = opt.state().into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["w.v", "w.s", "w.t", "w.s_max"]);
    assert_eq!(opt.name(), "adamw");
}

#[test]
fn adamw_decays_before_the_update_and_not_through_the_gradient() {
    // With a zero gradient Adam's step is 0, so one AdamW step only scales by 1 − α λ.
    let w = Param::new(
        "w",
        Tensor::from_vec(vec![2.0f64, -4.0], &[2]),
        ParamKind::Weight,
    );
    let mut opt = AdamW::new(vec![w.clone()], 0.1).weight_decay(0.5);
    w.tensor.mul_scalar(0.0).sum_all().backward();
    opt.step();
    assert_eq!(w.tensor.to_vec::<f64>(), vec![2.0 * 0.95, -4.0 * 0.95]);
}

#[test]
fn pytorch_option_defaults_and_errors() {
    let parse = |s: &str| serde_json::from_str::<OptimizerConfig>(s).unwrap();
    let err = |s: &str| parse(s).validate().unwrap_err().to_string();
    assert!(matches!(
        parse(r#"{"type": "adamw"}"#),
        OptimizerConfig::Adamw { lr, weight_decay, amsgrad: false, beta1, beta2, eps, .. }
            if lr == 0.001 && weight_decay == 0.01 && beta1 == 0.9 && beta2 == 0.999
                && eps == 1e-8
    ));
    assert!(matches!(
        parse(r#"{"type": "sgd"}"#),
        OptimizerConfig::GradientDescent { momentum, dampening, nesterov: false, .. }
            if momentum == 0.0 && dampening == 0.0
    ));
    assert!(matches!(
        parse(r#"{"type": "rmsprop"}"#),
        OptimizerConfig::Rmsprop { momentum, centered: false, .. } if momentum == 0.0
    ));
    // The defaults are not written back, so existing configs serialise as before.
    let json = serde_json::to_string(&parse(r#"{"type": "sgd"}"#)).unwrap();
    assert_eq!(
        json,
        r#"{"type":"gradient_descent","lr":0.01,"weight_decay":0.0,"decay_on":["weight"],"clip_norm":null}"#
    );
    assert_eq!(
        err(r#"{"type": "sgd", "nesterov": true}"#),
        "config: optimizer gradient_descent: `nesterov` needs `momentum` > 0 and \
         `dampening` = 0 (as torch.optim.SGD), got momentum 0 and dampening 0"
    );
    assert_eq!(
        err(r#"{"type": "sgd", "momentum": 0.9, "dampening": 0.1, "nesterov": true}"#),
        "config: optimizer gradient_descent: `nesterov` needs `momentum` > 0 and \
         `dampening` = 0 (as torch.optim.SGD), got momentum 0.9 and dampening 0.1"
    );
    assert_eq!(
        err(r#"{"type": "sgd", "momentum": 1.0}"#),
        "config: optimizer gradient_descent: `momentum` must be in [0, 1), got 1"
    );
    assert_eq!(
        err(r#"{"type": "sgd", "momentum": 0.5, "dampening": 1.5}"#),
        "config: optimizer gradient_descent: `dampening` must be in [0, 1], got 1.5"
    );
    assert_eq!(
        err(r#"{"type": "rmsprop", "momentum": -0.1}"#),
        "config: optimizer rmsprop: `momentum` must be in [0, 1), got -0.1"
    );
    assert_eq!(
        err(r#"{"type": "adamw", "weight_decay": -1}"#),
        "config: optimizer adamw: `weight_decay` must be >= 0, got -1"
    );
    assert_eq!(
        err(r#"{"type": "adamw", "beta2": 1}"#),
        "config: optimizer adamw: `beta2` must be in [0, 1), got 1"
    );
    // Options of one optimiser are unknown fields of another.
    let unknown = serde_json::from_str::<OptimizerConfig>(r#"{"type": "adamw", "centered": true}"#);
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `centered`"));
}
