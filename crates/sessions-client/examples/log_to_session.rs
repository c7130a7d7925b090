//! The `log` backend in a ten-line program: run `zenserver`, then
//! `cargo run -p sessions-client --example log_to_session`, and watch the
//! session appear on the dashboard.

use sessions_client::{LoggerConfig, LoggerError, SessionLogger};

fn main() -> Result<(), LoggerError> {
    let logging = SessionLogger::install(LoggerConfig::new("log-example").mode("demo"))?;
    log::info!("hello from process {}", std::process::id());
    log::warn!(asset = "T_Rock_01", attempt = 2; "texture missing");
    println!("logged into session {}", logging.session_id());
    Ok(()) // Dropping `logging` sends what is left and ends the session.
}
