//! Tests of the base `Optimizer` around the rules: argument checks, clipping, weight decay, slots.

use std::sync::Arc;

use super::*;
use crate::dtype::DType;
use crate::storage::Storage;
use crate::tensor::Tensor;

fn tensor(values: &[f64], dtype: DType) -> Tensor {
    Tensor::new(
        Storage::from_f64_vec(dtype, &[values.len()], values.to_vec()).unwrap(),
        true,
    )
}

fn grad(values: &[f64], dtype: DType) -> Arc<Storage> {
    Arc::new(Storage::from_f64_vec(dtype, &[values.len()], values.to_vec()).unwrap())
}

fn sgd(lr: f64) -> OptimizerConfig {
    OptimizerConfig::new(Sgd::default(), Schedule::constant(lr))
}

#[test]
fn mismatched_arguments_change_nothing() {
    let w = tensor(&[1.0, 2.0], DType::F64);
    let mut opt = Optimizer::new(OptimizerConfig::new(
        Adam::default(),
        Schedule::constant(0.1),
    ))
    .unwrap();
    let count = opt
        .apply(std::slice::from_ref(&w), &[])
        .unwrap_err()
        .to_string();
    assert!(count.contains("0 gradients for 1 parameters"), "{count}");
    let shape = opt
        .apply(
            std::slice::from_ref(&w),
            &[grad(&[1.0, 2.0, 3.0], DType::F64)],
        )
        .unwrap_err()
        .to_string();
    assert!(shape.contains("[3]") && shape.contains("[2]"), "{shape}");
    let dtype = opt
        .apply(std::slice::from_ref(&w), &[grad(&[1.0, 2.0], DType::F32)])
        .unwrap_err()
        .to_string();
    assert!(
        dtype.contains("float32") && dtype.contains("float64"),
        "{dtype}"
    );
    assert_eq!(w.to_f64_vec(), vec![1.0, 2.0]);
    assert_eq!(opt.iterations(), 0);
    assert!(opt.slots(&[w]).is_empty());
}

#[test]
fn weight_decay_then_rule() {
    let mut config = sgd(0.1);
    config.weight_decay = Some(0.5);
    let mut opt = Optimizer::new(config).unwrap();
    let w = tensor(&[2.0], DType::F64);
    opt.apply(std::slice::from_ref(&w), &[grad(&[1.0], DType::F64)])
        .unwrap();
    // w = 2 - 2 * 0.5 * 0.1 - 0.1 * 1
    assert!((w.to_f64_vec()[0] - 1.8).abs() < 1e-15);
}

#[test]
fn clipping_variants() {
    let run = |config: OptimizerConfig| {
        let mut opt = Optimizer::new(config).unwrap();
        let a = tensor(&[0.0, 0.0], DType::F64);
        let b = tensor(&[0.0], DType::F64);
        opt.apply(
            &[a.clone(), b.clone()],
            &[grad(&[3.0, 4.0], DType::F64), grad(&[-12.0], DType::F64)],
        )
        .unwrap();
        (a.to_f64_vec(), b.to_f64_vec())
    };
    let mut c = sgd(1.0);
    c.clipnorm = Some(1.0);
    let (a, b) = run(c);
    assert!((a[0] + 0.6).abs() < 1e-15 && (a[1] + 0.8).abs() < 1e-15 && b[0] == 1.0);
    let mut c = sgd(1.0);
    c.global_clipnorm = Some(6.5);
    let (a, b) = run(c);
    assert!((a[0] + 1.5).abs() < 1e-12 && (a[1] + 2.0).abs() < 1e-12);
    assert!((b[0] - 6.0).abs() < 1e-12);
    let mut c = sgd(1.0);
    c.clipvalue = Some(3.5);
    assert_eq!(run(c), (vec![-3.0, -3.5], vec![3.5]));
}

#[test]
fn bad_configs_echo_the_value() {
    let msg = Optimizer::new(sgd(-1.0)).unwrap_err().to_string();
    assert!(msg.contains("learning_rate=-1.0"), "{msg}");
    let mut c = sgd(0.1);
    c.clipnorm = Some(1.0);
    c.clipvalue = Some(1.0);
    assert!(Optimizer::new(c).is_err());
    let mut c = OptimizerConfig::new(AdamW::default(), Schedule::constant(0.1));
    c.weight_decay = None;
    assert!(
        Optimizer::new(c)
            .unwrap_err()
            .to_string()
            .contains("weight_decay=None")
    );
    let mut opt = Optimizer::new(sgd(0.1)).unwrap();
    assert!(opt.set_learning_rate(f64::NAN).is_err());
    assert_eq!(opt.current_learning_rate(), 0.1);
}

#[test]
fn step_skips_params_without_grad() {
    let mut opt = Optimizer::new(sgd(0.5)).unwrap();
    let a = tensor(&[1.0], DType::F32);
    let b = tensor(&[1.0], DType::F32);
    assert!(opt.step(&[a.clone(), b.clone()]).is_err());
    a.set_grad(Some(Tensor::new(
        (*grad(&[1.0], DType::F32)).clone(),
        false,
    )))
    .unwrap();
    opt.step(&[a.clone(), b.clone()]).unwrap();
    assert_eq!((a.to_f64_vec(), b.to_f64_vec()), (vec![0.5], vec![1.0]));
    assert_eq!(opt.iterations(), 1);
}

#[test]
fn slots_round_trip_and_rejected_load() {
    let config = OptimizerConfig::new(
        Adam {
            amsgrad: true,
            ..Adam::default()
        },
        Schedule::constant(0.1),
    );
    let mut opt = Optimizer::new(config.clone()).unwrap();
    let w = tensor(&[1.0, 2.0], DType::F32);
    opt.apply(std::slice::from_ref(&w), &[grad(&[0.5, -1.0], DType::F32)])
        .unwrap();
    let saved = opt.slots(std::slice::from_ref(&w));
    let names: Vec<&str> = saved.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["0/momentum", "0/velocity", "0/velocity_hat"]);

    let mut fresh = Optimizer::new(config).unwrap();
    fresh.set_iterations(1);
    fresh
        .load_slots(std::slice::from_ref(&w), saved.clone())
        .unwrap();
    let w2 = Tensor::new((*w.data()).clone(), true);
    // Same state, same next step: compare a copy stepped by the old and the new optimizer.
    let g = grad(&[0.25, 0.75], DType::F32);
    opt.apply(std::slice::from_ref(&w), std::slice::from_ref(&g))
        .unwrap();
    let renamed: Vec<(String, Storage)> = saved.clone();
    let mut other = Optimizer::new(fresh.config().clone()).unwrap();
    other.set_iterations(1);
    other
        .load_slots(std::slice::from_ref(&w2), renamed)
        .unwrap();
    other.apply(std::slice::from_ref(&w2), &[g]).unwrap();
    assert_eq!(w.to_f64_vec(), w2.to_f64_vec());

    // A wrong shape, an unknown name and an incomplete set are all refused, changing nothing.
    let before = fresh.slots(std::slice::from_ref(&w));
    let mut bad = saved.clone();
    bad[1].1 = Storage::zeros(DType::F32, &[3]).unwrap();
    assert!(fresh.load_slots(std::slice::from_ref(&w), bad).is_err());
    let mut bad = saved.clone();
    bad[0].0 = "0/nope".into();
    assert!(fresh.load_slots(std::slice::from_ref(&w), bad).is_err());
    assert!(
        fresh
            .load_slots(std::slice::from_ref(&w), saved[..2].to_vec())
            .is_err()
    );
    let mut bad = saved.clone();
    bad[2].1 = Storage::zeros(DType::F64, &[2]).unwrap();
    assert!(fresh.load_slots(std::slice::from_ref(&w), bad).is_err());
    let after = fresh.slots(&[w]);
    assert_eq!(before.len(), after.len());
    for ((_, x), (_, y)) in before.iter().zip(&after) {
        assert_eq!(x.to_f64_vec(), y.to_f64_vec());
    }
}

#[test]
fn same_result_on_one_and_two_threads() {
    let n: usize = (1 << 20) + 123;
    let original = crate::parallel::num_threads();
    let values: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 / 500.0 - 1.0)
        .collect();
    let grads: Vec<f64> = (0..n)
        .map(|i| ((i * 104_729) % 997) as f64 / 300.0 - 1.5)
        .collect();
    let run = |threads: usize| {
        crate::parallel::set_num_threads(threads).unwrap();
        let mut config = OptimizerConfig::new(Adam::default(), Schedule::constant(1e-3));
        config.global_clipnorm = Some(10.0);
        config.weight_decay = Some(0.01);
        let mut opt = Optimizer::new(config).unwrap();
        let w = tensor(&values, DType::F32);
        let g = grad(&grads, DType::F32);
        for _ in 0..3 {
            opt.apply(std::slice::from_ref(&w), std::slice::from_ref(&g))
                .unwrap();
        }
        w.to_f64_vec()
    };
    let one = run(1);
    let two = run(2);
    crate::parallel::set_num_threads(original).unwrap();
    assert!(
        one.iter()
            .zip(&two)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}
