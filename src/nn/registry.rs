//! The registry of layer kinds: each layer's file registers its kind name and builder with
//! `inventory::submit!`, so adding a layer is adding its file (and one `mod` line).

use std::sync::LazyLock;

use serde::de::DeserializeOwned;

use super::{Layer, Shape};
use crate::dtype::DType;
use crate::error::{Error, Result};

/// Builds a layer from its settings (a model file's JSON) for inputs of the given shapes.
pub type LayerBuilder = fn(&serde_json::Value, &[Shape], DType) -> Result<Box<dyn Layer>>;

/// One layer kind: the name configs and model files use, and how to build it.
///
/// ```ignore
/// inventory::submit! {
///     LayerRegistration {
///         kind: "Dropout",
///         build: |config, _shapes, _dtype| {
///             Ok(Box::new(Dropout::build(parse_config("Dropout", config)?)?))
///         },
///     }
/// }
/// ```
pub struct LayerRegistration {
    pub kind: &'static str,
    pub build: LayerBuilder,
}

inventory::collect!(LayerRegistration);

/// The layer kinds a model may hold, sorted; nothing else can be built or loaded.
pub static LAYER_KINDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut kinds: Vec<&'static str> = inventory::iter::<LayerRegistration>
        .into_iter()
        .map(|r| r.kind)
        .collect();
    kinds.sort_unstable();
    kinds
});

/// The registered layer kinds, sorted.
pub fn layer_kinds() -> &'static [&'static str] {
    &LAYER_KINDS
}

/// Builds a layer of `kind` from its settings for inputs of `input_shapes`.
pub fn build_layer(
    kind: &str,
    config: &serde_json::Value,
    input_shapes: &[Shape],
    dtype: DType,
) -> Result<Box<dyn Layer>> {
    match inventory::iter::<LayerRegistration>
        .into_iter()
        .find(|r| r.kind == kind)
    {
        Some(registration) => (registration.build)(config, input_shapes, dtype),
        None => Err(Error::value(format!(
            "unknown layer kind {kind:?}; known kinds: {}",
            layer_kinds().join(", ")
        ))),
    }
}

/// Reads a layer's settings, rejecting unknown fields with a message that names them.
pub fn parse_config<C: DeserializeOwned>(kind: &str, config: &serde_json::Value) -> Result<C> {
    serde_json::from_value(config.clone())
        .map_err(|e| Error::value(format!("invalid settings for a {kind} layer: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_file_registers_its_kind_once() {
        let kinds = layer_kinds();
        for kind in [
            "Activation",
            "BatchNormalization",
            "Bidirectional",
            "Dense",
            "Dropout",
            "Embedding",
            "Flatten",
            "GRU",
            "GlobalAveragePooling1D",
            "LSTM",
            "SimpleRNN",
        ] {
            assert!(kinds.contains(&kind), "{kind} is not registered");
        }
        let mut unique = kinds.to_vec();
        unique.dedup();
        assert_eq!(unique.len(), kinds.len(), "a kind is registered twice");
        assert!(kinds.windows(2).all(|w| w[0] < w[1]), "sorted");
    }

    #[test]
    fn unknown_kinds_and_fields_are_refused_by_name() {
        let err = build_layer("Conv9D", &serde_json::json!({}), &[], DType::F32)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unknown layer kind \"Conv9D\""), "{err}");
        assert!(err.contains("Dense"), "{err}");
        let err = build_layer(
            "Dense",
            &serde_json::json!({"units": 2, "colour": "red"}),
            &[vec![None, Some(3)]],
            DType::F32,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("invalid settings for a Dense layer"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }
}
