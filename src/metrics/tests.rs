//! Tests of what the metrics share: the registry of names and configs.

use super::*;

#[test]
fn every_metric_is_registered_by_name_and_alias() {
    assert_eq!(
        metric_names(),
        [
            "accuracy",
            "acc",
            "auc",
            "binary_accuracy",
            "categorical_accuracy",
            "f1_score",
            "mean_absolute_error",
            "mae",
            "mean_absolute_percentage_error",
            "mape",
            "mean_squared_error",
            "mse",
            "mean_squared_logarithmic_error",
            "msle",
            "precision",
            "r2_score",
            "recall",
            "sparse_categorical_accuracy",
            "sparse_top_k_categorical_accuracy",
            "top_k_categorical_accuracy",
        ]
    );
    for name in metric_names() {
        match MetricKind::parse(name) {
            Ok(kind) => {
                let json = serde_json::to_string(&kind).unwrap();
                assert!(json.starts_with(&format!("{{\"name\":\"{}\"", kind.name())));
                assert_eq!(serde_json::from_str::<MetricKind>(&json).unwrap(), kind);
                assert_eq!(Metric::new(kind.clone()).unwrap().name(), kind.name());
            }
            Err(e) => assert!(
                name.starts_with("acc") && e.to_string().contains("resolve_accuracy"),
                "{name}: {e}"
            ),
        }
    }
    let message = MetricKind::parse("f1").unwrap_err().to_string();
    assert!(
        message.contains("f1") && message.contains("auc"),
        "{message}"
    );
    assert_eq!(
        MetricKind::parse("mse").unwrap(),
        MetricKind::new(MeanSquaredError {})
    );
}

#[test]
fn configs_round_trip_and_refuse_what_they_do_not_know() {
    let auc: MetricKind = serde_json::from_str(r#"{"name": "auc", "curve": "PR"}"#).unwrap();
    let expected = Auc {
        num_thresholds: 200,
        curve: AucCurve::Pr,
    };
    assert_eq!(auc, MetricKind::new(expected));
    assert_eq!(auc.downcast_ref::<Auc>(), Some(&expected));
    assert_eq!(auc.downcast_ref::<Recall>(), None);
    assert_eq!(
        serde_json::to_string(&MetricKind::new(Auc {
            num_thresholds: 200,
            curve: AucCurve::Roc
        }))
        .unwrap(),
        r#"{"name":"auc","num_thresholds":200,"curve":"ROC"}"#
    );
    assert!(serde_json::from_str::<MetricKind>(r#"{"name": "recall", "top_k": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "mse", "threshold": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "mean_squared_error", "x": 1}"#).is_err());
    assert!(MetricKind::from_json(r#"{"name": "categorical_accuracy"}"#).is_ok());
    let err = MetricKind::from_json(r#"{"name": "auc", "num_thresholds": 1}"#).unwrap_err();
    assert!(err.to_string().contains("num_thresholds"), "{err}");
    let err = MetricKind::from_json("[1]").unwrap_err();
    assert!(err.to_string().contains("invalid metric config"), "{err}");
    assert_ne!(
        MetricKind::new(Precision { threshold: 0.5 }),
        MetricKind::new(Recall { threshold: 0.5 })
    );
}
