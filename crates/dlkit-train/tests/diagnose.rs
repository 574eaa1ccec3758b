//! The ML-strategy diagnosis in each regime of the course's tables.

use dlkit_train::diagnose::{
    diagnose, diagnose_with_tolerance, Diagnosis, ErrorRates, Problem, DEFAULT_TOLERANCE,
};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

fn gap(d: &Diagnosis, p: Problem) -> f64 {
    d.gap(p).unwrap_or_else(|| panic!("no {p} gap")).value
}

fn advised(d: &Diagnosis) -> Vec<Problem> {
    d.advice.iter().map(|a| a.problem).collect()
}

#[test]
fn high_avoidable_bias() {
    // Human 1%, train 15%, dev 16%: the course's high-bias column.
    let d = diagnose(&ErrorRates::new(0.15, 0.16).with_human(0.01)).unwrap();
    assert_eq!(d.largest, Some(Problem::AvoidableBias));
    close(gap(&d, Problem::AvoidableBias), 0.14);
    // 16% - 15% is one point up to rounding: not above the tolerance.
    assert!(!d.gap(Problem::Variance).unwrap().significant);
    assert_eq!(advised(&d), vec![Problem::AvoidableBias]);
    let remedies = d.advice[0].remedies.join("\n");
    for r in [
        "bigger network",
        "train longer",
        "momentum, RMSprop or Adam",
        "architecture or hyperparameters",
    ] {
        assert!(remedies.contains(r), "{remedies}");
    }
    let text = d.to_string();
    assert!(
        text.contains("Work on avoidable bias first (14.00 percentage points):"),
        "{text}"
    );
    assert!(
        text.contains("avoidable bias      train - human        +14.00  <- largest"),
        "{text}"
    );
}

#[test]
fn high_variance() {
    // Human ~0%, train 1%, dev 11%: the course's high-variance column.
    let d = diagnose(&ErrorRates::new(0.01, 0.11).with_human(0.0)).unwrap();
    assert_eq!(d.largest, Some(Problem::Variance));
    close(gap(&d, Problem::Variance), 0.10);
    assert_eq!(d.gap(Problem::Variance).unwrap().formula, "dev - train");
    let remedies = d.advice[0].remedies.join("\n");
    for r in [
        "more training data",
        "L2, dropout, data augmentation",
        "early stopping",
    ] {
        assert!(remedies.contains(r), "{remedies}");
    }
}

#[test]
fn human_level_decides_between_bias_and_variance() {
    // The course's avoidable-bias example: train 8%, dev 10%.
    let errors = ErrorRates::new(0.08, 0.10);
    let d = diagnose(&errors.with_human(0.01)).unwrap();
    assert_eq!(d.largest, Some(Problem::AvoidableBias)); // 7 points against 2
    assert_eq!(advised(&d), vec![Problem::AvoidableBias, Problem::Variance]);
    let d = diagnose(&errors.with_human(0.075)).unwrap();
    assert_eq!(d.largest, Some(Problem::Variance)); // 0.5 points against 2
    assert!(!d.gap(Problem::AvoidableBias).unwrap().significant);
    assert_eq!(advised(&d), vec![Problem::Variance]);
}

#[test]
fn data_mismatch() {
    let errors = ErrorRates::new(0.015, 0.10)
        .with_human(0.01)
        .with_train_dev(0.02);
    let d = diagnose(&errors).unwrap();
    assert_eq!(d.largest, Some(Problem::DataMismatch));
    close(gap(&d, Problem::DataMismatch), 0.08);
    close(gap(&d, Problem::Variance), 0.005);
    assert_eq!(
        d.gap(Problem::Variance).unwrap().formula,
        "train-dev - train"
    );
    assert_eq!(
        d.gap(Problem::DataMismatch).unwrap().formula,
        "dev - train-dev"
    );
    let remedies = d.advice[0].remedies.join("\n");
    for r in [
        "manual error analysis",
        "more like the dev/test data",
        "synthesise",
    ] {
        assert!(remedies.contains(r), "{remedies}");
    }
    // With a train-dev split, no note about a missing one.
    assert!(
        !d.notes.iter().any(|n| n.contains("train-dev")),
        "{:?}",
        d.notes
    );
}

#[test]
fn variance_with_a_train_dev_split() {
    // Train 1%, train-dev 9%, dev 10%: the course's variance example with train-dev.
    let errors = ErrorRates::new(0.01, 0.10)
        .with_human(0.0)
        .with_train_dev(0.09);
    let d = diagnose(&errors).unwrap();
    assert_eq!(d.largest, Some(Problem::Variance));
    close(gap(&d, Problem::Variance), 0.08);
}

#[test]
fn overfitting_to_dev() {
    let errors = ErrorRates::new(0.015, 0.025)
        .with_human(0.01)
        .with_train_dev(0.02)
        .with_test(0.08);
    let d = diagnose(&errors).unwrap();
    assert_eq!(d.largest, Some(Problem::DevOverfitting));
    close(gap(&d, Problem::DevOverfitting), 0.055);
    assert_eq!(
        d.gap(Problem::DevOverfitting).unwrap().formula,
        "test - dev"
    );
    assert!(d.advice[0].remedies[0].contains("bigger dev set"));
    assert!(d.notes.is_empty(), "{:?}", d.notes);
}

#[test]
fn all_good() {
    let errors = ErrorRates::new(0.012, 0.018)
        .with_human(0.01)
        .with_train_dev(0.015)
        .with_test(0.02);
    let d = diagnose(&errors).unwrap();
    assert_eq!(d.largest, None);
    assert!(d.advice.is_empty());
    assert_eq!(d.gaps.len(), 4);
    assert!(d.gaps.iter().all(|g| !g.significant));
    let text = d.to_string();
    assert!(
        text.contains("No gap is above the tolerance (1.00 percentage points)"),
        "{text}"
    );
    assert!(
        text.contains("change the metric or the dev/test sets"),
        "{text}"
    );
    assert!(!text.contains("<-"), "{text}");
}

#[test]
fn without_human_level_bayes_error_is_taken_as_zero() {
    let d = diagnose(&ErrorRates::new(0.15, 0.16)).unwrap();
    let g = d.gap(Problem::AvoidableBias).unwrap();
    assert_eq!(g.formula, "train - 0");
    close(g.value, 0.15);
    assert_eq!(d.largest, Some(Problem::AvoidableBias));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("no human-level error given")),
        "{:?}",
        d.notes
    );
    assert!(d
        .to_string()
        .contains("human-level (Bayes proxy)          -\n"));
}

#[test]
fn without_train_dev_variance_is_dev_minus_train_and_says_so() {
    let d = diagnose(&ErrorRates::new(0.02, 0.12).with_human(0.01)).unwrap();
    assert!(d.gap(Problem::DataMismatch).is_none());
    assert_eq!(d.gap(Problem::Variance).unwrap().formula, "dev - train");
    let note = d
        .notes
        .iter()
        .find(|n| n.contains("no train-dev split"))
        .unwrap();
    assert!(note.contains("also contains any data mismatch"), "{note}");
    assert!(d.notes.iter().any(|n| n.contains("no test error given")));
    assert_eq!(d.gaps.len(), 2);
}

#[test]
fn training_error_below_human_level_is_noted() {
    let d = diagnose(&ErrorRates::new(0.02, 0.03).with_human(0.05)).unwrap();
    close(gap(&d, Problem::AvoidableBias), -0.03);
    assert!(
        d.notes.iter().any(|n| n.contains("below human-level")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.largest, None);
}

#[test]
fn dev_easier_than_training_data_is_noted() {
    let errors = ErrorRates::new(0.05, 0.04)
        .with_human(0.04)
        .with_train_dev(0.06);
    let d = diagnose(&errors).unwrap();
    close(gap(&d, Problem::DataMismatch), -0.02);
    assert!(
        d.notes.iter().any(|n| n.contains("dev data are easier")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.largest, None); // variance and bias one point each: not above tolerance
}

#[test]
fn several_problems_are_advised_largest_first() {
    let errors = ErrorRates::new(0.05, 0.20)
        .with_human(0.01)
        .with_train_dev(0.08)
        .with_test(0.22);
    let d = diagnose(&errors).unwrap();
    // Data mismatch 12, bias 4, variance 3, dev overfitting 2.
    assert_eq!(
        advised(&d),
        vec![
            Problem::DataMismatch,
            Problem::AvoidableBias,
            Problem::Variance,
            Problem::DevOverfitting
        ]
    );
    let text = d.to_string();
    let first = text.find("Work on data mismatch first").unwrap();
    let then = text.find("Then avoidable bias").unwrap();
    assert!(first < then, "{text}");
}

#[test]
fn tolerance_is_configurable() {
    let errors = ErrorRates::new(0.08, 0.10).with_human(0.075);
    let d = diagnose_with_tolerance(&errors, 0.03).unwrap();
    assert_eq!(d.largest, None);
    assert_eq!(d.tolerance, 0.03);
    let d = diagnose_with_tolerance(&errors, 0.0).unwrap();
    assert_eq!(advised(&d), vec![Problem::Variance, Problem::AvoidableBias]);
    assert_eq!(DEFAULT_TOLERANCE, 0.01);
}

#[test]
fn invalid_errors_are_rejected_naming_the_field() {
    let e = diagnose(&ErrorRates::new(8.0, 0.1)).unwrap_err();
    assert_eq!(e.field, "train");
    assert_eq!(
        e.to_string(),
        "train = 8: an error rate must be a fraction in [0, 1] (0.08 for 8%)"
    );
    let e = diagnose(&ErrorRates::new(0.1, 0.1).with_test(f64::NAN)).unwrap_err();
    assert_eq!(e.field, "test");
    let e = diagnose(&ErrorRates::new(0.1, 0.1).with_human(-0.01)).unwrap_err();
    assert_eq!(e.field, "human");
    let e = diagnose_with_tolerance(&ErrorRates::new(0.1, 0.1), -1.0).unwrap_err();
    assert_eq!(e.field, "tolerance");
}

#[test]
fn display_prints_the_table_and_the_advice() {
    let errors = ErrorRates::new(0.08, 0.10)
        .with_human(0.01)
        .with_train_dev(0.09)
        .with_test(0.105);
    let text = diagnose(&errors).unwrap().to_string();
    let want_start = "\
split                          error
human-level (Bayes proxy)      1.00%
train                          8.00%
train-dev                      9.00%
dev                           10.00%
test                          10.50%

gap                 formula              points
avoidable bias      train - human         +7.00  <- largest
variance            train-dev - train     +1.00
data mismatch       dev - train-dev       +1.00
overfitting to dev  test - dev            +0.50

Work on avoidable bias first (7.00 percentage points):
  - train a bigger network (more hidden units or layers)
";
    assert!(text.starts_with(want_start), "{text}");
    println!("{text}");
}

#[test]
fn diagnosis_round_trips_through_json_and_errors_read_from_toml() {
    let errors: ErrorRates =
        toml::from_str("human = 0.01\ntrain = 0.015\ntrain_dev = 0.02\ndev = 0.10\ntest = 0.11\n")
            .unwrap();
    assert_eq!(errors.train_dev, Some(0.02));
    let d = diagnose(&errors).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["largest"], "data_mismatch");
    assert_eq!(json["gaps"][0]["problem"], "avoidable_bias");
    assert_eq!(json["advice"][0]["problem"], "data_mismatch");
    assert_eq!(json["errors"]["dev"], 0.10);
    let back: Diagnosis = serde_json::from_value(json).unwrap();
    assert_eq!(back, d);
    // Unknown fields in the errors are rejected.
    let e = toml::from_str::<ErrorRates>("train = 0.1\ndev = 0.2\ndevv = 0.3\n").unwrap_err();
    assert!(e.to_string().contains("unknown field `devv`"), "{e}");
    // Absent optional errors are left out of the report.
    let d = diagnose(&ErrorRates::new(0.1, 0.2)).unwrap();
    let json = serde_json::to_value(&d).unwrap();
    assert!(json["errors"].get("human").is_none());
}
