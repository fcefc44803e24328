//! Layers and the graph that connects them into a model.
//!
//! A layer is built from its kind, its settings (the same JSON a model file stores, checked
//! against the registered kinds and their fields) and the shapes of its inputs; building creates
//! its weights. Each kind lives in its own file under `layers/` and registers itself (see
//! `registry`). The Python `Layer` classes hold their settings until the input shape is known,
//! then build the Rust layer and delegate every call to it.

mod context;
mod graph;
mod layer;
pub mod layers;
mod packed_kernels;
mod registry;
mod regularizer;
mod shapes;
mod weight;

pub use context::{Context, Mask};
pub use graph::{
    Graph, GraphNode, OpEnv, PrimitiveOp, Program, ProgramLayer, ProgramRef, ProgramWeight,
    RecordedOp, Value, ValueRef,
};
pub use layer::{Layer, first_mask};
pub use packed_kernels::PackedKernels;
pub use registry::{
    LAYER_KINDS, LayerBuilder, LayerRegistration, build_layer, layer_kinds, parse_config,
};
pub use regularizer::{Regularizer, total_penalty};
pub use shapes::{Shape, format_shape, single_input, single_shape};
pub use weight::{BuiltLayer, Weight};
