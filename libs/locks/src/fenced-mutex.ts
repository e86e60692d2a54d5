import { LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'
import { Mutex } from 'redis-semaphore'
import { formatLockValue, parseLockValue } from './lock-value.js'

/**
 * One attempt, in one atomic step:
 *  - the waiters' queue is FIFO: while it has a live head, only that head may acquire;
 *  - acquiring takes the next fencing token in the same step, so tokens follow the order in
 *    which the lock was actually held (taking it in a separate call, before or after, lets a
 *    paused holder end up with a newer token than its successor);
 *  - the token counter starts from Redis TIME in microseconds, so tokens keep increasing even
 *    after Redis restarts empty, and storage never sees a token go backwards.
 * Returns the token (> 0); 0 when held and not queueing; -1 when another waiter is first and
 * not queueing; -(10 + place) for a queued waiter (place 0 = next in line).
 *
 * KEYS: lock, fence counter (one for all locks: no key per locked object is kept forever),
 *       queue (zset: ticket → arrival), liveness (hash: ticket → expiry ms), queue sequence
 * ARGV: holder, lock ttl ms, ticket ('' = no queue), mode ('try' | 'join' | 'queued'), ticket ttl ms
 * The lock's value becomes `<holder>#<token>`.
 */
/**
 * Lua: `token` becomes the next fencing token of the counter `fence`, started from Redis TIME in
 * microseconds when missing (needs `time`). Numbers in Redis' Lua are doubles printed with 14
 * digits; tokens have 16, so they are formatted as integers wherever they become strings.
 */
export const NEXT_TOKEN = `if redis.call('EXISTS', fence) == 0 then
    redis.call('SET', fence, string.format('%d', tonumber(time[1]) * 1000000 + tonumber(time[2])))
  end
  local token = redis.call('INCR', fence)`

const ACQUIRE = `
local lock, fence, queue, alive, seq = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local holder, ttl, ticket, mode, ticketTtl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

if mode == 'queued' then
  -- A waiter whose ticket lapsed (it stalled past the ticket's lifetime) rejoins at the back.
  if not redis.call('ZSCORE', queue, ticket) then redis.call('ZADD', queue, redis.call('INCR', seq), ticket) end
  redis.call('HSET', alive, ticket, now + ticketTtl)
end
local head
while true do
  head = redis.call('ZRANGE', queue, 0, 0)[1]
  if not head then break end
  if tonumber(redis.call('HGET', alive, head) or '0') >= now then break end
  redis.call('ZREM', queue, head)
  redis.call('HDEL', alive, head)
end

local mayTry = (not head) or (mode == 'queued' and head == ticket)
if mayTry and redis.call('SET', lock, holder, 'PX', ttl, 'NX') then
  if mode == 'queued' then
    redis.call('ZREM', queue, ticket)
    redis.call('HDEL', alive, ticket)
  end
  -- An empty queue leaves nothing behind (its zset and hash vanish with their last member).
  if not redis.call('ZRANGE', queue, 0, 0)[1] then redis.call('DEL', seq) end
  ${NEXT_TOKEN}
  redis.call('SET', lock, holder .. '#' .. string.format('%d', token), 'PX', ttl)
  return token
end

if mode == 'join' then
  redis.call('ZADD', queue, redis.call('INCR', seq), ticket)
  redis.call('HSET', alive, ticket, now + ticketTtl)
  redis.call('PEXPIRE', queue, ticketTtl * 4)
  redis.call('PEXPIRE', alive, ticketTtl * 4)
  redis.call('PEXPIRE', seq, ticketTtl * 4)
  return -(10 + redis.call('ZRANK', queue, ticket))
end
if mode == 'queued' then
  redis.call('PEXPIRE', queue, ticketTtl * 4)
  redis.call('PEXPIRE', alive, ticketTtl * 4)
  return -(10 + (redis.call('ZRANK', queue, ticket) or 0))
end
if head then return -1 end
return 0`

const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
return 1`

export interface LockKeys {
  /** The lock itself; its value is `<holder>#<fencing token>`. */
  lock: string
  /** The fencing token counter, shared by all locks. */
  fence: string
  queue: string
  alive: string
  seq: string
}

export type AttemptMode = 'try' | 'join' | 'queued'
export type AttemptResult = { acquired: true; token: number } | { acquired: false; queued: boolean; place: number }

const ACQUIRE_SCRIPT = new LuaScript('tms-lock-acquire', ACQUIRE, 5)
const LEAVE_SCRIPT = new LuaScript('tms-lock-leave', LEAVE, 3)

/**
 * redis-semaphore's Mutex, acquiring through the FIFO queue and taking a fencing token.
 * Refresh and release are redis-semaphore's own (compare-and-expire, compare-and-delete on the
 * lock's value). Its timer-driven refresh is disabled (`refreshInterval: 0`): a failing refresh
 * there becomes an unhandled rejection; `LockKeeper` refreshes instead, bounded in time.
 */
export class FencedMutex extends Mutex {
  readonly #redis: Redis
  readonly #keys: LockKeys
  readonly #holder: string
  readonly #ttlMs: number
  #attempt: { ticket: string; mode: AttemptMode; ticketTtlMs: number } = { ticket: '', mode: 'try', ticketTtlMs: 1000 }
  /** Set once acquired. */
  fencingToken = 0
  /** Why the last attempt failed. */
  lastAttempt: AttemptResult | undefined

  constructor(redis: Redis, keys: LockKeys, options: { holder: string; ttlMs: number; value?: string }) {
    super(redis, keys.lock, {
      lockTimeout: options.ttlMs,
      refreshInterval: 0,
      ...(options.value ? { identifier: options.value, acquiredExternally: true as const } : {}),
    })
    // redis-semaphore prefixes keys with "mutex:"; ours already live under the app's prefix.
    this._key = keys.lock
    this.#redis = redis
    this.#keys = keys
    this.#holder = options.holder
    this.#ttlMs = options.ttlMs
    if (options.value) this.fencingToken = parseLockValue(options.value).fencingToken
  }

  get key(): string {
    return this.#keys.lock
  }

  /** One attempt. `join` enqueues on failure; `queued` polls from the queue. */
  async attempt(mode: AttemptMode, ticket = '', ticketTtlMs = 1000): Promise<AttemptResult> {
    this.#attempt = { ticket, mode, ticketTtlMs }
    const acquired = await this.tryAcquire()
    return acquired ? { acquired: true, token: this.fencingToken } : this.lastAttempt!
  }

  async leaveQueue(ticket: string): Promise<void> {
    await LEAVE_SCRIPT.run(this.#redis, [this.#keys.queue, this.#keys.alive, this.#keys.seq], [ticket])
  }

  /** Extends the lock if this holder still holds it; false when it does not. */
  refresh(): Promise<boolean> {
    return this._refresh()
  }

  protected override async _acquire(): Promise<boolean> {
    const { ticket, mode, ticketTtlMs } = this.#attempt
    const k = this.#keys
    const keys = [k.lock, k.fence, k.queue, k.alive, k.seq]
    const args = [this.#holder, this.#ttlMs, ticket, mode, ticketTtlMs]
    const result = await ACQUIRE_SCRIPT.run<number>(this.#redis, keys, args)
    if (result > 0) {
      // The value the script wrote (lock-value.ts): what releasing and refreshing compare against.
      this.fencingToken = result
      this._identifier = formatLockValue(this.#holder, result)
      this.lastAttempt = { acquired: true, token: result }
      return true
    }
    const queued = result <= -10
    this.lastAttempt = { acquired: false, queued, place: queued ? -result - 10 : 0 }
    return false
  }
}
