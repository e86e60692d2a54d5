/**
 * bench/warm-up: how much slower a just-started API instance answers its first requests than
 * it does once settled, with the warm-up before readiness (apps/api/src/warm-up.ts, the default
 * WARM_UP_REQUESTS) and without it (0). Each round starts a fresh process of each kind, back to
 * back, order swapped every other round; the same client sends both the same requests.
 *
 * The requests are an agent's and an operator's reads and claims on real shipments, not the
 * warm-up's own mix (which uses absent ids), so the warm-up is not measured on what it rehearsed.
 *
 *   npm run bench:warm-up [-- --rounds 10 --first 100 --settled 1500]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  type ChildService,
  deleteKeys,
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '@tms/testing'
import { Redis } from 'ioredis'
import { benchAdminSession, startBenchApi } from '../api-process.js'
import { cpuSeconds, median, onCore, pinLocalRedis, pinSelf } from '../machine.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    /** The first requests a new instance answers: what the balancer sends it on joining. */
    first: { type: 'string', default: '100' },
    /** Then this many more; the last third of them is the settled baseline. */
    settled: { type: 'string', default: '1500' },
    'warm-up-requests': { type: 'string', default: '600' },
  },
})
const rounds = Number(values.rounds)
const first = Number(values.first)
const settled = Number(values.settled)

const VARIANTS = { cold: '0', warm: values['warm-up-requests'] } as const
type Variant = keyof typeof VARIANTS

// The instance on core 0, this client and a local Redis on core 1 (docs/benchmarks.md).
const serverWrapper = onCore(0)
pinSelf(1)

await ensureTestDatabase()
const dbUrl = new URL(TEST_DATABASE_URL)
dbUrl.searchParams.set('schema', uniqueName('bench'))
const prefix = `bench:${uniqueName('w')}:`
const redis = new Redis(TEST_REDIS_URL)

/** Every instance started, so that a failed run leaves no process behind. */
const running = new Set<ChildService>()
process.on('exit', () => {
  for (const child of running) child.process.kill('SIGKILL')
})

async function stopInstance(child: ChildService): Promise<void> {
  child.process.kill('SIGTERM')
  await child.exited
  running.delete(child)
}

async function startInstance(warmUpRequests: string): Promise<{ child: ChildService; base: string }> {
  const started = await startBenchApi({
    name: `api-${warmUpRequests}`,
    redisPrefix: prefix,
    databaseUrl: dbUrl.toString(),
    wrapper: serverWrapper,
    env: { WARM_UP_REQUESTS: warmUpRequests },
  })
  running.add(started.child)
  return started
}

async function call(base: string, cookie: string, method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  await response.arrayBuffer()
  return response
}

let orders = 0
const shipmentRequest = () => ({
  orderId: `${prefix}${++orders}`,
  items: [{ sku: 'TRK-DOG-4', quantity: 1 + (orders % 3) }],
  address: { name: 'Bench Customer', street: 'Lagerstrasse 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
})

// Shipments to read and claim: 100 requests turned into shipments by the bulk run.
const seeder = await startInstance('0')
const cookie = await benchAdminSession(seeder.base)
const requestIds: string[] = []
for (let i = 0; i < 100; i++) {
  const reply = await call(seeder.base, cookie, 'POST', '/shipment-requests', shipmentRequest())
  if (reply.status !== 201) throw new Error(`seeding failed: ${reply.status}`)
}
const listed = await fetch(`${seeder.base}/shipment-requests?limit=100`, { headers: { cookie } })
for (const r of ((await listed.json()) as { items: Array<{ id: string }> }).items) requestIds.push(r.id)
await call(seeder.base, cookie, 'POST', '/shipments/bulk')
const pending = (await (await fetch(`${seeder.base}/shipments?status=PENDING&limit=100`, { headers: { cookie } })).json()) as {
  items: Array<{ id: string }>
}
const shipmentIds = pending.items.map((s) => s.id)
await stopInstance(seeder.child)
if (shipmentIds.length < 50 || requestIds.length < 50) throw new Error('seeding left too few shipments or requests')

/** One agent's and one operator's requests, in turn; claims by the same holder keep the claim. */
function mix(i: number): [string, string, unknown?] {
  const cycle = Math.floor(i / 9)
  const shipment = shipmentIds[cycle % shipmentIds.length]!
  const steps: Array<[string, string, unknown?]> = [
    ['GET', '/shipments?status=PENDING&limit=50'],
    ['POST', `/shipments/${shipment}/claim`],
    ['GET', `/shipments/${shipment}`],
    ['POST', `/shipments/${shipment}/claim/extend`],
    ['GET', '/shipments/counts'],
    ['POST', '/shipment-requests', shipmentRequest()],
    ['GET', `/shipment-requests/${requestIds[cycle % requestIds.length]}`],
    ['GET', '/admin/jobs'],
    ['GET', '/shipment-requests?status=OPEN&limit=20'],
  ]
  return steps[i % 9]!
}

interface Run {
  firstMs: number
  /** The mean shows the few very slow first answers that the median passes over. */
  firstMeanMs: number
  settledMs: number
  bootCpuS: number
}

async function measure(variant: Variant): Promise<Run> {
  const { child, base } = await startInstance(VARIANTS[variant])
  const bootCpuS = cpuSeconds(child.process.pid!)
  const latencies: number[] = []
  for (let i = 0; i < first + settled; i++) {
    const [method, path, body] = mix(i)
    const started = performance.now()
    const reply = await call(base, cookie, method, path, body)
    latencies.push(performance.now() - started)
    if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status}`)
  }
  await stopInstance(child)
  return {
    firstMs: median(latencies.slice(0, first)),
    firstMeanMs: latencies.slice(0, first).reduce((a, b) => a + b, 0) / first,
    settledMs: median(latencies.slice(-Math.floor(settled / 3))),
    bootCpuS,
  }
}

const unpinRedis = await pinLocalRedis(redis, TEST_REDIS_URL, 1)
const runs: Record<Variant, Run[]> = { cold: [], warm: [] }
const pairs: number[] = []
try {
  for (let round = 1; round <= rounds; round++) {
    const order: Variant[] = round % 2 ? ['cold', 'warm'] : ['warm', 'cold']
    const result = {} as Record<Variant, Run>
    for (const variant of order) result[variant] = await measure(variant)
    runs.cold.push(result.cold)
    runs.warm.push(result.warm)
    pairs.push(result.warm.firstMs / result.cold.firstMs)
    process.stderr.write(
      `round ${round}/${rounds}: first ${first} requests, median ms: cold ${result.cold.firstMs.toFixed(2)}, warm ${result.warm.firstMs.toFixed(2)}\n`,
    )
  }
} finally {
  unpinRedis()
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
  await dropSchema(TEST_DATABASE_URL, dbUrl.searchParams.get('schema')!)
  redis.disconnect()
}

const row = (variant: Variant) => {
  const r = runs[variant]
  const slowdown = median(r.map((x) => x.firstMs / x.settledMs))
  return `| ${variant === 'cold' ? `no warm-up (baseline)` : `warm-up of ${VARIANTS.warm} requests`} | ${median(r.map((x) => x.firstMs)).toFixed(2)} | ${median(r.map((x) => x.firstMeanMs)).toFixed(2)} | ${median(r.map((x) => x.settledMs)).toFixed(2)} | ${slowdown.toFixed(2)}x | ${median(r.map((x) => x.bootCpuS)).toFixed(2)} |`
}
const table = [
  `| new instance (median of ${rounds} rounds) | first ${first} requests, median ms | mean ms | settled, median ms | first / settled | CPU s until ready |`,
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  row('cold'),
  row('warm'),
  '',
  `warm / cold, first ${first} requests: ${median(pairs).toFixed(2)} (median of the per-round ratios, ${Math.min(...pairs).toFixed(2)}-${Math.max(...pairs).toFixed(2)})`,
].join('\n')
console.log(table)
const dir = fileURLToPath(new URL('../../results/', import.meta.url))
mkdirSync(dir, { recursive: true })
writeFileSync(`${dir}warm-up-${new Date().toISOString().replace(/[:.]/g, '-')}.md`, `${table}\n`)
