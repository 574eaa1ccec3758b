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
use dlkit_core::{no_grad, DType, Padding, Tensor};

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

// ---- convolution and pooling (NHWC inputs, HWIO filters) ---------------------------------

/// `Padding::Explicit` from `(top, bottom, left, right)`.
fn pads(top: usize, bottom: usize, left: usize, right: usize) -> Padding {
    Padding::Explicit {
        top,
        bottom,
        left,
        right,
    }
}

#[test]
fn conv2d_valid_stride_1() {
    check_op(
        "conv2d 3x2 valid s1 + bias",
        &[
            randn(&[2, 5, 4, 3], 300),
            randn(&[3, 2, 3, 2], 301),
            randn(&[2], 302),
        ],
        303,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::Valid),
    );
    check_op(
        "conv2d 3x3 valid s1 no bias",
        &[randn(&[1, 4, 5, 2], 304), randn(&[3, 3, 2, 3], 305)],
        306,
        |t| t[0].conv2d(&t[1], None, (1, 1), Padding::Valid),
    );
}

#[test]
fn conv2d_strided() {
    check_op(
        "conv2d 3x3 valid s2 + bias",
        &[
            randn(&[2, 5, 6, 2], 310),
            randn(&[3, 3, 2, 3], 311),
            randn(&[3], 312),
        ],
        313,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (2, 2), Padding::Valid),
    );
    // Stride (2, 1): rows skipped, columns not; 7 rows leave the last one unread.
    check_op(
        "conv2d 2x2 valid s(2,1) no bias",
        &[randn(&[1, 6, 5, 2], 314), randn(&[2, 2, 2, 2], 315)],
        316,
        |t| t[0].conv2d(&t[1], None, (2, 1), Padding::Valid),
    );
    check_op(
        "conv2d 3x2 same s(2,1) + bias",
        &[
            randn(&[2, 7, 4, 2], 317),
            randn(&[3, 2, 2, 3], 318),
            randn(&[3], 319),
        ],
        320,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (2, 1), Padding::Same),
    );
}

#[test]
fn conv2d_same() {
    check_op(
        "conv2d 3x3 same s1 + bias",
        &[
            randn(&[2, 4, 5, 2], 321),
            randn(&[3, 3, 2, 3], 322),
            randn(&[3], 323),
        ],
        324,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::Same),
    );
    // Even kernels: the odd padding pixel goes to the bottom / right.
    check_op(
        "conv2d 2x4 same s1 + bias",
        &[
            randn(&[1, 4, 5, 2], 325),
            randn(&[2, 4, 2, 3], 326),
            randn(&[3], 327),
        ],
        328,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::Same),
    );
    check_op(
        "conv2d 4x2 same s2 no bias",
        &[randn(&[2, 5, 6, 2], 329), randn(&[4, 2, 2, 2], 330)],
        331,
        |t| t[0].conv2d(&t[1], None, (2, 2), Padding::Same),
    );
}

#[test]
fn conv2d_explicit_asymmetric_padding() {
    check_op(
        "conv2d 3x3 pads (1,2,0,1) s1 + bias",
        &[
            randn(&[1, 4, 4, 2], 332),
            randn(&[3, 3, 2, 2], 333),
            randn(&[2], 334),
        ],
        335,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), pads(1, 2, 0, 1)),
    );
    // Padding wider than half the kernel: some windows see only zeros on one side.
    check_op(
        "conv2d 3x3 pads (2,0,1,3) s2 no bias",
        &[randn(&[2, 5, 5, 3], 336), randn(&[3, 3, 3, 2], 337)],
        338,
        |t| t[0].conv2d(&t[1], None, (2, 2), pads(2, 0, 1, 3)),
    );
    // `uniform` is explicit padding on every side.
    check_op(
        "conv2d 2x3 uniform(1) s(1,2) + bias",
        &[
            randn(&[1, 3, 5, 2], 339),
            randn(&[2, 3, 2, 2], 340),
            randn(&[2], 341),
        ],
        342,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 2), Padding::uniform(1)),
    );
}

#[test]
fn conv2d_1x1() {
    // Stride 1, no padding: the direct path (the input is the patch matrix).
    check_op(
        "conv2d 1x1 s1 + bias",
        &[
            randn(&[2, 3, 3, 4], 343),
            randn(&[1, 1, 4, 3], 344),
            randn(&[3], 345),
        ],
        346,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::Valid),
    );
    // Strided or padded 1x1 goes through im2col.
    check_op(
        "conv2d 1x1 s2 no bias",
        &[randn(&[1, 5, 4, 3], 347), randn(&[1, 1, 3, 2], 348)],
        349,
        |t| t[0].conv2d(&t[1], None, (2, 2), Padding::Valid),
    );
    check_op(
        "conv2d 1x1 uniform(1) + bias",
        &[
            randn(&[1, 2, 3, 2], 350),
            randn(&[1, 1, 2, 2], 351),
            randn(&[2], 352),
        ],
        353,
        |t| t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::uniform(1)),
    );
}

#[test]
fn conv2d_backward_passes_alone() {
    // An input without gradient (a first layer): only the backward-filter pass runs, for the
    // filters and the bias; filters without gradient: only the backward-data pass runs.
    // Each check gets tensors of its own, so that no other one asks for their gradients.
    let (x, w) = (|| randn(&[2, 5, 6, 3], 370), || randn(&[3, 2, 3, 4], 371));
    let x0 = x();
    check_op(
        "conv2d filters and bias only",
        &[w(), randn(&[4], 372)],
        373,
        |t| x0.conv2d(&t[0], Some(&t[1]), (2, 1), pads(1, 0, 2, 1)),
    );
    check_op("conv2d filters only", &[w()], 374, |t| {
        x0.conv2d(&t[0], None, (1, 1), Padding::Same)
    });
    let w0 = w();
    check_op("conv2d input only", &[x()], 375, |t| {
        t[0].conv2d(&w0, None, (2, 1), pads(1, 0, 2, 1))
    });
    // The gradients not asked for are not computed.
    let (x1, w1, b1) = (x(), w().with_grad(), randn(&[4], 376).with_grad());
    x1.conv2d(&w1, Some(&b1), (1, 1), Padding::Valid)
        .sum_all()
        .backward();
    assert!(x1.grad().is_none() && w1.grad().is_some() && b1.grad().is_some());
    let (x2, w2) = (x().with_grad(), w());
    x2.conv2d(&w2, None, (1, 1), Padding::Valid)
        .sum_all()
        .backward();
    assert!(x2.grad().is_some() && w2.grad().is_none());
}

#[test]
fn conv2d_of_non_contiguous_views() {
    // An NCHW tensor permuted to NHWC, and filters stored OIHW permuted to HWIO.
    let x = randn(&[2, 3, 4, 5], 354);
    let w = randn(&[2, 3, 3, 2], 355);
    let b = randn(&[2], 356);
    let xv = x.permute(&[0, 2, 3, 1]);
    let wv = w.permute(&[2, 3, 1, 0]);
    assert!(!xv.is_contiguous() && !wv.is_contiguous());
    // The forward of the views equals that of their contiguous copies.
    let y = xv.conv2d(&wv, Some(&b), (1, 1), Padding::Same);
    let want = xv
        .contiguous()
        .conv2d(&wv.contiguous(), Some(&b), (1, 1), Padding::Same);
    assert_eq!(y.to_vec::<f64>(), want.to_vec::<f64>());
    check_op("conv2d of permuted views", &[x, w, b], 357, |t| {
        t[0].permute(&[0, 2, 3, 1]).conv2d(
            &t[1].permute(&[2, 3, 1, 0]),
            Some(&t[2]),
            (1, 1),
            Padding::Same,
        )
    });
    // A narrowed (offset, strided) input.
    check_op(
        "conv2d of a narrowed input",
        &[randn(&[1, 5, 6, 4], 358), randn(&[2, 2, 2, 3], 359)],
        360,
        |t| {
            t[0].narrow(2, 1, 4)
                .narrow(3, 1, 2)
                .conv2d(&t[1], None, (1, 2), Padding::Valid)
        },
    );
}

#[test]
fn conv2d_winograd_3x3_stride_1_32_channels() {
    // 3x3, stride 1, 32 channels in and out, a 4x4 output: the Winograd F(2x2, 3x3) path
    // (`kernels::conv` takes it from 32 channels and a 4x4 output up). Every entry of x and b
    // is checked, and 96 of the 9216 filter entries drawn at random: the filters are w0 with
    // those entries replaced by the checked input `d`, so dL/dd is dL/dw at those entries.
    // Inputs at a layer's scale (He-initialised filters, x ~ N(0, 1/16)): the function is
    // bilinear, so the differences have no truncation error, and the rounding noise
    // (~ u |y| / eps) stays well below the bound; N(0, 1) everything sits near 1e-7.
    let x = randn(&[1, 4, 4, 32], 361).mul_scalar(0.25);
    let w0 = randn(&[3, 3, 32, 32], 362).mul_scalar((2.0f64 / 288.0).sqrt());
    let b = randn(&[32], 363).mul_scalar(0.1);
    let g = randn(&[1, 4, 4, 32], 364);
    let mut rng = dlkit_core::Rng::new(365);
    let len = w0.numel();
    let mut picked: Vec<usize> = (0..96).map(|_| rng.below(len)).collect();
    picked.sort_unstable();
    picked.dedup();
    let flat = w0.reshape(&[len]);
    let d = Tensor::from_vec(
        picked.iter().map(|&i| flat.to_vec::<f64>()[i]).collect(),
        &[picked.len()],
    );
    // The pieces of w0 between the picked entries.
    let mut gaps = vec![];
    let mut start = 0;
    for &i in picked.iter().chain([&len]) {
        gaps.push(flat.narrow(0, start, i - start));
        start = i + 1;
    }
    let filters = |d: &Tensor| {
        let mut parts = vec![gaps[0].clone()];
        for (r, gap) in gaps[1..].iter().enumerate() {
            parts.push(d.narrow(0, r, 1));
            parts.push(gap.clone());
        }
        Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0).reshape(&[3, 3, 32, 32])
    };
    assert_eq!(filters(&d).to_vec::<f64>(), w0.to_vec::<f64>());
    check_scalar("conv2d winograd 3x3 same 32->32", &[x, d, b], |t| {
        t[0].conv2d(&filters(&t[1]), Some(&t[2]), (1, 1), Padding::Same)
            .mul(&g)
            .sum_all()
    });
}

#[test]
fn max_pool2d_window_equals_stride() {
    check_op(
        "max_pool2d 2x2 s2",
        &[distinct(&[2, 4, 6, 3], 370)],
        371,
        |t| t[0].max_pool2d((2, 2), (2, 2)),
    );
    // A ragged edge: the last row and column are in no window (zero gradient).
    let r = check_op(
        "max_pool2d 2x2 s2 ragged",
        &[distinct(&[1, 5, 5, 2], 372)],
        373,
        |t| t[0].max_pool2d((2, 2), (2, 2)),
    );
    assert_eq!(r.analytic[0].iter().filter(|&&v| v != 0.0).count(), 8);
}

#[test]
fn max_pool2d_overlapping() {
    // Windows overlap: an element that is the maximum of two windows gets both gradients.
    check_op(
        "max_pool2d 3x3 s2",
        &[distinct(&[2, 7, 5, 2], 374)],
        375,
        |t| t[0].max_pool2d((3, 3), (2, 2)),
    );
    check_op(
        "max_pool2d 2x3 s1",
        &[distinct(&[1, 4, 5, 2], 376)],
        377,
        |t| t[0].max_pool2d((2, 3), (1, 1)),
    );
}

#[test]
fn max_pool2d_padded() {
    check_op(
        "max_pool2d 3x3 s2 same",
        &[distinct(&[2, 6, 5, 2], 378)],
        379,
        |t| t[0].max_pool2d_padded((3, 3), (2, 2), Padding::Same),
    );
    check_op(
        "max_pool2d 2x2 s2 same (odd size)",
        &[distinct(&[1, 5, 7, 3], 380)],
        381,
        |t| t[0].max_pool2d_padded((2, 2), (2, 2), Padding::Same),
    );
    // Padding is ignored, not a zero: all-negative inputs keep negative maxima at the edges.
    check_op(
        "max_pool2d 3x3 s1 pads (1,1,2,0) negative",
        &[distinct(&[1, 4, 4, 2], 382).add_scalar(-2.0)],
        383,
        |t| {
            let y = t[0].max_pool2d_padded((3, 3), (1, 1), pads(1, 1, 2, 0));
            assert!(y.to_vec::<f64>().iter().all(|&v| v < 0.0));
            y
        },
    );
}

#[test]
fn avg_pool2d_window_equals_stride() {
    check_op(
        "avg_pool2d 2x2 s2",
        &[randn(&[2, 4, 6, 3], 384)],
        385,
        |t| t[0].avg_pool2d((2, 2), (2, 2)),
    );
    check_op(
        "avg_pool2d 3x2 s(3,2) ragged",
        &[randn(&[1, 7, 5, 2], 386)],
        387,
        |t| t[0].avg_pool2d((3, 2), (3, 2)),
    );
}

#[test]
fn avg_pool2d_overlapping() {
    check_op(
        "avg_pool2d 3x3 s2",
        &[randn(&[2, 7, 5, 2], 388)],
        389,
        |t| t[0].avg_pool2d((3, 3), (2, 2)),
    );
    check_op(
        "avg_pool2d 2x3 s1",
        &[randn(&[1, 4, 5, 2], 390)],
        391,
        |t| t[0].avg_pool2d((2, 3), (1, 1)),
    );
}

#[test]
fn avg_pool2d_padded() {
    check_op(
        "avg_pool2d 3x3 s2 same",
        &[randn(&[2, 6, 5, 2], 392)],
        393,
        |t| t[0].avg_pool2d_padded((3, 3), (2, 2), Padding::Same),
    );
    check_op(
        "avg_pool2d 3x3 s1 pads (1,1,2,0)",
        &[randn(&[1, 4, 4, 2], 394)],
        395,
        |t| t[0].avg_pool2d_padded((3, 3), (1, 1), pads(1, 1, 2, 0)),
    );
    // The mean is over the real pixels only: a constant input stays constant at the edges.
    let y = Tensor::full(&[1, 5, 5, 2], 3.0, DType::F64).avg_pool2d_padded(
        (3, 3),
        (2, 2),
        Padding::Same,
    );
    assert_eq!(y.shape(), &[1, 3, 3, 2]);
    assert!(y.to_vec::<f64>().iter().all(|&v| (v - 3.0).abs() < 1e-15));
}

#[test]
fn global_avg_pool2d() {
    let r = check_op(
        "global_avg_pool2d",
        &[randn(&[2, 3, 4, 5], 396)],
        397,
        |t| t[0].try_global_avg_pool2d().unwrap(),
    );
    // Each input element gets G[b, c] / (h w).
    let x = randn(&[2, 3, 4, 5], 396);
    let y = x.try_global_avg_pool2d().unwrap();
    assert_eq!(y.shape(), &[2, 5]);
    assert_eq!(y.to_vec::<f64>(), x.mean(&[1, 2], false).to_vec::<f64>());
    let g = randn(&[2, 5], 397).to_vec::<f64>();
    for (i, &a) in r.analytic[0].iter().enumerate() {
        let (b, c) = (i / 60, i % 5);
        assert!((a - g[b * 5 + c] / 12.0).abs() < 1e-15, "{i}: {a}");
    }
}

// ---- transposed convolution (NHWC inputs, [kh, kw, c_out, c_in] filters) ------------------

/// (name, input shape, filter shape, stride, padding, output padding).
type TransposeCase = (
    &'static str,
    [usize; 4],
    [usize; 4],
    (usize, usize),
    (usize, usize),
    (usize, usize),
);

fn transpose_cases() -> Vec<TransposeCase> {
    vec![
        // DCGAN's upsampling: 4x4, stride 2, padding 1 doubles the size.
        (
            "k4 s2 p1",
            [2, 3, 3, 3],
            [4, 4, 2, 3],
            (2, 2),
            (1, 1),
            (0, 0),
        ),
        // 3x3, stride 2, padding 1, output padding 1: also doubles it.
        (
            "k3 s2 p1 op1",
            [2, 3, 4, 2],
            [3, 3, 3, 2],
            (2, 2),
            (1, 1),
            (1, 1),
        ),
        (
            "k3 s1 p0",
            [1, 3, 4, 2],
            [3, 3, 2, 2],
            (1, 1),
            (0, 0),
            (0, 0),
        ),
        (
            "k3 s1 p1",
            [2, 4, 3, 3],
            [3, 3, 2, 3],
            (1, 1),
            (1, 1),
            (0, 0),
        ),
        // Stride equal to the kernel: no overlap between the inputs' patches.
        (
            "k2 s2 p0",
            [1, 3, 2, 3],
            [2, 2, 3, 3],
            (2, 2),
            (0, 0),
            (0, 0),
        ),
        (
            "k5x3 s(3,2) p(2,1) op(2,1)",
            [1, 3, 3, 2],
            [5, 3, 3, 2],
            (3, 2),
            (2, 1),
            (2, 1),
        ),
        // Padding as wide as the kernel: the borders of the full output are cut away.
        (
            "k3 s2 p3 op(0,1)",
            [1, 5, 5, 2],
            [3, 3, 2, 2],
            (2, 2),
            (3, 3),
            (0, 1),
        ),
        ("k1 s1", [2, 3, 3, 4], [1, 1, 3, 4], (1, 1), (0, 0), (0, 0)),
        (
            "k1 s2 op1",
            [1, 3, 2, 2],
            [1, 1, 2, 2],
            (2, 2),
            (0, 0),
            (1, 1),
        ),
    ]
}

#[test]
fn conv2d_transpose_with_bias() {
    for (i, (name, xs, ws, stride, padding, op)) in transpose_cases().into_iter().enumerate() {
        let seed = 900 + 10 * i as u64;
        check_op(
            &format!("conv2d_transpose {name} + bias"),
            &[
                randn(&xs, seed),
                randn(&ws, seed + 1),
                randn(&[ws[2]], seed + 2),
            ],
            seed + 3,
            |t| t[0].conv2d_transpose(&t[1], Some(&t[2]), stride, padding, op),
        );
    }
}

#[test]
fn conv2d_transpose_without_bias() {
    for (i, (name, xs, ws, stride, padding, op)) in transpose_cases().into_iter().enumerate() {
        let seed = 1000 + 10 * i as u64;
        check_op(
            &format!("conv2d_transpose {name}"),
            &[randn(&xs, seed), randn(&ws, seed + 1)],
            seed + 3,
            |t| t[0].conv2d_transpose(&t[1], None, stride, padding, op),
        );
    }
}

#[test]
fn conv2d_transpose_output_sizes_and_backward_passes_alone() {
    // (in - 1)·stride - 2·padding + kernel + output_padding, per axis.
    let x = randn(&[2, 7, 5, 3], 1100);
    let w = randn(&[4, 3, 6, 3], 1101);
    let y = x.conv2d_transpose(&w, None, (2, 3), (1, 0), (1, 2));
    assert_eq!(y.shape(), &[2, 6 * 2 - 2 + 4 + 1, 4 * 3 + 3 + 2, 6]);
    // Only the gradients asked for: the filters and bias alone, the input alone.
    let x0 = randn(&[1, 3, 3, 2], 1102);
    check_op(
        "conv2d_transpose filters and bias only",
        &[randn(&[3, 3, 2, 2], 1103), randn(&[2], 1104)],
        1105,
        |t| x0.conv2d_transpose(&t[0], Some(&t[1]), (2, 2), (1, 1), (1, 1)),
    );
    let w0 = randn(&[3, 3, 2, 2], 1106);
    check_op(
        "conv2d_transpose input only",
        std::slice::from_ref(&x0),
        1107,
        |t| t[0].conv2d_transpose(&w0, None, (2, 2), (1, 1), (1, 1)),
    );
    let (x1, w1) = (
        randn(&[1, 3, 3, 2], 1102).with_grad(),
        randn(&[3, 3, 2, 2], 1106),
    );
    x1.conv2d_transpose(&w1, None, (1, 1), (0, 0), (0, 0))
        .sum_all()
        .backward();
    assert!(x1.grad().is_some() && w1.grad().is_none());
}

// ---- batch norm ---------------------------------------------------------------------------

#[test]
fn batch_norm_train_nhwc() {
    // Through x (its batch statistics included), gamma and beta; channels last.
    let (x, gamma, beta) = (
        randn(&[2, 3, 2, 4], 398),
        away_from_zero(&[4], 399),
        randn(&[4], 400),
    );
    check_op("batch_norm_train", &[x, gamma, beta], 401, |t| {
        t[0].try_batch_norm_train(&t[1], &t[2], 1e-5).unwrap().y
    });
    check_op(
        "batch_norm_train_dense",
        &[
            randn(&[5, 3], 402),
            away_from_zero(&[3], 403),
            randn(&[3], 404),
        ],
        405,
        |t| t[0].try_batch_norm_train(&t[1], &t[2], 1e-3).unwrap().y,
    );
}

#[test]
fn batch_norm_inference() {
    let mean = randn(&[4], 406);
    let var = uniform(&[4], 0.5, 2.0, 407);
    check_op(
        "batch_norm_inference",
        &[
            randn(&[3, 2, 4], 408),
            away_from_zero(&[4], 409),
            randn(&[4], 410),
        ],
        411,
        |t| {
            t[0].try_batch_norm_inference(&t[1], &t[2], &mean, &var, 1e-5)
                .unwrap()
        },
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

#[test]
fn small_convnet() {
    // conv 3x3 same + bias -> relu -> max pool 2x2 -> flatten -> matmul -> cross-entropy.
    let labels = [1usize, 3];
    let inputs = [
        randn(&[2, 6, 6, 2], 398),
        randn(&[3, 3, 2, 4], 399).mul_scalar(0.5),
        randn(&[4], 400).mul_scalar(0.1),
        randn(&[36, 5], 401).mul_scalar(0.3),
    ];
    let net = |t: &[Tensor]| {
        let z = t[0].conv2d(&t[1], Some(&t[2]), (1, 1), Padding::Same);
        let a = z.relu();
        let p = a.max_pool2d((2, 2), (2, 2));
        let logits = p.flatten_from1().matmul(&t[3]);
        (z, a, logits)
    };
    // Away from the kinks: no pre-activation near 0, no near-tie among the positive
    // activations (a max-pool window of zeros has zero gradient either way).
    let (z, a, _) = no_grad(|| net(&inputs));
    assert!(z.to_vec::<f64>().iter().all(|v| v.abs() > 1e-4));
    let mut pos: Vec<f64> = a.to_vec::<f64>().into_iter().filter(|&v| v > 0.0).collect();
    pos.sort_by(f64::total_cmp);
    assert!(pos.windows(2).all(|p| p[1] - p[0] > 1e-6));
    assert!(pos.len() > 50 && pos.len() < 250, "{} positive", pos.len());
    check_scalar(
        "conv + relu + max_pool + flatten + matmul + softmax_cross_entropy",
        &inputs,
        |t| net(t).2.softmax_cross_entropy_indices(&labels),
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
