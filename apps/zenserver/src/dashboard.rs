//! Serving the dashboard: the copy of `web/` embedded at build time, or,
//! with `--dashboard-dir`, a folder on disk (for working on the dashboard
//! without rebuilding).
//!
//! Embedded files are answered with an ETag and `Cache-Control: no-cache`,
//! so browsers revalidate and get `304 Not Modified` until the binary
//! changes, and gzip-compressed when the browser accepts it.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use sessions_http::ApiError;

/// One embedded file.
#[derive(Debug)]
struct Asset {
    path: &'static str,
    content_type: &'static str,
    etag: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
}

static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/dashboard_assets.rs"));

/// Registers `/` (a redirect), `/dashboard` and everything under
/// `/dashboard/`.
pub(crate) fn configure(dir: Option<PathBuf>) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
    move |config| {
        config
            .route("/", web::get().to(|| redirect("/dashboard/")))
            .route("/dashboard", web::get().to(|| redirect("/dashboard/")));
        match dir {
            Some(dir) => {
                config.service(
                    actix_files::Files::new("/dashboard", dir)
                        .index_file("index.html")
                        .use_etag(true)
                        .default_handler(web::to(not_found)),
                );
            }
            None => {
                config.route("/dashboard/{path:.*}", web::get().to(embedded));
            }
        }
    }
}

async fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

async fn not_found(request: HttpRequest) -> HttpResponse {
    ApiError::NoRoute(request.path().chars().take(200).collect()).error_response()
}

async fn embedded(request: HttpRequest) -> HttpResponse {
    let path = request.match_info().get("path").unwrap_or_default();
    let path = if path.is_empty() { "index.html" } else { path };
    let Some(asset) = ASSETS.iter().find(|asset| asset.path == path) else {
        return not_found(request).await;
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::ETAG, asset.etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::VARY, "Accept-Encoding"));
    let unchanged = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| {
            tags.as_bytes()
                .split(|b| *b == b',')
                .any(|tag| tag.trim_ascii() == asset.etag.as_bytes())
        });
    if unchanged {
        return response.status(StatusCode::NOT_MODIFIED).finish();
    }
    response.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    ));
    match asset.gzip {
        Some(gzip) if accepts_gzip(&request) => response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gzip),
        _ => response.body(asset.body),
    }
}

fn accepts_gzip(request: &HttpRequest) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("gzip")
                && parts.all(|parameter| parameter.replace(' ', "") != "q=0")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_embedded() {
        let index = ASSETS
            .iter()
            .find(|asset| asset.path == "index.html")
            .expect("index.html");
        assert!(index.content_type.starts_with("text/html"));
        assert!(index.etag.starts_with('"') && index.etag.ends_with('"'));
        assert!(ASSETS.iter().any(|asset| asset.path.ends_with(".js")));
    }
}
