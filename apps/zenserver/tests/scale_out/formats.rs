//! What an earlier version left in Redis: logs written before entry costs
//! were kept beside the stream are still evicted exactly; so are entries
//! whose cost is read from the stream because it is too large to keep.

use zenserver_test_support::{RedisServer, unique_prefix};

use crate::outages::in_the_redis_pass;
use crate::{log_of, messages, node_on};

/// The cost of a text entry in the Redis store: its message and 16 bytes.
fn cost(line: &str) -> u64 {
    16 + line.len() as u64
}

#[test]
fn a_log_from_before_entry_costs_were_kept_evicts_exactly() {
    if !in_the_redis_pass() {
        return;
    }
    let redis = RedisServer::start().unwrap();
    let prefix = unique_prefix();
    let node = node_on(&redis, &prefix, &["--max-log-entries", "100"]);
    let id = node.create_session("upgraded");
    let log = format!("/sessions/{id}/log");
    let hash = format!("{prefix}:{{{id}}}:session");
    let costs = format!("{prefix}:{{{id}}}:costs");
    let field = |name: &str| -> u64 {
        redis
            .command(&["HGET", &hash, name])
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let old: Vec<String> = (1..=60).map(|n| format!("old {}", "o".repeat(n))).collect();
    assert_eq!(node.post_text(&log, &(old.join("\n") + "\n")).status, 200);
    // What an earlier version left: no costs, no `cbase`.
    redis.command(&["DEL", &costs]).unwrap();
    redis.command(&["HDEL", &hash, "cbase"]).unwrap();

    let new: Vec<String> = (1..=100)
        .map(|n| format!("new {}", "n".repeat(n % 37)))
        .collect();
    for chunk in new.chunks(7) {
        assert_eq!(node.post_text(&log, &(chunk.join("\n") + "\n")).status, 200);
    }
    let read = log_of(&node, &id, "offset=0&limit=1000");
    assert_eq!(
        messages(&read),
        new,
        "the old entries went first, all of them"
    );
    assert_eq!(field("first"), 61);
    assert_eq!(
        field("bytes"),
        new.iter().map(|line| cost(line)).sum::<u64>()
    );
    assert_eq!(field("cbase"), 61, "costs kept from the first new entry on");

    // An entry too large for its 3 bytes of cost is marked to be read
    // from the stream instead: as the first new entry is made to be here.
    let mark = "redis.call('SETRANGE', KEYS[1], 0, struct.pack('>I3', 16777215))";
    redis.command(&["EVAL", mark, "1", &costs]).unwrap();

    // Long after: the costs of evicted entries are let go, the count stays exact.
    let later: Vec<String> = (1..=3_000).map(|n| format!("later {n}")).collect();
    for chunk in later.chunks(50) {
        assert_eq!(node.post_text(&log, &(chunk.join("\n") + "\n")).status, 200);
    }
    let read = log_of(&node, &id, "offset=0&limit=1000");
    assert_eq!(messages(&read), later[2_900..]);
    assert_eq!(
        field("bytes"),
        later[2_900..].iter().map(|line| cost(line)).sum::<u64>()
    );
    // An integer reply, `:<n>`.
    let kept_costs: u64 = redis
        .command(&["STRLEN", &costs])
        .unwrap()
        .trim_start_matches(':')
        .parse()
        .unwrap();
    let dead = kept_costs / 3 - 100;
    assert!(dead < 1_024, "{dead} costs of evicted entries kept");
    assert_eq!(field("cbase") + kept_costs / 3, 60 + 100 + 3_000 + 1);
}
