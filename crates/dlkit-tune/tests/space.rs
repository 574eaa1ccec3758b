//! `[tune]` tables: each distribution, the sampler and pruner settings, and the exact error of
//! each kind of bad input.

use dlkit_tune::pruner::{AshaPruner, MedianPruner};
use dlkit_tune::sampler::{CoarseToFineOptions, GridOptions, TpeOptions};
use dlkit_tune::{Distribution, PrunerConfig, SamplerConfig, Scale, SearchSpace, TuneConfig};

/// The `[tune]` table of `text` (a TOML document with a `[tune]` table).
fn tune(text: &str) -> Result<TuneConfig, String> {
    let doc: toml::Table = toml::from_str(text).expect("valid TOML");
    let table = doc["tune"].as_table().expect("a [tune] table");
    TuneConfig::from_table(table).map_err(|e| e.to_string())
}

/// The search space of one `[tune.params]` entry line.
fn space(entry: &str) -> Result<SearchSpace, String> {
    let table: toml::Table = toml::from_str(entry).expect("valid TOML");
    SearchSpace::from_table(&table).map_err(|e| e.to_string())
}

fn one(entry: &str) -> Distribution {
    space(entry).unwrap().params()[0].distribution.clone()
}

#[test]
fn each_distribution_parses() {
    assert_eq!(
        one(r#""train.l2" = { uniform = [0, 0.1] }"#),
        Distribution::Float {
            low: 0.0,
            high: 0.1,
            scale: Scale::Linear
        }
    );
    assert_eq!(
        one(r#""optimizer.lr" = { log_uniform = [1e-4, 1e-1] }"#),
        Distribution::Float {
            low: 1e-4,
            high: 0.1,
            scale: Scale::Log
        }
    );
    assert_eq!(
        one(r#""optimizer.beta" = { one_minus_log_uniform = [0.9, 0.999] }"#),
        Distribution::Float {
            low: 0.9,
            high: 0.999,
            scale: Scale::OneMinusLog
        }
    );
    assert_eq!(
        one(r#""model.layers[0].units" = { int = [8, 64], step = 8 }"#),
        Distribution::Int {
            low: 8,
            high: 64,
            step: 8,
            log: false
        }
    );
    assert_eq!(
        one(r#""train.batch_size" = { int_log = [16, 256] }"#),
        Distribution::Int {
            low: 16,
            high: 256,
            step: 1,
            log: true
        }
    );
    assert_eq!(
        one(r#""train.epochs" = { int = [3, 3] }"#),
        Distribution::Int {
            low: 3,
            high: 3,
            step: 1,
            log: false
        }
    );
    let Distribution::Choice { choices } = one(r#""model.layers" = { choice = [
            [{ type = "dense", units = 5 }, { type = "sigmoid" }],
            [{ type = "dense", units = 9 }, { type = "relu" }, { type = "dense", units = 1 }],
        ] }"#)
    else {
        panic!("a choice")
    };
    assert_eq!(choices.len(), 2);
    assert_eq!(choices[1].as_array().unwrap().len(), 3);
}

#[test]
fn parameters_are_kept_in_path_order() {
    let s = space(
        r#"
        "train.l2" = { uniform = [0, 0.1] }
        "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
        "model.layers[0].units" = { int = [4, 64] }
        "#,
    )
    .unwrap();
    let paths: Vec<&str> = s.params().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["model.layers[0].units", "optimizer.lr", "train.l2"]);
    assert!(s.get("optimizer.lr").is_some() && s.get("optimizer.beta").is_none());
}

#[test]
fn each_bad_entry_has_its_own_error() {
    let cases = [
        (
            r#""optimizer.lr" = { uniform = [0.1, 0.1] }"#,
            r#"[tune.params] "optimizer.lr": `uniform` range [0.1, 0.1] is empty: low must be below high"#,
        ),
        (
            r#""optimizer.lr" = { log_uniform = [0.1, 0.01] }"#,
            r#"[tune.params] "optimizer.lr": `log_uniform` range [0.1, 0.01] is empty: low must be below high"#,
        ),
        (
            r#""train.batch_size" = { int = [64, 16] }"#,
            r#"[tune.params] "train.batch_size": `int` range [64, 16] is empty: low must not be above high"#,
        ),
        (
            r#""optimizer.lr" = { log_uniform = [0, 0.1] }"#,
            r#"[tune.params] "optimizer.lr": `log_uniform` range [0, 0.1] reaches 0 or below: a log scale needs both bounds above 0"#,
        ),
        (
            r#""optimizer.lr" = { log_uniform = [-1.0, 0.1] }"#,
            r#"[tune.params] "optimizer.lr": `log_uniform` range [-1.0, 0.1] reaches 0 or below: a log scale needs both bounds above 0"#,
        ),
        (
            r#""train.batch_size" = { int_log = [0, 256] }"#,
            r#"[tune.params] "train.batch_size": `int_log` range [0, 256] reaches 0 or below: a log scale needs both bounds above 0"#,
        ),
        (
            r#""optimizer.beta" = { one_minus_log_uniform = [0.9, 1.0] }"#,
            r#"[tune.params] "optimizer.beta": `one_minus_log_uniform` range [0.9, 1.0] must lie inside (0, 1): it draws 1 - x on a log scale"#,
        ),
        (
            r#""optimizer.beta" = { one_minus_log_uniform = [0.0, 0.9] }"#,
            r#"[tune.params] "optimizer.beta": `one_minus_log_uniform` range [0.0, 0.9] must lie inside (0, 1): it draws 1 - x on a log scale"#,
        ),
        (
            r#""model.layers" = { choice = [] }"#,
            r#"[tune.params] "model.layers": `choice` list is empty: give at least one value"#,
        ),
        (
            r#""model.layers" = { choice = "relu" }"#,
            r#"[tune.params] "model.layers": `choice` expects a list of values, got "relu""#,
        ),
        (
            r#""optimizer.lr" = { loguniform = [1e-4, 1e-1] }"#,
            r#"[tune.params] "optimizer.lr": unknown key `loguniform`: expected one of `uniform`, `log_uniform`, `one_minus_log_uniform`, `int`, `int_log`, `choice` (and `step` with `int`)"#,
        ),
        (
            r#""optimizer.lr" = {}"#,
            r#"[tune.params] "optimizer.lr": no distribution: expected one of `uniform`, `log_uniform`, `one_minus_log_uniform`, `int`, `int_log`, `choice` (and `step` with `int`)"#,
        ),
        (
            r#""optimizer.lr" = { uniform = [0, 1], log_uniform = [1e-4, 1] }"#,
            r#"[tune.params] "optimizer.lr": `log_uniform` and `uniform` distributions: give one"#,
        ),
        (
            r#""optimizer.lr" = 0.001"#,
            r#"[tune.params] "optimizer.lr": expected a table like { log_uniform = [1e-4, 1e-1] }, got 0.001"#,
        ),
        (
            r#""optimizer.lr" = { uniform = [0.1] }"#,
            r#"[tune.params] "optimizer.lr": `uniform` expects [low, high], two finite numbers, got [0.1]"#,
        ),
        (
            r#""optimizer.lr" = { uniform = [0, nan] }"#,
            r#"[tune.params] "optimizer.lr": `uniform` expects [low, high], two finite numbers, got [0, nan]"#,
        ),
        (
            r#""train.batch_size" = { int = [16, 256.0] }"#,
            r#"[tune.params] "train.batch_size": `int` expects [low, high], two integers, got [16, 256.0]"#,
        ),
        (
            r#""train.batch_size" = { int = [16, 60], step = 8 }"#,
            r#"[tune.params] "train.batch_size": `int` range [16, 60] does not fit step 8: high - low must be a multiple of it"#,
        ),
        (
            r#""train.batch_size" = { int = [16, 64], step = 0 }"#,
            r#"[tune.params] "train.batch_size": `step` must be an integer of at least 1, got 0"#,
        ),
        (
            r#""train.batch_size" = { int_log = [16, 64], step = 2 }"#,
            r#"[tune.params] "train.batch_size": `step` goes with `int` only, not `int_log`"#,
        ),
        (
            r#""optimizer..lr" = { uniform = [0, 1] }"#,
            r#"[tune.params] "optimizer..lr": not a config path: expected keys separated by dots, with [i] indices (like model.layers[0].units), got "optimizer..lr""#,
        ),
        (
            "\"model.layers\" = { choice = [[], [{ type = \"relu\" }]] }\n\
             \"model.layers[0].units\" = { int = [4, 8] }",
            r#"[tune.params] "model.layers[0].units": lies inside "model.layers", which is searched too: search one or the other"#,
        ),
        ("", "[tune.params]: no parameters to search: add entries like \"optimizer.lr\" = { log_uniform = [1e-4, 1e-1] }"),
    ];
    for (entry, want) in cases {
        assert_eq!(space(entry).unwrap_err(), want, "{entry}");
    }
}

#[test]
fn a_tune_table_with_defaults() {
    let t = tune(
        r#"
        [tune]
        trials = 30
        [tune.params]
        "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
        "#,
    )
    .unwrap();
    assert_eq!(t.trials, Some(30));
    assert_eq!(t.trial_count(), 30);
    assert_eq!(t.seed, 0);
    assert_eq!(t.sampler, SamplerConfig::Random {});
    assert_eq!(t.pruner, PrunerConfig::None {});
    assert!(t.build_pruner().is_none());
    assert_eq!(t.config, None);
    assert_eq!(t.params.len(), 1);
}

#[test]
fn samplers_and_pruners_by_name_or_table() {
    let with = |sampler: &str, pruner: &str| {
        tune(&format!(
            "[tune]\ntrials = 5\nconfig = \"examples/moons_adam.toml\"\nseed = 7\n\
             sampler = {sampler}\npruner = {pruner}\n\
             [tune.params]\n\"optimizer.lr\" = {{ log_uniform = [1e-4, 1e-1] }}\n"
        ))
    };
    let t = with("\"tpe\"", "\"median\"").unwrap();
    assert_eq!(t.sampler, SamplerConfig::Tpe(TpeOptions::default()));
    assert_eq!(t.pruner, PrunerConfig::Median(MedianPruner::default()));
    assert_eq!(t.seed, 7);
    assert_eq!(
        t.config.as_deref(),
        Some(std::path::Path::new("examples/moons_adam.toml"))
    );
    let t = with(
        "{ type = \"tpe\", n_startup_trials = 4 }",
        "{ type = \"asha\", reduction_factor = 2 }",
    )
    .unwrap();
    assert_eq!(
        t.sampler,
        SamplerConfig::Tpe(TpeOptions {
            n_startup_trials: 4,
            n_ei_candidates: 24
        })
    );
    assert_eq!(
        t.pruner,
        PrunerConfig::Asha(AshaPruner {
            reduction_factor: 2,
            ..AshaPruner::default()
        })
    );
    assert!(t.build_pruner().is_some());
    let t = with(
        "{ type = \"coarse_to_fine\", trials_per_round = 5, margin = 0.2 }",
        "\"none\"",
    )
    .unwrap();
    assert_eq!(
        t.sampler,
        SamplerConfig::CoarseToFine(CoarseToFineOptions {
            trials_per_round: 5,
            top_k: 3,
            margin: 0.2
        })
    );
    assert_eq!(
        with("\"grid\"", "\"none\"").unwrap().sampler,
        SamplerConfig::Grid(GridOptions {
            points_per_param: 5
        })
    );
    assert_eq!(
        with("\"random\"", "\"none\"").unwrap().sampler.name(),
        "random"
    );
}

#[test]
fn a_grid_may_leave_the_trial_count_out() {
    let t = tune(
        r#"
        [tune]
        sampler = { type = "grid", points_per_param = 3 }
        [tune.params]
        "optimizer.lr" = { log_uniform = [1e-4, 1e-2] }
        "optimizer.type" = { choice = ["adam", "momentum"] }
        "#,
    )
    .unwrap();
    assert_eq!(t.trials, None);
    assert_eq!(t.trial_count(), 6);
}

#[test]
fn bad_tune_fields_are_named() {
    let params = "[tune.params]\n\"optimizer.lr\" = { log_uniform = [1e-4, 1e-1] }\n";
    let cases = [
        (
            "trails = 3",
            "[tune]: unknown field `trails`, expected one of `config`, `trials`, `seed`, `sampler`, `pruner`, `params`",
        ),
        ("trials = 0", "[tune] trials: must be at least 1, got 0"),
        ("trials = -3", "[tune] trials: invalid value: integer `-3`, expected u64"),
        ("trials = 3\nseed = \"x\"", "[tune] seed: invalid type: string \"x\", expected u64"),
        (
            "seed = 1",
            "[tune]: missing field `trials`: how many trials to run (only the grid sampler may leave it out, to run its whole grid)",
        ),
        (
            "trials = 3\nsampler = \"tp\"",
            "[tune.sampler]: unknown variant `tp`, expected one of `random`, `grid`, `coarse_to_fine`, `tpe`",
        ),
        (
            "trials = 3\nsampler = { type = \"tpe\", n_startup = 3 }",
            "[tune.sampler]: unknown field `n_startup`, expected `n_startup_trials` or `n_ei_candidates`",
        ),
        (
            "trials = 3\nsampler = { type = \"random\", seed = 3 }",
            "[tune.sampler]: unknown field `seed`, there are no fields",
        ),
        (
            "trials = 3\nsampler = { type = \"grid\", points_per_param = 0 }",
            "[tune.sampler] points_per_param: must be at least 1, got 0",
        ),
        (
            "trials = 3\nsampler = { type = \"coarse_to_fine\", margin = -0.5 }",
            "[tune.sampler] margin: must be a number of at least 0, got -0.5",
        ),
        (
            "trials = 3\nsampler = { type = \"coarse_to_fine\", top_k = 0 }",
            "[tune.sampler] top_k: must be at least 1, got 0",
        ),
        (
            "trials = 3\npruner = \"hyperband\"",
            "[tune.pruner]: unknown variant `hyperband`, expected one of `none`, `median`, `asha`",
        ),
        (
            "trials = 3\npruner = { type = \"asha\", reduction_factor = 1 }",
            "[tune.pruner] reduction_factor: must be at least 2, got 1",
        ),
        (
            "trials = 3\npruner = { type = \"median\", interval_steps = 0 }",
            "[tune.pruner] interval_steps: must be at least 1, got 0",
        ),
    ];
    for (fields, want) in cases {
        let text = format!("[tune]\n{fields}\n{params}");
        assert_eq!(tune(&text).unwrap_err(), want, "{fields}");
    }
    assert_eq!(
        tune("[tune]\ntrials = 3\n").unwrap_err(),
        "[tune]: missing field `params`: the search space, a [tune.params] table"
    );
    assert_eq!(
        tune("[tune]\ntrials = 3\nparams = 3\n").unwrap_err(),
        "[tune] params: expected a table of parameter paths, got 3"
    );
}
