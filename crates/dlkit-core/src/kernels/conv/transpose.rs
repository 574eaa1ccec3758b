//! Transposed 2-D convolution (PyTorch's `ConvTranspose2d`, dilation 1, one group) on raw
//! NHWC slices, as the passes of the convolution it is the adjoint of.
//!
//! Layouts, all contiguous row-major: input `x` is `[n, h, w, c_in]`, filters `w` are
//! `[kh, kw, c_out, c_in]`, output `y` is `[n, oh, ow, c_out]`. With stride `(sh, sw)`,
//! padding `(ph, pw)` and output padding `(oph, opw)`:
//!
//! `y[b, oy, ox, co] = bias[co] + Σ x[b, iy, ix, ci] · w[ky, kx, co, ci]` over the
//! `(iy, ix, ky, kx, ci)` with `oy = iy·sh − ph + ky`, `ox = ix·sw − pw + kx`,
//!
//! `oh = (h − 1)·sh − 2·ph + kh + oph`, `ow = (w − 1)·sw − 2·pw + kw + opw`, `oph < sh`,
//! `opw < sw` (PyTorch's sizes: the output padding adds rows at the bottom and columns on the
//! right, which only the taps that reach them fill).
//!
//! The identity: let `C` be the convolution (see the parent module) of an `oh × ow × c_out`
//! input with the HWIO filters `w` (`[kh, kw, c_out, c_in]`: its `c_in` is our `c_out`),
//! stride `(sh, sw)` and zeros `(ph, ph, pw, pw)`; its output is `h × w × c_in`, our input's
//! size. Then, with `C` linear in its input,
//!
//! - forward: `y = Cᵀ x` is `C`'s backward-data pass given `dy = x` ([`conv2d_backward_data`]),
//!   plus the bias;
//! - backward-data: `dx = C dy` is `C`'s forward of `dy` ([`conv2d_forward`], no bias);
//! - backward-filter: `L = ⟨y, dy⟩ = ⟨C dy, x⟩`, so `dw` is `C`'s backward-filter pass with
//!   the input `dy` and the output gradient `x` ([`conv2d_backward_filter`], the roles of `x`
//!   and `dy` swapped), and `db[co] = Σ_{b,oy,ox} dy[b, oy, ox, co]`.
//!
//! The filter layout is `C`'s HWIO, so every pass runs `C`'s kernels (im2col or Winograd) as
//! they are. PyTorch's `ConvTranspose2d.weight` `[c_in, c_out, kh, kw]` maps to it as
//! `w[ky, kx, co, ci] = weight[ci, co, ky, kx]` (a permutation `(2, 3, 1, 0)`, the same as
//! `Conv2d`'s OIHW to HWIO).

use super::{
    column_sums, conv2d_backward_data, conv2d_backward_filter, conv2d_forward, simd, Conv2dGeometry,
};
use crate::element::Element;
use crate::kernels::window::{Padding, WindowParams};

/// The shapes and parameters of one transposed convolution (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTranspose2dGeometry {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c_in: usize,
    pub kh: usize,
    pub kw: usize,
    pub c_out: usize,
    /// `(sh, sw)`, each at least 1.
    pub stride: (usize, usize),
    /// `(ph, pw)`: rows removed from the top and the bottom, columns from the left and the
    /// right of the full output.
    pub padding: (usize, usize),
    /// `(oph, opw)`: rows added at the bottom, columns on the right; smaller than the stride.
    pub output_padding: (usize, usize),
}

impl ConvTranspose2dGeometry {
    /// `(oh, ow)`, or an error starting "conv2d_transpose: " that says which setting is out
    /// of range: a zero kernel or stride, an output padding not below the stride, an empty
    /// input, or an output of no rows or columns.
    pub fn out_hw(&self) -> Result<(usize, usize), String> {
        let op = "conv2d_transpose";
        let ((sh, sw), (oph, opw)) = (self.stride, self.output_padding);
        if self.kh == 0 || self.kw == 0 {
            let (kh, kw) = (self.kh, self.kw);
            return Err(format!("{op}: kernel {kh}x{kw} has a zero dimension"));
        }
        if sh == 0 || sw == 0 {
            return Err(format!("{op}: stride {sh}x{sw} has a zero dimension"));
        }
        if oph >= sh || opw >= sw {
            return Err(format!(
                "{op}: output padding {oph}x{opw} must be smaller than the stride {sh}x{sw} \
                 along both axes"
            ));
        }
        if self.h == 0 || self.w == 0 {
            let (h, w) = (self.h, self.w);
            return Err(format!("{op}: input {h}x{w} has no pixels"));
        }
        let len = |n: usize, s: usize, p: usize, k: usize, op: usize| {
            ((n - 1) * s + k + op) as i64 - 2 * p as i64
        };
        let oh = len(self.h, sh, self.padding.0, self.kh, oph);
        let ow = len(self.w, sw, self.padding.1, self.kw, opw);
        if oh < 1 || ow < 1 {
            let (ph, pw) = self.padding;
            return Err(format!(
                "{op}: the output would be {oh}x{ow}: (in - 1)·stride - 2·padding + kernel + \
                 output_padding with padding {ph}x{pw} is below 1; use less padding"
            ));
        }
        Ok((oh as usize, ow as usize))
    }

    /// The convolution this one is the adjoint of: input `oh × ow × c_out`, HWIO filters
    /// `[kh, kw, c_out, c_in]`, zeros `(ph, ph, pw, pw)`, output `h × w × c_in`; or the
    /// error of [`ConvTranspose2dGeometry::out_hw`].
    pub fn adjoint(&self) -> Result<Conv2dGeometry, String> {
        let (oh, ow) = self.out_hw()?;
        let (ph, pw) = self.padding;
        let padding = Padding::Explicit {
            top: ph,
            bottom: ph,
            left: pw,
            right: pw,
        };
        Ok(Conv2dGeometry {
            n: self.n,
            h: oh,
            w: ow,
            c_in: self.c_out,
            kh: self.kh,
            kw: self.kw,
            c_out: self.c_in,
            params: WindowParams::new(self.stride, padding),
        })
    }

    /// Elements of `x`: `n·h·w·c_in`.
    pub fn x_len(&self) -> usize {
        self.n * self.h * self.w * self.c_in
    }

    /// Elements of the filters: `kh·kw·c_out·c_in`.
    pub fn w_len(&self) -> usize {
        self.kh * self.kw * self.c_out * self.c_in
    }

    /// Elements of `y`: `n·oh·ow·c_out`, or the geometry error.
    pub fn y_len(&self) -> Result<usize, String> {
        let (oh, ow) = self.out_hw()?;
        Ok(self.n * oh * ow * self.c_out)
    }
}

/// The adjoint convolution, or a panic with the geometry's error.
fn adjoint(g: &ConvTranspose2dGeometry) -> Conv2dGeometry {
    g.adjoint().unwrap_or_else(|e| panic!("{e}"))
}

/// Forward: `y = Cᵀ x + bias` (bias broadcast over `c_out`; `None` means zero), `C`'s
/// backward-data pass.
///
/// Slice lengths: `x` [`ConvTranspose2dGeometry::x_len`], `w`
/// [`ConvTranspose2dGeometry::w_len`], `bias` `c_out`, `y` [`ConvTranspose2dGeometry::y_len`]
/// (overwritten). Panics with the geometry's error message if it is invalid, or if a slice
/// has the wrong length.
pub fn conv2d_transpose_forward<T: Element>(
    g: &ConvTranspose2dGeometry,
    x: &[T],
    w: &[T],
    bias: Option<&[T]>,
    y: &mut [T],
) {
    conv2d_backward_data(&adjoint(g), w, x, y);
    if let Some(b) = bias {
        assert_eq!(
            b.len(),
            g.c_out,
            "conv2d_transpose: bias has {} elements, the geometry needs {}",
            b.len(),
            g.c_out
        );
        for row in y.chunks_exact_mut(g.c_out.max(1)) {
            simd::map(row, [b], |v, [b]| v + b);
        }
    }
}

/// Backward-data pass of [`conv2d_transpose_forward`] given `dy = ∂L/∂y`: `dx = C dy`
/// (overwritten), `C`'s forward. Lengths as in the forward (`dx` like `x`, `dy` like `y`).
pub fn conv2d_transpose_backward_data<T: Element>(
    g: &ConvTranspose2dGeometry,
    w: &[T],
    dy: &[T],
    dx: &mut [T],
) {
    conv2d_forward(&adjoint(g), dy, w, None, dx);
}

/// Backward-filter pass of [`conv2d_transpose_forward`] given `dy = ∂L/∂y`; computes only the
/// gradients asked for, each overwritten: `dw`, `C`'s backward-filter pass with `dy` as its
/// input and `x` as its output gradient, and `db[co] = Σ_{b,oy,ox} dy[b, oy, ox, co]`.
/// Lengths as in the forward (`dw` like `w`, `db` `c_out`).
pub fn conv2d_transpose_backward_filter<T: Element>(
    g: &ConvTranspose2dGeometry,
    x: &[T],
    dy: &[T],
    dw: Option<&mut [T]>,
    db: Option<&mut [T]>,
) {
    let c = adjoint(g);
    if dw.is_some() {
        conv2d_backward_filter(&c, dy, x, dw, None);
    }
    if let Some(db) = db {
        assert_eq!(
            db.len(),
            g.c_out,
            "conv2d_transpose: db has {} elements, the geometry needs {}",
            db.len(),
            g.c_out
        );
        assert_eq!(
            dy.len(),
            c.x_len(),
            "conv2d_transpose: dy has {} elements, the geometry needs {}",
            dy.len(),
            c.x_len()
        );
        db.copy_from_slice(&column_sums(dy, g.c_out));
    }
}
