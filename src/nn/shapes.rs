//! Shapes with unknown dimensions, and the checks every single-input layer makes.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A shape with unknown dimensions as `None` (the batch dimension, first, always is).
pub type Shape = Vec<Option<usize>>;

/// `(None, 28, 28)` for messages.
pub fn format_shape(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| d.map_or("None".to_string(), |d| d.to_string()))
        .collect();
    if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    }
}

/// The one input of a single-input layer.
pub fn single_input<'a>(kind: &str, inputs: &'a [Tensor]) -> Result<&'a Tensor> {
    match inputs {
        [x] => Ok(x),
        _ => Err(Error::value(format!(
            "a {kind} layer takes exactly one input, received {}",
            inputs.len()
        ))),
    }
}

/// The one input shape of a single-input layer.
pub fn single_shape<'a>(kind: &str, shapes: &'a [Shape]) -> Result<&'a Shape> {
    match shapes {
        [s] => Ok(s),
        _ => Err(Error::value(format!(
            "a {kind} layer takes exactly one input, received {}",
            shapes.len()
        ))),
    }
}
