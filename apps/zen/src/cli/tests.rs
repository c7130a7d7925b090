//! The command line parses as documented, and completions know the values.

use clap::CommandFactory;
use clap::error::ErrorKind;

use super::*;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn completions_offer_the_level_names() {
    let mut script = Vec::new();
    clap_complete::generate(Shell::Bash, &mut Cli::command(), "zen", &mut script);
    let script = String::from_utf8(script).unwrap_or_default();
    assert!(script.contains("debug info warn error"), "{script}");
}

fn check(args: &[&str], expected: Result<&str, ErrorKind>) {
    let parsed = Cli::try_parse_from(args)
        .map(|cli| format!("{:?}", cli.command))
        .map_err(|error| error.kind());
    match expected {
        Ok(fragment) => assert!(
            parsed.as_ref().is_ok_and(|text| text.contains(fragment)),
            "{args:?}: {parsed:?}"
        ),
        Err(kind) => assert_eq!(parsed.unwrap_err(), kind, "{args:?}"),
    }
}

#[test]
fn commands_parse_as_documented() {
    check(
        &["zen", "sessions", "ls"],
        Ok("status: Active, json: false"),
    );
    check(
        &["zen", "sessions", "ls", "--status", "all", "--json"],
        Ok("status: All, json: true"),
    );
    check(
        &[
            "zen",
            "sessions",
            "log",
            "65A1F00DCAFE0123456789AB",
            "-f",
            "--tail",
            "5",
            "--level",
            "WARNING",
        ],
        Ok("follow: true, tail: Some(5), level: Some(Warn)"),
    );
    check(
        &[
            "zen", "run", "--app", "x", "--meta", "a=b=c", "--", "sh", "-c", "exit 3",
        ],
        Ok(r#"meta: [("a", "b=c")], buffer: 67108864, command: ["sh", "-c", "exit 3"]"#),
    );
    check(
        &["zen", "run", "--app", "x", "make", "-j8"],
        Ok(r#"command: ["make", "-j8"]"#),
    );
    check(
        &["zen", "run", "-q", "make"],
        Ok(r#"app: None, quiet: true"#),
    );
    check(
        &["zen", "sessions", "show", "65a1"],
        Err(ErrorKind::ValueValidation),
    );
    check(
        &["zen", "sessions", "log", "65a1f0", "-o", "raw"],
        Ok("since: None, until: None, output: Raw"),
    );
    check(
        &[
            "zen",
            "sessions",
            "log",
            "65a1f0",
            "--until",
            "2026-12-01T09:00:00Z",
        ],
        Ok("until: Some(2026-12-01T09:00:00Z)"),
    );
    for when in ["5", "5w", "m", "yesterday", "2026-13-01T00:00:00Z"] {
        check(
            &["zen", "sessions", "log", "65a1f0", "--since", when],
            Err(ErrorKind::ValueValidation),
        );
    }
    check(
        &["zen", "sessions", "log", "65a1f0", "--json", "-o", "raw"],
        Err(ErrorKind::ArgumentConflict),
    );
    check(
        &["zen", "sessions", "ls", "--status", "running"],
        Err(ErrorKind::InvalidValue),
    );
    check(
        &[
            "zen", "run", "--app", "x", "--meta", "novalue", "--", "true",
        ],
        Err(ErrorKind::ValueValidation),
    );
    check(
        &["zen", "run", "--app", "x"],
        Err(ErrorKind::MissingRequiredArgument),
    );
    check(
        &["zen", "run", "--app", "x", "--", "true"],
        Ok("buffer: 67108864"),
    );
    check(
        &[
            "zen", "run", "--app", "x", "--buffer", "256KiB", "--", "true",
        ],
        Ok("buffer: 262144"),
    );
    for size in ["", "12MB", "-1", "KiB", "99999999999GiB"] {
        check(
            &["zen", "run", "--app", "x", "--buffer", size, "--", "true"],
            Err(ErrorKind::ValueValidation),
        );
    }
}
