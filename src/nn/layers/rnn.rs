//! What the recurrent layers `SimpleRNN`, `LSTM` and `GRU` share (each declares itself in its
//! own file): one fused op per call (see `ops::recurrent`), with Keras's settings, defaults and
//! weight layout.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::initializers::{GlorotUniform, Initializer, Orthogonal, Zeros};
use crate::nn::{Context, Layer, Mask, Regularizer, Shape, Weight, format_shape, total_penalty};
use crate::ops::activation::Activation;
use crate::ops::recurrent::{
    CellKind, DropoutMasks, RecurrentOptions, RecurrentOutputs, RecurrentWeights, recurrent_from,
};
use crate::ops::unary::UnaryFn;
use crate::storage::Storage;
use crate::tensor::Tensor;

fn default_true() -> bool {
    true
}
fn tanh_name() -> String {
    "tanh".into()
}
fn glorot_uniform() -> Initializer {
    GlorotUniform {}.into()
}
fn orthogonal() -> Initializer {
    Orthogonal { gain: 1.0 }.into()
}
fn zeros() -> Initializer {
    Zeros {}.into()
}

/// The settings of `SimpleRNN`, `LSTM` and `GRU`, with Keras's names. The fields that belong to
/// one kind only (`recurrent_activation`, `unit_forget_bias`, `reset_after`) are filled in with
/// that kind's defaults when the layer is built, and refused by the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrentConfig {
    pub units: usize,
    #[serde(default = "tanh_name")]
    pub activation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrent_activation: Option<String>,
    #[serde(default = "default_true")]
    pub use_bias: bool,
    #[serde(default = "glorot_uniform")]
    pub kernel_initializer: Initializer,
    #[serde(default = "orthogonal")]
    pub recurrent_initializer: Initializer,
    #[serde(default = "zeros")]
    pub bias_initializer: Initializer,
    /// LSTM: start the forget gate's bias at 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_forget_bias: Option<bool>,
    /// GRU: apply the reset gate after the recurrent matmul (only `true` is supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_after: Option<bool>,
    #[serde(default)]
    pub kernel_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub recurrent_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub bias_regularizer: Option<Regularizer>,
    #[serde(default)]
    pub dropout: f64,
    #[serde(default)]
    pub recurrent_dropout: f64,
    #[serde(default)]
    pub return_sequences: bool,
    #[serde(default)]
    pub return_state: bool,
    #[serde(default)]
    pub go_backwards: bool,
    #[serde(default)]
    pub zero_output_for_mask: bool,
}

/// A built `SimpleRNN`, `LSTM` or `GRU` layer.
pub struct Recurrent {
    config: RecurrentConfig,
    options: RecurrentOptions,
    kernel: Tensor,
    recurrent_kernel: Tensor,
    bias: Option<Tensor>,
}

/// An activation a cell can use: `None` for linear.
fn cell_activation(kind: CellKind, which: &str, name: &str) -> Result<Option<UnaryFn>> {
    match Activation::parse(name)? {
        Activation::Linear => Ok(None),
        Activation::Elementwise(f) => Ok(Some(f)),
        Activation::Softmax => Err(Error::value(format!(
            "{}: {which}='softmax' is not supported in a recurrent cell",
            kind.name()
        ))),
    }
}

impl Recurrent {
    pub fn build(
        kind: CellKind,
        mut config: RecurrentConfig,
        input_shapes: &[Shape],
        dtype: DType,
    ) -> Result<Recurrent> {
        let name = kind.name();
        if config.units == 0 {
            return Err(Error::value(format!(
                "{name}: units must be a positive integer, received units=0"
            )));
        }
        for (which, rate) in [
            ("dropout", config.dropout),
            ("recurrent_dropout", config.recurrent_dropout),
        ] {
            if !(0.0..1.0).contains(&rate) {
                return Err(Error::value(format!(
                    "{name}: {which} must be in [0, 1), received {which}={rate}"
                )));
            }
        }
        fill_kind_settings(kind, &mut config)?;
        let input = sequence_and_states(kind, input_shapes)?.0;
        let input_dim = match input.as_slice() {
            [_, _, Some(features)] => *features,
            _ => {
                return Err(Error::shape(
                    name,
                    format!(
                        "expected an input of shape (batch, time, features) with known features, \
                         received input shape {}",
                        format_shape(input)
                    ),
                ));
            }
        };
        let options = RecurrentOptions {
            cell: kind,
            activation: cell_activation(kind, "activation", &config.activation)?,
            recurrent_activation: match &config.recurrent_activation {
                Some(f) => cell_activation(kind, "recurrent_activation", f)?,
                None => Some(UnaryFn::Sigmoid),
            },
            return_sequences: config.return_sequences,
            return_state: config.return_state,
            go_backwards: config.go_backwards,
            zero_output_for_mask: config.zero_output_for_mask,
            reverse_output_sequence: false,
        };
        let units = config.units;
        let width = kind.gates() * units;
        let kernel = config
            .kernel_initializer
            .tensor(&[input_dim, width], dtype)?;
        let recurrent_kernel = config
            .recurrent_initializer
            .tensor(&[units, width], dtype)?;
        let bias = if config.use_bias {
            let bias = config
                .bias_initializer
                .tensor(&kind.bias_shape(units), dtype)?;
            if config.unit_forget_bias == Some(true) {
                // Keras's forget-gate bias starts at ones: (init, ones, init, init).
                let mut values = bias.to_f64_vec();
                values[units..2 * units].fill(1.0);
                bias.set_data(Storage::from_f64_vec(dtype, bias.shape(), values)?)?;
            }
            Some(bias)
        } else {
            None
        };
        for weight in [Some(&kernel), Some(&recurrent_kernel), bias.as_ref()]
            .into_iter()
            .flatten()
        {
            weight.set_requires_grad(true)?;
        }
        Ok(Recurrent {
            config,
            options,
            kernel,
            recurrent_kernel,
            bias,
        })
    }

    pub fn cell(&self) -> CellKind {
        self.options.cell
    }

    pub fn options(&self) -> RecurrentOptions {
        self.options
    }

    /// Runs the layer with `options` (its own, possibly adjusted by a wrapper).
    pub fn run(
        &self,
        x: &Tensor,
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
        options: &RecurrentOptions,
    ) -> Result<RecurrentOutputs> {
        self.run_from(x, &[], mask, ctx, options)
    }

    /// `run` from the given initial states (none for zeros; h, and c for an LSTM).
    pub fn run_from(
        &self,
        x: &Tensor,
        initial_state: &[&Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
        options: &RecurrentOptions,
    ) -> Result<RecurrentOutputs> {
        let mut dropout = DropoutMasks::default();
        if ctx.training && x.ndim() == 3 {
            let (batch, input_dim) = (x.shape()[0], x.shape()[2]);
            dropout.input = dropout_mask(batch, input_dim, self.config.dropout, ctx.rng);
            dropout.recurrent = dropout_mask(
                batch,
                self.config.units,
                self.config.recurrent_dropout,
                ctx.rng,
            );
        }
        let weights = RecurrentWeights {
            kernel: &self.kernel,
            recurrent_kernel: &self.recurrent_kernel,
            bias: self.bias.as_ref(),
        };
        recurrent_from(
            x,
            &weights,
            initial_state,
            mask.map(|m| &**m),
            &dropout,
            options,
        )
    }

    /// The output shape, without the states.
    pub fn sequence_output_shape(&self, input: &[Shape]) -> Result<Shape> {
        let (input, states) = sequence_and_states(self.cell(), input)?;
        for (index, state) in states.iter().enumerate() {
            let fits = state.len() == 2
                && state[1] == Some(self.config.units)
                && (state[0].is_none() || input[0].is_none() || state[0] == input[0]);
            if !fits {
                return Err(Error::shape(
                    self.cell().name(),
                    format!(
                        "initial_state[{index}] must have shape (batch, units) = ({}, {}), \
                         received shape {}",
                        input[0].map_or("None".to_string(), |b| b.to_string()),
                        self.config.units,
                        format_shape(state)
                    ),
                ));
            }
        }
        let batch = input.first().copied().flatten();
        Ok(if self.config.return_sequences {
            vec![
                batch,
                input.get(1).copied().flatten(),
                Some(self.config.units),
            ]
        } else {
            vec![batch, Some(self.config.units)]
        })
    }

    fn refuse_return_state(&self) -> Result<()> {
        if self.config.return_state {
            return Err(Error::value(format!(
                "{name} with return_state=True has several outputs ([output, {states}]), not \
                 one; take them all (output_shapes, forward_outputs: a graph node's outputs 0, \
                 1, ...) or use return_state=False",
                name = self.cell().name(),
                states = if self.cell() == CellKind::Lstm {
                    "h, c"
                } else {
                    "h"
                },
            )));
        }
        Ok(())
    }
}

/// A recurrent layer's inputs: the sequence, then optionally its initial states (h, and c for
/// an LSTM), as Keras's `layer(x, initial_state=[h, c])`.
fn sequence_and_states<T>(kind: CellKind, inputs: &[T]) -> Result<(&T, &[T])> {
    match inputs {
        [x] => Ok((x, &[])),
        [x, states @ ..] if states.len() == kind.state_count() => Ok((x, states)),
        _ => Err(Error::value(format!(
            "a {name} layer takes its input and optionally {count} initial state(s) ({which}), \
             received {received} inputs",
            name = kind.name(),
            count = kind.state_count(),
            which = if kind == CellKind::Lstm { "h, c" } else { "h" },
            received = inputs.len()
        ))),
    }
}

/// Checks and fills in the settings that belong to one kind of cell.
fn fill_kind_settings(kind: CellKind, config: &mut RecurrentConfig) -> Result<()> {
    let misplaced = [
        (
            "recurrent_activation",
            "LSTM and GRU",
            config.recurrent_activation.is_some() && kind == CellKind::SimpleRnn,
        ),
        (
            "unit_forget_bias",
            "LSTM",
            config.unit_forget_bias.is_some() && kind != CellKind::Lstm,
        ),
        (
            "reset_after",
            "GRU",
            config.reset_after.is_some() && kind != CellKind::Gru,
        ),
    ];
    if let Some((field, owner, _)) = misplaced.iter().find(|(_, _, wrong)| *wrong) {
        return Err(Error::value(format!(
            "{} has no setting {field:?} (it belongs to {owner})",
            kind.name()
        )));
    }
    if kind != CellKind::SimpleRnn {
        config
            .recurrent_activation
            .get_or_insert_with(|| "sigmoid".into());
    }
    if kind == CellKind::Lstm {
        config.unit_forget_bias.get_or_insert(true);
    }
    if kind == CellKind::Gru && !*config.reset_after.get_or_insert(true) {
        return Err(Error::value(
            "GRU: reset_after=False is not supported; ferrograd implements Keras 3's default \
             reset_after=True (the cuDNN and PyTorch convention)",
        ));
    }
    Ok(())
}

/// A Keras-style dropout mask drawn once per call: each value kept with probability
/// `1 - rate` and scaled by `1 / (1 - rate)`.
fn dropout_mask(
    rows: usize,
    cols: usize,
    rate: f64,
    rng: &mut impl Rng,
) -> Option<ndarray::Array2<f64>> {
    if rate <= 0.0 {
        return None;
    }
    let keep_below = ((1.0 - rate) * 4_294_967_296.0) as u64;
    let scale = 1.0 / (1.0 - rate);
    Some(ndarray::Array2::from_shape_simple_fn((rows, cols), || {
        if u64::from(rng.next_u32()) < keep_below {
            scale
        } else {
            0.0
        }
    }))
}

impl Layer for Recurrent {
    fn kind(&self) -> &'static str {
        self.cell().name()
    }

    fn config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or_default()
    }

    fn output_shape(&self, input: &[Shape]) -> Result<Shape> {
        self.refuse_return_state()?;
        self.sequence_output_shape(input)
    }

    /// The output, then with `return_state=True` the final states (h, and c for an LSTM),
    /// each (batch, units).
    fn output_shapes(&self, input: &[Shape]) -> Result<Vec<Shape>> {
        let mut shapes = vec![self.sequence_output_shape(input)?];
        if self.config.return_state {
            let batch = shapes[0][0];
            let states = self.cell().state_count();
            shapes.extend(std::iter::repeat_n(
                vec![batch, Some(self.config.units)],
                states,
            ));
        }
        Ok(shapes)
    }

    fn forward(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Tensor> {
        self.refuse_return_state()?;
        let (x, states) = sequence_and_states(self.cell(), inputs)?;
        let states: Vec<&Tensor> = states.iter().collect();
        Ok(self.run_from(x, &states, mask, ctx, &self.options)?.output)
    }

    fn forward_outputs(
        &self,
        inputs: &[Tensor],
        mask: Option<&Mask>,
        ctx: &mut Context<'_>,
    ) -> Result<Vec<Tensor>> {
        let (x, states) = sequence_and_states(self.cell(), inputs)?;
        let states: Vec<&Tensor> = states.iter().collect();
        let out = self.run_from(x, &states, mask, ctx, &self.options)?;
        Ok(std::iter::once(out.output).chain(out.states).collect())
    }

    /// The mask follows the sequence; a single output has no time axis left to mask.
    fn compute_mask(&self, _inputs: &[Tensor], mask: Option<&Mask>) -> Result<Option<Mask>> {
        Ok(if self.config.return_sequences {
            mask.cloned()
        } else {
            None
        })
    }

    fn weights(&self) -> Vec<Weight> {
        let mut weights = vec![
            Weight {
                name: "kernel".into(),
                tensor: self.kernel.clone(),
                trainable: true,
            },
            Weight {
                name: "recurrent_kernel".into(),
                tensor: self.recurrent_kernel.clone(),
                trainable: true,
            },
        ];
        if let Some(bias) = &self.bias {
            weights.push(Weight {
                name: "bias".into(),
                tensor: bias.clone(),
                trainable: true,
            });
        }
        weights
    }

    fn regularization_loss(&self) -> Result<Option<Tensor>> {
        total_penalty(&[
            (self.config.kernel_regularizer, Some(&self.kernel)),
            (
                self.config.recurrent_regularizer,
                Some(&self.recurrent_kernel),
            ),
            (self.config.bias_regularizer, self.bias.as_ref()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn build(kind: CellKind, config: serde_json::Value) -> Result<Recurrent> {
        let config: RecurrentConfig = serde_json::from_value(config).unwrap();
        Recurrent::build(kind, config, &[vec![None, Some(5), Some(3)]], DType::F64)
    }

    #[test]
    fn keras_defaults_and_weight_shapes() {
        let lstm = build(CellKind::Lstm, serde_json::json!({"units": 4})).unwrap();
        let shapes: Vec<Vec<usize>> = lstm
            .weights()
            .iter()
            .map(|w| w.tensor.shape().to_vec())
            .collect();
        assert_eq!(shapes, vec![vec![3, 16], vec![4, 16], vec![16]]);
        let bias = lstm.bias.as_ref().unwrap().to_f64_vec();
        assert_eq!(&bias[4..8], &[1.0; 4]);
        assert_eq!(bias[..4].iter().chain(&bias[8..]).sum::<f64>(), 0.0);
        assert_eq!(lstm.config()["recurrent_activation"], "sigmoid");
        let gru = build(CellKind::Gru, serde_json::json!({"units": 2})).unwrap();
        assert_eq!(gru.bias.as_ref().unwrap().shape(), &[2, 6]);
        assert_eq!(
            lstm.output_shape(&[vec![None, Some(5), Some(3)]]).unwrap(),
            vec![None, Some(4)]
        );
    }

    #[test]
    fn settings_of_another_kind_are_refused_and_return_state_gives_every_output() {
        let err = build(
            CellKind::SimpleRnn,
            serde_json::json!({"units": 2, "unit_forget_bias": true}),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("LSTM"), "{err}");
        assert!(
            build(
                CellKind::Gru,
                serde_json::json!({"units": 2, "reset_after": false})
            )
            .is_err()
        );
        assert!(
            build(
                CellKind::Lstm,
                serde_json::json!({"units": 2, "dropout": 1.0})
            )
            .is_err()
        );
        let stateful = build(
            CellKind::Lstm,
            serde_json::json!({"units": 2, "return_state": true}),
        )
        .unwrap();
        let err = stateful
            .output_shape(&[vec![None, Some(5), Some(3)]])
            .unwrap_err()
            .to_string();
        assert!(err.contains("return_state"), "{err}");
        assert_eq!(
            stateful
                .output_shapes(&[vec![None, Some(5), Some(3)]])
                .unwrap(),
            vec![vec![None, Some(2)]; 3]
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut ctx = Context {
            training: false,
            rng: &mut rng,
            packed_kernels: None,
        };
        let x = crate::ops::test_util::randn(&[2, 5, 3], 1);
        let outputs = stateful.forward_outputs(&[x], None, &mut ctx).unwrap();
        assert_eq!(outputs.len(), 3);
    }

    #[test]
    fn dropout_masks_are_drawn_in_training_only() {
        let lstm = build(
            CellKind::Lstm,
            serde_json::json!({"units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}),
        )
        .unwrap();
        let x = crate::ops::test_util::randn(&[4, 5, 3], 1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut run = |training: bool| {
            let mut ctx = Context {
                training,
                rng: &mut rng,
                packed_kernels: None,
            };
            lstm.forward(std::slice::from_ref(&x), None, &mut ctx)
                .unwrap()
                .to_f64_vec()
        };
        let (a, b) = (run(false), run(false));
        assert_eq!(a, b);
        let (c, d) = (run(true), run(true));
        assert_ne!(a, c);
        assert_ne!(c, d);
    }
}
