//! serde helpers for the protobuf JSON mapping (protojson) that Sigstore bundles use.
//!
//! protojson writes `int64` as decimal strings, `bytes` as standard padded base64 and enums by
//! name, and leaves out fields holding their default value. Its reader is laxer: it takes
//! `int64` as strings or numbers, `bytes` in either base64 alphabet with or without padding,
//! enums by name or number, and `null` for any field as "unset". These helpers do the same so
//! the bundle types can derive their serde implementations.

use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::b64;

/// Deserialises `T`, reading `null` as `T::default()`.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `skip_serializing_if` for proto3 integer defaults.
pub(crate) fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// `skip_serializing_if` for messages equal to their default (an unset field).
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn int_from_value<E: de::Error>(value: &Value) -> Result<i64, E> {
    match value {
        Value::Null => Ok(0),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            // protojson accepts integral numbers written with a fraction or exponent.
            match n.as_f64() {
                // The range is [-2^63, 2^63): every such integral double fits an i64.
                Some(f)
                    if f.fract() == 0.0
                        && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
                {
                    Ok(f as i64)
                }
                _ => Err(E::custom(format!("invalid int64 value {n}"))),
            }
        }
        Value::String(s) => s
            .parse::<i64>()
            .map_err(|_| E::custom(format!("invalid int64 value {s:?}"))),
        _ => Err(E::custom("int64 field must be a string or a number")),
    }
}

/// `int64` fields: written as a decimal string, read from a string or a number.
pub(crate) mod int64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        int_from_value(&Value::deserialize(deserializer)?)
    }
}

fn bytes_from_value<E: de::Error>(value: &Value) -> Result<Vec<u8>, E> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => b64::decode_lenient(s, "bytes field").map_err(E::custom),
        _ => Err(E::custom("bytes field must be a base64 string")),
    }
}

/// `bytes` fields: standard base64 out, either alphabet in.
pub(crate) mod bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&b64::encode(value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        bytes_from_value(&Value::deserialize(deserializer)?)
    }
}

/// `repeated bytes` fields.
pub(crate) mod bytes_list {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &[Vec<u8>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(|item| b64::encode(item)))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let items = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
        items.iter().map(bytes_from_value).collect()
    }
}

/// The `dev.sigstore.common.v1.HashAlgorithm` enum names, by number.
const HASH_ALGORITHMS: [&str; 6] = [
    "HASH_ALGORITHM_UNSPECIFIED",
    "SHA2_256",
    "SHA2_384",
    "SHA2_512",
    "SHA3_256",
    "SHA3_384",
];

/// `skip_serializing_if` for an enum holding its zero value.
pub(crate) fn is_unspecified_hash(name: &str) -> bool {
    name.is_empty() || name == HASH_ALGORITHMS[0]
}

/// `HashAlgorithm` enum fields, kept as their name; numbers are mapped to names when read.
pub(crate) mod hash_algorithm {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<String, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s),
            Value::Number(n) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| HASH_ALGORITHMS.get(i))
                .map(|name| (*name).to_owned())
                .ok_or_else(|| de::Error::custom(format!("unknown hash algorithm number {n}"))),
            _ => Err(de::Error::custom(
                "hash algorithm must be a name or a number",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(text: &str) -> Result<i64, serde_json::Error> {
        int64::deserialize(&mut serde_json::Deserializer::from_str(text))
    }

    #[test]
    fn int64_forms() {
        assert_eq!(int("\"-42\"").unwrap(), -42);
        assert_eq!(int("42").unwrap(), 42);
        assert_eq!(int("1e3").unwrap(), 1000);
        assert_eq!(int("2.0").unwrap(), 2);
        assert_eq!(int("null").unwrap(), 0);
        assert_eq!(int("\"9223372036854775807\"").unwrap(), i64::MAX);
        for bad in [
            "2.5",
            "\"1e3\"",
            "\"\"",
            "9223372036854775808",
            "1e19",
            "true",
            "[]",
        ] {
            assert!(int(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hash_algorithm_numbers() {
        let read =
            |text: &str| hash_algorithm::deserialize(&mut serde_json::Deserializer::from_str(text));
        assert_eq!(read("1").unwrap(), "SHA2_256");
        assert_eq!(read("\"SHA2_384\"").unwrap(), "SHA2_384");
        assert_eq!(read("null").unwrap(), "");
        assert!(read("6").is_err());
        assert!(read("-1").is_err());
        assert!(is_unspecified_hash("HASH_ALGORITHM_UNSPECIFIED"));
    }
}
