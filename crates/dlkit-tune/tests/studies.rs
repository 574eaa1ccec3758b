//! Every shipped study (examples/studies/) reads and validates: its base config, its search
//! space against that config, its sampler and pruner.

use std::path::Path;

use dlkit_tune::Study;

#[test]
fn every_shipped_study_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/studies");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let study = Study::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(study.tune.trial_count() > 0, "{}", path.display());
        names.push(study.name);
    }
    names.sort();
    assert_eq!(names, ["mnist_mlp", "moons"]);
}
