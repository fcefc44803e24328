//! `Activation`: what a layer applies to its output, by Keras name.
//!
//! Elementwise activations are the `UnaryFn`s of `unary.rs`; softmax works along the last axis.
//! Losses use the activation a model ends with to fuse it into the loss (softmax with
//! cross-entropy, sigmoid with binary cross-entropy).

use serde::{Deserialize, Serialize};

use super::unary::UnaryFn;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    Linear,
    Softmax,
    Elementwise(UnaryFn),
}

/// The names `Activation::parse` accepts, for error messages.
pub const ACTIVATION_NAMES: &[&str] = &[
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "exponential",
];

impl Activation {
    /// The activation of a Keras name (`"relu"`, `"softmax"`, `None` or `"linear"`).
    pub fn parse(name: &str) -> Result<Activation> {
        Ok(match name {
            "linear" | "" | "none" => Activation::Linear,
            "softmax" => Activation::Softmax,
            "relu" => Activation::Elementwise(UnaryFn::Relu),
            "sigmoid" => Activation::Elementwise(UnaryFn::Sigmoid),
            "tanh" => Activation::Elementwise(UnaryFn::Tanh),
            // Keras's default negative slope for `leaky_relu` as an activation name.
            "leaky_relu" => Activation::Elementwise(UnaryFn::LeakyRelu { alpha: 0.2 }),
            "elu" => Activation::Elementwise(UnaryFn::Elu { alpha: 1.0 }),
            "selu" => Activation::Elementwise(UnaryFn::Selu),
            "gelu" => Activation::Elementwise(UnaryFn::Gelu),
            "softplus" => Activation::Elementwise(UnaryFn::Softplus),
            "softsign" => Activation::Elementwise(UnaryFn::Softsign),
            "silu" | "swish" => Activation::Elementwise(UnaryFn::Silu),
            "exponential" => Activation::Elementwise(UnaryFn::Exp),
            other => {
                return Err(Error::value(format!(
                    "unknown activation {other:?}; known activations: {}",
                    ACTIVATION_NAMES.join(", ")
                )));
            }
        })
    }

    /// The Keras name (the inverse of `parse` for the default parameters).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Softmax => "softmax",
            Activation::Elementwise(UnaryFn::Silu) => "silu",
            Activation::Elementwise(UnaryFn::Exp) => "exponential",
            Activation::Elementwise(f) => f.name(),
        }
    }

    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Linear => Ok(x.clone()),
            Activation::Softmax => x.softmax(-1),
            Activation::Elementwise(f) => x.apply(*f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ACTIVATION_NAMES {
            let activation = Activation::parse(name).unwrap();
            let canonical = if *name == "swish" { "silu" } else { name };
            assert_eq!(activation.name(), canonical);
        }
        let message = Activation::parse("relu6").unwrap_err().to_string();
        assert!(
            message.contains("relu6") && message.contains("softmax"),
            "{message}"
        );
    }
}
