//! The server-side steps, as Lua scripts: each runs atomically in Redis and
//! touches only the keys of one session, which share a hash tag and so one
//! cluster slot (`KEYS[1]` the session hash, `KEYS[2]` its log stream).
//!
//! The session hash holds `appname`, `mode`, `jobid` (absent when none),
//! `metadata` (compact JSON), `created`, `updated`, `ended` (milliseconds;
//! `ended` absent while active), `server` (`1` or `0`), `beat` (a server
//! session's last heartbeat, milliseconds), and the log's
//! bookkeeping: `first` (the oldest retained `seq`), `next` (the `seq` the
//! next entry gets) and `bytes` (what the retained entries cost). The log is
//! a stream whose ids are `0-<seq>`, so `seq`s are the stream's own order,
//! with fields `t` (milliseconds), `l` (level), `m` (message) and, when
//! there is any, `d` (data as JSON).
//!
//! Every script that changes a session publishes it on the deployment's
//! channel in the same step: `S <id>` (read it again) or, for appends,
//! `L <id> <first> <next> <bytes> <updated>`, which is all the log summary
//! needs.

use redis::Script;

/// What a log entry costs against a log's byte budget in Redis: its
/// message and data, plus this much for the rest.
pub const ENTRY_OVERHEAD_BYTES: usize = 16;

/// ARGV: id, appname, mode, jobid, has jobid (`1`/`0`), metadata, now,
/// server (`1`/`0`), channel. Answers `{'ok'}` or `{'exists'}`.
const CREATE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 'appname', ARGV[2], 'mode', ARGV[3], 'metadata', ARGV[6],
  'created', ARGV[7], 'updated', ARGV[7], 'server', ARGV[8], 'first', 1, 'next', 1, 'bytes', 0)
if ARGV[5] == '1' then redis.call('HSET', KEYS[1], 'jobid', ARGV[4]) end
if ARGV[8] == '1' then redis.call('HSET', KEYS[1], 'beat', ARGV[7]) end
redis.call('PUBLISH', ARGV[9], 'S ' .. ARGV[1])
return {'ok'}
"#;

/// ARGV: id, now, channel, count of fields to set, then field and value
/// pairs, then fields to delete. Answers `{'ok', <hash as pairs>}`,
/// `{'absent'}` or `{'ended'}`.
const UPDATE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'absent'} end
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return {'ended'} end
local sets = tonumber(ARGV[4])
for i = 5, 4 + 2 * sets, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 5 + 2 * sets, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[1], 'updated', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'S ' .. ARGV[1])
return {'ok', redis.call('HGETALL', KEYS[1])}
"#;

/// Replaces the metadata if it is still what the caller merged its patch
/// into. ARGV: id, now, channel, metadata read, metadata merged. Answers
/// `{'ok', <hash>}`, `{'changed'}` (read it again and merge again),
/// `{'absent'}` or `{'ended'}`.
const REPLACE_METADATA: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'absent'} end
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then return {'ended'} end
if redis.call('HGET', KEYS[1], 'metadata') ~= ARGV[4] then return {'changed'} end
redis.call('HSET', KEYS[1], 'metadata', ARGV[5], 'updated', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'S ' .. ARGV[1])
return {'ok', redis.call('HGETALL', KEYS[1])}
"#;

/// ARGV: id, now, channel, idle before (milliseconds, or empty to end
/// whatever its last change), and for a server's own session either `own`
/// (its node stops) or the time (milliseconds) its node's last heartbeat
/// must be older than (the node died); empty for any other session.
/// Answers `{'ended', <hash>}` when this call ended it, `{'already',
/// <hash>}`, `{'busy'}` (changed since idle before, or its node beat
/// since), `{'server'}` or `{'absent'}`.
const END: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'absent'} end
if redis.call('HEXISTS', KEYS[1], 'ended') == 1 then
  return {'already', redis.call('HGETALL', KEYS[1])}
end
if redis.call('HGET', KEYS[1], 'server') == '1' then
  if ARGV[5] == '' then return {'server'} end
  if ARGV[5] ~= 'own' and tonumber(redis.call('HGET', KEYS[1], 'beat') or 0) >= tonumber(ARGV[5]) then
    return {'busy'}
  end
elseif ARGV[4] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'updated')) >= tonumber(ARGV[4]) then
  return {'busy'}
end
redis.call('HSET', KEYS[1], 'ended', ARGV[2], 'updated', ARGV[2])
redis.call('PUBLISH', ARGV[3], 'S ' .. ARGV[1])
return {'ended', redis.call('HGETALL', KEYS[1])}
"#;

/// A node's heartbeat on its own session. ARGV: now. Answers 1, or 0 when
/// the session is gone or was ended (by the other nodes, which took the
/// node for dead).
const BEAT: &str = r#"
if redis.call('HGET', KEYS[1], 'server') ~= '1' or redis.call('HEXISTS', KEYS[1], 'ended') == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'beat', ARGV[1])
return 1
"#;

/// Appends a batch, evicting the oldest entries as the log's caps require,
/// the batch's own included when it alone is over them. ARGV: id, now,
/// channel, max entries, max bytes, the overhead of an entry
/// ([`ENTRY_OVERHEAD_BYTES`]), then per entry: timestamp, level, message,
/// has data (`1`/`0`), data. Answers `{'ok', appended, cursor,
/// evicted, first, bytes}`, `{'absent'}` or `{'ended'}`.
const APPEND: &str = r#"
local meta = redis.call('HMGET', KEYS[1], 'first', 'next', 'bytes', 'ended')
if not meta[1] then return {'absent'} end
if meta[4] then return {'ended'} end
local first, nxt, bytes = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
local max_entries, max_bytes = tonumber(ARGV[4]), tonumber(ARGV[5])
local overhead = tonumber(ARGV[6])
-- Entries the entry cap alone will take: fetched as many at a time (up
-- to 64), so a full log taking one more entry reads one, not 64.
local by_count = math.max(0, (nxt - first) + (#ARGV - 6) / 5 - max_entries)
local oldest, taken = {}, 0
local function evict_oldest()
  if taken == #oldest then
    local wanted = math.min(64, math.max(1, by_count))
    oldest = redis.call('XRANGE', KEYS[2], '0-' .. first, '+', 'COUNT', wanted)
    taken = 0
  end
  taken = taken + 1
  by_count = by_count - 1
  bytes = bytes - cost_of(oldest[taken][2], overhead)
  first = first + 1
end
local appended = 0
for i = 7, #ARGV, 5 do
  local cost = overhead + #ARGV[i + 2] + #ARGV[i + 4]
  while nxt > first and (nxt - first >= max_entries or bytes + cost > max_bytes) do
    evict_oldest()
  end
  if ARGV[i + 3] == '1' then
    redis.call('XADD', KEYS[2], '0-' .. nxt, 't', ARGV[i], 'l', ARGV[i + 1], 'm', ARGV[i + 2],
      'd', ARGV[i + 4])
  else
    redis.call('XADD', KEYS[2], '0-' .. nxt, 't', ARGV[i], 'l', ARGV[i + 1], 'm', ARGV[i + 2])
  end
  nxt = nxt + 1
  bytes = bytes + cost
  appended = appended + 1
end
local evicted = first - tonumber(meta[1])
if evicted > 0 then redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. first) end
if appended > 0 then
  redis.call('HSET', KEYS[1], 'first', first, 'next', nxt, 'bytes', bytes, 'updated', ARGV[2])
  redis.call('PUBLISH', ARGV[3],
    'L ' .. ARGV[1] .. ' ' .. first .. ' ' .. nxt .. ' ' .. bytes .. ' ' .. ARGV[2])
end
return {'ok', appended, nxt - 1, evicted, first, bytes}
"#;

/// Evicts the oldest entries of a log until `bytes` are freed (or it is
/// empty), for the budget all logs share. ARGV: id, channel, bytes, the
/// overhead of an entry. Answers `{'ok', freed, evicted}` or `{'absent'}`.
const EVICT: &str = r#"
local meta = redis.call('HMGET', KEYS[1], 'first', 'next', 'bytes', 'updated')
if not meta[1] then return {'absent'} end
local first, nxt, bytes = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
local target, overhead = tonumber(ARGV[3]), tonumber(ARGV[4])
local start, freed = first, 0
while freed < target and nxt > first do
  local oldest = redis.call('XRANGE', KEYS[2], '0-' .. first, '+', 'COUNT', 64)
  for _, entry in ipairs(oldest) do
    if freed >= target then break end
    freed = freed + cost_of(entry[2], overhead)
    first = first + 1
  end
end
if first > start then
  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. first)
  redis.call('HSET', KEYS[1], 'first', first, 'bytes', bytes - freed)
  redis.call('PUBLISH', ARGV[2], 'L ' .. ARGV[1] .. ' ' .. first .. ' ' .. nxt .. ' '
    .. (bytes - freed) .. ' ' .. meta[4])
end
return {'ok', freed, first - start}
"#;

/// What a stored entry costs, from its fields: shared by the scripts that
/// evict.
const COST_OF: &str = r#"
local function cost_of(fields, overhead)
  local cost = overhead
  for i = 1, #fields, 2 do
    if fields[i] == 'm' or fields[i] == 'd' then cost = cost + #fields[i + 1] end
  end
  return cost
end
"#;

/// Reads a window of the log in one step with the bookkeeping it was taken
/// at. ARGV: `after`/`page`/`tail`, cursor or offset or count, limit. The
/// window is that of `ReadSummary::of`, which the caller computes again
/// from `first` and `next`. Answers `{'ok', first, next, entries}` or
/// `{'absent'}`.
const READ: &str = r#"
local meta = redis.call('HMGET', KEYS[1], 'first', 'next')
if not meta[1] then return {'absent'} end
local first, nxt = tonumber(meta[1]), tonumber(meta[2])
local total = nxt - first
local a, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local start, count
if ARGV[1] == 'after' then
  local after = a
  if a >= nxt then after = 0 end
  start = math.max(after + 1, first)
  count = math.min(nxt - start, limit)
elseif ARGV[1] == 'page' then
  local skip = math.min(a, total)
  start = first + skip
  count = math.min(limit, total - skip)
else
  count = math.min(a, total)
  start = first + total - count
end
local entries = {}
if count > 0 then
  entries = redis.call('XRANGE', KEYS[2], '0-' .. start, '+', 'COUNT', count)
end
return {'ok', first, nxt, entries}
"#;

/// The scripts, each loaded once per Redis node and run by its digest.
#[derive(Debug)]
pub(crate) struct Scripts {
    pub(crate) create: Script,
    pub(crate) update: Script,
    pub(crate) replace_metadata: Script,
    pub(crate) end: Script,
    pub(crate) beat: Script,
    pub(crate) append: Script,
    pub(crate) evict: Script,
    pub(crate) read: Script,
}

impl Scripts {
    pub(crate) fn new() -> Scripts {
        Scripts {
            create: Script::new(CREATE),
            update: Script::new(UPDATE),
            replace_metadata: Script::new(REPLACE_METADATA),
            end: Script::new(END),
            beat: Script::new(BEAT),
            append: Script::new(&format!("{COST_OF}{APPEND}")),
            evict: Script::new(&format!("{COST_OF}{EVICT}")),
            read: Script::new(READ),
        }
    }
}
