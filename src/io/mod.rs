//! Weights on disk: the safetensors encoding, validated before anything is used.

pub mod safetensors;
