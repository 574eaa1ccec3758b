//! Setting a trial's parameters into the base config, and printing them.
//!
//! The base config is a `toml::Value` (its table). A parameter's path walks it by key and
//! `[i]` index; every table and array on the way must exist in the base config (an index
//! within its array), while the last key may be absent from its table, so fields the base
//! config leaves at their defaults (`train.l2`, `optimizer.beta1`) can be searched. Whether
//! such a key is a field of its table at all is for the config parse that follows to say,
//! as its tables deny unknown fields.
//!
//! Values: a float becomes a TOML float, an integer a TOML integer, a choice the TOML value
//! listed for it.

use crate::path::PathSegment;
use crate::space::{Distribution, Param, SearchSpace};
use crate::space_error::SpaceError;
use crate::trial::{ParamValue, Params};

/// The TOML value `value` of a parameter drawn from `distribution` stands for, or `None` if
/// it is not a value of that distribution.
pub fn to_toml(distribution: &Distribution, value: ParamValue) -> Option<toml::Value> {
    if !distribution.contains(value) {
        return None;
    }
    Some(match (distribution, value) {
        (Distribution::Choice { choices }, ParamValue::Choice(i)) => choices[i].clone(),
        (_, ParamValue::Float(x)) => toml::Value::Float(x),
        (_, ParamValue::Int(x)) => toml::Value::Integer(x),
        (_, ParamValue::Choice(_)) => unreachable!("contains() checked the kind"),
    })
}

/// Checks that every parameter's path can be set in `base` (see the module documentation):
/// an error names the parameter and the part of the path the base config lacks.
pub fn validate_paths(base: &toml::Value, space: &SearchSpace) -> Result<(), SpaceError> {
    space.params().iter().try_for_each(|p| {
        let mut copy = base.clone();
        slot(&mut copy, p).map(|_| ())
    })
}

/// `base` with every parameter of `space` set to its value in `params`.
pub fn apply(
    base: &toml::Value,
    space: &SearchSpace,
    params: &Params,
) -> Result<toml::Value, SpaceError> {
    let mut config = base.clone();
    for p in space.params() {
        let value = params
            .get(&p.path)
            .ok_or_else(|| SpaceError::param(&p.path, "the trial has no value for it"))?;
        set(&mut config, p, *value)?;
    }
    Ok(config)
}

/// Sets one parameter's value into `config`.
pub fn set(config: &mut toml::Value, param: &Param, value: ParamValue) -> Result<(), SpaceError> {
    let v = to_toml(&param.distribution, value).ok_or_else(|| {
        SpaceError::param(
            &param.path,
            format!(
                "{value:?} is not a value of its `{}` distribution",
                param.distribution.name()
            ),
        )
    })?;
    *slot(config, param)? = v;
    Ok(())
}

/// The place `param`'s path names in `config`; a missing last key is inserted (as an empty
/// table, to be overwritten).
fn slot<'c>(config: &'c mut toml::Value, param: &Param) -> Result<&'c mut toml::Value, SpaceError> {
    let segments = &param.config_path.0;
    let mut here = config;
    let mut walked = String::new();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let place = if walked.is_empty() {
            "the base config".to_string()
        } else {
            format!("{walked:?} in the base config")
        };
        here = match (segment, here) {
            (PathSegment::Key(k), toml::Value::Table(t)) => {
                if !t.contains_key(k) {
                    if !last {
                        return Err(SpaceError::param(
                            &param.path,
                            format!("{place} has no `{k}`"),
                        ));
                    }
                    t.insert(k.clone(), toml::Value::Table(toml::Table::new()));
                }
                t.get_mut(k).expect("just checked")
            }
            (PathSegment::Index(n), toml::Value::Array(a)) => {
                let len = a.len();
                a.get_mut(*n).ok_or_else(|| {
                    SpaceError::param(
                        &param.path,
                        format!(
                            "{place} has {len} entries, so there is no [{n}] (indices count \
                             from 0)"
                        ),
                    )
                })?
            }
            (PathSegment::Key(k), other) => {
                return Err(SpaceError::param(
                    &param.path,
                    format!(
                        "{place} is {}, not a table, so it has no `{k}`",
                        kind(other)
                    ),
                ))
            }
            (PathSegment::Index(n), other) => {
                return Err(SpaceError::param(
                    &param.path,
                    format!(
                        "{place} is {}, not an array, so it has no [{n}]",
                        kind(other)
                    ),
                ))
            }
        };
        match segment {
            PathSegment::Key(k) if walked.is_empty() => walked.push_str(k),
            PathSegment::Key(k) => walked.push_str(&format!(".{k}")),
            PathSegment::Index(n) => walked.push_str(&format!("[{n}]")),
        }
    }
    Ok(here)
}

fn kind(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

/// The longest a described choice may be before it is cut with `...`.
const MAX_DESCRIBED: usize = 60;

/// A parameter's value for a table of trials: floats to 4 significant digits, integers as
/// they are, a choice as its value, layer lists shortened (`[dense(5), relu, dense(1),
/// sigmoid]`) and cut at 60 characters.
pub fn describe(distribution: &Distribution, value: ParamValue) -> String {
    match value {
        ParamValue::Float(x) => describe_float(x),
        ParamValue::Int(x) => x.to_string(),
        ParamValue::Choice(i) => match distribution {
            Distribution::Choice { choices } if i < choices.len() => {
                let s = describe_toml(&choices[i]);
                if s.chars().count() > MAX_DESCRIBED {
                    let cut: String = s.chars().take(MAX_DESCRIBED - 3).collect();
                    format!("{cut}...")
                } else {
                    s
                }
            }
            _ => format!("choice {i}"),
        },
    }
}

/// `x` to 4 significant digits: `0.0007`, `0.9991`, `123.5`, `1.235e-5` (scientific below
/// 1e-4 and from 1e6), trailing zeros dropped.
pub fn describe_float(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let exp = x.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        let decimals = (3 - exp).max(0) as usize;
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{x:.3e}");
        let (mantissa, e) = s.split_once('e').expect("scientific notation");
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{e}")
    }
}

/// A TOML value, compactly: strings bare, a table with `type` as `type(values...)`, arrays
/// in brackets.
fn describe_toml(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(x) => describe_float(*x),
        toml::Value::Array(a) => {
            let items: Vec<String> = a.iter().map(describe_toml).collect();
            format!("[{}]", items.join(", "))
        }
        toml::Value::Table(t) => match t.get("type").and_then(|ty| ty.as_str()) {
            Some(ty) => {
                let rest: Vec<String> = t
                    .iter()
                    .filter(|(k, _)| *k != "type")
                    .map(|(_, v)| describe_toml(v))
                    .collect();
                if rest.is_empty() {
                    ty.to_string()
                } else {
                    format!("{ty}({})", rest.join(", "))
                }
            }
            None => {
                let items: Vec<String> = t
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", describe_toml(v)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_float;

    #[test]
    fn floats_keep_four_significant_digits() {
        for (x, s) in [
            (0.0007, "0.0007"),
            (0.000_123_456, "0.0001235"),
            (0.999_12, "0.9991"),
            (123.456, "123.5"),
            (0.1, "0.1"),
            (1.0, "1"),
            (1.234_56e-5, "1.235e-5"),
            (3e7, "3e7"),
            (-0.5, "-0.5"),
            (0.0, "0"),
        ] {
            assert_eq!(describe_float(x), s, "{x}");
        }
    }
}
