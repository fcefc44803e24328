//! What a forward pass needs besides the inputs, and the masks that ride along with values.

use std::sync::Arc;

use ndarray::Array2;
use rand_chacha::ChaCha8Rng;

use super::PackedKernels;

/// Which time steps of a (batch, time) input are real (true) rather than padding.
pub type Mask = Arc<Array2<bool>>;

/// What a forward pass needs besides the inputs.
pub struct Context<'a> {
    /// Training mode: dropout drops, batch normalisation uses batch statistics.
    pub training: bool,
    pub rng: &'a mut ChaCha8Rng,
    /// Kernels packed for the GEMM, kept across the batches of one `predict` call; `None` where
    /// the weights change between forward passes.
    pub packed_kernels: Option<&'a mut PackedKernels>,
}
