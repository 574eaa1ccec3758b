//! Transposed 2-D convolution on NHWC inputs (PyTorch's `ConvTranspose2d`), on the passes of
//! the convolution it is the adjoint of (see `kernels::conv::transpose`).

use super::conv::nhwc;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::kernels::conv::{
    conv2d_transpose_backward_data, conv2d_transpose_backward_filter, conv2d_transpose_forward,
    ConvTranspose2dGeometry,
};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// The transposed convolution of `x` `[n, h, w, c_in]` with filters `w`
    /// `[kh, kw, c_out, c_in]` and an optional `bias` `[c_out]`:
    ///
    /// `y[b, oy, ox, co] = bias[co] + Σ x[b, iy, ix, ci] · w[ky, kx, co, ci]` over
    /// `oy = iy·sh − ph + ky`, `ox = ix·sw − pw + kx`,
    ///
    /// of shape `[n, oh, ow, c_out]` with `oh = (h − 1)·sh − 2·ph + kh + oph` (likewise `ow`),
    /// PyTorch's `ConvTranspose2d(stride, padding, output_padding)` with dilation 1.
    /// `padding` `(ph, pw)` removes rows and columns from both sides of the full output;
    /// `output_padding` `(oph, opw)`, each smaller than the stride, adds them at the bottom and
    /// on the right. (dlkit's [`Padding`](crate::Padding) describes a convolution's input
    /// zeros, whose "same" and one-sided forms have no PyTorch counterpart here, so the two
    /// settings are plain pairs.)
    ///
    /// `w` is laid out as the HWIO filters of the convolution `C` from `[n, oh, ow, c_out]` to
    /// `[n, h, w, c_in]` whose adjoint this is: the forward is `C`'s backward-data pass, the
    /// backward-data pass is `C`'s forward, the backward-filter pass is `C`'s with the roles
    /// of `x` and `dy` swapped. PyTorch's `weight` `[c_in, c_out, kh, kw]` is
    /// `weight.permute(2, 3, 1, 0)` here.
    ///
    /// Errors name the op and the shapes: filters or input not 4-D, `c_in` of the input and
    /// the filters (axis 3) differing, a bias not `[c_out]`, a zero kernel or stride, an
    /// output padding not below the stride, an output below one pixel.
    pub fn try_conv2d_transpose(
        &self,
        w: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        output_padding: (usize, usize),
    ) -> Result<Tensor> {
        let op = "conv2d_transpose";
        let [n, h, wd, c_in] = nhwc(op, "the input", self)?;
        let [kh, kw, c_out, wc_in] = <[usize; 4]>::try_from(w.shape()).map_err(|_| {
            Error::invalid(
                op,
                format!(
                    "filters must be 4-D [kh, kw, c_out, c_in], got shape {:?}",
                    w.shape()
                ),
            )
        })?;
        if wc_in != c_in {
            return Err(Error::shape(
                op,
                self.shape(),
                w.shape(),
                format!(
                    "c_in differs: the input has {c_in} channels (axis 3) but the filters \
                     expect {wc_in} (axis 3)"
                ),
            ));
        }
        super::elementwise::same_dtype(op, self, w)?;
        if let Some(b) = bias {
            super::elementwise::same_dtype(op, self, b)?;
            if b.shape() != [c_out] {
                return Err(Error::shape(
                    op,
                    w.shape(),
                    b.shape(),
                    format!("the bias must have shape [{c_out}] (c_out of the filters, axis 2)"),
                ));
            }
        }
        let g = ConvTranspose2dGeometry {
            n,
            h,
            w: wd,
            c_in,
            kh,
            kw,
            c_out,
            stride,
            padding,
            output_padding,
        };
        let (oh, ow) = g.out_hw().map_err(|m| {
            // The kernel's message starts with its own "conv2d_transpose: "; `Error` adds it.
            let m = m.strip_prefix("conv2d_transpose: ").unwrap_or(&m);
            Error::invalid(
                op,
                format!("{m} (input {:?}, filters {:?})", self.shape(), w.shape()),
            )
        })?;
        let (x, wt) = (self.detach().contiguous(), w.detach().contiguous());
        let b = bias.map(|b| b.detach().contiguous());
        let out = with_dtype!(self.dtype(), T => {
            let mut y = vec![T::zero(); n * oh * ow * c_out];
            x.with_data(|xd: &[T]| wt.with_data(|wd: &[T]| match &b {
                Some(b) => b.with_data(|bd: &[T]| {
                    conv2d_transpose_forward(&g, xd, wd, Some(bd), &mut y)
                }),
                None => conv2d_transpose_forward(&g, xd, wd, None, &mut y),
            }));
            Tensor::from_vec_unchecked(y, &[n, oh, ow, c_out])
        });
        let need = (
            self.requires_grad(),
            w.requires_grad(),
            bias.is_some_and(|b| b.requires_grad()),
        );
        let mut inputs = vec![self, w];
        inputs.extend(bias);
        let has_bias = bias.is_some();
        Ok(out.track(op, &inputs, move |_, gy| {
            let (dx, dw, db) =
                with_dtype!(x.dtype(), T => transpose_backward::<T>(&g, &x, &wt, gy, need));
            let mut grads = vec![dx, dw];
            if has_bias {
                grads.push(db);
            }
            grads
        }))
    }

    /// Panicking form of [`Tensor::try_conv2d_transpose`].
    pub fn conv2d_transpose(
        &self,
        w: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
        output_padding: (usize, usize),
    ) -> Tensor {
        self.try_conv2d_transpose(w, bias, stride, padding, output_padding)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// The gradients asked for by `(nx, nw, nb)`: `dx` from the backward-data pass, `dw` and `db`
/// from the backward-filter pass.
fn transpose_backward<T: Element>(
    g: &ConvTranspose2dGeometry,
    x: &Tensor,
    w: &Tensor,
    gy: &Tensor,
    (nx, nw, nb): (bool, bool, bool),
) -> Grads {
    let mut dx = nx.then(|| vec![T::zero(); g.x_len()]);
    let mut dw = nw.then(|| vec![T::zero(); g.w_len()]);
    let mut db = nb.then(|| vec![T::zero(); g.c_out]);
    gy.with_data(|dy: &[T]| {
        if let Some(dx) = dx.as_deref_mut() {
            w.with_data(|wd: &[T]| conv2d_transpose_backward_data(g, wd, dy, dx));
        }
        if nw || nb {
            x.with_data(|xd: &[T]| {
                conv2d_transpose_backward_filter(g, xd, dy, dw.as_deref_mut(), db.as_deref_mut())
            });
        }
    });
    (
        dx.map(|v| Tensor::from_vec_unchecked(v, x.shape())),
        dw.map(|v| Tensor::from_vec_unchecked(v, w.shape())),
        db.map(|v| Tensor::from_vec_unchecked(v, &[g.c_out])),
    )
}
