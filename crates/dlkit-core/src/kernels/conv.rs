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
//! The backward is two passes, each callable alone: [`conv2d_backward_data`] (`dx` from `dy`
//! and `w`, the transposed convolution) and [`conv2d_backward_filter`] (`dw` and `db` from `x`
//! and `dy`).
//!
//! The transposed convolution (`transpose.rs`) runs on these three passes: its forward is the
//! backward-data pass, its backward-data the forward and its backward-filter the
//! backward-filter pass with the roles of `x` and `dy` swapped.
//!
//! The batch is processed in chunks (of output lines, or of tile rows) so that the work buffers
//! stay cache-sized; large problems run the chunks on several rayon threads.

use super::gemm::{gemm, MatRef};
use super::window::{Window2d, WindowParams};
use crate::element::Element;
use rayon::prelude::*;
use std::ops::Range;

mod im2col;
pub(super) mod simd;
#[cfg(test)]
pub(crate) mod tests;
mod transpose;
mod winograd;

use im2col::im2col;
use simd::multiversion;
pub use transpose::{
    conv2d_transpose_backward_data, conv2d_transpose_backward_filter, conv2d_transpose_forward,
    ConvTranspose2dGeometry,
};

/// The shapes and window parameters of one 2-D convolution (see the module docs for layouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dGeometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c_in: usize,
    pub kh: usize,
    pub kw: usize,
    pub c_out: usize,
    pub params: WindowParams,
}

impl Conv2dGeometry {
    /// The window resolved for this input, or an error such as "conv2d: kernel 5x5 larger
    /// than padded input 3x3".
    pub fn window(&self) -> Result<Window2d, String> {
        Window2d::new("conv2d", (self.h, self.w), (self.kh, self.kw), &self.params)
    }

    /// `(oh, ow)`, or the geometry error of [`Conv2dGeometry::window`].
    pub fn out_hw(&self) -> Result<(usize, usize), String> {
        self.window().map(|win| (win.oh, win.ow))
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
    /// The zeros on each side (and the output size).
    win: Window2d,
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
        let win = g.window().unwrap_or_else(|e| panic!("{e}"));
        let (oh, ow) = (win.oh, win.ow);
        let k = g.kh * g.kw * g.c_in;
        let direct = g.kh == 1 && g.kw == 1 && g.params.stride == (1, 1) && win.unpadded();
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
            win,
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

/// Runs `run(t, part)` for each of `tasks` parts of `out` cut at `cuts` (`tasks - 1`
/// ascending offsets): on this thread for one task, on rayon's pool otherwise.
fn run_split<T: Send>(
    out: &mut [T],
    tasks: usize,
    cuts: impl Iterator<Item = usize>,
    run: impl Fn(usize, &mut [T]) + Sync,
) {
    if tasks == 1 {
        run(0, out);
    } else {
        let parts = split_at_offsets(out, cuts);
        parts
            .into_par_iter()
            .enumerate()
            .for_each(|(t, part)| run(t, part));
    }
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

multiversion!(
    /// `Σ_rows` of a row-major matrix with `cols` columns, summed in blocks of at most 1024
    /// rows per lane (kinder to f32).
    fn column_sums<T: Element>(m: &[T], cols: usize) -> Vec<T> => column_sums_body
);

/// Lanes of [`column_sums`]' accumulator: `⌊64 / cols⌋` consecutive rows are added as one
/// vector of `group·cols` elements, so that a few columns still fill the SIMD registers; the
/// `group` partial sums are folded into the total at the end of each block.
const SUM_LANES: usize = 64;

#[inline(always)]
fn column_sums_body<T: Element>(m: &[T], cols: usize) -> Vec<T> {
    let mut total = vec![T::zero(); cols];
    if cols == 0 {
        return total;
    }
    let width = (SUM_LANES / cols).max(1) * cols;
    let mut block = vec![T::zero(); width];
    for rows in m.chunks(1024 * width) {
        block.fill(T::zero());
        let mut groups = rows.chunks_exact(width);
        for r in &mut groups {
            simd::map(&mut block, [r], |s, [v]| s + v);
        }
        for r in groups.remainder().chunks_exact(cols) {
            simd::map(&mut block[..cols], [r], |s, [v]| s + v);
        }
        for part in block.chunks_exact(cols) {
            simd::map(&mut total, [part], |s, [v]| s + v);
        }
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
    let (c, (sh, sw), pad) = (g.c_in, g.params.stride, p.win);
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
    let cuts = (1..tasks).map(|t| first_line(range(t).start) * line_len);
    run_split(y, tasks, cuts, run);
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

/// Backward-data pass of [`conv2d_forward`] given `dy = ∂L/∂y`: `dx` (overwritten) is
/// `dx[b, iy, ix, ci] = Σ dy[b, oy, ox, co] · w[ky, kx, ci, co]` over the taps that read
/// `(iy, ix)`: the transposed convolution of `dy` with `w`.
///
/// Lengths as in [`conv2d_forward`] (`dx` like `x`, `dy` like `y`).
pub fn conv2d_backward_data<T: Element>(g: &Conv2dGeometry, w: &[T], dy: &[T], dx: &mut [T]) {
    backward_data_with(g, &Plan::new(g), w, dy, dx);
}

/// Backward-filter pass of [`conv2d_forward`] given `dy = ∂L/∂y`; computes only the gradients
/// asked for, each overwritten: `dw[ky, kx, ci, co] = Σ_{b,oy,ox} x[…] · dy[b, oy, ox, co]`,
/// `db[co] = Σ_{b,oy,ox} dy[b, oy, ox, co]`.
///
/// Lengths as in [`conv2d_forward`] (`dw` like `w`, `db` `c_out`, `dy` like `y`).
pub fn conv2d_backward_filter<T: Element>(
    g: &Conv2dGeometry,
    x: &[T],
    dy: &[T],
    dw: Option<&mut [T]>,
    db: Option<&mut [T]>,
) {
    backward_filter_with(g, &Plan::new(g), x, dy, dw, db);
}

/// The backward tasks: consecutive images, so that their scatters into `dx` never overlap.
/// Returns the task count and `images(t)`.
fn image_tasks(g: &Conv2dGeometry, p: &Plan) -> (usize, impl Fn(usize) -> Range<usize>) {
    let (n, tasks) = (g.n, p.tasks.min(g.n).max(1));
    let per_task = n.div_ceil(tasks);
    (tasks, move |t: usize| {
        (t * per_task).min(n)..((t + 1) * per_task).min(n)
    })
}

fn backward_data_with<T: Element>(g: &Conv2dGeometry, p: &Plan, w: &[T], dy: &[T], dx: &mut [T]) {
    check_len("w", w.len(), g.w_len());
    check_len("dy", dy.len(), g.n * p.oh * p.ow * g.c_out);
    check_len("dx", dx.len(), g.x_len());
    let (tasks, images) = image_tasks(g, p);
    let x_img = g.h * g.w * g.c_in;
    let u = p.winograd.then(|| winograd::weights(g, w));
    let run = |t: usize, dxp: &mut [T]| match &u {
        Some(u) => winograd::backward_data_images(g, p, u, dy, images(t), dxp),
        None => backward_data_images(g, p, w, dy, images(t), dxp),
    };
    let cuts = (1..tasks).map(|t| images(t).start * x_img);
    run_split(dx, tasks, cuts, run);
}

fn backward_filter_with<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    dy: &[T],
    dw: Option<&mut [T]>,
    db: Option<&mut [T]>,
) {
    check_len("x", x.len(), g.x_len());
    check_len("dy", dy.len(), g.n * p.oh * p.ow * g.c_out);
    if let Some(dw) = &dw {
        check_len("dw", dw.len(), g.w_len());
    }
    if let Some(db) = &db {
        check_len("db", db.len(), g.c_out);
    }
    let (want_dw, want_db) = (dw.is_some(), db.is_some());
    if !want_dw && !want_db {
        return;
    }
    let (tasks, images) = image_tasks(g, p);
    let y_img = p.oh * p.ow * g.c_out;
    // Each task returns its partial dw (or Winograd dU) and db; they are summed in task order.
    let run = |t: usize| {
        let images = images(t);
        let dyt = &dy[images.start * y_img..images.end * y_img];
        let db = if want_db {
            column_sums(dyt, g.c_out)
        } else {
            vec![]
        };
        let dw = match (want_dw, p.winograd) {
            (false, _) => vec![],
            (true, true) => winograd::backward_filter_images(g, p, x, dy, images),
            (true, false) => backward_filter_images(g, p, x, dy, images),
        };
        (dw, db)
    };
    let partials: Vec<(Vec<T>, Vec<T>)> = if tasks == 1 {
        vec![run(0)]
    } else {
        (0..tasks).into_par_iter().map(run).collect()
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
    /// The im2col backward-data pass over images `images`, whose `dx` is `dx`:
    /// `dcols = dY · Wᵀ`, added into `dx` by col2im (a 1×1 direct convolution writes
    /// `dx = dY · Wᵀ` itself).
    fn backward_data_images<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        w: &[T],
        dy: &[T],
        images: Range<usize>,
        dx: &mut [T],
    ) => backward_data_images_body
);

#[inline(always)]
fn backward_data_images_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    w: &[T],
    dy: &[T],
    images: Range<usize>,
    dx: &mut [T],
) {
    let (k, ci, co) = (p.k, g.c_in, g.c_out);
    if !p.direct || co == 0 {
        dx.fill(T::zero());
    }
    if co == 0 {
        return;
    }
    let lines = images.start * p.oh..images.end * p.oh;
    let chunk_lines = p.per_chunk(p.ow * k);
    let cols_len = if p.direct {
        0
    } else {
        chunk_lines.min(lines.len()) * p.ow * k
    };
    let mut cols = vec![T::zero(); cols_len];
    let dx_base = images.start * g.h * g.w * ci;
    for chunk in pieces(lines, chunk_lines) {
        let (r0, rows) = (chunk.start * p.ow, chunk.len() * p.ow);
        let dyc = &dy[r0 * co..(r0 + rows) * co];
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

multiversion!(
    /// The im2col backward-filter pass over images `images`: this task's partial
    /// `dw = colsᵀ · dY`.
    fn backward_filter_images<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        x: &[T],
        dy: &[T],
        images: Range<usize>,
    ) -> Vec<T> => backward_filter_images_body
);

#[inline(always)]
fn backward_filter_images_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    dy: &[T],
    images: Range<usize>,
) -> Vec<T> {
    let (k, co) = (p.k, g.c_out);
    let mut dw = vec![T::zero(); k * co];
    if co == 0 {
        return dw;
    }
    let lines = images.start * p.oh..images.end * p.oh;
    let chunk_lines = p.per_chunk(p.ow * k);
    let cols_len = if p.direct {
        0
    } else {
        chunk_lines.min(lines.len()) * p.ow * k
    };
    let mut cols = vec![T::zero(); cols_len];
    for chunk in pieces(lines, chunk_lines) {
        let (r0, rows) = (chunk.start * p.ow, chunk.len() * p.ow);
        let dyc = &dy[r0 * co..(r0 + rows) * co];
        let a: &[T] = if p.direct {
            &x[r0 * k..(r0 + rows) * k]
        } else {
            im2col(g, p, x, chunk, &mut cols[..rows * k]);
            &cols[..rows * k]
        };
        let (at, b) = (MatRef::row_major_t(a, k), MatRef::row_major(dyc, co));
        gemm(k, co, rows, at, b, &mut dw, co, true); // dw starts at zero
    }
    dw
}
