//! Metric states made of sums, which add up across the processes of a data-parallel run: the
//! state of the whole global batch is the element-wise sum of the processes' states.

use std::any::Any;

use super::auc::Buckets;
use super::confusion::Confusion;
use super::f1_score::F1State;
use super::mean::Mean;
use super::r2_score::R2State;

/// A state that is a list of sums (totals, counts, confusion counts).
///
/// Example: `Mean { total: 3.0, count: 2.0 }` is `[3.0, 2.0]`; two processes' `[3, 2]` and
/// `[1, 2]` make the state `[4, 4]`, a mean of 1.
pub(crate) trait SummedState {
    /// The sums, in a fixed order.
    fn sums(&self) -> Vec<f64>;

    /// Sets the state from the start of `sums` (in `sums`' order); returns how many it read.
    fn set_sums(&mut self, sums: &[f64]) -> usize;
}

/// Copies `sums` into the vectors of a state, in order; returns how many were read.
pub(crate) fn fill(parts: &mut [&mut Vec<f64>], sums: &[f64]) -> usize {
    let mut at = 0;
    for part in parts {
        let len = part.len();
        part.copy_from_slice(&sums[at..at + len]);
        at += len;
    }
    at
}

/// `state` as a `SummedState`, when it is one of the summed kinds.
pub(super) fn summed(state: &dyn Any) -> Option<&dyn SummedState> {
    if let Some(s) = state.downcast_ref::<Mean>() {
        return Some(s);
    }
    if let Some(s) = state.downcast_ref::<Confusion>() {
        return Some(s);
    }
    if let Some(s) = state.downcast_ref::<Buckets>() {
        return Some(s);
    }
    if let Some(s) = state.downcast_ref::<F1State>() {
        return Some(s);
    }
    state
        .downcast_ref::<R2State>()
        .map(|s| s as &dyn SummedState)
}

/// `state` as a mutable `SummedState`, when it is one of the summed kinds.
pub(super) fn summed_mut(state: &mut dyn Any) -> Option<&mut dyn SummedState> {
    if state.is::<Mean>() {
        return state
            .downcast_mut::<Mean>()
            .map(|s| s as &mut dyn SummedState);
    }
    if state.is::<Confusion>() {
        return state
            .downcast_mut::<Confusion>()
            .map(|s| s as &mut dyn SummedState);
    }
    if state.is::<Buckets>() {
        return state
            .downcast_mut::<Buckets>()
            .map(|s| s as &mut dyn SummedState);
    }
    if state.is::<F1State>() {
        return state
            .downcast_mut::<F1State>()
            .map(|s| s as &mut dyn SummedState);
    }
    state
        .downcast_mut::<R2State>()
        .map(|s| s as &mut dyn SummedState)
}
