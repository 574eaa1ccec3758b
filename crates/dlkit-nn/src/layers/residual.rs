//! Residual blocks (He et al., 2016): `out = g(main(x) + shortcut(x))`, where `main` is a chain
//! of layers, `shortcut` the identity (no layers) or a projection (typically a 1x1 convolution
//! and batch norm that match the main branch's size and channels), and `g` an activation
//! applied after the addition (ReLU by default, as in ResNet; none on request).
//!
//! Both branches see the block's input; their outputs must have the same shape, which
//! building checks. The gradient of the addition reaches both branches unchanged, which is
//! what lets very deep networks train.
//!
//! In TOML:
//!
//! ```toml
//! [[layers]]
//! type = "residual"
//! main = [
//!   { type = "conv2d", filters = 16, kernel = 3, stride = 2, padding = "same", bias = false },
//!   { type = "batch_norm" },
//!   { type = "relu" },
//!   { type = "conv2d", filters = 16, kernel = 3, padding = "same", bias = false },
//!   { type = "batch_norm" },
//! ]
//! shortcut = [
//!   { type = "conv2d", filters = 16, kernel = 1, stride = 2, bias = false },
//!   { type = "batch_norm" },
//! ]
//! activation = "relu"   # the default; "none", or { type = "leaky_relu", slope = 0.1 }
//! ```
//!
//! Parameters and buffers are named `main.{i}.…` and `shortcut.{i}.…` after the layer's index
//! in its branch.

use crate::error::{Error, Result};
use crate::layers::activation::Activation;
use crate::layers::batch_norm::BatchNormSpec;
use crate::layers::conv2d::{Conv2dSpec, PaddingSpec};
use crate::layers::sequential::Sequential;
use crate::module::Module;
use crate::shape::{Shaped, Step};
use crate::spec::{is_trainable, trainable, BuildContext, Built, LayerSpec};
use dlkit_core::Tensor;
use serde::{Deserialize, Serialize};

/// `{ type = "residual", main = [...], shortcut = [...], activation = "relu" }`; `shortcut`
/// absent or empty is the identity, `activation` defaults to ReLU (`"none"`: no activation);
/// `trainable = false` freezes both branches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidualSpec {
    /// The main branch, applied to the block's input.
    pub main: Vec<LayerSpec>,
    /// The shortcut branch; empty: the identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortcut: Vec<LayerSpec>,
    /// Applied to the sum of the branches.
    #[serde(default = "default_activation", with = "activation_serde")]
    pub activation: Option<Activation>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

fn default_activation() -> Option<Activation> {
    Some(Activation::Relu)
}

impl ResidualSpec {
    /// A block with an identity shortcut and a ReLU after the addition.
    pub fn new(main: Vec<LayerSpec>) -> Self {
        ResidualSpec {
            main,
            shortcut: Vec::new(),
            activation: default_activation(),
            trainable: true,
        }
    }

    pub fn with_shortcut(mut self, shortcut: Vec<LayerSpec>) -> Self {
        self.shortcut = shortcut;
        self
    }

    pub fn with_activation(mut self, activation: Option<Activation>) -> Self {
        self.activation = activation;
        self
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let ([main, shortcut], out) = self.walk(ctx, input)?;
        let (main, shortcut) = (
            Sequential::from_modules(main),
            Sequential::from_modules(shortcut),
        );
        let block = Residual::new(main, shortcut, self.activation);
        Ok((Box::new(block), out))
    }

    /// Takes `step` through the main branch, then the shortcut, both on the block's `input`,
    /// and checks that they output one shape. Returns what each branch's layers became and
    /// the block's output shape.
    pub(crate) fn walk<S: Step>(
        &self,
        step: &mut S,
        input: &[usize],
    ) -> Shaped<[Vec<S::Layer>; 2]> {
        if self.main.is_empty() {
            return Err(Error::build(
                "residual needs at least one layer in its main branch",
            ));
        }
        let mut branch = |name: &str, specs: &[LayerSpec]| {
            Sequential::walk(specs, step, input).map_err(|e| match e {
                Error::Build(m) => Error::build(format!("residual {name}: {m}")),
                other => other,
            })
        };
        let (main, main_out) = branch("main branch", &self.main)?;
        let (shortcut, short_out) = branch("shortcut", &self.shortcut)?;
        if main_out != short_out {
            let what = if self.shortcut.is_empty() {
                "the identity shortcut outputs its input"
            } else {
                "the shortcut outputs"
            };
            return Err(Error::build(format!(
                "residual: the main branch outputs {main_out:?} but {what} {short_out:?}; {}",
                shortcut_hint(input, &main_out)
            )));
        }
        Ok(([main, shortcut], main_out))
    }
}

/// What would make the shortcut output `main_out` from the block's `input`.
fn shortcut_hint(input: &[usize], main_out: &[usize]) -> String {
    match (input, main_out) {
        (&[h, w, _], &[oh, ow, c]) if oh > 0 && ow > 0 => {
            let (sh, sw) = (h.div_ceil(oh).max(1), w.div_ceil(ow).max(1));
            if h.div_ceil(sh) != oh || w.div_ceil(sw) != ow {
                return format!(
                    "no strided 1x1 conv2d turns {h}x{w} into {oh}x{ow}: make the main branch \
                     keep the size (padding = \"same\") or halve it (stride 2)"
                );
            }
            let stride = if sh == sw {
                sh.to_string()
            } else {
                format!("[{sh}, {sw}]")
            };
            format!(
                "use a 1x1 conv2d with {c} filters and stride {stride} as the shortcut (as \
                 Residual::projection_block does)"
            )
        }
        (&[_], &[n]) => format!("use a dense layer with {n} units as the shortcut"),
        _ => "the two branches must output the same shape".to_string(),
    }
}

/// Serde for the activation after the addition: `"relu"`, `"none"` (or null), or a layer
/// table such as `{ type = "leaky_relu", slope = 0.1 }`.
mod activation_serde {
    use crate::layers::activation::Activation;
    use crate::spec::LayerSpec;
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(a: &Option<Activation>, s: S) -> Result<S::Ok, S::Error> {
        match a {
            None => s.serialize_str("none"),
            Some(a @ Activation::LeakyRelu { .. }) => a.layer_spec().serialize(s),
            Some(a) => s.serialize_str(a.layer_spec().kind()),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Activation>, D::Error> {
        d.deserialize_any(V)
    }

    fn not_activation<E: de::Error>(name: &str) -> E {
        E::custom(format!(
            "residual: activation must be \"none\" or an activation (relu, tanh, sigmoid, \
             leaky_relu, softmax), got `{name}`"
        ))
    }

    fn activation<E: de::Error>(spec: LayerSpec) -> Result<Option<Activation>, E> {
        spec.activation()
            .map(Some)
            .ok_or_else(|| not_activation(spec.kind()))
    }

    struct V;

    impl<'de> Visitor<'de> for V {
        type Value = Option<Activation>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(
                "an activation name (\"relu\", \"tanh\", ...), \"none\", or a table such as \
                 { type = \"leaky_relu\", slope = 0.1 }",
            )
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if v == "none" {
                return Ok(None);
            }
            let table = std::iter::once(("type", v));
            match LayerSpec::deserialize(de::value::MapDeserializer::<_, E>::new(table)) {
                Ok(spec) => activation(spec),
                // Not a layer type, or a layer that needs settings (`dense`).
                Err(_) => Err(not_activation(v)),
            }
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            activation(LayerSpec::deserialize(
                de::value::MapAccessDeserializer::new(map),
            )?)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
}

/// A residual block: `g(main(x) + shortcut(x))`.
pub struct Residual {
    main: Sequential,
    shortcut: Sequential,
    activation: Option<Activation>,
}

impl Residual {
    /// A block of built branches (an empty `shortcut` is the identity). Shapes are checked
    /// when the block runs; [`ResidualSpec`] checks them when the model is built.
    pub fn new(main: Sequential, shortcut: Sequential, activation: Option<Activation>) -> Self {
        Residual {
            main,
            shortcut,
            activation,
        }
    }

    pub fn main(&self) -> &Sequential {
        &self.main
    }

    pub fn shortcut(&self) -> &Sequential {
        &self.shortcut
    }

    pub fn activation(&self) -> Option<Activation> {
        self.activation
    }

    /// ResNet's basic block (ResNet-18/34, the CIFAR ResNet-20): main = 3x3 conv (stride
    /// `stride`) → batch norm → ReLU → 3x3 conv → batch norm, both convolutions `same` and
    /// without bias; ReLU after the addition. The shortcut is the identity when `stride` is 1
    /// ([`Residual::identity_block`]) and a projection otherwise
    /// ([`Residual::projection_block`]); a block with stride 1 that changes the number of
    /// channels needs `projection_block(filters, 1)`.
    pub fn basic_block(filters: usize, stride: usize) -> LayerSpec {
        if stride == 1 {
            Self::identity_block(filters)
        } else {
            Self::projection_block(filters, stride)
        }
    }

    /// The basic block with an identity shortcut: the input must have `filters` channels.
    pub fn identity_block(filters: usize) -> LayerSpec {
        LayerSpec::Residual(ResidualSpec::new(basic_main(filters, 1)))
    }

    /// The basic block with a projection shortcut, a 1x1 convolution with `filters` filters
    /// and stride `stride` followed by batch norm (ResNet's option B), for blocks that change
    /// the size or the number of channels.
    pub fn projection_block(filters: usize, stride: usize) -> LayerSpec {
        LayerSpec::Residual(
            ResidualSpec::new(basic_main(filters, stride))
                .with_shortcut(projection(filters, stride)),
        )
    }

    /// The course's ResNet-50 identity block (bottleneck): 1x1 conv (`filters[0]`) → BN →
    /// ReLU → `kernel x kernel` conv `same` (`filters[1]`) → BN → ReLU → 1x1 conv
    /// (`filters[2]`) → BN, identity shortcut, ReLU after the addition. The input must have
    /// `filters[2]` channels. Convolutions have no bias (batch norm's β takes its place).
    pub fn bottleneck_identity_block(kernel: usize, filters: [usize; 3]) -> LayerSpec {
        LayerSpec::Residual(ResidualSpec::new(bottleneck_main(kernel, filters, 1)))
    }

    /// The course's ResNet-50 convolutional block: the bottleneck of
    /// [`Residual::bottleneck_identity_block`] with stride `stride` on its first 1x1
    /// convolution, and a shortcut of a 1x1 convolution (`filters[2]`, stride `stride`) and
    /// batch norm.
    pub fn bottleneck_projection_block(
        kernel: usize,
        filters: [usize; 3],
        stride: usize,
    ) -> LayerSpec {
        LayerSpec::Residual(
            ResidualSpec::new(bottleneck_main(kernel, filters, stride))
                .with_shortcut(projection(filters[2], stride)),
        )
    }
}

fn conv(filters: usize, kernel: usize, stride: usize, padding: PaddingSpec) -> LayerSpec {
    LayerSpec::Conv2d(
        Conv2dSpec::new(filters, kernel)
            .with_stride(stride)
            .with_padding(padding)
            .with_bias(false),
    )
}

fn bn() -> LayerSpec {
    LayerSpec::BatchNorm(BatchNormSpec::default())
}

fn basic_main(filters: usize, stride: usize) -> Vec<LayerSpec> {
    vec![
        conv(filters, 3, stride, PaddingSpec::Same),
        bn(),
        LayerSpec::Relu,
        conv(filters, 3, 1, PaddingSpec::Same),
        bn(),
    ]
}

fn bottleneck_main(kernel: usize, [f1, f2, f3]: [usize; 3], stride: usize) -> Vec<LayerSpec> {
    vec![
        conv(f1, 1, stride, PaddingSpec::Valid),
        bn(),
        LayerSpec::Relu,
        conv(f2, kernel, 1, PaddingSpec::Same),
        bn(),
        LayerSpec::Relu,
        conv(f3, 1, 1, PaddingSpec::Valid),
        bn(),
    ]
}

fn projection(filters: usize, stride: usize) -> Vec<LayerSpec> {
    vec![conv(filters, 1, stride, PaddingSpec::Valid), bn()]
}

/// The layers of a built chain, as specs (`None` when a layer has none).
pub(crate) fn layer_specs(seq: &Sequential) -> Option<Vec<LayerSpec>> {
    seq.layers().iter().map(|l| l.spec()).collect()
}

impl Module for Residual {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let main = self.main.forward(x)?;
        let shortcut = if self.shortcut.is_empty() {
            x.clone()
        } else {
            self.shortcut.forward(x)?
        };
        if main.shape() != shortcut.shape() {
            return Err(dlkit_core::Error::ShapeMismatch {
                op: "residual",
                lhs: main.shape().to_vec(),
                rhs: shortcut.shape().to_vec(),
                detail: "the main branch and the shortcut must output the same shape".into(),
            }
            .into());
        }
        let sum = main.try_add(&shortcut)?;
        match self.activation {
            Some(a) => a.apply(&sum),
            None => Ok(sum),
        }
    }

    /// The main branch is named `"main"`, the shortcut `"shortcut"`.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        vec![
            ("main".into(), &self.main as &dyn Module),
            ("shortcut".into(), &self.shortcut),
        ]
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        vec![
            ("main".into(), &mut self.main as &mut dyn Module),
            ("shortcut".into(), &mut self.shortcut),
        ]
    }

    fn spec(&self) -> Option<LayerSpec> {
        Some(LayerSpec::Residual(ResidualSpec {
            main: layer_specs(&self.main)?,
            shortcut: layer_specs(&self.shortcut)?,
            activation: self.activation,
            trainable: self.trainable(),
        }))
    }
}
