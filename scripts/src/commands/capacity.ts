/**
 * npm run bench:capacity: the steady-state capacity of the local cluster under the rehearsal's
 * mix, and the CPU each component spends per request, for this checkout and (--baseline) an
 * earlier release built from git, one after the other on the same machine, so their ratio is
 * what the host's speed cancels out of.
 *
 *   npm run bench:capacity -- [--baseline <git-ref>] [--api 3] [--workers 2] [--step 15s]
 *                             [--rates 100,200,300,400,500,600,700,800,1000] [--p99 100] [--lag 20]
 *
 * Stepped open-model search: each rate runs --step of the mix; the capacity is the highest rate
 * whose p99 stays under --p99 ms with the generator on schedule (its worst lag under --lag ms).
 * The search stops at the first rate that misses either. No deploy runs.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { DEV_DEFAULTS, parseDuration } from '@tms/config'
import { seededRandom, uniqueName } from '@tms/sandbox'
import { REPO_ROOT } from '../cluster/cluster-definition.js'
import { CpuMeter, pidsNamed } from '../capacity/process-cpu.js'
import { HttpClient } from '../rehearsal/http-client.js'
import { percentile } from '../rehearsal/load-summary.js'
import { runOpenModel } from '../rehearsal/open-model.js'
import { type Environment, localEnvironment } from '../rehearsal/rehearsal.js'
import { WarehouseMix } from '../rehearsal/warehouse-mix.js'

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    api: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    step: { type: 'string', default: '15s' },
    rates: { type: 'string', default: '100,200,300,400,500,600,700,800,1000' },
    p99: { type: 'string', default: '100' },
    lag: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
})
const say = (line: string) => process.stderr.write(`[capacity] ${line}\n`)
const stepMs = parseDuration(values.step!) ?? 15_000
const rates = values.rates!.split(',').map(Number)
const maxP99 = Number(values.p99)
const maxLag = Number(values.lag)

interface Step {
  rate: number
  requests: number
  p50: number
  p99: number
  lagMs: number
  failed: number
  passed: boolean
  /** CPU milliseconds per request, per component. */
  cpuMsPerRequest: Record<string, number>
}

interface Search {
  release: string
  capacity: number | null
  steps: Step[]
  /** CPU ms per second each component spends with no load at all (job ticks, health checks): left out of the per-request figures. */
  idleCpuMsPerSecond: Record<string, number>
  /** The API's CPU per `GET /auth/me` (a session read) at the same cluster, net of idle: the yardstick of a request's cost. */
  sessionReadApiCpuMs: number
}

/**
 * The rate at which releases' CPU per request is compared, and the yardstick is measured: below
 * either's capacity on this machine, and fixed, because CPU per request falls as the rate rises
 * (more requests share each write to a socket and each Redis pipeline).
 */
const REFERENCE_RATE = 300

/** Which processes make up each component, read anew at each step (instances do not change here). */
function components(environment: Environment): () => Record<string, number[]> {
  return () => {
    const processes = environment.processes?.() ?? []
    const named = (prefix: string) => processes.filter((p) => p.name.startsWith(prefix)).map((p) => p.pid)
    return {
      api: named('api-'),
      worker: named('worker-'),
      postgres: pidsNamed('postgres'),
      redis: pidsNamed('redis-server'),
      haproxy: named('haproxy'),
      shop: named('shop-'),
      'load generator': [process.pid],
    }
  }
}

async function search(label: string, from: string | undefined): Promise<Search> {
  const maxRate = Math.max(...rates)
  const environment = await localEnvironment(
    {
      title: `capacity ${label}`,
      rate: maxRate,
      durationMs: stepMs,
      api: Number(values.api),
      workers: Number(values.workers),
      strategy: 'rolling',
      stopOrder: 'lb-first',
      state: 'stateless',
      ...(from ? { from } : {}),
      keep: false,
      seed: 1,
      runDir: `${REPO_ROOT}.local/capacity/${label.replace(/[^A-Za-z0-9._-]+/g, '-')}`,
      maxLatencyRatio: null,
      browserAgents: 0,
      log: say,
    },
    () => undefined,
  )
  const client = new HttpClient(environment.url)
  try {
    const mix = new WarehouseMix({
      client,
      runId: uniqueName('cap'),
      rate: maxRate,
      admin: {
        email: process.env.ADMIN_EMAIL ?? DEV_DEFAULTS.ADMIN_EMAIL,
        password: process.env.ADMIN_PASSWORD ?? DEV_DEFAULTS.ADMIN_PASSWORD,
      },
      random: seededRandom(1),
      log: say,
    })
    await mix.prepare(Math.min(400, maxRate))
    const meter = new CpuMeter(components(environment))
    const steps: Step[] = []
    // What the cluster spends doing nothing (job ticks, health checks, pools): measured first.
    const IDLE_MS = 5000
    meter.start()
    await sleep(IDLE_MS)
    const idle = meter.stop()
    const idleCpuMsPerSecond = Object.fromEntries(Object.entries(idle).map(([k, v]) => [k, (v * 1000) / (IDLE_MS / 1000)]))
    /** CPU ms per request, per component, net of what the component spends idle in that time. */
    const perRequest = (cpu: Record<string, number>, seconds: number, requests: number) =>
      Object.fromEntries(
        Object.entries(cpu).map(([k, used]) => [k, Math.max(0, used * 1000 - idleCpuMsPerSecond[k]! * seconds) / requests]),
      )
    // A short run first, not measured: the instances' code paths and pools warm up.
    mix.begin(Date.now())
    await runOpenModel({ rate: rates[0]!, durationMs: 5000, fire: (at) => mix.fire(at) })
    for (const rate of rates) {
      const first = mix.records.length
      meter.start()
      mix.begin(Date.now())
      const load = await runOpenModel({ rate, durationMs: stepMs, fire: (at) => mix.fire(at) })
      const cpu = meter.stop()
      const records = mix.records.slice(first)
      const latencies = records.map((r) => r.latencyMs).sort((a, b) => a - b)
      const step: Step = {
        rate,
        requests: records.length,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        lagMs: load.maxLagMs,
        failed: records.filter((r) => r.outcome === 'failed').length,
        passed: false,
        cpuMsPerRequest: perRequest(cpu, stepMs / 1000, records.length),
      }
      step.passed = step.p99 < maxP99 && step.lagMs < maxLag && step.failed === 0
      steps.push(step)
      say(
        `${label} ${rate}/s: p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms, lag ${step.lagMs.toFixed(1)} ms, ${step.failed} failed, API CPU ${step.cpuMsPerRequest.api!.toFixed(2)} ms/req: ${step.passed ? 'within' : 'past capacity'}`,
      )
      if (!step.passed) break
    }
    // The yardstick: the same API answering a session read, the cheapest request that needs Redis.
    const cookie = (await mix.loginAdmin())!
    let reads = 0
    meter.start()
    await runOpenModel({
      rate: REFERENCE_RATE,
      durationMs: stepMs,
      fire: async () => {
        const reply = await client.send({ method: 'GET', path: '/auth/me', cookie })
        if (reply.status === 200) reads++
      },
    })
    const sessionReadApiCpuMs = perRequest(meter.stop(), stepMs / 1000, reads).api!
    say(`${label} GET /auth/me at ${REFERENCE_RATE}/s: API CPU ${sessionReadApiCpuMs.toFixed(3)} ms/req`)
    const within = steps.filter((s) => s.passed)
    return { release: label, capacity: within.at(-1)?.rate ?? null, steps, idleCpuMsPerSecond, sessionReadApiCpuMs }
  } finally {
    client.close()
    await environment.stop()
  }
}

/** What the cluster itself spends per request: every component but the load generator. */
const clusterCpu = (step: Step) =>
  Object.entries(step.cpuMsPerRequest)
    .filter(([k]) => k !== 'load generator')
    .reduce((sum, [, ms]) => sum + ms, 0)

function table(result: Search): string {
  const groups = Object.keys(result.steps[0]?.cpuMsPerRequest ?? {})
  const header = `| rate/s | p50 ms | p99 ms | lag ms | ${groups.map((g) => `${g} CPU ms/req`).join(' | ')} |`
  const rule = `|${' ---: |'.repeat(4 + groups.length)}`
  const rows = result.steps.map(
    (s) =>
      `| ${s.rate}${s.passed ? '' : ' (past)'} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.lagMs.toFixed(1)} | ${groups
        .map((g) => s.cpuMsPerRequest[g]!.toFixed(2))
        .join(' | ')} |`,
  )
  const reference = result.steps.find((s) => s.rate === REFERENCE_RATE)
  const ratio = reference ? reference.cpuMsPerRequest.api! / result.sessionReadApiCpuMs : Number.NaN
  return [
    `${result.release}: capacity ${result.capacity ?? 'below the first rate'}/s`,
    `CPU per request net of idle (idle, ms per s: ${Object.entries(result.idleCpuMsPerSecond)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')})`,
    `at ${REFERENCE_RATE}/s: the cluster's CPU per request (all but the load generator) ${reference ? clusterCpu(reference).toFixed(2) : '?'} ms; API CPU per request of the mix / per GET /auth/me: ${ratio.toFixed(1)}x (${reference?.cpuMsPerRequest.api!.toFixed(2)} / ${result.sessionReadApiCpuMs.toFixed(3)} ms)`,
    '',
    header,
    rule,
    ...rows,
  ].join('\n')
}

try {
  const results: Search[] = []
  if (values.baseline) results.push(await search(`baseline ${values.baseline}`, values.baseline))
  results.push(await search('this checkout', undefined))
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
  } else {
    for (const result of results) process.stdout.write(`\n${table(result)}\n`)
    const [baseline, current] = results.length === 2 ? results : [undefined, results[0]]
    if (baseline?.capacity && current?.capacity) {
      process.stdout.write(`\ncapacity, this checkout / baseline: ${(current.capacity / baseline.capacity).toFixed(2)}x\n`)
    }
    const atReference = (r?: Search) => r?.steps.find((s) => s.rate === REFERENCE_RATE)
    const [b, c] = [atReference(baseline), atReference(current)]
    if (b && c) {
      process.stdout.write(
        `cluster CPU per request at ${REFERENCE_RATE}/s, this checkout / baseline: ${(clusterCpu(c) / clusterCpu(b)).toFixed(2)}x (${clusterCpu(c).toFixed(2)} / ${clusterCpu(b).toFixed(2)} ms)\n`,
      )
    }
  }
  process.exit(0)
} catch (error) {
  say(`the capacity search could not run: ${(error as Error).stack ?? error}`)
  process.exit(2)
}
