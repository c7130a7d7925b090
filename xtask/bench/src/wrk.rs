//! Running wrk and reading its figures.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

/// What a wrk run measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WrkResult {
    pub(crate) requests_per_second: f64,
}

/// Runs wrk against `url` with `connections` connections on 2 threads for
/// `duration`, with an optional Lua `script`.
pub(crate) fn run(
    url: &str,
    connections: usize,
    duration: Duration,
    script: Option<&Path>,
) -> anyhow::Result<WrkResult> {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{}s", duration.as_secs()),
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    command.arg(url);
    let output = command.output().context("cannot run wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed: {text}");
    }
    if let Some(line) = text
        .lines()
        .find(|line| line.contains("Non-2xx or 3xx responses"))
    {
        bail!("wrk got errors ({}) from {url}", line.trim());
    }
    let requests_per_second = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .context("wrk printed no Requests/sec")?
        .trim()
        .parse()?;
    Ok(WrkResult {
        requests_per_second,
    })
}

/// A Lua script that POSTs the bytes of a file written next to it, for
/// bodies a Lua string literal cannot hold (binary protobuf).
pub(crate) fn post_file_script(
    dir: &Path,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> anyhow::Result<std::path::PathBuf> {
    let body_path = dir.join(format!("{name}.body"));
    std::fs::write(&body_path, body)?;
    let path = dir.join(format!("{name}.lua"));
    let script = format!(
        "local file = io.open(\"{}\", \"rb\")\nwrk.method = \"POST\"\n\
         wrk.headers[\"Content-Type\"] = \"{content_type}\"\nwrk.body = file:read(\"*all\")\nfile:close()\n",
        body_path.display()
    );
    std::fs::write(&path, script)?;
    Ok(path)
}

/// A Lua script that POSTs `body` with `content_type`.
pub(crate) fn post_script(
    dir: &Path,
    name: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(format!("{name}.lua"));
    let script = format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"{content_type}\"\nwrk.body = {}\n",
        lua_string(body)
    );
    std::fs::write(&path, script)?;
    Ok(path)
}

/// A Lua script that POSTs `body` with `content_type` to each of `paths`
/// in turn.
pub(crate) fn post_rotating_script(
    dir: &Path,
    name: &str,
    paths: &[String],
    content_type: &str,
    body: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(format!("{name}.lua"));
    let paths: Vec<String> = paths.iter().map(|path| lua_string(path)).collect();
    let script = format!(
        "local paths = {{{}}}\nlocal headers = {{[\"Content-Type\"] = \"{content_type}\"}}\n\
         local body = {}\nlocal n = 0\nrequest = function()\n  n = n % #paths + 1\n  \
         return wrk.format(\"POST\", paths[n], headers, body)\nend\n",
        paths.join(", "),
        lua_string(body)
    );
    std::fs::write(&path, script)?;
    Ok(path)
}

/// `text` as a Lua string literal.
fn lua_string(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for c in text.chars() {
        match c {
            '\\' => literal.push_str("\\\\"),
            '"' => literal.push_str("\\\""),
            '\n' => literal.push_str("\\n"),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lua_string_keeps_quotes_backslashes_and_newlines() {
        assert_eq!(lua_string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }
}
