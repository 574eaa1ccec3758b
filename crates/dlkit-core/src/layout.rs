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

/// The elements of `layout` in row-major order, copied from `data` a row (the last axis) at a
/// time: a slice copy when the row is contiguous, a fill when it is broadcast.
pub(crate) fn gather<T: Copy>(layout: &Layout, data: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(layout.numel());
    let Some((&inner, outer)) = layout.shape.split_last() else {
        out.push(data[layout.offset]);
        return out;
    };
    let step = layout.strides[outer.len()];
    let outer_strides = &layout.strides[..outer.len()];
    walk2(
        outer,
        (layout.offset, outer_strides),
        (0, outer_strides),
        |o, _| match step {
            1 => out.extend_from_slice(&data[o..o + inner]),
            0 => out.resize(out.len() + inner, data[o]),
            _ => out.extend((0..inner).map(|j| data[(o as isize + j as isize * step) as usize])),
        },
    );
    out
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
        let data: Vec<i32> = (0..6).collect();
        assert_eq!(gather(&l, &data), vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
        assert!(Layout::contiguous(&[2, 1, 3]).is_contiguous());
    }

    #[test]
    fn gathers_rows_broadcast_offset_and_scalar_layouts() {
        let data: Vec<i32> = (0..12).collect();
        // Rows 1..3 of a 3x4 matrix (contiguous rows at an offset).
        let rows = Layout {
            shape: vec![2, 4],
            strides: vec![4, 1],
            offset: 4,
        };
        assert_eq!(gather(&rows, &data), (4..12).collect::<Vec<_>>());
        // A column [3] broadcast to [3, 2] (inner stride 0), and a row broadcast down.
        let col = Layout {
            shape: vec![3, 2],
            strides: vec![1, 0],
            offset: 5,
        };
        assert_eq!(gather(&col, &data), vec![5, 5, 6, 6, 7, 7]);
        let row = Layout {
            shape: vec![2, 3],
            strides: vec![0, 2],
            offset: 1,
        };
        assert_eq!(gather(&row, &data), vec![1, 3, 5, 1, 3, 5]);
        let scalar = Layout {
            shape: vec![],
            strides: vec![],
            offset: 7,
        };
        assert_eq!(gather(&scalar, &data), vec![7]);
        let empty = Layout::contiguous(&[2, 0]);
        assert!(gather(&empty, &data).is_empty());
    }
}
