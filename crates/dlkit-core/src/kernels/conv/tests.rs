use super::*;
use crate::kernels::window::Padding;

/// Deterministic pseudo-random values in [-1, 1) (xorshift).
pub(crate) fn data(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    };
    (0..len).map(|_| next()).collect()
}

/// The course's relative difference `‖a − b‖ / (‖a‖ + ‖b‖)` (0 when both are zero).
pub(crate) fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let num = norm(&mut a.iter().zip(b).map(|(x, y)| x - y));
    let den = norm(&mut a.iter().copied()) + norm(&mut b.iter().copied());
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: got {a}, want {b}"
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn geom(
    n: usize,
    h: usize,
    w: usize,
    c_in: usize,
    c_out: usize,
    (kh, kw): (usize, usize),
    stride: (usize, usize),
    padding: Padding,
) -> Conv2dGeometry {
    Conv2dGeometry {
        n,
        h,
        w,
        c_in,
        kh,
        kw,
        c_out,
        params: WindowParams::new(stride, padding),
    }
}

fn cases() -> Vec<Conv2dGeometry> {
    let same = |h, w, k, s| Padding::Same.resolve((h, w), k, s);
    let asym = Padding::Explicit {
        top: 1,
        bottom: 2,
        left: 0,
        right: 3,
    };
    vec![
        geom(1, 5, 5, 1, 1, (3, 3), (1, 1), Padding::Valid),
        geom(3, 7, 6, 3, 8, (3, 3), (1, 1), same(7, 6, (3, 3), (1, 1))),
        geom(3, 8, 7, 3, 8, (3, 3), (2, 2), same(8, 7, (3, 3), (2, 2))),
        geom(1, 9, 7, 8, 3, (5, 5), (2, 1), asym),
        geom(3, 6, 6, 8, 3, (5, 5), (1, 1), Padding::uniform(2)),
        geom(3, 6, 5, 8, 8, (1, 1), (1, 1), Padding::Valid),
        geom(1, 7, 6, 3, 8, (1, 1), (2, 2), Padding::Valid),
        geom(1, 2, 3, 3, 3, (1, 1), (1, 1), Padding::uniform(1)),
        geom(3, 5, 8, 3, 1, (2, 4), (1, 2), same(5, 8, (2, 4), (1, 2))),
        geom(1, 3, 3, 1, 3, (3, 3), (1, 1), Padding::uniform(1)),
        geom(1, 4, 4, 2, 2, (3, 3), (3, 3), Padding::uniform(2)),
        // 3×3 stride 1 (Winograd): asymmetric and oversized padding, odd outputs.
        geom(
            2,
            7,
            9,
            4,
            5,
            (3, 3),
            (1, 1),
            Padding::Explicit {
                top: 2,
                bottom: 0,
                left: 1,
                right: 2,
            },
        ),
        geom(1, 6, 5, 2, 3, (3, 3), (1, 1), Padding::Valid),
        geom(2, 4, 5, 3, 2, (3, 3), (1, 1), Padding::uniform(2)),
        // Few input channels: runs of 12 (blocks of 8), 5 (of 4), 16 and 2 elements; a 7×7
        // stride-2 stem; a kernel wider than the input (no interior column).
        geom(2, 9, 11, 3, 8, (4, 4), (1, 1), same(9, 11, (4, 4), (1, 1))),
        geom(1, 7, 6, 5, 3, (2, 1), (1, 1), Padding::uniform(1)),
        geom(2, 7, 9, 16, 3, (1, 1), (2, 2), Padding::Valid),
        geom(1, 11, 13, 3, 4, (7, 7), (2, 2), Padding::uniform(3)),
        geom(1, 4, 2, 1, 2, (3, 5), (1, 1), Padding::uniform(2)),
    ]
}

/// The default plan, plus forced chunkings and task splits (and im2col for 1×1).
fn plans(g: &Conv2dGeometry) -> Vec<Plan> {
    let p = Plan::new(g);
    let per_line = p.ow * p.k;
    let mut v = vec![
        p,
        Plan {
            chunk: 1,
            tasks: 3,
            ..p
        },
        Plan {
            chunk: 2 * per_line,
            tasks: 2,
            ..p
        },
    ];
    if p.direct {
        v.push(Plan {
            direct: false,
            chunk: 3 * per_line,
            tasks: 2,
            ..p
        });
    }
    // Winograd wherever it applies, im2col everywhere else.
    if winograd::applies(g) {
        let w = Plan {
            winograd: !p.winograd,
            ..p
        };
        v.extend([
            w,
            Plan {
                chunk: 1,
                tasks: 3,
                ..w
            },
            Plan {
                chunk: 1 << 12,
                tasks: 2,
                ..w
            },
        ]);
    }
    v
}

/// Input pixel read by tap `(ky, kx)` of output pixel `(oy, ox)`, if not padding.
fn tap(
    g: &Conv2dGeometry,
    (oy, ox): (usize, usize),
    (ky, kx): (usize, usize),
) -> Option<(usize, usize)> {
    let win = g.window().unwrap();
    let iy = (oy * g.params.stride.0 + ky) as isize - win.top as isize;
    let ix = (ox * g.params.stride.1 + kx) as isize - win.left as isize;
    let inside = iy >= 0 && ix >= 0 && (iy as usize) < g.h && (ix as usize) < g.w;
    inside.then_some((iy as usize, ix as usize))
}

/// Calls `f(y index, x index, w index)` for every multiply-add of the convolution.
fn each_mac(g: &Conv2dGeometry, mut f: impl FnMut(usize, usize, usize)) {
    let (oh, ow) = g.out_hw().unwrap();
    for b in 0..g.n {
        for (oy, ox) in (0..oh).flat_map(|oy| (0..ow).map(move |ox| (oy, ox))) {
            for (ky, kx) in (0..g.kh).flat_map(|ky| (0..g.kw).map(move |kx| (ky, kx))) {
                let Some((iy, ix)) = tap(g, (oy, ox), (ky, kx)) else {
                    continue;
                };
                for ci in 0..g.c_in {
                    for co in 0..g.c_out {
                        let yi = ((b * oh + oy) * ow + ox) * g.c_out + co;
                        let xi = ((b * g.h + iy) * g.w + ix) * g.c_in + ci;
                        let wi = ((ky * g.kw + kx) * g.c_in + ci) * g.c_out + co;
                        f(yi, xi, wi);
                    }
                }
            }
        }
    }
}

fn naive_forward(g: &Conv2dGeometry, x: &[f64], w: &[f64], bias: Option<&[f64]>) -> Vec<f64> {
    let mut y = vec![0.0; g.y_len().unwrap()];
    if let Some(b) = bias {
        y.iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = b[i % g.c_out]);
    }
    each_mac(g, |yi, xi, wi| y[yi] += x[xi] * w[wi]);
    y
}

fn naive_backward(g: &Conv2dGeometry, x: &[f64], w: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    each_mac(g, |yi, xi, wi| {
        dx[xi] += dy[yi] * w[wi];
        dw[wi] += dy[yi] * x[xi];
    });
    let mut db = vec![0.0; g.c_out];
    dy.iter()
        .enumerate()
        .for_each(|(i, d)| db[i % g.c_out] += d);
    [dx, dw, db]
}

/// Both backward passes under plan `p`, each run only for the gradients asked (as the op
/// runs them).
#[allow(clippy::too_many_arguments)]
fn backward(
    g: &Conv2dGeometry,
    p: &Plan,
    x: &[f64],
    w: &[f64],
    dy: &[f64],
    dx: Option<&mut [f64]>,
    dw: Option<&mut [f64]>,
    db: Option<&mut [f64]>,
) {
    if let Some(dx) = dx {
        backward_data_with(g, p, w, dy, dx);
    }
    backward_filter_with(g, p, x, dy, dw, db);
}

fn inputs(g: &Conv2dGeometry) -> [Vec<f64>; 4] {
    let y_len = g.y_len().unwrap();
    [
        data(g.x_len(), 1),
        data(g.w_len(), 2),
        data(g.c_out, 3),
        data(y_len, 4),
    ]
}

#[test]
fn forward_matches_naive_for_all_geometries_and_plans() {
    for g in cases() {
        let [x, w, b, _] = inputs(&g);
        for bias in [None, Some(&b[..])] {
            let want = naive_forward(&g, &x, &w, bias);
            let mut y = vec![f64::NAN; want.len()];
            conv2d_forward(&g, &x, &w, bias, &mut y);
            assert_close(&format!("{g:?} y"), &y, &want, 1e-12);
            for p in plans(&g) {
                y.fill(f64::NAN);
                forward_with(&g, &p, &x, &w, bias, &mut y);
                assert_close(&format!("{g:?} {p:?} y"), &y, &want, 1e-12);
            }
        }
    }
}

#[test]
fn backward_matches_naive_for_all_geometries_and_plans() {
    for g in cases() {
        let [x, w, _, dy] = inputs(&g);
        let [wdx, wdw, wdb] = naive_backward(&g, &x, &w, &dy);
        let (mut dx, mut dw, mut db) = (
            vec![f64::NAN; x.len()],
            vec![f64::NAN; w.len()],
            vec![f64::NAN; g.c_out],
        );
        let p = Plan::new(&g);
        backward(
            &g,
            &p,
            &x,
            &w,
            &dy,
            Some(&mut dx),
            Some(&mut dw),
            Some(&mut db),
        );
        let name = format!("{g:?}");
        assert_close(&format!("{name} dx"), &dx, &wdx, 1e-12);
        assert_close(&format!("{name} dw"), &dw, &wdw, 1e-12);
        assert_close(&format!("{name} db"), &db, &wdb, 1e-12);
        for p in plans(&g) {
            for v in [&mut dx, &mut dw, &mut db] {
                v.fill(f64::NAN);
            }
            backward(
                &g,
                &p,
                &x,
                &w,
                &dy,
                Some(&mut dx),
                Some(&mut dw),
                Some(&mut db),
            );
            let name = format!("{name} {p:?}");
            assert_close(&format!("{name} dx"), &dx, &wdx, 1e-12);
            assert_close(&format!("{name} dw"), &dw, &wdw, 1e-12);
            assert_close(&format!("{name} db"), &db, &wdb, 1e-12);
        }
        // Each gradient on its own.
        dx.fill(f64::NAN);
        conv2d_backward_data(&g, &w, &dy, &mut dx);
        assert_close(&format!("{name} dx alone"), &dx, &wdx, 1e-12);
        dw.fill(f64::NAN);
        conv2d_backward_filter(&g, &x, &dy, Some(&mut dw), None);
        assert_close(&format!("{name} dw alone"), &dw, &wdw, 1e-12);
        db.fill(f64::NAN);
        conv2d_backward_filter(&g, &x, &dy, None, Some(&mut db));
        assert_close(&format!("{name} db alone"), &db, &wdb, 1e-12);
    }
}

#[test]
fn f32_matches_f64_reference() {
    let g = geom(
        3,
        9,
        8,
        8,
        5,
        (3, 3),
        (1, 1),
        Padding::Same.resolve((9, 8), (3, 3), (1, 1)),
    );
    assert_f32_matches_f64_reference(&g);
}

#[test]
fn few_input_channels_f32_matches_f64_reference() {
    // The first convolution of the SIGNS ConvNet on an odd size: interior and edge runs,
    // and db's column sums over more rows than one block, not a whole number of groups.
    let g = geom(
        3,
        45,
        47,
        3,
        8,
        (4, 4),
        (1, 1),
        Padding::Same.resolve((45, 47), (4, 4), (1, 1)),
    );
    assert_f32_matches_f64_reference(&g);
}

#[test]
fn column_sums_match_row_by_row_sums() {
    for (rows, cols) in [
        (0, 3),
        (5, 1),
        (1031, 8),
        (9000, 8),
        (77, 13),
        (3, 64),
        (40, 100),
    ] {
        let m = data(rows * cols, (rows * cols) as u64);
        let mut want = vec![0.0; cols];
        for r in m.chunks_exact(cols) {
            want.iter_mut().zip(r).for_each(|(s, v)| *s += v);
        }
        assert_close(
            &format!("{rows}x{cols}"),
            &column_sums(&m, cols),
            &want,
            1e-12,
        );
    }
}

#[test]
fn winograd_f32_matches_f64_reference() {
    let g = geom(
        2,
        9,
        10,
        32,
        40,
        (3, 3),
        (1, 1),
        Padding::Same.resolve((9, 10), (3, 3), (1, 1)),
    );
    assert!(Plan::new(&g).winograd);
    assert_f32_matches_f64_reference(&g);
}

/// The f32 forward and backward against the f64 naive reference on `g`.
fn assert_f32_matches_f64_reference(g: &Conv2dGeometry) {
    let [x, w, b, dy] = inputs(g);
    let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let back = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
    let mut y = vec![0f32; dy.len()];
    conv2d_forward(g, &f(&x), &f(&w), Some(&f(&b)), &mut y);
    assert_close(
        "y f32",
        &back(&y),
        &naive_forward(g, &x, &w, Some(&b)),
        1e-5,
    );
    let (mut dx, mut dw, mut db) = (
        vec![0f32; x.len()],
        vec![0f32; w.len()],
        vec![0f32; g.c_out],
    );
    conv2d_backward_data(g, &f(&w), &f(&dy), &mut dx);
    conv2d_backward_filter(g, &f(&x), &f(&dy), Some(&mut dw), Some(&mut db));
    let [wdx, wdw, wdb] = naive_backward(g, &x, &w, &dy);
    assert_close("dx f32", &back(&dx), &wdx, 1e-5);
    assert_close("dw f32", &back(&dw), &wdw, 1e-4);
    assert_close("db f32", &back(&db), &wdb, 1e-4);
}

/// Central differences of `L = Σ y ⊙ r` at a few entries of x, w and b against the
/// backward with `dy = r` (the course's check: relative difference below 1e-7, ε = 1e-7).
#[test]
fn backward_passes_finite_difference_check() {
    let pad = Padding::Explicit {
        top: 2,
        bottom: 0,
        left: 1,
        right: 1,
    };
    let winograd = geom(1, 5, 6, 32, 32, (3, 3), (1, 1), Padding::uniform(1));
    assert!(Plan::new(&winograd).winograd);
    let im2col = geom(2, 5, 4, 3, 2, (3, 2), (2, 1), pad);
    for g in [
        im2col,
        geom(1, 4, 4, 2, 3, (1, 1), (1, 1), Padding::Valid),
        winograd,
    ] {
        let [x, w, b, r] = inputs(&g);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let mut y = vec![0.0; r.len()];
            conv2d_forward(&g, x, w, Some(b), &mut y);
            y.iter().zip(&r).map(|(y, r)| y * r).sum::<f64>()
        };
        let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
        let p = Plan::new(&g);
        backward(
            &g,
            &p,
            &x,
            &w,
            &r,
            Some(&mut dx),
            Some(&mut dw),
            Some(&mut db),
        );
        let eps = 1e-7;
        let (mut analytic, mut numeric) = (vec![], vec![]);
        let mut probe = |which: usize, i: usize| {
            let mut v = [x.clone(), w.clone(), b.clone()];
            v[which][i] += eps;
            let up = loss(&v[0], &v[1], &v[2]);
            v[which][i] -= 2.0 * eps;
            let down = loss(&v[0], &v[1], &v[2]);
            numeric.push((up - down) / (2.0 * eps));
            analytic.push([&dx, &dw, &db][which][i]);
        };
        for i in [0, 5, x.len() / 2, x.len() - 1] {
            probe(0, i);
        }
        for i in [0, 3, w.len() - 1] {
            probe(1, i);
        }
        probe(2, 0);
        probe(2, b.len() - 1);
        let d = rel_diff(&analytic, &numeric);
        assert!(d < 1e-7, "{g:?}: relative difference {d}");
    }
}

#[test]
fn geometry_errors_name_what_does_not_fit() {
    let g = geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding::Valid);
    assert_eq!(
        g.out_hw().unwrap_err(),
        "conv2d: kernel 5x5 larger than padded input 3x3"
    );
    assert!(geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding::uniform(1))
        .out_hw()
        .is_ok());
    let g = geom(1, 3, 3, 1, 1, (3, 3), (0, 1), Padding::Valid);
    assert_eq!(
        g.out_hw().unwrap_err(),
        "conv2d: stride 0x1 has a zero dimension"
    );
    let g = geom(1, 3, 3, 1, 1, (0, 3), (1, 1), Padding::Valid);
    assert_eq!(
        g.out_hw().unwrap_err(),
        "conv2d: kernel 0x3 has a zero dimension"
    );
    assert_eq!(
        geom(2, 7, 5, 1, 4, (3, 2), (2, 2), Padding::uniform(1)).y_len(),
        Ok(2 * 4 * 3 * 4)
    );
}

#[test]
#[should_panic(expected = "conv2d: kernel 5x5 larger than padded input 3x3")]
fn forward_panics_with_the_geometry_error() {
    let g = geom(1, 3, 3, 1, 1, (5, 5), (1, 1), Padding::Valid);
    conv2d_forward(&g, &[0.0; 9], &[0.0; 25], None, &mut []);
}

#[test]
#[should_panic(expected = "conv2d: y has 3 elements, the geometry needs 4")]
fn forward_panics_on_a_wrong_length() {
    let g = geom(1, 3, 3, 1, 1, (2, 2), (1, 1), Padding::Valid);
    conv2d_forward(&g, &[0.0; 9], &[0.0; 4], None, &mut [0.0; 3]);
}

#[test]
fn same_padding_follows_tensorflow() {
    // out = ceil(in / s); total = max((out - 1)·s + k - in, 0); the odd pixel at the end.
    assert_eq!(
        Padding::Same.resolve((5, 5), (3, 3), (1, 1)),
        Padding::uniform(1)
    );
    assert_eq!(
        Padding::Same.resolve((6, 5), (3, 3), (2, 2)),
        Padding::Explicit {
            top: 0,
            bottom: 1,
            left: 1,
            right: 1
        }
    );
    assert_eq!(
        Padding::Same.resolve((64, 64), (4, 4), (1, 1)),
        Padding::Explicit {
            top: 1,
            bottom: 2,
            left: 1,
            right: 2
        }
    );
    assert_eq!(
        Padding::Same.resolve((4, 4), (1, 1), (2, 2)),
        Padding::Valid.resolve((4, 4), (1, 1), (2, 2))
    );
    assert_eq!(
        Padding::Same.resolve((5, 8), (2, 4), (1, 2)),
        Padding::Explicit {
            top: 0,
            bottom: 1,
            left: 1,
            right: 1
        }
    );
    for (h, k, s) in [(7, 3, 2), (8, 5, 3), (1, 3, 1), (32, 3, 1)] {
        let g = geom(
            1,
            h,
            h,
            1,
            1,
            (k, k),
            (s, s),
            Padding::Same.resolve((h, h), (k, k), (s, s)),
        );
        assert_eq!(g.out_hw().unwrap(), (h.div_ceil(s), h.div_ceil(s)), "{g:?}");
    }
}

#[test]
fn empty_batch_and_zero_channels() {
    let g = geom(0, 4, 4, 2, 3, (3, 3), (1, 1), Padding::uniform(1));
    conv2d_forward::<f64>(&g, &[], &[0.0; 54], None, &mut []);
    let (mut dw, mut db) = (vec![f64::NAN; 54], vec![f64::NAN; 3]);
    conv2d_backward_data::<f64>(&g, &[0.0; 54], &[], &mut []);
    conv2d_backward_filter::<f64>(&g, &[], &[], Some(&mut dw), Some(&mut db));
    assert!(dw.iter().chain(&db).all(|&v| v == 0.0));
    let g = geom(1, 2, 2, 0, 2, (1, 1), (1, 1), Padding::Valid);
    let mut y = vec![f64::NAN; 8];
    conv2d_forward(&g, &[], &[], Some(&[1.0, 2.0]), &mut y);
    assert_eq!(y, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
}

/// The backward-data pass alone, and the backward-filter pass alone with `dw` and `db`
/// together or one at a time, against the naive loops under every plan.
#[test]
fn each_backward_pass_alone_matches_naive_for_all_geometries_and_plans() {
    for g in cases() {
        let [x, w, _, dy] = inputs(&g);
        let [wdx, wdw, wdb] = naive_backward(&g, &x, &w, &dy);
        for p in plans(&g) {
            let name = format!("{g:?} {p:?}");
            let mut dx = vec![f64::NAN; x.len()];
            backward_data_with(&g, &p, &w, &dy, &mut dx);
            assert_close(&format!("{name} dx alone"), &dx, &wdx, 1e-12);
            let (mut dw, mut db) = (vec![f64::NAN; w.len()], vec![f64::NAN; g.c_out]);
            backward_filter_with(&g, &p, &x, &dy, Some(&mut dw), Some(&mut db));
            assert_close(&format!("{name} dw"), &dw, &wdw, 1e-12);
            assert_close(&format!("{name} db"), &db, &wdb, 1e-12);
            dw.fill(f64::NAN);
            backward_filter_with(&g, &p, &x, &dy, Some(&mut dw), None);
            assert_close(&format!("{name} dw alone"), &dw, &wdw, 1e-12);
            db.fill(f64::NAN);
            backward_filter_with(&g, &p, &x, &dy, None, Some(&mut db));
            assert_close(&format!("{name} db alone"), &db, &wdb, 1e-12);
        }
    }
}

/// The course's gradient check (ε = 1e-7, relative difference below 1e-7) of each pass on
/// its own, on `L = Σ y ⊙ r`: `dx` from the backward-data pass, `dw` and `db` from the
/// backward-filter pass (every entry, or about 100 evenly spaced ones of a larger gradient),
/// on im2col, 1×1 direct and Winograd geometries.
#[test]
fn each_backward_pass_alone_passes_finite_difference_check() {
    let pad = Padding::Explicit {
        top: 1,
        bottom: 2,
        left: 2,
        right: 0,
    };
    let winograd = geom(1, 4, 5, 32, 32, (3, 3), (1, 1), Padding::uniform(1));
    assert!(Plan::new(&winograd).winograd);
    for g in [
        geom(2, 5, 6, 2, 3, (3, 2), (2, 1), pad),
        geom(1, 3, 4, 3, 2, (1, 1), (1, 1), Padding::Valid),
        winograd,
    ] {
        let [x, w, b, r] = inputs(&g);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let mut y = vec![0.0; r.len()];
            conv2d_forward(&g, x, w, Some(b), &mut y);
            y.iter().zip(&r).map(|(y, r)| y * r).sum::<f64>()
        };
        let mut dx = vec![0.0; x.len()];
        conv2d_backward_data(&g, &w, &r, &mut dx);
        let (mut dw, mut db) = (vec![0.0; w.len()], vec![0.0; b.len()]);
        conv2d_backward_filter(&g, &x, &r, Some(&mut dw), Some(&mut db));
        let eps = 1e-7;
        let probes = |len: usize| (0..len).step_by(len.div_ceil(100));
        let numeric = |which: usize, len: usize| -> Vec<f64> {
            probes(len)
                .map(|i| {
                    let mut v = [x.clone(), w.clone(), b.clone()];
                    v[which][i] += eps;
                    let up = loss(&v[0], &v[1], &v[2]);
                    v[which][i] -= 2.0 * eps;
                    let down = loss(&v[0], &v[1], &v[2]);
                    (up - down) / (2.0 * eps)
                })
                .collect()
        };
        for (what, which, analytic) in [("dx", 0, &dx), ("dw", 1, &dw), ("db", 2, &db)] {
            let picked: Vec<f64> = probes(analytic.len()).map(|i| analytic[i]).collect();
            let d = rel_diff(&picked, &numeric(which, analytic.len()));
            assert!(d < 1e-7, "{g:?} {what}: relative difference {d}");
        }
    }
}

#[test]
fn dilation_other_than_one_is_refused_by_name() {
    let mut g = geom(1, 5, 5, 1, 1, (3, 3), (1, 1), Padding::Valid);
    g.params.dilation = (2, 1);
    assert_eq!(
        g.out_hw().unwrap_err(),
        "conv2d: dilation 2x1 is not supported (only 1x1)"
    );
}
