//! Conv2d, max and average pooling, global average pooling, residual and inception blocks:
//! f64 gradient checks at the course's threshold (epsilon 1e-7, relative difference < 1e-7,
//! through `L = sum(out * G)` with `G` fixed random) through inputs and parameters; Conv2d's
//! forward and gradients against dlkit-core's NumPy fixture `conv2d.safetensors`, the layer
//! built from its description with the fixture's weights; shape errors at build time;
//! small ResNet- and Inception-style models built from descriptions; the descriptions in
//! TOML and JSON. Run with `--nocapture` to see every relative difference.

#[path = "../../dlkit-core/tests/common/mod.rs"]
mod common;
#[path = "../../dlkit-core/tests/fixture_support/mod.rs"]
mod fixture_support;

use common::{check_op, distinct, randn, uniform};
use dlkit_core::{no_grad, DType, Padding, Rng, Tensor};
use dlkit_nn::layers::batch_norm::{BatchNorm, BatchNormSpec};
use dlkit_nn::layers::conv2d::{Conv2dSpec, PaddingSpec};
use dlkit_nn::layers::dense::DenseSpec;
use dlkit_nn::layers::dropout::DropoutSpec;
use dlkit_nn::layers::global_avg_pool::GlobalAvgPoolSpec;
use dlkit_nn::layers::inception::InceptionSpec;
use dlkit_nn::layers::pool::{Pool2d, Pool2dSpec};
use dlkit_nn::layers::residual::ResidualSpec;
use dlkit_nn::optim::Adam;
use dlkit_nn::{
    Activation, BuildContext, Conv2d, Dense, GlobalAvgPool, Inception, Init, LayerSpec, Loss,
    Module, Optimizer, ParamKind, Residual, Sequential,
};
use fixture_support::{core_fixtures, parse_list, parse_pair, run_fixture_from, Built, Case};

// ---- helpers --------------------------------------------------------------------------------

fn build(specs: &[LayerSpec], input: &[usize], dtype: DType) -> Sequential {
    let mut ctx = BuildContext::new(dtype, 1, Init::He);
    Sequential::build(specs, &mut ctx, input)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

fn build_err(specs: &[LayerSpec], input: &[usize]) -> String {
    let mut ctx = BuildContext::new(DType::F32, 1, Init::He);
    match Sequential::build(specs, &mut ctx, input) {
        Ok((_, out)) => panic!("built, with output {out:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "`{p}` missing from: {msg}");
    }
}

fn conv2d(spec: Conv2dSpec) -> LayerSpec {
    LayerSpec::Conv2d(spec)
}

fn same(filters: usize, kernel: usize) -> Conv2dSpec {
    Conv2dSpec::new(filters, kernel).with_padding(PaddingSpec::Same)
}

fn conv(w: &Tensor, b: Option<&Tensor>, stride: usize, padding: PaddingSpec) -> Box<dyn Module> {
    Box::new(Conv2d::from_tensors(w.clone(), b.cloned(), [stride, stride], padding).unwrap())
}

fn bn(gamma: &Tensor, beta: &Tensor) -> Box<dyn Module> {
    Box::new(
        BatchNorm::from_tensors(gamma.clone(), beta.clone(), BatchNormSpec::default()).unwrap(),
    )
}

fn seq(layers: Vec<Box<dyn Module>>) -> Sequential {
    Sequential::from_modules(layers)
}

// ---- gradient checks: conv2d ----------------------------------------------------------------

/// (name, input shape, filter shape, stride, padding).
type ConvCase = (
    &'static str,
    [usize; 4],
    [usize; 4],
    [usize; 2],
    PaddingSpec,
);

fn conv_cases() -> Vec<ConvCase> {
    use PaddingSpec::*;
    vec![
        (
            "3x3 valid stride 1",
            [2, 5, 5, 3],
            [3, 3, 3, 4],
            [1, 1],
            Valid,
        ),
        (
            "3x3 same stride 1",
            [2, 5, 4, 2],
            [3, 3, 2, 3],
            [1, 1],
            Same,
        ),
        (
            "3x3 same stride 2",
            [2, 5, 5, 3],
            [3, 3, 3, 2],
            [2, 2],
            Same,
        ),
        (
            "3x3 valid stride 2",
            [2, 6, 5, 2],
            [3, 3, 2, 3],
            [2, 2],
            Valid,
        ),
        (
            "1x1 valid stride 2",
            [2, 5, 5, 4],
            [1, 1, 4, 3],
            [2, 2],
            Valid,
        ),
        (
            "5x5 same stride 1",
            [1, 4, 5, 2],
            [5, 5, 2, 2],
            [1, 1],
            Same,
        ),
        (
            "2x3 explicit stride 2x1",
            [1, 5, 6, 2],
            [2, 3, 2, 3],
            [2, 1],
            Explicit {
                top: 1,
                bottom: 0,
                left: 2,
                right: 1,
            },
        ),
    ]
}

#[test]
fn gradcheck_conv2d_with_bias() {
    for (i, (name, xs, ws, stride, padding)) in conv_cases().into_iter().enumerate() {
        let seed = 100 + 10 * i as u64;
        let inputs = [
            randn(&xs, seed),
            randn(&ws, seed + 1),
            randn(&[ws[3]], seed + 2),
        ];
        check_op(&format!("conv2d {name}"), &inputs, seed + 3, |t| {
            Conv2d::from_tensors(t[1].clone(), Some(t[2].clone()), stride, padding)
                .unwrap()
                .forward(&t[0])
                .unwrap()
        });
    }
}

#[test]
fn gradcheck_conv2d_without_bias() {
    for (i, (name, xs, ws, stride, padding)) in conv_cases().into_iter().enumerate() {
        let seed = 200 + 10 * i as u64;
        let inputs = [randn(&xs, seed), randn(&ws, seed + 1)];
        check_op(&format!("conv2d {name} no bias"), &inputs, seed + 3, |t| {
            Conv2d::from_tensors(t[1].clone(), None, stride, padding)
                .unwrap()
                .forward(&t[0])
                .unwrap()
        });
    }
}

// ---- gradient checks: pooling ---------------------------------------------------------------

fn pool_cases() -> Vec<(&'static str, Pool2dSpec)> {
    vec![
        ("2x2 stride 2", Pool2dSpec::new(2)),
        (
            "3x3 stride 1 same (overlapping)",
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        ),
        (
            "3x3 stride 2 same",
            Pool2dSpec::new(3)
                .with_stride(2)
                .with_padding(PaddingSpec::Same),
        ),
        (
            "2x3 stride 1x2 padded 1",
            Pool2dSpec {
                window: [2, 3],
                stride: Some([1, 2]),
                padding: PaddingSpec::uniform(1),
            },
        ),
    ]
}

#[test]
fn gradcheck_max_pool2d() {
    // Distinct values: no step of epsilon changes a window's maximum.
    for (i, (name, spec)) in pool_cases().into_iter().enumerate() {
        let x = distinct(&[2, 5, 5, 3], 300 + i as u64);
        check_op(&format!("max_pool2d {name}"), &[x], 310 + i as u64, |t| {
            Pool2d::max(spec.clone()).forward(&t[0]).unwrap()
        });
    }
}

#[test]
fn gradcheck_avg_pool2d() {
    for (i, (name, spec)) in pool_cases().into_iter().enumerate() {
        let x = randn(&[2, 5, 5, 3], 320 + i as u64);
        check_op(&format!("avg_pool2d {name}"), &[x], 330 + i as u64, |t| {
            Pool2d::avg(spec.clone()).forward(&t[0]).unwrap()
        });
    }
}

#[test]
fn gradcheck_global_avg_pool() {
    check_op("global_avg_pool", &[randn(&[2, 3, 4, 5], 340)], 341, |t| {
        GlobalAvgPool.forward(&t[0]).unwrap()
    });
}

// ---- gradient checks: residual and inception ------------------------------------------------

#[test]
fn gradcheck_residual_identity() {
    // relu(conv3x3(relu(conv3x3(x))) + x), every conv `same` with a bias.
    let inputs = [
        randn(&[2, 4, 4, 3], 400),
        randn(&[3, 3, 3, 3], 401).mul_scalar(0.5),
        randn(&[3], 402),
        randn(&[3, 3, 3, 3], 403).mul_scalar(0.5),
        randn(&[3], 404),
    ];
    check_op("residual identity", &inputs, 405, |t| {
        let main = seq(vec![
            conv(&t[1], Some(&t[2]), 1, PaddingSpec::Same),
            Box::new(Activation::Relu),
            conv(&t[3], Some(&t[4]), 1, PaddingSpec::Same),
        ]);
        Residual::new(main, Sequential::default(), Some(Activation::Relu))
            .forward(&t[0])
            .unwrap()
    });
}

#[test]
fn gradcheck_residual_projection_with_batch_norm_training() {
    // The projection block: main = conv3x3/2 → BN → relu → conv3x3 → BN, shortcut =
    // conv1x1/2 → BN, relu after the addition; batch norm in training mode.
    let (c_in, c) = (2, 4);
    let inputs = [
        randn(&[3, 4, 4, c_in], 410).mul_scalar(2.0).add_scalar(0.3),
        randn(&[3, 3, c_in, c], 411),
        uniform(&[c], 0.5, 1.5, 412),
        randn(&[c], 413),
        randn(&[3, 3, c, c], 414),
        uniform(&[c], 0.5, 1.5, 415),
        randn(&[c], 416),
        randn(&[1, 1, c_in, c], 417),
        uniform(&[c], 0.5, 1.5, 418),
        randn(&[c], 419),
    ];
    check_op(
        "residual projection + batch norm (training)",
        &inputs,
        420,
        |t| {
            let main = seq(vec![
                conv(&t[1], None, 2, PaddingSpec::Same),
                bn(&t[2], &t[3]),
                Box::new(Activation::Relu),
                conv(&t[4], None, 1, PaddingSpec::Same),
                bn(&t[5], &t[6]),
            ]);
            let shortcut = seq(vec![
                conv(&t[7], None, 2, PaddingSpec::Valid),
                bn(&t[8], &t[9]),
            ]);
            Residual::new(main, shortcut, Some(Activation::Relu))
                .forward(&t[0])
                .unwrap()
        },
    );
}

#[test]
fn gradcheck_residual_dense_without_activation() {
    // A residual block is not only for images: dense → tanh → dense plus a dense shortcut.
    let inputs = [
        randn(&[4, 3], 430),
        randn(&[5, 3], 431),
        randn(&[2, 5], 432),
        randn(&[2, 3], 433),
        randn(&[2], 434),
    ];
    check_op("residual dense, no activation", &inputs, 435, |t| {
        let main = seq(vec![
            Box::new(Dense::from_tensors(t[1].clone(), None)),
            Box::new(Activation::Tanh),
            Box::new(Dense::from_tensors(t[2].clone(), None)),
        ]);
        let shortcut = seq(vec![Box::new(Dense::from_tensors(
            t[3].clone(),
            Some(t[4].clone()),
        ))]);
        Residual::new(main, shortcut, None).forward(&t[0]).unwrap()
    });
}

#[test]
fn gradcheck_inception() {
    // The classic four branches with small channel counts: 1x1; 1x1 → 3x3; 1x1 → 5x5;
    // 3x3 max pool (stride 1, same) → 1x1. Distinct inputs keep the pool's maxima apart.
    let c = 3;
    let inputs = [
        distinct(&[2, 4, 4, c], 440),
        randn(&[1, 1, c, 2], 441),
        randn(&[2], 442),
        randn(&[1, 1, c, 2], 443),
        randn(&[3, 3, 2, 3], 444),
        randn(&[3], 445),
        randn(&[1, 1, c, 1], 446),
        randn(&[5, 5, 1, 2], 447),
        randn(&[1, 1, c, 2], 448),
        randn(&[2], 449),
    ];
    check_op("inception", &inputs, 450, |t| {
        let pool = Pool2d::max(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        );
        let branches = vec![
            seq(vec![
                conv(&t[1], Some(&t[2]), 1, PaddingSpec::Valid),
                Box::new(Activation::Relu),
            ]),
            seq(vec![
                conv(&t[3], None, 1, PaddingSpec::Valid),
                Box::new(Activation::Tanh),
                conv(&t[4], Some(&t[5]), 1, PaddingSpec::Same),
            ]),
            seq(vec![
                conv(&t[6], None, 1, PaddingSpec::Valid),
                conv(&t[7], None, 1, PaddingSpec::Same),
            ]),
            seq(vec![
                Box::new(pool),
                conv(&t[8], Some(&t[9]), 1, PaddingSpec::Valid),
            ]),
        ];
        let out = Inception::new(branches).forward(&t[0]).unwrap();
        assert_eq!(out.shape(), [2, 4, 4, 2 + 3 + 2 + 2]);
        out
    });
}

#[test]
fn gradcheck_built_layers_through_their_inputs() {
    // Each layer as built from its description (He weights), checked through the input.
    let cases: Vec<(&str, Vec<LayerSpec>, Vec<usize>)> = vec![
        (
            "conv2d same stride 2",
            vec![conv2d(same(3, 3).with_stride(2))],
            vec![5, 5, 2],
        ),
        (
            "max_pool2d",
            vec![LayerSpec::MaxPool2d(Pool2dSpec::new(2))],
            vec![4, 5, 2],
        ),
        (
            "avg_pool2d",
            vec![LayerSpec::AvgPool2d(
                Pool2dSpec::new(3)
                    .with_stride(2)
                    .with_padding(PaddingSpec::Same),
            )],
            vec![5, 5, 2],
        ),
        (
            "global_avg_pool",
            vec![LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {})],
            vec![3, 3, 2],
        ),
        (
            "residual projection_block",
            vec![Residual::projection_block(3, 2)],
            vec![4, 4, 2],
        ),
        (
            "residual bottleneck_identity_block",
            vec![Residual::bottleneck_identity_block(3, [2, 2, 3])],
            vec![3, 3, 3],
        ),
        (
            "inception classic_block",
            vec![Inception::classic_block(2, 1, 2, 1, 2, 1)],
            vec![4, 4, 2],
        ),
    ];
    for (i, (name, specs, shape)) in cases.into_iter().enumerate() {
        let model = build(&specs, &shape, DType::F64);
        let mut full = vec![3];
        full.extend(&shape);
        let x = distinct(&full, 460 + i as u64);
        check_op(&format!("built {name}"), &[x], 470 + i as u64, |t| {
            model.forward(&t[0]).unwrap()
        });
    }
}

// ---- conv2d against the NumPy fixture -------------------------------------------------------

fn padding_of(s: &str) -> PaddingSpec {
    match s {
        "valid" => PaddingSpec::Valid,
        "same" => PaddingSpec::Same,
        explicit => match parse_list::<usize>(explicit)[..] {
            [top, bottom, left, right] => PaddingSpec::Explicit {
                top,
                bottom,
                left,
                right,
            },
            _ => panic!("padding {explicit:?}"),
        },
    }
}

/// Builds a conv2d layer from its description for the case's shapes, copies the fixture's
/// filters and bias into it, and runs it; the leaves are the layer's own parameters.
fn conv2d_fixture_case(c: &Case) -> Built {
    let x = c.input("x");
    let (w, b) = (c.tensor("w"), c.tensor("b"));
    let (sh, sw) = parse_pair(&c.param("stride"));
    let padding = padding_of(&c.param("padding"));
    let ws = w.shape().to_vec();
    let spec = LayerSpec::Conv2d(Conv2dSpec {
        filters: ws[3],
        kernel: [ws[0], ws[1]],
        stride: [sh, sw],
        padding,
        bias: true,
        init: None,
        trainable: true,
    });
    let input = &x.shape()[1..];
    // Our own `same` rule gives the padding the fixture says it used.
    let resolved = padding.resolve((input[0], input[1]), [ws[0], ws[1]], [sh, sw]);
    let expected: Vec<usize> = parse_list(&c.param("resolved_padding"));
    assert_eq!(
        [resolved.0, resolved.1, resolved.2, resolved.3],
        expected[..],
        "{}: padding {padding:?}",
        c.name
    );
    let mut ctx = BuildContext::new(c.dtype, 0, Init::He);
    let (layer, out_shape) = spec.build(&mut ctx, input).unwrap();
    let params = layer.parameters();
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["weight", "bias"]);
    params[0].tensor.assign(&w);
    params[1].tensor.assign(&b);
    let out = layer.forward(&x).unwrap();
    assert_eq!(&out.shape()[1..], out_shape.as_slice(), "{}", c.name);
    Built::new(
        out,
        &[
            ("x", &x),
            ("w", &params[0].tensor),
            ("b", &params[1].tensor),
        ],
    )
}

#[test]
fn conv2d_matches_numpy_f64() {
    run_fixture_from(&core_fixtures(), "conv2d", DType::F64, conv2d_fixture_case);
}

#[test]
fn conv2d_matches_numpy_f32() {
    run_fixture_from(&core_fixtures(), "conv2d", DType::F32, conv2d_fixture_case);
}

// ---- built layers: shapes, parameters, modes ------------------------------------------------

#[test]
fn conv2d_builds_hwio_filters_with_the_right_scale() {
    let spec = conv2d(same(64, 3).with_stride(2));
    let model = build(std::slice::from_ref(&spec), &[9, 7, 16], DType::F64);
    let params = model.parameters();
    let got: Vec<(&str, ParamKind, &[usize])> = params
        .iter()
        .map(|p| (p.name.as_str(), p.kind, p.tensor.shape()))
        .collect();
    assert_eq!(
        got,
        [
            ("0.weight", ParamKind::Weight, &[3, 3, 16, 64][..]),
            ("0.bias", ParamKind::Bias, &[64][..])
        ]
    );
    assert!(params[1].tensor.to_vec_f64().iter().all(|&v| v == 0.0));
    // He: std sqrt(2 / fan_in) with fan_in = kh·kw·c_in = 144 (9216 draws: ±2 %).
    let w = params[0].tensor.to_vec_f64();
    let std = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
    let he = (2.0f64 / 144.0).sqrt();
    assert!((std / he - 1.0).abs() < 0.03, "std {std} vs {he}");
    // Glorot uniform: limit sqrt(6 / (fan_in + fan_out)), fan_out = kh·kw·filters = 576.
    let glorot = conv2d(same(64, 3).with_init(Init::GlorotUniform));
    let model = build(&[glorot], &[4, 4, 16], DType::F64);
    let limit = (6.0f64 / (144.0 + 576.0)).sqrt();
    let w = model.parameters()[0].tensor.to_vec_f64();
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        max <= limit && max > 0.99 * limit,
        "max {max} vs limit {limit}"
    );
    // Output sizes: same → ceil(in / stride); valid → (in - k) / stride + 1.
    let out = |spec: Conv2dSpec, input: &[usize]| {
        let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
        LayerSpec::Conv2d(spec).build(&mut ctx, input).unwrap().1
    };
    assert_eq!(out(same(4, 3).with_stride(2), &[9, 7, 3]), [5, 4, 4]);
    assert_eq!(
        out(Conv2dSpec::new(4, 3).with_stride(2), &[9, 7, 3]),
        [4, 3, 4]
    );
    assert_eq!(
        out(
            Conv2dSpec::new(2, 3).with_padding(PaddingSpec::uniform(1)),
            &[5, 5, 1]
        ),
        [5, 5, 2]
    );
    // Without a bias, the built layer has the filters only.
    let model = build(
        &[conv2d(Conv2dSpec::new(2, 1).with_bias(false))],
        &[2, 2, 3],
        DType::F32,
    );
    assert_eq!(model.parameters().len(), 1);
    // Built layers describe themselves as they were described.
    for spec in [
        conv2d(same(4, 3).with_stride(2).with_init(Init::Xavier)),
        conv2d(Conv2dSpec {
            kernel: [2, 3],
            stride: [2, 1],
            ..Conv2dSpec::new(3, 1).with_padding(PaddingSpec::uniform(1))
        }),
        LayerSpec::MaxPool2d(Pool2dSpec::new(2)),
        LayerSpec::AvgPool2d(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        ),
        LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
        Residual::projection_block(4, 2),
        Inception::classic_block(1, 1, 2, 1, 2, 1),
    ] {
        let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
        let (built, _) = spec.build(&mut ctx, &[6, 6, 3]).unwrap();
        assert_eq!(built.spec(), Some(spec));
    }
}

#[test]
fn pools_compute_their_windows() {
    let x = Tensor::from_vec((0..16).map(|v| v as f64).collect(), &[1, 4, 4, 1]);
    let max = Pool2d::max(Pool2dSpec::new(2)).forward(&x).unwrap();
    assert_eq!(max.shape(), [1, 2, 2, 1]);
    assert_eq!(max.to_vec::<f64>(), [5.0, 7.0, 13.0, 15.0]);
    let avg = Pool2d::avg(Pool2dSpec::new(2)).forward(&x).unwrap();
    assert_eq!(avg.to_vec::<f64>(), [2.5, 4.5, 10.5, 12.5]);
    // Same padding, stride 1: the corner window holds 4 real values, averaged over those.
    let avg = Pool2d::avg(
        Pool2dSpec::new(3)
            .with_stride(1)
            .with_padding(PaddingSpec::Same),
    )
    .forward(&x)
    .unwrap();
    assert_eq!(avg.shape(), [1, 4, 4, 1]);
    assert_eq!(avg.to_vec::<f64>()[0], (0.0 + 1.0 + 4.0 + 5.0) / 4.0);
    let g = GlobalAvgPool.forward(&x).unwrap();
    assert_eq!(
        (g.shape(), g.to_vec::<f64>()),
        (&[1usize, 1][..], vec![7.5])
    );
    // Shapes at build time, stride defaulting to the window.
    let out = |spec: LayerSpec, input: &[usize]| {
        let mut ctx = BuildContext::new(DType::F32, 0, Init::He);
        spec.build(&mut ctx, input).unwrap().1
    };
    assert_eq!(
        out(LayerSpec::MaxPool2d(Pool2dSpec::new(2)), &[7, 6, 3]),
        [3, 3, 3]
    );
    assert_eq!(
        out(
            LayerSpec::AvgPool2d(
                Pool2dSpec::new(3)
                    .with_stride(2)
                    .with_padding(PaddingSpec::Same)
            ),
            &[7, 6, 3]
        ),
        [4, 3, 3]
    );
    assert_eq!(
        out(LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}), &[7, 6, 3]),
        [3]
    );
}

#[test]
fn residual_names_propagates_and_adds() {
    let block = Residual::projection_block(4, 2);
    let (mut model, out) = {
        let mut ctx = BuildContext::new(DType::F64, 3, Init::He);
        Sequential::build(&[block], &mut ctx, &[6, 6, 2]).unwrap()
    };
    assert_eq!(out, [3, 3, 4]);
    let names: Vec<String> = model.parameters().into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "0.main.0.weight",
            "0.main.1.gamma",
            "0.main.1.beta",
            "0.main.3.weight",
            "0.main.4.gamma",
            "0.main.4.beta",
            "0.shortcut.0.weight",
            "0.shortcut.1.gamma",
            "0.shortcut.1.beta",
        ]
    );
    let buffers: Vec<String> = model.buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        buffers,
        [
            "0.main.1.running_mean",
            "0.main.1.running_var",
            "0.main.4.running_mean",
            "0.main.4.running_var",
            "0.shortcut.1.running_mean",
            "0.shortcut.1.running_var",
        ]
    );
    // Training updates every running statistic; evaluation leaves them alone (set_training
    // reaches both branches).
    let x = randn(&[4, 6, 6, 2], 500);
    let stats = |m: &Sequential| -> Vec<Vec<f64>> {
        m.buffers().iter().map(|(_, t)| t.to_vec_f64()).collect()
    };
    let fresh = stats(&model);
    model.forward(&x).unwrap();
    let trained = stats(&model);
    for (a, b) in fresh.iter().zip(&trained) {
        assert_ne!(a, b, "a training forward moves every running statistic");
    }
    model.set_training(false);
    let y1 = model.forward(&x).unwrap().to_vec_f64();
    assert_eq!(stats(&model), trained);
    assert_eq!(model.forward(&x).unwrap().to_vec_f64(), y1);
    // Freezing reaches every branch.
    model.freeze();
    assert!(model.parameters().iter().all(|p| !p.trainable()));
    model.unfreeze();
    // The identity shortcut adds the input itself: with a main branch of zero filters and no
    // activation, the block is the identity.
    let spec = LayerSpec::Residual(
        ResidualSpec::new(vec![conv2d(same(2, 3).with_init(Init::Zeros))]).with_activation(None),
    );
    let model = build(&[spec], &[3, 3, 2], DType::F64);
    let x = randn(&[2, 3, 3, 2], 501);
    assert_eq!(model.forward(&x).unwrap().to_vec_f64(), x.to_vec_f64());
    // With the default ReLU after the addition, negatives are cut.
    let spec = LayerSpec::Residual(ResidualSpec::new(vec![conv2d(
        same(2, 3).with_init(Init::Zeros),
    )]));
    let model = build(&[spec], &[3, 3, 2], DType::F64);
    let y = model.forward(&x).unwrap().to_vec_f64();
    let relu: Vec<f64> = x.to_vec_f64().iter().map(|v| v.max(0.0)).collect();
    assert_eq!(y, relu);
}

#[test]
fn inception_names_and_concatenates_in_branch_order() {
    let spec = Inception::classic_block(2, 3, 4, 1, 2, 5);
    let model = build(&[spec], &[5, 5, 3], DType::F64);
    let x = randn(&[2, 5, 5, 3], 510);
    let y = model.forward(&x).unwrap();
    assert_eq!(y.shape(), [2, 5, 5, 2 + 4 + 2 + 5]);
    let shapes: Vec<(String, Vec<usize>)> = model
        .parameters()
        .into_iter()
        .filter(|p| p.kind == ParamKind::Weight)
        .map(|p| (p.name, p.tensor.shape().to_vec()))
        .collect();
    let expected = [
        ("0.branches.0.0.weight", vec![1, 1, 3, 2]),
        ("0.branches.1.0.weight", vec![1, 1, 3, 3]),
        ("0.branches.1.2.weight", vec![3, 3, 3, 4]),
        ("0.branches.2.0.weight", vec![1, 1, 3, 1]),
        ("0.branches.2.2.weight", vec![5, 5, 1, 2]),
        ("0.branches.3.1.weight", vec![1, 1, 3, 5]),
    ];
    assert_eq!(
        shapes,
        expected.map(|(n, s)| (n.to_string(), s)).to_vec(),
        "parameter names and shapes"
    );
    // Branch 0's channels come first: they equal the first branch run alone.
    let Some(LayerSpec::Inception(InceptionSpec { branches, .. })) = model.layers()[0].spec()
    else {
        unreachable!()
    };
    let mut ctx = BuildContext::new(DType::F64, 1, Init::He);
    let (first, _) = Sequential::build(&branches[0], &mut ctx, &[5, 5, 3]).unwrap();
    let w = model.parameters()[0].tensor.clone();
    first.parameters()[0].tensor.assign(&w);
    let alone = first.forward(&x).unwrap().to_vec_f64();
    let head = y.narrow(-1, 0, 2).contiguous().to_vec_f64();
    assert_eq!(head, alone);
    // An empty branch passes the input through.
    let spec = LayerSpec::Inception(InceptionSpec::new(vec![
        vec![],
        vec![LayerSpec::MaxPool2d(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        )],
    ]));
    let model = build(&[spec], &[5, 5, 3], DType::F64);
    let y = model.forward(&x).unwrap();
    assert_eq!(y.shape(), [2, 5, 5, 6]);
    assert_eq!(y.narrow(-1, 0, 3).contiguous().to_vec_f64(), x.to_vec_f64());
}

#[test]
fn blocks_pass_reseed_to_their_branches() {
    let drop = || LayerSpec::Dropout(DropoutSpec::new(0.5));
    let specs = [
        LayerSpec::Residual(
            ResidualSpec::new(vec![drop()])
                .with_shortcut(vec![drop()])
                .with_activation(None),
        ),
        LayerSpec::Inception(InceptionSpec::new(vec![vec![drop()], vec![drop()]])),
    ];
    let model = build(&specs, &[4, 4, 2], DType::F64);
    let x = Tensor::ones(&[3, 4, 4, 2], DType::F64);
    let run = |seed: u64| {
        model.reseed(seed);
        model.forward(&x).unwrap().to_vec_f64()
    };
    let first = run(5);
    assert_eq!(run(5), first, "the same seed gives the same masks");
    assert_ne!(run(6), first);
    // Each branch draws its own stream: the two halves of the concatenation differ.
    let y = Tensor::from_vec(first, &[3, 4, 4, 4]);
    assert_ne!(
        y.narrow(-1, 0, 2).contiguous().to_vec_f64(),
        y.narrow(-1, 2, 2).contiguous().to_vec_f64()
    );
}

// ---- build-time errors ----------------------------------------------------------------------

#[test]
fn conv_and_pools_need_images_and_say_so() {
    let e = build_err(
        &[LayerSpec::Dense(DenseSpec::new(20)), conv2d(same(4, 3))],
        &[5],
    );
    assert_has(
        &e,
        &[
            "layer 1 (conv2d)",
            "layer 0 (dense) with output shape [20]",
            "conv2d needs an image input [height, width, channels] but gets [20]",
        ],
    );
    let e = build_err(
        &[
            LayerSpec::Flatten,
            LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
        ],
        &[4, 4, 2],
    );
    assert_has(
        &e,
        &[
            "layer 1 (global_avg_pool)",
            "layer 0 (flatten) with output shape [32]",
            "global_avg_pool needs an image input",
        ],
    );
    let e = build_err(&[LayerSpec::MaxPool2d(Pool2dSpec::new(2))], &[4, 4]);
    assert_has(
        &e,
        &[
            "layer 0 (max_pool2d)",
            "the input of shape [4, 4]",
            "[height, width, channels]",
        ],
    );
    // Windows that do not fit, and settings out of range.
    let e = build_err(
        &[conv2d(same(4, 3)), conv2d(Conv2dSpec::new(4, 5))],
        &[3, 4, 1],
    );
    assert_has(
        &e,
        &[
            "layer 1 (conv2d)",
            "after layer 0 (conv2d) with output shape [3, 4, 4]",
            "5x5 kernel does not fit the 3x4 input",
        ],
    );
    let e = build_err(&[LayerSpec::AvgPool2d(Pool2dSpec::new(4))], &[3, 8, 1]);
    assert_has(&e, &["avg_pool2d", "4x4 window does not fit the 3x8 input"]);
    let e = build_err(
        &[LayerSpec::MaxPool2d(
            Pool2dSpec::new(2).with_padding(PaddingSpec::uniform(2)),
        )],
        &[4, 4, 1],
    );
    assert_has(&e, &["max_pool2d: padding", "smaller than the 2x2 window"]);
    let e = build_err(&[conv2d(Conv2dSpec::new(0, 3))], &[4, 4, 1]);
    assert_has(&e, &["conv2d needs filters >= 1"]);
    let e = build_err(&[conv2d(Conv2dSpec::new(2, 3).with_stride(0))], &[4, 4, 1]);
    assert_has(&e, &["conv2d needs a stride of at least 1"]);
    let e = build_err(
        &[LayerSpec::MaxPool2d(Pool2dSpec {
            window: [2, 0],
            stride: None,
            padding: PaddingSpec::Valid,
        })],
        &[4, 4, 1],
    );
    assert_has(&e, &["max_pool2d needs a window of at least 1"]);
}

#[test]
fn residual_branch_mismatch_names_both_outputs() {
    // The brief's case: a stride-2 main branch that doubles the channels, identity shortcut.
    let main = vec![conv2d(same(32, 3).with_stride(2))];
    let e = build_err(
        &[
            conv2d(same(16, 3)),
            LayerSpec::Residual(ResidualSpec::new(main.clone())),
        ],
        &[32, 32, 3],
    );
    assert_has(
        &e,
        &[
            "layer 1 (residual)",
            "layer 0 (conv2d) with output shape [32, 32, 16]",
            "residual: the main branch outputs [16, 16, 32] but the identity shortcut outputs \
             its input [32, 32, 16]",
            "use a 1x1 conv2d with 32 filters and stride 2 as the shortcut",
        ],
    );
    // A shortcut that projects the channels but forgets the stride.
    let e = build_err(
        &[LayerSpec::Residual(
            ResidualSpec::new(main).with_shortcut(vec![conv2d(Conv2dSpec::new(32, 1))]),
        )],
        &[32, 32, 16],
    );
    assert_has(
        &e,
        &[
            "main branch outputs [16, 16, 32] but the shortcut outputs [32, 32, 32]",
            "stride 2",
        ],
    );
    // An identity block on an input with other channels.
    let e = build_err(&[Residual::identity_block(8)], &[6, 6, 3]);
    assert_has(
        &e,
        &[
            "main branch outputs [6, 6, 8]",
            "[6, 6, 3]",
            "8 filters and stride 1",
        ],
    );
    // Errors inside a branch name the layer there.
    let bad = LayerSpec::Residual(ResidualSpec::new(vec![
        conv2d(same(4, 3)),
        LayerSpec::Dense(DenseSpec::new(3)),
    ]));
    let e = build_err(&[bad], &[4, 4, 4]);
    assert_has(
        &e,
        &[
            "layer 0 (residual)",
            "residual main branch: layer 1 (dense) does not fit after layer 0 (conv2d) with \
             output shape [4, 4, 4]",
            "add a flatten layer",
        ],
    );
    let bad = LayerSpec::Residual(
        ResidualSpec::new(vec![conv2d(same(4, 3))])
            .with_shortcut(vec![LayerSpec::Dense(DenseSpec::new(3))]),
    );
    assert_has(
        &build_err(&[bad], &[4, 4, 4]),
        &["residual shortcut: layer 0 (dense)"],
    );
    let e = build_err(
        &[LayerSpec::Residual(ResidualSpec::new(vec![]))],
        &[4, 4, 4],
    );
    assert_has(
        &e,
        &["residual needs at least one layer in its main branch"],
    );
    // Flat inputs get a dense hint.
    let e = build_err(
        &[LayerSpec::Residual(ResidualSpec::new(vec![
            LayerSpec::Dense(DenseSpec::new(5)),
        ]))],
        &[3],
    );
    assert_has(
        &e,
        &[
            "outputs [5]",
            "[3]",
            "a dense layer with 5 units as the shortcut",
        ],
    );
}

#[test]
fn inception_spatial_mismatch_names_the_branch() {
    let spec = LayerSpec::Inception(InceptionSpec::new(vec![
        vec![conv2d(Conv2dSpec::new(2, 1))],
        vec![conv2d(same(3, 3))],
        vec![conv2d(Conv2dSpec::new(4, 3))],
    ]));
    let e = build_err(&[LayerSpec::Relu, spec], &[8, 8, 3]);
    assert_has(
        &e,
        &[
            "layer 1 (inception) does not fit after layer 0 (relu)",
            "inception: branch 2 outputs [6, 6, 4] but branch 0 outputs [8, 8, 2]",
            "same height and width",
        ],
    );
    let spec = LayerSpec::Inception(InceptionSpec::new(vec![
        vec![conv2d(Conv2dSpec::new(2, 1))],
        vec![LayerSpec::Flatten],
    ]));
    assert_has(
        &build_err(&[spec], &[4, 4, 1]),
        &[
            "inception: branch 1 outputs [16]",
            "[height, width, channels]",
        ],
    );
    let spec = LayerSpec::Inception(InceptionSpec::new(vec![
        vec![],
        vec![conv2d(Conv2dSpec::new(2, 9))],
    ]));
    assert_has(
        &build_err(&[spec], &[4, 4, 1]),
        &[
            "inception branch 1: layer 0 (conv2d)",
            "9x9 kernel does not fit",
        ],
    );
    let spec = LayerSpec::Inception(InceptionSpec::new(vec![]));
    assert_has(&build_err(&[spec], &[4, 4, 1]), &["at least one branch"]);
}

// ---- whole models ---------------------------------------------------------------------------

/// Builds `specs`, checks the output shape, then runs a few Adam steps on one fixed batch:
/// every parameter gets a finite gradient, some non-zero, and the cost goes down.
fn train_a_little(specs: &[LayerSpec], input: &[usize], classes: usize) -> Sequential {
    let mut ctx = BuildContext::new(DType::F32, 7, Init::He);
    let (mut model, out) = Sequential::build(specs, &mut ctx, input).unwrap();
    assert_eq!(out, [classes]);
    let m = 6;
    let mut shape = vec![m];
    shape.extend(input);
    let x = Tensor::rand_normal(&shape, 0.0, 1.0, DType::F32, &mut Rng::new(8));
    let labels: Vec<usize> = (0..m).map(|i| i % classes).collect();
    let mut opt = Adam::new(model.parameters(), 0.01);
    let mut costs = Vec::new();
    for step in 0..8 {
        opt.zero_grad();
        let cost = Loss::SoftmaxCrossEntropy
            .compute(&model.forward_logits(&x).unwrap(), &labels)
            .unwrap();
        cost.backward();
        if step == 0 {
            for p in model.parameters() {
                let g = p
                    .tensor
                    .grad()
                    .unwrap_or_else(|| panic!("{}: no gradient", p.name));
                let g = g.to_vec_f64();
                assert!(g.iter().all(|v| v.is_finite()), "{}", p.name);
                assert!(g.iter().any(|&v| v != 0.0), "{}: zero gradient", p.name);
            }
        }
        costs.push(cost.item());
        opt.step();
    }
    assert!(
        costs.last().unwrap() < &(0.9 * costs[0]),
        "the cost should fall on a fixed batch: {costs:?}"
    );
    model.set_training(false);
    let p = no_grad(|| model.forward(&x)).unwrap();
    assert_eq!(p.shape(), [m, classes]);
    model
}

#[test]
fn a_small_resnet_builds_and_trains() {
    let specs = [
        conv2d(same(8, 3).with_bias(false)),
        LayerSpec::BatchNorm(BatchNormSpec::default()),
        LayerSpec::Relu,
        Residual::basic_block(8, 1),
        Residual::basic_block(12, 2),
        Residual::bottleneck_projection_block(3, [4, 4, 16], 2),
        Residual::bottleneck_identity_block(3, [4, 4, 16]),
        LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
        LayerSpec::Dense(DenseSpec::new(3)),
        LayerSpec::Softmax,
    ];
    let model = train_a_little(&specs, &[8, 8, 3], 3);
    assert_eq!(model.buffers().len(), 2 * (1 + 2 + 3 + 4 + 3));
}

#[test]
fn a_small_inception_net_builds_and_trains() {
    let specs = [
        conv2d(same(6, 3)),
        LayerSpec::Relu,
        Inception::classic_block(4, 3, 4, 2, 2, 2),
        LayerSpec::MaxPool2d(
            Pool2dSpec::new(3)
                .with_stride(2)
                .with_padding(PaddingSpec::Same),
        ),
        Inception::classic_block(4, 4, 6, 2, 3, 3),
        LayerSpec::AvgPool2d(Pool2dSpec::new(2)),
        LayerSpec::Flatten,
        LayerSpec::Dense(DenseSpec::new(2)),
        LayerSpec::Softmax,
    ];
    train_a_little(&specs, &[8, 8, 3], 2);
}

// ---- descriptions ---------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct Config {
    layers: Vec<LayerSpec>,
}

fn toml_layers(text: &str) -> Vec<LayerSpec> {
    toml::from_str::<Config>(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .layers
}

fn toml_err(text: &str) -> String {
    match toml::from_str::<Config>(text) {
        Ok(c) => panic!("parsed: {:?}", c.layers),
        Err(e) => e.to_string(),
    }
}

fn json_err(text: &str) -> String {
    match serde_json::from_str::<LayerSpec>(text) {
        Ok(s) => panic!("parsed: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn new_layers_read_from_toml_with_defaults() {
    let layers = toml_layers(
        r#"
        layers = [
          { type = "conv2d", filters = 8, kernel = 3 },
          { type = "conv2d", filters = 4, kernel = [3, 5], stride = 2, padding = "same", bias = false, init = { type = "glorot_uniform" } },
          { type = "conv2d", filters = 2, kernel = 1, stride = [2, 1], padding = { top = 1, bottom = 2, left = 0, right = 1 } },
          { type = "conv2d", filters = 2, kernel = 3, padding = 1 },
          { type = "max_pool2d", window = 2 },
          { type = "avg_pool2d", window = [3, 3], stride = [1, 1], padding = "same" },
          { type = "global_avg_pool" },
        ]
        "#,
    );
    let expected = [
        conv2d(Conv2dSpec::new(8, 3)),
        conv2d(Conv2dSpec {
            filters: 4,
            kernel: [3, 5],
            stride: [2, 2],
            padding: PaddingSpec::Same,
            bias: false,
            init: Some(Init::GlorotUniform),
            trainable: true,
        }),
        conv2d(Conv2dSpec {
            stride: [2, 1],
            padding: PaddingSpec::Explicit {
                top: 1,
                bottom: 2,
                left: 0,
                right: 1,
            },
            ..Conv2dSpec::new(2, 1)
        }),
        conv2d(Conv2dSpec::new(2, 3).with_padding(PaddingSpec::uniform(1))),
        LayerSpec::MaxPool2d(Pool2dSpec::new(2)),
        LayerSpec::AvgPool2d(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        ),
        LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
    ];
    assert_eq!(layers, expected);
    let d = Conv2dSpec::new(1, 1);
    assert_eq!(
        (d.stride, d.padding, d.bias, d.init),
        ([1, 1], PaddingSpec::Valid, true, None)
    );
    assert_eq!(Padding::from(PaddingSpec::Same), Padding::Same);
    assert_eq!(
        PaddingSpec::from(Padding::uniform(2)),
        PaddingSpec::uniform(2)
    );
}

#[test]
fn blocks_read_from_toml() {
    let layers = toml_layers(
        r#"
        [[layers]]
        type = "residual"
        main = [
          { type = "conv2d", filters = 16, kernel = 3, stride = 2, padding = "same", bias = false },
          { type = "batch_norm" },
          { type = "relu" },
          { type = "conv2d", filters = 16, kernel = 3, padding = "same", bias = false },
          { type = "batch_norm" },
        ]
        shortcut = [
          { type = "conv2d", filters = 16, kernel = 1, stride = 2, bias = false },
          { type = "batch_norm" },
        ]

        [[layers]]
        type = "residual"
        main = [{ type = "conv2d", filters = 16, kernel = 3, padding = "same" }]
        activation = "none"

        [[layers]]
        type = "residual"
        main = [{ type = "conv2d", filters = 16, kernel = 3, padding = "same" }]
        activation = { type = "leaky_relu", slope = 0.2 }

        [[layers]]
        type = "residual"
        main = [{ type = "conv2d", filters = 16, kernel = 3, padding = "same" }]
        activation = "tanh"

        [[layers]]
        type = "inception"
        branches = [
          [{ type = "conv2d", filters = 2, kernel = 1, padding = "same" }, { type = "relu" }],
          [{ type = "conv2d", filters = 1, kernel = 1, padding = "same" }, { type = "relu" },
           { type = "conv2d", filters = 3, kernel = 3, padding = "same" }, { type = "relu" }],
          [{ type = "conv2d", filters = 1, kernel = 1, padding = "same" }, { type = "relu" },
           { type = "conv2d", filters = 2, kernel = 5, padding = "same" }, { type = "relu" }],
          [{ type = "max_pool2d", window = 3, stride = 1, padding = "same" },
           { type = "conv2d", filters = 2, kernel = 1, padding = "same" }, { type = "relu" }],
        ]
        "#,
    );
    let one = || vec![conv2d(same(16, 3))];
    let expected = [
        Residual::projection_block(16, 2),
        LayerSpec::Residual(ResidualSpec::new(one()).with_activation(None)),
        LayerSpec::Residual(
            ResidualSpec::new(one()).with_activation(Some(Activation::LeakyRelu { slope: 0.2 })),
        ),
        LayerSpec::Residual(ResidualSpec::new(one()).with_activation(Some(Activation::Tanh))),
        Inception::classic_block(2, 1, 3, 1, 2, 2),
    ];
    assert_eq!(layers, expected);
    // The residual default is ReLU, the shortcut the identity.
    let LayerSpec::Residual(r) =
        &toml_layers("[[layers]]\ntype = \"residual\"\nmain = [{ type = \"relu\" }]\n")[0]
    else {
        unreachable!()
    };
    assert_eq!(
        (r.shortcut.len(), r.activation),
        (0, Some(Activation::Relu))
    );
}

#[test]
fn new_specs_round_trip_through_json() {
    let specs = [
        conv2d(Conv2dSpec::new(8, 3)),
        conv2d(Conv2dSpec {
            kernel: [2, 3],
            stride: [2, 1],
            padding: PaddingSpec::Explicit {
                top: 0,
                bottom: 1,
                left: 2,
                right: 3,
            },
            bias: false,
            ..Conv2dSpec::new(4, 1).with_init(Init::Normal { scale: 0.01 })
        }),
        LayerSpec::MaxPool2d(Pool2dSpec::new(2)),
        LayerSpec::AvgPool2d(
            Pool2dSpec::new(3)
                .with_stride(1)
                .with_padding(PaddingSpec::Same),
        ),
        LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {}),
        Residual::projection_block(4, 2),
        Residual::bottleneck_identity_block(3, [2, 3, 4]),
        LayerSpec::Residual(ResidualSpec::new(vec![LayerSpec::Tanh]).with_activation(None)),
        LayerSpec::Residual(
            ResidualSpec::new(vec![LayerSpec::Tanh]).with_activation(Some(Activation::LeakyRelu {
                slope: 0.123_456_789,
            })),
        ),
        Inception::classic_block(1, 2, 3, 4, 5, 6),
    ];
    for spec in specs {
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(
            serde_json::from_str::<LayerSpec>(&json).unwrap(),
            spec,
            "{json}"
        );
    }
    // How they read.
    let json = serde_json::to_value(conv2d(same(4, 3))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "conv2d", "filters": 4, "kernel": [3, 3], "stride": [1, 1],
                           "padding": "same", "bias": true})
    );
    let json = serde_json::to_value(LayerSpec::Residual(
        ResidualSpec::new(vec![LayerSpec::Relu]).with_activation(None),
    ))
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "residual", "main": [{"type": "relu"}], "activation": "none"})
    );
    let json = serde_json::to_value(LayerSpec::GlobalAvgPool(GlobalAvgPoolSpec {})).unwrap();
    assert_eq!(json, serde_json::json!({"type": "global_avg_pool"}));
    // JSON null also means no activation.
    let r: LayerSpec =
        serde_json::from_str(r#"{"type": "residual", "main": [], "activation": null}"#).unwrap();
    assert_eq!(
        r,
        LayerSpec::Residual(ResidualSpec::new(vec![]).with_activation(None))
    );
}

#[test]
fn unknown_fields_and_bad_values_are_rejected() {
    // Unknown fields, in TOML and JSON, at every level.
    for (text, field) in [
        (
            r#"{ type = "conv2d", filters = 8, kernel = 3, dilation = 2 }"#,
            "dilation",
        ),
        (r#"{ type = "conv2d", filter = 8, kernel = 3 }"#, "filter"),
        (
            r#"{ type = "conv2d", filters = 8, kernel = 3, padding = { top = 1, bottom = 1, left = 1, rigth = 1 } }"#,
            "rigth",
        ),
        (
            r#"{ type = "max_pool2d", window = 2, strides = 2 }"#,
            "strides",
        ),
        (
            r#"{ type = "avg_pool2d", window = 2, pad = "same" }"#,
            "pad",
        ),
        (
            r#"{ type = "global_avg_pool", keepdims = true }"#,
            "keepdims",
        ),
        (
            r#"{ type = "residual", main = [], shortcuts = [] }"#,
            "shortcuts",
        ),
        (
            r#"{ type = "residual", main = [{ type = "conv2d", filters = 1, kernel = 1, bogus = 1 }] }"#,
            "bogus",
        ),
        (r#"{ type = "inception", branch = [] }"#, "branch"),
        (
            r#"{ type = "inception", branches = [[{ type = "max_pool2d", window = 3, size = 1 }]] }"#,
            "size",
        ),
    ] {
        let e = toml_err(&format!("layers = [{text}]"));
        assert_has(&e, &["unknown field", field]);
        let value: toml::Value = toml::from_str(&format!("x = {text}")).unwrap();
        let json = serde_json::to_string(&value["x"]).unwrap();
        assert_has(&json_err(&json), &["unknown field", field]);
    }
    // Values of the wrong form.
    for (text, parts) in [
        (
            r#"{ type = "conv2d", filters = 8, kernel = 3, padding = "full" }"#,
            &["string \"full\", expected padding \"valid\", \"same\""][..],
        ),
        (
            r#"{ type = "conv2d", filters = 8, kernel = 3, padding = { top = 1 } }"#,
            &["missing field `bottom`"][..],
        ),
        (
            r#"{ type = "conv2d", filters = 8, kernel = [3, 3, 3] }"#,
            &["invalid length 3", "[height, width]"][..],
        ),
        (
            r#"{ type = "conv2d", filters = 8, kernel = -1 }"#,
            &["-1", "a size such as 3"][..],
        ),
        (
            r#"{ type = "conv2d", filters = 8 }"#,
            &["missing field `kernel`"][..],
        ),
        (
            r#"{ type = "max_pool2d", stride = 2 }"#,
            &["missing field `window`"][..],
        ),
        (
            r#"{ type = "residual", main = [], activation = "dense" }"#,
            &["activation must be \"none\" or an activation", "dense"][..],
        ),
        (
            r#"{ type = "residual", main = [], activation = "swish" }"#,
            &["activation must be \"none\" or an activation", "`swish`"][..],
        ),
        (
            r#"{ type = "inception", branches = [{ type = "relu" }] }"#,
            &["sequence"][..],
        ),
    ] {
        assert_has(&toml_err(&format!("layers = [{text}]")), parts);
    }
}
