//! The description of a saved model (`model.json`): [`ModelInfo`] and the trainer's metadata,
//! parsed with errors that name the field (and, for layers, the layer) at fault.

use super::layer_errors::parse_layer;
use super::{FORMAT, FORMAT_VERSION};
use crate::spec::LayerSpec;
use dlkit_core::DType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The description of a saved model: what `model.json` holds.
///
/// ```json
/// {
///   "format": "dlkit-model",
///   "format_version": 1,
///   "dtype": "f32",
///   "input_shape": [4],
///   "output_shape": [3],
///   "layers": [{ "type": "dense", "units": 8 }, { "type": "relu" }, ...],
///   "weights": { "tensors": 4, "parameters": 67, "bytes": 412, "checksum": "fnv1a64:..." },
///   "metadata": { "class_names": ["setosa", "versicolor", "virginica"] }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version that wrote the file ([`FORMAT_VERSION`] for new files).
    pub format_version: u32,
    /// The dtype of every tensor: `"f32"` or `"f64"`.
    #[serde(with = "dtype_name")]
    pub dtype: DType,
    /// The shape of one input example, batch axis excluded (`[64, 64, 3]` for NHWC images).
    pub input_shape: Vec<usize>,
    /// The shape of one output example, as the layers give it for `input_shape`.
    pub output_shape: Vec<usize>,
    /// The layers, in order; the model is `Sequential::build(layers, .., input_shape)`.
    pub layers: Vec<LayerSpec>,
    /// Whether the model is `layers[0]` itself (a graph, a custom layer: any module saved by
    /// [`save_module`](super::save_module)) rather than a `Sequential` of the layers; absent
    /// (false) for a `Sequential`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single_layer: bool,
    /// What the weights file held when it was written. Absent in a hand-written description:
    /// the weights file is then checked by names, dtypes and shapes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightsInfo>,
    /// What the trainer stores beside the model.
    #[serde(default, skip_serializing_if = "ModelMetadata::is_empty")]
    pub metadata: ModelMetadata,
}

/// The size and fingerprint of the weights file a description was saved with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightsInfo {
    /// Number of tensors (parameters and buffers).
    pub tensors: usize,
    /// Number of learnable scalars (buffers excluded).
    pub parameters: usize,
    /// Size of the weights file in bytes.
    pub bytes: u64,
    /// `"fnv1a64:"` and 16 hex digits: FNV-1a (64 bit) of the whole weights file.
    pub checksum: String,
}

/// What the trainer may store beside the architecture. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMetadata {
    /// The name of each class, in output order. For one sigmoid output, two names: the
    /// class of output 0, then that of output 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// Statistics that inputs are normalised with before they enter the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
    /// Anything else, as free JSON (the training config, the run id, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Value>,
}

impl ModelMetadata {
    pub fn is_empty(&self) -> bool {
        self.class_names.is_none() && self.normalization.is_none() && self.extra.is_none()
    }
}

/// Input normalisation `x' = (x - mean) / std`, fitted on the training split. `std` is the
/// standard deviation (not the variance, which the course's notes write by mistake). One
/// value per input feature, or per channel (last axis) of image inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

mod dtype_name {
    use dlkit_core::DType;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &DType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
        let name = String::deserialize(d)?;
        super::parse_dtype(&name).map_err(serde::de::Error::custom)
    }
}

fn parse_dtype(name: &str) -> std::result::Result<DType, String> {
    match name {
        "f32" => Ok(DType::F32),
        "f64" => Ok(DType::F64),
        other => Err(format!("unknown dtype `{other}`, expected `f32` or `f64`")),
    }
}

const FIELDS: [&str; 9] = [
    "format",
    "format_version",
    "dtype",
    "input_shape",
    "output_shape",
    "layers",
    "single_layer",
    "weights",
    "metadata",
];

/// Parses `model.json`, each message naming the field at fault.
pub(crate) fn parse_info(text: &str) -> std::result::Result<ModelInfo, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("not a model description: invalid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("not a model description: expected a JSON object".to_string());
    };
    match obj.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(format!(
                "not a dlkit model description: field `format` is {other}, expected \"{FORMAT}\""
            ))
        }
        None => {
            return Err(format!(
                "not a dlkit model description: no field `format` (expected \"{FORMAT}\")"
            ))
        }
    }
    let format_version: u32 = field(&obj, "format_version")?;
    if format_version == 0 || format_version > FORMAT_VERSION {
        return Err(format!(
            "format_version {format_version} is not one this dlkit reads (1 to {FORMAT_VERSION}); \
             a newer dlkit wrote it"
        ));
    }
    if let Some(key) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{key}` (the fields are {})",
            FIELDS.map(|f| format!("`{f}`")).join(", ")
        ));
    }
    let dtype: String = field(&obj, "dtype")?;
    let dtype = parse_dtype(&dtype).map_err(|m| format!("field `dtype`: {m}"))?;
    let input_shape: Vec<usize> = field(&obj, "input_shape")?;
    let output_shape: Vec<usize> = field(&obj, "output_shape")?;
    let layers = match obj.get("layers") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| parse_layer(v, &format!("layers[{i}]")))
            .collect::<std::result::Result<Vec<_>, _>>()?,
        Some(_) => return Err("field `layers`: expected a list of layers".to_string()),
        None => return Err("missing field `layers`".to_string()),
    };
    let single_layer = optional_field(&obj, "single_layer")?.unwrap_or(false);
    if single_layer && layers.len() != 1 {
        return Err(format!(
            "field `single_layer`: true needs exactly one layer, found {}",
            layers.len()
        ));
    }
    let weights: Option<WeightsInfo> = optional_field(&obj, "weights")?;
    if let Some(w) = &weights {
        let hex = w.checksum.strip_prefix("fnv1a64:").unwrap_or("");
        if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "field `weights.checksum`: expected \"fnv1a64:\" and 16 hex digits, found {:?}",
                w.checksum
            ));
        }
    }
    let metadata: ModelMetadata = optional_field(&obj, "metadata")?.unwrap_or_default();
    validate_metadata(&metadata, &output_shape)
        .map_err(|(f, m)| format!("field `metadata.{f}`: {m}"))?;
    Ok(ModelInfo {
        format: FORMAT.to_string(),
        format_version,
        dtype,
        input_shape,
        output_shape,
        layers,
        single_layer,
        weights,
        metadata,
    })
}

fn field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    name: &str,
) -> std::result::Result<T, String> {
    optional_field(obj, name)?.ok_or_else(|| format!("missing field `{name}`"))
}

fn optional_field<T: DeserializeOwned>(
    obj: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<T>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => T::deserialize(v)
            .map(Some)
            .map_err(|e| format!("field `{name}`: {e}")),
    }
}

/// Checks the trainer's metadata against the model's output: `Err((field, problem))`, the
/// field named below `metadata`.
pub(crate) fn validate_metadata(
    m: &ModelMetadata,
    output_shape: &[usize],
) -> std::result::Result<(), (String, String)> {
    if let (Some(names), [k]) = (&m.class_names, output_shape) {
        let want = if *k == 1 { 2 } else { *k };
        if names.len() != want {
            return Err((
                "class_names".into(),
                format!(
                    "{} names for an output of shape {output_shape:?}, which needs {want}",
                    names.len()
                ),
            ));
        }
    }
    if let Some(n) = &m.normalization {
        if n.mean.len() != n.std.len() {
            return Err((
                "normalization".into(),
                format!(
                    "mean has {} values but std has {}",
                    n.mean.len(),
                    n.std.len()
                ),
            ));
        }
        if let Some(i) = n.mean.iter().position(|v| !v.is_finite()) {
            return Err((
                format!("normalization.mean[{i}]"),
                format!("{} is not finite", n.mean[i]),
            ));
        }
        if let Some(i) = n.std.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err((
                format!("normalization.std[{i}]"),
                format!("{} is not a positive standard deviation", n.std[i]),
            ));
        }
    }
    Ok(())
}
