import { connectRedis, createRedis } from '@tms/redis'
import { deleteKeys, TEST_REDIS_URL, uniqueName } from '@tms/testing'
import type { Redis } from 'ioredis'
import { pinLocalRedis, pinSelf } from './machine.js'

export interface PinnedRedis {
  redis: Redis
  /** This run's own key prefix, `bench:<name>-…:`. */
  prefix: string
  /** Puts Redis back on its cores, disconnects, deletes the run's keys. */
  done(): Promise<void>
}

/**
 * The set-up of a benchmark that talks to Redis from one process: this process on core 0, a
 * local Redis on core 1, one connection, keys under a prefix of its own.
 */
export async function pinnedRedis(name: string): Promise<PinnedRedis> {
  pinSelf(0)
  const prefix = `bench:${uniqueName(name)}:`
  const redis = createRedis(TEST_REDIS_URL, { connectionName: `bench-${name}` })
  await connectRedis(redis)
  const unpinRedis = await pinLocalRedis(redis, TEST_REDIS_URL, 1)
  return {
    redis,
    prefix,
    async done() {
      unpinRedis()
      redis.disconnect()
      await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
    },
  }
}
