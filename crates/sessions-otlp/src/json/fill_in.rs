//! Writing a JSON export request again with what the derived types need
//! filled in (see the parent module), as text: the copy is about as large
//! as the body, where a `serde_json::Value` of it took a hundred times more.
//! Values that need nothing are copied byte for byte.

use std::borrow::Cow;
use std::fmt;

use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::defaulted;
use crate::shape::{Field, Message};

/// Fills in what the derived types need: severity names become numbers
/// (unknown names stay, for the decoder to refuse), integers written with a
/// zero fraction become integers (others stay, to be refused), left-out
/// `values` and `key` fields their defaults. Only called after
/// `check_shape` accepted the body, so every message is an object (or
/// `null`) and every list of messages an array.
pub(super) fn fill_in(body: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 8);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    Rewrite {
        message: Message::Request,
        out: &mut out,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(out)
}

/// Writes one message (or `null`).
struct Rewrite<'a> {
    message: Message,
    out: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for Rewrite<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Rewrite<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "an object ({:?})", self.message)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let defaulted = defaulted(self.message);
        let mut has_defaulted = false;
        self.out.push(b'{');
        let mut first = true;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if !first {
                self.out.push(b',');
            }
            first = false;
            write_key(self.out, &key).map_err(de::Error::custom)?;
            has_defaulted |= defaulted.is_some_and(|(name, _)| name == key);
            match self.message.json_field(&key) {
                Field::One(message) => map.next_value_seed(Rewrite {
                    message,
                    out: self.out,
                })?,
                Field::Many(message) => map.next_value_seed(RewriteList {
                    message,
                    out: self.out,
                })?,
                Field::Integer { named } => {
                    let raw: &'de RawValue = map.next_value()?;
                    write_integer(self.out, raw.get(), named);
                }
                Field::Strings | Field::Scalar => {
                    let raw: &'de RawValue = map.next_value()?;
                    self.out.extend_from_slice(raw.get().as_bytes());
                }
            }
        }
        if let Some((name, value)) = defaulted
            && !has_defaulted
        {
            if !first {
                self.out.push(b',');
            }
            write_key(self.out, name).map_err(de::Error::custom)?;
            self.out.extend_from_slice(value.as_bytes());
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// Writes a list of messages.
struct RewriteList<'a> {
    message: Message,
    out: &'a mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for RewriteList<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RewriteList<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "an array of objects ({:?})", self.message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            // The comma goes before an element, and back out when there
            // is none.
            let before = self.out.len();
            if !first {
                self.out.push(b',');
            }
            let element = Rewrite {
                message: self.message,
                out: &mut *self.out,
            };
            if seq.next_element_seed(element)?.is_none() {
                self.out.truncate(before);
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }
}

/// `"key":`, escaped as JSON.
fn write_key(out: &mut Vec<u8>, key: &str) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, key)?;
    out.push(b':');
    Ok(())
}

/// An integer field as the derived types read it: a number with a zero
/// fraction as an integer, a severity by name as its number. Anything else
/// is copied as it is, for them to accept or refuse.
fn write_integer(out: &mut Vec<u8>, raw: &str, named: bool) {
    let integer = match raw.as_bytes().first() {
        Some(b'"') if named => serde_json::from_str::<Cow<'_, str>>(raw)
            .ok()
            .and_then(|name| SeverityNumber::from_str_name(&name))
            .map(|severity| i128::from(severity as i32)),
        Some(b'-' | b'0'..=b'9') => serde_json::from_str::<serde_json::Number>(raw)
            .ok()
            .filter(serde_json::Number::is_f64)
            .and_then(|number| number.as_f64())
            .and_then(integral),
        _ => None,
    };
    match integer {
        Some(integer) => out.extend_from_slice(integer.to_string().as_bytes()),
        None => out.extend_from_slice(raw.as_bytes()),
    }
}

/// `number` as an integer, when it has no fraction and fits 64 bits
/// (signed or not).
pub(super) fn integral(number: f64) -> Option<i128> {
    // 2^64 and -2^63, exactly representable as doubles. Both ends are left
    // out: integers just past them round to them, and must stay refused.
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    const I64_START: f64 = -9_223_372_036_854_775_808.0;
    if number.fract() != 0.0 || !number.is_finite() {
        None
    } else if (0.0..U64_END).contains(&number) {
        Some(i128::from(number as u64))
    } else if number > I64_START && number < 0.0 {
        Some(i128::from(number as i64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
