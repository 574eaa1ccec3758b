//! How a tensor reads its storage: shape, strides and offset, and strided walks over them.

use crate::shape::{contiguous_strides, numel};

/// A view into storage: element `(i0, i1, ...)` lives at `offset + Σ ik * strides[k]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<isize>,
    pub offset: usize,
}

impl Layout {
    /// A row-major layout starting at offset 0.
    pub fn contiguous(shape: &[usize]) -> Self {
        Self {
            shape: shape.to_vec(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// True when the elements are stored row-major without gaps (size-1 axes may have any
    /// stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1isize;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d as isize;
        }
        true
    }
}

/// Calls `f(offset_a, offset_b)` for every index of `shape` in row-major order, where each
/// offset is `base + Σ index_k * strides_k`. Strides may be 0 (broadcast).
pub fn walk2(
    shape: &[usize],
    (base_a, strides_a): (usize, &[isize]),
    (base_b, strides_b): (usize, &[isize]),
    mut f: impl FnMut(usize, usize),
) {
    if numel(shape) == 0 {
        return;
    }
    let rank = shape.len();
    if rank == 0 {
        f(base_a, base_b);
        return;
    }
    let inner = shape[rank - 1];
    let (ia, ib) = (strides_a[rank - 1], strides_b[rank - 1]);
    let mut index = vec![0usize; rank - 1];
    let (mut oa, mut ob) = (base_a as isize, base_b as isize);
    loop {
        let (mut a, mut b) = (oa, ob);
        for _ in 0..inner {
            f(a as usize, b as usize);
            a += ia;
            b += ib;
        }
        // Odometer increment over the outer axes.
        let mut k = rank - 1;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            index[k] += 1;
            oa += strides_a[k];
            ob += strides_b[k];
            if index[k] < shape[k] {
                break;
            }
            oa -= strides_a[k] * shape[k] as isize;
            ob -= strides_b[k] * shape[k] as isize;
            index[k] = 0;
        }
    }
}

/// Calls `f(offset)` for every index of `layout` in row-major order.
pub fn walk(layout: &Layout, mut f: impl FnMut(usize)) {
    walk2(
        &layout.shape,
        (layout.offset, &layout.strides),
        (0, &vec![0; layout.shape.len()]),
        |a, _| f(a),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_a_transposed_view_in_row_major_order() {
        // A 2x3 row-major matrix viewed as its 3x2 transpose.
        let l = Layout {
            shape: vec![3, 2],
            strides: vec![1, 3],
            offset: 0,
        };
        let mut seen = vec![];
        walk(&l, |o| seen.push(o));
        assert_eq!(seen, vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
        assert!(Layout::contiguous(&[2, 1, 3]).is_contiguous());
    }
}
