//! Serving the dashboard: redirects, the embedded files with their headers,
//! revalidation, compression, `--dashboard-dir`, and no token needed.

#![allow(clippy::unwrap_used)]

mod support;

use support::Server;

#[test]
fn the_root_and_the_bare_path_redirect_to_the_dashboard() {
    let server = Server::start();
    for path in ["/", "/dashboard"] {
        let response = server.get(path);
        assert_eq!(response.status, 302, "{path}");
        assert_eq!(response.header("location"), Some("/dashboard/"));
    }
}

#[test]
fn the_embedded_dashboard_is_served_with_strict_headers() {
    let server = Server::start();
    let page = server.get("/dashboard/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = page.text();
    assert!(
        text.contains(r#"<script type="module" src="app.js">"#),
        "{text}"
    );
    assert!(!text.contains("<script>"), "no inline script");
    assert!(!text.contains("style="), "no inline style");
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));

    for (path, content_type) in [
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "text/css; charset=utf-8"),
        ("/dashboard/log-view.js", "text/javascript; charset=utf-8"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let response = server.get(path);
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some(content_type),
            "{path}"
        );
    }
    server
        .get("/dashboard/missing.js")
        .assert_problem(404, "no endpoint at /dashboard/missing.js");
}

#[test]
fn unchanged_files_are_revalidated_and_compressed_when_accepted() {
    let server = Server::start();
    let first = server.get("/dashboard/app.js");
    let etag = first.header("etag").unwrap().to_owned();
    let again = server
        .request("GET", "/dashboard/app.js")
        .header("If-None-Match", &etag)
        .send();
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    let gzipped = server
        .request("GET", "/dashboard/log-view.js")
        .header("Accept-Encoding", "gzip, deflate")
        .send();
    assert_eq!(gzipped.status, 200);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let plain = server.get("/dashboard/log-view.js");
    assert_eq!(plain.header("content-encoding"), None);
    assert!(gzipped.body.len() * 2 < plain.body.len());
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzipped.body[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain.body);
}

#[test]
fn the_dashboard_needs_no_token_but_the_api_does() {
    let server = Server::start_with(&["--token", "s3cret"]);
    assert_eq!(server.get("/dashboard/").status, 200);
    assert_eq!(server.get("/dashboard/app.js").status, 200);
    assert_eq!(server.get("/sessions/").status, 401);
}

#[test]
fn a_dashboard_folder_on_disk_replaces_the_embedded_copy() {
    let dir = std::env::temp_dir().join(format!("zenserver-dashboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>from disk</title>",
    )
    .unwrap();
    let server = Server::start_with(&["--dashboard-dir", dir.to_str().unwrap()]);
    let page = server.get("/dashboard/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("from disk"));
    assert!(page.header("content-security-policy").is_some());
    assert_eq!(server.get("/dashboard/app.js").status, 404);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A symbolic link in the folder once served whatever it pointed to:
/// `/dashboard/link/passwd` was `/etc/passwd`.
#[cfg(unix)]
#[test]
fn a_dashboard_folder_serves_only_the_files_inside_it() {
    let base = std::env::temp_dir().join(format!("zenserver-links-{}", std::process::id()));
    let dir = base.join("web");
    let outside = base.join("secret");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>inside</title>",
    )
    .unwrap();
    std::fs::write(dir.join("sub/page.js"), "export {};").unwrap();
    std::fs::write(dir.join(".hidden"), "hidden").unwrap();
    std::fs::write(outside.join("passwd"), "root:x:0:0").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("passwd"), dir.join("passwd.js")).unwrap();
    std::os::unix::fs::symlink(dir.join("sub/page.js"), dir.join("alias.js")).unwrap();
    let server = Server::start_with(&["--dashboard-dir", dir.to_str().unwrap()]);

    for path in [
        "/dashboard/link/passwd",
        "/dashboard/passwd.js",
        "/dashboard/.hidden",
        "/dashboard/sub/../../secret/passwd",
        "/dashboard/%2e%2e/secret/passwd",
        "/dashboard/link/",
    ] {
        let response = server.get(path);
        response.assert_problem(404, "no endpoint at");
        assert!(!response.text().contains("root:"), "{path}");
    }
    assert_eq!(server.get("/dashboard/sub/page.js").text(), "export {};");
    assert_eq!(
        server.get("/dashboard/alias.js").text(),
        "export {};",
        "a link that stays inside is fine"
    );
    assert!(server.get("/dashboard/").text().contains("inside"));
    drop(server);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn other_methods_get_405_with_allow_as_problems() {
    for args in [&[][..], &["--dashboard-dir", "../../web"][..]] {
        let server = Server::start_with(args);
        for path in ["/", "/dashboard", "/dashboard/", "/dashboard/app.js"] {
            let response = server.request("POST", path).send();
            response.assert_problem(405, "POST is not allowed here");
            assert_eq!(response.header("allow"), Some("GET"), "{path}");
        }
    }
}
