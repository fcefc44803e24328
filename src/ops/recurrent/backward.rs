//! Backpropagation through time: the steps in reverse, each block of rows on its own thread, to
//! the gradients at every step's gate pre-activations; then the weight and input gradients.

use std::borrow::Cow;
use std::sync::Arc;

use ndarray::ArrayRefD;

use super::blocks::{SharedRows, for_sequence_blocks, rows_in};
use super::cells::{self, AnyFn, CellMath, GateFn, Sigmoid, Tanh};
use super::forward::{StepRecord, Tape, first_kept};
use super::layout::{buffer, slice_mut, slice_of, time_of};
use super::{CellKind, Dims, RecurrentOptions};
use crate::autograd::{Accumulate, Backward, GradSink};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::kernels::elementwise::column_sums;
use crate::kernels::gemm::{MatMut, MatRef, gemm};
use crate::kernels::packed::{PackedRhs, gemm_packed};
use crate::ops::unary::UnaryFn;
use crate::storage::Storage;

pub(super) struct RecurrentBackward {
    pub(super) options: RecurrentOptions,
    /// The index of the first initial-state input (h_0, then c_0), when states were given.
    pub(super) first_state: Option<usize>,
    pub(super) kernel: Arc<Storage>,
    pub(super) recurrent_kernel: Arc<Storage>,
    pub(super) tape: Tape,
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
        // Backpropagate into step 0's state only when a given initial state wants it.
        let state_grads = self.first_state.is_some_and(|first| {
            (first..first + options.cell.state_count()).any(|index| grads.wants(index))
        });
        let dz = match (options.activation, options.recurrent_activation) {
            (Some(UnaryFn::Tanh), Some(UnaryFn::Sigmoid)) => through_time(
                tape,
                grad,
                recurrent_kernel,
                options,
                state_grads,
                Tanh,
                Sigmoid,
            )?,
            (act, rec) => through_time(
                tape,
                grad,
                recurrent_kernel,
                options,
                state_grads,
                AnyFn(act),
                AnyFn(rec),
            )?,
        };
        write_weight_grads(tape, &dz, kernel, options, grads)?;
        if let (Some(first), true) = (self.first_state, state_grads) {
            for (index, values) in (first..).zip([&dz.initial_h, &dz.initial_c]) {
                if values.is_empty() || !grads.wants(index) {
                    continue;
                }
                grads.add_with(index, |dest, accumulate| {
                    let dest = slice_mut(dest.typed_mut::<T>()?)?;
                    match accumulate {
                        Accumulate::Overwrite => dest.copy_from_slice(values),
                        Accumulate::Add => dest.iter_mut().zip(values).for_each(|(d, &v)| *d += v),
                    }
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}

/// The gradients at every step's pre-activations: input side, and for the GRU the recurrent
/// side (for the others the two are the same).
struct GateGrads<T> {
    input: Vec<T>,
    recurrent: Vec<T>,
    /// The gradients at h_0 and c_0 `(batch, units)`, when asked for (else empty).
    initial_h: Vec<T>,
    initial_c: Vec<T>,
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
    state_grads: bool,
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

    // The gradients at the final states and at the last output, which is h_T (or zeros for a
    // row with no kept step).
    let first = first_kept(&tape.keep, batch, steps);
    for b in 0..batch {
        let dh_row = &mut dh[b * units..(b + 1) * units];
        if !options.return_sequences && first[b] < steps {
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
                    let b = block.start + local;
                    if (kept || !options.zero_output_for_mask) && step >= first[b] {
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
            if step == 0 && !state_grads {
                break; // a zero initial state is a constant
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
    // After step 0, dh and dc hold the gradients at h_0 and c_0.
    let (initial_h, initial_c) = if state_grads {
        (dh, dc)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(GateGrads {
        input: dz_input,
        recurrent: dz_recurrent,
        initial_h,
        initial_c,
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

fn beta<T: Element>(accumulate: Accumulate) -> T {
    match accumulate {
        Accumulate::Overwrite => T::zero(),
        Accumulate::Add => T::one(),
    }
}
