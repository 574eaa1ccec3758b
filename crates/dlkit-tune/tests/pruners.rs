//! The median and ASHA pruners on hand-built histories.

use std::collections::BTreeMap;

use dlkit_tune::pruner::{AshaPruner, MedianPruner};
use dlkit_tune::{Direction, Params, Pruner, Trial, TrialState};

fn trial(number: u64, state: TrialState, values: &[f64]) -> Trial {
    let intermediate: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i + 1, *v))
        .collect();
    let value = match state {
        TrialState::Complete | TrialState::Pruned => values.last().copied(),
        _ => None,
    };
    Trial {
        number,
        state,
        params: Params::new(),
        intermediate,
        value,
        worker: None,
        attrs: BTreeMap::new(),
    }
}

/// Five complete trials, trial `i` reporting `1 + i/10` at each of 5 epochs: the median at
/// every epoch is 1.2.
fn five_complete() -> Vec<Trial> {
    (0..5)
        .map(|i| trial(i, TrialState::Complete, &[1.0 + i as f64 / 10.0; 5]))
        .collect()
}

fn median_prunes(
    p: &MedianPruner,
    values: &[f64],
    history: &[Trial],
    direction: Direction,
) -> bool {
    let t = trial(99, TrialState::Running, values);
    p.should_prune(&t, values.len(), history, direction)
}

#[test]
fn median_compares_the_best_so_far_with_the_median_at_this_epoch() {
    let p = MedianPruner::default();
    let h = five_complete();
    let min = Direction::Minimize;
    assert!(median_prunes(&p, &[1.5], &h, min));
    assert!(
        !median_prunes(&p, &[1.2], &h, min),
        "equal to the median is kept"
    );
    assert!(!median_prunes(&p, &[1.5, 1.1], &h, min));
    // Optuna's rule uses the trial's best value so far, not its latest.
    assert!(!median_prunes(&p, &[1.0, 1.5], &h, min));
    // Maximising: 1 + i/10 are accuracies, median 1.2; 1.1 is below it.
    assert!(median_prunes(&p, &[1.1], &h, Direction::Maximize));
    assert!(!median_prunes(&p, &[1.3], &h, Direction::Maximize));
    // All NaN: pruned; NaN among others ignored.
    assert!(median_prunes(&p, &[f64::NAN], &h, min));
    assert!(!median_prunes(&p, &[f64::NAN, 1.0], &h, min));
}

#[test]
fn median_waits_for_startup_trials_warmup_and_its_interval() {
    let min = Direction::Minimize;
    let p = MedianPruner::default();
    let mut h = five_complete();
    h.pop();
    assert!(!median_prunes(&p, &[9.0], &h, min), "4 complete trials < 5");
    // Pruned, running and failed trials are not complete trials.
    h.push(trial(10, TrialState::Pruned, &[0.1]));
    h.push(trial(11, TrialState::Running, &[0.1]));
    h.push(trial(12, TrialState::Failed, &[0.1]));
    assert!(!median_prunes(&p, &[9.0], &h, min));
    // The trial itself in the history is no competitor: four others are too few.
    let me = trial(99, TrialState::Complete, &[9.0]);
    let mut h = five_complete();
    h[4] = me.clone();
    assert!(!p.should_prune(&me, 1, &h, min));
    let h = five_complete();
    let warm = MedianPruner {
        n_warmup_steps: 2,
        ..MedianPruner::default()
    };
    assert!(!median_prunes(&warm, &[9.0], &h, min));
    assert!(!median_prunes(&warm, &[9.0, 9.0], &h, min));
    assert!(median_prunes(&warm, &[9.0, 9.0, 9.0], &h, min));
    // Every 2nd epoch from the warm-up on: epochs 1, 3, 5 (steps 0, 2, 4).
    let every2 = MedianPruner {
        interval_steps: 2,
        ..MedianPruner::default()
    };
    let pruned: Vec<bool> = (1..=5)
        .map(|e| median_prunes(&every2, &vec![9.0; e], &h, min))
        .collect();
    assert_eq!(pruned, [true, false, true, false, true]);
    // No complete trial reached epoch 6: nothing to compare with.
    assert!(!median_prunes(&p, &[9.0; 6], &h, min));
    let need3 = MedianPruner {
        n_min_trials: 6,
        ..MedianPruner::default()
    };
    assert!(!median_prunes(&need3, &[9.0], &h, min));
}

fn asha_prunes(p: &AshaPruner, values: &[f64], history: &[Trial], direction: Direction) -> bool {
    let t = trial(99, TrialState::Running, values);
    p.should_prune(&t, values.len(), history, direction)
}

#[test]
fn asha_rungs_sit_at_r_times_powers_of_eta() {
    let p = AshaPruner::default();
    let rungs: Vec<usize> = (1..=30).filter(|e| p.is_rung(*e)).collect();
    assert_eq!(rungs, [1, 3, 9, 27]);
    let later = AshaPruner {
        min_resource: 2,
        reduction_factor: 2,
        min_early_stopping_rate: 1,
        ..AshaPruner::default()
    };
    let rungs: Vec<usize> = (1..=40).filter(|e| later.is_rung(*e)).collect();
    assert_eq!(rungs, [4, 8, 16, 32]);
}

#[test]
fn asha_keeps_the_top_third_of_every_trial_at_the_rung() {
    let p = AshaPruner::default();
    let min = Direction::Minimize;
    // Five others reported at epoch 1, whatever their state: 0.1 ... 0.5.
    let states = [
        TrialState::Complete,
        TrialState::Running,
        TrialState::Pruned,
        TrialState::Complete,
        TrialState::Failed,
    ];
    let h: Vec<Trial> = states
        .iter()
        .enumerate()
        .map(|(i, s)| trial(i as u64, *s, &[0.1 * (i + 1) as f64]))
        .collect();
    // Six values: the best 6 / 3 = 2 go on.
    assert!(!asha_prunes(&p, &[0.15], &h, min));
    assert!(
        !asha_prunes(&p, &[0.2], &h, min),
        "a tie with the 2nd best goes on"
    );
    assert!(asha_prunes(&p, &[0.25], &h, min));
    assert!(!asha_prunes(&p, &[0.5], &h, Direction::Maximize));
    assert!(asha_prunes(&p, &[0.35], &h, Direction::Maximize));
    // Epoch 2 is no rung: never pruned there.
    assert!(!asha_prunes(&p, &[0.15, 9.0], &h, min));
    // Epoch 3: only trials that reached it compete.
    let h3 = vec![trial(0, TrialState::Complete, &[0.1, 0.1, 0.3])];
    assert!(asha_prunes(&p, &[0.1, 0.1, 0.4], &h3, min));
    assert!(!asha_prunes(&p, &[0.1, 0.1, 0.2], &h3, min));
}

#[test]
fn asha_with_few_trials_bootstrap_and_nan() {
    let p = AshaPruner::default();
    let min = Direction::Minimize;
    assert!(
        !asha_prunes(&p, &[5.0], &[], min),
        "the first trial leads its rung"
    );
    // Fewer than eta values: only the best goes on.
    let h = vec![trial(0, TrialState::Running, &[0.1])];
    assert!(asha_prunes(&p, &[0.2], &h, min));
    assert!(!asha_prunes(&p, &[0.05], &h, min));
    assert!(asha_prunes(&p, &[f64::NAN], &[], min));
    // A NaN competitor counts as the worst.
    let h = vec![trial(0, TrialState::Running, &[f64::NAN])];
    assert!(!asha_prunes(&p, &[3.0], &h, min));
    let boot = AshaPruner {
        bootstrap_count: 2,
        ..AshaPruner::default()
    };
    assert!(asha_prunes(&boot, &[0.01], &h, min));
    let h2 = vec![h[0].clone(), trial(1, TrialState::Complete, &[0.5])];
    assert!(!asha_prunes(&boot, &[0.01], &h2, min));
}
