/**
 * bench/session: authenticated GET /auth/me through our Redis session, against a bare Fastify
 * route and against the one-GET-one-HMAC ceiling, with the same load in the same run.
 * Rounds alternate the three servers so drift (thermal, noisy neighbours) hits all alike.
 *
 *   npm run bench:session [-- --duration 2 --rounds 30 --connections 50 --warmup 60]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  ChildService,
  deleteKeys,
  dropSchema,
  ensureTestDatabase,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  uniqueName,
} from '@tms/testing'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { BENCH_SECRET, benchAdminSession, startBenchApi } from '../api-process.js'
import { cpuSeconds, median, onCore, pinLocalRedis, canPin as pinned, pinSelf } from '../machine.js'

const { values } = parseArgs({
  options: {
    // Many short rounds, each server back to back: the machine's drift cancels within a round.
    duration: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '30' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '60' },
  },
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
/**
 * Seconds of load before measuring. The session server keeps speeding up for about a minute
 * (measured: per-round ratio 0.29 in the first rounds, 0.44 after a minute); production runs
 * for hours, so steady state is what counts.
 */
const warmup = Number(values.warmup)

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// The server under test on core 0; this process (the load generator) and a local Redis on
// core 1. See bench/src/machine.ts and docs/benchmarks.md.
const serverWrapper = onCore(0)
pinSelf(1)

async function start(name: string, script: string, args: string[], env: Record<string, string>) {
  const child = new ChildService({ name, script, args, env, wrapper: serverWrapper })
  const line = await child.waitForLog((l) => l.msg === 'listening', 30_000)
  return { child, url: `http://127.0.0.1:${line.port as number}/auth/me` }
}

function load(url: string, cookie: string, seconds: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, headers: { cookie } }, (error, result) =>
      error ? reject(error) : resolve(result),
    )
  })
}

await ensureTestDatabase()
const schema = uniqueName('bench')
const prefix = `bench:${uniqueName('s')}:`
const dbUrl = new URL(TEST_DATABASE_URL)
dbUrl.searchParams.set('schema', schema)
const redis = new Redis(TEST_REDIS_URL)

const started = await startBenchApi({
  name: 'api',
  redisPrefix: prefix,
  databaseUrl: dbUrl.toString(),
  wrapper: serverWrapper,
})
const api = { child: started.child, url: `${started.base}/auth/me` }
const cookie = await benchAdminSession(started.base)
const body = JSON.stringify(await (await fetch(api.url, { headers: { cookie } })).json())
const ceilingKey = `${prefix}ceiling`
await redis.set(ceilingKey, body)
const bare = await start('bare', here('./baseline-servers.js'), ['bare'], { BODY: body })
const ceiling = await start('ceiling', here('./baseline-servers.js'), ['ceiling'], {
  SECRET: BENCH_SECRET,
  KEY: ceilingKey,
  REDIS_URL: TEST_REDIS_URL,
})
const servers = { bare, session: api, ceiling } as const
const unpinRedis = await pinLocalRedis(redis, TEST_REDIS_URL, 1)

interface Series {
  rps: number[]
  p50: number[]
  p99: number[]
  /** Server CPU microseconds per request, per round. */
  cpuUs: number[]
  errors: number
}
const series = (): Series => ({ rps: [], p50: [], p99: [], cpuUs: [], errors: 0 })
const results: Record<keyof typeof servers, Series> = { bare: series(), session: series(), ceiling: series() }
try {
  for (const [name, server] of Object.entries(servers)) {
    process.stderr.write(`warm-up ${name}\n`)
    await load(server.url, cookie, warmup)
  }
  for (let round = 1; round <= rounds; round++) {
    // ABC, CBA, ABC...: a slow drift of the machine then weighs on every server alike.
    const order = Object.entries(servers) as Array<[keyof typeof servers, { url: string; child: ChildService }]>
    if (round % 2 === 0) order.reverse()
    for (const [name, server] of order) {
      const pid = server.child.process.pid!
      const cpuBefore = cpuSeconds(pid)
      const r = await load(server.url, cookie, duration)
      results[name].cpuUs.push(((cpuSeconds(pid) - cpuBefore) * 1e6) / r.requests.total)
      results[name].rps.push(r.requests.average)
      results[name].p50.push(r.latency.p50)
      results[name].p99.push(r.latency.p99)
      results[name].errors += r.non2xx + r.errors + r.timeouts
      process.stderr.write(
        `round ${round}/${rounds} ${name.padEnd(8)} ${Math.round(r.requests.average)} req/s  p99 ${r.latency.p99} ms\n`,
      )
    }
  }
} finally {
  unpinRedis()
  for (const server of Object.values(servers)) await server.child.stop()
  await deleteKeys(TEST_REDIS_URL, `${prefix}*`)
  redis.disconnect()
  await dropSchema(TEST_DATABASE_URL, schema)
}

const summary = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [
    name,
    {
      rps: Math.round(median(r.rps)),
      p50: median(r.p50),
      p99: median(r.p99),
      cpuUs: Number(median(r.cpuUs).toFixed(1)),
      errors: r.errors,
    },
  ]),
) as Record<keyof typeof results, { rps: number; p50: number; p99: number; cpuUs: number; errors: number }>
// Paired by round: each round's session and bare ran back to back, so the machine was alike.
const pairedRatios = results.session.rps.map((rps, i) => rps / results.bare.rps[i]!)
const pairedCeiling = results.ceiling.rps.map((rps, i) => rps / results.bare.rps[i]!)
const ratio = median(pairedRatios)
const report = {
  date: new Date().toISOString(),
  node: process.version,
  connections,
  duration,
  rounds,
  summary,
  ratioToBare: Number(ratio.toFixed(3)),
  ratioToBarePerRound: pairedRatios.map((r) => Number(r.toFixed(3))),
  ceilingRatioToBare: Number(median(pairedCeiling).toFixed(3)),
  ratioToCeiling: Number((ratio / median(pairedCeiling)).toFixed(3)),
  /** bare's CPU per request over the session's: the same ratio, measured without steal. */
  cpuRatioToBare: Number(median(results.bare.cpuUs.map((b, i) => b / results.session.cpuUs[i]!)).toFixed(3)),
  pinned,
}
mkdirSync(here('../../results'), { recursive: true })
writeFileSync(
  here(`../../results/session-${report.date.slice(0, 19).replaceAll(':', '-')}.json`),
  JSON.stringify(report, null, 2),
)

const row = (name: string, s: { rps: number; p50: number; p99: number; cpuUs: number; errors: number }) =>
  `| ${name} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.cpuUs} | ${s.errors} |`
console.log(`
| server (median of ${rounds} rounds, ${duration} s, ${connections} connections${pinned ? ', server pinned to core 0' : ''}) | req/s | p50 ms | p99 ms | server CPU µs/req | errors |
| --- | ---: | ---: | ---: | ---: | ---: |
${row('bare Fastify route (baseline)', summary.bare)}
${row('GET + HMAC only (ceiling)', summary.ceiling)}
${row('TMS GET /auth/me with Redis session', summary.session)}

session / bare = **${report.ratioToBare}** (median of per-round ratios ${report.ratioToBarePerRound.join(', ')}; target >= 0.40)
CPU per request: bare / session = **${report.cpuRatioToBare}**; ceiling / bare = ${report.ceilingRatioToBare}; session / ceiling = ${report.ratioToCeiling}
`)
if (summary.session.errors + summary.bare.errors + summary.ceiling.errors > 0) {
  console.error('some requests failed: the measurement is not valid')
  process.exit(1)
}
