//! Classification metrics and the course's way of choosing between models with them.
//!
//! - [`accuracy`], and precision, recall and F1 ([`precision_recall_f1`]) for a binary
//!   problem (the positive class configurable, 1 by default) or macro-averaged over the classes
//!   of a multi-class problem; all computed from a [`ConfusionMatrix`] (rows: true class,
//!   columns: predicted class), which prints as a text table.
//! - [`Metric`] names a metric in configs and reports (`"accuracy"`, `"f1"`,
//!   `"inference_ms_per_example"`, ...). An [`Objective`] is the course's "single optimizing
//!   metric, the others satisficing": maximise (or minimise) one metric subject to
//!   [`Satisficing`] constraints such as `{ metric = "inference_ms_per_example", max = 10.0 }`
//!   or `{ metric = "recall", min = 0.95 }`; [`check_satisficing`] reports whether each
//!   constraint was met.
//!
//! Labels are class indices (`usize`). The formulas are the course's: precision = TP / (TP +
//! FP), recall = TP / (TP + FN), F1 = 2 / (1/P + 1/R), computed as 2 TP / (2 TP + FP + FN),
//! which is the same number wherever both are defined and also defined when P or R is 0.
//!
//! # Zero division (scikit-learn's `zero_division=0`)
//!
//! A class that is never predicted has no precision (0/0), and a class that never occurs in
//! `y_true` has no recall (0/0). Both are then taken as 0, as scikit-learn does with
//! `zero_division=0`, and the [`Scores`] carry a note saying so, so that a report can show why
//! a score is 0 rather than silently lowering it. F1 is 0 when TP + FP + FN = 0.
//!
//! # Macro averages
//!
//! A macro average is the unweighted mean over the classes that occur in `y_true` or in
//! `y_pred` (scikit-learn's default label set): a class counted in the confusion matrix but
//! absent from both is left out rather than averaged in as 0. Macro F1 is the mean of the
//! per-class F1 scores (as scikit-learn computes it), not the F1 of macro precision and macro
//! recall.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What went wrong computing a metric or building a constraint.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// `y_true` and `y_pred` differ in length.
    #[error("y_true has {y_true} labels but y_pred has {y_pred}: they must have one label per example each")]
    LengthMismatch { y_true: usize, y_pred: usize },
    /// No examples (or a confusion matrix with no counts).
    #[error("{what}: no examples, at least one is needed")]
    Empty { what: &'static str },
    /// A label is not below the number of classes.
    #[error("{which}[{index}] = {label} is not a class: there are {n_classes} classes (0 to {})", .n_classes.saturating_sub(1))]
    LabelOutOfRange {
        which: &'static str,
        index: usize,
        label: usize,
        n_classes: usize,
    },
    /// A confusion matrix given as counts is not square.
    #[error("confusion matrix: row {row} has {len} counts, expected {n_classes} (one per class)")]
    NotSquare {
        row: usize,
        len: usize,
        n_classes: usize,
    },
    /// The wrong number of class names.
    #[error("class names: {given} given for {n_classes} classes")]
    ClassNames { given: usize, n_classes: usize },
    /// A satisficing constraint that cannot be checked.
    #[error("satisficing constraint on {metric}: {reason}")]
    InvalidConstraint { metric: Metric, reason: String },
}

/// Results of this module.
pub type Result<T, E = MetricError> = std::result::Result<T, E>;

fn check_lengths(y_true: &[usize], y_pred: &[usize], what: &'static str) -> Result<()> {
    if y_true.len() != y_pred.len() {
        return Err(MetricError::LengthMismatch {
            y_true: y_true.len(),
            y_pred: y_pred.len(),
        });
    }
    if y_true.is_empty() {
        return Err(MetricError::Empty { what });
    }
    Ok(())
}

/// The fraction of examples whose predicted label equals the true one.
pub fn accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64> {
    check_lengths(y_true, y_pred, "accuracy")?;
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// How precision, recall and F1 summarise the classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// The scores of one class, `positive`, against all the others (any other label counts as
    /// negative). The default is `Binary { positive: 1 }`.
    Binary { positive: usize },
    /// The unweighted mean of the per-class scores over the classes present in `y_true` or
    /// `y_pred` (see the module documentation).
    Macro,
}

impl Default for Average {
    fn default() -> Self {
        Average::Binary { positive: 1 }
    }
}

/// Precision, recall and F1 of one class, one-vs-rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassScores {
    pub class: usize,
    /// The class's name where the confusion matrix has names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples of this class in `y_true` (TP + FN).
    pub support: u64,
    /// Examples predicted as this class (TP + FP).
    pub predicted: u64,
}

/// Precision, recall and F1 as averaged by `average`, with the per-class scores behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub average: Average,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// The classes averaged: the positive class alone for [`Average::Binary`].
    pub classes: Vec<ClassScores>,
    /// Zero divisions that were taken as 0 (see the module documentation), one line each.
    pub notes: Vec<String>,
}

/// Precision, recall and F1 of `y_pred` against `y_true` (see the module documentation for
/// the conventions). The number of classes is the largest label seen plus one.
///
/// ```
/// use dlkit_train::metrics::{precision_recall_f1, Average};
/// let s = precision_recall_f1(&[1, 1, 0, 0], &[1, 0, 1, 0], Average::default()).unwrap();
/// assert_eq!((s.precision, s.recall, s.f1), (0.5, 0.5, 0.5));
/// ```
pub fn precision_recall_f1(y_true: &[usize], y_pred: &[usize], average: Average) -> Result<Scores> {
    check_lengths(y_true, y_pred, "precision, recall and F1")?;
    let mut n_classes = y_true.iter().chain(y_pred).max().map_or(0, |m| m + 1);
    if let Average::Binary { positive } = average {
        n_classes = n_classes.max(positive + 1);
    }
    Ok(ConfusionMatrix::new(y_true, y_pred, n_classes)?.scores(average))
}

/// Counts of (true class, predicted class) pairs: `count(t, p)` examples of class `t` were
/// predicted as `p`. Rows are true classes, columns predicted classes (scikit-learn's layout).
///
/// `Display` prints a table with the class names (or indices) as headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    class_names: Option<Vec<String>>,
}

impl ConfusionMatrix {
    /// Counts the pairs of `y_true` and `y_pred`, whose labels must be below `n_classes`.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        check_lengths(y_true, y_pred, "confusion matrix")?;
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
            for (which, label) in [("y_true", t), ("y_pred", p)] {
                if label >= n_classes {
                    return Err(MetricError::LabelOutOfRange {
                        which,
                        index: i,
                        label,
                        n_classes,
                    });
                }
            }
            counts[t][p] += 1;
        }
        Ok(ConfusionMatrix {
            counts,
            class_names: None,
        })
    }

    /// A confusion matrix from its counts, `counts[true][predicted]`: square, not all zero.
    pub fn from_counts(counts: Vec<Vec<u64>>) -> Result<Self> {
        let n = counts.len();
        for (row, r) in counts.iter().enumerate() {
            if r.len() != n {
                return Err(MetricError::NotSquare {
                    row,
                    len: r.len(),
                    n_classes: n,
                });
            }
        }
        if counts.iter().flatten().all(|&c| c == 0) {
            return Err(MetricError::Empty {
                what: "confusion matrix",
            });
        }
        Ok(ConfusionMatrix {
            counts,
            class_names: None,
        })
    }

    /// Names the classes (one name per class, in class order) for printing and plots.
    pub fn with_class_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.len() != self.n_classes() {
            return Err(MetricError::ClassNames {
                given: names.len(),
                n_classes: self.n_classes(),
            });
        }
        self.class_names = Some(names);
        Ok(self)
    }

    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// How many examples of class `true_class` were predicted as `predicted`.
    pub fn count(&self, true_class: usize, predicted: usize) -> u64 {
        self.counts[true_class][predicted]
    }

    /// The counts, `counts()[true][predicted]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// The class names, if given.
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// The name of class `c`: its given name, or its index.
    pub fn class_label(&self, c: usize) -> String {
        match &self.class_names {
            Some(names) => names[c].clone(),
            None => c.to_string(),
        }
    }

    /// The number of examples.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// The examples predicted correctly (the diagonal).
    pub fn correct(&self) -> u64 {
        (0..self.n_classes()).map(|c| self.counts[c][c]).sum()
    }

    /// Examples of class `c` in `y_true` (the row sum).
    pub fn support(&self, c: usize) -> u64 {
        self.counts[c].iter().sum()
    }

    /// Examples predicted as class `c` (the column sum).
    pub fn predicted(&self, c: usize) -> u64 {
        self.counts.iter().map(|r| r[c]).sum()
    }

    /// The fraction of examples on the diagonal.
    pub fn accuracy(&self) -> f64 {
        self.correct() as f64 / self.total() as f64
    }

    /// Precision, recall and F1 of class `c` against the rest, zero divisions taken as 0.
    pub fn class_scores(&self, c: usize) -> ClassScores {
        self.class_scores_noted(c, &mut Vec::new())
    }

    fn class_scores_noted(&self, c: usize, notes: &mut Vec<String>) -> ClassScores {
        let tp = self.counts[c][c];
        let support = self.support(c);
        let predicted = self.predicted(c);
        let (fp, fn_) = (predicted - tp, support - tp);
        let label = match &self.class_names {
            Some(names) => format!("class {c} ({})", names[c]),
            None => format!("class {c}"),
        };
        let precision = if predicted == 0 {
            notes.push(format!(
                "{label} is never predicted: its precision (0/0) is taken as 0, as scikit-learn's zero_division=0"
            ));
            0.0
        } else {
            tp as f64 / predicted as f64
        };
        let recall = if support == 0 {
            notes.push(format!(
                "{label} never occurs in y_true: its recall (0/0) is taken as 0, as scikit-learn's zero_division=0"
            ));
            0.0
        } else {
            tp as f64 / support as f64
        };
        let denom = 2 * tp + fp + fn_;
        let f1 = if denom == 0 {
            0.0
        } else {
            (2 * tp) as f64 / denom as f64
        };
        ClassScores {
            class: c,
            name: self.class_names.as_ref().map(|n| n[c].clone()),
            precision,
            recall,
            f1,
            support,
            predicted,
        }
    }

    /// Whether class `c` occurs in `y_true` or in `y_pred`.
    fn present(&self, c: usize) -> bool {
        self.support(c) > 0 || self.predicted(c) > 0
    }

    /// Precision, recall and F1 as `average` says. A binary positive class beyond the matrix
    /// is a programming error and panics.
    pub fn scores(&self, average: Average) -> Scores {
        let mut notes = Vec::new();
        match average {
            Average::Binary { positive } => {
                assert!(
                    positive < self.n_classes(),
                    "positive class {positive} is not one of the {} classes",
                    self.n_classes()
                );
                let s = self.class_scores_noted(positive, &mut notes);
                Scores {
                    average,
                    precision: s.precision,
                    recall: s.recall,
                    f1: s.f1,
                    classes: vec![s],
                    notes,
                }
            }
            Average::Macro => {
                let classes: Vec<ClassScores> = (0..self.n_classes())
                    .filter(|&c| self.present(c))
                    .map(|c| self.class_scores_noted(c, &mut notes))
                    .collect();
                let k = classes.len() as f64;
                let mean = |f: fn(&ClassScores) -> f64| classes.iter().map(f).sum::<f64>() / k;
                Scores {
                    average,
                    precision: mean(|s| s.precision),
                    recall: mean(|s| s.recall),
                    f1: mean(|s| s.f1),
                    classes,
                    notes,
                }
            }
        }
    }
}

impl fmt::Display for ConfusionMatrix {
    /// ```text
    /// confusion matrix (rows: true class, columns: predicted class)
    /// true \ pred  non-cat  cat
    /// non-cat           15    2
    /// cat                3   30
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.n_classes();
        let labels: Vec<String> = (0..n).map(|c| self.class_label(c)).collect();
        let corner = "true \\ pred";
        let first = labels
            .iter()
            .map(|l| l.chars().count())
            .chain([corner.len()])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = (0..n)
            .map(|p| {
                let digits = (0..n)
                    .map(|t| self.counts[t][p].to_string().len())
                    .max()
                    .unwrap_or(1);
                digits.max(labels[p].chars().count())
            })
            .collect();
        writeln!(
            f,
            "confusion matrix (rows: true class, columns: predicted class)"
        )?;
        write!(f, "{corner:<first$}")?;
        for (label, w) in labels.iter().zip(&widths) {
            write!(f, "  {label:>w$}")?;
        }
        for (t, label) in labels.iter().enumerate() {
            writeln!(f)?;
            write!(f, "{label:<first$}")?;
            for (p, w) in widths.iter().enumerate() {
                write!(f, "  {:>w$}", self.counts[t][p])?;
            }
        }
        Ok(())
    }
}

/// A metric, by the name configs and reports use (snake_case: `"accuracy"`, `"error"`,
/// `"precision"`, `"recall"`, `"f1"`, `"cost"`, `"inference_ms_per_example"`,
/// `"parameter_count"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Fraction correct, in [0, 1].
    Accuracy,
    /// Fraction wrong (1 - accuracy), in [0, 1].
    Error,
    /// Precision, binary or macro-averaged as the run's [`Average`] says.
    Precision,
    /// Recall, binary or macro-averaged.
    Recall,
    /// F1 score, binary or macro-averaged.
    F1,
    /// The cost (loss) the model is trained on.
    Cost,
    /// Milliseconds of inference per example.
    InferenceMsPerExample,
    /// Trainable parameters of the model.
    ParameterCount,
}

/// Whether more or less of a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Maximize,
    Minimize,
}

impl Metric {
    /// Every metric, in declaration order.
    pub const ALL: [Metric; 8] = [
        Metric::Accuracy,
        Metric::Error,
        Metric::Precision,
        Metric::Recall,
        Metric::F1,
        Metric::Cost,
        Metric::InferenceMsPerExample,
        Metric::ParameterCount,
    ];

    /// The snake_case name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Error => "error",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
            Metric::Cost => "cost",
            Metric::InferenceMsPerExample => "inference_ms_per_example",
            Metric::ParameterCount => "parameter_count",
        }
    }

    /// Whether larger values are better (accuracy, precision, recall, F1) or smaller (error,
    /// cost, time, size).
    pub fn direction(self) -> Direction {
        match self {
            Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1 => {
                Direction::Maximize
            }
            Metric::Error
            | Metric::Cost
            | Metric::InferenceMsPerExample
            | Metric::ParameterCount => Direction::Minimize,
        }
    }

    /// Whether `a` is strictly better than `b` for this metric (false if either is NaN).
    pub fn is_better(self, a: f64, b: f64) -> bool {
        match self.direction() {
            Direction::Maximize => a > b,
            Direction::Minimize => a < b,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
                format!("unknown metric {s:?}: expected one of {}", names.join(", "))
            })
    }
}

/// The values of some metrics for one model (on one split).
pub type MetricValues = BTreeMap<Metric, f64>;

/// A satisficing constraint: `metric` must be at least `min` and/or at most `max`, both
/// inclusive. In TOML: `{ metric = "inference_ms_per_example", max = 10.0 }` or
/// `{ metric = "recall", min = 0.95 }`. Deserializing checks it as [`Satisficing::new`] does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SatisficingFields")]
pub struct Satisficing {
    metric: Metric,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SatisficingFields {
    metric: Metric,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

impl TryFrom<SatisficingFields> for Satisficing {
    type Error = MetricError;
    fn try_from(f: SatisficingFields) -> Result<Self> {
        Satisficing::new(f.metric, f.min, f.max)
    }
}

impl Satisficing {
    /// `min <= metric <= max`; at least one bound, each finite, `min <= max`.
    pub fn new(metric: Metric, min: Option<f64>, max: Option<f64>) -> Result<Self> {
        let invalid = |reason: String| Err(MetricError::InvalidConstraint { metric, reason });
        if min.is_none() && max.is_none() {
            return invalid("give `min`, `max` or both".into());
        }
        for (name, bound) in [("min", min), ("max", max)] {
            if let Some(b) = bound {
                if !b.is_finite() {
                    return invalid(format!("`{name}` must be a finite number, got {b}"));
                }
            }
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return invalid(format!("`min` ({lo}) is above `max` ({hi})"));
            }
        }
        Ok(Satisficing { metric, min, max })
    }

    /// `metric <= max` (for example inference time).
    pub fn at_most(metric: Metric, max: f64) -> Result<Self> {
        Satisficing::new(metric, None, Some(max))
    }

    /// `metric >= min` (for example recall).
    pub fn at_least(metric: Metric, min: f64) -> Result<Self> {
        Satisficing::new(metric, Some(min), None)
    }

    pub fn metric(&self) -> Metric {
        self.metric
    }

    pub fn min(&self) -> Option<f64> {
        self.min
    }

    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// Whether `value` (the metric's value, if measured) meets the constraint. An unmeasured
    /// or NaN value does not.
    pub fn check(&self, value: Option<f64>) -> ConstraintCheck {
        let (met, detail) = match value {
            None => (false, "not measured".to_string()),
            Some(v) if v.is_nan() => (false, "NaN".to_string()),
            Some(v) => {
                let low = self.min.is_some_and(|lo| v < lo);
                let high = self.max.is_some_and(|hi| v > hi);
                if low {
                    (false, format!("{v} is below the minimum"))
                } else if high {
                    (false, format!("{v} is above the maximum"))
                } else {
                    (true, format!("{v}"))
                }
            }
        };
        ConstraintCheck {
            constraint: self.clone(),
            value,
            met,
            detail,
        }
    }
}

impl fmt::Display for Satisficing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => write!(f, "{lo} <= {} <= {hi}", self.metric),
            (Some(lo), None) => write!(f, "{} >= {lo}", self.metric),
            (None, Some(hi)) => write!(f, "{} <= {hi}", self.metric),
            (None, None) => write!(f, "{} (unconstrained)", self.metric),
        }
    }
}

/// Whether one satisficing constraint was met, and by what value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstraintCheck {
    pub constraint: Satisficing,
    pub value: Option<f64>,
    pub met: bool,
    /// The value, or why the constraint was not met ("not measured", "... is above the
    /// maximum").
    pub detail: String,
}

impl fmt::Display for ConstraintCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.met { "met" } else { "NOT met" };
        write!(f, "{}: {verdict} ({})", self.constraint, self.detail)
    }
}

/// Checks each constraint against `values`, in order. A metric missing from `values` fails
/// its constraint ("not measured").
pub fn check_satisficing(
    constraints: &[Satisficing],
    values: &MetricValues,
) -> Vec<ConstraintCheck> {
    constraints
        .iter()
        .map(|c| c.check(values.get(&c.metric).copied()))
        .collect()
}

/// The course's single-number evaluation: one optimizing metric, the others satisficing.
/// In TOML:
///
/// ```toml
/// optimizing = "accuracy"
/// satisficing = [{ metric = "inference_ms_per_example", max = 100.0 }]
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub optimizing: Metric,
    #[serde(default)]
    pub satisficing: Vec<Satisficing>,
}

/// One model's values judged by an [`Objective`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub optimizing: Metric,
    /// The optimizing metric's value, if measured.
    pub value: Option<f64>,
    pub checks: Vec<ConstraintCheck>,
    /// Every constraint met and the optimizing metric measured (not NaN).
    pub feasible: bool,
}

impl Objective {
    pub fn new(optimizing: Metric, satisficing: Vec<Satisficing>) -> Self {
        Objective {
            optimizing,
            satisficing,
        }
    }

    /// Judges one model's metric values.
    pub fn evaluate(&self, values: &MetricValues) -> Evaluation {
        let value = values.get(&self.optimizing).copied();
        let checks = check_satisficing(&self.satisficing, values);
        let feasible = value.is_some_and(|v| !v.is_nan()) && checks.iter().all(|c| c.met);
        Evaluation {
            optimizing: self.optimizing,
            value,
            checks,
            feasible,
        }
    }

    /// The index of the best candidate: the best optimizing value among those meeting every
    /// satisficing constraint (the first on a tie), or `None` if none does.
    pub fn best<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a MetricValues>,
    ) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, values) in candidates.into_iter().enumerate() {
            let e = self.evaluate(values);
            if !e.feasible {
                continue;
            }
            let v = e.value.expect("a feasible evaluation has a value");
            if best.is_none_or(|(_, b)| self.optimizing.is_better(v, b)) {
                best = Some((i, v));
            }
        }
        best.map(|(i, _)| i)
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "optimizing {} = {v}", self.optimizing)?,
            None => write!(f, "optimizing {} not measured", self.optimizing)?,
        }
        for c in &self.checks {
            write!(f, "\n  {c}")?;
        }
        write!(
            f,
            "\n  {}",
            if self.feasible {
                "feasible"
            } else {
                "not feasible"
            }
        )
    }
}
