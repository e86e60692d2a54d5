import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@tms/config'
import { HttpClient } from '@tms/rehearsal'
import { benchCluster, benchMix } from './bench-cluster.js'
import { cpuNanosOf } from './process-cpu.js'
import { WireCounter } from './wire-counter.js'

export interface RouteCost {
  route: string
  requests: number
  /** Its share of the mix's requests. */
  share: number
  /** The API process's CPU per request, microseconds, net of what it spends idle meanwhile. */
  apiCpuUs: number
  redisCommands: number
  /** The commands it sends most, per request: e.g. { EVALSHA: 3, GET: 1 }. */
  redisByCommand: Record<string, number>
  sqlStatements: number
  /** Statements parsed anew (an unnamed statement is parsed every time; a prepared one once per connection). */
  sqlParses: number
}

export interface RouteProfile {
  release: string
  routes: RouteCost[]
  /** The mix's average request: each route's cost weighted by its share. */
  mix: Omit<RouteCost, 'route' | 'requests' | 'share' | 'redisByCommand'>
}

export interface RouteProfileOptions {
  /** Requests measured, one at a time (after as many again unmeasured, to warm up). */
  requests: number
  log: (line: string) => void
}

const hostAndPort = (url: string, port: number) => {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || port) }
}

/**
 * What each route of the rehearsal's mix costs: one API instance (and one worker, for the jobs
 * the mix relies on) behind the balancer, its Redis and PostgreSQL connections through wire
 * counters, the mix sent one request at a time so that every command, statement and CPU
 * nanosecond of the API between a request and its answer is that request's.
 */
export async function profileRoutes(
  label: string,
  from: string | undefined,
  options: RouteProfileOptions,
): Promise<RouteProfile> {
  const { log: say } = options
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL
  const redis = await WireCounter.start('redis', hostAndPort(redisUrl, 6379))
  const postgres = await WireCounter.start('postgres', hostAndPort(databaseUrl, 5432))
  const environment = await benchCluster({
    title: `route profile ${label}`,
    from,
    api: 1,
    workers: 1,
    rate: 10,
    apiEnv: (shared) => {
      const viaRedis = new URL(shared.REDIS_URL!)
      viaRedis.host = `127.0.0.1:${redis.port}`
      const viaPostgres = new URL(shared.DATABASE_URL!)
      viaPostgres.host = `127.0.0.1:${postgres.port}`
      return { REDIS_URL: viaRedis.toString(), DATABASE_URL: viaPostgres.toString() }
    },
    log: say,
  })
  const client = new HttpClient(environment.url)
  try {
    const apiPid = environment.processes?.().find((p) => p.name.startsWith('api-'))?.pid
    if (!apiPid) throw new Error('the profile found no API process')
    const mix = benchMix(client, 'prof', 10, say)
    await mix.prepare(Math.min(400, options.requests))
    mix.begin(Date.now())
    for (let i = 0; i < options.requests; i++) await mix.fire(Date.now())

    // What the API does with no request at all (its cache bus, lock keepers, pools), per ms.
    const IDLE_MS = 3000
    const idleFrom = { cpu: cpuNanosOf(apiPid), redis: redis.snapshot(), sql: postgres.snapshot() }
    await sleep(IDLE_MS)
    const idle = {
      cpuNsPerMs: (cpuNanosOf(apiPid) - idleFrom.cpu) / IDLE_MS,
      redisPerMs: difference(redis.snapshot(), idleFrom.redis, 1 / IDLE_MS),
      sqlPerMs: difference(postgres.snapshot(), idleFrom.sql, 1 / IDLE_MS),
    }

    const byRoute = new Map<string, { n: number; cpuNs: number; redis: Record<string, number>; sql: Record<string, number> }>()
    say(`${label}: ${options.requests} requests of the mix, one at a time`)
    for (let i = 0; i < options.requests; i++) {
      const before = { at: performance.now(), cpu: cpuNanosOf(apiPid), redis: redis.snapshot(), sql: postgres.snapshot() }
      const first = mix.records.length
      await mix.fire(Date.now())
      const ms = performance.now() - before.at
      const record = mix.records[first]
      if (!record || mix.records.length !== first + 1) continue
      const cost = byRoute.get(record.route) ?? { n: 0, cpuNs: 0, redis: {}, sql: {} }
      cost.n++
      cost.cpuNs += cpuNanosOf(apiPid) - before.cpu - idle.cpuNsPerMs * ms
      addInto(cost.redis, difference(redis.snapshot(), before.redis), idle.redisPerMs, -ms)
      addInto(cost.sql, difference(postgres.snapshot(), before.sql), idle.sqlPerMs, -ms)
      byRoute.set(record.route, cost)
      if ((i + 1) % 1000 === 0) say(`${label}: ${i + 1} of ${options.requests}`)
    }
    const measured = [...byRoute.values()].reduce((sum, c) => sum + c.n, 0)
    const routes: RouteCost[] = [...byRoute.entries()]
      .map(([route, c]) => {
        const per = (record: Record<string, number>) =>
          Object.fromEntries(Object.entries(record).map(([k, v]) => [k, Math.max(0, v / c.n)]))
        const redisByCommand = Object.fromEntries(
          Object.entries(per(c.redis))
            .filter(([, v]) => v >= 0.05)
            .sort(([, a], [, b]) => b - a),
        )
        return {
          route,
          requests: c.n,
          share: c.n / measured,
          apiCpuUs: Math.max(0, c.cpuNs / c.n / 1000),
          redisCommands: Object.values(per(c.redis)).reduce((a, b) => a + b, 0),
          redisByCommand,
          sqlStatements: per(c.sql).statement ?? 0,
          sqlParses: per(c.sql).parse ?? 0,
        }
      })
      .sort((a, b) => b.share - a.share)
    const weighted = (pick: (r: RouteCost) => number) => routes.reduce((sum, r) => sum + r.share * pick(r), 0)
    return {
      release: label,
      routes,
      mix: {
        apiCpuUs: weighted((r) => r.apiCpuUs),
        redisCommands: weighted((r) => r.redisCommands),
        sqlStatements: weighted((r) => r.sqlStatements),
        sqlParses: weighted((r) => r.sqlParses),
      },
    }
  } finally {
    client.close()
    await environment.stop()
    await redis.close()
    await postgres.close()
  }
}

function difference(after: Record<string, number>, before: Record<string, number>, scale = 1): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v - (before[k] ?? 0)) * scale]))
}

/** into += add + rate * ms, key by key. */
function addInto(into: Record<string, number>, add: Record<string, number>, rate: Record<string, number>, ms: number): void {
  for (const key of new Set([...Object.keys(add), ...Object.keys(rate)])) {
    into[key] = (into[key] ?? 0) + (add[key] ?? 0) + (rate[key] ?? 0) * ms
  }
}

/** The profile as a Markdown table, the costliest routes by share first. */
export function routeTable(profile: RouteProfile): string {
  const commands = (r: RouteCost) =>
    Object.entries(r.redisByCommand)
      .slice(0, 4)
      .map(([name, n]) => `${name} ${n.toFixed(1)}`)
      .join(', ')
  return [
    `${profile.release}: the mix's average request: API CPU ${profile.mix.apiCpuUs.toFixed(0)} µs, ${profile.mix.redisCommands.toFixed(2)} Redis commands, ${profile.mix.sqlStatements.toFixed(2)} SQL statements (${profile.mix.sqlParses.toFixed(2)} parsed)`,
    '',
    '| route | share | API CPU µs | Redis commands | SQL statements (parsed) | most sent |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...profile.routes.map(
      (r) =>
        `| ${r.route} | ${(r.share * 100).toFixed(1)}% | ${r.apiCpuUs.toFixed(0)} | ${r.redisCommands.toFixed(1)} | ${r.sqlStatements.toFixed(1)} (${r.sqlParses.toFixed(1)}) | ${commands(r)} |`,
    ),
  ].join('\n')
}
