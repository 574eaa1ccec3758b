//! Matrix product, 2-D and batched (batch axes broadcast as in NumPy's `matmul`), on the
//! gemm kernel with strides, so transposed views cost no copy.

use super::plain;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::kernels::gemm::{gemm, MatRef};
use crate::layout::walk2;
use crate::shape::{broadcast_shapes, broadcast_strides, numel};
use crate::tensor::Tensor;
use crate::with_dtype;

fn matmul_kernel<T: Element>(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    m: usize,
    k: usize,
    n: usize,
) -> Tensor {
    let mut out = vec![T::zero(); numel(batch) * m * n];
    a.with_storage(|da: &[T], la| {
        b.with_storage(|db: &[T], lb| {
            let (ra, rb) = (la.shape.len(), lb.shape.len());
            let sa = broadcast_strides(&la.shape[..ra - 2], &la.strides[..ra - 2], batch);
            let sb = broadcast_strides(&lb.shape[..rb - 2], &lb.strides[..rb - 2], batch);
            let mut chunks = out.chunks_mut(m * n);
            walk2(batch, (la.offset, &sa), (lb.offset, &sb), |oa, ob| {
                let lhs = MatRef {
                    data: &da[oa..],
                    row_stride: la.strides[ra - 2],
                    col_stride: la.strides[ra - 1],
                };
                let rhs = MatRef {
                    data: &db[ob..],
                    row_stride: lb.strides[rb - 2],
                    col_stride: lb.strides[rb - 1],
                };
                gemm(
                    m,
                    n,
                    k,
                    lhs,
                    rhs,
                    chunks.next().expect("one chunk per batch"),
                    n,
                    false,
                );
            });
        })
    });
    let mut shape = batch.to_vec();
    shape.extend([m, n]);
    Tensor::from_vec_unchecked(out, &shape)
}

impl Tensor {
    /// `A·B` over the last two axes: `[.., m, k] · [.., k, n] -> [.., m, n]`.
    /// Backward: dA = G·Bᵀ, dB = Aᵀ·G (summed over broadcast batch axes).
    pub fn try_matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let (ra, rb) = (self.rank(), rhs.rank());
        if ra < 2 || rb < 2 {
            return Err(Error::shape(
                "matmul",
                self.shape(),
                rhs.shape(),
                "both operands need at least 2 dimensions",
            ));
        }
        super::elementwise::same_dtype("matmul", self, rhs)?;
        let (m, k) = (self.shape()[ra - 2], self.shape()[ra - 1]);
        let (k2, n) = (rhs.shape()[rb - 2], rhs.shape()[rb - 1]);
        if k != k2 {
            return Err(Error::shape(
                "matmul",
                self.shape(),
                rhs.shape(),
                format!("inner dimensions differ: {k} (last axis of lhs) vs {k2} (second-to-last axis of rhs)"),
            ));
        }
        if self.strides()[ra - 2..]
            .iter()
            .chain(&rhs.strides()[rb - 2..])
            .any(|&s| s < 0)
        {
            return Err(Error::invalid(
                "matmul",
                "negative strides are not supported",
            ));
        }
        let batch = broadcast_shapes("matmul", &self.shape()[..ra - 2], &rhs.shape()[..rb - 2])?;
        let out = with_dtype!(self.dtype(), T => matmul_kernel::<T>(self, rhs, &batch, m, k, n));
        let (a, b) = (self.detach(), rhs.detach());
        Ok(out.track("matmul", &[self, rhs], move |_, g| {
            vec![Some(g.matmul(&b.t())), Some(a.t().matmul(g))]
        }))
    }

    plain!(
        /// Panicking form of [`Tensor::try_matmul`].
        matmul => try_matmul(rhs: &Tensor));
}
