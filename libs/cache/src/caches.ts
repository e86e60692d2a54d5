import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisDriver } from 'bentocache/drivers/redis'
import type { Redis } from 'ioredis'
import { type CacheStats, emptyStats } from './cache-stats.js'
import { countingDriver } from './counting-driver.js'
import { RedisBusTransport } from './redis-bus-transport.js'

/** '5s', '1m', or milliseconds. */
export type Ttl = string | number

export interface CacheLogger {
  trace(obj: unknown, msg?: string): void
  debug(obj: unknown, msg?: string): void
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  fatal(obj: unknown, msg?: string): void
  child(bindings: object): CacheLogger
}

/** The two caches, chosen explicitly where a cache is used: each instance's memory, or the remote one shared by all. */
export interface Cache {
  /** The value: from the cache, or computed once per instance on concurrent misses and stored. */
  cached<T>(key: string, loader: () => Promise<T>, options: { ttl: Ttl }): Promise<T>
  get<T>(key: string): Promise<T | undefined>
  set<T>(key: string, value: T, options: { ttl: Ttl }): Promise<void>
  delete(key: string): Promise<void>
}

/**
 * Part of every cache key and of the bus channel. Bump it when the shape of anything cached
 * changes: during a rolling deploy old and new versions then use separate keys instead of
 * reading each other's values. One constant for every app, so the API and the workers never
 * disagree about which namespace they share.
 */
export const CACHE_SCHEMA_VERSION = 1

export interface CachesOptions {
  /** The request-path connection: remote reads and writes, and bus publishes. */
  redis: Redis
  /** A connection of its own for the bus subscription (pub/sub blocks a connection). */
  subscriber: Redis
  /** The app's key prefix, e.g. `tms:`. */
  prefix: string
  /** CACHE_SCHEMA_VERSION unless a test needs another. */
  schemaVersion?: number
  logger: CacheLogger
  /** Per-instance memory cache bounds. */
  memory?: { maxItems?: number; maxSize?: string }
  /** The remote cache's in-memory front: small, it only saves round trips to Redis. */
  remoteFront?: { maxItems?: number; maxSize?: string }
}

export interface Caches {
  /** Cold or immutable data (catalogue, settings): each instance keeps its own copy. */
  memory: Cache
  /** Shared data: Redis, with an in-memory front that every instance invalidates on any write. */
  remote: Cache
  stats: CacheStats
  close(): Promise<void>
}

export function createCaches(options: CachesOptions): Caches {
  const stats = emptyStats()
  const logger = quietRepeats(options.logger.child({ component: 'cache' }))
  let remoteHealthy = true
  const remoteDriver = countingDriver(redisDriver({ connection: options.redis }), stats, {
    onError: () => {
      remoteHealthy = false
    },
    onSuccess: () => {
      remoteHealthy = true
    },
  })
  const version = options.schemaVersion ?? CACHE_SCHEMA_VERSION
  const memoryName = `memory@${options.prefix}v${version}`
  const remoteName = `remote@${options.prefix}v${version}`
  const namespace = `${options.prefix}cache:v${version}`
  const bento = new BentoCache({
    default: remoteName,
    prefix: namespace,
    logger,
    grace: false,
    // Redis down: answer from the loader at once instead of timing out on every request.
    suppressL2Errors: true,
    l2CircuitBreakerDuration: '2s',
    stores: {
      [memoryName]: bentostore().useL1Layer(
        memoryDriver({
          maxItems: options.memory?.maxItems ?? 10_000,
          maxSize: options.memory?.maxSize ?? '32mb',
          maxEntrySize: '1mb',
        }),
      ),
      [remoteName]: bentostore()
        .useL1Layer(
          memoryDriver({ maxItems: options.remoteFront?.maxItems ?? 1000, maxSize: options.remoteFront?.maxSize ?? '8mb' }),
        )
        .useL2Layer(remoteDriver as never)
        .useBus({
          options: { retryQueue: { enabled: true, maxSize: 1000 } },
          factory: () =>
            new RedisBusTransport(options.redis, options.subscriber, [namespace], (error) =>
              logger.warn({ err: (error as Error).message }, 'cache bus subscription failed; invalidations resume on reconnect'),
            ),
        } as never),
    },
  })
  bento.on('cache:hit', () => {
    stats.hits++
  })
  bento.on('cache:miss', () => {
    stats.misses++
  })

  const facade = (store: ReturnType<typeof bento.use>, remote: boolean): Cache => ({
    cached: <T>(key: string, loader: () => Promise<T>, { ttl }: { ttl: Ttl }) =>
      store.getOrSet({
        key,
        ttl,
        factory: async () => {
          stats.loads++
          if (remote && !remoteHealthy) {
            stats.fallbacks++
            logger.warn({ key }, 'remote cache unavailable; value computed from its source')
          }
          return loader()
        },
      }) as Promise<T>,
    get: <T>(key: string) => store.get({ key }) as Promise<T | undefined>,
    set: async <T>(key: string, value: T, { ttl }: { ttl: Ttl }) => {
      await store.set({ key, value, ttl })
    },
    delete: async (key: string) => {
      await store.delete({ key })
    },
  })

  return {
    memory: facade(bento.use(memoryName), false),
    remote: facade(bento.use(remoteName), true),
    stats,
    close: () => bento.disconnectAll(),
  }
}

/**
 * While Redis is down every request would log the same line; say it once per 10 s with a count.
 */
function quietRepeats(logger: CacheLogger): CacheLogger {
  const last = new Map<string, { at: number; suppressed: number }>()
  const gated =
    (level: 'warn' | 'error') =>
    (obj: unknown, msg?: string): void => {
      const text = typeof obj === 'string' ? obj : (msg ?? '')
      const now = Date.now()
      const seen = last.get(text)
      if (seen && now - seen.at < 10_000) {
        seen.suppressed++
        return
      }
      const suppressed = seen?.suppressed ?? 0
      last.set(text, { at: now, suppressed: 0 })
      const fields = typeof obj === 'object' && obj !== null ? obj : {}
      logger[level](suppressed ? { ...fields, repeatedSinceLastLine: suppressed } : fields, text)
    }
  return {
    trace: (obj, msg) => logger.trace(obj, msg),
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: gated('warn'),
    error: gated('error'),
    fatal: (obj, msg) => logger.fatal(obj, msg),
    child: (bindings) => quietRepeats(logger.child(bindings)),
  }
}
