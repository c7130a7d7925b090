//! Commands and flags, with `--help` text and examples for each.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use jiff::Timestamp;
use sessions_client::{ClientConfig, Level, StatusFilter};

use self::values::{level_parser, parse_meta, parse_size, parse_when};
use crate::ids::SessionRef;

mod values;

/// The command line of zenserver Sessions: list, read and follow sessions,
/// append to their logs, and run any command inside a session of its own.
#[derive(Debug, Parser)]
#[command(name = "zen", version, long_about = None, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// The server's address.
    #[arg(
        long,
        global = true,
        env = "ZEN_SERVER",
        default_value = ClientConfig::DEFAULT_URL,
        value_name = "URL"
    )]
    pub(crate) server: String,

    /// The server's token, when it was started with one.
    #[arg(
        long,
        global = true,
        env = "ZEN_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub(crate) token: Option<String>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

const EXAMPLES: &str = "\
Examples:
  zen sessions ls                          the active sessions, as a table
  zen sessions log 01a21d8d9509f4c2eb5220fc -f
  zen run --app nightly-build -- make -j8   make, its output in a new session
  zen --server http://buildbox:8558 --token s3cret sessions ls --status all";

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List, show, end, read and append to sessions.
    #[command(after_help = SESSIONS_EXAMPLES)]
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Run a command in a new session: its output goes to the terminal as
    /// always and, line by line, into the session's log.
    Run(RunArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

const SESSIONS_EXAMPLES: &str = "\
Examples:
  zen sessions ls --status all
  zen sessions show 65a1f00dcafe0123456789ab
  zen sessions log 65a1f00dcafe0123456789ab --tail 50 --level warn
  make 2>&1 | zen sessions append 65a1f00dcafe0123456789ab";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  zen completions bash > ~/.local/share/bash-completion/completions/zen
  zen completions zsh > ~/.zfunc/_zen
  zen completions fish > ~/.config/fish/completions/zen.fish";

#[derive(Debug, Subcommand)]
pub(crate) enum SessionsCommand {
    /// List sessions: an aligned table, or one JSON object per line.
    #[command(after_help = "\
Examples:
  zen sessions ls
  zen sessions ls --status ended
  zen sessions ls --status all --json | grep build-agent")]
    Ls(LsArgs),
    /// Show one session: its properties, log counters and metadata.
    #[command(after_help = "\
Examples:
  zen sessions show 65a1f00dcafe0123456789ab
  zen sessions show 65a1f00dcafe0123456789ab --json")]
    Show(ShowArgs),
    /// End a session. It stays readable, with its log, among the ended ones.
    #[command(after_help = "\
Examples:
  zen sessions end 65a1f00dcafe0123456789ab")]
    End(EndArgs),
    /// Print a session's log, or follow it as it grows.
    #[command(after_help = "\
Examples:
  zen sessions log 65a1f00dcafe0123456789ab
  zen sessions log 65a1f00dcafe0123456789ab -f --tail 20
  zen sessions log 65a1f00dcafe0123456789ab --level warn --grep shader
  zen sessions log 65a1f00dcafe0123456789ab --level error --tail 5   the last 5 errors
  zen sessions log 65a1f0 --since 10m -o raw                         by id prefix; messages only
  zen sessions log 65a1f00dcafe0123456789ab --json | head -n 100

Lines read `TIMESTAMP LEVEL MESSAGE [DATA]` (-o pretty), the message alone
(-o raw) or the API's JSON (-o json, or --json). Levels are coloured on a
terminal only. --tail counts the entries that pass --level, --grep, --since
and --until. A line starting with `--` marks entries the server evicted
before they could be read. With -f, stop with Ctrl-C; following ends by
itself when the session ends.")]
    Log(LogArgs),
    /// Append the lines of standard input to a session's log.
    #[command(after_help = "\
Examples:
  make 2>&1 | zen sessions append 65a1f00dcafe0123456789ab
  zen sessions append 65a1f00dcafe0123456789ab --level warn < warnings.txt
  tail -f build.log | zen sessions append 65a1f00dcafe0123456789ab

Every non-blank line becomes one entry, sent in batches as it comes.")]
    Append(AppendArgs),
}

#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Which sessions to list.
    #[arg(long, value_enum, default_value_t = StatusArg::Active)]
    pub(crate) status: StatusArg,
    /// One JSON object per line, as the API writes sessions.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusArg {
    /// Active sessions, newest first.
    Active,
    /// Ended sessions the server still keeps, most recently ended first.
    Ended,
    /// Both, newest first.
    All,
}

impl StatusArg {
    pub(crate) fn filter(self) -> StatusFilter {
        match self {
            StatusArg::Active => StatusFilter::Active,
            StatusArg::Ended => StatusFilter::Ended,
            StatusArg::All => StatusFilter::All,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The session's id: 24 hex digits, or a unique prefix of 6 or more.
    pub(crate) id: SessionRef,
    /// The session as the API writes it, on one line.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EndArgs {
    /// The session's id: 24 hex digits, or a unique prefix of 6 or more.
    pub(crate) id: SessionRef,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// The session's id: 24 hex digits, or a unique prefix of 6 or more.
    pub(crate) id: SessionRef,
    /// Keep printing entries as they arrive, until Ctrl-C or the session ends.
    #[arg(short, long)]
    pub(crate) follow: bool,
    /// Start with the newest N entries instead of all of them, counting
    /// only those that pass --level and --grep.
    #[arg(long, value_name = "N")]
    pub(crate) tail: Option<usize>,
    /// Only entries at this level or above: debug, info, warn, error.
    #[arg(long, value_name = "LEVEL", ignore_case = true, value_parser = level_parser())]
    pub(crate) level: Option<Level>,
    /// Only entries whose message contains TEXT (case-sensitive).
    #[arg(long, value_name = "TEXT")]
    pub(crate) grep: Option<String>,
    /// One JSON object per entry, as the API writes them (-o json).
    #[arg(long, conflicts_with = "output")]
    pub(crate) json: bool,
    /// Only entries written at or after WHEN: a time ago (30s, 5m, 2h, 1d)
    /// or an RFC 3339 time (2026-12-01T09:00:00Z).
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub(crate) since: Option<Timestamp>,
    /// Only entries written at or before WHEN, as for --since.
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    pub(crate) until: Option<Timestamp>,
    /// How to print each entry.
    #[arg(short, long, value_enum, default_value_t = LogFormat::Pretty)]
    pub(crate) output: LogFormat,
    /// Print times in UTC (RFC 3339, as the API writes them). On a terminal
    /// times are local by default (the zone of TZ or /etc/localtime);
    /// elsewhere, in a pipe or a file, they are always UTC.
    #[arg(long)]
    pub(crate) utc: bool,
}

/// How `zen sessions log` prints an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// `TIMESTAMP LEVEL MESSAGE [DATA]`, levels coloured on a terminal.
    Pretty,
    /// The message alone, byte for byte.
    Raw,
    /// One JSON object per entry, as the API writes them.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The session's id: 24 hex digits, or a unique prefix of 6 or more.
    pub(crate) id: SessionRef,
    /// The level of every line: debug, info, warn, error.
    #[arg(
        long,
        value_name = "LEVEL",
        ignore_case = true,
        default_value_t = Level::Info,
        value_parser = level_parser()
    )]
    pub(crate) level: Level,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  zen run --app nightly-build --job 4711 -- make -j8
  zen run --app cook --mode batch --meta platform=Win64 --meta map=Arena -- ./cook.sh
  ZEN_SERVER=http://buildbox:8558 zen run -- cargo test   (appname: cargo)

zen announces the session on standard error before the command starts
(`zen: session ID DASHBOARD-URL`; -q leaves that out) and gives the command
ZEN_SESSION_ID and ZEN_SERVER in its environment, so tools it runs can log
into the same session.

Standard output lines are stored at info, standard error lines at warn; both
are echoed unchanged. Reading the output never waits for the server: lines
wait in a buffer of at most --buffer bytes and go out in large batches, so
while the server answers every line is stored, in order. If the server falls
further behind (or cannot be reached), the oldest waiting lines are given up,
marked in the log with their number, and the total is printed on standard
error. After the command ends zen sends the rest while the server takes it
(at most 60 s; if the server takes nothing for 10 s, only the last 1,000
lines are tried, for 5 s more). The session ends with `exit_code`,
`duration_ms` and `dropped_lines` in its metadata, and zen exits with the
command's exit code. When the server cannot be reached, the command runs all
the same, with one warning.

The command runs in a process group of its own. SIGINT, SIGTERM and SIGHUP
sent to zen are passed on to it (and everything it started); zen waits for
it, records `signal` and `forwarded_signal`, ends the session and exits as
the command did. After the command ended, a first signal makes zen send only
the last lines (2 s at most), a second ends zen at once. On a terminal the command has the terminal while it runs:
Ctrl-C and Ctrl-Z reach it as they would without zen, and its output goes
through a pseudo-terminal, so it keeps its colours and its stdout/stderr
order; the log then stores every line at info, without escape sequences
(--no-pty: pipes, as when zen's output is not a terminal). If zen is killed with
SIGKILL, the command ends at its next write (SIGPIPE), and the session stays
active until the server's --session-ttl ends it.")]
pub(crate) struct RunArgs {
    /// The session's appname [default: the command's file name].
    #[arg(long, value_name = "NAME")]
    pub(crate) app: Option<String>,
    /// Do not announce the session on standard error.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Pipes for the command's output even when zen's own output is a
    /// terminal (no pseudo-terminal): byte-exact, stdout and stderr apart.
    #[arg(long)]
    pub(crate) no_pty: bool,
    /// The session's mode.
    #[arg(long, value_name = "MODE", default_value = "run")]
    pub(crate) mode: String,
    /// The session's job id.
    #[arg(long, value_name = "JOB")]
    pub(crate) job: Option<String>,
    /// A metadata entry, KEY=VALUE (the value is kept as a string); repeat
    /// for more.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub(crate) meta: Vec<(String, String)>,
    /// Most memory the lines waiting for the server may take (units: KiB,
    /// MiB, GiB), besides up to 8 MiB per stream of output read but not yet
    /// cut into lines. When the server falls this far behind, the oldest
    /// waiting lines are given up, counted, and marked in the log where
    /// they were.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub(crate) buffer: usize,
    /// The command to run and its arguments, after `--`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub(crate) command: Vec<OsString>,
}

#[cfg(test)]
mod tests;
