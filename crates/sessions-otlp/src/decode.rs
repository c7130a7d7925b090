//! Export requests from bytes: binary protobuf or OTLP's JSON encoding, and
//! gzip-compressed bodies.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;

use crate::protobuf;
use crate::shape::Census;

/// The two encodings of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-protobuf`: the binary protobuf encoding.
    Protobuf,
    /// `application/json`: OTLP's JSON encoding (the protobuf JSON mapping
    /// with hex trace and span ids).
    Json,
}

impl Encoding {
    /// The media type of this encoding, for requests and answers alike.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A body that is not an export request.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is not a protobuf ExportLogsServiceRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("the body is not an ExportLogsServiceRequest in OTLP's JSON encoding: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "the request holds {records} log records; the limit is {limit} per request: export smaller batches"
    )]
    TooManyRecords { records: usize, limit: usize },
    #[error(
        "the request's records, attributes and values would take {bytes} bytes once decoded; the limit is {limit} bytes: export smaller batches"
    )]
    TooLargeDecoded { bytes: usize, limit: usize },
    #[error("{record}: `{field}` is {bytes} bytes long; it must be {expected} bytes, or empty")]
    InvalidId {
        /// Where the record is, such as `resourceLogs[0].scopeLogs[1].logRecords[2]`.
        record: String,
        field: &'static str,
        bytes: usize,
        expected: usize,
    },
}

/// A gzip body that cannot be decompressed within the limit.
#[derive(Debug, thiserror::Error)]
pub enum GunzipError {
    #[error("the body is larger than the limit of {limit} bytes once decompressed")]
    TooLarge { limit: usize },
    #[error("the gzip-compressed body cannot be decompressed: {0}")]
    Corrupt(std::io::Error),
}

/// How much one export request may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Log records, at most.
    pub max_records: usize,
    /// Bytes the request may take while it is decoded, at most: the
    /// elements of its lists (records, attributes, values), and in JSON the
    /// copies serde makes of nested values on the way.
    pub max_decoded_bytes: usize,
}

impl DecodeLimits {
    /// How many bytes a request may take decoded for each byte the body
    /// limit allows. In protobuf, an attribute such as
    /// `http.method: GET` takes about three times its size on the wire, the
    /// smallest meaningful one (a one-letter key and a small integer) about
    /// seven times; an empty one, which only an attacker sends, 32 times.
    pub const DECODED_BYTES_PER_BODY_BYTE: usize = 8;

    /// `max_records` records, and decoded bytes in proportion to
    /// `max_body_bytes`.
    pub fn new(max_records: usize, max_body_bytes: usize) -> Self {
        Self {
            max_records,
            max_decoded_bytes: max_body_bytes.saturating_mul(Self::DECODED_BYTES_PER_BODY_BYTE),
        }
    }

    pub(crate) fn check(&self, census: &Census) -> Result<(), DecodeError> {
        if census.records > self.max_records {
            return Err(DecodeError::TooManyRecords {
                records: census.records,
                limit: self.max_records,
            });
        }
        if census.decoded_bytes() > self.max_decoded_bytes {
            return Err(DecodeError::TooLargeDecoded {
                bytes: census.decoded_bytes(),
                limit: self.max_decoded_bytes,
            });
        }
        Ok(())
    }
}

/// Decodes an export request within `limits`. Besides what the decoder
/// checks, trace ids must be 16 bytes and span ids 8 (or empty), as OTLP
/// requires.
///
/// The request is counted before anything is decoded (see `shape`): a
/// decoded message takes many times its size on the wire, so a body within
/// the size limit could otherwise take hundreds of megabytes, and in JSON
/// serde copies every `AnyValue` before reading it (the derived type reads
/// through `#[serde(flatten)]`), again for each one nested in it. Decoded,
/// a request takes at most about twice `limits.max_decoded_bytes` (vectors
/// grow by doubling) plus its strings: no more text than the body, in at
/// most two allocations per counted element.
///
/// In JSON, unknown fields are ignored, 64-bit integers may be numbers or
/// strings, and `severityNumber` may also be the enum value's name
/// (`"SEVERITY_NUMBER_WARN"`), as the protobuf JSON mapping allows, though
/// OTLP's own encoders write numbers.
pub fn decode(
    body: &[u8],
    encoding: Encoding,
    limits: &DecodeLimits,
) -> Result<ExportLogsServiceRequest, DecodeError> {
    let request = match encoding {
        Encoding::Protobuf => {
            // Malformed bytes are counted as far as they go; the decoder
            // then says what is wrong with them.
            let census = protobuf::census(body).unwrap_or_else(|counted| counted);
            limits.check(&census)?;
            ExportLogsServiceRequest::decode(body)?
        }
        Encoding::Json => crate::json::decode_json(body, limits)?,
    };
    check_ids(&request)?;
    Ok(request)
}

/// Decompresses a gzip body (several members one after another too, as
/// gzip allows), refusing it as soon as it grows past `limit` bytes: memory
/// stays within the limit however well the body compresses.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    let mut decompressed = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let read = MultiGzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut decompressed);
    match read {
        Err(error) => Err(GunzipError::Corrupt(error)),
        Ok(length) if length > limit => Err(GunzipError::TooLarge { limit }),
        Ok(_) => Ok(decompressed),
    }
}

fn check_ids(request: &ExportLogsServiceRequest) -> Result<(), DecodeError> {
    for (r, resource) in request.resource_logs.iter().enumerate() {
        for (s, scope) in resource.scope_logs.iter().enumerate() {
            for (l, record) in scope.log_records.iter().enumerate() {
                let fields = [
                    ("traceId", record.trace_id.len(), 16),
                    ("spanId", record.span_id.len(), 8),
                ];
                for (field, bytes, expected) in fields {
                    if bytes != 0 && bytes != expected {
                        return Err(DecodeError::InvalidId {
                            record: format!("resourceLogs[{r}].scopeLogs[{s}].logRecords[{l}]"),
                            field,
                            bytes,
                            expected,
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::mem::size_of;

    use opentelemetry_proto::tonic::common::v1::KeyValue;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    use super::*;
    use crate::shape::ONE_RECORD_BYTES;

    /// The example of the OTLP repository (`examples/logs.json`), with what
    /// the JSON mapping also allows: uppercase hex, an unknown field, a
    /// 64-bit integer as a number, a severity by name.
    const EXAMPLE: &str = r#"{
      "resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
        "scopeLogs": [{
          "scope": {"name": "my.library", "version": "1.0.0"},
          "logRecords": [{
            "timeUnixNano": "1544712660300000000",
            "observedTimeUnixNano": 1544712660300000000,
            "severityNumber": 10,
            "severityText": "Information",
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "eee19b7ec3c1b174",
            "body": {"stringValue": "Example log record"},
            "attributes": [
              {"key": "int.attribute", "value": {"intValue": "10"}},
              {"key": "double.attribute", "value": {"doubleValue": 637.704}},
              {"key": "bytes.attribute", "value": {"bytesValue": "aGVsbG8="}}
            ],
            "someFutureField": {"ignored": true}
          }, {
            "severityNumber": "SEVERITY_NUMBER_WARN",
            "body": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": false}}]}}
          }]
        }]
      }]
    }"#;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_records: 10_000,
        max_decoded_bytes: 32 << 20,
    };

    fn records(request: &ExportLogsServiceRequest) -> &[LogRecord] {
        &request.resource_logs[0].scope_logs[0].log_records
    }

    fn error_of(body: &[u8], encoding: Encoding) -> String {
        decode(body, encoding, &LIMITS).unwrap_err().to_string()
    }

    #[test]
    fn json_as_otlp_writes_it() {
        let request = decode(EXAMPLE.as_bytes(), Encoding::Json, &LIMITS).unwrap();
        let records = records(&request);
        assert_eq!(records.len(), 2);
        let first = &records[0];
        assert_eq!(first.time_unix_nano, 1_544_712_660_300_000_000);
        assert_eq!(first.observed_time_unix_nano, 1_544_712_660_300_000_000);
        assert_eq!(first.severity_number, 10);
        assert_eq!(first.trace_id[..2], [0x5b, 0x8e]);
        assert_eq!(first.span_id.len(), 8);
        assert_eq!(first.attributes.len(), 3);
        assert_eq!(
            crate::attributes_to_json(&first.attributes),
            serde_json::json!({"int.attribute": 10, "double.attribute": 637.704, "bytes.attribute": "aGVsbG8="})
                .as_object()
                .cloned()
                .unwrap()
        );
        assert_eq!(records[1].severity_number, 13);
        assert_eq!(crate::body_text(records[1].body.as_ref()), r#"{"k":false}"#);
    }

    #[test]
    fn protobuf_as_the_sdks_write_it() {
        let json = decode(EXAMPLE.as_bytes(), Encoding::Json, &LIMITS).unwrap();
        let bytes = json.encode_to_vec();
        assert_eq!(decode(&bytes, Encoding::Protobuf, &LIMITS).unwrap(), json);
        let empty = decode(b"", Encoding::Protobuf, &LIMITS).unwrap();
        assert!(empty.resource_logs.is_empty(), "an empty message is valid");
        assert!(
            decode(b"{}", Encoding::Json, &LIMITS)
                .unwrap()
                .resource_logs
                .is_empty()
        );
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for (body, fragment) in [
            (&b"{"[..], "EOF while parsing"),
            (b"", "EOF while parsing"),
            (b"[]", "invalid type"),
            (br#"{"resourceLogs": {}}"#, "invalid type"),
            (br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"timeUnixNano": "soon"}]}]}]}"#, "invalid digit"),
            (br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": "SEVERITY_NUMBER_LOUD"}]}]}]}"#, "invalid type"),
            (br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyzw"}]}]}]}"#, "character"),
            (br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"bytesValue": "!"}}]}]}]}"#, "Invalid"),
        ] {
            let error = error_of(body, Encoding::Json);
            assert!(error.contains("OTLP's JSON encoding"), "{error}");
            assert!(error.contains(fragment), "{:?}: {error}", String::from_utf8_lossy(body));
        }
        for body in [
            &b"\xff\xff\xff"[..],
            b"\x0a\x05\x12",
            b"not protobuf at all",
        ] {
            let error = error_of(body, Encoding::Protobuf);
            assert!(
                error.contains("not a protobuf ExportLogsServiceRequest"),
                "{error}"
            );
        }
    }

    #[test]
    fn ids_must_have_their_length() {
        let with_ids = |trace_id: Vec<u8>, span_id: Vec<u8>| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![
                            LogRecord::default(),
                            LogRecord {
                                trace_id,
                                span_id,
                                ..LogRecord::default()
                            },
                        ],
                        ..ScopeLogs::default()
                    }],
                    ..ResourceLogs::default()
                }],
            }
            .encode_to_vec()
        };
        assert!(
            decode(
                &with_ids(vec![1; 16], vec![2; 8]),
                Encoding::Protobuf,
                &LIMITS
            )
            .is_ok()
        );
        assert!(
            decode(
                &with_ids(Vec::new(), Vec::new()),
                Encoding::Protobuf,
                &LIMITS
            )
            .is_ok()
        );
        assert_eq!(
            error_of(&with_ids(vec![1; 15], Vec::new()), Encoding::Protobuf),
            "resourceLogs[0].scopeLogs[0].logRecords[1]: `traceId` is 15 bytes long; it must be 16 bytes, or empty"
        );
        assert_eq!(
            error_of(&with_ids(Vec::new(), vec![1; 16]), Encoding::Protobuf),
            "resourceLogs[0].scopeLogs[0].logRecords[1]: `spanId` is 16 bytes long; it must be 8 bytes, or empty"
        );
        let json = br#"{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"spanId": "abcd"}]}]}]}"#;
        assert!(error_of(json, Encoding::Json).contains("`spanId` is 2 bytes long"));
    }

    #[test]
    fn limits_hold_before_anything_is_decoded() {
        let records = |count: usize| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord::default(); count],
                        ..ScopeLogs::default()
                    }],
                    ..ResourceLogs::default()
                }],
            }
            .encode_to_vec()
        };
        let limits = DecodeLimits::new(10, 4 << 20);
        assert_eq!(limits.max_decoded_bytes, 32 << 20);
        assert!(decode(&records(10), Encoding::Protobuf, &limits).is_ok());
        assert_eq!(
            error_of_within(&records(11), Encoding::Protobuf, &limits),
            "the request holds 11 log records; the limit is 10 per request: export smaller batches"
        );
        // A record of two million empty attributes, two bytes each.
        let attributes = [0x32, 0x00].repeat(2_000_000);
        let body = wrap(1, &wrap(2, &wrap(2, &attributes)));
        let error = error_of_within(&body, Encoding::Protobuf, &DecodeLimits::new(10, 4 << 20));
        let bytes = ONE_RECORD_BYTES + 2_000_000 * size_of::<KeyValue>();
        assert_eq!(
            error,
            format!(
                "the request's records, attributes and values would take {bytes} bytes once decoded; the limit is 33554432 bytes: export smaller batches"
            )
        );
        // Malformed after the attributes: still counted, still refused.
        let mut cut = body.clone();
        cut.push(0xff);
        let error = error_of_within(&cut, Encoding::Protobuf, &DecodeLimits::new(10, 4 << 20));
        assert!(error.contains("would take"), "{error}");
    }

    fn wrap(field: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![field << 3 | 2];
        prost::encoding::encode_varint(payload.len() as u64, &mut bytes);
        bytes.extend_from_slice(payload);
        bytes
    }

    fn error_of_within(body: &[u8], encoding: Encoding, limits: &DecodeLimits) -> String {
        decode(body, encoding, limits).unwrap_err().to_string()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn gzip_within_the_limit() {
        assert_eq!(gunzip(&gzip(b"hello"), 5).unwrap(), b"hello");
        let mut two_members = gzip(b"hello, ");
        two_members.extend(gzip(b"world"));
        assert_eq!(gunzip(&two_members, 100).unwrap(), b"hello, world");
        assert!(matches!(
            gunzip(&gzip(b"hello!"), 5),
            Err(GunzipError::TooLarge { limit: 5 })
        ));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
        let error = gunzip(&bomb, 4 << 20).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the body is larger than the limit of 4194304 bytes once decompressed"
        );
    }

    #[test]
    fn corrupt_gzip_is_refused() {
        let mut truncated = gzip(b"hello world");
        truncated.truncate(truncated.len() - 4);
        for body in [&b"plain text"[..], &truncated, b""] {
            let error = gunzip(body, 100);
            assert!(
                matches!(error, Err(GunzipError::Corrupt(_))),
                "{body:?}: {error:?}"
            );
        }
    }
}
