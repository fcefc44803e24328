//! Reading and writing named tensors in the safetensors format (with the `safetensors` crate),
//! so that PyTorch and other tools read the same weights.
//!
//! Reading trusts nothing: the header's size is bounded, its JSON may not repeat a name, every
//! tensor must be float32 or float64 with a shape whose size does not overflow, and the byte
//! spans must be in bounds, contiguous, non-overlapping and cover the data exactly (the crate
//! checks the spans; the rest is checked here). Nothing is returned unless everything passed.

use std::collections::{HashMap, HashSet};
use std::fmt;

use ::safetensors::tensor::{Dtype, TensorView};
use ::safetensors::{SafeTensors, serialize};
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::storage::{Storage, checked_numel};

/// The largest header accepted (the crate allows 100 MB; a model's names and shapes need far
/// less).
pub const MAX_HEADER_BYTES: usize = 16 << 20;

/// The most tensors one file may name.
pub const MAX_TENSORS: usize = 100_000;

/// Encodes `tensors` with optional string `metadata`.
pub fn to_bytes(
    tensors: &[(String, &Storage)],
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let mut seen = HashSet::new();
    for (name, _) in tensors {
        if !seen.insert(name.as_str()) {
            return Err(Error::value(format!(
                "safetensors: the name {name:?} appears twice"
            )));
        }
    }
    let bytes: Vec<(String, Vec<u8>, Dtype, Vec<usize>)> = tensors
        .iter()
        .map(|(name, storage)| {
            let (dtype, data) = match storage {
                Storage::F32(a) => (Dtype::F32, a.iter().flat_map(|v| v.to_le_bytes()).collect()),
                Storage::F64(a) => (Dtype::F64, a.iter().flat_map(|v| v.to_le_bytes()).collect()),
            };
            (name.clone(), data, dtype, storage.shape().to_vec())
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, dtype, shape)| {
            TensorView::new(*dtype, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| Error::value(format!("safetensors: cannot encode {name:?}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    serialize(views, metadata).map_err(|e| Error::value(format!("safetensors: {e}")))
}

/// Named tensors and the string metadata of a safetensors file, in the order of their data in
/// the file (the crate orders them by dtype and name when writing; match them by name).
pub struct Decoded {
    pub tensors: Vec<(String, Storage)>,
    pub metadata: HashMap<String, String>,
}

/// Decodes and validates a whole safetensors file held in memory.
pub fn from_bytes(bytes: &[u8]) -> Result<Decoded> {
    let header = header_text(bytes)?;
    check_unique_names(header)?;
    let parsed = SafeTensors::deserialize(bytes)
        .map_err(|e| Error::Format(format!("not a valid safetensors file: {e}")))?;
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::Format(format!("not a valid safetensors file: {e}")))?;
    if parsed.len() > MAX_TENSORS {
        return Err(Error::Format(format!(
            "the file names {} tensors, more than the {MAX_TENSORS} accepted",
            parsed.len()
        )));
    }
    let mut tensors = Vec::with_capacity(parsed.len());
    for name in metadata.offset_keys() {
        let view = parsed
            .tensor(&name)
            .map_err(|e| Error::Format(format!("tensor {name:?}: {e}")))?;
        tensors.push((name.clone(), decode(&name, &view)?));
    }
    Ok(Decoded {
        tensors,
        metadata: metadata.metadata().clone().unwrap_or_default(),
    })
}

fn header_text(bytes: &[u8]) -> Result<&str> {
    let length_bytes: [u8; 8] =
        bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::Format(format!(
                    "the file is {} bytes, too short for a safetensors header",
                    bytes.len()
                ))
            })?;
    let length = u64::from_le_bytes(length_bytes);
    if length > MAX_HEADER_BYTES as u64 {
        return Err(Error::Format(format!(
            "the header claims {length} bytes, more than the {MAX_HEADER_BYTES} accepted"
        )));
    }
    let header = bytes.get(8..8 + length as usize).ok_or_else(|| {
        Error::Format(format!(
            "the header claims {length} bytes but the file ends before"
        ))
    })?;
    std::str::from_utf8(header).map_err(|e| Error::Format(format!("the header is not UTF-8: {e}")))
}

/// serde would keep the last of two entries with one name; a file that repeats a name is
/// ambiguous, so it is refused.
fn check_unique_names(header: &str) -> Result<()> {
    struct UniqueKeys;
    impl<'de> Visitor<'de> for UniqueKeys {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<de::IgnoredAny>()?;
                if !seen.insert(key.clone()) {
                    return Err(de::Error::custom(format!("the name {key:?} appears twice")));
                }
            }
            Ok(())
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(header);
    deserializer
        .deserialize_map(UniqueKeys)
        .map_err(|e| Error::Format(format!("invalid safetensors header: {e}")))
}

fn decode(name: &str, view: &TensorView<'_>) -> Result<Storage> {
    let shape = view.shape().to_vec();
    match view.dtype() {
        Dtype::F32 => decode_as::<f32, 4>(name, &shape, view.data(), f32::from_le_bytes),
        Dtype::F64 => decode_as::<f64, 8>(name, &shape, view.data(), f64::from_le_bytes),
        other => Err(Error::Format(format!(
            "tensor {name:?} has dtype {other:?}; ferrograd reads F32 and F64"
        ))),
    }
}

fn decode_as<T: Element, const N: usize>(
    name: &str,
    shape: &[usize],
    data: &[u8],
    from_bytes: fn([u8; N]) -> T,
) -> Result<Storage> {
    let numel = checked_numel(shape, T::DTYPE)
        .map_err(|_| Error::Format(format!("tensor {name:?} has an impossible shape {shape:?}")))?;
    if data.len() != numel * N {
        return Err(Error::Format(format!(
            "tensor {name:?} of shape {shape:?} needs {} bytes, the file gives {}",
            numel * N,
            data.len()
        )));
    }
    let values: Vec<T> = data
        .chunks_exact(N)
        .map(|chunk| {
            let mut word = [0u8; N];
            word.copy_from_slice(chunk);
            from_bytes(word)
        })
        .collect();
    let array = crate::storage::array_from_vec(shape, values)?;
    Ok(T::into_storage(array))
}

/// The dtype name safetensors uses, for documentation and messages.
pub fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "F32",
        DType::F64 => "F64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(String, Storage)> {
        vec![
            (
                "dense/kernel".into(),
                Storage::from_f64_vec(DType::F32, &[2, 3], (0..6).map(f64::from).collect())
                    .unwrap(),
            ),
            (
                "dense/bias".into(),
                Storage::from_f64_vec(DType::F64, &[3], vec![1.0, 2.0, 3.0]).unwrap(),
            ),
        ]
    }

    #[test]
    fn round_trips_with_metadata() {
        let tensors = sample();
        let refs: Vec<(String, &Storage)> = tensors.iter().map(|(n, s)| (n.clone(), s)).collect();
        let metadata = HashMap::from([("format".to_string(), "ferrograd".to_string())]);
        let bytes = to_bytes(&refs, Some(metadata.clone())).unwrap();
        let decoded = from_bytes(&bytes).unwrap();
        assert_eq!(decoded.metadata, metadata);
        let by_name: HashMap<_, _> = decoded.tensors.into_iter().collect();
        assert_eq!(by_name.len(), 2);
        assert_eq!(by_name["dense/bias"].to_f64_vec(), vec![1.0, 2.0, 3.0]);
        assert_eq!(by_name["dense/kernel"].dtype(), DType::F32);
        assert_eq!(by_name["dense/kernel"].shape(), &[2, 3]);
    }

    #[test]
    fn damaged_files_are_refused() {
        let tensors = sample();
        let refs: Vec<(String, &Storage)> = tensors.iter().map(|(n, s)| (n.clone(), s)).collect();
        let bytes = to_bytes(&refs, None).unwrap();
        // Truncated, extended, header length too large, garbage.
        assert!(from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bytes(&longer).is_err());
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(from_bytes(&huge).is_err());
        assert!(from_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}").is_ok());
        assert!(from_bytes(b"abc").is_err());
    }

    #[test]
    fn repeated_names_and_foreign_dtypes_are_refused() {
        let header = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        file.extend_from_slice(&[0; 4]);
        let err = from_bytes(&file).err().unwrap().to_string();
        assert!(err.contains("twice"), "{err}");

        let header = r#"{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        file.extend_from_slice(&[0; 4]);
        assert!(from_bytes(&file).err().unwrap().to_string().contains("I32"));
    }
}
