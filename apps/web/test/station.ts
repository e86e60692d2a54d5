import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromiumLaunchOptions } from '@tms/config'
import { openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { LockService, locksPrefix } from '@tms/locks'
import { connectRedis, createRedis } from '@tms/redis'
import { ensureTestDatabase, isolatedDatabaseUrl, isolatedRedisPrefix, startChildService, TEST_REDIS_URL } from '@tms/testing'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { Test } from 'tap'

const API_MAIN = fileURLToPath(new URL('../../api/dist/main.js', import.meta.url))
const WEB_DIST = fileURLToPath(new URL('../dist', import.meta.url))
export const ADMIN = { email: 'admin@station.test', password: 'admin password for the station' }
export const AGENT = { email: 'agent@station.test', password: 'agent password at station 1', roles: ['agent'] }
export const OPERATOR = { email: 'operator@station.test', password: 'operator password, a long one', roles: ['operator'] }
const address = { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

/** Where screenshots go: docs/ when asked (UPDATE_SCREENSHOTS=1), else a scratch directory. */
export function screenshotPath(name: string): string {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? fileURLToPath(new URL('../../../docs/', import.meta.url))
      : '/tmp/tms-web-screenshots/'
  mkdirSync(dir, { recursive: true })
  return `${dir}${name}.png`
}

/**
 * A real API process serving the built web app, on its own Redis prefix and schema, with an
 * agent and an operator, and a browser. Everything is stopped when the test ends.
 */
export async function startStation(t: Test, extraEnv: Record<string, string> = {}) {
  await ensureTestDatabase()
  const env = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: '0',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    DRAIN_DELAY_MS: '0',
    WARM_UP_REQUESTS: '0',
    PASSWORD_SCRYPT_LOG_N: '10',
    WEB_APP_DIR: WEB_DIST,
    ...extraEnv,
  }
  const api = startChildService(t, { name: 'api', script: API_MAIN, env })
  const listening = await api.waitForLog((l) => l.msg === 'listening', 60_000)
  const url = `http://127.0.0.1:${listening.port as number}`

  const admin = await login(url, ADMIN)
  for (const user of [AGENT, OPERATOR]) await call(url, admin, 'POST', '/users', user)

  const browser = await chromium.launch(chromiumLaunchOptions())
  t.teardown(() => browser.close())
  return { url, env, api, admin, browser, createShipments: (n: number) => createShipments(url, admin, n) }
}

export async function login(url: string, who: { email: string; password: string }): Promise<string> {
  const response = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: who.email, password: who.password }),
  })
  if (response.status !== 200) throw new Error(`login ${who.email}: ${response.status} ${await response.text()}`)
  return response.headers
    .getSetCookie()
    .find((c) => c.startsWith('tms.sid='))!
    .split(';')[0]!
}

export async function call<T = unknown>(url: string, cookie: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return (response.status === 204 ? null : await response.json()) as T
}

let orders = 0
async function createShipments(url: string, admin: string, count: number): Promise<string[]> {
  const created: string[] = []
  for (let i = 0; i < count; i++) {
    const orderId = `o-${++orders}`
    await call(url, admin, 'POST', '/shipment-requests', { orderId, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
    created.push(orderId)
  }
  await call(url, admin, 'POST', '/shipments/bulk')
  return created
}

/** The schedule table a worker writes at start, written here so the operator has jobs to steer. */
export async function registerSchedules(t: Test, env: Record<string, string>): Promise<void> {
  const redis = createRedis(env.REDIS_URL!, { connectionName: 'station-test', role: 'blocking' })
  t.teardown(() => redis.disconnect())
  await connectRedis(redis)
  const queue = openJobsQueue(redis, env.REDIS_KEY_PREFIX!)
  t.teardown(() => queue.close())
  await new ScheduleRegistry(redis, env.REDIS_KEY_PREFIX!).sync({
    queue,
    locks: new LockService({ redis, prefix: locksPrefix(env.REDIS_KEY_PREFIX!) }),
    table: [{ id: 'sync-orders', every: 300_000, maxRunTimeMs: 60_000 }],
    version: 1,
    instance: 'station-test',
  })
}

/** A fresh browser page that records what a person would notice: failed requests, alerts, logouts. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; failedRequests: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 720 } })
  const page = await context.newPage()
  const failedRequests: string[] = []
  page.on('requestfailed', (request) => failedRequests.push(`${request.method()} ${request.url()}`))
  await page.goto(url)
  return { page, failedRequests }
}

export async function logIn(page: Page, who: { email: string; password: string }): Promise<void> {
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Log in' }).click()
}
