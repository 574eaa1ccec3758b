//! The losses' reductions (mean, sum, none) against the values and gradients PyTorch computed
//! in scripts/make_torch_optim_fixtures.py.

use dlkit_core::{DType, Tensor};
use dlkit_nn::{Loss, Reduction};

#[path = "common/torch_fixture.rs"]
mod torch_fixture;

use torch_fixture::{fixture, floats, shape};

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let dev = (g - w).abs() / w.abs().max(1.0);
        assert!(dev <= tol, "{what}[{i}]: got {g}, PyTorch {w}");
    }
}

/// Every loss case in `dtype`: the value (and its shape) and the output's gradient of
/// `sum(loss · upstream)`.
fn check_losses(dtype: DType, tol: f64) {
    let fx = fixture();
    for case in fx["losses"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let loss: Loss = serde_json::from_value(case["loss"].clone()).unwrap();
        let reduction: Reduction = serde_json::from_value(case["reduction"].clone()).unwrap();
        let out = &case["output"];
        let z = Tensor::from_vec(floats(&out["values"]), &shape(&out["shape"]))
            .to_dtype(dtype)
            .with_grad();
        let t = &case["targets"];
        let value = match t.get("indices") {
            Some(i) => {
                let idx: Vec<usize> = floats(i).iter().map(|&v| v as usize).collect();
                loss.compute_reduced(&z, &idx, reduction)
            }
            None => {
                let y = Tensor::from_vec(floats(&t["values"]), &shape(&t["shape"])).to_dtype(dtype);
                loss.compute_reduced(&z, &y, reduction)
            }
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(value.shape(), shape(&case["value_shape"]), "{name}");
        assert_close(name, &value.to_vec_f64(), &floats(&case["value"]), tol);
        let upstream = Tensor::from_vec(floats(&case["upstream"]), value.shape()).to_dtype(dtype);
        value.mul(&upstream).sum_all().backward();
        let grad = z.grad().unwrap().to_vec_f64();
        assert_close(
            &format!("{name} gradient"),
            &grad,
            &floats(&case["grad"]),
            tol,
        );
    }
}

#[test]
fn loss_reductions_match_pytorch_f64() {
    check_losses(DType::F64, 1e-10);
}

#[test]
fn loss_reductions_match_pytorch_f32() {
    check_losses(DType::F32, 1e-5);
}

#[test]
fn mean_reduction_is_the_plain_loss_bit_for_bit() {
    let z = Tensor::from_vec(vec![0.3f32, -1.2, 2.0, 0.7, -0.1, 0.4], &[2, 3]);
    let y = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0], &[2, 3]);
    for loss in [
        Loss::SoftmaxCrossEntropy,
        Loss::BinaryCrossEntropy,
        Loss::MeanSquaredError,
    ] {
        let a = loss.compute(&z, &y).unwrap().item();
        let b = loss
            .compute_reduced(&z, &y, Reduction::Mean)
            .unwrap()
            .item();
        assert_eq!(a.to_bits(), b.to_bits(), "{}", loss.name());
    }
}

#[test]
fn reduction_names_and_errors() {
    for r in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, format!("\"{}\"", r.name()));
    }
    assert_eq!(Reduction::default(), Reduction::Mean);
    let e = serde_json::from_str::<Reduction>(r#""avg""#)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown variant `avg`"), "{e}");
    // The unreduced losses check their inputs as the mean does.
    let z = Tensor::zeros(&[2, 3], DType::F32);
    let none = |l: Loss, t: &[usize]| {
        l.compute_reduced(&z, t, Reduction::None)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        none(Loss::SoftmaxCrossEntropy, &[0, 3]),
        Loss::SoftmaxCrossEntropy
            .compute(&z, &[0usize, 3][..])
            .unwrap_err()
            .to_string()
    );
    assert_eq!(
        none(Loss::SoftmaxCrossEntropy, &[0]),
        "softmax_cross_entropy: 1 labels for 2 rows of logits [2, 3]"
    );
    assert!(none(Loss::MeanSquaredError, &[0, 1]).contains("not class indices"));
    let flat = Tensor::zeros(&[6], DType::F32);
    let e = Loss::MeanSquaredError
        .compute_reduced(&z, &flat, Reduction::Sum)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("mean_squared_error") && e.contains("[2, 3]"),
        "{e}"
    );
}
