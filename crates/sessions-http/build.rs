//! Embeds the dashboard (`web/`) into the binary: every file, its gzip
//! version when that is smaller, its content type and an ETag, as a table in
//! `$OUT_DIR/dashboard_assets.rs` that `src/dashboard.rs` includes, so the
//! server binary carries its dashboard.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let web = manifest.join("../../web");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed={}", web.display());

    let mut files = Vec::new();
    collect(&web, &web, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for (index, relative) in files.iter().enumerate() {
        let path = web.join(relative);
        let bytes = std::fs::read(&path).expect("a dashboard file is readable");
        let gzip = gzip(&bytes);
        let gzip_expr = if gzip.len() + 64 < bytes.len() {
            let gz_path = out.join(format!("asset-{index}.gz"));
            std::fs::write(&gz_path, &gzip).expect("OUT_DIR is writable");
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_owned()
        };
        let url_path = relative.replace('\\', "/");
        let _ = writeln!(
            table,
            "    Asset {{ path: {url_path:?}, content_type: {:?}, etag: \"\\\"{:016x}\\\"\", body: include_bytes!({:?}), gzip: {gzip_expr} }},",
            content_type(&url_path),
            fnv1a(&bytes),
            path.canonicalize()
                .expect("the file exists")
                .display()
                .to_string(),
        );
    }
    table.push(']');
    std::fs::write(out.join("dashboard_assets.rs"), table).expect("OUT_DIR is writable");
}

/// Files under `dir`, as paths relative to `root`. Hidden files are left out.
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().into_owned());
        }
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// A content hash for ETags: FNV-1a, 64 bits; collisions only cost a reload.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
