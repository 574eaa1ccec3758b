//! The registry of layer types defined outside dlkit-nn, as Keras's custom objects: a spec type
//! implementing [`CustomLayer`] is registered once under its type name
//! ([`register_layer`]); from then on `{ "type": NAME, ... }` in a model description or a
//! config (`{ type = "NAME", ... }`) reads as [`LayerSpec::Custom`], builds, saves and loads
//! like a built-in layer.

use crate::error::{Error, Result};
use crate::spec::{BuildContext, Built, LayerSpec};
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

/// The spec of a layer type defined outside dlkit-nn: plain data through serde (put
/// `#[serde(deny_unknown_fields)]` on it so that misspelt fields are errors) that builds the
/// layer for an input shape. The layer's [`Module::spec`](crate::Module::spec) returns
/// [`LayerSpec::custom`] of it, so that the model saves.
pub trait CustomLayer: Serialize + DeserializeOwned + 'static {
    /// The type name written in descriptions and configs (`"scale_shift"`).
    const TYPE: &'static str;

    /// Builds the layer for inputs of shape `input` (one example, batch axis excluded),
    /// giving it and its output shape.
    fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built>;

    /// The forward FLOPs of one example of shape `input`, which the layer maps to `output`,
    /// counted as [`Tally`](crate::Tally) says (2 per multiply-add). 0 unless the type says
    /// otherwise: model summaries then count nothing for it.
    fn flops(&self, _input: &[usize], _output: &[usize]) -> u64 {
        0
    }
}

/// A registered layer as data: its type name and its fields (without `type`), as the spec
/// type serialises them.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomSpec {
    pub type_name: String,
    pub fields: Map<String, Value>,
}

impl Serialize for CustomSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len() + 1))?;
        map.serialize_entry("type", &self.type_name)?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Reads a registered type's fields as its spec type and writes them again.
type Normalize = fn(Map<String, Value>) -> std::result::Result<Map<String, Value>, String>;
/// Builds a registered type's layer from its fields.
type Build = fn(&Map<String, Value>, &mut BuildContext, &[usize]) -> Result<Built>;
/// A registered type's forward FLOPs from its fields, input and output shapes.
type Flops = fn(&Map<String, Value>, &[usize], &[usize]) -> Result<u64>;

struct Entry {
    type_id: TypeId,
    rust_name: &'static str,
    /// The fields read as the spec type and written again (defaults filled in).
    normalize: Normalize,
    build: Build,
    flops: Flops,
}

static REGISTRY: LazyLock<RwLock<HashMap<&'static str, Entry>>> = LazyLock::new(Default::default);

/// Registers the layer type `S` under [`CustomLayer::TYPE`]. Registering the same type again
/// does nothing; a name that is a built-in layer's, or another type's, is an error naming
/// both.
pub fn register_layer<S: CustomLayer>() -> Result<()> {
    let name = S::TYPE;
    let rust_name = std::any::type_name::<S>();
    if crate::spec_serde::is_builtin(name) {
        return Err(Error::Config(format!(
            "cannot register {rust_name} as layer type `{name}`: that is a built-in layer type"
        )));
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = registry.get(name) {
        if e.type_id == TypeId::of::<S>() {
            return Ok(());
        }
        return Err(Error::Config(format!(
            "cannot register {rust_name} as layer type `{name}`: {} is registered under that name",
            e.rust_name
        )));
    }
    registry.insert(
        name,
        Entry {
            type_id: TypeId::of::<S>(),
            rust_name,
            normalize: normalize::<S>,
            build: build::<S>,
            flops: flops::<S>,
        },
    );
    Ok(())
}

fn read<S: CustomLayer>(fields: &Map<String, Value>) -> std::result::Result<S, String> {
    S::deserialize(Value::Object(fields.clone())).map_err(|e| e.to_string())
}

fn to_fields<S: CustomLayer>(spec: &S) -> std::result::Result<Map<String, Value>, String> {
    match serde_json::to_value(spec).map_err(|e| e.to_string())? {
        Value::Object(fields) => Ok(fields),
        other => Err(format!(
            "layer type `{}` serialises as {other}, expected an object of fields",
            S::TYPE
        )),
    }
}

fn normalize<S: CustomLayer>(
    fields: Map<String, Value>,
) -> std::result::Result<Map<String, Value>, String> {
    to_fields(&read::<S>(&fields)?)
}

fn build<S: CustomLayer>(
    fields: &Map<String, Value>,
    ctx: &mut BuildContext,
    input: &[usize],
) -> Result<Built> {
    read::<S>(fields)
        .map_err(|e| Error::Build(format!("{}: {e}", S::TYPE)))?
        .build(ctx, input)
}

fn flops<S: CustomLayer>(
    fields: &Map<String, Value>,
    input: &[usize],
    output: &[usize],
) -> Result<u64> {
    let spec = read::<S>(fields).map_err(|e| Error::Build(format!("{}: {e}", S::TYPE)))?;
    Ok(spec.flops(input, output))
}

pub(crate) fn is_registered(ty: &str) -> bool {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(ty)
}

/// `{ "type": NAME, ... }` of a registered type as [`LayerSpec::Custom`], its fields checked
/// by the spec type.
pub(crate) fn parse(value: Value) -> std::result::Result<LayerSpec, String> {
    let Value::Object(mut fields) = value else {
        return Err("a layer is an object".to_string());
    };
    let Some(Value::String(type_name)) = fields.remove("type") else {
        return Err("a layer needs a `type` field".to_string());
    };
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let entry = registry
        .get(type_name.as_str())
        .ok_or_else(|| not_registered(&type_name))?;
    let fields = (entry.normalize)(fields)?;
    Ok(LayerSpec::Custom(CustomSpec { type_name, fields }))
}

/// Builds a [`LayerSpec::Custom`] through its registered type.
pub(crate) fn build_custom(
    spec: &CustomSpec,
    ctx: &mut BuildContext,
    input: &[usize],
) -> Result<Built> {
    let build = REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(spec.type_name.as_str())
        .map(|e| e.build)
        .ok_or_else(|| Error::Build(not_registered(&spec.type_name)))?;
    build(&spec.fields, ctx, input)
}

/// The forward FLOPs of a [`LayerSpec::Custom`] through its registered type.
pub(crate) fn custom_flops(spec: &CustomSpec, input: &[usize], output: &[usize]) -> Result<u64> {
    let flops = REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(spec.type_name.as_str())
        .map(|e| e.flops)
        .ok_or_else(|| Error::Build(not_registered(&spec.type_name)))?;
    flops(&spec.fields, input, output)
}

fn not_registered(ty: &str) -> String {
    format!(
        "layer type `{ty}` is not registered: call dlkit_nn::register_layer::<Spec>() for its \
         spec type before building or loading"
    )
}

impl LayerSpec {
    /// The description of a registered layer type's spec, for its module's
    /// [`Module::spec`](crate::Module::spec). Fails when `S` is not registered, or when it
    /// does not serialise as an object of fields.
    pub fn custom<S: CustomLayer>(spec: &S) -> Result<LayerSpec> {
        if !is_registered(S::TYPE) {
            return Err(Error::Build(not_registered(S::TYPE)));
        }
        let fields = to_fields(spec).map_err(Error::Build)?;
        Ok(LayerSpec::Custom(CustomSpec {
            type_name: S::TYPE.to_string(),
            fields,
        }))
    }
}
