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

#[cfg(test)]
mod tests {
    use super::*;
    use dlkit_train::metrics::{MetricValues, Objective, Satisficing};

    #[test]
    fn a_broken_constraint_leaves_the_trial_without_a_value() {
        assert_eq!(direction(Metric::Accuracy), Direction::Maximize);
        assert_eq!(direction(Metric::Cost), Direction::Minimize);
        let objective = Objective::new(
            Metric::Accuracy,
            vec![Satisficing::at_least(Metric::Recall, 0.9).unwrap()],
        );
        let values =
            |recall| MetricValues::from([(Metric::Accuracy, 0.8), (Metric::Recall, recall)]);
        assert_eq!(trial_value(&objective.evaluate(&values(0.95))), Some(0.8));
        assert_eq!(trial_value(&objective.evaluate(&values(0.5))), None);
        let unmeasured = MetricValues::from([(Metric::Recall, 0.95)]);
        assert_eq!(trial_value(&objective.evaluate(&unmeasured)), None);
    }
}
