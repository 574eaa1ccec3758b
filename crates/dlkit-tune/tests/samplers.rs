//! Samplers: ranges and scales, reproducibility, the grid, coarse-to-fine rounds, and TPE
//! against random search on synthetic functions (no training).

use std::collections::BTreeMap;

use dlkit_tune::sampler::{
    grid_points, ranked_trials, CoarseToFineOptions, CoarseToFineSampler, GridOptions, GridSampler,
    RandomSampler, RoundRange, TpeOptions, TpeSampler,
};
use dlkit_tune::{
    Direction, Distribution, ParamValue, Params, Sampler, SearchSpace, Trial, TrialState,
};

fn space(text: &str) -> SearchSpace {
    SearchSpace::from_table(&toml::from_str(text).unwrap()).unwrap()
}

fn trial(number: u64, params: Params, state: TrialState, value: Option<f64>) -> Trial {
    Trial {
        number,
        state,
        params,
        intermediate: Vec::new(),
        value,
        worker: None,
        attrs: BTreeMap::new(),
    }
}

/// `n` trials in sequence: sample, evaluate `f`, record the trial as complete.
fn run(
    sampler: &dyn Sampler,
    space: &SearchSpace,
    f: &dyn Fn(&Params) -> f64,
    n: u64,
) -> Vec<Trial> {
    let mut history = Vec::new();
    for number in 0..n {
        let params = sampler.sample(space, &history, number, Direction::Minimize);
        let value = f(&params);
        history.push(trial(number, params, TrialState::Complete, Some(value)));
    }
    history
}

fn float(p: &Params, path: &str) -> f64 {
    match p[path] {
        ParamValue::Float(x) => x,
        other => panic!("{path}: {other:?}"),
    }
}

fn int(p: &Params, path: &str) -> i64 {
    match p[path] {
        ParamValue::Int(x) => x,
        other => panic!("{path}: {other:?}"),
    }
}

fn choice(p: &Params, path: &str) -> usize {
    match p[path] {
        ParamValue::Choice(i) => i,
        other => panic!("{path}: {other:?}"),
    }
}

const MIXED: &str = r#"
    "optimizer.lr" = { log_uniform = [1e-5, 1.0] }
    "optimizer.beta" = { one_minus_log_uniform = [0.5, 0.9999] }
    "train.batch_size" = { int_log = [8, 1024] }
    "optimizer.type" = { choice = ["a", "b", "c"] }
"#;

/// A 4-d bowl on the parameters' own scales, lowest (0) at lr = 10^-2.5, beta = 0.99,
/// batch 64 and the first choice.
fn mixed(p: &Params) -> f64 {
    (float(p, "optimizer.lr").log10() + 2.5).powi(2)
        + ((1.0 - float(p, "optimizer.beta")).log10() + 2.0).powi(2)
        + ((int(p, "train.batch_size") as f64).log2() - 6.0).powi(2) / 4.0
        + [0.0, 0.5, 1.0][choice(p, "optimizer.type")]
}

/// Branin over its usual domain, x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887.
fn branin(p: &Params) -> f64 {
    let (x1, x2) = (float(p, "x1"), float(p, "x2"));
    let pi = std::f64::consts::PI;
    let (a, b, c, r, s, t) = (
        1.0,
        5.1 / (4.0 * pi * pi),
        5.0 / pi,
        6.0,
        10.0,
        1.0 / (8.0 * pi),
    );
    a * (x2 - b * x1 * x1 + c * x1 - r).powi(2) + s * (1.0 - t) * x1.cos() + s
}

const BRANIN: &str = r#"
    "x1" = { uniform = [-5.0, 10.0] }
    "x2" = { uniform = [0.0, 15.0] }
"#;

#[test]
fn random_draws_stay_in_range_on_their_scales() {
    let s = space(
        r#"
        "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
        "optimizer.beta" = { one_minus_log_uniform = [0.9, 0.999] }
        "train.l2" = { uniform = [0.0, 0.1] }
        "model.units" = { int = [8, 64], step = 8 }
        "train.batch_size" = { int_log = [16, 256] }
        "optimizer.type" = { choice = ["adam", "momentum", "sgd"] }
        "#,
    );
    let sampler = RandomSampler { seed: 3 };
    let n = 4000;
    let draws: Vec<Params> = (0..n)
        .map(|i| sampler.sample(&s, &[], i, Direction::Minimize))
        .collect();
    let mean = |f: &dyn Fn(&Params) -> f64| draws.iter().map(f).sum::<f64>() / n as f64;
    for p in &draws {
        for param in s.params() {
            assert!(param.distribution.contains(p[&param.path]), "{p:?}");
        }
    }
    // log10 lr uniform over [-4, -1]: mean -2.5.
    let lr = mean(&|p| float(p, "optimizer.lr").log10());
    assert!((lr + 2.5).abs() < 0.05, "{lr}");
    // log10(1 - beta) uniform over [-3, -1]: mean -2, half the draws in [0.9, 0.99].
    let beta = mean(&|p| (1.0 - float(p, "optimizer.beta")).log10());
    assert!((beta + 2.0).abs() < 0.05, "{beta}");
    let below = mean(&|p| (float(p, "optimizer.beta") < 0.99) as u8 as f64);
    assert!((below - 0.5).abs() < 0.03, "{below}");
    let l2 = mean(&|p| float(p, "train.l2"));
    assert!((l2 - 0.05).abs() < 0.003, "{l2}");
    // Each of 8, 16, ..., 64 about 1/8 of the time.
    for v in (8..=64).step_by(8) {
        let share = mean(&|p| (int(p, "model.units") == v) as u8 as f64);
        assert!((share - 0.125).abs() < 0.025, "{v}: {share}");
    }
    // Batch sizes on a log scale: as many below 64 as above (64 = 2^6, the middle of 2^4..2^8).
    let small = mean(&|p| (int(p, "train.batch_size") < 64) as u8 as f64);
    assert!((small - 0.5).abs() < 0.03, "{small}");
    assert!(draws.iter().any(|p| int(p, "train.batch_size") == 16));
    assert!(draws.iter().any(|p| int(p, "train.batch_size") == 256));
    for c in 0..3 {
        let share = mean(&|p| (choice(p, "optimizer.type") == c) as u8 as f64);
        assert!((share - 1.0 / 3.0).abs() < 0.03, "{c}: {share}");
    }
}

/// Every sampler on `MIXED` for `n` trials with `seed`.
fn samplers(seed: u64) -> Vec<(&'static str, Box<dyn Sampler>)> {
    vec![
        ("random", Box::new(RandomSampler { seed })),
        (
            "grid",
            Box::new(GridSampler {
                options: GridOptions::default(),
            }),
        ),
        (
            "coarse_to_fine",
            Box::new(CoarseToFineSampler {
                seed,
                options: CoarseToFineOptions::default(),
            }),
        ),
        (
            "tpe",
            Box::new(TpeSampler {
                seed,
                options: TpeOptions::default(),
            }),
        ),
    ]
}

#[test]
fn the_same_seed_gives_the_same_trials_and_results() {
    let s = space(MIXED);
    for ((name, a), ((_, b), (_, other))) in samplers(5)
        .into_iter()
        .zip(samplers(5).into_iter().zip(samplers(6)))
    {
        let first = run(a.as_ref(), &s, &mixed, 30);
        assert_eq!(first, run(b.as_ref(), &s, &mixed, 30), "{name}");
        if name != "grid" {
            assert_ne!(first, run(other.as_ref(), &s, &mixed, 30), "{name}");
        }
    }
    // A trial's draw depends on its number, not on which trials were drawn before.
    let tpe = TpeSampler {
        seed: 1,
        options: TpeOptions::default(),
    };
    let a = tpe.sample(&s, &[], 7, Direction::Minimize);
    let b = tpe.sample(&s, &[], 7, Direction::Minimize);
    assert_eq!(a, b);
    assert_ne!(a, tpe.sample(&s, &[], 8, Direction::Minimize));
}

#[test]
fn the_grid_combines_every_axis_with_the_last_fastest() {
    let s = space(
        r#"
        "optimizer.lr" = { log_uniform = [1e-4, 1e-2] }
        "optimizer.type" = { choice = ["adam", "sgd"] }
        "train.batch_size" = { int = [1, 3] }
        "#,
    );
    let grid = grid_points(&s, 3);
    assert_eq!(grid.len(), 3 * 2 * 3);
    let lr: Vec<f64> = grid
        .iter()
        .step_by(6)
        .map(|p| float(p, "optimizer.lr"))
        .collect();
    for (got, want) in lr.iter().zip([1e-4, 1e-3, 1e-2]) {
        assert!((got / want - 1.0).abs() < 1e-9, "{lr:?}");
    }
    let first: Vec<(usize, i64)> = grid[..6]
        .iter()
        .map(|p| (choice(p, "optimizer.type"), int(p, "train.batch_size")))
        .collect();
    assert_eq!(first, [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3)]);
    // Integers take every value when the range has fewer than the points asked for, and
    // log ranges of integers are spaced on their scale.
    let ints = space(r#""train.batch_size" = { int_log = [16, 256] }"#);
    let sizes: Vec<i64> = grid_points(&ints, 5)
        .iter()
        .map(|p| int(p, "train.batch_size"))
        .collect();
    assert_eq!(sizes, [16, 32, 64, 128, 256]);
    let one = space(r#""x" = { uniform = [0.0, 1.0] }"#);
    assert_eq!(grid_points(&one, 1)[0]["x"], ParamValue::Float(0.5));
    // The sampler walks the grid by trial number.
    let sampler = GridSampler {
        options: GridOptions {
            points_per_param: 3,
        },
    };
    assert_eq!(sampler.sample(&s, &[], 4, Direction::Minimize), grid[4]);
    assert_eq!(
        sampler.sample(&s, &[], 18 + 4, Direction::Minimize),
        grid[4]
    );
}

#[test]
fn coarse_to_fine_zooms_in_around_the_best_trials() {
    let s = space(MIXED);
    let sampler = CoarseToFineSampler {
        seed: 2,
        options: CoarseToFineOptions {
            trials_per_round: 10,
            top_k: 3,
            margin: 0.1,
        },
    };
    let history = run(&sampler, &s, &mixed, 40);
    let rounds = sampler.rounds(&s, &history, Direction::Minimize);
    assert_eq!(rounds.len(), 4);
    assert_eq!(rounds[2].trials, 20..30);
    let width = |r: &RoundRange| match r {
        RoundRange::Numeric(d) => d.internal_range().1 - d.internal_range().0,
        RoundRange::Choices(c) => c.len() as f64,
    };
    for (path_index, param) in s.params().iter().enumerate() {
        for pair in rounds.windows(2) {
            let (before, after) = (&pair[0].ranges[path_index].1, &pair[1].ranges[path_index].1);
            assert!(
                width(after) <= width(before),
                "{}: {before:?} {after:?}",
                param.path
            );
        }
        // Each later round is fitted around the top trials of the rounds before it.
        let last = &rounds[3].ranges[path_index].1;
        let top = ranked_trials(
            history.iter().filter(|t| t.number < 30),
            Direction::Minimize,
        );
        for t in &top[..3] {
            let v = t.params[&param.path];
            match last {
                RoundRange::Numeric(d) => assert!(d.contains(v), "{}: {v:?} {d:?}", param.path),
                RoundRange::Choices(c) => assert!(c.contains(&(v.as_f64() as usize))),
            }
        }
        // And trials of a round stay in that round's ranges.
        for t in history.iter().filter(|t| t.number >= 30) {
            let v = t.params[&param.path];
            match last {
                RoundRange::Numeric(d) => assert!(d.contains(v)),
                RoundRange::Choices(c) => assert!(c.contains(&(v.as_f64() as usize))),
            }
        }
    }
    let lr = &rounds[3].ranges[s
        .params()
        .iter()
        .position(|p| p.path == "optimizer.lr")
        .unwrap()]
    .1;
    assert!(width(lr) < 5.0 * 0.6, "{lr:?}");
    println!("coarse to fine on the 4-d bowl, seed 2:");
    for r in &rounds {
        let ranges: Vec<String> = r
            .ranges
            .iter()
            .map(|(p, range)| format!("{p} {}", range.describe(&s.get(p).unwrap().distribution)))
            .collect();
        println!(
            "  round {} (trials {:?}): {}",
            r.index,
            r.trials,
            ranges.join("; ")
        );
    }
    let original = &s.get("optimizer.lr").unwrap().distribution;
    assert_eq!(
        rounds[0].ranges[1].1.describe(original),
        "[1e-5, 1] (log_uniform)"
    );
    let types = &s.get("optimizer.type").unwrap().distribution;
    assert_eq!(RoundRange::Choices(vec![0, 2]).describe(types), "{a, c}");
}

#[test]
fn tpe_draws_stay_in_range_and_learn_from_finished_trials_only() {
    let s = space(MIXED);
    let tpe = TpeSampler {
        seed: 4,
        options: TpeOptions {
            n_startup_trials: 5,
            n_ei_candidates: 24,
        },
    };
    let history = run(&tpe, &s, &mixed, 40);
    for t in &history {
        for p in s.params() {
            assert!(p.distribution.contains(t.params[&p.path]), "{:?}", t.params);
        }
    }
    // Failed trials and trials without a value change nothing.
    let mut noisy = history.clone();
    for (i, state) in [
        TrialState::Failed,
        TrialState::Running,
        TrialState::Complete,
    ]
    .into_iter()
    .enumerate()
    {
        let params = RandomSampler { seed: 9 }.sample(&s, &[], i as u64, Direction::Minimize);
        noisy.push(trial(100 + i as u64, params, state, None));
    }
    for number in [40, 41] {
        assert_eq!(
            tpe.sample(&s, &history, number, Direction::Minimize),
            tpe.sample(&s, &noisy, number, Direction::Minimize)
        );
    }
    // Maximising -f is minimising f.
    let flipped: Vec<Trial> = history
        .iter()
        .map(|t| Trial {
            value: t.value.map(|v| -v),
            ..t.clone()
        })
        .collect();
    assert_eq!(
        tpe.sample(&s, &history, 40, Direction::Minimize),
        tpe.sample(&s, &flipped, 40, Direction::Maximize)
    );
}

#[test]
fn trials_rank_complete_first_then_pruned_by_how_far_they_got() {
    let p = Params::new();
    let mut pruned_late = trial(2, p.clone(), TrialState::Pruned, Some(0.1));
    pruned_late.intermediate = vec![(1, 0.5), (2, 0.1)];
    let mut pruned_early = trial(3, p.clone(), TrialState::Pruned, Some(0.05));
    pruned_early.intermediate = vec![(1, 0.05)];
    let history = vec![
        trial(0, p.clone(), TrialState::Complete, Some(0.9)),
        trial(1, p.clone(), TrialState::Complete, Some(0.3)),
        pruned_late,
        pruned_early,
        trial(4, p.clone(), TrialState::Failed, None),
        trial(5, p.clone(), TrialState::Complete, None),
        trial(6, p.clone(), TrialState::Complete, Some(f64::NAN)),
    ];
    let order: Vec<u64> = ranked_trials(&history, Direction::Minimize)
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(order, [1, 0, 6, 2, 3]);
    let order: Vec<u64> = ranked_trials(&history, Direction::Maximize)
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(order, [0, 1, 6, 2, 3]);
}

/// The best value of each sampler on `f` over `trials` trials, for seeds 0..5.
fn best_values(
    space_text: &str,
    f: &dyn Fn(&Params) -> f64,
    trials: u64,
) -> Vec<(&'static str, Vec<f64>)> {
    let s = space(space_text);
    let mut rows: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for seed in 0..5 {
        for (name, sampler) in samplers(seed) {
            if name == "grid" {
                continue;
            }
            let best = run(sampler.as_ref(), &s, f, trials)
                .iter()
                .filter_map(|t| t.value)
                .fold(f64::INFINITY, f64::min);
            match rows.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => v.push(best),
                None => rows.push((name, vec![best])),
            }
        }
    }
    rows
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn tpe_beats_random_search_at_equal_trial_counts() {
    let trials = 50;
    println!("best value after {trials} trials (lower is better), seeds 0-4:");
    println!("| function | sampler | seed 0 | seed 1 | seed 2 | seed 3 | seed 4 | mean |");
    println!("|---|---|---|---|---|---|---|---|");
    for (function, text, f) in [
        (
            "Branin (min 0.3979)",
            BRANIN,
            &branin as &dyn Fn(&Params) -> f64,
        ),
        ("4-d log-scale bowl (min 0)", MIXED, &mixed),
    ] {
        let rows = best_values(text, f, trials);
        for (name, values) in &rows {
            let cells: Vec<String> = values.iter().map(|v| format!("{v:.4}")).collect();
            println!(
                "| {function} | {name} | {} | {:.4} |",
                cells.join(" | "),
                mean(values)
            );
        }
        let of = |n: &str| mean(&rows.iter().find(|(name, _)| *name == n).unwrap().1);
        assert!(
            of("tpe") < of("random"),
            "{function}: tpe {} random {}",
            of("tpe"),
            of("random")
        );
    }
}

#[test]
fn a_one_value_space_always_gives_that_value() {
    let s = space(
        r#"
        "train.epochs" = { int = [3, 3] }
        "optimizer.type" = { choice = ["adam"] }
        "#,
    );
    let tpe = TpeSampler {
        seed: 0,
        options: TpeOptions {
            n_startup_trials: 2,
            n_ei_candidates: 24,
        },
    };
    for t in run(&tpe, &s, &|_| 1.0, 6) {
        assert_eq!(t.params["train.epochs"], ParamValue::Int(3));
        assert_eq!(t.params["optimizer.type"], ParamValue::Choice(0));
    }
    assert!(matches!(
        s.params()[0].distribution,
        Distribution::Choice { .. }
    ));
}
