/**
 * npm run bench:capacity: the steady-state capacity of the local cluster under the rehearsal's
 * mix, and the CPU each component spends per request, for this checkout and (--baseline) an
 * earlier release built from git, one after the other on the same machine, so their ratio is
 * what the host's speed cancels out of.
 *
 *   npm run bench:capacity -- [--baseline <git-ref>] [--api 3] [--workers 2] [--step 15s]
 *                             [--rates 100,200,300,400,500,600,700,800,1000] [--p99 100] [--lag 20]
 *                             [--routes 3000] [--routes-only]
 *
 * Stepped open-model search: each rate runs --step of the mix; the capacity is the highest rate
 * whose p99 stays under --p99 ms with the generator on schedule (its worst lag under --lag ms).
 * The search stops at the first rate that misses either. No deploy runs.
 *
 * Then the route profile (--routes requests; 0 skips it, --routes-only skips the search): what
 * each route of the mix costs the API in CPU, Redis commands and SQL statements, counted on the
 * wire with the mix sent one request at a time.
 */
import { parseArgs } from 'node:util'
import {
  CAPACITY_BAR,
  profileRoutes,
  REFERENCE_RATE,
  type RouteProfile,
  routeTable,
  type Search,
  type Step,
  searchCapacity,
} from '@tms/capacity'
import { parseDuration } from '@tms/config'

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    api: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    step: { type: 'string', default: '15s' },
    rates: { type: 'string', default: '100,200,300,400,500,600,700,800,1000' },
    p99: { type: 'string', default: String(CAPACITY_BAR.maxP99Ms) },
    lag: { type: 'string', default: String(CAPACITY_BAR.maxLagMs) },
    routes: { type: 'string', default: '3000' },
    'routes-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
})
const say = (line: string) => process.stderr.write(`[capacity] ${line}\n`)
const options = {
  api: Number(values.api),
  workers: Number(values.workers),
  stepMs: parseDuration(values.step!) ?? 15_000,
  rates: values.rates!.split(',').map(Number),
  maxP99: Number(values.p99),
  maxLag: Number(values.lag),
  log: say,
}

/** What the cluster itself spends per request: every component but the load generator. */
const clusterCpu = (step: Step) =>
  Object.entries(step.cpuMsPerRequest)
    .filter(([k]) => k !== 'load generator')
    .reduce((sum, [, ms]) => sum + ms, 0)

/** The step at `rate`: the one within the bar when the rate was tried twice. */
const stepAt = (result: Search | undefined, rate: number) =>
  result?.steps.find((s) => s.rate === rate && s.passed) ?? result?.steps.find((s) => s.rate === rate)

function table(result: Search): string {
  const groups = Object.keys(result.steps[0]?.cpuMsPerRequest ?? {})
  const header = `| rate/s | p50 ms | p99 ms | lag ms | ${groups.map((g) => `${g} CPU ms/req`).join(' | ')} |`
  const rule = `|${' ---: |'.repeat(4 + groups.length)}`
  const rows = result.steps.map(
    (s) =>
      `| ${s.rate}${s.passed ? '' : stepAt(result, s.rate)!.passed ? ' (missed once)' : ' (past)'} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.lagMs.toFixed(1)} | ${groups
        .map((g) => s.cpuMsPerRequest[g]!.toFixed(2))
        .join(' | ')} |`,
  )
  const reference = stepAt(result, REFERENCE_RATE)
  const ratio = reference ? reference.cpuMsPerRequest.api! / result.sessionReadApiCpuMs : Number.NaN
  return [
    `${result.release}: capacity ${result.capacity ?? 'below the first rate'}/s`,
    `CPU per request net of idle (idle, ms per s: ${Object.entries(result.idleCpuMsPerSecond)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')})`,
    `at ${REFERENCE_RATE}/s: the cluster's CPU per request (all but the load generator) ${reference ? clusterCpu(reference).toFixed(2) : '?'} ms; API CPU per request of the mix / per GET /auth/me: ${ratio.toFixed(1)}x (${reference?.cpuMsPerRequest.api?.toFixed(2)} / ${result.sessionReadApiCpuMs.toFixed(3)} ms)`,
    '',
    header,
    rule,
    ...rows,
  ].join('\n')
}

try {
  const results: Search[] = []
  const profiles: RouteProfile[] = []
  const routeRequests = Number(values.routes)
  const releases: Array<[string, string | undefined]> = [
    ...(values.baseline ? [[`baseline ${values.baseline}`, values.baseline] as [string, string]] : []),
    ['this checkout', undefined],
  ]
  for (const [label, ref] of releases) {
    if (!values['routes-only']) results.push(await searchCapacity(label, ref, options))
    if (routeRequests > 0) profiles.push(await profileRoutes(label, ref, { requests: routeRequests, log: say }))
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ searches: results, routeProfiles: profiles }, null, 2)}\n`)
  } else {
    for (const result of results) process.stdout.write(`\n${table(result)}\n`)
    for (const profile of profiles) process.stdout.write(`\n${routeTable(profile)}\n`)
    const [baseline, current] = results.length === 2 ? results : [undefined, results[0]]
    if (baseline?.capacity && current?.capacity) {
      process.stdout.write(`\ncapacity, this checkout / baseline: ${(current.capacity / baseline.capacity).toFixed(2)}x\n`)
    }
    const atReference = (r?: Search) => stepAt(r, REFERENCE_RATE)
    const [b, c] = [atReference(baseline), atReference(current)]
    if (b && c) {
      process.stdout.write(
        `cluster CPU per request at ${REFERENCE_RATE}/s, this checkout / baseline: ${(clusterCpu(c) / clusterCpu(b)).toFixed(2)}x (${clusterCpu(c).toFixed(2)} / ${clusterCpu(b).toFixed(2)} ms)\n`,
      )
    }
    if (profiles.length === 2) {
      const [pb, pc] = profiles as [RouteProfile, RouteProfile]
      process.stdout.write(
        `the mix's API request, this checkout / baseline: CPU ${(pc.mix.apiCpuUs / pb.mix.apiCpuUs).toFixed(2)}x, Redis commands ${(pc.mix.redisCommands / pb.mix.redisCommands).toFixed(2)}x, SQL statements ${(pc.mix.sqlStatements / pb.mix.sqlStatements).toFixed(2)}x\n`,
      )
    }
  }
  process.exit(0)
} catch (error) {
  say(`the capacity search could not run: ${(error as Error).stack ?? error}`)
  process.exit(2)
}
