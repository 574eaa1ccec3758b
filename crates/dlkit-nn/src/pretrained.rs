//! `[model] weights`: the weights a built model starts from instead of its initialiser's,
//! read from a PyTorch state dict ([`load_torch_state_dict`]) or a dlkit weights file
//! ([`load_weights_into`]).
//!
//! ```toml
//! [model]
//! weights = { path = "resnet.safetensors", format = "pytorch", map = "torchvision_resnet" }
//! # or explicit pairs of module names, and the map a flatten before a dense layer flattens:
//! # weights = { path = "net.safetensors", format = "pytorch", pairs = { "features.0" = "0", "classifier" = "3" }, flatten_inputs = { "3" = [4, 4, 16] } }
//! ```

use crate::error::{Error, Result};
use crate::io::{load_torch_state_dict, load_weights_into, NameMap};
use crate::module::Module;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `weights = { path = ..., format = "pytorch" | "dlkit", map = ..., pairs = ..., flatten_inputs = ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainedWeights {
    /// The safetensors file, relative to the config's folder (or its ancestors).
    pub path: PathBuf,
    pub format: WeightsFormat,
    /// A built-in name map (`format = "pytorch"` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<BuiltInMap>,
    /// `pytorch_module = "dlkit_layer"`, over the built-in map (`format = "pytorch"` only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pairs: BTreeMap<String, String>,
    /// `dlkit_dense = [h, w, c]`: the NHWC map a flatten before that dense layer flattens
    /// (`format = "pytorch"` only; see [`NameMap::with_flatten_input`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flatten_inputs: BTreeMap<String, [usize; 3]>,
}

/// Who wrote the weights file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightsFormat {
    /// `safetensors.torch.save_file(model.state_dict(), path)`.
    Pytorch,
    /// dlkit's own weights (`model.safetensors`, a checkpoint's weights), names as the model's.
    Dlkit,
}

/// The name maps dlkit knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltInMap {
    /// [`NameMap::torchvision_resnet`].
    TorchvisionResnet,
}

impl PretrainedWeights {
    /// The name map for a PyTorch file: the built-in one, then the pairs and flatten shapes.
    pub fn name_map(&self) -> NameMap {
        let base = match self.map {
            Some(BuiltInMap::TorchvisionResnet) => NameMap::torchvision_resnet(),
            None => NameMap::new(),
        };
        let map = self.pairs.iter().fold(base, |m, (p, d)| m.with(p, d));
        self.flatten_inputs
            .iter()
            .fold(map, |m, (d, hwc)| m.with_flatten_input(d, *hwc))
    }

    /// Checks that the fields fit the format.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let extras =
            self.map.is_some() || !self.pairs.is_empty() || !self.flatten_inputs.is_empty();
        if self.format == WeightsFormat::Dlkit && extras {
            return Err(
                "map, pairs and flatten_inputs are for format = \"pytorch\"; a dlkit \
                        file names its tensors as the model does"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// Loads the file at `path` (this config's `path`, resolved by the caller) into `model`.
    pub fn load_into(&self, model: &dyn Module, path: &Path) -> Result<()> {
        self.validate().map_err(Error::Config)?;
        match self.format {
            WeightsFormat::Pytorch => {
                load_torch_state_dict(model, path, &self.name_map()).map(|_| ())
            }
            WeightsFormat::Dlkit => load_weights_into(model, path),
        }
    }
}
