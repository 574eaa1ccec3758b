//! Plots: each PNG decodes, has the requested size and is not blank; each SVG is a document
//! with the title in it; text is really rasterised with the shipped font; writes are atomic and
//! errors name the file.

use std::path::Path;

use dlkit_train::metrics::ConfusionMatrix;
use dlkit_train::plots::{
    plot_accuracy, plot_confusion_matrix, plot_cost, plot_decision_boundary, points, Format,
    PlotError, PlotOptions,
};

fn decode(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// Variance of the grey levels (0 to 255): 0 for a blank image.
fn grey_variance(img: &image::RgbImage) -> f64 {
    let grey: Vec<f64> = img
        .pixels()
        .map(|p| (p[0] as f64 + p[1] as f64 + p[2] as f64) / 3.0)
        .collect();
    let mean = grey.iter().sum::<f64>() / grey.len() as f64;
    grey.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / grey.len() as f64
}

fn check_png(path: &Path, width: u32, height: u32) -> image::RgbImage {
    let img = decode(path);
    assert_eq!(img.dimensions(), (width, height), "{}", path.display());
    let v = grey_variance(&img);
    assert!(
        v > 100.0,
        "{} looks blank: grey variance {v}",
        path.display()
    );
    img
}

/// The contents of the SVG's `<text>` elements, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let start = t.find('>').unwrap() + 1;
            let end = t.find("</text>").expect("a closed <text>");
            t[start..end].trim().to_string()
        })
        .collect()
}

fn check_svg(path: &Path, width: u32, height: u32, texts: &[&str]) {
    let svg = std::fs::read_to_string(path).unwrap();
    let start = svg.find("<svg").expect("an <svg> element");
    assert!(
        svg[..start].trim().is_empty() || svg.starts_with("<?xml"),
        "{svg:.200}"
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{}",
        &svg[svg.len() - 100..]
    );
    assert!(svg.contains(&format!("width=\"{width}\"")), "{svg:.300}");
    assert!(svg.contains(&format!("height=\"{height}\"")), "{svg:.300}");
    // Every element opened is closed (a rough well-formedness check).
    let opens = svg.matches("<text").count();
    assert_eq!(opens, svg.matches("</text>").count());
    let found = svg_texts(&svg);
    for t in texts {
        assert!(
            found.iter().any(|f| f == t),
            "{} lacks the text {t:?}: {found:?}",
            path.display()
        );
    }
}

/// No temporary files left beside the plots.
fn no_leftovers(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "leftover temporary file {name}");
    }
}

fn cost_curve() -> Vec<(f64, f64)> {
    let cost: Vec<f64> = (0..30)
        .map(|i| 0.7 * (-(i as f64) / 8.0).exp() + 0.05)
        .collect();
    points(&cost, 0.0, 100.0)
}

#[test]
fn cost_plot_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PlotOptions::new("Cost per iteration").size(640, 480);
    plot_cost(dir.path().join("cost.png"), &cost_curve(), &opts).unwrap();
    plot_cost(dir.path().join("cost.svg"), &cost_curve(), &opts).unwrap();
    let img = check_png(&dir.path().join("cost.png"), 640, 480);
    // The line is drawn in the first palette colour (blue).
    assert!(img.pixels().any(|p| p.0 == [31, 119, 180]));
    check_svg(
        &dir.path().join("cost.svg"),
        640,
        480,
        &["Cost per iteration", "iteration", "cost", "1000", "0.5"],
    );
    no_leftovers(dir.path());
}

#[test]
fn accuracy_plot_has_two_lines_and_a_legend() {
    let dir = tempfile::tempdir().unwrap();
    let train: Vec<f64> = (0..15)
        .map(|e| 1.0 - 0.4 * (-(e as f64) / 3.0).exp())
        .collect();
    let dev: Vec<f64> = train.iter().map(|a| a - 0.08).collect();
    let opts = PlotOptions::new("Train and dev accuracy").x_label("epoch (of 15)");
    for ext in ["png", "svg"] {
        plot_accuracy(
            dir.path().join(format!("acc.{ext}")),
            &points(&train, 1.0, 1.0),
            &points(&dev, 1.0, 1.0),
            &opts,
        )
        .unwrap();
    }
    let img = check_png(&dir.path().join("acc.png"), 800, 600);
    let has = |rgb: [u8; 3]| img.pixels().any(|p| p.0 == rgb);
    assert!(
        has([31, 119, 180]) && has([255, 127, 14]),
        "both lines drawn"
    );
    check_svg(
        &dir.path().join("acc.svg"),
        800,
        600,
        &[
            "Train and dev accuracy",
            "train",
            "dev",
            "epoch (of 15)",
            "accuracy",
        ],
    );
    // Dev alone is fine too; neither is an error.
    plot_accuracy(
        dir.path().join("dev.png"),
        &[],
        &points(&dev, 1.0, 1.0),
        &opts,
    )
    .unwrap();
    let e = plot_accuracy(dir.path().join("none.png"), &[], &[], &opts).unwrap_err();
    assert!(e.to_string().contains("no points to plot"), "{e}");
    no_leftovers(dir.path());
}

#[test]
fn confusion_matrix_heat_map_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cm = ConfusionMatrix::from_counts(vec![vec![50, 3, 0], vec![4, 40, 6], vec![0, 9, 41]])
        .unwrap()
        .with_class_names(["setosa", "versicolor", "virginica"])
        .unwrap();
    let opts = PlotOptions::new("Confusion matrix").size(600, 560);
    plot_confusion_matrix(dir.path().join("cm.png"), &cm, &opts).unwrap();
    plot_confusion_matrix(dir.path().join("cm.svg"), &cm, &opts).unwrap();
    let img = check_png(&dir.path().join("cm.png"), 600, 560);
    // The largest count's cell is the darkest blue; a zero cell is nearly white.
    assert!(img.pixels().any(|p| p.0 == [8, 48, 107]));
    // (tint(c, 0.05) = 255 + (c - 255) * 0.05 of the dark blue (8, 48, 107).)
    assert!(img.pixels().any(|p| p.0 == [243, 245, 248]));
    check_svg(
        &dir.path().join("cm.svg"),
        600,
        560,
        &[
            "Confusion matrix",
            "50",
            "41",
            "versicolor",
            "predicted class",
            "true class",
        ],
    );
    // Without names, the indices label the classes.
    let cm = ConfusionMatrix::new(&[0, 1, 1, 0], &[0, 1, 0, 0], 2).unwrap();
    plot_confusion_matrix(dir.path().join("cm2.svg"), &cm, &opts).unwrap();
    check_svg(&dir.path().join("cm2.svg"), 600, 560, &["0", "1", "2"]);
    no_leftovers(dir.path());
}

#[test]
fn decision_boundary_calls_the_classifier_once_over_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let pts: Vec<(f64, f64)> = (0..50)
        .map(|i| {
            let t = i as f64 / 49.0;
            (4.0 * t - 2.0, ((i * 37) % 50) as f64 / 12.5 - 2.0)
        })
        .collect();
    let labels: Vec<usize> = pts.iter().map(|&(x, y)| usize::from(y > x)).collect();
    let opts = PlotOptions::new("Boundary y = x").size(500, 400).grid(50);
    for ext in ["png", "svg"] {
        let mut calls = 0;
        plot_decision_boundary(
            dir.path().join(format!("b.{ext}")),
            &pts,
            &labels,
            |grid| {
                calls += 1;
                assert_eq!(grid.len(), 50 * 50);
                // Row by row from the bottom left, cell centres inside the padded range.
                assert!(grid[0].0 < grid[1].0 && grid[0].1 == grid[1].1);
                assert!(grid[0].1 < grid[50].1);
                grid.iter().map(|&(x, y)| usize::from(y > x)).collect()
            },
            &opts,
        )
        .unwrap();
        assert_eq!(calls, 1);
    }
    let img = check_png(&dir.path().join("b.png"), 500, 400);
    // Both regions are tinted (class colours mixed with white at 35%) and both classes'
    // points are drawn in full colour.
    let has = |rgb: [u8; 3]| img.pixels().any(|p| p.0 == rgb);
    let tint = |c: [u8; 3]| c.map(|v| (255.0 + (v as f64 - 255.0) * 0.35).round() as u8);
    for c in [[31, 119, 180], [255, 127, 14]] {
        assert!(has(tint(c)), "region tint of {c:?}");
        assert!(has(c), "points of colour {c:?}");
    }
    check_svg(
        &dir.path().join("b.svg"),
        500,
        400,
        &["Boundary y = x", "class 0", "class 1", "x1", "x2"],
    );
    // Runs of equal predictions are merged: far fewer rectangles than cells.
    let svg = std::fs::read_to_string(dir.path().join("b.svg")).unwrap();
    assert!(
        svg.matches("<rect").count() < 400,
        "{}",
        svg.matches("<rect").count()
    );
    no_leftovers(dir.path());
}

#[test]
fn text_is_rasterised_with_the_shipped_font() {
    // Two titles of the same length: the plots differ only where the title's glyphs are, so
    // differing pixels prove that text was drawn (no system font is consulted).
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.png");
    let b = dir.path().join("b.png");
    plot_cost(&a, &cost_curve(), &PlotOptions::new("AAAA")).unwrap();
    plot_cost(&b, &cost_curve(), &PlotOptions::new("WXYZ")).unwrap();
    let (a, b) = (decode(&a), decode(&b));
    let mut rows = Vec::new();
    let mut differing = 0;
    for (y, (ra, rb)) in a.rows().zip(b.rows()).enumerate() {
        let d = ra.zip(rb).filter(|(p, q)| p != q).count();
        if d > 0 {
            rows.push(y);
        }
        differing += d;
    }
    assert!(differing > 100, "only {differing} pixels differ");
    // All of them in the title band at the top.
    assert!(rows.iter().all(|&y| y < 60), "rows {rows:?}");
    // Dark, anti-aliased glyph pixels in that band.
    let dark = (0..60)
        .flat_map(|y| (0..a.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| a.get_pixel(x, y).0.iter().all(|&v| v < 80))
        .count();
    assert!(dark > 50, "{dark} dark pixels in the title band");
}

#[test]
fn writes_replace_files_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cost.png");
    std::fs::write(&path, b"old contents").unwrap();
    plot_cost(&path, &cost_curve(), &PlotOptions::new("v1").size(300, 200)).unwrap();
    check_png(&path, 300, 200);
    plot_cost(&path, &cost_curve(), &PlotOptions::new("v2").size(320, 240)).unwrap();
    check_png(&path, 320, 240);
    no_leftovers(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let fresh = dir.path().join("fresh.svg");
        plot_cost(&fresh, &cost_curve(), &PlotOptions::new("f")).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PlotOptions::new("t");
    let jpg = dir.path().join("cost.jpg");
    let e = plot_cost(&jpg, &cost_curve(), &opts).unwrap_err();
    assert!(matches!(e, PlotError::Format { .. }));
    assert!(
        e.to_string().contains("cost.jpg") && e.to_string().contains(".png or .svg"),
        "{e}"
    );

    let missing = dir.path().join("no/such/folder/cost.png");
    let e = plot_cost(&missing, &cost_curve(), &opts).unwrap_err();
    assert!(matches!(e, PlotError::Io { .. }), "{e}");
    assert!(e.to_string().contains("no/such/folder/cost.png"), "{e}");

    let e = plot_cost(dir.path().join("c.png"), &[], &opts).unwrap_err();
    assert!(e.to_string().contains("cost: no points to plot"), "{e}");
    let e = plot_cost(dir.path().join("c.png"), &[(0.0, f64::NAN)], &opts).unwrap_err();
    assert!(
        e.to_string().contains("none of its 1 points is finite"),
        "{e}"
    );
    // A NaN among finite costs is skipped.
    plot_cost(
        dir.path().join("nan.png"),
        &[(0.0, 0.7), (1.0, f64::NAN), (2.0, 0.5)],
        &opts,
    )
    .unwrap();

    let e = plot_cost(
        dir.path().join("c.png"),
        &cost_curve(),
        &opts.clone().size(10, 600),
    )
    .unwrap_err();
    assert!(e.to_string().contains("plot size 10x600"), "{e}");

    let pts = [(0.0, 0.0), (1.0, 1.0)];
    let e = plot_decision_boundary(
        dir.path().join("b.png"),
        &pts,
        &[0],
        |g| vec![0; g.len()],
        &opts,
    )
    .unwrap_err();
    assert!(e.to_string().contains("2 points but 1 labels"), "{e}");
    let e = plot_decision_boundary(
        dir.path().join("b.png"),
        &pts,
        &[0, 1],
        |_| vec![0; 3],
        &opts,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("the classifier returned 3 classes for 40000 grid points"),
        "{e}"
    );
    let e = plot_decision_boundary(
        dir.path().join("b.png"),
        &[(0.0, f64::INFINITY)],
        &[0],
        |g| vec![0; g.len()],
        &opts,
    )
    .unwrap_err();
    assert!(e.to_string().contains("point 0 is"), "{e}");
    assert!(!dir.path().join("c.png").exists() && !dir.path().join("b.png").exists());
    no_leftovers(dir.path());
}

#[test]
fn single_points_and_flat_series_still_plot() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PlotOptions::new("one point").size(200, 150);
    plot_cost(dir.path().join("one.png"), &[(5.0, 0.3)], &opts).unwrap();
    plot_cost(
        dir.path().join("flat.png"),
        &[(0.0, 0.0), (1.0, 0.0)],
        &opts,
    )
    .unwrap();
    plot_accuracy(
        dir.path().join("acc.png"),
        &[(1.0, 1.0), (2.0, 1.0)],
        &[],
        &opts,
    )
    .unwrap();
    plot_decision_boundary(
        dir.path().join("b.png"),
        &[(1.0, 1.0)],
        &[0],
        |g| vec![0; g.len()],
        &opts.clone().grid(2),
    )
    .unwrap();
    for f in ["one.png", "flat.png", "acc.png", "b.png"] {
        check_png(&dir.path().join(f), 200, 150);
    }
}

#[test]
fn format_from_extension() {
    assert_eq!(Format::from_path(Path::new("a/b.PNG")), Some(Format::Png));
    assert_eq!(Format::from_path(Path::new("b.svg")), Some(Format::Svg));
    assert_eq!(Format::from_path(Path::new("b.pdf")), None);
    assert_eq!(Format::from_path(Path::new("png")), None);
}
