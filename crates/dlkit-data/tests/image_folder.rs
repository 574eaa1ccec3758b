//! The image-folder readers on the shipped SIGNS JPEGs (counts from the data README, pixel
//! statistics from Pillow) and on small folders written here, broken ones included.

use std::path::{Path, PathBuf};

use dlkit_data::{
    load_image_folder, load_image_folder_with, load_image_rgb, load_signs_folder, load_signs_jpegs,
    Error, ImageFolderOptions,
};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}

/// A fresh, empty scratch folder.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("dlkit-data-images")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes an `h x w` PNG whose pixel (r, c) is (value, r, c).
fn png(path: &Path, h: u32, w: u32, value: u8) {
    let img = image::RgbImage::from_fn(w, h, |c, r| image::Rgb([value, r as u8, c as u8]));
    img.save(path).unwrap();
}

fn mean(x: &dlkit_core::Tensor) -> f64 {
    x.with_data(|v: &[f32]| v.iter().map(|&p| f64::from(p)).sum::<f64>() / v.len() as f64)
}

#[test]
fn signs_jpegs_have_the_readme_counts() {
    let s = load_signs_jpegs(data("signs/64x64_SIGNS")).unwrap();
    assert_eq!(s.train.x.shape(), &[864, 64, 64, 3]);
    assert_eq!(s.val.x.shape(), &[216, 64, 64, 3]);
    assert_eq!(s.train.classes, ["0", "1", "2", "3", "4", "5"]);
    assert_eq!(s.train.class_counts(), [141, 146, 142, 142, 144, 149]);
    assert_eq!(s.val.class_counts(), [39, 34, 38, 38, 36, 31]);
    let test = s.test.as_ref().unwrap();
    assert_eq!(test.x.shape(), &[120, 64, 64, 3]);
    assert_eq!(test.class_counts(), [20; 6]);

    // Pillow (libjpeg) decodes the same files to these means; JPEG decoders differ by a level
    // here and there in the IDCT and chroma upsampling (zune-jpeg gives 181.87, 181.06 and
    // 182.02: 0.09 above), not more.
    for (set, pil) in [
        (&s.train, 181.781_825_6),
        (&s.val, 180.968_261_0),
        (test, 181.931_001_8),
    ] {
        let m = mean(&set.x);
        assert!((m - pil).abs() < 0.2, "mean {m} against Pillow's {pil}");
    }
    // The first training image, 0_IMG_5864.jpg: Pillow gives (225, 221, 210) at (0, 0) and
    // (228, 225, 216) at (10, 20).
    let px = |r: usize, c: usize| -> Vec<f32> {
        s.train
            .x
            .with_data(|v: &[f32]| v[(r * 64 + c) * 3..(r * 64 + c) * 3 + 3].to_vec())
    };
    for (got, want) in [
        (px(0, 0), [225.0, 221.0, 210.0]),
        (px(10, 20), [228.0, 225.0, 216.0]),
    ] {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 3.0, "{got:?} against Pillow's {want:?}");
        }
    }
}

#[test]
fn file_names_with_spaces_keep_their_label() {
    // 58 SIGNS file names contain a space, as `0_IMG_5975 (1).jpg`.
    let (pixels, size) = load_image_rgb(
        data("signs/64x64_SIGNS/test_signs/0_IMG_5975 (1).jpg"),
        None,
    )
    .unwrap();
    assert_eq!(size, [64, 64]);
    assert_eq!(pixels.len(), 64 * 64 * 3);
    let set = load_signs_folder(data("signs/64x64_SIGNS/test_signs")).unwrap();
    assert_eq!(set.len(), 120);
}

#[test]
fn class_subfolders_give_sorted_classes() {
    let dir = scratch_dir("classes");
    for (class, n) in [("dog", 2), ("cat", 3), ("bird", 1)] {
        std::fs::create_dir(dir.join(class)).unwrap();
        for i in 0..n {
            png(
                &dir.join(class).join(format!("{i}.png")),
                4,
                5,
                10 * i as u8,
            );
        }
    }
    // Skipped: hidden files, files of other types, folders inside a class, loose files.
    std::fs::write(dir.join("cat/.DS_Store"), b"junk").unwrap();
    std::fs::write(dir.join("cat/notes.txt"), b"junk").unwrap();
    std::fs::create_dir(dir.join("cat/nested")).unwrap();
    std::fs::create_dir(dir.join(".hidden_class")).unwrap();
    std::fs::write(dir.join("README"), b"junk").unwrap();

    let set = load_image_folder(&dir).unwrap();
    assert_eq!(set.classes, ["bird", "cat", "dog"]);
    assert_eq!(set.y, [0, 1, 1, 1, 2, 2]);
    assert_eq!(set.x.shape(), &[6, 4, 5, 3]);
    // Image 2 is cat/1.png: pixel (3, 4) is (10, 3, 4).
    let i = ((2 * 4 + 3) * 5 + 4) * 3;
    assert_eq!(
        set.x.with_data(|v: &[f32]| v[i..i + 3].to_vec()),
        [10.0, 3.0, 4.0]
    );

    // A resize target.
    let opts = ImageFolderOptions {
        resize: Some([8, 6]),
    };
    let set = load_image_folder_with(&dir, &opts).unwrap();
    assert_eq!(set.x.shape(), &[6, 8, 6, 3]);
}

// ---- broken folders -----------------------------------------------------------------------

#[test]
fn an_undecodable_image_is_named() {
    let dir = scratch_dir("undecodable");
    std::fs::create_dir(dir.join("a")).unwrap();
    png(&dir.join("a/good.png"), 4, 4, 0);
    let bad = dir.join("a/broken.jpg");
    std::fs::write(&bad, b"\xff\xd8\xff\xe0 this is not really a JPEG").unwrap();
    let e = load_image_folder(&dir).unwrap_err();
    assert!(matches!(e, Error::Image { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot decode the image: ", bad.display())),
        "{msg}"
    );

    // A truncated copy of a real SIGNS JPEG.
    let jpg = std::fs::read(data("signs/64x64_SIGNS/train_signs/0_IMG_5864.jpg")).unwrap();
    let cut = dir.join("a/cut.jpg");
    std::fs::write(&cut, &jpg[..jpg.len() / 3]).unwrap();
    std::fs::remove_file(&bad).unwrap();
    let e = load_image_folder(&dir).unwrap_err();
    assert!(matches!(e, Error::Image { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("{}: cannot decode the image: ", cut.display())),
        "{msg}"
    );
}

#[test]
fn a_differing_size_names_both_files() {
    let dir = scratch_dir("sizes");
    std::fs::create_dir(dir.join("x")).unwrap();
    png(&dir.join("x/a.png"), 4, 4, 0);
    png(&dir.join("x/b.png"), 4, 4, 0);
    png(&dir.join("x/c.png"), 3, 5, 0);
    let e = load_image_folder(&dir).unwrap_err();
    assert!(
        matches!(
            e,
            Error::ImageSize {
                found: [3, 5],
                expected: [4, 4],
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the image is 3x5 (height x width) but {} is 4x4; every image must have the \
             same size, or ask for a resize",
            dir.join("x/c.png").display(),
            dir.join("x/a.png").display()
        )
    );
    let opts = ImageFolderOptions {
        resize: Some([4, 4]),
    };
    assert_eq!(
        load_image_folder_with(&dir, &opts).unwrap().x.shape(),
        &[3, 4, 4, 3]
    );
}

#[test]
fn empty_folders_and_bad_names_are_reported() {
    let dir = scratch_dir("empty");
    let e = load_image_folder(&dir).unwrap_err();
    assert!(matches!(e, Error::NoImages { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: no images found: expected one subfolder per class, holding .jpg, .jpeg or .png \
             images",
            dir.display()
        )
    );
    std::fs::create_dir(dir.join("only_text")).unwrap();
    std::fs::write(dir.join("only_text/a.txt"), b"x").unwrap();
    let msg = load_image_folder(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("the class folder 'only_text' holds no .jpg, .jpeg or .png files"),
        "{msg}"
    );

    let dir = scratch_dir("signs_names");
    png(&dir.join("3_IMG_1.png"), 2, 2, 0);
    png(&dir.join("IMG_2.png"), 2, 2, 0);
    let e = load_signs_folder(&dir).unwrap_err();
    assert!(matches!(e, Error::BadFileName { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the file name does not start with its class digit (as 3_IMG_6045.jpg, class 3)",
            dir.join("IMG_2.png").display()
        )
    );

    let missing = data("signs/no_such_folder");
    let e = load_signs_jpegs(&missing).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: file not found", missing.join("train_signs").display())
    );
}
