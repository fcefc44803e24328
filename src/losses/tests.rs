use super::*;
use crate::dtype::DType;
use crate::ops::test_util::{check_gradients, randn};

fn t64(shape: &[usize], values: &[f64]) -> Tensor {
    Tensor::new(
        Storage::from_f64_vec(DType::F64, shape, values.to_vec()).unwrap(),
        false,
    )
}

fn leaf(shape: &[usize], values: Vec<f64>) -> Tensor {
    Tensor::new(
        Storage::from_f64_vec(DType::F64, shape, values).unwrap(),
        true,
    )
}

/// Values in (0.05, 0.95), away from the clipping bounds.
fn probabilities(shape: &[usize], seed: u64) -> Tensor {
    let u = randn(shape, seed).to_f64_vec();
    leaf(shape, u.iter().map(|v| 0.5 + 0.45 * v).collect())
}

fn one_hot(labels: &[usize], classes: usize) -> Vec<f64> {
    let mut out = vec![0.0; labels.len() * classes];
    for (i, &k) in labels.iter().enumerate() {
        out[i * classes + k] = 1.0;
    }
    out
}

fn bce(from_logits: bool, label_smoothing: f64) -> Loss {
    Loss::BinaryCrossentropy {
        from_logits,
        label_smoothing,
    }
}

fn cce(from_logits: bool, label_smoothing: f64) -> Loss {
    Loss::CategoricalCrossentropy {
        from_logits,
        label_smoothing,
    }
}

fn scce(from_logits: bool) -> Loss {
    Loss::SparseCategoricalCrossentropy { from_logits }
}

fn value(loss: Loss, y_true: &Tensor, y_pred: &Tensor) -> f64 {
    loss.compute(y_true, y_pred).unwrap().item().unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn keras_docstring_values() {
    // The examples of Keras's own docstrings.
    let y_true = t64(&[2, 2], &[0.0, 1.0, 0.0, 0.0]);
    let y_pred = t64(&[2, 2], &[0.6, 0.4, 0.4, 0.6]);
    let per_sample = bce(false, 0.0)
        .compute_per_sample(&y_true, &y_pred)
        .unwrap()
        .to_f64_vec();
    assert!(close(per_sample[0], 0.916_290_7, 1e-6), "{per_sample:?}");
    assert!(close(per_sample[1], 0.713_558_2, 1e-6), "{per_sample:?}");
    let huber = value(Loss::Huber { delta: 1.0 }, &y_true, &y_pred);
    assert!(close(huber, 0.155, 1e-9), "{huber}");

    let probs = t64(&[2, 3], &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1]);
    let onehot = t64(&[2, 3], &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
    let labels = t64(&[2], &[1.0, 2.0]);
    for per_sample in [
        cce(false, 0.0)
            .compute_per_sample(&onehot, &probs)
            .unwrap()
            .to_f64_vec(),
        scce(false)
            .compute_per_sample(&labels, &probs)
            .unwrap()
            .to_f64_vec(),
    ] {
        assert!(close(per_sample[0], -(0.95f64.ln()), 1e-12));
        assert!(close(per_sample[1], -(0.1f64.ln()), 1e-12));
    }
    let mse = value(Loss::MeanSquaredError, &y_true, &y_pred);
    assert!(close(mse, (0.36 + 0.36 + 0.16 + 0.36) / 4.0, 1e-12));
    let mae = value(Loss::MeanAbsoluteError, &y_true, &y_pred);
    assert!(close(mae, (0.6 + 0.6 + 0.4 + 0.6) / 4.0, 1e-12));
}

/// Keras's formulas, written the plain way.
fn reference(loss: Loss, y_true: &[f64], y_pred: &[f64], cols: usize) -> f64 {
    let rows = y_pred.len() / cols;
    let clip = |p: f64| p.clamp(EPSILON, 1.0 - EPSILON);
    let mut total = 0.0;
    for r in 0..rows {
        let p = &y_pred[r * cols..(r + 1) * cols];
        total += match loss {
            Loss::SparseCategoricalCrossentropy { from_logits } => {
                let k = y_true[r] as usize;
                if from_logits {
                    let lse = p.iter().map(|v| v.exp()).sum::<f64>().ln();
                    lse - p[k]
                } else {
                    let s: f64 = p.iter().sum();
                    -clip(p[k] / s).ln()
                }
            }
            Loss::CategoricalCrossentropy {
                from_logits,
                label_smoothing,
            } => {
                let t = &y_true[r * cols..(r + 1) * cols];
                let s: f64 = p.iter().sum();
                let lse = p.iter().map(|v| v.exp()).sum::<f64>().ln();
                (0..cols)
                    .map(|i| {
                        let t = t[i] * (1.0 - label_smoothing) + label_smoothing / cols as f64;
                        let log_p = if from_logits {
                            p[i] - lse
                        } else {
                            clip(p[i] / s).ln()
                        };
                        -t * log_p
                    })
                    .sum()
            }
            _ => {
                let t = &y_true[r * cols..(r + 1) * cols];
                (0..cols)
                    .map(|i| {
                        let (t, p) = (t[i], p[i]);
                        match loss {
                            Loss::MeanSquaredError => (p - t).powi(2),
                            Loss::MeanAbsoluteError => (p - t).abs(),
                            Loss::Huber { delta } => {
                                let d = (p - t).abs();
                                if d <= delta {
                                    0.5 * d * d
                                } else {
                                    delta * d - 0.5 * delta * delta
                                }
                            }
                            Loss::BinaryCrossentropy {
                                from_logits,
                                label_smoothing,
                            } => {
                                let t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing;
                                let q = if from_logits {
                                    1.0 / (1.0 + (-p).exp())
                                } else {
                                    clip(p)
                                };
                                -(t * q.ln() + (1.0 - t) * (1.0 - q).ln())
                            }
                            _ => unreachable!(),
                        }
                    })
                    .sum::<f64>()
                    / cols as f64
            }
        };
    }
    total / rows as f64
}

fn all_losses() -> Vec<Loss> {
    let mut out = vec![
        Loss::MeanSquaredError,
        Loss::MeanAbsoluteError,
        Loss::Huber { delta: 0.3 },
    ];
    for from_logits in [false, true] {
        out.push(scce(from_logits));
        for smoothing in [0.0, 0.2] {
            out.push(bce(from_logits, smoothing));
            out.push(cce(from_logits, smoothing));
        }
    }
    out
}

/// Targets and predictions fit for `loss`, of `shape` (the class axis last).
fn inputs(loss: Loss, shape: &[usize], seed: u64) -> (Tensor, Tensor) {
    let cols = *shape.last().unwrap();
    let n: usize = shape.iter().product();
    let rows = n / cols;
    let labels: Vec<usize> = (0..rows).map(|r| (r * 7 + seed as usize) % cols).collect();
    let y_pred = if loss.from_logits() {
        let z = randn(shape, seed).to_f64_vec();
        leaf(shape, z.iter().map(|v| 3.0 * v).collect())
    } else {
        match loss {
            Loss::MeanSquaredError | Loss::MeanAbsoluteError | Loss::Huber { .. } => {
                randn(shape, seed)
            }
            _ => probabilities(shape, seed),
        }
    };
    let y_true = match loss {
        Loss::SparseCategoricalCrossentropy { .. } => t64(
            &shape[..shape.len() - 1],
            &labels.iter().map(|&k| k as f64).collect::<Vec<_>>(),
        ),
        Loss::CategoricalCrossentropy { .. } => t64(shape, &one_hot(&labels, cols)),
        Loss::BinaryCrossentropy { .. } => {
            let bits: Vec<f64> = (0..n)
                .map(|i| ((i * 5 + 1) % 3 == 0) as u8 as f64)
                .collect();
            t64(shape, &bits)
        }
        _ => {
            let v = randn(shape, seed + 100).to_f64_vec();
            t64(shape, &v)
        }
    };
    (y_true, y_pred)
}

#[test]
fn values_match_the_reference_formulas() {
    for loss in all_losses() {
        for shape in [&[6, 4][..], &[2, 3, 5], &[1, 3]] {
            let (y_true, y_pred) = inputs(loss, shape, 3);
            let expected = reference(
                loss,
                &y_true.to_f64_vec(),
                &y_pred.to_f64_vec(),
                *shape.last().unwrap(),
            );
            let got = value(loss, &y_true, &y_pred);
            assert!(
                close(got, expected, 1e-12),
                "{loss:?} {shape:?}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    for loss in all_losses() {
        for shape in [&[5, 3][..], &[2, 2, 4]] {
            let (y_true, y_pred) = inputs(loss, shape, 11);
            check_gradients(std::slice::from_ref(&y_pred), |t| {
                loss.compute(&y_true, &t[0]).unwrap()
            });
            check_gradients(std::slice::from_ref(&y_pred), |t| {
                loss.compute_per_sample(&y_true, &t[0]).unwrap()
            });
            check_gradients(std::slice::from_ref(&y_pred), |t| {
                loss.compute_with(&y_true, &t[0], Reduction::Sum).unwrap()
            });
        }
    }
}

#[test]
fn categorical_from_probabilities_renormalises_unnormalised_rows() {
    // Rows that do not sum to one: Keras divides by the sum first.
    let y_pred = leaf(&[2, 3], vec![0.2, 1.0, 0.4, 3.0, 1.0, 2.0]);
    let y_true = t64(&[2, 3], &[0.0, 1.0, 0.0, 0.2, 0.3, 0.5]);
    let loss = cce(false, 0.0);
    let expected = reference(loss, &y_true.to_f64_vec(), &y_pred.to_f64_vec(), 3);
    assert!(close(value(loss, &y_true, &y_pred), expected, 1e-12));
    check_gradients(std::slice::from_ref(&y_pred), |t| {
        loss.compute(&y_true, &t[0]).unwrap()
    });
}

#[test]
fn fused_equals_unfused_on_moderate_logits() {
    let z = randn(&[8, 5], 4);
    let z = leaf(&[8, 5], z.to_f64_vec().iter().map(|v| 4.0 * v).collect());
    let labels: Vec<usize> = (0..8).map(|i| i % 5).collect();
    let sparse = t64(&[8], &labels.iter().map(|&k| k as f64).collect::<Vec<_>>());
    let onehot = t64(&[8, 5], &one_hot(&labels, 5));
    let softmax = z.detach().softmax(-1).unwrap();
    let sigmoid = z.detach().sigmoid().unwrap();
    let bits = t64(
        &[8, 5],
        &(0..40)
            .map(|i| (i % 3 == 0) as u8 as f64)
            .collect::<Vec<_>>(),
    );
    let pairs = [
        (cce(false, 0.1), &onehot, &softmax, Activation::Softmax),
        (scce(false), &sparse, &softmax, Activation::Softmax),
        (
            bce(false, 0.1),
            &bits,
            &sigmoid,
            Activation::Elementwise(UnaryFn::Sigmoid),
        ),
    ];
    for (loss, y_true, probs, activation) in pairs {
        let fused = loss.fused_with(&activation).unwrap();
        assert!(fused.from_logits());
        let a = value(fused, y_true, &z);
        let b = value(loss, y_true, probs);
        assert!(close(a, b, 1e-9), "{loss:?}: {a} vs {b}");
        assert_eq!(loss.fused_with(&Activation::Linear), None);
        assert_eq!(fused.fused_with(&activation), None);
    }
    assert_eq!(
        Loss::MeanSquaredError.fused_with(&Activation::Softmax),
        None
    );
    assert_eq!(
        bce(false, 0.0).fused_with(&Activation::Softmax),
        None,
        "BCE fuses with a sigmoid only"
    );
}

#[test]
fn extreme_logits_stay_finite() {
    for dtype in [DType::F32, DType::F64] {
        let z = Tensor::new(
            Storage::from_f64_vec(
                dtype,
                &[2, 3],
                vec![1000.0, -1000.0, 0.0, -1000.0, 1000.0, 1000.0],
            )
            .unwrap(),
            true,
        );
        let onehot = t64(&[2, 3], &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
        let bits = t64(&[2, 3], &[0.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
        let labels = t64(&[2], &[1.0, 0.0]);
        for (loss, y_true, expected) in [
            (cce(true, 0.0), &onehot, 2000.0 + 2f64.ln() / 2.0),
            (scce(true), &labels, 2000.0 + 2f64.ln() / 2.0),
            (bce(true, 0.0), &bits, (4000.0 + 2f64.ln()) / 6.0),
        ] {
            z.set_grad(None).unwrap();
            let l = loss.compute(y_true, &z).unwrap();
            let v = l.item().unwrap();
            assert!(close(v, expected, 1e-6), "{loss:?} {dtype}: {v}");
            l.backward(None, false).unwrap();
            let g = z.grad().unwrap().to_f64_vec();
            assert!(g.iter().all(|v| v.is_finite()), "{loss:?}: {g:?}");
        }
        // Probabilities of exactly 0 and 1 are clipped.
        let p = Tensor::new(
            Storage::from_f64_vec(dtype, &[2, 3], vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]).unwrap(),
            true,
        );
        for (loss, y_true) in [(cce(false, 0.0), &onehot), (bce(false, 0.0), &bits)] {
            let l = loss.compute(y_true, &p).unwrap();
            assert!(l.item().unwrap().is_finite());
            l.backward(None, false).unwrap();
            assert!(p.grad().unwrap().data().all_finite());
        }
    }
}

#[test]
fn float32_agrees_with_float64() {
    for loss in all_losses() {
        let (y_true, y_pred) = inputs(loss, &[4, 3], 5);
        let p32 = Tensor::new(y_pred.data().astype(DType::F32), true);
        let out = loss.compute(&y_true, &p32).unwrap();
        assert_eq!(out.dtype(), DType::F32);
        assert_eq!(out.shape(), &[] as &[usize]);
        assert!(close(
            out.item().unwrap(),
            value(loss, &y_true, &y_pred),
            1e-5
        ));
        out.backward(None, false).unwrap();
        assert_eq!(p32.grad().unwrap().dtype(), DType::F32);
    }
}

#[test]
fn keras_squeezes_or_expands_a_trailing_one() {
    let column = t64(&[4, 1], &[0.2, 0.7, 0.4, 0.9]);
    let flat = t64(&[4], &[0.0, 1.0, 0.0, 1.0]);
    let flat_as_column = t64(&[4, 1], &[0.0, 1.0, 0.0, 1.0]);
    for loss in [bce(false, 0.0), Loss::MeanSquaredError] {
        assert!(close(
            value(loss, &flat, &column),
            value(loss, &flat_as_column, &column),
            1e-15
        ));
        // The other way round too.
        let p = t64(&[4], &[0.2, 0.7, 0.4, 0.9]);
        assert!(close(
            value(loss, &flat_as_column, &p),
            value(loss, &flat_as_column, &column),
            1e-15
        ));
    }
    // Per-sample losses of (N,) against (N, 1) have shape (N,).
    let per = bce(false, 0.0).compute_per_sample(&flat, &column).unwrap();
    assert_eq!(per.shape(), &[4]);
    // (N, T) against (N, T, 1) squeezes the prediction.
    let y = t64(&[2, 3], &[1.0; 6]);
    let p = t64(&[2, 3, 1], &[0.5; 6]);
    let per = Loss::MeanSquaredError.compute_per_sample(&y, &p).unwrap();
    assert_eq!(per.shape(), &[2]);
    // Sparse labels may be (N,) or (N, 1).
    let probs = t64(&[2, 3], &[0.2, 0.5, 0.3, 0.1, 0.1, 0.8]);
    let a = value(scce(false), &t64(&[2], &[1.0, 2.0]), &probs);
    let b = value(scce(false), &t64(&[2, 1], &[1.0, 2.0]), &probs);
    assert_eq!(a, b);
}

#[test]
fn mismatched_shapes_name_both() {
    let y3 = t64(&[4, 3], &[0.0; 12]);
    let p2 = t64(&[4, 2], &[0.5; 8]);
    for loss in [bce(false, 0.0), cce(true, 0.0), Loss::MeanSquaredError] {
        let err = loss.compute(&y3, &p2).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("[4, 3]")
                && message.contains("[4, 2]")
                && message.contains(loss.name()),
            "{message}"
        );
    }
    let err = scce(true).compute(&t64(&[3], &[0.0; 3]), &p2).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err:?}");
    let err = scce(true)
        .compute(&t64(&[], &[0.0]), &t64(&[], &[0.0]))
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err:?}");
    let err = cce(true, 0.0)
        .compute(&t64(&[4, 0], &[]), &t64(&[4, 0], &[]))
        .unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn out_of_range_sparse_labels_are_named() {
    let probs = t64(&[3, 4], &[0.25; 12]);
    for (bad, shown) in [(4.0, "4"), (-1.0, "-1"), (1.5, "1.5"), (f64::NAN, "NaN")] {
        let labels = t64(&[3], &[0.0, bad, 2.0]);
        let err = scce(false).compute(&labels, &probs).unwrap_err();
        assert!(matches!(err, Error::Value(_)), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("label {shown} at position 1")) && message.contains("[0, 4)"),
            "{message}"
        );
    }
}

#[test]
fn empty_batches_give_zero() {
    let y = t64(&[0, 3], &[]);
    let p = leaf(&[0, 3], vec![]);
    for loss in all_losses() {
        let y = if matches!(loss, Loss::SparseCategoricalCrossentropy { .. }) {
            t64(&[0], &[])
        } else {
            y.clone()
        };
        let l = loss.compute(&y, &p).unwrap();
        assert_eq!(l.item().unwrap(), 0.0);
        l.backward(None, false).unwrap();
    }
}

#[test]
fn no_graph_is_recorded_without_grad() {
    let (y_true, y_pred) = inputs(cce(true, 0.0), &[3, 4], 1);
    let out = {
        let _guard = crate::autograd::no_grad();
        cce(true, 0.0).compute(&y_true, &y_pred).unwrap()
    };
    assert!(!out.requires_grad());
    let out = cce(true, 0.0).compute(&y_true, &y_pred.detach()).unwrap();
    assert!(!out.requires_grad());
    let out = cce(true, 0.0).compute(&y_true, &y_pred).unwrap();
    assert_eq!(out.grad_fn_name(), Some("categorical_crossentropy"));
}

#[test]
fn names_configs_and_validation() {
    for name in LOSS_NAMES {
        let loss = Loss::parse(name).unwrap();
        let canonical = match *name {
            "mse" => "mean_squared_error",
            "mae" => "mean_absolute_error",
            "bce" => "binary_crossentropy",
            other => other,
        };
        assert_eq!(loss.name(), canonical);
        let json = serde_json::to_string(&loss).unwrap();
        assert!(
            json.contains(&format!("\"name\":\"{canonical}\"")),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss);
    }
    let message = Loss::parse("hinge").unwrap_err().to_string();
    assert!(
        message.contains("hinge") && message.contains("mse"),
        "{message}"
    );

    let loss: Loss =
        serde_json::from_str(r#"{"name": "binary_crossentropy", "from_logits": true}"#).unwrap();
    assert_eq!(loss, bce(true, 0.0));
    assert_eq!(
        serde_json::to_string(&cce(true, 0.1)).unwrap(),
        r#"{"name":"categorical_crossentropy","from_logits":true,"label_smoothing":0.1}"#
    );
    assert!(serde_json::from_str::<Loss>(r#"{"name": "mse"}"#).is_err());
    // serde lets unit variants ignore extra keys; `from_json` does not.
    let err = Loss::from_json(r#"{"name": "mean_squared_error", "delta": 1}"#).unwrap_err();
    assert!(err.to_string().contains("delta"), "{err}");
    assert!(Loss::from_json(r#"{"name": "mean_squared_error"}"#).is_ok());
    assert!(Loss::from_json(r#"{"name": "huber", "delta": 2.0}"#).is_ok());
    let err = Loss::from_json(r#"{"name": "hinge"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hinge"), "{err}");
    let err = Loss::from_json("[1, 2]").unwrap_err().to_string();
    assert!(err.contains("loss"), "{err}");

    for bad in [bce(false, -0.1), cce(true, 1.5), cce(true, f64::NAN)] {
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("label_smoothing"), "{err}");
        assert!(
            bad.compute(&t64(&[1, 2], &[0.0, 1.0]), &t64(&[1, 2], &[0.5; 2]))
                .is_err()
        );
    }
    assert!(Loss::Huber { delta: 0.0 }.validate().is_err());
    assert!(Reduction::parse("sum").is_ok() && Reduction::parse("max").is_err());
}

#[test]
fn y_true_of_another_dtype_is_converted() {
    let (y_true, y_pred) = inputs(bce(true, 0.0), &[3, 2], 2);
    let p32 = Tensor::new(y_pred.data().astype(DType::F32), false);
    let out = bce(true, 0.0).compute(&y_true, &p32).unwrap();
    assert_eq!(out.dtype(), DType::F32);
}

#[test]
fn large_inputs_split_into_row_blocks_match_the_reference() {
    // 300 x 500 values: above the size where rows are spread over the thread pool.
    for loss in [
        cce(true, 0.1),
        scce(false),
        bce(true, 0.0),
        Loss::MeanSquaredError,
    ] {
        let (y_true, y_pred) = inputs(loss, &[300, 500], 9);
        let expected = reference(loss, &y_true.to_f64_vec(), &y_pred.to_f64_vec(), 500);
        let out = loss.compute(&y_true, &y_pred).unwrap();
        assert!(close(out.item().unwrap(), expected, 1e-12), "{loss:?}");
        out.backward(None, false).unwrap();
        // Every row's gradient was written (a row from logits sums to sum(t) - sum(t) = 0 for
        // the cross-entropies; here just check that none was left at zero).
        let grad = y_pred.grad().unwrap().to_f64_vec();
        assert!(
            grad.chunks(500).all(|row| row.iter().any(|&g| g != 0.0)),
            "{loss:?}"
        );
    }
}
