//! Metrics against scikit-learn 1.9.1 (numbers from `scripts/sklearn_metrics_reference.py`)
//! and hand-computed values.

use dlkit_train::metrics::{
    accuracy, check_satisficing, precision_recall_f1, Average, ConfusionMatrix, Metric,
    MetricError, MetricValues, Objective, Satisficing,
};
use serde::Deserialize;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

// The script's binary case: TP 4, FN 3, FP 2, TN 3.
const BIN_TRUE: [usize; 12] = [1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 1];
const BIN_PRED: [usize; 12] = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0];

// The script's multi-class case: class 1 never predicted, class 4 predicted once, never true.
const MC_TRUE: [usize; 13] = [0, 1, 2, 2, 2, 0, 1, 3, 3, 0, 1, 2, 3];
const MC_PRED: [usize; 13] = [0, 2, 2, 2, 2, 0, 0, 3, 4, 0, 0, 0, 3];

#[test]
fn accuracy_matches_sklearn() {
    close(accuracy(&BIN_TRUE, &BIN_PRED).unwrap(), 0.5833333333333334);
    close(accuracy(&MC_TRUE, &MC_PRED).unwrap(), 0.6153846153846154);
    close(accuracy(&[3, 3], &[3, 3]).unwrap(), 1.0);
}

#[test]
fn binary_scores_match_sklearn_for_either_positive_class() {
    let s = precision_recall_f1(&BIN_TRUE, &BIN_PRED, Average::default()).unwrap();
    assert_eq!(s.average, Average::Binary { positive: 1 });
    close(s.precision, 0.6666666666666666); // 4 / (4 + 2)
    close(s.recall, 0.5714285714285714); // 4 / (4 + 3)
    close(s.f1, 0.6153846153846154); // 8 / 13
    assert!(s.notes.is_empty());
    assert_eq!(s.classes.len(), 1);
    assert_eq!((s.classes[0].support, s.classes[0].predicted), (7, 6));

    let s = precision_recall_f1(&BIN_TRUE, &BIN_PRED, Average::Binary { positive: 0 }).unwrap();
    close(s.precision, 0.5);
    close(s.recall, 0.6);
    close(s.f1, 0.5454545454545454);
    // F1 is the course's 2 / (1/P + 1/R).
    close(s.f1, 2.0 / (1.0 / s.precision + 1.0 / s.recall));
}

#[test]
fn binary_confusion_matrix_matches_sklearn() {
    let cm = ConfusionMatrix::new(&BIN_TRUE, &BIN_PRED, 2).unwrap();
    assert_eq!(cm.counts(), &[vec![3, 2], vec![3, 4]]);
    assert_eq!((cm.total(), cm.correct()), (12, 7));
    close(cm.accuracy(), 7.0 / 12.0);
}

#[test]
fn positive_class_never_predicted_scores_zero_with_a_note() {
    let s = precision_recall_f1(&[1, 0, 1, 0], &[0, 0, 0, 0], Average::default()).unwrap();
    assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0)); // sklearn: 0.0 0.0 0.0
    assert_eq!(s.notes.len(), 1);
    assert!(
        s.notes[0].contains("class 1 is never predicted"),
        "{}",
        s.notes[0]
    );
    assert!(s.notes[0].contains("zero_division=0"), "{}", s.notes[0]);
}

#[test]
fn positive_class_beyond_the_labels_is_absent_not_an_error() {
    // Positive class 2 never occurs: precision and recall both 0/0.
    let s = precision_recall_f1(&[0, 1], &[0, 1], Average::Binary { positive: 2 }).unwrap();
    assert_eq!((s.precision, s.recall, s.f1), (0.0, 0.0, 0.0));
    assert_eq!(s.notes.len(), 2);
}

#[test]
fn macro_scores_match_sklearn() {
    let s = precision_recall_f1(&MC_TRUE, &MC_PRED, Average::Macro).unwrap();
    close(s.precision, 0.45);
    close(s.recall, 0.4833333333333333);
    close(s.f1, 0.44333333333333336);
    let per = |f: fn(&dlkit_train::metrics::ClassScores) -> f64| {
        s.classes.iter().map(f).collect::<Vec<_>>()
    };
    let want_p = [0.5, 0.0, 0.75, 1.0, 0.0];
    let want_r = [1.0, 0.0, 0.75, 0.6666666666666666, 0.0];
    let want_f = [0.6666666666666666, 0.0, 0.75, 0.8, 0.0];
    for (got, want) in [
        (per(|c| c.precision), want_p),
        (per(|c| c.recall), want_r),
        (per(|c| c.f1), want_f),
    ] {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            close(*g, w);
        }
    }
    // Class 1 has no predictions, class 4 no true examples: one note each.
    assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
    assert!(s.notes[0].contains("class 1 is never predicted"));
    assert!(s.notes[1].contains("class 4 never occurs in y_true"));
}

#[test]
fn multiclass_confusion_matrix_matches_sklearn() {
    let cm = ConfusionMatrix::new(&MC_TRUE, &MC_PRED, 5).unwrap();
    let want: Vec<Vec<u64>> = vec![
        vec![3, 0, 0, 0, 0],
        vec![2, 0, 1, 0, 0],
        vec![1, 0, 3, 0, 0],
        vec![0, 0, 0, 2, 1],
        vec![0, 0, 0, 0, 0],
    ];
    assert_eq!(cm.counts(), want.as_slice());
    assert_eq!(cm.support(2), 4);
    assert_eq!(cm.predicted(0), 6);
    assert_eq!(cm.count(3, 4), 1);
}

#[test]
fn macro_average_leaves_out_classes_absent_from_both() {
    // Class 1 is in neither y_true nor y_pred: averaged over classes 0 and 2 only.
    // Class 0: TP 1, predicted 1, support 2 -> P 1, R 1/2, F1 2/3.
    // Class 2: TP 1, predicted 2, support 1 -> P 1/2, R 1, F1 2/3.
    let cm = ConfusionMatrix::new(&[0, 0, 2], &[0, 2, 2], 3).unwrap();
    let s = cm.scores(Average::Macro);
    assert_eq!(
        s.classes.iter().map(|c| c.class).collect::<Vec<_>>(),
        vec![0, 2]
    );
    close(s.precision, 0.75);
    close(s.recall, 0.75);
    close(s.f1, 2.0 / 3.0);
    assert!(s.notes.is_empty());
}

#[test]
fn errors_name_what_is_wrong() {
    let e = accuracy(&[0, 1], &[0]).unwrap_err();
    assert_eq!(
        e,
        MetricError::LengthMismatch {
            y_true: 2,
            y_pred: 1
        }
    );
    assert!(e
        .to_string()
        .contains("y_true has 2 labels but y_pred has 1"));
    let e = accuracy(&[], &[]).unwrap_err();
    assert!(e.to_string().contains("no examples"), "{e}");
    let e = ConfusionMatrix::new(&[0, 1, 2], &[0, 1, 5], 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "y_pred[2] = 5 is not a class: there are 3 classes (0 to 2)"
    );
    let e = ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3]]).unwrap_err();
    assert!(
        e.to_string().contains("row 1 has 1 counts, expected 2"),
        "{e}"
    );
    let e = ConfusionMatrix::from_counts(vec![vec![0, 0], vec![0, 0]]).unwrap_err();
    assert!(e.to_string().contains("no examples"), "{e}");
    let e = ConfusionMatrix::new(&[0, 1], &[1, 0], 2)
        .unwrap()
        .with_class_names(["a"])
        .unwrap_err();
    assert_eq!(e.to_string(), "class names: 1 given for 2 classes");
}

#[test]
fn confusion_matrix_prints_as_a_table() {
    let cm = ConfusionMatrix::from_counts(vec![vec![15, 2], vec![3, 130]])
        .unwrap()
        .with_class_names(["non-cat", "cat"])
        .unwrap();
    let want = "\
confusion matrix (rows: true class, columns: predicted class)
true \\ pred  non-cat  cat
non-cat           15    2
cat                3  130";
    assert_eq!(cm.to_string(), want);
    // Without names, the class indices.
    let cm = ConfusionMatrix::new(&[0, 1, 1], &[0, 1, 0], 2).unwrap();
    assert_eq!(
        cm.to_string(),
        "confusion matrix (rows: true class, columns: predicted class)\n\
         true \\ pred  0  1\n\
         0            1  0\n\
         1            1  1"
    );
    // Names in the scores and the report.
    let named = cm.with_class_names(["no", "yes"]).unwrap();
    let s = named.scores(Average::default());
    assert_eq!(s.classes[0].name.as_deref(), Some("yes"));
    let json = serde_json::to_value(&named).unwrap();
    assert_eq!(json["counts"], serde_json::json!([[1, 0], [1, 1]]));
    assert_eq!(json["class_names"], serde_json::json!(["no", "yes"]));
}

#[test]
fn metric_names_are_snake_case() {
    for m in Metric::ALL {
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, format!("\"{}\"", m.name()));
        assert_eq!(serde_json::from_str::<Metric>(&json).unwrap(), m);
        assert_eq!(m.name().parse::<Metric>().unwrap(), m);
    }
    assert_eq!(Metric::F1.name(), "f1");
    assert_eq!(
        Metric::InferenceMsPerExample.to_string(),
        "inference_ms_per_example"
    );
    let e = "top5".parse::<Metric>().unwrap_err();
    assert!(
        e.contains("unknown metric \"top5\"") && e.contains("accuracy, error"),
        "{e}"
    );
    assert!(Metric::Accuracy.is_better(0.9, 0.8));
    assert!(Metric::Cost.is_better(0.1, 0.2));
    assert!(!Metric::Cost.is_better(f64::NAN, 0.2));
}

#[derive(Deserialize)]
struct Config {
    objective: Objective,
}

#[test]
fn satisficing_constraints_read_from_toml() {
    let cfg: Config = toml::from_str(
        r#"
        [objective]
        optimizing = "f1"
        satisficing = [
            { metric = "inference_ms_per_example", max = 10.0 },
            { metric = "recall", min = 0.95 },
            { metric = "accuracy", min = 0.5, max = 1.0 },
        ]
        "#,
    )
    .unwrap();
    let o = cfg.objective;
    assert_eq!(o.optimizing, Metric::F1);
    assert_eq!(
        o.satisficing,
        vec![
            Satisficing::at_most(Metric::InferenceMsPerExample, 10.0).unwrap(),
            Satisficing::at_least(Metric::Recall, 0.95).unwrap(),
            Satisficing::new(Metric::Accuracy, Some(0.5), Some(1.0)).unwrap(),
        ]
    );
    assert_eq!(
        o.satisficing[0].to_string(),
        "inference_ms_per_example <= 10"
    );
    assert_eq!(o.satisficing[1].to_string(), "recall >= 0.95");

    for (text, expect) in [
        (
            r#"optimizing = "f1"
               satisficing = [{ metric = "recall" }]"#,
            "satisficing constraint on recall: give `min`, `max` or both",
        ),
        (
            r#"optimizing = "f1"
               satisficing = [{ metric = "recall", min = 0.9, max = 0.5 }]"#,
            "`min` (0.9) is above `max` (0.5)",
        ),
        (
            r#"optimizing = "f1"
               satisficing = [{ metric = "recall", maximum = 0.5 }]"#,
            "unknown field `maximum`",
        ),
        (r#"optimizing = "speed""#, "unknown variant `speed`"),
    ] {
        let e = toml::from_str::<Objective>(text).unwrap_err().to_string();
        assert!(e.contains(expect), "{e}");
    }
    assert!(Satisficing::at_most(Metric::Cost, f64::NAN).is_err());
}

fn values(pairs: &[(Metric, f64)]) -> MetricValues {
    pairs.iter().copied().collect()
}

#[test]
fn check_satisficing_reports_each_constraint() {
    let constraints = [
        Satisficing::at_most(Metric::InferenceMsPerExample, 10.0).unwrap(),
        Satisficing::at_least(Metric::Recall, 0.95).unwrap(),
        Satisficing::at_most(Metric::ParameterCount, 1e6).unwrap(),
        Satisficing::at_least(Metric::Precision, 0.5).unwrap(),
    ];
    let v = values(&[
        (Metric::InferenceMsPerExample, 10.0), // on the bound: met (inclusive)
        (Metric::Recall, 0.93),
        (Metric::Precision, f64::NAN),
    ]);
    let checks = check_satisficing(&constraints, &v);
    let met: Vec<bool> = checks.iter().map(|c| c.met).collect();
    assert_eq!(met, vec![true, false, false, false]);
    assert_eq!(checks[0].value, Some(10.0));
    assert_eq!(checks[1].detail, "0.93 is below the minimum");
    assert_eq!(checks[2].detail, "not measured");
    assert_eq!(checks[3].detail, "NaN");
    assert_eq!(
        checks[1].to_string(),
        "recall >= 0.95: NOT met (0.93 is below the minimum)"
    );
    assert_eq!(
        checks[0].to_string(),
        "inference_ms_per_example <= 10: met (10)"
    );
}

#[test]
fn objective_picks_the_best_feasible_model_as_in_the_course() {
    // The course's example: maximise accuracy subject to running time <= 100 ms.
    let objective = Objective::new(
        Metric::Accuracy,
        vec![Satisficing::at_most(Metric::InferenceMsPerExample, 100.0).unwrap()],
    );
    let a = values(&[
        (Metric::Accuracy, 0.90),
        (Metric::InferenceMsPerExample, 80.0),
    ]);
    let b = values(&[
        (Metric::Accuracy, 0.92),
        (Metric::InferenceMsPerExample, 95.0),
    ]);
    let c = values(&[
        (Metric::Accuracy, 0.95),
        (Metric::InferenceMsPerExample, 1500.0),
    ]);
    assert_eq!(objective.best([&a, &b, &c]), Some(1));
    let e = objective.evaluate(&c);
    assert!(!e.feasible);
    assert!(e.to_string().contains("NOT met"), "{e}");
    assert!(objective.evaluate(&b).feasible);
    // Minimising: the lowest cost among the feasible.
    let o = Objective::new(Metric::Cost, vec![]);
    let runs = [
        values(&[(Metric::Cost, 0.3)]),
        values(&[(Metric::Cost, f64::NAN)]),
        values(&[(Metric::Cost, 0.2)]),
        values(&[(Metric::Cost, 0.2)]),
    ];
    assert_eq!(o.best(&runs), Some(2)); // NaN is never best; the first of a tie
    assert_eq!(objective.best([&c]), None);
    assert_eq!(objective.best(std::iter::empty()), None);
    // Round trip through JSON.
    let json = serde_json::to_string(&objective).unwrap();
    assert_eq!(
        json,
        r#"{"optimizing":"accuracy","satisficing":[{"metric":"inference_ms_per_example","max":100.0}]}"#
    );
    assert_eq!(serde_json::from_str::<Objective>(&json).unwrap(), objective);
}
