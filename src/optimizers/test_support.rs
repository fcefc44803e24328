//! Helpers for the rules' unit tests.

use ndarray::{ArrayD, IxDyn};

use super::clipping::GradPrep;
use super::rule::{OptimizerRule, UpdateRule};
use crate::storage::Storage;

/// Runs `steps` updates of `rule` on `w` with the constant gradient `g` at learning rate `lr`,
/// without clipping or decay, through the same path as the optimizer; returns the slots.
pub(crate) fn run<R: OptimizerRule>(
    rule: &R,
    w: &mut [f64],
    g: &[f64],
    steps: u64,
    lr: f64,
) -> Vec<Storage> {
    let mut slots: Vec<Storage> = rule
        .slot_names()
        .iter()
        .map(|_| {
            Storage::F64(ArrayD::from_elem(IxDyn(&[w.len()]), rule.slot_initial_value()).into())
        })
        .collect();
    let prep = GradPrep {
        scale: 1.0,
        clip: f64::INFINITY,
        decay: None,
    };
    let rule = UpdateRule::new(rule.clone());
    for t in 1..=steps {
        rule.update(w, g, &mut slots, prep, lr, t).unwrap();
    }
    slots
}
