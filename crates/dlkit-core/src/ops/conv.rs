//! 2-D convolution on NHWC inputs with HWIO filters (cross-correlation, as every framework),
//! on the im2col/Winograd kernels of `kernels::conv`.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::kernels::conv::{
    conv2d_backward_data, conv2d_backward_filter, conv2d_forward, Conv2dGeometry,
};
pub use crate::kernels::window::Padding;
use crate::kernels::window::WindowParams;
use crate::tensor::Tensor;
use crate::with_dtype;

/// `[n, h, w, c]` of an NHWC tensor, or an error naming `op` and `what`.
pub(crate) fn nhwc(op: &'static str, what: &str, t: &Tensor) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(t.shape()).map_err(|_| {
        Error::invalid(
            op,
            format!(
                "{what} must be 4-D [n, h, w, c] (NHWC), got shape {:?}",
                t.shape()
            ),
        )
    })
}

impl Tensor {
    /// `y[b, i, j, o] = Σ_{u, v, c} x[b, i·sh + u - pt, j·sw + v - pl, c] · w[u, v, c, o] + bias[o]`
    /// for `x` `[n, h, w, c_in]`, filters `w` `[kh, kw, c_in, c_out]`, optional `bias` `[c_out]`.
    /// Backward: the kernels' backward-data pass for dx and backward-filter pass for dw and
    /// db, each only when needed (no dx for an input that needs no gradient).
    pub fn try_conv2d(
        &self,
        w: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Tensor> {
        let op = "conv2d";
        let [n, h, wd, c_in] = nhwc(op, "the input", self)?;
        let [kh, kw, wc_in, c_out] = <[usize; 4]>::try_from(w.shape()).map_err(|_| {
            Error::invalid(
                op,
                format!(
                    "filters must be 4-D [kh, kw, c_in, c_out] (HWIO), got shape {:?}",
                    w.shape()
                ),
            )
        })?;
        if wc_in != c_in {
            return Err(Error::shape(op, self.shape(), w.shape(), format!("c_in differs: the input has {c_in} channels (axis 3) but the filters expect {wc_in} (axis 2)")));
        }
        super::elementwise::same_dtype(op, self, w)?;
        if let Some(b) = bias {
            super::elementwise::same_dtype(op, self, b)?;
            if b.shape() != [c_out] {
                return Err(Error::shape(
                    op,
                    w.shape(),
                    b.shape(),
                    format!("the bias must have shape [{c_out}] (c_out of the filters)"),
                ));
            }
        }
        if stride.0 == 0 || stride.1 == 0 {
            return Err(Error::invalid(
                op,
                format!("stride must be at least 1, got {stride:?}"),
            ));
        }
        let g = Conv2dGeometry {
            n,
            h,
            w: wd,
            c_in,
            kh,
            kw,
            c_out,
            params: WindowParams::new(stride, padding),
        };
        let (oh, ow) = g.out_hw().map_err(|m| {
            // The kernel's message starts with its own "conv2d: "; `Error` adds the op.
            let m = m.strip_prefix("conv2d: ").unwrap_or(&m);
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
                Some(b) => b.with_data(|bd: &[T]| conv2d_forward(&g, xd, wd, Some(bd), &mut y)),
                None => conv2d_forward(&g, xd, wd, None, &mut y),
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
                with_dtype!(x.dtype(), T => conv_backward::<T>(&g, &x, &wt, gy, need));
            let mut grads = vec![dx, dw];
            if has_bias {
                grads.push(db);
            }
            grads
        }))
    }

    /// Panicking form of [`Tensor::try_conv2d`].
    pub fn conv2d(
        &self,
        w: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: Padding,
    ) -> Tensor {
        self.try_conv2d(w, bias, stride, padding)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

type Grads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

fn conv_backward<T: Element>(
    g: &Conv2dGeometry,
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
            w.with_data(|wd: &[T]| conv2d_backward_data(g, wd, dy, dx));
        }
        if nw || nb {
            x.with_data(|xd: &[T]| {
                conv2d_backward_filter(g, xd, dy, dw.as_deref_mut(), db.as_deref_mut())
            });
        }
    });
    (
        dx.map(|v| Tensor::from_vec_unchecked(v, x.shape())),
        dw.map(|v| Tensor::from_vec_unchecked(v, w.shape())),
        db.map(|v| Tensor::from_vec_unchecked(v, &[g.c_out])),
    )
}
