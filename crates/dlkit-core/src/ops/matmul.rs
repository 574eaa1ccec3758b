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

/// Whether a matrix (rank 2) is stored column by column: the transpose of a contiguous one.
fn stored_transposed(t: &Tensor) -> bool {
    matches!((t.shape(), t.strides()), ([r, c], [1, cs]) if *r > 1 && *c > 1 && *cs == *r as isize)
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
        // Only the gradients an input needs (as conv2d): the data of a first layer needs none,
        // and its dA is the largest product of the backward.
        let need = (self.requires_grad(), rhs.requires_grad());
        let (ta, tb) = (stored_transposed(self), stored_transposed(rhs));
        Ok(out.track("matmul", &[self, rhs], move |_, g| {
            // Each gradient in its input's storage order: for an input that is a transposed
            // view (a dense layer's `W.t()`), `(B·Gᵀ)ᵀ` or `(Gᵀ·A)ᵀ`, the same product, so
            // that the gradient reaching `W` through the transpose is contiguous again and the
            // optimiser reads it without a strided copy.
            let ga = need.0.then(|| match ta {
                true => b.matmul(&g.t()).t(),
                false => g.matmul(&b.t()),
            });
            let gb = need.1.then(|| match tb {
                true => g.t().matmul(&a).t(),
                false => a.t().matmul(g),
            });
            vec![ga, gb]
        }))
    }

    plain!(
        /// Panicking form of [`Tensor::try_matmul`].
        matmul => try_matmul(rhs: &Tensor));
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn dense_weight_gradient_is_contiguous_and_data_gets_none() {
        // z = x·Wᵀ with W [out, in] as in a dense layer; only W needs a gradient.
        let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        let w =
            Tensor::from_vec((0..12).map(|v| v as f64 * 0.5 - 2.0).collect(), &[4, 3]).with_grad();
        x.matmul(&w.t()).sum_all().backward();
        assert!(x.grad().is_none());
        let g = w.grad().unwrap();
        assert!(g.is_contiguous(), "strides {:?}", g.strides());
        // dW[o, i] = Σ_b x[b, i]: every row is [5, 7, 9].
        assert_eq!(g.to_vec::<f64>(), [5.0, 7.0, 9.0].repeat(4));
        // And a transposed left operand: (Aᵀ)·B with A [3, 2] stored, the gradient of A is
        // contiguous too.
        let a = Tensor::from_vec(vec![1.0f64, -1.0, 2.0, 0.5, 3.0, 1.0], &[3, 2]).with_grad();
        let b = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]);
        a.t().matmul(&b).sum_all().backward();
        let ga = a.grad().unwrap();
        assert!(ga.is_contiguous(), "strides {:?}", ga.strides());
        // d/dA[k, i] of Σ_{i,j} Σ_k A[k, i] B[k, j] = Σ_j B[k, j].
        assert_eq!(ga.to_vec::<f64>(), vec![3.0, 3.0, 7.0, 7.0, 11.0, 11.0]);
    }
}
