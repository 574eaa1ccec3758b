//! Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions (Lavin & Gray, "Fast Algorithms for
//! Convolutional Neural Networks", 2016).
//!
//! Each 2×2 output tile comes from a 4×4 input tile `d` (overlapping by 2) as
//! `Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A`, with
//! `Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]`, `G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]`,
//! `Aᵀ = [1 1 1 0; 0 1 −1 −1]`. Summing over input channels turns the 16 elementwise products
//! into 16 gemms `M[ξ] = V[ξ] · U[ξ]` (`V[ξ]`: tiles × c_in, `U[ξ]`: c_in × c_out): 16
//! multiply-adds per 4 outputs in place of 36. The backward follows by linearity:
//! `dM = A dY Aᵀ`, `dU[ξ] = V[ξ]ᵀ · dM[ξ]`, `dw = Gᵀ dU G`, `dV[ξ] = dM[ξ] · U[ξ]ᵀ`,
//! `dx += B dV Bᵀ` (tiles overlap, so the last step adds).
//!
//! Layouts: `U` and `dU` are `[16][c_in][c_out]`; per chunk of tiles, `V` is `[16][t][c_in]`
//! and `M` is `[16][t][c_out]`. Tiles are numbered `(b, ty, tx)` row-major; a "tile row" is
//! `(b, ty)` and covers output lines `2·ty` and `2·ty + 1` of image `b`.

use super::simd::{map, map_n, multiversion};
use super::{pieces, Conv2dGeometry, Plan};
use crate::element::Element;
use crate::kernels::gemm::{gemm, MatRef};
use std::ops::Range;

/// Whether the geometry is one this algorithm computes (3×3, stride 1, any padding).
pub(super) fn applies(g: &Conv2dGeometry) -> bool {
    g.kh == 3 && g.kw == 3 && g.params.stride == (1, 1)
}

/// Whether it also pays (measured against im2col): enough channels for its 16 small gemms
/// (it loses at 16, wins from 32), and outputs big enough that half-empty edge tiles waste
/// little.
pub(super) fn suits(g: &Conv2dGeometry, oh: usize, ow: usize) -> bool {
    applies(g) && g.c_in.min(g.c_out) >= 32 && oh.min(ow) >= 4
}

/// Tile rows `(b, ty)` in the batch.
pub(super) fn tile_rows(g: &Conv2dGeometry, p: &Plan) -> usize {
    g.n * p.oh.div_ceil(2)
}

/// The first output line `b·oh + oy` of tile row `r`.
pub(super) fn first_line(p: &Plan, r: usize) -> usize {
    let th = p.oh.div_ceil(2);
    (r / th) * p.oh + 2 * (r % th)
}

/// A 1-D map `v ↦ M v` (`M` is `O×I`) on scalars; [`transform`] applies it channelwise.
trait Map<const I: usize, const O: usize> {
    fn apply<T: Element>(v: [T; I]) -> [T; O];
}

/// `Bᵀ`.
struct Bt;
/// `B`.
struct Bm;
/// `Aᵀ`.
struct At;
/// `A`.
struct Am;
/// `G`.
struct Gm;
/// `Gᵀ`.
struct Gt;

impl Map<4, 4> for Bt {
    #[inline(always)]
    fn apply<T: Element>([d0, d1, d2, d3]: [T; 4]) -> [T; 4] {
        [d0 - d2, d1 + d2, d2 - d1, d1 - d3]
    }
}

impl Map<4, 4> for Bm {
    #[inline(always)]
    fn apply<T: Element>([v0, v1, v2, v3]: [T; 4]) -> [T; 4] {
        [v0, v1 - v2 + v3, v1 + v2 - v0, -v3]
    }
}

impl Map<4, 2> for At {
    #[inline(always)]
    fn apply<T: Element>([m0, m1, m2, m3]: [T; 4]) -> [T; 2] {
        [m0 + m1 + m2, m1 - m2 - m3]
    }
}

impl Map<2, 4> for Am {
    #[inline(always)]
    fn apply<T: Element>([e0, e1]: [T; 2]) -> [T; 4] {
        [e0, e0 + e1, e0 - e1, -e1]
    }
}

impl Map<3, 4> for Gm {
    #[inline(always)]
    fn apply<T: Element>([w0, w1, w2]: [T; 3]) -> [T; 4] {
        let h = T::of(0.5);
        [w0, (w0 + w1 + w2) * h, (w0 - w1 + w2) * h, w2]
    }
}

impl Map<4, 3> for Gt {
    #[inline(always)]
    fn apply<T: Element>([u0, u1, u2, u3]: [T; 4]) -> [T; 3] {
        let (h, s) = (T::of(0.5), (u1 + u2) * T::of(0.5));
        [u0 + s, (u1 - u2) * h, s + u3]
    }
}

/// `out = M in Mᵀ` channelwise: `ins[i][j]` are the channel slices (at least `c` long) of the
/// `I×I` input tile; output element `(o, p)` goes to `dst[start + (o·O + p)·step..][..c]`;
/// `tmp` holds `O·I·c` elements.
#[inline(always)]
fn transform<T: Element, M: Map<I, O>, const I: usize, const O: usize>(
    ins: &[[&[T]; I]; I],
    (dst, start, step): (&mut [T], usize, usize),
    c: usize,
    tmp: &mut [T],
) {
    // tmp[o][j] = (M in)[o][j], column by column.
    for j in 0..I {
        let mut col = ins[0];
        for (i, v) in col.iter_mut().enumerate() {
            *v = ins[i][j];
        }
        map_n(col, (&mut *tmp, j * c, I * c), c, M::apply);
    }
    // dst[o][p] = (tmp Mᵀ)[o][p], row by row.
    for o in 0..O {
        let mut row = ins[0];
        for (j, v) in row.iter_mut().enumerate() {
            *v = &tmp[(o * I + j) * c..][..c];
        }
        map_n(row, (&mut *dst, start + o * O * step, step), c, M::apply);
    }
}

/// The `I×I` tile of `c`-element slices `s[start + (i·I + j)·step..]`.
#[inline(always)]
fn planes<T, const I: usize>(s: &[T], start: usize, step: usize, c: usize) -> [[&[T]; I]; I] {
    let mut t = [[&s[..0]; I]; I];
    for (i, row) in t.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = &s[start + (i * I + j) * step..][..c];
        }
    }
    t
}

/// `U = G g Gᵀ` for every `(ci, co)`: HWIO `[3][3][c_in·c_out]` to `[16][c_in][c_out]`.
pub(super) fn weights<T: Element>(g: &Conv2dGeometry, w: &[T]) -> Vec<T> {
    let cc = g.c_in * g.c_out;
    let (mut u, mut tmp) = (vec![T::zero(); 16 * cc], vec![T::zero(); 12 * cc]);
    transform::<T, Gm, 3, 4>(&planes(w, 0, cc, cc), (&mut u, 0, cc), cc, &mut tmp);
    u
}

/// `dw = Gᵀ dU G`: `[16][c_in][c_out]` to HWIO.
pub(super) fn weight_grad<T: Element>(g: &Conv2dGeometry, du: &[T], dw: &mut [T]) {
    let cc = g.c_in * g.c_out;
    let mut tmp = vec![T::zero(); 12 * cc];
    transform::<T, Gt, 4, 3>(&planes(du, 0, cc, cc), (dw, 0, cc), cc, &mut tmp);
}

/// Tile grid and chunking of one call.
struct Grid {
    /// Tiles per image, vertically and horizontally.
    th: usize,
    tw: usize,
    /// Tile rows per chunk.
    chunk_rows: usize,
    /// Zeros above and left of the input.
    top: usize,
    left: usize,
}

impl Grid {
    fn new(g: &Conv2dGeometry, p: &Plan) -> Self {
        let (th, tw) = (p.oh.div_ceil(2), p.ow.div_ceil(2));
        Self {
            th,
            tw,
            chunk_rows: p.per_chunk(16 * tw * g.c_in.max(g.c_out)),
            top: p.win.top,
            left: p.win.left,
        }
    }

    /// The tiles of tile rows `rows`.
    fn tiles(&self, rows: Range<usize>) -> Tiles {
        Tiles {
            t: 0,
            r: rows.start,
            end: rows.end,
            tx: 0,
            th: self.th,
            tw: self.tw,
        }
    }
}

/// One tile: `t` counts from the first of its chunk; `(oy, ox)` is its top-left output pixel
/// in image `b` (its input window starts at input pixel `(oy − top, ox − left)`).
struct Tile {
    t: usize,
    b: usize,
    oy: usize,
    ox: usize,
}

/// Iterator over the tiles of a range of tile rows (no closures: see [`super::simd`]).
struct Tiles {
    t: usize,
    r: usize,
    end: usize,
    tx: usize,
    th: usize,
    tw: usize,
}

impl Iterator for Tiles {
    type Item = Tile;

    #[inline(always)]
    fn next(&mut self) -> Option<Tile> {
        if self.tx == self.tw {
            (self.tx, self.r) = (0, self.r + 1);
        }
        if self.r >= self.end || self.tw == 0 {
            return None;
        }
        let tile = Tile {
            t: self.t,
            b: self.r / self.th,
            oy: 2 * (self.r % self.th),
            ox: 2 * self.tx,
        };
        (self.t, self.tx) = (self.t + 1, self.tx + 1);
        Some(tile)
    }
}

/// The x offsets of the 4×4 input window of `tile`; `None` where it lies in the padding.
#[inline(always)]
fn pixels(g: &Conv2dGeometry, grid: &Grid, tile: &Tile) -> [[Option<usize>; 4]; 4] {
    let mut px = [[None; 4]; 4];
    for (i, row) in px.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let (iy, ix) = (tile.oy + i, tile.ox + j);
            if iy >= grid.top && ix >= grid.left && iy - grid.top < g.h && ix - grid.left < g.w {
                *v = Some(((tile.b * g.h + iy - grid.top) * g.w + ix - grid.left) * g.c_in);
            }
        }
    }
    px
}

/// The rows of `tile`'s 4×4 input window: for each, the x offset of its first pixel inside the
/// image (`None` if the row is padding), and the window columns inside the image.
#[inline(always)]
fn window(g: &Conv2dGeometry, grid: &Grid, tile: &Tile) -> ([Option<usize>; 4], Range<usize>) {
    let (top, left) = (grid.top, grid.left);
    let j0 = left.saturating_sub(tile.ox).min(4);
    let j1 = (g.w + left).saturating_sub(tile.ox).clamp(j0, 4);
    let mut rows = [None; 4];
    for (i, r) in rows.iter_mut().enumerate() {
        let iy = tile.oy + i;
        if iy >= top && iy - top < g.h && j1 > j0 {
            *r = Some(((tile.b * g.h + iy - top) * g.w + tile.ox + j0 - left) * g.c_in);
        }
    }
    (rows, j0..j1)
}

/// `V = Bᵀ d B` for the tiles of `rows`, into `v` (`[16][t][c_in]`); `zeros` holds `c_in`
/// zeros and `tmp` `16·c_in` elements.
#[inline(always)]
fn input_tiles<T: Element>(
    g: &Conv2dGeometry,
    grid: &Grid,
    x: &[T],
    rows: Range<usize>,
    v: &mut [T],
    (zeros, tmp): (&[T], &mut [T]),
) {
    let c = g.c_in;
    let plane = v.len() / 16;
    for tile in grid.tiles(rows) {
        let px = pixels(g, grid, &tile);
        let mut ins = [[zeros; 4]; 4];
        for (row, pxr) in ins.iter_mut().zip(&px) {
            for (s, o) in row.iter_mut().zip(pxr) {
                if let Some(o) = *o {
                    *s = &x[o..o + c];
                }
            }
        }
        transform::<T, Bt, 4, 4>(&ins, (v, tile.t * c, plane), c, tmp);
    }
}

multiversion!(
    /// The Winograd forward for tile rows `rows`, whose output lines are `y`.
    pub(super) fn forward_rows<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        x: &[T],
        u: &[T],
        bias: Option<&[T]>,
        rows: Range<usize>,
        y: &mut [T],
    ) => forward_rows_body
);

#[inline(always)]
fn forward_rows_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[T],
    u: &[T],
    bias: Option<&[T]>,
    rows: Range<usize>,
    y: &mut [T],
) {
    let (ci, co, (oh, ow)) = (g.c_in, g.c_out, (p.oh, p.ow));
    let grid = Grid::new(g, p);
    let cap = grid.chunk_rows.min(rows.len()) * grid.tw;
    let (mut v, mut m) = (
        vec![T::zero(); 16 * cap * ci],
        vec![T::zero(); 16 * cap * co],
    );
    let (zeros, mut scratch) = (vec![T::zero(); ci], vec![T::zero(); 32 * ci.max(co)]);
    let y0 = first_line(p, rows.start) * ow * co;
    let bias2: Vec<T> = bias.map_or(vec![], |b| b.iter().chain(b).copied().collect());
    for chunk in pieces(rows, grid.chunk_rows) {
        let t = chunk.len() * grid.tw;
        let (v, m) = (&mut v[..16 * t * ci], &mut m[..16 * t * co]);
        input_tiles(g, &grid, x, chunk.clone(), v, (&zeros, &mut scratch));
        let vu = v.chunks_exact(t * ci).zip(u.chunks_exact(ci * co));
        for ((vx, ux), mx) in vu.zip(m.chunks_exact_mut(t * co)) {
            gemm(
                t,
                co,
                ci,
                MatRef::row_major(vx, ci),
                MatRef::row_major(ux, co),
                mx,
                co,
                false,
            );
        }
        // Y = Aᵀ M A (+ bias), keeping the pixels inside the output.
        let (yt, tmp) = scratch.split_at_mut(4 * co);
        for tile in grid.tiles(chunk) {
            transform::<T, At, 4, 2>(&planes(m, tile.t * co, t * co, co), (yt, 0, co), co, tmp);
            let (oy, ox) = (tile.oy, tile.ox);
            let len = if ox + 1 < ow { 2 * co } else { co };
            for r in (0..2).filter(|r| oy + r < oh) {
                let off = ((tile.b * oh + oy + r) * ow + ox) * co - y0;
                let (dst, src) = (&mut y[off..off + len], &yt[2 * r * co..]);
                match bias {
                    Some(_) => map(dst, [src, &bias2], |_, [v, b]| v + b),
                    None => map(dst, [src], |_, [v]| v),
                }
            }
        }
    }
}

/// `dM = A dY Aᵀ` for the tiles of `rows` into `dm` (`[16][t][c_out]`), outputs outside the
/// image counting as zero; `zeros` holds `c_out` zeros and `tmp` `8·c_out` elements.
#[inline(always)]
fn output_grad_tiles<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    grid: &Grid,
    dy: &[T],
    rows: Range<usize>,
    dm: &mut [T],
    (zeros, tmp): (&[T], &mut [T]),
) {
    let (co, (oh, ow)) = (g.c_out, (p.oh, p.ow));
    let plane = dm.len() / 16;
    for tile in grid.tiles(rows) {
        let mut ins = [[&zeros[..co]; 2]; 2];
        for (r, row) in ins.iter_mut().enumerate() {
            for (s, e) in row.iter_mut().enumerate() {
                let (oy, ox) = (tile.oy + r, tile.ox + s);
                if oy < oh && ox < ow {
                    *e = &dy[((tile.b * oh + oy) * ow + ox) * co..][..co];
                }
            }
        }
        transform::<T, Am, 2, 4>(&ins, (dm, tile.t * co, plane), co, tmp);
    }
}

/// The work buffers of a backward pass over tile rows `rows`: the tile planes of `c_in` and
/// of `c_out` channels for the largest chunk, `max(c_in, c_out)` zeros and the transform
/// scratch.
fn backward_buffers<T: Element>(
    g: &Conv2dGeometry,
    grid: &Grid,
    rows: &Range<usize>,
) -> [Vec<T>; 4] {
    let cap = grid.chunk_rows.min(rows.len()) * grid.tw;
    let wide = g.c_in.max(g.c_out);
    [
        vec![T::zero(); 16 * cap * g.c_in],
        vec![T::zero(); 16 * cap * g.c_out],
        vec![T::zero(); wide],
        vec![T::zero(); 32 * wide],
    ]
}

multiversion!(
    /// The Winograd backward-data pass over images `images`, whose `dx` is `dx` (`u`: the
    /// transformed weights): `dM = A dY Aᵀ`, `dV[ξ] = dM[ξ] · U[ξ]ᵀ`, `dx += B dV Bᵀ`.
    pub(super) fn backward_data_images<T: Element>(
        g: &Conv2dGeometry,
        p: &Plan,
        u: &[T],
        dy: &[T],
        images: Range<usize>,
        dx: &mut [T],
    ) => backward_data_images_body
);

#[inline(always)]
fn backward_data_images_body<T: Element>(
    g: &Conv2dGeometry,
    p: &Plan,
    u: &[T],
    dy: &[T],
    images: Range<usize>,
    dx: &mut [T],
) {
    let (ci, co) = (g.c_in, g.c_out);
    let dx_base = images.start * g.h * g.w * ci;
    // dx is zeroed a chunk at a time, just before the chunk adds into it (while in cache):
    // `zeroed` elements so far.
    let (row_len, mut zeroed) = (g.w * ci, 0);
    let grid = Grid::new(g, p);
    let rows = images.start * grid.th..images.end * grid.th;
    let [mut v, mut dm, zeros, mut scratch] = backward_buffers(g, &grid, &rows);
    for chunk in pieces(rows, grid.chunk_rows) {
        let t = chunk.len() * grid.tw;
        let (v, dm) = (&mut v[..16 * t * ci], &mut dm[..16 * t * co]);
        output_grad_tiles(g, p, &grid, dy, chunk.clone(), dm, (&zeros, &mut scratch));
        for xi in 0..16 {
            let vx = &mut v[xi * t * ci..(xi + 1) * t * ci];
            let dmx = &dm[xi * t * co..(xi + 1) * t * co];
            let ut = MatRef::row_major_t(&u[xi * ci * co..(xi + 1) * ci * co], co);
            gemm(t, ci, co, MatRef::row_major(dmx, co), ut, vx, ci, false);
        }
        // dx += B dV Bᵀ over the tiles' input windows.
        let (b, ty) = ((chunk.end - 1) / grid.th, (chunk.end - 1) % grid.th);
        let rows = (2 * ty + 4).saturating_sub(grid.top).min(g.h);
        let reach = ((b - images.start) * g.h + rows) * row_len;
        dx[zeroed..reach.max(zeroed)].fill(T::zero());
        zeroed = zeroed.max(reach);
        let (dd, tmp) = scratch.split_at_mut(16 * ci);
        for tile in grid.tiles(chunk) {
            transform::<T, Bm, 4, 4>(&planes(v, tile.t * ci, t * ci, ci), (dd, 0, ci), ci, tmp);
            let (starts, cols) = window(g, &grid, &tile);
            for (i, start) in starts.into_iter().enumerate() {
                if let Some(o) = start {
                    let dst = &mut dx[o - dx_base..][..cols.len() * ci];
                    map(dst, [&dd[(4 * i + cols.start) * ci..]], |d, [s]| d + s);
                }
            }
        }
    }
    dx[zeroed..].fill(T::zero());
}

multiversion!(
    /// The Winograd backward-filter pass over images `images`: this task's partial
    /// `dU[ξ] = V[ξ]ᵀ · dM[ξ]` (`V = Bᵀ d B`, `dM = A dY Aᵀ`).
    pub(super) fn backward_filter_images<T: Element>(
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
    let (ci, co) = (g.c_in, g.c_out);
    let mut du = vec![T::zero(); 16 * ci * co];
    let grid = Grid::new(g, p);
    let rows = images.start * grid.th..images.end * grid.th;
    let [mut v, mut dm, zeros, mut scratch] = backward_buffers(g, &grid, &rows);
    for chunk in pieces(rows, grid.chunk_rows) {
        let t = chunk.len() * grid.tw;
        let (v, dm) = (&mut v[..16 * t * ci], &mut dm[..16 * t * co]);
        output_grad_tiles(g, p, &grid, dy, chunk.clone(), dm, (&zeros, &mut scratch));
        input_tiles(g, &grid, x, chunk, v, (&zeros, &mut scratch));
        for xi in 0..16 {
            let vx = &v[xi * t * ci..(xi + 1) * t * ci];
            let dmx = &dm[xi * t * co..(xi + 1) * t * co];
            let dux = &mut du[xi * ci * co..(xi + 1) * ci * co];
            let (vt, b) = (MatRef::row_major_t(vx, ci), MatRef::row_major(dmx, co));
            gemm(ci, co, t, vt, b, dux, co, true); // du starts at zero
        }
    }
    du
}
