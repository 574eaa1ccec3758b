use super::*;
use crate::kernels::conv::tests::{data, rel_diff};
use crate::kernels::window::Padding;

#[allow(clippy::too_many_arguments)]
fn geom(
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    (kh, kw): (usize, usize),
    stride: (usize, usize),
    padding: Padding,
) -> Pool2dGeometry {
    Pool2dGeometry {
        n,
        h,
        w,
        c,
        kh,
        kw,
        params: WindowParams::new(stride, padding),
    }
}

fn cases() -> Vec<Pool2dGeometry> {
    let asym = Padding::Explicit {
        top: 1,
        bottom: 0,
        left: 2,
        right: 1,
    };
    vec![
        geom(2, 4, 4, 3, (2, 2), (2, 2), Padding::Valid),
        geom(2, 7, 7, 2, (3, 3), (2, 2), Padding::Valid),
        geom(
            1,
            6,
            5,
            3,
            (3, 3),
            (2, 2),
            Padding::Same.resolve((6, 5), (3, 3), (2, 2)),
        ),
        geom(3, 5, 6, 1, (2, 3), (1, 2), asym),
        geom(1, 8, 8, 4, (8, 8), (8, 8), Padding::Valid),
        geom(2, 5, 5, 2, (2, 2), (3, 3), Padding::Valid),
        // Channels over vector widths (8 as in the SIGNS ConvNet, an odd 19), padded.
        geom(
            2,
            17,
            16,
            8,
            (8, 8),
            (8, 8),
            Padding::Same.resolve((17, 16), (8, 8), (8, 8)),
        ),
        geom(1, 9, 7, 19, (3, 2), (2, 1), Padding::uniform(1)),
        // Large enough to run on several threads.
        geom(8, 33, 33, 16, (3, 3), (1, 1), Padding::uniform(1)),
    ]
}

/// Flat input indices of output `(b, oy, ox, ch)`'s window in scan order, padding skipped.
fn window(g: &Pool2dGeometry, b: usize, oy: usize, ox: usize, ch: usize) -> Vec<usize> {
    let (mut v, win) = (vec![], g.window().unwrap());
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            let iy = (oy * g.params.stride.0 + ky) as isize - win.top as isize;
            let ix = (ox * g.params.stride.1 + kx) as isize - win.left as isize;
            if iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w {
                v.push(((b * g.h + iy as usize) * g.w + ix as usize) * g.c + ch);
            }
        }
    }
    v
}

/// Calls `f(y index, window)` for every output element.
fn each_out(g: &Pool2dGeometry, mut f: impl FnMut(usize, Vec<usize>)) {
    let (oh, ow) = g.out_hw().unwrap();
    let mut i = 0;
    for b in 0..g.n {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..g.c {
                    f(i, window(g, b, oy, ox, ch));
                    i += 1;
                }
            }
        }
    }
}

fn naive_max(g: &Pool2dGeometry, x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let (mut y, mut arg) = (vec![], vec![]);
    each_out(g, |_, win| {
        let best = win
            .iter()
            .copied()
            .reduce(|a, b| if x[b] > x[a] { b } else { a })
            .unwrap();
        y.push(x[best]);
        arg.push(best);
    });
    (y, arg)
}

fn naive_avg(g: &Pool2dGeometry, x: &[f64], dy: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut y, mut dx) = (vec![], vec![0.0; x.len()]);
    each_out(g, |i, win| {
        y.push(win.iter().map(|&j| x[j]).sum::<f64>() / win.len() as f64);
        win.iter().for_each(|&j| dx[j] += dy[i] / win.len() as f64);
    });
    (y, dx)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

#[test]
fn max_pool_matches_naive_including_overlapping_windows() {
    for g in cases() {
        let x = data(g.x_len(), 7);
        let (want, want_arg) = naive_max(&g, &x);
        let (mut y, mut arg) = (vec![f64::NAN; want.len()], vec![usize::MAX; want.len()]);
        max_pool2d_forward(&g, &x, &mut y, &mut arg);
        assert_close(&format!("{g:?} y"), &y, &want);
        assert_eq!(arg, want_arg, "{g:?} argmax");
        let dy = data(y.len(), 8);
        let mut want_dx = vec![0.0; x.len()];
        arg.iter().zip(&dy).for_each(|(&a, &d)| want_dx[a] += d);
        let mut dx = vec![f64::NAN; x.len()];
        max_pool2d_backward(&g, &dy, &arg, &mut dx);
        assert_close(&format!("{g:?} dx"), &dx, &want_dx);
    }
}

#[test]
fn avg_pool_matches_naive_and_excludes_padding() {
    for g in cases() {
        let x = data(g.x_len(), 9);
        let dy = data(g.y_len().unwrap(), 10);
        let (want_y, want_dx) = naive_avg(&g, &x, &dy);
        let mut y = vec![f64::NAN; want_y.len()];
        avg_pool2d_forward(&g, &x, &mut y);
        assert_close(&format!("{g:?} y"), &y, &want_y);
        let mut dx = vec![f64::NAN; x.len()];
        avg_pool2d_backward(&g, &dy, &mut dx);
        assert_close(&format!("{g:?} dx"), &dx, &want_dx);
    }
    // A 2x2 window at a padded corner averages its single real pixel.
    let g = geom(1, 2, 2, 1, (2, 2), (1, 1), Padding::uniform(1));
    let mut y = vec![0.0; 9];
    avg_pool2d_forward(&g, &[1.0, 2.0, 3.0, 4.0], &mut y);
    assert_eq!(y, [1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0]);
}

#[test]
fn max_pool_ties_go_to_the_first_in_scan_order_and_nan_propagates() {
    // All equal: every window picks its top-left pixel; overlapping windows share pixels.
    let g = geom(1, 3, 3, 1, (2, 2), (1, 1), Padding::Valid);
    let (mut y, mut arg) = (vec![0.0; 4], vec![0; 4]);
    max_pool2d_forward(&g, &[1.0; 9], &mut y, &mut arg);
    assert_eq!(arg, [0, 1, 3, 4]);
    let mut dx = vec![0.0; 9];
    max_pool2d_backward(&g, &[1.0, 2.0, 3.0, 4.0], &arg, &mut dx);
    assert_eq!(dx, [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
    // A tie later in the window loses to the earlier one; a NaN wins.
    let g = geom(1, 2, 2, 2, (2, 2), (2, 2), Padding::Valid);
    let x = [0.0, 1.0, 5.0, f64::NAN, 5.0, 3.0, 1.0, 2.0];
    let (mut y, mut arg) = (vec![0.0; 2], vec![0; 2]);
    max_pool2d_forward(&g, &x, &mut y, &mut arg);
    assert_eq!((y[0], arg[0]), (5.0, 2));
    assert!(y[1].is_nan());
    assert_eq!(arg[1], 3);
}

/// The course's gradient check (ε = 1e-7, relative difference below 1e-7) on
/// `L = Σ y ⊙ r`, with distinct inputs so that no max is tied.
#[test]
fn pools_pass_gradient_check() {
    let g = geom(
        2,
        5,
        4,
        2,
        (3, 2),
        (2, 1),
        Padding::Explicit {
            top: 1,
            bottom: 1,
            left: 0,
            right: 1,
        },
    );
    let x = data(g.x_len(), 11);
    let r = data(g.y_len().unwrap(), 12);
    let eps = 1e-7;
    for max in [true, false] {
        let loss = |x: &[f64]| {
            let mut y = vec![0.0; r.len()];
            if max {
                max_pool2d_forward(&g, x, &mut y, &mut vec![0; r.len()]);
            } else {
                avg_pool2d_forward(&g, x, &mut y);
            }
            y.iter().zip(&r).map(|(y, r)| y * r).sum::<f64>()
        };
        let mut dx = vec![0.0; x.len()];
        if max {
            let (mut y, mut arg) = (vec![0.0; r.len()], vec![0; r.len()]);
            max_pool2d_forward(&g, &x, &mut y, &mut arg);
            max_pool2d_backward(&g, &r, &arg, &mut dx);
        } else {
            avg_pool2d_backward(&g, &r, &mut dx);
        }
        let numeric: Vec<f64> = (0..x.len())
            .map(|i| {
                let (mut up, mut down) = (x.clone(), x.clone());
                up[i] += eps;
                down[i] -= eps;
                (loss(&up) - loss(&down)) / (2.0 * eps)
            })
            .collect();
        let d = rel_diff(&dx, &numeric);
        assert!(d < 1e-7, "max={max}: relative difference {d}");
    }
}

#[test]
fn geometry_errors_name_what_does_not_fit() {
    let g = geom(1, 2, 2, 1, (3, 3), (1, 1), Padding::Valid);
    assert_eq!(
        g.out_hw().unwrap_err(),
        "pool2d: kernel 3x3 larger than padded input 2x2"
    );
    let g = geom(
        1,
        4,
        4,
        1,
        (2, 2),
        (2, 2),
        Padding::Explicit {
            top: 0,
            bottom: 2,
            left: 0,
            right: 0,
        },
    );
    assert_eq!(
        g.out_hw().unwrap_err(),
        "pool2d: padding (top 0, bottom 2, left 0, right 0) must be smaller than the kernel 2x2"
    );
    assert_eq!(
        geom(3, 7, 7, 2, (3, 3), (2, 2), Padding::Valid).y_len(),
        Ok(3 * 3 * 3 * 2)
    );
}

#[test]
#[should_panic(expected = "pool2d: y (or dy) has 3 elements, the geometry needs 4")]
fn forward_panics_on_a_wrong_length() {
    let g = geom(1, 4, 4, 1, (2, 2), (2, 2), Padding::Valid);
    avg_pool2d_forward(&g, &[0.0; 16], &mut [0.0; 3]);
}

#[test]
fn f32_pools_match_f64_reference() {
    let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let back = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
    for g in cases() {
        let x = data(g.x_len(), 11);
        let dy = data(g.y_len().unwrap(), 12);
        // The f32 inputs, exact in f64: max pooling picks the same elements.
        let (x32, dy32) = (f(&x), f(&dy));
        let (want, want_arg) = naive_max(&g, &back(&x32));
        let (mut y, mut arg) = (vec![f32::NAN; want.len()], vec![usize::MAX; want.len()]);
        max_pool2d_forward(&g, &x32, &mut y, &mut arg);
        assert_eq!(back(&y), want, "{g:?} y");
        assert_eq!(arg, want_arg, "{g:?} argmax");
        let (want_y, want_dx) = naive_avg(&g, &back(&x32), &back(&dy32));
        let (mut y, mut dx) = (vec![f32::NAN; want_y.len()], vec![f32::NAN; x.len()]);
        avg_pool2d_forward(&g, &x32, &mut y);
        avg_pool2d_backward(&g, &dy32, &mut dx);
        for (what, got, want) in [("y", back(&y), want_y), ("dx", back(&dx), want_dx)] {
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{g:?} {what}[{i}]");
            }
        }
    }
}
