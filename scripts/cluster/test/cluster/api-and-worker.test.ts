import { fileURLToPath } from 'node:url'
import {
  ensureTestDatabase,
  eventually,
  isolatedDatabaseUrl,
  isolatedRedisPrefix,
  startChildService,
  TEST_REDIS_URL,
} from '@tms/testing'
import t, { type Test } from 'tap'

/**
 * The API and the workers are separate processes that must agree on shared names: the jobs
 * queue (the API queues, a worker runs), the schedule registry (the API lists what workers
 * wrote) and the remote cache's namespace (a worker's write must drop what the API cached).
 * Each is defined once in the lib that owns it; this test fails if the apps ever disagree. With
 * the cluster's tests: it needs every app built, which the first turbo run of npm test does not
 * wait for.
 */
const app = (path: string) => fileURLToPath(new URL(`../../../../apps/${path}`, import.meta.url))

async function startAll(t: Test) {
  await ensureTestDatabase()
  const shop = startChildService(t, {
    name: 'shop',
    script: app('shop-sim/dist/main.js'),
    env: { PORT: '0', LOG_LEVEL: 'info', SHOP_INITIAL_ORDERS: '3', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' },
  })
  const shopPort = (await shop.waitForLog((l) => l.msg === 'listening', 30_000)).port as number
  const shared = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: isolatedRedisPrefix(t),
    DATABASE_URL: isolatedDatabaseUrl(t),
    PASSWORD_SCRYPT_LOG_N: '14',
  }
  const api = startChildService(t, {
    name: 'api',
    script: app('api/dist/main.js'),
    env: { ...shared, PORT: '0', WARM_UP_REQUESTS: '0', DRAIN_DELAY_MS: '0' },
  })
  const port = (await api.waitForLog((l) => l.msg === 'listening', 60_000)).port as number
  const worker = startChildService(t, {
    name: 'worker',
    script: app('worker/dist/main.js'),
    env: {
      ...shared,
      WORKER_HEALTH_PORT: '0',
      SHOP_API_URL: `http://127.0.0.1:${shopPort}`,
      JOB_SYNC_ORDERS_EVERY: '1h',
      JOB_CREATE_SHIPMENTS_EVERY: '1h',
      JOB_HOUSEKEEPING_EVERY: '1h',
      JOB_NOTIFY_SHIPPED_EVERY: '1h',
    },
  })
  await worker.waitForLog((l) => l.msg === 'worker started', 60_000)
  return { base: `http://127.0.0.1:${port}` }
}

t.test('the API and a worker agree on the jobs queue, the schedules and the cache they share', async (t) => {
  const { base } = await startAll(t)
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@tms.local', password: 'tms-admin-dev-password' }),
  })
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('tms.sid='))!
    .split(';')[0]!
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    return { status: response.status, json: (await response.json()) as Record<string, unknown> }
  }
  const succeededRuns = async (id: string) =>
    ((await call('GET', `/admin/jobs/${id}/runs?limit=20`)).json.items as Array<{ outcome: string }>).filter(
      (r) => r.outcome === 'succeeded',
    ).length

  // The schedules the worker wrote at start, read by the API.
  const jobs = (await call('GET', '/admin/jobs')).json.items as Array<{ id: string }>
  t.same(
    jobs.map((j) => j.id).sort(),
    ['create-shipments', 'housekeeping', 'notify-shipped', 'sync-orders'],
    'the API lists what the worker wrote',
  )
  // The schedules' first ticks run at once: the shop's 3 orders become requests.
  await eventually(async () => (await succeededRuns('sync-orders')) > 0, { everyMs: 100, what: 'a sync-orders run' })
  const runBulkCreation = async () => {
    const before = await succeededRuns('create-shipments')
    t.equal((await call('POST', '/admin/jobs/create-shipments/run')).status, 202, 'the API queues a run')
    await eventually(async () => (await succeededRuns('create-shipments')) > before, {
      everyMs: 100,
      what: 'a create-shipments run',
    })
  }
  await runBulkCreation()
  t.pass('a worker took it from the same queue')
  t.same((await call('GET', '/shipments/counts')).json, { PENDING: 3, PACKED: 0, SHIPPED: 0 }, 'counts, now cached by the API')

  const request = await call('POST', '/shipment-requests', {
    orderId: 'o-agreement',
    items: [{ sku: 'TRK-DOG-4', quantity: 1 }],
    address: { name: 'Ada', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' },
  })
  t.equal(request.status, 201)
  await runBulkCreation()
  // The counts are cached for 30 s; the worker's bulk creation dropped them in the shared namespace.
  t.same(
    (await call('GET', '/shipments/counts')).json,
    { PENDING: 4, PACKED: 0, SHIPPED: 0 },
    'the API sees the new shipment at once',
  )
})
