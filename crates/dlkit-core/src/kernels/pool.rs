//! 2-D max and average pooling on raw NHWC slices.
//!
//! `x` is `[n, h, w, c]`, `y` is `[n, oh, ow, c]`, contiguous row-major. Output pixel
//! `(oy, ox)` pools the window of input rows `oy·sh − top .. oy·sh − top + kh` and columns
//! `ox·sw − left .. ox·sw − left + kw`, each channel on its own, with
//! `oh = (h + top + bottom − kh) / sh + 1` (likewise `ow`). Padded positions never take part:
//! max pooling ignores them (as if −∞) and average pooling divides by the number of real
//! input pixels in the window (PyTorch's `count_include_pad=False`, TensorFlow's "same").
//! Windows may overlap (`k > s`); the backward passes then add the contributions.

use super::conv::simd::{map, multiversion};
use super::window::{Window2d, WindowParams};
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
    /// Each side of the padding must be smaller than the kernel, so that every window holds
    /// an input pixel.
    pub params: WindowParams,
}

impl Pool2dGeometry {
    /// The window resolved for this input, or an error such as "pool2d: kernel 3x3 larger
    /// than padded input 2x2".
    pub fn window(&self) -> Result<Window2d, String> {
        let (kh, kw) = (self.kh, self.kw);
        let p = Window2d::new("pool2d", (self.h, self.w), (kh, kw), &self.params)?;
        if p.top.max(p.bottom) >= kh || p.left.max(p.right) >= kw {
            return Err(format!(
                "pool2d: padding (top {}, bottom {}, left {}, right {}) must be smaller than \
                 the kernel {kh}x{kw}",
                p.top, p.bottom, p.left, p.right
            ));
        }
        Ok(p)
    }

    /// `(oh, ow)`, or the geometry error of [`Pool2dGeometry::window`].
    pub fn out_hw(&self) -> Result<(usize, usize), String> {
        self.window().map(|win| (win.oh, win.ow))
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
    /// The zeros on each side.
    win: Window2d,
    /// Elements per input image and per output image.
    x_img: usize,
    y_img: usize,
    parallel: bool,
}

impl Plan {
    fn new(g: &Pool2dGeometry, x_len: usize, y_len: usize) -> Self {
        let win = g.window().unwrap_or_else(|e| panic!("{e}"));
        let (oh, ow) = (win.oh, win.ow);
        let (x_img, y_img) = (g.h * g.w * g.c, oh * ow * g.c);
        check_len("x (or dx)", x_len, g.n * x_img);
        check_len("y (or dy)", y_len, g.n * y_img);
        let work = g.n * y_img * g.kh * g.kw;
        let parallel = g.n > 1 && rayon::current_num_threads() > 1 && work >= PARALLEL_MIN_WORK;
        Self {
            oh,
            ow,
            win,
            x_img,
            y_img,
            parallel,
        }
    }

    /// Input rows and columns of output pixel `(oy, ox)`'s window, padding excluded.
    fn window(&self, g: &Pool2dGeometry, oy: usize, ox: usize) -> (Range<usize>, Range<usize>) {
        let ((y0, x0), (top, left)) = (
            (oy * g.params.stride.0, ox * g.params.stride.1),
            (self.win.top, self.win.left),
        );
        let rows = y0.max(top) - top..(y0 + g.kh).min(top + g.h) - top;
        let cols = x0.max(left) - left..(x0 + g.kw).min(left + g.w) - left;
        (rows, cols)
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
    assert!(
        g.kh * g.kw <= MAX_WINDOW,
        "max_pool2d: a {}x{} window has more than 2^24 pixels",
        g.kh,
        g.kw
    );
    each_image(
        g.n,
        p.parallel,
        (y, p.y_img),
        (argmax, p.y_img),
        |b, yb, ab| max_pool_image(g, &p, x, b, yb, ab),
    );
}

/// Most pixels in a max-pooling window: positions in the window are counted in the element
/// type, exact in f32 up to 2^24.
const MAX_WINDOW: usize = 1 << 24;

multiversion!(
    /// [`max_pool2d_forward`] of image `b` into its outputs `yb` and `ab`, vectorised over the
    /// channels: each window pixel updates all channels with branch-free selects.
    fn max_pool_image<T: Element>(
        g: &Pool2dGeometry,
        p: &Plan,
        x: &[T],
        b: usize,
        yb: &mut [T],
        ab: &mut [usize],
    ) => max_pool_image_body
);

#[inline(always)]
fn max_pool_image_body<T: Element>(
    g: &Pool2dGeometry,
    p: &Plan,
    x: &[T],
    b: usize,
    yb: &mut [T],
    ab: &mut [usize],
) {
    let (c, base) = (g.c, b * p.x_img);
    let xb = &x[base..base + p.x_img];
    // The winner's position in the window's scan order, per channel, held as a T so that
    // the selects stay in T's lanes (exact up to `MAX_WINDOW`).
    let mut pos = vec![T::zero(); c];
    for oy in 0..p.oh {
        for ox in 0..p.ow {
            let o = (oy * p.ow + ox) * c;
            let (rows, cols) = p.window(g, oy, ox);
            let yo = &mut yb[o..o + c];
            // Start from the first pixel: against itself it is neither larger nor a new NaN.
            let first = (rows.start * g.w + cols.start) * c;
            yo.copy_from_slice(&xb[first..first + c]);
            pos.fill(T::zero());
            let mut q = T::zero();
            for iy in rows.clone() {
                let run = &xb[(iy * g.w + cols.start) * c..(iy * g.w + cols.end) * c];
                for src in run.chunks_exact(c) {
                    for j in 0..c {
                        let (v, m) = (src[j], yo[j]);
                        #[allow(clippy::eq_op)] // `v != v`: v is NaN
                        let take = v > m || (v != v && m == m);
                        yo[j] = if take { v } else { m };
                        pos[j] = if take { q } else { pos[j] };
                    }
                    q += T::one();
                }
            }
            let width = cols.len();
            for (j, (a, q)) in ab[o..o + c].iter_mut().zip(&pos).enumerate() {
                let q = q.to_usize().expect("a window position");
                let (iy, ix) = (rows.start + q / width, cols.start + q % width);
                *a = base + (iy * g.w + ix) * c + j;
            }
        }
    }
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
    // Each image zeroes its own part of dx, on its own thread.
    each_image1(g.n, p.parallel, (dx, p.x_img), |b, dxb| {
        dxb.fill(T::zero());
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
    each_image1(g.n, p.parallel, (y, p.y_img), |b, yb| {
        avg_pool_image(g, &p, &x[b * p.x_img..(b + 1) * p.x_img], yb)
    });
}

multiversion!(
    /// [`avg_pool2d_forward`] of one image `xb` into `yb`, vectorised over the channels.
    fn avg_pool_image<T: Element>(
        g: &Pool2dGeometry,
        p: &Plan,
        xb: &[T],
        yb: &mut [T],
    ) => avg_pool_image_body
);

#[inline(always)]
fn avg_pool_image_body<T: Element>(g: &Pool2dGeometry, p: &Plan, xb: &[T], yb: &mut [T]) {
    let c = g.c;
    for oy in 0..p.oh {
        for ox in 0..p.ow {
            let o = (oy * p.ow + ox) * c;
            let (rows, cols) = p.window(g, oy, ox);
            let yo = &mut yb[o..o + c];
            yo.fill(T::zero());
            let scale = T::one() / T::of((rows.len() * cols.len()) as f64);
            for iy in rows {
                let run = &xb[(iy * g.w + cols.start) * c..(iy * g.w + cols.end) * c];
                for src in run.chunks_exact(c) {
                    map(yo, [src], |s, [v]| s + v);
                }
            }
            map(yo, [], |s, []| s * scale);
        }
    }
}

/// Backward of average pooling: `dx` (overwritten) gets `dy / count` added at every real input
/// pixel of each output's window.
pub fn avg_pool2d_backward<T: Element>(g: &Pool2dGeometry, dy: &[T], dx: &mut [T]) {
    let p = Plan::new(g, dx.len(), dy.len());
    each_image1(g.n, p.parallel, (dx, p.x_img), |b, dxb| {
        dxb.fill(T::zero());
        avg_pool_backward_image(g, &p, &dy[b * p.y_img..(b + 1) * p.y_img], dxb)
    });
}

multiversion!(
    /// [`avg_pool2d_backward`] of one image (`dyb` into `dxb`), vectorised over the channels.
    fn avg_pool_backward_image<T: Element>(
        g: &Pool2dGeometry,
        p: &Plan,
        dyb: &[T],
        dxb: &mut [T],
    ) => avg_pool_backward_image_body
);

#[inline(always)]
fn avg_pool_backward_image_body<T: Element>(
    g: &Pool2dGeometry,
    p: &Plan,
    dyb: &[T],
    dxb: &mut [T],
) {
    let c = g.c;
    for oy in 0..p.oh {
        for ox in 0..p.ow {
            let o = (oy * p.ow + ox) * c;
            let (rows, cols) = p.window(g, oy, ox);
            let scale = T::one() / T::of((rows.len() * cols.len()) as f64);
            let d = &dyb[o..o + c];
            for iy in rows {
                let run = &mut dxb[(iy * g.w + cols.start) * c..(iy * g.w + cols.end) * c];
                for dst in run.chunks_exact_mut(c) {
                    map(dst, [d], |s, [v]| s + v * scale);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
