//! The storage contract, run on both back ends by `storage_sqlite.rs` and
//! `storage_postgres.rs` through [`storage_contract!`]: each test gets a [`Fixture`] (a
//! storage URL and a study name no other test or earlier run uses).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use dlkit_tune::storage::{self, FAIL_REASON, REQUEUED_AS, REQUEUED_FROM};
use dlkit_tune::{
    Direction, ParamValue, Params, Storage, StudyId, StudyMeta, Trial, TrialRef, TrialState,
    TuneError,
};

/// Where one test keeps its study.
pub struct Fixture {
    pub url: String,
    pub study: String,
    /// Holds the SQLite file's folder until the test ends.
    pub _dir: Option<tempfile::TempDir>,
}

/// A study name unique to this test, process and moment, so tests run in parallel and
/// again on the same server without cleaning up.
pub fn unique_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{test}-{}-{nanos}", std::process::id())
}

/// Runs every contract test against `$fixture: fn(&str) -> Fixture`.
#[macro_export]
macro_rules! storage_contract {
    ($fixture:path) => {
        #[test]
        fn claim_takes_waiting_trials_then_samples_within_budget() {
            common::claim_order_and_budget(&$fixture("claim_order"));
        }
        #[test]
        fn report_and_finish_store_values_and_attrs() {
            common::report_and_finish(&$fixture("report_finish"));
        }
        #[test]
        fn stale_trials_fail_and_requeue_and_cannot_be_finished() {
            common::fail_stale_requeues(&$fixture("fail_stale"));
        }
        #[test]
        fn a_study_from_another_config_is_refused() {
            common::fingerprint_mismatch(&$fixture("fingerprint"));
        }
        #[test]
        fn study_attrs_and_listing() {
            common::study_attrs(&$fixture("study_attrs"));
        }
        #[test]
        fn concurrent_workers_run_each_trial_once() {
            common::concurrent_workers(&$fixture("concurrent"), common::WORKERS);
        }
        #[test]
        fn a_killed_workers_trial_is_requeued_and_completed() {
            common::killed_worker(&$fixture("killed"), "child_worker");
        }
        /// Not a test on its own: the worker process `a_killed_workers_trial_...` starts
        /// (this test binary again, with `CHILD_URL` set) and kills. Without it, does nothing.
        #[test]
        fn child_worker() {
            common::child_worker();
        }
    };
}

/// Threads in the concurrency test, each with its own connection.
pub const WORKERS: usize = 4;
const CHILD_URL: &str = "DLKIT_TUNE_TEST_CHILD_URL";
const CHILD_STUDY: &str = "DLKIT_TUNE_TEST_CHILD_STUDY";

pub fn meta(fingerprint: &str, config: &str) -> StudyMeta {
    StudyMeta {
        config_fingerprint: fingerprint.to_string(),
        direction: Direction::Maximize,
        meta: serde_json::json!({ "config": config, "space": { "optimizer.lr": "log(1e-4, 1e-1)" } }),
    }
}

/// The parameters trial `n` is sampled with: unique per number, so a trial is recognised.
pub fn params_for(n: u64) -> Params {
    Params::from([
        (
            "optimizer.lr".to_string(),
            ParamValue::Float(1e-3 * (n + 1) as f64),
        ),
        (
            "model.layers[0].units".to_string(),
            ParamValue::Int(n as i64 + 4),
        ),
        (
            "optimizer.type".to_string(),
            ParamValue::Choice(n as usize % 3),
        ),
    ])
}

fn open(f: &Fixture) -> (Box<dyn Storage>, StudyId) {
    let storage = storage::open(&f.url).unwrap();
    let study = storage
        .open_study(&f.study, &meta("fp-1", "examples/a.toml"))
        .unwrap();
    (storage, study)
}

fn no_sampling(_: u64, _: &[Trial]) -> dlkit_tune::Result<Params> {
    panic!("a waiting trial exists: nothing is sampled")
}

fn attrs(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn claim_order_and_budget(f: &Fixture) {
    let (s, study) = open(f);
    assert_eq!(s.enqueue(&study, &params_for(10)).unwrap(), 0);
    assert_eq!(s.enqueue(&study, &params_for(11)).unwrap(), 1);

    let first = s
        .claim(&study, "w0", Some(3), &mut no_sampling)
        .unwrap()
        .unwrap();
    assert_eq!(first.number, 0);
    assert_eq!(first.params, params_for(10));
    assert_eq!(first.state, TrialState::Running);
    assert_eq!(first.worker.as_deref(), Some("w0"));
    let second = s
        .claim(&study, "w1", Some(3), &mut no_sampling)
        .unwrap()
        .unwrap();
    assert_eq!((second.number, &second.params), (1, &params_for(11)));

    let mut seen = Vec::new();
    let third = s
        .claim(&study, "w0", Some(3), &mut |n, trials| {
            seen.push((n, trials.iter().map(|t| t.number).collect::<Vec<_>>()));
            Ok(params_for(n))
        })
        .unwrap()
        .unwrap();
    assert_eq!(seen, vec![(2, vec![0, 1])]);
    assert_eq!((third.number, &third.params), (2, &params_for(2)));

    // Three trials: the budget is spent, whatever their states.
    assert_eq!(
        s.claim(&study, "w2", Some(3), &mut no_sampling).unwrap(),
        None
    );
    // A waiting trial is run even past the budget (a grid point queued on purpose).
    assert_eq!(s.enqueue(&study, &params_for(12)).unwrap(), 3);
    let queued = s
        .claim(&study, "w2", Some(3), &mut no_sampling)
        .unwrap()
        .unwrap();
    assert_eq!((queued.number, &queued.params), (3, &params_for(12)));
    // No limit: sampled again.
    let free = s
        .claim(&study, "w2", None, &mut |n, _| Ok(params_for(n)))
        .unwrap()
        .unwrap();
    assert_eq!(free.number, 4);

    let trials = s.trials(&study).unwrap();
    assert_eq!(
        trials.iter().map(|t| t.number).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert!(trials.iter().all(|t| t.state == TrialState::Running));
    let workers: Vec<_> = trials
        .iter()
        .map(|t| t.worker.as_deref().unwrap())
        .collect();
    assert_eq!(workers, ["w0", "w1", "w0", "w2", "w2"]);

    // A sampler error leaves nothing behind.
    let err = s
        .claim(&study, "w3", None, &mut |_, _| {
            Err(TuneError::UnknownStudy {
                url: "sampler".into(),
                study: "x".into(),
            })
        })
        .unwrap_err();
    assert!(matches!(err, TuneError::UnknownStudy { .. }));
    assert_eq!(s.trials(&study).unwrap().len(), 5);
}

pub fn report_and_finish(f: &Fixture) {
    let (s, study) = open(f);
    let trial = s
        .claim(&study, "w0", Some(5), &mut |n, _| Ok(params_for(n)))
        .unwrap()
        .unwrap();
    let r = TrialRef::claimed(&study, &trial, "w0");
    s.report(&r, 1, 0.5).unwrap();
    s.report(&r, 2, 0.6).unwrap();
    s.report(&r, 2, 0.65).unwrap(); // a second report of an epoch replaces the first
    s.heartbeat(&r).unwrap();

    let nan = s.report(&r, 3, f64::NAN).unwrap_err();
    assert_eq!(
        nan.to_string(),
        format!(
            "trial 0 of study {:?}: the value of epoch 3 is NaN; fail the trial instead",
            f.study
        )
    );
    let running = s
        .finish(&r, TrialState::Running, None, &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        running.to_string(),
        format!(
            "trial 0 of study {:?} cannot finish as running: expected complete, pruned or failed",
            f.study
        )
    );
    let other = TrialRef {
        worker: "w9".into(),
        ..r.clone()
    };
    let not_mine = s
        .finish(&other, TrialState::Complete, Some(1.0), &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        not_mine.to_string(),
        format!(
            "trial 0 of study {:?} in {} is no longer running for worker \"w9\": it is running (worker w0)",
            f.study,
            s.url()
        )
    );

    s.finish(
        &r,
        TrialState::Complete,
        Some(0.7),
        &attrs(&[("run_dir", "runs/t0".into()), ("test_acc", 0.68.into())]),
    )
    .unwrap();
    let again = s
        .finish(&r, TrialState::Pruned, Some(0.1), &BTreeMap::new())
        .unwrap_err();
    assert!(matches!(
        again,
        TuneError::TrialNotRunning {
            state: TrialState::Complete,
            ..
        }
    ));
    assert!(matches!(
        s.report(&r, 4, 0.1).unwrap_err(),
        TuneError::TrialNotRunning { .. }
    ));

    // Failed by its own error: no value, the error kept.
    let t1 = s
        .claim(&study, "w0", Some(5), &mut |n, _| Ok(params_for(n)))
        .unwrap()
        .unwrap();
    let r1 = TrialRef::claimed(&study, &t1, "w0");
    s.finish(
        &r1,
        TrialState::Failed,
        None,
        &attrs(&[("error", "cost became NaN".into())]),
    )
    .unwrap();

    let trials = s.trials(&study).unwrap();
    assert_eq!(trials[0].state, TrialState::Complete);
    assert_eq!(trials[0].value, Some(0.7));
    assert_eq!(trials[0].intermediate, vec![(1, 0.5), (2, 0.65)]);
    assert_eq!(trials[0].attrs["run_dir"], "runs/t0");
    assert_eq!(trials[0].attrs["test_acc"], 0.68);
    assert_eq!(trials[0].params, params_for(0));
    assert_eq!(trials[0].worker.as_deref(), Some("w0"));
    assert_eq!(trials[1].state, TrialState::Failed);
    assert_eq!(trials[1].value, None);
    assert_eq!(trials[1].attrs["error"], "cost became NaN");
    // A failure by its own error counts against the budget.
    assert_eq!(storage::budget_used(&trials), 2);
}

pub fn fail_stale_requeues(f: &Fixture) {
    let (s, study) = open(f);
    let sample = &mut |n, _: &[Trial]| Ok(params_for(n));
    let a = s.claim(&study, "wa", Some(2), sample).unwrap().unwrap();
    let b = s.claim(&study, "wb", Some(2), sample).unwrap().unwrap();
    let ra = TrialRef::claimed(&study, &a, "wa");
    let rb = TrialRef::claimed(&study, &b, "wb");
    s.report(&ra, 1, 0.3).unwrap();
    thread::sleep(Duration::from_millis(1500));
    s.heartbeat(&rb).unwrap();
    // b beat just now, a 1.5 s ago (margins wide enough for a loaded machine).
    assert_eq!(
        s.fail_stale(&study, Duration::from_secs(1)).unwrap(),
        vec![0]
    );
    assert_eq!(
        s.fail_stale(&study, Duration::from_secs(1)).unwrap(),
        Vec::<u64>::new()
    );

    let trials = s.trials(&study).unwrap();
    assert_eq!(trials.len(), 3);
    assert_eq!(trials[0].state, TrialState::Failed);
    assert_eq!(trials[0].attrs[REQUEUED_AS], 2);
    assert_eq!(
        trials[0].attrs[FAIL_REASON],
        "no heartbeat from worker wa for 1.000 s"
    );
    assert_eq!(trials[0].intermediate, vec![(1, 0.3)]);
    assert_eq!(trials[1].state, TrialState::Running);
    assert_eq!(trials[2].state, TrialState::Waiting);
    assert_eq!(trials[2].params, a.params);
    assert_eq!(trials[2].attrs[REQUEUED_FROM], 0);
    assert_eq!(trials[2].worker, None);
    // The re-queued failure does not count: b and the re-queued trial do.
    assert_eq!(storage::budget_used(&trials), 2);

    // The reaped worker comes back: it may neither report nor finish.
    let late = s
        .finish(&ra, TrialState::Complete, Some(0.9), &BTreeMap::new())
        .unwrap_err();
    assert_eq!(
        late.to_string(),
        format!(
            "trial 0 of study {:?} in {} is no longer running for worker \"wa\": it is failed (worker wa)",
            f.study,
            s.url()
        )
    );
    assert!(matches!(
        s.report(&ra, 2, 0.4).unwrap_err(),
        TuneError::TrialNotRunning {
            state: TrialState::Failed,
            ..
        }
    ));
    assert!(matches!(
        s.heartbeat(&ra).unwrap_err(),
        TuneError::TrialNotRunning { .. }
    ));
    assert_eq!(s.trials(&study).unwrap()[0].value, None);

    let again = s
        .claim(&study, "wc", Some(2), &mut no_sampling)
        .unwrap()
        .unwrap();
    assert_eq!((again.number, &again.params), (2, &a.params));
    assert_eq!(again.attrs[REQUEUED_FROM], 0);
    assert_eq!(
        s.claim(&study, "wc", Some(2), &mut no_sampling).unwrap(),
        None
    );
}

pub fn fingerprint_mismatch(f: &Fixture) {
    let (s, study) = open(f);
    s.enqueue(&study, &params_for(0)).unwrap();
    // The same config opens the same study.
    let reopened = s
        .open_study(&f.study, &meta("fp-1", "examples/a.toml"))
        .unwrap();
    assert_eq!(reopened, study);

    let other = storage::open(&f.url).unwrap();
    let err = other
        .open_study(&f.study, &meta("fp-2", "examples/b.toml"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "study {:?} in {} was made from another config: its fingerprint is fp-1 (from examples/a.toml), \
             this config and search space give fp-2 (from examples/b.toml); use another study name, \
             or the config the study was made from",
            f.study,
            s.url()
        )
    );
    // Nothing written: the study keeps its meta and its one trial.
    let info = s.study(&f.study).unwrap().unwrap();
    assert_eq!(info.meta, meta("fp-1", "examples/a.toml"));
    assert_eq!(s.trials(&study).unwrap().len(), 1);
}

pub fn study_attrs(f: &Fixture) {
    let (s, study) = open(f);
    assert_eq!(s.study(&format!("{}-absent", f.study)).unwrap(), None);
    s.set_study_attr(
        &study,
        "best",
        &serde_json::json!({ "number": 3, "value": 0.9 }),
    )
    .unwrap();
    s.set_study_attr(
        &study,
        "best",
        &serde_json::json!({ "number": 5, "value": 0.95 }),
    )
    .unwrap();
    s.set_study_attr(&study, "sampler", &"tpe".into()).unwrap();
    let info = s.study(&f.study).unwrap().unwrap();
    assert_eq!(info.id, study);
    assert_eq!(info.meta.direction, Direction::Maximize);
    assert_eq!(info.attrs["best"]["number"], 5);
    assert_eq!(info.attrs["sampler"], "tpe");
    let listed = s.studies().unwrap();
    assert!(listed
        .iter()
        .any(|i| i.id == study && i.attrs == info.attrs));
}

/// `workers` threads, each with its own connection, claim -> report -> finish until the
/// study's 40 trials are done: each number once, complete, claimed by one worker only.
pub fn concurrent_workers(f: &Fixture, workers: usize) {
    const MAX: u64 = 40;
    let claims: Vec<Vec<u64>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    let (s, study) = open(f);
                    let worker = format!("w{w}");
                    let mut mine = Vec::new();
                    while let Some(trial) = s
                        .claim(&study, &worker, Some(MAX), &mut |n, trials| {
                            assert_eq!(trials.len() as u64, n, "numbers are dense");
                            Ok(params_for(n))
                        })
                        .unwrap()
                    {
                        let r = TrialRef::claimed(&study, &trial, &worker);
                        for epoch in 1..=3 {
                            s.report(&r, epoch, trial.number as f64 + epoch as f64)
                                .unwrap();
                        }
                        let value = trial.number as f64 + 3.0;
                        s.finish(&r, TrialState::Complete, Some(value), &BTreeMap::new())
                            .unwrap();
                        mine.push(trial.number);
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut all: Vec<u64> = claims.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..MAX).collect::<Vec<_>>(),
        "each trial claimed exactly once"
    );
    let (s, study) = open(f);
    let trials = s.trials(&study).unwrap();
    assert_eq!(trials.iter().map(|t| t.number).collect::<Vec<_>>(), all);
    for t in &trials {
        assert_eq!(t.state, TrialState::Complete);
        assert_eq!(t.params, params_for(t.number));
        assert_eq!(t.intermediate.len(), 3);
        assert_eq!(t.value, Some(t.number as f64 + 3.0));
        let claimer = claims.iter().position(|c| c.contains(&t.number)).unwrap();
        assert_eq!(t.worker.as_deref(), Some(format!("w{claimer}").as_str()));
    }
}

/// A worker process claims a trial and is SIGKILLed; its trial is failed after the
/// heartbeat timeout, its parameters re-queued, and a second worker completes them.
/// `child_test` is the name of the test that runs [`child_worker`].
pub fn killed_worker(f: &Fixture, child_test: &str) {
    let (s, study) = open(f);
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([child_test, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_URL, &f.url)
            .env(CHILD_STUDY, &f.study)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let child = &mut child.0;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let claimed: u64 = loop {
        let line = lines
            .next()
            .expect("the worker process ended before claiming")
            .unwrap();
        // libtest may print "test child_worker ... " before it on the same line.
        if let Some((_, n)) = line.split_once("claimed ") {
            break n.trim().parse().unwrap();
        }
    };
    child.kill().unwrap(); // SIGKILL on Unix: no chance to clean up
    child.wait().unwrap();
    assert_eq!(claimed, 0);
    let before = s.trials(&study).unwrap();
    assert_eq!(before[0].state, TrialState::Running);
    assert_eq!(before[0].worker.as_deref(), Some("child"));

    thread::sleep(Duration::from_millis(600));
    assert_eq!(
        s.fail_stale(&study, Duration::from_millis(400)).unwrap(),
        vec![0]
    );
    let mut done = Vec::new();
    while let Some(trial) = s
        .claim(&study, "survivor", Some(2), &mut |n, _| Ok(params_for(n)))
        .unwrap()
    {
        let r = TrialRef::claimed(&study, &trial, "survivor");
        s.report(&r, 1, 0.8).unwrap();
        s.finish(&r, TrialState::Complete, Some(0.8), &BTreeMap::new())
            .unwrap();
        done.push(trial);
    }
    // The re-queued trial first, then the budget's second trial: nothing lost.
    assert_eq!(done.iter().map(|t| t.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(done[0].params, before[0].params);
    let trials = s.trials(&study).unwrap();
    let states: Vec<_> = trials.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        [
            TrialState::Failed,
            TrialState::Complete,
            TrialState::Complete
        ]
    );
    assert_eq!(trials[0].attrs[REQUEUED_AS], 1);
    assert_eq!(trials[1].attrs[REQUEUED_FROM], 0);
    assert_eq!(trials[1].params, trials[0].params);
    assert_eq!(trials[0].intermediate, vec![(1, 0.25)]);
}

/// Kills the worker process if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The worker process of [`killed_worker`]: claims a trial, reports one epoch, says which,
/// and sleeps until killed. Does nothing unless started by `killed_worker`.
pub fn child_worker() {
    let (Ok(url), Ok(study)) = (std::env::var(CHILD_URL), std::env::var(CHILD_STUDY)) else {
        return;
    };
    let s = storage::open(&url).unwrap();
    let id = s
        .open_study(&study, &meta("fp-1", "examples/a.toml"))
        .unwrap();
    let trial = s
        .claim(&id, "child", Some(2), &mut |n, _| Ok(params_for(n)))
        .unwrap()
        .unwrap();
    s.report(&TrialRef::claimed(&id, &trial, "child"), 1, 0.25)
        .unwrap();
    println!("claimed {}", trial.number);
    std::io::stdout().flush().unwrap();
    thread::sleep(Duration::from_secs(120));
    panic!("the worker process was not killed");
}
