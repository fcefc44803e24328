//! What the tests of every loss share: tensors of literal values, inputs fit for each kind of
//! target, and the checks every loss must pass against its own reference formula.

use super::{Loss, Reduction};
use crate::dtype::DType;
use crate::ops::test_util::{check_gradients, randn};
use crate::storage::Storage;
use crate::tensor::Tensor;

pub fn t64(shape: &[usize], values: &[f64]) -> Tensor {
    Tensor::new(
        Storage::from_f64_vec(DType::F64, shape, values.to_vec()).unwrap(),
        false,
    )
}

pub fn leaf(shape: &[usize], values: Vec<f64>) -> Tensor {
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

pub fn one_hot(labels: &[usize], classes: usize) -> Vec<f64> {
    let mut out = vec![0.0; labels.len() * classes];
    for (i, &k) in labels.iter().enumerate() {
        out[i * classes + k] = 1.0;
    }
    out
}

pub fn value(loss: &Loss, y_true: &Tensor, y_pred: &Tensor) -> f64 {
    loss.compute(y_true, y_pred).unwrap().item().unwrap()
}

pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// The targets a loss takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Data {
    /// Real targets and predictions.
    Regression,
    /// 0/1 targets, several per sample.
    Bits,
    /// One-hot rows.
    OneHot,
    /// One integer label per sample.
    Sparse,
}

/// Targets and predictions fit for `loss`, of `shape` (the class axis last): logits when the
/// loss takes them, probabilities for the classification losses.
pub fn inputs(loss: &Loss, data: Data, shape: &[usize], seed: u64) -> (Tensor, Tensor) {
    let cols = *shape.last().unwrap();
    let n: usize = shape.iter().product();
    let rows = n / cols;
    let labels: Vec<usize> = (0..rows).map(|r| (r * 7 + seed as usize) % cols).collect();
    let y_pred = if loss.from_logits() {
        let z = randn(shape, seed).to_f64_vec();
        leaf(shape, z.iter().map(|v| 3.0 * v).collect())
    } else if data == Data::Regression {
        randn(shape, seed)
    } else {
        probabilities(shape, seed)
    };
    let y_true = match data {
        Data::Sparse => t64(
            &shape[..shape.len() - 1],
            &labels.iter().map(|&k| k as f64).collect::<Vec<_>>(),
        ),
        Data::OneHot => t64(shape, &one_hot(&labels, cols)),
        Data::Bits => {
            let bits: Vec<f64> = (0..n)
                .map(|i| ((i * 5 + 1) % 3 == 0) as u8 as f64)
                .collect();
            t64(shape, &bits)
        }
        Data::Regression => {
            let v = randn(shape, seed + 100).to_f64_vec();
            t64(shape, &v)
        }
    };
    (y_true, y_pred)
}

/// The mean over samples of `row(targets, predictions)` (Keras's formula for one sample,
/// written the plain way); with `sparse` labels, a sample's targets are its one label.
pub fn reference_mean(
    row: impl Fn(&[f64], &[f64]) -> f64,
    y_true: &[f64],
    y_pred: &[f64],
    cols: usize,
    sparse: bool,
) -> f64 {
    let rows = y_pred.len() / cols;
    let width = if sparse { 1 } else { cols };
    let total: f64 = (0..rows)
        .map(|r| {
            row(
                &y_true[r * width..(r + 1) * width],
                &y_pred[r * cols..(r + 1) * cols],
            )
        })
        .sum();
    total / rows as f64
}

/// What every loss must do: match its reference formula on several shapes, have gradients
/// that match finite differences under every reduction, agree in float32, and give 0 on an
/// empty batch.
pub fn check_loss(loss: &Loss, data: Data, row: impl Fn(&[f64], &[f64]) -> f64) {
    let sparse = data == Data::Sparse;
    for shape in [&[6, 4][..], &[2, 3, 5], &[1, 3]] {
        let (y_true, y_pred) = inputs(loss, data, shape, 3);
        let cols = *shape.last().unwrap();
        let expected = reference_mean(
            &row,
            &y_true.to_f64_vec(),
            &y_pred.to_f64_vec(),
            cols,
            sparse,
        );
        let got = value(loss, &y_true, &y_pred);
        assert!(
            close(got, expected, 1e-12),
            "{loss:?} {shape:?}: {got} vs {expected}"
        );
    }
    for shape in [&[5, 3][..], &[2, 2, 4]] {
        let (y_true, y_pred) = inputs(loss, data, shape, 11);
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
    // float32 agrees with float64.
    let (y_true, y_pred) = inputs(loss, data, &[4, 3], 5);
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
    // An empty batch gives 0.
    let y = if sparse {
        t64(&[0], &[])
    } else {
        t64(&[0, 3], &[])
    };
    let p = leaf(&[0, 3], vec![]);
    let l = loss.compute(&y, &p).unwrap();
    assert_eq!(l.item().unwrap(), 0.0);
    l.backward(None, false).unwrap();
}

/// 300 x 500 values: above the size where rows are spread over the thread pool; every row's
/// loss and gradient must still be written.
pub fn check_large_batch(loss: &Loss, data: Data, row: impl Fn(&[f64], &[f64]) -> f64) {
    let (y_true, y_pred) = inputs(loss, data, &[300, 500], 9);
    let sparse = data == Data::Sparse;
    let expected = reference_mean(row, &y_true.to_f64_vec(), &y_pred.to_f64_vec(), 500, sparse);
    let out = loss.compute(&y_true, &y_pred).unwrap();
    assert!(close(out.item().unwrap(), expected, 1e-12), "{loss:?}");
    out.backward(None, false).unwrap();
    // No row's gradient was left at zero.
    let grad = y_pred.grad().unwrap().to_f64_vec();
    assert!(
        grad.chunks(500).all(|row| row.iter().any(|&g| g != 0.0)),
        "{loss:?}"
    );
}
