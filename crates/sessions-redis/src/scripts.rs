//! The server-side steps, as Lua scripts: each runs atomically in Redis and
//! touches the keys of one session, which share a hash tag and so one
//! cluster slot (`KEYS[1]` the session hash, `KEYS[2]` its log stream,
//! `KEYS[3]` its log's entry costs). The append script alone may take
//! several sessions, three keys each, where Redis is not a cluster.
//!
//! The session hash holds `appname`, `mode`, `jobid` (absent when none),
//! `metadata` (compact JSON), `created`, `updated`, `ended` (milliseconds;
//! `ended` absent while active), `server` (`1` or `0`), `beat` (a server
//! session's last heartbeat, milliseconds), and the log's
//! bookkeeping: `first` (the oldest retained `seq`), `next` (the `seq` the
//! next entry gets), `bytes` (what the retained entries cost) and `cbase`
//! (the `seq` whose cost the costs string starts with). The log is a stream
//! whose ids are `0-<seq>`, so `seq`s are the stream's own order, with
//! fields `t` (milliseconds), `l` (level), `m` (message) and, when there is
//! any, `d` (data as JSON).
//!
//! What each entry costs against the byte cap is kept beside the stream, 3
//! bytes (big-endian) per entry in a string, so that evicting entries reads
//! 3 bytes each instead of the entries themselves (which took as long as
//! appending them). Entries appended before the costs were kept (an older
//! deployment's, `seq < cbase`), and the rare entry of 16 MiB or more, are
//! read from the stream when they are evicted.
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
  'created', ARGV[7], 'updated', ARGV[7], 'server', ARGV[8], 'first', 1, 'next', 1, 'bytes', 0,
  'cbase', 1)
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

/// Appends to the logs of one or more sessions, each its batches one after
/// the other, evicting the oldest entries as the log's caps require, a
/// batch's own included when it alone is over them. Several batches of one
/// session are the appends that arrived while its previous step ran: each
/// stays whole and in one piece, as if each had its own step. Several
/// sessions in one script are steps that waited for the one before them
/// (on a single Redis, where any keys may meet in one script).
///
/// `KEYS` are three per session. ARGV: now, channel, max entries, max
/// bytes, the overhead of an entry ([`ENTRY_OVERHEAD_BYTES`]), the number
/// of sessions, then per session the count of its arguments and those:
/// id, the number of batches, the number of entries in each, the layout of
/// all entries (one character each, see `EncodedBatch`), then the
/// entries' arguments. Answers, per session, `{'ok', <per batch: appended,
/// cursor, evicted, first, bytes>}`, `{'absent'}`, `{'ended'}` or
/// `{'error', <what went wrong>}`. Each log that moved is published in a
/// message of its own, as nodes of every version read them.
const APPEND: &str = r#"
local now, channel = ARGV[1], ARGV[2]
local max_entries, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
local overhead = tonumber(ARGV[5])
-- One session's step, its arguments from ARGV[a].
local function append_to(session, log, costs, a)
  local meta = redis.call('HMGET', session, 'first', 'next', 'bytes', 'ended', 'cbase')
  if not meta[1] then return {'absent'} end
  if meta[4] then return {'ended'} end
  local first, nxt, bytes = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
  local cbase = tonumber(meta[5] or nxt)
  local batches = tonumber(ARGV[a + 1])
  local layout = ARGV[a + 2 + batches]
  -- Entries the entry cap alone will take, to read their costs in one go.
  local by_count = math.max(0, (nxt - first) + #layout - max_entries)
  local appended_from, appended_costs = nxt, {}
  local cost_at = cost_reader(log, costs, cbase, appended_from, appended_costs, overhead)
  local answer = {'ok'}
  local entry, i = 1, a + 3 + batches
  local timestamp, level
  for batch = 1, batches do
    local size, first_before = tonumber(ARGV[a + 1 + batch]), first
    for _ = 1, size do
      local flags = string.byte(layout, entry) - 48
      if flags % 2 == 1 then timestamp = ARGV[i]; i = i + 1 end
      if flags % 4 >= 2 then level = ARGV[i]; i = i + 1 end
      local message, data = ARGV[i], nil
      i = i + 1
      if flags >= 4 then data = ARGV[i]; i = i + 1 end
      local cost = overhead + #message + (data and #data or 0)
      while nxt > first and (nxt - first >= max_entries or bytes + cost > max_bytes) do
        bytes = bytes - cost_at(first, by_count)
        first = first + 1
        by_count = by_count - 1
      end
      -- The first entry names its id, which proves the stream is where the
      -- bookkeeping says; the others take the next one.
      local stream_id = '0-*'
      if nxt == appended_from then stream_id = '0-' .. nxt end
      if data then
        redis.call('XADD', log, stream_id, 't', timestamp, 'l', level, 'm', message, 'd', data)
      else
        redis.call('XADD', log, stream_id, 't', timestamp, 'l', level, 'm', message)
      end
      appended_costs[#appended_costs + 1] = cost
      nxt = nxt + 1
      bytes = bytes + cost
      entry = entry + 1
    end
    for _, value in ipairs({size, nxt - 1, first - first_before, first, bytes}) do
      answer[#answer + 1] = value
    end
  end
  if nxt == appended_from then return answer end
  local packed = {}
  for k, cost in ipairs(appended_costs) do packed[k] = packed_cost(cost) end
  redis.call('APPEND', costs, table.concat(packed))
  if first > tonumber(meta[1]) then
    redis.call('XTRIM', log, 'MINID', '0-' .. first)
    cbase = compact_costs(costs, cbase, first, nxt)
  end
  redis.call('HSET', session, 'first', first, 'next', nxt, 'bytes', bytes, 'updated', now,
    'cbase', cbase)
  redis.call('PUBLISH', channel,
    'L ' .. ARGV[a] .. ' ' .. first .. ' ' .. nxt .. ' ' .. bytes .. ' ' .. now)
  return answer
end
local answers, a = {}, 7
for s = 1, tonumber(ARGV[6]) do
  -- A session whose keys hold what this script cannot read fails alone,
  -- not the others that share its script.
  local ran, answer = pcall(append_to, KEYS[3 * s - 2], KEYS[3 * s - 1], KEYS[3 * s], a + 1)
  if not ran then
    answer = {'error', type(answer) == 'table' and answer.err or tostring(answer)}
  end
  answers[s] = answer
  a = a + 1 + tonumber(ARGV[a])
end
return answers
"#;

/// Evicts the oldest entries of a log until `bytes` are freed (or it is
/// empty), for the budget all logs share. ARGV: id, channel, bytes, the
/// overhead of an entry. Answers `{'ok', freed, evicted}` or `{'absent'}`.
const EVICT: &str = r#"
local meta = redis.call('HMGET', KEYS[1], 'first', 'next', 'bytes', 'updated', 'cbase')
if not meta[1] then return {'absent'} end
local first, nxt, bytes = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3])
local cbase = tonumber(meta[5] or nxt)
local target, overhead = tonumber(ARGV[3]), tonumber(ARGV[4])
local cost_at = cost_reader(KEYS[2], KEYS[3], cbase, nxt, {}, overhead)
local start, freed = first, 0
while freed < target and nxt > first do
  freed = freed + cost_at(first, 256)
  first = first + 1
end
if first > start then
  redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. first)
  cbase = compact_costs(KEYS[3], cbase, first, nxt)
  redis.call('HSET', KEYS[1], 'first', first, 'bytes', bytes - freed, 'cbase', cbase)
  redis.call('PUBLISH', ARGV[2], 'L ' .. ARGV[1] .. ' ' .. first .. ' ' .. nxt .. ' '
    .. (bytes - freed) .. ' ' .. meta[4])
end
return {'ok', freed, first - start}
"#;

/// The costs of a log's entries, shared by the scripts that evict.
/// `cost_reader` answers the cost of the entry `seq`, reading the costs
/// string `ahead` entries at a time (16 to 256); entries appended in this
/// very step (from `appended_from`) are in `appended`, and those from
/// before costs were kept, or too large for 3 bytes (`0xffffff`), are
/// read from the stream. `packed_cost` is an entry's 3 bytes.
/// `compact_costs` drops the costs of evicted entries once they outweigh
/// the live ones, so the string stays within twice the log (amortised, a
/// copy of 3 bytes per entry), and answers the new `cbase`.
const COSTS: &str = r#"
local READ_THE_ENTRY = 16777215
local function packed_cost(cost)
  return struct.pack('>I3', math.min(cost, READ_THE_ENTRY))
end
local function cost_reader(log, costs, cbase, appended_from, appended, overhead)
  local window, window_from = '', 0
  local function cost_in_stream(seq)
    local entry = redis.call('XRANGE', log, '0-' .. seq, '0-' .. seq)[1]
    local cost = overhead
    for i = 1, #entry[2], 2 do
      if entry[2][i] == 'm' or entry[2][i] == 'd' then cost = cost + #entry[2][i + 1] end
    end
    return cost
  end
  return function(seq, ahead)
    if seq >= appended_from then return appended[seq - appended_from + 1] end
    if seq < cbase then return cost_in_stream(seq) end
    local at = seq - window_from
    if at < 0 or 3 * at >= #window then
      local offset = 3 * (seq - cbase)
      local count = math.max(16, math.min(256, ahead))
      window = redis.call('GETRANGE', costs, offset, offset + 3 * count - 1)
      window_from, at = seq, 0
    end
    local cost = struct.unpack('>I3', window, 3 * at + 1)
    if cost == READ_THE_ENTRY then return cost_in_stream(seq) end
    return cost
  end
end
local function compact_costs(costs, cbase, first, nxt)
  local dead = first - cbase
  if dead < 1024 or dead <= nxt - first then return cbase end
  redis.call('SET', costs, redis.call('GETRANGE', costs, 3 * dead, -1))
  return first
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
            append: Script::new(&format!("{COSTS}{APPEND}")),
            evict: Script::new(&format!("{COSTS}{EVICT}")),
            read: Script::new(READ),
        }
    }
}
