//! Weight initialisers (biases start at zero). Every draw comes from a seeded stream: dlkit's
//! own [`Rng`] by default, or NumPy's legacy global generator ([`InitRng::Numpy`]), with which
//! a model starts from exactly the initial weights of the course's NumPy code.

use dlkit_core::shape::numel;
use dlkit_core::{DType, NumpyRandom, Rng, Tensor};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a weight tensor is initialised, given its fan-in `n_prev` (inputs per unit) and
/// fan-out.
///
/// In configs and model files, at model and layer level alike: a name (`init = "he"`,
/// `"xavier"`, `"zeros"`, `"glorot_uniform"`) or a table (`{ type = "he" }`,
/// `{ type = "normal", scale = 0.01 }`). Serialised as the table ([`Init::serialize_as_name`]
/// writes the name).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Init {
    /// All zeros: every unit computes the same function, so symmetry is never broken.
    Zeros,
    /// `N(0, 1) * scale`, the course's `np.random.randn(...) * 0.01` (or `* 10`).
    Normal { scale: f64 },
    /// Xavier: `N(0, 1) * sqrt(1 / n_prev)`, for tanh layers.
    Xavier,
    /// He: `N(0, 1) * sqrt(2 / n_prev)`, for ReLU layers (the default).
    #[default]
    He,
    /// Glorot uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))` (Keras' default).
    GlorotUniform,
}

/// The table form of [`Init`]: `{ type = "normal", scale = 0.01 }`. The parameterless
/// variants are empty struct variants because serde ignores unknown fields of unit variants
/// in an internally tagged enum, even with `deny_unknown_fields`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum InitTable {
    Zeros {},
    Normal { scale: f64 },
    Xavier {},
    He {},
    GlorotUniform {},
}

impl From<InitTable> for Init {
    fn from(t: InitTable) -> Init {
        match t {
            InitTable::Zeros {} => Init::Zeros,
            InitTable::Normal { scale } => Init::Normal { scale },
            InitTable::Xavier {} => Init::Xavier,
            InitTable::He {} => Init::He,
            InitTable::GlorotUniform {} => Init::GlorotUniform,
        }
    }
}

impl Init {
    /// The name of an initialiser without parameters (`"he"`); `None` for `Normal`.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Init::Zeros => Some("zeros"),
            Init::Normal { .. } => None,
            Init::Xavier => Some("xavier"),
            Init::He => Some("he"),
            Init::GlorotUniform => Some("glorot_uniform"),
        }
    }
}

/// The table form (`{ type = "he" }`), which model files have always held.
impl Serialize for Init {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let table = match *self {
            Init::Zeros => InitTable::Zeros {},
            Init::Normal { scale } => InitTable::Normal { scale },
            Init::Xavier => InitTable::Xavier {},
            Init::He => InitTable::He {},
            Init::GlorotUniform => InitTable::GlorotUniform {},
        };
        table.serialize(s)
    }
}

impl Init {
    /// Serialises as the name where there is one (`"he"`), else as the table; for fields
    /// written for people (`[model] init` of a config): `#[serde(serialize_with = ...)]`.
    pub fn serialize_as_name<S: Serializer>(init: &Init, s: S) -> Result<S::Ok, S::Error> {
        match init.name() {
            Some(name) => s.serialize_str(name),
            None => init.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Init {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Init;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "\"he\", \"xavier\", \"zeros\", \"glorot_uniform\" or { type = \"normal\", scale = 0.01 }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Init, E> {
                Ok(match s {
                    "zeros" => Init::Zeros,
                    "xavier" => Init::Xavier,
                    "he" => Init::He,
                    "glorot_uniform" => Init::GlorotUniform,
                    "normal" => return Err(E::custom(
                        "init \"normal\" needs a scale: init = { type = \"normal\", scale = 0.01 }",
                    )),
                    other => return Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Init, A::Error> {
                InitTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(Init::from)
            }
        }
        d.deserialize_any(V)
    }
}

/// Which random stream draws the initial weights.
///
/// In configs: `rng = "dlkit"` (the default) or `rng = "numpy"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitRng {
    /// dlkit's seeded ChaCha8 [`Rng`], through [`Init::sample`].
    #[default]
    Dlkit,
    /// NumPy's legacy global stream, through [`Init::sample_numpy`]: one [`NumpyRandom`]
    /// seeded once with the model's seed (`np.random.seed(seed)`, so the seed must fit in a
    /// `u32`), each weight tensor drawn in turn, layer by layer, as the course's
    ///
    /// ```python
    /// np.random.seed(seed)
    /// for l in range(1, L):
    ///     W[l] = np.random.randn(n[l], n[l-1]) / np.sqrt(n[l-1])   # or * np.sqrt(2 / n[l-1]), * 0.01
    ///     b[l] = np.zeros((n[l], 1))
    /// ```
    ///
    /// does, so that a course notebook's initial weights are reproduced bit for bit.
    Numpy,
}

impl InitRng {
    /// The name configs use: `"dlkit"` or `"numpy"`.
    pub fn name(self) -> &'static str {
        match self {
            InitRng::Dlkit => "dlkit",
            InitRng::Numpy => "numpy",
        }
    }
}

impl Init {
    /// A weight tensor of `shape` for a layer with the given fan-in and fan-out.
    pub fn sample(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        dtype: DType,
        rng: &mut Rng,
    ) -> Tensor {
        let fan_in = fan_in.max(1) as f64;
        match *self {
            Init::Zeros => Tensor::zeros(shape, dtype),
            Init::Normal { scale } => Tensor::rand_normal(shape, 0.0, scale, dtype, rng),
            Init::Xavier => Tensor::rand_normal(shape, 0.0, (1.0 / fan_in).sqrt(), dtype, rng),
            Init::He => Tensor::rand_normal(shape, 0.0, (2.0 / fan_in).sqrt(), dtype, rng),
            Init::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out.max(1) as f64)).sqrt();
                Tensor::rand_uniform(shape, -limit, limit, dtype, rng)
            }
        }
    }

    /// A weight tensor of `shape` drawn from NumPy's legacy stream as the course's code draws
    /// it: `numel(shape)` values in row-major order of `shape` (a layer passes the course's
    /// layout: dense `[units, inputs]`, conv `[kh, kw, c_in, filters]`), each computed in
    /// f64 with the course's own floating-point expression, then converted to `dtype`:
    ///
    /// - `Normal { scale }`: `np.random.randn(*shape) * scale`;
    /// - `Xavier`: `np.random.randn(*shape) / np.sqrt(n_prev)` (a division, as the course
    ///   writes it: `* np.sqrt(1 / n_prev)` can differ by an ulp);
    /// - `He`: `np.random.randn(*shape) * np.sqrt(2 / n_prev)`;
    /// - `GlorotUniform`: `np.random.uniform(-l, l, shape)` with
    ///   `l = np.sqrt(6 / (fan_in + fan_out))`, NumPy's legacy uniform being
    ///   `low + (high - low) * random_sample()`;
    /// - `Zeros`: `np.zeros(shape)`, drawing nothing.
    ///
    /// `n_prev` is `fan_in` (at least 1). Gaussians come from [`NumpyRandom::randn`], so an
    /// odd count leaves NumPy's cached second polar value for the next tensor, as in NumPy.
    pub fn sample_numpy(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        dtype: DType,
        rng: &mut NumpyRandom,
    ) -> Tensor {
        let n = numel(shape);
        let fan_in = fan_in.max(1) as f64;
        let values: Vec<f64> = match *self {
            Init::Zeros => return Tensor::zeros(shape, dtype),
            Init::Normal { scale } => rng.randn(n).into_iter().map(|g| g * scale).collect(),
            Init::Xavier => {
                let root = fan_in.sqrt();
                rng.randn(n).into_iter().map(|g| g / root).collect()
            }
            Init::He => {
                let factor = (2.0 / fan_in).sqrt();
                rng.randn(n).into_iter().map(|g| g * factor).collect()
            }
            Init::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out.max(1) as f64)).sqrt();
                let (low, high) = (-limit, limit);
                (0..n)
                    .map(|_| low + (high - low) * rng.random_sample())
                    .collect()
            }
        };
        Tensor::from_vec(values, shape).to_dtype(dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor) -> f64 {
        let v = t.to_vec_f64();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn scales_follow_their_formulas() {
        let mut rng = Rng::new(7);
        let shape = [200, 500];
        let he = Init::He.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&he) - (2.0f64 / 500.0).sqrt()).abs() < 0.002);
        let xavier = Init::Xavier.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&xavier) - (1.0f64 / 500.0).sqrt()).abs() < 0.002);
        let normal = Init::Normal { scale: 0.01 }.sample(&shape, 500, 200, DType::F64, &mut rng);
        assert!((std_of(&normal) - 0.01).abs() < 0.0005);
        let glorot = Init::GlorotUniform.sample(&shape, 500, 200, DType::F64, &mut rng);
        let limit = (6.0f64 / 700.0).sqrt();
        assert!(glorot.to_vec_f64().iter().all(|v| v.abs() <= limit));
        assert!((std_of(&glorot) - limit / 3f64.sqrt()).abs() < 0.002);
        let zeros = Init::Zeros.sample(&shape, 500, 200, DType::F32, &mut rng);
        assert!(zeros.to_vec_f64().iter().all(|&v| v == 0.0));
    }

    #[test]
    fn init_reads_a_name_or_a_table_and_round_trips() {
        for (json, want) in [
            ("\"he\"", Init::He),
            ("{\"type\": \"he\"}", Init::He),
            ("\"glorot_uniform\"", Init::GlorotUniform),
            (
                "{\"type\": \"normal\", \"scale\": 0.01}",
                Init::Normal { scale: 0.01 },
            ),
        ] {
            let init: Init = serde_json::from_str(json).unwrap();
            assert_eq!(init, want);
            let again: Init = serde_json::from_str(&serde_json::to_string(&init).unwrap()).unwrap();
            assert_eq!(again, want);
        }
        let json = serde_json::to_string(&Init::Xavier).unwrap();
        assert_eq!(json, "{\"type\":\"xavier\"}");
        let mut named = Vec::new();
        Init::serialize_as_name(&Init::Xavier, &mut serde_json::Serializer::new(&mut named))
            .unwrap();
        assert_eq!(named, b"\"xavier\"");
        let e = serde_json::from_str::<Init>("\"normal\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a scale"), "{e}");
        let e = serde_json::from_str::<Init>("{\"type\": \"normal\", \"scale\": 1, \"x\": 1}")
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `x`"), "{e}");
    }

    #[test]
    fn same_seed_same_weights() {
        let a = Init::He.sample(&[3, 4], 4, 3, DType::F32, &mut Rng::new(1));
        let b = Init::He.sample(&[3, 4], 4, 3, DType::F32, &mut Rng::new(1));
        assert_eq!(a.to_vec::<f32>(), b.to_vec::<f32>());
    }
}
