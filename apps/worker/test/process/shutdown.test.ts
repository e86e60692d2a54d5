import { generousBound } from '@tms/testing'
import { shipmentRequests, shipments } from '@tms/warehouse'
import t from 'tap'
import { inspector, isolatedEnv, shopFault, startShop, startWorker, until } from '../support.js'

/**
 * The job: the schedule's own first tick (an interval schedule ticks once when created, as the
 * worker starts), made slow by the shop's first answer. Long enough to be seen running however
 * long the worker's start takes on a busy machine (CI once saw a 5 s job end unseen), and below
 * the worker's shop timeout. No run-now beside it: two syncs would race for the one slow answer.
 */
const SLOW_SHOP = { mode: 'slow', requests: 1, delayMs: 15_000 }
const SHOP_TIMEOUT_MS = '60000'

t.test('SIGTERM during a slow job: the job completes, then the process exits 0', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '12', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_TIMEOUT_MS })
  const look = await inspector(t, env)
  await shopFault(shop.url, SLOW_SHOP)
  const worker = await startWorker(t, env)
  const running = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome === 'running'))
  const signalledAt = Date.now()
  worker.signal('SIGTERM')
  const exit = await worker.exited
  t.same(exit, { code: 0, signal: null }, `exit 0 after ${Date.now() - signalledAt} ms`)
  const run = (await look.runs.all('sync-orders')).find((r) => r.id === running.id)
  t.match(run, { outcome: 'succeeded', result: { created: 12 } }, 'the job running at the signal finished its work')
  t.ok(Date.parse(run!.endedAt!) >= signalledAt, 'after the signal: the worker waited for it')
  t.equal(await look.storage.count(shipmentRequests), 12)
})

t.test('SIGKILL during the job: another instance runs it again, within its lock and stalled check; nothing twice', async (t) => {
  const shop = await startShop(t, { SHOP_INITIAL_ORDERS: '30', SHOP_ORDERS_PER_MINUTE: '0', SHOP_PROBLEM_RATE: '0' })
  const env = await isolatedEnv(t, { SHOP_API_URL: shop.url, SHOP_TIMEOUT_MS, JOB_LOCK_MS: '5000', JOB_STALLED_CHECK_MS: '5000' })
  const look = await inspector(t, env)
  await shopFault(shop.url, SLOW_SHOP)
  const workers = [await startWorker(t, env, 'k1'), await startWorker(t, env, 'k2')]
  const first = await until(async () => (await look.runs.all('sync-orders')).find((r) => r.outcome === 'running'))
  const jobId = first.jobId
  const victim = workers.find((w) => w.logs.some((l) => l.instance === first.instance))!
  const survivor = workers.find((w) => w !== victim)!
  const killedAt = Date.now()
  victim.signal('SIGKILL')
  await victim.exited
  const rerun = await until(async () =>
    (await look.runs.all('sync-orders')).find((r) => r.jobId === jobId && r.instance !== first.instance),
  )
  const rerunAfterMs = Date.parse(rerun.startedAt) - killedAt
  // BullMQ hands a dead worker's job on once its lock lapses and the stalled check runs.
  const handOnMs = Number(env.JOB_LOCK_MS) + Number(env.JOB_STALLED_CHECK_MS)
  t.ok(
    rerunAfterMs <= generousBound(handOnMs),
    `re-run ${rerunAfterMs} ms after the SIGKILL (lock + stalled check: ${handOnMs} ms)`,
  )
  const done = await until(async () =>
    (await look.runs.all('sync-orders')).find((r) => r.jobId === jobId && r.outcome === 'succeeded'),
  )
  t.equal(done.instance, rerun.instance)
  t.equal(await look.storage.count(shipmentRequests), 30, 'every order once')

  const onDemand = (id: string) =>
    look.runs.all(id).then((runs) => runs.filter((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded'))
  await look.admin.runNow('create-shipments')
  await until(async () => (await onDemand('create-shipments')).length >= 1)
  await look.admin.runNow('sync-orders')
  await until(async () => (await onDemand('sync-orders')).length >= 1)
  t.equal(await look.storage.count(shipmentRequests), 30, 'a further sync adds no request twice')
  t.equal(await look.storage.count(shipments), 30, 'one shipment per request')
  await survivor.stop()
})
