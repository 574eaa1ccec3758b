//! Shape arithmetic: element counts, row-major strides, axis checks and NumPy broadcasting.

use crate::error::{Error, Result};

/// Number of elements of a shape (1 for a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major (C-order) strides of a shape, in elements.
pub fn contiguous_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut acc = 1isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc *= d.max(1) as isize;
    }
    strides
}

/// Resolves a possibly negative axis (`-1` is the last) against a rank.
pub fn resolve_axis(op: &'static str, axis: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r.max(1) || (rank == 0) {
        return Err(Error::invalid(
            op,
            format!("axis {axis} is out of range for a tensor of rank {rank}"),
        ));
    }
    Ok(a as usize)
}

/// Resolves a list of axes, rejecting duplicates; returns them sorted.
pub fn resolve_axes(op: &'static str, axes: &[isize], rank: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = resolve_axis(op, a, rank)?;
        if out.contains(&a) {
            return Err(Error::invalid(op, format!("axis {a} is given twice")));
        }
        out.push(a);
    }
    out.sort_unstable();
    Ok(out)
}

/// The NumPy broadcast of two shapes: aligned on the right, each pair of dimensions equal or
/// one of them 1.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() {
            1
        } else {
            a[i - (rank - a.len())]
        };
        let db = if i < rank - b.len() {
            1
        } else {
            b[i - (rank - b.len())]
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(Error::shape(
                    op,
                    a,
                    b,
                    format!(
                        "dimension {} from the right is {da} vs {db} (broadcasting needs equal sizes or 1)",
                        rank - i
                    ),
                ))
            }
        };
    }
    Ok(out)
}

/// Strides that read a tensor of `shape` (with `strides`) as if broadcast to `target`:
/// new leading axes and axes of size 1 get stride 0.
pub fn broadcast_strides(shape: &[usize], strides: &[isize], target: &[usize]) -> Vec<isize> {
    let lead = target.len() - shape.len();
    (0..target.len())
        .map(|i| {
            if i < lead || (shape[i - lead] == 1 && target[i] != 1) {
                0
            } else {
                strides[i - lead]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes("t", &[4, 3], &[3]).unwrap(), vec![4, 3]);
        assert_eq!(broadcast_shapes("t", &[5, 1], &[1, 6]).unwrap(), vec![5, 6]);
        assert_eq!(
            broadcast_shapes("t", &[2, 1, 3], &[4, 1]).unwrap(),
            vec![2, 4, 3]
        );
        assert_eq!(broadcast_shapes("t", &[], &[2]).unwrap(), vec![2]);
        let e = broadcast_shapes("add", &[2, 3], &[4])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("add") && e.contains("[2, 3]") && e.contains("[4]"),
            "{e}"
        );
        assert!(e.contains("dimension 1 from the right is 3 vs 4"), "{e}");
    }

    #[test]
    fn strides_and_axes() {
        assert_eq!(contiguous_strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(resolve_axis("t", -1, 3).unwrap(), 2);
        assert!(resolve_axis("t", 3, 3).is_err());
        assert!(resolve_axes("t", &[0, -3], 3).is_err());
        assert_eq!(
            broadcast_strides(&[3, 1], &[1, 1], &[2, 3, 4]),
            vec![0, 1, 0]
        );
    }
}
