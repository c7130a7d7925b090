//! Counting a protobuf export request before decoding it (see `shape`): a
//! walk over the wire format that decodes and allocates nothing.

use crate::shape::{Census, Field, Message};

/// How deeply messages (and groups) may nest: the walk recurses and must
/// not run out of stack. Deeper than prost's own limit of 100, so the walk
/// never gives up where the decoder would go on.
const MAX_DEPTH: u32 = 128;

/// Counts the export request in `body`. `Err` with what was counted up to
/// there when the bytes are not valid wire format (or nest too deeply): a
/// decoder builds about that much before it finds the fault.
///
/// The walk must accept at least what prost accepts, or what follows a
/// fault it sees alone would be decoded uncounted: it skips unknown fields
/// of every wire type prost skips, groups included (the `otlp_body` fuzz
/// target checks decoded requests against the limits).
pub(crate) fn census(body: &[u8]) -> Result<Census, Census> {
    let mut census = Census::default();
    match count(body, Message::Request, 0, &mut census) {
        Some(()) => Ok(census),
        None => Err(census),
    }
}

fn count(mut bytes: &[u8], message: Message, depth: u32, census: &mut Census) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        // Only length-delimited fields hold messages and lists.
        if key & 7 != 2 {
            skip_field(&mut bytes, key, depth)?;
            continue;
        }
        let length = usize::try_from(read_varint(&mut bytes)?).ok()?;
        let value = bytes.get(..length)?;
        bytes = &bytes[length..];
        match message.protobuf_field(key >> 3) {
            Some(Field::One(inner)) => count(value, inner, depth + 1, census)?,
            Some(Field::Many(inner)) => {
                census.element(inner);
                count(value, inner, depth + 1, census)?;
            }
            Some(Field::Strings) => census.string(),
            _ => {}
        }
    }
    Some(())
}

/// Skips the value of the field with `key`, of any wire type prost skips.
fn skip_field(bytes: &mut &[u8], key: u64, depth: u32) -> Option<()> {
    match key & 7 {
        0 => {
            read_varint(bytes)?;
        }
        1 => *bytes = bytes.get(8..)?,
        2 => {
            let length = usize::try_from(read_varint(bytes)?).ok()?;
            *bytes = bytes.get(length..)?;
        }
        3 => skip_group(bytes, key >> 3, depth + 1)?,
        5 => *bytes = bytes.get(4..)?,
        // An end without a start; types 6 and 7 do not exist.
        _ => return None,
    }
    Some(())
}

/// Skips a group (a deprecated encoding OTLP does not use, but which prost
/// skips in unknown fields) up to its end, which must carry its `number`.
fn skip_group(bytes: &mut &[u8], number: u64, depth: u32) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    loop {
        let key = read_varint(bytes)?;
        if key & 7 == 4 && key >> 3 == number {
            return Some(());
        }
        skip_field(bytes, key, depth)?;
    }
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    // Keys and short lengths take one byte: most varints of a request.
    if let Some((&byte, rest)) = bytes.split_first()
        && byte < 0x80
    {
        *bytes = rest;
        return Some(u64::from(byte));
    }
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, ArrayValue, EntityRef, KeyValue, any_value,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use prost::Message as _;

    use super::*;
    use crate::shape::ONE_RECORD_BYTES;

    fn length_delimited(field: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![field << 3 | 2];
        prost::encoding::encode_varint(payload.len() as u64, &mut bytes);
        bytes.extend_from_slice(payload);
        bytes
    }

    /// A request of one resource, one scope and one record holding `record`.
    fn one_record(record: &[u8]) -> Vec<u8> {
        length_delimited(1, &length_delimited(2, &length_delimited(2, record)))
    }

    #[test]
    fn records_are_counted() {
        let request = ExportLogsServiceRequest {
            resource_logs: vec![
                ResourceLogs {
                    scope_logs: vec![
                        ScopeLogs {
                            log_records: vec![LogRecord::default(); 3],
                            ..ScopeLogs::default()
                        },
                        ScopeLogs {
                            log_records: vec![LogRecord {
                                time_unix_nano: 1,
                                severity_number: 9,
                                body: Some(crate::value::tests::string("x")),
                                flags: 1,
                                ..LogRecord::default()
                            }],
                            ..ScopeLogs::default()
                        },
                    ],
                    ..ResourceLogs::default()
                },
                ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord::default()],
                        ..ScopeLogs::default()
                    }],
                    ..ResourceLogs::default()
                },
            ],
        };
        let census = census(&request.encode_to_vec()).unwrap();
        assert_eq!(census.records, 5);
        assert_eq!(
            census.list_bytes,
            2 * size_of::<ResourceLogs>() + 3 * size_of::<ScopeLogs>() + 5 * size_of::<LogRecord>()
        );
        assert_eq!(super::census(b"").unwrap().records, 0);
        // Two bytes per record: a body of 4 MiB could hold two million.
        let many = [0x12, 0x00].repeat(20_000);
        let body = length_delimited(1, &length_delimited(2, &many));
        assert_eq!(super::census(&body).unwrap().records, 20_000);
    }

    #[test]
    fn every_list_is_counted() {
        let attribute = |value: any_value::Value| KeyValue {
            key: "k".into(),
            value: Some(AnyValue { value: Some(value) }),
            ..KeyValue::default()
        };
        let nested = any_value::Value::ArrayValue(ArrayValue {
            values: vec![AnyValue::default(); 4],
        });
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![attribute(any_value::Value::IntValue(1))],
                    entity_refs: vec![EntityRef {
                        id_keys: vec!["a".into(), "b".into()],
                        description_keys: vec!["c".into()],
                        ..EntityRef::default()
                    }],
                    ..Resource::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        attributes: vec![attribute(nested)],
                        ..LogRecord::default()
                    }],
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        };
        let census = census(&request.encode_to_vec()).unwrap();
        let expected = ONE_RECORD_BYTES
            + 2 * size_of::<KeyValue>()
            + size_of::<EntityRef>()
            + 3 * size_of::<String>()
            + 4 * size_of::<AnyValue>();
        assert_eq!(census.list_bytes, expected);
    }

    #[test]
    fn empty_attributes_are_counted() {
        // Two bytes each, 64 decoded: what made counting records alone too
        // little.
        let body = one_record(&[0x32, 0x00].repeat(1_000));
        let census = census(&body).unwrap();
        assert_eq!(census.records, 1);
        assert_eq!(
            census.list_bytes,
            ONE_RECORD_BYTES + 1_000 * size_of::<KeyValue>()
        );
    }

    #[test]
    fn groups_in_unknown_fields_are_skipped_as_prost_skips_them() {
        // Found by the `otlp_body` fuzz target: the walk stopped at a group,
        // prost skipped it and decoded the attributes after it uncounted.
        let attributes = [0x0a, 0x02, 0x0a, 0x00].repeat(10);
        let group = [0x73, 0x08, 0x01, 0x7b, 0x7c, 0x74]; // field 14, nested group 15
        let resource = length_delimited(1, &[&group[..], &attributes].concat());
        let body = length_delimited(1, &resource);
        let decoded = ExportLogsServiceRequest::decode(&body[..]).unwrap();
        let resource = decoded.resource_logs[0].resource.as_ref().unwrap();
        assert_eq!(resource.attributes.len(), 10);
        let census = census(&body).unwrap();
        assert_eq!(
            census.list_bytes,
            size_of::<ResourceLogs>() + 10 * size_of::<KeyValue>()
        );
        // An end that does not match its start, or no end at all.
        assert!(super::census(&length_delimited(1, &[0x73, 0x7c])).is_err());
        assert!(super::census(&length_delimited(1, &[0x73, 0x08, 0x01])).is_err());
        assert!(super::census(b"\x0c").is_err(), "an end without a start");
    }

    #[test]
    fn malformed_bytes_are_counted_as_far_as_they_go() {
        assert!(census(b"\x0a\x05\x12").is_err(), "cut short");
        let mut body = one_record(&[0x32, 0x00].repeat(10));
        body.push(0xff);
        let counted = census(&body).unwrap_err();
        assert_eq!(counted.records, 1);
        assert!(counted.list_bytes >= 10 * size_of::<KeyValue>());
    }

    #[test]
    fn nesting_is_bounded() {
        // Arrays in arrays: each level an AnyValue holding an ArrayValue.
        let mut value = Vec::new();
        for _ in 0..200 {
            value = length_delimited(5, &length_delimited(1, &value));
        }
        let body = one_record(&length_delimited(5, &value));
        assert!(census(&body).is_err());
        assert!(
            ExportLogsServiceRequest::decode(&body[..]).is_err(),
            "prost refuses it too"
        );
    }
}
