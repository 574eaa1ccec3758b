//! W7 `conv3x3`: one 3x3 convolution, stride 1, same padding, 64 -> 64 channels, 32x32
//! images, batch 32, with bias (NHWC input, HWIO filters).
//!
//! Two cases: `fwd` (the forward alone) and `fwd+bwd` (forward, then the gradients of the
//! input, the filters and the bias); milliseconds per call. Two variants each:
//!
//! - `kernel`: `kernels::conv::conv2d_forward`, then `conv2d_backward_data` and
//!   `conv2d_backward_filter`, on preallocated buffers,
//!   the backward from a fixed random `dy` (what NumPy's im2col code is given);
//! - `tensor`: `Tensor::conv2d` with autograd. The forward runs on tensors without gradients;
//!   `fwd+bwd` marks input, filters and bias `with_grad`, and back-propagates from
//!   `y.sum_all()` (so `dy` is all ones; the sum over y's 2M elements and the copy of its
//!   broadcast gradient are part of the time, as a loss would be), clearing the three
//!   gradients before each call.

use crate::{time, BenchError, Figure, Measurement, Settings, Timing};
use dlkit_core::kernels::conv::{
    conv2d_backward_data, conv2d_backward_filter, conv2d_forward, Conv2dGeometry,
};
use dlkit_core::kernels::window::WindowParams;
use dlkit_core::{Padding, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `(n, h, w, c_in, c_out)` of W7; the kernel is 3x3, stride 1, same padding.
pub const W7: (usize, usize, usize, usize, usize) = (32, 32, 32, 64, 64);

/// Seed of the uniform random inputs.
pub const SEED: u64 = 7;

/// Times W7 on the current rayon pool.
pub fn run(settings: &Settings) -> Result<Vec<Measurement>, BenchError> {
    run_case(W7, settings)
}

fn uniform(n: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Times a 3x3 same convolution of `(n, h, w, c_in, c_out)`: `fwd` and `fwd+bwd`, each as
/// `kernel` and `tensor`, after checking the two paths against each other and a few outputs
/// against f64 sums.
pub fn run_case(
    (n, h, w, c_in, c_out): (usize, usize, usize, usize, usize),
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let g = Conv2dGeometry {
        n,
        h,
        w,
        c_in,
        kh: 3,
        kw: 3,
        c_out,
        params: WindowParams::new((1, 1), Padding::Same),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let x = uniform(g.x_len(), &mut rng);
    let wt = uniform(g.w_len(), &mut rng);
    let b = uniform(c_out, &mut rng);
    let y_len = g.y_len()?;
    let dy = uniform(y_len, &mut rng);
    let case_name = format!("{n}x{h}x{w}x{c_in}->{c_out}");

    // Kernel: forward, then backward with all three gradients.
    let mut y = vec![0.0f32; y_len];
    let (mut dx, mut dw, mut db) = (
        vec![0.0f32; g.x_len()],
        vec![0.0f32; g.w_len()],
        vec![0.0f32; c_out],
    );
    conv2d_forward(&g, &x, &wt, Some(&b), &mut y);
    check_outputs(&g, &x, &wt, &b, &y)?;
    let kernel_fwd = time(settings, || conv2d_forward(&g, &x, &wt, Some(&b), &mut y));
    let kernel_both = time(settings, || {
        conv2d_forward(&g, &x, &wt, Some(&b), &mut y);
        conv2d_backward_data(&g, &wt, &dy, &mut dx);
        conv2d_backward_filter(&g, &x, &dy, Some(&mut dw), Some(&mut db));
    });
    let want_db: Vec<f64> = (0..c_out)
        .map(|o| dy.iter().skip(o).step_by(c_out).map(|&v| v as f64).sum())
        .collect();
    close("kernel db", &db, &want_db)?;

    // Tensor: the same through Tensor::conv2d and autograd.
    let tx = Tensor::from_vec(x.clone(), &[n, h, w, c_in]);
    let tw = Tensor::from_vec(wt.clone(), &[3, 3, c_in, c_out]);
    let tb = Tensor::from_vec(b.clone(), &[c_out]);
    let conv =
        |tx: &Tensor, tw: &Tensor, tb: &Tensor| tx.conv2d(tw, Some(tb), (1, 1), Padding::Same);
    let ty = conv(&tx, &tw, &tb).to_vec::<f32>();
    close(
        "tensor y",
        &ty,
        &y.iter().map(|&v| v as f64).collect::<Vec<_>>(),
    )?;
    let tensor_fwd = time(settings, || drop(conv(&tx, &tw, &tb)));
    let (gx, gw, gb) = (tx.with_grad(), tw.with_grad(), tb.with_grad());
    let step = || {
        for t in [&gx, &gw, &gb] {
            t.zero_grad();
        }
        conv(&gx, &gw, &gb).sum_all().backward();
    };
    step();
    // With dy = 1 everywhere, db is the number of output pixels.
    let pixels = (n * h * w) as f64;
    close(
        "tensor db",
        &gb.grad().ok_or("no bias gradient")?.to_vec::<f32>(),
        &vec![pixels; c_out],
    )?;
    if gx.grad().is_none() || gw.grad().is_none() {
        return Err("W7: tensor backward gave no input or filter gradient".into());
    }
    let tensor_both = time(settings, step);

    Ok(vec![
        measurement(&case_name, "fwd", "kernel", kernel_fwd),
        measurement(&case_name, "fwd", "tensor", tensor_fwd),
        measurement(&case_name, "fwd+bwd", "kernel", kernel_both),
        measurement(&case_name, "fwd+bwd", "tensor", tensor_both),
    ])
}

/// `got` against `want` within f32 rounding of sums of about a thousand terms.
fn close(what: &str, got: &[f32], want: &[f64]) -> Result<(), BenchError> {
    if got.len() != want.len() {
        return Err(format!("W7 {what}: {} values, not {}", got.len(), want.len()).into());
    }
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        if (a as f64 - b).abs() > 1e-3 * (1.0 + b.abs()) {
            return Err(format!("W7 {what}[{i}] = {a}, not {b}").into());
        }
    }
    Ok(())
}

/// A few outputs (corners, where the padding is, and the middle) against f64 sums.
fn check_outputs(
    g: &Conv2dGeometry,
    x: &[f32],
    w: &[f32],
    b: &[f32],
    y: &[f32],
) -> Result<(), BenchError> {
    let (h, wd, ci, co) = (g.h as isize, g.w as isize, g.c_in, g.c_out);
    for (img, oy, ox, o) in [
        (0, 0, 0, 0),
        (g.n - 1, h - 1, wd - 1, co - 1),
        (g.n / 2, h / 2, wd / 3, co / 2),
    ] {
        let mut want = b[o] as f64;
        for ky in 0..3isize {
            for kx in 0..3isize {
                let (iy, ix) = (oy + ky - 1, ox + kx - 1);
                if iy < 0 || ix < 0 || iy >= h || ix >= wd {
                    continue;
                }
                let xo = ((img * g.h + iy as usize) * g.w + ix as usize) * ci;
                let wo = ((ky * 3 + kx) as usize * ci) * co + o;
                want += (0..ci)
                    .map(|c| x[xo + c] as f64 * w[wo + c * co] as f64)
                    .sum::<f64>();
            }
        }
        let got = y[((img * g.h + oy as usize) * g.w + ox as usize) * co + o];
        close(&format!("y[{img},{oy},{ox},{o}]"), &[got], &[want])?;
    }
    Ok(())
}

fn measurement(case: &str, what: &str, variant: &'static str, timing: Timing) -> Measurement {
    Measurement {
        workload: "W7",
        case: format!("{case} {what}"),
        variant,
        threads: rayon::current_num_threads(),
        scale: 1.0,
        note: String::new(),
        figures: vec![Figure {
            key: "ms",
            unit: "ms",
            value: timing.median * 1e3,
        }],
        timing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn small_case_checks_and_reports_four_timings() {
        let settings = Settings {
            reps: 5,
            min_rep_time: Duration::from_micros(50),
            full: false,
        };
        let ms = run_case((2, 5, 4, 3, 2), &settings).unwrap();
        let names: Vec<_> = ms.iter().map(|m| (m.case.as_str(), m.variant)).collect();
        assert_eq!(
            names,
            [
                ("2x5x4x3->2 fwd", "kernel"),
                ("2x5x4x3->2 fwd", "tensor"),
                ("2x5x4x3->2 fwd+bwd", "kernel"),
                ("2x5x4x3->2 fwd+bwd", "tensor"),
            ]
        );
        assert!(ms.iter().all(|m| m.figures[0].value > 0.0));
    }

    #[test]
    fn winograd_sized_case_passes_its_checks() {
        let settings = Settings {
            reps: 5,
            min_rep_time: Duration::from_micros(50),
            full: false,
        };
        run_case((1, 6, 6, 32, 32), &settings).unwrap();
    }
}
