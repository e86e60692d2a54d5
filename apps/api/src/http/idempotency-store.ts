import { createHash } from 'node:crypto'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { type Keyspace, LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'

/** Answers up to this size are kept as they are: every answer the web app gets is far smaller. */
export const PLAIN_ANSWER_MAX_BYTES = 8 * 1024
/**
 * Larger answers are kept deflated when that fits in this (1,000 rejections of a registration,
 * 229 KB, deflate to about 4 KB); larger still, only their status and digest (a summary).
 */
export const DEFLATED_ANSWER_MAX_BYTES = 32 * 1024

export interface AnswerLimits {
  /** Keys one principal's answers may hold at once; past it the principal's oldest answers go. */
  maxKeys: number
  /** Bytes one principal's answers may hold at once, likewise. */
  maxBytes: number
  /** How long a finished answer is kept. */
  ttlMs: number
  /** How long a key stays "in progress" when its instance dies before answering. */
  inProgressMs: number
}

/** The first request with a key: in progress until it is answered. */
interface InProgress {
  state: 'in-progress'
  fingerprint: string
}

/** A finished answer: as sent, deflated (`deflated`: base64), or only its status and digest (`summary`). */
export interface Done {
  state: 'done'
  fingerprint: string
  status: number
  contentType: string | null
  body: string
  deflated?: string
  summary?: { bytes: number; sha256: string }
}

export type Entry = InProgress | Done

export type Claim =
  | { claimed: true }
  | { claimed: false; entry: Entry | null }
  /** The principal holds its most answers, all of them still in progress: nothing could make room. */
  | { claimed: false; full: true }

/*
 * Per principal, beside its entries (`<prefix>idem:<principal>:<key>`, as before): a ledger
 * (sorted set) of its keys by the time each was last written, and the bytes of each key (a hash;
 * negative while the key is in progress) with their total ('#'). Keys are only [A-Za-z0-9_-], so
 * `<principal>:#ledger` and `<principal>:#bytes` are never an entry's. Every script claims,
 * stores or frees in one step with the bounds, so instances (or fifty requests at once) never
 * hold more than the bounds together.
 *
 * Making room drops the principal's oldest finished answers first (its own replays are what it
 * loses, nobody else's), never a key in progress (a request in flight: dropping it would let a
 * retry do the write twice) unless it is older than the in-progress time (its instance died),
 * and forgets what expired on its own.
 */
const MAKE_ROOM = `
local function now()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function forget(key)
  local size = tonumber(redis.call('HGET', KEYS[3], key) or '0')
  redis.call('HDEL', KEYS[3], key)
  redis.call('ZREM', KEYS[2], key)
  redis.call('HINCRBY', KEYS[3], '#', -math.abs(size))
end
local function total() return tonumber(redis.call('HGET', KEYS[3], '#') or '0') end
local function fits(maxKeys, maxBytes, bytes)
  return redis.call('ZCARD', KEYS[2]) + 1 <= maxKeys and total() + bytes <= maxBytes
end
-- The time (ms) when there is room for one more key of \`bytes\`, or false.
local function makeRoom(maxKeys, maxBytes, ttl, inProgress, prefix, bytes)
  local t = now()
  for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', t - ttl, 'LIMIT', 0, 100)) do forget(key) end
  local from = 0
  while not fits(maxKeys, maxBytes, bytes) do
    local oldest = redis.call('ZRANGE', KEYS[2], from, from + 49, 'WITHSCORES')
    if #oldest == 0 then return false end
    local freed = false
    for i = 1, #oldest, 2 do
      local key, at = oldest[i], tonumber(oldest[i + 1])
      if tonumber(redis.call('HGET', KEYS[3], key) or '0') >= 0 or at <= t - inProgress then
        redis.call('DEL', prefix .. key)
        forget(key)
        freed = true
        if fits(maxKeys, maxBytes, bytes) then return t end
      end
    end
    -- Only keys in flight there: look past them.
    if not freed then from = from + 50 end
  end
  return t
end
`

/**
 * KEYS: the entry, the principal's ledger, its sizes.
 * ARGV: the in-progress value, maxKeys, maxBytes, ttl ms, in-progress ms, entry key prefix, key.
 * Returns {'claimed'}, {'exists', value}, or {'full'}.
 */
const CLAIM = `${MAKE_ROOM}
local existing = redis.call('GET', KEYS[1])
if existing then return {'exists', existing} end
local value, key = ARGV[1], ARGV[7]
local t = makeRoom(tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], #value)
if not t then return {'full'} end
redis.call('SET', KEYS[1], value, 'PX', ARGV[5])
redis.call('ZADD', KEYS[2], t, key)
redis.call('HSET', KEYS[3], key, -#value)
redis.call('HINCRBY', KEYS[3], '#', #value)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return {'claimed'}`

/**
 * KEYS: as CLAIM. ARGV: the answer, maxKeys, maxBytes, ttl ms, in-progress ms, prefix, key.
 * Replaces the in-progress value with the answer, if the key is still this request's (a key
 * freed meanwhile is not brought back). 1 stored; 0 not (then the key is free).
 */
const STORE = `${MAKE_ROOM}
if not redis.call('GET', KEYS[1]) then return 0 end
local value, key = ARGV[1], ARGV[7]
forget(key)
local t = makeRoom(tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], #value)
if not t then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], t, key)
redis.call('HSET', KEYS[3], key, #value)
redis.call('HINCRBY', KEYS[3], '#', #value)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1`

/** KEYS: as CLAIM. ARGV: key. The key is freed (a 5xx: the retry does the write). */
const FREE = `${MAKE_ROOM}
redis.call('DEL', KEYS[1])
forget(ARGV[1])
return 1`

const CLAIM_SCRIPT = new LuaScript('tms-idempotency-claim', CLAIM, 3)
const STORE_SCRIPT = new LuaScript('tms-idempotency-store', STORE, 3)
const FREE_SCRIPT = new LuaScript('tms-idempotency-free', FREE, 3)

/**
 * Where answers to writes with an `Idempotency-Key` are kept, per principal, within bounds: one
 * account sending fresh keys cannot fill Redis (and with `noeviction`, which BullMQ needs, a
 * full Redis stops every login, session, claim and job).
 */
export class IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    /** `<prefix>idem:`: entries, and each principal's ledger and sizes beside them. */
    private readonly keyspace: Keyspace,
    private readonly limits: AnswerLimits,
  ) {}

  #keys(principal: string, key: string): [string, string, string] {
    return [this.keyspace.key(principal, key), this.keyspace.key(principal, '#ledger'), this.keyspace.key(principal, '#bytes')]
  }

  #args(value: string, principal: string, key: string): Array<string | number> {
    const { maxKeys, maxBytes, ttlMs, inProgressMs } = this.limits
    return [value, maxKeys, maxBytes, ttlMs, inProgressMs, this.keyspace.key(principal, ''), key]
  }

  /** Takes the key for this request, or says what holds it. */
  async claim(principal: string, key: string, fingerprint: string): Promise<Claim> {
    const value = JSON.stringify({ state: 'in-progress', fingerprint } satisfies InProgress)
    const [outcome, stored] = await CLAIM_SCRIPT.run<[string, string?]>(
      this.redis,
      this.#keys(principal, key),
      this.#args(value, principal, key),
    )
    if (outcome === 'claimed') return { claimed: true }
    if (outcome === 'full') return { claimed: false, full: true }
    return { claimed: false, entry: stored ? (JSON.parse(stored) as Entry) : null }
  }

  /** Keeps the answer (in the form its size calls for); false when the key was freed meanwhile or nothing fit. */
  async store(
    principal: string,
    key: string,
    answer: { fingerprint: string; status: number; contentType: string | null; body: string },
  ): Promise<boolean> {
    const value = JSON.stringify(compact(answer))
    const stored = await STORE_SCRIPT.run<number>(this.redis, this.#keys(principal, key), this.#args(value, principal, key))
    return stored === 1
  }

  async free(principal: string, key: string): Promise<void> {
    await FREE_SCRIPT.run(this.redis, this.#keys(principal, key), [key])
  }

  /** What the principal's answers hold now: keys and bytes (their own accounting). */
  async usage(principal: string): Promise<{ keys: number; bytes: number }> {
    const [, ledger, sizes] = this.#keys(principal, '')
    const [keys, bytes] = await Promise.all([this.redis.zcard(ledger), this.redis.hget(sizes, '#')])
    return { keys, bytes: Number(bytes ?? 0) }
  }
}

/** An answer in the smallest form that still replays it; a summary past DEFLATED_ANSWER_MAX_BYTES. */
export function compact(answer: { fingerprint: string; status: number; contentType: string | null; body: string }): Done {
  const bytes = Buffer.byteLength(answer.body)
  if (bytes <= PLAIN_ANSWER_MAX_BYTES) return { state: 'done', ...answer }
  const deflated = deflateRawSync(answer.body).toString('base64')
  if (deflated.length <= DEFLATED_ANSWER_MAX_BYTES) return { state: 'done', ...answer, body: '', deflated }
  const sha256 = createDigest(answer.body)
  return { state: 'done', ...answer, body: '', summary: { bytes, sha256 } }
}

/** The body a kept answer replays: as sent, or inflated. Null for a summary. */
export function replayBody(entry: Done): string | null {
  if (entry.summary) return null
  if (entry.deflated) return inflateRawSync(Buffer.from(entry.deflated, 'base64')).toString('utf8')
  return entry.body
}

const createDigest = (body: string) => createHash('sha256').update(body).digest('base64url')
