//! Image augmentation on NHWC batches `[m, h, w, c]`, for training batches only (never on
//! dev, test or predict inputs), drawing every random choice from a seeded [`Rng`].
//!
//! [`AugmentConfig::apply`] runs the enabled transforms in a fixed order, each with its own
//! random draw per image: horizontal flip, pad-and-crop, rotation, brightness / colour
//! shift. Each transform is also a plain function taking its choices explicitly
//! ([`flip_horizontal`], [`pad_crop`], [`rotate`], [`shift_values`]).
//!
//! ```
//! use dlkit_core::{DType, Rng, Tensor};
//! use dlkit_data::AugmentConfig;
//! # fn main() -> dlkit_data::Result<()> {
//! let batch = Tensor::rand_uniform(&[8, 32, 32, 3], 0.0, 1.0, DType::F32, &mut Rng::new(0));
//! let aug = AugmentConfig {
//!     horizontal_flip: true,
//!     crop_padding: 4,
//!     rotation_degrees: 10.0,
//!     brightness: 0.1,
//!     ..Default::default()
//! };
//! let out = aug.apply(&batch, &mut Rng::new(1))?;
//! assert_eq!(out.shape(), batch.shape());
//! # Ok(())
//! # }
//! ```

use dlkit_core::{with_dtype, Element, Rng, Tensor};
use serde::{Deserialize, Serialize};

use crate::dataset::invalid;
use crate::error::Result;

/// Which augmentations are on, and how strong (serde, for configs). The default is all off.
///
/// In TOML:
///
/// ```toml
/// [augment]
/// horizontal_flip = true    # mirror left-right with probability flip_probability (0.5)
/// crop_padding = 4          # zero-pad 4 pixels on each side, crop back a random h x w
/// rotation_degrees = 10     # rotate by a uniform angle in [-10, 10] degrees
/// brightness = 0.1          # add a uniform offset in [-0.1, 0.1] per image ...
/// per_channel = true        # ... or per image and channel (a colour shift)
/// value_range = [0.0, 1.0]  # brightness results are clamped to this range
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// Mirror each image left-right with probability `flip_probability`.
    pub horizontal_flip: bool,
    /// The probability of a flip, in `[0, 1]` (default 0.5).
    pub flip_probability: f64,
    /// Pad each side with this many zero pixels, then crop a random `h x w` window
    /// (a shift by up to this many pixels in each direction). 0: off.
    pub crop_padding: usize,
    /// Rotate each image by an angle drawn uniformly from `[-rotation_degrees,
    /// rotation_degrees]` (positive is counter-clockwise as displayed, row 0 at the top),
    /// about the image centre, with bilinear interpolation; pixels from outside the image
    /// are 0. 0: off.
    pub rotation_degrees: f64,
    /// Add an offset drawn uniformly from `[-brightness, brightness]` to every value of
    /// an image (or, with `per_channel`, one offset per image and channel), then clamp to
    /// `value_range`. 0: off.
    pub brightness: f64,
    /// Draw the brightness offset per channel (a colour shift) rather than per image.
    pub per_channel: bool,
    /// The data range `[lo, hi]` that shifted values are clamped to: `[0, 1]` (the default)
    /// for pixels scaled by 1/255, `[0, 255]` for raw pixels. Set it to the range of your
    /// inputs when augmenting after standardisation.
    pub value_range: [f64; 2],
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            horizontal_flip: false,
            flip_probability: 0.5,
            crop_padding: 0,
            rotation_degrees: 0.0,
            brightness: 0.0,
            per_channel: false,
            value_range: [0.0, 1.0],
        }
    }
}

impl AugmentConfig {
    /// Whether every transform is off (then [`AugmentConfig::apply`] returns its input).
    pub fn is_identity(&self) -> bool {
        !self.horizontal_flip
            && self.crop_padding == 0
            && self.rotation_degrees == 0.0
            && self.brightness == 0.0
    }

    /// Checks the values a config may get wrong.
    pub fn validate(&self) -> Result<()> {
        let p = self.flip_probability;
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid(
                "augment",
                format!("'flip_probability' is {p}; expected a probability in [0, 1]"),
            ));
        }
        for (name, v) in [
            ("rotation_degrees", self.rotation_degrees),
            ("brightness", self.brightness),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(invalid(
                    "augment",
                    format!("'{name}' is {v}; expected a finite number >= 0 (0 turns it off)"),
                ));
            }
        }
        let [lo, hi] = self.value_range;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(invalid(
                "augment",
                format!("'value_range' is [{lo}, {hi}]; expected finite lo < hi"),
            ));
        }
        Ok(())
    }

    /// Augments an NHWC batch `x` `[m, h, w, c]`: shape and dtype are unchanged. The draws
    /// come from `rng` in a fixed order (flips, crop offsets, angles, offsets, each image
    /// in turn), so the same generator state gives the same batch.
    pub fn apply(&self, x: &Tensor, rng: &mut Rng) -> Result<Tensor> {
        self.validate()?;
        let [m, _, _, c] = nhwc("augment", x)?;
        let mut out = x.clone();
        if self.horizontal_flip {
            let which = random_flips(m, self.flip_probability, rng);
            out = flip_horizontal(&out, &which)?;
        }
        if self.crop_padding > 0 {
            let offsets = random_crop_offsets(m, self.crop_padding, rng);
            out = pad_crop(&out, self.crop_padding, &offsets)?;
        }
        if self.rotation_degrees > 0.0 {
            let d = self.rotation_degrees;
            let angles: Vec<f64> = (0..m).map(|_| rng.uniform(-d, d)).collect();
            out = rotate(&out, &angles)?;
        }
        if self.brightness > 0.0 {
            let b = self.brightness;
            let n = if self.per_channel { m * c } else { m };
            let offsets: Vec<f64> = (0..n).map(|_| rng.uniform(-b, b)).collect();
            out = shift_values(&out, &offsets, self.value_range)?;
        }
        Ok(out)
    }
}

/// Checks that `x` is NHWC and returns `[m, h, w, c]`.
fn nhwc(context: &str, x: &Tensor) -> Result<[usize; 4]> {
    match *x.shape() {
        [m, h, w, c] => Ok([m, h, w, c]),
        _ => Err(invalid(
            context,
            format!(
                "x has shape {:?}; expected an NHWC image batch [m, h, w, c]",
                x.shape()
            ),
        )),
    }
}

fn check_len(context: &str, what: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(invalid(
            context,
            format!("{got} {what} for a batch that needs {want}"),
        ));
    }
    Ok(())
}

/// One flip decision per image: `true` with probability `p`.
pub fn random_flips(m: usize, p: f64, rng: &mut Rng) -> Vec<bool> {
    (0..m).map(|_| rng.uniform(0.0, 1.0) < p).collect()
}

/// One crop offset `(dy, dx)`, each uniform in `0..=2 * pad`, per image.
pub fn random_crop_offsets(m: usize, pad: usize, rng: &mut Rng) -> Vec<(usize, usize)> {
    (0..m)
        .map(|_| (rng.below(2 * pad + 1), rng.below(2 * pad + 1)))
        .collect()
}

/// Mirrors left-right (reverses the width axis of) the images `i` with `which[i]`.
pub fn flip_horizontal(x: &Tensor, which: &[bool]) -> Result<Tensor> {
    let [m, h, w, c] = nhwc("flip_horizontal", x)?;
    check_len("flip_horizontal", "flip choices", which.len(), m)?;
    Ok(with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        let mut out = d.to_vec();
        let image = h * w * c;
        for (n, _) in which.iter().enumerate().filter(|(_, &f)| f) {
            for row in 0..h {
                let base = n * image + row * w * c;
                for j in 0..w {
                    let src = base + (w - 1 - j) * c;
                    out[base + j * c..base + (j + 1) * c].copy_from_slice(&d[src..src + c]);
                }
            }
        }
        Tensor::from_vec(out, x.shape())
    })))
}

/// Zero-pads each image by `pad` pixels on every side and crops the `h x w` window whose
/// top-left corner is at `offsets[i] = (dy, dx)` (each in `0..=2 * pad`) of the padded
/// image: `(pad, pad)` is the original image; `pad = 0` is the identity.
pub fn pad_crop(x: &Tensor, pad: usize, offsets: &[(usize, usize)]) -> Result<Tensor> {
    let [m, h, w, c] = nhwc("pad_crop", x)?;
    check_len("pad_crop", "crop offsets", offsets.len(), m)?;
    if let Some(&(dy, dx)) = offsets
        .iter()
        .find(|&&(dy, dx)| dy > 2 * pad || dx > 2 * pad)
    {
        return Err(invalid(
            "pad_crop",
            format!(
                "crop offset ({dy}, {dx}) is outside 0..={} for padding {pad}",
                2 * pad
            ),
        ));
    }
    Ok(with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        let mut out = vec![T::zero(); d.len()];
        let image = h * w * c;
        for (n, &(dy, dx)) in offsets.iter().enumerate() {
            // Output (i, j) is input (i + dy - pad, j + dx - pad) when inside the image.
            let (dy, dx) = (dy as isize - pad as isize, dx as isize - pad as isize);
            let j0 = (-dx).clamp(0, w as isize) as usize;
            let j1 = (w as isize - dx).clamp(0, w as isize) as usize;
            if j0 >= j1 {
                continue;
            }
            for i in 0..h {
                let si = i as isize + dy;
                if si < 0 || si >= h as isize {
                    continue;
                }
                let dst = n * image + i * w * c;
                let src = n * image + si as usize * w * c;
                let sj0 = (j0 as isize + dx) as usize;
                out[dst + j0 * c..dst + j1 * c]
                    .copy_from_slice(&d[src + sj0 * c..src + (sj0 + j1 - j0) * c]);
            }
        }
        Tensor::from_vec(out, x.shape())
    })))
}

/// Rotates image `i` by `degrees[i]` (counter-clockwise as displayed, row 0 at the top)
/// about its centre `((h - 1) / 2, (w - 1) / 2)`, sampling bilinearly; neighbours outside
/// the image count as 0. A rotation by 90 degrees of a square image is NumPy's `rot90`.
pub fn rotate(x: &Tensor, degrees: &[f64]) -> Result<Tensor> {
    let [m, h, w, c] = nhwc("rotate", x)?;
    check_len("rotate", "angles", degrees.len(), m)?;
    if let Some(a) = degrees.iter().find(|a| !a.is_finite()) {
        return Err(invalid(
            "rotate",
            format!("an angle is {a}; expected a finite number"),
        ));
    }
    Ok(with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        let mut out = vec![T::zero(); d.len()];
        let image = h * w * c;
        for (n, &deg) in degrees.iter().enumerate() {
            let src = &d[n * image..(n + 1) * image];
            let dst = &mut out[n * image..(n + 1) * image];
            if deg == 0.0 {
                dst.copy_from_slice(src);
                continue;
            }
            rotate_image(src, dst, h, w, c, deg.to_radians());
        }
        Tensor::from_vec(out, x.shape())
    })))
}

fn rotate_image<T: Element>(src: &[T], dst: &mut [T], h: usize, w: usize, c: usize, theta: f64) {
    let (sin, cos) = theta.sin_cos();
    let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
    let pixel = |y: isize, x: isize| -> Option<usize> {
        (y >= 0 && x >= 0 && y < h as isize && x < w as isize)
            .then(|| (y as usize * w + x as usize) * c)
    };
    for i in 0..h {
        for j in 0..w {
            // Inverse map: the source of output (i, j) is the output point rotated by -θ.
            // With y pointing down, a counter-clockwise turn by θ as displayed maps the
            // source offset (sy, sx) to (sy cos - sx sin, sx cos + sy sin); inverted:
            let (y, xx) = (i as f64 - cy, j as f64 - cx);
            let sx = xx * cos - y * sin + cx;
            let sy = xx * sin + y * cos + cy;
            let (y0, x0) = (sy.floor(), sx.floor());
            let (fy, fx) = (sy - y0, sx - x0);
            let (y0, x0) = (y0 as isize, x0 as isize);
            let taps = [
                (pixel(y0, x0), (1.0 - fy) * (1.0 - fx)),
                (pixel(y0, x0 + 1), (1.0 - fy) * fx),
                (pixel(y0 + 1, x0), fy * (1.0 - fx)),
                (pixel(y0 + 1, x0 + 1), fy * fx),
            ];
            let out = &mut dst[(i * w + j) * c..(i * w + j + 1) * c];
            for (k, o) in out.iter_mut().enumerate() {
                let mut acc = 0.0f64;
                for &(at, weight) in &taps {
                    if let Some(p) = at {
                        acc += weight * src[p + k].f64();
                    }
                }
                *o = T::of(acc);
            }
        }
    }
}

/// Adds `offsets[i]` to every value of image `i` (`offsets` of length `m`) or
/// `offsets[i * c + k]` to channel `k` of image `i` (length `m * c`), then clamps to
/// `range = [lo, hi]`.
pub fn shift_values(x: &Tensor, offsets: &[f64], range: [f64; 2]) -> Result<Tensor> {
    let [m, h, w, c] = nhwc("shift_values", x)?;
    let per_channel = offsets.len() == m * c && c != 1;
    if !per_channel {
        check_len("shift_values", "offsets", offsets.len(), m)?;
    }
    let [lo, hi] = range;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(invalid(
            "shift_values",
            format!("the range is [{lo}, {hi}]; expected finite lo < hi"),
        ));
    }
    Ok(with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        let (lo, hi) = (T::of(lo), T::of(hi));
        let image = h * w * c;
        let mut out = Vec::with_capacity(d.len());
        for (n, img) in d.chunks_exact(image.max(1)).enumerate().take(m) {
            let shift: Vec<T> = (0..c)
                .map(|k| T::of(if per_channel { offsets[n * c + k] } else { offsets[n] }))
                .collect();
            for px in img.chunks_exact(c) {
                out.extend(px.iter().zip(&shift).map(|(&v, &s)| (v + s).max(lo).min(hi)));
            }
        }
        Tensor::from_vec(out, x.shape())
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::DType;

    fn batch(shape: &[usize], seed: u64) -> Tensor {
        Tensor::rand_uniform(shape, 0.0, 1.0, DType::F32, &mut Rng::new(seed))
    }

    fn all_on() -> AugmentConfig {
        AugmentConfig {
            horizontal_flip: true,
            crop_padding: 3,
            rotation_degrees: 15.0,
            brightness: 0.2,
            per_channel: true,
            ..Default::default()
        }
    }

    /// The value at `(n, i, j, k)` of an NHWC tensor's data.
    fn at(d: &[f32], s: &[usize], n: usize, i: usize, j: usize, k: usize) -> f32 {
        d[((n * s[1] + i) * s[2] + j) * s[3] + k]
    }

    #[test]
    fn flip_twice_is_identity_and_touches_only_chosen_images() {
        let x = batch(&[6, 5, 4, 3], 0);
        let which = random_flips(6, 0.5, &mut Rng::new(3));
        assert!(which.contains(&true) && which.contains(&false), "{which:?}");
        let once = flip_horizontal(&x, &which).unwrap();
        let twice = flip_horizontal(&once, &which).unwrap();
        assert_eq!(twice.to_vec::<f32>(), x.to_vec::<f32>());
        let (a, b, s) = (x.to_vec::<f32>(), once.to_vec::<f32>(), x.shape().to_vec());
        for (n, &flipped) in which.iter().enumerate() {
            for i in 0..5 {
                for j in 0..4 {
                    for k in 0..3 {
                        let want = at(&a, &s, n, i, if flipped { 3 - j } else { j }, k);
                        assert_eq!(at(&b, &s, n, i, j, k), want);
                    }
                }
            }
        }
    }

    #[test]
    fn crop_with_pad_zero_is_identity() {
        let x = batch(&[3, 7, 5, 2], 1);
        let offsets = random_crop_offsets(3, 0, &mut Rng::new(0));
        assert_eq!(offsets, [(0, 0); 3]);
        assert_eq!(
            pad_crop(&x, 0, &offsets).unwrap().to_vec::<f32>(),
            x.to_vec::<f32>()
        );
        // The centre offset of any padding is the identity too.
        assert_eq!(
            pad_crop(&x, 2, &[(2, 2); 3]).unwrap().to_vec::<f32>(),
            x.to_vec::<f32>()
        );
    }

    #[test]
    fn crop_shifts_with_zero_fill() {
        let x = Tensor::from_vec((1..=9).map(|v| v as f32).collect(), &[1, 3, 3, 1]);
        // Offset (0, 2) with pad 1: shift down by one row and left by one column.
        let y = pad_crop(&x, 1, &[(0, 2)]).unwrap();
        assert_eq!(
            y.to_vec::<f32>(),
            [0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0]
        );
        let far = pad_crop(&x, 3, &[(6, 0)]).unwrap();
        assert_eq!(far.to_vec::<f32>(), [0.0; 9]);
        assert!(pad_crop(&x, 1, &[(3, 0)]).is_err());
    }

    #[test]
    fn rotation_by_zero_is_identity_and_by_90_is_rot90() {
        let x = batch(&[2, 5, 5, 3], 2);
        assert_eq!(
            rotate(&x, &[0.0, 0.0]).unwrap().to_vec::<f32>(),
            x.to_vec::<f32>()
        );
        // Rotating by 360 degrees comes back within rounding.
        let full = rotate(&x, &[360.0, -360.0]).unwrap().to_vec::<f32>();
        for (a, b) in full.iter().zip(x.to_vec::<f32>()) {
            assert!((a - b).abs() < 1e-5);
        }
        let r = rotate(&x, &[90.0, -90.0]).unwrap().to_vec::<f32>();
        let (a, s) = (x.to_vec::<f32>(), x.shape().to_vec());
        for i in 0..5 {
            for j in 0..5 {
                for k in 0..3 {
                    // np.rot90(img): out[i][j] = img[j][w-1-i]; clockwise: img[h-1-j][i].
                    let ccw = at(&a, &s, 0, j, 4 - i, k);
                    let cw = at(&a, &s, 1, 4 - j, i, k);
                    assert!((at(&r, &s, 0, i, j, k) - ccw).abs() < 1e-5);
                    assert!((at(&r, &s, 1, i, j, k) - cw).abs() < 1e-5);
                }
            }
        }
    }

    #[test]
    fn rotation_fills_corners_with_zero_and_interpolates() {
        let x = Tensor::ones(&[1, 8, 8, 1], DType::F64);
        let y = rotate(&x, &[45.0]).unwrap().to_vec::<f64>();
        assert!(y[0] < 0.01, "corner {}", y[0]);
        // The centre stays 1; interpolated values lie in [0, 1].
        assert!((y[3 * 8 + 3] - 1.0).abs() < 1e-12);
        assert!(y.iter().all(|&v| (0.0..=1.0 + 1e-12).contains(&v)));
    }

    #[test]
    fn brightness_shift_and_clamp() {
        let x = Tensor::from_vec(vec![0.1f32, 0.5, 0.9, 0.95], &[2, 1, 1, 2]);
        let y = shift_values(&x, &[0.1, -0.2], [0.0, 1.0]).unwrap();
        let want = [0.2f32, 0.6, 0.7, 0.75];
        for (a, b) in y.to_vec::<f32>().iter().zip(want) {
            assert!((a - b).abs() < 1e-6);
        }
        let y = shift_values(&x, &[-0.2, 0.0, 0.1, 0.1], [0.0, 1.0]).unwrap();
        let want = [0.0f32, 0.5, 1.0, 1.0];
        for (a, b) in y.to_vec::<f32>().iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} {b}");
        }
        assert!(shift_values(&x, &[0.0; 3], [0.0, 1.0]).is_err());
    }

    #[test]
    fn seeded_reproducibility() {
        let x = batch(&[4, 9, 9, 3], 4);
        let cfg = all_on();
        let a = cfg.apply(&x, &mut Rng::new(11)).unwrap().to_vec::<f32>();
        let b = cfg.apply(&x, &mut Rng::new(11)).unwrap().to_vec::<f32>();
        let c = cfg.apply(&x, &mut Rng::new(12)).unwrap().to_vec::<f32>();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, x.to_vec::<f32>());
    }

    #[test]
    fn shapes_unchanged_and_outputs_in_range() {
        for (shape, dtype) in [
            ([8, 12, 10, 3], DType::F32),
            ([3, 5, 7, 1], DType::F64),
            ([1, 1, 1, 2], DType::F32),
        ] {
            let x = Tensor::rand_uniform(&shape, 0.0, 1.0, dtype, &mut Rng::new(5));
            for per_channel in [false, true] {
                let cfg = AugmentConfig {
                    per_channel,
                    brightness: 0.6,
                    ..all_on()
                };
                let y = cfg.apply(&x, &mut Rng::new(6)).unwrap();
                assert_eq!((y.shape(), y.dtype()), (&shape[..], dtype));
                assert!(y.to_vec_f64().iter().all(|v| (0.0..=1.0).contains(v)));
            }
        }
        // Raw pixels with their own range.
        let x = Tensor::rand_uniform(&[2, 6, 6, 3], 0.0, 255.0, DType::F32, &mut Rng::new(7));
        let cfg = AugmentConfig {
            brightness: 100.0,
            value_range: [0.0, 255.0],
            ..all_on()
        };
        let y = cfg.apply(&x, &mut Rng::new(8)).unwrap().to_vec_f64();
        assert!(y.iter().all(|v| (0.0..=255.0).contains(v)));
    }

    #[test]
    fn default_is_identity() {
        let x = batch(&[2, 4, 4, 3], 9);
        let cfg = AugmentConfig::default();
        assert!(cfg.is_identity());
        assert_eq!(
            cfg.apply(&x, &mut Rng::new(0)).unwrap().to_vec::<f32>(),
            x.to_vec::<f32>()
        );
    }

    #[test]
    fn errors_and_serde() {
        let x = batch(&[2, 4, 4, 3], 9);
        let e = all_on()
            .apply(&x.reshape(&[2, 48]), &mut Rng::new(0))
            .unwrap_err();
        assert!(e.to_string().contains("NHWC"), "{e}");
        let bad = AugmentConfig {
            flip_probability: 1.5,
            ..all_on()
        };
        assert!(bad
            .apply(&x, &mut Rng::new(0))
            .unwrap_err()
            .to_string()
            .contains("flip_probability"));
        let bad = AugmentConfig {
            value_range: [1.0, 0.0],
            ..all_on()
        };
        assert!(bad.validate().is_err());
        let bad = AugmentConfig {
            rotation_degrees: -5.0,
            ..Default::default()
        };
        assert!(bad.validate().is_err());

        let cfg: AugmentConfig =
            serde_json::from_str(r#"{"horizontal_flip": true, "crop_padding": 4}"#).unwrap();
        assert_eq!(cfg.flip_probability, 0.5);
        assert_eq!(cfg.value_range, [0.0, 1.0]);
        assert!(cfg.horizontal_flip && cfg.crop_padding == 4 && cfg.rotation_degrees == 0.0);
        let back: AugmentConfig =
            serde_json::from_str(&serde_json::to_string(&all_on()).unwrap()).unwrap();
        assert_eq!(back, all_on());
        assert!(serde_json::from_str::<AugmentConfig>(r#"{"flip": true}"#).is_err());
    }
}
