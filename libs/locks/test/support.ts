import { connectRedis, createRedis } from '@tms/redis'
import { isolatedRedisPrefix, TEST_REDIS_URL } from '@tms/testing'
import type { Test } from 'tap'
import { LockService } from '../src/lock-service.js'

/** A Redis connection and a LockService on the test's own key prefix. */
export async function setup(t: Test) {
  const prefix = isolatedRedisPrefix(t)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: 'locks-test' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  return { prefix, redis, locks: new LockService({ redis, prefix, ttlMs: 2000, acquireTimeoutMs: 5000 }) }
}
