import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { HeldLimitError, LockBusyError, LockTimeoutError, NotLockHolderError, ObjectLockedError } from './errors.js'
import { FencedMutex, type LockKeys } from './fenced-mutex.js'
import { type KeeperLogger, LockKeeper } from './lock-keeper.js'
import { assertHolder, parseLockValue } from './lock-value.js'
import { ObjectLockIndex } from './object-lock-index.js'

export interface LockContext {
  /** Aborts when the lock is lost; pass it to anything that can stop early. */
  signal: AbortSignal
  /** Strictly increasing per acquisition: give it to storage's fenced writes. */
  fencingToken: number
}

export type LockedAction<T> = (context: LockContext) => Promise<T>

export interface LockServiceOptions {
  redis: Redis
  /** Every lock key starts with it, e.g. `tms:lock:`. */
  prefix: string
  logger?: KeeperLogger
  /** How long a held lock lives without a refresh. Default 10 s. */
  ttlMs?: number
  /** How long runWithLock waits before giving up. Default 10 s. */
  acquireTimeoutMs?: number
  /** How often the first waiter polls; those behind it poll less. Default 2 ms. */
  retryIntervalMs?: number
}

export interface ObjectLock {
  objectId: string
  holder: string
  fencingToken: number
  expiresAt: Date
}

/**
 * Where every process puts its locks under the app's key prefix: the API's claims, the
 * workers' job guards and the bulk-creation lock must meet in one place to exclude each other.
 */
export const locksPrefix = (redisKeyPrefix: string) => `${redisKeyPrefix}lock:`

/** A holder's list of objects lives at least this long after its last lock, whatever the locks' TTL. */
const HELD_LIST_MIN_TTL_MS = 60_000

/** A pattern with `<id>` where the object's id goes, e.g. `shipment:<id>:claim`. */
export type ObjectPattern = `${string}<id>${string}`

/**
 * Locks shared by every instance, on redis-semaphore:
 * waiters are served in arrival order, every acquisition carries a fencing token, and a lock
 * that is lost aborts its action instead of letting it continue silently.
 */
export class LockService {
  readonly #redis: Redis
  readonly #prefix: string
  readonly #logger: KeeperLogger | undefined
  readonly #ttlMs: number
  readonly #acquireTimeoutMs: number
  readonly #retryIntervalMs: number
  /** Waiters in this process, by lock key: a release here wakes them at once instead of at their next poll. */
  readonly #sleepers = new Map<string, Set<() => void>>()

  constructor(options: LockServiceOptions) {
    this.#redis = options.redis
    this.#prefix = options.prefix
    this.#logger = options.logger
    this.#ttlMs = options.ttlMs ?? 10_000
    this.#acquireTimeoutMs = options.acquireTimeoutMs ?? 10_000
    this.#retryIntervalMs = options.retryIntervalMs ?? 2
  }

  /**
   * Waits for the lock (in arrival order, at most `acquireTimeoutMs`, then LockTimeoutError),
   * runs the action, always releases. Throws LockLostError if the lock is lost meanwhile.
   */
  async runWithLock<T>(
    key: string,
    action: LockedAction<T>,
    options: { ttlMs?: number; acquireTimeoutMs?: number } = {},
  ): Promise<T> {
    const ttlMs = options.ttlMs ?? this.#ttlMs
    const mutex = this.#mutex(key, randomUUID(), ttlMs)
    await this.#acquireInTurn(mutex, options.acquireTimeoutMs ?? this.#acquireTimeoutMs)
    return this.#runHeld(mutex, ttlMs, action)
  }

  /** One attempt: if the key is held (or others are waiting for it), `acquired: false` at once. */
  async runIfKeyNotLocked<T>(
    key: string,
    action: LockedAction<T>,
    options: { ttlMs?: number } = {},
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const ttlMs = options.ttlMs ?? this.#ttlMs
    const mutex = this.#mutex(key, randomUUID(), ttlMs)
    if (!(await mutex.attempt('try')).acquired) return { acquired: false }
    return { acquired: true, value: await this.#runHeld(mutex, ttlMs, action) }
  }

  /** One execution at a time across the cluster; LockBusyError ("already running") otherwise. */
  async withServiceLock<T>(name: string, action: LockedAction<T>, options: { ttlMs?: number } = {}): Promise<T> {
    const outcome = await this.runIfKeyNotLocked(`service:${name}`, action, options)
    if (!outcome.acquired) throw new LockBusyError(name)
    return outcome.value
  }

  /**
   * Locks an object for `holder` beyond one request (a packing station's claim). Locking again by
   * the same holder extends it and keeps its token; another holder gets ObjectLockedError. With
   * `most`, a holder holding that many locks of the pattern gets HeldLimitError instead: counted
   * and taken in one step, so parallel attempts on any number of instances never exceed it.
   * The holder's locks of the patterns in `countWith` count towards `most` too.
   */
  async lockObject(
    pattern: ObjectPattern,
    objectId: string,
    holder: string,
    ttlMs: number,
    options: { most?: number; countWith?: ReadonlyArray<ObjectPattern> } = {},
  ): Promise<ObjectLock> {
    assertHolder(holder)
    const key = objectKey(pattern, objectId)
    const { lock, fence } = this.#keys(key)
    const lockKeyParts = (of: ObjectPattern): [string, string] => {
      const [before = '', after = ''] = of.split('<id>')
      return [`${this.#prefix}${before}`, after]
    }
    const result = await this.#index(pattern).take(
      { lock, fence, list: this.#heldKey(pattern, holder) },
      lockKeyParts(pattern),
      objectId,
      holder,
      {
        ttlMs,
        most: options.most ?? 0,
        listMinTtlMs: HELD_LIST_MIN_TTL_MS,
        countWith: (options.countWith ?? [])
          .filter((other) => other !== pattern)
          .map((other) => {
            const [before, after] = lockKeyParts(other)
            return { list: this.#heldKey(other, holder), before, after }
          }),
      },
    )
    if (result.taken) return { objectId, holder, fencingToken: result.token, expiresAt: new Date(Date.now() + ttlMs) }
    if ('limit' in result) throw new HeldLimitError(key, holder, result.limit)
    throw new ObjectLockedError(key, result.heldBy, new Date(Date.now() + result.expiresInMs))
  }

  /** Extends the holder's lock to `ttlMs` from now; NotLockHolderError if it is not theirs. */
  async extendObjectLock(pattern: ObjectPattern, objectId: string, holder: string, ttlMs: number): Promise<ObjectLock> {
    assertHolder(holder)
    const key = objectKey(pattern, objectId)
    const value = await this.#index(pattern).extend(this.#keys(key).lock, this.#heldKey(pattern, holder), objectId, holder, {
      ttlMs,
      listMinTtlMs: HELD_LIST_MIN_TTL_MS,
    })
    if (!value) throw new NotLockHolderError(key, holder)
    return { objectId, holder, fencingToken: parseLockValue(value).fencingToken, expiresAt: new Date(Date.now() + ttlMs) }
  }

  /** Releases the holder's lock; false when it was not (or no longer) theirs. */
  async releaseObjectLock(pattern: ObjectPattern, objectId: string, holder: string): Promise<boolean> {
    assertHolder(holder)
    const lock = this.#keys(objectKey(pattern, objectId)).lock
    return this.#index(pattern).release(lock, this.#heldKey(pattern, holder), objectId, holder)
  }

  /**
   * The objects of `pattern` that `holder` holds now: its list, each entry checked against the
   * lock itself (entries whose lock expired, went to someone else or was never taken are
   * dropped). Costs what the holder holds, not what everyone holds.
   */
  async heldObjectIds(pattern: ObjectPattern, holder: string): Promise<string[]> {
    assertHolder(holder)
    const key = this.#heldKey(pattern, holder)
    const ids = await this.#redis.smembers(key)
    const locks = await Promise.all(ids.map((id) => this.getObjectLock(pattern, id)))
    const stale = ids.filter((_, i) => locks[i]?.holder !== holder)
    if (stale.length > 0) await this.#redis.srem(key, ...stale)
    return ids.filter((_, i) => locks[i]?.holder === holder)
  }

  async getObjectLock(pattern: ObjectPattern, objectId: string): Promise<ObjectLock | null> {
    const lock = this.#keys(objectKey(pattern, objectId)).lock
    // One round trip, not a transaction: a lock that expires between the two reads has a negative PTTL.
    const [[, value], [, pttl]] = (await this.#redis.pipeline().get(lock).pttl(lock).exec()) as [
      [null, string | null],
      [null, number],
    ]
    if (!value || pttl < 0) return null
    return { objectId, ...parseLockValue(value), expiresAt: new Date(Date.now() + pttl) }
  }

  /** Ids of the objects currently locked under `pattern`, from its index: as many as are locked. */
  async getLockedObjectIds(pattern: ObjectPattern): Promise<Set<string>> {
    return new Set(await this.#index(pattern).liveIds())
  }

  async #acquireInTurn(mutex: FencedMutex, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const ticket = randomUUID()
    // A ticket stays alive while its waiter polls; a crashed waiter's ticket lapses after this.
    const ticketTtlMs = Math.max(1000, this.#retryIntervalMs * 50)
    let result = await mutex.attempt('join', ticket, ticketTtlMs)
    while (!result.acquired) {
      if (Date.now() >= deadline) {
        await mutex.leaveQueue(ticket).catch(() => undefined)
        throw new LockTimeoutError(mutex.key, timeoutMs)
      }
      // The head polls often, those behind it less: N waiters cost ~ln N polls, not N.
      await this.#nap(mutex.key, Math.min(this.#retryIntervalMs * (1 + result.place), ticketTtlMs / 4, deadline - Date.now() + 1))
      result = await mutex.attempt('queued', ticket, ticketTtlMs)
    }
  }

  async #runHeld<T>(mutex: FencedMutex, ttlMs: number, action: LockedAction<T>): Promise<T> {
    const keeper = new LockKeeper(mutex, ttlMs, this.#logger)
    try {
      const work = action({ signal: keeper.signal, fencingToken: mutex.fencingToken })
      work.catch(() => {}) // if the lock is lost first, the action's own outcome is moot
      return await Promise.race([work, keeper.lost()])
    } finally {
      keeper.stop()
      // Compare-and-delete: releasing never deletes the next holder's lock. After a loss, Redis
      // may be unreachable: release in the background rather than delay the LockLostError.
      const release = mutex.release().catch(() => undefined)
      if (!keeper.signal.aborted) await release
      for (const wake of this.#sleepers.get(mutex.key) ?? []) wake()
    }
  }

  /** Sleeps `ms`, or less if a lock of `key` is released in this process meanwhile. */
  #nap(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleepers = this.#sleepers.get(key) ?? new Set()
      this.#sleepers.set(key, sleepers)
      const wake = () => {
        clearTimeout(timer)
        sleepers.delete(wake)
        if (sleepers.size === 0) this.#sleepers.delete(key)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })
  }

  #mutex(key: string, holder: string, ttlMs: number): FencedMutex {
    return new FencedMutex(this.#redis, this.#keys(key), { holder, ttlMs })
  }

  #index(pattern: ObjectPattern): ObjectLockIndex {
    return new ObjectLockIndex(this.#redis, `${this.#prefix}index:${pattern}`)
  }

  #heldKey(pattern: ObjectPattern, holder: string): string {
    return `${this.#prefix}held:${pattern}:${holder}`
  }

  #keys(key: string): LockKeys {
    const lock = `${this.#prefix}${key}`
    return { lock, fence: `${this.#prefix}fence`, queue: `${lock}:queue`, alive: `${lock}:alive`, seq: `${lock}:seq` }
  }
}

function objectKey(pattern: ObjectPattern, objectId: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(objectId)) throw new Error(`invalid object id "${objectId}"`)
  return pattern.replace('<id>', objectId)
}
