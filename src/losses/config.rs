//! The JSON configs of losses and metrics, `{"name": ..., parameters...}`, and the registries
//! that map those names (and aliases) to the registered types.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The registered entries of one kind (losses or metrics), sorted by name, looked up by the
/// `"name"` of a config or by a name or alias given by a user.
pub(crate) struct Registry<'a, E> {
    what: &'static str,
    entries: Vec<&'a E>,
    name: fn(&E) -> &'static str,
    aliases: fn(&E) -> &'static [&'static str],
}

impl<'a, E> Registry<'a, E> {
    pub fn new(
        what: &'static str,
        mut entries: Vec<&'a E>,
        name: fn(&E) -> &'static str,
        aliases: fn(&E) -> &'static [&'static str],
    ) -> Registry<'a, E> {
        // `inventory` yields entries in link order; sorting makes messages stable.
        entries.sort_by_key(|e| name(e));
        Registry {
            what,
            entries,
            name,
            aliases,
        }
    }

    /// Every name, each followed by its aliases.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries
            .iter()
            .flat_map(|e| std::iter::once((self.name)(e)).chain((self.aliases)(e).iter().copied()))
            .collect()
    }

    /// Every name and alias, for messages.
    pub fn known(&self) -> String {
        self.names().join(", ")
    }

    /// The entry of a canonical name or an alias, if any.
    pub fn lookup(&self, name: &str) -> Option<&'a E> {
        self.entries
            .iter()
            .find(|e| (self.name)(e) == name || (self.aliases)(e).contains(&name))
            .copied()
    }

    /// The entry of a canonical name or an alias (what users type).
    pub fn by_name_or_alias(&self, name: &str) -> Result<&'a E> {
        self.lookup(name).ok_or_else(|| {
            Error::value(format!(
                "unknown {} {name:?}; known {}: {}",
                self.what,
                plural(self.what),
                self.known()
            ))
        })
    }

    /// The entry of the canonical `"name"` of a config (what files store; no aliases).
    pub fn by_config_name(&self, name: &str, json: &str) -> Result<&'a E> {
        self.entries
            .iter()
            .find(|e| (self.name)(e) == name)
            .copied()
            .ok_or_else(|| {
                Error::value(format!(
                    "invalid {} config {json}: unknown {} {name:?}; known {}: {}",
                    self.what,
                    self.what,
                    plural(self.what),
                    self.entries
                        .iter()
                        .map(|e| (self.name)(e))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

fn plural(what: &str) -> String {
    match what {
        "loss" => "losses".to_string(),
        other => format!("{other}s"),
    }
}

/// The `"name"` of a config and its other keys (the parameters).
pub(crate) fn split_config(what: &str, json: &str) -> Result<(String, Map<String, Value>)> {
    let bad = |reason: String| Error::value(format!("invalid {what} config {json}: {reason}"));
    let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let Value::Object(mut params) = value else {
        return Err(bad("expected an object such as {\"name\": ...}".to_string()));
    };
    match params.remove("name") {
        Some(Value::String(name)) => Ok((name, params)),
        Some(other) => Err(bad(format!("\"name\" must be a string, received {other}"))),
        None => Err(bad("missing field `name`".to_string())),
    }
}

/// `{"name": name, parameters...}`, the parameters in the order of `config`'s fields.
pub(crate) fn to_json<C: Serialize>(name: &'static str, config: &C) -> Result<String> {
    #[derive(Serialize)]
    struct Named<'a, C> {
        name: &'static str,
        #[serde(flatten)]
        config: &'a C,
    }
    serde_json::to_string(&Named { name, config })
        .map_err(|e| Error::value(format!("{name}: cannot serialise the config: {e}")))
}

/// Writes a JSON object (as `to_json` made it) to any serde serializer, keeping the order of
/// its keys (a `serde_json::Value` would sort them).
pub(crate) fn serialize_json<S: serde::Serializer>(
    json: &str,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::{Error as _, SerializeMap};
    let fields: OrderedFields = serde_json::from_str(json).map_err(S::Error::custom)?;
    let mut map = serializer.serialize_map(Some(fields.0.len()))?;
    for (key, value) in &fields.0 {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

/// The keys and values of a JSON object, in their order.
struct OrderedFields(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for OrderedFields {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OrderedFields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<OrderedFields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(OrderedFields(fields))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
