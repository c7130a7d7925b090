//! `GET /metrics`: the server's counters in the Prometheus text format
//! (version 0.0.4), for scraping. Guarded by the token like the API.
//!
//! Requests are counted by method, route template and status, with a
//! latency histogram each, by the [`track`] middleware in front of every
//! route. Every label value comes from a fixed set (the route templates,
//! the standard methods, the status codes), so no client can make the
//! table grow without bound: an unknown path is `route="unmatched"`, an
//! unusual method `method="other"`. The store's operations are timed and
//! their failures counted by operation (`store.rs`), whatever the store.

mod histogram;
mod store;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;

use sessions_core::SessionStore;

use self::histogram::{BUCKET_BOUNDS, Histogram};
use self::store::{MeasuredStore, StoreTable};
use crate::AppState;
use crate::routes::ROUTE_NAMES;

/// The request table, the store's operations and the gauges only HTTP
/// knows.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: RwLock<HashMap<RequestKey, Histogram>>,
    waiting_long_polls: AtomicUsize,
    store: Arc<StoreTable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RequestKey {
    route: &'static str,
    method: &'static str,
    status: u16,
}

/// Counts one waiting long poll for as long as it lives.
#[derive(Debug)]
pub(crate) struct WaitingLongPoll<'a>(&'a AtomicUsize);

impl Drop for WaitingLongPoll<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// `store`, its operations timed and its failures counted into these
    /// metrics: what the binary hands to `AppState`.
    pub fn measure(&self, store: Arc<dyn SessionStore>) -> Arc<dyn SessionStore> {
        Arc::new(MeasuredStore {
            inner: store,
            table: Arc::clone(&self.store),
        })
    }

    /// Marks a long poll as waiting until the guard is dropped.
    pub(crate) fn long_poll_waits(&self) -> WaitingLongPoll<'_> {
        self.waiting_long_polls.fetch_add(1, Ordering::Relaxed);
        WaitingLongPoll(&self.waiting_long_polls)
    }

    fn observe(&self, key: RequestKey, started: Instant) {
        let elapsed = started.elapsed();
        let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(histogram) = requests.get(&key) {
            histogram.observe(elapsed);
            return;
        }
        drop(requests);
        self.requests
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .observe(elapsed);
    }

    /// Everything, in the Prometheus text format.
    pub(crate) fn render(&self, state: &AppState) -> String {
        let mut out = String::with_capacity(4096);
        let stats = state.store.stats();
        let _ = writeln!(
            out,
            "# HELP zenserver_build_info The running version.\n\
             # TYPE zenserver_build_info gauge\n\
             zenserver_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        gauge(
            &mut out,
            "zenserver_uptime_seconds",
            "Seconds since the server started.",
            state.started.elapsed().as_secs(),
        );
        let _ = writeln!(
            out,
            "# HELP zenserver_sessions Sessions held, by status.\n\
             # TYPE zenserver_sessions gauge\n\
             zenserver_sessions{{status=\"active\"}} {}\n\
             zenserver_sessions{{status=\"ended\"}} {}",
            stats.active_sessions, stats.ended_sessions
        );
        counter(
            &mut out,
            "zenserver_log_entries_appended_total",
            "Log entries appended to any session.",
            stats.entries_appended,
        );
        counter(
            &mut out,
            "zenserver_log_entries_dropped_total",
            "Log entries evicted to keep logs within their limits and the shared budget.",
            stats.entries_evicted,
        );
        gauge(
            &mut out,
            "zenserver_log_bytes",
            "Bytes all logs retain, headers included.",
            stats.log_bytes,
        );
        gauge(
            &mut out,
            "zenserver_websocket_watchers",
            "WebSocket watchers of the session list.",
            state.live.watchers(),
        );
        gauge(
            &mut out,
            "zenserver_connections",
            "Open HTTP connections.",
            state.connections.open(),
        );
        gauge(
            &mut out,
            "zenserver_long_polls_waiting",
            "Log reads waiting for new entries.",
            self.waiting_long_polls.load(Ordering::Relaxed),
        );
        self.render_requests(&mut out);
        self.store.render(&mut out);
        out
    }

    fn render_requests(&self, out: &mut String) {
        let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
        let mut keys: Vec<&RequestKey> = requests.keys().collect();
        keys.sort();
        out.push_str(
            "# HELP zenserver_http_requests_total HTTP requests answered, by route template, method and status.\n\
             # TYPE zenserver_http_requests_total counter\n",
        );
        for key in &keys {
            let count = requests[*key].cumulative()[BUCKET_BOUNDS.len()];
            let _ = writeln!(
                out,
                "zenserver_http_requests_total{{{}}} {count}",
                labels(key)
            );
        }
        out.push_str(
            "# HELP zenserver_http_request_duration_seconds Time to answer, from the request reaching the app to its response.\n\
             # TYPE zenserver_http_request_duration_seconds histogram\n",
        );
        for key in &keys {
            write_histogram(
                out,
                "zenserver_http_request_duration_seconds",
                &labels(key),
                &requests[*key],
            );
        }
    }
}

/// One labelled series of a histogram: its buckets, sum and count.
fn write_histogram(out: &mut String, name: &str, labels: &str, histogram: &Histogram) {
    let cumulative = histogram.cumulative();
    for (bound, count) in BUCKET_BOUNDS.iter().zip(cumulative) {
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
    }
    let total = cumulative[BUCKET_BOUNDS.len()];
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels},le=\"+Inf\"}} {total}\n\
         {name}_sum{{{labels}}} {}\n\
         {name}_count{{{labels}}} {total}",
        histogram.sum_seconds()
    );
}

fn labels(key: &RequestKey) -> String {
    format!(
        "route=\"{}\",method=\"{}\",status=\"{}\"",
        key.route, key.method, key.status
    )
}

fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

/// The method as a label: the standard ones by name, anything else as
/// `other`, so made-up methods cannot grow the table.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::CONNECT,
        Method::TRACE,
    ];
    const NAMES: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    STANDARD
        .iter()
        .position(|standard| standard == method)
        .map_or("other", |index| NAMES[index])
}

/// The route template a request matched, from the fixed set of names the
/// routes are registered under; `unmatched` for any other path.
fn route_label(matched: Option<&str>) -> &'static str {
    matched
        .and_then(|name| ROUTE_NAMES.iter().find(|known| **known == name))
        .copied()
        .unwrap_or("unmatched")
}

/// Middleware: times every request and counts it under its route, method
/// and status, refused ones included.
pub(crate) async fn track(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.call(request).await?;
    let answered = response.request();
    if let Some(state) = answered.app_data::<web::Data<AppState>>() {
        let key = RequestKey {
            route: route_label(answered.match_name()),
            method,
            status: response.status().as_u16(),
        };
        state.metrics.observe(key, started);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(
            route_label(Some("/sessions/{id}/log")),
            "/sessions/{id}/log"
        );
        assert_eq!(route_label(Some("/made/up")), "unmatched");
        assert_eq!(route_label(None), "unmatched");
    }
}
