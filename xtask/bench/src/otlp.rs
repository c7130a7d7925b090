//! OTLP export: protobuf `ExportLogsServiceRequest`s of 1,000 records each
//! at `POST /v1/logs`, records/s, next to the batched JSON append.

use std::path::Path;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Kind;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::json;

use crate::reference::Scratch;
use crate::report::Report;
use crate::rounds::{ROUNDS, median};
use crate::server::Server;
use crate::throughput::MESSAGE;
use crate::wrk;

fn string(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(Kind::StringValue(value.into())),
        }),
        ..KeyValue::default()
    }
}

/// One export of 1,000 info records with a 60-byte message, as an SDK's
/// batch processor sends them.
fn export() -> Vec<u8> {
    let now = 1_764_000_000_000_000_000u64;
    let records = (0..1_000u64)
        .map(|i| LogRecord {
            time_unix_nano: now + i * 1_000,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: Some(AnyValue {
                value: Some(Kind::StringValue(MESSAGE.into())),
            }),
            ..LogRecord::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    string("service.name", "bench-exporter"),
                    string("host.name", "buildbox"),
                ],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
    .encode_to_vec()
}

pub(crate) fn run(binary: &Path, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("OTLP export: protobuf, 1,000 records a request");
    let scratch = Scratch::new("otlp")?;
    let zen = Server::start(binary, &["--workers", "2"])?;
    let script = wrk::post_file_script(&scratch.0, "export", "application/x-protobuf", &export())?;
    let url = format!("http://127.0.0.1:{}/v1/logs", zen.port);
    let mut rates = Vec::new();
    for _ in 0..ROUNDS {
        rates.push(
            wrk::run(&url, 16, Duration::from_secs(8), Some(&script))?.requests_per_second
                * 1_000.0,
        );
    }
    let rate = median(&rates);
    report.add(
        "OTLP export, protobuf",
        "records/s (1,000 a request)",
        json!(rate),
        format!("{:.2} M records/s", rate / 1e6),
    );
    Ok(())
}
