//! Tests of what the losses share: the registry of names and configs, how targets line up
//! with predictions, and when a graph is recorded.

use super::*;
use crate::dtype::DType;
use crate::error::Error;
use crate::losses::testing::{Data, close, inputs, t64, value};

fn bce(from_logits: bool, label_smoothing: f64) -> Loss {
    Loss::new(BinaryCrossentropy {
        from_logits,
        label_smoothing,
    })
}

fn cce(from_logits: bool, label_smoothing: f64) -> Loss {
    Loss::new(CategoricalCrossentropy {
        from_logits,
        label_smoothing,
    })
}

fn mse() -> Loss {
    Loss::new(MeanSquaredError {})
}

#[test]
fn every_loss_is_registered_by_name_and_alias() {
    assert_eq!(
        loss_names(),
        [
            "binary_crossentropy",
            "bce",
            "categorical_crossentropy",
            "categorical_focal_crossentropy",
            "cosine_similarity",
            "hinge",
            "huber",
            "kl_divergence",
            "kld",
            "kullback_leibler_divergence",
            "log_cosh",
            "logcosh",
            "mean_absolute_error",
            "mae",
            "mean_absolute_percentage_error",
            "mape",
            "mean_squared_error",
            "mse",
            "mean_squared_logarithmic_error",
            "msle",
            "poisson",
            "sparse_categorical_crossentropy",
            "squared_hinge",
        ]
    );
    for name in loss_names() {
        let loss = Loss::parse(name).unwrap();
        let canonical = match name {
            "mse" => "mean_squared_error",
            "mae" => "mean_absolute_error",
            "bce" => "binary_crossentropy",
            "kld" | "kullback_leibler_divergence" => "kl_divergence",
            "logcosh" => "log_cosh",
            "mape" => "mean_absolute_percentage_error",
            "msle" => "mean_squared_logarithmic_error",
            other => other,
        };
        assert_eq!(loss.name(), canonical);
        let json = serde_json::to_string(&loss).unwrap();
        assert!(
            json.starts_with(&format!("{{\"name\":\"{canonical}\"")),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Loss>(&json).unwrap(), loss);
        assert_eq!(Loss::from_json(&loss.to_json().unwrap()).unwrap(), loss);
    }
    let message = Loss::parse("hubber").unwrap_err().to_string();
    assert!(
        message.contains("hubber") && message.contains("mean_squared_error, mse"),
        "{message}"
    );
}

#[test]
fn configs_round_trip_and_refuse_what_they_do_not_know() {
    let loss = Loss::from_json(r#"{"name": "binary_crossentropy", "from_logits": true}"#).unwrap();
    assert_eq!(loss, bce(true, 0.0));
    assert_eq!(
        loss.downcast_ref::<BinaryCrossentropy>(),
        Some(&BinaryCrossentropy {
            from_logits: true,
            label_smoothing: 0.0
        })
    );
    assert_eq!(loss.downcast_ref::<MeanSquaredError>(), None);
    assert_eq!(
        serde_json::to_string(&cce(true, 0.1)).unwrap(),
        r#"{"name":"categorical_crossentropy","from_logits":true,"label_smoothing":0.1}"#
    );
    assert_eq!(
        cce(true, 0.1).to_json().unwrap(),
        r#"{"name":"categorical_crossentropy","from_logits":true,"label_smoothing":0.1}"#
    );
    // Configs name the loss by its canonical name only.
    assert!(serde_json::from_str::<Loss>(r#"{"name": "mse"}"#).is_err());
    let err = Loss::from_json(r#"{"name": "mean_squared_error", "delta": 1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `delta`"), "{err}");
    assert!(Loss::from_json(r#"{"name": "mean_squared_error"}"#).is_ok());
    assert!(Loss::from_json(r#"{"name": "huber", "delta": 2.0}"#).is_ok());
    let err = Loss::from_json(r#"{"name": "hubber"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("hubber") && err.contains("huber"), "{err}");
    for bad in ["[1, 2]", "{}", r#"{"name": 3}"#, "{"] {
        let err = Loss::from_json(bad).unwrap_err().to_string();
        assert!(err.contains("invalid loss config"), "{err}");
    }
    let err = Loss::from_json(r#"{"name": "huber", "delta": 0}"#).unwrap_err();
    assert!(err.to_string().contains("delta"), "{err}");
    assert!(Reduction::parse("sum").is_ok() && Reduction::parse("max").is_err());
    assert_ne!(bce(true, 0.0), bce(false, 0.0));
    assert_ne!(bce(false, 0.0), cce(false, 0.0));
    assert_eq!(format!("{:?}", mse()), "MeanSquaredError");
}

#[test]
fn keras_squeezes_or_expands_a_trailing_one() {
    let column = t64(&[4, 1], &[0.2, 0.7, 0.4, 0.9]);
    let flat = t64(&[4], &[0.0, 1.0, 0.0, 1.0]);
    let flat_as_column = t64(&[4, 1], &[0.0, 1.0, 0.0, 1.0]);
    for loss in [bce(false, 0.0), mse()] {
        assert!(close(
            value(&loss, &flat, &column),
            value(&loss, &flat_as_column, &column),
            1e-15
        ));
        // The other way round too.
        let p = t64(&[4], &[0.2, 0.7, 0.4, 0.9]);
        assert!(close(
            value(&loss, &flat_as_column, &p),
            value(&loss, &flat_as_column, &column),
            1e-15
        ));
    }
    // Per-sample losses of (N,) against (N, 1) have shape (N,).
    let per = bce(false, 0.0).compute_per_sample(&flat, &column).unwrap();
    assert_eq!(per.shape(), &[4]);
    // (N, T) against (N, T, 1) squeezes the prediction.
    let y = t64(&[2, 3], &[1.0; 6]);
    let p = t64(&[2, 3, 1], &[0.5; 6]);
    let per = mse().compute_per_sample(&y, &p).unwrap();
    assert_eq!(per.shape(), &[2]);
}

#[test]
fn mismatched_shapes_name_both() {
    let y3 = t64(&[4, 3], &[0.0; 12]);
    let p2 = t64(&[4, 2], &[0.5; 8]);
    for loss in [bce(false, 0.0), cce(true, 0.0), mse()] {
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
}

#[test]
fn no_graph_is_recorded_without_grad() {
    let loss = cce(true, 0.0);
    let (y_true, y_pred) = inputs(&loss, Data::OneHot, &[3, 4], 1);
    let out = {
        let _guard = crate::autograd::no_grad();
        loss.compute(&y_true, &y_pred).unwrap()
    };
    assert!(!out.requires_grad());
    let out = loss.compute(&y_true, &y_pred.detach()).unwrap();
    assert!(!out.requires_grad());
    let out = loss.compute(&y_true, &y_pred).unwrap();
    assert_eq!(out.grad_fn_name(), Some("categorical_crossentropy"));
}

#[test]
fn y_true_of_another_dtype_is_converted() {
    let loss = bce(true, 0.0);
    let (y_true, y_pred) = inputs(&loss, Data::Bits, &[3, 2], 2);
    let p32 = Tensor::new(y_pred.data().astype(DType::F32), false);
    let out = loss.compute(&y_true, &p32).unwrap();
    assert_eq!(out.dtype(), DType::F32);
}
