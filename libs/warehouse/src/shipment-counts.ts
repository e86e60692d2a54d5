import { LuaScript } from '@tms/redis'
import type { Redis } from 'ioredis'
import type { ShipmentStatus } from './collections.js'

export type CountsByStatus = Record<ShipmentStatus, number>

const STATUSES: ReadonlyArray<ShipmentStatus> = ['PENDING', 'PACKED', 'SHIPPED']

/**
 * KEYS: counts (hash: status → count), changes (a counter of moves). ARGV: from ('' for a new
 * shipment), to, how many. Every move is counted; the hash is changed only where it exists, so
 * a count is never invented from nothing.
 */
const MOVE = `
redis.call('INCR', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then
  if ARGV[1] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[3])) end
  redis.call('HINCRBY', KEYS[1], ARGV[2], tonumber(ARGV[3]))
end
return 1`

/** KEYS: counts, changes. The hash's fields and values, and the moves counted so far. */
const READ = `return { redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[2]) or '0' }`

/**
 * KEYS: counts, changes. ARGV: the moves counted when the database was read, ttl ms, then
 * status, count pairs. Stores the database's counts unless a move happened since they were read
 * (then they may lack it: the next reader tries again) or someone stored counts meanwhile.
 */
const SEED = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] or redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

const MOVE_SCRIPT = new LuaScript('tms-shipment-counts-move', MOVE, 2)
const READ_SCRIPT = new LuaScript('tms-shipment-counts-read', READ, 2)
const SEED_SCRIPT = new LuaScript('tms-shipment-counts-seed', SEED, 2)

export interface ShipmentCountsOptions {
  redis: Redis
  /** The app's key prefix, e.g. `tms:`. */
  prefix: string
  /**
   * How long counted figures live before they are read from the database again: the bound on
   * how long a move that never reached Redis (an instance killed between its write and its
   * count, Redis down) can leave them wrong; also a reader that read the database after a
   * write and stored the counts before that write's move (a move then counted twice). 30 s.
   */
  ttlMs?: number
  /** A move that could not be counted (Redis unreachable): told here, never thrown, since the write it follows stands. */
  onMoveFailed?: (error: Error) => void
}

/**
 * Shipments per status, counted as they change: every pack, ship and bulk creation moves the
 * counts in Redis (one script), and reading them costs one script, not a GROUP BY over every
 * shipment. The database is read when Redis has no counts (first read, after `ttlMs`, after a
 * restart), and what it said is stored only if no move happened while it was being read.
 */
export class ShipmentCounts {
  readonly #redis: Redis
  readonly #keys: [string, string]
  readonly #ttlMs: number
  readonly #onMoveFailed: (error: Error) => void

  constructor(options: ShipmentCountsOptions) {
    this.#redis = options.redis
    this.#keys = [`${options.prefix}shipment-counts:v1`, `${options.prefix}shipment-counts:v1:changes`]
    this.#ttlMs = options.ttlMs ?? 30_000
    this.#onMoveFailed = options.onMoveFailed ?? (() => undefined)
  }

  async read(fromDatabase: () => Promise<CountsByStatus>): Promise<CountsByStatus> {
    const [fields, changes] = await READ_SCRIPT.run<[string[], string]>(this.#redis, this.#keys, [])
    const stored = new Map<string, number>()
    for (let i = 0; i < fields.length; i += 2) stored.set(fields[i]!, Number(fields[i + 1]))
    if (STATUSES.every((s) => stored.has(s))) {
      return { PENDING: stored.get('PENDING')!, PACKED: stored.get('PACKED')!, SHIPPED: stored.get('SHIPPED')! }
    }
    const counts = await fromDatabase()
    await SEED_SCRIPT.run(this.#redis, this.#keys, [changes, this.#ttlMs, ...STATUSES.flatMap((s) => [s, counts[s]])])
    return counts
  }

  /**
   * `n` shipments went from `from` (null: they are new) to `to`. Never throws: the move follows a
   * write that stands, and counts that missed it are read from the database again after `ttlMs`.
   */
  async moved(from: ShipmentStatus | null, to: ShipmentStatus, n = 1): Promise<void> {
    try {
      await MOVE_SCRIPT.run(this.#redis, this.#keys, [from ?? '', to, n])
    } catch (error) {
      this.#onMoveFailed(error as Error)
    }
  }
}
