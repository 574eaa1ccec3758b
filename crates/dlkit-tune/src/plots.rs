//! Plots of a study, as PNG or SVG (chosen by the file name's extension), in the style of
//! Optuna's visualisations:
//!
//! - [`plot_history`]: the optimisation history, each finished trial's objective by trial
//!   number and the best value so far;
//! - [`plot_parallel_coordinates`]: one vertical axis per parameter and one for the objective,
//!   each complete trial a line across them coloured by its objective;
//! - [`plot_param_scatter`]: the objective against one parameter on the parameter's own scale;
//! - [`plot_importances`]: parameter importances as sorted horizontal bars.
//!
//! The plots take plain data: the parameters as [`ParamAxis`] and the trials as
//! [`TrialPoint`]s ([`TrialPoint::from_trial`] makes them from a study's [`Trial`]s). They are
//! drawn and written (atomically, with the shipped font) by [`dlkit_train::plots::save`].
//!
//! Which trials are drawn: the history and the scatters show complete and pruned trials (in
//! different colours); the parallel coordinates only complete ones, as Optuna's, since a
//! pruned trial's value is that of an early epoch. "Best" is always the best complete trial
//! (the earliest of equals), as Optuna's `study.best_trial`. Trials without a finite value,
//! and parameter values that are NaN (a trial without the parameter), are left out.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::trial::{Direction, Trial, TrialState};
use dlkit_train::plots::{
    padded, save, tick_label, tint, DrawResult, Figure, PlotError, PlotOptions, FAMILY, PALETTE,
};

/// Complete trials' points: blue.
const COMPLETE: RGBColor = PALETTE[0];
/// Pruned trials' points: orange.
const PRUNED: RGBColor = PALETTE[1];
/// The best value so far and the best trial: red.
const BEST: RGBColor = PALETTE[3];
/// The dark end of the parallel coordinates' colour ramp (the best trial).
const RAMP_DARK: RGBColor = RGBColor(8, 48, 107);

/// A parameter as the plots draw it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamAxis {
    /// The parameter's config path (`optimizer.lr`): the axis name, and the key that
    /// [`TrialPoint::from_trial`] looks up in [`Trial::params`].
    pub name: String,
    /// Sampled on a log scale: drawn on a log axis (its values must be > 0).
    pub log: bool,
    /// A categorical parameter's choices as labels; its values are choice indices.
    pub categorical: Option<Vec<String>>,
}

impl ParamAxis {
    /// A numeric parameter on a linear scale.
    pub fn linear(name: impl Into<String>) -> Self {
        ParamAxis {
            name: name.into(),
            log: false,
            categorical: None,
        }
    }

    /// A numeric parameter sampled on a log scale.
    pub fn log(name: impl Into<String>) -> Self {
        ParamAxis {
            log: true,
            ..ParamAxis::linear(name)
        }
    }

    /// A categorical parameter with these choices (as labels).
    pub fn categorical(name: impl Into<String>, choices: Vec<String>) -> Self {
        ParamAxis {
            categorical: Some(choices),
            ..ParamAxis::linear(name)
        }
    }
}

/// A trial as the plots see it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialPoint {
    pub number: u64,
    pub state: TrialState,
    /// The objective, as [`Trial::value`].
    pub value: Option<f64>,
    /// One value per [`ParamAxis`], in the same order, on the parameter's own (linear) scale:
    /// a categorical's choice index; NaN where the trial lacks the parameter.
    pub params: Vec<f64>,
}

impl TrialPoint {
    /// `trial`'s number, state, value and its values of the `axes`' parameters (by name).
    pub fn from_trial(trial: &Trial, axes: &[ParamAxis]) -> TrialPoint {
        TrialPoint {
            number: trial.number,
            state: trial.state,
            value: trial.value,
            params: axes
                .iter()
                .map(|a| trial.params.get(&a.name).map_or(f64::NAN, |v| v.as_f64()))
                .collect(),
        }
    }

    /// The objective of a complete or pruned trial, if finite.
    pub fn finished_value(&self) -> Option<f64> {
        self.value
            .filter(|v| self.state.is_finished() && v.is_finite())
    }

    /// The objective of a complete trial, if finite.
    pub fn complete_value(&self) -> Option<f64> {
        self.finished_value()
            .filter(|_| self.state == TrialState::Complete)
    }
}

/// The best complete trial under `direction`: the earliest (lowest number) of equals.
pub fn best_trial(trials: &[TrialPoint], direction: Direction) -> Option<&TrialPoint> {
    let mut best: Option<(&TrialPoint, f64)> = None;
    for t in trials {
        let Some(v) = t.complete_value() else {
            continue;
        };
        let wins =
            best.is_none_or(|(b, bv)| direction.better(v, bv) || (v == bv && t.number < b.number));
        if wins {
            best = Some((t, v));
        }
    }
    best.map(|(t, _)| t)
}

/// Checks that every trial has one value per axis, and that every finite value fits its
/// axis: > 0 on a log axis, a choice index on a categorical one. The message names the trial,
/// the parameter and the value.
pub(crate) fn check_points(axes: &[ParamAxis], trials: &[TrialPoint]) -> Result<(), String> {
    for a in axes {
        if a.categorical.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(format!(
                "{}: a categorical parameter with no choices",
                a.name
            ));
        }
    }
    for t in trials {
        if t.params.len() != axes.len() {
            return Err(format!(
                "trial {}: {} parameter values for {} parameters",
                t.number,
                t.params.len(),
                axes.len()
            ));
        }
        for (a, &v) in axes.iter().zip(&t.params) {
            if !v.is_finite() {
                continue;
            }
            if let Some(choices) = &a.categorical {
                if v.fract() != 0.0 || v < 0.0 || v >= choices.len() as f64 {
                    return Err(format!(
                        "trial {}: {} = {v} is not a choice index (0 to {})",
                        t.number,
                        a.name,
                        choices.len() - 1
                    ));
                }
            } else if a.log && v <= 0.0 {
                return Err(format!(
                    "trial {}: {} = {v} on a log axis (values must be > 0)",
                    t.number, a.name
                ));
            }
        }
    }
    Ok(())
}

fn data_error(path: &Path, message: String) -> PlotError {
    PlotError::Data {
        path: path.to_path_buf(),
        message,
    }
}

/// At most `max` integer tick positions in `lo..=hi`, a step of 1, 2 or 5 times a power of 10.
fn integer_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let (first, last) = (lo.ceil() as i64, hi.floor() as i64);
    if last < first {
        return Vec::new();
    }
    let mut step = 1i64;
    'search: for scale in [1i64, 10, 100, 1000, 10_000, 100_000, 1_000_000] {
        for m in [1, 2, 5] {
            step = m * scale;
            if ((last - first) / step + 1) as usize <= max.max(1) {
                break 'search;
            }
        }
    }
    let start = first.div_euclid(step) * step + if first % step == 0 { 0 } else { step };
    (0..)
        .map(|k| start + k * step)
        .take_while(|&v| v <= last)
        .map(|v| v as f64)
        .collect()
}

/// A linear axis with ticks at integers only (trial numbers, choice indices), at most as
/// many as plotters asks for (see [`integer_ticks`]).
struct IntegerTicks(RangedCoordf64);

impl From<std::ops::Range<f64>> for IntegerTicks {
    fn from(range: std::ops::Range<f64>) -> Self {
        IntegerTicks(range.into())
    }
}

impl Ranged for IntegerTicks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.0.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let range = self.0.range();
        integer_ticks(range.start, range.end, hint.max_num_points())
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.range()
    }
}

/// A log axis' range: the values' range widened by 5% of its span in decades on each side
/// (by a factor 2 when all values are equal).
fn log_padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = padded(values.map(f64::log10), 0.05);
    let (lo, hi) = if hi - lo > 0.0 && lo.is_finite() {
        (lo, hi)
    } else {
        (lo - 0.3, hi + 0.3)
    };
    (10f64.powf(lo), 10f64.powf(hi))
}

/// The chart frame of the history and the scatters: caption, margins, light grid, labels.
fn chart_mesh<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_fmt: &dyn Fn(&X::ValueType) -> String,
) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_fmt)
        .y_label_formatter(&tick_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()?;
    Ok(())
}

fn draw_legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged,
    Y: Ranged,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

/// The optimisation history.
struct History {
    complete: Vec<(f64, f64)>,
    pruned: Vec<(f64, f64)>,
    /// The best value so far as a step line over the complete trials.
    best: Vec<(f64, f64)>,
    direction: Direction,
}

impl Figure for History {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let all = || self.complete.iter().chain(&self.pruned);
        let (n0, n1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
        let (x0, x1) = (n0 - 0.5, n1 + 0.5);
        let (y0, y1) = padded(all().map(|p| p.1), 0.05);
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(IntegerTicks::from(x0..x1), y0..y1)?;
        chart_mesh(
            &mut chart,
            opts.x_label.as_deref().unwrap_or("trial"),
            opts.y_label.as_deref().unwrap_or("objective value"),
            &tick_label,
        )?;
        for (name, points, color) in [
            ("complete", &self.complete, COMPLETE),
            ("pruned", &self.pruned, PRUNED),
        ] {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        }
        if !self.best.is_empty() {
            let line = BEST.stroke_width(2);
            chart
                .draw_series(LineSeries::new(self.best.iter().copied(), line))?
                .label("best value")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
        }
        let position = match self.direction {
            Direction::Minimize => SeriesLabelPosition::UpperRight,
            Direction::Maximize => SeriesLabelPosition::LowerRight,
        };
        draw_legend(&mut chart, position)
    }
}

/// The optimisation history, as Optuna's `plot_optimization_history`: each complete (blue)
/// and pruned (orange) trial's objective value as a point at its trial number, and the best
/// value so far over the complete trials (red, under `direction`) as a step line to the last
/// trial drawn; a legend names them. Labels default to "trial" and "objective value".
pub fn plot_history(
    path: impl AsRef<Path>,
    trials: &[TrialPoint],
    direction: Direction,
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let mut finished: Vec<&TrialPoint> = trials
        .iter()
        .filter(|t| t.finished_value().is_some())
        .collect();
    if finished.is_empty() {
        return Err(data_error(
            path,
            format!(
                "optimisation history: none of the {} trials is complete or pruned with a finite value",
                trials.len()
            ),
        ));
    }
    finished.sort_by_key(|t| t.number);
    let point = |t: &TrialPoint| (t.number as f64, t.finished_value().unwrap_or_default());
    let mut best = Vec::new();
    let mut so_far: Option<f64> = None;
    for t in &finished {
        let Some(v) = t.complete_value() else {
            continue;
        };
        let x = t.number as f64;
        match so_far {
            Some(b) if !direction.better(v, b) => {}
            Some(b) => {
                best.push((x, b));
                best.push((x, v));
                so_far = Some(v);
            }
            None => {
                best.push((x, v));
                so_far = Some(v);
            }
        }
    }
    if let (Some(b), Some(last)) = (so_far, finished.last()) {
        best.push((last.number as f64, b));
    }
    let fig = History {
        complete: finished
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .map(|t| point(t))
            .collect(),
        pruned: finished
            .iter()
            .filter(|t| t.state == TrialState::Pruned)
            .map(|t| point(t))
            .collect(),
        best,
        direction,
    };
    save(&fig, path, opts)
}

/// The objective against one parameter.
struct Scatter<'a> {
    axis: &'a ParamAxis,
    /// (parameter value, objective)
    complete: Vec<(f64, f64)>,
    pruned: Vec<(f64, f64)>,
    /// The best complete trial: number, parameter value, objective.
    best: Option<(u64, f64, f64)>,
}

impl Scatter<'_> {
    /// Draws the chart on `x_spec`, the parameter's axis (linear, log or categorical).
    fn draw_on<DB, X>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
        x_spec: X,
        x_fmt: &dyn Fn(&f64) -> String,
    ) -> DrawResult
    where
        DB: DrawingBackend,
        DB::ErrorType: 'static,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
    {
        let all = || self.complete.iter().chain(&self.pruned);
        let (y0, y1) = padded(all().map(|p| p.1), 0.05);
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x_spec, y0..y1)?;
        chart_mesh(
            &mut chart,
            opts.x_label.as_deref().unwrap_or(&self.axis.name),
            opts.y_label.as_deref().unwrap_or("objective value"),
            x_fmt,
        )?;
        for (name, points, color) in [
            ("complete", &self.complete, COMPLETE),
            ("pruned", &self.pruned, PRUNED),
        ] {
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        }
        if let Some((number, x, y)) = self.best {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((x, y))
                        + Circle::new((0, 0), 7, BEST.filled())
                        + Circle::new((0, 0), 7, BLACK.stroke_width(1)),
                ))?
                .label(format!("best (trial {number})"))
                .legend(|(lx, ly)| {
                    EmptyElement::at((lx + 8, ly))
                        + Circle::new((0, 0), 7, BEST.filled())
                        + Circle::new((0, 0), 7, BLACK.stroke_width(1))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl Figure for Scatter<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let xs = || self.complete.iter().chain(&self.pruned).map(|p| p.0);
        match &self.axis.categorical {
            Some(choices) => {
                let n = choices.len();
                let name = |v: &f64| choices.get(*v as usize).cloned().unwrap_or_default();
                let spec = IntegerTicks::from(-0.5..n as f64 - 0.5);
                self.draw_on(root, opts, spec, &name)
            }
            None if self.axis.log => {
                let (lo, hi) = log_padded(xs());
                self.draw_on(root, opts, (lo..hi).log_scale(), &tick_label)
            }
            None => {
                let (lo, hi) = padded(xs(), 0.05);
                self.draw_on(root, opts, lo..hi, &tick_label)
            }
        }
    }
}

/// The objective against the parameter `axes[param]`, as Optuna's `plot_slice`: complete
/// (blue) and pruned (orange) trials as points, the best complete trial as a larger red point
/// outlined in black (when it has the parameter), on the parameter's own scale: a log x axis for a log-sampled
/// parameter, the choices as evenly spaced labelled levels for a categorical one. Labels
/// default to the parameter's name and "objective value". One file per parameter.
pub fn plot_param_scatter(
    path: impl AsRef<Path>,
    axes: &[ParamAxis],
    param: usize,
    trials: &[TrialPoint],
    direction: Direction,
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let Some(axis) = axes.get(param) else {
        return Err(data_error(
            path,
            format!(
                "scatter: parameter {param} asked for, there are {} parameters",
                axes.len()
            ),
        ));
    };
    check_points(axes, trials).map_err(|m| data_error(path, m))?;
    let x_of = |t: &TrialPoint| Some(t.params[param]).filter(|x| x.is_finite());
    let points = |state: TrialState| -> Vec<(f64, f64)> {
        trials
            .iter()
            .filter(|t| t.state == state)
            .filter_map(|t| Some((x_of(t)?, t.finished_value()?)))
            .collect()
    };
    let (complete, pruned) = (points(TrialState::Complete), points(TrialState::Pruned));
    if complete.is_empty() && pruned.is_empty() {
        return Err(data_error(
            path,
            format!(
                "scatter of {}: none of the {} trials is complete or pruned with a finite value and a value of {}",
                axis.name,
                trials.len(),
                axis.name
            ),
        ));
    }
    let best =
        best_trial(trials, direction).and_then(|t| Some((t.number, x_of(t)?, t.complete_value()?)));
    let fig = Scatter {
        axis,
        complete,
        pruned,
        best,
    };
    save(&fig, path, opts)
}

/// One vertical axis of the parallel coordinates.
struct Dimension {
    name: String,
    /// Each drawn trial's height on the axis: 0 at the bottom, 1 at the top.
    heights: Vec<f64>,
    /// Tick labels at heights: min and max below and above the axis, or a categorical's
    /// choices beside it.
    labels: Vec<(f64, String)>,
    beside: bool,
}

impl Dimension {
    /// A numeric axis over `values` (log10 heights when `log`), labelled with its min and max
    /// (its one value, at half height, when constant).
    fn numeric(name: &str, values: &[f64], log: bool) -> Dimension {
        let scaled = |v: f64| if log { v.log10() } else { v };
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (slo, shi) = (scaled(lo), scaled(hi));
        let (heights, labels) = if shi > slo {
            (
                values
                    .iter()
                    .map(|&v| (scaled(v) - slo) / (shi - slo))
                    .collect(),
                vec![(0.0, short_label(lo)), (1.0, short_label(hi))],
            )
        } else {
            (vec![0.5; values.len()], vec![(0.5, short_label(lo))])
        };
        Dimension {
            name: name.to_string(),
            heights,
            beside: labels.len() == 1,
            labels,
        }
    }

    /// A categorical axis: the choices evenly spaced from bottom to top, each labelled.
    fn categorical(name: &str, indices: &[f64], choices: &[String]) -> Dimension {
        let n = choices.len();
        let height = |i: f64| if n > 1 { i / (n - 1) as f64 } else { 0.5 };
        Dimension {
            name: name.to_string(),
            heights: indices.iter().map(|&i| height(i)).collect(),
            labels: choices
                .iter()
                .enumerate()
                .map(|(i, c)| (height(i as f64), c.clone()))
                .collect(),
            beside: true,
        }
    }
}

/// `v` to 4 significant digits, as [`tick_label`] writes it ("0.0001085", "254").
fn short_label(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return tick_label(&v);
    }
    let scale = 10f64.powi(3 - v.abs().log10().floor() as i32);
    if !scale.is_finite() || scale == 0.0 {
        return tick_label(&v);
    }
    tick_label(&((v * scale).round() / scale))
}

/// The parallel coordinates: the objective's axis first, then the parameters'.
struct Parallel {
    dims: Vec<Dimension>,
    /// Each drawn trial's shade: 0 for the worst, 1 for the best.
    shades: Vec<f64>,
    /// The objective axis' top is the best end (maximising).
    best_at_top: bool,
}

/// The parallel coordinates' colour ramp: light blue (worst) to dark blue (best).
fn ramp(shade: f64) -> RGBColor {
    tint(RAMP_DARK, 0.15 + 0.85 * shade)
}

impl Figure for Parallel {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let area = root
            .margin(12, 12, 16, 16)
            .titled(&opts.title, (FAMILY, 24))?;
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let name_font = TextStyle::from((FAMILY, 15).into_font()).color(&BLACK);
        let tick_font = TextStyle::from((FAMILY, 13).into_font()).color(&BLACK);
        let width = |s: &str, f: &TextStyle| -> Result<i32, Box<dyn std::error::Error>> {
            Ok(area.estimate_text_size(s, f)?.0 as i32)
        };
        // How far each axis' texts reach left and right of it.
        let mut reach = Vec::with_capacity(self.dims.len());
        for d in &self.dims {
            let mut half = width(&d.name, &name_font)? / 2;
            let mut right = half;
            for (_, l) in &d.labels {
                let lw = width(l, &tick_font)?;
                if d.beside {
                    right = right.max(lw + 8);
                } else {
                    half = half.max(lw / 2);
                    right = right.max(lw / 2);
                }
            }
            reach.push((half, right));
        }
        let n = self.dims.len();
        let left = reach[0].0.max(12) + 4;
        let right = reach[n - 1].1.max(12) + 4;
        let spacing = if n > 1 {
            ((w - left - right) / (n as i32 - 1)).max(1)
        } else {
            0
        };
        let xs: Vec<i32> = (0..n as i32)
            .map(|i| if n > 1 { left + i * spacing } else { w / 2 })
            .collect();
        let stagger = n > 1 && reach.iter().any(|&(half, _)| 2 * half + 8 > spacing);
        let row = 20;
        let top = row + 4;
        let bottom = h - (row + 4 + row * if stagger { 2 } else { 1 } + 4);
        let y_at = |height: f64| bottom - (height * (bottom - top) as f64).round() as i32;

        // Lines, worst first so that the best are on top.
        let mut order: Vec<usize> = (0..self.shades.len()).collect();
        order.sort_by(|&a, &b| self.shades[a].total_cmp(&self.shades[b]));
        let stroke = if order.len() <= 100 { 2 } else { 1 };
        for k in order {
            let path: Vec<(i32, i32)> = self
                .dims
                .iter()
                .zip(&xs)
                .map(|(d, &x)| (x, y_at(d.heights[k])))
                .collect();
            area.draw(&PathElement::new(
                path,
                ramp(self.shades[k]).stroke_width(stroke),
            ))?;
        }

        // The objective's axis is the colour bar: its ramp, darkest at the best end.
        let bands = 64;
        for b in 0..bands {
            let (h0, h1) = (b as f64 / bands as f64, (b + 1) as f64 / bands as f64);
            let mid = (h0 + h1) / 2.0;
            let shade = if self.best_at_top { mid } else { 1.0 - mid };
            area.draw(&Rectangle::new(
                [(xs[0] - 5, y_at(h1)), (xs[0] + 5, y_at(h0))],
                ramp(shade).filled(),
            ))?;
        }
        for (i, (d, &x)) in self.dims.iter().zip(&xs).enumerate() {
            if i > 0 {
                area.draw(&PathElement::new(
                    vec![(x, top), (x, bottom)],
                    BLACK.mix(0.8).stroke_width(1),
                ))?;
            }
            for (height, label) in &d.labels {
                let y = y_at(*height);
                if d.beside {
                    let (lw, lh) = area.estimate_text_size(label, &tick_font)?;
                    let x0 = x + 8;
                    area.draw(&Rectangle::new(
                        [
                            (x0 - 2, y - lh as i32 / 2 - 1),
                            (x0 + lw as i32 + 2, y + lh as i32 / 2 + 1),
                        ],
                        WHITE.mix(0.85).filled(),
                    ))?;
                    let style = tick_font.pos(Pos::new(HPos::Left, VPos::Center));
                    area.draw(&Text::new(label.clone(), (x0, y), style))?;
                } else if *height >= 1.0 {
                    let style = tick_font.pos(Pos::new(HPos::Center, VPos::Bottom));
                    area.draw(&Text::new(label.clone(), (x, top - 4), style))?;
                } else {
                    let style = tick_font.pos(Pos::new(HPos::Center, VPos::Top));
                    area.draw(&Text::new(label.clone(), (x, bottom + 4), style))?;
                }
            }
            let name_row = if stagger && i % 2 == 1 { 2 } else { 1 };
            let style = name_font.pos(Pos::new(HPos::Center, VPos::Top));
            area.draw(&Text::new(
                d.name.clone(),
                (x, bottom + 4 + row * name_row),
                style,
            ))?;
        }
        Ok(())
    }
}

/// Parallel coordinates, as Optuna's `plot_parallel_coordinate`: a vertical axis for the
/// objective, then one per parameter, in `axes`' order; each complete trial that has a finite
/// value and every parameter is a line through its values, coloured by its objective from
/// light (worst) to dark blue (best, drawn last). The objective's axis is drawn as that
/// colour ramp, so it doubles as the colour bar. Numeric axes run from the trials' minimum
/// (bottom) to maximum (top), labelled with both (a constant parameter sits at half height,
/// labelled with its value); log-sampled parameters are placed by log10 of their value;
/// categorical axes space the choices evenly from the first (bottom) to the last (top), each
/// labelled. `opts.y_label` renames the objective's axis ("objective value").
pub fn plot_parallel_coordinates(
    path: impl AsRef<Path>,
    axes: &[ParamAxis],
    trials: &[TrialPoint],
    direction: Direction,
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    check_points(axes, trials).map_err(|m| data_error(path, m))?;
    let drawn: Vec<&TrialPoint> = trials
        .iter()
        .filter(|t| t.complete_value().is_some() && t.params.iter().all(|v| v.is_finite()))
        .collect();
    if drawn.is_empty() {
        return Err(data_error(
            path,
            format!(
                "parallel coordinates: none of the {} trials is complete with a finite value and every parameter",
                trials.len()
            ),
        ));
    }
    let values: Vec<f64> = drawn.iter().filter_map(|t| t.complete_value()).collect();
    let objective = Dimension::numeric(
        opts.y_label.as_deref().unwrap_or("objective value"),
        &values,
        false,
    );
    let best_at_top = direction == Direction::Maximize;
    let shades = objective
        .heights
        .iter()
        .map(|&h| if best_at_top { h } else { 1.0 - h })
        .collect();
    let mut dims = vec![objective];
    for (i, a) in axes.iter().enumerate() {
        let column: Vec<f64> = drawn.iter().map(|t| t.params[i]).collect();
        dims.push(match &a.categorical {
            Some(choices) => Dimension::categorical(&a.name, &column, choices),
            None => Dimension::numeric(&a.name, &column, a.log),
        });
    }
    let fig = Parallel {
        dims,
        shades,
        best_at_top,
    };
    save(&fig, path, opts)
}

/// Parameter importances as horizontal bars.
struct Importances {
    /// Sorted by importance, the largest first.
    bars: Vec<(String, f64)>,
    method: String,
}

impl Figure for Importances {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let label_font = TextStyle::from((FAMILY, 14).into_font());
        let mut name_w = 0;
        for (name, _) in &self.bars {
            name_w = name_w.max(root.estimate_text_size(name, &label_font)?.0);
        }
        let n = self.bars.len();
        let max = self.bars.iter().map(|b| b.1).fold(0.0, f64::max);
        let x1 = if max > 0.0 { max * 1.15 } else { 1.0 };
        // The largest bar at the top: bar k (0 = largest) at height n - 1 - k.
        let names: Vec<String> = self.bars.iter().rev().map(|b| b.0.clone()).collect();
        let name_of = |y: &f64| names.get(*y as usize).cloned().unwrap_or_default();
        let y_area = name_w + 16 + if opts.y_label.is_some() { 28 } else { 0 };
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0.0..x1, IntegerTicks::from(-0.5..n as f64 - 0.5))?;
        let x_desc = match &opts.x_label {
            Some(label) => label.clone(),
            None => format!("importance ({})", self.method),
        };
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(x_desc)
            .x_label_formatter(&tick_label)
            .y_label_formatter(&name_of)
            .disable_y_mesh()
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225));
        if let Some(y) = &opts.y_label {
            mesh.y_desc(y);
        }
        mesh.draw()?;
        let bar = |(k, (_, v)): (usize, &(String, f64))| {
            let y = (n - 1 - k) as f64;
            Rectangle::new([(0.0, y - 0.35), (*v, y + 0.35)], COMPLETE.filled())
        };
        chart.draw_series(self.bars.iter().enumerate().map(bar))?;
        let value_style = TextStyle::from((FAMILY, 13).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(self.bars.iter().enumerate().map(|(k, (_, v))| {
            EmptyElement::at((*v, (n - 1 - k) as f64))
                + Text::new(format!("{v:.3}"), (4, 0), value_style.clone())
        }))?;
        Ok(())
    }
}

/// Parameter importances as horizontal bars, the largest at the top (equal ones in the given
/// order), each with its value written at its end; `method` (how they were computed, e.g.
/// [`crate::importance::ForestOptions::method_label`]) is named in the x label,
/// "importance (method)", unless `opts.x_label` replaces it. Importances must be finite and
/// >= 0; all zero (nothing learned) draws empty bars.
pub fn plot_importances(
    path: impl AsRef<Path>,
    importances: &[(String, f64)],
    method: &str,
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    if importances.is_empty() {
        return Err(data_error(
            path,
            "parameter importances: no parameters".into(),
        ));
    }
    if let Some((name, v)) = importances
        .iter()
        .find(|(_, v)| !(v.is_finite() && *v >= 0.0))
    {
        return Err(data_error(
            path,
            format!("parameter importances: {name} = {v}, expected a finite number >= 0"),
        ));
    }
    let mut bars = importances.to_vec();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    let fig = Importances {
        bars,
        method: method.to_string(),
    };
    save(&fig, path, opts)
}
