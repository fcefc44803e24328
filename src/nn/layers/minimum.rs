//! `Minimum`: the elementwise minimum of two or more inputs of one shape (Keras's merge layer); an `ElementwiseMerge` (`merge.rs`), so its
//! gradients come from the tensor ops it is made of. The output mask keeps a step where every
//! masked input does.

use super::merge::{Combine, ElementwiseMerge};
use crate::nn::LayerRegistration;

inventory::submit! {
    LayerRegistration {
        kind: "Minimum",
        build: |config, input_shapes, _dtype| {
            ElementwiseMerge::build("Minimum", Combine::Minimum, config, input_shapes)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::merge::merge_tests::check_merge;

    #[test]
    fn merges_its_inputs_with_gradients_and_checks_their_shapes() {
        check_merge("Minimum", 3, |v| {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        });
    }
}
