//! ferrograd: n-dimensional tensors with reverse-mode autodiff, layers, losses, optimizers and
//! a training loop, in Rust; the Python package `ferrograd` is a thin layer over this crate.

pub mod autograd;
pub mod buffer;
mod config_registry;
pub mod creation;
pub mod data;
pub mod dtype;
pub mod error;
pub mod initializers;
pub mod io;
pub mod kernels;
pub mod losses;
pub mod memory_limit;
pub mod metrics;
pub mod nn;
pub mod ops;
pub mod optimizers;
pub mod parallel;
pub mod rng;
pub mod shape;
pub mod storage;
pub mod tensor;
pub mod trace;
pub mod train;

#[cfg(feature = "python")]
mod python;

pub use dtype::DType;
pub use error::{Error, Result};
pub use storage::Storage;
pub use tensor::Tensor;
