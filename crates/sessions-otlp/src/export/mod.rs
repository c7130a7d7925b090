//! Applying an export request to a session store: sessions created on
//! first sight and kept up to date, records appended, refusals counted.

use jiff::Timestamp;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use sessions_core::session_log::{LogRing, NewEntry};
use sessions_core::{
    Limits, MAX_JSON_DEPTH, RegistryError, SessionId, SessionStore, SessionUpdate, json_depth,
};

use crate::{SessionMapping, map_record, map_resource};

/// What an export did: records appended, records refused, and, when some
/// were refused, a sentence saying why (for `partial_success`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportOutcome {
    pub accepted: u64,
    pub rejected: u64,
    /// Empty when nothing was refused.
    pub message: String,
}

/// Applies `request` to `store`, resource by resource, in order.
///
/// Each resource's session (see [`map_resource`]) is created when it does not
/// exist; when it does, a changed `service.name` or `zen.mode` updates it,
/// and resource attributes that are new or changed are merged into its
/// metadata (keys set by other means, such as `PUT`, stay). Then its records
/// are appended, in order, in batches within the batch limit.
///
/// Nothing fails the whole request. Records are refused, counted and
/// explained instead: all of a resource's records when its session cannot
/// take them (it has ended, it is the server's own, too many sessions are
/// active, its attributes are over the metadata limit); one record when its
/// body is over the message limit or it needs more than a whole log's byte
/// budget. Except when the store is unavailable: then the export stops there
/// with that error, so the exporter retries it (what was appended before
/// stays: OTLP exports are not transactions).
pub async fn export(
    store: &dyn SessionStore,
    request: &ExportLogsServiceRequest,
    now: Timestamp,
) -> Result<ExportOutcome, RegistryError> {
    let limits = store.limits();
    let mut refusals = Refusals::default();
    let mut accepted = 0;
    for resource_logs in &request.resource_logs {
        let mapping = map_resource(resource_logs.resource.as_ref(), limits);
        let id = mapping.id;
        match keep_session(store, mapping).await {
            Ok(()) => {}
            Err(error @ RegistryError::Unavailable(_)) => return Err(error),
            Err(error) => {
                refusals.add(record_count(resource_logs), session_refusal(id, error));
                continue;
            }
        }
        let mut entries = Vec::with_capacity(record_count(resource_logs));
        for scope_logs in &resource_logs.scope_logs {
            for record in &scope_logs.log_records {
                let entry = map_record(record, scope_logs.scope.as_ref(), now);
                match check_entry(&entry, limits) {
                    Ok(()) => entries.push(entry),
                    Err(reason) => refusals.add(1, reason),
                }
            }
        }
        for batch in entries.chunks(limits.max_batch_entries.max(1)) {
            match store.append(id, batch).await {
                Ok(outcome) => accepted += outcome.appended as u64,
                Err(error @ RegistryError::Unavailable(_)) => return Err(error),
                Err(error) => refusals.add(batch.len(), error.to_string()),
            }
        }
    }
    Ok(ExportOutcome {
        accepted,
        rejected: refusals.total,
        message: refusals.message(),
    })
}

/// Creates the session, or brings an active one up to date with the
/// resource, changing nothing when nothing changed.
async fn keep_session(
    store: &dyn SessionStore,
    mapping: SessionMapping,
) -> Result<(), RegistryError> {
    let SessionMapping {
        id,
        appname,
        mode,
        metadata,
    } = mapping;
    let session = match store.get(id).await {
        Ok(session) => session,
        Err(RegistryError::NotFound(_)) => {
            let create = SessionUpdate {
                appname: Some(appname),
                mode: Some(mode),
                jobid: None,
                metadata: Some(metadata),
            };
            return store.upsert(id, create).await.map(drop);
        }
        Err(error) => return Err(error),
    };
    if session.ended.is_some() {
        return Err(RegistryError::Ended(id));
    }
    // The server's own session logs the server; an exporter that picked
    // its id must not rename it.
    if session.server {
        return Err(RegistryError::ServerSession(id));
    }
    if session.appname != appname || session.mode != mode {
        let rename = SessionUpdate {
            appname: Some(appname),
            mode: Some(mode),
            ..SessionUpdate::default()
        };
        store.upsert(id, rename).await?;
    }
    let current = session.metadata.decode();
    let stale = metadata
        .iter()
        .any(|(key, value)| current.get(key) != Some(value));
    if stale {
        store.patch_metadata(id, &metadata).await?;
    }
    Ok(())
}

/// Why a session refused a resource's records, said for OTLP clients.
fn session_refusal(id: SessionId, error: RegistryError) -> String {
    match error {
        RegistryError::Ended(_) => format!(
            "session {id} has ended and takes no more records (a program that starts again needs another service.instance.id or process.pid)"
        ),
        RegistryError::ServerSession(_) => {
            format!("session {id} is the server's own and takes no exports")
        }
        RegistryError::Invalid(error) => {
            format!("the resource's attributes break a limit: {error}")
        }
        other => other.to_string(),
    }
}

fn check_entry(entry: &NewEntry, limits: &Limits) -> Result<(), String> {
    if entry.message.len() > limits.max_message_bytes {
        return Err(format!(
            "a body is over the message limit of {} bytes",
            limits.max_message_bytes
        ));
    }
    let data_depth = entry
        .data
        .as_ref()
        .map_or(0, |data| json_depth(data.as_json()));
    if data_depth > MAX_JSON_DEPTH {
        return Err(format!(
            "a record's attributes nest {data_depth} levels deep; the limit is {MAX_JSON_DEPTH}"
        ));
    }
    let data_bytes = entry.data.as_ref().map_or(0, |data| data.as_json().len());
    let cost = LogRing::max_entry_cost(entry.message.len(), data_bytes);
    if cost > limits.log.max_bytes() {
        return Err(format!(
            "a record needs more than a whole log may hold ({} bytes)",
            limits.log.max_bytes()
        ));
    }
    Ok(())
}

fn record_count(resource_logs: &ResourceLogs) -> usize {
    resource_logs
        .scope_logs
        .iter()
        .map(|scope_logs| scope_logs.log_records.len())
        .sum()
}

/// Refused records, counted by reason.
#[derive(Debug, Default)]
struct Refusals {
    total: u64,
    /// Distinct reasons in the order they first happened, with counts.
    reasons: Vec<(String, u64)>,
}

impl Refusals {
    /// Reasons named in the message; more are summed up.
    const MAX_REASONS: usize = 5;

    fn add(&mut self, records: usize, reason: String) {
        if records == 0 {
            return;
        }
        let records = records as u64;
        self.total += records;
        match self.reasons.iter_mut().find(|(known, _)| *known == reason) {
            Some((_, count)) => *count += records,
            None => self.reasons.push((reason, records)),
        }
    }

    /// `refused 3 log records: 2 because session … has ended; …`, or empty.
    fn message(&self) -> String {
        if self.total == 0 {
            return String::new();
        }
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .take(Refusals::MAX_REASONS)
            .map(|(reason, count)| format!("{count} because {reason}"))
            .collect();
        if self.reasons.len() > Refusals::MAX_REASONS {
            let rest: u64 = self.reasons[Refusals::MAX_REASONS..]
                .iter()
                .map(|(_, count)| count)
                .sum();
            parts.push(format!("{rest} for other reasons"));
        }
        let plural = if self.total == 1 { "" } else { "s" };
        format!(
            "refused {} log record{plural}: {}",
            self.total,
            parts.join(" | ")
        )
    }
}

#[cfg(test)]
mod tests;
