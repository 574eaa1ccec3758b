//! A trial's objective: the config's optimizing metric on the dev set, with its satisficing
//! constraints honoured, and the direction it is optimised in.

use dlkit_train::metrics::{self, Evaluation, Metric};

use crate::trial::Direction;

/// The direction of the optimizing metric: maximise accuracy, precision, recall, F1;
/// minimise error, cost, time, size.
pub fn direction(metric: Metric) -> Direction {
    match metric.direction() {
        metrics::Direction::Maximize => Direction::Maximize,
        metrics::Direction::Minimize => Direction::Minimize,
    }
}

/// A trial's value from its dev-set evaluation: the optimizing metric's value when every
/// satisficing constraint is met, `None` when one is broken or the metric was not measured
/// (such a trial never wins, and samplers do not learn from it).
pub fn trial_value(evaluation: &Evaluation) -> Option<f64> {
    evaluation.value.filter(|_| evaluation.feasible)
}
