//! Gradient checks in f64 of every op, the course's way: two-sided differences with
//! epsilon 1e-7 against back-propagation, relative difference below 1e-7. Each op is checked
//! through `sum(op(x) * G)` with a fixed random `G`, so the scalar is well conditioned and
//! every output element gets a different weight. Inputs stay away from kinks (0 for abs and
//! ReLU, the bounds of clamp, ties for max), so the course's bound holds everywhere.
//!
//! Run with `cargo test -p dlkit-core --release --test gradcheck_ops -- --nocapture` to see
//! each relative difference.

mod common;

use common::{away_from_zero, check_op, check_scalar, distinct, randn, uniform};
use dlkit_core::{no_grad, DType, Tensor};

// ---- elementwise binary ------------------------------------------------------------

#[test]
fn add() {
    check_op("add", &[randn(&[3, 4], 1), randn(&[3, 4], 2)], 3, |t| {
        t[0].add(&t[1])
    });
}

#[test]
fn sub() {
    check_op("sub", &[randn(&[3, 4], 4), randn(&[3, 4], 5)], 6, |t| {
        t[0].sub(&t[1])
    });
}

#[test]
fn mul() {
    check_op("mul", &[randn(&[3, 4], 7), randn(&[3, 4], 8)], 9, |t| {
        t[0].mul(&t[1])
    });
}

#[test]
fn div() {
    // Denominators at least 0.2 from zero.
    let b = away_from_zero(&[3, 4], 11);
    check_op("div", &[randn(&[3, 4], 10), b], 12, |t| t[0].div(&t[1]));
}

#[test]
fn maximum() {
    // a and b differ by at least 0.1 everywhere, so no element sits on the kink a == b.
    let a = randn(&[3, 4], 13);
    let gap = away_from_zero(&[3, 4], 14).mul_scalar(0.5);
    let b = a.add(&gap);
    check_op("maximum", &[a, b], 15, |t| t[0].maximum(&t[1]));
}

#[test]
fn operators_match_methods() {
    check_op(
        "operators",
        &[randn(&[2, 3], 16), away_from_zero(&[2, 3], 17)],
        18,
        |t| (&t[0] + &t[1]) * &t[0] - &t[1] / &t[0].add_scalar(3.0) + (-&t[0]) * 2.0,
    );
}

// ---- broadcasting ---------------------------------------------------------------------

#[test]
fn add_broadcast_row() {
    check_op(
        "add [4,3]+[3]",
        &[randn(&[4, 3], 20), randn(&[3], 21)],
        22,
        |t| t[0].add(&t[1]),
    );
}

#[test]
fn mul_broadcast_outer() {
    check_op(
        "mul [5,1]*[1,6]",
        &[randn(&[5, 1], 23), randn(&[1, 6], 24)],
        25,
        |t| t[0].mul(&t[1]),
    );
}

#[test]
fn div_broadcast_rank3() {
    check_op(
        "div [2,1,3]/[4,1]",
        &[randn(&[2, 1, 3], 26), away_from_zero(&[4, 1], 27)],
        28,
        |t| t[0].div(&t[1]),
    );
}

#[test]
fn sub_broadcast_scalar_tensor() {
    check_op(
        "sub [2,3]-[]",
        &[randn(&[2, 3], 29), Tensor::scalar(0.7f64)],
        30,
        |t| t[0].sub(&t[1]),
    );
}

// ---- elementwise unary ------------------------------------------------------------------

#[test]
fn neg() {
    check_op("neg", &[randn(&[3, 4], 31)], 32, |t| t[0].neg());
}

#[test]
fn powf() {
    // Positive bases, so every exponent is defined and smooth.
    for (i, p) in [2.0, 3.0, 2.5, -1.5, 0.5].into_iter().enumerate() {
        check_op(
            &format!("powf({p})"),
            &[uniform(&[3, 4], 0.5, 2.0, 33 + i as u64)],
            40 + i as u64,
            |t| t[0].powf(p),
        );
    }
}

#[test]
fn sqrt() {
    check_op("sqrt", &[uniform(&[3, 4], 0.5, 2.0, 45)], 46, |t| {
        t[0].sqrt()
    });
}

#[test]
fn exp() {
    check_op("exp", &[randn(&[3, 4], 47)], 48, |t| t[0].exp());
}

#[test]
fn log() {
    check_op("log", &[uniform(&[3, 4], 0.5, 2.0, 49)], 50, |t| t[0].log());
}

#[test]
fn abs() {
    check_op("abs", &[away_from_zero(&[3, 4], 51)], 52, |t| t[0].abs());
}

#[test]
fn clamp() {
    // Values in the interior, below and above [-0.5, 0.5], none within 0.05 of a bound.
    let x = Tensor::from_vec(
        vec![
            -1.2f64,
            -0.7,
            -0.3,
            0.0,
            0.2,
            0.45 - 0.1,
            0.8,
            1.3,
            -0.1,
            0.1,
            0.6,
            -0.9,
        ],
        &[3, 4],
    );
    let r = check_op("clamp", &[x], 53, |t| t[0].clamp(-0.5, 0.5));
    // Outside the bounds the gradient is exactly zero.
    let zeros = r.analytic[0].iter().filter(|&&g| g == 0.0).count();
    assert_eq!(zeros, 6);
}

#[test]
fn affine_add_scalar_mul_scalar() {
    check_op("affine", &[randn(&[3, 4], 54)], 55, |t| {
        t[0].affine(-1.7, 0.3)
    });
    check_op("add_scalar", &[randn(&[3, 4], 56)], 57, |t| {
        t[0].add_scalar(2.5)
    });
    check_op("mul_scalar", &[randn(&[3, 4], 58)], 59, |t| {
        t[0].mul_scalar(-0.6)
    });
    check_op("rsub_scalar", &[randn(&[3, 4], 60)], 61, |t| {
        t[0].rsub_scalar(1.5)
    });
}

#[test]
fn square() {
    check_op("square", &[randn(&[3, 4], 62)], 63, |t| t[0].square());
}

// ---- reductions -----------------------------------------------------------------------

#[test]
fn sum() {
    for (i, (axes, keep)) in [
        (&[0isize][..], true),
        (&[1], false),
        (&[-1], true),
        (&[0, 2], false),
        (&[0, 1, 2], true),
    ]
    .into_iter()
    .enumerate()
    {
        check_op(
            &format!("sum({axes:?}, keepdim {keep})"),
            &[randn(&[2, 3, 4], 70 + i as u64)],
            80 + i as u64,
            |t| t[0].sum(axes, keep),
        );
    }
    check_op("sum_all", &[randn(&[2, 3], 90)], 91, |t| t[0].sum_all());
}

#[test]
fn mean() {
    for (i, (axes, keep)) in [(&[0isize][..], false), (&[1, 2], true), (&[-2], false)]
        .into_iter()
        .enumerate()
    {
        check_op(
            &format!("mean({axes:?}, keepdim {keep})"),
            &[randn(&[2, 3, 4], 92 + i as u64)],
            96 + i as u64,
            |t| t[0].mean(axes, keep),
        );
    }
    check_op("mean_all", &[randn(&[2, 3], 99)], 100, |t| t[0].mean_all());
}

#[test]
fn max() {
    // Distinct values 0.125 apart: no ties, and epsilon never changes the argmax.
    for (i, (axes, keep)) in [
        (&[0isize][..], true),
        (&[1], false),
        (&[-1], false),
        (&[0, 2], true),
    ]
    .into_iter()
    .enumerate()
    {
        check_op(
            &format!("max({axes:?}, keepdim {keep})"),
            &[distinct(&[2, 3, 4], 101 + i as u64)],
            105 + i as u64,
            |t| t[0].max(axes, keep),
        );
    }
    // On a transposed (strided) view too.
    check_op("max of transposed", &[distinct(&[3, 4], 109)], 110, |t| {
        t[0].t().max(&[1], false)
    });
}

// ---- shape ops --------------------------------------------------------------------------

#[test]
fn reshape() {
    check_op("reshape", &[randn(&[2, 3, 4], 120)], 121, |t| {
        t[0].reshape(&[4, 6])
    });
    // Of a strided view (goes through a copy).
    check_op("reshape of transposed", &[randn(&[3, 4], 122)], 123, |t| {
        t[0].t().reshape(&[2, 6])
    });
}

#[test]
fn transpose() {
    check_op("transpose", &[randn(&[2, 3, 4], 124)], 125, |t| {
        t[0].transpose(0, 2)
    });
    check_op("t", &[randn(&[3, 5], 126)], 127, |t| t[0].t());
}

#[test]
fn permute() {
    check_op("permute", &[randn(&[2, 3, 4], 128)], 129, |t| {
        t[0].permute(&[2, 0, 1])
    });
}

#[test]
fn narrow() {
    check_op("narrow axis 1", &[randn(&[3, 5], 130)], 131, |t| {
        t[0].narrow(1, 1, 3)
    });
    check_op(
        "narrow axis -1 of 3-d",
        &[randn(&[2, 3, 4], 132)],
        133,
        |t| t[0].narrow(-1, 2, 2),
    );
}

#[test]
fn concat() {
    check_op(
        "concat axis 0",
        &[
            randn(&[2, 3], 134),
            randn(&[1, 3], 135),
            randn(&[3, 3], 136),
        ],
        137,
        |t| Tensor::concat(&[&t[0], &t[1], &t[2]], 0),
    );
    check_op(
        "concat axis 1",
        &[
            randn(&[2, 1], 138),
            randn(&[2, 3], 139),
            randn(&[2, 2], 140),
        ],
        141,
        |t| Tensor::concat(&[&t[0], &t[1], &t[2]], 1),
    );
    // The same tensor twice, and a strided operand.
    check_op(
        "concat with repeats and views",
        &[randn(&[3, 2], 142), randn(&[2, 3], 143)],
        144,
        |t| Tensor::concat(&[&t[0], &t[1].t(), &t[0]], 1),
    );
}

#[test]
fn pad() {
    check_op("pad", &[randn(&[2, 3], 145)], 146, |t| {
        t[0].pad(&[(1, 0), (2, 1)], 0.5)
    });
}

#[test]
fn broadcast_to() {
    check_op("broadcast_to [3]->[4,3]", &[randn(&[3], 147)], 148, |t| {
        t[0].broadcast_to(&[4, 3])
    });
    check_op(
        "broadcast_to [2,1]->[3,2,4]",
        &[randn(&[2, 1], 149)],
        150,
        |t| t[0].broadcast_to(&[3, 2, 4]),
    );
}

#[test]
fn contiguous() {
    // A transposed view, so `contiguous` copies.
    check_op("contiguous", &[randn(&[3, 4], 151)], 152, |t| {
        let c = t[0].t().contiguous();
        assert!(c.is_contiguous());
        c
    });
}

#[test]
fn to_dtype() {
    // f64 -> f64 is the identity (the trivial case a gradient check can see).
    check_op("to_dtype f64", &[randn(&[3, 4], 153)], 154, |t| {
        t[0].to_dtype(DType::F64)
    });
    // Through f32 and back, the gradient arrives converted to the source dtype. Powers of two
    // are exact in f32, so the values are exact too.
    let x = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]).with_grad();
    let y = x.to_dtype(DType::F32);
    assert_eq!(y.dtype(), DType::F32);
    y.mul_scalar(4.0).to_dtype(DType::F64).sum_all().backward();
    let g = x.grad().unwrap();
    assert_eq!(g.dtype(), DType::F64);
    assert_eq!(g.to_vec::<f64>(), vec![4.0; 3]);
}

// ---- matmul -------------------------------------------------------------------------------

#[test]
fn matmul_2d() {
    check_op(
        "matmul 2-d",
        &[randn(&[3, 4], 160), randn(&[4, 5], 161)],
        162,
        |t| t[0].matmul(&t[1]),
    );
}

#[test]
fn matmul_transposed_view() {
    // x · wᵀ with w stored as [out, in], as `Dense` does.
    check_op(
        "matmul x·wᵀ",
        &[randn(&[3, 4], 163), randn(&[5, 4], 164)],
        165,
        |t| t[0].matmul(&t[1].t()),
    );
    check_op(
        "matmul aᵀ·b",
        &[randn(&[4, 3], 166), randn(&[4, 2], 167)],
        168,
        |t| t[0].t().matmul(&t[1]),
    );
}

#[test]
fn matmul_batched() {
    check_op(
        "matmul batched",
        &[randn(&[2, 3, 4], 169), randn(&[2, 4, 5], 170)],
        171,
        |t| t[0].matmul(&t[1]),
    );
    // A shared right-hand matrix broadcast over the batch.
    check_op(
        "matmul batched x 2-d",
        &[randn(&[2, 3, 4], 172), randn(&[4, 2], 173)],
        174,
        |t| t[0].matmul(&t[1]),
    );
    // Broadcast batch axes [2,1] x [3] and a transposed view.
    check_op(
        "matmul broadcast batch, transposed",
        &[randn(&[2, 1, 3, 4], 175), randn(&[3, 5, 4], 176)],
        177,
        |t| t[0].matmul(&t[1].transpose(-2, -1)),
    );
}

// ---- activations ------------------------------------------------------------------------

#[test]
fn sigmoid() {
    check_op(
        "sigmoid",
        &[randn(&[3, 4], 180).mul_scalar(2.0)],
        181,
        |t| t[0].sigmoid(),
    );
}

#[test]
fn tanh() {
    check_op("tanh", &[randn(&[3, 4], 182)], 183, |t| t[0].tanh());
}

#[test]
fn relu() {
    let r = check_op("relu", &[away_from_zero(&[4, 5], 184)], 185, |t| {
        t[0].relu()
    });
    assert!(
        r.analytic[0].contains(&0.0),
        "some inputs should be negative"
    );
}

#[test]
fn leaky_relu() {
    check_op("leaky_relu", &[away_from_zero(&[4, 5], 186)], 187, |t| {
        t[0].leaky_relu(0.01)
    });
    check_op(
        "leaky_relu 0.2",
        &[away_from_zero(&[4, 5], 188)],
        189,
        |t| t[0].leaky_relu(0.2),
    );
}

// ---- softmax ------------------------------------------------------------------------------

#[test]
fn softmax() {
    check_op("softmax axis -1", &[randn(&[3, 5], 190)], 191, |t| {
        t[0].softmax(-1)
    });
    check_op("softmax axis 0", &[randn(&[3, 5], 192)], 193, |t| {
        t[0].softmax(0)
    });
    check_op(
        "softmax axis 1 of 3-d",
        &[randn(&[2, 3, 4], 194)],
        195,
        |t| t[0].softmax(1),
    );
}

#[test]
fn log_softmax() {
    check_op("log_softmax axis -1", &[randn(&[3, 5], 196)], 197, |t| {
        t[0].log_softmax(-1)
    });
    check_op("log_softmax axis 0", &[randn(&[3, 5], 198)], 199, |t| {
        t[0].log_softmax(0)
    });
}

// ---- losses -------------------------------------------------------------------------------

#[test]
fn softmax_cross_entropy_indices() {
    let labels = [2usize, 0, 3, 3];
    check_scalar(
        "softmax_cross_entropy_indices",
        &[randn(&[4, 5], 200)],
        |t| t[0].softmax_cross_entropy_indices(&labels),
    );
    // Inside a larger graph, the upstream gradient scales the fused one.
    check_scalar(
        "softmax_cross_entropy_indices scaled",
        &[randn(&[4, 5], 201)],
        |t| t[0].softmax_cross_entropy_indices(&labels).mul_scalar(-2.5),
    );
}

#[test]
fn softmax_cross_entropy_one_hot() {
    let labels = [1usize, 4, 0];
    let mut y = vec![0.0f64; 15];
    for (i, &l) in labels.iter().enumerate() {
        y[i * 5 + l] = 1.0;
    }
    let y = Tensor::from_vec(y, &[3, 5]);
    let z = randn(&[3, 5], 202);
    // Gradients with respect to the logits and the (one-hot) targets.
    check_scalar(
        "softmax_cross_entropy one-hot",
        &[z.clone(), y.clone()],
        |t| t[0].softmax_cross_entropy(&t[1]),
    );
    // One-hot targets give the same loss as class indices.
    let a = z.softmax_cross_entropy(&y).item();
    let b = z.softmax_cross_entropy_indices(&labels).item();
    assert!((a - b).abs() < 1e-12, "{a} vs {b}");
}

#[test]
fn softmax_cross_entropy_soft_targets() {
    let y = uniform(&[3, 4], 0.1, 1.0, 203);
    let y = y.div(&y.sum(&[-1], true));
    check_scalar(
        "softmax_cross_entropy soft",
        &[randn(&[3, 4], 204), y],
        |t| t[0].softmax_cross_entropy(&t[1]),
    );
    // Targets whose rows do not sum to one (the general rule dz = (p Σy - y)/m).
    check_scalar(
        "softmax_cross_entropy unnormalised",
        &[randn(&[3, 4], 205), uniform(&[3, 4], 0.0, 1.0, 206)],
        |t| t[0].softmax_cross_entropy(&t[1]).mul_scalar(0.7),
    );
}

#[test]
fn binary_cross_entropy_with_logits() {
    let y = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0, 1.0, 0.0], &[2, 3]);
    check_scalar(
        "binary_cross_entropy hard targets",
        &[randn(&[2, 3], 207).mul_scalar(2.0), y],
        |t| t[0].binary_cross_entropy_with_logits(&t[1]),
    );
    check_scalar(
        "binary_cross_entropy soft targets",
        &[randn(&[4, 1], 208), uniform(&[4, 1], 0.0, 1.0, 209)],
        |t| t[0].binary_cross_entropy_with_logits(&t[1]),
    );
}

// ---- composite ----------------------------------------------------------------------------

#[test]
fn dense_layer_with_loss() {
    let labels = [0usize, 2, 1, 2];
    check_scalar(
        "dense + relu + softmax_cross_entropy",
        &[
            randn(&[4, 3], 210),
            randn(&[5, 3], 211),
            randn(&[5], 212),
            randn(&[3, 5], 213),
        ],
        |t| {
            let h = t[0].matmul(&t[1].t()).add(&t[2]).tanh();
            h.matmul(&t[3].t()).softmax_cross_entropy_indices(&labels)
        },
    );
}

// ---- autograd behaviour -------------------------------------------------------------------

#[test]
fn tensor_used_twice_in_one_op() {
    let x = Tensor::from_vec(vec![1.5f64, -2.0, 0.25], &[3]).with_grad();
    x.mul(&x).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![3.0, -4.0, 0.5]);
    check_op("x*x", &[randn(&[2, 3], 220)], 221, |t| t[0].mul(&t[0]));
}

#[test]
fn tensor_feeding_two_branches() {
    let v = [0.3f64, -0.8, 1.1];
    let x = Tensor::from_vec(v.to_vec(), &[3]).with_grad();
    let a = x.tanh().sum_all();
    let b = x.mul_scalar(3.0).exp().sum_all();
    a.add(&b).backward();
    let g = x.grad().unwrap().to_vec::<f64>();
    for (g, v) in g.iter().zip(v) {
        let want = 1.0 - v.tanh().powi(2) + 3.0 * (3.0 * v).exp();
        assert!((g - want).abs() < 1e-12 * want.abs(), "{g} vs {want}");
    }
    check_op("two branches", &[randn(&[2, 3], 222)], 223, |t| {
        let h = t[0].sigmoid();
        h.mul(&t[0].exp()).add(&h.sum(&[1], true))
    });
}

#[test]
fn detach_stops_gradient() {
    let x = Tensor::from_vec(vec![2.0f64, -3.0], &[2]).with_grad();
    let d = x.detach();
    assert!(!d.requires_grad());
    assert_eq!(d.op_name(), None);
    // y = x * stop(x): dy/dx = stop(x) only.
    x.mul(&d).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, -3.0]);
    // The detached tensor shares the values but collects no gradient.
    assert_eq!(d.to_vec::<f64>(), vec![2.0, -3.0]);
    assert!(d.grad().is_none());
    // Detaching the result of an op cuts the whole path.
    let y = x.exp().detach();
    assert!(y.mul_scalar(2.0).sum_all().try_backward().is_err());
}

#[test]
fn no_grad_records_nothing() {
    let x = randn(&[2, 3], 224).with_grad();
    let y = no_grad(|| x.exp().mul(&x).sum_all());
    assert!(!y.requires_grad());
    assert_eq!(y.op_name(), None);
    // Recording resumes afterwards.
    let z = x.exp().sum_all();
    assert!(z.requires_grad());
    assert_eq!(z.op_name(), Some("sum"));
    // Nested no_grad restores the outer state.
    no_grad(|| {
        no_grad(|| {});
        assert!(!dlkit_core::is_grad_enabled());
    });
    assert!(dlkit_core::is_grad_enabled());
}

#[test]
fn backward_on_non_scalar_is_an_error() {
    let x = randn(&[2, 3], 225).with_grad();
    let y = x.exp();
    let e = y.try_backward().unwrap_err().to_string();
    assert!(e.contains("backward"), "{e}");
    assert!(e.contains("[2, 3]"), "{e}");
    assert!(e.contains("scalar"), "{e}");
    assert!(x.grad().is_none());
    // The plain form panics with the same message.
    let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| y.backward())).unwrap_err();
    assert_eq!(p.downcast_ref::<String>(), Some(&e));
}

#[test]
fn grads_accumulate_and_zero_grad_clears() {
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).with_grad();
    let w = Tensor::from_vec(vec![0.5f64, -1.0, 2.0], &[3]);
    x.mul(&w).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![0.5, -1.0, 2.0]);
    x.mul(&w).sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![1.0, -2.0, 4.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    x.square().sum_all().backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), vec![2.0, 4.0, 6.0]);
}

#[test]
fn leaf_without_grad_gets_none() {
    let x = randn(&[2], 226).with_grad();
    let c = randn(&[2], 227);
    x.mul(&c).sum_all().backward();
    assert!(x.grad().is_some());
    assert!(c.grad().is_none());
}

#[test]
fn the_check_catches_a_wrong_gradient() {
    // `x * stop(x)` back-propagates x·G where the true derivative of the value is 2x·G: the
    // check must see the missing half (relative difference 1/3).
    let g = randn(&[2, 3], 228);
    let r = dlkit_core::gradient_check(
        &[randn(&[2, 3], 229)],
        dlkit_core::gradcheck::EPSILON,
        |t| t[0].mul(&t[0].detach()).mul(&g).sum_all(),
    )
    .unwrap();
    assert!((r.relative_difference - 1.0 / 3.0).abs() < 1e-6, "{r:?}");
}
