import { setTimeout as sleep } from 'node:timers/promises'
import type { Environment } from '@tms/rehearsal'
import { HttpClient, percentile, runOpenModel } from '@tms/rehearsal'
import { benchCluster, benchMix } from './bench-cluster.js'
import { CpuMeter, pidsNamed } from './process-cpu.js'
import { searchRates } from './rate-search.js'

export interface SearchOptions {
  api: number
  workers: number
  stepMs: number
  rates: number[]
  /** A step is within capacity when its p99 is under this many ms... */
  maxP99: number
  /** ...and the load generator's worst lag under this many. */
  maxLag: number
  log: (line: string) => void
}

export interface Step {
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

export interface Search {
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
export const REFERENCE_RATE = 300

/**
 * Within capacity: p99 under this many ms with the load generator's worst lag under this many
 * (past it, the machine rather than the cluster sets the pace). The default bar of every search.
 */
export const CAPACITY_BAR = { maxP99Ms: 100, maxLagMs: 20 } as const

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

/**
 * Stepped open-model search on a local cluster of its own (from `from`, a git ref, or this
 * checkout): idle CPU first, a short warm-up, then one step per rate until one misses the bar
 * twice, then steps halving the gap between the last rate within and that one (rate-search.ts).
 */
export async function searchCapacity(label: string, from: string | undefined, options: SearchOptions): Promise<Search> {
  const { rates, stepMs, maxP99, maxLag, log: say } = options
  const maxRate = Math.max(...rates)
  const environment = await benchCluster({
    title: `capacity ${label}`,
    from,
    api: options.api,
    workers: options.workers,
    rate: maxRate,
    log: say,
  })
  const client = new HttpClient(environment.url)
  try {
    const mix = benchMix(client, 'cap', maxRate, say)
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
    const measure = async (rate: number): Promise<Step> => {
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
      return step
    }
    const { lastPass } = await searchRates(
      rates,
      async (rate) => (await measure(rate)).passed,
      (rate) => say(`${label} ${rate}/s: trying it once more`),
    )
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
    steps.sort((a, b) => a.rate - b.rate)
    return { release: label, capacity: lastPass, steps, idleCpuMsPerSecond, sessionReadApiCpuMs }
  } finally {
    client.close()
    await environment.stop()
  }
}
