//! OTLP export bodies, in either encoding, against tight limits: a request
//! that is accepted decodes into no more list memory than the limits allow
//! (counted here from the decoded request, independently of the census that
//! counts on the wire), and it reads the same again after a trip through
//! protobuf and through OTLP's JSON encoding.

#![no_main]

use std::mem::size_of;

use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use prost::Message;
use sessions_otlp::{DecodeLimits, Encoding, decode};

fuzz_target!(|input: &[u8]| {
    let [encoding, budget, body @ ..] = input else {
        return;
    };
    let encoding = if encoding & 1 == 0 {
        Encoding::Protobuf
    } else {
        Encoding::Json
    };
    let limits = DecodeLimits {
        max_records: 8,
        max_decoded_bytes: usize::from(*budget) * 64,
    };
    let Ok(request) = decode(body, encoding, &limits) else {
        return;
    };
    let records: usize = request
        .resource_logs
        .iter()
        .flat_map(|resource| &resource.scope_logs)
        .map(|scope| scope.log_records.len())
        .sum();
    assert!(records <= limits.max_records, "{records} records accepted");
    let list_bytes = request_list_bytes(&request);
    assert!(
        list_bytes <= limits.max_decoded_bytes,
        "accepted {list_bytes} bytes of lists past the limit of {}",
        limits.max_decoded_bytes
    );

    // Compared as protobuf bytes, where a NaN equals itself.
    let protobuf = request.encode_to_vec();
    let again = decode(&protobuf, Encoding::Protobuf, &limits).expect("re-encoded protobuf");
    assert_eq!(again.encode_to_vec(), protobuf);
    if !doubles_are_finite(&request) {
        return; // JSON has no NaN or infinity.
    }
    let json = serde_json::to_vec(&request).expect("serializable");
    let again = decode(&json, Encoding::Json, &limits).expect("re-encoded JSON");
    assert_eq!(again.encode_to_vec(), protobuf);
});

fn doubles_are_finite(request: &ExportLogsServiceRequest) -> bool {
    let mut values: Vec<&AnyValue> = Vec::new();
    for resource_logs in &request.resource_logs {
        if let Some(resource) = &resource_logs.resource {
            values.extend(attribute_values(&resource.attributes));
        }
        for scope_logs in &resource_logs.scope_logs {
            if let Some(scope) = &scope_logs.scope {
                values.extend(attribute_values(&scope.attributes));
            }
            for record in &scope_logs.log_records {
                values.extend(attribute_values(&record.attributes));
                values.extend(record.body.as_ref());
            }
        }
    }
    while let Some(value) = values.pop() {
        match &value.value {
            Some(any_value::Value::DoubleValue(double)) if !double.is_finite() => return false,
            Some(any_value::Value::ArrayValue(array)) => values.extend(&array.values),
            Some(any_value::Value::KvlistValue(list)) => {
                values.extend(attribute_values(&list.values))
            }
            _ => {}
        }
    }
    true
}

fn attribute_values(attributes: &[KeyValue]) -> impl Iterator<Item = &AnyValue> {
    attributes
        .iter()
        .filter_map(|attribute| attribute.value.as_ref())
}

fn request_list_bytes(request: &ExportLogsServiceRequest) -> usize {
    let mut bytes = 0;
    for resource_logs in &request.resource_logs {
        bytes += size_of::<ResourceLogs>();
        if let Some(resource) = &resource_logs.resource {
            bytes += attributes_bytes(&resource.attributes);
            for entity in &resource.entity_refs {
                bytes += size_of::<EntityRef>()
                    + (entity.id_keys.len() + entity.description_keys.len()) * size_of::<String>();
            }
        }
        for scope_logs in &resource_logs.scope_logs {
            bytes += size_of::<ScopeLogs>();
            if let Some(scope) = &scope_logs.scope {
                bytes += attributes_bytes(&scope.attributes);
            }
            for record in &scope_logs.log_records {
                bytes += size_of::<LogRecord>() + attributes_bytes(&record.attributes);
                bytes += record.body.as_ref().map_or(0, value_bytes);
            }
        }
    }
    bytes
}

fn attributes_bytes(attributes: &[KeyValue]) -> usize {
    attributes
        .iter()
        .map(|attribute| size_of::<KeyValue>() + attribute.value.as_ref().map_or(0, value_bytes))
        .sum()
}

/// The lists inside a value (the value itself lives in its parent).
fn value_bytes(value: &AnyValue) -> usize {
    match &value.value {
        Some(any_value::Value::ArrayValue(ArrayValue { values })) => values
            .iter()
            .map(|value| size_of::<AnyValue>() + value_bytes(value))
            .sum(),
        Some(any_value::Value::KvlistValue(KeyValueList { values })) => attributes_bytes(values),
        _ => 0,
    }
}
