//! Error analysis of a run, as the course does it by hand: the run's model predicts its dev
//! set (else its test set), the most confidently misclassified examples (the highest
//! predicted probability of a wrong class first) are drawn with their true and predicted
//! classes in `errors.png`, and the most frequent confusions are counted; the run's
//! `report.md` gets an "Error analysis" section linking the figure.
//!
//! The model is the run's `model/` ([`Predictor`], with its stored preprocessing); the data
//! are read again through the run's `config.toml`. Tiles show the raw examples as read
//! (before `[preprocess]`): examples of shape `[h, w, 1]` (grey) or `[h, w, 3]` (RGB), values
//! above 1 taken as 0–255, otherwise as 0–1, clamped. Other inputs (flat features) are not
//! drawn: the analysis lists the examples and says that no figure was made.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::LoadedConfig;
use crate::error::{TrainError, TrainResult};
use crate::error_grid::{plot_tiles, GridLayout, Tile};
use crate::metrics::ConfusionMatrix;
use crate::outcome::set_title;
use crate::predictor::most_probable;
use crate::run_writer::{replace_report_section, MODEL_DIR};
use crate::Predictor;
use dlkit_nn::Loss;

/// The figure's file name in the run folder.
pub const ERRORS_FILE: &str = "errors.png";

/// The heading of the section of `report.md` that the analysis writes.
pub const REPORT_HEADING: &str = "## Error analysis";

/// Which set is analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSet {
    Dev,
    Test,
}

impl ErrorSet {
    /// `"dev"` or `"test"`, as the run's sets are named.
    pub fn name(self) -> &'static str {
        match self {
            ErrorSet::Dev => "dev",
            ErrorSet::Test => "test",
        }
    }
}

/// A misclassified example.
#[derive(Clone, Debug, PartialEq)]
pub struct Misclassified {
    /// Its position in the set.
    pub index: usize,
    pub truth: usize,
    pub predicted: usize,
    /// The predicted probability of the (wrong) predicted class.
    pub probability: f64,
}

/// How often examples of class `truth` were predicted as `predicted` (another class).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    pub truth: usize,
    pub predicted: usize,
    pub count: u64,
}

/// What the analysis found and wrote.
#[derive(Clone, Debug)]
pub struct ErrorAnalysis {
    pub run: PathBuf,
    /// `"dev"` or `"test"`.
    pub set: &'static str,
    pub examples: usize,
    /// The number of misclassified examples in the set.
    pub errors: usize,
    pub class_names: Vec<String>,
    /// The set's confusion matrix (rows: true class, columns: predicted), over the model's
    /// classes, as the run's own evaluation counts it.
    pub confusion: ConfusionMatrix,
    /// The most confidently misclassified examples, most confident first (at most N).
    pub worst: Vec<Misclassified>,
    /// Every off-diagonal cell of the confusion matrix that is not 0, the most frequent
    /// first (ties: by true, then predicted class).
    pub confusions: Vec<Confusion>,
    /// `errors.png` and its layout, when the examples are images and some are misclassified.
    pub figure: Option<(PathBuf, GridLayout)>,
    /// Why no figure was drawn, when none was.
    pub note: Option<String>,
}

impl ErrorAnalysis {
    /// A class's name, or its index when the model names none.
    pub fn class_name(&self, k: usize) -> String {
        self.class_names
            .get(k)
            .cloned()
            .unwrap_or_else(|| k.to_string())
    }

    /// The tile caption of a misclassified example.
    pub fn caption(&self, m: &Misclassified) -> String {
        format!(
            "true {}, predicted {} (p = {:.2})",
            self.class_name(m.truth),
            self.class_name(m.predicted),
            m.probability
        )
    }
}

/// Analyses the errors of run folder `run` on `set` (default: dev if the run's data have
/// one, else test) and writes `errors.png` (up to `n` tiles) and the report's section.
pub fn analyze_errors(run: &Path, n: usize, set: Option<ErrorSet>) -> TrainResult<ErrorAnalysis> {
    let config_path = run.join("config.toml");
    let model_json = run.join(MODEL_DIR).join(dlkit_nn::io::DESCRIPTION_FILE);
    for needed in [&config_path, &model_json] {
        if !needed.is_file() {
            return Err(TrainError::Input(format!(
                "{}: not a run folder: {} not found (`dlkit train` writes config.toml and \
                 model/ there)",
                run.display(),
                needed.display()
            )));
        }
    }
    let predictor = Predictor::load(run)?;
    if predictor.loss() == Loss::MeanSquaredError {
        return Err(TrainError::Input(format!(
            "{}: error analysis needs a classifier, but the model was trained with \
             mean_squared_error",
            run.display()
        )));
    }
    let mut cfg = LoadedConfig::from_file(&config_path)?;
    cfg.resolve_data_paths()?;
    let splits = cfg.config.data.load(&cfg.name)?;
    let (name, data) = match set {
        Some(s) => {
            let d = match s {
                ErrorSet::Dev => splits.dev.as_ref(),
                ErrorSet::Test => splits.test.as_ref(),
            };
            let d = d.ok_or_else(|| {
                TrainError::Input(format!(
                    "{}: the run's data have no {} set (see [data] in its config.toml)",
                    run.display(),
                    s.name()
                ))
            })?;
            (s.name(), d)
        }
        None => match (&splits.dev, &splits.test) {
            (Some(d), _) => ("dev", d),
            (None, Some(t)) => ("test", t),
            (None, None) => {
                return Err(TrainError::Input(format!(
                    "{}: the run's data have neither a dev nor a test set (see [data] in its \
                     config.toml)",
                    run.display()
                )))
            }
        },
    };
    let what = format!("{} ({} set)", config_path.display(), name);
    let truth = data
        .y
        .class_indices()
        .ok_or_else(|| TrainError::Input(format!("{what}: the examples have no class labels")))?
        .to_vec();
    let probs = predictor.predict(&data.x, &what)?;
    let class_names = predictor.class_names();
    let n_classes = class_names.len().max(2);
    let predicted: Vec<usize> = probs.iter().map(|row| most_probable(row).0).collect();
    let confusion = ConfusionMatrix::new(&truth, &predicted, n_classes)?;
    let mut wrong: Vec<Misclassified> = truth
        .iter()
        .zip(&predicted)
        .enumerate()
        .filter(|(_, (t, p))| t != p)
        .map(|(index, (&truth, &predicted))| Misclassified {
            index,
            truth,
            predicted,
            probability: probs[index][predicted],
        })
        .collect();
    let errors = wrong.len();
    // The most confident first; a stable sort keeps ties in the set's order.
    wrong.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    wrong.truncate(n);
    let mut confusions: Vec<Confusion> = (0..n_classes)
        .flat_map(|t| (0..n_classes).map(move |p| (t, p)))
        .filter(|(t, p)| t != p)
        .map(|(truth, predicted)| Confusion {
            truth,
            predicted,
            count: confusion.count(truth, predicted),
        })
        .filter(|c| c.count > 0)
        .collect();
    confusions.sort_by_key(|c| std::cmp::Reverse(c.count));
    let mut analysis = ErrorAnalysis {
        run: run.to_path_buf(),
        set: name,
        examples: truth.len(),
        errors,
        class_names,
        confusion,
        worst: wrong,
        confusions,
        figure: None,
        note: None,
    };
    let shape = data.feature_shape();
    match shape {
        _ if analysis.worst.is_empty() => {
            analysis.note = Some(format!("no misclassified example in the {name} set"));
        }
        [h, w, c @ (1 | 3)] => {
            let values = data.x.to_vec_f64();
            let per = h * w * c;
            let tiles: Vec<Tile> = analysis
                .worst
                .iter()
                .map(|m| Tile {
                    height: *h,
                    width: *w,
                    rgb: to_rgb(&values[m.index * per..(m.index + 1) * per], *c),
                    caption: analysis.caption(m),
                })
                .collect();
            let path = run.join(ERRORS_FILE);
            let layout = plot_tiles(&path, &tiles)?;
            analysis.figure = Some((path, layout));
        }
        _ => {
            analysis.note = Some(format!(
                "the examples have shape {shape:?}, not images [height, width, 1 or 3]: no \
                 {ERRORS_FILE} drawn"
            ));
        }
    }
    replace_report_section(run, REPORT_HEADING, &report_section(&analysis))?;
    Ok(analysis)
}

/// RGB bytes of one raw example `[h, w, c]` (c = 1: grey): values above 1 are taken as
/// 0–255, otherwise as 0–1; clamped.
fn to_rgb(values: &[f64], c: usize) -> Vec<u8> {
    let max = values.iter().cloned().fold(0.0, f64::max);
    let k = if max > 1.0 { 1.0 } else { 255.0 };
    let byte = |v: f64| (v * k).round().clamp(0.0, 255.0) as u8;
    values
        .chunks(c)
        .flat_map(|px| match px {
            [g] => [byte(*g); 3],
            _ => [byte(px[0]), byte(px[1]), byte(px[2])],
        })
        .collect()
}

/// The report's section: the figure (or why there is none) and the confusions.
fn report_section(a: &ErrorAnalysis) -> String {
    let mut s = format!(
        "{} misclassified of {} examples in the {} set (`dlkit errors`).\n\n",
        a.errors,
        a.examples,
        set_title(a.set)
    );
    match (&a.figure, &a.note) {
        (Some(_), _) => s.push_str(&format!(
            "The {} most confidently misclassified (highest predicted probability of the wrong \
             class first):\n\n![Errors]({ERRORS_FILE})\n\n",
            a.worst.len()
        )),
        (None, Some(note)) => s.push_str(&format!("{}.\n\n", capitalised(note))),
        (None, None) => {}
    }
    if !a.confusions.is_empty() {
        s.push_str("| true | predicted | count |\n|---|---|---:|\n");
        for c in &a.confusions {
            s.push_str(&format!(
                "| {} | {} | {} |\n",
                a.class_name(c.truth),
                a.class_name(c.predicted),
                c.count
            ));
        }
    }
    s
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

impl fmt::Display for ErrorAnalysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "run: {}", self.run.display())?;
        writeln!(
            f,
            "{} set: {} of {} examples misclassified",
            self.set, self.errors, self.examples
        )?;
        if !self.worst.is_empty() {
            writeln!(f, "most confidently misclassified:")?;
            for m in &self.worst {
                writeln!(f, "  example {}: {}", m.index, self.caption(m))?;
            }
        }
        if !self.confusions.is_empty() {
            writeln!(f, "most frequent confusions (true -> predicted: count):")?;
            for c in &self.confusions {
                writeln!(
                    f,
                    "  {} -> {}: {}",
                    self.class_name(c.truth),
                    self.class_name(c.predicted),
                    c.count
                )?;
            }
        }
        match (&self.figure, &self.note) {
            (Some((path, l)), _) => writeln!(
                f,
                "wrote {} ({} tiles, {} x {})",
                path.display(),
                self.worst.len(),
                l.cols,
                l.rows
            ),
            (None, Some(note)) => writeln!(f, "note: {note}"),
            (None, None) => Ok(()),
        }
    }
}
