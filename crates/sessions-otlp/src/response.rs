//! The answers of OTLP/HTTP, in the encoding of the request:
//! `ExportLogsServiceResponse` for a request that was processed, and
//! `google.rpc.Status` for one that was refused.

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use prost::Message;
use serde_json::json;

use crate::{Encoding, ExportOutcome};

/// The answer to a processed request: empty when every record was taken,
/// otherwise with `partial_success` saying how many were refused and why.
///
/// In JSON, `rejectedLogRecords` is a string, as the protobuf JSON mapping
/// writes 64-bit integers.
pub fn encode_response(outcome: &ExportOutcome, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => ExportLogsServiceResponse {
            partial_success: (outcome.rejected > 0).then(|| ExportLogsPartialSuccess {
                rejected_log_records: outcome.rejected as i64,
                error_message: outcome.message.clone(),
            }),
        }
        .encode_to_vec(),
        Encoding::Json if outcome.rejected == 0 => b"{}".to_vec(),
        Encoding::Json => json!({
            "partialSuccess": {
                "rejectedLogRecords": outcome.rejected.to_string(),
                "errorMessage": outcome.message,
            }
        })
        .to_string()
        .into_bytes(),
    }
}

/// `google.rpc.Status`, the body OTLP/HTTP gives every refused request.
/// OTLP ignores `code`; the caller picks the closest `google.rpc.Code`.
pub fn encode_status(code: i32, message: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => Status {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        Encoding::Json => json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    }
}

/// `google.rpc.Status` without its `details`, which are never sent. The
/// message is tiny and fixed; declaring it here spares a dependency on all
/// of Google's API types.
#[derive(Clone, PartialEq, Message)]
struct Status {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(rejected: u64, message: &str) -> ExportOutcome {
        ExportOutcome {
            accepted: 2,
            rejected,
            message: message.into(),
        }
    }

    #[test]
    fn responses_in_json() {
        let json = |outcome| String::from_utf8(encode_response(&outcome, Encoding::Json)).unwrap();
        assert_eq!(json(outcome(0, "")), "{}");
        assert_eq!(
            json(outcome(3, "ended")),
            r#"{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"ended"}}"#
        );
    }

    #[test]
    fn responses_in_protobuf() {
        let decoded = |outcome| {
            ExportLogsServiceResponse::decode(&encode_response(&outcome, Encoding::Protobuf)[..])
                .unwrap()
        };
        assert_eq!(decoded(outcome(0, "")).partial_success, None);
        assert!(encode_response(&outcome(0, ""), Encoding::Protobuf).is_empty());
        assert_eq!(
            decoded(outcome(3, "ended")).partial_success,
            Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "ended".into()
            })
        );
    }

    #[test]
    fn statuses_in_both_encodings() {
        assert_eq!(
            encode_status(3, "bad \"body\"", Encoding::Json),
            br#"{"code":3,"message":"bad \"body\""}"#
        );
        // Field 1 varint 3, field 2 length 3 "bad": what any protobuf
        // library reads as google.rpc.Status.
        assert_eq!(
            encode_status(3, "bad", Encoding::Protobuf),
            b"\x08\x03\x12\x03bad"
        );
    }
}
