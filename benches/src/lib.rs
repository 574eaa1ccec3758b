//! The benchmark workloads of `BENCHMARKS.md` and the harness that times them.
//!
//! A [`Workload`] is an id (`"W6"`), a name (`"sgemm"`) and a run function that times its
//! cases and returns one [`Measurement`] per case. [`run_workload`] runs a workload inside a
//! rayon pool of a given size, so one process can measure 1 thread and 2 threads side by side
//! (every dlkit kernel sizes its parallelism from `rayon::current_num_threads()`).
//!
//! Methodology (the rules of `BENCHMARKS.md`), implemented once in [`time`]:
//! - a warm-up call that is not timed;
//! - each repetition times a batch of calls long enough to be read reliably
//!   ([`Settings::min_rep_time`]); the figure is the time per call;
//! - the median of at least 5 repetitions is reported, with the min and max beside it.
//!
//! Training workloads whose whole schedule lasts seconds (W1, W2, W3's epoch, W4, W5) are timed by
//! [`time_long`] on a fraction of the schedule (each repetition one call of that fraction,
//! after one untimed warm-up call) and scaled to the whole: [`Measurement::scale`] and
//! [`Measurement::note`] say by how much. [`Settings::full`] times whole schedules instead.
//!
//! The registry holds W1 to W8. The `dlkit bench` subcommand (dlkit-cli) calls [`registry`] and
//! [`run_workload`] exactly as the `workloads` bench target does.

use std::error::Error;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

pub mod cnn;
pub mod conv;
pub mod mlp;
pub mod sgemm;

/// Error type of a workload run (thread pool creation, later dataset loading).
pub type BenchError = Box<dyn Error + Send + Sync>;

/// Knobs shared by every workload.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Timed repetitions per case; the median is reported. At least 5.
    pub reps: usize,
    /// Shortest wall time of one repetition; fast cases repeat the call within a repetition.
    pub min_rep_time: Duration,
    /// Time whole training schedules (2000 iterations of W1, 2500 of W2, an epoch of W3, ten
    /// epochs of W4, 50 steps of W5) instead of a fraction scaled up.
    pub full: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            reps: 5,
            min_rep_time: Duration::from_millis(200),
            full: false,
        }
    }
}

impl Settings {
    /// The fewest repetitions of the shortest calls: the unit tests' smoke runs, no figure.
    #[cfg(test)]
    pub(crate) fn smoke() -> Self {
        Self {
            min_rep_time: Duration::from_micros(50),
            ..Self::default()
        }
    }
}

/// One benchmark workload of `BENCHMARKS.md`.
#[derive(Clone, Copy)]
pub struct Workload {
    /// Id in `BENCHMARKS.md`, such as `"W6"`.
    pub id: &'static str,
    /// Short name, such as `"sgemm"`.
    pub name: &'static str,
    /// Times every case of the workload on the current rayon pool.
    pub run: fn(&Settings) -> Result<Vec<Measurement>, BenchError>,
}

/// Every workload implemented so far, in id order.
pub fn registry() -> Vec<Workload> {
    vec![
        Workload {
            id: "W1",
            name: "logreg-cat",
            run: mlp::run_logreg,
        },
        Workload {
            id: "W2",
            name: "deep-cat",
            run: mlp::run_deep,
        },
        Workload {
            id: "W3",
            name: "mnist-mlp",
            run: mlp::run_mnist,
        },
        Workload {
            id: "W4",
            name: "signs-cnn",
            run: cnn::run_signs,
        },
        Workload {
            id: "W5",
            name: "resnet-cifar",
            run: cnn::run_resnet,
        },
        Workload {
            id: "W6",
            name: "sgemm",
            run: sgemm::run,
        },
        Workload {
            id: "W7",
            name: "conv3x3",
            run: conv::run,
        },
        Workload {
            id: "W8",
            name: "mlp-infer",
            run: mlp::run_infer,
        },
    ]
}

/// Looks a workload up by id or name, case-insensitively (`"w6"` or `"sgemm"`).
pub fn find(key: &str) -> Option<Workload> {
    registry()
        .into_iter()
        .find(|w| w.id.eq_ignore_ascii_case(key) || w.name.eq_ignore_ascii_case(key))
}

/// Runs `workload` on a fresh rayon pool of `threads` threads.
pub fn run_workload(
    workload: &Workload,
    threads: usize,
    settings: &Settings,
) -> Result<Vec<Measurement>, BenchError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| (workload.run)(settings))
}

/// Wall-clock statistics of one case, in seconds per call.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Median over the repetitions.
    pub median: f64,
    /// Fastest repetition.
    pub min: f64,
    /// Slowest repetition.
    pub max: f64,
    /// Number of timed repetitions.
    pub reps: usize,
    /// Calls timed together in each repetition.
    pub calls_per_rep: usize,
}

/// Times `f`: one untimed warm-up call, one untimed call to size the repetitions, then
/// `settings.reps` (at least 5) repetitions of enough calls to last `settings.min_rep_time`.
pub fn time(settings: &Settings, mut f: impl FnMut()) -> Timing {
    f();
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64().max(1e-9);
    let calls = ((settings.min_rep_time.as_secs_f64() / once).ceil() as usize).max(1);
    let reps = settings.reps.max(5);
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Timing {
        median: median_of_sorted(&samples),
        min: samples[0],
        max: samples[reps - 1],
        reps,
        calls_per_rep: calls,
    }
}

/// Times a long call `f` (a fraction of a training schedule): one untimed warm-up call, then
/// `settings.reps` (at least 5) repetitions of one call each.
pub fn time_long(settings: &Settings, mut f: impl FnMut()) -> Timing {
    f();
    let reps = settings.reps.max(5);
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Timing {
        median: median_of_sorted(&samples),
        min: samples[0],
        max: samples[reps - 1],
        reps,
        calls_per_rep: 1,
    }
}

impl Timing {
    /// The same statistics multiplied by `factor` (a fraction of a schedule scaled to all of
    /// it).
    pub fn scaled(self, factor: f64) -> Timing {
        Timing {
            median: self.median * factor,
            min: self.min * factor,
            max: self.max * factor,
            ..self
        }
    }
}

fn median_of_sorted(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

/// A figure derived from a timing, such as GFLOP/s or microseconds per call.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Machine-readable key, such as `"gflops"`.
    pub key: &'static str,
    /// Unit shown in tables, such as `"GFLOP/s"`.
    pub unit: &'static str,
    pub value: f64,
}

/// The result of timing one case of a workload with a given thread count.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Workload id, such as `"W6"`.
    pub workload: &'static str,
    /// Case label, such as `"1024x1024x1024"` (m x k x n for W6).
    pub case: String,
    /// The dlkit path timed, such as `"kernel"` (raw gemm) or `"tensor"` (`Tensor::matmul`).
    pub variant: &'static str,
    /// Size of the rayon pool the case ran on.
    pub threads: usize,
    /// Seconds per unit of the workload's figure (per call, per whole schedule, per epoch),
    /// already multiplied by `scale`.
    pub timing: Timing,
    /// Factor from the measured time to `timing` (10 when 200 of 2000 iterations are timed;
    /// 1 when the whole unit is timed).
    pub scale: f64,
    /// What was timed, when it is not the whole unit (such as "200 of 2000 iterations timed,
    /// x10").
    pub note: String,
    /// Figures computed from the median time.
    pub figures: Vec<Figure>,
}

impl Measurement {
    /// One JSON object on one line (the machine-readable output of the harness).
    pub fn to_json_line(&self) -> String {
        let mut s = format!(
            "{{\"source\":\"dlkit\",\"workload\":\"{}\",\"case\":\"{}\",\"variant\":\"{}\",\
             \"threads\":{},\"median_s\":{:e},\"min_s\":{:e},\"max_s\":{:e},\"reps\":{},\"calls_per_rep\":{}",
            self.workload,
            self.case,
            self.variant,
            self.threads,
            self.timing.median,
            self.timing.min,
            self.timing.max,
            self.timing.reps,
            self.timing.calls_per_rep,
        );
        let _ = write!(s, ",\"scale\":{}", self.scale);
        if !self.note.is_empty() {
            let _ = write!(s, ",\"note\":\"{}\"", self.note.replace('"', "'"));
        }
        for f in &self.figures {
            let _ = write!(s, ",\"{}\":{}", f.key, f.value);
        }
        s.push('}');
        s
    }
}

/// A plain-text table of measurements: case, variant, threads, median time, spread (max - min
/// over median), figures, and the note of what was timed.
pub fn format_table(measurements: &[Measurement]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<4} {:<28} {:<8} {:>7} {:>12} {:>8}",
        "id", "case", "variant", "threads", "median", "spread"
    );
    if let Some(m) = measurements.first() {
        for f in &m.figures {
            let _ = write!(out, " {:>10}", f.unit);
        }
    }
    out.push('\n');
    for m in measurements {
        let t = &m.timing;
        let spread = 100.0 * (t.max - t.min) / t.median;
        let _ = write!(
            out,
            "{:<4} {:<28} {:<8} {:>7} {:>12} {:>7.1}%",
            m.workload,
            m.case,
            m.variant,
            m.threads,
            format_seconds(t.median),
            spread
        );
        for f in &m.figures {
            let _ = write!(out, " {:>10}", format_figure(f.value));
        }
        if !m.note.is_empty() {
            let _ = write!(out, "  ({})", m.note);
        }
        out.push('\n');
    }
    out
}

/// A figure with three significant digits below 100, one decimal below 1000, none above.
pub fn format_figure(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Seconds in a readable unit (s, ms or us).
pub fn format_seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_reports_median_of_at_least_five_reps() {
        let settings = Settings {
            reps: 3,
            min_rep_time: Duration::from_micros(100),
            full: false,
        };
        let mut calls = 0usize;
        let t = time(&settings, || calls += 1);
        assert_eq!(t.reps, 5);
        assert_eq!(calls, 2 + t.reps * t.calls_per_rep);
        assert!(t.min <= t.median && t.median <= t.max);
    }

    #[test]
    fn time_long_warms_up_once_then_one_call_per_rep() {
        let settings = Settings {
            reps: 6,
            ..Settings::default()
        };
        let mut calls = 0usize;
        let t = time_long(&settings, || calls += 1);
        assert_eq!((calls, t.reps, t.calls_per_rep), (7, 6, 1));
        let s = t.clone().scaled(10.0);
        assert_eq!(
            (s.median, s.min, s.max),
            (t.median * 10.0, t.min * 10.0, t.max * 10.0)
        );
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median_of_sorted(&[1.0, 2.0, 10.0]), 2.0);
        assert_eq!(median_of_sorted(&[1.0, 2.0, 4.0, 10.0]), 3.0);
    }

    #[test]
    fn registry_lookup_by_id_or_name() {
        assert_eq!(find("w6").map(|w| w.name), Some("sgemm"));
        assert_eq!(find("SGEMM").map(|w| w.id), Some("W6"));
        assert!(find("W9").is_none());
        let ids: Vec<_> = registry().iter().map(|w| w.id).collect();
        assert_eq!(ids, ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]);
        assert_eq!(find("conv3x3").map(|w| w.id), Some("W7"));
    }
}
