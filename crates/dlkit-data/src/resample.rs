//! Bilinear resampling of NHWC images `[m, h, w, c]` held in a tensor, for sources whose
//! examples are images but not image files (the rows of a CSV read with `shape = [8, 8, 1]`,
//! h5 or IDX images). Image folders resize while decoding, with the `image` crate.
//!
//! The rule is PyTorch's `torch.nn.functional.interpolate(mode="bilinear",
//! align_corners=False)` without antialiasing (half-pixel centres). Along an axis of `n_in`
//! pixels resized to `n_out`, output pixel `o` samples the input at
//!
//! `s = max((o + 0.5) * n_in / n_out - 0.5, 0)`,
//!
//! between `i0 = floor(s)` and `i1 = min(i0 + 1, n_in - 1)` with weight `t = s - i0`:
//! `v[i0] + t * (v[i1] - v[i0])`. The two axes combine separably: along the width in rows
//! `i0` and `i1` of the height, then along the height between the two. Each output is thus a
//! convex combination of its four neighbours and stays in the input's range (digits' 0..16
//! stay 0..16); every channel is resampled on its own. The same size gives the input back.
//! Computed in f64, returned in the input's dtype.
//!
//! ```
//! use dlkit_core::Tensor;
//! # fn main() -> dlkit_data::Result<()> {
//! // One 1x2 grey image [0, 1] to 1x4: PyTorch gives [0, 0.25, 0.75, 1].
//! let x = Tensor::from_vec(vec![0.0f32, 1.0], &[1, 1, 2, 1]);
//! let y = dlkit_data::resize_bilinear(&x, [1, 4])?;
//! assert_eq!(y.shape(), &[1, 1, 4, 1]);
//! assert_eq!(y.to_vec::<f32>(), [0.0, 0.25, 0.75, 1.0]);
//! # Ok(())
//! # }
//! ```

use dlkit_core::Tensor;

use crate::dataset::invalid;
use crate::error::Result;

/// Resizes every image of `x` (`[m, h, w, c]`) to `size = [height, width]` by the bilinear
/// rule of the module docs. An error unless `x` has four axes and `size` no zero.
pub fn resize_bilinear(x: &Tensor, size: [usize; 2]) -> Result<Tensor> {
    let &[m, h, w, c] = x.shape() else {
        return Err(invalid(
            "resize_bilinear",
            format!(
                "images of shape {:?}; expected [examples, height, width, channels]",
                x.shape()
            ),
        ));
    };
    let [oh, ow] = size;
    if oh == 0 || ow == 0 || h == 0 || w == 0 {
        return Err(invalid(
            "resize_bilinear",
            format!("cannot resize {h}x{w} images to {oh}x{ow} (height x width): a size is 0"),
        ));
    }
    let src = x.to_vec_f64();
    let rows = taps(h, oh);
    let cols = taps(w, ow);
    let mut out = Vec::with_capacity(m * oh * ow * c);
    let pixel = |img: usize, y: usize, x: usize, ch: usize| src[((img * h + y) * w + x) * c + ch];
    for img in 0..m {
        for &(y0, y1, ty) in &rows {
            for &(x0, x1, tx) in &cols {
                for ch in 0..c {
                    let top = lerp(pixel(img, y0, x0, ch), pixel(img, y0, x1, ch), tx);
                    let bottom = lerp(pixel(img, y1, x0, ch), pixel(img, y1, x1, ch), tx);
                    out.push(lerp(top, bottom, ty));
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, &[m, oh, ow, c]).to_dtype(x.dtype()))
}

/// `a + t (b - a)`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + t * (b - a)
}

/// For each of the `n_out` output pixels of an axis of `n_in`: `(i0, i1, t)`.
fn taps(n_in: usize, n_out: usize) -> Vec<(usize, usize, f64)> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            let s = ((o as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(n_in - 1);
            let i1 = (i0 + 1).min(n_in - 1);
            (i0, i1, s - i0 as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::Rng;

    /// The textbook formula, written out: the four neighbours' weights
    /// `(1 - ty)(1 - tx)`, `(1 - ty) tx`, `ty (1 - tx)`, `ty tx`, each position found anew.
    fn naive(src: &[f64], [m, h, w, c]: [usize; 4], [oh, ow]: [usize; 2]) -> Vec<f64> {
        let locate = |o: usize, n_in: usize, n_out: usize| {
            let mut s = (o as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5;
            if s < 0.0 {
                s = 0.0;
            }
            let i0 = s as usize;
            let i1 = if i0 + 1 < n_in { i0 + 1 } else { i0 };
            (i0, i1, s - i0 as f64)
        };
        let mut out = vec![0.0; m * oh * ow * c];
        for img in 0..m {
            for oy in 0..oh {
                let (y0, y1, ty) = locate(oy, h, oh);
                for ox in 0..ow {
                    let (x0, x1, tx) = locate(ox, w, ow);
                    for ch in 0..c {
                        let at = |y: usize, x: usize| src[((img * h + y) * w + x) * c + ch];
                        out[((img * oh + oy) * ow + ox) * c + ch] = (1.0 - ty)
                            * ((1.0 - tx) * at(y0, x0) + tx * at(y0, x1))
                            + ty * ((1.0 - tx) * at(y1, x0) + tx * at(y1, x1));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_naive_formula() {
        let mut rng = Rng::new(3);
        for (shape, size) in [
            ([2, 8, 8, 1], [28, 28]),
            ([1, 5, 7, 3], [3, 11]),
            ([3, 6, 4, 2], [6, 4]),
            ([1, 1, 1, 1], [4, 2]),
            ([1, 9, 2, 1], [2, 9]),
        ] {
            let n: usize = shape.iter().product();
            let src: Vec<f64> = (0..n).map(|_| rng.below(17) as f64).collect();
            let x = Tensor::from_vec(src.clone(), &shape);
            let got = resize_bilinear(&x, size).unwrap();
            assert_eq!(got.shape(), &[shape[0], size[0], size[1], shape[3]]);
            let want = naive(&src, shape, size);
            for (g, w) in got.to_vec::<f64>().iter().zip(&want) {
                assert!((g - w).abs() < 1e-12, "{shape:?} -> {size:?}: {g} vs {w}");
            }
            // Convex combinations: the range is kept.
            let (lo, hi) = (0.0, 16.0);
            assert!(got.to_vec::<f64>().iter().all(|v| (lo..=hi).contains(v)));
        }
    }

    #[test]
    fn pytorch_values_same_size_and_dtype() {
        // F.interpolate(x, size=..., mode="bilinear", align_corners=False) of [0, 1, 2, 3]
        // to 2 samples at 0.5 and 2.5; [0, 1] to 4 gives [0, 0.25, 0.75, 1].
        let x = Tensor::from_vec(vec![0.0f64, 1.0, 2.0, 3.0], &[1, 1, 4, 1]);
        assert_eq!(
            resize_bilinear(&x, [1, 2]).unwrap().to_vec::<f64>(),
            [0.5, 2.5]
        );
        // A 2x2 image to 4x4: rows and columns both at [0, 0.25, 0.75, 1].
        let x = Tensor::from_vec(vec![0.0f32, 4.0, 8.0, 12.0], &[1, 2, 2, 1]);
        let y = resize_bilinear(&x, [4, 4]).unwrap().to_vec::<f32>();
        assert_eq!(&y[..4], [0.0, 1.0, 3.0, 4.0]);
        assert_eq!(&y[4..8], [2.0, 3.0, 5.0, 6.0]);
        assert_eq!(&y[12..], [8.0, 9.0, 11.0, 12.0]);
        let x = Tensor::from_vec((0..24).map(|v| v as f32).collect(), &[2, 3, 2, 2]);
        let same = resize_bilinear(&x, [3, 2]).unwrap();
        assert_eq!(same.dtype(), x.dtype());
        assert_eq!(same.to_vec::<f32>(), x.to_vec::<f32>());
    }

    #[test]
    fn errors_name_the_shape() {
        let flat = Tensor::from_vec(vec![0.0f32; 6], &[1, 6]);
        let e = resize_bilinear(&flat, [2, 2]).unwrap_err().to_string();
        assert!(
            e.contains("[1, 6]") && e.contains("[examples, height"),
            "{e}"
        );
        let x = Tensor::from_vec(vec![0.0f32; 4], &[1, 2, 2, 1]);
        let e = resize_bilinear(&x, [0, 2]).unwrap_err().to_string();
        assert!(e.contains("to 0x2"), "{e}");
    }
}
