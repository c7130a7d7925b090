//! OTLP's JSON encoding: the derived serde types of `opentelemetry-proto`,
//! made exact where they are lenient and lenient where they are strict.
//!
//! serde's derived types take a JSON array for a message (its fields by
//! position), which no OTLP encoder writes and the protobuf JSON mapping
//! does not allow, so a first pass (`check_shape`, streaming, allocating
//! nothing per value) refuses an array, string or number where a message
//! belongs, and counts what the request will take decoded (see `shape`).
//! The same pass notices the few things the protobuf JSON mapping allows
//! that the derived types refuse: a `severityNumber` given by name, an
//! integer written with a fraction of zero (`1.0`, as JavaScript and Python
//! encoders may), and fields left out because they hold their default
//! (`values` of an empty array or key-value list, the empty `key`), as Go's
//! encoder does. Only then is the body written again with them filled in
//! (`fill_in`), as text, for the derived types to read.

use std::borrow::Cow;
use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::shape::{Census, Field, Message};
use crate::{DecodeError, DecodeLimits};

mod fill_in;

/// Decodes a JSON export request within `limits`.
pub(crate) fn decode_json(
    body: &[u8],
    limits: &DecodeLimits,
) -> Result<ExportLogsServiceRequest, DecodeError> {
    let scan = check_shape(body)?;
    limits.check(&scan.census)?;
    if !scan.needs_filling_in {
        return Ok(serde_json::from_slice(body)?);
    }
    let filled_in = fill_in::fill_in(body)?;
    Ok(serde_json::from_slice(&filled_in)?)
}

/// What the first pass found out.
#[derive(Debug, Default)]
struct Scan {
    /// Whether the body needs filling in before the derived types can read
    /// it.
    needs_filling_in: bool,
    /// What the request will take decoded.
    census: Census,
    /// The copy serde makes of the top-level `AnyValue` being checked.
    copy_bytes: usize,
}

/// What the copy of an `AnyValue` costs per entry of a map in it (two
/// `serde` `Content` values of 32 bytes, in a vector that may have twice
/// the room), besides the key's and scalar values' text, and per element
/// of a list in it. The derived `AnyValue` reads through
/// `#[serde(flatten)]`, which copies the whole value first, and so again
/// for every `AnyValue` nested in it while the outer copies are still
/// held: each byte is copied once for every `AnyValue` around it.
const COPY_ENTRY_BYTES: usize = 128;
const COPY_ELEMENT_BYTES: usize = 64;

/// Checks that messages are objects and repeated fields arrays, and counts
/// the elements of the lists.
fn check_shape(body: &[u8]) -> Result<Scan, serde_json::Error> {
    let mut scan = Scan::default();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    Check {
        message: Message::Request,
        optional: false,
        copies: 0,
        scan: &mut scan,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(scan)
}

/// The field the derived type requires although the JSON mapping lets an
/// encoder leave it out, and what it holds then, as JSON.
fn defaulted(message: Message) -> Option<(&'static str, &'static str)> {
    match message {
        Message::ArrayValue | Message::KeyValueList => Some(("values", "[]")),
        Message::KeyValue => Some(("key", "\"\"")),
        _ => None,
    }
}

/// Checks one message (or, when `optional`, `null`).
struct Check<'a> {
    message: Message,
    optional: bool,
    /// How many `AnyValue`s are around this message, each holding a copy.
    copies: usize,
    scan: &'a mut Scan,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "an object ({:?})", self.message)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.optional {
            Ok(())
        } else {
            Err(E::invalid_type(de::Unexpected::Unit, &self))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let top_level_value = self.message == Message::AnyValue && self.copies == 0;
        if top_level_value {
            self.scan.copy_bytes = 0;
        }
        // Whatever is in an `AnyValue` is in its copy too.
        let copies = self.copies + usize::from(self.message == Message::AnyValue);
        let defaulted = defaulted(self.message).map(|(key, _)| key);
        let mut has_defaulted = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            has_defaulted |= defaulted == Some(key.as_ref());
            self.scan.copy_bytes += (COPY_ENTRY_BYTES + key.len()) * copies;
            match self.message.json_field(&key) {
                Field::One(message) => map.next_value_seed(Check {
                    message,
                    optional: true,
                    copies,
                    scan: self.scan,
                })?,
                Field::Many(message) => map.next_value_seed(CheckArray {
                    message,
                    copies,
                    scan: self.scan,
                })?,
                Field::Integer { named } => {
                    let written = map.next_value::<IntegerProbe>()?;
                    if written.float || (named && written.text) {
                        self.scan.needs_filling_in = true;
                    }
                }
                Field::Strings => map.next_value_seed(CountStrings {
                    census: &mut self.scan.census,
                })?,
                Field::Scalar if copies > 0 => {
                    let raw: &'de RawValue = map.next_value()?;
                    self.scan.copy_bytes += raw.get().len() * copies;
                }
                Field::Scalar => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if defaulted.is_some() && !has_defaulted {
            self.scan.needs_filling_in = true;
        }
        if top_level_value {
            self.scan.census.side(self.scan.copy_bytes);
        }
        Ok(())
    }
}

/// Checks an array of messages.
struct CheckArray<'a> {
    message: Message,
    copies: usize,
    scan: &'a mut Scan,
}

impl<'de> DeserializeSeed<'de> for CheckArray<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CheckArray<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "an array of objects ({:?})", self.message)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let element = Check {
                message: self.message,
                optional: false,
                copies: self.copies,
                scan: &mut *self.scan,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            self.scan.census.element(self.message);
            self.scan.copy_bytes += COPY_ELEMENT_BYTES * self.copies;
        }
    }
}

/// Counts the elements of a list of strings, which the derived types check.
struct CountStrings<'a> {
    census: &'a mut Census,
}

impl<'de> DeserializeSeed<'de> for CountStrings<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountStrings<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {
            self.census.string();
        }
        Ok(())
    }
}

/// How an integer field is written, as far as filling in goes: as a
/// floating-point number, or as a string. Anything else is left to the
/// derived types to accept or refuse.
#[derive(Default)]
struct IntegerProbe {
    float: bool,
    text: bool,
}

impl<'de> de::Deserialize<'de> for IntegerProbe {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntegerProbeVisitor)
    }
}

struct IntegerProbeVisitor;

impl<'de> Visitor<'de> for IntegerProbeVisitor {
    type Value = IntegerProbe;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an integer")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe {
            text: true,
            ..IntegerProbe::default()
        })
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe {
            float: true,
            ..IntegerProbe::default()
        })
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<IntegerProbe, E> {
        Ok(IntegerProbe::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<IntegerProbe, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| IntegerProbe::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<IntegerProbe, A::Error> {
        IgnoredAny.visit_map(map).map(|_| IntegerProbe::default())
    }
}

#[cfg(test)]
mod tests;
