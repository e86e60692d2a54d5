/**
 * bench/jobs: the job runner with 1 worker beside 3 workers, in the same run.
 *  - tick lateness: how long after its scheduled slot a tick starts (create-shipments every 500 ms);
 *  - on-demand throughput: notify-shop jobs (one per shipped shipment) processed per second.
 *
 *   npm run bench:jobs [-- --tick-seconds 30 --jobs 600]
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { openJobsQueue, JobRuns, JobsAdmin, ScheduleRegistry } from '@tms/jobs'
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
import { ShipmentRequests, Shipments, WAREHOUSE_COLLECTIONS } from '@tms/warehouse'
import { percentile } from '../machine.js'

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
    ...extra,
  })
  const workers: ChildService[] = []
  const start = async (count: number, extra: Record<string, string>) => {
    for (let i = 0; i < count; i++) workers.push(new ChildService({ name: `${name}-${i}`, script: WORKER, env: env(extra) }))
    // The workers log at warn; the schedule table appearing in the registry says one is up.
    for (let i = 0; i < 200 && (await new ScheduleRegistry(redis, prefix).records()).size < 3; i++) await sleep(100)
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
  return { prefix, storage, queue, runs, start, close, admin: new JobsAdmin(queue, new ScheduleRegistry(redis, prefix), runs) }
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

async function throughput(workerCount: number): Promise<number> {
  const w = await world(`thru${workerCount}`)
  try {
    await w.storage.migrate(WAREHOUSE_COLLECTIONS)
    const requests = new ShipmentRequests(w.storage)
    const shipments = new Shipments(w.storage)
    for (let i = 0; i < jobCount; i++)
      await requests.submit({ orderId: `bench-${i}`, items: [{ sku: 'TRK-DOG-4', quantity: 1 }], address })
    await shipments.createForReadyRequests()
    const shipped = []
    for (const s of await shipments.list({ status: 'PENDING', limit: jobCount })) {
      await shipments.pack(s.id, { id: 'bench', name: 'bench' })
      shipped.push(await shipments.ship(s.id, `TRK-${i(shipped.length)}`, { id: 'bench', mayShipAny: false }))
    }
    await w.start(workerCount, {})
    const started = Date.now()
    await Promise.all(
      shipped.map((s) => w.admin.notifyShop({ shipmentId: s.id, orderId: s.orderId, trackingNumber: s.trackingNumber! })),
    )
    for (;;) {
      const done = (await w.runs.all('notify-shop')).filter((r) => r.outcome === 'succeeded').length
      if (done >= shipped.length) break
      await sleep(50)
    }
    return shipped.length / ((Date.now() - started) / 1000)
  } finally {
    await w.close()
  }
}
const i = (n: number) => String(n).padStart(6, '0')

try {
  const results: Record<string, { p50: number; p99: number; ticks: number; jobsPerSecond: number }> = {}
  for (const count of [1, 3]) {
    log(`tick lateness with ${count} worker(s), ${tickSeconds} s...`)
    const late = await lateness(count)
    log(`on-demand throughput with ${count} worker(s), ${jobCount} jobs...`)
    const rate = await throughput(count)
    results[count] = { p50: percentile(late, 50), p99: percentile(late, 99), ticks: late.length, jobsPerSecond: rate }
  }
  const row = (count: number) =>
    `| ${count} | ${results[count]!.ticks} | ${results[count]!.p50} | ${results[count]!.p99} | ${results[count]!.jobsPerSecond.toFixed(0)} |`
  console.log(`
| workers | ticks (500 ms, ${tickSeconds} s) | tick lateness p50 ms | p99 ms | notify-shop jobs/s (${jobCount} jobs) |
| ---: | ---: | ---: | ---: | ---: |
${row(1)}
${row(3)}

3 workers / 1 worker: lateness p99 ${(results[3]!.p99 / results[1]!.p99).toFixed(2)}, throughput ${(results[3]!.jobsPerSecond / results[1]!.jobsPerSecond).toFixed(2)}
`)
} finally {
  await shop.stop()
}
