import { setTimeout as sleep } from 'node:timers/promises'
import { shipmentRequests, shipments } from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, shopFault, startShop, startWorker } from './support.js'

async function until<T>(check: () => Promise<T | undefined | null | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(50)
  }
}

t.test('SIGTERM during a 5 s job: the job completes, then the process exits 0', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '12', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const worker = await startWorker(t, env)
  await shopFault(shop.url, { mode: 'slow', requests: 1, delayMs: 5000 })
  await look.admin.runNow('sync-orders')
  await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome === 'running'))
  const signalledAt = Date.now()
  worker.signal('SIGTERM')
  const exit = await worker.exited
  t.same(exit, { code: 0, signal: null }, `exit 0 after ${Date.now() - signalledAt} ms`)
  const [run] = await look.runs.all('sync-orders')
  t.match(run, { outcome: 'succeeded', result: { created: 12 } }, 'the job finished its work')
  t.ok(Date.now() - signalledAt >= 4000, 'the worker waited for it')
  t.equal(await look.storage.count(shipmentRequests), 12)
})

t.test('SIGKILL during the job: another instance runs it again, within 15 s; nothing twice', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '30', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url })
  const look = await inspector(t, env)
  const workers = [await startWorker(t, env, 'k1'), await startWorker(t, env, 'k2')]
  await shopFault(shop.url, { mode: 'slow', requests: 1, delayMs: 8000 })
  const { jobId } = await look.admin.runNow('sync-orders')
  const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome === 'running'))
  const victim = workers.find((w) => w.logs.some((l) => l.instance === first.instance))!
  const survivor = workers.find((w) => w !== victim)!
  const killedAt = Date.now()
  victim.signal('SIGKILL')
  await victim.exited
  const rerun = await until(
    async () => (await look.runs.all('sync-orders')).find((r) => r.jobId === jobId && r.instance !== first.instance),
    30_000,
  )
  const rerunAfterMs = Date.parse(rerun.startedAt) - killedAt
  t.comment(`re-run started ${rerunAfterMs} ms after the SIGKILL (lock 5 s + stalled check 5 s)`)
  t.ok(rerunAfterMs <= 15_000, `re-run within 15 s (${rerunAfterMs} ms)`)
  const done = await until(async () =>
    (await look.runs.all('sync-orders')).find((r) => r.jobId === jobId && r.outcome === 'succeeded'),
  )
  t.equal(done.instance, rerun.instance)
  t.equal(await look.storage.count(shipmentRequests), 30, 'every order once')

  // (Interval schedules also tick once when first created, at start: only on-demand runs count here.)
  const onDemand = (id: string) =>
    look.runs.all(id).then((runs) => runs.filter((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded'))
  await look.admin.runNow('create-shipments')
  await until(async () => (await onDemand('create-shipments')).length >= 1)
  await look.admin.runNow('sync-orders')
  await until(async () => (await onDemand('sync-orders')).length >= 2)
  t.equal(await look.storage.count(shipmentRequests), 30, 'a further sync adds no request twice')
  t.equal(await look.storage.count(shipments), 30, 'one shipment per request')
  await survivor.stop()
})
