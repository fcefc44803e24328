//! The fused recurrent ops: one call of a SimpleRNN, LSTM or GRU layer over a whole sequence as
//! one node of the graph, with backpropagation through time.
//!
//! The equations and gate order are Keras's (docs/weight_layout.md maps them to PyTorch's):
//!
//! - SimpleRNN: `h = act(x @ W + b + h_prev @ U)`.
//! - LSTM, gates (i, f, c, o): `z = x @ W + h_prev @ U + b`; `i, f, o = rec_act(z_i, z_f, z_o)`;
//!   `c = f * c_prev + i * act(z_c)`; `h = o * act(c)`.
//! - GRU with `reset_after`, gates (z, r, h): `x_z|x_r|x_h = x @ W + b_input`;
//!   `r_z|r_r|r_h = h_prev @ U + b_recurrent`; `z = rec_act(x_z + r_z)`;
//!   `r = rec_act(x_r + r_r)`; `hh = act(x_h + r * r_h)`; `h = z * h_prev + (1 - z) * hh`.
//!
//! Speed comes from the layout. The input projection of every time step is one large GEMM before
//! the loop; each step then does one GEMM of the previous state with the recurrent kernel,
//! `(batch, units) x (units, gates * units)`, packed once per call, and one pass of gate math.
//! Rows of a batch never meet, so the batch is cut into blocks of rows and each thread runs its
//! blocks through every step on its own, with no hand-off between threads per step. Inside the
//! loop everything is time-major, so a block's rows at a step are contiguous and nothing is
//! allocated. Backward runs the steps in reverse the same way, keeping the gradient at every
//! step's gate pre-activations, and then gets the kernel and recurrent kernel gradients from one
//! GEMM each and the bias gradient from column sums, written straight into their `.grad` buffers.
//!
//! Masking follows Keras: a masked step leaves the states unchanged and its output repeats the
//! previous output (or is zero with `zero_output_for_mask`), so the final state is the state at
//! the last unmasked step.
//!
//! The code is in files by concern: `checks.rs` (the arguments), `forward.rs` (the steps
//! forwards, keeping what backward needs), `backward.rs` (backpropagation through time and the
//! weight gradients), `blocks.rs` (blocks of batch rows run on threads of their own),
//! `layout.rs` (time-major order and buffers), `cells.rs` (the gate math of one step).

mod backward;
mod blocks;
mod cells;
mod checks;
mod fast_math;
mod forward;
mod layout;
#[cfg(test)]
mod tests;

use ndarray::Array2;

use self::backward::RecurrentBackward;
use self::checks::{check_arguments, check_initial_state};
use self::forward::{Tape, forward_typed};
use self::layout::processing_mask;
use crate::autograd::record;
use crate::error::Result;
use crate::ops::index::IndexItem;
use crate::ops::unary::UnaryFn;
use crate::storage::{Storage, array_from_vec};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    SimpleRnn,
    Lstm,
    Gru,
}

impl CellKind {
    /// The number of blocks of `units` columns in the kernels (one per gate).
    pub fn gates(self) -> usize {
        match self {
            CellKind::SimpleRnn => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// The hidden state, and the LSTM's carry.
    pub fn state_count(self) -> usize {
        match self {
            CellKind::Lstm => 2,
            _ => 1,
        }
    }

    /// The Keras class name, used in messages.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::SimpleRnn => "SimpleRNN",
            CellKind::Lstm => "LSTM",
            CellKind::Gru => "GRU",
        }
    }

    /// The bias shape for `units`: the GRU keeps separate input and recurrent biases.
    pub fn bias_shape(self, units: usize) -> Vec<usize> {
        match self {
            CellKind::Gru => vec![2, 3 * units],
            other => vec![other.gates() * units],
        }
    }

    fn backward_name(self) -> &'static str {
        match self {
            CellKind::SimpleRnn => "simple_rnn",
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }
}

/// How a recurrent op runs and what it returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentOptions {
    pub cell: CellKind,
    /// The activation of the candidate state (and of the LSTM's output); `None` is linear.
    pub activation: Option<UnaryFn>,
    /// The activation of the gates (LSTM and GRU).
    pub recurrent_activation: Option<UnaryFn>,
    /// Return the output of every step, not just the last one.
    pub return_sequences: bool,
    /// Also return the final states (h, and c for the LSTM).
    pub return_state: bool,
    /// Process the sequence from its last step to its first.
    pub go_backwards: bool,
    /// Masked steps output zeros rather than repeating the previous output (what Bidirectional
    /// asks of its halves when returning sequences). Only affects the returned sequence.
    pub zero_output_for_mask: bool,
    /// Return the output sequence in reverse processing order: with `go_backwards`, this puts
    /// each output at the time step it read (what Bidirectional's backward half needs).
    pub reverse_output_sequence: bool,
}

impl RecurrentOptions {
    /// Keras's defaults: tanh and sigmoid, the last output only, forwards.
    pub fn new(cell: CellKind) -> RecurrentOptions {
        RecurrentOptions {
            cell,
            activation: Some(UnaryFn::Tanh),
            recurrent_activation: Some(UnaryFn::Sigmoid),
            return_sequences: false,
            return_state: false,
            go_backwards: false,
            zero_output_for_mask: false,
            reverse_output_sequence: false,
        }
    }

    fn output_steps(&self, steps: usize) -> usize {
        if self.return_sequences { steps } else { 1 }
    }

    /// Rows of `units` per sample in the node's output: the output steps, then the final states
    /// when they are returned.
    fn slots(&self, steps: usize) -> usize {
        let states = if self.return_state {
            self.cell.state_count()
        } else {
            0
        };
        self.output_steps(steps) + states
    }
}

pub struct RecurrentWeights<'a> {
    /// `(input_dim, gates * units)`.
    pub kernel: &'a Tensor,
    /// `(units, gates * units)`.
    pub recurrent_kernel: &'a Tensor,
    /// `(gates * units,)`, or `(2, 3 * units)` for the GRU.
    pub bias: Option<&'a Tensor>,
}

/// Dropout multipliers (0 or `1 / (1 - rate)`), drawn once per call and used at every step:
/// `input` is `(batch, input_dim)`, `recurrent` is `(batch, units)`.
#[derive(Clone, Debug, Default)]
pub struct DropoutMasks {
    pub input: Option<Array2<f64>>,
    pub recurrent: Option<Array2<f64>>,
}

pub struct RecurrentOutputs {
    /// `(batch, time, units)` with `return_sequences`, else `(batch, units)`.
    pub output: Tensor,
    /// The final states `(batch, units)` when `return_state`: h, and c for the LSTM.
    pub states: Vec<Tensor>,
}

#[derive(Clone, Copy, Debug)]
struct Dims {
    batch: usize,
    steps: usize,
    input_dim: usize,
    units: usize,
    gates: usize,
}

impl Dims {
    fn width(&self) -> usize {
        self.gates * self.units
    }
}

/// Runs a recurrent layer over `x` of shape `(batch, time, input_dim)`.
///
/// `mask` is `(batch, time)`, true for the steps to process. The result is one node of the graph
/// (the states, when returned, are views of it).
pub fn recurrent(
    x: &Tensor,
    weights: &RecurrentWeights<'_>,
    mask: Option<&Array2<bool>>,
    dropout: &DropoutMasks,
    options: &RecurrentOptions,
) -> Result<RecurrentOutputs> {
    recurrent_from(x, weights, &[], mask, dropout, options)
}

/// `recurrent` from the given initial states rather than zeros: `initial_state` is empty (zero
/// states) or holds h_0 (and c_0 for the LSTM), each `(batch, units)`. Their gradients flow
/// back through every step, as Keras's `initial_state=[...]` (an encoder's final states feeding
/// a decoder).
pub fn recurrent_from(
    x: &Tensor,
    weights: &RecurrentWeights<'_>,
    initial_state: &[&Tensor],
    mask: Option<&Array2<bool>>,
    dropout: &DropoutMasks,
    options: &RecurrentOptions,
) -> Result<RecurrentOutputs> {
    let dims = check_arguments(x, weights, mask, dropout, options)?;
    check_initial_state(x, initial_state, dims, options)?;
    let initial_data: Vec<_> = initial_state.iter().map(|t| t.data()).collect();
    let keep = processing_mask(mask, dims, options.go_backwards);
    let x_data = x.data();
    let kernel = weights.kernel.data();
    let recurrent_kernel = weights.recurrent_kernel.data();
    let bias = weights.bias.map(Tensor::data);
    let slots = options.slots(dims.steps);
    let out_shape = if options.return_state {
        vec![dims.batch, slots, dims.units]
    } else if options.return_sequences {
        vec![dims.batch, dims.steps, dims.units]
    } else {
        vec![dims.batch, dims.units]
    };

    let (packed, tape) = match &*x_data {
        Storage::F32(_) => {
            let (out, tape) = forward_typed::<f32>(
                &x_data,
                &kernel,
                &recurrent_kernel,
                bias.as_deref(),
                &initial_data,
                keep,
                dropout,
                dims,
                options,
            )?;
            (
                Storage::F32(array_from_vec(&out_shape, out)?.into()),
                Tape::F32(tape),
            )
        }
        Storage::F64(_) => {
            let (out, tape) = forward_typed::<f64>(
                &x_data,
                &kernel,
                &recurrent_kernel,
                bias.as_deref(),
                &initial_data,
                keep,
                dropout,
                dims,
                options,
            )?;
            (
                Storage::F64(array_from_vec(&out_shape, out)?.into()),
                Tape::F64(tape),
            )
        }
    };

    let mut inputs: Vec<&Tensor> = [
        Some(x),
        Some(weights.kernel),
        Some(weights.recurrent_kernel),
        weights.bias,
    ]
    .into_iter()
    .flatten()
    .collect();
    // The initial states come last: inputs `first_state..`.
    let first_state = (!initial_state.is_empty()).then_some(inputs.len());
    inputs.extend(initial_state.iter().copied());
    let node = record(packed, &inputs, |_| RecurrentBackward {
        options: *options,
        first_state,
        kernel,
        recurrent_kernel,
        tape,
    });
    if !options.return_state {
        return Ok(RecurrentOutputs {
            output: node,
            states: Vec::new(),
        });
    }
    // The node holds [outputs..., h, (c)] per sample; the caller sees them as separate tensors.
    let all = IndexItem::Slice {
        start: None,
        stop: None,
        step: None,
    };
    let output_steps = options.output_steps(dims.steps);
    let output = if options.return_sequences {
        node.index(&[
            all.clone(),
            IndexItem::Slice {
                start: Some(0),
                stop: Some(output_steps as isize),
                step: None,
            },
        ])?
    } else {
        node.index(&[all.clone(), IndexItem::Int(0)])?
    };
    let states = (0..options.cell.state_count())
        .map(|i| node.index(&[all.clone(), IndexItem::Int((output_steps + i) as isize)]))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecurrentOutputs { output, states })
}
