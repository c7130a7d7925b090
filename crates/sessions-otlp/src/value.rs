//! OTLP `AnyValue`s as JSON: for attributes (entry `data`, session
//! metadata) and for log bodies (entry messages).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Kind;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use serde_json::{Map, Number, Value};

/// An `AnyValue` as JSON. Strings, booleans and integers stay what they are;
/// doubles become numbers, except the non-finite ones, which JSON cannot
/// write and which become the strings `NaN`, `Infinity` and `-Infinity`, as
/// in OTLP's own JSON encoding; arrays become arrays, key-value lists
/// objects (a repeated key: the last one wins), bytes base64 strings
/// (standard alphabet, padded). A value of no kind is `null`, and so is the
/// string-table index that only profiles use.
pub fn to_json(value: Option<&AnyValue>) -> Value {
    let Some(kind) = value.and_then(|value| value.value.as_ref()) else {
        return Value::Null;
    };
    match kind {
        Kind::StringValue(text) => Value::String(text.clone()),
        Kind::BoolValue(flag) => Value::Bool(*flag),
        Kind::IntValue(number) => Value::Number((*number).into()),
        Kind::DoubleValue(number) => double_to_json(*number),
        Kind::ArrayValue(array) => Value::Array(
            array
                .values
                .iter()
                .map(|item| to_json(Some(item)))
                .collect(),
        ),
        Kind::KvlistValue(list) => Value::Object(attributes_to_json(&list.values)),
        Kind::BytesValue(bytes) => Value::String(BASE64.encode(bytes)),
        Kind::StringValueStrindex(_) => Value::Null,
    }
}

/// Key-value pairs (attributes, key-value lists) as a JSON object, keys in
/// the order they first appear; a repeated key takes the last value.
pub fn attributes_to_json(attributes: &[KeyValue]) -> Map<String, Value> {
    attributes
        .iter()
        .map(|pair| (pair.key.clone(), to_json(pair.value.as_ref())))
        .collect()
}

/// A log record's body as the text of an entry: a string body as it is,
/// every other kind as its compact JSON (see [`to_json`]), except that what
/// becomes a JSON string (bytes in base64, `NaN`) is written without quotes.
/// No body, or an empty one, is the empty message.
pub fn body_text(body: Option<&AnyValue>) -> String {
    if let Some(Kind::StringValue(text)) = body.and_then(|body| body.value.as_ref()) {
        return text.clone();
    }
    match to_json(body) {
        Value::Null => String::new(),
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn double_to_json(number: f64) -> Value {
    match Number::from_f64(number) {
        Some(number) => Value::Number(number),
        None if number.is_nan() => Value::String("NaN".into()),
        None if number > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
    use serde_json::json;

    use super::*;

    pub(crate) fn any(kind: Kind) -> AnyValue {
        AnyValue { value: Some(kind) }
    }

    pub(crate) fn string(text: &str) -> AnyValue {
        any(Kind::StringValue(text.into()))
    }

    pub(crate) fn pair(key: &str, value: AnyValue) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(value),
            ..KeyValue::default()
        }
    }

    fn check(value: Option<AnyValue>, expected_json: Value, expected_body: &str) {
        assert_eq!(to_json(value.as_ref()), expected_json, "{value:?} as JSON");
        assert_eq!(
            body_text(value.as_ref()),
            expected_body,
            "{value:?} as a body"
        );
    }

    #[test]
    fn every_kind_of_value() {
        check(None, Value::Null, "");
        check(Some(AnyValue { value: None }), Value::Null, "");
        check(
            Some(string("Cook failed")),
            json!("Cook failed"),
            "Cook failed",
        );
        check(Some(string("")), json!(""), "");
        check(
            Some(string("\"quoted\"")),
            json!("\"quoted\""),
            "\"quoted\"",
        );
        check(Some(any(Kind::BoolValue(true))), json!(true), "true");
        check(Some(any(Kind::IntValue(-42))), json!(-42), "-42");
        check(
            Some(any(Kind::IntValue(i64::MAX))),
            json!(i64::MAX),
            "9223372036854775807",
        );
        check(Some(any(Kind::DoubleValue(0.25))), json!(0.25), "0.25");
        check(Some(any(Kind::DoubleValue(3.0))), json!(3.0), "3.0");
        check(Some(any(Kind::DoubleValue(f64::NAN))), json!("NaN"), "NaN");
        check(
            Some(any(Kind::DoubleValue(f64::INFINITY))),
            json!("Infinity"),
            "Infinity",
        );
        check(
            Some(any(Kind::DoubleValue(f64::NEG_INFINITY))),
            json!("-Infinity"),
            "-Infinity",
        );
        check(
            Some(any(Kind::BytesValue(b"hello".to_vec()))),
            json!("aGVsbG8="),
            "aGVsbG8=",
        );
        check(Some(any(Kind::BytesValue(Vec::new()))), json!(""), "");
        check(Some(any(Kind::StringValueStrindex(3))), Value::Null, "");
    }

    #[test]
    fn arrays_and_lists_nest() {
        let array = any(Kind::ArrayValue(ArrayValue {
            values: vec![
                string("a"),
                any(Kind::IntValue(1)),
                AnyValue { value: None },
                any(Kind::ArrayValue(ArrayValue { values: Vec::new() })),
            ],
        }));
        check(Some(array), json!(["a", 1, null, []]), r#"["a",1,null,[]]"#);
        let list = any(Kind::KvlistValue(KeyValueList {
            values: vec![
                pair("zeta", any(Kind::BoolValue(false))),
                pair("alpha", string("x")),
                pair(
                    "nested",
                    any(Kind::KvlistValue(KeyValueList {
                        values: vec![pair("n", any(Kind::DoubleValue(1.5)))],
                    })),
                ),
                pair("zeta", any(Kind::BoolValue(true))),
            ],
        }));
        check(
            Some(list),
            json!({"zeta": true, "alpha": "x", "nested": {"n": 1.5}}),
            r#"{"zeta":true,"alpha":"x","nested":{"n":1.5}}"#,
        );
        check(
            Some(any(Kind::KvlistValue(KeyValueList::default()))),
            json!({}),
            "{}",
        );
    }

    #[test]
    fn attributes_keep_their_order_and_the_last_of_a_repeated_key() {
        let attributes = [
            pair("b", string("1")),
            pair("a", any(Kind::IntValue(2))),
            KeyValue {
                key: "empty".into(),
                ..KeyValue::default()
            },
            pair("b", string("3")),
        ];
        let object = attributes_to_json(&attributes);
        assert_eq!(
            Value::Object(object).to_string(),
            r#"{"b":"3","a":2,"empty":null}"#
        );
    }
}
