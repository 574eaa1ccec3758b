//! Weights that PyTorch saved (`safetensors.torch.save_file(model.state_dict(), path)`)
//! loaded into a dlkit model through a [`NameMap`].
//!
//! Each tensor `module.name` of the file goes to the dlkit layer the map gives for `module`,
//! its name and layout translated by the kind of that layer:
//!
//! | PyTorch                          | dlkit                               | layout                       |
//! | -------------------------------- | ----------------------------------- | ---------------------------- |
//! | `Conv2d.weight` `[o, i, kh, kw]` | `conv2d.weight` `[kh, kw, i, o]`    | OIHW to HWIO                 |
//! | `Linear.weight` `[out, in]`      | `dense.weight` `[out, in]`          | as is (columns see below)    |
//! | `*.bias`                         | `*.bias`                            | as is                        |
//! | `BatchNorm*.weight`, `.bias`     | `batch_norm.gamma`, `.beta`         | as is                        |
//! | `running_mean`, `running_var`    | `running_mean`, `running_var`       | as is                        |
//! | `num_batches_tracked`            | (ignored)                           |                              |
//!
//! PyTorch flattens an NCHW map in the order `(c, h, w)`, dlkit an NHWC one as `(h, w, c)`.
//! A dense layer after a global average pooling (or after a flatten of one) takes the same
//! columns in both; one after a flatten of a spatial map needs its columns permuted,
//! `w_dlkit[r, (y·W + x)·C + c] = w_torch[r, c·H·W + y·W + x]`, which needs the map's shape:
//! [`NameMap::with_flatten_input`] gives it (and is applied to any dense layer it names), and
//! without it such a layer is an error.
//!
//! Every parameter and buffer of the model must receive exactly one tensor, with the shape
//! the layout gives, and every tensor of the file must go somewhere (`num_batches_tracked`
//! aside); otherwise nothing is copied and the error lists every problem: unmapped and
//! missing names, wrong shapes, dtypes other than F32 and F64. F32 and F64 tensors are
//! converted to the model's dtype, as PyTorch's `load_state_dict` casts. Batch norm's `eps`
//! is not in a state dict: dlkit's default, 1e-5, is PyTorch's.

use super::codec::parse_safetensors;
use super::paths::read_file;
use super::torch_map::NameMap;
use crate::error::{Error, Result};
use crate::module::Module;
use crate::spec::LayerSpec;
use dlkit_core::{DType, Tensor};
use safetensors::tensor::TensorView;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

/// How a tensor's values were rearranged on the way in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Copied in order.
    Same,
    /// A convolution's filters, PyTorch's `[o, i, kh, kw]` to dlkit's `[kh, kw, i, o]`.
    OihwToHwio,
    /// A dense weight's columns, from PyTorch's `(c, h, w)` flatten order to dlkit's
    /// `(h, w, c)`.
    FlattenChwToHwc { h: usize, w: usize, c: usize },
}

/// One tensor loaded: its name in the file and in the model, its shape in the model, and how
/// its values were rearranged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedTensor {
    pub torch_name: String,
    pub dlkit_name: String,
    pub shape: Vec<usize>,
    pub layout: Layout,
}

/// What [`load_torch_state_dict`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TorchLoadReport {
    /// Every tensor of the model, in the model's order.
    pub loaded: Vec<LoadedTensor>,
    /// The file's tensors that carry nothing dlkit keeps (`num_batches_tracked`).
    pub ignored: Vec<String>,
}

impl fmt::Display for TorchLoadReport {
    /// `loaded 12 tensors (1234 values; 3 convolutions OIHW to HWIO, 0 dense columns
    /// permuted), ignored 2 (num_batches_tracked)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: usize = self
            .loaded
            .iter()
            .map(|t| t.shape.iter().product::<usize>())
            .sum();
        let count =
            |pred: fn(&Layout) -> bool| self.loaded.iter().filter(|t| pred(&t.layout)).count();
        write!(
            f,
            "loaded {} tensors ({values} values; {} convolutions OIHW to HWIO, {} dense columns \
             permuted), ignored {} (num_batches_tracked)",
            self.loaded.len(),
            count(|l| *l == Layout::OihwToHwio),
            count(|l| matches!(l, Layout::FlattenChwToHwc { .. })),
            self.ignored.len()
        )
    }
}

/// Loads a PyTorch state dict saved as safetensors into `model`, the names translated by
/// `map` and the layouts as the [module documentation](self) says. Nothing is copied unless
/// every tensor checks out; the error names the file and lists every problem.
///
/// ```no_run
/// use dlkit_nn::io::{load_torch_state_dict, NameMap};
/// # fn run(model: &dyn dlkit_nn::Module) -> dlkit_nn::Result<()> {
/// let report = load_torch_state_dict(model, "resnet.safetensors", &NameMap::torchvision_resnet())?;
/// println!("{report}");
/// # Ok(())
/// # }
/// ```
pub fn load_torch_state_dict(
    model: &dyn Module,
    path: impl AsRef<Path>,
    map: &NameMap,
) -> Result<TorchLoadReport> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let file = parse_safetensors(&bytes, path)?;
    let layers = tensor_layers(model);
    let names = map.resolve(model);

    let mut problems: Vec<String> = map
        .flatten_inputs()
        .filter(|name| layers.get(*name).is_none_or(|l| l.kind != Kind::Dense))
        .map(|name| {
            format!("NameMap::with_flatten_input names `{name}`, not a dense layer of the model")
        })
        .collect();
    let mut unmapped = Vec::new();
    let mut ignored = Vec::new();
    // dlkit tensor name -> (PyTorch name, its view).
    let mut sources: BTreeMap<String, (String, TensorView<'_>)> = BTreeMap::new();
    let mut file_tensors = file.tensors();
    file_tensors.sort_by(|a, b| a.0.cmp(&b.0));
    for (tname, view) in file_tensors {
        let (module, own) = tname.rsplit_once('.').unwrap_or(("", tname.as_str()));
        if own == "num_batches_tracked" {
            ignored.push(tname);
            continue;
        }
        let Some(dlkit) = names.get(module) else {
            unmapped.push(format!("`{tname}`"));
            continue;
        };
        let Some(layer) = layers.get(dlkit.as_str()) else {
            unmapped.push(format!(
                "`{tname}` (to layer `{dlkit}`, which holds no tensors in the model)"
            ));
            continue;
        };
        let own = match (layer.kind, own) {
            (Kind::BatchNorm, "weight") => "gamma",
            (Kind::BatchNorm, "bias") => "beta",
            _ => own,
        };
        let dname = format!("{}.{own}", layer.prefix);
        if !layer.tensors.iter().any(|(n, _)| n == own) {
            unmapped.push(format!("`{tname}` (to `{dname}`, which the model lacks)"));
            continue;
        }
        if let Some((first, _)) = sources.get(&dname) {
            problems.push(format!(
                "tensor `{dname}` of the model is set twice, from `{first}` and `{tname}`"
            ));
            continue;
        }
        sources.insert(dname, (tname, view));
    }
    if !unmapped.is_empty() {
        problems.push(format!(
            "tensors of the file that map to no tensor of the model ({}): {}",
            unmapped.len(),
            unmapped.join(", ")
        ));
    }

    // Back from dlkit layer names to PyTorch module names, for the missing ones.
    let pytorch_of: HashMap<&str, &str> = names
        .iter()
        .map(|(p, d)| (d.as_str(), p.as_str()))
        .collect();
    let mut missing = Vec::new();
    let mut plan = Vec::new();
    let mut in_order: Vec<&TensorLayer> = layers.values().collect();
    in_order.sort_by_key(|l| l.index);
    for layer in in_order {
        for (own, tensor) in &layer.tensors {
            let dname = format!("{}.{own}", layer.prefix);
            let Some((tname, view)) = sources.get(&dname) else {
                missing.push(match pytorch_of.get(layer.prefix.as_str()) {
                    Some(module) => {
                        format!("`{dname}` (from `{module}.{}`)", torch_own(layer.kind, own))
                    }
                    None => format!("`{dname}` (no PyTorch module maps to `{}`)", layer.prefix),
                });
                continue;
            };
            match check(layer, own, tensor, tname, view, map) {
                Ok(layout) => plan.push((
                    tensor,
                    view,
                    LoadedTensor {
                        torch_name: tname.clone(),
                        dlkit_name: dname,
                        shape: tensor.shape().to_vec(),
                        layout,
                    },
                )),
                Err(p) => problems.push(p),
            }
        }
    }
    if !missing.is_empty() {
        problems.push(format!(
            "tensors of the model that get no value from the file ({}): {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(Error::file(
            path,
            format!(
                "the PyTorch weights do not fit the model ({} problem{}): {}",
                problems.len(),
                plural(problems.len()),
                problems.join("; ")
            ),
        ));
    }

    // Every check has passed: from here on nothing fails.
    let mut report = TorchLoadReport {
        loaded: Vec::new(),
        ignored,
    };
    for (tensor, view, loaded) in plan {
        let values = arrange(&values_of(view), view.shape(), loaded.layout);
        match tensor.dtype() {
            DType::F32 => tensor.update::<f32>(|dst| {
                dst.iter_mut()
                    .zip(&values)
                    .for_each(|(d, v)| *d = *v as f32)
            }),
            DType::F64 => tensor.update::<f64>(|dst| dst.copy_from_slice(&values)),
        }
        report.loaded.push(loaded);
    }
    Ok(report)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// What a layer holding tensors is, for the names and layouts of its tensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Conv,
    BatchNorm,
    Dense,
    Other,
}

/// How a dense layer's input was made, for the order of its weight's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DenseInput {
    /// Flat in both frameworks (no flatten of a spatial map before it).
    Flat,
    /// A flatten of a map whose shape the model does not tell.
    FlattenedMap,
}

/// A module that holds tensors itself, under its name in the model.
struct TensorLayer {
    prefix: String,
    /// Its position in the model's walk.
    index: usize,
    kind: Kind,
    input: DenseInput,
    tensors: Vec<(String, Tensor)>,
}

/// Every module of `model` that holds tensors, by name.
fn tensor_layers(model: &dyn Module) -> BTreeMap<String, TensorLayer> {
    let mut out = BTreeMap::new();
    collect(model, "", DenseInput::Flat, &mut out);
    out
}

fn collect(
    module: &dyn Module,
    prefix: &str,
    input: DenseInput,
    out: &mut BTreeMap<String, TensorLayer>,
) {
    let own: Vec<(String, Tensor)> = module
        .own_parameters()
        .into_iter()
        .map(|p| (p.name, p.tensor))
        .chain(module.own_buffers())
        .collect();
    if !own.is_empty() {
        let kind = match module.spec() {
            Some(LayerSpec::Conv2d(_)) => Kind::Conv,
            Some(LayerSpec::BatchNorm(_)) => Kind::BatchNorm,
            Some(LayerSpec::Dense(_)) => Kind::Dense,
            _ => Kind::Other,
        };
        let index = out.len();
        out.insert(
            prefix.to_string(),
            TensorLayer {
                prefix: prefix.to_string(),
                index,
                kind,
                input,
                tensors: own,
            },
        );
    }
    let children = module.children();
    let specs: Vec<Option<LayerSpec>> = children.iter().map(|(_, c)| c.spec()).collect();
    for (i, (name, child)) in children.iter().enumerate() {
        let child_prefix = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        collect(*child, &child_prefix, dense_input(&specs[..i]), out);
    }
}

/// The input of a layer that follows the siblings `before`: a flattened map when the last
/// layer holding or shaping values is a flatten whose own input is not already flat (after a
/// global average pooling or a dense layer).
fn dense_input(before: &[Option<LayerSpec>]) -> DenseInput {
    let shaping = |s: &&Option<LayerSpec>| !matches!(s, Some(spec) if spec.activation().is_some() || matches!(spec, LayerSpec::Dropout(_)));
    let mut back = before.iter().rev().filter(shaping);
    match back.next() {
        Some(Some(LayerSpec::Flatten)) => match back.next() {
            Some(Some(LayerSpec::GlobalAvgPool(_) | LayerSpec::Dense(_))) => DenseInput::Flat,
            _ => DenseInput::FlattenedMap,
        },
        _ => DenseInput::Flat,
    }
}

/// PyTorch's name for the tensor `own` of a layer of `kind`.
fn torch_own(kind: Kind, own: &str) -> &str {
    match (kind, own) {
        (Kind::BatchNorm, "gamma") => "weight",
        (Kind::BatchNorm, "beta") => "bias",
        _ => own,
    }
}

/// Checks the file's tensor `tname` for the model's tensor `own` of `layer`: its dtype, its
/// shape in PyTorch's layout; gives the layout to copy it with, or the problem.
fn check(
    layer: &TensorLayer,
    own: &str,
    tensor: &Tensor,
    tname: &str,
    view: &TensorView<'_>,
    map: &NameMap,
) -> std::result::Result<Layout, String> {
    let dname = format!("{}.{own}", layer.prefix);
    let dtype = view.dtype();
    if !matches!(dtype, safetensors::Dtype::F32 | safetensors::Dtype::F64) {
        return Err(format!(
            "tensor `{tname}` (dlkit `{dname}`) has dtype {dtype:?}, but only F32 and F64 load \
             (save `model.float().state_dict()`)"
        ));
    }
    let shape = tensor.shape();
    let (expected, layout, note) = match (layer.kind, own, shape) {
        (Kind::Conv, "weight", &[kh, kw, i, o]) => (
            vec![o, i, kh, kw],
            Layout::OihwToHwio,
            format!(" (OIHW of dlkit's HWIO {shape:?})"),
        ),
        (Kind::Dense, "weight", &[_, n]) => match map.flatten_input(&layer.prefix) {
            None if layer.input == DenseInput::Flat => {
                (shape.to_vec(), Layout::Same, String::new())
            }
            None => {
                return Err(format!(
                    "tensor `{tname}` (dlkit `{dname}`): dense `{}` follows a flatten of a map \
                     whose shape the model does not tell; PyTorch flattens NCHW as (c, h, w) \
                     and dlkit NHWC as (h, w, c), so its columns must be permuted: give the \
                     map's shape with NameMap::with_flatten_input(\"{}\", [h, w, c])",
                    layer.prefix, layer.prefix
                ))
            }
            Some([h, w, c]) if h * w * c != n => {
                return Err(format!(
                    "tensor `{tname}` (dlkit `{dname}`): the flattened map [{h}, {w}, {c}] \
                     given for dense `{}` holds {} values but the layer takes {n} inputs",
                    layer.prefix,
                    h * w * c
                ))
            }
            Some([h, w, c]) => (
                shape.to_vec(),
                Layout::FlattenChwToHwc { h, w, c },
                String::new(),
            ),
        },
        _ => (shape.to_vec(), Layout::Same, String::new()),
    };
    if view.shape() != expected.as_slice() {
        return Err(format!(
            "tensor `{tname}` (dlkit `{dname}`): expected shape {expected:?}{note} but the file \
             has {:?}",
            view.shape()
        ));
    }
    Ok(layout)
}

/// The values of an F32 or F64 view (checked before), little endian, as f64.
fn values_of(view: &TensorView<'_>) -> Vec<f64> {
    let data = view.data();
    match view.dtype() {
        safetensors::Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64)
            .collect(),
        _ => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
    }
}

/// PyTorch's row-major values of shape `shape` in dlkit's order for `layout`.
fn arrange(src: &[f64], shape: &[usize], layout: Layout) -> Vec<f64> {
    match layout {
        Layout::Same => src.to_vec(),
        Layout::OihwToHwio => {
            let &[o, i, kh, kw] = shape else {
                unreachable!("checked: a convolution's weight is [o, i, kh, kw]")
            };
            let mut dst = vec![0.0; src.len()];
            for oc in 0..o {
                for ic in 0..i {
                    for u in 0..kh {
                        for v in 0..kw {
                            dst[((u * kw + v) * i + ic) * o + oc] =
                                src[((oc * i + ic) * kh + u) * kw + v];
                        }
                    }
                }
            }
            dst
        }
        Layout::FlattenChwToHwc { h, w, c } => {
            let n = h * w * c;
            let mut dst = vec![0.0; src.len()];
            for (row_dst, row_src) in dst.chunks_exact_mut(n).zip(src.chunks_exact(n)) {
                for y in 0..h {
                    for x in 0..w {
                        for ch in 0..c {
                            row_dst[(y * w + x) * c + ch] = row_src[ch * h * w + y * w + x];
                        }
                    }
                }
            }
            dst
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oihw_becomes_hwio() {
        // o = 2, i = 1, kh = 1, kw = 2: src[o][0][0][v] = 10 o + v.
        let src = [0.0, 1.0, 10.0, 11.0];
        // dst[0][v][0][o].
        let dst = arrange(&src, &[2, 1, 1, 2], Layout::OihwToHwio);
        assert_eq!(dst, vec![0.0, 10.0, 1.0, 11.0]);
    }

    #[test]
    fn flattened_columns_go_from_chw_to_hwc() {
        // One row over h = 1, w = 2, c = 2: PyTorch's columns (c, w) = 00, 01, 10, 11.
        let src = [0.0, 1.0, 10.0, 11.0];
        let dst = arrange(&src, &[1, 4], Layout::FlattenChwToHwc { h: 1, w: 2, c: 2 });
        // dlkit's columns (w, c) = 00, 01, 10, 11 hold PyTorch's (c, w) = 00, 10, 01, 11.
        assert_eq!(dst, vec![0.0, 10.0, 1.0, 11.0]);
    }

    #[test]
    fn a_dense_after_a_global_pool_keeps_its_columns() {
        let gap = Some(LayerSpec::GlobalAvgPool(Default::default()));
        let flat = Some(LayerSpec::Flatten);
        let relu = Some(LayerSpec::Relu);
        assert_eq!(dense_input(std::slice::from_ref(&gap)), DenseInput::Flat);
        assert_eq!(dense_input(&[gap, flat.clone()]), DenseInput::Flat);
        assert_eq!(
            dense_input(&[None, flat.clone(), relu]),
            DenseInput::FlattenedMap
        );
        assert_eq!(dense_input(&[flat]), DenseInput::FlattenedMap);
    }
}
