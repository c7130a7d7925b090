//! Host allowlist, Origin checks, the bearer token and response headers,
//! against the real binary.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::Server;

#[test]
fn a_foreign_host_is_refused_even_on_loopback() {
    // What a DNS-rebinding page sends: a loopback connection, its own name.
    let server = Server::start();
    let id = server.create_session("victim");
    let before = server.visible_state();
    for (method, path) in [
        ("GET", "/sessions/".to_owned()),
        ("GET", format!("/sessions/{id}/log")),
        ("POST", "/sessions/".to_owned()),
        ("GET", "/health".to_owned()),
    ] {
        let response = server
            .request(method, &path)
            .header("Host", "rebind.attacker.example:8558")
            .json(&json!({"appname": "evil", "mode": "m"}))
            .send();
        response.assert_problem(403, "host `rebind.attacker.example:8558` is not allowed");
    }
    assert_eq!(server.visible_state(), before);
    for host in ["localhost", "LOCALHOST:1234", "127.0.0.1", "[::1]:9"] {
        let response = server.request("GET", "/health").header("Host", host).send();
        assert_eq!(response.status, 200, "{host}");
    }
}

#[test]
fn extra_hosts_can_be_allowed() {
    let server = Server::start_with(&["--allow-host", "buildbox,devbox.local"]);
    for host in ["buildbox:8558", "devbox.local"] {
        assert_eq!(
            server
                .request("GET", "/health")
                .header("Host", host)
                .send()
                .status,
            200,
            "{host}"
        );
    }
    assert_eq!(
        server
            .request("GET", "/health")
            .header("Host", "other")
            .send()
            .status,
        403
    );
}

#[test]
fn cross_site_writes_are_refused() {
    let server = Server::start();
    let id = server.create_session("target");
    let own = format!("http://127.0.0.1:{}", server.port);
    let before = server.visible_state();
    let attempts = [
        ("POST", "/sessions/".to_owned()),
        ("POST", format!("/sessions/{id}")),
        ("PUT", format!("/sessions/{id}")),
        ("DELETE", format!("/sessions/{id}")),
        ("POST", format!("/sessions/{id}/log")),
    ];
    for (method, path) in &attempts {
        for origin in [
            "http://evil.example",
            "null",
            &format!("{own}.evil.example"),
            &format!("{own}0"),
        ] {
            let response = server
                .request(method, path)
                .header("Origin", origin)
                .header("Content-Type", "text/plain")
                .body(br#"{"metadata": {"pwned": true}}"#)
                .send();
            response.assert_problem(403, "are not allowed");
        }
        let response = server
            .request(method, path)
            .header("Sec-Fetch-Site", "cross-site")
            .header("Content-Type", "text/plain")
            .body(b"x")
            .send();
        response.assert_problem(403, "Sec-Fetch-Site: cross-site");
    }
    assert_eq!(server.visible_state(), before, "nothing changed");

    let same_origin = server
        .request("POST", &format!("/sessions/{id}/log"))
        .header("Origin", &own)
        .header("Sec-Fetch-Site", "same-origin")
        .body(b"from the dashboard\n")
        .send();
    assert_eq!(same_origin.status, 200, "{}", same_origin.text());
    let localhost = server
        .request("POST", &format!("/sessions/{id}/log"))
        .header("Origin", &format!("http://localhost:{}", server.port))
        .body(b"also ours\n")
        .send();
    assert_eq!(localhost.status, 200);
    let read = server
        .request("GET", "/sessions/")
        .header("Origin", "http://evil.example")
        .send();
    assert_eq!(
        read.status, 200,
        "reads are not refused; the browser keeps them from the page"
    );
    assert_eq!(read.header("access-control-allow-origin"), None, "no CORS");
}

#[test]
fn extra_origins_are_compared_exactly() {
    let server = Server::start_with(&["--allow-origin", "https://tools.example"]);
    let post = |origin: &str| {
        server
            .request("POST", "/sessions/")
            .header("Origin", origin)
            .json(&json!({"appname": "a", "mode": "m"}))
            .send()
            .status
    };
    assert_eq!(post("https://tools.example"), 201);
    assert_eq!(post("https://tools.example.evil"), 403);
    assert_eq!(post("http://tools.example"), 403);
}

#[test]
fn a_token_guards_the_api() {
    let server = Server::start_with(&["--token", "s3cret"]);
    let missing = server.get("/sessions/");
    missing.assert_problem(401, "Authorization: Bearer");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    server
        .request("GET", "/sessions/")
        .header("Authorization", "Bearer wrong")
        .send()
        .assert_problem(401, "missing or wrong");
    let allowed = server
        .request("POST", "/sessions/")
        .header("Authorization", "Bearer s3cret")
        .json(&json!({"appname": "a", "mode": "m"}))
        .send();
    assert_eq!(allowed.status, 201);
    assert_eq!(server.get("/health").status, 200, "health needs no token");
}

#[test]
fn every_response_carries_the_security_headers() {
    let server = Server::start();
    for path in ["/health", "/sessions/", "/nowhere", "/sessions/bad"] {
        let response = server.get(path);
        assert_eq!(
            response.header("cross-origin-resource-policy"),
            Some("same-origin"),
            "{path}"
        );
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        let policy = response.header("content-security-policy").unwrap();
        assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    }
    let refused = server
        .request("GET", "/health")
        .header("Host", "evil.example")
        .send();
    assert_eq!(
        refused.header("cross-origin-resource-policy"),
        Some("same-origin")
    );
}

/// actix-ws upgrades on `Upgrade: websocket, foo`, which the Origin check
/// once let by because it looked for exactly `websocket`.
#[test]
fn the_live_list_checks_origin_however_upgrade_is_spelled() {
    let server = Server::start();
    for upgrade in [
        None,
        Some("websocket"),
        Some("websocketX"),
        Some("websocket, foo"),
        Some("WebSocket"),
    ] {
        let mut request = server
            .request("GET", "/sessions/ws")
            .header("Origin", "http://evil.example")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13");
        if let Some(upgrade) = upgrade {
            request = request.header("Upgrade", upgrade);
        }
        request
            .send()
            .assert_problem(403, "origin `http://evil.example` are not allowed");
    }
}

#[test]
fn a_header_the_checks_read_must_come_once() {
    let server = Server::start();
    let own_host = format!("127.0.0.1:{}", server.port);
    let own_origin = format!("http://{own_host}");
    let before = server.visible_state();
    for (name, first, second) in [
        ("Host", own_host.as_str(), "evil.example"),
        ("Origin", own_origin.as_str(), "http://evil.example"),
        ("Sec-Fetch-Site", "same-origin", "cross-site"),
    ] {
        let mut request = server.request("POST", "/sessions/");
        if name != "Host" {
            request = request.header("Host", &own_host);
        }
        let response = request
            .header(name, first)
            .header(name, second)
            .json(&json!({"appname": "twice", "mode": "m"}))
            .send();
        if name == "Host" {
            // The HTTP layer refuses it before the app sees it, as RFC 9112
            // asks, with a bare 400 like its other refusals of a head.
            assert_eq!(response.status, 400, "{}", response.text());
        } else {
            response.assert_problem(
                400,
                &format!("more than one `{}` header", name.to_lowercase()),
            );
        }
    }
    assert_eq!(server.visible_state(), before);
}
