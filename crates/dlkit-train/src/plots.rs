//! Plots of a training run, as PNG or SVG (chosen by the file name's extension):
//!
//! - [`plot_cost`]: the cost per iteration or epoch, one line;
//! - [`plot_accuracy`]: train and dev accuracy per epoch, two lines and a legend;
//! - [`plot_confusion_matrix`]: a heat map of a [`ConfusionMatrix`] with the counts written in
//!   the cells (rows: true class, columns: predicted class);
//! - [`plot_decision_boundary`]: a classifier's regions over a 2-D grid, with the examples as
//!   points coloured by class.
//!
//! Drawing is done with `plotters`' bitmap and SVG backends. Text is rendered through its
//! `ab_glyph` feature with DejaVu Sans compiled into the crate (`assets/DejaVuSans.ttf`,
//! Bitstream Vera licence), so no fontconfig or system font is needed: a plot has the same
//! labels on any machine. SVG files name the `sans-serif` family and are rendered with the
//! viewer's own fonts.
//!
//! Every file is written atomically ([`dlkit_nn::io::write_atomic`]): rendered in memory,
//! written to a temporary file beside the target and renamed over it.
//!
//! Other crates draw their own plots the same way: implement [`Figure`] and call [`save`],
//! with [`FAMILY`], [`PALETTE`], [`tick_label`], [`padded`] and [`tint`] for the same look.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle, FontTransform};

use crate::metrics::ConfusionMatrix;
use dlkit_nn::io::write_atomic;

/// The font every label is drawn with (DejaVu Sans 2.37, see `assets/README.md`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name plotters asks for by default; the shipped font is registered under it.
pub const FAMILY: &str = "sans-serif";

pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("assets/DejaVuSans.ttf, compiled into dlkit-train, is not a valid font");
        }
    });
}

/// Line colours: blue and orange (matplotlib's first two), then the rest of its tab10.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn class_color(c: usize) -> RGBColor {
    PALETTE[c % PALETTE.len()]
}

/// `c` mixed with white: `t` = 0 gives white, 1 gives `c`.
pub fn tint(c: RGBColor, t: f64) -> RGBColor {
    let mix = |v: u8| (255.0 + (v as f64 - 255.0) * t).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// A plot file's format, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// `.png` or `.svg` (any case); `None` for anything else.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }
}

/// Why a plot was not written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("{}: cannot tell the plot format: give a file name ending in .png or .svg", .path.display())]
    Format { path: PathBuf },
    #[error("{}: plot size {width}x{height}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels", .path.display())]
    Size {
        path: PathBuf,
        width: u32,
        height: u32,
    },
    #[error("{}: {message}", .path.display())]
    Data { path: PathBuf, message: String },
    #[error("{}: drawing failed: {message}", .path.display())]
    Draw { path: PathBuf, message: String },
    #[error("{}: cannot write the plot: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

const MIN_SIDE: u32 = 64;
const MAX_SIDE: u32 = 16384;

/// Title, size and axis labels of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    pub title: String,
    /// In pixels (PNG) or SVG user units; 800 by default.
    pub width: u32,
    /// 600 by default.
    pub height: u32,
    /// The x-axis label; each plot has its own default ("iteration", "epoch", ...).
    pub x_label: Option<String>,
    /// The y-axis label; each plot has its own default ("cost", "accuracy", ...).
    pub y_label: Option<String>,
    /// Decision boundaries only: the grid has `grid` x `grid` cells, each coloured by the
    /// class predicted at its centre (200 by default).
    pub grid: usize,
    /// Decision boundaries only: the legend's name of each class (default "class k").
    pub class_names: Vec<String>,
}

impl PlotOptions {
    /// 800 x 600 with the plot's default axis labels.
    pub fn new(title: impl Into<String>) -> Self {
        PlotOptions {
            title: title.into(),
            width: 800,
            height: 600,
            x_label: None,
            y_label: None,
            grid: 200,
            class_names: Vec::new(),
        }
    }

    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    pub fn x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }

    pub fn y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = Some(label.into());
        self
    }

    pub fn grid(mut self, cells_per_side: usize) -> Self {
        self.grid = cells_per_side;
        self
    }

    pub fn class_names(mut self, names: &[String]) -> Self {
        self.class_names = names.to_vec();
        self
    }

    /// The legend's name of class `k`: its name ("class 3" for a number), else "class k".
    fn class_label(&self, k: usize) -> String {
        match self.class_names.get(k) {
            Some(name) if name.parse::<f64>().is_err() => name.clone(),
            Some(name) => format!("class {name}"),
            None => format!("class {k}"),
        }
    }
}

/// `values[i]` at x = `first + i * step`: costs recorded every 100 iterations are
/// `points(&costs, 0.0, 100.0)`, accuracies per epoch `points(&acc, 1.0, 1.0)`.
pub fn points(values: &[f64], first: f64, step: f64) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (first + i as f64 * step, v))
        .collect()
}

/// What [`Figure::draw`] returns: any backend's error, boxed.
pub type DrawResult = Result<(), Box<dyn StdError>>;

/// A tick label: integers without a decimal point ("500", not "500.0"), others with at most
/// 11 significant digits (no "0.30000000000000004").
pub fn tick_label(v: &f64) -> String {
    let v = *v;
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let scale = 10f64.powi(10 - v.abs().log10().floor() as i32);
    if !scale.is_finite() || scale == 0.0 {
        return format!("{v:e}");
    }
    let r = (v * scale).round() / scale;
    if r == 0.0 {
        "0".into()
    } else {
        r.to_string()
    }
}

/// Something that draws itself on any plotters backend; [`save`] renders it to a file.
pub trait Figure {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Renders `fig` in the format `path` names (`.png` or `.svg`), at `opts.width` x
/// `opts.height` (each side 64 to 16384), with the shipped font registered under [`FAMILY`],
/// and writes it atomically.
pub fn save<F: Figure>(fig: &F, path: &Path, opts: &PlotOptions) -> Result<(), PlotError> {
    let format = Format::from_path(path).ok_or_else(|| PlotError::Format {
        path: path.to_path_buf(),
    })?;
    let (w, h) = (opts.width, opts.height);
    if !(MIN_SIDE..=MAX_SIDE).contains(&w) || !(MIN_SIDE..=MAX_SIDE).contains(&h) {
        return Err(PlotError::Size {
            path: path.to_path_buf(),
            width: w,
            height: h,
        });
    }
    ensure_font();
    let draw_err = |e: Box<dyn StdError>| PlotError::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let bytes = match format {
        Format::Png => {
            let mut buf = vec![255u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                fig.draw(&root, opts).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(e.into()))?;
            }
            let img = image::RgbImage::from_raw(w, h, buf).expect("the buffer is w * h * 3 bytes");
            let mut out = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
                .map_err(|e| draw_err(format!("PNG encoding: {e}").into()))?;
            out
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                fig.draw(&root, opts).map_err(draw_err)?;
                root.present().map_err(|e| draw_err(e.into()))?;
            }
            svg.into_bytes()
        }
    };
    write_atomic(path, &bytes).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The range of `values` widened by `pad` of its span on each side (or by 1, or by a tenth
/// of the value, when the span is 0).
pub fn padded(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let span = hi - lo;
    let d = if span > 0.0 {
        span * pad
    } else if lo != 0.0 {
        lo.abs() * 0.1
    } else {
        1.0
    };
    (lo - d, hi + d)
}

/// Line plots: one or more series of (x, y) points.
struct Curves<'a> {
    series: Vec<(&'a str, Vec<(f64, f64)>)>,
    x_label: &'static str,
    y_label: &'static str,
    /// y never goes beyond these (0 for costs, [0, 1] for accuracies).
    y_floor: Option<f64>,
    y_ceiling: Option<f64>,
    /// A legend in the lower right corner (accuracies rise towards the top).
    legend: bool,
}

impl Figure for Curves<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let all = || self.series.iter().flat_map(|(_, s)| s.iter());
        let (x0, x1) = match all().count() {
            1 => padded(all().map(|p| p.0), 0.0),
            _ => {
                let (lo, hi) = padded(all().map(|p| p.0), 0.0);
                if hi > lo {
                    (lo, hi)
                } else {
                    (lo - 1.0, hi + 1.0)
                }
            }
        };
        let (mut y0, mut y1) = padded(all().map(|p| p.1), 0.05);
        if let Some(floor) = self.y_floor {
            y0 = y0.max(floor);
        }
        if let Some(ceiling) = self.y_ceiling {
            y1 = y1.min(ceiling);
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(opts.x_label.as_deref().unwrap_or(self.x_label))
            .y_desc(opts.y_label.as_deref().unwrap_or(self.y_label))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .light_line_style(TRANSPARENT)
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()?;
        for (i, (name, data)) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let line = color.stroke_width(2);
            let anno = chart.draw_series(LineSeries::new(data.iter().copied(), line))?;
            if self.legend {
                anno.label(*name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], line));
            }
            // Markers where there are few points (an accuracy per epoch, say).
            if data.len() <= 60 {
                chart.draw_series(data.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
        }
        if self.legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font((FAMILY, 15))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .draw()?;
        }
        Ok(())
    }
}

/// Finite points of `data`; an error naming `what` if there are none.
fn finite(path: &Path, what: &str, data: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, PlotError> {
    let kept: Vec<(f64, f64)> = data
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if kept.is_empty() && !data.is_empty() {
        return Err(PlotError::Data {
            path: path.to_path_buf(),
            message: format!("{what}: none of its {} points is finite", data.len()),
        });
    }
    Ok(kept)
}

/// The cost (x: iteration or epoch, y: cost) as one line. Non-finite points are skipped; the
/// y axis starts at 0 or above. Labels default to "iteration" and "cost".
///
/// ```no_run
/// use dlkit_train::plots::{plot_cost, points, PlotOptions};
/// let costs = [0.69, 0.52, 0.41, 0.35];                     // every 100 iterations
/// plot_cost("cost.png", &points(&costs, 0.0, 100.0), &PlotOptions::new("Cost")).unwrap();
/// ```
pub fn plot_cost(
    path: impl AsRef<Path>,
    cost: &[(f64, f64)],
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let cost = finite(path, "cost", cost)?;
    if cost.is_empty() {
        return Err(PlotError::Data {
            path: path.to_path_buf(),
            message: "cost: no points to plot".into(),
        });
    }
    let fig = Curves {
        series: vec![("cost", cost)],
        x_label: "iteration",
        y_label: "cost",
        y_floor: Some(0.0),
        y_ceiling: None,
        legend: false,
    };
    save(&fig, path, opts)
}

/// Train and dev accuracy (x: epoch, y: accuracy in [0, 1]) as two lines with a legend.
/// Either series may be empty, not both; non-finite points are skipped. Labels default to
/// "epoch" and "accuracy".
pub fn plot_accuracy(
    path: impl AsRef<Path>,
    train: &[(f64, f64)],
    dev: &[(f64, f64)],
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let train = finite(path, "train accuracy", train)?;
    let dev = finite(path, "dev accuracy", dev)?;
    if train.is_empty() && dev.is_empty() {
        return Err(PlotError::Data {
            path: path.to_path_buf(),
            message: "accuracy: no points to plot (train and dev are both empty)".into(),
        });
    }
    let fig = Curves {
        series: [("train", train), ("dev", dev)]
            .into_iter()
            .filter(|(_, s)| !s.is_empty())
            .collect(),
        x_label: "epoch",
        y_label: "accuracy",
        y_floor: Some(0.0),
        y_ceiling: Some(1.0),
        legend: true,
    };
    save(&fig, path, opts)
}

/// A confusion matrix's heat map.
struct Heatmap<'a> {
    cm: &'a ConfusionMatrix,
}

impl Figure for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let area = root.margin(12, 8, 8, 8).titled(&opts.title, (FAMILY, 24))?;
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let n = self.cm.n_classes();
        let names: Vec<String> = (0..n).map(|c| self.cm.class_label(c)).collect();
        let name_font = TextStyle::from((FAMILY, 15).into_font()).color(&BLACK);
        let desc_font = TextStyle::from((FAMILY, 17).into_font()).color(&BLACK);
        let mut name_w = 0i32;
        for name in &names {
            let (tw, _) = area.estimate_text_size(name, &name_font)?;
            name_w = name_w.max(tw as i32);
        }
        // Left: the rotated "true class" label, then the row names; bottom: the column names,
        // then "predicted class".
        let (left, right, top, bottom) = (16 + 24 + name_w + 10, 24, 8, 10 + 22 + 30);
        let cell = ((w - left - right) / n as i32)
            .min((h - top - bottom) / n as i32)
            .max(1);
        let side = cell * n as i32;
        let gx = left + (w - left - right - side) / 2;
        let gy = top + (h - top - bottom - side) / 2;

        let max = self
            .cm
            .counts()
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(0)
            .max(1);
        let dark = RGBColor(8, 48, 107);
        let count_size = (cell as f64 * 0.3).clamp(9.0, 30.0);
        for t in 0..n {
            for p in 0..n {
                let count = self.cm.count(t, p);
                let frac = count as f64 / max as f64;
                let fill = tint(dark, 0.05 + 0.95 * frac);
                let (x, y) = (gx + p as i32 * cell, gy + t as i32 * cell);
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    WHITE.stroke_width(1),
                ))?;
                let ink = if frac > 0.5 { WHITE } else { BLACK };
                let style = TextStyle::from((FAMILY, count_size).into_font())
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                area.draw(&Text::new(
                    count.to_string(),
                    (x + cell / 2, y + cell / 2),
                    style,
                ))?;
            }
        }
        let right_aligned = name_font.pos(Pos::new(HPos::Right, VPos::Center));
        let centred_top = name_font.pos(Pos::new(HPos::Center, VPos::Top));
        for (c, name) in names.iter().enumerate() {
            let mid = c as i32 * cell + cell / 2;
            area.draw(&Text::new(
                name.clone(),
                (gx - 8, gy + mid),
                right_aligned.clone(),
            ))?;
            area.draw(&Text::new(
                name.clone(),
                (gx + mid, gy + side + 8),
                centred_top.clone(),
            ))?;
        }
        let x_desc = opts.x_label.as_deref().unwrap_or("predicted class");
        let y_desc = opts.y_label.as_deref().unwrap_or("true class");
        area.draw(&Text::new(
            x_desc.to_string(),
            (gx + side / 2, gy + side + 8 + 26),
            desc_font.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        area.draw(&Text::new(
            y_desc.to_string(),
            (16, gy + side / 2),
            desc_font
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        Ok(())
    }
}

/// A confusion matrix as a heat map: rows are true classes (top to bottom), columns predicted
/// classes (left to right), each cell shaded by its count (white to dark blue, relative to the
/// largest count) with the count written in it; the class names (or indices) label the rows
/// and columns. Axis labels default to "predicted class" and "true class".
pub fn plot_confusion_matrix(
    path: impl AsRef<Path>,
    cm: &ConfusionMatrix,
    opts: &PlotOptions,
) -> Result<(), PlotError> {
    save(&Heatmap { cm }, path.as_ref(), opts)
}

/// A decision boundary.
struct Boundary<'a> {
    points: &'a [(f64, f64)],
    labels: &'a [usize],
    /// The class predicted at each grid cell's centre, row by row from the bottom.
    regions: Vec<usize>,
    n: usize,
    x: (f64, f64),
    y: (f64, f64),
}

impl Figure for Boundary<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        opts: &PlotOptions,
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .caption(&opts.title, (FAMILY, 24))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(opts.x_label.as_deref().unwrap_or("x1"))
            .y_desc(opts.y_label.as_deref().unwrap_or("x2"))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .draw()?;
        let n = self.n;
        let dx = (self.x.1 - self.x.0) / n as f64;
        let dy = (self.y.1 - self.y.0) / n as f64;
        // One rectangle per run of equal predictions in a row, not one per cell: a smooth
        // boundary then costs a few rectangles a row (SVG files stay small).
        let mut runs = Vec::new();
        for j in 0..n {
            let row = &self.regions[j * n..(j + 1) * n];
            let mut start = 0;
            for i in 1..=n {
                if i == n || row[i] != row[start] {
                    let corner0 = (self.x.0 + start as f64 * dx, self.y.0 + j as f64 * dy);
                    let corner1 = (self.x.0 + i as f64 * dx, self.y.0 + (j + 1) as f64 * dy);
                    let fill = tint(class_color(row[start]), 0.35);
                    runs.push(Rectangle::new([corner0, corner1], fill.filled()));
                    start = i;
                }
            }
        }
        chart.draw_series(runs)?;
        let n_classes = self.labels.iter().max().map_or(0, |m| m + 1);
        for class in 0..n_classes {
            let color = class_color(class);
            let members = self
                .points
                .iter()
                .zip(self.labels)
                .filter(|(_, &l)| l == class)
                .map(|(&p, _)| p)
                .collect::<Vec<_>>();
            if members.is_empty() {
                continue;
            }
            chart
                .draw_series(members.into_iter().map(|p| {
                    EmptyElement::at(p)
                        + Circle::new((0, 0), 4, color.filled())
                        + Circle::new((0, 0), 4, BLACK.stroke_width(1))
                }))?
                .label(opts.class_label(class))
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font((FAMILY, 15))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

/// A classifier's decision regions over a 2-D grid with the examples on top, as in the
/// course's `plot_decision_boundary`.
///
/// The grid covers the points' range widened by 10% on each side, in `opts.grid` x
/// `opts.grid` cells. `classify` is called once with every cell centre (row by row, from the
/// bottom-left; `opts.grid`² points) and returns one class per point, so a model can predict
/// the whole grid in one batch. Regions are light tints of the class colours; points are the
/// full colours with a black outline, and the legend names the classes. Axis labels default to
/// "x1" and "x2".
pub fn plot_decision_boundary<F>(
    path: impl AsRef<Path>,
    points: &[(f64, f64)],
    labels: &[usize],
    classify: F,
    opts: &PlotOptions,
) -> Result<(), PlotError>
where
    F: FnOnce(&[(f64, f64)]) -> Vec<usize>,
{
    let path = path.as_ref();
    let data_err = |message: String| PlotError::Data {
        path: path.to_path_buf(),
        message,
    };
    if points.is_empty() {
        return Err(data_err("decision boundary: no points".into()));
    }
    if points.len() != labels.len() {
        return Err(data_err(format!(
            "decision boundary: {} points but {} labels",
            points.len(),
            labels.len()
        )));
    }
    if let Some(i) = points
        .iter()
        .position(|(x, y)| !(x.is_finite() && y.is_finite()))
    {
        return Err(data_err(format!(
            "decision boundary: point {i} is {:?}, not finite",
            points[i]
        )));
    }
    let n = opts.grid;
    if !(2..=2000).contains(&n) {
        return Err(data_err(format!(
            "decision boundary: grid of {n} cells per side, expected 2 to 2000"
        )));
    }
    let x = padded(points.iter().map(|p| p.0), 0.1);
    let y = padded(points.iter().map(|p| p.1), 0.1);
    let (dx, dy) = ((x.1 - x.0) / n as f64, (y.1 - y.0) / n as f64);
    let grid: Vec<(f64, f64)> = (0..n * n)
        .map(|k| {
            let (i, j) = (k % n, k / n);
            (x.0 + (i as f64 + 0.5) * dx, y.0 + (j as f64 + 0.5) * dy)
        })
        .collect();
    let regions = classify(&grid);
    if regions.len() != grid.len() {
        return Err(data_err(format!(
            "decision boundary: the classifier returned {} classes for {} grid points",
            regions.len(),
            grid.len()
        )));
    }
    let fig = Boundary {
        points,
        labels,
        regions,
        n,
        x,
        y,
    };
    save(&fig, path, opts)
}
