use super::*;
use crate::dtype::DType;

fn s(shape: &[usize], values: &[f64]) -> Storage {
    Storage::from_f64_vec(DType::F64, shape, values.to_vec()).unwrap()
}

fn s32(shape: &[usize], values: &[f64]) -> Storage {
    Storage::from_f64_vec(DType::F32, shape, values.to_vec()).unwrap()
}

fn once(kind: MetricKind, y_true: &Storage, y_pred: &Storage) -> f64 {
    let mut m = Metric::new(kind).unwrap();
    m.update(y_true, y_pred).unwrap();
    m.result()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn keras_docstring_values() {
    let binary = once(
        MetricKind::BinaryAccuracy { threshold: 0.5 },
        &s(&[4, 1], &[1.0, 1.0, 0.0, 0.0]),
        &s(&[4, 1], &[0.98, 1.0, 0.0, 0.6]),
    );
    assert!(close(binary, 0.75), "{binary}");
    let categorical = once(
        MetricKind::CategoricalAccuracy,
        &s(&[2, 3], &[0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
        &s(&[2, 3], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0]),
    );
    assert!(close(categorical, 0.5), "{categorical}");
    let sparse = once(
        MetricKind::SparseCategoricalAccuracy,
        &s(&[2, 1], &[2.0, 1.0]),
        &s(&[2, 3], &[0.1, 0.6, 0.3, 0.05, 0.95, 0.0]),
    );
    assert!(close(sparse, 0.5), "{sparse}");
    let y = s(&[4], &[0.0, 1.0, 1.0, 1.0]);
    let p = s(&[4], &[1.0, 0.0, 1.0, 1.0]);
    assert!(close(
        once(MetricKind::Precision { threshold: 0.5 }, &y, &p),
        2.0 / 3.0
    ));
    assert!(close(
        once(MetricKind::Recall { threshold: 0.5 }, &y, &p),
        2.0 / 3.0
    ));
    let auc = once(
        MetricKind::Auc {
            num_thresholds: 3,
            curve: AucCurve::Roc,
        },
        &s(&[4], &[0.0, 0.0, 1.0, 1.0]),
        &s(&[4], &[0.0, 0.5, 0.3, 0.9]),
    );
    assert!(close(auc, 0.75), "{auc}");
    let mse = once(
        MetricKind::MeanSquaredError,
        &s(&[2, 2], &[0.0, 1.0, 0.0, 0.0]),
        &s(&[2, 2], &[1.0, 1.0, 1.0, 0.0]),
    );
    assert!(close(mse, 0.5), "{mse}");
}

#[test]
fn a_perfect_ranking_has_auc_one_and_pr_auc_one() {
    let y = s(&[6], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let p = s(&[6], &[0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
    for curve in [AucCurve::Roc, AucCurve::Pr] {
        let v = once(
            MetricKind::Auc {
                num_thresholds: 200,
                curve,
            },
            &y,
            &p,
        );
        assert!(close(v, 1.0), "{curve:?}: {v}");
    }
    // Constant predictions: the ROC diagonal.
    let flat = s(&[6], &[0.5; 6]);
    let v = once(
        MetricKind::Auc {
            num_thresholds: 200,
            curve: AucCurve::Roc,
        },
        &y,
        &flat,
    );
    assert!(close(v, 0.5), "{v}");
}

#[test]
fn binary_metrics_accept_n_against_n_by_1_and_mixed_dtypes() {
    let y = s(&[4], &[1.0, 0.0, 1.0, 0.0]);
    let p = s32(&[4, 1], &[0.7, 0.2, 0.4, 0.9]);
    for kind in [
        MetricKind::BinaryAccuracy { threshold: 0.5 },
        MetricKind::Precision { threshold: 0.5 },
        MetricKind::Recall { threshold: 0.5 },
        MetricKind::Auc {
            num_thresholds: 50,
            curve: AucCurve::Roc,
        },
        MetricKind::MeanSquaredError,
    ] {
        let a = once(kind.clone(), &y, &p);
        let b = once(kind.clone(), &s(&[4, 1], &y.to_f64_vec()), &p);
        assert!(close(a, b), "{kind:?}");
    }
    assert!(close(
        once(MetricKind::BinaryAccuracy { threshold: 0.5 }, &y, &p),
        0.5
    ));
}

#[test]
fn thresholds_compare_in_the_prediction_dtype() {
    // 0.3f32 is not greater than the threshold 0.3 rounded to float32 (Keras compares in
    // float32 too), while it is greater than 0.3 as a float64.
    let y = s(&[1], &[0.0]);
    let p = s32(&[1], &[0.3]);
    let v = once(MetricKind::BinaryAccuracy { threshold: 0.3 }, &y, &p);
    assert_eq!(v, 1.0);
}

#[test]
fn streaming_equals_all_at_once_and_reset_clears() {
    let y: Vec<f64> = (0..40).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
    let p: Vec<f64> = (0..40).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
    for kind in [
        MetricKind::BinaryAccuracy { threshold: 0.4 },
        MetricKind::Precision { threshold: 0.3 },
        MetricKind::Recall { threshold: 0.6 },
        MetricKind::Auc {
            num_thresholds: 200,
            curve: AucCurve::Roc,
        },
        MetricKind::Auc {
            num_thresholds: 17,
            curve: AucCurve::Pr,
        },
        MetricKind::MeanAbsoluteError,
    ] {
        let all = once(kind.clone(), &s(&[40, 1], &y), &s(&[40, 1], &p));
        let mut m = Metric::new(kind.clone()).unwrap();
        for (yb, pb) in y.chunks(16).zip(p.chunks(16)) {
            m.update(&s(&[yb.len(), 1], yb), &s(&[pb.len(), 1], pb))
                .unwrap();
        }
        assert!(close(m.result(), all), "{kind:?}: {} vs {all}", m.result());
        m.reset();
        assert_eq!(m.result(), 0.0);
        m.update(&s(&[40, 1], &y), &s(&[40, 1], &p)).unwrap();
        assert!(close(m.result(), all));
    }
}

#[test]
fn resolve_accuracy_follows_keras() {
    use MetricKind::*;
    let binary = BinaryAccuracy { threshold: 0.5 };
    assert_eq!(resolve_accuracy(&[32, 1], &[32, 1]), binary);
    assert_eq!(resolve_accuracy(&[32], &[32, 1]), binary);
    assert_eq!(
        resolve_accuracy(&[32], &[32, 10]),
        SparseCategoricalAccuracy
    );
    assert_eq!(
        resolve_accuracy(&[32, 1], &[32, 10]),
        SparseCategoricalAccuracy
    );
    assert_eq!(resolve_accuracy(&[32, 10], &[32, 10]), CategoricalAccuracy);
    assert_eq!(
        resolve_accuracy(&[32, 5], &[32, 5, 10]),
        SparseCategoricalAccuracy
    );
    assert_eq!(resolve_accuracy(&[], &[]), binary);
    let bce = Loss::BinaryCrossentropy {
        from_logits: false,
        label_smoothing: 0.0,
    };
    assert_eq!(
        resolve_accuracy_for_loss(Some(&bce), &[32, 5], &[32, 5]),
        binary
    );
    assert_eq!(
        resolve_accuracy_for_loss(None, &[32, 5], &[32, 5]),
        CategoricalAccuracy
    );
}

#[test]
fn bad_parameters_and_shapes_are_refused() {
    for kind in [
        MetricKind::BinaryAccuracy { threshold: 1.5 },
        MetricKind::Precision { threshold: -0.1 },
        MetricKind::Recall {
            threshold: f64::NAN,
        },
        MetricKind::Auc {
            num_thresholds: 1,
            curve: AucCurve::Roc,
        },
    ] {
        let message = Metric::new(kind).unwrap_err().to_string();
        assert!(message.contains("threshold"), "{message}");
    }
    let mut m = Metric::new(MetricKind::CategoricalAccuracy).unwrap();
    let err = m
        .update(&s(&[2, 3], &[0.0; 6]), &s(&[2, 4], &[0.0; 8]))
        .unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }));
    assert!(err.to_string().contains("[2, 3]") && err.to_string().contains("[2, 4]"));
    let mut m = Metric::new(MetricKind::SparseCategoricalAccuracy).unwrap();
    assert!(
        m.update(&s(&[3], &[0.0; 3]), &s(&[2, 4], &[0.0; 8]))
            .is_err()
    );
    let mut m = Metric::new(MetricKind::Precision { threshold: 0.5 }).unwrap();
    assert!(m.update(&s(&[3], &[0.0; 3]), &s(&[4], &[0.0; 4])).is_err());
    assert_eq!(m.result(), 0.0);
}

#[test]
fn names_and_configs_round_trip() {
    for name in METRIC_NAMES {
        match MetricKind::parse(name) {
            Ok(kind) => {
                let json = serde_json::to_string(&kind).unwrap();
                assert_eq!(serde_json::from_str::<MetricKind>(&json).unwrap(), kind);
            }
            Err(e) => assert!(name.starts_with("acc"), "{name}: {e}"),
        }
    }
    assert!(
        MetricKind::parse("f1")
            .unwrap_err()
            .to_string()
            .contains("auc")
    );
    let auc: MetricKind = serde_json::from_str(r#"{"name": "auc", "curve": "PR"}"#).unwrap();
    assert_eq!(
        auc,
        MetricKind::Auc {
            num_thresholds: 200,
            curve: AucCurve::Pr
        }
    );
    assert_eq!(
        serde_json::to_string(&MetricKind::Auc {
            num_thresholds: 200,
            curve: AucCurve::Roc
        })
        .unwrap(),
        r#"{"name":"auc","num_thresholds":200,"curve":"ROC"}"#
    );
    assert!(serde_json::from_str::<MetricKind>(r#"{"name": "recall", "top_k": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "mse", "threshold": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "mean_squared_error", "x": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "categorical_accuracy"}"#).is_ok());
    assert!(MetricKind::from_json(r#"{"name": "auc", "num_thresholds": 1}"#).is_err());
    assert_eq!(AucCurve::parse("pr").unwrap(), AucCurve::Pr);
    assert!(AucCurve::parse("PRGAIN").is_err());
}
