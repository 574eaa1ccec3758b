//! Matrix multiplication on raw strided slices, backed by the `gemm` crate.
//!
//! `C = A·B` (or `C += A·B` when `accumulate`), with `A` m×k, `B` k×n and `C` m×n, each given
//! by a pointer-free slice plus a row stride and a column stride in elements, so transposed
//! views are multiplied without a copy. Threads are used only when the product is large enough
//! to pay for them.

use crate::element::Element;
use gemm::Parallelism;

/// A matrix operand: a slice with its row and column strides (in elements).
#[derive(Clone, Copy)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub row_stride: isize,
    pub col_stride: isize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major matrix with `cols` columns.
    pub fn row_major(data: &'a [T], cols: usize) -> Self {
        Self {
            data,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns (no copy).
    pub fn row_major_t(data: &'a [T], cols: usize) -> Self {
        Self {
            data,
            row_stride: 1,
            col_stride: cols as isize,
        }
    }
}

/// Below this many multiply-adds a product runs on one thread.
const PARALLEL_MIN_FLOPS: usize = 1 << 18;

/// Fewest rows of C per thread for a product to be split into bands of rows.
const MIN_ROWS_PER_THREAD: usize = 8;

/// Largest element offset a strided m×n operand touches, plus one.
fn extent(rows: usize, cols: usize, rs: isize, cs: isize) -> usize {
    if rows == 0 || cols == 0 {
        return 0;
    }
    assert!(
        rs >= 0 && cs >= 0,
        "gemm: negative strides are not supported"
    );
    (rows - 1) * rs as usize + (cols - 1) * cs as usize + 1
}

/// `C = A·B`, or `C += A·B` when `accumulate`; `C` is row-major with row stride `ldc`.
///
/// Threads (the current rayon pool's) are used only above `PARALLEL_MIN_FLOPS` multiply-adds.
/// Then, when C has at least `MIN_ROWS_PER_THREAD` rows per thread, each thread computes its
/// own band of rows of C on one thread; otherwise (C of a few rows) the gemm crate splits the
/// work itself. Measured on 2 cores (W6 in BENCHMARKS.md), the bands match the gemm crate's
/// own parallelism on squares (n = 256 to 2048) and double it on the course's skinny shapes,
/// where it was slower than one thread (20 x 12288 x 209: 0.7 ms in bands, 2.6 ms with the
/// crate's threads, 1.5 ms on one thread).
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Element>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
) {
    assert!(
        a.data.len() >= extent(m, k, a.row_stride, a.col_stride),
        "gemm: A too short"
    );
    assert!(
        b.data.len() >= extent(k, n, b.row_stride, b.col_stride),
        "gemm: B too short"
    );
    assert!(
        c.len() >= extent(m, n, ldc as isize, 1),
        "gemm: C too short"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                c[row * ldc..row * ldc + n].fill(T::zero());
            }
        }
        return;
    }
    let threads = rayon::current_num_threads();
    if threads == 1 || m.saturating_mul(n).saturating_mul(k) < PARALLEL_MIN_FLOPS {
        gemm_unchecked(m, n, k, a, b, c, ldc, accumulate, Parallelism::None);
    } else if m >= threads * MIN_ROWS_PER_THREAD {
        use rayon::prelude::*;
        let rows = m.div_ceil(threads);
        c.par_chunks_mut(rows * ldc)
            .enumerate()
            .for_each(|(band, c_band)| {
                let first = band * rows;
                if first < m {
                    let a_band = MatRef {
                        data: &a.data[first * a.row_stride as usize..],
                        ..a
                    };
                    let rows = rows.min(m - first);
                    gemm_unchecked(
                        rows,
                        n,
                        k,
                        a_band,
                        b,
                        c_band,
                        ldc,
                        accumulate,
                        Parallelism::None,
                    );
                }
            });
    } else {
        gemm_unchecked(
            m,
            n,
            k,
            a,
            b,
            c,
            ldc,
            accumulate,
            Parallelism::Rayon(threads),
        );
    }
}

/// The gemm crate's product, on operands whose extents the caller has checked.
#[allow(clippy::too_many_arguments)]
fn gemm_unchecked<T: Element>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
    parallelism: Parallelism,
) {
    debug_assert!(a.data.len() >= extent(m, k, a.row_stride, a.col_stride));
    debug_assert!(b.data.len() >= extent(k, n, b.row_stride, b.col_stride));
    debug_assert!(c.len() >= extent(m, n, ldc as isize, 1));
    // SAFETY: `gemm` checked that the operands hold every offset the product reads or writes
    // (a band of rows of A and C holds its rows: it starts at its first row and runs to the
    // end of the slice); T is f32 or f64, both supported by the gemm crate; C does not alias
    // A or B (it is a &mut borrow).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            ldc as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_plain_transposed_and_accumulated() {
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let want = naive(m, n, k, &a, &b);
        let mut c = vec![0.0; m * n];
        gemm(
            m,
            n,
            k,
            MatRef::row_major(&a, k),
            MatRef::row_major(&b, n),
            &mut c,
            n,
            false,
        );
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-12);
        }
        // B given as the transpose of its transpose.
        let bt: Vec<f64> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        gemm(
            m,
            n,
            k,
            MatRef::row_major(&a, k),
            MatRef::row_major_t(&bt, k),
            &mut c,
            n,
            true,
        );
        for (x, y) in c.iter().zip(&want) {
            assert!((x - 2.0 * y).abs() < 1e-12);
        }
    }

    #[test]
    fn threaded_bands_and_few_rows_match_naive_product() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        // 37 rows: bands of rows, A transposed; 3 rows: the gemm crate's own threads.
        for (m, n, k) in [(37, 23, 400), (3, 300, 400)] {
            assert!(m * n * k >= PARALLEL_MIN_FLOPS);
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want = naive(m, n, k, &a, &b);
            let at: Vec<f64> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            // C with a padded row stride; the padding must stay untouched.
            let ldc = n + 3;
            let mut c = vec![-1.0; (m - 1) * ldc + n];
            pool.install(|| {
                let (ar, br) = (MatRef::row_major_t(&at, m), MatRef::row_major(&b, n));
                gemm(m, n, k, ar, br, &mut c, ldc, false);
                gemm(m, n, k, ar, br, &mut c, ldc, true);
            });
            for i in 0..m {
                for j in 0..ldc.min(c.len() - i * ldc) {
                    let got = c[i * ldc + j];
                    let want = if j < n { 2.0 * want[i * n + j] } else { -1.0 };
                    assert!((got - want).abs() < 1e-9, "{m}x{k}x{n} C[{i},{j}]");
                }
            }
        }
    }
}
