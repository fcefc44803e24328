//! The forward pass: every step's input projection in one GEMM, then the steps in order, each
//! block of rows on its own thread; it keeps what backpropagation through time needs.

use std::sync::Arc;

use ndarray::Array2;

use super::blocks::{SharedRows, for_sequence_blocks};
use super::cells::{self, AnyFn, CellMath, GateFn, Sigmoid, Tanh};
use super::layout::{buffer, slice_of, time_of};
use super::{CellKind, Dims, DropoutMasks, RecurrentOptions};
use crate::dtype::Element;
use crate::error::Result;
use crate::kernels::gemm::{MatMut, MatRef, gemm};
use crate::kernels::packed::{PackedRhs, gemm_packed};
use crate::ops::unary::UnaryFn;
use crate::storage::Storage;

/// What backward needs, per element type.
pub(super) enum Tape {
    F32(StepRecord<f32>),
    F64(StepRecord<f64>),
}

/// Everything a forward pass kept, time-major in processing order.
pub(super) struct StepRecord<T> {
    pub(super) dims: Dims,
    /// `keep[step * batch + row]`: whether that step of that row was processed.
    pub(super) keep: Vec<bool>,
    /// The inputs with input dropout applied, `(steps * batch, input_dim)`.
    pub(super) inputs: Vec<T>,
    /// The gate values of every step, `(steps * batch, gates * units)` (empty for SimpleRNN).
    pub(super) gates: Vec<T>,
    /// The hidden states h_0 (zeros unless given) to h_T, `((steps + 1) * batch, units)`.
    pub(super) hidden: Vec<T>,
    /// The LSTM's carry states c_0 to c_T (else empty).
    pub(super) carry: Vec<T>,
    /// LSTM: `act(c_t)`; GRU: the recurrent part of the candidate before the reset gate scales
    /// it. `(steps * batch, units)`; empty for SimpleRNN.
    pub(super) extra: Vec<T>,
    pub(super) input_dropout: Option<Vec<T>>,
    pub(super) recurrent_dropout: Option<Vec<T>>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn forward_typed<T: CellMath>(
    x: &Storage,
    kernel: &Storage,
    recurrent_kernel: &Storage,
    bias: Option<&Storage>,
    initial_state: &[Arc<Storage>],
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
        initial_state: initial_state
            .iter()
            .map(|state| slice_of::<T>(state))
            .collect::<Result<_>>()?,
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
    /// h_0 (and c_0), `(batch, units)` each; empty for zero states.
    initial_state: Vec<&'a [T]>,
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
    // h_0 and c_0 are the first `batch` rows of their buffers (zeros unless given).
    for (buffer, state) in [&mut hidden, &mut carry]
        .into_iter()
        .zip(&operands.initial_state)
    {
        buffer[..state_len].copy_from_slice(state);
    }
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

/// For each row, the first processing step that is kept (`steps` when none is). Before it a
/// row has produced no output yet: its outputs there are zeros, as in Keras, whose masked steps
/// repeat the previous output starting from zeros (not from the initial state).
pub(super) fn first_kept(keep: &[bool], batch: usize, steps: usize) -> Vec<usize> {
    (0..batch)
        .map(|b| {
            (0..steps)
                .find(|&step| keep[step * batch + b])
                .unwrap_or(steps)
        })
        .collect()
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
    let first = first_kept(keep, batch, steps);
    for b in 0..batch {
        let slot = |index: usize| (b * slots + index) * units..(b * slots + index + 1) * units;
        let copy = |packed: &mut [T], index: usize, buf: &[T], step: usize| {
            let from = offset(step, b);
            packed[slot(index)].copy_from_slice(&buf[from..from + units]);
        };
        if options.return_sequences {
            for step in 0..steps {
                let masked = !keep[step * batch + b];
                if (masked && options.zero_output_for_mask) || step < first[b] {
                    continue;
                }
                let position = if options.reverse_output_sequence {
                    steps - 1 - step
                } else {
                    step
                };
                copy(&mut packed, position, hidden, step + 1);
            }
        } else if first[b] < steps {
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
