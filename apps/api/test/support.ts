import { fileURLToPath } from 'node:url'
import { loadConfig } from '@tms/config'
import { addHttpShutdownSteps, Lifecycle } from '@tms/lifecycle'
import { createLogger } from '@tms/logging'
import { Keyspace } from '@tms/redis'
import { buildWarehouseServices, openRuntime } from '@tms/runtime'
import type { Storage } from '@tms/storage'
import { ensureTestDatabase, isolatedDatabaseUrl, isolatedRedisPrefix, startChildService, TEST_REDIS_URL } from '@tms/testing'
import type { Role } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Test } from 'tap'
import { buildApp, warehouseOptions } from '../src/app.js'
import { apiEnv } from '../src/config.js'

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
export const ADMIN = { email: 'admin@test.local', password: 'admin password for tests' }

/** Environment for one isolated API: its own Redis prefix and PostgreSQL schema. */
export async function isolatedEnv(t: Test, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  await ensureTestDatabase()
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DRAIN_DELAY_MS: '0',
    // A speed-up, not behaviour: 600 requests of CPU per instance started. warm-up.test.ts and
    // the rehearsal run it.
    WARM_UP_REQUESTS: '0',
    // Production's cost (2^17) is ~1 s of CPU a login; the tests log in hundreds of times, so
    // they use the lowest cost config accepts.
    PASSWORD_SCRYPT_LOG_N: '10',
    ...extra,
  }
}

export interface TestApi {
  app: FastifyInstance
  redis: Redis
  storage: Storage
  keyspace: Keyspace
  env: Record<string, string>
  lifecycle: Lifecycle
}

/**
 * The real app in this process, on the real Redis and PostgreSQL, for `inject()` tests: built
 * by the same functions as production (openRuntime, buildWarehouseServices, buildApp), and
 * shut down by the same steps when the test ends.
 */
export async function buildTestApi(t: Test, env?: Record<string, string>): Promise<TestApi> {
  const fullEnv = env ?? (await isolatedEnv(t))
  const config = loadConfig(apiEnv, fullEnv)
  const logger = createLogger({ app: 'api-test', version: config.APP_VERSION, instanceId: 'test', level: config.LOG_LEVEL })
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: 10_000 })
  const runtime = openRuntime({ app: 'api-test', config, logger, lifecycle })
  t.teardown(() => lifecycle.shutdown('test ended'))
  await runtime.prepare({ connectTimeoutMs: 10_000 })
  const services = buildWarehouseServices(runtime, warehouseOptions(config))
  await services.accounts.ensureFirstAdmin(ADMIN.email, ADMIN.password)
  const app = await buildApp({ config, runtime, services })
  addHttpShutdownSteps(lifecycle, app, 0)
  await app.ready()
  lifecycle.markReady()
  return {
    app,
    redis: runtime.redis,
    storage: runtime.storage,
    keyspace: new Keyspace(config.REDIS_KEY_PREFIX),
    env: fullEnv,
    lifecycle,
  }
}

/** Logs in through the API and returns the session cookie (`tms.sid=...`). */
export async function loginCookie(app: FastifyInstance, email = ADMIN.email, password = ADMIN.password): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  return sessionCookieOf(response.headers['set-cookie'])
}

export function sessionCookieOf(setCookie: string | string[] | undefined | null): string {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []
  const found = all.find((c) => c.startsWith('tms.sid='))
  if (!found) throw new Error(`no session cookie in ${JSON.stringify(setCookie)}`)
  return found.split(';')[0]!
}

let userCounter = 0
/** Creates a user through the admin API and returns its login cookie. */
export async function userCookie(
  app: FastifyInstance,
  adminCookie: string,
  roles: Role[] = ['agent'],
): Promise<{ cookie: string; email: string }> {
  const email = `user${++userCounter}-${Date.now()}@test.local`
  const password = 'a long enough password'
  const created = await app.inject({
    method: 'POST',
    url: '/users',
    headers: { cookie: adminCookie },
    payload: { email, password, roles },
  })
  if (created.statusCode !== 201) throw new Error(`user creation failed: ${created.body}`)
  return { cookie: await loginCookie(app, email, password), email }
}

/** A real API process (dist/main.js) on a free port, killed when the test ends. */
export async function startApiProcess(t: Test, env: Record<string, string>, name = 'api') {
  // Processes log at info: tests read their lifecycle (listening, shutdown phases) from the log.
  const child = startChildService(t, { name, script: MAIN, env: { PORT: '0', ...env, LOG_LEVEL: 'info' } })
  const line = await child.waitForLog((l) => l.msg === 'listening', 60_000)
  return { child, url: `http://127.0.0.1:${line.port as number}` }
}
