//! Shape ops: reshape, transpose, permute, narrow, broadcast_to (views sharing storage), and
//! concat, pad (copies). Each backward maps the gradient back to the input's layout.

use super::plain;
use crate::error::{Error, Result};
use crate::layout::{walk2, Layout};
use crate::shape::{broadcast_shapes, broadcast_strides, contiguous_strides, numel, resolve_axis};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// The same elements in row-major order with another shape of equal size (a view when
    /// the data is contiguous).
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if numel(shape) != self.numel() {
            return Err(Error::shape(
                "reshape",
                self.shape(),
                shape,
                format!(
                    "{} elements cannot take a shape of {}",
                    self.numel(),
                    numel(shape)
                ),
            ));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let src = if self.is_contiguous() {
            self.clone()
        } else {
            self.contiguous()
        };
        let layout = Layout {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: src.layout().offset,
        };
        let back = self.shape().to_vec();
        Ok(src
            .view(layout)
            .track("reshape", &[&src], move |_, g| vec![Some(g.reshape(&back))]))
    }

    /// Collapses every axis after the first: `[m, ...] -> [m, rest]`.
    pub fn flatten_from1(&self) -> Tensor {
        let m = self.shape().first().copied().unwrap_or(1);
        let rest = self.numel().checked_div(m).unwrap_or(0);
        self.reshape(&[m, rest])
    }

    /// Reorders the axes: output axis `i` is input axis `dims[i]` (a view).
    pub fn try_permute(&self, dims: &[usize]) -> Result<Tensor> {
        let rank = self.rank();
        let mut seen = vec![false; rank];
        if dims.len() != rank
            || dims
                .iter()
                .any(|&d| d >= rank || std::mem::replace(&mut seen[d], true))
        {
            return Err(Error::invalid(
                "permute",
                format!(
                    "{dims:?} is not a permutation of the {rank} axes of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let l = self.layout();
        let layout = Layout {
            shape: dims.iter().map(|&d| l.shape[d]).collect(),
            strides: dims.iter().map(|&d| l.strides[d]).collect(),
            offset: l.offset,
        };
        let mut inverse = vec![0; rank];
        for (i, &d) in dims.iter().enumerate() {
            inverse[d] = i;
        }
        Ok(self.view(layout).track("permute", &[self], move |_, g| {
            vec![Some(g.permute(&inverse))]
        }))
    }

    /// Swaps two axes (negative counts from the end; a view).
    pub fn try_transpose(&self, a: isize, b: isize) -> Result<Tensor> {
        let a = resolve_axis("transpose", a, self.rank())?;
        let b = resolve_axis("transpose", b, self.rank())?;
        let mut dims: Vec<usize> = (0..self.rank()).collect();
        dims.swap(a, b);
        self.try_permute(&dims)
    }

    /// The transpose of a matrix (the last two axes swapped).
    pub fn t(&self) -> Tensor {
        self.transpose(-2, -1)
    }

    /// Elements `start..start + len` along `axis` (a view).
    pub fn try_narrow(&self, axis: isize, start: usize, len: usize) -> Result<Tensor> {
        let ax = resolve_axis("narrow", axis, self.rank())?;
        let size = self.shape()[ax];
        if start + len > size {
            return Err(Error::invalid(
                "narrow",
                format!(
                    "range {start}..{} is out of bounds for axis {ax} of size {size} (shape {:?})",
                    start + len,
                    self.shape()
                ),
            ));
        }
        let mut layout = self.layout().clone();
        layout.offset = (layout.offset as isize + start as isize * layout.strides[ax]) as usize;
        layout.shape[ax] = len;
        let mut pads = vec![(0, 0); self.rank()];
        pads[ax] = (start, size - start - len);
        Ok(self
            .view(layout)
            .track("narrow", &[self], move |_, g| vec![Some(g.pad(&pads, 0.0))]))
    }

    /// A view of this tensor repeated along broadcast axes to `shape` (NumPy rules).
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        let full = broadcast_shapes("broadcast_to", self.shape(), shape)?;
        if full != shape {
            return Err(Error::shape(
                "broadcast_to",
                self.shape(),
                shape,
                "the target must contain the source shape",
            ));
        }
        let l = self.layout();
        let layout = Layout {
            shape: shape.to_vec(),
            strides: broadcast_strides(&l.shape, &l.strides, shape),
            offset: l.offset,
        };
        Ok(self
            .view(layout)
            .track("broadcast_to", &[self], |_, g| vec![Some(g.clone())]))
    }

    /// Joins tensors along `axis`; every other dimension must agree.
    pub fn try_concat(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| Error::invalid("concat", "needs at least one tensor"))?;
        let ax = resolve_axis("concat", axis, first.rank())?;
        for t in &tensors[1..] {
            super::elementwise::same_dtype("concat", first, t)?;
            let agree = t.rank() == first.rank()
                && (0..t.rank()).all(|d| d == ax || t.shape()[d] == first.shape()[d]);
            if !agree {
                let dim = (0..t.rank().min(first.rank()))
                    .find(|&d| d != ax && t.shape()[d] != first.shape()[d]);
                return Err(Error::shape(
                    "concat",
                    first.shape(),
                    t.shape(),
                    match dim {
                        Some(d) => format!(
                            "dimension {d} is {} vs {} (only axis {ax} may differ)",
                            first.shape()[d],
                            t.shape()[d]
                        ),
                        None => "ranks differ".into(),
                    },
                ));
            }
        }
        let mut shape = first.shape().to_vec();
        shape[ax] = tensors.iter().map(|t| t.shape()[ax]).sum();
        let outer: usize = shape[..ax].iter().product();
        let inner: usize = shape[ax + 1..].iter().product();
        let out = with_dtype!(first.dtype(), T => {
            let parts: Vec<Vec<T>> = tensors.iter().map(|t| t.with_data(|d: &[T]| d.to_vec())).collect();
            let mut out: Vec<T> = Vec::with_capacity(numel(&shape));
            for o in 0..outer {
                for (p, t) in parts.iter().zip(tensors) {
                    let run = t.shape()[ax] * inner;
                    out.extend_from_slice(&p[o * run..(o + 1) * run]);
                }
            }
            Tensor::from_vec_unchecked(out, &shape)
        });
        let sizes: Vec<usize> = tensors.iter().map(|t| t.shape()[ax]).collect();
        Ok(out.track("concat", tensors, move |_, g| {
            let mut start = 0;
            sizes
                .iter()
                .map(|&n| {
                    let piece = g.narrow(ax as isize, start, n);
                    start += n;
                    Some(piece)
                })
                .collect()
        }))
    }

    pub fn concat(tensors: &[&Tensor], axis: isize) -> Tensor {
        Self::try_concat(tensors, axis).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Pads each axis with `(before, after)` elements of `value` (one pair per axis).
    pub fn try_pad(&self, pads: &[(usize, usize)], value: f64) -> Result<Tensor> {
        if pads.len() != self.rank() {
            return Err(Error::invalid(
                "pad",
                format!(
                    "needs one (before, after) pair per axis: {} pairs for shape {:?}",
                    pads.len(),
                    self.shape()
                ),
            ));
        }
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .zip(pads)
            .map(|(&d, &(b, a))| d + b + a)
            .collect();
        let out_strides = contiguous_strides(&shape);
        let start: isize = pads
            .iter()
            .zip(&out_strides)
            .map(|(&(b, _), &s)| b as isize * s)
            .sum();
        let out = with_dtype!(self.dtype(), T => {
            let mut out = vec![T::of(value); numel(&shape)];
            self.with_storage(|d: &[T], l| {
                walk2(&l.shape, (l.offset, &l.strides), (start as usize, &out_strides), |i, o| out[o] = d[i]);
            });
            Tensor::from_vec_unchecked(out, &shape)
        });
        let pads = pads.to_vec();
        let orig = self.shape().to_vec();
        Ok(out.track("pad", &[self], move |_, g| {
            let mut piece = g.clone();
            for (ax, (&(b, _), &n)) in pads.iter().zip(&orig).enumerate() {
                piece = piece.narrow(ax as isize, b, n);
            }
            vec![Some(piece)]
        }))
    }

    plain!(
        /// Panicking form of [`Tensor::try_reshape`].
        reshape => try_reshape(shape: &[usize]));
    plain!(
        /// Panicking form of [`Tensor::try_permute`].
        permute => try_permute(dims: &[usize]));
    plain!(
        /// Panicking form of [`Tensor::try_transpose`].
        transpose => try_transpose(a: isize, b: isize));
    plain!(
        /// Panicking form of [`Tensor::try_narrow`].
        narrow => try_narrow(axis: isize, start: usize, len: usize));
    plain!(
        /// Panicking form of [`Tensor::try_broadcast_to`].
        broadcast_to => try_broadcast_to(shape: &[usize]));
    plain!(
        /// Panicking form of [`Tensor::try_pad`].
        pad => try_pad(pads: &[(usize, usize)], value: f64));
}
