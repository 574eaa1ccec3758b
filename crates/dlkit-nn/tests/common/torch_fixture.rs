//! Reading tests/fixtures/torch_optim.json, the values PyTorch computed in
//! scripts/make_torch_optim_fixtures.py (shared by the torch_* tests).

use serde_json::Value;

/// The whole fixture.
pub fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/torch_optim.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A JSON array of sizes.
#[allow(dead_code)] // not every test file reads shapes
pub fn shape(v: &Value) -> Vec<usize> {
    floats(v).iter().map(|&d| d as usize).collect()
}
