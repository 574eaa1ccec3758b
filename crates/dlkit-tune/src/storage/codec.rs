//! Rows to types and back, and the rules both back ends share: which trial a worker may
//! change, what a stale trial's attributes say, whether an existing study fits a config.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{StudyId, StudyInfo, StudyMeta, TrialRef, FAIL_REASON, REQUEUED_AS, REQUEUED_FROM};
use crate::error::{ConfigMismatch, Result, TuneError};
use crate::trial::{Direction, Params, Trial, TrialState};

pub type Attrs = BTreeMap<String, serde_json::Value>;

/// A `dlkit_trials` row as read.
pub struct TrialRow {
    pub id: i64,
    pub number: i64,
    pub state: String,
    pub params: String,
    pub value: Option<f64>,
    pub worker: Option<String>,
    pub attrs: String,
}

/// A `dlkit_studies` row as read.
pub struct StudyRow {
    pub id: i64,
    pub name: String,
    pub fingerprint: String,
    pub direction: String,
    pub meta: String,
    pub attrs: String,
}

/// Reads a study's rows back, naming the storage and the study in errors.
pub struct Decoder<'a> {
    pub url: &'a str,
    pub study: &'a str,
}

impl Decoder<'_> {
    fn corrupt(&self, what: &str, reason: impl ToString) -> TuneError {
        TuneError::Corrupt {
            url: self.url.to_string(),
            study: self.study.to_string(),
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }

    pub fn params(&self, text: &str) -> Result<Params> {
        serde_json::from_str(text).map_err(|e| self.corrupt("trial parameters", e))
    }

    pub fn attrs(&self, text: &str) -> Result<Attrs> {
        serde_json::from_str(text).map_err(|e| self.corrupt("attributes", e))
    }

    pub fn state(&self, text: &str) -> Result<TrialState> {
        TrialState::parse(text).ok_or_else(|| {
            self.corrupt(
                "trial state",
                format!("{text:?}, expected waiting, running, complete, pruned or failed"),
            )
        })
    }

    pub fn number(&self, number: i64) -> Result<u64> {
        u64::try_from(number).map_err(|e| self.corrupt("trial number", e))
    }

    pub fn study(&self, row: StudyRow) -> Result<StudyInfo> {
        let direction = match row.direction.as_str() {
            "minimize" => Direction::Minimize,
            "maximize" => Direction::Maximize,
            other => {
                return Err(self.corrupt(
                    "direction",
                    format!("{other:?}, expected minimize or maximize"),
                ))
            }
        };
        let meta = serde_json::from_str(&row.meta).map_err(|e| self.corrupt("study meta", e))?;
        Ok(StudyInfo {
            id: StudyId::new(row.id, &row.name),
            meta: StudyMeta {
                config_fingerprint: row.fingerprint,
                direction,
                meta,
            },
            attrs: self.attrs(&row.attrs)?,
        })
    }

    /// `rows` (by number) with their per-epoch values `(trial id, epoch, value)`.
    pub fn trials(&self, rows: Vec<TrialRow>, values: &[(i64, i64, f64)]) -> Result<Vec<Trial>> {
        let mut by_id: BTreeMap<i64, Vec<(usize, f64)>> = BTreeMap::new();
        for &(trial, epoch, value) in values {
            let epoch = usize::try_from(epoch).map_err(|e| self.corrupt("epoch", e))?;
            by_id.entry(trial).or_default().push((epoch, value));
        }
        rows.into_iter()
            .map(|row| {
                let mut intermediate = by_id.remove(&row.id).unwrap_or_default();
                intermediate.sort_by_key(|(epoch, _)| *epoch);
                Ok(Trial {
                    number: self.number(row.number)?,
                    state: self.state(&row.state)?,
                    params: self.params(&row.params)?,
                    intermediate,
                    value: row.value,
                    worker: row.worker,
                    attrs: self.attrs(&row.attrs)?,
                })
            })
            .collect()
    }
}

pub fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("parameters and attributes serialise to JSON")
}

pub fn direction_str(direction: Direction) -> &'static str {
    match direction {
        Direction::Minimize => "minimize",
        Direction::Maximize => "maximize",
    }
}

/// An existing study is continued only by the config and search space it was made from.
pub fn check_fingerprint(url: &str, existing: &StudyInfo, given: &StudyMeta) -> Result<()> {
    if existing.meta.config_fingerprint == given.config_fingerprint {
        return Ok(());
    }
    Err(TuneError::ConfigMismatch(Box::new(ConfigMismatch {
        url: url.to_string(),
        study: existing.id.name().to_string(),
        stored: existing.meta.config_fingerprint.clone(),
        stored_from: existing.meta.source(),
        given: given.config_fingerprint.clone(),
        given_from: given.source(),
    })))
}

/// A trial row's state and owner, if it exists: `report`, `heartbeat` and `finish` may act
/// on it only while it is running for `trial.worker`.
pub fn check_owner(
    url: &str,
    trial: &TrialRef,
    row: Option<(String, Option<String>)>,
) -> Result<()> {
    let decoder = Decoder {
        url,
        study: trial.study.name(),
    };
    let Some((state, owner)) = row else {
        return Err(TuneError::Database {
            url: url.to_string(),
            reason: format!(
                "study {:?} has no trial {}",
                trial.study.name(),
                trial.number
            ),
        });
    };
    let state = decoder.state(&state)?;
    if state == TrialState::Running && owner.as_deref() == Some(trial.worker.as_str()) {
        return Ok(());
    }
    Err(TuneError::TrialNotRunning {
        url: url.to_string(),
        study: trial.study.name().to_string(),
        number: trial.number,
        worker: trial.worker.clone(),
        state,
        owner,
    })
}

/// A stale trial's attributes once failed: why, and the number its parameters run again as.
pub fn stale_attrs(
    mut attrs: Attrs,
    worker: Option<&str>,
    timeout: Duration,
    requeued_as: u64,
) -> Attrs {
    attrs.insert(
        FAIL_REASON.to_string(),
        format!(
            "no heartbeat from worker {} for {:.3} s",
            worker.unwrap_or("none"),
            timeout.as_secs_f64()
        )
        .into(),
    );
    attrs.insert(REQUEUED_AS.to_string(), requeued_as.into());
    attrs
}

/// The attributes of the trial that runs a stale trial's parameters again.
pub fn requeued_attrs(from: u64) -> Attrs {
    BTreeMap::from([(REQUEUED_FROM.to_string(), from.into())])
}

/// A waiting trial as `worker` has just claimed it: running, its worker set.
pub fn claimed(mut trial: Trial, worker: &str) -> Trial {
    trial.state = TrialState::Running;
    trial.worker = Some(worker.to_string());
    trial
}

/// The number of the trial to create after `trials` (numbers are dense), or `None` when
/// `max_trials` of them count against the budget already ([`super::budget_used`]).
pub fn next_number(trials: &[Trial], max_trials: Option<u64>) -> Option<u64> {
    if max_trials.is_some_and(|max| super::budget_used(trials) >= max) {
        return None;
    }
    Some(trials.last().map_or(0, |t| t.number + 1))
}

/// A trial just created with `params`, running for `worker`.
pub fn running(number: u64, params: Params, worker: &str) -> Trial {
    Trial {
        number,
        state: TrialState::Running,
        params,
        intermediate: Vec::new(),
        value: None,
        worker: Some(worker.to_string()),
        attrs: BTreeMap::new(),
    }
}
