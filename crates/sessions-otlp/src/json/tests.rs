//! Tests of the JSON encoding: shapes, counting and filling in.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1::{EntityRef, KeyValue};

use super::fill_in::{fill_in, integral};
use super::*;
use crate::shape::ONE_RECORD_BYTES;

fn limits(max_records: usize) -> DecodeLimits {
    DecodeLimits::new(max_records, 4 << 20)
}

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
    assert_eq!(integral(3.0), Some(3));
    assert_eq!(integral(-0.0), Some(0));
    assert_eq!(integral(-3.0), Some(-3));
    // The largest double below 2^64, and 2^64.
    let below_u64_end = (u64::MAX - 2047) as f64;
    assert_eq!(integral(below_u64_end), Some(i128::from(u64::MAX - 2047)));
    assert_eq!(integral(2f64.powi(64)), None);
    let i64_start = -(2f64.powi(63));
    assert_eq!(
        integral(i64_start + 1024.0),
        Some(i128::from(i64::MIN + 1024))
    );
    // -2^63 - 1 reads as -2^63: out of range, however it is written.
    assert_eq!(integral(i64_start), None);
    assert_eq!(integral(-1e19), None);
    assert_eq!(integral(0.5), None);
    assert_eq!(integral(f64::NAN), None);
    assert_eq!(integral(f64::INFINITY), None);
    let fraction = r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"flags": 1.5}]}]}]}"#;
    assert!(decode_json(fraction.as_bytes(), &limits(10)).is_err());
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
    assert_eq!(
        check_shape(records(3).as_bytes()).unwrap().census.records,
        5
    );
    assert_eq!(check_shape(b"{}").unwrap().census.records, 0);
    assert!(decode_json(records(8).as_bytes(), &limits(10)).is_ok());
    assert_eq!(
        decode_json(records(9).as_bytes(), &limits(10))
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
    let request = decode_json(body.as_bytes(), &limits(10)).unwrap();
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

#[test]
fn every_list_is_counted() {
    let body = r#"{"resourceLogs": [{
        "resource": {"attributes": [{"key": "a"}], "entityRefs": [
            {"type": "service", "idKeys": ["a", "b"], "descriptionKeys": ["c"], "schemaUrl": ""}
        ]},
        "scopeLogs": [{"logRecords": [{"attributes": [
            {"key": "k", "value": {"arrayValue": {"values": [{}, {}, {"kvlistValue": {"values": [{"key": "x"}]}}]}}}
        ]}]}]
    }]}"#;
    let census = check_shape(body.as_bytes()).unwrap().census;
    let any_value = size_of::<opentelemetry_proto::tonic::common::v1::AnyValue>();
    assert_eq!(census.records, 1);
    assert_eq!(
        census.list_bytes,
        ONE_RECORD_BYTES
            + 3 * size_of::<KeyValue>()
            + size_of::<EntityRef>()
            + 3 * size_of::<String>()
            + 3 * any_value
    );
    assert!(decode_json(body.as_bytes(), &limits(10)).is_ok());
    check(
        r#"{"resourceLogs": [{"resource": {"entityRefs": [{"idKeys": 1}]}}]}"#,
        Err("expected an array of strings"),
    );
}

#[test]
fn empty_attributes_cannot_take_a_hundred_times_their_size() {
    // Three bytes each, 64 decoded, and each needs its `key` filled in.
    let attributes = vec!["{}"; 100_000].join(",");
    let body = format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{{"attributes": [{attributes}]}}]}}]}}]}}"#
    );
    let small = DecodeLimits {
        max_records: 10,
        max_decoded_bytes: 1 << 20,
    };
    let error = decode_json(body.as_bytes(), &small)
        .unwrap_err()
        .to_string();
    let bytes = ONE_RECORD_BYTES + 100_000 * size_of::<KeyValue>();
    assert!(
        error.starts_with(&format!(
            "the request's records, attributes and values would take {bytes} bytes"
        )),
        "{error}"
    );
    let request = decode_json(body.as_bytes(), &limits(10)).unwrap();
    let attributes = &request.resource_logs[0].scope_logs[0].log_records[0].attributes;
    assert_eq!(attributes.len(), 100_000);
    assert!(attributes.iter().all(|attribute| attribute.key.is_empty()));
}

fn filled_in(body: &str) -> String {
    String::from_utf8(fill_in(body.as_bytes()).unwrap()).unwrap()
}

#[test]
fn filling_in_copies_the_rest_as_it_was() {
    assert_eq!(filled_in("{}"), "{}");
    assert_eq!(
        filled_in(r#" { "resourceLogs" : [ ] } "#),
        r#"{"resourceLogs":[]}"#
    );
    // Escapes, unknown fields, nulls and scalars are copied byte for byte.
    let body = r#"{"resourceLogs": [{"resource": null, "scopeLogs": [{"logRecords": [{
        "severityNumber": "SEVERITY_NUMBER_WARN", "severityText": "W\u00e4rn \"x\\\"",
        "timeUnixNano": "17", "flags": 1.0, "future": {"a": [1, 2.50]},
        "attributes": [{"value": {"kvlistValue": {}}}, {"key": "k\\n", "value": {"intValue": -2e0}}]
    }]}]}]}"#;
    assert_eq!(
        filled_in(body),
        concat!(
            r#"{"resourceLogs":[{"resource":null,"scopeLogs":[{"logRecords":[{"#,
            r#""severityNumber":13,"severityText":"W\u00e4rn \"x\\\"","#,
            r#""timeUnixNano":"17","flags":1,"future":{"a": [1, 2.50]},"#,
            r#""attributes":[{"value":{"kvlistValue":{"values":[]}},"key":""},{"key":"k\\n","value":{"intValue":-2}}]"#,
            r#"}]}]}]}"#
        )
    );
    // What cannot be filled in stays, to be refused by the decoder.
    let unknown = r#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": "LOUD", "flags": 1.5}]}]}]}"#;
    assert_eq!(
        filled_in(unknown),
        r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD","flags":1.5}]}]}]}"#
    );
}

/// A record whose body is `depth` arrays, one in the other, around a list
/// of `count` empty values.
fn nested_body(depth: usize, count: usize) -> String {
    let mut value = format!(
        r#"{{"arrayValue": {{"values": [{}]}}}}"#,
        vec!["{}"; count].join(",")
    );
    for _ in 1..depth {
        value = format!(r#"{{"arrayValue": {{"values": [{value}]}}}}"#);
    }
    format!(r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{{"body": {value}}}]}}]}}]}}"#)
}

#[test]
fn the_copies_serde_makes_of_nested_values_are_counted() {
    let census = |body: &str| check_shape(body.as_bytes()).unwrap().census;
    let shallow = census(&nested_body(1, 1_000));
    let deep = census(&nested_body(10, 1_000));
    // The same values, nine more lists of one, but each copied ten times.
    assert_eq!(
        deep.list_bytes,
        shallow.list_bytes + 9 * size_of::<opentelemetry_proto::tonic::common::v1::AnyValue>()
    );
    assert!(shallow.side_bytes >= 1_000 * COPY_ELEMENT_BYTES);
    assert!(deep.side_bytes >= 10 * 1_000 * COPY_ELEMENT_BYTES);
    // Copies are made one top-level value at a time: many small bodies
    // cost the largest one's copy, not the sum.
    let record =
        r#"{"body": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}}"#;
    let one = census(&format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{record}]}}]}}]}}"#
    ));
    let many = census(&format!(
        r#"{{"resourceLogs": [{{"scopeLogs": [{{"logRecords": [{}]}}]}}]}}"#,
        vec![record; 100].join(",")
    ));
    assert_eq!(many.side_bytes, one.side_bytes);
    assert!(one.side_bytes > 0);
}
