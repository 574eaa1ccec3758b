//! 2-D max and average pooling on raw NHWC slices.
//!
//! `x` is `[n, h, w, c]`, `y` is `[n, oh, ow, c]`, contiguous row-major. Output pixel
//! `(oy, ox)` pools the window of input rows `oy·sh − top .. oy·sh − top + kh` and columns
//! `ox·sw − left .. ox·sw − left + kw`, each channel on its own, with
//! `oh = (h + top + bottom − kh) / sh + 1` (likewise `ow`). Padded positions never take part:
//! max pooling ignores them (as if −∞) and average pooling divides by the number of real
//! input pixels in the window (PyTorch's `count_include_pad=False`, TensorFlow's "same").
//! Windows may overlap (`k > s`); the backward passes then add the contributions.

use super::conv::{window_out, Padding2d};
use crate::element::Element;
use rayon::prelude::*;
use std::ops::Range;

/// The shapes and hyper-parameters of one 2-D pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pool2dGeometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub kh: usize,
    pub kw: usize,
    /// `(sh, sw)`.
    pub stride: (usize, usize),
    /// Each side must be smaller than the kernel, so that every window holds an input pixel.
    pub pad: Padding2d,
}

impl Pool2dGeometry {
    /// `(oh, ow)`, or an error such as "pool2d: kernel 3x3 larger than padded input 2x2".
    pub fn out_hw(&self) -> Result<(usize, usize), String> {
        let (p, (kh, kw)) = (self.pad, (self.kh, self.kw));
        let out = window_out("pool2d", (self.h, self.w), (kh, kw), self.stride, &p)?;
        if p.top.max(p.bottom) >= kh || p.left.max(p.right) >= kw {
            return Err(format!(
                "pool2d: padding (top {}, bottom {}, left {}, right {}) must be smaller than \
                 the kernel {kh}x{kw}",
                p.top, p.bottom, p.left, p.right
            ));
        }
        Ok(out)
    }

    /// Elements of `x`: `n·h·w·c`.
    pub fn x_len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }

    /// Elements of `y`: `n·oh·ow·c`, or the geometry error.
    pub fn y_len(&self) -> Result<usize, String> {
        let (oh, ow) = self.out_hw()?;
        Ok(self.n * oh * ow * self.c)
    }
}

/// Below this many window reads a call runs on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// Derived sizes of one call.
struct Plan {
    oh: usize,
    ow: usize,
    /// Elements per input image and per output image.
    x_img: usize,
    y_img: usize,
    parallel: bool,
}

impl Plan {
    fn new(g: &Pool2dGeometry, x_len: usize, y_len: usize) -> Self {
        let (oh, ow) = g.out_hw().unwrap_or_else(|e| panic!("{e}"));
        let (x_img, y_img) = (g.h * g.w * g.c, oh * ow * g.c);
        check_len("x (or dx)", x_len, g.n * x_img);
        check_len("y (or dy)", y_len, g.n * y_img);
        let work = g.n * y_img * g.kh * g.kw;
        let parallel = g.n > 1 && rayon::current_num_threads() > 1 && work >= PARALLEL_MIN_WORK;
        Self {
            oh,
            ow,
            x_img,
            y_img,
            parallel,
        }
    }

    /// Input rows and columns of output pixel `(oy, ox)`'s window, padding excluded.
    fn window(&self, g: &Pool2dGeometry, oy: usize, ox: usize) -> (Range<usize>, Range<usize>) {
        let (y0, x0) = (oy * g.stride.0, ox * g.stride.1);
        let rows = y0.max(g.pad.top) - g.pad.top..(y0 + g.kh).min(g.pad.top + g.h) - g.pad.top;
        let cols = x0.max(g.pad.left) - g.pad.left..(x0 + g.kw).min(g.pad.left + g.w) - g.pad.left;
        (rows, cols)
    }

    /// Calls `f(out_offset, window)` for every output pixel of one image.
    fn each_pixel(
        &self,
        g: &Pool2dGeometry,
        mut f: impl FnMut(usize, (Range<usize>, Range<usize>)),
    ) {
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                f((oy * self.ow + ox) * g.c, self.window(g, oy, ox));
            }
        }
    }
}

fn check_len(what: &str, got: usize, want: usize) {
    assert_eq!(
        got, want,
        "pool2d: {what} has {got} elements, the geometry needs {want}"
    );
}

/// Runs `f(b, a_b, b_b)` for each image `b`, with `a` and `b` split into per-image parts of
/// `a_len` and `b_len` elements; on several threads when `parallel`.
fn each_image<A: Send, B: Send>(
    n: usize,
    parallel: bool,
    (a, a_len): (&mut [A], usize),
    (b, b_len): (&mut [B], usize),
    f: impl Fn(usize, &mut [A], &mut [B]) + Sync,
) {
    if n == 0 || a_len == 0 || b_len == 0 {
        return;
    }
    if parallel {
        let it = a.par_chunks_mut(a_len).zip(b.par_chunks_mut(b_len));
        it.enumerate().for_each(|(i, (a, b))| f(i, a, b));
    } else {
        let it = a.chunks_mut(a_len).zip(b.chunks_mut(b_len));
        it.enumerate().for_each(|(i, (a, b))| f(i, a, b));
    }
}

/// [`each_image`] over one slice.
fn each_image1<A: Send>(
    n: usize,
    parallel: bool,
    a: (&mut [A], usize),
    f: impl Fn(usize, &mut [A]) + Sync,
) {
    let mut none = vec![(); n]; // zero-sized: allocates nothing
    each_image(n, parallel, a, (&mut none, 1), |b, a, _| f(b, a));
}

/// Max pooling: `y[b, oy, ox, ch]` is the largest `x` in the window, and `argmax` (same length
/// as `y`) receives its flat index into `x`. Ties go to the first in scan order (row by row,
/// left to right); a NaN in the window wins (the first NaN), so NaNs propagate as in PyTorch.
pub fn max_pool2d_forward<T: Element>(
    g: &Pool2dGeometry,
    x: &[T],
    y: &mut [T],
    argmax: &mut [usize],
) {
    let p = Plan::new(g, x.len(), y.len());
    check_len("argmax", argmax.len(), y.len());
    let c = g.c;
    each_image(
        g.n,
        p.parallel,
        (y, p.y_img),
        (argmax, p.y_img),
        |b, yb, ab| {
            let base = b * p.x_img;
            let xb = &x[base..base + p.x_img];
            p.each_pixel(g, |o, (rows, cols)| {
                let (yo, ao) = (&mut yb[o..o + c], &mut ab[o..o + c]);
                let mut first = true;
                for iy in rows {
                    for ix in cols.clone() {
                        let off = (iy * g.w + ix) * c;
                        let src = &xb[off..off + c];
                        if first {
                            yo.copy_from_slice(src);
                            ao.iter_mut()
                                .enumerate()
                                .for_each(|(j, a)| *a = base + off + j);
                            first = false;
                            continue;
                        }
                        for (j, ((m, a), &v)) in
                            yo.iter_mut().zip(ao.iter_mut()).zip(src).enumerate()
                        {
                            if v > *m || (v.is_nan() && !m.is_nan()) {
                                *m = v;
                                *a = base + off + j;
                            }
                        }
                    }
                }
            });
        },
    );
}

/// Backward of max pooling: `dx` (overwritten) is zero except `dx[argmax[i]] += dy[i]`
/// (overlapping windows add). `argmax` must come from [`max_pool2d_forward`] with `g`.
pub fn max_pool2d_backward<T: Element>(
    g: &Pool2dGeometry,
    dy: &[T],
    argmax: &[usize],
    dx: &mut [T],
) {
    let p = Plan::new(g, dx.len(), dy.len());
    check_len("argmax", argmax.len(), dy.len());
    dx.fill(T::zero());
    each_image1(g.n, p.parallel, (dx, p.x_img), |b, dxb| {
        let (base, part) = (b * p.x_img, b * p.y_img..(b + 1) * p.y_img);
        for (&a, &d) in argmax[part.clone()].iter().zip(&dy[part]) {
            assert!(
                (base..base + p.x_img).contains(&a),
                "max_pool2d_backward: argmax {a} outside image {b}"
            );
            dxb[a - base] += d;
        }
    });
}

/// Average pooling: `y[b, oy, ox, ch]` is the mean of `x` over the window's real input
/// pixels (padding not counted).
pub fn avg_pool2d_forward<T: Element>(g: &Pool2dGeometry, x: &[T], y: &mut [T]) {
    let p = Plan::new(g, x.len(), y.len());
    let c = g.c;
    each_image1(g.n, p.parallel, (y, p.y_img), |b, yb| {
        let xb = &x[b * p.x_img..(b + 1) * p.x_img];
        p.each_pixel(g, |o, (rows, cols)| {
            let yo = &mut yb[o..o + c];
            yo.fill(T::zero());
            let scale = T::one() / T::of((rows.len() * cols.len()) as f64);
            for iy in rows {
                let run = &xb[(iy * g.w + cols.start) * c..(iy * g.w + cols.end) * c];
                for src in run.chunks_exact(c) {
                    yo.iter_mut().zip(src).for_each(|(s, &v)| *s += v);
                }
            }
            yo.iter_mut().for_each(|s| *s *= scale);
        });
    });
}

/// Backward of average pooling: `dx` (overwritten) gets `dy / count` added at every real input
/// pixel of each output's window.
pub fn avg_pool2d_backward<T: Element>(g: &Pool2dGeometry, dy: &[T], dx: &mut [T]) {
    let p = Plan::new(g, dx.len(), dy.len());
    let c = g.c;
    dx.fill(T::zero());
    each_image1(g.n, p.parallel, (dx, p.x_img), |b, dxb| {
        let dyb = &dy[b * p.y_img..(b + 1) * p.y_img];
        p.each_pixel(g, |o, (rows, cols)| {
            let scale = T::one() / T::of((rows.len() * cols.len()) as f64);
            let d = &dyb[o..o + c];
            for iy in rows {
                let run = &mut dxb[(iy * g.w + cols.start) * c..(iy * g.w + cols.end) * c];
                for dst in run.chunks_exact_mut(c) {
                    dst.iter_mut().zip(d).for_each(|(s, &v)| *s += v * scale);
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::tests::{data, rel_diff};

    #[allow(clippy::too_many_arguments)]
    fn geom(
        n: usize,
        h: usize,
        w: usize,
        c: usize,
        (kh, kw): (usize, usize),
        stride: (usize, usize),
        pad: Padding2d,
    ) -> Pool2dGeometry {
        Pool2dGeometry {
            n,
            h,
            w,
            c,
            kh,
            kw,
            stride,
            pad,
        }
    }

    fn cases() -> Vec<Pool2dGeometry> {
        let asym = Padding2d {
            top: 1,
            bottom: 0,
            left: 2,
            right: 1,
        };
        vec![
            geom(2, 4, 4, 3, (2, 2), (2, 2), Padding2d::VALID),
            geom(2, 7, 7, 2, (3, 3), (2, 2), Padding2d::VALID),
            geom(
                1,
                6,
                5,
                3,
                (3, 3),
                (2, 2),
                Padding2d::same(6, 5, (3, 3), (2, 2)),
            ),
            geom(3, 5, 6, 1, (2, 3), (1, 2), asym),
            geom(1, 8, 8, 4, (8, 8), (8, 8), Padding2d::VALID),
            geom(2, 5, 5, 2, (2, 2), (3, 3), Padding2d::VALID),
            // Large enough to run on several threads.
            geom(8, 33, 33, 16, (3, 3), (1, 1), Padding2d::uniform(1)),
        ]
    }

    /// Flat input indices of output `(b, oy, ox, ch)`'s window in scan order, padding skipped.
    fn window(g: &Pool2dGeometry, b: usize, oy: usize, ox: usize, ch: usize) -> Vec<usize> {
        let mut v = vec![];
        for ky in 0..g.kh {
            for kx in 0..g.kw {
                let iy = (oy * g.stride.0 + ky) as isize - g.pad.top as isize;
                let ix = (ox * g.stride.1 + kx) as isize - g.pad.left as isize;
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
        let g = geom(1, 2, 2, 1, (2, 2), (1, 1), Padding2d::uniform(1));
        let mut y = vec![0.0; 9];
        avg_pool2d_forward(&g, &[1.0, 2.0, 3.0, 4.0], &mut y);
        assert_eq!(y, [1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0]);
    }

    #[test]
    fn max_pool_ties_go_to_the_first_in_scan_order_and_nan_propagates() {
        // All equal: every window picks its top-left pixel; overlapping windows share pixels.
        let g = geom(1, 3, 3, 1, (2, 2), (1, 1), Padding2d::VALID);
        let (mut y, mut arg) = (vec![0.0; 4], vec![0; 4]);
        max_pool2d_forward(&g, &[1.0; 9], &mut y, &mut arg);
        assert_eq!(arg, [0, 1, 3, 4]);
        let mut dx = vec![0.0; 9];
        max_pool2d_backward(&g, &[1.0, 2.0, 3.0, 4.0], &arg, &mut dx);
        assert_eq!(dx, [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
        // A tie later in the window loses to the earlier one; a NaN wins.
        let g = geom(1, 2, 2, 2, (2, 2), (2, 2), Padding2d::VALID);
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
            Padding2d {
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
        let g = geom(1, 2, 2, 1, (3, 3), (1, 1), Padding2d::VALID);
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
            Padding2d {
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
            geom(3, 7, 7, 2, (3, 3), (2, 2), Padding2d::VALID).y_len(),
            Ok(3 * 3 * 3 * 2)
        );
    }

    #[test]
    #[should_panic(expected = "pool2d: y (or dy) has 3 elements, the geometry needs 4")]
    fn forward_panics_on_a_wrong_length() {
        let g = geom(1, 4, 4, 1, (2, 2), (2, 2), Padding2d::VALID);
        avg_pool2d_forward(&g, &[0.0; 16], &mut [0.0; 3]);
    }
}
