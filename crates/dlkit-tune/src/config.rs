//! The `[tune]` table: how many trials, which sampler and pruner, the seed and the search
//! space. It sits in a config beside `[train]`, or in a study file that names its base
//! config:
//!
//! ```toml
//! [tune]
//! config = "examples/moons_adam.toml"   # study files only: the base config
//! trials = 30                           # may be left out with the grid sampler: its size
//! seed = 0                              # seeds every sampler draw (default 0)
//! sampler = "tpe"                       # "random" (default), "grid", "coarse_to_fine", "tpe",
//!                                       # or a table: { type = "tpe", n_startup_trials = 10 }
//! pruner = { type = "median", n_startup_trials = 5 }   # "none" (default), "median", "asha"
//!
//! [tune.params]
//! "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
//! ```
//!
//! Unknown fields are errors, each naming its table ([`SpaceError`]). The sampler's options
//! are in [`crate::sampler`], the pruner's in [`crate::pruner`], the parameters' in
//! [`crate::space`].

use std::path::PathBuf;

use serde::de::DeserializeOwned;

use crate::pruner::{Pruner, PrunerConfig};
use crate::sampler::{grid_points, Sampler, SamplerConfig};
use crate::space::SearchSpace;
use crate::space_error::SpaceError;

/// A parsed `[tune]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneConfig {
    /// In a study file: the base config the parameters are set into, relative to the study
    /// file.
    pub config: Option<PathBuf>,
    /// How many trials the study runs; `None` only with the grid sampler (then its size,
    /// see [`TuneConfig::trial_count`]).
    pub trials: Option<u64>,
    /// Seeds every sampler draw, so the same seed gives the same trials.
    pub seed: u64,
    pub sampler: SamplerConfig,
    pub pruner: PrunerConfig,
    pub params: SearchSpace,
}

const FIELDS: [&str; 6] = ["config", "trials", "seed", "sampler", "pruner", "params"];

impl TuneConfig {
    /// Parses the contents of a `[tune]` table.
    pub fn from_table(table: &toml::Table) -> Result<TuneConfig, SpaceError> {
        if let Some(k) = table.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let expected: Vec<String> = FIELDS.iter().map(|f| format!("`{f}`")).collect();
            return Err(SpaceError::new(
                "[tune]",
                format!(
                    "unknown field `{k}`, expected one of {}",
                    expected.join(", ")
                ),
            ));
        }
        let config = field::<PathBuf>(table, "config")?;
        let trials = field::<u64>(table, "trials")?;
        let seed = field::<u64>(table, "seed")?.unwrap_or(0);
        let sampler: SamplerConfig = tagged(table, "sampler")?;
        let pruner: PrunerConfig = tagged(table, "pruner")?;
        sampler.validate()?;
        pruner.validate()?;
        let params = match table.get("params") {
            None => {
                return Err(SpaceError::new(
                    "[tune]",
                    "missing field `params`: the search space, a [tune.params] table",
                ))
            }
            Some(toml::Value::Table(t)) => SearchSpace::from_table(t)?,
            Some(v) => {
                return Err(SpaceError::new(
                    "[tune] params",
                    format!("expected a table of parameter paths, got {v}"),
                ))
            }
        };
        match trials {
            Some(0) => {
                return Err(SpaceError::new(
                    "[tune] trials",
                    "must be at least 1, got 0",
                ))
            }
            None if !matches!(sampler, SamplerConfig::Grid(_)) => {
                return Err(SpaceError::new(
                    "[tune]",
                    "missing field `trials`: how many trials to run (only the grid sampler \
                     may leave it out, to run its whole grid)",
                ))
            }
            _ => {}
        }
        Ok(TuneConfig {
            config,
            trials,
            seed,
            sampler,
            pruner,
            params,
        })
    }

    /// The number of trials to run: `trials`, or the grid's size.
    pub fn trial_count(&self) -> u64 {
        match (self.trials, &self.sampler) {
            (Some(n), _) => n,
            (None, SamplerConfig::Grid(g)) => {
                grid_points(&self.params, g.points_per_param).len() as u64
            }
            (None, _) => unreachable!("from_table requires trials for every other sampler"),
        }
    }

    /// Replaces the sampler with `name`'s (`random`, `grid`, `coarse_to_fine`, `tpe`) at its
    /// default options, as `sampler = "name"` would. Errors on an unknown name, and when the
    /// study gives no `trials` and the new sampler is not the grid (which alone has a size).
    pub fn set_sampler(&mut self, name: &str) -> Result<(), SpaceError> {
        let table = toml::Table::from_iter([("sampler".to_string(), name.into())]);
        let sampler: SamplerConfig = tagged(&table, "sampler")?;
        if self.trials.is_none() && !matches!(sampler, SamplerConfig::Grid(_)) {
            return Err(SpaceError::new(
                "[tune] trials",
                format!("missing: the {name} sampler needs a number of trials (only the grid has a size of its own)"),
            ));
        }
        self.sampler = sampler;
        Ok(())
    }

    /// The sampler, seeded with `seed`.
    pub fn build_sampler(&self) -> Box<dyn Sampler> {
        self.sampler.build(self.seed)
    }

    /// The pruner; `None` for `pruner = "none"`.
    pub fn build_pruner(&self) -> Option<Box<dyn Pruner>> {
        self.pruner.build()
    }
}

/// `[tune] name`, if present, as a `T`.
fn field<T: DeserializeOwned>(table: &toml::Table, name: &str) -> Result<Option<T>, SpaceError> {
    table
        .get(name)
        .map(|v| {
            v.clone().try_into().map_err(|e: toml::de::Error| {
                SpaceError::new(format!("[tune] {name}"), e.message())
            })
        })
        .transpose()
}

/// `[tune] name` as a `type`-tagged table, or a bare name standing for `{ type = name }`;
/// left out: the default.
fn tagged<T: DeserializeOwned + Default>(table: &toml::Table, name: &str) -> Result<T, SpaceError> {
    let value = match table.get(name) {
        None => return Ok(T::default()),
        Some(toml::Value::String(s)) => toml::Value::Table(toml::Table::from_iter([(
            "type".to_string(),
            s.clone().into(),
        )])),
        Some(v) => v.clone(),
    };
    value
        .try_into()
        .map_err(|e: toml::de::Error| SpaceError::new(format!("[tune.{name}]"), e.message().trim()))
}
