//! Filling in as text against the way it was done before, on a
//! `serde_json::Value` of the whole body: for request-shaped bodies of every
//! kind, both must give the same JSON and decode to the same request.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::super::{check_shape, decode_json, defaulted};
use super::{fill_in, integral};
use crate::DecodeLimits;
use crate::shape::{Field, Message};

/// The former fill-in, kept as the reference.
fn fill_in_value(value: &mut Value, message: Message) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    if let Some((key, default)) = defaulted(message)
        && !object.contains_key(key)
    {
        object.insert(key.to_owned(), serde_json::from_str(default).unwrap());
    }
    for (key, field) in object.iter_mut() {
        match message.json_field(key) {
            Field::One(inner) => fill_in_value(field, inner),
            Field::Many(inner) => {
                for element in field.as_array_mut().into_iter().flatten() {
                    fill_in_value(element, inner);
                }
            }
            Field::Integer { named } => {
                if let Some(number) = field.as_f64().filter(|_| field.is_f64()) {
                    if let Some(integer) = integral(number) {
                        *field = match u64::try_from(integer) {
                            Ok(unsigned) => Value::from(unsigned),
                            Err(_) => Value::from(integer as i64),
                        };
                    }
                } else if named
                    && let Some(severity) = field.as_str().and_then(SeverityNumber::from_str_name)
                {
                    *field = Value::from(severity as i32);
                }
            }
            Field::Strings | Field::Scalar => {}
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    "[a-z\"\\\\\u{e4}\n]{0,4}"
}

fn integer() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u32>().prop_map(Value::from),
        (-1000i64..1000).prop_map(|integer| json!(integer as f64)),
        Just(json!(1.5)),
        Just(json!(1e3)),
        any::<u16>().prop_map(|integer| Value::from(integer.to_string())),
    ]
}

fn severity() -> impl Strategy<Value = Value> {
    prop_oneof![
        integer(),
        prop::sample::select(vec!["SEVERITY_NUMBER_INFO", "SEVERITY_NUMBER_WARN", "LOUD"])
            .prop_map(Value::from),
    ]
}

fn key_value(key: Option<String>, value: Option<Value>) -> Value {
    let mut object = Map::new();
    if let Some(key) = key {
        object.insert("key".into(), key.into());
    }
    if let Some(value) = value {
        object.insert("value".into(), value);
    }
    Value::Object(object)
}

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(|text| json!({"stringValue": text})),
        integer().prop_map(|integer| json!({"intValue": integer})),
        Just(json!({"boolValue": true})),
        Just(json!({})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        let key_values = prop::collection::vec(
            (prop::option::of(text()), prop::option::of(inner.clone())),
            0..4,
        );
        prop_oneof![
            prop::option::of(prop::collection::vec(inner, 0..4)).prop_map(|values| match values {
                Some(values) => json!({"arrayValue": {"values": values}}),
                None => json!({"arrayValue": {}}),
            }),
            prop::option::of(key_values).prop_map(|values| match values {
                Some(values) => {
                    let values: Vec<Value> = values
                        .into_iter()
                        .map(|(key, value)| key_value(key, value))
                        .collect();
                    json!({"kvlistValue": {"values": values}})
                }
                None => json!({"kvlistValue": {}}),
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        (prop::option::of(text()), prop::option::of(any_value())),
        0..3,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(key, value)| key_value(key, value))
            .collect()
    })
}

fn record() -> impl Strategy<Value = Value> {
    (
        prop::option::of(severity()),
        prop::option::of(integer()),
        prop::option::of(integer()),
        prop::option::of(any_value()),
        attributes(),
        prop::option::of(text()),
    )
        .prop_map(|(severity, time, flags, body, attributes, severity_text)| {
            let mut record = Map::new();
            let fields = [
                ("severityNumber", severity),
                ("timeUnixNano", time),
                ("flags", flags),
                ("body", body),
                ("severityText", severity_text.map(Value::from)),
            ];
            for (key, value) in fields {
                if let Some(value) = value {
                    record.insert(key.into(), value);
                }
            }
            record.insert("attributes".into(), attributes.into());
            record.insert("future".into(), json!({"a": [1, 2.5]}));
            Value::Object(record)
        })
}

fn request() -> impl Strategy<Value = Value> {
    let scope_logs = prop::collection::vec(record(), 0..4)
        .prop_map(|records| json!({"scope": {"name": "s"}, "logRecords": records}));
    let resource_logs = (attributes(), prop::collection::vec(scope_logs, 0..3)).prop_map(
        |(attributes, scope_logs)| {
            json!({"resource": {"attributes": attributes}, "scopeLogs": scope_logs})
        },
    );
    prop::collection::vec(resource_logs, 0..3)
        .prop_map(|resource_logs| json!({"resourceLogs": resource_logs}))
}

proptest! {
    #[test]
    fn text_and_value_fill_in_agree(request in request(), pretty in any::<bool>()) {
        let body = if pretty {
            serde_json::to_vec_pretty(&request).unwrap()
        } else {
            serde_json::to_vec(&request).unwrap()
        };
        prop_assert!(check_shape(&body).is_ok());
        let mut expected = request.clone();
        fill_in_value(&mut expected, Message::Request);
        let filled: Value = serde_json::from_slice(&fill_in(&body).unwrap()).unwrap();
        prop_assert_eq!(&filled, &expected);

        let limits = DecodeLimits::new(10_000, 4 << 20);
        let ours = decode_json(&body, &limits).map_err(|error| error.to_string());
        let reference = serde_json::from_value::<ExportLogsServiceRequest>(expected)
            .map_err(|error| error.to_string());
        prop_assert_eq!(ours.is_ok(), reference.is_ok(), "{:?} / {:?}", ours, reference);
        if let (Ok(ours), Ok(reference)) = (ours, reference) {
            prop_assert_eq!(ours, reference);
        }
    }
}
