//! On a single Redis, appends to many sessions at once share scripts: each
//! still lands whole, in its writer's order, with its own answer, and a
//! session whose keys hold what the script cannot read fails alone.

use zenserver_test_support::{RedisServer, unique_prefix};

use crate::outages::in_the_redis_pass;
use crate::support::{Server, in_parallel};
use crate::{node_on, whole_log};

const SESSIONS: usize = 48;
const APPENDS: usize = 60;

/// How many scripts Redis has run (`INFO commandstats`).
fn scripts_run(redis: &RedisServer) -> u64 {
    let stats = redis.command(&["INFO", "commandstats"]).unwrap();
    stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |calls| calls.parse().unwrap())
}

/// The lines `writer` sends in its `append`th batch: one to three.
fn batch(writer: usize, append: usize) -> Vec<String> {
    (0..1 + (writer + append) % 3)
        .map(|k| format!("writer {writer} append {append} line {k}"))
        .collect()
}

/// `APPENDS` batches from each writer to its own session, all at once,
/// each answered 200 with its own count and cursor; `broken` names a
/// writer whose every append is to fail with 503 instead.
fn write_all(node: &Server, ids: &[String], broken: Option<usize>) {
    in_parallel(ids.len(), |writer| {
        let log = format!("/sessions/{}/log", ids[writer]);
        let mut cursor = 0;
        for append in 0..APPENDS {
            let lines = batch(writer, append);
            let response = node.post_text(&log, &(lines.join("\n") + "\n"));
            if broken == Some(writer) {
                response.assert_problem(503, "failed in Redis");
                continue;
            }
            assert_eq!(response.status, 200, "{}", response.text());
            let answer = response.json();
            cursor += lines.len() as u64;
            assert_eq!(answer["appended"], lines.len(), "{answer}");
            assert_eq!(answer["cursor"], cursor, "{answer}");
        }
    });
}

fn assert_whole(node: &Server, ids: &[String], writer: usize) {
    let expected: Vec<String> = (0..APPENDS)
        .flat_map(|append| batch(writer, append))
        .collect();
    assert_eq!(whole_log(node, &ids[writer]), expected, "writer {writer}");
}

#[test]
fn appends_to_many_sessions_at_once_share_scripts_and_each_lands_whole() {
    if !in_the_redis_pass() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let node = node_on(&redis, &unique_prefix(), &[]);
    let ids: Vec<String> = (0..SESSIONS)
        .map(|n| node.create_session(&format!("agent-{n}")))
        .collect();
    let before = scripts_run(&redis);
    write_all(&node, &ids, None);
    let scripts = scripts_run(&redis) - before;
    for writer in 0..SESSIONS {
        assert_whole(&node, &ids, writer);
    }
    // One writer per session never has two appends of its session waiting
    // at once, so fewer scripts than appends means scripts carried several
    // sessions. (The node's own log adds a few scripts of its own.)
    let appends = (SESSIONS * APPENDS) as u64;
    eprintln!("{appends} appends in {scripts} scripts");
    assert!(
        scripts < appends,
        "{appends} appends took {scripts} scripts"
    );
}

#[test]
fn a_session_whose_keys_cannot_be_read_fails_alone() {
    if !in_the_redis_pass() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let prefix = unique_prefix();
    let node = node_on(&redis, &prefix, &[]);
    let ids: Vec<String> = (0..SESSIONS)
        .map(|n| node.create_session(&format!("agent-{n}")))
        .collect();
    let broken = SESSIONS / 2;
    let hash = format!("{prefix}:{{{}}}:session", ids[broken]);
    redis.command(&["HSET", &hash, "first", "garbage"]).unwrap();
    write_all(&node, &ids, Some(broken));
    for writer in (0..SESSIONS).filter(|&writer| writer != broken) {
        assert_whole(&node, &ids, writer);
    }
}
