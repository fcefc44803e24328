//! What the tests of every metric share: storages of literal values and the checks every
//! metric of 0/1 labels must pass.

use super::{Metric, MetricKind};
use crate::dtype::DType;
use crate::storage::Storage;

pub fn s(shape: &[usize], values: &[f64]) -> Storage {
    Storage::from_f64_vec(DType::F64, shape, values.to_vec()).unwrap()
}

pub fn s32(shape: &[usize], values: &[f64]) -> Storage {
    Storage::from_f64_vec(DType::F32, shape, values.to_vec()).unwrap()
}

/// The metric of one batch.
pub fn once(kind: MetricKind, y_true: &Storage, y_pred: &Storage) -> f64 {
    let mut m = Metric::new(kind).unwrap();
    m.update(y_true, y_pred).unwrap();
    m.result()
}

pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// For metrics of 0/1 labels: streaming in batches equals one batch of everything, `reset`
/// clears, and labels of `(N,)` against predictions of `(N, 1)` (of another dtype) count as
/// `(N, 1)`.
pub fn check_binary_metric(kind: MetricKind) {
    let y: Vec<f64> = (0..40).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
    let p: Vec<f64> = (0..40).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
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
    let copy = m.clone();
    assert_eq!(copy.result(), m.result());

    let y = s(&[4], &[1.0, 0.0, 1.0, 0.0]);
    let p = s32(&[4, 1], &[0.7, 0.2, 0.4, 0.9]);
    let a = once(kind.clone(), &y, &p);
    let b = once(kind.clone(), &s(&[4, 1], &y.to_f64_vec()), &p);
    assert!(close(a, b), "{kind:?}");
}
