//! Handler logic tested in process: `sessions_http::app()` driven by
//! actix-web's test tools, with no process and no socket, so each check
//! takes microseconds. What needs a real connection (deadlines, connection
//! limits, WebSockets, signals, memory) is tested against the binary in
//! `apps/zenserver/tests`.

#![allow(clippy::unwrap_used)]

mod restless;
mod store_away;

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::test::{self, TestRequest};
use serde_json::{Value, json};
use sessions_core::{Limits, NewSession, SessionRegistry, SessionStore};
use sessions_http::{AccessPolicy, AppState, ConnectionLimit, HttpLimits, LiveUpdates, Metrics};

fn state_with(limits: Limits, token: Option<&str>) -> Arc<AppState> {
    let registry = Arc::new(SessionRegistry::new(limits));
    registry
        .create_server_session(NewSession {
            appname: "zenserver".into(),
            mode: "server".into(),
            ..NewSession::default()
        })
        .unwrap();
    state_over(registry, token)
}

/// The app's state over any store, measured as the binary measures it.
fn state_over(store: Arc<dyn SessionStore>, token: Option<&str>) -> Arc<AppState> {
    let metrics = Metrics::default();
    let store = metrics.measure(store);
    Arc::new(AppState {
        live: LiveUpdates::new(Arc::clone(&store)),
        store,
        limits: HttpLimits::default(),
        access: AccessPolicy::new(
            "127.0.0.1".parse().unwrap(),
            8558,
            &[],
            &[],
            token.map(str::to_owned),
        ),
        connections: ConnectionLimit::new(100),
        started: Instant::now(),
        metrics,
    })
}

fn state() -> Arc<AppState> {
    state_with(Limits::default(), None)
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(name).unwrap().to_str().unwrap()
    }

    /// A problem document with `status` whose detail mentions `fragment`.
    fn assert_problem(&self, status: u16, fragment: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(fragment), "{detail:?} lacks {fragment:?}");
    }
}

async fn call(state: &Arc<AppState>, request: TestRequest) -> Answer {
    let app = test::init_service(sessions_http::app(Arc::clone(state))).await;
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await.to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn post_json(path: &str, body: &Value) -> TestRequest {
    TestRequest::post().uri(path).set_json(body)
}

async fn create(state: &Arc<AppState>, appname: &str) -> String {
    let answer = call(
        state,
        post_json("/sessions/", &json!({"appname": appname, "mode": "test"})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    answer.json()["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_session_lives_from_create_to_end() {
    let state = state();
    let answer = call(
        &state,
        post_json(
            "/sessions/",
            &json!({"appname": "editor", "mode": "gui", "jobid": "j1", "metadata": {"a": 1}}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let created = answer.json();
    let id = created["id"].as_str().unwrap();
    assert_eq!(answer.header(header::LOCATION), format!("/sessions/{id}"));
    assert_eq!(created["status"], "active");
    assert_eq!(
        created["log"],
        json!({"entries": 0, "cursor": 0, "dropped": 0})
    );

    let patched = call(
        &state,
        TestRequest::put()
            .uri(&format!("/sessions/{id}"))
            .set_json(json!({"metadata": {"a": null, "b": {"c": true}}})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.json()["metadata"], json!({"b": {"c": true}}));

    let updated = call(
        &state,
        post_json(&format!("/sessions/{id}"), &json!({"mode": "batch"})),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "an update, not a create");
    assert_eq!(updated.json()["mode"], "batch");
    assert_eq!(updated.json()["appname"], "editor");

    let ended = call(
        &state,
        TestRequest::delete().uri(&format!("/sessions/{id}")),
    )
    .await;
    assert_eq!(ended.status, StatusCode::OK);
    assert_eq!(ended.json()["status"], "ended");
    let again = call(
        &state,
        TestRequest::delete().uri(&format!("/sessions/{id}")),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "ending is idempotent");
    assert_eq!(again.json()["ended"], ended.json()["ended"]);

    call(
        &state,
        post_json(&format!("/sessions/{id}"), &json!({"mode": "late"})),
    )
    .await
    .assert_problem(409, "ended");
    let listed = call(&state, TestRequest::get().uri("/sessions/?status=ended")).await;
    let sessions = listed.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["id"], id);
}

#[actix_web::test]
async fn posting_to_a_new_id_creates_that_session() {
    let state = state();
    let id = "0123456789abcdef01234567";
    let path = format!("/sessions/{id}");
    let body = json!({"appname": "agent", "mode": "ci"});
    let first = call(&state, post_json(&path, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.json()["id"], id);
    let second = call(&state, post_json(&path, &body)).await;
    assert_eq!(second.status, StatusCode::OK);
    call(
        &state,
        post_json("/sessions/0123456789ABCDEF01234568", &json!({"mode": "ci"})),
    )
    .await
    .assert_problem(400, "appname");
}

#[actix_web::test]
async fn a_log_is_appended_and_read_with_cursors() {
    let state = state();
    let id = create(&state, "builder").await;
    let log = format!("/sessions/{id}/log");
    let appended = call(
        &state,
        TestRequest::post()
            .uri(&log)
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload("one\ntwo\n\nthree\n"),
    )
    .await;
    assert_eq!(appended.status, StatusCode::OK);
    assert_eq!(appended.json(), json!({"appended": 3, "cursor": 3}));
    let appended = call(
        &state,
        post_json(
            &log,
            &json!({"entries": [{"message": "four", "level": "error", "data": {"file": "a.c"}}]}),
        ),
    )
    .await;
    assert_eq!(appended.json(), json!({"appended": 1, "cursor": 4}));

    let page = call(&state, TestRequest::get().uri(&format!("{log}?limit=2"))).await;
    let page = page.json();
    let messages: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["one", "two"]);
    assert_eq!(page["more"], true);
    let cursor = page["cursor"].as_u64().unwrap();

    let rest = call(
        &state,
        TestRequest::get().uri(&format!("{log}?cursor={cursor}")),
    )
    .await
    .json();
    let entries = rest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1]["seq"], 4);
    assert_eq!(entries[1]["level"], "error");
    assert_eq!(entries[1]["data"], json!({"file": "a.c"}));
    assert_eq!(rest["dropped"], 0);
    assert_eq!(rest["reset"], false);

    let ahead = call(&state, TestRequest::get().uri(&format!("{log}?cursor=99"))).await;
    assert_eq!(ahead.json()["reset"], true, "a cursor past the end");
}

#[actix_web::test]
async fn a_refused_batch_stores_nothing() {
    let limits = Limits {
        max_batch_entries: 2,
        ..Limits::default()
    };
    let state = state_with(limits, None);
    let id = create(&state, "builder").await;
    let log = format!("/sessions/{id}/log");
    call(
        &state,
        TestRequest::post()
            .uri(&log)
            .insert_header((header::CONTENT_TYPE, "text/plain"))
            .set_payload("a\nb\nc\n"),
    )
    .await
    .assert_problem(400, "limit is 2");
    call(
        &state,
        post_json(
            &log,
            &json!({"entries": [{"message": "fine"}, {"message": 7}]}),
        ),
    )
    .await
    .assert_problem(400, "entry 1: `message`: invalid type");
    let read = call(&state, TestRequest::get().uri(&log)).await.json();
    assert_eq!(read["entries"], json!([]));
    assert_eq!(read["cursor"], 0);
}

#[actix_web::test]
async fn bad_requests_get_problem_documents() {
    let state = state();
    let id = create(&state, "builder").await;
    call(&state, TestRequest::get().uri("/sessions/not-an-id"))
        .await
        .assert_problem(400, "id");
    call(
        &state,
        TestRequest::get().uri("/sessions/0123456789abcdef01234567"),
    )
    .await
    .assert_problem(404, "0123456789abcdef01234567");
    call(
        &state,
        TestRequest::get().uri(&format!("/sessions/{id}?x=1")),
    )
    .await
    .assert_problem(400, "x");
    call(&state, TestRequest::get().uri("/sessions/?status=sleeping"))
        .await
        .assert_problem(400, "status");
    call(&state, TestRequest::get().uri("/nowhere"))
        .await
        .assert_problem(404, "/nowhere");
    let not_allowed = call(&state, TestRequest::patch().uri("/sessions/")).await;
    not_allowed.assert_problem(405, "PATCH");
    assert_eq!(not_allowed.header(header::ALLOW), "GET, POST");
    call(
        &state,
        TestRequest::post()
            .uri(&format!("/sessions/{id}/log"))
            .insert_header((header::CONTENT_TYPE, "application/xml"))
            .set_payload("<line/>"),
    )
    .await
    .assert_problem(415, "application/xml");
    call(
        &state,
        TestRequest::post()
            .uri("/sessions/")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload("{\"appname\": \"a\", \"mode\": "),
    )
    .await
    .assert_problem(400, "EOF while parsing");
}

#[actix_web::test]
async fn the_server_session_cannot_be_ended() {
    let state = state();
    let server = state.store.server_session_id().unwrap();
    call(
        &state,
        TestRequest::delete().uri(&format!("/sessions/{server}")),
    )
    .await
    .assert_problem(409, "server");
}

#[actix_web::test]
async fn a_token_guards_everything_but_health() {
    let state = state_with(Limits::default(), Some("s3cret"));
    call(&state, TestRequest::get().uri("/sessions/"))
        .await
        .assert_problem(401, "token");
    let allowed = call(
        &state,
        TestRequest::get()
            .uri("/sessions/")
            .insert_header((header::AUTHORIZATION, "Bearer s3cret")),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::OK);
    let health = call(&state, TestRequest::get().uri("/health")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(
        health.header(header::HeaderName::from_static("x-content-type-options")),
        "nosniff",
        "security headers on every answer"
    );
}

#[actix_web::test]
async fn a_foreign_origin_may_not_change_anything() {
    let state = state();
    call(
        &state,
        post_json("/sessions/", &json!({"appname": "a", "mode": "b"}))
            .insert_header((header::ORIGIN, "http://evil.example")),
    )
    .await
    .assert_problem(403, "evil.example");
    assert_eq!(
        state.store.stats().active_sessions,
        1,
        "the server's session alone"
    );
}

/// A long poll on session `id`'s log from its start, and, once the poll
/// is waiting, an append of `line`: their answers.
async fn long_poll_woken_by(state: &Arc<AppState>, id: &str, line: &str) -> (Answer, Answer) {
    let log = format!("/sessions/{id}/log");
    let waiting = call(
        state,
        TestRequest::get().uri(&format!("{log}?cursor=0&wait=60")),
    );
    let append = async {
        // Lets the poll start waiting first.
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        call(
            state,
            TestRequest::post()
                .uri(&log)
                .insert_header((header::CONTENT_TYPE, "text/plain"))
                .set_payload(format!("{line}\n")),
        )
        .await
    };
    // Not a timing check: a poll that is never woken would wait its whole
    // minute, and this guard turns that hang into a failure.
    actix_web::rt::time::timeout(std::time::Duration::from_secs(30), async {
        futures_util::join!(waiting, append)
    })
    .await
    .expect("the append wakes the poll")
}

#[actix_web::test]
async fn a_long_poll_answers_when_an_entry_arrives() {
    let state = state();
    let id = create(&state, "builder").await;
    let (polled, appended) = long_poll_woken_by(&state, &id, "awake").await;
    assert_eq!(appended.status, StatusCode::OK);
    let polled = polled.json();
    assert_eq!(polled["entries"][0]["message"], "awake");
    assert_eq!(polled["cursor"], 1);
}

/// The value of the sample `name{labels}` in a metrics body.
fn sample(body: &str, name_and_labels: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[actix_web::test]
async fn metrics_count_sessions_entries_and_requests() {
    let state = state();
    let id = create(&state, "builder").await;
    for _ in 0..3 {
        call(
            &state,
            TestRequest::post()
                .uri(&format!("/sessions/{id}/log"))
                .insert_header((header::CONTENT_TYPE, "text/plain"))
                .set_payload("one\ntwo\n"),
        )
        .await;
    }
    call(&state, TestRequest::get().uri("/sessions/not-an-id")).await;

    let answer = call(&state, TestRequest::get().uri("/metrics")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.header(header::CONTENT_TYPE),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = String::from_utf8(answer.body).unwrap();
    assert_eq!(
        sample(&body, "zenserver_sessions{status=\"active\"}"),
        Some(2.0)
    );
    assert_eq!(
        sample(&body, "zenserver_log_entries_appended_total"),
        Some(6.0)
    );
    assert_eq!(
        sample(&body, "zenserver_log_entries_dropped_total"),
        Some(0.0)
    );
    assert_eq!(sample(&body, "zenserver_long_polls_waiting"), Some(0.0));
    let appends = "{route=\"/sessions/{id}/log\",method=\"POST\",status=\"200\"}";
    assert_eq!(
        sample(&body, &format!("zenserver_http_requests_total{appends}")),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &body,
            &format!("zenserver_http_request_duration_seconds_count{appends}")
        ),
        Some(3.0)
    );
    let store_appends = "{operation=\"append\"}";
    assert_eq!(
        sample(
            &body,
            &format!("zenserver_store_operation_duration_seconds_count{store_appends}")
        ),
        Some(3.0),
        "every append is timed in the store"
    );
    assert_eq!(
        sample(
            &body,
            &format!("zenserver_store_errors_total{store_appends}")
        ),
        Some(0.0)
    );
    let bad_id = "{route=\"/sessions/{id}\",method=\"GET\",status=\"400\"}";
    assert_eq!(
        sample(&body, &format!("zenserver_http_requests_total{bad_id}")),
        Some(1.0),
        "refusals are counted under their route"
    );
    for line in body.lines().filter(|line| !line.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line:?}");
    }
}

#[actix_web::test]
async fn metrics_need_the_token_and_made_up_requests_cannot_grow_them() {
    let state = state_with(Limits::default(), Some("s3cret"));
    call(&state, TestRequest::get().uri("/metrics"))
        .await
        .assert_problem(401, "token");
    for index in 0..500 {
        let method = actix_web::http::Method::from_bytes(format!("M{index}").as_bytes()).unwrap();
        call(
            &state,
            TestRequest::default()
                .method(method)
                .uri(&format!("/made/up/{index}"))
                .insert_header((header::AUTHORIZATION, "Bearer s3cret")),
        )
        .await;
    }
    let body = String::from_utf8(
        call(
            &state,
            TestRequest::get()
                .uri("/metrics")
                .insert_header((header::AUTHORIZATION, "Bearer s3cret")),
        )
        .await
        .body,
    )
    .unwrap();
    let request_series = body
        .lines()
        .filter(|line| line.starts_with("zenserver_http_requests_total{"))
        .count();
    assert!(
        request_series <= 3,
        "500 made-up paths and methods made {request_series} series"
    );
    assert_eq!(
        sample(
            &body,
            "zenserver_http_requests_total{route=\"unmatched\",method=\"other\",status=\"404\"}"
        ),
        Some(500.0)
    );
}

#[actix_web::test]
async fn health_names_the_memory_store() {
    let answer = call(&state(), TestRequest::get().uri("/health")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json()["store"],
        json!({"kind": "memory", "ok": true})
    );
}
