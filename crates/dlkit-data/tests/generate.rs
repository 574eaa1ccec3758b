//! The generated datasets and the NumPy legacy generator against NumPy 2.4 and scikit-learn
//! 1.9 themselves: `tests/fixtures/generated.json`, written by
//! `scripts/make_generated_fixtures.py`.

use dlkit_data::generate::{circles, flower, linspace, moons, Generator};
use dlkit_data::{Dataset, NumpyRandom};
use serde_json::Value;

/// Absolute tolerance for floats computed through `sin`, `cos`, `ln` and `sqrt`, which may
/// differ from NumPy's by an ulp or so.
const TOL: f64 = 1e-12;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/generated.json");
    let text = std::fs::read_to_string(path).expect("read the fixture");
    serde_json::from_str(&text).expect("parse the fixture")
}

/// A float array, stored as one string of space-separated shortest round-trip decimals and
/// parsed by `str::parse` (correctly rounded: NumPy's exact values).
fn floats(v: &Value) -> Vec<f64> {
    v.as_str()
        .expect("a string of decimals")
        .split_whitespace()
        .map(|x| x.parse().expect("a decimal"))
        .collect()
}

/// One float, stored as a string as [`floats`] are.
fn float(v: &Value) -> f64 {
    v.as_str()
        .expect("a decimal string")
        .parse()
        .expect("a decimal")
}

fn ints(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_u64().expect("an integer"))
        .collect()
}

/// The largest absolute difference; panics on a length mismatch or a difference over TOL.
fn assert_close(what: &str, got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let mut max = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs();
        assert!(
            d <= TOL,
            "{what}[{i}]: got {g:e}, NumPy has {w:e} (diff {d:e})"
        );
        max = max.max(d);
    }
    max
}

#[test]
fn random_streams_equal_numpy() {
    let fx = fixture();
    let mut max = 0.0f64;
    for s in fx["streams"].as_array().unwrap() {
        let seed = s["seed"].as_u64().unwrap() as u32;
        let what = |name: &str| format!("seed {seed} {name}");

        let mut rng = NumpyRandom::new(seed);
        let raw: Vec<u64> = (0..20).map(|_| u64::from(rng.next_u32())).collect();
        assert_eq!(raw, ints(&s["raw"]), "{}", what("raw"));

        let mut rng = NumpyRandom::new(seed);
        let got: Vec<f64> = (0..20).map(|_| rng.random_sample()).collect();
        // random_sample is exact arithmetic on integers: bit-equal.
        assert_eq!(
            got,
            floats(&s["random_sample"]),
            "{}",
            what("random_sample")
        );

        let mut rng = NumpyRandom::new(seed);
        let got: Vec<f64> = (0..20).map(|_| rng.gauss()).collect();
        max = max.max(assert_close(&what("gauss"), &got, &floats(&s["gauss"])));
        let mut rng = NumpyRandom::new(seed);
        let got = rng.randn(20);
        max = max.max(assert_close(&what("randn"), &got, &floats(&s["gauss"])));

        let mut rng = NumpyRandom::new(seed);
        let got: Vec<f64> = (0..20).map(|_| rng.normal(1.5, 0.3)).collect();
        max = max.max(assert_close(&what("normal"), &got, &floats(&s["normal"])));

        let mut rng = NumpyRandom::new(seed);
        let mut p: Vec<u64> = (0..10).collect();
        rng.shuffle(&mut p);
        assert_eq!(p, ints(&s["shuffle"]), "{}", what("shuffle"));
        let mut rng = NumpyRandom::new(seed);
        let mut p: Vec<u64> = (0..300).collect();
        rng.shuffle(&mut p);
        assert_eq!(p, ints(&s["shuffle_300"]), "{}", what("shuffle_300"));

        // gauss, random_sample, gauss, gauss, shuffle(arange(7)), gauss on one stream: the
        // cached second Gaussian survives the other calls.
        let mut rng = NumpyRandom::new(seed);
        let mut got = vec![rng.gauss(), rng.random_sample(), rng.gauss(), rng.gauss()];
        let mut q: Vec<u64> = (0..7).collect();
        rng.shuffle(&mut q);
        assert_eq!(q, ints(&s["mixed_shuffle"]), "{}", what("mixed shuffle"));
        got.push(rng.gauss());
        max = max.max(assert_close(&what("mixed"), &got, &floats(&s["mixed"])));

        // np.random.seed resets the stream and the cached Gaussian.
        let mut rng = NumpyRandom::new(seed.wrapping_add(1));
        rng.gauss();
        rng.seed(seed);
        assert_eq!(rng.gauss(), NumpyRandom::new(seed).gauss());
    }
    eprintln!("max |NumPy - dlkit| over the random streams: {max:e}");
}

#[test]
fn linspace_equals_numpy() {
    let fx = fixture();
    for case in fx["linspace"].as_array().unwrap() {
        let (start, stop) = (float(&case["start"]), float(&case["stop"]));
        let num = case["num"].as_u64().unwrap() as usize;
        let endpoint = case["endpoint"].as_bool().unwrap();
        let got = linspace(start, stop, num, endpoint);
        // Products and sums of exactly the same operands: bit-equal.
        assert_eq!(
            got,
            floats(&case["y"]),
            "linspace({start}, {stop}, {num}, endpoint={endpoint})"
        );
    }
}

fn generator_of(case: &Value) -> Generator {
    let n = case["n"].as_u64().unwrap() as usize;
    let seed = case["seed"].as_u64().unwrap() as u32;
    match case["type"].as_str().unwrap() {
        "flower" => Generator::Flower { n, seed },
        "circles" => Generator::Circles {
            n,
            noise: float(&case["noise"]),
            factor: float(&case["factor"]),
            seed,
        },
        "moons" => Generator::Moons {
            n,
            noise: float(&case["noise"]),
            seed,
        },
        other => panic!("unknown fixture type {other}"),
    }
}

#[test]
fn datasets_equal_numpy_and_sklearn() {
    let fx = fixture();
    let mut max = 0.0f64;
    let mut count = 0;
    for case in fx["datasets"].as_array().unwrap() {
        let g = generator_of(case);
        let what = format!("{g:?}");
        let data = g.generate().unwrap_or_else(|e| panic!("{what}: {e}"));
        let n = case["n"].as_u64().unwrap() as usize;
        assert_eq!(data.x.shape(), &[n, 2], "{what}");
        let d = assert_close(&what, &data.x.to_vec::<f64>(), &floats(&case["x"]));
        max = max.max(d);
        let want_y: Vec<usize> = ints(&case["y"]).into_iter().map(|v| v as usize).collect();
        assert_eq!(
            data.y.class_indices().unwrap(),
            &want_y[..],
            "{what}: labels"
        );
        let names = match g.name() {
            "flower" => ["0", "1"],
            "circles" => ["outer", "inner"],
            "moons" => ["upper", "lower"],
            other => panic!("name {other}"),
        };
        assert_eq!(data.y.class_names().unwrap(), names, "{what}: class names");
        assert_eq!(g.name(), case["type"].as_str().unwrap());
        count += 1;
    }
    assert!(count >= 10);
    eprintln!("max |NumPy/scikit-learn - dlkit| over {count} datasets: {max:e}");
}

#[test]
fn the_course_datasets() {
    let planar = flower(400, 1).unwrap();
    assert_eq!(planar.class_counts(), Some(vec![200, 200]));
    assert_eq!(
        (
            planar.y.class_indices().unwrap()[199],
            planar.y.class_indices().unwrap()[200]
        ),
        (0, 1)
    );
    let train = circles(300, 0.05, 0.8, 1).unwrap();
    let test = circles(100, 0.05, 0.8, 2).unwrap();
    assert_eq!((train.len(), test.len()), (300, 100));
    assert_eq!(train.class_counts(), Some(vec![150, 150]));
    let opt = moons(300, 0.2, 3).unwrap();
    assert_eq!(opt.class_counts(), Some(vec![150, 150]));
    // The same call gives the same data.
    let again = moons(300, 0.2, 3).unwrap();
    assert_eq!(opt.x.to_vec::<f64>(), again.x.to_vec::<f64>());
    // Without noise, the circles are exact: radius 1 for class 0, `factor` for class 1.
    let clean = circles(9, 0.0, 0.5, 7).unwrap();
    check_radii(&clean, &[1.0, 0.5]);
    assert_eq!(clean.class_counts(), Some(vec![4, 5]));
}

fn check_radii(data: &Dataset, radii: &[f64]) {
    let x = data.x.to_vec::<f64>();
    for (i, &k) in data.y.class_indices().unwrap().iter().enumerate() {
        let r = x[2 * i].hypot(x[2 * i + 1]);
        assert!((r - radii[k]).abs() < 1e-12, "row {i}: radius {r}");
    }
}

fn err(r: dlkit_data::Result<Dataset>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn bad_parameters_are_named() {
    for n in [0, 1] {
        for e in [
            err(flower(n, 1)),
            err(circles(n, 0.1, 0.8, 1)),
            err(moons(n, 0.1, 1)),
        ] {
            assert!(
                e.contains(&format!("'n' is {n}")) && e.contains("at least 2"),
                "{e}"
            );
        }
    }
    let e = err(flower(1, 1));
    assert!(e.starts_with("flower dataset:"), "{e}");
    for noise in [-0.1, f64::NAN, f64::INFINITY] {
        let e = err(circles(10, noise, 0.8, 1));
        assert!(
            e.starts_with("circles dataset:") && e.contains("'noise' is"),
            "{e}"
        );
        let e = err(moons(10, noise, 1));
        assert!(
            e.starts_with("moons dataset:") && e.contains("'noise' is"),
            "{e}"
        );
    }
    assert!(err(moons(10, -0.5, 1)).contains("'noise' is -0.5"));
    for factor in [0.0, 1.0, 1.5, -0.2, f64::NAN] {
        let e = err(circles(10, 0.1, factor, 1));
        assert!(
            e.contains(&format!("'factor' is {factor}")) && e.contains("(0, 1)"),
            "{e}"
        );
    }
    let e = Generator::Circles {
        n: 10,
        noise: 0.0,
        factor: 2.0,
        seed: 0,
    }
    .generate()
    .unwrap_err()
    .to_string();
    assert!(e.contains("'factor' is 2"), "{e}");
    // The smallest allowed sizes work.
    assert_eq!(flower(2, 0).unwrap().class_counts(), Some(vec![1, 1]));
    assert_eq!(circles(2, 0.0, 0.5, 0).unwrap().len(), 2);
    assert_eq!(moons(3, 0.0, 0).unwrap().class_counts(), Some(vec![1, 2]));
}

#[derive(Debug, serde::Deserialize)]
struct Config {
    data: Generator,
}

#[test]
fn generator_from_toml() {
    let c: Config =
        toml::from_str("data = { type = \"circles\", n = 300, noise = 0.05, seed = 1 }").unwrap();
    assert_eq!(
        c.data,
        Generator::Circles {
            n: 300,
            noise: 0.05,
            factor: 0.8,
            seed: 1
        }
    );
    assert_eq!(c.data.name(), "circles");
    let want = circles(300, 0.05, 0.8, 1).unwrap();
    assert_eq!(
        c.data.generate().unwrap().x.to_vec::<f64>(),
        want.x.to_vec::<f64>()
    );

    let g: Generator = toml::from_str("type = \"flower\"").unwrap();
    assert_eq!(g, Generator::Flower { n: 400, seed: 1 });
    assert_eq!(g.name(), "flower");
    let g: Generator = toml::from_str("type = \"moons\"\nn = 300\nnoise = 0.2\nseed = 3").unwrap();
    assert_eq!(
        g,
        Generator::Moons {
            n: 300,
            noise: 0.2,
            seed: 3
        }
    );
    let g: Generator = toml::from_str("type = \"circles\"").unwrap();
    assert_eq!(
        g,
        Generator::Circles {
            n: 100,
            noise: 0.0,
            factor: 0.8,
            seed: 0
        }
    );
    let g: Generator = toml::from_str("type = \"moons\"\nnoise = 0.1").unwrap();
    assert_eq!(g.name(), "moons");

    // Unknown fields, unknown types and wrong field types are refused, naming them.
    let e = toml::from_str::<Config>("data = { type = \"moons\", n = 300, factor = 0.5 }")
        .unwrap_err()
        .to_string();
    assert!(e.contains("factor"), "{e}");
    let e = toml::from_str::<Config>("data = { type = \"flower\", noise = 0.1 }")
        .unwrap_err()
        .to_string();
    assert!(e.contains("noise"), "{e}");
    let e = toml::from_str::<Config>("data = { type = \"spirals\", n = 10 }")
        .unwrap_err()
        .to_string();
    assert!(e.contains("spirals"), "{e}");
    assert!(toml::from_str::<Config>("data = { n = 10 }").is_err());
    assert!(toml::from_str::<Config>("data = { type = \"moons\", seed = -1 }").is_err());

    // A parsed generator with a bad value fails when generating, naming the field.
    let g: Generator = toml::from_str("type = \"moons\"\nn = 1").unwrap();
    assert!(g.generate().unwrap_err().to_string().contains("'n' is 1"));

    // Round trip through JSON (the CLI's report may serialise it).
    let json = serde_json::to_string(&c.data).unwrap();
    assert!(json.contains("\"type\":\"circles\""), "{json}");
    assert_eq!(serde_json::from_str::<Generator>(&json).unwrap(), c.data);
}
