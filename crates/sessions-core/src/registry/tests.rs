//! Registry behaviour: lifecycle rules, limits, budgets, concurrency and waiting.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;
use sessions_log::{Level, NewEntry, ReadRequest, RingLimits};

use super::*;
use crate::ValidationError;

fn metadata(value: serde_json::Value) -> Metadata {
    match value {
        serde_json::Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// Entries appended and evicted, as the store reports them.
fn entry_totals(registry: &SessionRegistry) -> (u64, u64) {
    let stats = crate::SessionStore::stats(registry);
    (stats.entries_appended, stats.entries_evicted)
}

fn new_session(appname: &str) -> NewSession {
    NewSession {
        appname: appname.into(),
        mode: "test".into(),
        jobid: None,
        metadata: Metadata::new(),
    }
}

fn line(message: &str) -> NewEntry {
    NewEntry::new(Timestamp::UNIX_EPOCH, Level::Info, message)
}

fn messages(registry: &SessionRegistry, id: SessionId) -> Vec<String> {
    registry
        .read_log(
            id,
            ReadRequest::After {
                cursor: 0,
                limit: usize::MAX,
            },
            |read| {
                read.entries()
                    .map(|entry| entry.message.into_owned())
                    .collect()
            },
        )
        .unwrap()
}

#[test]
fn create_get_and_list() {
    let registry = SessionRegistry::new(Limits::default());
    let first = registry.create(new_session("first")).unwrap();
    let second = registry.create(new_session("second")).unwrap();
    assert!(first.id < second.id, "minted ids sort by creation");
    assert_eq!(registry.get(first.id).unwrap().appname, "first");
    let listed: Vec<_> = registry
        .list(StatusFilter::Active)
        .into_iter()
        .map(|s| s.appname)
        .collect();
    assert_eq!(listed, ["second", "first"], "newest created first");
    assert!(registry.list(StatusFilter::Ended).is_empty());
}

#[test]
fn upsert_creates_then_updates_only_what_is_given() {
    let registry = SessionRegistry::new(Limits::default());
    let id: SessionId = "65a1f00dcafe0123456789ab".parse().unwrap();
    let missing_mode = SessionUpdate {
        appname: Some("editor".into()),
        ..SessionUpdate::default()
    };
    assert_eq!(
        registry.upsert(id, missing_mode),
        Err(RegistryError::Invalid(ValidationError::MissingField(
            "mode"
        )))
    );
    let create = SessionUpdate {
        appname: Some("editor".into()),
        mode: Some("interactive".into()),
        jobid: Some(Some("job-1".into())),
        metadata: Some(metadata(json!({"a": 1}))),
    };
    let Ok(Upserted::Created(created)) = registry.upsert(id, create) else {
        panic!("expected a create");
    };
    assert_eq!(created.jobid.as_deref(), Some("job-1"));
    let update = SessionUpdate {
        mode: Some("batch".into()),
        jobid: Some(None),
        ..SessionUpdate::default()
    };
    let Ok(Upserted::Updated(updated)) = registry.upsert(id, update) else {
        panic!("expected an update");
    };
    assert_eq!(
        (
            updated.appname.as_str(),
            updated.mode.as_str(),
            updated.jobid
        ),
        ("editor", "batch", None)
    );
    assert_eq!(updated.metadata.decode(), metadata(json!({"a": 1})));
    assert!(updated.updated >= created.updated);
}

#[test]
fn ended_sessions_are_read_only_but_readable() {
    let registry = SessionRegistry::new(Limits::default());
    let id = registry.create(new_session("tool")).unwrap().id;
    registry.append(id, &[line("before the end")]).unwrap();
    let ended = registry.end(id).unwrap();
    assert!(ended.ended.is_some());
    assert_eq!(
        registry.end(id).unwrap(),
        ended,
        "ending again changes nothing"
    );
    assert_eq!(
        registry.append(id, &[line("late")]),
        Err(RegistryError::Ended(id))
    );
    assert_eq!(
        registry.patch_metadata(id, &Metadata::new()),
        Err(RegistryError::Ended(id))
    );
    assert_eq!(
        registry.upsert(id, SessionUpdate::default()),
        Err(RegistryError::Ended(id))
    );
    assert_eq!(messages(&registry, id), ["before the end"]);
    assert_eq!(registry.list(StatusFilter::Ended)[0].id, id);
    assert_eq!(registry.active_count(), 0);
}

#[test]
fn idle_sessions_are_ended_and_busy_ones_kept() {
    let registry = SessionRegistry::new(Limits::default());
    let server = registry
        .create_server_session(new_session("zenserver"))
        .unwrap()
        .id;
    let idle = registry.create(new_session("idle")).unwrap().id;
    let busy = registry.create(new_session("busy")).unwrap().id;
    let already_ended = registry.create(new_session("ended")).unwrap().id;
    registry.end(already_ended).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let cutoff = millisecond_now();
    std::thread::sleep(Duration::from_millis(5));
    registry.append(busy, &[line("still here")]).unwrap();

    let ended = registry.end_idle(cutoff);
    let ids: Vec<SessionId> = ended.iter().map(|s| s.id).collect();
    assert_eq!(ids, [idle], "only the idle one; never the server's own");
    assert!(ended[0].ended.is_some());
    assert_eq!(
        registry.get(busy).unwrap().status(),
        crate::SessionStatus::Active
    );
    assert_eq!(
        registry.get(server).unwrap().status(),
        crate::SessionStatus::Active
    );
    assert!(registry.end_idle(cutoff).is_empty(), "nothing twice");
}

#[test]
fn the_server_session_cannot_end() {
    let registry = SessionRegistry::new(Limits::default());
    let server = registry
        .create_server_session(new_session("zenserver"))
        .unwrap();
    assert!(server.server);
    assert_eq!(registry.server_session_id(), Some(server.id));
    assert_eq!(
        registry.end(server.id),
        Err(RegistryError::ServerSession(server.id))
    );
    let again = registry
        .create_server_session(new_session("other"))
        .unwrap();
    assert_eq!(again.id, server.id, "there is only one");
}

#[test]
fn active_sessions_are_capped() {
    let limits = Limits {
        max_active_sessions: 2,
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let first = registry.create(new_session("a")).unwrap().id;
    registry.create(new_session("b")).unwrap();
    assert_eq!(
        registry.create(new_session("c")),
        Err(RegistryError::TooManyActiveSessions { limit: 2 })
    );
    registry.end(first).unwrap();
    registry.create(new_session("c")).unwrap();
}

#[test]
fn ended_history_drops_the_oldest_first() {
    let limits = Limits {
        max_ended_sessions: 2,
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let ids: Vec<SessionId> = (0..3)
        .map(|i| registry.create(new_session(&format!("s{i}"))).unwrap().id)
        .collect();
    for id in &ids {
        registry.append(*id, &[line("x")]).unwrap();
        registry.end(*id).unwrap();
    }
    let ended: Vec<SessionId> = registry
        .list(StatusFilter::Ended)
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ended, [ids[2], ids[1]], "most recently ended first");
    assert_eq!(registry.get(ids[0]), Err(RegistryError::NotFound(ids[0])));
    let one_entry = LogRing::entry_cost(1, 0);
    assert_eq!(
        registry.log_memory(),
        2 * one_entry,
        "forgotten log released"
    );
}

#[test]
fn metadata_merge_patch_is_all_or_nothing() {
    let limits = Limits {
        max_metadata_bytes: 30,
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let mut session = new_session("a");
    session.metadata = metadata(json!({"keep": 1, "drop": 2}));
    let id = registry.create(session).unwrap().id;
    let patched = registry
        .patch_metadata(id, &metadata(json!({"drop": null, "new": {"x": 1}})))
        .unwrap();
    assert_eq!(
        patched.metadata.decode(),
        metadata(json!({"keep": 1, "new": {"x": 1}}))
    );
    let too_big = metadata(json!({"long": "0123456789"}));
    assert!(matches!(
        registry.patch_metadata(id, &too_big),
        Err(RegistryError::Invalid(
            ValidationError::MetadataTooLarge { .. }
        ))
    ));
    assert_eq!(registry.get(id).unwrap().metadata, patched.metadata);
}

#[test]
fn batches_are_all_or_nothing() {
    let limits = Limits {
        max_message_bytes: 5,
        max_batch_entries: 3,
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let id = registry.create(new_session("a")).unwrap().id;
    assert_eq!(
        registry.append(id, &[line("ok"), line("too long")]),
        Err(RegistryError::Invalid(ValidationError::MessageTooLong {
            index: 1,
            bytes: 8,
            limit: 5
        }))
    );
    assert!(matches!(
        registry.append(id, &[line("a"), line("b"), line("c"), line("d")]),
        Err(RegistryError::Invalid(ValidationError::TooManyEntries {
            count: 4,
            limit: 3
        }))
    ));
    assert!(messages(&registry, id).is_empty());
    let outcome = registry.append(id, &[line("a"), line("b")]).unwrap();
    assert_eq!((outcome.appended, outcome.cursor), (2, 2));
    assert_eq!(registry.get(id).unwrap().log.entries, 2);
}

#[test]
fn the_shared_budget_forgets_ended_sessions_then_trims_the_largest_log() {
    let entry = LogRing::entry_cost(10, 0);
    let limits = Limits {
        log: RingLimits::new(1_000, 1 << 20),
        max_log_memory: 10 * entry,
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let ten = vec![line("0123456789"); 4];
    let ended = registry.create(new_session("ended")).unwrap().id;
    registry.append(ended, &ten).unwrap();
    registry.end(ended).unwrap();
    let small = registry.create(new_session("small")).unwrap().id;
    registry.append(small, &ten[..2]).unwrap();
    let large = registry.create(new_session("large")).unwrap().id;
    registry.append(large, &ten).unwrap();
    assert_eq!(registry.log_memory(), 10 * entry, "exactly at the budget");

    registry.append(large, &ten[..1]).unwrap();
    assert_eq!(registry.get(ended), Err(RegistryError::NotFound(ended)));
    assert_eq!(registry.log_memory(), 7 * entry);

    // Each time over, the largest log goes back below the line, to
    // `log_memory_target` (a fraction of an entry under it here): the
    // whole entries that takes.
    registry.append(large, &ten).unwrap();
    registry.append(large, &ten).unwrap();
    assert!(registry.log_memory() <= limits.log_memory_target());
    assert_eq!(
        registry.get(small).unwrap().log.entries,
        2,
        "small log untouched"
    );
    let large_log = registry.get(large).unwrap().log;
    assert_eq!(large_log.entries, 7);
    assert_eq!(large_log.dropped, 13 - 7);
    assert_eq!(
        entry_totals(&registry),
        (4 + 2 + 4 + 1 + 4 + 4, 13 - 7),
        "evictions by the budget are counted; a forgotten session's entries are not"
    );
}

#[test]
fn over_the_budget_the_logs_go_back_below_its_line_so_the_next_appends_evict_nothing() {
    let limits = Limits {
        log: RingLimits::new(100_000, 1 << 30),
        max_log_memory: 64 << 10,
        ..Limits::default()
    };
    let margin = limits.max_log_memory - limits.log_memory_target();
    assert_eq!(margin, 1 << 10);
    let registry = SessionRegistry::new(limits);
    let id = registry.create(new_session("flood")).unwrap().id;
    let line = line(&"x".repeat(100));
    while entry_totals(&registry).1 == 0 {
        registry.append(id, std::slice::from_ref(&line)).unwrap();
    }
    assert!(
        registry.log_memory() <= limits.log_memory_target(),
        "the append that went over took the logs below the line by the margin"
    );
    // Finding what gives way walks every session; with the margin that
    // happens once per this many appends, not on each.
    let evicted = entry_totals(&registry).1;
    for _ in 0..margin / LogRing::max_entry_cost(100, 0) {
        registry.append(id, std::slice::from_ref(&line)).unwrap();
    }
    assert_eq!(entry_totals(&registry).1, evicted, "no append evicted");
    assert!(registry.log_memory() <= limits.max_log_memory);
}

#[test]
fn appends_to_different_sessions_run_in_parallel_and_batches_never_interleave() {
    let registry = Arc::new(SessionRegistry::new(Limits::default()));
    let shared = registry.create(new_session("shared")).unwrap().id;
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let registry = Arc::clone(&registry);
            std::thread::spawn(move || {
                let own = registry.create(new_session("own")).unwrap().id;
                for batch in 0..50 {
                    let entries: Vec<NewEntry> = (0..10)
                        .map(|i| line(&format!("{writer}:{batch}:{i}")))
                        .collect();
                    registry.append(shared, &entries).unwrap();
                    registry.append(own, &entries).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let all = messages(&registry, shared);
    assert_eq!(all.len(), 4 * 50 * 10);
    for batch in all.chunks(10) {
        let prefix = batch[0].rsplit_once(':').unwrap().0;
        for (i, message) in batch.iter().enumerate() {
            assert_eq!(message, &format!("{prefix}:{i}"), "a batch stays together");
        }
    }
}

#[test]
fn waiters_wake_on_append_and_on_end() {
    let registry = SessionRegistry::new(Limits::default());
    let id = registry.create(new_session("a")).unwrap().id;
    let waiter = registry
        .wait_for_log(id, 0)
        .unwrap()
        .expect("nothing to read yet");
    registry.append(id, &[line("wake up")]).unwrap();
    block_on_with_timeout(waiter);
    assert!(
        registry.wait_for_log(id, 0).unwrap().is_none(),
        "entry 1 is newer"
    );
    let waiter = registry
        .wait_for_log(id, 1)
        .unwrap()
        .expect("nothing newer than 1");
    registry.end(id).unwrap();
    block_on_with_timeout(waiter);
    assert!(registry.wait_for_log(id, 1).unwrap().is_none(), "ended");
}

#[test]
fn change_waiters_wake_on_any_visible_change() {
    let registry = SessionRegistry::new(Limits::default());
    let version = registry.change_version();
    let waiter = registry
        .wait_for_change(version)
        .expect("nothing changed yet");
    let id = registry.create(new_session("a")).unwrap().id;
    block_on_with_timeout(waiter);
    assert!(
        registry.wait_for_change(version).is_none(),
        "already changed"
    );
    type Change = fn(&SessionRegistry, SessionId);
    let changes: [Change; 3] = [
        |registry, id| drop(registry.append(id, &[line("x")])),
        |registry, id| drop(registry.patch_metadata(id, &Metadata::new())),
        |registry, id| drop(registry.end(id)),
    ];
    for change in changes {
        let waiter = registry.wait_for_change(registry.change_version()).unwrap();
        change(&registry, id);
        block_on_with_timeout(waiter);
    }
}

#[test]
fn shutting_down_wakes_waiters() {
    let registry = SessionRegistry::new(Limits::default());
    let id = registry.create(new_session("a")).unwrap().id;
    let waiter = registry.wait_for_log(id, 0).unwrap().unwrap();
    let list_waiter = registry.wait_for_change(registry.change_version()).unwrap();
    registry.shut_down();
    block_on_with_timeout(waiter);
    block_on_with_timeout(list_waiter);
    assert!(registry.wait_for_log(id, 0).unwrap().is_none());
    assert!(
        registry
            .wait_for_change(registry.change_version())
            .is_none()
    );
}

#[test]
fn validation_names_the_field() {
    let registry = SessionRegistry::new(Limits::default());
    assert_eq!(
        registry.create(new_session("")),
        Err(RegistryError::Invalid(ValidationError::EmptyAppname))
    );
    let mut long_mode = new_session("a");
    long_mode.mode = "m".repeat(257);
    assert_eq!(
        registry.create(long_mode),
        Err(RegistryError::Invalid(ValidationError::FieldTooLong {
            field: "mode",
            bytes: 257,
            limit: 256
        }))
    );
    assert_eq!(registry.active_count(), 0);
}

/// Polls `waiter` on this thread until it resolves, failing after a while.
fn block_on_with_timeout(waiter: Waiter) {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        futures_lite_block_on(waiter);
        let _ = sender.send(());
    });
    receiver
        .recv_timeout(Duration::from_secs(5))
        .expect("the waiter woke up");
}

/// A minimal executor: park the thread until the waker unparks it.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unparker(std::thread::Thread);
    impl Wake for Unparker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn entry_totals_count_appends_and_evictions_by_a_logs_own_cap() {
    let limits = Limits {
        log: RingLimits::new(3, 1 << 20),
        ..Limits::default()
    };
    let registry = SessionRegistry::new(limits);
    let id = registry.create(new_session("capped")).unwrap().id;
    registry
        .append(id, &[line("a"), line("b"), line("c"), line("d")])
        .unwrap();
    registry.append(id, &[line("e")]).unwrap();
    assert_eq!(entry_totals(&registry), (5, 2));
}
