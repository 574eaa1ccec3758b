//! Zero padding of NHWC images `[m, h, w, c]`: `n` pixels of 0 on every side, as
//! torchvision's `transforms.Pad(n)` (fill 0) or Keras' `ZeroPadding2D(n)`. A source's
//! `pad = 4` after `resize = [20, 20]` frames 8x8 digits as MNIST frames its 20x20 digits
//! in 28x28 images.
//!
//! ```
//! use dlkit_core::Tensor;
//! # fn main() -> dlkit_data::Result<()> {
//! let x = Tensor::from_vec(vec![1.0f32], &[1, 1, 1, 1]);
//! let y = dlkit_data::pad_images(&x, 1)?;
//! assert_eq!(y.shape(), &[1, 3, 3, 1]);
//! assert_eq!(y.to_vec::<f32>(), [0., 0., 0., 0., 1., 0., 0., 0., 0.]);
//! # Ok(())
//! # }
//! ```

use dlkit_core::Tensor;

use crate::dataset::invalid;
use crate::error::Result;

/// `x` (`[m, h, w, c]`) with `n` zero pixels added on each side: `[m, h + 2n, w + 2n, c]`,
/// pixel `(y, x)` of an image moved to `(y + n, x + n)`. In the input's dtype.
pub fn pad_images(x: &Tensor, n: usize) -> Result<Tensor> {
    let &[m, h, w, c] = x.shape() else {
        return Err(invalid(
            "pad_images",
            format!(
                "images of shape {:?}; expected [examples, height, width, channels]",
                x.shape()
            ),
        ));
    };
    let (oh, ow) = (h + 2 * n, w + 2 * n);
    let src = x.to_vec_f64();
    let mut out = vec![0.0; m * oh * ow * c];
    let row = w * c;
    for img in 0..m {
        for y in 0..h {
            let from = (img * h + y) * row;
            let to = ((img * oh + y + n) * ow + n) * c;
            out[to..to + row].copy_from_slice(&src[from..from + row]);
        }
    }
    Ok(Tensor::from_vec(out, &[m, oh, ow, c]).to_dtype(x.dtype()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_loop() {
        let (m, h, w, c, n) = (2, 3, 4, 2, 2);
        let v: Vec<f64> = (0..m * h * w * c).map(|i| i as f64 + 1.0).collect();
        let x = Tensor::from_vec(v.clone(), &[m, h, w, c]);
        let y = pad_images(&x, n).unwrap();
        let (oh, ow) = (h + 2 * n, w + 2 * n);
        assert_eq!(y.shape(), &[m, oh, ow, c]);
        let got = y.to_vec::<f64>();
        for img in 0..m {
            for yy in 0..oh {
                for xx in 0..ow {
                    for ch in 0..c {
                        let inside = (n..n + h).contains(&yy) && (n..n + w).contains(&xx);
                        let want = if inside {
                            v[((img * h + yy - n) * w + xx - n) * c + ch]
                        } else {
                            0.0
                        };
                        assert_eq!(got[((img * oh + yy) * ow + xx) * c + ch], want);
                    }
                }
            }
        }
    }

    #[test]
    fn zero_is_the_identity_and_flat_examples_are_refused() {
        let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[1, 2, 2, 1]);
        assert_eq!(
            pad_images(&x, 0).unwrap().to_vec::<f32>(),
            x.to_vec::<f32>()
        );
        let flat = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2]);
        let e = pad_images(&flat, 1).unwrap_err().to_string();
        assert!(e.contains("images of shape [1, 2]"), "{e}");
    }
}
