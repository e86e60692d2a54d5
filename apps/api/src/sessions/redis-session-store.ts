import { type Keyspace, LuaScript } from '@tms/redis'
import type { Session } from 'fastify'
import type { Redis } from 'ioredis'

type Callback = (error?: unknown) => void
/** Session key → that key's JSON text, exactly as stored. */
type Fields = Record<string, string>

/** Where a loaded session keeps what it held when read (a symbol: not session data, never stored). */
const LOADED = Symbol('loaded')

/*
 * A session is one string: a JSON object mapping each session key to that key's JSON text,
 * e.g. {"user":"{\"id\":\"u1\"}"}. Reads are one native GETEX, which also slides the expiry;
 * writes (rare: login, a changed preference) merge only the changed keys inside Redis, where
 * the values are opaque strings to Lua's cjson, so nothing is re-encoded or loses precision.
 */

// Only the keys this request changed. A session that no longer exists (logged out meanwhile)
// is not brought back: Spring Session's "session was invalidated" rule.
const UPDATE = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local session = cjson.decode(current)
local changed = tonumber(ARGV[2])
for i = 3, 2 + 2 * changed, 2 do session[ARGV[i]] = ARGV[i + 1] end
for i = 3 + 2 * changed, #ARGV do session[ARGV[i]] = nil end
redis.call('SET', KEYS[1], cjson.encode(session), 'EX', ARGV[1])
return 1`

const UPDATE_SCRIPT = new LuaScript('tms-session-update', UPDATE, 1)

export interface SessionStoreLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/**
 * A session store for @fastify/session that writes only what changed.
 *
 * A request that changes nothing writes nothing (its GETEX slides the TTL); a request that
 * changes one key writes that key, so concurrent requests changing different keys both keep
 * their change; and a session deleted by logout is never recreated by a slower request that
 * was already in flight.
 */
export class RedisSessionStore {
  readonly #redis: Redis
  readonly #keys: Keyspace
  readonly #ttlSeconds: number
  readonly #logger: SessionStoreLogger | undefined
  /**
   * The raw fields of the session `get` just returned. @fastify/session builds the Session and
   * Fastify calls our next onRequest hook synchronously after that, so `rememberLoaded` finds
   * them here without serializing the session again. Checked by id; otherwise it serializes.
   */
  #justLoaded: { id: string; fields: Fields } | undefined

  readonly #maxAgeMs: number
  /** Each user's session ids (a set per user), so ending a user's sessions costs what they have. */
  readonly #index: Keyspace

  constructor(options: {
    redis: Redis
    keyspace: Keyspace
    ttlSeconds: number
    /** The absolute lifetime: past it a session ends however active it is. */
    maxAgeSeconds: number
    logger?: SessionStoreLogger
  }) {
    this.#redis = options.redis
    this.#keys = options.keyspace
    this.#ttlSeconds = options.ttlSeconds
    this.#maxAgeMs = options.maxAgeSeconds * 1000
    this.#logger = options.logger
    this.#index = options.keyspace.child('of-user')
  }

  key(sessionId: string): string {
    return this.#keys.key(sessionId)
  }

  get(sessionId: string, callback: (error: unknown, session?: Session | null) => void): void {
    this.#redis.getex(this.key(sessionId), 'EX', this.#ttlSeconds).then(
      (stored) => {
        const session = stored === null ? null : this.#decode(sessionId, stored)
        if (session && this.#expired(session)) {
          // Past its absolute lifetime: gone, however recently it was used.
          this.#justLoaded = undefined
          void this.#redis.unlink(this.key(sessionId)).catch(() => undefined)
          return callback(null, null)
        }
        callback(null, session)
      },
      (error: unknown) => callback(error),
    )
  }

  /**
   * Past its absolute lifetime. A session of a user without a start (written by a login cut
   * short, or by hand) counts as expired: otherwise it would slide forever.
   */
  #expired(session: Session): boolean {
    const { startedAt, user } = session as { startedAt?: unknown; user?: unknown }
    if (typeof startedAt !== 'number') return user !== undefined
    return Date.now() - startedAt > this.#maxAgeMs
  }

  /** The user's sessions that still exist, with what they were started with. */
  async sessionsOf(userId: string): Promise<Array<{ sessionId: string; startedAt: number | null; client: unknown }>> {
    const index = this.#index.key(userId)
    const ids = await this.#redis.smembers(index)
    if (ids.length === 0) return []
    const stored = await this.#redis.mget(ids.map((id) => this.key(id)))
    const gone = ids.filter((_, i) => stored[i] === null)
    if (gone.length > 0) await this.#redis.srem(index, ...gone)
    return ids.flatMap((sessionId, i) => {
      const text = stored[i]
      if (text === null || text === undefined) return []
      const session = this.#decode(sessionId, text) as { startedAt?: number; client?: unknown } | null
      this.#justLoaded = undefined
      if (!session || this.#expired(session as Session)) return []
      return [{ sessionId, startedAt: session.startedAt ?? null, client: session.client ?? null }]
    })
  }

  /** Ends every session of the user, on every instance at once (the next request is a 401). */
  async endSessionsOf(userId: string): Promise<number> {
    const index = this.#index.key(userId)
    const ids = await this.#redis.smembers(index)
    await this.#redis
      .multi()
      .unlink(...ids.map((id) => this.key(id)), index)
      .exec()
    return ids.length
  }

  /** Ends one session of the user; false when the user has no such session. */
  async endSessionOf(userId: string, sessionId: string): Promise<boolean> {
    const index = this.#index.key(userId)
    if (!(await this.#redis.sismember(index, sessionId))) return false
    await this.#redis.multi().unlink(this.key(sessionId)).srem(index, sessionId).exec()
    return true
  }

  /** Called for a session restored from the store, before any handler changes it. */
  rememberLoaded(session: { sessionId: string; [LOADED]?: Fields }): void {
    const handoff = this.#justLoaded
    this.#justLoaded = undefined
    session[LOADED] = handoff?.id === session.sessionId ? handoff.fields : serialize(session)
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const fields = serialize(session)
    const base = (session as { [LOADED]?: Fields })[LOADED]
    const write = base ? this.#writeChanges(sessionId, base, fields) : this.#create(sessionId, fields)
    write.then(
      () => {
        ;(session as { [LOADED]?: Fields })[LOADED] = fields
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
    await this.#redis.set(this.key(sessionId), JSON.stringify(fields), 'EX', this.#ttlSeconds)
    await this.#addToIndex(sessionId, fields)
  }

  /** A session that now names a user (a login) joins that user's index. */
  async #addToIndex(sessionId: string, fields: Fields): Promise<void> {
    const userId = fields.user ? (JSON.parse(fields.user) as { id?: string }).id : undefined
    if (!userId) return
    // The index lives as long as the longest session in it can.
    const index = this.#index.key(userId)
    await this.#redis.multi().sadd(index, sessionId).pexpire(index, this.#maxAgeMs).exec()
  }

  async #writeChanges(sessionId: string, base: Fields, fields: Fields): Promise<void> {
    const changed: string[] = []
    for (const name in fields) if (base[name] !== fields[name]) changed.push(name, fields[name]!)
    const removed = Object.keys(base).filter((name) => !(name in fields))
    if (changed.length === 0 && removed.length === 0) return
    const kept = await UPDATE_SCRIPT.run<number>(
      this.#redis,
      [this.key(sessionId)],
      [this.#ttlSeconds, changed.length / 2, ...changed, ...removed],
    )
    if (kept === 0) {
      this.#logger?.info({ changedKeys: changed.filter((_, i) => i % 2 === 0) }, 'session was invalidated; change not saved')
    } else if (base.user !== fields.user) {
      await this.#addToIndex(sessionId, fields)
    }
  }

  #decode(sessionId: string, stored: string): Session | null {
    const data: Record<string, unknown> = {}
    try {
      const fields = JSON.parse(stored) as Fields
      for (const name in fields) data[name] = JSON.parse(fields[name]!)
      this.#justLoaded = { id: sessionId, fields }
    } catch {
      this.#logger?.warn({ key: this.#keys.prefix }, 'unreadable session data; treated as no session')
      return null
    }
    return data as unknown as Session
  }
}

/** Session keys as JSON strings. `cookie` is @fastify/session's own bookkeeping and not stored. */
function serialize(session: object): Fields {
  const fields: Fields = {}
  for (const [name, value] of Object.entries(session)) {
    if (name === 'cookie' || value === undefined || typeof value === 'function') continue
    fields[name] = JSON.stringify(value)
  }
  return fields
}
