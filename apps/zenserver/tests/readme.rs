//! The README's curl walk-through, run verbatim against the real binary (only
//! the port is changed), so it stays true.

#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;

use support::Server;

fn walk_through() -> String {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("## A walk-through with curl")
        .nth(1)
        .expect("the README has a walk-through");
    let block = section.split("```sh\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_owned()
}

#[test]
fn the_readme_starts_with_the_two_commands() {
    let readme = include_str!("../../../README.md");
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let commands: Vec<&str> = first_block
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .collect();
    assert_eq!(commands, ["cargo run -p zenserver", "cargo xtask test"]);
}

#[test]
fn the_curl_walk_through_works() {
    let available = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(available, "curl is needed to check the README");
    let server = Server::start();
    let script = walk_through().replace("127.0.0.1:8558", &format!("127.0.0.1:{}", server.port));
    let output = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !stdout.contains("about:blank"),
        "no command failed:\n{stdout}"
    );
    let session = server.get("/sessions/65a1f00dcafe0123456789ab").json();
    assert_eq!(session["status"], "ended");
    assert_eq!(
        session["metadata"],
        serde_json::json!({"project": "Lyra", "map": "Arena"})
    );
    let log = server.get("/sessions/65a1f00dcafe0123456789ab/log").json();
    let messages: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "compiling shaders",
            "shader cache is warm",
            "texture missing"
        ]
    );
    assert!(stdout.contains(r#""cursor":3"#));
}
