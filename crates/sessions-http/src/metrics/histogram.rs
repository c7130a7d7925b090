//! A latency histogram with fixed buckets, updated with atomics so that
//! requests on different workers never wait for each other to count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: from a tenth of a millisecond
/// (an append on loopback) to a minute (the longest long poll).
pub(crate) const BUCKET_BOUNDS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 30.0, 60.0,
];

#[derive(Debug, Default)]
pub(crate) struct Histogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; BUCKET_BOUNDS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub(crate) fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKET_BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKET_BOUNDS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Cumulative counts per bound (`le`), the last for `+Inf`, which is the
    /// number of observations.
    pub(crate) fn cumulative(&self) -> [u64; BUCKET_BOUNDS.len() + 1] {
        let mut total = 0;
        std::array::from_fn(|index| {
            total += self.buckets[index].load(Ordering::Relaxed);
            total
        })
    }

    pub(crate) fn sum_seconds(&self) -> f64 {
        Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(50));
        histogram.observe(Duration::from_micros(100));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(120));
        let cumulative = histogram.cumulative();
        assert_eq!(cumulative[0], 2, "0.1 ms holds 50 µs and exactly 100 µs");
        assert_eq!(cumulative[4], 2, "2.5 ms");
        assert_eq!(cumulative[5], 3, "5 ms");
        assert_eq!(cumulative[BUCKET_BOUNDS.len() - 1], 3, "60 s");
        assert_eq!(
            cumulative[BUCKET_BOUNDS.len()],
            4,
            "+Inf: every observation"
        );
        assert!((histogram.sum_seconds() - 120.00315).abs() < 1e-9);
    }
}
