//! The course's ML-strategy diagnosis: from the errors on the training, train-dev, dev and
//! test sets and a human-level error, which problem to work on next and how.
//!
//! | gap | formula | what it measures |
//! |---|---|---|
//! | avoidable bias | train − human | how far training is from the best achievable (human-level error stands in for Bayes error) |
//! | variance | train-dev − train | how much worse the model does on unseen data of the training distribution |
//! | data mismatch | dev − train-dev | how much worse it does on the dev distribution than on the training one |
//! | overfitting to dev | test − dev | how far the choices tuned on the dev set have fitted it |
//!
//! Without a train-dev split (a held-out part of the training distribution, not trained on)
//! variance is dev − train, which then also contains any data mismatch; the diagnosis says so.
//! Without a human-level error, Bayes error is taken as 0 and the bias gap is the training
//! error itself, as in the course's first bias/variance table.
//!
//! The largest gap above a tolerance (by default one percentage point,
//! [`DEFAULT_TOLERANCE`]) is the problem to work on first; every gap above it gets the
//! course's remedies ([`Problem::remedies`]). Errors are fractions in [0, 1] (0.08 for 8%).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Gaps at or below this (one percentage point) are not called a problem.
pub const DEFAULT_TOLERANCE: f64 = 0.01;

/// An error rate or tolerance that cannot be diagnosed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value}: {reason}")]
pub struct DiagnoseError {
    /// The field: `train`, `train_dev`, `dev`, `test`, `human` or `tolerance`.
    pub field: &'static str,
    pub value: f64,
    pub reason: String,
}

/// Error rates (fractions in [0, 1]) on each split, and human-level error as a proxy for
/// Bayes error. `train` and `dev` are required, the others optional. In TOML:
///
/// ```toml
/// human = 0.01
/// train = 0.08
/// train_dev = 0.09
/// dev = 0.10
/// test = 0.105
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorRates {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human: Option<f64>,
    pub train: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_dev: Option<f64>,
    pub dev: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<f64>,
}

impl ErrorRates {
    /// Training and dev errors alone.
    pub fn new(train: f64, dev: f64) -> Self {
        ErrorRates {
            human: None,
            train,
            train_dev: None,
            dev,
            test: None,
        }
    }

    /// Adds a human-level error (the Bayes-error proxy).
    pub fn with_human(mut self, human: f64) -> Self {
        self.human = Some(human);
        self
    }

    /// Adds the error on the train-dev split.
    pub fn with_train_dev(mut self, train_dev: f64) -> Self {
        self.train_dev = Some(train_dev);
        self
    }

    /// Adds the test error.
    pub fn with_test(mut self, test: f64) -> Self {
        self.test = Some(test);
        self
    }

    fn validate(&self) -> Result<(), DiagnoseError> {
        let fields = [
            ("human", self.human),
            ("train", Some(self.train)),
            ("train_dev", self.train_dev),
            ("dev", Some(self.dev)),
            ("test", self.test),
        ];
        for (field, value) in fields {
            if let Some(v) = value {
                if !(0.0..=1.0).contains(&v) {
                    return Err(DiagnoseError {
                        field,
                        value: v,
                        reason: "an error rate must be a fraction in [0, 1] (0.08 for 8%)".into(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The problems a gap between two errors points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Training error well above human-level (or above 0 without one): underfitting.
    AvoidableBias,
    /// Error on unseen data well above the training error: overfitting the training set.
    Variance,
    /// Dev error well above train-dev error: training data unlike dev/test data.
    DataMismatch,
    /// Test error well above dev error: the dev set has been overfitted by tuning on it.
    DevOverfitting,
}

impl Problem {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Problem::AvoidableBias => "avoidable bias",
            Problem::Variance => "variance",
            Problem::DataMismatch => "data mismatch",
            Problem::DevOverfitting => "overfitting to dev",
        }
    }

    /// The course's remedies, most usual first.
    pub fn remedies(self) -> &'static [&'static str] {
        match self {
            Problem::AvoidableBias => &[
                "train a bigger network (more hidden units or layers)",
                "train longer",
                "use a better optimisation algorithm: momentum, RMSprop or Adam",
                "search for a better architecture or hyperparameters",
            ],
            Problem::Variance => &[
                "get more training data",
                "regularise: L2, dropout, data augmentation",
                "stop early (early stopping on the dev error)",
                "search for a better architecture or hyperparameters",
            ],
            Problem::DataMismatch => &[
                "carry out manual error analysis of train-dev and dev examples to see how the \
                 training data differ from dev/test",
                "make the training data more like the dev/test data (or collect more data like \
                 dev/test)",
                "synthesise data like dev/test (beware: a network can overfit a small synthesised \
                 subset of the possibilities)",
            ],
            Problem::DevOverfitting => &[
                "get a bigger dev set (tuning on it has fitted its noise)",
                "check that dev and test come from the same distribution",
            ],
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One gap between two errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub problem: Problem,
    /// How it was computed, e.g. `"train-dev - train"`.
    pub formula: String,
    /// The gap as a fraction (0.05 for five percentage points); may be negative.
    pub value: f64,
    /// Whether it is above the tolerance (by more than 1e-9, so that a gap equal to it up to
    /// rounding is not).
    pub significant: bool,
}

/// The course's remedies for one significant problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub problem: Problem,
    pub gap: f64,
    pub remedies: Vec<String>,
}

/// The result of [`diagnose`]: the errors, the gaps between them, the largest problem and
/// what to do. `Display` prints a small table and the advice; serde writes it to a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub errors: ErrorRates,
    /// Gaps at or below this are not problems.
    pub tolerance: f64,
    /// Every gap that the given errors allow, in the order avoidable bias, variance, data
    /// mismatch, overfitting to dev.
    pub gaps: Vec<Gap>,
    /// The largest significant gap's problem: the one to work on first. `None` when no gap
    /// is above the tolerance.
    pub largest: Option<Problem>,
    /// Remedies for each significant problem, largest gap first.
    pub advice: Vec<Advice>,
    /// What the numbers cannot tell (a missing split, a missing human-level error, a negative
    /// gap), one sentence each.
    pub notes: Vec<String>,
}

impl Diagnosis {
    /// The gap for `problem`, if the given errors allow it.
    pub fn gap(&self, problem: Problem) -> Option<&Gap> {
        self.gaps.iter().find(|g| g.problem == problem)
    }
}

/// Diagnoses `errors` with the default tolerance of one percentage point.
pub fn diagnose(errors: &ErrorRates) -> Result<Diagnosis, DiagnoseError> {
    diagnose_with_tolerance(errors, DEFAULT_TOLERANCE)
}

/// Diagnoses `errors`, calling a gap a problem when it is above `tolerance` (a fraction).
pub fn diagnose_with_tolerance(
    errors: &ErrorRates,
    tolerance: f64,
) -> Result<Diagnosis, DiagnoseError> {
    errors.validate()?;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(DiagnoseError {
            field: "tolerance",
            value: tolerance,
            reason: "must be a finite fraction >= 0 (0.01 for one percentage point)".into(),
        });
    }
    let e = errors;
    let mut notes = Vec::new();
    let mut gaps = Vec::new();
    let mut gap = |problem, formula: &str, value: f64| {
        gaps.push(Gap {
            problem,
            formula: formula.to_string(),
            value,
            // The slack keeps 0.16 - 0.15 (0.010000000000000009) at a 0.01 tolerance.
            significant: value > tolerance + 1e-9,
        })
    };

    match e.human {
        Some(h) => {
            gap(Problem::AvoidableBias, "train - human", e.train - h);
            if e.train < h {
                notes.push(
                    "training error is below human-level error: human-level is no longer a good \
                     proxy for Bayes error here (or the model fits noise in the training set), so \
                     avoidable bias cannot be estimated and progress becomes harder to judge"
                        .into(),
                );
            }
        }
        None => {
            gap(Problem::AvoidableBias, "train - 0", e.train);
            notes.push(
                "no human-level error given: Bayes error is taken as 0, so the bias gap is the \
                 whole training error; give a human-level error to separate avoidable bias from \
                 unavoidable error"
                    .into(),
            );
        }
    }

    match e.train_dev {
        Some(td) => {
            gap(Problem::Variance, "train-dev - train", td - e.train);
            gap(Problem::DataMismatch, "dev - train-dev", e.dev - td);
            if e.dev < td {
                notes.push(
                    "dev error is below train-dev error: the dev data are easier than the \
                     training data"
                        .into(),
                );
            }
        }
        None => {
            gap(Problem::Variance, "dev - train", e.dev - e.train);
            notes.push(
                "no train-dev split: variance is measured as dev - train, which also contains \
                 any data mismatch if the training data come from another distribution than \
                 dev/test; hold out a train-dev set (training distribution, not trained on) to \
                 tell them apart"
                    .into(),
            );
        }
    }

    match e.test {
        Some(t) => gap(Problem::DevOverfitting, "test - dev", t - e.dev),
        None => {
            notes.push("no test error given: overfitting to the dev set is not measured".into())
        }
    }

    let mut significant: Vec<&Gap> = gaps.iter().filter(|g| g.significant).collect();
    // Largest first; the stable sort keeps the course's order on ties.
    significant.sort_by(|a, b| b.value.total_cmp(&a.value));
    let largest = significant.first().map(|g| g.problem);
    let advice = significant
        .iter()
        .map(|g| Advice {
            problem: g.problem,
            gap: g.value,
            remedies: g.problem.remedies().iter().map(|r| r.to_string()).collect(),
        })
        .collect();

    Ok(Diagnosis {
        errors: *errors,
        tolerance,
        gaps,
        largest,
        advice,
        notes,
    })
}

fn percent(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

fn points(v: f64) -> String {
    format!("{:+.2}", 100.0 * v)
}

impl fmt::Display for Diagnosis {
    /// ```text
    /// split                          error
    /// human-level (Bayes proxy)      1.00%
    /// train                          8.00%
    /// train-dev                      9.00%
    /// dev                           10.00%
    /// test                          10.50%
    ///
    /// gap                 formula             points
    /// avoidable bias      train - human        +7.00  <- largest
    /// variance            train-dev - train    +1.00
    /// data mismatch       dev - train-dev      +1.00
    /// overfitting to dev  test - dev           +0.50
    ///
    /// Work on avoidable bias first (7.00 percentage points):
    ///   - train a bigger network (more hidden units or layers)
    ///   ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.errors;
        let rows = [
            ("human-level (Bayes proxy)", e.human),
            ("train", Some(e.train)),
            ("train-dev", e.train_dev),
            ("dev", Some(e.dev)),
            ("test", e.test),
        ];
        writeln!(f, "{:<28}{:>8}", "split", "error")?;
        for (name, value) in rows {
            let shown = value.map_or_else(|| "-".to_string(), percent);
            writeln!(f, "{name:<28}{shown:>8}")?;
        }
        writeln!(f)?;
        writeln!(f, "{:<20}{:<20}{:>7}", "gap", "formula", "points")?;
        for g in &self.gaps {
            let mark = if Some(g.problem) == self.largest {
                "  <- largest"
            } else if g.significant {
                "  <- problem"
            } else {
                ""
            };
            writeln!(
                f,
                "{:<20}{:<20}{:>7}{mark}",
                g.problem.name(),
                g.formula,
                points(g.value)
            )?;
        }
        writeln!(f)?;
        if self.advice.is_empty() {
            writeln!(
                f,
                "No gap is above the tolerance ({:.2} percentage points): train, dev and test \
                 errors are close to each other and to the best achievable.",
                100.0 * self.tolerance
            )?;
            writeln!(
                f,
                "If the model still does badly in its application, change the metric or the \
                 dev/test sets."
            )?;
        }
        for (i, a) in self.advice.iter().enumerate() {
            if i == 0 {
                writeln!(
                    f,
                    "Work on {} first ({:.2} percentage points):",
                    a.problem,
                    100.0 * a.gap
                )?;
            } else {
                writeln!(
                    f,
                    "Then {} ({:.2} percentage points):",
                    a.problem,
                    100.0 * a.gap
                )?;
            }
            for r in &a.remedies {
                writeln!(f, "  - {r}")?;
            }
        }
        if !self.notes.is_empty() {
            writeln!(f, "Notes:")?;
            for n in &self.notes {
                writeln!(f, "  - {n}")?;
            }
        }
        Ok(())
    }
}
