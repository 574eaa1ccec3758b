//! `dlkit tune` end to end on the moons study (examples/studies/moons.toml): the best trial
//! beats the untuned config on dev and on test, and its best.toml trains to the same
//! figures; the same seed gives the same trials; four workers on one SQLite study run every
//! trial once, and so do two `dlkit tune` processes on one PostgreSQL study (the server that
//! `DLKIT_TEST_POSTGRES` names: `.ci/run` starts one); a SIGKILLed worker's trial is queued
//! again and completed; bad input exits 2 and writes nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use dlkit_tune::storage;
use dlkit_tune::{Trial, TrialState};

mod common;

use common::{bad_input, dlkit, ok, repo};

/// `Dev accuracy: 0.7650 (153/200), ...` of `dlkit train`'s output.
fn accuracy(stdout: &str, set: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{set} accuracy: ")))
        .unwrap_or_else(|| panic!("no {set} accuracy in\n{stdout}"));
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn trials(url: &str, study: &str) -> Vec<Trial> {
    let s = storage::open(url).unwrap();
    let info = s.study(study).unwrap().expect("the study exists");
    s.trials(&info.id).unwrap()
}

/// Every trial number below `n` once, each complete, and nothing else but failures whose
/// parameters were queued again.
fn all_complete_once(trials: &[Trial], n: u64) {
    let done: Vec<&Trial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    assert_eq!(done.len() as u64, n, "{trials:#?}");
    let numbers: BTreeSet<u64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(numbers.len(), trials.len(), "trial numbers repeat");
    for t in trials.iter().filter(|t| t.state != TrialState::Complete) {
        assert_eq!(t.state, TrialState::Failed, "{t:?}");
        assert!(t.attrs.contains_key(storage::REQUEUED_AS), "{t:?}");
    }
    for t in &done {
        assert!(t.value.is_some() && t.worker.is_some(), "{t:?}");
    }
}

#[test]
fn the_moons_study_beats_the_untuned_config_on_dev_and_test() {
    let tmp = tempfile::tempdir().unwrap();
    let untuned = ok(dlkit()
        .arg("train")
        .arg(repo().join("examples/moons_untuned.toml"))
        .arg("--run-dir")
        .arg(tmp.path().join("untuned"))
        .arg("-q"));
    let out = tmp.path().join("study");
    let printed = ok(dlkit()
        .arg("tune")
        .arg(repo().join("examples/studies/moons.toml"))
        .arg("--out")
        .arg(&out));
    assert!(printed.contains("best: trial "), "{printed}");
    let best = ok(dlkit()
        .arg("train")
        .arg(out.join("best.toml"))
        .arg("--run-dir")
        .arg(tmp.path().join("best"))
        .arg("-q"));
    let (dev0, test0) = (accuracy(&untuned, "Dev"), accuracy(&untuned, "Test"));
    let (dev, test) = (accuracy(&best, "Dev"), accuracy(&best, "Test"));
    println!("untuned dev {dev0} test {test0}; best trial dev {dev} test {test}");
    assert!(
        dev > dev0 + 0.1 && test > test0 + 0.1,
        "{dev0} {test0} -> {dev} {test}"
    );

    let url = format!("sqlite:{}", out.join("study.db").display());
    let all = trials(&url, "moons");
    all_complete_once(&all, 30);
    let top = all
        .iter()
        .filter_map(|t| t.value)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(
        top, dev,
        "best.toml retrains to the best trial's dev accuracy"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for png in [
        "history.png",
        "parallel_coordinates.png",
        "param_0.png",
        "importances.png",
    ] {
        assert!(report.contains(&format!("({png})")), "{png} in the report");
        let img = image::open(out.join(png)).unwrap();
        assert_eq!((img.width(), img.height()), (800, 600), "{png}");
    }
    assert_eq!(report.matches("| complete |").count(), 30, "{report}");

    // The same seed gives the same trials and values.
    let again = tmp.path().join("again");
    ok(dlkit()
        .arg("tune")
        .arg(repo().join("examples/studies/moons.toml"))
        .arg("--out")
        .arg(&again)
        .arg("--trials")
        .arg("12")
        .arg("-q"));
    let url2 = format!("sqlite:{}", again.join("study.db").display());
    let first: Vec<_> = all.iter().take(12).map(|t| (&t.params, t.value)).collect();
    let second = trials(&url2, "moons");
    let second: Vec<_> = second.iter().map(|t| (&t.params, t.value)).collect();
    assert_eq!(first, second);
}

/// A study file in `dir` over the moons base, `epochs` epochs a trial.
fn study_file(dir: &Path, name: &str, epochs: usize, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(repo().join("examples/moons_untuned.toml"))
        .unwrap()
        .replace("epochs = 200", &format!("epochs = {epochs}"));
    std::fs::write(dir.join(format!("{name}_base.toml")), base).unwrap();
    let study = format!(
        "[tune]\nconfig = \"{name}_base.toml\"\ntrials = 16\n{extra}\n[tune.params]\n\
         \"optimizer.lr\" = {{ log_uniform = [1e-3, 1.0] }}\n\
         \"model.layers[0].units\" = {{ int = [2, 16] }}\n"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, study).unwrap();
    path
}

#[test]
fn four_workers_on_one_sqlite_study_run_every_trial_once() {
    let tmp = tempfile::tempdir().unwrap();
    let study = study_file(tmp.path(), "four", 100, "");
    let out = tmp.path().join("out");
    ok(dlkit()
        .arg("tune")
        .arg(&study)
        .arg("--out")
        .arg(&out)
        .args(["--workers", "4", "--threads", "1", "-q"]));
    let all = trials(
        &format!("sqlite:{}", out.join("study.db").display()),
        "four",
    );
    all_complete_once(&all, 16);
    let workers: BTreeSet<&str> = all.iter().filter_map(|t| t.worker.as_deref()).collect();
    assert!(
        workers.len() > 1,
        "several workers took trials: {workers:?}"
    );
}

/// Waits (at most a minute) until the study `name` exists in `url`.
fn wait_for_study(url: &str, name: &str) {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the study {name} was not made"
        );
        if let Ok(s) = storage::open(url) {
            if let Ok(Some(_)) = s.study(name) {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_processes_on_one_postgresql_study_run_every_trial_once() {
    let url = std::env::var("DLKIT_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "DLKIT_TEST_POSTGRES is not set: start a server with `eval \"$(scripts/postgres-test-server.sh \
             start /tmp/dlkit-pg)\"` (`.ci/run` does this)"
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let study = study_file(tmp.path(), "two", 1000, "");
    let name = format!(
        "two-processes-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let tune = |out: &str, resume: bool| {
        let mut c = dlkit();
        c.arg("tune")
            .arg(&study)
            .arg("--out")
            .arg(tmp.path().join(out))
            .args([
                "--storage",
                &url,
                "--study-name",
                &name,
                "--threads",
                "1",
                "-q",
            ]);
        if resume {
            c.arg("--resume");
        }
        c
    };
    let first = tune("first", false)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_study(&url, &name);
    ok(&mut tune("second", true));
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let all = trials(&url, &name);
    all_complete_once(&all, 16);
    let pids: BTreeSet<&str> = all
        .iter()
        .filter_map(|t| t.worker.as_deref()?.split(':').nth(1))
        .collect();
    assert_eq!(pids.len(), 2, "both processes ran trials: {all:#?}");
}

#[test]
fn a_killed_workers_trial_is_queued_again_and_completed() {
    let tmp = tempfile::tempdir().unwrap();
    let study = study_file(tmp.path(), "killed", 4000, "");
    let out = tmp.path().join("out");
    let url = format!("sqlite:{}", out.join("study.db").display());
    let mut child = dlkit()
        .arg("tune")
        .arg(&study)
        .arg("--out")
        .arg(&out)
        .args(["--threads", "1", "--heartbeat-timeout", "2", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until its first trial runs, then SIGKILL it.
    let started = Instant::now();
    let running = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no trial started"
        );
        std::thread::sleep(Duration::from_millis(100));
        let Ok(s) = storage::open(&url) else { continue };
        let Ok(Some(info)) = s.study("killed") else {
            continue;
        };
        if let Some(t) = s
            .trials(&info.id)
            .unwrap()
            .into_iter()
            .find(|t| t.state == TrialState::Running)
        {
            break t;
        }
    };
    child.kill().unwrap();
    child.wait().unwrap();
    ok(dlkit()
        .arg("tune")
        .arg(&study)
        .arg("--out")
        .arg(&out)
        .args([
            "--resume",
            "--threads",
            "1",
            "--heartbeat-timeout",
            "2",
            "-q",
        ])
        .args(["--trials", "3"]));
    let all = trials(&url, "killed");
    let killed = all.iter().find(|t| t.number == running.number).unwrap();
    assert_eq!(killed.state, TrialState::Failed);
    let again = killed.attrs[storage::REQUEUED_AS].as_u64().unwrap();
    let redo = all.iter().find(|t| t.number == again).unwrap();
    assert_eq!(redo.state, TrialState::Complete);
    assert_eq!(redo.params, running.params);
    all_complete_once(&all, 3);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cases = [
        (
            "\"optimizer.lrr\" = { log_uniform = [1e-3, 1.0] }",
            "unknown field `lrr`",
        ),
        ("\"optimizer.lr\" = { uniform = [0.5, 0.5] }", "empty"),
        ("\"optimizer.lr\" = { log_uniform = [0.0, 1.0] }", "0"),
        ("\"model.layers[9].units\" = { int = [2, 8] }", "layers[9]"),
    ];
    for (param, says) in cases {
        let base = repo().join("examples/moons_untuned.toml");
        let study = tmp.path().join("bad.toml");
        std::fs::write(
            &study,
            format!(
                "[tune]\nconfig = {:?}\ntrials = 4\n[tune.params]\n{param}\n",
                base.display().to_string()
            ),
        )
        .unwrap();
        let e = bad_input(dlkit().arg("tune").arg(&study).arg("--out").arg(&out));
        assert!(e.contains("bad.toml") && e.contains(says), "{param}: {e}");
        assert!(!out.exists(), "{param}: nothing is written");
    }

    let study = study_file(tmp.path(), "pg", 100, "");
    let tune_with = |args: &[&str]| {
        bad_input(
            dlkit()
                .arg("tune")
                .arg(&study)
                .arg("--out")
                .arg(&out)
                .args(args),
        )
    };
    let e = tune_with(&["--storage", "postgresql://dlkit:secret@127.0.0.1:1/none"]);
    assert!(
        e.contains("cannot connect to PostgreSQL at postgresql://dlkit@127.0.0.1:1/none"),
        "{e}"
    );
    assert!(!e.contains("secret") && !out.exists(), "{e}");
    let e = tune_with(&["--sampler", "bayes"]);
    assert!(
        e.contains("--sampler") && e.contains("unknown variant `bayes`") && !out.exists(),
        "{e}"
    );

    // A study continued from another config.
    ok(dlkit()
        .arg("tune")
        .arg(&study)
        .arg("--out")
        .arg(&out)
        .args(["--trials", "2", "-q"]));
    let url = format!("sqlite:{}", out.join("study.db").display());
    let before = trials(&url, "pg");
    let e = bad_input(dlkit().arg("tune").arg(&study).arg("--out").arg(&out));
    assert!(
        e.contains("already exists") && e.contains("--resume"),
        "{e}"
    );
    let changed = study_file(tmp.path(), "pg", 101, "");
    let e = bad_input(
        dlkit()
            .arg("tune")
            .arg(&changed)
            .arg("--out")
            .arg(&out)
            .arg("--resume"),
    );
    assert!(e.contains("was made from another config"), "{e}");
    assert_eq!(trials(&url, "pg"), before);
}
