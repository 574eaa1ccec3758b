//! Setting parameters into a base config by path, checking paths, and printing values.

use dlkit_tune::apply::{apply, describe, validate_paths};
use dlkit_tune::{ParamValue, Params, SearchSpace};

const MOONS: &str = include_str!("../../../examples/moons_adam.toml");

fn base() -> toml::Value {
    toml::Value::Table(toml::from_str(MOONS).unwrap())
}

fn space(text: &str) -> SearchSpace {
    SearchSpace::from_table(&toml::from_str(text).unwrap()).unwrap()
}

#[test]
fn values_land_where_their_paths_say_and_the_config_still_parses() {
    let s = space(
        r#"
        "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
        "optimizer.beta1" = { one_minus_log_uniform = [0.8, 0.99] }
        "train.batch_size" = { int_log = [16, 256] }
        "train.l2" = { uniform = [0.0, 0.1] }
        "model.layers[2].units" = { int = [2, 8] }
        "data.train.generate.noise" = { choice = [0.1, 0.3] }
        "#,
    );
    validate_paths(&base(), &s).unwrap();
    let params = Params::from([
        ("optimizer.lr".into(), ParamValue::Float(0.003)),
        ("optimizer.beta1".into(), ParamValue::Float(0.95)),
        ("train.batch_size".into(), ParamValue::Int(32)),
        ("train.l2".into(), ParamValue::Float(0.05)),
        ("model.layers[2].units".into(), ParamValue::Int(7)),
        ("data.train.generate.noise".into(), ParamValue::Choice(1)),
    ]);
    let config = apply(&base(), &s, &params).unwrap();
    let text = toml::to_string(&config).unwrap();
    let parsed = dlkit_train::config::parse(&text, "trial").unwrap();
    assert_eq!(parsed.train.batch_size, Some(32));
    assert_eq!(parsed.train.l2, Some(0.05));
    assert_eq!(config["model"]["layers"][2]["units"].as_integer(), Some(7));
    assert_eq!(config["optimizer"]["lr"].as_float(), Some(0.003));
    assert_eq!(config["optimizer"]["beta1"].as_float(), Some(0.95));
    assert_eq!(
        config["data"]["train"]["generate"]["noise"].as_float(),
        Some(0.3)
    );
    // The base config is left as it was.
    assert_eq!(base()["train"].get("l2"), None);
}

#[test]
fn a_choice_of_whole_layer_lists_replaces_the_list() {
    let s = space(
        r#""model.layers" = { choice = [
            [{ type = "dense", units = 1 }, { type = "sigmoid" }],
            [{ type = "dense", units = 9 }, { type = "relu" }, { type = "dense", units = 1 }, { type = "sigmoid" }],
        ] }"#,
    );
    let params = Params::from([("model.layers".into(), ParamValue::Choice(1))]);
    let config = apply(&base(), &s, &params).unwrap();
    let parsed = dlkit_train::config::parse(&toml::to_string(&config).unwrap(), "t").unwrap();
    assert_eq!(parsed.model.layers.len(), 4);
    let d = &s.params()[0].distribution;
    assert_eq!(
        describe(d, ParamValue::Choice(1)),
        "[dense(9), relu, dense(1), sigmoid]"
    );
    assert_eq!(describe(d, ParamValue::Choice(0)), "[dense(1), sigmoid]");
}

#[test]
fn unknown_paths_name_what_the_base_config_lacks() {
    let cases = [
        (
            r#""optimzer.lr" = { uniform = [0, 1] }"#,
            r#"[tune.params] "optimzer.lr": the base config has no `optimzer`"#,
        ),
        (
            r#""model.layers[6].units" = { int = [1, 4] }"#,
            r#"[tune.params] "model.layers[6].units": "model.layers" in the base config has 6 entries, so there is no [6] (indices count from 0)"#,
        ),
        (
            r#""train.epochs.x" = { int = [1, 4] }"#,
            r#"[tune.params] "train.epochs.x": "train.epochs" in the base config is an integer, not a table, so it has no `x`"#,
        ),
        (
            r#""train[0]" = { int = [1, 4] }"#,
            r#"[tune.params] "train[0]": "train" in the base config is a table, not an array, so it has no [0]"#,
        ),
        (
            r#""train.schedule.decay_rate" = { uniform = [0, 1] }"#,
            r#"[tune.params] "train.schedule.decay_rate": "train" in the base config has no `schedule`"#,
        ),
    ];
    for (entry, want) in cases {
        assert_eq!(
            validate_paths(&base(), &space(entry))
                .unwrap_err()
                .to_string(),
            want
        );
    }
    // A missing last key in an existing table is allowed: the config parse judges it.
    validate_paths(&base(), &space(r#""train.l1" = { uniform = [0, 1] }"#)).unwrap();
}

#[test]
fn values_that_do_not_fit_are_refused() {
    let s = space(r#""train.batch_size" = { int = [16, 64] }"#);
    let e = apply(
        &base(),
        &s,
        &Params::from([("train.batch_size".into(), ParamValue::Float(3.0))]),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"[tune.params] "train.batch_size": Float(3.0) is not a value of its `int` distribution"#
    );
    let e = apply(&base(), &s, &Params::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"[tune.params] "train.batch_size": the trial has no value for it"#
    );
}

#[test]
fn values_are_described_briefly() {
    let s = space(
        r#"
        "optimizer.lr" = { log_uniform = [1e-5, 1e-1] }
        "optimizer.type" = { choice = ["adam", "momentum"] }
        "train.batch_size" = { int = [16, 64] }
        "#,
    );
    let d = |p: &str| &s.get(p).unwrap().distribution;
    assert_eq!(
        describe(d("optimizer.lr"), ParamValue::Float(0.000_123_456)),
        "0.0001235"
    );
    assert_eq!(
        describe(d("optimizer.lr"), ParamValue::Float(2.5e-5)),
        "2.5e-5"
    );
    assert_eq!(
        describe(d("optimizer.type"), ParamValue::Choice(1)),
        "momentum"
    );
    assert_eq!(describe(d("train.batch_size"), ParamValue::Int(32)), "32");
    let long = space(
        r#""model.layers" = { choice = [[
            { type = "dense", units = 100 }, { type = "relu" }, { type = "dense", units = 100 },
            { type = "relu" }, { type = "dense", units = 100 }, { type = "relu" },
            { type = "dense", units = 1 }, { type = "sigmoid" },
        ]] }"#,
    );
    let text = describe(&long.params()[0].distribution, ParamValue::Choice(0));
    assert_eq!(text.chars().count(), 60);
    assert!(
        text.starts_with("[dense(100), relu, dense(100)") && text.ends_with("..."),
        "{text}"
    );
}
