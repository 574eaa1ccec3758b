//! Mistakes in tensor maths give messages that say what to change: the op, both shapes and
//! the dimension that disagrees. Each `try_*` error is checked for its content, and the plain
//! form is checked to panic with exactly the same message.

use dlkit_core::{DType, Padding, Tensor};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn t(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F64)
}

fn t32(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32)
}

/// `Padding::Explicit` from `(top, bottom, left, right)`.
fn pads(top: usize, bottom: usize, left: usize, right: usize) -> Padding {
    Padding::Explicit {
        top,
        bottom,
        left,
        right,
    }
}

/// The message a closure panics with (the payload of `panic!("{e}")` is a `String`).
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(p) => p,
    };
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        panic!("panic payload is not a string")
    }
}

/// Asserts `message` contains every one of `parts`.
#[track_caller]
fn assert_mentions(message: &str, parts: &[&str]) {
    for p in parts {
        assert!(
            message.contains(p),
            "message {message:?} does not mention {p:?}"
        );
    }
}

/// The `try_*` error's message, checked to mention `parts`, and checked to equal the
/// message the plain form panics with.
#[track_caller]
fn both_forms<A, B>(
    fallible: impl FnOnce() -> dlkit_core::Result<A>,
    plain: impl FnOnce() -> B,
    parts: &[&str],
) -> String {
    let message = match fallible() {
        Ok(_) => panic!("expected an error mentioning {parts:?}"),
        Err(e) => e.to_string(),
    };
    assert_mentions(&message, parts);
    assert_eq!(panic_message(plain), message, "plain form's panic message");
    message
}

// ---- elementwise --------------------------------------------------------------------------

#[test]
fn add_shape_mismatch_names_op_shapes_and_dimension() {
    let (a, b) = (t(&[2, 3]), t(&[4]));
    let m = both_forms(
        || a.try_add(&b),
        || a.add(&b),
        &[
            "add",
            "[2, 3]",
            "[4]",
            "3 vs 4",
            "dimension 1 from the right",
        ],
    );
    assert!(m.starts_with("add:"), "{m}");
    // The operator form panics the same way.
    assert_eq!(panic_message(|| &a + &b), m);
}

#[test]
fn broadcast_mismatch_in_other_ops() {
    let (a, b) = (t(&[2, 3, 4]), t(&[5, 1]));
    for (name, r) in [
        ("sub", a.try_sub(&b)),
        ("mul", a.try_mul(&b)),
        ("div", a.try_div(&b)),
        ("maximum", a.try_maximum(&b)),
    ] {
        let m = r.unwrap_err().to_string();
        assert_mentions(&m, &[name, "[2, 3, 4]", "[5, 1]", "3 vs 5", "dimension 2"]);
    }
    let m = both_forms(
        || t(&[3]).try_broadcast_to(&[2, 4]),
        || t(&[3]).broadcast_to(&[2, 4]),
        &["broadcast_to", "[3]", "[2, 4]", "3 vs 4"],
    );
    assert!(m.starts_with("broadcast_to:"), "{m}");
    // A target that does not contain the source.
    both_forms(
        || t(&[2, 3]).try_broadcast_to(&[3]),
        || t(&[2, 3]).broadcast_to(&[3]),
        &["broadcast_to", "[2, 3]", "[3]"],
    );
}

#[test]
fn dtype_mismatch_names_both_dtypes() {
    let (a, b) = (t32(&[2, 3]), t(&[2, 3]));
    let m = both_forms(
        || a.try_add(&b),
        || a.add(&b),
        &["add", "f32", "f64", "to_dtype"],
    );
    assert!(m.find("f32") < m.find("f64"), "lhs dtype first: {m}");
    both_forms(
        || a.try_matmul(&t(&[3, 2])),
        || a.matmul(&t(&[3, 2])),
        &["matmul", "f32", "f64"],
    );
    both_forms(
        || Tensor::try_concat(&[&a, &b], 0),
        || Tensor::concat(&[&a, &b], 0),
        &["concat", "f32", "f64"],
    );
    both_forms(
        || t(&[2, 3]).try_softmax_cross_entropy(&t32(&[2, 3])),
        || t(&[2, 3]).softmax_cross_entropy(&t32(&[2, 3])),
        &["softmax_cross_entropy", "f64", "f32"],
    );
    both_forms(
        || a.try_to_vec::<f64>(),
        || a.to_vec::<f64>(),
        &["to_vec", "f32", "f64"],
    );
}

#[test]
fn clamp_with_lo_above_hi() {
    both_forms(
        || t(&[2]).try_clamp(1.0, -1.0),
        || t(&[2]).clamp(1.0, -1.0),
        &["clamp", "lo 1", "hi -1"],
    );
}

// ---- matmul -------------------------------------------------------------------------------

#[test]
fn matmul_inner_dimension_mismatch() {
    let (a, b) = (t(&[2, 3]), t(&[4, 5]));
    let m = both_forms(
        || a.try_matmul(&b),
        || a.matmul(&b),
        &["matmul", "[2, 3]", "[4, 5]", "3", "4", "inner dimensions"],
    );
    assert!(m.contains("3 (last axis of lhs) vs 4"), "{m}");
}

#[test]
fn matmul_rank_and_batch_mismatch() {
    both_forms(
        || t(&[3]).try_matmul(&t(&[3, 2])),
        || t(&[3]).matmul(&t(&[3, 2])),
        &["matmul", "[3]", "[3, 2]", "at least 2 dimensions"],
    );
    // Batch axes that do not broadcast.
    let m = t(&[2, 3, 4])
        .try_matmul(&t(&[3, 4, 5]))
        .unwrap_err()
        .to_string();
    assert_mentions(&m, &["matmul", "[2]", "[3]", "2 vs 3"]);
}

// ---- shape ops ----------------------------------------------------------------------------

#[test]
fn concat_mismatch_names_dimension() {
    let (a, b, c) = (t(&[2, 3]), t(&[2, 3]), t(&[2, 4]));
    let m = both_forms(
        || Tensor::try_concat(&[&a, &b, &c], 0),
        || Tensor::concat(&[&a, &b, &c], 0),
        &[
            "concat",
            "[2, 3]",
            "[2, 4]",
            "dimension 1",
            "3 vs 4",
            "axis 0",
        ],
    );
    assert!(m.starts_with("concat:"), "{m}");
    both_forms(
        || Tensor::try_concat(&[&a, &t(&[2, 3, 1])], 1),
        || Tensor::concat(&[&a, &t(&[2, 3, 1])], 1),
        &["concat", "[2, 3]", "[2, 3, 1]", "ranks differ"],
    );
    both_forms(
        || Tensor::try_concat(&[], 0),
        || Tensor::concat(&[], 0),
        &["concat", "at least one tensor"],
    );
    both_forms(
        || Tensor::try_concat(&[&a, &b], 2),
        || Tensor::concat(&[&a, &b], 2),
        &["concat", "axis 2", "rank 2"],
    );
}

#[test]
fn reshape_wrong_size() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_reshape(&[4]),
        || a.reshape(&[4]),
        &["reshape", "[2, 3]", "[4]", "6 elements", "4"],
    );
}

#[test]
fn narrow_out_of_range() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_narrow(1, 2, 3),
        || a.narrow(1, 2, 3),
        &["narrow", "2..5", "axis 1", "size 3", "[2, 3]"],
    );
    both_forms(
        || a.try_narrow(2, 0, 1),
        || a.narrow(2, 0, 1),
        &["narrow", "axis 2", "rank 2"],
    );
}

#[test]
fn permute_not_a_permutation() {
    let a = t(&[2, 3, 4]);
    for dims in [&[0usize, 0, 1][..], &[0, 1], &[0, 1, 3]] {
        both_forms(
            || a.try_permute(dims),
            || a.permute(dims),
            &["permute", &format!("{dims:?}"), "3 axes", "[2, 3, 4]"],
        );
    }
    both_forms(
        || a.try_transpose(0, 3),
        || a.transpose(0, 3),
        &["transpose", "axis 3", "rank 3"],
    );
}

#[test]
fn pad_wrong_number_of_pairs() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_pad(&[(1, 1)], 0.0),
        || a.pad(&[(1, 1)], 0.0),
        &["pad", "1 pairs", "[2, 3]"],
    );
}

// ---- softmax and reductions ---------------------------------------------------------------

#[test]
fn softmax_bad_axis() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_softmax(2),
        || a.softmax(2),
        &["softmax", "axis 2", "rank 2"],
    );
    both_forms(
        || a.try_log_softmax(-3),
        || a.log_softmax(-3),
        &["log_softmax", "axis -3", "rank 2"],
    );
}

#[test]
fn sum_bad_axes() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_sum(&[2], false),
        || a.sum(&[2], false),
        &["sum", "axis 2", "rank 2"],
    );
    both_forms(
        || a.try_sum(&[0, -2], true),
        || a.sum(&[0, -2], true),
        &["sum", "axis 0", "twice"],
    );
    both_forms(
        || a.try_sum(&[], true),
        || a.sum(&[], true),
        &["sum", "at least one axis", "*_all"],
    );
    both_forms(
        || a.try_mean(&[5], false),
        || a.mean(&[5], false),
        &["mean", "axis 5", "rank 2"],
    );
    both_forms(
        || a.try_max(&[-3], false),
        || a.max(&[-3], false),
        &["max", "axis -3", "rank 2"],
    );
    both_forms(
        || a.try_argmax(2, false),
        || a.argmax(2, false),
        &["argmax", "axis 2", "rank 2"],
    );
}

// ---- losses -------------------------------------------------------------------------------

#[test]
fn cross_entropy_wrong_label_count() {
    let z = t(&[2, 4]);
    both_forms(
        || z.try_softmax_cross_entropy_indices(&[0, 1, 2]),
        || z.softmax_cross_entropy_indices(&[0, 1, 2]),
        &["softmax_cross_entropy", "3 labels", "2 rows", "[2, 4]"],
    );
}

#[test]
fn cross_entropy_label_out_of_range() {
    let z = t(&[2, 4]);
    both_forms(
        || z.try_softmax_cross_entropy_indices(&[0, 4]),
        || z.softmax_cross_entropy_indices(&[0, 4]),
        &["softmax_cross_entropy", "label 4", "row 1", "4 classes"],
    );
}

#[test]
fn cross_entropy_logits_not_2d() {
    let z = t(&[2, 3, 4]);
    both_forms(
        || z.try_softmax_cross_entropy_indices(&[0, 1]),
        || z.softmax_cross_entropy_indices(&[0, 1]),
        &["softmax_cross_entropy", "[batch, classes]", "[2, 3, 4]"],
    );
}

#[test]
fn cross_entropy_target_shape_mismatch() {
    let (z, y) = (t(&[2, 4]), t(&[2, 3]));
    both_forms(
        || z.try_softmax_cross_entropy(&y),
        || z.softmax_cross_entropy(&y),
        &["softmax_cross_entropy", "[2, 4]", "[2, 3]", "targets"],
    );
}

#[test]
fn binary_cross_entropy_target_shape_mismatch() {
    let (z, y) = (t(&[4, 1]), t(&[4]));
    both_forms(
        || z.try_binary_cross_entropy_with_logits(&y),
        || z.binary_cross_entropy_with_logits(&y),
        &["binary_cross_entropy", "[4, 1]", "[4]", "targets"],
    );
    both_forms(
        || z.try_binary_cross_entropy_with_logits(&t32(&[4, 1])),
        || z.binary_cross_entropy_with_logits(&t32(&[4, 1])),
        &["binary_cross_entropy", "f64", "f32"],
    );
}

// ---- construction and autograd ------------------------------------------------------------

#[test]
fn from_vec_wrong_length_says_what_was_expected() {
    both_forms(
        || Tensor::try_from_vec(vec![1.0f32; 5], &[2, 3]),
        || Tensor::from_vec(vec![1.0f32; 5], &[2, 3]),
        &["from_vec", "[2, 3]", "needs 6 elements but the data has 5"],
    );
}

#[test]
fn arange_with_zero_step() {
    both_forms(
        || Tensor::try_arange(0.0, 1.0, 0.0, DType::F32),
        || Tensor::arange(0.0, 1.0, 0.0, DType::F32),
        &["arange", "non-zero step", "step 0"],
    );
    both_forms(
        || Tensor::try_arange(0.0, f64::INFINITY, 1.0, DType::F64),
        || Tensor::arange(0.0, f64::INFINITY, 1.0, DType::F64),
        &["arange", "finite", "end inf"],
    );
}

#[test]
fn item_of_many_elements() {
    let a = t(&[2, 2]);
    both_forms(
        || a.try_item(),
        || a.item(),
        &["item", "single element", "[2, 2]"],
    );
}

#[test]
fn assign_mismatch() {
    let a = t(&[2, 3]);
    both_forms(
        || a.try_assign(&t(&[3, 2])),
        || a.assign(&t(&[3, 2])),
        &["assign", "[2, 3]", "[3, 2]"],
    );
    both_forms(
        || a.try_assign(&t32(&[2, 3])),
        || a.assign(&t32(&[2, 3])),
        &["assign", "f64", "f32"],
    );
}

#[test]
fn backward_errors() {
    let x = t(&[2, 3]).with_grad();
    let y = x.exp();
    both_forms(
        || y.try_backward(),
        || y.backward(),
        &["backward", "scalar", "[2, 3]"],
    );
    let c = t(&[2]).sum_all();
    both_forms(
        || c.try_backward(),
        || c.backward(),
        &["backward", "with_grad"],
    );
}

#[test]
fn gradient_check_rejects_f32_and_non_scalars() {
    let eps = dlkit_core::gradcheck::EPSILON;
    let m = dlkit_core::gradient_check(&[t32(&[2])], eps, |v| v[0].sum_all())
        .unwrap_err()
        .to_string();
    assert_mentions(&m, &["gradient_check", "f64", "input 0", "f32"]);
    let m = dlkit_core::gradient_check(&[t(&[2])], eps, |v| v[0].exp())
        .unwrap_err()
        .to_string();
    assert_mentions(&m, &["gradient_check", "scalar", "[2]"]);
}

#[test]
fn errors_are_values_that_can_be_matched() {
    let e = t(&[2, 3]).try_matmul(&t(&[4, 5])).unwrap_err();
    match e {
        dlkit_core::Error::ShapeMismatch { op, lhs, rhs, .. } => {
            assert_eq!(op, "matmul");
            assert_eq!(lhs, vec![2, 3]);
            assert_eq!(rhs, vec![4, 5]);
        }
        other => panic!("expected ShapeMismatch, got {other:?}"),
    }
    let e = t32(&[1]).try_add(&t(&[1])).unwrap_err();
    assert_eq!(
        e,
        dlkit_core::Error::DTypeMismatch {
            op: "add",
            lhs: DType::F32,
            rhs: DType::F64
        }
    );
}

// ---- convolution and pooling --------------------------------------------------------------

#[test]
fn conv2d_channel_mismatch_names_both_shapes_and_c_in() {
    let (x, w) = (t(&[2, 5, 5, 3]), t(&[3, 3, 4, 8]));
    let m = both_forms(
        || x.try_conv2d(&w, None, (1, 1), Padding::Valid),
        || x.conv2d(&w, None, (1, 1), Padding::Valid),
        &["conv2d", "[2, 5, 5, 3]", "[3, 3, 4, 8]", "c_in", "3", "4"],
    );
    assert!(m.starts_with("conv2d:"), "{m}");
    assert!(
        m.find("[2, 5, 5, 3]") < m.find("[3, 3, 4, 8]"),
        "input first: {m}"
    );
}

#[test]
fn conv2d_bias_of_the_wrong_length() {
    let (x, w) = (t(&[2, 5, 5, 3]), t(&[3, 3, 3, 8]));
    for b in [t(&[4]), t(&[1, 8]), t(&[])] {
        let shape = format!("{:?}", b.shape());
        both_forms(
            || x.try_conv2d(&w, Some(&b), (1, 1), Padding::Valid),
            || x.conv2d(&w, Some(&b), (1, 1), Padding::Valid),
            &["conv2d", "bias", &shape, "[3, 3, 3, 8]", "[8]", "c_out"],
        );
    }
}

#[test]
fn conv2d_input_or_filters_not_4d() {
    let w = t(&[3, 3, 3, 8]);
    for shape in [&[5, 5, 3][..], &[1, 2, 5, 5, 3], &[75]] {
        let x = t(shape);
        both_forms(
            || x.try_conv2d(&w, None, (1, 1), Padding::Valid),
            || x.conv2d(&w, None, (1, 1), Padding::Valid),
            &["conv2d", "input", "4-D", "NHWC", &format!("{shape:?}")],
        );
    }
    let x = t(&[2, 5, 5, 3]);
    for shape in [&[3, 3, 8][..], &[1, 3, 3, 3, 8]] {
        let w = t(shape);
        both_forms(
            || x.try_conv2d(&w, None, (1, 1), Padding::Valid),
            || x.conv2d(&w, None, (1, 1), Padding::Valid),
            &["conv2d", "filters", "4-D", "HWIO", &format!("{shape:?}")],
        );
    }
}

#[test]
fn conv2d_kernel_larger_than_the_padded_input() {
    let x = t(&[2, 5, 4, 3]);
    let w = t(&[7, 3, 3, 8]);
    let m = both_forms(
        || x.try_conv2d(&w, None, (1, 1), Padding::Valid),
        || x.conv2d(&w, None, (1, 1), Padding::Valid),
        &[
            "conv2d",
            "kernel 7x3",
            "padded input 5x4",
            "[2, 5, 4, 3]",
            "[7, 3, 3, 8]",
        ],
    );
    assert!(!m.contains("conv2d: conv2d"), "{m}");
    // Padding counts: 5 + 1 + 0 rows are still fewer than 7 ...
    both_forms(
        || x.try_conv2d(&w, None, (1, 1), pads(1, 0, 0, 0)),
        || x.conv2d(&w, None, (1, 1), pads(1, 0, 0, 0)),
        &["conv2d", "kernel 7x3", "padded input 6x4"],
    );
    // ... 5 + 1 + 1 are enough.
    let y = x.conv2d(&w, None, (1, 1), Padding::uniform(1));
    assert_eq!(y.shape(), &[2, 1, 4, 8]);
}

#[test]
fn conv2d_zero_stride() {
    let (x, w) = (t(&[2, 5, 5, 3]), t(&[3, 3, 3, 8]));
    for stride in [(0, 1), (2, 0)] {
        for padding in [Padding::Valid, Padding::Same] {
            both_forms(
                || x.try_conv2d(&w, None, stride, padding),
                || x.conv2d(&w, None, stride, padding),
                &["conv2d", "stride", "at least 1", &format!("{stride:?}")],
            );
        }
    }
}

#[test]
fn conv2d_dtype_mismatch() {
    let (x, w) = (t(&[2, 5, 5, 3]), t(&[3, 3, 3, 8]));
    let (x32, w32) = (t32(&[2, 5, 5, 3]), t32(&[3, 3, 3, 8]));
    let m = both_forms(
        || x32.try_conv2d(&w, None, (1, 1), Padding::Valid),
        || x32.conv2d(&w, None, (1, 1), Padding::Valid),
        &["conv2d", "f32", "f64", "to_dtype"],
    );
    assert!(m.find("f32") < m.find("f64"), "input dtype first: {m}");
    both_forms(
        || x.try_conv2d(&w32, None, (1, 1), Padding::Valid),
        || x.conv2d(&w32, None, (1, 1), Padding::Valid),
        &["conv2d", "f64", "f32"],
    );
    let b32 = t32(&[8]);
    both_forms(
        || x.try_conv2d(&w, Some(&b32), (1, 1), Padding::Valid),
        || x.conv2d(&w, Some(&b32), (1, 1), Padding::Valid),
        &["conv2d", "f64", "f32"],
    );
}

/// The exact message of `x.try_conv2d_transpose(w, bias, stride, padding, output_padding)`,
/// checked to be the plain form's panic message too.
fn transpose_error(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    (stride, padding, output_padding): ((usize, usize), (usize, usize), (usize, usize)),
) -> String {
    both_forms(
        || x.try_conv2d_transpose(w, bias, stride, padding, output_padding),
        || x.conv2d_transpose(w, bias, stride, padding, output_padding),
        &["conv2d_transpose: "],
    )
}

#[test]
fn conv2d_transpose_shape_errors() {
    let unit = ((1, 1), (0, 0), (0, 0));
    assert_eq!(
        transpose_error(&t(&[2, 5, 5, 3]), &t(&[4, 4, 8, 4]), None, unit),
        "conv2d_transpose: shapes [2, 5, 5, 3] and [4, 4, 8, 4] do not match: c_in differs: \
         the input has 3 channels (axis 3) but the filters expect 4 (axis 3)"
    );
    assert_eq!(
        transpose_error(&t(&[2, 5, 5, 3]), &t(&[4, 4, 8, 3]), Some(&t(&[3])), unit),
        "conv2d_transpose: shapes [4, 4, 8, 3] and [3] do not match: the bias must have shape \
         [8] (c_out of the filters, axis 2)"
    );
    assert_eq!(
        transpose_error(&t(&[5, 5, 3]), &t(&[4, 4, 8, 3]), None, unit),
        "conv2d_transpose: the input must be 4-D [n, h, w, c] (NHWC), got shape [5, 5, 3]"
    );
    assert_eq!(
        transpose_error(&t(&[2, 5, 5, 3]), &t(&[4, 8, 3]), None, unit),
        "conv2d_transpose: filters must be 4-D [kh, kw, c_out, c_in], got shape [4, 8, 3]"
    );
    let m = both_forms(
        || t32(&[1, 2, 2, 3]).try_conv2d_transpose(&t(&[1, 1, 2, 3]), None, (1, 1), (0, 0), (0, 0)),
        || t32(&[1, 2, 2, 3]).conv2d_transpose(&t(&[1, 1, 2, 3]), None, (1, 1), (0, 0), (0, 0)),
        &[],
    );
    assert_eq!(
        m,
        "conv2d_transpose: dtypes f32 and f64 differ; convert one with `to_dtype`"
    );
}

#[test]
fn conv2d_transpose_parameter_errors() {
    let (x, w) = (t(&[1, 2, 3, 3]), t(&[3, 3, 2, 3]));
    let shapes = "(input [1, 2, 3, 3], filters [3, 3, 2, 3])";
    assert_eq!(
        transpose_error(&x, &w, None, ((2, 2), (1, 1), (2, 0))),
        format!(
            "conv2d_transpose: output padding 2x0 must be smaller than the stride 2x2 along both \
             axes {shapes}"
        )
    );
    assert_eq!(
        transpose_error(&x, &w, None, ((1, 1), (0, 0), (0, 1))),
        format!(
            "conv2d_transpose: output padding 0x1 must be smaller than the stride 1x1 along both \
             axes {shapes}"
        )
    );
    assert_eq!(
        transpose_error(&x, &w, None, ((0, 1), (0, 0), (0, 0))),
        format!("conv2d_transpose: stride 0x1 has a zero dimension {shapes}")
    );
    assert_eq!(
        transpose_error(&x, &t(&[0, 3, 2, 3]), None, ((1, 1), (0, 0), (0, 0))),
        "conv2d_transpose: kernel 0x3 has a zero dimension (input [1, 2, 3, 3], filters \
         [0, 3, 2, 3])"
    );
    assert_eq!(
        transpose_error(&t(&[1, 0, 3, 3]), &w, None, ((1, 1), (0, 0), (0, 0))),
        "conv2d_transpose: input 0x3 has no pixels (input [1, 0, 3, 3], filters [3, 3, 2, 3])"
    );
    // (2 - 1)·1 - 2·3 + 3 = -2 rows, (3 - 1)·1 - 6 + 3 = -1 columns; padding 2 leaves 0x1.
    assert_eq!(
        transpose_error(&x, &w, None, ((1, 1), (3, 3), (0, 0))),
        format!(
            "conv2d_transpose: the output would be -2x-1: (in - 1)·stride - 2·padding + kernel \
             + output_padding with padding 3x3 is below 1; use less padding {shapes}"
        )
    );
    assert_eq!(
        transpose_error(&x, &w, None, ((1, 1), (2, 1), (0, 0))),
        format!(
            "conv2d_transpose: the output would be 0x3: (in - 1)·stride - 2·padding + kernel \
             + output_padding with padding 2x1 is below 1; use less padding {shapes}"
        )
    );
    // One row is enough: (2 - 1)·2 - 2·2 + 3 = 1.
    let y = x.conv2d_transpose(&w, None, (2, 2), (2, 0), (0, 0));
    assert_eq!(y.shape(), &[1, 1, 7, 2]);
}

#[test]
fn pool_window_larger_than_the_input() {
    let x = t(&[1, 4, 3, 2]);
    let m = both_forms(
        || x.try_max_pool2d((5, 2), (1, 1)),
        || x.max_pool2d((5, 2), (1, 1)),
        &["max_pool2d", "kernel 5x2", "input 4x3", "[1, 4, 3, 2]"],
    );
    assert!(m.starts_with("max_pool2d:"), "{m}");
    assert!(!m.contains("max_pool2d: pool2d"), "{m}");
    both_forms(
        || x.try_avg_pool2d((2, 4), (2, 2)),
        || x.avg_pool2d((2, 4), (2, 2)),
        &["avg_pool2d", "kernel 2x4", "input 4x3", "[1, 4, 3, 2]"],
    );
    // Padding counts (but may not reach the kernel's size).
    both_forms(
        || x.try_max_pool2d_padded((2, 4), (1, 1), pads(0, 0, 0, 0)),
        || x.max_pool2d_padded((2, 4), (1, 1), pads(0, 0, 0, 0)),
        &["max_pool2d", "kernel 2x4", "padded input 4x3"],
    );
    assert_eq!(
        x.max_pool2d_padded((2, 4), (1, 1), pads(0, 0, 1, 0))
            .shape(),
        &[1, 3, 1, 2]
    );
    both_forms(
        || x.try_avg_pool2d_padded((2, 2), (1, 1), pads(2, 0, 0, 0)),
        || x.avg_pool2d_padded((2, 2), (1, 1), pads(2, 0, 0, 0)),
        &["avg_pool2d", "padding", "smaller than the kernel 2x2"],
    );
}

#[test]
fn pool_zero_window_or_stride() {
    let x = t(&[1, 4, 4, 2]);
    both_forms(
        || x.try_max_pool2d((0, 2), (1, 1)),
        || x.max_pool2d((0, 2), (1, 1)),
        &["max_pool2d", "window", "at least 1", "(0, 2)"],
    );
    both_forms(
        || x.try_avg_pool2d_padded((2, 0), (1, 1), Padding::Same),
        || x.avg_pool2d_padded((2, 0), (1, 1), Padding::Same),
        &["avg_pool2d", "window", "at least 1", "(2, 0)"],
    );
    both_forms(
        || x.try_avg_pool2d((2, 2), (0, 2)),
        || x.avg_pool2d((2, 2), (0, 2)),
        &["avg_pool2d", "stride", "(0, 2)"],
    );
    both_forms(
        || x.try_max_pool2d_padded((2, 2), (2, 0), Padding::Same),
        || x.max_pool2d_padded((2, 2), (2, 0), Padding::Same),
        &["max_pool2d", "stride", "(2, 0)"],
    );
}

#[test]
fn pool_input_not_4d() {
    let x = t(&[4, 4, 2]);
    both_forms(
        || x.try_max_pool2d((2, 2), (2, 2)),
        || x.max_pool2d((2, 2), (2, 2)),
        &["max_pool2d", "4-D", "NHWC", "[4, 4, 2]"],
    );
    both_forms(
        || x.try_avg_pool2d_padded((2, 2), (2, 2), Padding::Same),
        || x.avg_pool2d_padded((2, 2), (2, 2), Padding::Same),
        &["avg_pool2d", "4-D", "NHWC", "[4, 4, 2]"],
    );
    both_forms(
        || x.try_global_avg_pool2d(),
        || x.global_avg_pool2d(),
        &["global_avg_pool2d", "4-D", "NHWC", "[4, 4, 2]"],
    );
}
