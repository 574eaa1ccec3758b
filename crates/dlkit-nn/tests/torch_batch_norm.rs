//! Batch norm's `momentum_pytorch` against the running statistics of torch.nn.BatchNorm1d/2d
//! (scripts/make_torch_optim_fixtures.py), and its checks.

use dlkit_core::{DType, Tensor};
use dlkit_nn::layers::batch_norm::{BatchNorm, BatchNormSpec};
use dlkit_nn::{LayerSpec, Module};

#[path = "common/torch_fixture.rs"]
mod torch_fixture;

use torch_fixture::{fixture, floats, shape};

fn check_running_stats(dtype: DType, tol: f64) {
    let fx = fixture();
    for case in fx["batch_norm"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let shape: Vec<usize> = shape(&case["shape"]);
        let spec = BatchNormSpec {
            momentum_pytorch: Some(case["momentum_pytorch"].as_f64().unwrap()),
            epsilon: case["epsilon"].as_f64().unwrap(),
            ..BatchNormSpec::default()
        };
        let bn = BatchNorm::new(shape[shape.len() - 1], spec, dtype).unwrap();
        for (step, batch) in case["batches"].as_array().unwrap().iter().enumerate() {
            let x = Tensor::from_vec(floats(batch), &shape).to_dtype(dtype);
            bn.forward(&x).unwrap();
            for (what, got) in [
                ("running_mean", bn.running_mean()),
                ("running_var", bn.running_var()),
            ] {
                let want = floats(&case[what][step]);
                for (i, (g, w)) in got.to_vec_f64().iter().zip(&want).enumerate() {
                    let dev = (g - w).abs() / w.abs().max(1.0);
                    assert!(
                        dev <= tol,
                        "{name} ({dtype}) step {} {what}[{i}]: got {g}, PyTorch {w}",
                        step + 1
                    );
                }
            }
        }
    }
}

#[test]
fn running_stats_match_pytorch_f64() {
    check_running_stats(DType::F64, 1e-10);
}

#[test]
fn running_stats_match_pytorch_f32() {
    check_running_stats(DType::F32, 1e-5);
}

#[test]
fn momentum_pytorch_is_checked_and_left_out_of_specs_when_unset() {
    let err = |spec: BatchNormSpec| spec.validate().unwrap_err().to_string();
    assert_eq!(
        err(BatchNormSpec {
            momentum_pytorch: Some(1.5),
            ..Default::default()
        }),
        "model: batch_norm needs 0 <= momentum_pytorch <= 1 (PyTorch's momentum, the weight of the \
         batch statistic), got 1.5"
    );
    assert_eq!(
        err(BatchNormSpec {
            momentum: 0.8,
            momentum_pytorch: Some(0.1),
            ..Default::default()
        }),
        "model: batch_norm takes `momentum` (dlkit's, the weight of the old running value) or \
         `momentum_pytorch` (PyTorch's, the weight of the batch), not both; got momentum 0.8 \
         and momentum_pytorch 0.1"
    );
    let parse = |s: &str| serde_json::from_str::<LayerSpec>(s).unwrap();
    let spec = parse(r#"{"type": "batch_norm"}"#);
    let json = serde_json::to_string(&spec).unwrap();
    assert!(!json.contains("momentum_pytorch"), "{json}");
    let torch = parse(r#"{"type": "batch_norm", "momentum_pytorch": 0.1}"#);
    let LayerSpec::BatchNorm(s) = &torch else {
        panic!("{torch:?}")
    };
    assert_eq!(s.momentum_pytorch, Some(0.1));
    let again = parse(&serde_json::to_string(&torch).unwrap());
    assert_eq!(again, torch);
}
