import { setTimeout as sleep } from 'node:timers/promises'
import { jobRuns } from '@tms/jobs'
import { LockService, locksPrefix } from '@tms/locks'
import { startTcpProxy } from '@tms/testing'
import { PackingClaims, SHIPMENT_CLAIM, Shipments, shipmentRequests } from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, startShop, startWorker, until } from '../support.js'

/** How long each outage lasts. */
const OUTAGE_MS = 10_000

t.test('PostgreSQL, then Redis, cut for 10 s each under sync, bulk creation and housekeeping', async (t) => {
  t.setTimeout(240_000)
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '20', SHOP_ORDERS_PER_MINUTE: '120', SHOP_PROBLEM_RATE: '0' })
  const direct = await isolatedEnv(t, {
    SHOP_API_URL: shop.url,
    JOB_SYNC_ORDERS_EVERY: '2s',
    JOB_CREATE_SHIPMENTS_EVERY: '2s',
    JOB_HOUSEKEEPING_EVERY: '2s',
    SHOP_TIMEOUT_MS: '1000',
  })
  // The worker reaches both servers through proxies the test can cut; the test itself does not.
  const database = await startTcpProxy(t, '127.0.0.1', 5432)
  const redis = await startTcpProxy(t, '127.0.0.1', 6379)
  const databaseUrl = new URL(direct.DATABASE_URL!)
  databaseUrl.port = String(database.port)
  const env = { ...direct, DATABASE_URL: databaseUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redis.port}` }
  const look = await inspector(t, direct)
  const worker = await startWorker(t, env)
  const shipments = new Shipments(look.storage)
  const succeededSince = async (since: number) => {
    const ids = ['sync-orders', 'create-shipments', 'housekeeping']
    const runs = await Promise.all(ids.map((id) => look.runs.recent(id, 50)))
    return runs.every((recent) => recent.some((r) => r.outcome === 'succeeded' && Date.parse(r.startedAt) > since))
  }
  await until(async () => (await shipments.list({ status: 'PENDING', limit: 2 })).length === 2)

  // An agent packing one shipment (a live claim), and a claim left on one packed meanwhile (stale).
  const locks = new LockService({ redis: look.redis, prefix: locksPrefix(direct.REDIS_KEY_PREFIX!) })
  const claims = new PackingClaims(locks, shipments, { ttlMs: 120_000, maxClaimsPerAgent: 3 })
  const agent = { id: 'agent-live', name: 'Ada' }
  // PostgreSQL goes away exactly when housekeeping reads a claimed shipment.
  const cut = database.refuseWhen((chunk) => chunk.includes('FROM shipments WHERE id'))
  const [live, stale] = (await shipments.list({ status: 'PENDING', limit: 2 })).map((s) => s.id) as [string, string]
  await claims.claim(live, agent)
  await claims.claim(stale, agent)
  await shipments.pack(stale, { id: 'agent-other', name: 'Bo' })
  const holder = async (id: string) => (await locks.getObjectLock(SHIPMENT_CLAIM, id))?.holder ?? null

  await cut
  t.pass('PostgreSQL cut as housekeeping read a claimed shipment')
  await sleep(OUTAGE_MS)
  t.equal(await holder(live), agent.id, 'the live claim stayed through the outage')
  t.ok(worker.running, 'the worker stayed up')
  const databaseBack = Date.now()
  database.restore()
  await until(() => succeededSince(databaseBack), 60_000)
  t.pass(`every schedule succeeded again ${Date.now() - databaseBack} ms after PostgreSQL came back`)
  await until(async () => (await holder(stale)) === null)
  t.pass('the stale claim was released once its shipment could be read')
  t.equal(await holder(live), agent.id, 'the live one was not')

  redis.refuse()
  await sleep(OUTAGE_MS)
  t.ok(worker.running, 'the worker stayed up without Redis')
  const redisBack = Date.now()
  redis.restore()
  await until(() => succeededSince(redisBack), 60_000)
  t.pass(`every schedule succeeded again ${Date.now() - redisBack} ms after Redis came back`)
  t.equal(await holder(live), agent.id, 'the live claim is still there')

  // No order skipped: everything the shop had by now becomes a request.
  const stats = (await (await fetch(`${shop.url}/stats`)).json()) as { orders: number }
  await until(async () => (await look.storage.count(shipmentRequests)) >= stats.orders, 60_000)
  const synced = new Set((await look.storage.find(shipmentRequests, { limit: 10_000 })).map((r) => r.data.orderId))
  const missing = Array.from({ length: stats.orders }, (_, i) => `SHOP-42-${i + 1}`).filter((id) => !synced.has(id))
  t.same(missing, [], `all ${stats.orders} orders the shop had were synced, none skipped`)
  // No job lost: ready requests get their shipments (the shop keeps adding, so: all but the newest).
  const readyAndWaiting = async () =>
    (await look.storage.find(shipmentRequests, { where: { status: 'OPEN', readiness: 'READY' }, limit: 10_000 })).filter(
      (r) => Date.now() - r.createdAt.getTime() > 10_000,
    ).length
  await until(async () => (await readyAndWaiting()) === 0, 60_000)
  t.pass('every ready request older than 10 s has its shipment')
  // No run left "running" by the outages: each one's end was recorded once the database was back.
  const runningLong = async () =>
    (await look.storage.find(jobRuns, { where: { outcome: 'running' }, limit: 1000 })).filter(
      (r) => Date.now() - Date.parse(r.data.startedAt) > 10_000,
    ).length
  await until(async () => (await runningLong()) === 0, 90_000)
  t.pass('no run left running')
  t.same(await worker.stop(), { code: 0, signal: null }, 'SIGTERM: a clean exit')
})
