//! 2-D convolution on NHWC images with HWIO filters (cross-correlation, as every framework):
//!
//! ```text
//! y[b, i, j, o] = bias[o] + Σ_{u, v, c} x[b, i·sh + u - top, j·sw + v - left, c] · w[u, v, c, o]
//! ```
//!
//! for inputs `[m, h, w, c_in]`, filters `[kh, kw, c_in, filters]` and outputs
//! `[m, oh, ow, filters]` with `oh = (h + top + bottom - kh) / sh + 1` (rounded down), likewise
//! `ow`. Padding is `valid` (none), `same` (TensorFlow/Keras: `oh = ceil(h / sh)`, the smaller
//! half of the padding on top and left) or explicit zeros on each side. The forward and
//! backward are dlkit-core's `conv2d` (im2col + gemm, Winograd for 3x3 stride-1 convolutions).
//!
//! In TOML: `{ type = "conv2d", filters = 8, kernel = 3, stride = 2, padding = "same" }`;
//! `kernel` and `stride` are one number (square) or `[height, width]`; `padding` is `"valid"`
//! (the default), `"same"`, one number of zeros on every side, or
//! `{ top = 1, bottom = 2, left = 0, right = 1 }`.

use crate::error::{Error, Result};
use crate::init::Init;
use crate::module::Module;
use crate::param::{Param, ParamKind};
use crate::spec::{is_trainable, trainable, BuildContext, Built, LayerSpec};
use dlkit_core::{DType, Padding, Rng, Tensor};
use serde::{Deserialize, Serialize};

/// `{ type = "conv2d", filters = 8, kernel = 3 }`, with optional `stride` (1), `padding`
/// (`"valid"`), `bias` (true; false before batch norm), `init` (the model's initialiser) and
/// `trainable` (true; false freezes the layer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2dSpec {
    /// The number of filters: the output's channels.
    pub filters: usize,
    /// `[kh, kw]`; one number in a config stands for a square kernel.
    #[serde(with = "hw")]
    pub kernel: [usize; 2],
    /// `[sh, sw]`; one number in a config stands for both.
    #[serde(default = "unit_stride", with = "hw")]
    pub stride: [usize; 2],
    #[serde(default)]
    pub padding: PaddingSpec,
    #[serde(default = "yes")]
    pub bias: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    #[serde(default = "trainable", skip_serializing_if = "is_trainable")]
    pub trainable: bool,
}

fn yes() -> bool {
    true
}

fn unit_stride() -> [usize; 2] {
    [1, 1]
}

impl Conv2dSpec {
    /// `filters` square `kernel x kernel` filters, stride 1, valid padding, with a bias.
    pub fn new(filters: usize, kernel: usize) -> Self {
        Conv2dSpec {
            filters,
            kernel: [kernel, kernel],
            stride: [1, 1],
            padding: PaddingSpec::Valid,
            bias: true,
            init: None,
            trainable: true,
        }
    }

    /// The same spec with stride `s` along both axes.
    pub fn with_stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }

    pub fn with_padding(mut self, padding: PaddingSpec) -> Self {
        self.padding = padding;
        self
    }

    /// The same spec with or without a bias (no bias before batch norm, whose β is one).
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    pub fn with_init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }

    /// Checks the sizes: at least one filter, kernel and stride at least 1.
    pub fn validate(&self) -> Result<()> {
        if self.filters == 0 {
            return Err(Error::build("conv2d needs filters >= 1"));
        }
        check_hw("conv2d", "kernel", self.kernel)?;
        check_hw("conv2d", "stride", self.stride)
    }

    /// The output shape `[oh, ow, filters]` for one example of shape `input`.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.validate()?;
        let [h, w, _] = image("conv2d", input)?;
        let (oh, ow) = window_output(
            "conv2d",
            "kernel",
            (h, w),
            self.kernel,
            self.stride,
            self.padding,
        )?;
        Ok(vec![oh, ow, self.filters])
    }

    /// The number of parameters for an input `[h, w, c_in]` that
    /// [`Conv2dSpec::output_shape`] accepts: `kh · kw · c_in · filters` weights, plus
    /// `filters` biases with `bias`.
    pub(crate) fn parameter_count(&self, input: &[usize]) -> usize {
        let [kh, kw] = self.kernel;
        let f = self.filters;
        kh * kw * input[2] * f + if self.bias { f } else { 0 }
    }

    pub(crate) fn build(&self, ctx: &mut BuildContext, input: &[usize]) -> Result<Built> {
        let out = self.output_shape(input)?;
        let c_in = input[2];
        let init = self.init.unwrap_or(ctx.init);
        let [kh, kw] = self.kernel;
        let f = self.filters;
        // dlkit's `[kh, kw, c_in, filters]`, also the course's `np.random.randn(f, f, c, n_C)`.
        let w = ctx.sample_weight(init, &[kh, kw, c_in, f], kh * kw * c_in, kh * kw * f);
        let mut layer = Conv2d::with_weight(w, self, init, ctx.dtype);
        layer.init = self.init;
        Ok((Box::new(layer), out))
    }
}

/// How a convolution or pooling window is padded: the description's form of
/// [`dlkit_core::Padding`]. Written `"valid"`, `"same"`, one number (zeros on every side) or
/// `{ top = 1, bottom = 2, left = 0, right = 1 }` (all four sides).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PaddingSpec {
    /// No padding.
    #[default]
    Valid,
    /// TensorFlow/Keras "same": `out = ceil(in / stride)`, the smaller half on top and left.
    Same,
    /// Explicit zeros on each side.
    Explicit {
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
}

impl PaddingSpec {
    /// `p` zeros on every side.
    pub fn uniform(p: usize) -> Self {
        PaddingSpec::Explicit {
            top: p,
            bottom: p,
            left: p,
            right: p,
        }
    }

    /// The zeros `(top, bottom, left, right)` for an `h x w` input, a window and a stride.
    pub fn resolve(
        self,
        (h, w): (usize, usize),
        window: [usize; 2],
        stride: [usize; 2],
    ) -> (usize, usize, usize, usize) {
        match Padding::from(self).resolve((h, w), (window[0], window[1]), (stride[0], stride[1])) {
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => (top, bottom, left, right),
            _ => unreachable!("Padding::resolve gives explicit zeros"),
        }
    }
}

impl From<PaddingSpec> for Padding {
    fn from(p: PaddingSpec) -> Padding {
        match p {
            PaddingSpec::Valid => Padding::Valid,
            PaddingSpec::Same => Padding::Same,
            PaddingSpec::Explicit {
                top,
                bottom,
                left,
                right,
            } => Padding::Explicit {
                top,
                bottom,
                left,
                right,
            },
        }
    }
}

impl From<Padding> for PaddingSpec {
    fn from(p: Padding) -> PaddingSpec {
        match p {
            Padding::Valid => PaddingSpec::Valid,
            Padding::Same => PaddingSpec::Same,
            Padding::Explicit {
                top,
                bottom,
                left,
                right,
            } => PaddingSpec::Explicit {
                top,
                bottom,
                left,
                right,
            },
        }
    }
}

/// The explicit form, all four sides required, nothing else allowed.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sides {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

impl Serialize for PaddingSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match *self {
            PaddingSpec::Valid => s.serialize_str("valid"),
            PaddingSpec::Same => s.serialize_str("same"),
            PaddingSpec::Explicit {
                top,
                bottom,
                left,
                right,
            } => Sides {
                top,
                bottom,
                left,
                right,
            }
            .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PaddingSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::{self, MapAccess, Unexpected, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PaddingSpec;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "padding \"valid\", \"same\", a number of zeros on every side, or \
                     { top, bottom, left, right }",
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<PaddingSpec, E> {
                match v {
                    "valid" => Ok(PaddingSpec::Valid),
                    "same" => Ok(PaddingSpec::Same),
                    other => Err(E::invalid_value(Unexpected::Str(other), &self)),
                }
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<PaddingSpec, E> {
                usize::try_from(v)
                    .map(PaddingSpec::uniform)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<PaddingSpec, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }

            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<PaddingSpec, A::Error> {
                let s = Sides::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(PaddingSpec::Explicit {
                    top: s.top,
                    bottom: s.bottom,
                    left: s.left,
                    right: s.right,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Serde for `[height, width]` pairs that a config may also write as one number.
pub(crate) mod hw {
    use serde::de::{self, IgnoredAny, SeqAccess, Unexpected, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[usize; 2], s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[usize; 2], D::Error> {
        Ok(Hw::deserialize(d)?.0)
    }

    /// A pair, from one number or two.
    pub struct Hw(pub [usize; 2]);

    impl<'de> Deserialize<'de> for Hw {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Hw, D::Error> {
            d.deserialize_any(HwVisitor)
        }
    }

    struct HwVisitor;

    impl<'de> Visitor<'de> for HwVisitor {
        type Value = Hw;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a size such as 3 (height and width) or a pair [height, width]")
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Hw, E> {
            usize::try_from(v)
                .map(|n| Hw([n, n]))
                .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Hw, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
            }
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Hw, A::Error> {
            let a = seq
                .next_element::<usize>()?
                .ok_or_else(|| de::Error::invalid_length(0, &self))?;
            let b = seq
                .next_element::<usize>()?
                .ok_or_else(|| de::Error::invalid_length(1, &self))?;
            if seq.next_element::<IgnoredAny>()?.is_some() {
                return Err(de::Error::invalid_length(3, &self));
            }
            Ok(Hw([a, b]))
        }
    }

    /// The same for an optional pair (absent: `None`).
    pub mod opt {
        use super::Hw;
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<[usize; 2]>, s: S) -> Result<S::Ok, S::Error> {
            v.serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<[usize; 2]>, D::Error> {
            Ok(Option::<Hw>::deserialize(d)?.map(|h| h.0))
        }
    }
}

/// Checks that a `[height, width]` setting of `layer` has no zero.
pub(crate) fn check_hw(layer: &str, what: &str, v: [usize; 2]) -> Result<()> {
    if v[0] == 0 || v[1] == 0 {
        return Err(Error::build(format!(
            "{layer} needs a {what} of at least 1 along both axes, got {v:?}"
        )));
    }
    Ok(())
}

/// `[h, w, c]` of an image example, or an error saying `layer` needs one.
pub(crate) fn image(layer: &str, input: &[usize]) -> Result<[usize; 3]> {
    <[usize; 3]>::try_from(input).map_err(|_| {
        let hint = if input.len() == 1 {
            "; image layers go before flatten and dense layers"
        } else {
            ""
        };
        Error::build(format!(
            "{layer} needs an image input [height, width, channels] but gets {input:?}{hint}"
        ))
    })
}

/// `(oh, ow)` of a sliding `window` (`what`: "kernel" or "window") over an `h x w` input, or
/// an error saying what does not fit.
pub(crate) fn window_output(
    layer: &str,
    what: &str,
    (h, w): (usize, usize),
    window: [usize; 2],
    stride: [usize; 2],
    padding: PaddingSpec,
) -> Result<(usize, usize)> {
    let (top, bottom, left, right) = padding.resolve((h, w), window, stride);
    let (ph, pw) = (h + top + bottom, w + left + right);
    let [kh, kw] = window;
    if kh > ph || kw > pw {
        let padded = if (ph, pw) == (h, w) {
            String::new()
        } else {
            format!(" ({ph}x{pw} padded)")
        };
        return Err(Error::build(format!(
            "{layer}: the {kh}x{kw} {what} does not fit the {h}x{w} input{padded}; use a \
             smaller {what}, more padding (padding = \"same\") or larger images"
        )));
    }
    Ok(((ph - kh) / stride[0] + 1, (pw - kw) / stride[1] + 1))
}

/// A 2-D convolution layer with filters `[kh, kw, c_in, filters]` and an optional bias
/// `[filters]`.
pub struct Conv2d {
    pub weight: Param,
    pub bias: Option<Param>,
    stride: [usize; 2],
    padding: PaddingSpec,
    init: Option<Init>,
}

impl Conv2d {
    /// A layer for `c_in` input channels as `spec` describes, filters drawn by `init` with
    /// fan-in `kh·kw·c_in` and fan-out `kh·kw·filters`, biases zero.
    pub fn new(c_in: usize, spec: &Conv2dSpec, init: Init, dtype: DType, rng: &mut Rng) -> Self {
        let [kh, kw] = spec.kernel;
        let f = spec.filters;
        let w = init.sample(&[kh, kw, c_in, f], kh * kw * c_in, kh * kw * f, dtype, rng);
        Conv2d::with_weight(w, spec, init, dtype)
    }

    /// A layer as `spec` describes with drawn filters `w` `[kh, kw, c_in, filters]` and, when
    /// the spec has a bias, zero biases.
    fn with_weight(w: Tensor, spec: &Conv2dSpec, init: Init, dtype: DType) -> Self {
        let f = spec.filters;
        Conv2d {
            weight: Param::new("weight", w, ParamKind::Weight),
            bias: spec
                .bias
                .then(|| Param::new("bias", Tensor::zeros(&[f], dtype), ParamKind::Bias)),
            stride: spec.stride,
            padding: spec.padding,
            init: Some(init),
        }
    }

    /// A layer with given filters `[kh, kw, c_in, filters]` and optional bias `[filters]`.
    pub fn from_tensors(
        weight: Tensor,
        bias: Option<Tensor>,
        stride: [usize; 2],
        padding: PaddingSpec,
    ) -> Result<Self> {
        let [_, _, _, f] = <[usize; 4]>::try_from(weight.shape()).map_err(|_| {
            Error::build(format!(
                "conv2d needs filters of shape [kh, kw, c_in, filters] (HWIO), got {:?}",
                weight.shape()
            ))
        })?;
        check_hw("conv2d", "kernel", [weight.shape()[0], weight.shape()[1]])?;
        check_hw("conv2d", "stride", stride)?;
        if let Some(b) = &bias {
            if b.shape() != [f] || b.dtype() != weight.dtype() {
                return Err(Error::build(format!(
                    "conv2d needs a bias of shape [{f}] and dtype {}, got {:?} {}",
                    weight.dtype(),
                    b.shape(),
                    b.dtype()
                )));
            }
        }
        Ok(Conv2d {
            weight: Param::new("weight", weight, ParamKind::Weight),
            bias: bias.map(|b| Param::new("bias", b, ParamKind::Bias)),
            stride,
            padding,
            init: None,
        })
    }

    pub fn stride(&self) -> [usize; 2] {
        self.stride
    }

    pub fn padding(&self) -> PaddingSpec {
        self.padding
    }
}

impl Module for Conv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.try_conv2d(
            &self.weight.tensor,
            self.bias.as_ref().map(|b| &b.tensor),
            (self.stride[0], self.stride[1]),
            self.padding.into(),
        )?)
    }

    fn own_parameters(&self) -> Vec<Param> {
        std::iter::once(self.weight.clone())
            .chain(self.bias.clone())
            .collect()
    }

    fn spec(&self) -> Option<LayerSpec> {
        let s = self.weight.tensor.shape();
        Some(LayerSpec::Conv2d(Conv2dSpec {
            filters: s[3],
            kernel: [s[0], s[1]],
            stride: self.stride,
            padding: self.padding,
            bias: self.bias.is_some(),
            init: self.init,
            trainable: self.trainable(),
        }))
    }
}
