//! Shared machinery of elementwise ops: maps over one tensor, broadcast zips over two,
//! parallel when a tensor is large enough to pay for threads.

use crate::element::Element;
use crate::error::{Error, Result};
use crate::layout::{walk2, Layout};
use crate::shape::{broadcast_shapes, broadcast_strides};
use crate::tensor::Tensor;
use rayon::prelude::*;
use std::ops::Range;

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

/// Where `layout`, broadcast to `shape`, only repeats one contiguous run of storage (the
/// trailing axes, row-major) over leading axes (stride 0 or size 1): that run's range in
/// storage. A `[c]` bias under `[n, h, w, c]`, and a `broadcast_to` view of it, are such rows.
fn repeated_row(layout: &Layout, shape: &[usize]) -> Option<Range<usize>> {
    let strides = broadcast_strides(&layout.shape, &layout.strides, shape);
    let (mut k, mut run) = (shape.len(), 1usize);
    while k > 0 && (shape[k - 1] == 1 || strides[k - 1] == run as isize) {
        run *= shape[k - 1];
        k -= 1;
    }
    let leading_repeat = (0..k).all(|i| strides[i] == 0 || shape[i] == 1);
    (leading_repeat && run > 0).then(|| layout.offset..layout.offset + run)
}

/// `out[r·n + j] = f(x[r·n + j], row[j])` with `n = row.len()`, in parallel bands of rows for
/// large inputs.
fn zip_rows<T: Element>(x: &[T], row: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    let n = row.len();
    if n == 0 {
        return Vec::new(); // then x is empty too
    }
    let band = |o: &mut [T], i: &[T]| {
        for (o, i) in o.chunks_exact_mut(n).zip(i.chunks_exact(n)) {
            for ((o, &p), &q) in o.iter_mut().zip(i).zip(row) {
                *o = f(p, q);
            }
        }
    };
    let mut out = vec![T::zero(); x.len()];
    if x.len() >= PARALLEL_MIN_ELEMENTS && rayon::current_num_threads() > 1 {
        let rows = CHUNK.div_ceil(n) * n;
        out.par_chunks_mut(rows)
            .zip(x.par_chunks(rows))
            .for_each(|(o, i)| band(o, i));
    } else {
        band(&mut out, x);
    }
    out
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
    // A row repeated over leading axes (a dense layer's bias, batch norm's scale, or a
    // broadcast gradient), on either side of a contiguous full-shape operand.
    if a.is_contiguous() && a.shape() == shape.as_slice() {
        if let Some(row) = repeated_row(b.layout(), &shape) {
            let out = a.with_data(|x: &[T]| b.with_storage(|y: &[T], _| zip_rows(x, &y[row], &f)));
            return Ok(Tensor::from_vec_unchecked(out, &shape));
        }
    }
    if b.is_contiguous() && b.shape() == shape.as_slice() {
        if let Some(row) = repeated_row(a.layout(), &shape) {
            let out = b.with_data(|y: &[T]| {
                a.with_storage(|x: &[T], _| zip_rows(y, &x[row], |q, p| f(p, q)))
            });
            return Ok(Tensor::from_vec_unchecked(out, &shape));
        }
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

#[cfg(test)]
mod tests {
    use crate::Tensor;

    /// `a - b` by the strided walk: `b` made non-contiguous so the row path is not taken.
    fn walked_sub(a: &Tensor, b: &Tensor) -> Vec<f64> {
        let shape = crate::shape::broadcast_shapes("sub", a.shape(), b.shape()).unwrap();
        let (a, b) = (a.broadcast_to(&shape), b.broadcast_to(&shape));
        let (a, b) = (a.to_vec::<f64>(), b.to_vec::<f64>());
        a.iter().zip(&b).map(|(x, y)| x - y).collect()
    }

    #[test]
    fn rows_repeated_over_leading_axes_on_either_side() {
        let t = |shape: &[usize], k: f64| {
            let n = shape.iter().product::<usize>();
            Tensor::from_vec((0..n).map(|i| i as f64 * k + 1.0).collect(), shape)
        };
        let cases: [(&[usize], &[usize]); 5] = [
            (&[2, 3, 4], &[3, 4]),
            (&[2, 3, 4], &[1, 4]),
            (&[4], &[2, 3, 4]),
            (&[1, 3, 1], &[2, 3, 1]),
            (&[0, 4], &[4]),
        ];
        for (sa, sb) in cases {
            let (a, b) = (t(sa, 0.5), t(sb, -0.25));
            let got = a.sub(&b);
            assert_eq!(got.to_vec::<f64>(), walked_sub(&a, &b), "{sa:?} - {sb:?}");
            let got32 = a
                .to_dtype(crate::DType::F32)
                .add(&b.to_dtype(crate::DType::F32));
            let want: Vec<f32> = walked_sub(&a, &b.neg()).iter().map(|&v| v as f32).collect();
            assert_eq!(got32.to_vec::<f32>(), want, "{sa:?} + {sb:?}");
        }
        // Broadcast views (stride 0 over leading axes) of a row, and of a [3, 1] column
        // (not a row: the walk).
        let full = t(&[2, 3, 4], 0.5);
        for small in [t(&[4], -0.25), t(&[3, 4], 0.75), t(&[3, 1], 1.5)] {
            let view = small.broadcast_to(&[2, 3, 4]);
            assert!(!view.is_contiguous());
            let want = walked_sub(&full, &small);
            assert_eq!(full.sub(&view).to_vec::<f64>(), want);
            let back: Vec<f64> = want.iter().map(|v| -v).collect();
            assert_eq!(view.sub(&full).to_vec::<f64>(), back);
        }
        // Large enough for the parallel bands.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (a, b) = (t(&[300, 513], 1e-3), t(&[513], 2.0));
        let got = pool.install(|| a.sub(&b)).to_vec::<f64>();
        assert_eq!(got, walked_sub(&a, &b));
    }
}
