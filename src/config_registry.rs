//! The registries behind the open config types (optimizer update rules, learning-rate
//! schedules, initializers). A config is a JSON object tagged by its `"name"`, such as
//! `{"name": "adam", "beta_1": 0.9, ...}`; each kind is a Rust type in a file of its own, and its
//! registry is one static table of `Entry`s, one line per kind, mapping the name to the function
//! that builds the kind from the other fields.

use serde::de::{DeserializeOwned, Error as _};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::{Map, Value};

/// One registered kind of a registry whose handle type is `H`.
pub(crate) struct Entry<H> {
    /// The `"name"` of its configs.
    pub name: &'static str,
    /// Builds the handle from the config's other fields (a JSON object).
    pub build: fn(Value) -> serde_json::Result<H>,
}

impl<H> Entry<H> {
    /// The entry of the config type `C` named `name`: its fields deserialize into a `C`, which
    /// becomes the handle.
    pub const fn of<C: DeserializeOwned + Into<H>>(name: &'static str) -> Entry<H> {
        Entry {
            name,
            build: build_as::<C, H>,
        }
    }
}

fn build_as<C: DeserializeOwned + Into<H>, H>(fields: Value) -> serde_json::Result<H> {
    serde_json::from_value::<C>(fields).map(Into::into)
}

/// The names of a registry, as serde's messages quote them: "`sgd`, `adam`".
pub(crate) fn names<H>(table: &[Entry<H>]) -> String {
    table
        .iter()
        .map(|e| format!("`{}`", e.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The handle of the config `{"name": ..., ...fields}`, built by the entry of its name; errors
/// read like serde's (unknown variant, missing or unknown field).
pub(crate) fn build<H>(table: &[Entry<H>], mut fields: Map<String, Value>) -> Result<H, String> {
    let name = match fields.remove("name") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(format!("`name` must be a string, received {other}")),
        None => return Err("missing field `name`".to_string()),
    };
    let Some(entry) = table.iter().find(|e| e.name == name) else {
        return Err(format!(
            "unknown variant `{name}`, expected one of {}",
            names(table)
        ));
    };
    (entry.build)(Value::Object(fields)).map_err(|e| e.to_string())
}

/// Deserializes a tagged config into its handle through `table`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, H>(
    deserializer: D,
    table: &[Entry<H>],
) -> Result<H, D::Error> {
    let fields = Map::<String, Value>::deserialize(deserializer)?;
    build(table, fields).map_err(D::Error::custom)
}

/// Serializes `{"name": name, ...fields}`, `fields` being a config serialized as a JSON object
/// (a config without fields may serialize as an empty object or `null`).
pub(crate) fn serialize<S: Serializer>(
    serializer: S,
    name: &str,
    fields: serde_json::Result<Value>,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    let fields = match fields.map_err(S::Error::custom)? {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Err(S::Error::custom(format!(
                "the config of {name:?} must serialize as an object, not {other}"
            )));
        }
    };
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry("name", name)?;
    for (key, value) in &fields {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Scale {
        factor: f64,
    }

    #[derive(Debug, PartialEq)]
    struct Handle(f64);

    impl From<Scale> for Handle {
        fn from(s: Scale) -> Handle {
            Handle(s.factor)
        }
    }

    const TABLE: &[Entry<Handle>] = &[Entry::of::<Scale>("scale")];

    fn parse(json: &str) -> Result<Handle, String> {
        build(TABLE, serde_json::from_str(json).unwrap())
    }

    #[test]
    fn builds_by_name_and_reports_like_serde() {
        assert_eq!(parse(r#"{"name":"scale","factor":2}"#), Ok(Handle(2.0)));
        let unknown = parse(r#"{"name":"shift"}"#).unwrap_err();
        assert_eq!(unknown, "unknown variant `shift`, expected one of `scale`");
        assert!(parse(r#"{"factor":2}"#).unwrap_err().contains("`name`"));
        let extra = parse(r#"{"name":"scale","factor":2,"x":1}"#).unwrap_err();
        assert!(extra.contains("unknown field `x`"), "{extra}");
        let missing = parse(r#"{"name":"scale"}"#).unwrap_err();
        assert!(missing.contains("missing field `factor`"), "{missing}");
    }

    #[test]
    fn serializes_the_name_first() {
        let mut out = Vec::new();
        let fields = serde_json::to_value(Scale { factor: 0.5 });
        serialize(&mut serde_json::Serializer::new(&mut out), "scale", fields).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"name":"scale","factor":0.5}"#
        );
    }
}
