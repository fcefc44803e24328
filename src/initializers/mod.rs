//! Weight initializers, with Keras's names, defaults and formulas. Every draw comes from the
//! library's seeded generator, so `set_seed` makes initial weights repeatable.
//!
//! Each initializer is a `WeightInitializer` in a file of its own (`glorot_uniform.rs`, ...);
//! `Initializer` is the handle layers hold, serialized as the initializer's config tagged by its
//! name (`{"name": "glorot_uniform"}`, `{"name": "orthogonal", "gain": 1.0}`). Adding one: its
//! file, its `mod` line and its line in `INITIALIZERS`.
//!
//! ```
//! use ferrograd::initializers::{GlorotUniform, Initializer};
//! use ferrograd::DType;
//!
//! ferrograd::rng::set_seed(0);
//! let w = Initializer::new(GlorotUniform {}).tensor(&[4, 3], DType::F32).unwrap();
//! assert_eq!(w.shape(), &[4, 3]);
//! let same: Initializer = serde_json::from_str(r#"{"name": "glorot_uniform"}"#).unwrap();
//! assert_eq!(same.name(), "glorot_uniform");
//! ```

mod constant;
mod glorot_normal;
mod glorot_uniform;
mod he_normal;
mod he_uniform;
mod lecun_normal;
mod lecun_uniform;
mod ones;
mod orthogonal;
mod random_normal;
mod random_uniform;
mod truncated_normal;
mod variance_scaling;
mod zeros;

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use constant::Constant;
pub use glorot_normal::GlorotNormal;
pub use glorot_uniform::GlorotUniform;
pub use he_normal::HeNormal;
pub use he_uniform::HeUniform;
pub use lecun_normal::LecunNormal;
pub use lecun_uniform::LecunUniform;
pub use ones::Ones;
pub use orthogonal::Orthogonal;
pub use random_normal::RandomNormal;
pub use random_uniform::RandomUniform;
pub use truncated_normal::TruncatedNormal;
pub use variance_scaling::VarianceScaling;
pub use zeros::Zeros;

use crate::config_registry::{self, Entry};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::storage::Storage;
use crate::tensor::Tensor;

/// The initializers a config can name: one line each.
const INITIALIZERS: &[Entry<Initializer>] = &[
    entry::<Zeros>(),
    entry::<Ones>(),
    entry::<Constant>(),
    entry::<RandomNormal>(),
    entry::<RandomUniform>(),
    entry::<TruncatedNormal>(),
    entry::<GlorotUniform>(),
    entry::<GlorotNormal>(),
    entry::<HeNormal>(),
    entry::<HeUniform>(),
    entry::<LecunNormal>(),
    entry::<LecunUniform>(),
    entry::<Orthogonal>(),
    entry::<VarianceScaling>(),
];

/// One weight initializer. The type is its own config: its fields are the arguments, serialized
/// (with `"name": NAME`) in layer configs and model files.
///
/// Example:
///
/// ```
/// use ferrograd::initializers::{Constant, WeightInitializer};
/// use ferrograd::DType;
///
/// let t = Constant { value: 0.5 }.tensor(&[2], DType::F64).unwrap();
/// assert_eq!(t.to_f64_vec(), vec![0.5, 0.5]);
/// ```
pub trait WeightInitializer:
    Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The name in configs (`"glorot_uniform"`, ...).
    const NAME: &'static str;

    /// A new leaf tensor of `shape`, drawn (from the seeded generator) or filled.
    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor>;
}

const fn entry<I: WeightInitializer>() -> Entry<Initializer> {
    Entry::of::<I>(I::NAME)
}

/// A `WeightInitializer` behind a pointer: what `Initializer` holds.
trait AnyInitializer: Debug + Send + Sync {
    fn name(&self) -> &'static str;
    fn fields(&self) -> serde_json::Result<serde_json::Value>;
    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor>;
    fn as_any(&self) -> &dyn Any;
    fn equals(&self, other: &dyn AnyInitializer) -> bool;
}

impl<I: WeightInitializer> AnyInitializer for I {
    fn name(&self) -> &'static str {
        I::NAME
    }
    fn fields(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::to_value(self)
    }
    fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        WeightInitializer::tensor(self, shape, dtype)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn equals(&self, other: &dyn AnyInitializer) -> bool {
        other.as_any().downcast_ref::<I>() == Some(self)
    }
}

/// A weight initializer, any registered `WeightInitializer`, and its `seed`: a seeded
/// initializer draws from a generator of that seed, so every call gives the same values (as
/// Keras 3's seeded initializers do); without a seed it draws from the library's stream.
#[derive(Clone, Debug)]
pub struct Initializer(Arc<dyn AnyInitializer>, Option<u64>);

impl Initializer {
    pub fn new<I: WeightInitializer>(initializer: I) -> Initializer {
        Initializer(Arc::new(initializer), None)
    }

    /// The same initializer drawing from a generator seeded with `seed` (None: the library's).
    pub fn with_seed(mut self, seed: Option<u64>) -> Initializer {
        self.1 = seed;
        self
    }

    /// The seed, if any.
    pub fn seed(&self) -> Option<u64> {
        self.1
    }

    /// The initializer of a Keras name (`"he_normal"`) with its default settings.
    pub fn parse(name: &str) -> Result<Initializer> {
        serde_json::from_value(serde_json::json!({ "name": name })).map_err(|_| {
            Error::value(format!(
                "unknown initializer {name:?}; known initializers: {}",
                names().join(", ")
            ))
        })
    }

    /// The initializer as its own type, if it is an `I`.
    pub fn get<I: WeightInitializer>(&self) -> Option<&I> {
        self.0.as_any().downcast_ref()
    }

    /// The initializer's name in configs (`"glorot_uniform"`, ...).
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// A new leaf tensor of `shape`, drawn or filled according to this initializer; lazily
    /// allocated zeros, drawing nothing, while values are deferred (`defer_values`).
    pub fn tensor(&self, shape: &[usize], dtype: DType) -> Result<Tensor> {
        if DEFERRED.get() {
            return Ok(Tensor::new(Storage::lazy_zeros(dtype, shape)?, false));
        }
        match self.1 {
            Some(seed) => crate::rng::with_seed(seed, || self.0.tensor(shape, dtype)),
            None => self.0.tensor(shape, dtype),
        }
    }
}

thread_local! {
    static DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Turns deferred values on or off for this thread and returns the previous setting. While on,
/// initializers make zeros that take no memory until written and draw no random numbers: what
/// loading a model wants, since the file's weights overwrite them, and a file describing weights
/// it does not hold is refused (by the shape check against its tensors) before the memory those
/// weights would take is touched.
pub fn defer_values(deferred: bool) -> bool {
    DEFERRED.replace(deferred)
}

/// The names of the registered initializers, in registration order.
pub fn names() -> Vec<&'static str> {
    INITIALIZERS.iter().map(|e| e.name).collect()
}

impl<I: WeightInitializer> From<I> for Initializer {
    fn from(initializer: I) -> Initializer {
        Initializer::new(initializer)
    }
}

impl PartialEq for Initializer {
    fn eq(&self, other: &Initializer) -> bool {
        self.0.equals(&*other.0) && self.1 == other.1
    }
}

impl Serialize for Initializer {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let fields = self.0.fields().map(|fields| match (fields, self.1) {
            (serde_json::Value::Object(mut map), Some(seed)) => {
                map.insert("seed".to_string(), seed.into());
                serde_json::Value::Object(map)
            }
            (serde_json::Value::Null, Some(seed)) => serde_json::json!({ "seed": seed }),
            (fields, _) => fields,
        });
        config_registry::serialize(serializer, self.name(), fields)
    }
}

impl<'de> Deserialize<'de> for Initializer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        // `seed` belongs to every initializer (null or a non-negative integer); the rest are the
        // kind's own fields.
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let seed = match fields.remove("seed") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                D::Error::custom(format!(
                    "an initializer's seed must be a non-negative integer or null, received {value}"
                ))
            })?),
        };
        let initializer: Initializer =
            config_registry::deserialize(serde_json::Value::Object(fields), INITIALIZERS)
                .map_err(D::Error::custom)?;
        Ok(initializer.with_seed(seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_round_trip() {
        for name in names() {
            // `constant` is the one without a default for its argument.
            let init = match name {
                "constant" => Initializer::new(Constant { value: 0.5 }),
                _ => Initializer::parse(name).unwrap(),
            };
            let json = serde_json::to_string(&init).unwrap();
            assert!(
                json.starts_with(&format!("{{\"name\":\"{name}\"")),
                "{json}"
            );
            assert_eq!(serde_json::from_str::<Initializer>(&json).unwrap(), init);
        }
        let err = Initializer::parse("xavier").unwrap_err().to_string();
        assert!(err.contains("glorot_uniform"), "{err}");
        assert!(Initializer::parse("constant").is_err());
        let extra = serde_json::from_str::<Initializer>(r#"{"name":"zeros","x":1}"#);
        assert!(extra.is_err());
    }

    #[test]
    fn a_seeded_initializer_draws_the_same_values_each_call_and_leaves_the_stream() {
        let seeded: Initializer =
            serde_json::from_str(r#"{"name":"glorot_uniform","seed":7}"#).unwrap();
        assert_eq!(seeded.seed(), Some(7));
        assert_eq!(
            serde_json::to_string(&seeded).unwrap(),
            r#"{"name":"glorot_uniform","seed":7}"#
        );
        crate::rng::set_seed(3);
        let a = seeded.tensor(&[4, 3], DType::F64).unwrap().to_f64_vec();
        let after_seeded = crate::creation::randn(&[2], DType::F64)
            .unwrap()
            .to_f64_vec();
        crate::rng::set_seed(3);
        let b = seeded.tensor(&[4, 3], DType::F64).unwrap().to_f64_vec();
        let c = seeded.tensor(&[4, 3], DType::F64).unwrap().to_f64_vec();
        assert_eq!(a, b);
        assert_eq!(a, c);
        crate::rng::set_seed(3);
        let unseeded_stream = crate::creation::randn(&[2], DType::F64)
            .unwrap()
            .to_f64_vec();
        assert_eq!(after_seeded, unseeded_stream);
        let other: Initializer =
            serde_json::from_str(r#"{"name":"glorot_uniform","seed":8}"#).unwrap();
        assert_ne!(other.tensor(&[4, 3], DType::F64).unwrap().to_f64_vec(), a);
        assert!(serde_json::from_str::<Initializer>(r#"{"name":"zeros","seed":-1}"#).is_err());
    }
}
