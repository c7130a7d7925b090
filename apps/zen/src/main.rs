//! `zen`, the command line of zenserver Sessions: lists and shows sessions,
//! prints and follows their logs, appends to them from pipes, and runs any
//! command inside a session of its own.
//!
//! Everything goes through `sessions-client`; this binary only parses flags,
//! formats output and wires processes and pipes. Errors end the program with
//! one line on standard error and exit code 1; `zen run` exits with the
//! command's code instead. Output is written as raw bytes, and a reader that
//! goes away (`zen sessions log ID | head`) ends zen quietly.

mod append;
mod cli;
mod follow;
mod ids;
mod lines;
mod output;
mod run;
mod sessions;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser};
use sessions_client::{Client, ClientConfig};

use crate::cli::{Cli, Command, SessionsCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let text = match error.downcast_ref::<sessions_client::ClientError>() {
                Some(client_error) => client_error.to_string(),
                None => format!("{error:#}"),
            };
            follow::eprintln_quiet(&format!("zen: error: {text}"));
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let mut config = ClientConfig::new(&cli.server);
    if let Some(token) = &cli.token {
        config = config.with_token(token);
    }
    let client = || Client::new(config.clone());
    match cli.command {
        Command::Sessions { command } => {
            let client = client()?;
            match command {
                SessionsCommand::Ls(args) => sessions::ls(&client, &args)?,
                SessionsCommand::Show(args) => sessions::show(&client, &args)?,
                SessionsCommand::End(args) => sessions::end(&client, &args)?,
                SessionsCommand::Log(args) => follow::log(client, &args)?,
                SessionsCommand::Append(args) => append::append(&client, &args)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run(args) => Ok(run::run(config, &args)),
        Command::Completions { shell } => {
            // Generated into memory first: the generator panics on a closed
            // pipe, and `zen completions bash | head` must not.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "zen", &mut script);
            std::io::stdout().lock().write_all(&script)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
