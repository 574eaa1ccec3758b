//! The patch matrix of the im2col algorithm, built input row by input row.
//!
//! Patch row `r` (output pixel `(b, oy, ox)`) is laid out `[ky][kx][ci]`: for each `ky` one
//! run of `kw·c_in` elements, `x[b, iy, ix0 .. ix0 + kw, :]` with `iy = oy·sh + ky − top` and
//! `ix0 = ox·sw − left`, zeros where the window leaves the input. For one output line and one
//! `ky` every interior pixel (`0 ≤ ix0` and `ix0 + kw ≤ w`) copies a full run from the same
//! input row, so the walk decides the padding once per line and `ky` (not per run) and copies
//! the interior runs with vector moves ([`copy`]); only the edge pixels and the rows in
//! the top and bottom padding write zeros.

use super::simd::{copy, multiversion};
use super::{Conv2dGeometry, Plan};
use crate::element::Element;
use std::ops::Range;

multiversion!(
    /// Writes the patch rows of output lines `lines` into `cols` (row-major, `k` columns,
    /// every element overwritten).
    pub(super) fn im2col<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        x: &[T],
        lines: Range<usize>,
        cols: &mut [T],
    ) => im2col_body
);

/// Output columns `ox` whose window lies inside the input along x: `left ≤ ox·sw` and
/// `ox·sw + kw ≤ w + left`, as a range (empty when the kernel is wider than the input).
pub(super) fn interior_columns(g: &Conv2dGeometry, p: &Plan) -> Range<usize> {
    let (sw, left) = (g.params.stride.1, p.win.left);
    let lo = left.div_ceil(sw).min(p.ow);
    let hi = match (g.w + left).checked_sub(g.kw) {
        Some(last) => (last / sw + 1).min(p.ow),
        None => 0,
    };
    lo..hi.max(lo)
}

#[inline(always)]
pub(super) fn im2col_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    lines: Range<usize>,
    cols: &mut [T],
) {
    let (c, (sh, sw), pad, k) = (g.c_in, g.params.stride, p.win, p.k);
    let run = g.kw * c;
    let inner = interior_columns(g, p);
    let row_len = p.ow * k;
    for (r, l) in lines.enumerate() {
        let (b, oy) = (l / p.oh, l % p.oh);
        let line = &mut cols[r * row_len..(r + 1) * row_len];
        for ky in 0..g.kh {
            let iy = (oy * sh + ky).wrapping_sub(pad.top);
            if iy >= g.h {
                // A row of the top or bottom padding (wrapped below zero, or past the end).
                for ox in 0..p.ow {
                    line[ox * k + ky * run..][..run].fill(T::zero());
                }
                continue;
            }
            let x_row = &x[(b * g.h + iy) * g.w * c..][..g.w * c];
            if !inner.is_empty() {
                // Interior pixel `ox` copies `x_row[ix0·c ..][..run]`, `ix0 = ox·sw − left`,
                // to its patch row at `ky·run`.
                let mut ix = (inner.start * sw - pad.left) * c;
                for d in line[inner.start * k..inner.end * k].chunks_exact_mut(k) {
                    copy(&mut d[ky * run..ky * run + run], &x_row[ix..ix + run]);
                    ix += sw * c;
                }
            }
            for ox in (0..inner.start).chain(inner.end..p.ow) {
                edge_run(
                    g,
                    (ox * sw, pad.left),
                    x_row,
                    &mut line[ox * k + ky * run..][..run],
                );
            }
        }
    }
}

/// The run of an edge pixel whose window starts at padded column `x0`: zeros left of the
/// input, `x_row`'s pixels, zeros right of it.
fn edge_run<T: Element>(g: &Conv2dGeometry, (x0, left): (usize, usize), x_row: &[T], d: &mut [T]) {
    let c = g.c_in;
    let kx0 = left.saturating_sub(x0).min(g.kw);
    let kx1 = (g.w + left).saturating_sub(x0).clamp(kx0, g.kw);
    d[..kx0 * c].fill(T::zero());
    if kx1 > kx0 {
        let ix = x0 + kx0 - left;
        d[kx0 * c..kx1 * c].copy_from_slice(&x_row[ix * c..(ix + kx1 - kx0) * c]);
    }
    d[kx1 * c..].fill(T::zero());
}
