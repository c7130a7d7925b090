//! Serving the dashboard: the copy of `web/` embedded at build time
//! (`build.rs`), or a folder on disk (the binary's `--dashboard-dir`, for
//! working on the dashboard without rebuilding). Every answer here is HTTP
//! like the API's: errors are problem+json, other methods get 405 with
//! `Allow`.
//!
//! Embedded files are answered with an ETag and `Cache-Control: no-cache`,
//! so browsers revalidate and get `304 Not Modified` until the binary
//! changes, and gzip-compressed when the browser accepts it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::ApiError;
use crate::handlers::method_not_allowed;

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

/// Where the dashboard's files are mounted.
pub(crate) const DASHBOARD_PATH: &str = "/dashboard";

/// The resource of every file under it.
pub(crate) const DASHBOARD_FILES: &str = "/dashboard/{path:.*}";

/// Registers `/` and `/dashboard` (redirects to `/dashboard/`) and every
/// file under `/dashboard/`: the embedded copy, or with `dir` the files of
/// that folder. Pass it to [`crate::connection_service`].
pub fn dashboard(dir: Option<PathBuf>) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
    // Resolved once: every file served must lie under this very path.
    let folder = dir.map(|dir| Arc::new(dir.canonicalize().unwrap_or(dir)));
    move |config| {
        for path in ["/", DASHBOARD_PATH] {
            config.service(
                web::resource(path)
                    .name(path)
                    .route(web::get().to(|| redirect("/dashboard/")))
                    .default_service(web::to(method_not_allowed("GET"))),
            );
        }
        let files = web::resource(DASHBOARD_FILES).name(DASHBOARD_FILES);
        let files = match folder {
            Some(folder) => files.route(
                web::get()
                    .to(move |request: HttpRequest| from_folder(request, Arc::clone(&folder))),
            ),
            None => files.route(web::get().to(embedded)),
        };
        config.service(files.default_service(web::to(method_not_allowed("GET"))));
    }
}

async fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .finish()
}

fn not_found(request: &HttpRequest) -> HttpResponse {
    ApiError::NoRoute(request.path().chars().take(200).collect()).error_response()
}

/// A file of the `--dashboard-dir` folder, through actix-files (content
/// type, ETag, ranges). Only regular files inside the folder are served:
/// a symbolic link that leads out of it (say, to `/etc/passwd`) is not
/// found, like a hidden file or a path with `..`.
async fn from_folder(request: HttpRequest, folder: Arc<PathBuf>) -> HttpResponse {
    let relative = request.match_info().get("path").unwrap_or_default();
    let Some(path) = file_inside(&folder, relative) else {
        return not_found(&request);
    };
    match actix_files::NamedFile::open(&path) {
        Ok(file) => {
            let mut response = file.use_last_modified(false).into_response(&request);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(_) => not_found(&request),
    }
}

/// The regular file `relative` names inside `folder` (its `index.html` for
/// a folder), if there is one: resolved through every link, and then still
/// inside `folder`, which is itself resolved.
fn file_inside(folder: &Path, relative: &str) -> Option<PathBuf> {
    let relative = relative.strip_suffix('/').unwrap_or(relative);
    let parts_are_plain = relative.is_empty()
        || relative
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains(['\\', '\0']));
    if !parts_are_plain {
        return None;
    }
    let mut path = folder.join(relative).canonicalize().ok()?;
    if path.is_dir() {
        path = path.join("index.html").canonicalize().ok()?;
    }
    let is_file = std::fs::metadata(&path).ok()?.is_file();
    (is_file && path.starts_with(folder)).then_some(path)
}

async fn embedded(request: HttpRequest) -> HttpResponse {
    let path = request.match_info().get("path").unwrap_or_default();
    let path = if path.is_empty() { "index.html" } else { path };
    let Some(asset) = ASSETS.iter().find(|asset| asset.path == path) else {
        return not_found(&request);
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
