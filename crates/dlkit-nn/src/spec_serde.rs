//! [`LayerSpec`] through serde. Built-in layers go through a private mirror enum whose
//! field-less layers are empty struct variants, so that serde itself rejects unknown fields
//! of every layer (serde ignores them for unit variants of an internally tagged enum); the
//! JSON and TOML written are those of the unit variants (`{ "type": "relu" }`). A type that
//! is no built-in but is registered ([`crate::register_layer`]) becomes
//! [`LayerSpec::Custom`].

use crate::layers::{batch_norm::BatchNormSpec, dense::DenseSpec, dropout::DropoutSpec};
use crate::layers::{conv2d::Conv2dSpec, global_avg_pool::GlobalAvgPoolSpec, pool::Pool2dSpec};
use crate::layers::{graph::GraphSpec, inception::InceptionSpec, residual::ResidualSpec};
use crate::registry;
use crate::spec::{default_slope, is_trainable, trainable, LayerSpec};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The built-in layers as serde sees them.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Builtin {
    Dense(DenseSpec),
    Dropout(DropoutSpec),
    BatchNorm(BatchNormSpec),
    Sigmoid {},
    Tanh {},
    Relu {},
    LeakyRelu {
        #[serde(default = "default_slope")]
        slope: f64,
    },
    Softmax {},
    Flatten {},
    Sequential {
        layers: Vec<LayerSpec>,
        #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
        trainable: bool,
    },
    Conv2d(Conv2dSpec),
    MaxPool2d(Pool2dSpec),
    AvgPool2d(Pool2dSpec),
    GlobalAvgPool(GlobalAvgPoolSpec),
    Residual(ResidualSpec),
    Inception(InceptionSpec),
    Graph(GraphSpec),
}

impl From<Builtin> for LayerSpec {
    fn from(b: Builtin) -> LayerSpec {
        match b {
            Builtin::Dense(s) => LayerSpec::Dense(s),
            Builtin::Dropout(s) => LayerSpec::Dropout(s),
            Builtin::BatchNorm(s) => LayerSpec::BatchNorm(s),
            Builtin::Sigmoid {} => LayerSpec::Sigmoid,
            Builtin::Tanh {} => LayerSpec::Tanh,
            Builtin::Relu {} => LayerSpec::Relu,
            Builtin::LeakyRelu { slope } => LayerSpec::LeakyRelu { slope },
            Builtin::Softmax {} => LayerSpec::Softmax,
            Builtin::Flatten {} => LayerSpec::Flatten,
            Builtin::Sequential { layers, trainable } => {
                LayerSpec::Sequential { layers, trainable }
            }
            Builtin::Conv2d(s) => LayerSpec::Conv2d(s),
            Builtin::MaxPool2d(s) => LayerSpec::MaxPool2d(s),
            Builtin::AvgPool2d(s) => LayerSpec::AvgPool2d(s),
            Builtin::GlobalAvgPool(s) => LayerSpec::GlobalAvgPool(s),
            Builtin::Residual(s) => LayerSpec::Residual(s),
            Builtin::Inception(s) => LayerSpec::Inception(s),
            Builtin::Graph(s) => LayerSpec::Graph(s),
        }
    }
}

impl Serialize for LayerSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let builtin = match self.clone() {
            LayerSpec::Custom(c) => return c.serialize(s),
            LayerSpec::Dense(s) => Builtin::Dense(s),
            LayerSpec::Dropout(s) => Builtin::Dropout(s),
            LayerSpec::BatchNorm(s) => Builtin::BatchNorm(s),
            LayerSpec::Sigmoid => Builtin::Sigmoid {},
            LayerSpec::Tanh => Builtin::Tanh {},
            LayerSpec::Relu => Builtin::Relu {},
            LayerSpec::LeakyRelu { slope } => Builtin::LeakyRelu { slope },
            LayerSpec::Softmax => Builtin::Softmax {},
            LayerSpec::Flatten => Builtin::Flatten {},
            LayerSpec::Sequential { layers, trainable } => {
                Builtin::Sequential { layers, trainable }
            }
            LayerSpec::Conv2d(s) => Builtin::Conv2d(s),
            LayerSpec::MaxPool2d(s) => Builtin::MaxPool2d(s),
            LayerSpec::AvgPool2d(s) => Builtin::AvgPool2d(s),
            LayerSpec::GlobalAvgPool(s) => Builtin::GlobalAvgPool(s),
            LayerSpec::Residual(s) => Builtin::Residual(s),
            LayerSpec::Inception(s) => Builtin::Inception(s),
            LayerSpec::Graph(s) => Builtin::Graph(s),
        };
        builtin.serialize(s)
    }
}

impl<'de> Deserialize<'de> for LayerSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LayerSpec, D::Error> {
        let value = Value::deserialize(d)?;
        if let Some(ty) = value.get("type").and_then(Value::as_str) {
            if registry::is_registered(ty) {
                return registry::parse(value).map_err(D::Error::custom);
            }
        }
        Builtin::deserialize(value)
            .map(LayerSpec::from)
            .map_err(D::Error::custom)
    }
}

/// Whether `ty` names a built-in layer.
pub(crate) fn is_builtin(ty: &str) -> bool {
    let e = Builtin::deserialize(serde_json::json!({ "type": ty })).err();
    !e.is_some_and(|e| {
        e.to_string()
            .starts_with(&format!("unknown variant `{ty}`"))
    })
}
