//! Micro-benchmarks of the log ring: appending (one entry, a batch of
//! 1,000), appending to a full ring (every entry evicts one), and cursor
//! reads of 1,000 entries, borrowed and serialized-ready.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use sessions_log::{Level, LogRing, NewEntry, ReadRequest, RingLimits};

/// A 60-byte message, the size the load benchmarks use.
const MESSAGE: &str = "build step 42 of 97: compiled Engine/Source/Core.cpp in 12ms";

fn entry() -> NewEntry {
    NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, MESSAGE)
}

fn full_ring() -> LogRing {
    let mut ring = LogRing::new(RingLimits::DEFAULT);
    ring.append(&vec![entry(); 10_000]).unwrap();
    ring
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append");
    let one = [entry()];
    group.throughput(Throughput::Elements(1));
    group.bench_function("one entry", |b| {
        b.iter_batched_ref(
            || LogRing::new(RingLimits::DEFAULT),
            |ring| ring.append(black_box(&one)),
            BatchSize::SmallInput,
        )
    });
    let batch = vec![entry(); 1_000];
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("1,000 entries", |b| {
        b.iter_batched_ref(
            || LogRing::new(RingLimits::DEFAULT),
            |ring| ring.append(black_box(&batch)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("1,000 entries, full ring (evicting)", |b| {
        let mut ring = full_ring();
        b.iter(|| ring.append(black_box(&batch)))
    });
    group.finish();
}

fn read(c: &mut Criterion) {
    let ring = full_ring();
    let mut group = c.benchmark_group("cursor read");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("1,000 entries", |b| {
        b.iter(|| {
            let read = ring.read(ReadRequest::After {
                cursor: black_box(4_000),
                limit: 1_000,
            });
            read.entries()
                .map(|entry| entry.message.len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, append, read);
criterion_main!(benches);
