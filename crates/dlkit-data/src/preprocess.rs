//! Input preprocessing: flattening, scaling to `[0, 1]`, standardisation fitted on the
//! training split only, and one-hot labels; plus [`Preprocessing`], the serialisable
//! pipeline a config names, which is fitted once on the training inputs and then applied
//! unchanged to every split and at predict time.
//!
//! ```
//! use dlkit_core::Tensor;
//! use dlkit_data::{Preprocessing, Standardize};
//! # fn main() -> dlkit_data::Result<()> {
//! let train = Tensor::from_vec(vec![0.0f32, 255.0, 51.0, 102.0], &[2, 1, 1, 2]);
//! let pipeline = Preprocessing {
//!     scale: Some(255.0),
//!     standardize: Standardize::PerFeature,
//!     flatten: true,
//!     ..Default::default()
//! };
//! let fitted = pipeline.fit(&train)?; // statistics from the training inputs only
//! let x = fitted.apply(&train)?;
//! assert_eq!(x.shape(), &[2, 2]);
//! let want = [-1.0f32, 1.0, 1.0, -1.0];
//! assert!(x.to_vec::<f32>().iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6));
//! // Stored with the model, applied again at predict time:
//! let json = serde_json::to_string(&fitted).unwrap();
//! # let _ = json;
//! # Ok(())
//! # }
//! ```

use dlkit_core::{with_dtype, DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::dataset::{invalid, Dataset};
use crate::error::Result;

/// The default floor on the standard deviation: `(x - μ) / max(σ, 1e-7)`, as Keras'
/// `Normalization` layer divides by `max(sqrt(var), epsilon())` with `epsilon() = 1e-7`.
///
/// A feature that is constant over the training set (a border pixel that is always 0) has
/// σ = 0: it becomes 0 in the training set instead of a division by zero. A value off by
/// `d` from that constant at predict time becomes `d / floor`; raise the floor (see
/// [`Standardizer::fit_with`]) when that matters more than a small σ does.
pub const DEFAULT_STD_FLOOR: f64 = 1e-7;

/// `[m, ...] -> [m, rest]`: every example's values in row-major order, as the course's
/// `X.reshape(X.shape[0], -1)` (for NHWC images, the channel varies fastest). `[m]` becomes
/// `[m, 1]`.
pub fn flatten(x: &Tensor) -> Result<Tensor> {
    if x.rank() == 0 {
        return Err(invalid(
            "flatten",
            "x is a scalar; expected a tensor [m, ...]",
        ));
    }
    let m = x.shape()[0];
    let rest: usize = x.shape()[1..].iter().product();
    Ok(x.reshape(&[m, rest]))
}

/// `x / max`: maps `[0, max]` to `[0, 1]` (use 255 for 8-bit pixels, as the course does).
/// Divides rather than multiplying by `1 / max`, so the values are NumPy's `x / 255.` bit
/// for bit. `max` must be finite and above 0.
pub fn scale(x: &Tensor, max: f64) -> Result<Tensor> {
    if !max.is_finite() || max <= 0.0 {
        return Err(invalid(
            "scale",
            format!("the maximum is {max}; expected a finite number above 0 (255 for pixels)"),
        ));
    }
    Ok(map_values(x, |v| v / max))
}

/// [`scale`] by 255: 8-bit pixel values to `[0, 1]`.
pub fn scale_pixels(x: &Tensor) -> Tensor {
    map_values(x, |v| v / 255.0)
}

/// `f` applied to every value, computed in `x`'s dtype (f32 values widen to f64 and back,
/// which for one division is the f32 division rounded once).
fn map_values(x: &Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    with_dtype!(x.dtype(), T => x.with_data(|d: &[T]| {
        Tensor::from_vec(d.iter().map(|&v| T::of(f(v.f64()))).collect::<Vec<T>>(), x.shape())
    }))
}

/// One-hot rows `[m, num_classes]`: row `i` is 1 at column `labels[i]`, 0 elsewhere.
pub fn one_hot(labels: &[usize], num_classes: usize, dtype: DType) -> Result<Tensor> {
    if let Some((i, &k)) = labels.iter().enumerate().find(|(_, &k)| k >= num_classes) {
        return Err(invalid(
            "one_hot",
            format!("label {i} is class {k}; expected a class index below {num_classes}"),
        ));
    }
    let mut out = vec![0.0f64; labels.len() * num_classes];
    for (i, &k) in labels.iter().enumerate() {
        out[i * num_classes + k] = 1.0;
    }
    Ok(Tensor::from_vec(out, &[labels.len(), num_classes]).to_dtype(dtype))
}

/// Over which values standardisation statistics are taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardize {
    /// No standardisation.
    #[default]
    None,
    /// One μ and σ per input value (per pixel and channel for images), over the examples:
    /// the course's `X = (X - μ) / σ`.
    PerFeature,
    /// One μ and σ per channel (the last axis), over examples, height and width: the usual
    /// choice for images fed to a ConvNet.
    PerChannel,
}

/// Standardisation `(x - μ) / σ` with statistics fitted on the training inputs only and
/// stored (serde) with a model, so that dev, test and predict inputs are transformed with
/// the training statistics.
///
/// `mean` and `std` have one entry per feature (`x`'s values per example, flattened in
/// row-major order) or one per channel (`x`'s last axis); [`Standardizer::apply`] works on
/// inputs of either layout whose size matches. σ is the population standard deviation
/// (divided by m, as NumPy's `std` and scikit-learn's `StandardScaler`), computed in f64
/// and floored (see [`DEFAULT_STD_FLOOR`]): `std` holds the divisor actually used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Per-feature statistics of the training inputs `x` `[m, ...]` (σ floored at
    /// [`DEFAULT_STD_FLOOR`]).
    pub fn fit(x: &Tensor) -> Result<Standardizer> {
        Standardizer::fit_with(x, Standardize::PerFeature, DEFAULT_STD_FLOOR)
    }

    /// Per-channel statistics of the training inputs `x` `[m, ..., c]`.
    pub fn fit_per_channel(x: &Tensor) -> Result<Standardizer> {
        Standardizer::fit_with(x, Standardize::PerChannel, DEFAULT_STD_FLOOR)
    }

    /// Statistics over the axes `mode` names, with σ floored at `std_floor` (finite, > 0).
    /// `Standardize::None` gives the identity (μ = 0, σ = 1 per feature).
    pub fn fit_with(x: &Tensor, mode: Standardize, std_floor: f64) -> Result<Standardizer> {
        const CONTEXT: &str = "Standardizer::fit";
        if !std_floor.is_finite() || std_floor <= 0.0 {
            return Err(invalid(
                CONTEXT,
                format!("the σ floor is {std_floor}; expected a finite number above 0"),
            ));
        }
        if x.rank() < 2 || x.shape()[0] == 0 {
            return Err(invalid(
                CONTEXT,
                format!(
                    "x has shape {:?}; expected [m, ...features] with at least one example",
                    x.shape()
                ),
            ));
        }
        let m = x.shape()[0];
        let per_feature: usize = x.shape()[1..].iter().product();
        let len = match mode {
            Standardize::PerChannel => *x.shape().last().unwrap(),
            Standardize::PerFeature | Standardize::None => per_feature,
        };
        if mode == Standardize::None {
            return Ok(Standardizer {
                mean: vec![0.0; len],
                std: vec![1.0; len],
            });
        }
        let values = x.to_vec_f64();
        let count = (values.len() / len.max(1)) as f64;
        let mut mean = vec![0.0f64; len];
        for chunk in values.chunks_exact(len) {
            for (s, &v) in mean.iter_mut().zip(chunk) {
                *s += v;
            }
        }
        mean.iter_mut().for_each(|s| *s /= count);
        let mut var = vec![0.0f64; len];
        for chunk in values.chunks_exact(len) {
            for ((s, &v), &mu) in var.iter_mut().zip(chunk).zip(&mean) {
                *s += (v - mu) * (v - mu);
            }
        }
        if let Some(i) = mean.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                CONTEXT,
                format!("the mean of feature {i} is {}; the training inputs hold NaN or infinite values", mean[i]),
            ));
        }
        debug_assert_eq!(count as usize * len, m * per_feature);
        Ok(Standardizer {
            mean: mean.iter().map(|&v| v as f32).collect(),
            std: var
                .iter()
                .map(|&v| (v / count).sqrt().max(std_floor) as f32)
                .collect(),
        })
    }

    /// The number of statistics (features or channels).
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether there are no statistics.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// `(x - mean) / std` on inputs `[m, ...]` whose per-example size (per feature) or last
    /// axis (per channel) matches the fitted statistics; same shape and dtype as `x`. Not
    /// tracked by autograd.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        const CONTEXT: &str = "Standardizer::apply";
        let len = self.mean.len();
        if self.std.len() != len {
            return Err(invalid(
                CONTEXT,
                format!(
                    "{} means but {} standard deviations; the stored standardizer is corrupt",
                    len,
                    self.std.len()
                ),
            ));
        }
        if let Some(i) = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(invalid(
                CONTEXT,
                format!(
                    "std[{i}] is {}; expected a finite number above 0",
                    self.std[i]
                ),
            ));
        }
        let per_example: usize = x.shape().get(1..).unwrap_or(&[]).iter().product();
        let fits = x.rank() >= 2 && (per_example == len || x.shape().last() == Some(&len));
        if !fits {
            return Err(invalid(
                CONTEXT,
                format!(
                    "fitted on {len} features or channels but x has shape {:?}; expected \
                     [m, ...] with {len} values per example or {len} channels",
                    x.shape()
                ),
            ));
        }
        // Per feature or per channel alike, value `e` in row-major order uses statistic
        // `e % len` (the channel is the last, fastest axis).
        Ok(with_dtype!(x.dtype(), T => {
            let mean: Vec<T> = self.mean.iter().map(|&v| T::of(v as f64)).collect();
            let std: Vec<T> = self.std.iter().map(|&v| T::of(v as f64)).collect();
            x.with_data(|d: &[T]| {
                let mut out = Vec::with_capacity(d.len());
                for chunk in d.chunks_exact(len) {
                    out.extend(chunk.iter().zip(&mean).zip(&std).map(|((&v, &mu), &s)| (v - mu) / s));
                }
                Tensor::from_vec(out, x.shape())
            })
        }))
    }
}

/// A preprocessing pipeline as a config describes it (serde), applied in a fixed order:
/// scale, then standardise, then flatten. In TOML:
///
/// ```toml
/// [preprocessing]
/// scale = 255          # divide by 255 (leave out for no scaling)
/// standardize = "per_feature"   # "none" (default), "per_feature" or "per_channel"
/// flatten = true       # [m, h, w, c] -> [m, h*w*c]
/// ```
///
/// [`Preprocessing::fit`] computes the statistics on the training inputs only; the
/// [`FittedPreprocessing`] it returns is stored with the model and applied to every split
/// and at predict time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocessing {
    /// Divide by this value first ([`scale`]); `None`: no scaling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// Standardisation fitted on the (scaled) training inputs.
    pub standardize: Standardize,
    /// The floor on σ; `None`: [`DEFAULT_STD_FLOOR`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std_floor: Option<f64>,
    /// Flatten every example last ([`flatten`]).
    pub flatten: bool,
}

impl Preprocessing {
    /// Checks the values a config may get wrong: `scale` and `std_floor` finite and > 0.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [("scale", self.scale), ("std_floor", self.std_floor)] {
            if let Some(v) = v {
                if !v.is_finite() || v <= 0.0 {
                    return Err(invalid(
                        "preprocessing",
                        format!("'{name}' is {v}; expected a finite number above 0"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Fits the pipeline's statistics on the training inputs `train_x` (never on dev or
    /// test inputs: that would leak them into training).
    pub fn fit(&self, train_x: &Tensor) -> Result<FittedPreprocessing> {
        self.validate()?;
        let standardizer = match self.standardize {
            Standardize::None => None,
            mode => {
                let scaled = match self.scale {
                    Some(max) => scale(train_x, max)?,
                    None => train_x.clone(),
                };
                let floor = self.std_floor.unwrap_or(DEFAULT_STD_FLOOR);
                Some(Standardizer::fit_with(&scaled, mode, floor)?)
            }
        };
        Ok(FittedPreprocessing {
            config: self.clone(),
            standardizer,
        })
    }
}

/// A [`Preprocessing`] with its statistics fitted on a training set: serialisable, to be
/// stored with a model and applied at evaluation and predict time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedPreprocessing {
    pub config: Preprocessing,
    /// Present when `config.standardize` is not `none`.
    pub standardizer: Option<Standardizer>,
}

impl FittedPreprocessing {
    /// The pipeline on inputs `x` `[m, ...]`: scale, standardise, flatten.
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.config.validate()?;
        let mut x = match self.config.scale {
            Some(max) => scale(x, max)?,
            None => x.clone(),
        };
        match (&self.standardizer, self.config.standardize) {
            (Some(s), _) => x = s.apply(&x)?,
            (None, Standardize::None) => {}
            (None, mode) => {
                return Err(invalid(
                    "preprocessing",
                    format!("standardize is {mode:?} but no statistics were fitted; call fit on the training inputs"),
                ))
            }
        }
        if self.config.flatten {
            x = flatten(&x)?;
        }
        Ok(x)
    }

    /// The pipeline on a dataset's inputs, labels unchanged.
    pub fn apply_dataset(&self, data: &Dataset) -> Result<Dataset> {
        data.with_x(self.apply(&data.x)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_core::Rng;

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol, "element {i}: {x} vs {y}");
        }
    }

    #[test]
    fn flatten_nhwc_in_row_major_order() {
        let x = Tensor::from_vec((0..24).map(|v| v as f32).collect(), &[2, 2, 3, 2]);
        let f = flatten(&x).unwrap();
        assert_eq!(f.shape(), &[2, 12]);
        assert_eq!(f.to_vec::<f32>(), x.to_vec::<f32>());
        assert_eq!(
            flatten(&Tensor::zeros(&[5], DType::F32)).unwrap().shape(),
            &[5, 1]
        );
        assert!(flatten(&Tensor::scalar(1.0f32)).is_err());
    }

    #[test]
    fn scale_divides_like_numpy() {
        let raw: Vec<f32> = (0..=255).map(|v| v as f32).collect();
        let x = Tensor::from_vec(raw.clone(), &[256, 1]);
        let s = scale(&x, 255.0).unwrap().to_vec::<f32>();
        assert_eq!(s, raw.iter().map(|v| v / 255.0).collect::<Vec<_>>());
        assert_eq!(scale_pixels(&x).to_vec::<f32>(), s);
        assert_eq!((s[0], s[255]), (0.0, 1.0));
        let x64 = Tensor::from_vec(vec![2.0f64, 4.0], &[2]);
        assert_eq!(scale(&x64, 4.0).unwrap().to_vec::<f64>(), [0.5, 1.0]);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(scale(&x, bad).is_err());
        }
    }

    #[test]
    fn one_hot_rows() {
        let t = one_hot(&[2, 0, 1], 3, DType::F32).unwrap();
        assert_eq!(t.shape(), &[3, 3]);
        assert_eq!(
            t.to_vec::<f32>(),
            [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        );
        assert_eq!(one_hot(&[1], 2, DType::F64).unwrap().dtype(), DType::F64);
        let e = one_hot(&[0, 3], 3, DType::F32).unwrap_err().to_string();
        assert!(e.contains("label 1 is class 3"), "{e}");
    }

    #[test]
    fn standardizer_gives_zero_mean_unit_std_on_train() {
        let mut rng = Rng::new(0);
        let x = Tensor::rand_normal(&[500, 4], 3.0, 2.0, DType::F32, &mut rng)
            .mul(&Tensor::from_vec(vec![1.0f32, 10.0, 0.1, 1.0], &[4]));
        let s = Standardizer::fit(&x).unwrap();
        assert_eq!(s.len(), 4);
        let z = s.apply(&x).unwrap();
        let v = z.to_vec_f64();
        for f in 0..4 {
            let col: Vec<f64> = v.iter().skip(f).step_by(4).copied().collect();
            let mu = col.iter().sum::<f64>() / 500.0;
            let var = col.iter().map(|c| (c - mu).powi(2)).sum::<f64>() / 500.0;
            assert!(
                mu.abs() < 1e-5 && (var.sqrt() - 1.0).abs() < 1e-5,
                "{f}: {mu} {var}"
            );
        }
    }

    #[test]
    fn standardizer_matches_hand_values_and_uses_train_statistics() {
        let train = Tensor::from_vec(vec![1.0f64, 10.0, 3.0, 10.0], &[2, 2]);
        let s = Standardizer::fit(&train).unwrap();
        assert_eq!(s.mean, [2.0, 10.0]);
        // Column 0: σ = 1. Column 1 is constant: σ = 0 is floored.
        assert_eq!(s.std, [1.0, DEFAULT_STD_FLOOR as f32]);
        assert_eq!(
            s.apply(&train).unwrap().to_vec::<f64>(),
            [-1.0, 0.0, 1.0, 0.0]
        );
        // A test set is transformed with the training statistics, not its own.
        let test = Tensor::from_vec(vec![4.0f64, 10.0], &[1, 2]);
        assert_eq!(s.apply(&test).unwrap().to_vec::<f64>(), [2.0, 0.0]);
        // No NaN or infinity for a constant feature.
        let s2 = Standardizer::fit_with(&train, Standardize::PerFeature, 1e-3).unwrap();
        assert_eq!(s2.std[1], 1e-3);
    }

    #[test]
    fn per_feature_on_images_applies_to_flattened_images() {
        let mut rng = Rng::new(1);
        let x = Tensor::rand_uniform(&[10, 2, 3, 3], 0.0, 255.0, DType::F32, &mut rng);
        let s = Standardizer::fit(&x).unwrap();
        assert_eq!(s.len(), 18);
        let a = flatten(&s.apply(&x).unwrap()).unwrap();
        let b = s.apply(&flatten(&x).unwrap()).unwrap();
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    }

    #[test]
    fn per_channel_statistics() {
        // Channel 0 holds 0, 2, 4, 6; channel 1 holds 10 everywhere.
        let x = Tensor::from_vec(
            vec![0.0f32, 10.0, 2.0, 10.0, 4.0, 10.0, 6.0, 10.0],
            &[2, 1, 2, 2],
        );
        let s = Standardizer::fit_per_channel(&x).unwrap();
        assert_eq!(s.mean, [3.0, 10.0]);
        close(&s.std, &[5.0f32.sqrt(), 1e-7], 1e-6);
        let z = s.apply(&x).unwrap();
        assert_eq!(z.shape(), x.shape());
        let r = 5.0f32.sqrt();
        close(
            &z.to_vec::<f32>(),
            &[-3.0 / r, 0.0, -1.0 / r, 0.0, 1.0 / r, 0.0, 3.0 / r, 0.0],
            1e-6,
        );
        // Other image sizes with the same channels work too.
        assert!(s.apply(&Tensor::zeros(&[1, 5, 5, 2], DType::F32)).is_ok());
    }

    #[test]
    fn standardizer_errors() {
        let s = Standardizer::fit(&Tensor::zeros(&[3, 4], DType::F32)).unwrap();
        let e = s
            .apply(&Tensor::zeros(&[3, 5], DType::F32))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fitted on 4") && e.contains("[3, 5]"), "{e}");
        assert!(Standardizer::fit(&Tensor::zeros(&[0, 4], DType::F32)).is_err());
        assert!(Standardizer::fit(&Tensor::zeros(&[4], DType::F32)).is_err());
        assert!(Standardizer::fit_with(
            &Tensor::zeros(&[2, 2], DType::F32),
            Standardize::PerFeature,
            0.0
        )
        .is_err());
        let nan = Tensor::from_vec(vec![f32::NAN, 1.0], &[1, 2]);
        assert!(Standardizer::fit(&nan)
            .unwrap_err()
            .to_string()
            .contains("NaN"));
        let corrupt = Standardizer {
            mean: vec![0.0; 2],
            std: vec![1.0, 0.0],
        };
        let e = corrupt
            .apply(&Tensor::zeros(&[1, 2], DType::F32))
            .unwrap_err();
        assert!(e.to_string().contains("std[1] is 0"), "{e}");
    }

    #[test]
    fn standardizer_serde_round_trip() {
        let x = Tensor::from_vec(vec![0.25f32, 1.0, 0.75, 3.0], &[2, 2]);
        let s = Standardizer::fit(&x).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: Standardizer = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            back.apply(&x).unwrap().to_vec::<f32>(),
            s.apply(&x).unwrap().to_vec::<f32>()
        );
    }

    #[test]
    fn pipeline_fits_on_train_and_applies_everywhere() {
        let mut rng = Rng::new(2);
        let train = Tensor::rand_uniform(&[20, 4, 4, 3], 0.0, 255.0, DType::F32, &mut rng);
        let test = Tensor::rand_uniform(&[5, 4, 4, 3], 0.0, 255.0, DType::F32, &mut rng);
        let p = Preprocessing {
            scale: Some(255.0),
            standardize: Standardize::PerFeature,
            flatten: true,
            std_floor: None,
        };
        let fitted = p.fit(&train).unwrap();
        let by_hand = Standardizer::fit(&scale(&train, 255.0).unwrap()).unwrap();
        assert_eq!(fitted.standardizer.as_ref(), Some(&by_hand));
        let z = fitted.apply(&test).unwrap();
        assert_eq!(z.shape(), &[5, 48]);
        let want = flatten(&by_hand.apply(&scale(&test, 255.0).unwrap()).unwrap()).unwrap();
        assert_eq!(z.to_vec::<f32>(), want.to_vec::<f32>());

        // Stored and loaded, it gives the same numbers.
        let json = serde_json::to_string(&fitted).unwrap();
        let back: FittedPreprocessing = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.apply(&test).unwrap().to_vec::<f32>(),
            z.to_vec::<f32>()
        );

        // Only scaling and flattening: nothing to fit.
        let course = Preprocessing {
            scale: Some(255.0),
            flatten: true,
            ..Default::default()
        };
        let f = course.fit(&train).unwrap();
        assert!(f.standardizer.is_none());
        let data = Dataset::classification(
            test.clone(),
            vec![0, 1, 0, 1, 1],
            vec!["a".into(), "b".into()],
        )
        .unwrap();
        let out = f.apply_dataset(&data).unwrap();
        assert_eq!(out.x.shape(), &[5, 48]);
        assert_eq!(out.y.class_indices(), Some(&[0, 1, 0, 1, 1][..]));
    }

    #[test]
    fn pipeline_config_serde_and_validation() {
        let p: Preprocessing = serde_json::from_str(
            r#"{"scale": 255, "standardize": "per_channel", "flatten": false}"#,
        )
        .unwrap();
        assert_eq!(
            p,
            Preprocessing {
                scale: Some(255.0),
                standardize: Standardize::PerChannel,
                std_floor: None,
                flatten: false
            }
        );
        let empty: Preprocessing = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Preprocessing::default());
        let e = serde_json::from_str::<Preprocessing>(r#"{"standardise": "per_feature"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("standardise"), "{e}");
        let e = serde_json::from_str::<Preprocessing>(r#"{"standardize": "yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("per_feature"), "{e}");
        let bad = Preprocessing {
            scale: Some(0.0),
            ..Default::default()
        };
        let e = bad
            .fit(&Tensor::zeros(&[1, 1], DType::F32))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'scale' is 0"), "{e}");
        // A hand-edited fitted pipeline without its statistics is an error, not a silent skip.
        let broken = FittedPreprocessing {
            config: Preprocessing {
                standardize: Standardize::PerFeature,
                ..Default::default()
            },
            standardizer: None,
        };
        assert!(broken.apply(&Tensor::zeros(&[1, 1], DType::F32)).is_err());
    }
}
