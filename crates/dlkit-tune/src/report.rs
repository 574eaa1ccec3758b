//! A study's results on disk: `best.toml` (the best trial's config, runnable with `dlkit
//! train`), `report.md` (the study's settings, the best trial, the coarse-to-fine rounds, the
//! trials table) and its plots: the optimisation history, parallel coordinates, one scatter
//! per parameter on its own scale, and parameter importances. Every file is written whole
//! (temporary file and rename).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dlkit_nn::io::write_atomic;
use dlkit_train::plots::PlotOptions;

use crate::apply::describe;
use crate::error::{Result, TuneError};
use crate::importance::{param_importances, ForestOptions};
use crate::plots::{
    best_trial, plot_history, plot_importances, plot_parallel_coordinates, plot_param_scatter,
    ParamAxis, TrialPoint,
};
use crate::sampler::{ranked_trials, CoarseToFineSampler, SamplerConfig};
use crate::space::{Distribution, Scale, SearchSpace};
use crate::study::Study;
use crate::trial::{Params, Trial, TrialState};

/// `params` as `path=value, ...` in the space's order.
pub fn describe_params(space: &SearchSpace, params: &Params) -> String {
    space
        .params()
        .iter()
        .filter_map(|p| {
            params
                .get(&p.path)
                .map(|v| format!("{}={}", p.path, describe(&p.distribution, *v)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The best complete trial (the first of [`ranked_trials`]' complete ones), if any.
pub fn best<'a>(study: &Study, trials: &'a [Trial]) -> Option<&'a Trial> {
    ranked_trials(trials, study.direction)
        .into_iter()
        .find(|t| t.state == TrialState::Complete)
}

fn axes(space: &SearchSpace) -> Vec<ParamAxis> {
    space
        .params()
        .iter()
        .map(|p| match &p.distribution {
            Distribution::Float {
                scale: Scale::Log, ..
            }
            | Distribution::Int { log: true, .. } => ParamAxis::log(&p.path),
            Distribution::Choice { choices } => ParamAxis::categorical(
                &p.path,
                (0..choices.len())
                    .map(|i| describe(&p.distribution, crate::ParamValue::Choice(i)))
                    .collect(),
            ),
            _ => ParamAxis::linear(&p.path),
        })
        .collect()
}

/// The files of a study's report, as written.
#[derive(Clone, Debug, Default)]
pub struct ReportFiles {
    pub report: PathBuf,
    pub best_config: Option<PathBuf>,
    pub plots: Vec<PathBuf>,
}

fn write(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, text.as_bytes())
        .map_err(|e| TuneError::Config(format!("{}: cannot write: {e}", path.display())))
}

/// Writes `best.toml`, the plots and `report.md` of `trials` into `dir`.
pub fn write_report(
    study: &Study,
    storage_url: &str,
    trials: &[Trial],
    dir: &Path,
) -> Result<ReportFiles> {
    std::fs::create_dir_all(dir)
        .map_err(|e| TuneError::Config(format!("{}: cannot create: {e}", dir.display())))?;
    let mut files = ReportFiles {
        report: dir.join("report.md"),
        ..ReportFiles::default()
    };
    let space = &study.tune.params;
    let best = best(study, trials);
    let mut md = String::new();
    let metric = study.loaded.config.metrics.optimizing;
    let _ = writeln!(md, "# Study {}\n", study.name);
    let count = |s: TrialState| trials.iter().filter(|t| t.state == s).count();
    let _ = writeln!(
        md,
        "- Base config: `{}`; storage: `{storage_url}`\n- Objective: dev {} ({:?}); a trial \
         that breaks a satisficing constraint has no value and never wins\n- Sampler: {} \
         (seed {}); pruner: {}\n- Trials: {} complete, {} pruned, {} failed, {} running or \
         waiting\n",
        study.base_file.display(),
        metric.name(),
        study.direction,
        study.tune.sampler.name(),
        study.tune.seed,
        study.tune.pruner.name(),
        count(TrialState::Complete),
        count(TrialState::Pruned),
        count(TrialState::Failed),
        count(TrialState::Running) + count(TrialState::Waiting),
    );
    if let Some(b) = best {
        let text = study.config_text(&b.params)?;
        let path = dir.join("best.toml");
        let header = format!(
            "# The best trial (#{}) of study {}: dev {} {}.\n# {}\n# Run: dlkit train {}\n\n",
            b.number,
            study.name,
            metric.name(),
            b.value.map_or("-".into(), |v| format!("{v:.4}")),
            describe_params(space, &b.params),
            path.display()
        );
        write(&path, &(header + &text))?;
        let _ = writeln!(
            md,
            "## Best trial: #{}\n\n- dev {}: {}\n- {}\n- test accuracy: {}\n- config: \
             [best.toml](best.toml); run folder: `{}`\n",
            b.number,
            metric.name(),
            b.value.map_or("-".into(), |v| format!("{v:.4}")),
            describe_params(space, &b.params),
            b.attrs
                .get("test_accuracy")
                .and_then(|v| v.as_f64())
                .map_or("-".into(), |v| format!("{v:.4}")),
            b.attrs
                .get("run_dir")
                .and_then(|v| v.as_str())
                .unwrap_or("-"),
        );
        files.best_config = Some(path);
    }
    if let SamplerConfig::CoarseToFine(o) = &study.tune.sampler {
        let s = CoarseToFineSampler {
            seed: study.tune.seed,
            options: o.clone(),
        };
        let _ = writeln!(md, "## Coarse-to-fine rounds\n");
        for r in s.rounds(space, trials, study.direction) {
            let ranges: Vec<String> = r
                .ranges
                .iter()
                .filter_map(|(path, range)| {
                    space
                        .get(path)
                        .map(|p| format!("{path} {}", range.describe(&p.distribution)))
                })
                .collect();
            let _ = writeln!(
                md,
                "- Round {} (trials {}..{}): {}",
                r.index + 1,
                r.trials.start,
                r.trials.end,
                ranges.join("; ")
            );
        }
        md.push('\n');
    }
    let axes = axes(space);
    let points: Vec<TrialPoint> = trials
        .iter()
        .map(|t| TrialPoint::from_trial(t, &axes))
        .collect();
    if best_trial(&points, study.direction).is_some() {
        let _ = writeln!(md, "## Plots\n");
        let mut plot = |name: String,
                        title: &str,
                        draw: &dyn Fn(
            &Path,
            &PlotOptions,
        )
            -> std::result::Result<(), dlkit_train::plots::PlotError>|
         -> Result<()> {
            let path = dir.join(&name);
            draw(&path, &PlotOptions::new(title)).map_err(|e| TuneError::Config(e.to_string()))?;
            let _ = writeln!(md, "![{title}]({name})\n");
            files.plots.push(path);
            Ok(())
        };
        plot("history.png".into(), "Optimisation history", &|p, o| {
            plot_history(p, &points, study.direction, o)
        })?;
        plot(
            "parallel_coordinates.png".into(),
            "Parallel coordinates",
            &|p, o| plot_parallel_coordinates(p, &axes, &points, study.direction, o),
        )?;
        for (i, a) in axes.iter().enumerate() {
            let name = format!("param_{i}.png");
            plot(name, &a.name.clone(), &|p, o| {
                plot_param_scatter(p, &axes, i, &points, study.direction, o)
            })?;
        }
        let forest = ForestOptions::default();
        let importances = param_importances(&axes, &points, &forest)
            .map_err(|e| TuneError::Config(e.to_string()))?;
        let label = forest.method_label();
        if importances.iter().all(|(_, v)| *v == 0.0) {
            let n = points
                .iter()
                .filter(|t| t.complete_value().is_some())
                .count();
            let _ = writeln!(md, "Importances ({label}, over the complete trials): not computed: {n} complete trial(s) with a value, and the forest needs at least two whose values differ.");
        } else {
            plot(
                "importances.png".into(),
                "Parameter importances",
                &|p, o| plot_importances(p, &importances, &label, o),
            )?;
            let _ = writeln!(md, "Importances: {label} (scikit-learn's and Optuna's mean decrease in impurity), over the complete trials:\n");
            for (name, v) in &importances {
                let _ = writeln!(md, "- {name}: {v:.3}");
            }
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Trials\n");
    let mut header = "| # | state | value |".to_string();
    for p in space.params() {
        let _ = write!(header, " {} |", p.path);
    }
    header.push_str(" test accuracy | epochs | seconds | worker |");
    let _ = writeln!(md, "{header}");
    let _ = writeln!(md, "{}", "|---".repeat(header.matches(" |").count()) + "|");
    for t in trials {
        let mut row = format!(
            "| {} | {} | {} |",
            t.number,
            t.state.as_str(),
            t.value.map_or("-".into(), |v| format!("{v:.4}"))
        );
        for p in space.params() {
            let v = t
                .params
                .get(&p.path)
                .map_or("-".into(), |v| describe(&p.distribution, *v));
            let _ = write!(row, " {} |", v.replace('|', "\\|"));
        }
        let num = |k: &str, digits: usize| {
            t.attrs
                .get(k)
                .and_then(|v| v.as_f64())
                .map_or("-".into(), |v| format!("{v:.digits$}"))
        };
        let _ = writeln!(
            row,
            " {} | {} | {} | {} |",
            num("test_accuracy", 4),
            num("epochs", 0),
            num("seconds", 1),
            t.worker.as_deref().unwrap_or("-")
        );
        md.push_str(&row);
    }
    write(&files.report, &md)?;
    Ok(files)
}
