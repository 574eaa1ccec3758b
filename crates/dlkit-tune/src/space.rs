//! The search space: which config fields a study varies, and how each is drawn.
//!
//! `[tune.params]` maps a config path to one distribution:
//!
//! ```toml
//! [tune.params]
//! "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }          # lr = 10^r, r uniform in [-4, -1]
//! "optimizer.beta" = { one_minus_log_uniform = [0.9, 0.999] } # beta = 1 - 10^r, r in [-3, -1]
//! "train.l2" = { uniform = [0.0, 0.1] }
//! "train.batch_size" = { int_log = [16, 256] }              # integers, log scale
//! "model.layers[0].units" = { int = [8, 64], step = 8 }     # 8, 16, ..., 64
//! "model.layers" = { choice = [[{ type = "dense", units = 5 }], [{ type = "dense", units = 9 }]] }
//! ```
//!
//! - `uniform = [low, high]`: `x ~ U[low, high]`.
//! - `log_uniform = [low, high]`: `x = 10^r`, `r ~ U[log10 low, log10 high]` (the course's
//!   `alpha = 10^r`, `r in [-4, 0]`); `0 < low < high`.
//! - `one_minus_log_uniform = [low, high]`: `x = 1 - 10^r`, `r ~ U[log10(1 - high),
//!   log10(1 - low)]`, the course's scale for averaging betas, which puts as many draws in
//!   `[0.9, 0.99]` as in `[0.99, 0.999]`; the bounds are those of `x` itself,
//!   `0 < low < high < 1`.
//! - `int = [low, high]`, optional `step` (default 1): `low, low + step, ..., high`, each
//!   equally likely; `high - low` a multiple of `step`.
//! - `int_log = [low, high]`: integers drawn on a log scale (`log10 x` uniform over
//!   `[log10(low - 1/2), log10(high + 1/2)]`, then rounded), `1 <= low <= high`.
//! - `choice = [a, b, ...]`: one of the listed TOML values, any kind (numbers, strings, whole
//!   layer lists); a trial records the index of its choice.
//!
//! Samplers work on each parameter's *internal scale* ([`Scale`]): `x` for uniform and `int`,
//! `log10 x` for the log scales, `log10(1 - x)` for `one_minus_log_uniform`. Parameters are
//! kept ordered by path; a path may not lie inside another searched path (`model.layers[0]`
//! with `model.layers`), since which one wins would depend on the order they are set.

use crate::path::ConfigPath;
use crate::space_error::SpaceError;
use crate::trial::ParamValue;

/// The scale a float parameter is drawn on: samplers see `u = forward(x)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// `u = x`.
    Linear,
    /// `u = log10 x`.
    Log,
    /// `u = log10(1 - x)` (a decreasing map: `x` near 1 is `u` very negative).
    OneMinusLog,
}

impl Scale {
    pub fn forward(self, x: f64) -> f64 {
        match self {
            Scale::Linear => x,
            Scale::Log => x.log10(),
            Scale::OneMinusLog => (1.0 - x).log10(),
        }
    }

    pub fn inverse(self, u: f64) -> f64 {
        match self {
            Scale::Linear => u,
            Scale::Log => 10f64.powf(u),
            Scale::OneMinusLog => 1.0 - 10f64.powf(u),
        }
    }
}

/// How one parameter is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Distribution {
    /// A real number in `[low, high]` on `scale`.
    Float { low: f64, high: f64, scale: Scale },
    /// An integer `low + k step` in `[low, high]`, drawn on a log scale when `log`.
    Int {
        low: i64,
        high: i64,
        step: i64,
        log: bool,
    },
    /// One of `choices`; the value is its index.
    Choice { choices: Vec<toml::Value> },
}

/// The keys of `[tune.params]` entries, in the order errors list them.
pub const DISTRIBUTIONS: [&str; 6] = [
    "uniform",
    "log_uniform",
    "one_minus_log_uniform",
    "int",
    "int_log",
    "choice",
];

impl Distribution {
    /// The TOML key of this distribution (`log_uniform`, `int`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Distribution::Float { scale, .. } => match scale {
                Scale::Linear => "uniform",
                Scale::Log => "log_uniform",
                Scale::OneMinusLog => "one_minus_log_uniform",
            },
            Distribution::Int { log: false, .. } => "int",
            Distribution::Int { log: true, .. } => "int_log",
            Distribution::Choice { .. } => "choice",
        }
    }

    /// The exact bounds on the internal scale, lower first: `(forward(low), forward(high))`
    /// (swapped for `one_minus_log_uniform`); `(0, n - 1)` for `n` choices.
    pub fn internal_range(&self) -> (f64, f64) {
        match self {
            Distribution::Float { low, high, scale } => {
                let (a, b) = (scale.forward(*low), scale.forward(*high));
                (a.min(b), a.max(b))
            }
            Distribution::Int { low, high, log, .. } => {
                let s = int_scale(*log);
                (s.forward(*low as f64), s.forward(*high as f64))
            }
            Distribution::Choice { choices } => (0.0, (choices.len() - 1) as f64),
        }
    }

    /// The range continuous draws are taken from on the internal scale before
    /// [`Distribution::from_internal`] rounds them: the exact range for floats; for integers
    /// each value's cell `[x - step/2, x + step/2]` included, so that rounding gives every
    /// value of a linear range the same chance (Optuna's widening of discrete ranges).
    pub fn sampling_range(&self) -> (f64, f64) {
        match self {
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => {
                let s = int_scale(*log);
                let half = *step as f64 / 2.0;
                (
                    s.forward(*low as f64 - half),
                    s.forward(*high as f64 + half),
                )
            }
            _ => self.internal_range(),
        }
    }

    /// `value` on the internal scale, if it is a value of this distribution's kind.
    pub fn to_internal(&self, value: ParamValue) -> Option<f64> {
        match (self, value) {
            (Distribution::Float { scale, .. }, ParamValue::Float(x)) => Some(scale.forward(x)),
            (Distribution::Int { log, .. }, ParamValue::Int(x)) => {
                Some(int_scale(*log).forward(x as f64))
            }
            (Distribution::Choice { .. }, ParamValue::Choice(i)) => Some(i as f64),
            _ => None,
        }
    }

    /// The value at internal-scale point `u`: mapped back, integers rounded to the nearest
    /// `low + k step`, choices to the nearest index, then clipped to the range.
    pub fn from_internal(&self, u: f64) -> ParamValue {
        match self {
            Distribution::Float { low, high, scale } => {
                ParamValue::Float(scale.inverse(u).clamp(*low, *high))
            }
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => {
                let x = int_scale(*log).inverse(u);
                let k = ((x - *low as f64) / *step as f64).round();
                let k = k.clamp(0.0, ((high - low) / step) as f64) as i64;
                ParamValue::Int(low + k * step)
            }
            Distribution::Choice { choices } => {
                ParamValue::Choice(u.round().clamp(0.0, (choices.len() - 1) as f64) as usize)
            }
        }
    }

    /// Whether `value` is of this distribution's kind and inside its range.
    pub fn contains(&self, value: ParamValue) -> bool {
        match (self, value) {
            (Distribution::Float { low, high, .. }, ParamValue::Float(x)) => {
                (*low..=*high).contains(&x)
            }
            (
                Distribution::Int {
                    low, high, step, ..
                },
                ParamValue::Int(x),
            ) => (*low..=*high).contains(&x) && (x - low) % step == 0,
            (Distribution::Choice { choices }, ParamValue::Choice(i)) => i < choices.len(),
            _ => false,
        }
    }

    /// The same distribution restricted to the internal-scale interval `[lo, hi]` (coarse
    /// to fine): float bounds mapped back and clipped to the current range; integer bounds
    /// the first and last `low + k step` inside it. Choices are returned unchanged.
    pub fn narrowed(&self, lo: f64, hi: f64) -> Distribution {
        match self {
            Distribution::Float { low, high, scale } => {
                let (a, b) = (scale.inverse(lo), scale.inverse(hi));
                Distribution::Float {
                    low: a.min(b).clamp(*low, *high),
                    high: a.max(b).clamp(*low, *high),
                    scale: *scale,
                }
            }
            Distribution::Int {
                low,
                high,
                step,
                log,
            } => {
                let s = int_scale(*log);
                let last = ((high - low) / step) as f64;
                let k = |u: f64| (s.inverse(u) - *low as f64) / *step as f64;
                let first = (k(lo) - 1e-9).ceil().clamp(0.0, last) as i64;
                let end = ((k(hi) + 1e-9).floor().clamp(0.0, last) as i64).max(first);
                Distribution::Int {
                    low: low + first * step,
                    high: low + end * step,
                    step: *step,
                    log: *log,
                }
            }
            Distribution::Choice { .. } => self.clone(),
        }
    }
}

fn int_scale(log: bool) -> Scale {
    if log {
        Scale::Log
    } else {
        Scale::Linear
    }
}

/// One searched parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The path as written: `model.layers[0].units`.
    pub path: String,
    pub config_path: ConfigPath,
    pub distribution: Distribution,
}

/// The parameters a study searches, ordered by path.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    params: Vec<Param>,
}

impl SearchSpace {
    /// Parses the `[tune.params]` table (see the module documentation).
    pub fn from_table(table: &toml::Table) -> Result<SearchSpace, SpaceError> {
        if table.is_empty() {
            return Err(SpaceError::new(
                "[tune.params]",
                "no parameters to search: add entries like \
                 \"optimizer.lr\" = { log_uniform = [1e-4, 1e-1] }",
            ));
        }
        let mut params = table
            .iter()
            .map(|(path, v)| parse_param(path, v))
            .collect::<Result<Vec<_>, _>>()?;
        params.sort_by(|a, b| a.path.cmp(&b.path));
        for p in &params {
            if let Some(outer) = params
                .iter()
                .find(|q| p.config_path.is_inside(&q.config_path))
            {
                return Err(SpaceError::param(
                    &p.path,
                    format!(
                        "lies inside {:?}, which is searched too: search one or the other",
                        outer.path
                    ),
                ));
            }
        }
        Ok(SearchSpace { params })
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn get(&self, path: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.path == path)
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }
}

/// One `[tune.params]` entry: `"path" = { <distribution> = ..., step = ... }`.
fn parse_param(path: &str, value: &toml::Value) -> Result<Param, SpaceError> {
    let err = |m: String| SpaceError::param(path, m);
    let config_path = ConfigPath::parse(path).map_err(err)?;
    let expected = format!(
        "one of {} (and `step` with `int`)",
        DISTRIBUTIONS.map(|d| format!("`{d}`")).join(", ")
    );
    let Some(table) = value.as_table() else {
        return Err(err(format!(
            "expected a table like {{ log_uniform = [1e-4, 1e-1] }}, got {value}"
        )));
    };
    if let Some(k) = table
        .keys()
        .find(|k| *k != "step" && !DISTRIBUTIONS.contains(&k.as_str()))
    {
        return Err(err(format!("unknown key `{k}`: expected {expected}")));
    }
    let mut keys = table.keys().filter(|k| *k != "step");
    let (Some(name), None) = (keys.next(), keys.next()) else {
        let names: Vec<String> = table
            .keys()
            .filter(|k| *k != "step")
            .map(|k| format!("`{k}`"))
            .collect();
        return Err(err(if names.is_empty() {
            format!("no distribution: expected {expected}")
        } else {
            format!("{} distributions: give one", names.join(" and "))
        }));
    };
    let arg = &table[name];
    let step = table.get("step");
    if step.is_some() && name != "int" {
        return Err(err(format!("`step` goes with `int` only, not `{name}`")));
    }
    let distribution = match name.as_str() {
        "uniform" => float(name, arg, Scale::Linear),
        "log_uniform" => float(name, arg, Scale::Log),
        "one_minus_log_uniform" => float(name, arg, Scale::OneMinusLog),
        "int" => int(name, arg, step, false),
        "int_log" => int(name, arg, None, true),
        _ => choice(arg),
    }
    .map_err(err)?;
    Ok(Param {
        path: path.to_string(),
        config_path,
        distribution,
    })
}

/// `[low, high]` as two elements, each read by `read`.
fn bounds<T>(
    name: &str,
    arg: &toml::Value,
    what: &str,
    read: impl Fn(&toml::Value) -> Option<T>,
) -> Result<(T, T), String> {
    match arg.as_array().map(|a| a.as_slice()) {
        Some([a, b]) => match (read(a), read(b)) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(format!(
                "`{name}` expects [low, high], two {what}, got {arg}"
            )),
        },
        _ => Err(format!(
            "`{name}` expects [low, high], two {what}, got {arg}"
        )),
    }
}

fn float(name: &str, arg: &toml::Value, scale: Scale) -> Result<Distribution, String> {
    let number = |v: &toml::Value| {
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .filter(|x| x.is_finite())
    };
    let (low, high) = bounds(name, arg, "finite numbers", number)?;
    if low >= high {
        return Err(format!(
            "`{name}` range {arg} is empty: low must be below high"
        ));
    }
    match scale {
        Scale::Log if low <= 0.0 => Err(format!(
            "`{name}` range {arg} reaches 0 or below: a log scale needs both bounds above 0"
        )),
        Scale::OneMinusLog if low <= 0.0 || high >= 1.0 => Err(format!(
            "`{name}` range {arg} must lie inside (0, 1): it draws 1 - x on a log scale"
        )),
        _ => Ok(Distribution::Float { low, high, scale }),
    }
}

fn int(
    name: &str,
    arg: &toml::Value,
    step: Option<&toml::Value>,
    log: bool,
) -> Result<Distribution, String> {
    let (low, high) = bounds(name, arg, "integers", toml::Value::as_integer)?;
    if low > high {
        return Err(format!(
            "`{name}` range {arg} is empty: low must not be above high"
        ));
    }
    if log && low <= 0 {
        return Err(format!(
            "`{name}` range {arg} reaches 0 or below: a log scale needs both bounds above 0"
        ));
    }
    let step = match step {
        None => 1,
        Some(s) => match s.as_integer() {
            Some(s) if s >= 1 => s,
            _ => return Err(format!("`step` must be an integer of at least 1, got {s}")),
        },
    };
    if (high - low) % step != 0 {
        return Err(format!(
            "`{name}` range {arg} does not fit step {step}: high - low must be a multiple of it"
        ));
    }
    Ok(Distribution::Int {
        low,
        high,
        step,
        log,
    })
}

fn choice(arg: &toml::Value) -> Result<Distribution, String> {
    match arg.as_array() {
        None => Err(format!("`choice` expects a list of values, got {arg}")),
        Some(a) if a.is_empty() => Err("`choice` list is empty: give at least one value".into()),
        Some(a) => Ok(Distribution::Choice { choices: a.clone() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_trip() {
        for (s, x) in [
            (Scale::Linear, 0.3),
            (Scale::Log, 1e-3),
            (Scale::OneMinusLog, 0.999),
        ] {
            assert!((s.inverse(s.forward(x)) - x).abs() < 1e-12);
        }
        assert!((Scale::OneMinusLog.forward(0.99) + 2.0).abs() < 1e-12);
    }

    #[test]
    fn integers_round_to_their_step() {
        let d = Distribution::Int {
            low: 8,
            high: 64,
            step: 8,
            log: false,
        };
        assert_eq!(d.from_internal(13.0), ParamValue::Int(16));
        assert_eq!(d.from_internal(11.9), ParamValue::Int(8));
        assert_eq!(d.from_internal(100.0), ParamValue::Int(64));
        assert_eq!(d.sampling_range(), (4.0, 68.0));
        assert!(d.contains(ParamValue::Int(24)) && !d.contains(ParamValue::Int(20)));
    }
}
