import { LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'
import { NEXT_TOKEN } from './fenced-mutex.js'

/**
 * Redis TIME in ms, inside a script: every score below comes from the same clock as the locks'
 * own PX expiry, whatever the clocks of the instances say.
 */
const NOW = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`

/** The lock's value (`holder#token`) in `value`, or the script returns `otherwise` when ARGV[1] does not hold KEYS[1]. */
const HELD = (otherwise: string) => `local value = redis.call('GET', KEYS[1])
if not value or string.sub(value, 1, #ARGV[1] + 1) ~= ARGV[1] .. '#' then return ${otherwise} end`

/**
 * A holder's list lives at least `ms` more, never less than it already would: it may name a lock
 * that lives longer than the one just taken or extended. (A list without an expiry gets one.)
 */
const KEEP_LIST = `local function keepList(key, ms)
  local left = redis.call('PTTL', key)
  if left < ms then redis.call('PEXPIRE', key, ms) end
end`

/**
 * KEYS: lock, index, the holder's list. ARGV: holder, ttl ms, object id, the list's minimum
 * lifetime ms. The lock's value, or nil when not the holder's. The list lives at least as long as
 * the lock (never shortened: it may name a longer-lived lock).
 */
const EXTEND = `
${HELD('false')}
${NOW}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[2])), ARGV[3])
${KEEP_LIST}
keepList(KEYS[3], math.max(tonumber(ARGV[2]), tonumber(ARGV[4])))
return value`

/**
 * KEYS: lock, index, the holder's list. ARGV: holder, object id. 1 when released, 0 when not the
 * holder's; either way the object leaves the holder's list.
 */
const RELEASE = `
redis.call('SREM', KEYS[3], ARGV[2])
${HELD('0')}
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`

/** KEYS: index. The ids whose lock has not expired; the expired ones are dropped on the way. */
const LIVE = `
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
return redis.call('ZRANGE', KEYS[1], 0, -1)`

/**
 * Takes an object's lock for a holder in one step, within a limit of locks per holder.
 * KEYS: lock, fence counter, index, the holder's list (a set of object ids).
 * ARGV: holder, ttl ms, object id, most locks the holder may hold (0: no limit), the lock key of
 *       any object id is ARGV[5] .. id .. ARGV[6], the list's minimum lifetime ms, then the
 *       number of other lists that count towards the limit, and for each its key and the
 *       two parts of its locks' keys (the holder's locks of other patterns: claims on
 *       shipments and on refurbishment batches are one limit).
 * Returns { 'taken', token } (also when the holder held it already: extended, same token),
 * { 'held', holder, pttl } when another holder has it, { 'limit', held } at the limit.
 *
 * The lists' entries are checked against their locks here (an entry whose lock expired or went
 * to someone else is dropped), so the count and the new lock are one atomic step: parallel
 * attempts by one holder on any number of instances end with exactly the limit held. The locks
 * it reads are named from the pattern rather than passed as KEYS, so this needs a single Redis
 * (as every lock here does: they share one fencing counter). Object locks have no waiters'
 * queue: nobody waits for a claim, they take another shipment.
 */
const TAKE = `
local lock, fence, index, list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local holder, ttl, id, most = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
${NOW}
local mine = holder .. '#'
local function holds(value) return value and string.sub(value, 1, #mine) == mine end
${KEEP_LIST}
local function keep() keepList(list, math.max(ttl, tonumber(ARGV[7]))) end

local current = redis.call('GET', lock)
if holds(current) then
  redis.call('PEXPIRE', lock, ttl)
  redis.call('ZADD', index, string.format('%d', now + ttl), id)
  redis.call('SADD', list, id)
  keep()
  return { 'taken', string.sub(current, #mine + 1) }
end
if current then return { 'held', string.sub(current, 1, (string.find(current, '#[^#]*$') or 0) - 1), redis.call('PTTL', lock) } end

if most > 0 then
  local held = 0
  local function countList(key, before, after)
    for _, other in ipairs(redis.call('SMEMBERS', key)) do
      if holds(redis.call('GET', before .. other .. after)) then held = held + 1 else redis.call('SREM', key, other) end
    end
  end
  countList(list, ARGV[5], ARGV[6])
  for i = 0, tonumber(ARGV[8] or '0') - 1 do countList(ARGV[9 + 3 * i], ARGV[10 + 3 * i], ARGV[11 + 3 * i]) end
  if held >= most then return { 'limit', held } end
end

${NEXT_TOKEN}
redis.call('SET', lock, holder .. '#' .. string.format('%d', token), 'PX', ttl)
redis.call('ZADD', index, string.format('%d', now + ttl), id)
redis.call('SADD', list, id)
keep()
return { 'taken', string.format('%d', token) }`

const TAKE_SCRIPT = new LuaScript('tms-object-lock-take', TAKE, 4)
const EXTEND_SCRIPT = new LuaScript('tms-object-lock-extend-listed', EXTEND, 3)
const RELEASE_SCRIPT = new LuaScript('tms-object-lock-release-listed', RELEASE, 3)
const LIVE_SCRIPT = new LuaScript('tms-object-lock-live', LIVE, 1)

export type TakeResult =
  | { taken: true; token: number }
  | { taken: false; heldBy: string; expiresInMs: number }
  | { taken: false; limit: number }

/**
 * Which objects of one pattern are locked (the shipments agents have claimed): a sorted set of
 * object id → expiry ms, written in the same script that takes, extends or releases a lock, so
 * it never disagrees with the locks. Listing costs the number of live locks; finding them with
 * SCAN cost the size of the whole keyspace (every session, every job) on each agent's list of
 * pending shipments (`npm run bench:claims`, docs/benchmarks.md).
 */
export class ObjectLockIndex {
  constructor(
    private readonly redis: Redis,
    /** The sorted set's key. */
    readonly key: string,
  ) {}

  /** One attempt to take an object's lock, within `most` per holder (0: no limit). See TAKE. */
  async take(
    keys: { lock: string; fence: string; list: string },
    /** Any object's lock key is `before + id + after`: the script checks the list's entries with it. */
    [before, after]: [string, string],
    objectId: string,
    holder: string,
    options: {
      ttlMs: number
      most: number
      listMinTtlMs: number
      /** The holder's lists of other patterns that count towards `most`, each with its locks' key parts. */
      countWith?: ReadonlyArray<{ list: string; before: string; after: string }>
    },
  ): Promise<TakeResult> {
    const others = options.countWith ?? []
    const reply = await TAKE_SCRIPT.run<[string, string | number, number?]>(
      this.redis,
      [keys.lock, keys.fence, this.key, keys.list],
      [
        holder,
        options.ttlMs,
        objectId,
        options.most,
        before,
        after,
        options.listMinTtlMs,
        others.length,
        ...others.flatMap((other) => [other.list, other.before, other.after]),
      ],
    )
    if (reply[0] === 'taken') return { taken: true, token: Number(reply[1]) }
    if (reply[0] === 'held') return { taken: false, heldBy: String(reply[1]), expiresInMs: Number(reply[2]) }
    return { taken: false, limit: Number(reply[1]) }
  }

  /** Extends the holder's lock (and their list) to `ttlMs` from now; its value (`holder#token`), or null if not theirs. */
  async extend(
    lockKey: string,
    listKey: string,
    objectId: string,
    holder: string,
    options: { ttlMs: number; listMinTtlMs: number },
  ): Promise<string | null> {
    return EXTEND_SCRIPT.run<string | null>(
      this.redis,
      [lockKey, this.key, listKey],
      [holder, options.ttlMs, objectId, options.listMinTtlMs],
    )
  }

  /** Releases the holder's lock and drops it from their list; false when it is not (or no longer) theirs. */
  async release(lockKey: string, listKey: string, objectId: string, holder: string): Promise<boolean> {
    return (await RELEASE_SCRIPT.run<number>(this.redis, [lockKey, this.key, listKey], [holder, objectId])) === 1
  }

  async liveIds(): Promise<string[]> {
    return LIVE_SCRIPT.run<string[]>(this.redis, [this.key], [])
  }
}
