import { fileURLToPath } from 'node:url'
import { JobRuns, JobsAdmin, openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { connectRedis, createRedis } from '@tms/redis'
import { openStorage, type Storage } from '@tms/storage'
import {
  ensureTestDatabase,
  eventually,
  isolatedDatabaseUrl,
  isolatedRedisPrefix,
  startChildService,
  TEST_REDIS_URL,
} from '@tms/testing'
import type { Test } from 'tap'

export const WORKER = fileURLToPath(new URL('../dist/main.js', import.meta.url))
export const SHOP = fileURLToPath(new URL('../../shop-sim/dist/main.js', import.meta.url))

/** One isolated world: its own Redis prefix and schema. Slow schedules unless a test speeds one up. */
export async function isolatedEnv(t: Test, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  await ensureTestDatabase()
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    WORKER_HEALTH_PORT: '0',
    JOB_SYNC_ORDERS_EVERY: '1h',
    JOB_CREATE_SHIPMENTS_EVERY: '1h',
    JOB_HOUSEKEEPING_EVERY: '1h',
    JOB_NOTIFY_SHIPPED_EVERY: '1h',
    SHOP_API_URL: 'http://127.0.0.1:9',
    ...extra,
  }
}

export async function startWorker(t: Test, env: Record<string, string>, name = 'worker') {
  const child = startChildService(t, { name, script: WORKER, env })
  await child.waitForLog((l) => l.msg === 'worker started', 60_000)
  return child
}

export async function startShop(t: Test, env: Record<string, string> = {}) {
  const child = startChildService(t, {
    name: 'shop',
    script: SHOP,
    env: { PORT: '0', LOG_LEVEL: 'info', SHOP_FAULTS: 'true', ...env },
  })
  const line = await child.waitForLog((l) => l.msg === 'listening', 30_000)
  return { child, url: `http://127.0.0.1:${line.port as number}` }
}

/** What the tests read back: run records, the registry, the queue, the warehouse tables. */
export async function inspector(t: Test, env: Record<string, string>) {
  const redis = createRedis(env.REDIS_URL!, { connectionName: 'worker-test', role: 'blocking' })
  await connectRedis(redis)
  const storage: Storage = openStorage(env.DATABASE_URL!)
  const queue = openJobsQueue(redis, env.REDIS_KEY_PREFIX!)
  const registry = new ScheduleRegistry(redis, env.REDIS_KEY_PREFIX!)
  const runs = new JobRuns(storage)
  t.teardown(async () => {
    await queue.close()
    redis.disconnect()
    await storage.close()
  })
  return { redis, storage, queue, registry, runs, admin: new JobsAdmin(queue, registry, runs) }
}

export async function shopFault(url: string, body: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${url}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`fault injection failed: ${response.status}`)
}

/** The value `check` gives once it is truthy (@tms/testing's eventually, its value alone). */
export async function until<T>(check: () => Promise<T | undefined | null | false>, withinMs = 60_000): Promise<T> {
  return (await eventually(async () => (await check()) || undefined, { withinMs })).value as T
}

/**
 * Ticks this long ago must have run: a tick's run is recorded when a worker takes its job, which
 * on a busy machine can lag its tick by a second or more. Tick reports end this far back.
 */
export const TICK_SETTLE_MS = 5000
