//! Shared machinery of elementwise ops: maps over one tensor, broadcast zips over two,
//! parallel when a tensor is large enough to pay for threads.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::layout::walk2;
use crate::shape::{broadcast_shapes, broadcast_strides};
use crate::tensor::Tensor;
use rayon::prelude::*;

/// Below this many elements an elementwise op runs on one thread.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;
const CHUNK: usize = 1 << 14;

/// `out[i] = f(x[i])`, in parallel chunks for large inputs.
pub(crate) fn map_slice<T: Element, U: Element>(x: &[T], f: impl Fn(T) -> U + Sync) -> Vec<U> {
    if x.len() >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        let mut out = vec![U::zero(); x.len()];
        out.par_chunks_mut(CHUNK)
            .zip(x.par_chunks(CHUNK))
            .for_each(|(o, i)| o.iter_mut().zip(i).for_each(|(o, &v)| *o = f(v)));
        out
    } else {
        x.iter().map(|&v| f(v)).collect()
    }
}

/// `out[i] = f(a[i], b[i])` for equal-length slices, in parallel chunks for large inputs.
pub(crate) fn zip_slices<T: Element>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    if a.len() >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        let mut out = vec![T::zero(); a.len()];
        out.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(o, (a, b))| {
                for ((o, &x), &y) in o.iter_mut().zip(a).zip(b) {
                    *o = f(x, y);
                }
            });
        out
    } else {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }
}

/// An untracked tensor `f(x)` elementwise, same shape.
pub(crate) fn map<T: Element>(x: &Tensor, f: impl Fn(T) -> T + Sync) -> Tensor {
    let out = x.with_data(|d: &[T]| map_slice(d, f));
    Tensor::from_vec_unchecked(out, x.shape())
}

/// Checks both operands have one dtype.
pub(crate) fn same_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::DTypeMismatch {
            op,
            lhs: a.dtype(),
            rhs: b.dtype(),
        });
    }
    Ok(())
}

/// An untracked tensor `f(a, b)` elementwise under NumPy broadcasting.
pub(crate) fn zip<T: Element>(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(T, T) -> T + Sync,
) -> Result<Tensor> {
    same_dtype(op, a, b)?;
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    if a.shape() == b.shape() && a.is_contiguous() && b.is_contiguous() {
        let out = a.with_data(|x: &[T]| b.with_data(|y: &[T]| zip_slices(x, y, &f)));
        return Ok(Tensor::from_vec_unchecked(out, &shape));
    }
    if b.numel() == 1 && a.shape() == shape.as_slice() {
        let s = b.with_data(|y: &[T]| y[0]);
        return Ok(Tensor::from_vec_unchecked(
            a.with_data(|x: &[T]| map_slice(x, |v| f(v, s))),
            &shape,
        ));
    }
    let mut out = Vec::with_capacity(crate::shape::numel(&shape));
    a.with_storage(|da: &[T], la| {
        b.with_storage(|db: &[T], lb| {
            let sa = broadcast_strides(&la.shape, &la.strides, &shape);
            let sb = broadcast_strides(&lb.shape, &lb.strides, &shape);
            walk2(&shape, (la.offset, &sa), (lb.offset, &sb), |i, j| {
                out.push(f(da[i], db[j]))
            });
        })
    });
    Ok(Tensor::from_vec_unchecked(out, &shape))
}

/// Dispatches [`zip`] on the runtime dtype with a closure generic over the element type.
macro_rules! zip_op {
    ($op:expr, $a:expr, $b:expr, |$x:ident, $y:ident| $body:expr) => {
        with_dtype!($a.dtype(), T => $crate::ops::elementwise::zip::<T>($op, $a, $b, |$x: T, $y: T| $body))
    };
}
pub(crate) use zip_op;

/// Dispatches [`map`] on the runtime dtype.
macro_rules! map_op {
    ($a:expr, |$x:ident| $body:expr) => {
        with_dtype!($a.dtype(), T => $crate::ops::elementwise::map::<T>($a, |$x: T| $body))
    };
}
pub(crate) use map_op;
