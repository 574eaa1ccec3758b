//! Loading the NumPy reference fixtures (`tests/fixtures/*.safetensors`) and checking a dlkit
//! op against one case of them, forward and backward, in f64 or f32.
//!
//! A case `CASE` of a file holds its inputs `CASE.<input>`, the output `CASE.out`, the
//! upstream gradient `CASE.gout` and the gradients `CASE.grad_<input>`; its parameters are
//! strings `CASE.<param>` in the safetensors `__metadata__` (see `tests/fixtures/README.md`).
//!
//! Every tensor and every parameter a file holds must be read by the test of that file, so a
//! case, a gradient or a parameter added to the generator cannot go untested silently.
#![allow(dead_code)]

use dlkit_core::{DType, Tensor};
use safetensors::{Dtype, SafeTensors};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The `tests/fixtures` folder of the crate under test.
fn own_fixtures() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures"]
        .iter()
        .collect()
}

/// dlkit-core's `tests/fixtures` folder, for the tests of other crates.
pub fn core_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dlkit-core/tests/fixtures")
}

/// Relative tolerance of the f64 runs.
pub const TOL_F64: f64 = 1e-10;
/// Relative tolerance of the f32 runs (inputs converted to f32 exactly).
pub const TOL_F32: f64 = 1e-5;

/// The tolerance of a run in `dtype`.
pub fn tolerance(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => TOL_F64,
        DType::F32 => TOL_F32,
    }
}

/// The relative error of `actual` against the reference `expected`:
///
/// `max_i |actual_i - expected_i| / max(max_i |expected_i|, 1e-30)`,
///
/// one number per tensor, so that elements far smaller than the tensor's largest (a softmax
/// tail, `σ(-40)`) are judged on the scale of the tensor rather than on their own. A NaN
/// anywhere makes the error infinite.
pub fn relative_error(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    let scale = expected
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1e-30);
    let mut worst = 0.0f64;
    for (a, e) in actual.iter().zip(expected) {
        let d = (a - e).abs();
        if d.is_nan() {
            return f64::INFINITY;
        }
        worst = worst.max(d);
    }
    worst / scale
}

/// One fixture file, parsed: every tensor as f64 with its shape, and the metadata strings.
pub struct Fixture {
    pub file: String,
    tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    meta: HashMap<String, String>,
    used_tensors: RefCell<BTreeSet<String>>,
    used_meta: RefCell<BTreeSet<String>>,
}

/// Metadata keys that describe the file rather than a case.
const FILE_META: [&str; 5] = ["op", "seed", "generator", "dtype", "cases"];

impl Fixture {
    /// Reads `tests/fixtures/<name>.safetensors` with the `safetensors` crate.
    pub fn load(name: &str) -> Fixture {
        Self::load_from(&own_fixtures(), name)
    }

    /// Reads `<dir>/<name>.safetensors` (another crate's fixtures).
    pub fn load_from(dir: &Path, name: &str) -> Fixture {
        let path = dir.join(format!("{name}.safetensors"));
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let st = SafeTensors::deserialize(&bytes)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let meta = header.metadata().clone().unwrap_or_default();
        let mut tensors = HashMap::new();
        for (key, view) in st.tensors() {
            assert_eq!(view.dtype(), Dtype::F64, "{name}: tensor {key} is not F64");
            let values: Vec<f64> = view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let shape = view.shape().to_vec();
            assert_eq!(
                values.len(),
                shape.iter().product::<usize>(),
                "{name}: {key}"
            );
            tensors.insert(key, (shape, values));
        }
        let fx = Fixture {
            file: name.to_string(),
            tensors,
            meta,
            used_tensors: RefCell::default(),
            used_meta: RefCell::default(),
        };
        assert_eq!(
            fx.meta.get("op").map(String::as_str),
            Some(name),
            "{name}: metadata `op`"
        );
        fx
    }

    /// The case names, in the file's order.
    pub fn cases(&self) -> Vec<String> {
        let list = self
            .meta
            .get("cases")
            .unwrap_or_else(|| panic!("{}: no `cases` in the metadata", self.file));
        list.split(',').map(str::to_string).collect()
    }

    /// Whether the file holds tensor `key`.
    pub fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Tensor `key` as (shape, f64 values); panics if missing.
    pub fn array(&self, key: &str) -> (Vec<usize>, Vec<f64>) {
        let t = self
            .tensors
            .get(key)
            .unwrap_or_else(|| panic!("{}: no tensor {key}", self.file))
            .clone();
        self.used_tensors.borrow_mut().insert(key.to_string());
        t
    }

    /// The names of the gradients stored for `case` (`grad_x` -> `x`), sorted.
    pub fn grad_names(&self, case: &str) -> Vec<String> {
        let prefix = format!("{case}.grad_");
        let mut v: Vec<String> = self
            .tensors
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
            .collect();
        v.sort();
        v
    }

    /// Metadata string `CASE.param`; panics if missing.
    pub fn param(&self, case: &str, param: &str) -> String {
        let key = format!("{case}.{param}");
        let v = self
            .meta
            .get(&key)
            .unwrap_or_else(|| panic!("{}: no metadata {key}", self.file))
            .clone();
        self.used_meta.borrow_mut().insert(key);
        v
    }

    /// Asserts that every tensor and every per-case metadata entry was read.
    pub fn assert_all_used(&self) {
        let used = self.used_tensors.borrow();
        let unused: Vec<&String> = self.tensors.keys().filter(|k| !used.contains(*k)).collect();
        assert!(
            unused.is_empty(),
            "{}: tensors never checked: {unused:?}",
            self.file
        );
        let used = self.used_meta.borrow();
        let unused: Vec<&String> = self
            .meta
            .keys()
            .filter(|k| !FILE_META.contains(&k.as_str()) && !used.contains(*k))
            .collect();
        assert!(
            unused.is_empty(),
            "{}: parameters never read: {unused:?}",
            self.file
        );
    }
}

/// Parses `"a,b,..."` into numbers.
pub fn parse_list<T: std::str::FromStr>(s: &str) -> Vec<T>
where
    T::Err: std::fmt::Debug,
{
    s.split(',')
        .map(|p| {
            p.trim()
                .parse()
                .unwrap_or_else(|e| panic!("parsing {p:?} of {s:?}: {e:?}"))
        })
        .collect()
}

/// Parses `"a,b"` into a pair.
pub fn parse_pair(s: &str) -> (usize, usize) {
    match parse_list::<usize>(s)[..] {
        [a, b] => (a, b),
        _ => panic!("expected two numbers \"a,b\", got {s:?}"),
    }
}

/// Parses `"true"` / `"false"`.
pub fn parse_bool(s: &str) -> bool {
    match s {
        "true" => true,
        "false" => false,
        _ => panic!("expected true or false, got {s:?}"),
    }
}

/// One case of a fixture file, run in one dtype.
pub struct Case<'a> {
    pub fx: &'a Fixture,
    pub name: String,
    pub dtype: DType,
}

impl Case<'_> {
    /// Parameter `param` of this case.
    pub fn param(&self, param: &str) -> String {
        self.fx.param(&self.name, param)
    }

    /// Whether this case stores input `input`.
    pub fn has(&self, input: &str) -> bool {
        self.fx.has(&format!("{}.{input}", self.name))
    }

    /// Tensor `CASE.<key>` in this run's dtype, not requiring a gradient.
    pub fn tensor(&self, key: &str) -> Tensor {
        let (shape, values) = self.fx.array(&format!("{}.{key}", self.name));
        match self.dtype {
            DType::F64 => Tensor::from_vec(values, &shape),
            DType::F32 => {
                let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                // The generator rounds every input through f32: the conversion is exact.
                assert!(
                    v.iter().zip(&values).all(|(&a, &b)| a as f64 == b),
                    "{}/{}.{key}: input not exactly representable in f32",
                    self.fx.file,
                    self.name
                );
                Tensor::from_vec(v, &shape)
            }
        }
    }

    /// Input `CASE.<input>` as a leaf requiring a gradient.
    pub fn input(&self, input: &str) -> Tensor {
        self.tensor(input).with_grad()
    }

    /// `CASE.<key>` (integer values stored as F64) as class indices.
    pub fn labels(&self, key: &str) -> Vec<usize> {
        let (_, values) = self.fx.array(&format!("{}.{key}", self.name));
        values
            .iter()
            .map(|&v| {
                assert!(
                    v >= 0.0 && v.fract() == 0.0,
                    "{}/{}.{key}: label {v} is not a class index",
                    self.fx.file,
                    self.name
                );
                v as usize
            })
            .collect()
    }
}

/// What a case's op returns: its output and the leaves whose gradients are checked, by the
/// name the fixture gives them (`x` for `CASE.grad_x`).
pub struct Built {
    pub out: Tensor,
    pub leaves: Vec<(&'static str, Tensor)>,
}

impl Built {
    pub fn new(out: Tensor, leaves: &[(&'static str, &Tensor)]) -> Built {
        Built {
            out,
            leaves: leaves.iter().map(|&(n, t)| (n, t.clone())).collect(),
        }
    }
}

/// Compares one tensor with its reference; returns a failure message, if any, and records
/// the relative error in `worst` (the largest, with where it was seen).
fn compare(
    worst: &mut (f64, String),
    dtype: DType,
    what: &str,
    actual: &Tensor,
    shape: &[usize],
    expected: &[f64],
) -> Option<String> {
    if actual.shape() != shape {
        return Some(format!(
            "{what}: shape {:?}, expected {shape:?}",
            actual.shape()
        ));
    }
    if actual.dtype() != dtype {
        return Some(format!(
            "{what}: dtype {}, expected {dtype}",
            actual.dtype()
        ));
    }
    let values = actual.to_vec_f64();
    let err = relative_error(&values, expected);
    if err >= worst.0 {
        *worst = (err, what.to_string());
    }
    let tol = tolerance(dtype);
    if err > tol {
        return Some(format!(
            "{what}: relative error {err:.3e} > {tol:e}\n  got      {values:?}\n  expected {expected:?}"
        ));
    }
    None
}

/// Runs every case of fixture `file` in `dtype`: `build` makes the op from the case's inputs;
/// then the forward output is compared with `CASE.out`, `L = sum(out * gout)` is
/// backpropagated and the gradient of every leaf named by a stored `CASE.grad_<input>` is
/// compared with it (each stored gradient must have its leaf). Panics after all cases ran,
/// naming every case that failed.
pub fn run_fixture(file: &str, dtype: DType, build: impl Fn(&Case) -> Built) {
    run_fixture_from(&own_fixtures(), file, dtype, build)
}

/// [`run_fixture`] on `<dir>/<file>.safetensors` (another crate's fixtures).
pub fn run_fixture_from(dir: &Path, file: &str, dtype: DType, build: impl Fn(&Case) -> Built) {
    let fx = Fixture::load_from(dir, file);
    let cases = fx.cases();
    assert!(!cases.is_empty(), "{file}: no cases");
    let mut failures = Vec::new();
    let mut worst = (0.0f64, String::new());
    for name in &cases {
        let case = Case {
            fx: &fx,
            name: name.clone(),
            dtype,
        };
        let tag = format!("{file}/{name} [{dtype}]");
        let mut fail = |msg: String| failures.push(format!("{tag}: {msg}"));
        let built = build(&case);
        let (shape, expected) = fx.array(&format!("{name}.out"));
        if let Some(m) = compare(
            &mut worst,
            dtype,
            &format!("{tag} out"),
            &built.out,
            &shape,
            &expected,
        ) {
            fail(m);
        }
        let gout = case.tensor("gout");
        if gout.shape() != built.out.shape() {
            fail(format!(
                "gout shape {:?} differs from out shape {:?}",
                gout.shape(),
                built.out.shape()
            ));
            continue;
        }
        built.out.mul(&gout).sum_all().backward();
        let stored = fx.grad_names(name);
        if stored.is_empty() {
            fail("no stored gradient".into());
        }
        for input in &stored {
            let Some((_, leaf)) = built.leaves.iter().find(|(n, _)| n == input) else {
                fail(format!(
                    "grad_{input} is stored but the test has no leaf {input}"
                ));
                continue;
            };
            let (shape, expected) = fx.array(&format!("{name}.grad_{input}"));
            match leaf.grad() {
                None => fail(format!("grad_{input}: backward gave no gradient")),
                Some(g) => {
                    if let Some(m) = compare(
                        &mut worst,
                        dtype,
                        &format!("{tag} grad_{input}"),
                        &g,
                        &shape,
                        &expected,
                    ) {
                        fail(m);
                    }
                }
            }
        }
        for (n, _) in &built.leaves {
            if !stored.iter().any(|s| s == n) {
                fail(format!("leaf {n} has no stored gradient grad_{n}"));
            }
        }
    }
    eprintln!(
        "fixture {file} [{dtype}]: {} cases, worst relative error {:.3e} at {}",
        cases.len(),
        worst.0,
        worst.1
    );
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    fx.assert_all_used();
}
