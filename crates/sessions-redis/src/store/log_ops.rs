//! The log half of the Redis store: appends, the budget all logs share,
//! reads and long polls.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use redis::{Cmd, Value};
use sessions_core::session_log::{AppendOutcome, EntrySink, NewEntry, ReadRequest, ReadSummary};
use sessions_core::{Limits, RegistryError, SessionId, check_batch};

use super::{Shared, malformed};
use crate::REPLICA_WAIT;
use crate::codec::{self, EncodedBatch, Malformed};
use crate::directory::LogState;
use crate::scripts::ENTRY_OVERHEAD_BYTES;

impl Shared {
    /// Appends `batches` to one session in one step, one after the other,
    /// and answers for each; the budget and the replicas are seen to once
    /// for them all.
    pub(crate) async fn append_batches(
        self: &Arc<Self>,
        id: SessionId,
        batches: Vec<EncodedBatch>,
    ) -> Result<Vec<AppendOutcome>, RegistryError> {
        let count = batches.len();
        let (answer, now) = self.append_step(id, batches).await?;
        let outcomes = match codec::status(&answer).map_err(malformed)? {
            (status, answers) if status == "ok" => {
                appended_outcomes(answers, count).map_err(malformed)?
            }
            (status, _) if status == "absent" => return Err(RegistryError::NotFound(id)),
            (status, _) if status == "ended" => return Err(RegistryError::Ended(id)),
            (status, what) if status == "error" => {
                let what = what
                    .first()
                    .map(codec::text)
                    .transpose()
                    .map_err(malformed)?;
                return Err(RegistryError::Unavailable(format!(
                    "session {id}: the append failed in Redis: {}",
                    what.unwrap_or_default()
                )));
            }
            (status, _) => {
                return Err(malformed(Malformed(format!("append answered {status}"))));
            }
        };
        let Some(last) = outcomes.last() else {
            return Ok(Vec::new());
        };
        let appended = outcomes
            .iter()
            .map(|batch| batch.outcome.appended as u64)
            .sum();
        let evicted = outcomes.iter().map(|batch| batch.outcome.evicted).sum();
        self.appended.fetch_add(appended, Ordering::Relaxed);
        self.evicted.fetch_add(evicted, Ordering::Relaxed);
        if appended > 0 {
            self.directory.log_appended(
                id,
                LogState {
                    first: last.first,
                    next: last.outcome.cursor + 1,
                    bytes: last.bytes,
                    updated: now,
                },
            );
        }
        if self.directory.counts().2 > self.limits.max_log_memory {
            // Before answering, as the memory store does: the appender
            // that went over the budget waits for it.
            Arc::clone(self).enforce_log_budget().await;
        }
        if self.replicas > 0 {
            self.wait_for_replicas(id).await?;
        }
        Ok(outcomes.into_iter().map(|batch| batch.outcome).collect())
    }

    /// Waits for `replicas` replicas to have the append just made, so that
    /// it survives a failover. When they do not within [`REPLICA_WAIT`],
    /// the append is refused as unavailable although the master has it: a
    /// client that sends it again may store it twice, which is the price
    /// of knowing.
    async fn wait_for_replicas(&self, id: SessionId) -> Result<(), RegistryError> {
        let key = self.keys.log(id);
        let answer = self
            .connection
            .wait_for_replicas(&key, self.replicas, REPLICA_WAIT)
            .await;
        let confirmed = self.answer(answer)?;
        if confirmed < u64::from(self.replicas) {
            return Err(RegistryError::Unavailable(format!(
                "the append reached {confirmed} of {} replicas within {} ms (--store-replicas); \
                 the master has it, and a failover may lose it",
                self.replicas,
                REPLICA_WAIT.as_millis()
            )));
        }
        Ok(())
    }

    /// Brings all logs together back within `max_log_memory`, down to
    /// `log_memory_target` as the memory store does: the ended sessions
    /// that ended longest ago are forgotten first, then the largest logs
    /// give up their oldest entries.
    /// The total is this node's view (every node's appends reach it as
    /// messages), so nodes over the budget at once may both evict: the
    /// budget holds, with at worst a little more evicted than needed.
    async fn enforce_log_budget(self: Arc<Self>) {
        if self.rebalancing.swap(true, Ordering::AcqRel) {
            return;
        }
        let target = self.limits.log_memory_target();
        let id_channel = self.keys.channel();
        let overhead = ENTRY_OVERHEAD_BYTES.to_string();
        // Bounded, so a view that never catches up cannot keep it busy.
        for _ in 0..10_000 {
            let total = self.directory.counts().2;
            if total <= target {
                break;
            }
            if let Some(ended) = self.directory.oldest_ended() {
                self.forget(ended).await;
                continue;
            }
            let Some(largest) = self.directory.largest_log() else {
                break;
            };
            let id_text = largest.to_string();
            let excess = (total - target).to_string();
            let answer = self
                .run(
                    &self.scripts.evict,
                    largest,
                    &[
                        id_text.as_bytes(),
                        id_channel.as_bytes(),
                        excess.as_bytes(),
                        overhead.as_bytes(),
                    ],
                )
                .await;
            let Ok(answer) = answer else { break };
            match codec::status(&answer) {
                Ok((status, [freed, evicted])) if status == "ok" => {
                    let evicted = codec::number(evicted).unwrap_or(0);
                    self.evicted.fetch_add(evicted, Ordering::Relaxed);
                    if codec::number(freed).unwrap_or(0) == 0 {
                        break;
                    }
                    // The directory learns the new size from the message;
                    // wait for it rather than evicting the same bytes twice.
                    self.refresh(largest).await;
                }
                Ok((status, _)) if status == "absent" => self.directory.remove(largest),
                _ => break,
            }
        }
        self.rebalancing.store(false, Ordering::Release);
    }

    /// Reads one session again into the directory.
    pub(crate) async fn refresh(self: &Arc<Self>, id: SessionId) {
        match Arc::clone(self).get(id).await {
            Ok(session) => self.directory.put(session),
            Err(RegistryError::NotFound(_)) => self.directory.remove(id),
            Err(_) => {}
        }
    }

    /// What a read finds: `first`, `next` and the entries. Reads by cursor
    /// and tails are one transaction of plain commands (`HMGET`, then
    /// `XRANGE` or `XREVRANGE`): a script would cost Redis five times
    /// what the range itself does, turning every entry into Lua values and
    /// back. Pages, and a cursor past the end (the log was reset), need
    /// `first` or `next` to know where to start, so the script does them
    /// in one step.
    pub(crate) async fn read(
        self: Arc<Self>,
        id: SessionId,
        request: ReadRequest,
    ) -> Result<FoundEntries, RegistryError> {
        let range = match request {
            // Stream ids are `0-seq`; Lua counts in doubles, exact up to
            // 2^53, and a cursor that far is past any log's end anyway.
            ReadRequest::After { cursor, limit } if cursor < 1 << 53 && limit > 0 => {
                Some((Range::From(cursor + 1), limit))
            }
            ReadRequest::Tail { count } if count > 0 => Some((Range::Newest, count)),
            _ => None,
        };
        if let Some((range, count)) = range {
            let found = self.read_range(id, range, count).await?;
            match request {
                ReadRequest::After { cursor, .. } if cursor >= found.next => {}
                _ => return Ok(found),
            }
        }
        self.read_by_script(id, request).await
    }

    async fn read_range(
        &self,
        id: SessionId,
        range: Range,
        count: usize,
    ) -> Result<FoundEntries, RegistryError> {
        let log = self.keys.log(id);
        let count = count.min(1 << 32);
        let mut transaction = redis::pipe();
        transaction
            .atomic()
            .cmd("HMGET")
            .arg(self.keys.session(id))
            .arg("first")
            .arg("next");
        match range {
            Range::From(seq) => transaction
                .cmd("XRANGE")
                .arg(log)
                .arg(format!("0-{seq}"))
                .arg("+"),
            Range::Newest => transaction.cmd("XREVRANGE").arg(log).arg("+").arg("-"),
        }
        .arg("COUNT")
        .arg(count);
        let answers: Vec<Value> = self.query_pipeline(&transaction).await?;
        let Ok::<[Value; 2], _>([positions, entries]) = answers.try_into() else {
            return Err(malformed(Malformed(
                "a read answered other than two results".into(),
            )));
        };
        let (first, next) = match codec::array(&positions).map_err(malformed)? {
            [Value::Nil, _] | [_, Value::Nil] => return Err(RegistryError::NotFound(id)),
            [first, next] => (
                codec::number(first).map_err(malformed)?,
                codec::number(next).map_err(malformed)?,
            ),
            _ => return Err(malformed(Malformed("HMGET answered no pair".into()))),
        };
        let mut entries = codec::into_array(entries).map_err(malformed)?;
        if let Range::Newest = range {
            entries.reverse();
        }
        Ok(FoundEntries {
            first,
            next,
            entries,
        })
    }

    async fn read_by_script(
        &self,
        id: SessionId,
        request: ReadRequest,
    ) -> Result<FoundEntries, RegistryError> {
        let (mode, position, limit) = match request {
            ReadRequest::After { cursor, limit } => ("after", cursor, limit),
            ReadRequest::Page { offset, limit } => ("page", offset, limit),
            ReadRequest::Tail { count } => ("tail", count as u64, count),
        };
        let position = position.min(1 << 53).to_string();
        let limit = limit.min(1 << 32).to_string();
        let answer = self
            .run(
                &self.scripts.read,
                id,
                &[mode.as_bytes(), position.as_bytes(), limit.as_bytes()],
            )
            .await?;
        let (first, next) = match codec::status(&answer).map_err(malformed)? {
            (status, [first, next, _]) if status == "ok" => (
                codec::number(first).map_err(malformed)?,
                codec::number(next).map_err(malformed)?,
            ),
            (status, _) if status == "absent" => return Err(RegistryError::NotFound(id)),
            (status, _) => {
                return Err(malformed(Malformed(format!("read answered {status}"))));
            }
        };
        // The entries are the last of the four values: taken, not copied.
        let entries = codec::into_array(answer)
            .ok()
            .and_then(|mut values| values.pop())
            .map(codec::into_array)
            .ok_or_else(|| malformed(Malformed("a read without entries".into())))?
            .map_err(malformed)?;
        Ok(FoundEntries {
            first,
            next,
            entries,
        })
    }

    /// Whether a long poll on `id` past `cursor` has anything to wait for.
    pub(crate) async fn worth_waiting(
        self: Arc<Self>,
        id: SessionId,
        cursor: u64,
    ) -> Result<bool, RegistryError> {
        let (next, ended): (Option<u64>, Option<String>) = self
            .query(
                Cmd::new()
                    .arg("HMGET")
                    .arg(self.keys.session(id))
                    .arg("next")
                    .arg("ended"),
            )
            .await?;
        let next = next.ok_or(RegistryError::NotFound(id))?;
        Ok(ended.is_none()
            && next.saturating_sub(1) <= cursor
            && !self.shutting_down.load(Ordering::Acquire))
    }
}

/// Where a plain read starts.
#[derive(Debug, Clone, Copy)]
enum Range {
    /// At this `seq`, or at the oldest entry kept if that is later.
    From(u64),
    /// The newest entries.
    Newest,
}

/// What a read found in Redis: the log's oldest `seq` and the one its next
/// entry will get, and the entries read, oldest first, still as Redis
/// answered them (they are decoded on the way to the sink, by the caller).
#[derive(Debug)]
pub(crate) struct FoundEntries {
    first: u64,
    next: u64,
    entries: Vec<Value>,
}

/// Hands the entries a read found to `sink`.
pub(crate) fn deliver(
    found: &FoundEntries,
    id: SessionId,
    request: ReadRequest,
    sink: &mut (dyn EntrySink + Send),
) -> Result<ReadSummary, RegistryError> {
    let FoundEntries {
        first,
        next,
        ref entries,
    } = *found;
    if first == 0 || first > next {
        return Err(malformed(Malformed(format!(
            "session {id}: a log from {first} to before {next}"
        ))));
    }
    let summary = ReadSummary::of(first, next, request);
    if entries.len() != summary.returned {
        return Err(malformed(Malformed(format!(
            "session {id}: a read found {} of {} entries",
            entries.len(),
            summary.returned
        ))));
    }
    sink.reserve(entries.len());
    for entry in entries {
        sink.entry(&codec::entry(entry).map_err(malformed)?);
    }
    Ok(summary)
}

/// What the append script answered for one batch.
struct AppendedBatch {
    outcome: AppendOutcome,
    /// The log's oldest `seq` and its bytes right after the batch.
    first: u64,
    bytes: usize,
}

/// The append script's answers, five numbers per batch.
fn appended_outcomes(answers: &[Value], batches: usize) -> Result<Vec<AppendedBatch>, Malformed> {
    if answers.len() != 5 * batches {
        return Err(Malformed(format!(
            "append answered {} numbers for {batches} batches",
            answers.len()
        )));
    }
    answers
        .chunks_exact(5)
        .map(|numbers| {
            let number = |at: usize| codec::number(&numbers[at]);
            Ok(AppendedBatch {
                outcome: AppendOutcome {
                    appended: number(0)? as usize,
                    cursor: number(1)?,
                    evicted: number(2)?,
                },
                first: number(3)?,
                bytes: number(4)? as usize,
            })
        })
        .collect()
}

/// The script arguments of a batch, checked against every limit first.
pub(crate) fn batch_arguments(
    entries: &[NewEntry],
    limits: &Limits,
) -> Result<EncodedBatch, RegistryError> {
    check_batch(entries, limits)?;
    Ok(EncodedBatch::new(entries))
}
