//! Max and average pooling over NHWC windows, with any window and stride (overlapping
//! windows included) and optional padding.

use super::conv::{nhwc, Padding};
use crate::error::{Error, Result};
use crate::kernels::pool::{
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
    Pool2dGeometry,
};
use crate::kernels::window::WindowParams;
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    fn pool_geometry(
        &self,
        op: &'static str,
        window: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<(Pool2dGeometry, [usize; 4])> {
        let [n, h, w, c] = nhwc(op, "the input", self)?;
        if window.0 == 0 || window.1 == 0 || stride.0 == 0 || stride.1 == 0 {
            return Err(Error::invalid(op, format!("window and stride must be at least 1, got window {window:?}, stride {stride:?}")));
        }
        let g = Pool2dGeometry {
            n,
            h,
            w,
            c,
            kh: window.0,
            kw: window.1,
            params: WindowParams::new(stride, padding),
        };
        let (oh, ow) = g.out_hw().map_err(|m| {
            // The kernel's message starts with "pool2d: "; `Error` adds the op's own name.
            let m = m.strip_prefix("pool2d: ").unwrap_or(&m);
            Error::invalid(op, format!("{m} (input shape {:?})", self.shape()))
        })?;
        Ok((g, [n, oh, ow, c]))
    }

    /// `y[b, i, j, c] = max` over the window at `(i·sh - pt, j·sw - pl)` (padding ignored);
    /// the gradient goes to the first maximum in scan order, summed where windows overlap.
    pub fn try_max_pool2d_padded(
        &self,
        window: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Tensor> {
        let (g, out_shape) = self.pool_geometry("max_pool2d", window, stride, padding)?;
        let x = self.detach().contiguous();
        let mut argmax = vec![0usize; out_shape.iter().product()];
        let out = with_dtype!(self.dtype(), T => {
            let mut y = vec![T::zero(); argmax.len()];
            x.with_data(|xd: &[T]| max_pool2d_forward(&g, xd, &mut y, &mut argmax));
            Tensor::from_vec_unchecked(y, &out_shape)
        });
        Ok(out.track("max_pool2d", &[self], move |_, gy| {
            let dx = with_dtype!(gy.dtype(), T => {
                let mut dx = vec![T::zero(); g.x_len()];
                gy.with_data(|dy: &[T]| max_pool2d_backward(&g, dy, &argmax, &mut dx));
                Tensor::from_vec_unchecked(dx, x.shape())
            });
            vec![Some(dx)]
        }))
    }

    /// `y[b, i, j, c] =` mean over the window's real (unpadded) elements; the gradient is
    /// shared equally among them, summed where windows overlap.
    pub fn try_avg_pool2d_padded(
        &self,
        window: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Result<Tensor> {
        let (g, out_shape) = self.pool_geometry("avg_pool2d", window, stride, padding)?;
        let x = self.detach().contiguous();
        let out = with_dtype!(self.dtype(), T => {
            let mut y = vec![T::zero(); out_shape.iter().product()];
            x.with_data(|xd: &[T]| avg_pool2d_forward(&g, xd, &mut y));
            Tensor::from_vec_unchecked(y, &out_shape)
        });
        let in_shape = self.shape().to_vec();
        Ok(out.track("avg_pool2d", &[self], move |_, gy| {
            let dx = with_dtype!(gy.dtype(), T => {
                let mut dx = vec![T::zero(); g.x_len()];
                gy.with_data(|dy: &[T]| avg_pool2d_backward(&g, dy, &mut dx));
                Tensor::from_vec_unchecked(dx, &in_shape)
            });
            vec![Some(dx)]
        }))
    }

    /// Max pooling without padding.
    pub fn try_max_pool2d(&self, window: (usize, usize), stride: (usize, usize)) -> Result<Tensor> {
        self.try_max_pool2d_padded(window, stride, Padding::Valid)
    }

    /// Average pooling without padding.
    pub fn try_avg_pool2d(&self, window: (usize, usize), stride: (usize, usize)) -> Result<Tensor> {
        self.try_avg_pool2d_padded(window, stride, Padding::Valid)
    }

    pub fn max_pool2d(&self, window: (usize, usize), stride: (usize, usize)) -> Tensor {
        self.try_max_pool2d(window, stride)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn avg_pool2d(&self, window: (usize, usize), stride: (usize, usize)) -> Tensor {
        self.try_avg_pool2d(window, stride)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn max_pool2d_padded(
        &self,
        window: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Tensor {
        self.try_max_pool2d_padded(window, stride, padding)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn avg_pool2d_padded(
        &self,
        window: (usize, usize),
        stride: (usize, usize),
        padding: Padding,
    ) -> Tensor {
        self.try_avg_pool2d_padded(window, stride, padding)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Mean over the spatial axes: `[n, h, w, c] -> [n, c]`.
    pub fn try_global_avg_pool2d(&self) -> Result<Tensor> {
        nhwc("global_avg_pool2d", "the input", self)?;
        self.try_mean(&[1, 2], false)
    }

    /// Panicking form of [`Tensor::try_global_avg_pool2d`].
    pub fn global_avg_pool2d(&self) -> Tensor {
        self.try_global_avg_pool2d()
            .unwrap_or_else(|e| panic!("{e}"))
    }
}
