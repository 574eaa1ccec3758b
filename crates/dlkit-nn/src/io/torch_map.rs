//! Which dlkit layer each PyTorch module of a state dict fills: [`NameMap`], explicit pairs of
//! module names plus, on request, the names torchvision's ResNets use.
//!
//! Names are those of modules, not tensors: `("layer1.0.conv1", "4.main.0")` sends
//! `layer1.0.conv1.weight` to `4.main.0.weight`. The tensor's own name is translated by the
//! kind of the dlkit layer (see [`load_torch_state_dict`](super::load_torch_state_dict)).

use crate::module::Module;
use crate::spec::LayerSpec;
use std::collections::BTreeMap;

/// How the modules of a PyTorch state dict are named in a dlkit model.
///
/// ```
/// use dlkit_nn::io::NameMap;
///
/// // A hand-made map: PyTorch's `features.0` is the model's layer `0`, `classifier` its `5`,
/// // which follows a flatten of a 4x4x16 map (NHWC).
/// let map = NameMap::new()
///     .with("features.0", "0")
///     .with("classifier", "5")
///     .with_flatten_input("5", [4, 4, 16]);
/// // torchvision's ResNet names, with one layer renamed.
/// let resnet = NameMap::torchvision_resnet().with("head", "9");
/// # let _ = (map, resnet);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameMap {
    /// `(pytorch_module, dlkit_layer)`, taking precedence over the built-in names.
    pairs: Vec<(String, String)>,
    /// Whether torchvision's ResNet names are worked out from the model.
    torchvision_resnet: bool,
    /// `dlkit_dense -> [h, w, c]`: the map a flatten before that dense layer flattens.
    flatten_inputs: BTreeMap<String, [usize; 3]>,
}

impl NameMap {
    /// An empty map: only the pairs given with [`NameMap::with`].
    pub fn new() -> Self {
        NameMap::default()
    }

    /// torchvision's ResNet names (`torchvision.models.resnet18` and kin) on a model that is a
    /// chain of layers: the first conv2d and batch norm before any residual block are `conv1`
    /// and `bn1`; residual blocks are `layerS.B`, a new stage `S` starting at the first block
    /// and at every later block with a projection shortcut (torchvision's `downsample`); in a
    /// block, the main branch's k-th conv2d and batch norm are `convk` and `bnk`, and shortcut
    /// layer `i` is `downsample.i`; the last dense layer is `fc`. Pooling and activations
    /// hold no tensors. Pairs given with [`NameMap::with`] take precedence.
    pub fn torchvision_resnet() -> Self {
        NameMap {
            torchvision_resnet: true,
            ..NameMap::default()
        }
    }

    /// The same map with PyTorch's module `pytorch` (e.g. `"classifier.1"`) filling the dlkit
    /// layer `dlkit` (e.g. `"7"`, `"4.main.0"`), replacing any pair for either name.
    pub fn with(mut self, pytorch: &str, dlkit: &str) -> Self {
        self.pairs.retain(|(p, d)| p != pytorch && d != dlkit);
        self.pairs.push((pytorch.to_string(), dlkit.to_string()));
        self
    }

    /// The same map saying that the dense layer `dlkit` follows a flatten of a map of shape
    /// `[h, w, c]` (NHWC, batch excluded), so that its weight's columns are permuted from
    /// PyTorch's `(c, h, w)` flatten order to dlkit's `(h, w, c)`.
    pub fn with_flatten_input(mut self, dlkit: &str, hwc: [usize; 3]) -> Self {
        self.flatten_inputs.insert(dlkit.to_string(), hwc);
        self
    }

    /// The dense layers given a flattened map's shape.
    pub(crate) fn flatten_inputs(&self) -> impl Iterator<Item = &str> {
        self.flatten_inputs.keys().map(String::as_str)
    }

    /// The flattened map's shape given for the dense layer `dlkit`.
    pub(crate) fn flatten_input(&self, dlkit: &str) -> Option<[usize; 3]> {
        self.flatten_inputs.get(dlkit).copied()
    }

    /// `pytorch_module -> dlkit_layer` for `model`: the built-in names, then the pairs.
    pub(crate) fn resolve(&self, model: &dyn Module) -> BTreeMap<String, String> {
        let mut pairs = if self.torchvision_resnet {
            torchvision_resnet_pairs(model)
        } else {
            Vec::new()
        };
        pairs.retain(|(p, d)| !self.pairs.iter().any(|(ep, ed)| ep == p || ed == d));
        pairs.extend(self.pairs.iter().cloned());
        pairs.into_iter().collect()
    }
}

/// The layers torchvision names, as `(pytorch_module, dlkit_layer)`.
fn torchvision_resnet_pairs(model: &dyn Module) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let (mut stem_conv, mut stem_bn) = (false, false);
    let (mut stage, mut block) = (0usize, 0usize);
    let mut fc = None;
    for (name, child) in model.children() {
        match child.spec() {
            Some(LayerSpec::Residual(spec)) => {
                if stage == 0 || !spec.shortcut.is_empty() {
                    (stage, block) = (stage + 1, 0);
                } else {
                    block += 1;
                }
                pairs.extend(block_pairs(&format!("layer{stage}.{block}"), &name, child));
            }
            Some(LayerSpec::Conv2d(_)) if stage == 0 && !stem_conv => {
                stem_conv = true;
                pairs.push(("conv1".to_string(), name));
            }
            Some(LayerSpec::BatchNorm(_)) if stage == 0 && !stem_bn => {
                stem_bn = true;
                pairs.push(("bn1".to_string(), name));
            }
            Some(LayerSpec::Dense(_)) => fc = Some(name),
            _ => {}
        }
    }
    pairs.extend(fc.map(|name| ("fc".to_string(), name)));
    pairs
}

/// torchvision's names in one residual block `tv` (`layer2.0`) at the model's layer `name`.
fn block_pairs(tv: &str, name: &str, block: &dyn Module) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (branch, chain) in block.children() {
        let (mut convs, mut bns) = (0, 0);
        for (i, layer) in chain.children() {
            let dlkit = format!("{name}.{branch}.{i}");
            let pytorch = match (branch.as_str(), layer.spec()) {
                ("shortcut", _) => format!("{tv}.downsample.{i}"),
                (_, Some(LayerSpec::Conv2d(_))) => {
                    convs += 1;
                    format!("{tv}.conv{convs}")
                }
                (_, Some(LayerSpec::BatchNorm(_))) => {
                    bns += 1;
                    format!("{tv}.bn{bns}")
                }
                _ => continue,
            };
            pairs.push((pytorch, dlkit));
        }
    }
    pairs
}
