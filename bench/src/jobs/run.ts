/**
 * bench/jobs: the job runner with 1 worker beside 3 workers, in the same run.
 *  - tick lateness: how long after its scheduled slot a tick starts (create-shipments every 500 ms);
 *  - notifications: shipped shipments told to the shop per second, and the workers' CPU for each,
 *    one notify-shop job per shipment (as older APIs queued them) beside one notify-shipped run.
 *
 *   npm run bench:jobs [-- --tick-seconds 30 --jobs 600]
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { JobRuns, JobsAdmin, openJobsQueue, ScheduleRegistry } from '@tms/jobs'
import { connectRedis, createRedis } from '@tms/redis'
import { openStorage } from '@tms/storage'
import {
  ChildService,
  deleteKeys,
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '@tms/testing'
import {
  ShipmentRequests,
  Shipments,
  type ShipmentView,
  shipments as shipmentsCollection,
  WAREHOUSE_COLLECTIONS,
} from '@tms/warehouse'
import { cpuSeconds, percentile } from '../machine.js'

const { values } = parseArgs({
  options: { 'tick-seconds': { type: 'string', default: '30' }, jobs: { type: 'string', default: '600' } },
})
const tickSeconds = Number(values['tick-seconds'])
const jobCount = Number(values.jobs)
const WORKER = fileURLToPath(new URL('../../../apps/worker/dist/main.js', import.meta.url))
const SHOP = fileURLToPath(new URL('../../../apps/shop-sim/dist/main.js', import.meta.url))
const log = (line: string) => process.stderr.write(`${line}\n`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const address = { name: 'Bench', street: 'Main 1', city: 'Linz', postalCode: '4020', country: 'AT' }

await ensureTestDatabase()
const shop = new ChildService({
  name: 'shop',
  script: SHOP,
  env: { PORT: '0', LOG_LEVEL: 'info', SHOP_INITIAL_ORDERS: '0', SHOP_ORDERS_PER_MINUTE: '0' },
})
const shopUrl = `http://127.0.0.1:${(await shop.waitForLog((l) => l.msg === 'listening')).port as number}`

async function world(name: string) {
  const prefix = `bench:${uniqueName(name)}:`
  const schema = uniqueName(name)
  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('schema', schema)
  const redis = createRedis(TEST_REDIS_URL, { connectionName: `bench-${name}`, role: 'blocking' })
  await connectRedis(redis)
  const storage = openStorage(url.toString())
  const queue = openJobsQueue(redis, prefix)
  const runs = new JobRuns(storage)
  const env = (extra: Record<string, string>) => ({
    LOG_LEVEL: 'warn',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    DATABASE_URL: url.toString(),
    WORKER_HEALTH_PORT: '0',
    SHOP_API_URL: shopUrl,
    JOB_SYNC_ORDERS_EVERY: '1h',
    JOB_CREATE_SHIPMENTS_EVERY: '1h',
    JOB_HOUSEKEEPING_EVERY: '1h',
    JOB_NOTIFY_SHIPPED_EVERY: '1h',
    ...extra,
  })
  const workers: ChildService[] = []
  const start = async (count: number, extra: Record<string, string>) => {
    for (let i = 0; i < count; i++) workers.push(new ChildService({ name: `${name}-${i}`, script: WORKER, env: env(extra) }))
    // The workers log at warn; the schedule table appearing in the registry says one is up.
    for (let i = 0; i < 200 && (await new ScheduleRegistry(redis, prefix).records()).size < 4; i++) await sleep(100)
    await sleep(2000)
  }
  const close = async () => {
    await Promise.all(workers.map((w) => w.stop(30_000)))
    await queue.close()
    redis.disconnect()
    await storage.close()
    await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
    await dropSchema(TEST_DATABASE_URL, schema)
  }
  return {
    prefix,
    storage,
    queue,
    runs,
    workers,
    start,
    close,
    admin: new JobsAdmin(queue, new ScheduleRegistry(redis, prefix), runs),
  }
}

async function lateness(workerCount: number): Promise<number[]> {
  const w = await world(`late${workerCount}`)
  try {
    await w.start(workerCount, { JOB_CREATE_SHIPMENTS_EVERY: '500ms' })
    const from = Date.now()
    await sleep(tickSeconds * 1000)
    return (await w.runs.all('create-shipments'))
      .filter((r) => r.trigger === 'schedule' && r.tick && Date.parse(r.tick) > from)
      .map((r) => Date.parse(r.startedAt) - Date.parse(r.tick!))
  } finally {
    await w.close()
  }
}

type NotifyMode = 'per-shipment' | 'batched'

/**
 * How fast `jobCount` shipped shipments reach the shop, and the workers' CPU per shipment:
 *  - per-shipment: one notify-shop job each, as APIs queued them before notify-shipped;
 *  - batched: one notify-shipped run for all, 100 per shop call.
 */
async function throughput(workerCount: number, mode: NotifyMode): Promise<{ perSecond: number; cpuMsEach: number }> {
  const w = await world(`${mode === 'batched' ? 'batch' : 'each'}${workerCount}`)
  try {
    await w.storage.migrate(WAREHOUSE_COLLECTIONS)
    await w.start(workerCount, {})
    // A schedule runs once when it is created: let that run (with nothing to send) pass first.
    while ((await w.runs.all('notify-shipped')).length === 0) await sleep(50)
    const requests = new ShipmentRequests(w.storage)
    const shipments = new Shipments(w.storage)
    for (let i = 0; i < jobCount; i++)
      await requests.submit({ orderId: `bench-${i}`, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
    await shipments.createForReadyRequests()
    const shipped: ShipmentView[] = []
    for (const s of await shipments.list({ status: 'PENDING', limit: jobCount })) {
      await shipments.pack(s.id, { id: 'bench', name: 'bench' })
      const trackingNumber = `TRK-${i(shipped.length)}`
      if (mode === 'batched') shipped.push(await shipments.ship(s.id, trackingNumber, { id: 'bench', mayShipAny: false }))
      else {
        // As an API before notify-shipped shipped: nothing marked DUE (the job is queued below).
        const current = (await w.storage.get(shipmentsCollection, s.id))!
        await w.storage.update(shipmentsCollection, current, {
          status: 'SHIPPED',
          trackingNumber,
          shippedAt: new Date().toISOString(),
        })
        shipped.push({ ...s, trackingNumber })
      }
    }
    const cpu = () => w.workers.reduce((sum, worker) => sum + cpuSeconds(worker.process.pid!), 0)
    const cpuBefore = cpu()
    const started = Date.now()
    if (mode === 'batched') {
      await w.admin.runNow('notify-shipped')
      for (;;) {
        const runs = await w.runs.all('notify-shipped')
        if (runs.some((r) => r.trigger === 'on-demand' && r.outcome === 'succeeded')) break
        await sleep(20)
      }
    } else {
      await Promise.all(
        shipped.map((s) => w.admin.notifyShop({ shipmentId: s.id, orderId: s.orderId, trackingNumber: s.trackingNumber! })),
      )
      for (;;) {
        const done = (await w.runs.all('notify-shop')).filter((r) => r.outcome === 'succeeded').length
        if (done >= shipped.length) break
        await sleep(20)
      }
    }
    const seconds = (Date.now() - started) / 1000
    const told = (await w.storage.find(shipmentsCollection, { limit: jobCount })).filter((s) => s.data.shopNotifiedAt)
    if (told.length !== shipped.length) throw new Error(`${mode}: ${shipped.length - told.length} of ${shipped.length} not told`)
    return { perSecond: shipped.length / seconds, cpuMsEach: ((cpu() - cpuBefore) * 1000) / shipped.length }
  } finally {
    await w.close()
  }
}
const i = (n: number) => String(n).padStart(6, '0')

try {
  type Result = { p50: number; p99: number; ticks: number } & Record<NotifyMode, { perSecond: number; cpuMsEach: number }>
  const results: Record<number, Result> = {}
  for (const count of [1, 3]) {
    log(`tick lateness with ${count} worker(s), ${tickSeconds} s...`)
    const late = await lateness(count)
    log(`notifications with ${count} worker(s), ${jobCount} shipments, one job each...`)
    const each = await throughput(count, 'per-shipment')
    log(`notifications with ${count} worker(s), ${jobCount} shipments, one notify-shipped run...`)
    const batched = await throughput(count, 'batched')
    results[count] = {
      p50: percentile(late, 50),
      p99: percentile(late, 99),
      ticks: late.length,
      'per-shipment': each,
      batched,
    }
  }
  const row = (count: number) => {
    const r = results[count]!
    return `| ${count} | ${r.ticks} | ${r.p50} | ${r.p99} | ${r['per-shipment'].perSecond.toFixed(0)} | ${r['per-shipment'].cpuMsEach.toFixed(2)} | ${r.batched.perSecond.toFixed(0)} | ${r.batched.cpuMsEach.toFixed(2)} |`
  }
  const ratio = (count: number) =>
    `${count} worker(s): batched / per-shipment: worker CPU per notification ${(results[count]!.batched.cpuMsEach / results[count]!['per-shipment'].cpuMsEach).toFixed(3)}, notifications/s ${(results[count]!.batched.perSecond / results[count]!['per-shipment'].perSecond).toFixed(1)}`
  console.log(`
| workers | ticks (500 ms, ${tickSeconds} s) | tick lateness p50 ms | p99 ms | per-shipment jobs: notified/s | worker CPU ms each | notify-shipped: notified/s | worker CPU ms each |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${row(1)}
${row(3)}

3 workers / 1 worker: lateness p99 ${(results[3]!.p99 / results[1]!.p99).toFixed(2)}, per-shipment throughput ${(results[3]!['per-shipment'].perSecond / results[1]!['per-shipment'].perSecond).toFixed(2)}
${ratio(1)}
${ratio(3)}
`)
} finally {
  await shop.stop()
}
