//! The per-row gate math of each cell, forward and backward, and the activations it uses.
//!
//! One call handles one batch row of one time step. The GEMMs have already put the gate
//! pre-activations in place (`x @ kernel + bias + h_prev @ recurrent_kernel`, or its two halves
//! for the GRU), so what is left is elementwise. Activations run over whole gate slices, so the
//! common tanh/sigmoid pair compiles to tight loops.

use crate::dtype::Element;
use crate::ops::unary::{UnaryFn, sigmoid};

/// An activation applied by a cell. Only functions whose derivative follows from their output are
/// allowed, so the pre-activations need not be kept for backward.
pub(crate) trait GateFn<T: Element>: Copy + Send + Sync {
    fn apply(self, values: &mut [T]);
    fn derivative_from_output(self, y: T) -> T;
}

#[derive(Clone, Copy)]
pub(crate) struct Tanh;

#[derive(Clone, Copy)]
pub(crate) struct Sigmoid;

/// Any other allowed activation (`None` is linear), matched per element.
#[derive(Clone, Copy)]
pub(crate) struct AnyFn(pub Option<UnaryFn>);

impl<T: CellMath> GateFn<T> for Tanh {
    #[inline]
    fn apply(self, values: &mut [T]) {
        T::tanh_in_place(values);
    }

    #[inline]
    fn derivative_from_output(self, y: T) -> T {
        T::one() - y * y
    }
}

impl<T: CellMath> GateFn<T> for Sigmoid {
    #[inline]
    fn apply(self, values: &mut [T]) {
        T::sigmoid_in_place(values);
    }

    #[inline]
    fn derivative_from_output(self, y: T) -> T {
        y * (T::one() - y)
    }
}

impl<T: CellMath> GateFn<T> for AnyFn {
    fn apply(self, values: &mut [T]) {
        match self.0 {
            None => {}
            Some(UnaryFn::Tanh) => T::tanh_in_place(values),
            Some(UnaryFn::Sigmoid) => T::sigmoid_in_place(values),
            Some(f) => values.iter_mut().for_each(|v| *v = f.f(*v)),
        }
    }

    #[inline]
    fn derivative_from_output(self, y: T) -> T {
        match self.0 {
            None => T::one(),
            Some(f) => f.df_from_output(y),
        }
    }
}

/// Whether a cell can use `f` (None is linear): its derivative must follow from its output.
pub(crate) fn is_supported(f: Option<UnaryFn>) -> bool {
    f.is_none_or(|f| !f.derivative_needs_input())
}

/// The elementwise functions of the cells, per element type.
pub(crate) trait CellMath: Element {
    fn tanh_in_place(values: &mut [Self]);
    fn sigmoid_in_place(values: &mut [Self]);
}

impl CellMath for f64 {
    fn tanh_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = v.tanh());
    }

    fn sigmoid_in_place(values: &mut [f64]) {
        values.iter_mut().for_each(|v| *v = sigmoid(*v));
    }
}

/// float32 uses the vectorized approximations; float64 keeps the exact functions.
impl CellMath for f32 {
    fn tanh_in_place(values: &mut [f32]) {
        super::fast_math::tanh_in_place(values);
    }

    fn sigmoid_in_place(values: &mut [f32]) {
        super::fast_math::sigmoid_in_place(values);
    }
}

/// LSTM forward for one row: `z` holds the pre-activations (i, f, c, o) and becomes the gate
/// values; writes the new cell state, its activation and the new hidden state.
#[inline]
pub(crate) fn lstm_forward<T: Element, A: GateFn<T>, R: GateFn<T>>(
    z: &mut [T],
    c_prev: &[T],
    c_next: &mut [T],
    cell_activation: &mut [T],
    h_next: &mut [T],
    act: A,
    rec: R,
) {
    let units = c_prev.len();
    let (ifg, o) = z.split_at_mut(3 * units);
    let (i_f, g) = ifg.split_at_mut(2 * units);
    rec.apply(i_f);
    act.apply(g);
    rec.apply(o);
    let (i, f) = i_f.split_at(units);
    for k in 0..units {
        c_next[k] = f[k] * c_prev[k] + i[k] * g[k];
    }
    cell_activation.copy_from_slice(c_next);
    act.apply(cell_activation);
    for k in 0..units {
        h_next[k] = o[k] * cell_activation[k];
    }
}

/// LSTM backward for one row. `dh` and `dc` come in as the gradients at this step's outputs and
/// leave as the parts that flow to the previous step directly (dh: none; dc: through the forget
/// gate); `dz` receives the gradients at the pre-activations.
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn lstm_backward<T: Element, A: GateFn<T>, R: GateFn<T>>(
    gates: &[T],
    c_prev: &[T],
    cell_activation: &[T],
    dh: &mut [T],
    dc: &mut [T],
    dz: &mut [T],
    act: A,
    rec: R,
) {
    let units = c_prev.len();
    let (i, rest) = gates.split_at(units);
    let (f, rest) = rest.split_at(units);
    let (g, o) = rest.split_at(units);
    let (dz_i, rest) = dz.split_at_mut(units);
    let (dz_f, rest) = rest.split_at_mut(units);
    let (dz_g, dz_o) = rest.split_at_mut(units);
    for k in 0..units {
        let a = cell_activation[k];
        let dc_k = dc[k] + dh[k] * o[k] * act.derivative_from_output(a);
        dz_o[k] = dh[k] * a * rec.derivative_from_output(o[k]);
        dz_i[k] = dc_k * g[k] * rec.derivative_from_output(i[k]);
        dz_f[k] = dc_k * c_prev[k] * rec.derivative_from_output(f[k]);
        dz_g[k] = dc_k * i[k] * act.derivative_from_output(g[k]);
        dc[k] = dc_k * f[k];
        dh[k] = T::zero();
    }
}

/// GRU (reset_after) forward for one row: `z` holds `x @ kernel + input_bias` (z, r, h parts)
/// and becomes the gate values (z, r, candidate); `recurrent` is `h_prev @ recurrent_kernel`;
/// `recurrent_h` receives its h part plus the recurrent bias (what the reset gate scales).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn gru_forward<T: Element, A: GateFn<T>, R: GateFn<T>>(
    z: &mut [T],
    recurrent: &[T],
    recurrent_bias: Option<&[T]>,
    h_prev: &[T],
    recurrent_h: &mut [T],
    h_next: &mut [T],
    act: A,
    rec: R,
) {
    let units = h_prev.len();
    let (zr, candidate) = z.split_at_mut(2 * units);
    match recurrent_bias {
        Some(b) => {
            for k in 0..2 * units {
                zr[k] += recurrent[k] + b[k];
            }
            for k in 0..units {
                recurrent_h[k] = recurrent[2 * units + k] + b[2 * units + k];
            }
        }
        None => {
            for k in 0..2 * units {
                zr[k] += recurrent[k];
            }
            recurrent_h.copy_from_slice(&recurrent[2 * units..]);
        }
    }
    rec.apply(zr);
    let (update, reset) = zr.split_at(units);
    for k in 0..units {
        candidate[k] += reset[k] * recurrent_h[k];
    }
    act.apply(candidate);
    for k in 0..units {
        h_next[k] = update[k] * h_prev[k] + (T::one() - update[k]) * candidate[k];
    }
}

/// GRU backward for one row: fills the gradients at the input-side pre-activations (`dz_input`)
/// and at the recurrent-side ones (`dz_recurrent`, whose h part is scaled by the reset gate);
/// `dh` leaves as the part that flows to the previous state directly (through the update gate).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(crate) fn gru_backward<T: Element, A: GateFn<T>, R: GateFn<T>>(
    gates: &[T],
    recurrent_h: &[T],
    h_prev: &[T],
    dh: &mut [T],
    dz_input: &mut [T],
    dz_recurrent: &mut [T],
    act: A,
    rec: R,
) {
    let units = h_prev.len();
    let (update, rest) = gates.split_at(units);
    let (reset, candidate) = rest.split_at(units);
    for k in 0..units {
        let (u, r, c) = (update[k], reset[k], candidate[k]);
        let d_update = dh[k] * (h_prev[k] - c) * rec.derivative_from_output(u);
        let d_candidate = dh[k] * (T::one() - u) * act.derivative_from_output(c);
        let d_reset = d_candidate * recurrent_h[k] * rec.derivative_from_output(r);
        dz_input[k] = d_update;
        dz_input[units + k] = d_reset;
        dz_input[2 * units + k] = d_candidate;
        dz_recurrent[k] = d_update;
        dz_recurrent[units + k] = d_reset;
        dz_recurrent[2 * units + k] = d_candidate * r;
        dh[k] *= u;
    }
}

/// SimpleRNN backward for one row: `h` is this step's output.
#[inline]
pub(crate) fn simple_backward<T: Element, A: GateFn<T>>(
    h: &[T],
    dh: &mut [T],
    dz: &mut [T],
    act: A,
) {
    for k in 0..h.len() {
        dz[k] = dh[k] * act.derivative_from_output(h[k]);
        dh[k] = T::zero();
    }
}
