//! Micro-benchmarks of the request path's CPU-heavy parts: parsing a JSON
//! batch and a text batch of 1,000 entries, and writing a log read of 1,000
//! entries as JSON.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use sessions_core::session_log::{Level, LogRing, NewEntry, ReadRequest, RingLimits};
use sessions_http::fuzzing::{log_read_json, parse_json_log, parse_text_log};

const MESSAGE: &str = "build step 42 of 97: compiled Engine/Source/Core.cpp in 12ms";

fn parse(c: &mut Criterion) {
    let now = Timestamp::UNIX_EPOCH;
    let mut group = c.benchmark_group("parse 1,000 entries");
    group.throughput(Throughput::Elements(1_000));
    let entries: Vec<String> = (0..1_000)
        .map(|_| format!(r#"{{"message":"{MESSAGE}"}}"#))
        .collect();
    let json = format!(r#"{{"entries":[{}]}}"#, entries.join(","));
    group.bench_function("JSON", |b| {
        b.iter(|| parse_json_log(black_box(json.as_bytes()), Level::Info, now).unwrap())
    });
    let text: String = (0..1_000).map(|_| format!("{MESSAGE}\n")).collect();
    group.bench_function("text", |b| {
        b.iter(|| parse_text_log(black_box(text.as_bytes()), Level::Info, now).unwrap())
    });
    group.finish();
}

fn write(c: &mut Criterion) {
    let mut ring = LogRing::new(RingLimits::DEFAULT);
    ring.append(&vec![
        NewEntry::new(
            Timestamp::UNIX_EPOCH,
            Level::Info,
            MESSAGE
        );
        10_000
    ])
    .unwrap();
    let mut group = c.benchmark_group("write a read of 1,000 entries");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("JSON", |b| {
        b.iter(|| {
            log_read_json(&ring.read(ReadRequest::After {
                cursor: black_box(4_000),
                limit: 1_000,
            }))
        })
    });
    group.finish();
}

criterion_group!(benches, parse, write);
criterion_main!(benches);
