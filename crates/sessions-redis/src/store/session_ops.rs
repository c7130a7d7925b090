//! The session half of the Redis store: creating, updating and ending
//! sessions, and keeping a bounded history of ended ones.

use std::sync::Arc;

use jiff::Timestamp;
use redis::{Cmd, Value};
use sessions_core::{
    CompactMetadata, Metadata, NewSession, RegistryError, Session, SessionId, SessionUpdate,
    Upserted, encode_metadata, merge_patch_object, millisecond_now,
};

use super::{Shared, malformed};
use crate::codec::{self, Malformed};

/// Why a session is ended, which decides whether it may be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ending {
    /// A client asked (`DELETE`): any session but a server's own.
    Asked,
    /// `--session-ttl`: only if nothing changed it since `since`.
    Idle { since: Timestamp },
    /// This node stops: its own server session.
    OwnServer,
    /// Another node's server session, if that node's last heartbeat is
    /// older than `beat_before`.
    DeadServer { beat_before: Timestamp },
}

/// What one attempt to end a session found.
#[derive(Debug)]
pub(crate) enum EndOutcome {
    /// This call ended it.
    Ended(Session),
    /// It had ended before: by another call, maybe on another node.
    AlreadyEnded(Session),
    /// The rule of its `Ending` kept it: active since, or its node beat.
    Kept,
}

/// The outcome of one attempt to create a session.
enum Inserted {
    Created(Session),
    /// Someone created it first (an upsert racing another).
    Exists,
}

impl Shared {
    pub(crate) async fn create(
        self: Arc<Self>,
        session: NewSession,
        server: bool,
    ) -> Result<Session, RegistryError> {
        session.validate(&self.limits)?;
        let metadata = encode_metadata(&session.metadata, &self.limits)?;
        let id = self.minter.mint();
        match self.insert(id, session, metadata, server).await? {
            Inserted::Created(session) => Ok(session),
            // A freshly minted id is new everywhere.
            Inserted::Exists => Err(RegistryError::Unavailable(format!(
                "session {id} exists already"
            ))),
        }
    }

    /// Creates `id` within the cap on active sessions of all nodes
    /// together: the count is taken first and given back when the session
    /// is not made, so concurrent creates can fall short of the cap but
    /// never pass it.
    async fn insert(
        &self,
        id: SessionId,
        session: NewSession,
        metadata: CompactMetadata,
        server: bool,
    ) -> Result<Inserted, RegistryError> {
        let active_key = self.keys.active();
        let active: u64 = self.query(&Cmd::incr(&active_key, 1)).await?;
        let limit = self.limits.max_active_sessions;
        if active > limit as u64 {
            self.give_back_active().await;
            return Err(RegistryError::TooManyActiveSessions { limit });
        }
        let created = millisecond_now();
        let created_ms = created.as_millisecond().to_string();
        let id_text = id.to_string();
        // Indexed first, so a node that loads the directory meanwhile finds
        // it once it exists (an id without a session is skipped).
        let indexed = self
            .query::<()>(&Cmd::zadd(
                self.keys.index(),
                &id_text,
                created.as_millisecond(),
            ))
            .await;
        let answer = match indexed {
            Ok(()) => {
                self.run(
                    &self.scripts.create,
                    id,
                    &[
                        id_text.as_bytes(),
                        session.appname.as_bytes(),
                        session.mode.as_bytes(),
                        session.jobid.as_deref().unwrap_or("").as_bytes(),
                        if session.jobid.is_some() { b"1" } else { b"0" },
                        metadata.as_json().as_bytes(),
                        created_ms.as_bytes(),
                        if server { b"1" } else { b"0" },
                        self.keys.channel().as_bytes(),
                    ],
                )
                .await
            }
            Err(error) => Err(error),
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.give_back_active().await;
                return Err(error);
            }
        };
        let (status, _) = codec::status(&answer).map_err(malformed)?;
        if status != "ok" {
            self.give_back_active().await;
            return Ok(Inserted::Exists);
        }
        let session = Session {
            id,
            appname: session.appname,
            mode: session.mode,
            jobid: session.jobid,
            metadata,
            created,
            updated: created,
            ended: None,
            server,
            log: Default::default(),
        };
        self.directory.put(session.clone());
        Ok(Inserted::Created(session))
    }

    /// Returns a place under the cap taken by a create that did not happen
    /// or a session that ended. Should Redis be gone by then, the place
    /// stays taken until someone repairs the count: the cap errs on the
    /// side of holding.
    async fn give_back_active(&self) {
        let _ = self.query::<i64>(&Cmd::decr(self.keys.active(), 1)).await;
    }

    pub(crate) async fn upsert(
        self: Arc<Self>,
        id: SessionId,
        update: SessionUpdate,
    ) -> Result<Upserted, RegistryError> {
        update.validate(&self.limits)?;
        let metadata = match &update.metadata {
            Some(metadata) => Some(encode_metadata(metadata, &self.limits)?),
            None => None,
        };
        // Twice at most: a create that lost a race finds the session there.
        for _ in 0..2 {
            if let Some(session) = self.update_existing(id, &update, metadata.as_ref()).await? {
                return Ok(Upserted::Updated(session));
            }
            let new_session = update.clone().into_new_session()?;
            let metadata = metadata.clone().unwrap_or_default();
            if let Inserted::Created(session) =
                self.insert(id, new_session, metadata, false).await?
            {
                return Ok(Upserted::Created(session));
            }
        }
        Err(RegistryError::Unavailable(format!(
            "session {id} kept changing while it was being created"
        )))
    }

    /// Updates an existing active session; `None` when there is none.
    async fn update_existing(
        &self,
        id: SessionId,
        update: &SessionUpdate,
        metadata: Option<&CompactMetadata>,
    ) -> Result<Option<Session>, RegistryError> {
        let mut sets: Vec<(&str, &str)> = Vec::new();
        let mut deletes: Vec<&str> = Vec::new();
        if let Some(appname) = &update.appname {
            sets.push(("appname", appname));
        }
        if let Some(mode) = &update.mode {
            sets.push(("mode", mode));
        }
        match &update.jobid {
            Some(Some(jobid)) => sets.push(("jobid", jobid)),
            Some(None) => deletes.push("jobid"),
            None => {}
        }
        if let Some(metadata) = metadata {
            sets.push(("metadata", metadata.as_json()));
        }
        let now = millisecond_now().as_millisecond().to_string();
        let id_text = id.to_string();
        let channel = self.keys.channel();
        let count = sets.len().to_string();
        let mut args: Vec<&[u8]> = vec![
            id_text.as_bytes(),
            now.as_bytes(),
            channel.as_bytes(),
            count.as_bytes(),
        ];
        for (field, value) in &sets {
            args.push(field.as_bytes());
            args.push(value.as_bytes());
        }
        args.extend(deletes.iter().map(|field| field.as_bytes()));
        let answer = self.run(&self.scripts.update, id, &args).await?;
        match codec::status(&answer).map_err(malformed)? {
            (status, [hash]) if status == "ok" => self.keep(id, hash).map(Some),
            (status, _) if status == "absent" => Ok(None),
            (status, _) if status == "ended" => Err(RegistryError::Ended(id)),
            (status, _) => Err(malformed(Malformed(format!("update answered {status}")))),
        }
    }

    /// A session read from its hash, kept in the directory too.
    fn keep(&self, id: SessionId, hash: &Value) -> Result<Session, RegistryError> {
        let session = codec::session(id, hash).map_err(malformed)?;
        self.directory.put(session.clone());
        Ok(session)
    }

    pub(crate) async fn patch_metadata(
        self: Arc<Self>,
        id: SessionId,
        patch: Metadata,
    ) -> Result<Session, RegistryError> {
        let now = millisecond_now().as_millisecond().to_string();
        let id_text = id.to_string();
        let channel = self.keys.channel();
        // Merged here, replaced there only if nobody changed it meanwhile;
        // otherwise merged again from what is there now.
        for _ in 0..16 {
            let current: Option<String> = self
                .query(&Cmd::hget(self.keys.session(id), "metadata"))
                .await?;
            let current = current.ok_or(RegistryError::NotFound(id))?;
            let mut merged: Metadata = serde_json::from_str(&current)
                .map_err(|error| malformed(Malformed(error.to_string())))?;
            merge_patch_object(&mut merged, &patch);
            let merged = encode_metadata(&merged, &self.limits)?;
            let answer = self
                .run(
                    &self.scripts.replace_metadata,
                    id,
                    &[
                        id_text.as_bytes(),
                        now.as_bytes(),
                        channel.as_bytes(),
                        current.as_bytes(),
                        merged.as_json().as_bytes(),
                    ],
                )
                .await?;
            match codec::status(&answer).map_err(malformed)? {
                (status, [hash]) if status == "ok" => return self.keep(id, hash),
                (status, _) if status == "changed" => continue,
                (status, _) if status == "absent" => return Err(RegistryError::NotFound(id)),
                (status, _) if status == "ended" => return Err(RegistryError::Ended(id)),
                (status, _) => {
                    return Err(malformed(Malformed(format!("patch answered {status}"))));
                }
            }
        }
        Err(RegistryError::Unavailable(format!(
            "the metadata of session {id} kept changing while it was being patched"
        )))
    }

    /// Ends `id` as `ending` says. `Ok(None)` when it was not to be ended
    /// after all (busy since, or its node beat since).
    pub(crate) async fn end(
        self: Arc<Self>,
        id: SessionId,
        ending: Ending,
    ) -> Result<EndOutcome, RegistryError> {
        let now = millisecond_now();
        let now_ms = now.as_millisecond().to_string();
        let milliseconds = |time: Timestamp| time.as_millisecond().to_string();
        let (idle_before, server_rule) = match ending {
            Ending::Asked => (String::new(), String::new()),
            Ending::Idle { since } => (milliseconds(since), String::new()),
            Ending::OwnServer => (String::new(), "own".to_owned()),
            Ending::DeadServer { beat_before } => (String::new(), milliseconds(beat_before)),
        };
        let id_text = id.to_string();
        let channel = self.keys.channel();
        let answer = self
            .run(
                &self.scripts.end,
                id,
                &[
                    id_text.as_bytes(),
                    now_ms.as_bytes(),
                    channel.as_bytes(),
                    idle_before.as_bytes(),
                    server_rule.as_bytes(),
                ],
            )
            .await?;
        match codec::status(&answer).map_err(malformed)? {
            (status, [hash]) if status == "ended" => {
                let session = self.keep(id, hash)?;
                self.give_back_active().await;
                self.keep_history(id, now).await;
                Ok(EndOutcome::Ended(session))
            }
            (status, [hash]) if status == "already" => {
                self.keep(id, hash).map(EndOutcome::AlreadyEnded)
            }
            (status, _) if status == "busy" => Ok(EndOutcome::Kept),
            (status, _) if status == "server" => Err(RegistryError::ServerSession(id)),
            (status, _) if status == "absent" => Err(RegistryError::NotFound(id)),
            (status, _) => Err(malformed(Malformed(format!("end answered {status}")))),
        }
    }

    /// Records an ended session in the history and forgets the ones that
    /// ended longest ago beyond `max_ended_sessions`, logs and all.
    async fn keep_history(&self, id: SessionId, ended: Timestamp) {
        let ended_key = self.keys.ended();
        let recorded = self
            .query::<()>(&Cmd::zadd(
                &ended_key,
                id.to_string(),
                ended.as_millisecond(),
            ))
            .await;
        if recorded.is_err() {
            return;
        }
        let Ok(retained) = self.query::<usize>(&Cmd::zcard(&ended_key)).await else {
            return;
        };
        let excess = retained.saturating_sub(self.limits.max_ended_sessions);
        if excess == 0 {
            return;
        }
        let Ok(oldest) = self
            .query::<Vec<(String, f64)>>(&Cmd::zpopmin(&ended_key, excess as isize))
            .await
        else {
            return;
        };
        for (forgotten, _) in oldest {
            let Ok(forgotten) = forgotten.parse::<SessionId>() else {
                continue;
            };
            self.forget(forgotten).await;
        }
    }

    pub(crate) async fn forget(&self, id: SessionId) {
        let mut delete = Cmd::new();
        delete
            .arg("DEL")
            .arg(self.keys.session(id))
            .arg(self.keys.log(id))
            .arg(self.keys.costs(id));
        let _ = self.query::<()>(&delete).await;
        let _ = self
            .query::<()>(&Cmd::zrem(self.keys.index(), id.to_string()))
            .await;
        let _ = self
            .query::<()>(&Cmd::zrem(self.keys.ended(), id.to_string()))
            .await;
        let _ = self
            .query::<()>(&Cmd::publish(self.keys.channel(), format!("D {id}")))
            .await;
        self.directory.remove(id);
    }

    pub(crate) async fn get(self: Arc<Self>, id: SessionId) -> Result<Session, RegistryError> {
        let hash: Value = self.query(&Cmd::hgetall(self.keys.session(id))).await?;
        match &hash {
            Value::Array(pairs) if pairs.is_empty() => Err(RegistryError::NotFound(id)),
            Value::Map(pairs) if pairs.is_empty() => Err(RegistryError::NotFound(id)),
            _ => codec::session(id, &hash).map_err(malformed),
        }
    }
}
