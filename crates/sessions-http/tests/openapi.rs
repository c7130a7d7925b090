//! `docs/openapi.yaml` parses, names every registered route and nothing else,
//! and every route it names reaches a real handler.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use actix_web::test as actix_test;
use sessions_core::{Limits, NewSession, SessionRegistry};
use sessions_http::{AccessPolicy, AppState, ConnectionLimit, HttpLimits, LiveUpdates, ROUTES};
use yaml_rust2::{Yaml, YamlLoader};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> Yaml {
    let text = include_str!("../../../docs/openapi.yaml");
    let mut documents = YamlLoader::load_from_str(text).expect("docs/openapi.yaml is valid YAML");
    assert_eq!(documents.len(), 1);
    documents.remove(0)
}

fn documented_routes(spec: &Yaml) -> BTreeSet<(String, String)> {
    let paths = spec["paths"].as_hash().expect("`paths` is a map");
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for (key, _) in item.as_hash().unwrap() {
            let key = key.as_str().unwrap();
            if METHODS.contains(&key) {
                routes.insert((key.to_uppercase(), path.to_owned()));
            }
        }
    }
    routes
}

#[test]
fn the_spec_is_openapi_3_1_and_names_every_route() {
    let spec = spec();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(spec["info"]["title"].as_str().is_some());
    let documented = documented_routes(&spec);
    let registered: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(
        documented, registered,
        "docs/openapi.yaml and ROUTES differ"
    );
}

#[test]
fn every_operation_documents_its_responses() {
    let spec = spec();
    for (method, path) in documented_routes(&spec) {
        let operation = &spec["paths"][path.as_str()][method.to_lowercase().as_str()];
        let responses = operation["responses"]
            .as_hash()
            .unwrap_or_else(|| panic!("{method} {path}: no responses"));
        assert!(
            responses.len() >= 2,
            "{method} {path} documents its errors too"
        );
        assert!(
            operation["operationId"].as_str().is_some(),
            "{method} {path}: operationId"
        );
    }
}

#[actix_web::test]
async fn every_route_reaches_a_handler() {
    let registry = Arc::new(SessionRegistry::new(Limits::default()));
    let session = registry
        .create(NewSession {
            appname: "probe".into(),
            mode: "test".into(),
            ..NewSession::default()
        })
        .unwrap();
    let state = Arc::new(AppState {
        live: LiveUpdates::new(registry.clone()),
        store: registry,
        limits: HttpLimits::default(),
        access: AccessPolicy::new("127.0.0.1".parse().unwrap(), 8558, &[], &[], None),
        connections: ConnectionLimit::new(100),
        started: Instant::now(),
        metrics: Default::default(),
    });
    let app = actix_test::init_service(sessions_http::app(state)).await;
    for route in ROUTES {
        let path = route.path.replace("{id}", &session.id.to_string());
        let request = actix_test::TestRequest::default()
            .method(route.method.parse().unwrap())
            .uri(&path)
            .insert_header(("content-type", "application/json"))
            .set_payload("{}")
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        let status = response.status().as_u16();
        let body = actix_test::read_body(response).await;
        let text = String::from_utf8_lossy(&body);
        assert_ne!(status, 405, "{} {}: {text}", route.method, route.path);
        assert!(
            !text.contains("there is no endpoint"),
            "{} {} is not registered: {text}",
            route.method,
            route.path
        );
    }
}
