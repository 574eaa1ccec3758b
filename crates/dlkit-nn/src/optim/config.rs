//! `OptimizerConfig`: an optimiser as a config file describes it.

use super::{
    Adam, AdamW, EpsPlacement, GradOptions, GradientDescent, Momentum, MomentumForm, Optimizer,
    RmsProp, SgdMomentum,
};
use crate::error::{Error, Result};
use crate::param::{Param, ParamKind};
use serde::{Deserialize, Serialize};

/// An optimiser and its hyperparameters, as written in a TOML config:
///
/// ```toml
/// [optimizer]
/// type = "adam"          # gradient_descent (or sgd), momentum, rmsprop, adam, adamw
/// lr = 0.001
/// weight_decay = 1e-4    # optional: L2 added to the gradient, on weights only by default
/// clip_norm = 5.0        # optional: clip the global gradient norm
/// ```
///
/// Every field but `type` has a default: `lr` is 0.01 for gradient descent and momentum and
/// 0.001 for RMSprop and Adam; momentum has `beta = 0.9`, `form = "course"` (or `"pytorch"`);
/// RMSprop `beta = 0.9`, Adam `beta1 = 0.9`, `beta2 = 0.999`; both `eps = 1e-8` and
/// `eps_placement = "outside_sqrt"` (or `"inside_sqrt"`); all `weight_decay = 0`,
/// `decay_on = ["weight"]`, no clipping. See each optimiser's type for the formulas.
///
/// PyTorch's options, all off by default: gradient descent takes `momentum` (μ, 0),
/// `dampening` (0) and `nesterov` (false) as `torch.optim.SGD` ([`SgdMomentum`]); RMSprop
/// `momentum` (0) and `centered` (false) as `torch.optim.RMSprop`; Adam and AdamW `amsgrad`
/// (false). `adamw` is `torch.optim.AdamW`: decoupled `weight_decay`, 0.01 by default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// `w := w − α g`; with `momentum` > 0, PyTorch's `SGD` ([`SgdMomentum`]).
    #[serde(alias = "sgd")]
    GradientDescent {
        #[serde(default = "lr_sgd")]
        lr: f64,
        /// PyTorch's momentum μ (0: plain gradient descent).
        #[serde(default, skip_serializing_if = "is_zero")]
        momentum: f64,
        /// PyTorch's dampening d: `b = μ b + (1 − d) g`.
        #[serde(default, skip_serializing_if = "is_zero")]
        dampening: f64,
        /// Nesterov momentum `g + μ b` (needs momentum > 0 and no dampening).
        #[serde(default, skip_serializing_if = "is_false")]
        nesterov: bool,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default = "weights")]
        decay_on: Vec<ParamKind>,
        #[serde(default)]
        clip_norm: Option<f64>,
    },
    /// `v = β v + (1 − β) g; w := w − α v` (or PyTorch's `v = β v + g`).
    Momentum {
        #[serde(default = "lr_sgd")]
        lr: f64,
        #[serde(default = "beta_09")]
        beta: f64,
        #[serde(default)]
        form: MomentumForm,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default = "weights")]
        decay_on: Vec<ParamKind>,
        #[serde(default)]
        clip_norm: Option<f64>,
    },
    /// `s = β s + (1 − β) g²; w := w − α g / (√s + ε)`.
    Rmsprop {
        #[serde(default = "lr_adaptive")]
        lr: f64,
        #[serde(default = "beta_09")]
        beta: f64,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default)]
        eps_placement: EpsPlacement,
        /// PyTorch's momentum μ on the scaled step (0: none).
        #[serde(default, skip_serializing_if = "is_zero")]
        momentum: f64,
        /// Divide by `√(s − ḡ²)`, the centred second moment.
        #[serde(default, skip_serializing_if = "is_false")]
        centered: bool,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default = "weights")]
        decay_on: Vec<ParamKind>,
        #[serde(default)]
        clip_norm: Option<f64>,
    },
    /// Adam with bias correction.
    Adam {
        #[serde(default = "lr_adaptive")]
        lr: f64,
        #[serde(default = "beta_09")]
        beta1: f64,
        #[serde(default = "beta_0999")]
        beta2: f64,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default)]
        eps_placement: EpsPlacement,
        /// AMSGrad: the largest second moment so far in the denominator.
        #[serde(default, skip_serializing_if = "is_false")]
        amsgrad: bool,
        #[serde(default)]
        weight_decay: f64,
        #[serde(default = "weights")]
        decay_on: Vec<ParamKind>,
        #[serde(default)]
        clip_norm: Option<f64>,
    },
    /// Adam with decoupled weight decay `w := (1 − α λ) w` ([`AdamW`]).
    Adamw {
        #[serde(default = "lr_adaptive")]
        lr: f64,
        #[serde(default = "beta_09")]
        beta1: f64,
        #[serde(default = "beta_0999")]
        beta2: f64,
        #[serde(default = "eps")]
        eps: f64,
        #[serde(default)]
        amsgrad: bool,
        /// The decoupled decay λ (PyTorch's default 0.01).
        #[serde(default = "adamw_decay")]
        weight_decay: f64,
        #[serde(default = "weights")]
        decay_on: Vec<ParamKind>,
        #[serde(default)]
        clip_norm: Option<f64>,
    },
}

fn lr_sgd() -> f64 {
    0.01
}
fn lr_adaptive() -> f64 {
    0.001
}
fn beta_09() -> f64 {
    0.9
}
fn beta_0999() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}
fn adamw_decay() -> f64 {
    0.01
}
fn weights() -> Vec<ParamKind> {
    vec![ParamKind::Weight]
}
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}
fn is_false(v: &bool) -> bool {
    !*v
}

impl Default for OptimizerConfig {
    /// Adam with its defaults.
    fn default() -> Self {
        OptimizerConfig::Adam {
            lr: lr_adaptive(),
            beta1: beta_09(),
            beta2: beta_0999(),
            eps: eps(),
            eps_placement: EpsPlacement::OutsideSqrt,
            amsgrad: false,
            weight_decay: 0.0,
            decay_on: weights(),
            clip_norm: None,
        }
    }
}

fn check(ok: bool, name: &str, field: &str, expected: &str, got: f64) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "optimizer {name}: `{field}` must be {expected}, got {got}"
        )))
    }
}

impl OptimizerConfig {
    /// The `type` name.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::GradientDescent { .. } => "gradient_descent",
            OptimizerConfig::Momentum { .. } => "momentum",
            OptimizerConfig::Rmsprop { .. } => "rmsprop",
            OptimizerConfig::Adam { .. } => "adam",
            OptimizerConfig::Adamw { .. } => "adamw",
        }
    }

    /// The learning rate α.
    pub fn lr(&self) -> f64 {
        match *self {
            OptimizerConfig::GradientDescent { lr, .. }
            | OptimizerConfig::Momentum { lr, .. }
            | OptimizerConfig::Rmsprop { lr, .. }
            | OptimizerConfig::Adam { lr, .. }
            | OptimizerConfig::Adamw { lr, .. } => lr,
        }
    }

    /// Clipping and weight decay.
    pub fn grad_options(&self) -> GradOptions {
        match self {
            OptimizerConfig::GradientDescent {
                weight_decay,
                decay_on,
                clip_norm,
                ..
            }
            | OptimizerConfig::Momentum {
                weight_decay,
                decay_on,
                clip_norm,
                ..
            }
            | OptimizerConfig::Rmsprop {
                weight_decay,
                decay_on,
                clip_norm,
                ..
            }
            | OptimizerConfig::Adam {
                weight_decay,
                decay_on,
                clip_norm,
                ..
            }
            | OptimizerConfig::Adamw {
                weight_decay,
                decay_on,
                clip_norm,
                ..
            } => GradOptions {
                weight_decay: *weight_decay,
                decay_on: decay_on.clone(),
                clip_norm: *clip_norm,
            },
        }
    }

    /// Checks every hyperparameter's range; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let name = self.name();
        let beta = |field, v: f64| check((0.0..1.0).contains(&v), name, field, "in [0, 1)", v);
        let lr = self.lr();
        check(lr.is_finite() && lr > 0.0, name, "lr", "> 0", lr)?;
        let opts = self.grad_options();
        let wd = opts.weight_decay;
        check(
            wd.is_finite() && wd >= 0.0,
            name,
            "weight_decay",
            ">= 0",
            wd,
        )?;
        if let Some(c) = opts.clip_norm {
            check(c.is_finite() && c > 0.0, name, "clip_norm", "> 0", c)?;
        }
        match *self {
            OptimizerConfig::GradientDescent {
                momentum,
                dampening,
                nesterov,
                ..
            } => {
                beta("momentum", momentum)?;
                let d = dampening;
                check((0.0..=1.0).contains(&d), name, "dampening", "in [0, 1]", d)?;
                if nesterov && (momentum == 0.0 || dampening != 0.0) {
                    return Err(Error::Config(format!(
                        "optimizer {name}: `nesterov` needs `momentum` > 0 and `dampening` = 0 \
                         (as torch.optim.SGD), got momentum {momentum} and dampening {dampening}"
                    )));
                }
                Ok(())
            }
            OptimizerConfig::Momentum { beta: b, .. } => beta("beta", b),
            OptimizerConfig::Rmsprop {
                beta: b,
                eps,
                momentum,
                ..
            } => {
                beta("beta", b)?;
                check(eps > 0.0, name, "eps", "> 0", eps)?;
                beta("momentum", momentum)
            }
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            }
            | OptimizerConfig::Adamw {
                beta1, beta2, eps, ..
            } => {
                beta("beta1", beta1)?;
                beta("beta2", beta2)?;
                check(eps > 0.0, name, "eps", "> 0", eps)
            }
        }
    }

    /// Validates the config and builds the optimiser over `params`.
    pub fn build(&self, params: Vec<Param>) -> Result<Box<dyn Optimizer>> {
        self.validate()?;
        let opts = self.grad_options();
        Ok(match *self {
            OptimizerConfig::GradientDescent {
                lr,
                momentum,
                dampening,
                nesterov,
                ..
            } => {
                if momentum == 0.0 {
                    Box::new(GradientDescent::new(params, lr).grad_options(opts))
                } else {
                    Box::new(
                        SgdMomentum::new(params, lr, momentum)
                            .dampening(dampening)
                            .nesterov(nesterov)
                            .grad_options(opts),
                    )
                }
            }
            OptimizerConfig::Momentum { lr, beta, form, .. } => Box::new(
                Momentum::new(params, lr)
                    .beta(beta)
                    .form(form)
                    .grad_options(opts),
            ),
            OptimizerConfig::Rmsprop {
                lr,
                beta,
                eps,
                eps_placement,
                momentum,
                centered,
                ..
            } => Box::new(
                RmsProp::new(params, lr)
                    .beta(beta)
                    .eps(eps)
                    .eps_placement(eps_placement)
                    .momentum(momentum)
                    .centered(centered)
                    .grad_options(opts),
            ),
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
                eps_placement,
                amsgrad,
                ..
            } => Box::new(
                Adam::new(params, lr)
                    .betas(beta1, beta2)
                    .eps(eps)
                    .eps_placement(eps_placement)
                    .amsgrad(amsgrad)
                    .grad_options(opts),
            ),
            OptimizerConfig::Adamw {
                lr,
                beta1,
                beta2,
                eps,
                amsgrad,
                ..
            } => Box::new(
                AdamW::new(params, lr)
                    .betas(beta1, beta2)
                    .eps(eps)
                    .amsgrad(amsgrad)
                    .grad_options(opts),
            ),
        })
    }
}
