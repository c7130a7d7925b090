//! A store that cannot be reached: every request that needs it is answered
//! 503 with `Retry-After`, whatever the route, `/health` says why and
//! `/metrics` counts the failures.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::test::TestRequest;
use jiff::Timestamp;
use serde_json::json;
use sessions_core::session_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};
use sessions_core::{
    Limits, Metadata, NewSession, RegistryError, Session, SessionId, SessionStore, SessionUpdate,
    StatusFilter, StoreFuture, StoreHealth, StoreStats, Upserted, Wakeup,
};

use super::{call, post_json, sample, state_over};

/// Refuses everything that would need the store, as a store whose server
/// went away does; its directory copy is empty.
#[derive(Debug, Default)]
struct AwayStore {
    limits: Limits,
}

fn away<'a, T: Send + 'a>() -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(Err(RegistryError::Unavailable(
        "connection refused".into(),
    ))))
}

impl SessionStore for AwayStore {
    fn limits(&self) -> &Limits {
        &self.limits
    }
    fn create(&self, _: NewSession) -> StoreFuture<'_, Session> {
        away()
    }
    fn upsert(&self, _: SessionId, _: SessionUpdate) -> StoreFuture<'_, Upserted> {
        away()
    }
    fn patch_metadata<'a>(&'a self, _: SessionId, _: &'a Metadata) -> StoreFuture<'a, Session> {
        away()
    }
    fn end(&self, _: SessionId) -> StoreFuture<'_, Session> {
        away()
    }
    fn get(&self, _: SessionId) -> StoreFuture<'_, Session> {
        away()
    }
    fn append<'a>(&'a self, _: SessionId, _: &'a [NewEntry]) -> StoreFuture<'a, AppendOutcome> {
        away()
    }
    fn read_log<'a>(
        &'a self,
        _: SessionId,
        _: ReadRequest,
        _: &'a mut (dyn EntrySink + Send),
    ) -> StoreFuture<'a, ReadSummary> {
        away()
    }
    fn wait_for_log(&self, _: SessionId, _: u64) -> StoreFuture<'_, Option<Wakeup>> {
        away()
    }
    fn end_idle(&self, _: Timestamp) -> StoreFuture<'_, Vec<Session>> {
        away()
    }
    fn create_server_session(&self, _: NewSession) -> StoreFuture<'_, Session> {
        away()
    }
    fn server_session_id(&self) -> Option<SessionId> {
        None
    }
    fn list(&self, _: StatusFilter) -> Vec<Session> {
        Vec::new()
    }
    fn change_version(&self) -> u64 {
        0
    }
    fn wait_for_change(&self, _: u64) -> Option<Wakeup> {
        None
    }
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }
    fn health(&self) -> StoreHealth {
        StoreHealth {
            kind: "test",
            ok: false,
            detail: "connection refused".into(),
        }
    }
    fn shut_down(&self) {}
    fn is_shutting_down(&self) -> bool {
        false
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

const SOME_ID: &str = "65a1f00dcafe0123456789ab";

#[actix_web::test]
async fn every_route_that_needs_the_store_answers_503_with_retry_after() {
    let state = state_over(Arc::new(AwayStore::default()), None);
    let session = format!("/sessions/{SOME_ID}");
    let log = format!("/sessions/{SOME_ID}/log");
    let requests = [
        post_json("/sessions/", &json!({"appname": "a", "mode": "m"})),
        post_json(&session, &json!({"appname": "a", "mode": "m"})),
        TestRequest::put()
            .uri(&session)
            .set_json(json!({"metadata": {"k": 1}})),
        TestRequest::delete().uri(&session),
        TestRequest::get().uri(&session),
        TestRequest::get().uri(&log),
        TestRequest::get().uri(&format!("{log}?cursor=0&wait=5")),
        TestRequest::post()
            .uri(&log)
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload("a line"),
    ];
    for request in requests {
        let answer = call(&state, request).await;
        answer.assert_problem(503, "store is unavailable");
        assert_eq!(answer.header(header::RETRY_AFTER), "1");
        assert!(
            answer.headers.get(header::CONNECTION).is_none(),
            "the connection stays open for the retry"
        );
    }
}

#[actix_web::test]
async fn an_otlp_export_is_told_to_retry_in_its_own_encoding() {
    let state = state_over(Arc::new(AwayStore::default()), None);
    let export = json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeLogs": [{"logRecords": [{"body": {"stringValue": "hello"}}]}]
    }]});
    let answer = call(&state, post_json("/v1/logs", &export)).await;
    assert_eq!(answer.status.as_u16(), 503);
    assert_eq!(answer.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(answer.header(header::RETRY_AFTER), "1");
    assert!(
        answer.json()["message"]
            .as_str()
            .unwrap()
            .contains("store is unavailable")
    );
}

#[actix_web::test]
async fn health_answers_and_says_the_store_is_away() {
    let state = state_over(Arc::new(AwayStore::default()), None);
    let answer = call(&state, TestRequest::get().uri("/health")).await;
    assert_eq!(answer.status.as_u16(), 200);
    assert_eq!(
        answer.json()["store"],
        json!({"kind": "test", "ok": false, "detail": "connection refused"})
    );
    let list = call(&state, TestRequest::get().uri("/sessions/")).await;
    assert_eq!(list.status.as_u16(), 200, "the list is the node's own copy");
}

#[actix_web::test]
async fn store_failures_are_counted_by_operation_in_the_metrics() {
    let state = state_over(Arc::new(AwayStore::default()), None);
    let id = "65a1f00dcafe0123456789ab";
    for _ in 0..2 {
        let answer = call(
            &state,
            TestRequest::post()
                .uri(&format!("/sessions/{id}/log"))
                .insert_header((header::CONTENT_TYPE, "text/plain"))
                .set_payload("line\n"),
        )
        .await;
        assert_eq!(answer.status.as_u16(), 503);
    }
    let metrics = call(&state, TestRequest::get().uri("/metrics")).await;
    let body = String::from_utf8(metrics.body).unwrap();
    assert_eq!(
        sample(&body, "zenserver_store_errors_total{operation=\"append\"}"),
        Some(2.0)
    );
    assert_eq!(
        sample(&body, "zenserver_store_errors_total{operation=\"get\"}"),
        Some(0.0)
    );
}
