import { jobRuns } from '@tms/jobs'
import type { Lifecycle } from '@tms/lifecycle'
import type { Logger } from '@tms/logging'
import { closeRedis, connectRedis, createRedis } from '@tms/redis'
import { openStorage, type Storage } from '@tms/storage'
import { Catalogue, WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import type { Redis } from 'ioredis'

export interface RuntimeConfig {
  REDIS_URL: string
  REDIS_KEY_PREFIX: string
  DATABASE_URL: string
  INSTANCE_ID: string
}

/** The connections a TMS process holds, opened and closed the same way in every app and test. */
export interface Runtime {
  config: RuntimeConfig
  logger: Logger
  lifecycle: Lifecycle
  /** The request path: sessions, locks, caches, login limits; bounded commands. */
  redis: Redis
  /** A connection of its own for subscriptions (the cache bus, broadcasts). */
  subscriber: Redis
  /** BullMQ's connection: blocking commands, retried forever. */
  blocking: Redis
  storage: Storage
  /** Connects, migrates and seeds what every process needs; before it serves or works. */
  prepare(options?: { connectTimeoutMs?: number }): Promise<void>
}

/**
 * Opens the connections of process `app` (`api`, `worker`, …) and adds the shutdown steps that
 * close them, last: whatever the app adds ahead (stop serving, stop taking jobs) runs first.
 */
export function openRuntime(options: { app: string; config: RuntimeConfig; logger: Logger; lifecycle: Lifecycle }): Runtime {
  const { app, config, logger, lifecycle } = options
  const name = `${app}:${config.INSTANCE_ID}`
  const redis = createRedis(config.REDIS_URL, { connectionName: name, logger })
  const subscriber = createRedis(config.REDIS_URL, { connectionName: `${name}:bus`, role: 'subscriber', logger })
  const blocking = createRedis(config.REDIS_URL, { connectionName: `${name}:jobs`, role: 'blocking', logger })
  const storage = openStorage(config.DATABASE_URL, {
    applicationName: `tms-${app} ${config.INSTANCE_ID}`,
    onError: (error) => logger.warn({ err: error.message }, 'database connection lost'),
  })
  lifecycle.addShutdownStep({
    name: 'redis',
    run: async () => void (await Promise.all([closeRedis(redis), closeRedis(subscriber), closeRedis(blocking)])),
  })
  lifecycle.addShutdownStep({ name: 'database', run: () => storage.close() })
  return {
    config,
    logger,
    lifecycle,
    redis,
    subscriber,
    blocking,
    storage,
    async prepare({ connectTimeoutMs = 30_000 } = {}) {
      await connectRedis(redis, connectTimeoutMs)
      await storage.migrate([...WAREHOUSE_COLLECTIONS, jobRuns])
      await Catalogue.seed(storage)
    },
  }
}
