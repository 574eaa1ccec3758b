//! A study as a file describes it: the base config, the `[tune]` table, the direction of the
//! config's optimizing metric, and the fingerprint that ties stored trials to them.
//!
//! The `[tune]` table sits in the config itself, or in a study file whose `[tune] config`
//! names the base config (relative to the study file). Everything is checked before anything
//! is written: the table, every parameter path against the base config, and the config that
//! the lowest and the highest value of every parameter give (so an unknown field, a value of
//! the wrong type or a layer list that does not parse is an error at once).

use std::path::{Path, PathBuf};

use dlkit_train::config::parse;
use dlkit_train::LoadedConfig;

use crate::apply::{apply, validate_paths};
use crate::error::{Result, TuneError};
use crate::objective::direction;
use crate::space::Distribution;
use crate::trial::{Direction, ParamValue, Params};
use crate::TuneConfig;

/// A study ready to run.
#[derive(Clone, Debug)]
pub struct Study {
    /// The study's name in its storage: the study file's stem unless given.
    pub name: String,
    /// The file the `[tune]` table was read from.
    pub file: PathBuf,
    /// The base config, `[tune]` removed, and the file it came from.
    pub base: toml::Value,
    pub base_file: PathBuf,
    /// The base config as loaded (its folders resolve relative paths of every trial).
    pub loaded: LoadedConfig,
    pub tune: TuneConfig,
    pub direction: Direction,
}

impl Study {
    /// Reads the study of `file` (a config with `[tune]`, or a study file naming its base).
    pub fn from_file(file: &Path) -> Result<Study> {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "study".into());
        let table = read_table(file)?;
        let Some(toml::Value::Table(tune)) = table.get("tune") else {
            return Err(TuneError::Config(format!(
                "{}: no [tune] table: a study needs [tune] with [tune.params] (the search space)",
                file.display()
            )));
        };
        let tune = TuneConfig::from_table(tune)
            .map_err(|e| TuneError::Config(format!("{}: {e}", file.display())))?;
        let (base_file, mut base) = match &tune.config {
            Some(rel) => {
                let dir = file.parent().unwrap_or(Path::new("."));
                let path = lexically_normal(&dir.join(rel));
                (path.clone(), read_table(&path)?)
            }
            None => (file.to_path_buf(), table.clone()),
        };
        if base.contains_key("tune") && tune.config.is_some() {
            return Err(TuneError::Config(format!(
                "{}: the base config {} has a [tune] table of its own; give one search space",
                file.display(),
                base_file.display()
            )));
        }
        base.remove("tune");
        let base = toml::Value::Table(base);
        let text = toml::to_string(&base).expect("a TOML table serialises");
        let mut loaded = LoadedConfig::from_file_text(&base_file, &text)?;
        loaded.resolve_data_paths()?;
        validate_paths(&base, &tune.params)
            .map_err(|e| TuneError::Config(format!("{}: {e}", file.display())))?;
        let direction = direction(loaded.config.metrics.optimizing);
        let study = Study {
            name,
            file: file.to_path_buf(),
            base,
            base_file,
            loaded,
            tune,
            direction,
        };
        for end in [0.0, 1.0] {
            study.config_for(&study.extreme(end))?;
        }
        Ok(study)
    }

    /// The parameters at one end of every range (`end` 0: lowest, 1: highest; the first
    /// or last choice).
    fn extreme(&self, end: f64) -> Params {
        self.tune
            .params
            .params()
            .iter()
            .map(|p| {
                let v = match &p.distribution {
                    Distribution::Choice { choices } => {
                        ParamValue::Choice(if end == 0.0 { 0 } else { choices.len() - 1 })
                    }
                    d => {
                        let (lo, hi) = d.internal_range();
                        d.from_internal(lo + end * (hi - lo))
                    }
                };
                (p.path.clone(), v)
            })
            .collect()
    }

    /// The base config with `params` set into it, parsed and its paths resolved as the base
    /// config's. An error names the study file and the parameters.
    pub fn config_for(&self, params: &Params) -> Result<LoadedConfig> {
        let text = self.config_text(params)?;
        let config = parse(&text, &self.loaded.name).map_err(|e| {
            TuneError::Config(format!(
                "{}: the search space gives a config that does not parse ({}): {e}",
                self.file.display(),
                crate::report::describe_params(&self.tune.params, params)
            ))
        })?;
        let mut loaded = LoadedConfig {
            config,
            ..self.loaded.clone()
        };
        loaded.resolve_data_paths()?;
        Ok(loaded)
    }

    /// The base config with `params` set into it, as TOML text (the best trial's config).
    pub fn config_text(&self, params: &Params) -> Result<String> {
        let value = apply(&self.base, &self.tune.params, params)
            .map_err(|e| TuneError::Config(format!("{}: {e}", self.file.display())))?;
        Ok(toml::to_string(&value).expect("a TOML table serialises"))
    }

    /// FNV-1a (64 bit) of the base config and the search space, sampler and pruner (not the
    /// trial count: a study may be continued with more trials), as 16 hex digits.
    pub fn fingerprint(&self) -> String {
        let mut text = toml::to_string(&self.base).expect("a TOML table serialises");
        text.push_str(&format!(
            "\n{:?}\n{:?}\n{:?}\n{}",
            self.tune.params, self.tune.sampler, self.tune.pruner, self.tune.seed
        ));
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

fn read_table(path: &Path) -> Result<toml::Table> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TuneError::Config(format!("{}: cannot read: {e}", path.display())))?;
    text.parse::<toml::Table>()
        .map_err(|e| TuneError::Config(format!("{}: not TOML: {}", path.display(), e.message())))
}

/// `path` with its `.` and `name/..` components removed, without touching the file system
/// (`examples/studies/../moons.toml` is `examples/moons.toml`); a leading `..` stays.
fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lexically_normal;
    use std::path::Path;

    #[test]
    fn lexically_normal_drops_dot_and_parent_pairs_only() {
        let n = |p: &str| lexically_normal(Path::new(p)).display().to_string();
        assert_eq!(n("examples/studies/../moons.toml"), "examples/moons.toml");
        assert_eq!(n("./a/./b.toml"), "a/b.toml");
        assert_eq!(n("../a/../b.toml"), "../b.toml");
        assert_eq!(n("/x/y/../../z"), "/z");
    }
}
