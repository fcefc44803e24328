//! `Activation`: what a layer applies to its output, by Keras name.
//!
//! Elementwise activations are the `UnaryFn`s of `unary.rs`; softmax works along the last axis.
//! Losses use the activation a model ends with to fuse it into the loss (softmax with
//! cross-entropy, sigmoid with binary cross-entropy).

use serde::{Deserialize, Serialize};

use super::unary::UnaryFn;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// An activation function. An enum rather than a registry of trait objects: the fused `Dense`
/// kernel (`linear.rs`) matches on it in its inner loops. `parse` and `name` go through
/// `REGISTRY` below.
///
/// Example: `Activation::parse("relu")?.apply(&x)?`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// The identity.
    Linear,
    /// `exp(x) / sum(exp(x))` along the last axis.
    Softmax,
    /// An elementwise function.
    Elementwise(UnaryFn),
}

/// One registered activation: its Keras name, the other names `parse` accepts, and what it is
/// (with Keras's default parameters).
struct Registered {
    name: &'static str,
    aliases: &'static [&'static str],
    activation: Activation,
}

const fn elementwise(name: &'static str, f: UnaryFn) -> Registered {
    Registered {
        name,
        aliases: &[],
        activation: Activation::Elementwise(f),
    }
}

/// Every activation a layer can name, in the order messages list them. Adding one is a row
/// here (and, for a new elementwise function, its `UnaryFn` in `unary.rs`, whose kernels the
/// fused `Dense` kernel runs).
const REGISTRY: &[Registered] = &[
    Registered {
        name: "linear",
        aliases: &["", "none"],
        activation: Activation::Linear,
    },
    elementwise("relu", UnaryFn::Relu),
    elementwise("sigmoid", UnaryFn::Sigmoid),
    elementwise("tanh", UnaryFn::Tanh),
    Registered {
        name: "softmax",
        aliases: &[],
        activation: Activation::Softmax,
    },
    // Keras's default negative slope for `leaky_relu` as an activation name.
    elementwise("leaky_relu", UnaryFn::LeakyRelu { alpha: 0.2 }),
    elementwise("elu", UnaryFn::Elu { alpha: 1.0 }),
    elementwise("selu", UnaryFn::Selu),
    elementwise("gelu", UnaryFn::Gelu),
    elementwise("softplus", UnaryFn::Softplus),
    elementwise("softsign", UnaryFn::Softsign),
    Registered {
        name: "silu",
        aliases: &["swish"],
        activation: Activation::Elementwise(UnaryFn::Silu),
    },
    elementwise("exponential", UnaryFn::Exp),
];

/// The names `Activation::parse` accepts (each Keras name followed by its aliases other than
/// the empty string and `"none"`), for error messages.
pub fn activation_names() -> Vec<&'static str> {
    REGISTRY
        .iter()
        .flat_map(|r| std::iter::once(r.name).chain(r.aliases.iter().copied()))
        .filter(|name| !name.is_empty() && *name != "none")
        .collect()
}

/// Whether two activations are the same function, whatever their parameters.
fn same_function(a: &Activation, b: &Activation) -> bool {
    match (a, b) {
        (Activation::Elementwise(f), Activation::Elementwise(g)) => {
            std::mem::discriminant(f) == std::mem::discriminant(g)
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

impl Activation {
    /// The activation of a Keras name (`"relu"`, `"softmax"`, `None` or `"linear"`), with
    /// Keras's default parameters.
    pub fn parse(name: &str) -> Result<Activation> {
        REGISTRY
            .iter()
            .find(|r| r.name == name || r.aliases.contains(&name))
            .map(|r| r.activation)
            .ok_or_else(|| {
                Error::value(format!(
                    "unknown activation {name:?}; known activations: {}",
                    activation_names().join(", ")
                ))
            })
    }

    /// The Keras name (the inverse of `parse` for the default parameters).
    pub fn name(&self) -> &'static str {
        match REGISTRY.iter().find(|r| same_function(&r.activation, self)) {
            Some(r) => r.name,
            // An elementwise function that layers cannot name (only ops build one).
            None => match self {
                Activation::Elementwise(f) => f.name(),
                Activation::Linear => "linear",
                Activation::Softmax => "softmax",
            },
        }
    }

    /// `x` through the activation (softmax along the last axis).
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
        let names = activation_names();
        assert_eq!(names.len(), 14);
        for name in names {
            let activation = Activation::parse(name).unwrap();
            let canonical = if name == "swish" { "silu" } else { name };
            assert_eq!(activation.name(), canonical);
        }
        for name in ["", "none"] {
            assert_eq!(Activation::parse(name).unwrap(), Activation::Linear);
        }
        let message = Activation::parse("relu6").unwrap_err().to_string();
        assert!(
            message.contains("relu6") && message.contains("softmax"),
            "{message}"
        );
    }

    #[test]
    fn names_ignore_parameters() {
        let leaky = Activation::Elementwise(UnaryFn::LeakyRelu { alpha: 0.3 });
        assert_eq!(leaky.name(), "leaky_relu");
        assert_eq!(
            Activation::Elementwise(UnaryFn::GeluTanh).name(),
            "gelu_tanh"
        );
    }
}
