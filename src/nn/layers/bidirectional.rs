//! `Bidirectional`: a recurrent layer run forwards and a copy of it run backwards over the same
//! sequence, their outputs merged (Keras's wrapper).
//!
//! As in Keras, the backward copy's output sequence is flipped back to the input's time order
//! before merging, and when returning sequences both halves output zeros at masked steps. The
//! weights are named "forward_lstm/kernel", "backward_lstm/kernel", ... (after the wrapped kind).

use serde::{Deserialize, Serialize};

use super::rnn::{Recurrent, RecurrentConfig};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::nn::{
    Context, Layer, LayerRegistration, Mask, Shape, Weight, parse_config, single_input,
};
use crate::ops::binary::BinaryOp;
use crate::ops::join::concat;
use crate::ops::recurrent::{CellKind, RecurrentOptions};
use crate::tensor::Tensor;

/// A layer inside a wrapper, as Keras stores it: `{"class_name": "LSTM", "config": {...}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrappedLayer {
    pub class_name: String,
    pub config: serde_json::Value,
}

fn concat_name() -> Option<String> {
    Some("concat".into())
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BidirectionalConfig {
    pub layer: WrappedLayer,
    /// "concat", "sum", "ave", "mul", or null (the two outputs separately, on direct calls only).
    #[serde(default = "concat_name")]
    pub merge_mode: Option<String>,
    #[serde(default)]
    pub backward_layer: Option<WrappedLayer>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merge {
    Concat,
    Sum,
    Average,
    Multiply,
    Separate,
}

pub struct Bidirectional {
    config: BidirectionalConfig,
    merge: Merge,
    forward_layer: Recurrent,
    backward_layer: Recurrent,
}

fn cell_kind(class_name: &str) -> Result<CellKind> {
    match class_name {
        "SimpleRNN" => Ok(CellKind::SimpleRnn),
        "LSTM" => Ok(CellKind::Lstm),
        "GRU" => Ok(CellKind::Gru),
        other => Err(Error::value(format!(
            "Bidirectional wraps a SimpleRNN, LSTM or GRU layer, received {other:?}"
        ))),
    }
}

impl Bidirectional {
    pub fn build(
        config: BidirectionalConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Bidirectional> {
        let merge = match config.merge_mode.as_deref() {
            Some("concat") => Merge::Concat,
            Some("sum") => Merge::Sum,
            Some("ave") => Merge::Average,
            Some("mul") => Merge::Multiply,
            None => Merge::Separate,
            Some(other) => {
                return Err(Error::value(format!(
                    "Bidirectional: merge_mode must be one of 'concat', 'sum', 'ave', 'mul' or \
                     None, received merge_mode={other:?}"
                )));
            }
        };
        let kind = cell_kind(&config.layer.class_name)?;
        let forward_config: RecurrentConfig =
            parse_config(&config.layer.class_name, &config.layer.config)?;
        let (backward_kind, backward_config) = match &config.backward_layer {
            Some(layer) => (
                cell_kind(&layer.class_name)?,
                parse_config::<RecurrentConfig>(&layer.class_name, &layer.config)?,
            ),
            None => (
                kind,
                RecurrentConfig {
                    go_backwards: true,
                    ..forward_config.clone()
                },
            ),
        };
        if backward_kind != kind {
            return Err(Error::value(format!(
                "Bidirectional: the backward layer must be a {} like the forward one, received \
                 a {}",
                kind.name(),
                backward_kind.name()
            )));
        }
        if forward_config.go_backwards == backward_config.go_backwards {
            return Err(Error::value(format!(
                "Bidirectional: the forward and backward layers must differ in go_backwards, \
                 both have go_backwards={}",
                forward_config.go_backwards
            )));
        }
        for (which, a, b) in [
            (
                "return_sequences",
                forward_config.return_sequences,
                backward_config.return_sequences,
            ),
            (
                "return_state",
                forward_config.return_state,
                backward_config.return_state,
            ),
        ] {
            if a != b {
                return Err(Error::value(format!(
                    "Bidirectional: the forward and backward layers must agree on {which}, \
                     received {a} and {b}"
                )));
            }
        }
        let forward_layer = Recurrent::build(kind, forward_config, input_shapes, dtype)?;
        let backward_layer = Recurrent::build(kind, backward_config, input_shapes, dtype)?;
        Ok(Bidirectional {
            config,
            merge,
            forward_layer,
            backward_layer,
        })
    }

    fn returns_sequences(&self) -> bool {
        self.forward_layer.options().return_sequences
    }

    fn returns_state(&self) -> bool {
        self.forward_layer.options().return_state
    }

    /// The two halves' outputs (the backward one in the input's time order) and their states.
    fn run_halves(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<(Tensor, Tensor, Vec<Tensor>)> {
        let x = single_input("Bidirectional", inputs)?;
        let sequences = self.returns_sequences();
        let forward_options = RecurrentOptions {
            zero_output_for_mask: sequences,
            ..self.forward_layer.options()
        };
        let backward_options = RecurrentOptions {
            zero_output_for_mask: sequences,
            reverse_output_sequence: sequences,
            ..self.backward_layer.options()
        };
        let forward = self.forward_layer.run(x, mask, ctx, &forward_options)?;
        let backward = self.backward_layer.run(x, mask, ctx, &backward_options)?;
        let states = forward.states.into_iter().chain(backward.states).collect();
        Ok((forward.output, backward.output, states))
    }

    fn merge(&self, forward: &Tensor, backward: &Tensor) -> Result<Tensor> {
        match self.merge {
            Merge::Concat => concat(&[forward.clone(), backward.clone()], -1),
            Merge::Sum => forward.add(backward),
            Merge::Average => forward.add(backward)?.scalar_op(BinaryOp::Mul, 0.5, false),
            Merge::Multiply => forward.mul(backward),
            Merge::Separate => Err(several_outputs("merge_mode=None")),
        }
    }

    /// A model's layers have one output; these settings give several.
    fn refuse_several_outputs(&self) -> Result<()> {
        if self.returns_state() {
            return Err(several_outputs("return_state=True"));
        }
        if self.merge == Merge::Separate {
            return Err(several_outputs("merge_mode=None"));
        }
        Ok(())
    }
}

fn several_outputs(setting: &str) -> Error {
    Error::value(format!(
        "Bidirectional with {setting} has several outputs, not one; take them all \
         (output_shapes, forward_outputs: a graph node's outputs 0, 1, ...)"
    ))
}

/// The weight names of one half, after the wrapped kind.
fn half_names(kind: CellKind, backward: bool) -> [&'static str; 3] {
    macro_rules! names {
        ($prefix:literal) => {
            [
                concat!($prefix, "/kernel"),
                concat!($prefix, "/recurrent_kernel"),
                concat!($prefix, "/bias"),
            ]
        };
    }
    match (kind, backward) {
        (CellKind::SimpleRnn, false) => names!("forward_simple_rnn"),
        (CellKind::SimpleRnn, true) => names!("backward_simple_rnn"),
        (CellKind::Lstm, false) => names!("forward_lstm"),
        (CellKind::Lstm, true) => names!("backward_lstm"),
        (CellKind::Gru, false) => names!("forward_gru"),
        (CellKind::Gru, true) => names!("backward_gru"),
    }
}

impl Layer for Bidirectional {
    fn kind(&self) -> &'static str {
        "Bidirectional"
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.refuse_several_outputs()?;
        let mut shape = self.forward_layer.sequence_output_shape(input)?;
        if self.merge == Merge::Concat
            && let Some(Some(last)) = shape.last_mut()
        {
            *last *= 2;
        }
        Ok(shape)
    }

    /// With `merge_mode=None` the two halves, then with `return_state=True` the forward
    /// layer's final states and the backward layer's, each (batch, units).
    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        let half = self.forward_layer.sequence_output_shape(input)?;
        let mut shapes = match self.merge {
            Merge::Separate => vec![half.clone(), half.clone()],
            _ => {
                let mut merged = half.clone();
                if self.merge == Merge::Concat
                    && let Some(Some(last)) = merged.last_mut()
                {
                    *last *= 2;
                }
                vec![merged]
            }
        };
        if self.returns_state() {
            let state = vec![half[0], half.last().copied().flatten()];
            let count = 2 * self.forward_layer.cell().state_count();
            shapes.extend(std::iter::repeat_n(state, count));
        }
        Ok(shapes)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.refuse_several_outputs()?;
        let (forward, backward, _) = self.run_halves(inputs, mask, ctx)?;
        self.merge(&forward, &backward)
    }

    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        let (forward, backward, states) = self.run_halves(inputs, mask, ctx)?;
        let mut outputs = match self.merge {
            Merge::Separate => vec![forward, backward],
            _ => vec![self.merge(&forward, &backward)?],
        };
        outputs.extend(states);
        Ok(outputs)
    }

    fn compute_mask(&self, _inputs: &[Tensor], mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(if self.returns_sequences() {
            mask.cloned()
        } else {
            None
        })
    }

    /// With `merge_mode=None` both halves carry the sequence's mask; states have none.
    fn output_masks(&self, inputs: &[Tensor], masks: &[Option<Mask>]) -> Result<Vec<Option<Mask>>> {
        let mask = self.compute_mask(inputs, crate::nn::first_mask(masks))?;
        Ok(match self.merge {
            Merge::Separate => vec![mask.clone(), mask],
            _ => vec![mask],
        })
    }

    fn weights(&self) -> Vec<Weight> {
        let kind = self.forward_layer.cell();
        let named = |layer: &Recurrent, backward: bool| {
            let names = half_names(kind, backward);
            layer.weights().into_iter().map(move |w| Weight {
                name: match &*w.name {
                    "kernel" => names[0].into(),
                    "recurrent_kernel" => names[1].into(),
                    _ => names[2].into(),
                },
                ..w
            })
        };
        named(&self.forward_layer, false)
            .chain(named(&self.backward_layer, true))
            .collect()
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        let forward = self.forward_layer.regularization_loss()?;
        let backward = self.backward_layer.regularization_loss()?;
        Ok(match (forward, backward) {
            (Some(a), Some(b)) => Some(a.add(&b)?),
            (a, b) => a.or(b),
        })
    }
}

inventory::submit! {
    LayerRegistration {
        kind: "Bidirectional",
        build: |config, input_shapes, dtype| {
            Ok(Box::new(Bidirectional::build(
                parse_config("Bidirectional", config)?,
                input_shapes,
                dtype,
            )?))
        },
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::ops::test_util::randn;

    fn build(config: serde_json::Value) -> Result<Bidirectional> {
        Bidirectional::build(
            serde_json::from_value(config).unwrap(),
            &[vec![None, Some(4), Some(3)]],
            DType::F64,
        )
    }

    #[test]
    fn concatenates_the_forward_and_flipped_backward_halves() {
        let layer = build(serde_json::json!({
            "layer": {"class_name": "GRU", "config": {"units": 2, "return_sequences": true}},
        }))
        .unwrap();
        assert_eq!(
            layer.output_shape(&[vec![None, Some(4), Some(3)]]).unwrap(),
            vec![None, Some(4), Some(4)]
        );
        let names: Vec<String> = layer.weights().iter().map(|w| w.name.to_string()).collect();
        assert_eq!(names[0], "forward_gru/kernel");
        assert_eq!(names[5], "backward_gru/bias");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        let x = randn(&[2, 4, 3], 5);
        let out = layer
            .forward(std::slice::from_ref(&x), None, &mut ctx)
            .unwrap();
        assert_eq!(out.shape(), &[2, 4, 4]);
        // The concatenation keeps the storage's C-contiguous invariant (Dense relies on it).
        assert!(out.data().typed::<f64>().unwrap().is_standard_layout());
        // The backward half's output at the first step has read the whole sequence: it equals
        // the backward layer's last output.
        let mut last_only = layer.backward_layer.options();
        last_only.return_sequences = false;
        let backward_last = layer
            .backward_layer
            .run(&x, None, &mut ctx, &last_only)
            .unwrap()
            .output
            .to_f64_vec();
        let out = out.to_f64_vec();
        assert_eq!(&out[2..4], &backward_last[..2]);
    }

    #[test]
    fn mismatched_halves_are_refused() {
        let err = build(serde_json::json!({
            "layer": {"class_name": "LSTM", "config": {"units": 2, "go_backwards": true}},
        }))
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("go_backwards"), "{err}");
        assert!(
            build(serde_json::json!({
                "layer": {"class_name": "Dense", "config": {"units": 2}},
            }))
            .is_err()
        );
        assert!(
            build(serde_json::json!({
                "layer": {"class_name": "LSTM", "config": {"units": 2}},
                "merge_mode": "max",
            }))
            .is_err()
        );
    }
}
