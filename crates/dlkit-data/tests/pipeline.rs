//! The data pipeline on the shipped cat/non-cat file: load, split (stratified, with a
//! train-dev set), preprocess fitted on train only, augment and batch the training set.

use std::path::Path;

use dlkit_core::Rng;
use dlkit_data::{
    load_course_h5, AugmentConfig, BatchLoader, Dataset, Preprocessing, SplitConfig, Standardize,
};

#[test]
fn cat_vs_non_cat_pipeline() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/catvnoncat/train_catvnoncat.h5");
    let data =
        Dataset::try_from(load_course_h5(file, "train_set_x", "train_set_y").unwrap()).unwrap();
    assert_eq!(
        (data.len(), data.feature_shape()),
        (209, &[64usize, 64, 3][..])
    );
    let counts = data.class_counts().unwrap();
    assert_eq!(counts, [137, 72]);

    let cfg = SplitConfig::small_data()
        .stratified(true)
        .with_train_dev(0.1);
    let splits = cfg.split(&data, &mut Rng::new(0)).unwrap();
    let train_dev = splits.train_dev.as_ref().unwrap();
    assert_eq!(
        splits.train.len() + train_dev.len() + splits.dev.len() + splits.test.len(),
        209
    );
    for (part, share) in [(&splits.dev, 0.2), (&splits.test, 0.2)] {
        for (got, n) in part.class_counts().unwrap().into_iter().zip(&counts) {
            assert!((got as f64 - share * *n as f64).abs() < 1.0);
        }
    }

    let pipeline = Preprocessing {
        scale: Some(255.0),
        standardize: Standardize::PerFeature,
        flatten: true,
        ..Default::default()
    };
    let fitted = pipeline.fit(&splits.train.x).unwrap();
    let train = fitted.apply_dataset(&splits.train).unwrap();
    let dev = fitted.apply_dataset(&splits.dev).unwrap();
    assert_eq!(train.x.shape(), &[splits.train.len(), 12288]);
    assert_eq!(dev.x.shape(), &[splits.dev.len(), 12288]);
    // Zero mean per feature on the training split (its own statistics), not exactly on dev.
    let means = train.x.mean(&[0], false).to_vec_f64();
    assert!(means.iter().all(|m| m.abs() < 1e-4));
    let dev_means = dev.x.mean(&[0], false).to_vec_f64();
    assert!(dev_means.iter().any(|m| m.abs() > 1e-3));

    // Augment the raw-scaled images of each training batch; batches cover the set once.
    let scaled = Preprocessing {
        scale: Some(255.0),
        ..Default::default()
    }
    .fit(&splits.train.x)
    .unwrap()
    .apply_dataset(&splits.train)
    .unwrap();
    let loader = BatchLoader::new(scaled, 64, 7).unwrap();
    let aug = AugmentConfig {
        horizontal_flip: true,
        crop_padding: 4,
        rotation_degrees: 10.0,
        brightness: 0.1,
        ..Default::default()
    };
    let mut rng = Rng::new(1);
    let mut seen = 0;
    for batch in loader.epoch(0) {
        let x = aug.apply(&batch.x, &mut rng).unwrap();
        assert_eq!(x.shape(), batch.x.shape());
        assert!(x.to_vec_f64().iter().all(|v| (0.0..=1.0).contains(v)));
        seen += batch.len();
    }
    assert_eq!(seen, splits.train.len());
}
