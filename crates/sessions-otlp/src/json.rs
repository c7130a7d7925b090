//! OTLP's JSON encoding: the derived serde types of `opentelemetry-proto`,
//! made exact where they are lenient and lenient where they are strict.
//!
//! serde's derived types take a JSON array for a message (its fields by
//! position), which no OTLP encoder writes and the protobuf JSON mapping
//! does not allow, so a first pass (`check_shape`, streaming, allocating
//! nothing per value) refuses an array, string or number where a message
//! belongs. The same pass notices the few things the protobuf JSON mapping
//! allows that the derived types refuse: a `severityNumber` given by name,
//! an integer written with a fraction of zero (`1.0`, as JavaScript and
//! Python encoders may), and fields left out because they hold their
//! default (`values` of an empty array or key-value list, the empty `key`),
//! as Go's encoder does. Only then does the body take the slower way
//! through `serde_json::Value`, where they are filled in.

use std::borrow::Cow;
use std::fmt;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::DecodeError;

/// Decodes a JSON export request of at most `max_records` log records.
pub(crate) fn decode_json(
    body: &[u8],
    max_records: usize,
) -> Result<ExportLogsServiceRequest, DecodeError> {
    let scan = check_shape(body)?;
    if scan.records > max_records {
        return Err(DecodeError::TooManyRecords {
            records: scan.records,
            limit: max_records,
        });
    }
    if !scan.needs_filling_in {
        return Ok(serde_json::from_slice(body)?);
    }
    let mut value: Value = serde_json::from_slice(body)?;
    fill_in(&mut value, Message::Request);
    Ok(serde_json::from_value(value)?)
}

/// What the first pass found out.
#[derive(Debug, Default)]
struct Scan {
    /// Whether the body needs filling in before the derived types can read
    /// it.
    needs_filling_in: bool,
    /// Log records in the request.
    records: usize,
}

/// Checks that messages are objects and repeated fields arrays, and counts
/// the records.
fn check_shape(body: &[u8]) -> Result<Scan, serde_json::Error> {
    let mut scan = Scan::default();
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    Check {
        message: Message::Request,
        optional: false,
        scan: &mut scan,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(scan)
}

/// The messages of an export request that hold other messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    Request,
    ResourceLogs,
    Resource,
    ScopeLogs,
    Scope,
    LogRecord,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

/// What a field of a message holds, as far as the shape goes.
enum Field {
    /// A message, or `null` for none.
    One(Message),
    /// An array of messages.
    Many(Message),
    /// An integer; `named` when it is an enum, which may also be given by
    /// the name of its value.
    Integer { named: bool },
    /// Anything else: the derived types check it.
    Scalar,
}

impl Message {
    fn field(self, key: &str) -> Field {
        use Message::*;
        match (self, key) {
            (Request, "resourceLogs") => Field::Many(ResourceLogs),
            (ResourceLogs, "resource") => Field::One(Resource),
            (ResourceLogs, "scopeLogs") => Field::Many(ScopeLogs),
            (ScopeLogs, "scope") => Field::One(Scope),
            (ScopeLogs, "logRecords") => Field::Many(LogRecord),
            (Resource | Scope | LogRecord, "attributes") => Field::Many(KeyValue),
            (LogRecord, "severityNumber") => Field::Integer { named: true },
            (
                LogRecord,
                "timeUnixNano" | "observedTimeUnixNano" | "flags" | "droppedAttributesCount",
            )
            | (Resource | Scope, "droppedAttributesCount")
            | (AnyValue, "intValue") => Field::Integer { named: false },
            (LogRecord, "body") | (KeyValue, "value") => Field::One(AnyValue),
            (AnyValue, "arrayValue") => Field::One(ArrayValue),
            (AnyValue, "kvlistValue") => Field::One(KeyValueList),
            (ArrayValue, "values") => Field::Many(AnyValue),
            (KeyValueList, "values") => Field::Many(KeyValue),
            _ => Field::Scalar,
        }
    }

    /// The field the derived type requires although the JSON mapping lets
    /// an encoder leave it out, and what it holds then.
    fn defaulted(self) -> Option<(&'static str, Value)> {
        match self {
            Message::ArrayValue | Message::KeyValueList => {
                Some(("values", Value::Array(Vec::new())))
            }
            Message::KeyValue => Some(("key", Value::String(String::new()))),
            _ => None,
        }
    }
}

/// Checks one message (or, when `optional`, `null`).
struct Check<'a> {
    message: Message,
    optional: bool,
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
        let defaulted = self.message.defaulted().map(|(key, _)| key);
        let mut has_defaulted = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            has_defaulted |= defaulted == Some(key.as_ref());
            match self.message.field(&key) {
                Field::One(message) => map.next_value_seed(Check {
                    message,
                    optional: true,
                    scan: self.scan,
                })?,
                Field::Many(message) => map.next_value_seed(CheckArray {
                    message,
                    scan: self.scan,
                })?,
                Field::Integer { named } => {
                    let written = map.next_value::<IntegerProbe>()?;
                    if written.float || (named && written.text) {
                        self.scan.needs_filling_in = true;
                    }
                }
                Field::Scalar => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if defaulted.is_some() && !has_defaulted {
            self.scan.needs_filling_in = true;
        }
        Ok(())
    }
}

/// Checks an array of messages.
struct CheckArray<'a> {
    message: Message,
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
                scan: &mut *self.scan,
            };
            if seq.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            if self.message == Message::LogRecord {
                self.scan.records += 1;
            }
        }
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

/// Fills in what the derived types need: severity names become numbers
/// (unknown names stay, for the decoder to refuse), integers written with a
/// zero fraction become integers (others stay, to be refused), left-out
/// `values` and `key` fields their defaults. Only reached after `check_shape`, so every
/// message is an object (or `null`) and every repeated field an array.
fn fill_in(value: &mut Value, message: Message) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    if let Some((key, default)) = message.defaulted()
        && !object.contains_key(key)
    {
        object.insert(key.to_owned(), default);
    }
    for (key, field) in object.iter_mut() {
        match message.field(key) {
            Field::One(inner) => fill_in(field, inner),
            Field::Many(inner) => {
                for element in field.as_array_mut().into_iter().flatten() {
                    fill_in(element, inner);
                }
            }
            Field::Integer { named } => {
                if let Some(number) = field.as_f64().filter(|_| field.is_f64()) {
                    if let Some(integer) = integral(number) {
                        *field = integer;
                    }
                } else if named {
                    let number = field
                        .as_str()
                        .and_then(SeverityNumber::from_str_name)
                        .map(|severity| severity as i32);
                    if let Some(number) = number {
                        *field = Value::from(number);
                    }
                }
            }
            Field::Scalar => {}
        }
    }
}

/// `number` as a JSON integer, when it has no fraction and fits 64 bits.
fn integral(number: f64) -> Option<Value> {
    // 2^64 and -2^63, exactly representable as doubles. Both ends are left
    // out: integers just past them round to them, and must stay refused.
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    const I64_START: f64 = -9_223_372_036_854_775_808.0;
    if number.fract() != 0.0 || !number.is_finite() {
        None
    } else if (0.0..U64_END).contains(&number) {
        Some(Value::from(number as u64))
    } else if number > I64_START && number < 0.0 {
        Some(Value::from(number as i64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str, expected: Result<bool, &str>) {
        let result = check_shape(body.as_bytes())
            .map(|scan| scan.needs_filling_in)
            .map_err(|error| error.to_string());
        match (&result, expected) {
            (Ok(fill), Ok(expected)) => assert_eq!(*fill, expected, "{body}"),
            (Err(error), Err(fragment)) => {
                assert!(error.contains(fragment), "{body}: {error}")
            }
            _ => panic!("{body}: {result:?}"),
        }
    }

    #[test]
    fn integers_with_a_zero_fraction_are_integers() {
        assert_eq!(integral(3.0), Some(Value::from(3u64)));
        assert_eq!(integral(-0.0), Some(Value::from(0u64)));
        assert_eq!(integral(-3.0), Some(Value::from(-3i64)));
        // The largest double below 2^64, and 2^64.
        let below_u64_end = (u64::MAX - 2047) as f64;
        assert_eq!(integral(below_u64_end), Some(Value::from(u64::MAX - 2047)));
        assert_eq!(integral(2f64.powi(64)), None);
        let i64_start = -(2f64.powi(63));
        assert_eq!(
            integral(i64_start + 1024.0),
            Some(Value::from(i64::MIN + 1024))
        );
        // -2^63 - 1 reads as -2^63: out of range, however it is written.
        assert_eq!(integral(i64_start), None);
        assert_eq!(integral(-1e19), None);
        assert_eq!(integral(0.5), None);
        assert_eq!(integral(f64::NAN), None);
        assert_eq!(integral(f64::INFINITY), None);
        let fraction = r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"flags": 1.5}]}]}]}"#;
        assert!(decode_json(fraction.as_bytes(), 10).is_err());
    }

    #[test]
    fn records_are_counted() {
        let records = |count: usize| {
            let record = r#"{"body": {"stringValue": "x"}}"#;
            let list = vec![record; count].join(",");
            format!(
                r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{list}]}}, {{"logRecords": [{record}]}}]}}, {{"scopeLogs": [{{"logRecords": [{record}]}}]}}]}}"#
            )
        };
        assert_eq!(check_shape(records(3).as_bytes()).unwrap().records, 5);
        assert_eq!(check_shape(b"{}").unwrap().records, 0);
        assert!(decode_json(records(8).as_bytes(), 10).is_ok());
        assert_eq!(
            decode_json(records(9).as_bytes(), 10)
                .unwrap_err()
                .to_string(),
            "the request holds 11 log records; the limit is 10 per request: export smaller batches"
        );
    }

    #[test]
    fn messages_must_be_objects() {
        check("{}", Ok(false));
        check(r#"{"resourceLogs": []}"#, Ok(false));
        check(
            r#"{"resourceLogs": [{"resource": null, "scopeLogs": []}]}"#,
            Ok(false),
        );
        check("[]", Err("expected an object (Request)"));
        check("null", Err("expected an object (Request)"));
        check(
            r#"{"resourceLogs": {}}"#,
            Err("expected an array of objects (ResourceLogs)"),
        );
        check(
            r#"{"resourceLogs": [[]]}"#,
            Err("expected an object (ResourceLogs)"),
        );
        check(
            r#"{"resourceLogs": [null]}"#,
            Err("expected an object (ResourceLogs)"),
        );
        check(
            r#"{"resourceLogs": [{"resource": []}]}"#,
            Err("expected an object (Resource)"),
        );
        check(
            r#"{"resourceLogs": [{"scopeLogs": [{"scope": "x", "logRecords": []}]}]}"#,
            Err("expected an object (Scope)"),
        );
        check(
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": [1]}]}]}]}"#,
            Err("expected an object (AnyValue)"),
        );
        check(
            r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"attributes": [{"key": "k", "value": {"kvlistValue": {"values": [1]}}}]}]}]}]}"#,
            Err("expected an object (KeyValue)"),
        );
        check("{} {}", Err("trailing characters"));
    }

    #[test]
    fn what_the_mapping_allows_is_filled_in() {
        let record = |fields: &str| {
            format!(r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{{{fields}}}]}}]}}]}}"#)
        };
        check(&record(r#""severityNumber": 9"#), Ok(false));
        check(
            &record(r#""severityNumber": "SEVERITY_NUMBER_INFO""#),
            Ok(true),
        );
        check(
            &record(r#""body": {"arrayValue": {"values": []}}"#),
            Ok(false),
        );
        check(&record(r#""body": {"arrayValue": {}}"#), Ok(true));
        check(&record(r#""body": {"kvlistValue": {}}"#), Ok(true));
        check(
            &record(r#""attributes": [{"value": {"intValue": 1}}]"#),
            Ok(true),
        );
        check(&record(r#""timeUnixNano": 1.0, "flags": 3"#), Ok(true));
        check(&record(r#""body": {"intValue": 1e3}"#), Ok(true));
        check(
            &record(r#""timeUnixNano": "1", "body": {"intValue": "7"}"#),
            Ok(false),
        );
        // An unknown field called like a known one elsewhere is no message.
        check(&record(r#""values": 3, "resource": "x""#), Ok(false));

        let body = record(concat!(
            r#""severityNumber": "SEVERITY_NUMBER_ERROR2", "#,
            r#""timeUnixNano": 1.5e9, "droppedAttributesCount": 2.0, "#,
            r#""body": {"kvlistValue": {}}, "#,
            r#""attributes": [{"value": {"arrayValue": {}}}]"#
        ));
        let request = decode_json(body.as_bytes(), 10).unwrap();
        let record = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.severity_number, 18);
        assert_eq!(record.time_unix_nano, 1_500_000_000);
        assert_eq!(record.dropped_attributes_count, 2);
        assert_eq!(crate::body_text(record.body.as_ref()), "{}");
        assert_eq!(
            serde_json::Value::Object(crate::attributes_to_json(&record.attributes)).to_string(),
            r#"{"":[]}"#
        );
    }
}
