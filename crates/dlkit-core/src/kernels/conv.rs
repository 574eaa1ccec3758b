//! 2-D convolution on raw NHWC slices: im2col or Winograd, both on gemm.
//!
//! Layouts, all contiguous row-major: input `x` is `[n, h, w, c_in]`, filters `w` are HWIO
//! `[kh, kw, c_in, c_out]`, output `y` is `[n, oh, ow, c_out]`. With zero padding
//! `(top, bottom, left, right)` and stride `(sh, sw)`:
//!
//! `y[b, oy, ox, co] = bias[co] + Σ_{ky,kx,ci} x[b, oy·sh + ky − top, ox·sw + kx − left, ci] · w[ky, kx, ci, co]`
//!
//! where terms outside the input are zero, `oh = (h + top + bottom − kh) / sh + 1` and
//! `ow = (w + left + right − kw) / sw + 1`.
//!
//! Two algorithms, both on [`gemm`]:
//!
//! - im2col: the patch of output pixel `(b, oy, ox)` is laid out `[ky][kx][ci]`, so with the
//!   patch matrix `cols` (`n·oh·ow × kh·kw·c_in`) the forward is one product `Y = cols · W`,
//!   already NHWC, and the backward is `dW = colsᵀ · dY`, `db = Σ_rows dY`, `dcols = dY · Wᵀ`
//!   scattered back into `dx` (col2im). A 1×1, stride-1, unpadded convolution skips im2col:
//!   `x` is `cols`.
//! - Winograd F(2×2, 3×3) (see `winograd.rs`) for 3×3 stride-1 convolutions with at least 32
//!   input and output channels: 2.25× fewer multiplies, same results up to rounding.
//!
//! The batch is processed in chunks (of output lines, or of tile rows) so that the work buffers
//! stay cache-sized; large problems run the chunks on several rayon threads.

use super::gemm::{gemm, MatRef};
use crate::element::Element;
use rayon::prelude::*;
use std::ops::Range;

mod simd;
mod winograd;

use simd::multiversion;

/// Zero padding on each side of the two spatial dimensions, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Padding2d {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Padding2d {
    /// No padding (Keras "valid").
    pub const VALID: Self = Self {
        top: 0,
        bottom: 0,
        left: 0,
        right: 0,
    };

    /// The same padding `p` on all four sides.
    pub fn uniform(p: usize) -> Self {
        Self {
            top: p,
            bottom: p,
            left: p,
            right: p,
        }
    }

    /// TensorFlow/Keras "same" padding for an `h × w` input: per dimension `out = ⌈in / s⌉`,
    /// `total = max((out − 1)·s + k − in, 0)`, `before = total / 2`, `after = total − before`
    /// (an odd extra pixel goes to the bottom / right).
    pub fn same(h: usize, w: usize, kernel: (usize, usize), stride: (usize, usize)) -> Self {
        let (top, bottom) = same_1d(h, kernel.0, stride.0);
        let (left, right) = same_1d(w, kernel.1, stride.1);
        Self {
            top,
            bottom,
            left,
            right,
        }
    }
}

fn same_1d(len: usize, k: usize, s: usize) -> (usize, usize) {
    if s == 0 {
        return (0, 0); // rejected later by the geometry check
    }
    let out = len.div_ceil(s);
    let total = (out.saturating_sub(1) * s + k).saturating_sub(len);
    (total / 2, total - total / 2)
}

/// Output `(oh, ow)` of a sliding window, or an error naming `op` and what does not fit.
pub(crate) fn window_out(
    op: &str,
    (h, w): (usize, usize),
    (kh, kw): (usize, usize),
    (sh, sw): (usize, usize),
    pad: &Padding2d,
) -> Result<(usize, usize), String> {
    if kh == 0 || kw == 0 {
        return Err(format!("{op}: kernel {kh}x{kw} has a zero dimension"));
    }
    if sh == 0 || sw == 0 {
        return Err(format!("{op}: stride {sh}x{sw} has a zero dimension"));
    }
    let (ph, pw) = (h + pad.top + pad.bottom, w + pad.left + pad.right);
    if kh > ph || kw > pw {
        return Err(format!(
            "{op}: kernel {kh}x{kw} larger than padded input {ph}x{pw}"
        ));
    }
    Ok(((ph - kh) / sh + 1, (pw - kw) / sw + 1))
}

/// The shapes and hyper-parameters of one 2-D convolution (see the module docs for layouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dGeometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c_in: usize,
    pub kh: usize,
    pub kw: usize,
    pub c_out: usize,
    /// `(sh, sw)`.
    pub stride: (usize, usize),
    pub pad: Padding2d,
}

impl Conv2dGeometry {
    /// `(oh, ow)`, or an error such as "conv2d: kernel 5x5 larger than padded input 3x3".
    pub fn out_hw(&self) -> Result<(usize, usize), String> {
        window_out(
            "conv2d",
            (self.h, self.w),
            (self.kh, self.kw),
            self.stride,
            &self.pad,
        )
    }

    /// Elements of `x`: `n·h·w·c_in`.
    pub fn x_len(&self) -> usize {
        self.n * self.h * self.w * self.c_in
    }

    /// Elements of the filters: `kh·kw·c_in·c_out`.
    pub fn w_len(&self) -> usize {
        self.kh * self.kw * self.c_in * self.c_out
    }

    /// Elements of `y`: `n·oh·ow·c_out`, or the geometry error.
    pub fn y_len(&self) -> Result<usize, String> {
        let (oh, ow) = self.out_hw()?;
        Ok(self.n * oh * ow * self.c_out)
    }
}

/// Work-buffer elements per chunk (`cols`, or the Winograd tile planes): 1 MiB of f32.
const CHUNK_ELEMS: usize = 1 << 18;
/// Below this many multiply-adds (of the plain algorithm) a call runs on one thread.
const PARALLEL_MIN_MACS: usize = 1 << 22;

/// Derived sizes, the algorithm and the work split of one call.
#[derive(Clone, Copy, Debug)]
struct Plan {
    oh: usize,
    ow: usize,
    /// Patch length `kh·kw·c_in`.
    k: usize,
    /// 1×1, stride 1, no padding: `x` itself is the patch matrix.
    direct: bool,
    /// 3×3 stride 1 with enough channels: Winograd F(2×2, 3×3) in place of im2col.
    winograd: bool,
    /// Work-buffer elements per chunk.
    chunk: usize,
    /// Upper bound on parallel tasks.
    tasks: usize,
}

impl Plan {
    fn new(g: &Conv2dGeometry) -> Self {
        let (oh, ow) = g.out_hw().unwrap_or_else(|e| panic!("{e}"));
        let k = g.kh * g.kw * g.c_in;
        let direct = g.kh == 1 && g.kw == 1 && g.stride == (1, 1) && g.pad == Padding2d::VALID;
        let macs = g.n * oh * ow * k * g.c_out;
        let threads = rayon::current_num_threads();
        let tasks = if threads > 1 && macs >= PARALLEL_MIN_MACS {
            threads
        } else {
            1
        };
        let winograd = winograd::suits(g, oh, ow);
        Self {
            oh,
            ow,
            k,
            direct,
            winograd,
            chunk: CHUNK_ELEMS,
            tasks,
        }
    }

    /// Units (output lines, tile rows) per chunk when each needs `per_unit` buffer elements.
    fn per_chunk(&self, per_unit: usize) -> usize {
        (self.chunk / per_unit.max(1)).max(1)
    }
}

/// Splits `range` into consecutive pieces of `step` (the last may be shorter).
fn pieces(range: Range<usize>, step: usize) -> impl Iterator<Item = Range<usize>> {
    range
        .clone()
        .step_by(step.max(1))
        .map(move |s| s..(s + step).min(range.end))
}

/// Splits `s` before each of the ascending element offsets `cuts`.
fn split_at_offsets<T>(mut s: &mut [T], cuts: impl Iterator<Item = usize>) -> Vec<&mut [T]> {
    let mut parts = vec![];
    let mut done = 0;
    for cut in cuts {
        let (a, b) = std::mem::take(&mut s).split_at_mut(cut - done);
        parts.push(a);
        (s, done) = (b, cut);
    }
    parts.push(s);
    parts
}

/// `Σ_rows` of a row-major matrix with `cols` columns, summed in blocks (kinder to f32).
fn column_sums<T: Element>(m: &[T], cols: usize) -> Vec<T> {
    let mut total = vec![T::zero(); cols];
    let mut block = total.clone();
    for rows in m.chunks(1024 * cols.max(1)) {
        block.fill(T::zero());
        for r in rows.chunks_exact(cols) {
            simd::map(&mut block, [r], |s, [v]| s + v);
        }
        simd::map(&mut total, [&block], |s, [v]| s + v);
    }
    total
}

/// `out = Σ parts` (zero when there are none).
fn reduce_into<'a, T: Element>(out: &mut [T], parts: impl Iterator<Item = &'a Vec<T>>) {
    out.fill(T::zero());
    for part in parts {
        out.iter_mut().zip(part).for_each(|(o, &v)| *o += v);
    }
}

fn check_len(what: &str, got: usize, want: usize) {
    assert_eq!(
        got, want,
        "conv2d: {what} has {got} elements, the geometry needs {want}"
    );
}

/// Visits the patch rows of output lines `lines` in order. For row `r` (counted from the first
/// line) it calls `f(r·k + col, Some(x_off), len)` for each run of `len` patch elements that
/// reads `x[x_off..x_off + len]`, and `f(r·k + col, None, len)` for each run in the padding.
fn for_each_run(
    g: &Conv2dGeometry,
    p: &Plan,
    lines: Range<usize>,
    mut f: impl FnMut(usize, Option<usize>, usize),
) {
    let (c, (sh, sw), pad) = (g.c_in, g.stride, g.pad);
    let run = g.kw * c;
    let mut r = 0;
    for l in lines {
        let (b, oy) = (l / p.oh, l % p.oh);
        let y0 = oy * sh;
        // Valid ky: 0 <= y0 + ky - top < h; likewise kx.
        let ky0 = pad.top.saturating_sub(y0).min(g.kh);
        let ky1 = (g.h + pad.top).saturating_sub(y0).clamp(ky0, g.kh);
        for ox in 0..p.ow {
            let x0 = ox * sw;
            let kx0 = pad.left.saturating_sub(x0).min(g.kw);
            let kx1 = (g.w + pad.left).saturating_sub(x0).clamp(kx0, g.kw);
            let base = r * p.k;
            if ky0 > 0 {
                f(base, None, ky0 * run);
            }
            for ky in ky0..ky1 {
                let seg = base + ky * run;
                if kx0 > 0 {
                    f(seg, None, kx0 * c);
                }
                if kx1 > kx0 {
                    let (iy, ix) = (y0 + ky - pad.top, x0 + kx0 - pad.left);
                    f(
                        seg + kx0 * c,
                        Some(((b * g.h + iy) * g.w + ix) * c),
                        (kx1 - kx0) * c,
                    );
                }
                if kx1 < g.kw {
                    f(seg + kx1 * c, None, (g.kw - kx1) * c);
                }
            }
            if ky1 < g.kh {
                f(base + ky1 * run, None, (g.kh - ky1) * run);
            }
            r += 1;
        }
    }
}

/// Writes the patch rows of `lines` into `cols` (row-major, `k` columns).
fn im2col<T: Element>(g: &Conv2dGeometry, p: &Plan, x: &[T], lines: Range<usize>, cols: &mut [T]) {
    for_each_run(g, p, lines, |i, src, len| {
        let d = &mut cols[i..i + len];
        match src {
            Some(o) => d.copy_from_slice(&x[o..o + len]),
            None => d.fill(T::zero()),
        }
    });
}

/// Adds the patch rows of `lines` in `cols` into `dx`, whose first element is input offset
/// `dx_base` (col2im, the adjoint of [`im2col`]).
fn col2im<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    cols: &[T],
    lines: Range<usize>,
    dx: &mut [T],
    dx_base: usize,
) {
    for_each_run(g, p, lines, |i, src, len| {
        if let Some(o) = src {
            simd::map(
                &mut dx[o - dx_base..o - dx_base + len],
                [&cols[i..]],
                |d, [s]| d + s,
            );
        }
    });
}

/// Forward: `y = conv(x, w) + bias` (bias broadcast over `c_out`; `None` means zero).
///
/// Slice lengths: `x` [`Conv2dGeometry::x_len`], `w` [`Conv2dGeometry::w_len`], `bias`
/// `c_out`, `y` [`Conv2dGeometry::y_len`] (overwritten). Panics with the geometry's error
/// message if the window does not fit, or if a slice has the wrong length.
pub fn conv2d_forward<T: Element>(
    g: &Conv2dGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) {
    forward_with(g, &Plan::new(g), x, w, bias, y);
}

fn forward_with<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) {
    check_len("x", x.len(), g.x_len());
    check_len("w", w.len(), g.w_len());
    check_len("y", y.len(), g.n * p.oh * p.ow * g.c_out);
    if let Some(b) = bias {
        check_len("bias", b.len(), g.c_out);
    }
    let line_len = p.ow * g.c_out;
    if line_len == 0 || y.is_empty() {
        return;
    }
    // Tasks take consecutive units (output lines, or Winograd tile rows) and their outputs.
    let u = p.winograd.then(|| winograd::weights(g, w));
    let units = if p.winograd {
        winograd::tile_rows(g, p)
    } else {
        g.n * p.oh
    };
    let first_line = |unit| {
        if p.winograd {
            winograd::first_line(p, unit)
        } else {
            unit
        }
    };
    let tasks = p.tasks.min(units);
    let per_task = units.div_ceil(tasks);
    let range = |t: usize| (t * per_task).min(units)..((t + 1) * per_task).min(units);
    let run = |t: usize, yt: &mut [T]| match &u {
        Some(u) => winograd::forward_rows(g, p, x, u, bias, range(t), yt),
        None => forward_lines(g, p, x, w, bias, range(t), yt),
    };
    if tasks == 1 {
        run(0, y);
    } else {
        let cuts = (1..tasks).map(|t| first_line(range(t).start) * line_len);
        let parts = split_at_offsets(y, cuts);
        parts
            .into_par_iter()
            .enumerate()
            .for_each(|(t, yt)| run(t, yt));
    }
}

/// The im2col forward for output lines `lines`, whose output rows are `y`.
fn forward_lines<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    lines: Range<usize>,
    y: &mut [T],
) {
    let (k, co) = (p.k, g.c_out);
    let chunk_lines = p.per_chunk(p.ow * k);
    let mut cols = match p.direct {
        true => Vec::new(),
        false => vec![T::zero(); chunk_lines.min(lines.len()) * p.ow * k],
    };
    let y0 = lines.start * p.ow;
    for chunk in pieces(lines, chunk_lines) {
        let (r0, rows) = (chunk.start * p.ow, chunk.len() * p.ow);
        let yc = &mut y[(r0 - y0) * co..(r0 - y0 + rows) * co];
        if let Some(b) = bias {
            yc.chunks_exact_mut(co).for_each(|r| r.copy_from_slice(b));
        }
        let a: &[T] = if p.direct {
            &x[r0 * k..(r0 + rows) * k]
        } else {
            im2col(g, p, x, chunk, &mut cols[..rows * k]);
            &cols[..rows * k]
        };
        gemm(
            rows,
            co,
            k,
            MatRef::row_major(a, k),
            MatRef::row_major(w, co),
            yc,
            co,
            bias.is_some(),
        );
    }
}

/// Backward of [`conv2d_forward`] given `dy = ∂L/∂y`; computes only the gradients asked for,
/// each overwritten: `dx[b, iy, ix, ci] = Σ dy[b, oy, ox, co] · w[ky, kx, ci, co]` over the
/// taps that read `(iy, ix)`, `dw[ky, kx, ci, co] = Σ_{b,oy,ox} x[…] · dy[b, oy, ox, co]`,
/// `db[co] = Σ_{b,oy,ox} dy[b, oy, ox, co]`.
///
/// Lengths as in [`conv2d_forward`] (`dx` like `x`, `dw` like `w`, `db` `c_out`, `dy` like `y`).
pub fn conv2d_backward<T: Element>(
    g: &Conv2dGeometry,
    x: &[T],
    w: &[T],
    dy: &[T],
    dx: Option<&mut [T]>,
    dw: Option<&mut [T]>,
    db: Option<&mut [T]>,
) {
    backward_with(g, &Plan::new(g), x, w, dy, dx, dw, db);
}

#[allow(clippy::too_many_arguments)]
fn backward_with<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    w: &[T],
    dy: &[T],
    dx: Option<&mut [T]>,
    dw: Option<&mut [T]>,
    db: Option<&mut [T]>,
) {
    check_len("x", x.len(), g.x_len());
    check_len("w", w.len(), g.w_len());
    check_len("dy", dy.len(), g.n * p.oh * p.ow * g.c_out);
    if let Some(dx) = &dx {
        check_len("dx", dx.len(), g.x_len());
    }
    if let Some(dw) = &dw {
        check_len("dw", dw.len(), g.w_len());
    }
    if let Some(db) = &db {
        check_len("db", db.len(), g.c_out);
    }
    let (want_dw, want_db) = (dw.is_some(), db.is_some());
    // Tasks own whole images, so that their scatters into dx never overlap.
    let tasks = p.tasks.min(g.n).max(1);
    let per_task = g.n.div_ceil(tasks);
    let (x_img, y_img) = (g.h * g.w * g.c_in, p.oh * p.ow * g.c_out);
    let u = (p.winograd && dx.is_some()).then(|| winograd::weights(g, w));
    let dx_parts: Vec<Option<&mut [T]>> = match dx {
        Some(dx) => {
            let cuts = (1..tasks).map(|t| (t * per_task).min(g.n) * x_img);
            split_at_offsets(dx, cuts).into_iter().map(Some).collect()
        }
        None => (0..tasks).map(|_| None).collect(),
    };
    let run = |t: usize, dxp: Option<&mut [T]>| {
        let images = (t * per_task).min(g.n)..((t + 1) * per_task).min(g.n);
        let dyt = &dy[images.start * y_img..images.end * y_img];
        let db = if want_db {
            column_sums(dyt, g.c_out)
        } else {
            vec![]
        };
        let dw = match p.winograd {
            true => winograd::backward_images(g, p, x, u.as_deref(), dy, images, dxp, want_dw),
            false => backward_images(g, p, x, w, dy, images, dxp, want_dw),
        };
        (dw, db)
    };
    let partials: Vec<(Vec<T>, Vec<T>)> = if tasks == 1 {
        dx_parts.into_iter().map(|d| run(0, d)).collect()
    } else {
        dx_parts
            .into_par_iter()
            .enumerate()
            .map(|(t, d)| run(t, d))
            .collect()
    };
    if let Some(dw) = dw {
        let parts = partials.iter().map(|(w, _)| w);
        if p.winograd {
            let mut du = vec![T::zero(); 16 * g.c_in * g.c_out];
            reduce_into(&mut du, parts);
            winograd::weight_grad(g, &du, dw);
        } else {
            reduce_into(dw, parts);
        }
    }
    if let Some(db) = db {
        reduce_into(db, partials.iter().map(|(_, b)| b));
    }
}

multiversion!(
    /// The im2col backward over images `images`: writes their `dx` (if asked) and returns
    /// this task's partial `dw` (empty when not asked).
    fn backward_images<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        x: &[T],
        w: &[T],
        dy: &[T],
        images: Range<usize>,
        dx: Option<&mut [T]>,
        want_dw: bool,
    ) -> Vec<T> => backward_images_body
);

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_images_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    w: &[T],
    dy: &[T],
    images: Range<usize>,
    mut dx: Option<&mut [T]>,
    want_dw: bool,
) -> Vec<T> {
    let (k, ci, co) = (p.k, g.c_in, g.c_out);
    let mut dw = vec![T::zero(); if want_dw { k * co } else { 0 }];
    let lines = images.start * p.oh..images.end * p.oh;
    let chunk_lines = p.per_chunk(p.ow * k);
    let need_cols = !p.direct && (want_dw || dx.is_some());
    let mut cols = vec![
        T::zero();
        if need_cols {
            chunk_lines.min(lines.len()) * p.ow * k
        } else {
            0
        }
    ];
    let dx_base = images.start * g.h * g.w * ci;
    if let Some(dx) = dx.as_deref_mut() {
        if !p.direct || co == 0 {
            dx.fill(T::zero());
        }
    }
    if co == 0 {
        return dw;
    }
    for chunk in pieces(lines, chunk_lines) {
        let (r0, rows) = (chunk.start * p.ow, chunk.len() * p.ow);
        let dyc = &dy[r0 * co..(r0 + rows) * co];
        if want_dw {
            let a: &[T] = if p.direct {
                &x[r0 * k..(r0 + rows) * k]
            } else {
                im2col(g, p, x, chunk.clone(), &mut cols[..rows * k]);
                &cols[..rows * k]
            };
            let (at, b) = (MatRef::row_major_t(a, k), MatRef::row_major(dyc, co));
            gemm(k, co, rows, at, b, &mut dw, co, true); // dw starts at zero
        }
        if let Some(dx) = dx.as_deref_mut() {
            let (a, wt) = (MatRef::row_major(dyc, co), MatRef::row_major_t(w, co));
            if p.direct {
                let d = &mut dx[r0 * ci - dx_base..(r0 + rows) * ci - dx_base];
                gemm(rows, ci, co, a, wt, d, ci, false);
            } else {
                let dcols = &mut cols[..rows * k];
                gemm(rows, k, co, a, wt, dcols, k, false);
                col2im(g, p, dcols, chunk, dx, dx_base);
            }
        }
    }
    dw
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic pseudo-random values in [-1, 1) (xorshift).
    pub(crate) fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        };
        (0..len).map(|_| next()).collect()
    }

    /// The course's relative difference `‖a − b‖ / (‖a‖ + ‖b‖)` (0 when both are zero).
    pub(crate) fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
        let num = norm(&mut a.iter().zip(b).map(|(x, y)| x - y));
        let den = norm(&mut a.iter().copied()) + norm(&mut b.iter().copied());
        if den == 0.0 {
            0.0
        } else {
            num / den
        }
    }

    fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        for (i, (a, b)) in got.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= tol * (1.0 + b.abs()),
                "{what}[{i}]: got {a}, want {b}"
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn geom(
        n: usize,
        h: usize,
        w: usize,
        c_in: usize,
        c_out: usize,
        (kh, kw): (usize, usize),
        stride: (usize, usize),
        pad: Padding2d,
    ) -> Conv2dGeometry {
        Conv2dGeometry {
            n,
            h,
            w,
            c_in,
            kh,
            kw,
            c_out,
            stride,
            pad,
        }
    }

    fn cases() -> Vec<Conv2dGeometry> {
        let same = Padding2d::same;
        let asym = Padding2d {
            top: 1,
            bottom: 2,
            left: 0,
            right: 3,
        };
        vec![
            geom(1, 5, 5, 1, 1, (3, 3), (1, 1), Padding2d::VALID),
            geom(3, 7, 6, 3, 8, (3, 3), (1, 1), same(7, 6, (3, 3), (1, 1))),
            geom(3, 8, 7, 3, 8, (3, 3), (2, 2), same(8, 7, (3, 3), (2, 2))),
            geom(1, 9, 7, 8, 3, (5, 5), (2, 1), asym),
            geom(3, 6, 6, 8, 3, (5, 5), (1, 1), Padding2d::uniform(2)),
            geom(3, 6, 5, 8, 8, (1, 1), (1, 1), Padding2d::VALID),
            geom(1, 7, 6, 3, 8, (1, 1), (2, 2), Padding2d::VALID),
            geom(1, 2, 3, 3, 3, (1, 1), (1, 1), Padding2d::uniform(1)),
            geom(3, 5, 8, 3, 1, (2, 4), (1, 2), same(5, 8, (2, 4), (1, 2))),
            geom(1, 3, 3, 1, 3, (3, 3), (1, 1), Padding2d::uniform(1)),
            geom(1, 4, 4, 2, 2, (3, 3), (3, 3), Padding2d::uniform(2)),
            // 3×3 stride 1 (Winograd): asymmetric and oversized padding, odd outputs.
            geom(
                2,
                7,
                9,
                4,
                5,
                (3, 3),
                (1, 1),
                Padding2d {
                    top: 2,
                    bottom: 0,
                    left: 1,
                    right: 2,
                },
            ),
            geom(1, 6, 5, 2, 3, (3, 3), (1, 1), Padding2d::VALID),
            geom(2, 4, 5, 3, 2, (3, 3), (1, 1), Padding2d::uniform(2)),
        ]
    }

    /// The default plan, plus forced chunkings and task splits (and im2col for 1×1).
    fn plans(g: &Conv2dGeometry) -> Vec<Plan> {
        let p = Plan::new(g);
        let per_line = p.ow * p.k;
        let mut v = vec![
            p,
            Plan {
                chunk: 1,
                tasks: 3,
                ..p
            },
            Plan {
                chunk: 2 * per_line,
                tasks: 2,
                ..p
            },
        ];
        if p.direct {
            v.push(Plan {
                direct: false,
                chunk: 3 * per_line,
                tasks: 2,
                ..p
            });
        }
        // Winograd wherever it applies, im2col everywhere else.
        if winograd::applies(g) {
            let w = Plan {
                winograd: !p.winograd,
                ..p
            };
            v.extend([
                w,
                Plan {
                    chunk: 1,
                    tasks: 3,
                    ..w
                },
                Plan {
                    chunk: 1 << 12,
                    tasks: 2,
                    ..w
                },
            ]);
        }
        v
    }

    /// Input pixel read by tap `(ky, kx)` of output pixel `(oy, ox)`, if not padding.
    fn tap(
        g: &Conv2dGeometry,
        (oy, ox): (usize, usize),
        (ky, kx): (usize, usize),
    ) -> Option<(usize, usize)> {
        let iy = (oy * g.stride.0 + ky) as isize - g.pad.top as isize;
        let ix = (ox * g.stride.1 + kx) as isize - g.pad.left as isize;
        let inside = iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w;
        inside.then_some((iy as usize, ix as usize))
    }

    /// Calls `f(y index, x index, w index)` for every multiply-add of the convolution.
    fn each_mac(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
        let (oh, ow) = g.out_hw().unwrap();
        for b in 0..g.n {
            for (oy, ox) in (0..oh).flat_map(|oy| (0..ow).map(move |ox| (oy, ox))) {
                for (ky, kx) in (0..g.kh).flat_map(|ky| (0..g.kw).map(move |kx| (ky, kx))) {
                    let Some((iy, ix)) = tap(g, (oy, ox), (ky, kx)) else {
                        continue;
                    };
                    for ci in 0..g.c_in {
                        for co in 0..g.c_out {
                            let yi = ((b * oh + oy) * ow + ox) * g.c_out + co;
                            let xi = ((b * g.h + iy) * g.w + ix) * g.c_in + ci;
                            let wi = ((ky * g.kw + kx) * g.c_in + ci) * g.c_out + co;
                            f(yi, xi, wi);
                        }
                    }
                }
            }
        }
    }

    fn naive_forward(g: &Conv2dGeometry, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> Vec<f64> {
        let mut y = vec![0.0; g.y_len().unwrap()];
        if let Some(b) = bias {
            y.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = b[i % g.c_out]);
        }
        each_mac(g, |yi, xi, wi| y[yi] += x[xi] * w[wi]);
        y
    }

    fn naive_backward(g: &Conv2dGeometry, x: &[f64], w: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        each_mac(g, |yi, xi, wi| {
            dx[xi] += dy[yi] * w[wi];
            dw[wi] += dy[yi] * x[xi];
        });
        let mut db = vec![0.0; g.c_out];
        dy.iter()
            .enumerate()
            .for_each(|(i, d)| db[i % g.c_out] += d);
        [dx, dw, db]
    }

    fn inputs(g: &Conv2dGeometry) -> [Vec<f64>; 4] {
        let y_len = g.y_len().unwrap();
        [
            data(g.x_len(), 1),
            data(g.w_len(), 2),
            data(g.c_out, 3),
            data(y_len, 4),
        ]
    }

    #[test]
    fn forward_matches_naive_for_all_geometries_and_plans() {
        for g in cases() {
            let [x, w, b, _] = inputs(&g);
            for bias in [None, Some(&b[..])] {
                let want = naive_forward(&g, &x, &w, bias);
                let mut y = vec![f64::NAN; want.len()];
                conv2d_forward(&g, &x, &w, bias, &mut y);
                assert_close(&format!("{g:?} y"), &y, &want, 1e-12);
                for p in plans(&g) {
                    y.fill(f64::NAN);
                    forward_with(&g, &p, &x, &w, bias, &mut y);
                    assert_close(&format!("{g:?} {p:?} y"), &y, &want, 1e-12);
                }
            }
        }
    }

    #[test]
    fn backward_matches_naive_for_all_geometries_and_plans() {
        for g in cases() {
            let [x, w, _, dy] = inputs(&g);
            let [wdx, wdw, wdb] = naive_backward(&g, &x, &w, &dy);
            let (mut dx, mut dw, mut db) = (
                vec![f64::NAN; x.len()],
                vec![f64::NAN; w.len()],
                vec![f64::NAN; g.c_out],
            );
            conv2d_backward(&g, &x, &w, &dy, Some(&mut dx), Some(&mut dw), Some(&mut db));
            let name = format!("{g:?}");
            assert_close(&format!("{name} dx"), &dx, &wdx, 1e-12);
            assert_close(&format!("{name} dw"), &dw, &wdw, 1e-12);
            assert_close(&format!("{name} db"), &db, &wdb, 1e-12);
            for p in plans(&g) {
                for v in [&mut dx, &mut dw, &mut db] {
                    v.fill(f64::NAN);
                }
                backward_with(
                    &g,
                    &p,
                    &x,
                    &w,
                    &dy,
                    Some(&mut dx),
                    Some(&mut dw),
                    Some(&mut db),
                );
                let name = format!("{name} {p:?}");
                assert_close(&format!("{name} dx"), &dx, &wdx, 1e-12);
                assert_close(&format!("{name} dw"), &dw, &wdw, 1e-12);
                assert_close(&format!("{name} db"), &db, &wdb, 1e-12);
            }
            // Each gradient on its own.
            dx.fill(f64::NAN);
            conv2d_backward(&g, &x, &w, &dy, Some(&mut dx), None, None);
            assert_close(&format!("{name} dx alone"), &dx, &wdx, 1e-12);
            dw.fill(f64::NAN);
            conv2d_backward(&g, &x, &w, &dy, None, Some(&mut dw), None);
            assert_close(&format!("{name} dw alone"), &dw, &wdw, 1e-12);
            db.fill(f64::NAN);
            conv2d_backward(&g, &x, &w, &dy, None, None, Some(&mut db));
            assert_close(&format!("{name} db alone"), &db, &wdb, 1e-12);
        }
    }

    #[test]
    fn f32_matches_f64_reference() {
        let g = geom(
            3,
            9,
            8,
            8,
            5,
            (3, 3),
            (1, 1),
            Padding2d::same(9, 8, (3, 3), (1, 1)),
        );
        assert_f32_matches_f64_reference(&g);
    }

    #[test]
    fn winograd_f32_matches_f64_reference() {
        let g = geom(
            2,
            9,
            10,
            32,
            40,
            (3, 3),
            (1, 1),
            Padding2d::same(9, 10, (3, 3), (1, 1)),
        );
        assert!(Plan::new(&g).winograd);
        assert_f32_matches_f64_reference(&g);
    }

    /// The f32 forward and backward against the f64 naive reference on `g`.
    fn assert_f32_matches_f64_reference(g: &Conv2dGeometry) {
        let [x, w, b, dy] = inputs(g);
        let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let back = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
        let mut y = vec![0f32; dy.len()];
        conv2d_forward(g, &f(&x), &f(&w), Some(&f(&b)), &mut y);
        assert_close(
            "y f32",
            &back(&y),
            &naive_forward(g, &x, &w, Some(&b)),
            1e-5,
        );
        let (mut dx, mut dw, mut db) = (
            vec![0f32; x.len()],
            vec![0f32; w.len()],
            vec![0f32; g.c_out],
        );
        conv2d_backward(
            g,
            &f(&x),
            &f(&w),
            &f(&dy),
            Some(&mut dx),
            Some(&mut dw),
            Some(&mut db),
        );
        let [wdx, wdw, wdb] = naive_backward(g, &x, &w, &dy);
        assert_close("dx f32", &back(&dx), &wdx, 1e-5);
        assert_close("dw f32", &back(&dw), &wdw, 1e-4);
        assert_close("db f32", &back(&db), &wdb, 1e-4);
    }

    /// Central differences of `L = Σ y ⊙ r` at a few entries of x, w and b against the
    /// backward with `dy = r` (the course's check: relative difference below 1e-7, ε = 1e-7).
    #[test]
    fn backward_passes_finite_difference_check() {
        let pad = Padding2d {
            top: 2,
            bottom: 0,
            left: 1,
            right: 1,
        };
        let winograd = geom(1, 5, 6, 32, 32, (3, 3), (1, 1), Padding2d::uniform(1));
        assert!(Plan::new(&winograd).winograd);
        let im2col = geom(2, 5, 4, 3, 2, (3, 2), (2, 1), pad);
        for g in [
            im2col,
            geom(1, 4, 4, 2, 3, (1, 1), (1, 1), Padding2d::VALID),
            winograd,
        ] {
            let [x, w, b, r] = inputs(&g);
            let loss = |x: &[f64], w: &[f64], b: &[f64]| {
                let mut y = vec![0.0; r.len()];
                conv2d_forward(&g, x, w, Some(b), &mut y);
                y.iter().zip(&r).map(|(y, r)| y * r).sum::<f64>()
            };
            let (mut dx, mut dw, mut db) =
                (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
            conv2d_backward(&g, &x, &w, &r, Some(&mut dx), Some(&mut dw), Some(&mut db));
            let eps = 1e-7;
            let (mut analytic, mut numeric) = (vec![], vec![]);
            let mut probe = |which: usize, i: usize| {
                let mut v = [x.clone(), w.clone(), b.clone()];
                v[which][i] += eps;
                let up = loss(&v[0], &v[1], &v[2]);
                v[which][i] -= 2.0 * eps;
                let down = loss(&v[0], &v[1], &v[2]);
                numeric.push((up - down) / (2.0 * eps));
                analytic.push([&dx, &dw, &db][which][i]);
            };
            for i in [0, 5, x.len() / 2, x.len() - 1] {
                probe(0, i);
            }
            for i in [0, 3, w.len() - 1] {
                probe(1, i);
            }
            probe(2, 0);
            probe(2, b.len() - 1);
            let d = rel_diff(&analytic, &numeric);
            assert!(d < 1e-7, "{g:?}: relative difference {d}");
        }
    }

    #[test]
    fn geometry_errors_name_what_does_not_fit() {
        let g = geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding2d::VALID);
        assert_eq!(
            g.out_hw().unwrap_err(),
            "conv2d: kernel 5x5 larger than padded input 3x3"
        );
        assert!(geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding2d::uniform(1))
            .out_hw()
            .is_ok());
        let g = geom(1, 3, 3, 1, 1, (3, 3), (0, 1), Padding2d::VALID);
        assert_eq!(
            g.out_hw().unwrap_err(),
            "conv2d: stride 0x1 has a zero dimension"
        );
        let g = geom(1, 3, 3, 1, 1, (0, 3), (1, 1), Padding2d::VALID);
        assert_eq!(
            g.out_hw().unwrap_err(),
            "conv2d: kernel 0x3 has a zero dimension"
        );
        assert_eq!(
            geom(2, 7, 5, 1, 4, (3, 2), (2, 2), Padding2d::uniform(1)).y_len(),
            Ok(2 * 4 * 3 * 4)
        );
    }

    #[test]
    #[should_panic(expected = "conv2d: kernel 5x5 larger than padded input 3x3")]
    fn forward_panics_with_the_geometry_error() {
        let g = geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding2d::VALID);
        conv2d_forward(&g, &[0.0; 9], &[0.0; 25], None, &mut []);
    }

    #[test]
    #[should_panic(expected = "conv2d: y has 3 elements, the geometry needs 4")]
    fn forward_panics_on_a_wrong_length() {
        let g = geom(1, 3, 3, 1, 1, (2, 2), (1, 1), Padding2d::VALID);
        conv2d_forward(&g, &[0.0; 9], &[0.0; 4], None, &mut [0.0; 3]);
    }

    #[test]
    fn same_padding_follows_tensorflow() {
        // out = ceil(in / s); total = max((out - 1)·s + k - in, 0); the odd pixel at the end.
        assert_eq!(Padding2d::same(5, 5, (3, 3), (1, 1)), Padding2d::uniform(1));
        assert_eq!(
            Padding2d::same(6, 5, (3, 3), (2, 2)),
            Padding2d {
                top: 0,
                bottom: 1,
                left: 1,
                right: 1
            }
        );
        assert_eq!(
            Padding2d::same(64, 64, (4, 4), (1, 1)),
            Padding2d {
                top: 1,
                bottom: 2,
                left: 1,
                right: 2
            }
        );
        assert_eq!(Padding2d::same(4, 4, (1, 1), (2, 2)), Padding2d::VALID);
        assert_eq!(
            Padding2d::same(5, 8, (2, 4), (1, 2)),
            Padding2d {
                top: 0,
                bottom: 1,
                left: 1,
                right: 1
            }
        );
        for (h, k, s) in [(7, 3, 2), (8, 5, 3), (1, 3, 1), (32, 3, 1)] {
            let g = geom(
                1,
                h,
                h,
                1,
                1,
                (k, k),
                (s, s),
                Padding2d::same(h, h, (k, k), (s, s)),
            );
            assert_eq!(g.out_hw().unwrap(), (h.div_ceil(s), h.div_ceil(s)), "{g:?}");
        }
    }

    #[test]
    fn empty_batch_and_zero_channels() {
        let g = geom(0, 4, 4, 2, 3, (3, 3), (1, 1), Padding2d::uniform(1));
        conv2d_forward::<f64>(&g, &[], &[0.0; 54], None, &mut []);
        let (mut dw, mut db) = (vec![f64::NAN; 54], vec![f64::NAN; 3]);
        conv2d_backward::<f64>(
            &g,
            &[],
            &[0.0; 54],
            &[],
            Some(&mut []),
            Some(&mut dw),
            Some(&mut db),
        );
        assert!(dw.iter().chain(&db).all(|&v| v == 0.0));
        let g = geom(1, 2, 2, 0, 2, (1, 1), (1, 1), Padding2d::VALID);
        let mut y = vec![f64::NAN; 8];
        conv2d_forward(&g, &[], &[], Some(&[1.0, 2.0]), &mut y);
        assert_eq!(y, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    }
}
