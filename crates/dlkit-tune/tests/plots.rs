//! A study's plots: each PNG decodes at the requested size, is not blank and has its marks in
//! the expected colours; each SVG names its axes; bad input gives errors that name the file.

use std::collections::BTreeMap;
use std::path::Path;

use dlkit_train::plots::{PlotOptions, PALETTE};
use dlkit_tune::plots::{
    best_trial, plot_history, plot_importances, plot_parallel_coordinates, plot_param_scatter,
    ParamAxis, TrialPoint,
};
use dlkit_tune::{Direction, ParamValue, Trial, TrialState};

const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];
const RED: [u8; 3] = [214, 39, 40];
/// The parallel coordinates' best line.
const DARK: [u8; 3] = [8, 48, 107];

fn axes() -> Vec<ParamAxis> {
    vec![
        ParamAxis::log("optimizer.lr"),
        ParamAxis::linear("model.units"),
        ParamAxis::categorical(
            "model.activation",
            vec!["relu".into(), "tanh".into(), "sigmoid".into()],
        ),
        ParamAxis::linear("train.batch_size"),
    ]
}

fn point(number: u64, state: TrialState, value: Option<f64>, params: [f64; 4]) -> TrialPoint {
    TrialPoint {
        number,
        state,
        value,
        params: params.to_vec(),
    }
}

/// 24 trials: complete, pruned every fifth, one failed, one running, one with a NaN value and
/// one without `model.units`; the batch size is constant. Maximised, trial 13 is best.
fn study() -> Vec<TrialPoint> {
    (0..24u64)
        .map(|n| {
            let lr = 10f64.powf(-5.0 + (n * 7 % 24) as f64 / 6.0);
            let units = 16.0 + (n * 5 % 24) as f64 * 10.0;
            let act = (n % 3) as f64;
            let value = 0.9 - 0.04 * (lr.log10() + 3.0).powi(2) - 0.05 * act + units * 1e-4;
            let value = if n == 13 { 0.99 } else { value.min(0.95) };
            let state = match n {
                7 => TrialState::Failed,
                23 => TrialState::Running,
                _ if n % 5 == 4 => TrialState::Pruned,
                _ => TrialState::Complete,
            };
            let value = match n {
                7 | 23 => None,
                9 => Some(f64::NAN),
                _ => Some(value),
            };
            let units = if n == 11 { f64::NAN } else { units };
            point(n, state, value, [lr, units, act, 32.0])
        })
        .collect()
}

fn opts(title: &str) -> PlotOptions {
    PlotOptions::new(title).size(480, 360)
}

fn decode(path: &Path, width: u32, height: u32) -> image::RgbImage {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), (width, height), "{}", path.display());
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(
        white < img.pixels().len(),
        "{} is all white",
        path.display()
    );
    img
}

fn count(img: &image::RgbImage, color: [u8; 3]) -> usize {
    img.pixels().filter(|p| p.0 == color).count()
}

/// The contents of the SVG's `<text>` elements, trimmed.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.trim_end().ends_with("</svg>"), "{}", path.display());
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let start = t.find('>').unwrap() + 1;
            let end = t.find("</text>").expect("a closed <text>");
            t[start..end].trim().to_string()
        })
        .collect()
}

fn assert_texts(path: &Path, texts: &[&str]) {
    let found = svg_texts(path);
    for t in texts {
        assert!(
            found.iter().any(|f| f == t),
            "{} lacks the text {t:?}: {found:?}",
            path.display()
        );
    }
}

#[test]
fn palette_colours_are_the_ones_checked() {
    assert_eq!(
        [PALETTE[0].0, PALETTE[0].1, PALETTE[0].2],
        BLUE,
        "complete trials are drawn in the palette's first colour"
    );
    assert_eq!([PALETTE[1].0, PALETTE[1].1, PALETTE[1].2], ORANGE);
    assert_eq!([PALETTE[3].0, PALETTE[3].1, PALETTE[3].2], RED);
}

#[test]
fn history_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let trials = study();
    let png = dir.path().join("history.png");
    plot_history(&png, &trials, Direction::Maximize, &opts("History")).unwrap();
    let img = decode(&png, 480, 360);
    assert!(count(&img, BLUE) > 100, "complete points");
    assert!(count(&img, ORANGE) > 50, "pruned points");
    assert!(count(&img, RED) > 100, "best-so-far line");

    let svg = dir.path().join("history.svg");
    plot_history(&svg, &trials, Direction::Minimize, &opts("History")).unwrap();
    assert_texts(
        &svg,
        &[
            "History",
            "trial",
            "objective value",
            "complete",
            "pruned",
            "best value",
        ],
    );
    // Trial numbers as ticks, never fractions.
    assert!(svg_texts(&svg).iter().all(|t| !t.contains(".5")));
}

#[test]
fn history_of_pruned_trials_only_has_no_best_line() {
    let dir = tempfile::tempdir().unwrap();
    let trials = [point(
        0,
        TrialState::Pruned,
        Some(0.5),
        [1e-3, 10.0, 0.0, 32.0],
    )];
    let png = dir.path().join("h.png");
    plot_history(&png, &trials, Direction::Maximize, &opts("One")).unwrap();
    let img = decode(&png, 480, 360);
    assert!(count(&img, ORANGE) > 20);
    assert_eq!(count(&img, RED), 0);
    assert_eq!(count(&img, BLUE), 0);
}

#[test]
fn parallel_coordinates_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let (axes, trials) = (axes(), study());
    let png = dir.path().join("parallel.png");
    let o = opts("Parallel").size(720, 400);
    plot_parallel_coordinates(&png, &axes, &trials, Direction::Maximize, &o).unwrap();
    let img = decode(&png, 720, 400);
    assert!(count(&img, DARK) > 200, "the best trial's line");

    // The objective's axis is the colour bar: dark (best) at the top when maximising, at the
    // bottom when minimising. Its column is the leftmost that is blue over half its height.
    let blue = |p: &image::Rgb<u8>| p[2] as i32 > p[0] as i32 + 40;
    let strip = |img: &image::RgbImage| {
        let x = (0..img.width())
            .find(|&x| {
                (0..img.height())
                    .filter(|&y| blue(img.get_pixel(x, y)))
                    .count()
                    > 180
            })
            .unwrap()
            + 3;
        let shades: Vec<i32> = (0..img.height())
            .map(|y| img.get_pixel(x, y))
            .filter(|p| blue(p))
            .map(|p| p.0.iter().map(|&c| c as i32).sum())
            .collect();
        (shades[0], shades[shades.len() - 1])
    };
    let (top, bottom) = strip(&img);
    assert!(
        top < bottom,
        "maximising: darkest at the top ({top} vs {bottom})"
    );
    let png_min = dir.path().join("parallel_min.png");
    plot_parallel_coordinates(&png_min, &axes, &trials, Direction::Minimize, &o).unwrap();
    let (top, bottom) = strip(&decode(&png_min, 720, 400));
    assert!(
        top > bottom,
        "minimising: darkest at the bottom ({top} vs {bottom})"
    );

    let svg = dir.path().join("parallel.svg");
    plot_parallel_coordinates(&svg, &axes, &trials, Direction::Maximize, &o).unwrap();
    assert_texts(
        &svg,
        &[
            "Parallel",
            "objective value",
            "optimizer.lr",
            "model.units",
            "model.activation",
            "train.batch_size",
            "relu",
            "tanh",
            "sigmoid",
            // The constant batch size is labelled once; the objective's max is trial 13's.
            "32",
            "0.99",
            // The learning rates' min and max, to 4 significant digits.
            "0.00001",
            "0.06813",
        ],
    );
}

#[test]
fn scatters_on_linear_log_and_categorical_axes() {
    let dir = tempfile::tempdir().unwrap();
    let (axes, trials) = (axes(), study());
    for (i, texts) in [
        // Decades on the log axis.
        (0, vec!["optimizer.lr", "0.0001", "0.001", "0.01"]),
        (1, vec!["model.units", "100", "200"]),
        (2, vec!["model.activation", "relu", "tanh", "sigmoid"]),
        (3, vec!["train.batch_size", "32"]),
    ] {
        let png = dir.path().join(format!("param_{i}.png"));
        plot_param_scatter(&png, &axes, i, &trials, Direction::Maximize, &opts("Slice")).unwrap();
        let img = decode(&png, 480, 360);
        assert!(count(&img, BLUE) > 100, "{i}: complete points");
        assert!(count(&img, ORANGE) > 50, "{i}: pruned points");
        assert!(count(&img, RED) > 60, "{i}: the best trial");
        let svg = dir.path().join(format!("param_{i}.svg"));
        plot_param_scatter(&svg, &axes, i, &trials, Direction::Maximize, &opts("Slice")).unwrap();
        let mut texts = texts;
        texts.extend(["objective value", "complete", "pruned", "best (trial 13)"]);
        assert_texts(&svg, &texts);
    }
}

#[test]
fn scatter_leaves_out_trials_without_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let axes = axes();
    // The best trial lacks model.units: it is not marked in that parameter's scatter.
    let trials = [
        point(
            0,
            TrialState::Complete,
            Some(0.9),
            [1e-3, f64::NAN, 0.0, 32.0],
        ),
        point(1, TrialState::Complete, Some(0.5), [1e-2, 64.0, 1.0, 32.0]),
    ];
    let png = dir.path().join("units.png");
    plot_param_scatter(&png, &axes, 1, &trials, Direction::Maximize, &opts("Units")).unwrap();
    let img = decode(&png, 480, 360);
    assert_eq!(count(&img, RED), 0);
    assert!(count(&img, BLUE) > 20);
}

#[test]
fn importances_sorted_largest_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let imp = [
        ("model.units".to_string(), 0.25),
        ("optimizer.lr".to_string(), 0.7),
        ("train.batch_size".to_string(), 0.0),
        ("model.activation".to_string(), 0.05),
    ];
    let method = "mean decrease in impurity, random forest of 32 trees";
    let png = dir.path().join("importances.png");
    plot_importances(&png, &imp, method, &opts("Importances")).unwrap();
    let img = decode(&png, 480, 360);
    // Bars from top to bottom: the width of each run of blue rows.
    let mut bars: Vec<usize> = Vec::new();
    let mut in_bar = false;
    for y in 0..img.height() {
        let w = (0..img.width())
            .filter(|&x| img.get_pixel(x, y).0 == BLUE)
            .count();
        match (w > 0, in_bar) {
            (true, false) => bars.push(w),
            (true, true) => *bars.last_mut().unwrap() = w.max(*bars.last().unwrap()),
            _ => {}
        }
        in_bar = w > 0;
    }
    assert_eq!(bars.len(), 3, "three non-zero bars: {bars:?}");
    assert!(bars[0] > bars[1] && bars[1] > bars[2], "{bars:?}");

    let svg = dir.path().join("importances.svg");
    plot_importances(&svg, &imp, method, &opts("Importances")).unwrap();
    assert_texts(
        &svg,
        &[
            "optimizer.lr",
            "model.units",
            "model.activation",
            "train.batch_size",
            "0.700",
            "0.000",
            &format!("importance ({method})"),
        ],
    );
    // All zero (nothing learned) still plots.
    let zeros = [("a".to_string(), 0.0), ("b".to_string(), 0.0)];
    plot_importances(&png, &zeros, method, &opts("None")).unwrap();
    assert_eq!(count(&decode(&png, 480, 360), BLUE), 0);
}

#[test]
fn one_trial_and_constant_parameters_plot() {
    let dir = tempfile::tempdir().unwrap();
    let axes = axes();
    let trials = [point(
        5,
        TrialState::Complete,
        Some(0.8),
        [1e-3, 64.0, 2.0, 32.0],
    )];
    let d = Direction::Minimize;
    plot_history(dir.path().join("h.png"), &trials, d, &opts("h")).unwrap();
    plot_parallel_coordinates(dir.path().join("p.svg"), &axes, &trials, d, &opts("p")).unwrap();
    assert_texts(
        &dir.path().join("p.svg"),
        &["0.8", "0.001", "64", "sigmoid"],
    );
    for i in 0..axes.len() {
        let png = dir.path().join(format!("s{i}.png"));
        plot_param_scatter(&png, &axes, i, &trials, d, &opts("s")).unwrap();
        assert!(count(&decode(&png, 480, 360), RED) > 60);
    }
}

#[test]
fn errors_name_the_file_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let axes = axes();
    let d = Direction::Maximize;
    let path = dir.path().join("plot.png");
    let p = path.display();
    let o = opts("x");
    let unfinished = [
        point(0, TrialState::Running, None, [1e-3, 64.0, 0.0, 32.0]),
        point(1, TrialState::Failed, None, [1e-3, 64.0, 0.0, 32.0]),
        point(
            2,
            TrialState::Complete,
            Some(f64::NAN),
            [1e-3, 64.0, 0.0, 32.0],
        ),
    ];
    let err = |r: Result<(), dlkit_train::plots::PlotError>| r.unwrap_err().to_string();
    assert_eq!(
        err(plot_history(&path, &unfinished, d, &o)),
        format!("{p}: optimisation history: none of the 3 trials is complete or pruned with a finite value")
    );
    let pruned = [point(
        0,
        TrialState::Pruned,
        Some(0.5),
        [1e-3, 64.0, 0.0, 32.0],
    )];
    assert_eq!(
        err(plot_parallel_coordinates(&path, &axes, &pruned, d, &o)),
        format!("{p}: parallel coordinates: none of the 1 trials is complete with a finite value and every parameter")
    );
    let no_units = [point(
        0,
        TrialState::Complete,
        Some(0.5),
        [1e-3, f64::NAN, 0.0, 32.0],
    )];
    assert_eq!(
        err(plot_param_scatter(&path, &axes, 1, &no_units, d, &o)),
        format!("{p}: scatter of model.units: none of the 1 trials is complete or pruned with a finite value and a value of model.units")
    );
    assert_eq!(
        err(plot_param_scatter(&path, &axes, 4, &pruned, d, &o)),
        format!("{p}: scatter: parameter 4 asked for, there are 4 parameters")
    );
    let bad = |params: Vec<f64>| {
        [TrialPoint {
            number: 3,
            state: TrialState::Complete,
            value: Some(0.5),
            params,
        }]
    };
    assert_eq!(
        err(plot_parallel_coordinates(
            &path,
            &axes,
            &bad(vec![1e-3]),
            d,
            &o
        )),
        format!("{p}: trial 3: 1 parameter values for 4 parameters")
    );
    assert_eq!(
        err(plot_param_scatter(
            &path,
            &axes,
            0,
            &bad(vec![-1e-3, 1.0, 0.0, 32.0]),
            d,
            &o
        )),
        format!("{p}: trial 3: optimizer.lr = -0.001 on a log axis (values must be > 0)")
    );
    assert_eq!(
        err(plot_param_scatter(
            &path,
            &axes,
            2,
            &bad(vec![1e-3, 1.0, 3.0, 32.0]),
            d,
            &o
        )),
        format!("{p}: trial 3: model.activation = 3 is not a choice index (0 to 2)")
    );
    let empty_choice = [ParamAxis::categorical("act", Vec::new())];
    assert_eq!(
        err(plot_parallel_coordinates(&path, &empty_choice, &[], d, &o)),
        format!("{p}: act: a categorical parameter with no choices")
    );
    assert_eq!(
        err(plot_importances(&path, &[], "m", &o)),
        format!("{p}: parameter importances: no parameters")
    );
    assert_eq!(
        err(plot_importances(&path, &[("lr".into(), f64::NAN)], "m", &o)),
        format!("{p}: parameter importances: lr = NaN, expected a finite number >= 0")
    );
    let jpg = dir.path().join("plot.jpg");
    assert_eq!(
        err(plot_history(&jpg, &pruned, d, &o)),
        format!(
            "{}: cannot tell the plot format: give a file name ending in .png or .svg",
            jpg.display()
        )
    );
    assert!(!path.exists() && !jpg.exists());
}

#[test]
fn best_trial_is_the_earliest_best_complete_one() {
    let p = [1e-3, 64.0, 0.0, 32.0];
    let trials = [
        point(0, TrialState::Complete, Some(0.7), p),
        point(1, TrialState::Pruned, Some(0.9), p),
        point(2, TrialState::Complete, Some(0.8), p),
        point(3, TrialState::Complete, Some(0.8), p),
        point(4, TrialState::Complete, Some(f64::NAN), p),
    ];
    assert_eq!(best_trial(&trials, Direction::Maximize).unwrap().number, 2);
    assert_eq!(best_trial(&trials, Direction::Minimize).unwrap().number, 0);
    assert!(best_trial(&trials[1..2], Direction::Maximize).is_none());
}

#[test]
fn trial_points_from_a_study_trial() {
    let axes = axes();
    let mut params = BTreeMap::new();
    params.insert("optimizer.lr".to_string(), ParamValue::Float(0.01));
    params.insert("model.activation".to_string(), ParamValue::Choice(2));
    params.insert("train.batch_size".to_string(), ParamValue::Int(64));
    let trial = Trial {
        number: 4,
        state: TrialState::Pruned,
        params,
        intermediate: vec![(1, 0.5)],
        value: Some(0.5),
        worker: None,
        attrs: BTreeMap::new(),
    };
    let p = TrialPoint::from_trial(&trial, &axes);
    assert_eq!(
        (p.number, p.state, p.value),
        (4, TrialState::Pruned, Some(0.5))
    );
    assert_eq!(p.params[0], 0.01);
    assert!(p.params[1].is_nan(), "model.units is missing");
    assert_eq!(&p.params[2..], &[2.0, 64.0]);
    assert_eq!(p.finished_value(), Some(0.5));
    assert_eq!(p.complete_value(), None);
}
