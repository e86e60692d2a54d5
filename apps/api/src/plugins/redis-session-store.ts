import type { Keyspace } from '@tms/redis'
import type { Session } from 'fastify'
import type { Redis } from 'ioredis'

type Callback = (error?: unknown) => void
type Fields = Map<string, string>

/** Marks a session hash as existing even before any key is set. Not session data. */
const CREATED_FIELD = '~created'

// Read and slide the expiry in one round trip, without rewriting the data.
const TOUCH = `
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return fields`

// A new session (first save after login): replace whatever was under the id.
const CREATE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`

// Only the keys this request changed. A session that no longer exists (logged out meanwhile)
// is not brought back: Spring Session's "session was invalidated" rule.
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local changed = tonumber(ARGV[2])
if changed > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + 2 * changed)) end
if #ARGV > 2 + 2 * changed then redis.call('HDEL', KEYS[1], unpack(ARGV, 3 + 2 * changed)) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`

interface SessionCommands {
  tmsSessionTouch(key: string, ttl: number): Promise<string[]>
  tmsSessionCreate(key: string, ttl: number, ...fieldsAndValues: string[]): Promise<number>
  tmsSessionUpdate(key: string, ttl: number, changed: number, ...args: string[]): Promise<number>
}

/** Connections that already carry the session scripts (they may be shared by several stores). */
const scriptsDefined = new WeakSet<Redis>()

export interface SessionStoreLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * A session store for @fastify/session that writes only what changed.
 *
 * Each session is a Redis hash with one field per session key. A request that changes nothing
 * writes nothing (its read slides the TTL); a request that changes one key writes that key, so
 * concurrent requests changing different keys both keep their change; and a session deleted
 * by logout is never recreated by a slower request that was already in flight.
 */
export class RedisSessionStore {
  readonly #redis: Redis & SessionCommands
  readonly #keys: Keyspace
  readonly #ttlSeconds: number
  readonly #logger: SessionStoreLogger | undefined
  /** What each loaded session held when it was read: the base its changes are computed against. */
  readonly #loaded = new WeakMap<object, Fields>()

  constructor(options: { redis: Redis; keyspace: Keyspace; ttlSeconds: number; logger?: SessionStoreLogger }) {
    this.#redis = options.redis as Redis & SessionCommands
    this.#keys = options.keyspace
    this.#ttlSeconds = options.ttlSeconds
    this.#logger = options.logger
    if (!scriptsDefined.has(options.redis)) {
      scriptsDefined.add(options.redis)
      this.#redis.defineCommand('tmsSessionTouch', { numberOfKeys: 1, lua: TOUCH })
      this.#redis.defineCommand('tmsSessionCreate', { numberOfKeys: 1, lua: CREATE })
      this.#redis.defineCommand('tmsSessionUpdate', { numberOfKeys: 1, lua: UPDATE })
    }
  }

  key(sessionId: string): string {
    return this.#keys.key(sessionId)
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.#redis.tmsSessionTouch(this.key(sessionId), this.#ttlSeconds).then(
      (flat) => callback(null, flat.length === 0 ? null : this.#decode(flat)),
      (error: unknown) => callback(error),
    )
  }

  /** Called for a session restored from the store, before any handler changes it. */
  rememberLoaded(session: object): void {
    this.#loaded.set(session, serialize(session))
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const fields = serialize(session)
    const base = this.#loaded.get(session)
    const write = base ? this.#writeChanges(sessionId, base, fields) : this.#create(sessionId, fields)
    write.then(
      () => {
        this.#loaded.set(session, fields)
        callback()
      },
      (error: unknown) => callback(error),
    )
  }

  destroy(sessionId: string, callback: Callback): void {
    this.#redis.unlink(this.key(sessionId)).then(
      () => callback(),
      (error: unknown) => callback(error),
    )
  }

  async #create(sessionId: string, fields: Fields): Promise<void> {
    const args = [CREATED_FIELD, new Date().toISOString()]
    for (const [name, value] of fields) args.push(name, value)
    await this.#redis.tmsSessionCreate(this.key(sessionId), this.#ttlSeconds, ...args)
  }

  async #writeChanges(sessionId: string, base: Fields, fields: Fields): Promise<void> {
    const changed: string[] = []
    for (const [name, value] of fields) if (base.get(name) !== value) changed.push(name, value)
    const removed = [...base.keys()].filter((name) => !fields.has(name))
    if (changed.length === 0 && removed.length === 0) return
    const kept = await this.#redis.tmsSessionUpdate(
      this.key(sessionId),
      this.#ttlSeconds,
      changed.length / 2,
      ...changed,
      ...removed,
    )
    if (kept === 0)
      this.#logger?.info({ changedKeys: changed.filter((_, i) => i % 2 === 0) }, 'session was invalidated; change not saved')
  }

  #decode(flat: string[]): Session | null {
    const data: Record<string, unknown> = {}
    try {
      for (let i = 0; i < flat.length; i += 2) {
        if (flat[i] !== CREATED_FIELD) data[flat[i]!] = JSON.parse(flat[i + 1]!)
      }
    } catch {
      this.#logger?.warn({ key: this.#keys.prefix }, 'unreadable session data; treated as no session')
      return null
    }
    return data as unknown as Session
  }
}

/** Session keys as JSON strings. `cookie` is @fastify/session's own bookkeeping and not stored. */
function serialize(session: object): Fields {
  const fields: Fields = new Map()
  for (const [name, value] of Object.entries(session)) {
    if (name === 'cookie' || value === undefined || typeof value === 'function') continue
    fields.set(name, JSON.stringify(value))
  }
  return fields
}
