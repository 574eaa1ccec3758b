//! Code paths compiled for the widest SIMD the running CPU has.
//!
//! The crate is built for baseline x86-64 (SSE2), so plain loops vectorise 4 f32 wide.
//! [`multiversion!`] defines a function that runs its `#[inline(always)]` body in a copy
//! compiled with AVX-512 or AVX2+FMA enabled, chosen at run time (as the gemm crate does for
//! its kernels); everything the body inlines, such as [`map`], then vectorises at that width.
//! Hot code under it avoids closures that might not be inlined (they would be compiled for
//! the baseline).

use crate::element::Element;

/// `multiversion!(vis fn name<T: Element>(args) -> ret => body);` defines `name`, which calls
/// `body(args)` (an `#[inline(always)]` function) compiled for the best instruction set.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<T: Element>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $body:ident) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name<T: Element>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn v4<T: Element>($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn v3<T: Element>($($arg: $ty),*) $(-> $ret)? {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports the features v4 is compiled for.
                    return unsafe { v4($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above, for v3.
                    return unsafe { v3($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}
pub(in crate::kernels) use multiversion;

/// Elements per block: one 512-bit register of f32. A fixed trip count makes LLVM emit one
/// vector operation per block (left to itself it unrolls 4×, which leaves rows as short as 64
/// scalar).
const BLOCK: usize = 16;

/// `out[k] = f(out[k], [ins[0][k], …, ins[N−1][k]])` for every `k` (each input at least as
/// long as `out`).
#[inline(always)]
pub(crate) fn map<T: Element, const N: usize>(
    out: &mut [T],
    ins: [&[T]; N],
    f: impl Fn(T, [T; N]) -> T,
) {
    let n = out.len();
    let mut blocks = out.chunks_exact_mut(BLOCK);
    let mut k = 0;
    for o in &mut blocks {
        // All loads, then all stores: the block vectorises without alias checks.
        let mut a = [[T::zero(); BLOCK]; N];
        for (a, s) in a.iter_mut().zip(ins) {
            a.copy_from_slice(&s[k..k + BLOCK]);
        }
        let mut r = [T::zero(); BLOCK];
        for l in 0..BLOCK {
            let mut v = [T::zero(); N];
            for j in 0..N {
                v[j] = a[j][l];
            }
            r[l] = f(o[l], v);
        }
        o.copy_from_slice(&r);
        k += BLOCK;
    }
    for (o, k) in blocks.into_remainder().iter_mut().zip(k..n) {
        let mut v = [T::zero(); N];
        for j in 0..N {
            v[j] = ins[j][k];
        }
        *o = f(*o, v);
    }
}

/// The 1-D map `f` (`I` values in, `O` out) applied channelwise: for every `k < c`,
/// `out[start + o·step + k] = f([ins[0][k], …, ins[I−1][k]])[o]`.
#[inline(always)]
pub(crate) fn map_n<T: Element, const I: usize, const O: usize>(
    ins: [&[T]; I],
    (out, start, step): (&mut [T], usize, usize),
    c: usize,
    f: impl Fn([T; I]) -> [T; O],
) {
    let mut k = 0;
    while k + BLOCK <= c {
        let mut a = [[T::zero(); BLOCK]; I];
        for (a, s) in a.iter_mut().zip(ins) {
            a.copy_from_slice(&s[k..k + BLOCK]);
        }
        let mut r = [[T::zero(); BLOCK]; O];
        for l in 0..BLOCK {
            let mut v = [T::zero(); I];
            for i in 0..I {
                v[i] = a[i][l];
            }
            let res = f(v);
            for o in 0..O {
                r[o][l] = res[o];
            }
        }
        for (o, r) in r.iter().enumerate() {
            out[start + o * step + k..][..BLOCK].copy_from_slice(r);
        }
        k += BLOCK;
    }
    for k in k..c {
        let mut v = [T::zero(); I];
        for i in 0..I {
            v[i] = ins[i][k];
        }
        for (o, r) in f(v).into_iter().enumerate() {
            out[start + o * step + k] = r;
        }
    }
}

/// `dst.copy_from_slice(src)` (equal lengths) for the short runs of im2col, as fixed-size
/// moves instead of a `memcpy` call: blocks of 8, the last one ending at the end of the run
/// and overlapping the one before it (rewriting equal values); runs shorter than 8 element by
/// element.
#[inline(always)]
pub(crate) fn copy<T: Element>(dst: &mut [T], src: &[T]) {
    const B: usize = 8;
    let n = dst.len();
    assert_eq!(n, src.len(), "copy: lengths differ");
    if n < B {
        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s);
        return;
    }
    // Element by element over a fixed count: no `memcpy` call, one vector move per block.
    #[inline(always)]
    #[allow(clippy::manual_memcpy)] // `copy_from_slice` here is a `memcpy` call
    fn block<T: Element>(d: &mut [T], s: &[T]) {
        let (d, s) = (&mut d[..B], &s[..B]);
        for i in 0..B {
            d[i] = s[i];
        }
    }
    for (d, s) in dst.chunks_exact_mut(B).zip(src.chunks_exact(B)) {
        block(d, s);
    }
    if !n.is_multiple_of(B) {
        block(&mut dst[n - B..], &src[n - B..]);
    }
}
