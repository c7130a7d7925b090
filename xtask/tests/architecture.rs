//! Keeps `docs/architecture.md` true: every file, module, type and function
//! it names must exist, and every crate and top-level folder must have its
//! paragraph in the code map. Renaming or moving code without updating the
//! document fails here, with the stale names listed.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Names the document may use that are defined outside the workspace.
const EXTERNAL_TYPES: &[&str] = &[
    // actix-web and bytes
    "App",
    "Bytes",
    "HttpServer",
    // opentelemetry-proto
    "AnyValue",
    "ExportLogsServiceRequest",
    "ExportLogsServiceResponse",
    // futures-util
    "StreamExt",
    // redis
    "ClusterClient",
    "ConnectionManager",
];

/// Document tokens with a slash that are not paths of this repository:
/// media types, build output, shell variables and store addresses.
const NOT_PATHS: &[&str] = &[
    "application/",
    "text/",
    "image/",
    "target/",
    "target",
    "$",
    "redis://",
    "redis+cluster://",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every file and folder of the repository, as paths relative to the root
/// with `/` separators, leaving out what is built, installed or hidden.
fn repository_paths() -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with('.')
                || matches!(
                    name.as_str(),
                    "target" | "node_modules" | "corpus" | "artifacts" | "coverage"
                )
            {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap();
            let relative = relative.to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                found.push(format!("{relative}/"));
                walk(root, &path, found);
            } else {
                found.push(relative);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root(), &root(), &mut found);
    found
}

/// The text of every source file: Rust, JavaScript, TOML, Python.
fn source_text(paths: &[String]) -> String {
    let mut text = String::new();
    for path in paths {
        let is_source = [".rs", ".js", ".mjs", ".toml", ".py"]
            .iter()
            .any(|extension| path.ends_with(extension));
        if is_source {
            text.push_str(&std::fs::read_to_string(root().join(path)).unwrap_or_default());
            text.push('\n');
        }
    }
    text
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `text` on its own, not as part of a longer name.
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// Whether `name` is defined as a type (Rust or JavaScript) or re-exported
/// under that name.
fn defines_type(text: &str, name: &str) -> bool {
    ["struct", "enum", "trait", "type", "union", "class"]
        .iter()
        .any(|keyword| has_word(text, &format!("{keyword} {name}")))
        || has_word(text, &format!("as {name}"))
}

/// Whether `name` is defined as a function or method (Rust or JavaScript).
fn defines_function(text: &str, name: &str) -> bool {
    has_word(text, &format!("fn {name}"))
        || has_word(text, &format!("function {name}"))
        || text.contains(&format!("  {name}("))
        || text.contains(&format!("async {name}("))
}

/// A document split into the backticked tokens of its prose and the text of
/// its code blocks, each with the folder of the `###` section it is in.
struct Document {
    prose: Vec<(String, String)>,
    code: Vec<(String, String)>,
    headings: Vec<String>,
}

fn read_document() -> Document {
    let text = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let mut document = Document {
        prose: Vec::new(),
        code: Vec::new(),
        headings: Vec::new(),
    };
    let mut section = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            document.code.push((section.clone(), line.to_owned()));
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            section = heading.trim_matches('`').trim_end_matches('/').to_owned();
            document.headings.push(section.clone());
            continue;
        }
        if line.starts_with("## ") {
            section.clear();
        }
        for (index, token) in line.split('`').enumerate() {
            if index % 2 == 1 && !token.is_empty() {
                document.prose.push((section.clone(), token.to_owned()));
            }
        }
    }
    document
}

/// Whether a document token names an existing path: from the root, from
/// the section's folder (or its `src/`), or as the tail of a path under the
/// section's folder (`stream.rs` in the `crates/sessions-http` section).
fn path_exists(paths: &[String], section: &str, token: &str) -> bool {
    let token = token.trim_end_matches('*').trim_end_matches('/');
    let scope = if section.is_empty() || !paths.contains(&format!("{section}/")) {
        String::new()
    } else {
        format!("{section}/")
    };
    paths.iter().any(|path| {
        let path = path.trim_end_matches('/');
        path == token
            || (path.starts_with(&scope) && path.ends_with(&format!("/{token}")))
            || (scope.is_empty() && path.ends_with(&format!("/{token}")))
    })
}

fn looks_like_path(token: &str) -> bool {
    if token.contains(' ') || token.starts_with('/') || token.starts_with('-') {
        return false;
    }
    if NOT_PATHS.iter().any(|prefix| token.starts_with(prefix)) {
        return false;
    }
    let has_extension = [
        ".rs", ".js", ".mjs", ".toml", ".md", ".yaml", ".py", ".txt", ".json", ".html", ".css",
    ]
    .iter()
    .any(|extension| token.ends_with(extension));
    has_extension || token.contains('/')
}

fn is_type_name(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && token.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `LogRing`, `SessionRegistry`: in code blocks, where single capitalized
/// words are prose, only names of two or more words are checked.
fn is_compound_type_name(token: &str) -> bool {
    let humps = token.split(|c: char| c.is_ascii_uppercase()).skip(1);
    is_type_name(token)
        && humps.clone().count() >= 2
        && humps.into_iter().all(|hump| !hump.is_empty())
}

fn is_snake_name(token: &str) -> bool {
    token.contains('_')
        && token.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && token
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a `a::b::c` path: the first part is a module, crate or type of
/// the workspace, the last a name that occurs in the source.
fn check_path_of_items(token: &str, paths: &[String], source: &str, stale: &mut BTreeSet<String>) {
    let token = token.split('(').next().unwrap_or(token);
    let parts: Vec<&str> = token.split("::").collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return;
    };
    let first_known = defines_type(source, first)
        || EXTERNAL_TYPES.contains(first)
        || has_word(source, &format!("mod {first}"))
        || paths
            .iter()
            .any(|path| path.ends_with(&format!("/{}/", first.replace('_', "-"))));
    if !first_known || !has_word(source, last) {
        stale.insert(token.to_owned());
    }
}

#[test]
fn every_name_in_the_architecture_document_exists() {
    let paths = repository_paths();
    let source = source_text(&paths);
    let document = read_document();
    let mut stale = BTreeSet::new();
    for (section, token) in &document.prose {
        let token = token.as_str();
        if token.contains("::") {
            check_path_of_items(token, &paths, &source, &mut stale);
        } else if looks_like_path(token) {
            if !path_exists(&paths, section, token) {
                stale.insert(format!("{token} (in {section:?})"));
            }
        } else if let Some(function) = token.strip_suffix("()") {
            if !defines_function(&source, function) {
                stale.insert(token.to_owned());
            }
        } else if is_type_name(token) {
            if !defines_type(&source, token) && !EXTERNAL_TYPES.contains(&token) {
                stale.insert(token.to_owned());
            }
        } else if is_snake_name(token) && !has_word(&source, token) {
            stale.insert(token.to_owned());
        }
    }
    for (_, line) in &document.code {
        for word in line.split(|c: char| !(is_word_char(c) || c == ':')) {
            let word = word.trim_matches(':');
            if word.contains("::") {
                check_path_of_items(word, &paths, &source, &mut stale);
            } else if is_compound_type_name(word)
                && !defines_type(&source, word)
                && !EXTERNAL_TYPES.contains(&word)
            {
                stale.insert(word.to_owned());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/architecture.md names what does not exist (renamed or moved?): {stale:#?}"
    );
}

#[test]
fn every_crate_and_top_level_folder_has_a_paragraph() {
    let paths = repository_paths();
    let document = read_document();
    let mut wanted: Vec<String> = paths
        .iter()
        .filter_map(|path| path.strip_suffix("/Cargo.toml"))
        .map(str::to_owned)
        .collect();
    // Top-level folders, except those that only hold crates (`crates/`,
    // `apps/`): each of their crates has its paragraph.
    let holds_only_crates = |folder: &str| {
        let mut children = paths.iter().filter(|path| {
            path.ends_with('/')
                && path.starts_with(folder)
                && path.len() > folder.len()
                && path[folder.len()..].matches('/').count() == 1
        });
        children.all(|child| paths.contains(&format!("{child}Cargo.toml")))
    };
    wanted.extend(
        paths
            .iter()
            .filter(|path| path.ends_with('/') && path.matches('/').count() == 1)
            .filter(|folder| !holds_only_crates(folder))
            .map(|path| path.trim_end_matches('/').to_owned()),
    );
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|name| !document.headings.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md has no `### \\`NAME\\`` paragraph for {missing:?}"
    );
    let not_folders: Vec<&String> = document
        .headings
        .iter()
        .filter(|heading| !paths.contains(&format!("{heading}/")))
        .collect();
    assert!(
        not_folders.is_empty(),
        "the code map has paragraphs for folders that do not exist: {not_folders:?}"
    );
}

#[test]
fn every_fuzz_target_is_described() {
    let document = read_document();
    let named: BTreeSet<&str> = document
        .prose
        .iter()
        .map(|(_, token)| token.as_str())
        .collect();
    let undescribed: Vec<String> = repository_paths()
        .iter()
        .filter_map(|path| path.strip_prefix("fuzz/fuzz_targets/"))
        .filter_map(|file| file.strip_suffix(".rs"))
        .filter(|target| !named.contains(target))
        .map(str::to_owned)
        .collect();
    assert!(
        undescribed.is_empty(),
        "docs/architecture.md does not describe the fuzz targets {undescribed:?}"
    );
}
