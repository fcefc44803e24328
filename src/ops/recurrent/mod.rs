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

mod cells;
mod fast_math;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use ndarray::{Array2, ArrayRefD};

use self::cells::{AnyFn, CellMath, GateFn, Sigmoid, Tanh};
use crate::autograd::{Accumulate, Backward, GradSink, record};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::SharedMut;
use crate::kernels::elementwise::column_sums;
use crate::kernels::gemm::{MatMut, MatRef, gemm};
use crate::kernels::packed::{PackedRhs, gemm_packed};
use crate::ops::index::IndexItem;
use crate::ops::unary::UnaryFn;
use crate::parallel;
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
    let dims = check_arguments(x, weights, mask, dropout, options)?;
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

    let inputs: Vec<&Tensor> = [
        Some(x),
        Some(weights.kernel),
        Some(weights.recurrent_kernel),
        weights.bias,
    ]
    .into_iter()
    .flatten()
    .collect();
    let node = record(packed, &inputs, |_| RecurrentBackward {
        options: *options,
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

fn check_arguments(
    x: &Tensor,
    weights: &RecurrentWeights<'_>,
    mask: Option<&Array2<bool>>,
    dropout: &DropoutMasks,
    options: &RecurrentOptions,
) -> Result<Dims> {
    let cell = options.cell;
    let op = cell.name();
    for (which, f) in [
        ("activation", options.activation),
        ("recurrent_activation", options.recurrent_activation),
    ] {
        if !cells::is_supported(f) {
            return Err(Error::value(format!(
                "{op}: {which}={:?} is not supported in a recurrent cell; use tanh, sigmoid, \
                 relu, elu, exponential or linear",
                f.map_or("linear", UnaryFn::name)
            )));
        }
    }
    let (batch, steps, input_dim) = match x.shape() {
        &[b, t, i] => (b, t, i),
        other => {
            return Err(Error::shape(
                op,
                format!("expected an input of shape (batch, time, features), received {other:?}"),
            ));
        }
    };
    if steps == 0 {
        return Err(Error::shape(
            op,
            format!(
                "the input has no time steps (shape {:?}); a recurrent layer needs at least one",
                x.shape()
            ),
        ));
    }
    let gates = cell.gates();
    let (kernel_rows, width) = match weights.kernel.shape() {
        &[r, w] if w % gates == 0 && w > 0 => (r, w),
        other => {
            return Err(Error::shape(
                op,
                format!(
                    "the kernel must be (input_dim, {gates} * units) with units > 0, received \
                     {other:?}"
                ),
            ));
        }
    };
    let units = width / gates;
    if kernel_rows != input_dim {
        return Err(Error::ShapeMismatch {
            op,
            lhs: x.shape().to_vec(),
            rhs: weights.kernel.shape().to_vec(),
            reason: "do not fit: the input's last dimension must equal the kernel's first",
        });
    }
    if weights.recurrent_kernel.shape() != [units, width] {
        return Err(Error::shape(
            op,
            format!(
                "the recurrent kernel must be ({units}, {width}) for {units} units, received \
                 {:?}",
                weights.recurrent_kernel.shape()
            ),
        ));
    }
    if let Some(bias) = weights.bias
        && bias.shape() != cell.bias_shape(units).as_slice()
    {
        return Err(Error::shape(
            op,
            format!(
                "the bias must have shape {:?} for {units} units, received {:?}",
                cell.bias_shape(units),
                bias.shape()
            ),
        ));
    }
    for t in [
        Some(weights.kernel),
        Some(weights.recurrent_kernel),
        weights.bias,
    ]
    .into_iter()
    .flatten()
    {
        if t.dtype() != x.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                expected: x.dtype(),
                received: t.dtype(),
            });
        }
    }
    if let Some(mask) = mask
        && mask.shape() != [batch, steps]
    {
        return Err(Error::shape(
            op,
            format!(
                "the mask must be (batch, time) = ({batch}, {steps}), received {:?}",
                mask.shape()
            ),
        ));
    }
    for (which, m, expected) in [
        ("input dropout", &dropout.input, [batch, input_dim]),
        ("recurrent dropout", &dropout.recurrent, [batch, units]),
    ] {
        if let Some(m) = m
            && m.shape() != expected
        {
            return Err(Error::shape(
                op,
                format!(
                    "the {which} mask must be {expected:?}, received {:?}",
                    m.shape()
                ),
            ));
        }
    }
    Ok(Dims {
        batch,
        steps,
        input_dim,
        units,
        gates,
    })
}

/// The time index read at processing step `step`.
fn time_of(step: usize, steps: usize, go_backwards: bool) -> usize {
    if go_backwards { steps - 1 - step } else { step }
}

/// Which (step, row) pairs are processed, in processing order: `keep[step * batch + row]`.
fn processing_mask(mask: Option<&Array2<bool>>, dims: Dims, go_backwards: bool) -> Vec<bool> {
    let mut keep = vec![true; dims.steps * dims.batch];
    if let Some(mask) = mask {
        for step in 0..dims.steps {
            let t = time_of(step, dims.steps, go_backwards);
            for b in 0..dims.batch {
                keep[step * dims.batch + b] = mask[[b, t]];
            }
        }
    }
    keep
}

/// The rows in `range` of a buffer of rows of `width`.
fn rows_in<T>(buf: &[T], range: Range<usize>, width: usize) -> &[T] {
    &buf[range.start * width..range.end * width]
}

/// A zeroed buffer, failing cleanly when the memory cannot be had.
fn buffer<T: Element>(len: usize) -> Result<Vec<T>> {
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| {
        Error::OutOfMemory(format!(
            "recurrent layer: cannot allocate {len} values for its state"
        ))
    })?;
    data.resize(len, T::zero());
    Ok(data)
}

fn slice_of<T: Element>(storage: &Storage) -> Result<&[T]> {
    storage
        .typed::<T>()?
        .as_slice()
        .ok_or_else(|| Error::value("recurrent layer: operand is not contiguous"))
}

fn slice_mut<T: Element>(a: &mut ArrayRefD<T>) -> Result<&mut [T]> {
    a.as_slice_mut()
        .ok_or_else(|| Error::value("recurrent layer: buffer is not contiguous"))
}

fn beta<T: Element>(accumulate: Accumulate) -> T {
    match accumulate {
        Accumulate::Overwrite => T::zero(),
        Accumulate::Add => T::one(),
    }
}

/// The fewest batch rows per block worth a task of their own when a block runs a whole sequence.
const MIN_SEQUENCE_BLOCK_ROWS: usize = 16;
/// Below this many multiply-adds in the recurrent products of a whole sequence, it runs on the
/// calling thread.
const SEQUENCE_PARALLEL_MIN_FLOPS: usize = 1 << 20;

/// Runs `work` over blocks of batch rows, each block through every time step on its own.
///
/// The rows of a batch never meet inside a recurrent layer: a row's state at one step depends
/// only on that row's state at the step before. So each block runs the whole loop (the step's
/// product with the recurrent kernel, then its gate math) with no hand-off between threads at
/// each step, which at these sizes cost more than the gate math itself. Each row's values are
/// computed the same way whatever the blocking, so results do not depend on the thread count.
/// Two blocks per thread, where the batch allows, lets a thread that finishes early take over
/// work from one that lost its core.
fn for_sequence_blocks(dims: Dims, work: impl Fn(Range<usize>) + Sync) {
    let Dims {
        batch,
        steps,
        units,
        ..
    } = dims;
    let threads = parallel::num_threads();
    let flops = batch
        .saturating_mul(units)
        .saturating_mul(dims.width())
        .saturating_mul(steps);
    if threads < 2 || batch < 2 || flops < SEQUENCE_PARALLEL_MIN_FLOPS {
        work(0..batch);
        return;
    }
    let blocks = if batch >= 2 * threads * MIN_SEQUENCE_BLOCK_ROWS {
        2 * threads
    } else {
        threads.min(batch)
    };
    let rows = batch.div_ceil(blocks);
    parallel::for_each_chunk(batch.div_ceil(rows), |i| {
        work(i * rows..((i + 1) * rows).min(batch))
    });
}

/// A buffer of rows of `width` that blocks of rows may write to from several threads.
#[derive(Clone, Copy)]
struct SharedRows<'a, T> {
    ptr: SharedMut<T>,
    rows: usize,
    width: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<'a, T> SharedRows<'a, T> {
    fn new(data: &'a mut [T], width: usize) -> Self {
        SharedRows {
            ptr: SharedMut(data.as_mut_ptr()),
            rows: data.len() / width.max(1),
            width,
            _borrow: PhantomData,
        }
    }

    /// The rows in `range`.
    ///
    /// # Safety
    /// Ranges taken while another is alive must not overlap.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows(&self, range: Range<usize>) -> &mut [T] {
        assert!(range.end <= self.rows, "row range out of bounds");
        // SAFETY: inside the borrowed buffer (checked above); disjointness is the caller's part.
        unsafe {
            std::slice::from_raw_parts_mut(
                self.ptr.get().add(range.start * self.width),
                range.len() * self.width,
            )
        }
    }
}

/// What backward needs, per element type.
enum Tape {
    F32(StepRecord<f32>),
    F64(StepRecord<f64>),
}

/// Everything a forward pass kept, time-major in processing order.
struct StepRecord<T> {
    dims: Dims,
    /// `keep[step * batch + row]`: whether that step of that row was processed.
    keep: Vec<bool>,
    /// The inputs with input dropout applied, `(steps * batch, input_dim)`.
    inputs: Vec<T>,
    /// The gate values of every step, `(steps * batch, gates * units)` (empty for SimpleRNN).
    gates: Vec<T>,
    /// The hidden states h_0 (zeros) to h_T, `((steps + 1) * batch, units)`.
    hidden: Vec<T>,
    /// The LSTM's carry states c_0 to c_T (else empty).
    carry: Vec<T>,
    /// LSTM: `act(c_t)`; GRU: the recurrent part of the candidate before the reset gate scales
    /// it. `(steps * batch, units)`; empty for SimpleRNN.
    extra: Vec<T>,
    input_dropout: Option<Vec<T>>,
    recurrent_dropout: Option<Vec<T>>,
}

#[allow(clippy::too_many_arguments)]
fn forward_typed<T: CellMath>(
    x: &Storage,
    kernel: &Storage,
    recurrent_kernel: &Storage,
    bias: Option<&Storage>,
    keep: Vec<bool>,
    dropout: &DropoutMasks,
    dims: Dims,
    options: &RecurrentOptions,
) -> Result<(Vec<T>, StepRecord<T>)> {
    let to_t = |m: &Option<Array2<f64>>| m.as_ref().map(|m| m.iter().map(|&v| T::of(v)).collect());
    let operands = Operands {
        x: slice_of::<T>(x)?,
        kernel: slice_of::<T>(kernel)?,
        recurrent_kernel: slice_of::<T>(recurrent_kernel)?,
        bias: bias.map(slice_of::<T>).transpose()?,
    };
    let masks = (to_t(&dropout.input), to_t(&dropout.recurrent));
    match (options.activation, options.recurrent_activation) {
        (Some(UnaryFn::Tanh), Some(UnaryFn::Sigmoid)) => {
            run_forward(operands, keep, masks, dims, options, Tanh, Sigmoid)
        }
        (act, rec) => run_forward(operands, keep, masks, dims, options, AnyFn(act), AnyFn(rec)),
    }
}

struct Operands<'a, T> {
    x: &'a [T],
    kernel: &'a [T],
    recurrent_kernel: &'a [T],
    bias: Option<&'a [T]>,
}

fn run_forward<T: CellMath, A: GateFn<T>, R: GateFn<T>>(
    operands: Operands<'_, T>,
    keep: Vec<bool>,
    (input_dropout, recurrent_dropout): (Option<Vec<T>>, Option<Vec<T>>),
    dims: Dims,
    options: &RecurrentOptions,
    act: A,
    rec: R,
) -> Result<(Vec<T>, StepRecord<T>)> {
    let Dims {
        batch,
        steps,
        input_dim,
        units,
        ..
    } = dims;
    let width = dims.width();
    let rows = steps * batch;
    let state_len = batch * units;
    let step_len = batch * width;
    let cell = options.cell;

    // The inputs, time-major in processing order, with the input dropout applied.
    let mut inputs = buffer::<T>(rows * input_dim)?;
    for step in 0..steps {
        let t = time_of(step, steps, options.go_backwards);
        for b in 0..batch {
            let src = &operands.x[(b * steps + t) * input_dim..][..input_dim];
            let dst = &mut inputs[(step * batch + b) * input_dim..][..input_dim];
            match &input_dropout {
                Some(m) => {
                    for ((d, &v), &m) in dst.iter_mut().zip(src).zip(&m[b * input_dim..]) {
                        *d = v * m;
                    }
                }
                None => dst.copy_from_slice(src),
            }
        }
    }

    // Every step's input projection in one GEMM, on top of the (input) bias.
    let mut gates = buffer::<T>(rows * width)?;
    let (input_bias, recurrent_bias) = match (cell, operands.bias) {
        (CellKind::Gru, Some(b)) => (Some(&b[..width]), Some(&b[width..])),
        (_, b) => (b, None),
    };
    if let Some(b) = input_bias {
        for row in gates.chunks_exact_mut(width) {
            row.copy_from_slice(b);
        }
    }
    gemm(
        T::one(),
        MatRef::row_major(&inputs, rows, input_dim),
        MatRef::row_major(operands.kernel, input_dim, width),
        if input_bias.is_some() {
            T::one()
        } else {
            T::zero()
        },
        MatMut::row_major(&mut gates, rows, width),
    );

    let mut hidden = buffer::<T>((steps + 1) * state_len)?;
    let mut carry = match cell {
        CellKind::Lstm => buffer::<T>((steps + 1) * state_len)?,
        _ => Vec::new(),
    };
    let mut extra = match cell {
        CellKind::SimpleRnn => Vec::new(),
        _ => buffer::<T>(rows * units)?,
    };
    let mut recurrent_out = match cell {
        CellKind::Gru => buffer::<T>(step_len)?,
        _ => Vec::new(),
    };
    let mut dropped_state = match recurrent_dropout {
        Some(_) => buffer::<T>(state_len)?,
        None => Vec::new(),
    };
    // U, packed once for the products of every step.
    let recurrent_kernel =
        PackedRhs::new(MatRef::row_major(operands.recurrent_kernel, units, width));

    let gates_rows = SharedRows::new(&mut gates, width);
    let hidden_rows = SharedRows::new(&mut hidden, units);
    let carry_rows = SharedRows::new(&mut carry, units);
    let extra_rows = SharedRows::new(&mut extra, units);
    let recurrent_rows = SharedRows::new(&mut recurrent_out, width);
    let dropped_rows = SharedRows::new(&mut dropped_state, units);
    let keep_all = &keep[..];
    for_sequence_blocks(dims, |block| {
        let count = block.len();
        let at = |step: usize| step * batch + block.start..step * batch + block.end;
        for step in 0..steps {
            // SAFETY: every block touches only its own rows of each buffer, and within a block
            // the rows of different steps (h_prev and h_next) are disjoint.
            let (z, h_prev, h_next) = unsafe {
                (
                    gates_rows.rows(at(step)),
                    hidden_rows.rows(at(step)),
                    hidden_rows.rows(at(step + 1)),
                )
            };
            let state_in = match &recurrent_dropout {
                Some(m) => {
                    // SAFETY: this block's rows only.
                    let dropped = unsafe { dropped_rows.rows(block.clone()) };
                    let m = &m[block.start * units..block.end * units];
                    for ((d, &h), &m) in dropped.iter_mut().zip(&*h_prev).zip(m) {
                        *d = h * m;
                    }
                    &*dropped
                }
                None => &*h_prev,
            };
            let state_in = MatRef::row_major(state_in, count, units);
            let keep_step = &keep_all[step * batch..(step + 1) * batch][block.clone()];
            if cell != CellKind::Gru {
                // The recurrent term lands on the input projection (beta = 1); the GRU keeps it
                // apart, for its reset gate.
                gemm_packed(
                    state_in,
                    &recurrent_kernel,
                    T::one(),
                    MatMut::row_major(z, count, width),
                );
            }
            match cell {
                CellKind::SimpleRnn => {
                    for (local, &kept) in keep_step.iter().enumerate() {
                        let span = local * units..(local + 1) * units;
                        if kept {
                            act.apply(&mut z[span.clone()]);
                            h_next[span.clone()].copy_from_slice(&z[span]);
                        } else {
                            h_next[span.clone()].copy_from_slice(&h_prev[span]);
                        }
                    }
                }
                CellKind::Lstm => {
                    // SAFETY: this block's rows only; c_prev and c_next are different steps.
                    let (c_prev, c_next, cell_act) = unsafe {
                        (
                            carry_rows.rows(at(step)),
                            carry_rows.rows(at(step + 1)),
                            extra_rows.rows(at(step)),
                        )
                    };
                    for (local, &kept) in keep_step.iter().enumerate() {
                        let span = local * units..(local + 1) * units;
                        if kept {
                            cells::lstm_forward(
                                &mut z[local * width..(local + 1) * width],
                                &c_prev[span.clone()],
                                &mut c_next[span.clone()],
                                &mut cell_act[span.clone()],
                                &mut h_next[span],
                                act,
                                rec,
                            );
                        } else {
                            h_next[span.clone()].copy_from_slice(&h_prev[span.clone()]);
                            c_next[span.clone()].copy_from_slice(&c_prev[span]);
                        }
                    }
                }
                CellKind::Gru => {
                    // SAFETY: this block's rows only.
                    let (recurrent, recurrent_h) = unsafe {
                        (
                            recurrent_rows.rows(block.clone()),
                            extra_rows.rows(at(step)),
                        )
                    };
                    gemm_packed(
                        state_in,
                        &recurrent_kernel,
                        T::zero(),
                        MatMut::row_major(recurrent, count, width),
                    );
                    for (local, &kept) in keep_step.iter().enumerate() {
                        let span = local * units..(local + 1) * units;
                        if kept {
                            cells::gru_forward(
                                &mut z[local * width..(local + 1) * width],
                                &recurrent[local * width..(local + 1) * width],
                                recurrent_bias,
                                &h_prev[span.clone()],
                                &mut recurrent_h[span.clone()],
                                &mut h_next[span],
                                act,
                                rec,
                            );
                        } else {
                            h_next[span.clone()].copy_from_slice(&h_prev[span]);
                        }
                    }
                }
            }
        }
    });
    let packed = pack_outputs(&hidden, &carry, &keep, dims, options)?;
    if cell == CellKind::SimpleRnn {
        gates = Vec::new();
    }
    Ok((
        packed,
        StepRecord {
            dims,
            keep,
            inputs,
            gates,
            hidden,
            carry,
            extra,
            input_dropout,
            recurrent_dropout,
        },
    ))
}

/// The node's output, batch-major: per sample, the output steps then the returned states.
fn pack_outputs<T: Element>(
    hidden: &[T],
    carry: &[T],
    keep: &[bool],
    dims: Dims,
    options: &RecurrentOptions,
) -> Result<Vec<T>> {
    let Dims {
        batch,
        steps,
        units,
        ..
    } = dims;
    let slots = options.slots(steps);
    let output_steps = options.output_steps(steps);
    let mut packed = buffer::<T>(batch * slots * units)?;
    let offset = |step: usize, b: usize| (step * batch + b) * units;
    for b in 0..batch {
        let slot = |index: usize| (b * slots + index) * units..(b * slots + index + 1) * units;
        let copy = |packed: &mut [T], index: usize, buf: &[T], step: usize| {
            let from = offset(step, b);
            packed[slot(index)].copy_from_slice(&buf[from..from + units]);
        };
        if options.return_sequences {
            for step in 0..steps {
                if !keep[step * batch + b] && options.zero_output_for_mask {
                    continue;
                }
                let position = if options.reverse_output_sequence {
                    steps - 1 - step
                } else {
                    step
                };
                copy(&mut packed, position, hidden, step + 1);
            }
        } else {
            copy(&mut packed, 0, hidden, steps);
        }
        if options.return_state {
            copy(&mut packed, output_steps, hidden, steps);
            if options.cell == CellKind::Lstm {
                copy(&mut packed, output_steps + 1, carry, steps);
            }
        }
    }
    Ok(packed)
}

struct RecurrentBackward {
    options: RecurrentOptions,
    kernel: Arc<Storage>,
    recurrent_kernel: Arc<Storage>,
    tape: Tape,
}

impl Backward for RecurrentBackward {
    fn name(&self) -> &'static str {
        self.options.cell.backward_name()
    }

    fn backward(&self, grad: &Storage, grads: &mut GradSink<'_>) -> Result<()> {
        match (&self.tape, grad) {
            (Tape::F32(tape), Storage::F32(g)) => self.backward_typed(tape, g, grads),
            (Tape::F64(tape), Storage::F64(g)) => self.backward_typed(tape, g, grads),
            (_, g) => Err(Error::DTypeMismatch {
                op: self.options.cell.name(),
                expected: self.kernel.dtype(),
                received: g.dtype(),
            }),
        }
    }
}

impl RecurrentBackward {
    fn backward_typed<T: CellMath>(
        &self,
        tape: &StepRecord<T>,
        grad: &ArrayRefD<T>,
        grads: &mut GradSink<'_>,
    ) -> Result<()> {
        let grad = grad
            .as_slice()
            .ok_or_else(|| Error::value("recurrent layer: gradient is not contiguous"))?;
        let kernel = slice_of::<T>(&self.kernel)?;
        let recurrent_kernel = slice_of::<T>(&self.recurrent_kernel)?;
        let options = &self.options;
        let dz = match (options.activation, options.recurrent_activation) {
            (Some(UnaryFn::Tanh), Some(UnaryFn::Sigmoid)) => {
                through_time(tape, grad, recurrent_kernel, options, Tanh, Sigmoid)?
            }
            (act, rec) => through_time(
                tape,
                grad,
                recurrent_kernel,
                options,
                AnyFn(act),
                AnyFn(rec),
            )?,
        };
        write_weight_grads(tape, &dz, kernel, options, grads)
    }
}

/// The gradients at every step's pre-activations: input side, and for the GRU the recurrent
/// side (for the others the two are the same).
struct GateGrads<T> {
    input: Vec<T>,
    recurrent: Vec<T>,
}

impl<T> GateGrads<T> {
    fn recurrent(&self) -> &[T] {
        if self.recurrent.is_empty() {
            &self.input
        } else {
            &self.recurrent
        }
    }
}

/// Backpropagation through time: runs the steps in reverse, from the gradient of the node's
/// output to the gradients at every step's gate pre-activations.
fn through_time<T: CellMath, A: GateFn<T>, R: GateFn<T>>(
    tape: &StepRecord<T>,
    grad: &[T],
    recurrent_kernel: &[T],
    options: &RecurrentOptions,
    act: A,
    rec: R,
) -> Result<GateGrads<T>> {
    let dims = tape.dims;
    let Dims {
        batch,
        steps,
        units,
        ..
    } = dims;
    let width = dims.width();
    let rows = steps * batch;
    let state_len = batch * units;
    let cell = options.cell;
    let slots = options.slots(steps);
    let output_steps = options.output_steps(steps);

    let mut dz_input = buffer::<T>(rows * width)?;
    let mut dz_recurrent = match cell {
        CellKind::Gru => buffer::<T>(rows * width)?,
        _ => Vec::new(),
    };
    let mut dh = buffer::<T>(state_len)?;
    let mut dc = match cell {
        CellKind::Lstm => buffer::<T>(state_len)?,
        _ => Vec::new(),
    };
    let mut scratch = match tape.recurrent_dropout {
        Some(_) => buffer::<T>(state_len)?,
        None => Vec::new(),
    };
    let grad_slot = |b: usize, index: usize| &grad[(b * slots + index) * units..][..units];
    let add_into = |dest: &mut [T], src: &[T]| dest.iter_mut().zip(src).for_each(|(d, &s)| *d += s);

    // The gradients at the final states and at the last output, which is h_T.
    for b in 0..batch {
        let dh_row = &mut dh[b * units..(b + 1) * units];
        if !options.return_sequences {
            add_into(dh_row, grad_slot(b, 0));
        }
        if options.return_state {
            add_into(dh_row, grad_slot(b, output_steps));
            if cell == CellKind::Lstm {
                dc[b * units..(b + 1) * units].copy_from_slice(grad_slot(b, output_steps + 1));
            }
        }
    }

    // U^T, packed once for the products of every step.
    let transposed_kernel = PackedRhs::new(MatRef::row_major(recurrent_kernel, units, width).t());
    let dh_rows = SharedRows::new(&mut dh, units);
    let dc_rows = SharedRows::new(&mut dc, units);
    let scratch_rows = SharedRows::new(&mut scratch, units);
    let dz_input_rows = SharedRows::new(&mut dz_input, width);
    let dz_recurrent_rows = SharedRows::new(&mut dz_recurrent, width);
    for_sequence_blocks(dims, |block| {
        let count = block.len();
        let at = |step: usize| step * batch + block.start..step * batch + block.end;
        // SAFETY: every block touches only its own rows of each buffer.
        let (dh, dc) = unsafe {
            (
                dh_rows.rows(block.clone()),
                match cell {
                    CellKind::Lstm => dc_rows.rows(block.clone()),
                    _ => &mut [],
                },
            )
        };
        for step in (0..steps).rev() {
            let keep_step = &tape.keep[step * batch..(step + 1) * batch][block.clone()];
            if options.return_sequences {
                let position = if options.reverse_output_sequence {
                    steps - 1 - step
                } else {
                    step
                };
                for (local, &kept) in keep_step.iter().enumerate() {
                    if kept || !options.zero_output_for_mask {
                        let b = block.start + local;
                        add_into(
                            &mut dh[local * units..(local + 1) * units],
                            grad_slot(b, position),
                        );
                    }
                }
            }
            // SAFETY: this block's rows only.
            let dz = unsafe { dz_input_rows.rows(at(step)) };
            match cell {
                CellKind::SimpleRnn => {
                    let h = rows_in(&tape.hidden, at(step + 1), units);
                    for (local, &kept) in keep_step.iter().enumerate() {
                        if kept {
                            let span = local * units..(local + 1) * units;
                            cells::simple_backward(
                                &h[span.clone()],
                                &mut dh[span.clone()],
                                &mut dz[span],
                                act,
                            );
                        }
                    }
                }
                CellKind::Lstm => {
                    let gate_rows = rows_in(&tape.gates, at(step), width);
                    let c_prev = rows_in(&tape.carry, at(step), units);
                    let cell_act = rows_in(&tape.extra, at(step), units);
                    for (local, &kept) in keep_step.iter().enumerate() {
                        if kept {
                            let span = local * units..(local + 1) * units;
                            let gate_span = local * width..(local + 1) * width;
                            cells::lstm_backward(
                                &gate_rows[gate_span.clone()],
                                &c_prev[span.clone()],
                                &cell_act[span.clone()],
                                &mut dh[span.clone()],
                                &mut dc[span],
                                &mut dz[gate_span],
                                act,
                                rec,
                            );
                        }
                    }
                }
                CellKind::Gru => {
                    let gate_rows = rows_in(&tape.gates, at(step), width);
                    let recurrent_h = rows_in(&tape.extra, at(step), units);
                    let h_prev = rows_in(&tape.hidden, at(step), units);
                    // SAFETY: this block's rows only.
                    let dr = unsafe { dz_recurrent_rows.rows(at(step)) };
                    for (local, &kept) in keep_step.iter().enumerate() {
                        if kept {
                            let span = local * units..(local + 1) * units;
                            let gate_span = local * width..(local + 1) * width;
                            cells::gru_backward(
                                &gate_rows[gate_span.clone()],
                                &recurrent_h[span.clone()],
                                &h_prev[span.clone()],
                                &mut dh[span],
                                &mut dz[gate_span.clone()],
                                &mut dr[gate_span],
                                act,
                                rec,
                            );
                        }
                    }
                }
            }
            if step == 0 {
                break; // the initial state is a constant
            }
            // dh_prev += (dz_recurrent @ U^T) * recurrent dropout.
            let dz_step = match cell {
                // SAFETY: this block's rows only, read after the cell above wrote them.
                CellKind::Gru => unsafe { &*dz_recurrent_rows.rows(at(step)) },
                _ => &*dz,
            };
            let dz_step = MatRef::row_major(dz_step, count, width);
            match &tape.recurrent_dropout {
                Some(m) => {
                    // SAFETY: this block's rows only.
                    let scratch = unsafe { scratch_rows.rows(block.clone()) };
                    gemm_packed(
                        dz_step,
                        &transposed_kernel,
                        T::zero(),
                        MatMut::row_major(scratch, count, units),
                    );
                    let m = &m[block.start * units..block.end * units];
                    for ((d, &s), &m) in dh.iter_mut().zip(&*scratch).zip(m) {
                        *d += s * m;
                    }
                }
                None => gemm_packed(
                    dz_step,
                    &transposed_kernel,
                    T::one(),
                    MatMut::row_major(dh, count, units),
                ),
            }
        }
    });
    Ok(GateGrads {
        input: dz_input,
        recurrent: dz_recurrent,
    })
}

/// The gradients of the kernel, recurrent kernel and bias (one GEMM each, straight into their
/// gradient buffers) and of the input.
fn write_weight_grads<T: CellMath>(
    tape: &StepRecord<T>,
    dz: &GateGrads<T>,
    kernel: &[T],
    options: &RecurrentOptions,
    grads: &mut GradSink<'_>,
) -> Result<()> {
    let dims = tape.dims;
    let Dims {
        batch,
        steps,
        input_dim,
        units,
        ..
    } = dims;
    let width = dims.width();
    let rows = steps * batch;
    let dz_input = MatRef::row_major(&dz.input, rows, width);
    let dz_recurrent = MatRef::row_major(dz.recurrent(), rows, width);

    // kernel: inputs^T @ dz_input.
    grads.add_with(1, |dest, accumulate| {
        let dest = slice_mut(dest.typed_mut::<T>()?)?;
        gemm(
            T::one(),
            MatRef::row_major(&tape.inputs, rows, input_dim).t(),
            dz_input,
            beta(accumulate),
            MatMut::row_major(dest, input_dim, width),
        );
        Ok(())
    })?;

    // recurrent kernel: (h_0..h_{T-1} with recurrent dropout)^T @ dz_recurrent.
    if grads.wants(2) {
        let previous = &tape.hidden[..rows * units];
        let previous: Cow<'_, [T]> = match &tape.recurrent_dropout {
            Some(m) => Cow::Owned(
                previous
                    .chunks_exact(batch * units)
                    .flat_map(|step| step.iter().zip(m).map(|(&h, &m)| h * m))
                    .collect(),
            ),
            None => Cow::Borrowed(previous),
        };
        grads.add_with(2, |dest, accumulate| {
            let dest = slice_mut(dest.typed_mut::<T>()?)?;
            gemm(
                T::one(),
                MatRef::row_major(&previous, rows, units).t(),
                dz_recurrent,
                beta(accumulate),
                MatMut::row_major(dest, units, width),
            );
            Ok(())
        })?;
    }

    // bias: column sums of the gate gradients.
    if grads.wants(3) {
        grads.add_with(3, |dest, accumulate| {
            let dest = slice_mut(dest.typed_mut::<T>()?)?;
            let add = accumulate == Accumulate::Add;
            let (input_part, recurrent_part) = dest.split_at_mut(width);
            column_sums(&dz.input, input_part, add);
            if options.cell == CellKind::Gru {
                column_sums(dz.recurrent(), recurrent_part, add);
            }
            Ok(())
        })?;
    }

    // input: dz_input @ kernel^T, back to batch-major time order, times the input dropout.
    if grads.wants(0) {
        let mut d_inputs = buffer::<T>(rows * input_dim)?;
        // A tall product with a small right-hand side: packed once, the kernel reads the gate
        // gradients in place (`benches/packed_gemm.rs`: faster than matrixmultiply here).
        gemm_packed(
            dz_input,
            &PackedRhs::new(MatRef::row_major(kernel, input_dim, width).t()),
            T::zero(),
            MatMut::row_major(&mut d_inputs, rows, input_dim),
        );
        grads.add_with(0, |dest, accumulate| {
            let dest = slice_mut(dest.typed_mut::<T>()?)?;
            for step in 0..steps {
                let t = time_of(step, steps, options.go_backwards);
                for b in 0..batch {
                    let src = &d_inputs[(step * batch + b) * input_dim..][..input_dim];
                    let dst = &mut dest[(b * steps + t) * input_dim..][..input_dim];
                    let scale = tape
                        .input_dropout
                        .as_ref()
                        .map(|m| &m[b * input_dim..(b + 1) * input_dim]);
                    match (scale, accumulate) {
                        (None, Accumulate::Overwrite) => dst.copy_from_slice(src),
                        (None, Accumulate::Add) => {
                            dst.iter_mut().zip(src).for_each(|(d, &s)| *d += s)
                        }
                        (Some(m), Accumulate::Overwrite) => {
                            for ((d, &s), &m) in dst.iter_mut().zip(src).zip(m) {
                                *d = s * m;
                            }
                        }
                        (Some(m), Accumulate::Add) => {
                            for ((d, &s), &m) in dst.iter_mut().zip(src).zip(m) {
                                *d += s * m;
                            }
                        }
                    }
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}
