//! The checks of a recurrent op's arguments, with messages that name the argument and shapes.

use ndarray::Array2;

use super::{Dims, DropoutMasks, RecurrentOptions, RecurrentWeights, cells};
use crate::error::{Error, Result};
use crate::ops::unary::UnaryFn;
use crate::tensor::Tensor;

/// The initial states: none, or one `(batch, units)` tensor per state of the cell (h, and c
/// for the LSTM), of the input's dtype.
pub(super) fn check_initial_state(
    x: &Tensor,
    initial_state: &[&Tensor],
    dims: Dims,
    options: &RecurrentOptions,
) -> Result<()> {
    let cell = options.cell;
    let op = cell.name();
    if initial_state.is_empty() {
        return Ok(());
    }
    let expected = cell.state_count();
    if initial_state.len() != expected {
        return Err(Error::value(format!(
            "{op}: initial_state must hold {expected} tensor(s) ({}), received {}",
            if expected == 2 { "h and c" } else { "h" },
            initial_state.len()
        )));
    }
    for (index, state) in initial_state.iter().enumerate() {
        if state.shape() != [dims.batch, dims.units] {
            return Err(Error::shape(
                op,
                format!(
                    "initial_state[{index}] must have shape (batch, units) = ({}, {}), received \
                     {:?}",
                    dims.batch,
                    dims.units,
                    state.shape()
                ),
            ));
        }
        if state.dtype() != x.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                expected: x.dtype(),
                received: state.dtype(),
            });
        }
    }
    Ok(())
}

pub(super) fn check_arguments(
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
