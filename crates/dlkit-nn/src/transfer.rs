//! Transfer learning from a `[model]` table: the layers of the new model worked out from a
//! saved model's layers (`from`), the ones kept (`keep`), the new head (`layers`) and the
//! layers frozen (`freeze`), as Keras' `base_model.layers[:k]` + new layers with
//! `layer.trainable = False`. Reading the saved model is the caller's
//! ([`io::read_info`](crate::io::read_info), [`io::load_kept_layers`](crate::io::load_kept_layers)).

use std::fmt;

use crate::layer_selection::LayerSelection;
use crate::model_config::{layer_names, ModelConfig};
use crate::spec::LayerSpec;

/// The `freeze` value that freezes every kept layer (the default with `from`).
pub const FREEZE_KEPT: &str = "kept";

/// The layers of a model as its `[model]` table describes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Transfer {
    /// The new model's top-level layers: the kept layers of the saved model, then
    /// `[model] layers` (the head), each with `trainable` as `freeze` says.
    pub layers: Vec<LayerSpec>,
    /// The saved model's index of each kept layer: the new model's layer `j` is the saved
    /// model's layer `kept[j]`, for `j < kept.len()`.
    pub kept: Vec<usize>,
    /// The indices of the new model's frozen layers (those with parameters), ascending.
    pub frozen: Vec<usize>,
}

/// A `[model]` field that cannot be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// `"[model] keep"`, `"[model] freeze"`, ...
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

impl ModelConfig {
    /// The model's layers. Without `from` (`base` is `None`): `layers`, with the layers
    /// `freeze` selects frozen. With `from`, `base` is the saved model's layers: the new model
    /// is the layers `keep` selects (all by default, in their order, named as
    /// [`layer_names`] names the saved model's), then `layers`; `freeze` selects among the
    /// new model's layers (named afresh): by default `"kept"`, every kept layer; `[]`
    /// freezes nothing (fine-tuning).
    ///
    /// Frozen layers get `trainable = false`; kept layers not frozen get `trainable = true`
    /// (whatever the saved model said); a head layer not frozen keeps its own `trainable`.
    /// Layers without parameters have nothing to freeze and are left as they are; a custom
    /// layer has no `trainable` field and cannot be frozen here.
    pub fn transfer(&self, base: Option<&[LayerSpec]>) -> Result<Transfer, FieldError> {
        let kept: Vec<usize> = match (base, &self.keep) {
            (None, Some(_)) => {
                return Err(field_error(
                    "[model] keep",
                    "needs [model] from, the saved model whose layers are kept",
                ))
            }
            (None, None) => Vec::new(),
            (Some(base), None) => (0..base.len()).collect(),
            (Some(base), Some(keep)) => keep
                .resolve(&layer_names(base))
                .map_err(|e| field_error("[model] keep", format!("of the saved model: {e}")))?,
        };
        let mut layers: Vec<LayerSpec> = match base {
            Some(base) => kept.iter().map(|&i| base[i].clone()).collect(),
            None => Vec::new(),
        };
        layers.extend(self.layers.iter().cloned());
        let frozen = match &self.freeze {
            None if base.is_some() => (0..kept.len()).collect(),
            None => Vec::new(),
            Some(LayerSelection::Text(t)) if t == FREEZE_KEPT => (0..kept.len()).collect(),
            Some(sel) => sel.resolve(&layer_names(&layers)).map_err(|e| {
                field_error(
                    "[model] freeze",
                    format!("of the new model (the kept layers, then [model] layers): {e}"),
                )
            })?,
        };
        let mut frozen_with_parameters = Vec::new();
        for (j, spec) in layers.iter_mut().enumerate() {
            let freeze = frozen.binary_search(&j).is_ok();
            let kind = spec.kind().to_string();
            let custom = matches!(spec, LayerSpec::Custom(_));
            match spec.trainable_mut() {
                Some(t) if freeze => {
                    *t = false;
                    frozen_with_parameters.push(j);
                }
                Some(t) if j < kept.len() => *t = true,
                Some(_) => {}
                None if freeze && custom => {
                    return Err(field_error(
                        "[model] freeze",
                        format!(
                            "layer {j} ({kind}) is a custom layer, which has no trainable field: \
                             freeze it in code with Module::set_trainable"
                        ),
                    ))
                }
                None => {}
            }
        }
        Ok(Transfer {
            layers,
            kept,
            frozen: frozen_with_parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::conv2d::Conv2dSpec;
    use crate::layers::dense::DenseSpec;

    fn base() -> Vec<LayerSpec> {
        vec![
            LayerSpec::Conv2d(Conv2dSpec::new(8, 3)),
            LayerSpec::Relu,
            LayerSpec::Conv2d(Conv2dSpec::new(8, 3)),
            LayerSpec::Relu,
            LayerSpec::Flatten,
            LayerSpec::Dense(DenseSpec::new(10)),
            LayerSpec::Softmax,
        ]
    }

    fn config(extra: &str) -> ModelConfig {
        toml::from_str(&format!("from = \"runs/base\"\n{extra}")).unwrap()
    }

    fn trainable(t: &Transfer) -> Vec<bool> {
        t.layers.iter().map(LayerSpec::trainable).collect()
    }

    #[test]
    fn kept_layers_are_frozen_by_default_and_the_head_follows() {
        let c = config(
            "keep = \"..dense_1\"\n\
             layers = [{ type = \"dense\", units = 3 }, { type = \"softmax\" }]",
        );
        let t = c.transfer(Some(&base())).unwrap();
        assert_eq!(t.kept, [0, 1, 2, 3, 4]);
        assert_eq!(t.frozen, [0, 2]);
        assert_eq!(t.layers.len(), 7);
        assert_eq!(t.layers[5], LayerSpec::Dense(DenseSpec::new(3)));
        assert_eq!(trainable(&t), [false, true, false, true, true, true, true]);
    }

    #[test]
    fn freeze_selects_layers_of_the_new_model_and_an_empty_list_fine_tunes() {
        let mut frozen_base = base();
        *frozen_base[0].trainable_mut().unwrap() = false;
        let c = config("freeze = []");
        let t = c.transfer(Some(&frozen_base)).unwrap();
        assert_eq!(t.kept, (0..7).collect::<Vec<_>>());
        assert!(t.frozen.is_empty());
        assert!(trainable(&t).iter().all(|&on| on));

        let c = config(
            "keep = [\"conv2d_1\", \"relu_1\", 4]\nfreeze = \"..=conv2d_1\"\n\
             layers = [{ type = \"dense\", units = 2 }]",
        );
        let t = c.transfer(Some(&base())).unwrap();
        assert_eq!(t.kept, [0, 1, 4]);
        assert_eq!(t.frozen, [0]);
        let c =
            config("keep = 5\nfreeze = \"dense_1\"\nlayers = [{ type = \"dense\", units = 2 }]");
        let t = c.transfer(Some(&base())).unwrap();
        assert_eq!(t.frozen, [5]);
        assert_eq!(trainable(&t), [true, true, true, true, true, false]);
    }

    #[test]
    fn without_from_the_layers_are_unchanged_unless_frozen() {
        let c: ModelConfig = toml::from_str(
            "layers = [{ type = \"dense\", units = 3 }, { type = \"relu\" }, \
             { type = \"dense\", units = 1 }]",
        )
        .unwrap();
        let t = c.transfer(None).unwrap();
        assert_eq!(t.layers, c.layers);
        assert!(t.kept.is_empty() && t.frozen.is_empty());
        let c = ModelConfig {
            freeze: Some(LayerSelection::Count(2)),
            ..c
        };
        assert_eq!(c.transfer(None).unwrap().frozen, [0]);
        let c = ModelConfig {
            keep: Some(LayerSelection::Count(2)),
            ..c
        };
        assert_eq!(
            c.transfer(None).unwrap_err().to_string(),
            "[model] keep: needs [model] from, the saved model whose layers are kept"
        );
    }

    #[test]
    fn selections_that_fit_no_layer_name_the_field() {
        let e = config("keep = \"..conv2d_3\"")
            .transfer(Some(&base()))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "[model] keep: of the saved model: no layer named `conv2d_3` (the layers are 0 \
             conv2d_1, 1 relu_1, 2 conv2d_2, 3 relu_2, 4 flatten_1, 5 dense_1, 6 softmax_1)"
        );
        let e = config("keep = 2\nfreeze = [3]\nlayers = [{ type = \"flatten\" }]")
            .transfer(Some(&base()))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "[model] freeze: of the new model (the kept layers, then [model] layers): index 3 \
             is out of range: the model has 3 layers (the layers are 0 conv2d_1, 1 relu_1, 2 \
             flatten_1)"
        );
    }
}
