//! Reductions over chosen axes with `keepdim`: sum, mean, max, argmax; and `sum_to`, the
//! reduction autograd applies to gradients of broadcast inputs.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::layout::walk2;
use crate::shape::{contiguous_strides, numel, resolve_axes, resolve_axis};
use crate::tensor::Tensor;
use crate::with_dtype;

/// The shape with reduced axes set to 1, and the same with them removed.
fn reduced_shapes(shape: &[usize], axes: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let keep: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let squeezed = shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    (keep, squeezed)
}

/// Calls `f(input_offset, output_index, row_major_input_index)` over every input element,
/// where output indexes the contiguous keepdim-shaped result.
fn walk_reduction(x: &Tensor, keep: &[usize], mut f: impl FnMut(usize, usize, usize)) {
    let mut out_strides = contiguous_strides(keep);
    for (s, &d) in out_strides.iter_mut().zip(keep) {
        if d == 1 {
            *s = 0;
        }
    }
    let l = x.layout();
    let mut k = 0;
    walk2(
        &l.shape,
        (l.offset, &l.strides),
        (0, &out_strides),
        |i, o| {
            f(i, o, k);
            k += 1;
        },
    );
}

fn sum_kernel<T: Element>(x: &Tensor, keep: &[usize]) -> Vec<T> {
    if x.is_contiguous() {
        if let Some(sums) = contiguous_sum(x, keep) {
            return sums;
        }
    }
    let mut acc = vec![T::zero(); numel(keep)];
    x.with_storage(|d: &[T], _| walk_reduction(x, keep, |i, o, _| acc[o] += d[i]));
    acc
}

/// The sum of a contiguous tensor whose reduced axes are all leading (the bias gradient's sum
/// over the batch) or all trailing (a sum over everything, or over the last axis), on slices;
/// `None` for other patterns. Trailing runs are summed over 16 lanes, leading ones a row at a
/// time: faster, and rounding no worse than the element-by-element walk.
fn contiguous_sum<T: Element>(x: &Tensor, keep: &[usize]) -> Option<Vec<T>> {
    let shape = x.shape();
    let reduced = |i: usize| keep[i] != shape[i];
    let first_kept = (0..shape.len())
        .find(|&i| !reduced(i))
        .unwrap_or(shape.len());
    // Kept axes at the front only: every axis up to the last kept one is kept.
    let kept_then_reduced = match (0..shape.len()).rev().find(|&i| !reduced(i)) {
        Some(last_kept) => (0..=last_kept).all(|i| !reduced(i)),
        None => true,
    };
    let outputs = numel(keep);
    x.with_data(|d: &[T]| {
        if outputs == 0 || d.is_empty() {
            return Some(vec![T::zero(); outputs]);
        }
        if kept_then_reduced {
            // [kept..., reduced...] (or all reduced): each output sums a contiguous run.
            Some(d.chunks_exact(d.len() / outputs).map(lane_sum).collect())
        } else if (first_kept..shape.len()).all(|i| !reduced(i)) {
            // [reduced..., kept...]: add the rows of `outputs` elements.
            let mut acc = vec![T::zero(); outputs];
            for row in d.chunks_exact(outputs) {
                acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v);
            }
            Some(acc)
        } else {
            None
        }
    })
}

/// `Σ v` over 16 running sums (so that it vectorises).
fn lane_sum<T: Element>(v: &[T]) -> T {
    let mut lanes = [T::zero(); 16];
    let chunks = v.chunks_exact(16);
    let tail = chunks.remainder().iter().fold(T::zero(), |s, &x| s + x);
    for c in chunks {
        for (l, &x) in lanes.iter_mut().zip(c) {
            *l += x;
        }
    }
    lanes.iter().fold(tail, |s, &l| s + l)
}

/// For each output position, the maximum and the row-major input index of its first
/// occurrence.
fn max_kernel<T: Element>(x: &Tensor, keep: &[usize]) -> (Vec<T>, Vec<usize>) {
    let mut best = vec![T::neg_infinity(); numel(keep)];
    let mut at = vec![usize::MAX; numel(keep)];
    x.with_storage(|d: &[T], _| {
        walk_reduction(x, keep, |i, o, k| {
            // A NaN wins and stays, so NaN propagates as in NumPy.
            let better = d[i] > best[o] || (d[i].is_nan() && !best[o].is_nan());
            if at[o] == usize::MAX || better {
                best[o] = d[i];
                at[o] = k;
            }
        })
    });
    (best, at)
}

impl Tensor {
    fn reduce_axes(&self, op: &'static str, axes: &[isize]) -> Result<Vec<usize>> {
        if axes.is_empty() {
            return Err(Error::invalid(
                op,
                "needs at least one axis (use the *_all form to reduce everything)",
            ));
        }
        resolve_axes(op, axes, self.rank())
    }

    /// Sum over `axes`; with `keepdim` the reduced axes stay as size 1.
    /// Backward: the gradient is broadcast back over the reduced axes.
    pub fn try_sum(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = self.reduce_axes("sum", axes)?;
        let (keep, squeezed) = reduced_shapes(self.shape(), &axes);
        let out = with_dtype!(self.dtype(), T => Tensor::from_vec_unchecked(sum_kernel::<T>(self, &keep), if keepdim { &keep } else { &squeezed }));
        let in_shape = self.shape().to_vec();
        Ok(out.track("sum", &[self], move |_, g| {
            vec![Some(g.reshape(&keep).broadcast_to(&in_shape))]
        }))
    }

    /// Mean over `axes` (sum divided by the number of reduced elements).
    pub fn try_mean(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let resolved = self.reduce_axes("mean", axes)?;
        let count: usize = resolved.iter().map(|&a| self.shape()[a]).product();
        Ok(self.try_sum(axes, keepdim)?.mul_scalar(1.0 / count as f64))
    }

    /// Maximum over `axes`; the gradient goes to the first maximal element in row-major order.
    pub fn try_max(&self, axes: &[isize], keepdim: bool) -> Result<Tensor> {
        let axes = self.reduce_axes("max", axes)?;
        let (keep, squeezed) = reduced_shapes(self.shape(), &axes);
        let (out, at) = with_dtype!(self.dtype(), T => {
            let (v, at) = max_kernel::<T>(self, &keep);
            (Tensor::from_vec_unchecked(v, if keepdim { &keep } else { &squeezed }), at)
        });
        let in_shape = self.shape().to_vec();
        Ok(out.track("max", &[self], move |_, g| {
            let gx = with_dtype!(g.dtype(), T => {
                let mut dx = vec![T::zero(); numel(&in_shape)];
                g.with_data(|gd: &[T]| for (&i, &v) in at.iter().zip(gd) { dx[i] += v });
                Tensor::from_vec_unchecked(dx, &in_shape)
            });
            vec![Some(gx)]
        }))
    }

    /// Index of the first maximum along `axis`, as values of this tensor's dtype (exact up
    /// to 2^24 in f32). Not differentiable.
    pub fn try_argmax(&self, axis: isize, keepdim: bool) -> Result<Tensor> {
        let ax = resolve_axis("argmax", axis, self.rank())?;
        let (keep, squeezed) = reduced_shapes(self.shape(), &[ax]);
        let inner: usize = self.shape()[ax + 1..].iter().product();
        let size = self.shape()[ax];
        let at = with_dtype!(self.dtype(), T => max_kernel::<T>(self, &keep).1);
        let idx: Vec<f64> = at.iter().map(|&k| ((k / inner) % size) as f64).collect();
        Ok(with_dtype!(self.dtype(), T => Tensor::from_vec_unchecked(
            idx.into_iter().map(T::of).collect::<Vec<T>>(),
            if keepdim { &keep } else { &squeezed },
        )))
    }

    /// Row-major `argmax` along `axis` as plain indices (for metrics and predictions).
    pub fn argmax_indices(&self, axis: isize) -> Vec<usize> {
        self.argmax(axis, false)
            .to_vec_f64()
            .into_iter()
            .map(|v| v as usize)
            .collect()
    }

    /// Sum of all elements, as a 0-d tensor.
    pub fn sum_all(&self) -> Tensor {
        if self.rank() == 0 {
            return self.clone();
        }
        let axes: Vec<isize> = (0..self.rank() as isize).collect();
        self.sum(&axes, false)
    }

    /// Mean of all elements, as a 0-d tensor.
    pub fn mean_all(&self) -> Tensor {
        self.sum_all().mul_scalar(1.0 / self.numel().max(1) as f64)
    }

    /// Sums a broadcast result back down to `shape` (the inverse of broadcasting `shape` up
    /// to this tensor's shape).
    pub fn sum_to(&self, shape: &[usize]) -> Tensor {
        if self.shape() == shape {
            return self.clone();
        }
        let lead = self.rank() - shape.len();
        let axes: Vec<isize> = (0..self.rank())
            .filter(|&i| i < lead || (shape[i - lead] == 1 && self.shape()[i] != 1))
            .map(|i| i as isize)
            .collect();
        let summed = if axes.is_empty() {
            self.clone()
        } else {
            self.sum(&axes, true)
        };
        summed.reshape(shape)
    }

    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_sum(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_mean(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn max(&self, axes: &[isize], keepdim: bool) -> Tensor {
        self.try_max(axes, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn argmax(&self, axis: isize, keepdim: bool) -> Tensor {
        self.try_argmax(axis, keepdim)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    /// The sum over `axes` of a [2, 3, 4] tensor by direct loops.
    fn naive(v: &[f64], axes: &[usize]) -> Vec<f64> {
        let dims = [2, 3, 4];
        let keep: Vec<usize> = (0..3)
            .map(|a| if axes.contains(&a) { 1 } else { dims[a] })
            .collect();
        let mut out = vec![0.0; keep.iter().product()];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    let idx = [i, j, k];
                    let o = (0..3).fold(0, |o, a| {
                        o * keep[a] + if axes.contains(&a) { 0 } else { idx[a] }
                    });
                    out[o] += v[(i * 3 + j) * 4 + k];
                }
            }
        }
        out
    }

    #[test]
    fn contiguous_and_strided_sums_match_loops_for_every_axis_pattern() {
        let v: Vec<f64> = (0..24).map(|i| (i as f64 * 0.37).sin()).collect();
        let x = Tensor::from_vec(v.clone(), &[2, 3, 4]);
        // The same values through a strided view: [4, 3, 2] transposed back to [2, 3, 4].
        let vt: Vec<f64> = (0..24)
            .map(|p| {
                let (k, j, i) = (p / 6, (p / 2) % 3, p % 2);
                v[(i * 3 + j) * 4 + k]
            })
            .collect();
        let strided = Tensor::from_vec(vt, &[4, 3, 2]).permute(&[2, 1, 0]);
        assert!(!strided.is_contiguous());
        let patterns: [&[usize]; 7] = [&[0], &[1], &[2], &[0, 1], &[1, 2], &[0, 2], &[0, 1, 2]];
        for axes in patterns {
            let want = naive(&v, axes);
            let signed: Vec<isize> = axes.iter().map(|&a| a as isize).collect();
            for t in [&x, &strided] {
                let got = t.sum(&signed, false).to_vec::<f64>();
                assert_eq!(got.len(), want.len(), "{axes:?}");
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() < 1e-12, "{axes:?}: {got:?} vs {want:?}");
                }
            }
            let f32_sum = x.to_dtype(crate::DType::F32).sum(&signed, true);
            let got = f32_sum.to_vec::<f32>();
            for (g, w) in got.iter().zip(&want) {
                assert!((*g as f64 - w).abs() < 1e-5, "f32 {axes:?}");
            }
        }
    }
}
