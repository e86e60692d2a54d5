import { LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'

/**
 * Redis TIME in ms, inside a script: every score below comes from the same clock as the locks'
 * own PX expiry, whatever the clocks of the instances say.
 */
const NOW = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`

/** The lock's value (`holder#token`) in `value`, or the script returns `otherwise` when ARGV[1] does not hold KEYS[1]. */
const HELD = (otherwise: string) => `local value = redis.call('GET', KEYS[1])
if not value or string.sub(value, 1, #ARGV[1] + 1) ~= ARGV[1] .. '#' then return ${otherwise} end`

/** KEYS: lock, index. ARGV: holder, ttl ms, object id. The lock's value, or nil when not the holder's. */
const EXTEND = `
${HELD('false')}
${NOW}
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[2])), ARGV[3])
return value`

/** KEYS: lock, index. ARGV: holder, object id. 1 when released, 0 when not the holder's. */
const RELEASE = `
${HELD('0')}
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1`

/** KEYS: index. The ids whose lock has not expired; the expired ones are dropped on the way. */
const LIVE = `
${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
return redis.call('ZRANGE', KEYS[1], 0, -1)`

const EXTEND_SCRIPT = new LuaScript('tms-object-lock-extend', EXTEND, 2)
const RELEASE_SCRIPT = new LuaScript('tms-object-lock-release', RELEASE, 2)
const LIVE_SCRIPT = new LuaScript('tms-object-lock-live', LIVE, 1)

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

  /** Extends the holder's lock to `ttlMs` from now; its value (`holder#token`), or null if not theirs. */
  async extend(lockKey: string, objectId: string, holder: string, ttlMs: number): Promise<string | null> {
    return EXTEND_SCRIPT.run<string | null>(this.redis, [lockKey, this.key], [holder, ttlMs, objectId])
  }

  /** Releases the holder's lock; false when it is not (or no longer) theirs. */
  async release(lockKey: string, objectId: string, holder: string): Promise<boolean> {
    return (await RELEASE_SCRIPT.run<number>(this.redis, [lockKey, this.key], [holder, objectId])) === 1
  }

  async liveIds(): Promise<string[]> {
    return LIVE_SCRIPT.run<string[]>(this.redis, [this.key], [])
  }
}
