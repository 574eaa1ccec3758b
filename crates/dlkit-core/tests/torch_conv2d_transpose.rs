//! `conv2d_transpose` against PyTorch's `conv_transpose2d` (the fixture
//! `tests/fixtures/torch_conv2d_transpose.json`, made by
//! `scripts/make_torch_conv_transpose_fixtures.py`): the output and the gradients of
//! `L = sum(out * gout)` for the input, the filters and the bias, in f64 (relative error per
//! tensor below 1e-10) and in f32 (1e-5; the inputs are exact in f32). PyTorch's weight
//! `[c_in, c_out, kh, kw]` goes in as `permute(2, 3, 1, 0)`, the documented mapping.
//!
//! Then, at sizes the fixture leaves out: the kernels' passes against the sum that defines the
//! transposed convolution, on the Winograd path (3x3, stride 1, 32 channels) and on several
//! threads, and the adjoint identity `⟨conv2d(a, w), x⟩ = ⟨a, conv2d_transpose(x, w)⟩`.

mod fixture_support;

use dlkit_core::kernels::conv::{
    conv2d_transpose_backward_data, conv2d_transpose_backward_filter, conv2d_transpose_forward,
    ConvTranspose2dGeometry,
};
use dlkit_core::{DType, Padding, Rng, Tensor};
use fixture_support::{relative_error, tolerance};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_conv2d_transpose.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A fixture tensor `{ shape, data }` in `dtype`.
fn tensor(v: &Value, dtype: DType) -> Tensor {
    let sizes = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let shape: Vec<usize> = sizes(&v["shape"]).iter().map(|&d| d as usize).collect();
    Tensor::from_vec(sizes(&v["data"]), &shape).to_dtype(dtype)
}

fn pair(v: &Value) -> (usize, usize) {
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 2, "{v}");
    (
        a[0].as_u64().unwrap() as usize,
        a[1].as_u64().unwrap() as usize,
    )
}

fn check(name: &str, what: &str, dtype: DType, got: &Tensor, want: &Tensor) -> f64 {
    assert_eq!(got.shape(), want.shape(), "{name} ({dtype}): {what} shape");
    let err = relative_error(&got.to_vec_f64(), &want.to_vec_f64());
    assert!(
        err <= tolerance(dtype),
        "{name} ({dtype}): {what} relative error {err:e} > {:e}",
        tolerance(dtype)
    );
    err
}

fn matches_pytorch(dtype: DType) {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    let mut worst = 0.0f64;
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let x = tensor(&c["x"], dtype).with_grad();
        let weight = tensor(&c["weight"], dtype);
        // PyTorch's [c_in, c_out, kh, kw] as dlkit's [kh, kw, c_out, c_in].
        let w = weight.permute(&[2, 3, 1, 0]).contiguous().with_grad();
        let b = c.get("bias").map(|b| tensor(b, dtype).with_grad());
        let (stride, padding, output_padding) = (
            pair(&c["stride"]),
            pair(&c["padding"]),
            pair(&c["output_padding"]),
        );
        let out = x.conv2d_transpose(&w, b.as_ref(), stride, padding, output_padding);
        worst = worst.max(check(name, "out", dtype, &out, &tensor(&c["out"], dtype)));
        out.mul(&tensor(&c["gout"], dtype)).sum_all().backward();
        let grads = [
            ("grad_x", x.grad().unwrap(), &c["grad_x"]),
            // Back to PyTorch's layout: permute(3, 2, 0, 1) undoes (2, 3, 1, 0).
            (
                "grad_weight",
                w.grad().unwrap().permute(&[3, 2, 0, 1]),
                &c["grad_weight"],
            ),
        ];
        for (what, got, want) in grads {
            worst = worst.max(check(name, what, dtype, &got, &tensor(want, dtype)));
        }
        match (&b, c.get("grad_bias")) {
            (Some(b), Some(want)) => {
                let got = b.grad().unwrap();
                worst = worst.max(check(name, "grad_bias", dtype, &got, &tensor(want, dtype)));
            }
            (None, None) => {}
            _ => panic!("{name}: bias and grad_bias go together"),
        }
    }
    eprintln!("conv2d_transpose vs PyTorch ({dtype}): worst relative error {worst:e}");
}

#[test]
fn matches_pytorch_f64() {
    matches_pytorch(DType::F64);
}

#[test]
fn matches_pytorch_f32() {
    matches_pytorch(DType::F32);
}

/// The defining sums, by loops: `(y, dx, dw, db)` for `x`, `w`, `bias` and `dy`.
fn reference(
    g: &ConvTranspose2dGeometry,
    x: &[f64],
    w: &[f64],
    bias: &[f64],
    dy: &[f64],
) -> [Vec<f64>; 4] {
    let (oh, ow) = g.out_hw().unwrap();
    let mut y = vec![0.0; g.n * oh * ow * g.c_out];
    let mut dx = vec![0.0; x.len()];
    let mut dw = vec![0.0; w.len()];
    let mut db = vec![0.0; g.c_out];
    for (i, v) in y.iter_mut().enumerate() {
        *v = bias[i % g.c_out];
        db[i % g.c_out] += dy[i];
    }
    for b in 0..g.n {
        for (iy, ix) in (0..g.h).flat_map(|iy| (0..g.w).map(move |ix| (iy, ix))) {
            for (ky, kx) in (0..g.kh).flat_map(|ky| (0..g.kw).map(move |kx| (ky, kx))) {
                let oy = (iy * g.stride.0 + ky) as isize - g.padding.0 as isize;
                let ox = (ix * g.stride.1 + kx) as isize - g.padding.1 as isize;
                if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                    continue;
                }
                let yo = ((b * oh + oy as usize) * ow + ox as usize) * g.c_out;
                let xo = ((b * g.h + iy) * g.w + ix) * g.c_in;
                for co in 0..g.c_out {
                    for ci in 0..g.c_in {
                        let wi = ((ky * g.kw + kx) * g.c_out + co) * g.c_in + ci;
                        y[yo + co] += x[xo + ci] * w[wi];
                        dx[xo + ci] += dy[yo + co] * w[wi];
                        dw[wi] += x[xo + ci] * dy[yo + co];
                    }
                }
            }
        }
    }
    [y, dx, dw, db]
}

fn data(len: usize, seed: u64) -> Vec<f64> {
    Tensor::rand_normal(&[len], 0.0, 1.0, DType::F64, &mut Rng::new(seed)).to_vec_f64()
}

#[test]
fn kernels_match_the_defining_sums_on_every_path() {
    let geom = |n, h, w, c_in, k, c_out, s, p, op| ConvTranspose2dGeometry {
        n,
        h,
        w,
        c_in,
        kh: k,
        kw: k,
        c_out,
        stride: (s, s),
        padding: (p, p),
        output_padding: (op, op),
    };
    let cases = [
        // 3x3 stride 1, 32 channels each way: the adjoint convolution runs Winograd.
        ("winograd", geom(2, 6, 5, 32, 3, 32, 1, 1, 0)),
        // Enough work for several threads (when the pool has them), im2col.
        ("threads", geom(8, 8, 8, 16, 4, 24, 2, 1, 1)),
        // 1x1 stride 1 unpadded: the direct path (no patch matrix).
        ("direct", geom(3, 4, 3, 5, 1, 7, 1, 0, 0)),
    ];
    for (name, g) in cases {
        let (x, w, bias) = (data(g.x_len(), 1), data(g.w_len(), 2), data(g.c_out, 3));
        let dy = data(g.y_len().unwrap(), 4);
        let [y_ref, dx_ref, dw_ref, db_ref] = reference(&g, &x, &w, &bias, &dy);
        let mut y = vec![f64::NAN; y_ref.len()];
        conv2d_transpose_forward(&g, &x, &w, Some(&bias), &mut y);
        let mut dx = vec![f64::NAN; x.len()];
        conv2d_transpose_backward_data(&g, &w, &dy, &mut dx);
        let (mut dw, mut db) = (vec![f64::NAN; w.len()], vec![f64::NAN; g.c_out]);
        conv2d_transpose_backward_filter(&g, &x, &dy, Some(&mut dw), Some(&mut db));
        for (what, got, want) in [
            ("y", &y, &y_ref),
            ("dx", &dx, &dx_ref),
            ("dw", &dw, &dw_ref),
            ("db", &db, &db_ref),
        ] {
            let err = relative_error(got, want);
            assert!(err < 1e-12, "{name}: {what} relative error {err:e}");
        }
    }
}

#[test]
fn is_the_adjoint_of_conv2d() {
    // ⟨conv2d(a, w), x⟩ = ⟨a, conv2d_transpose(x, w)⟩ for a of the transposed output's shape,
    // with conv2d's explicit padding (ph, ph, pw, pw); conv2d leaves a's last row and last two
    // columns unread, the output padding (1, 2) gives them back.
    let a = Tensor::from_vec(data(2 * 8 * 8 * 3, 5), &[2, 8, 8, 3]);
    let w = Tensor::from_vec(data(3 * 2 * 3 * 4, 6), &[3, 2, 3, 4]);
    let x = Tensor::from_vec(data(2 * 4 * 3 * 4, 7), &[2, 4, 3, 4]);
    let conv = a.conv2d(&w, None, (2, 3), Padding::uniform(1));
    assert_eq!(conv.shape(), x.shape());
    let up = x.conv2d_transpose(&w, None, (2, 3), (1, 1), (1, 2));
    assert_eq!(up.shape(), a.shape());
    let lhs = conv.mul(&x).sum_all().to_vec_f64()[0];
    let rhs = a.mul(&up).sum_all().to_vec_f64()[0];
    assert!(
        (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
}
