//! The course's generated 2-D datasets, made here with the same numbers as the course's NumPy
//! and scikit-learn code for the same seed.
//!
//! The deep learning specialization draws three toy datasets from NumPy's legacy global
//! random generator; [`NumpyRandom`] is a copy of that generator, and each function below
//! follows the course's code operation by operation, so the points equal the course's (to
//! the last bit or so of `sin`/`cos`; the tests hold them to NumPy's and scikit-learn's within
//! 1e-12) and the labels are identical. `x` is an `f64` tensor `[n, 2]` (one row per example,
//! dlkit's convention; the course's own loaders return its transpose), the labels are
//! classes 0 and 1 with names.
//!
//! All three use NumPy's `linspace` ([`linspace`]): with `div = num - 1` (`endpoint`) or
//! `num`, `step = (stop - start) / div` and `y_k = k·step + start`, the last point set to
//! `stop` exactly when `endpoint`.
//!
//! ## Flower ([`flower`], course 1 week 3, `planar_utils.load_planar_dataset`)
//!
//! `np.random.seed(seed)`, then for class `j` = 0 ("red") and 1 ("blue") in turn, with
//! `N_j` points (`n / 2` for class 0, the rest for class 1):
//!
//! - angles `t = linspace(3.12 j, 3.12 (j + 1), N_j) + 0.2 · randn(N_j)`,
//! - radii `r = 4 sin(4 t) + 0.2 · randn(N_j)`,
//! - points `(r sin t, r cos t)`, labelled `j`, class 0's rows first.
//!
//! Two petals each of a four-petal rose `r = 4 sin 4t`, the classes interleaved. The course's
//! dataset is `flower(400, 1)`. For an odd `n` the course's code (`N = int(m/2)` points per
//! class) would leave its last row at zero; here class 1 takes the extra point instead, and
//! for an even `n` the two agree.
//!
//! ## Circles ([`circles`], course 2 week 1, `init_utils.load_dataset`)
//!
//! scikit-learn's `make_circles(n, noise=noise, factor=factor)` after
//! `np.random.seed(seed)` (its `random_state=None` uses the global generator):
//! `n_out = n / 2` points on the unit circle at angles `linspace(0, 2π, n_out,
//! endpoint=False)`, class 0 ("outer"), then `n_in = n - n_out` on the circle of radius
//! `factor` at `linspace(0, 2π, n_in, endpoint=False)`, class 1 ("inner"); the rows are
//! shuffled together (`np.random.shuffle` of `arange(n)`, rows taken in that order) and then
//! Gaussian noise `normal(0, noise)` is added to every coordinate, drawn row by row. The
//! course: training set `circles(300, 0.05, 0.8, 1)`, test set `circles(100, 0.05, 0.8, 2)`.
//!
//! ## Moons ([`moons`], course 2 week 2, `opt_utils.load_dataset`)
//!
//! scikit-learn's `make_moons(n, noise=noise)` after `np.random.seed(seed)`: with
//! `a_out = linspace(0, π, n_out)` and `a_in = linspace(0, π, n_in)` (`n_out = n / 2`,
//! `n_in = n - n_out`), the upper moon `(cos a_out, sin a_out)`, class 0 ("upper"), then the
//! lower one `(1 - cos a_in, 1 - sin a_in - 0.5)`, class 1 ("lower"); shuffled and noised as
//! the circles are. The course: `moons(300, 0.2, 3)`.
//!
//! ```
//! use dlkit_data::generate::{circles, flower, Generator};
//! # fn main() -> dlkit_data::Result<()> {
//! let planar = flower(400, 1)?; // the course's planar dataset
//! assert_eq!(planar.x.shape(), &[400, 2]);
//! assert_eq!(planar.class_counts(), Some(vec![200, 200]));
//! let train = circles(300, 0.05, 0.8, 1)?;
//! assert_eq!(train.y.class_names().unwrap(), ["outer", "inner"]);
//! // As a config names it:
//! let g: Generator = toml::from_str("type = \"moons\"\nn = 300\nnoise = 0.2\nseed = 3").unwrap();
//! assert_eq!(g.generate()?.len(), 300);
//! # Ok(())
//! # }
//! ```

use std::f64::consts::PI;

use dlkit_core::{NumpyRandom, Tensor};
use serde::{Deserialize, Serialize};

use crate::dataset::{invalid, Dataset};
use crate::error::Result;

/// One generated dataset, as a config names it: `{ type = "circles", n = 300, noise = 0.05,
/// seed = 1 }`. Missing fields take the defaults of the course's code (flower: `n = 400`,
/// `seed = 1`) or of scikit-learn (`n = 100`, no noise, `factor = 0.8`, seed 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Generator {
    /// The planar "flower" of course 1 week 3: [`flower`].
    Flower {
        /// The number of points.
        #[serde(default = "default_flower_n")]
        n: usize,
        /// The `np.random.seed`.
        #[serde(default = "default_flower_seed")]
        seed: u32,
    },
    /// Two noisy concentric circles (scikit-learn's `make_circles`): [`circles`].
    Circles {
        /// The number of points.
        #[serde(default = "default_sklearn_n")]
        n: usize,
        /// The standard deviation of the Gaussian noise on each coordinate.
        #[serde(default)]
        noise: f64,
        /// The radius of the inner circle, the outer one's being 1.
        #[serde(default = "default_factor")]
        factor: f64,
        /// The `np.random.seed`.
        #[serde(default)]
        seed: u32,
    },
    /// Two interleaving half circles (scikit-learn's `make_moons`): [`moons`].
    Moons {
        /// The number of points.
        #[serde(default = "default_sklearn_n")]
        n: usize,
        /// The standard deviation of the Gaussian noise on each coordinate.
        #[serde(default)]
        noise: f64,
        /// The `np.random.seed`.
        #[serde(default)]
        seed: u32,
    },
}

fn default_flower_n() -> usize {
    400
}

fn default_flower_seed() -> u32 {
    1
}

fn default_sklearn_n() -> usize {
    100
}

fn default_factor() -> f64 {
    0.8
}

impl Generator {
    /// Generates the dataset; errors, naming the field and its value, when `n < 2`, when
    /// `noise` is negative or not finite, or when `factor` is not in `(0, 1)`.
    pub fn generate(&self) -> Result<Dataset> {
        match *self {
            Generator::Flower { n, seed } => flower(n, seed),
            Generator::Circles {
                n,
                noise,
                factor,
                seed,
            } => circles(n, noise, factor, seed),
            Generator::Moons { n, noise, seed } => moons(n, noise, seed),
        }
    }

    /// The generator's name, its `type` in a config: `"flower"`, `"circles"` or `"moons"`.
    pub fn name(&self) -> &'static str {
        match self {
            Generator::Flower { .. } => "flower",
            Generator::Circles { .. } => "circles",
            Generator::Moons { .. } => "moons",
        }
    }
}

/// The planar "flower" of course 1 week 3 (`planar_utils.load_planar_dataset`, which is
/// `flower(400, 1)`): `n` points, classes "0" (the course's red) and "1" (blue); see the [module
/// documentation](self) for the construction. Errors when `n < 2`.
pub fn flower(n: usize, seed: u32) -> Result<Dataset> {
    const CONTEXT: &str = "flower dataset";
    check_n(CONTEXT, n)?;
    let mut rng = NumpyRandom::new(seed);
    let a = 4.0;
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for (j, count) in [n / 2, n - n / 2].into_iter().enumerate() {
        let jf = j as f64;
        let lin = linspace(jf * 3.12, (jf + 1.0) * 3.12, count, true);
        let theta_noise = rng.randn(count);
        let t: Vec<f64> = lin
            .iter()
            .zip(&theta_noise)
            .map(|(l, g)| l + g * 0.2)
            .collect();
        let radius_noise = rng.randn(count);
        for (&t, g) in t.iter().zip(&radius_noise) {
            let r = a * (4.0 * t).sin() + g * 0.2;
            x.push(r * t.sin());
            x.push(r * t.cos());
            y.push(j);
        }
    }
    finish(x, y, ["0", "1"])
}

/// Two concentric circles, scikit-learn's `make_circles(n, noise=noise, factor=factor)` after
/// `np.random.seed(seed)`: classes 0 "outer" (radius 1) and 1 "inner" (radius `factor`); see
/// the [module documentation](self). The course's: `circles(300, 0.05, 0.8, 1)` (training)
/// and `circles(100, 0.05, 0.8, 2)` (test). Errors when `n < 2`, `noise` is negative or not
/// finite, or `factor` is not in `(0, 1)`.
pub fn circles(n: usize, noise: f64, factor: f64, seed: u32) -> Result<Dataset> {
    const CONTEXT: &str = "circles dataset";
    check_n(CONTEXT, n)?;
    check_noise(CONTEXT, noise)?;
    if !(factor > 0.0 && factor < 1.0) {
        return Err(invalid(
            CONTEXT,
            format!("'factor' is {factor}; expected the inner radius, a number in (0, 1)"),
        ));
    }
    let mut rng = NumpyRandom::new(seed);
    let (n_out, n_in) = (n / 2, n - n / 2);
    let mut points = Vec::with_capacity(n);
    for a in linspace(0.0, 2.0 * PI, n_out, false) {
        points.push([a.cos(), a.sin()]);
    }
    for a in linspace(0.0, 2.0 * PI, n_in, false) {
        points.push([a.cos() * factor, a.sin() * factor]);
    }
    sklearn_finish(&mut rng, points, n_out, noise, ["outer", "inner"])
}

/// Two interleaving half circles, scikit-learn's `make_moons(n, noise=noise)` after
/// `np.random.seed(seed)`: classes 0 "upper" and 1 "lower"; see the [module
/// documentation](self). The course's: `moons(300, 0.2, 3)`. Errors when `n < 2` or `noise`
/// is negative or not finite.
pub fn moons(n: usize, noise: f64, seed: u32) -> Result<Dataset> {
    const CONTEXT: &str = "moons dataset";
    check_n(CONTEXT, n)?;
    check_noise(CONTEXT, noise)?;
    let mut rng = NumpyRandom::new(seed);
    let (n_out, n_in) = (n / 2, n - n / 2);
    let mut points = Vec::with_capacity(n);
    for a in linspace(0.0, PI, n_out, true) {
        points.push([a.cos(), a.sin()]);
    }
    for a in linspace(0.0, PI, n_in, true) {
        points.push([1.0 - a.cos(), 1.0 - a.sin() - 0.5]);
    }
    sklearn_finish(&mut rng, points, n_out, noise, ["upper", "lower"])
}

/// `np.linspace(start, stop, num, endpoint=endpoint)` in float64, as NumPy computes it:
/// `div = num - 1` when `endpoint`, else `num`; when `div > 0`, `step = (stop - start) / div`
/// and `y_k = k·step + start` (or `y_k = k / div · (stop - start) + start` when `step` is
/// 0); for `div = 0`, `y = [start]`; when `endpoint` and `num > 1`, the last value is set
/// to `stop`.
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool) -> Vec<f64> {
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let delta = stop - start;
    let mut y: Vec<f64> = (0..num).map(|k| k as f64).collect();
    if div > 0 {
        let step = delta / div as f64;
        if step == 0.0 {
            for v in &mut y {
                *v = *v / div as f64 * delta;
            }
        } else {
            for v in &mut y {
                *v *= step;
            }
        }
    } else {
        for v in &mut y {
            *v *= delta;
        }
    }
    for v in &mut y {
        *v += start;
    }
    if endpoint && num > 1 {
        y[num - 1] = stop;
    }
    y
}

/// scikit-learn's common ending of `make_circles` and `make_moons`: labels 0 for the first
/// `n_out` points and 1 for the rest, rows shuffled by `np.random.shuffle(arange(n))`
/// (`sklearn.utils.shuffle` -> `resample`), then `X += normal(scale=noise, size=(n, 2))`,
/// drawn in row-major order.
fn sklearn_finish(
    rng: &mut NumpyRandom,
    points: Vec<[f64; 2]>,
    n_out: usize,
    noise: f64,
    names: [&str; 2],
) -> Result<Dataset> {
    let n = points.len();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut x = Vec::with_capacity(2 * n);
    let mut y = Vec::with_capacity(n);
    for &i in &order {
        for v in points[i] {
            x.push(v + rng.normal(0.0, noise));
        }
        y.push(usize::from(i >= n_out));
    }
    finish(x, y, names)
}

fn finish(x: Vec<f64>, y: Vec<usize>, names: [&str; 2]) -> Result<Dataset> {
    let n = y.len();
    Dataset::classification(
        Tensor::from_vec(x, &[n, 2]),
        y,
        names.iter().map(|s| s.to_string()).collect(),
    )
}

fn check_n(context: &str, n: usize) -> Result<()> {
    if n < 2 {
        return Err(invalid(
            context,
            format!("'n' is {n}; expected at least 2 points, so that both classes have one"),
        ));
    }
    Ok(())
}

fn check_noise(context: &str, noise: f64) -> Result<()> {
    if !noise.is_finite() || noise < 0.0 {
        return Err(invalid(
            context,
            format!("'noise' is {noise}; expected a standard deviation, a finite number >= 0"),
        ));
    }
    Ok(())
}
