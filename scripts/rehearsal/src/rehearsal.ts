import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, DEV_DEFAULTS } from '@tms/config'
import { deleteKeys, dropSchema, seededRandom, uniqueName } from '@tms/sandbox'
import { type DeployStrategy, REPO_ROOT, readClusterDefinition, type StopOrder } from '../cluster/cluster-definition.js'
import { formatEvent } from '../cluster/format.js'
import { LoadBalancer } from '../cluster/load-balancer.js'
import { LocalCluster, type TimelineEvent } from '../cluster/local-cluster.js'
import { PortAllocator } from '../cluster/ports.js'
import { buildRelease, currentRelease, gitDescribe, type Release } from '../cluster/release.js'
import { ensurePostgres, ensureRedis } from '../services.js'
import { BrowserAgents, type BrowserAgentsResult } from './browser-agents.js'
import { CommitProbe } from './commit-probe.js'
import { HttpClient } from './http-client.js'
import { checkInvariants, type DeployWindow, type Invariant } from './invariants.js'
import { type LatencyComparison, latencyDuringDeploys, percentile, perSecond, summarize } from './load-summary.js'
import { runOpenModel } from './open-model.js'
import type { Marker, Report } from './report.js'
import type { RequestRecord } from './request-record.js'
import { WarehouseMix } from './warehouse-mix.js'

/** Sessions, caches and locks: in Redis (stateless instances) or in each process (the demonstration of why not). */
export type StateMode = 'stateless' | 'in-process'

export interface RehearsalOptions {
  title: string
  rate: number
  durationMs: number
  api: number
  workers: number
  strategy: DeployStrategy
  stopOrder: StopOrder
  state: StateMode
  /** Start on this git ref's build and deploy the checkout over it. */
  from?: string | undefined
  /** An existing environment instead of a local cluster, and the command that deploys it. */
  target?: string | undefined
  deployCmd?: string | undefined
  /** Keep the run's Redis keys and schema afterwards, to look at them. */
  keep: boolean
  seed: number
  runDir: string
  /** null: latency is measured and reported, not judged (CI's rehearsal). */
  maxLatencyRatio: number | null
  /** The capacity --rate auto measured before choosing the rate (70% of it). */
  capacity?: number | undefined
  /** Environment the API instances get on top of the cluster's (a local cluster only), e.g. to reach Redis through a counter. */
  apiEnv?: ((shared: Readonly<Record<string, string>>) => Record<string, string>) | undefined
  /** Warehouse agents at browser packing stations (Chromium on the web app) beside the HTTP load; 0: none. */
  browserAgents: number
  log: (line: string) => void
}

/** The deploys start this far into the load: steady state before, room for both after. */
const API_DEPLOY_AT = 0.2
const WORKER_DEPLOY_AT = 0.35
/**
 * A deploy still under way when --duration is up keeps the load going (a slow machine boots
 * slowly; stopping the load mid-deploy would leave the deploy's end unproven) until the new
 * version has served alone this long after the last deploy ended, at most twice --duration.
 */
const SETTLE_AFTER_DEPLOY_MS = 5000
const MAX_LOAD_FACTOR = 2
/** Left out of the steady-state latency: at most 5 s, and half the time before the first deploy. */
const warmUpMs = (durationMs: number) => Math.min(5000, (API_DEPLOY_AT * durationMs) / 2)

export interface Environment {
  url: string
  /** The processes it runs (the balancer, API and worker instances, the shop), for CPU accounting. */
  processes?: () => Array<{ pid: number; name: string }>
  timeline: TimelineEvent[]
  /** Runs the deploy of `app`, resolving when it is done. */
  deploy(app: 'api' | 'worker'): Promise<void>
  apps: ReadonlyArray<'api' | 'worker'>
  /** Where a commit probe can write (the rehearsal's own schema); unknown for a target. */
  probeDatabaseUrl?: string
  stop(): Promise<void>
}

/** The local cluster on free ports, isolated in its own Redis prefix and PostgreSQL schema. */
export async function localEnvironment(
  options: RehearsalOptions,
  /** Told how to stop the cluster as soon as it exists, so an interrupt while it starts stops it. */
  onCluster: (stop: () => Promise<void>) => void,
): Promise<Environment> {
  const { log } = options
  const runId = uniqueName('rh')
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL
  const database = new URL(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL)
  database.searchParams.set('schema', runId)
  await ensureRedis(redisUrl, log)
  await ensurePostgres(database.toString(), log)
  LoadBalancer.requireInstalled()

  const sha = gitDescribe()
  const initial: Release = options.from
    ? await buildRelease(options.from, `${REPO_ROOT}.local/releases`, log)
    : currentRelease(`0.1.0+${sha}`)
  const next = currentRelease(options.from ? `0.1.0+${sha}` : `0.1.0+${sha}.next`)

  const definition = readClusterDefinition()
  definition.api.instances = options.api
  definition.worker.instances = options.workers
  // In-process sessions only ever worked behind a sticky balancer; give them that fair chance.
  definition.loadBalancer.stickySessions = options.state === 'in-process'
  const ports = new PortAllocator(20_000 + Math.floor(Math.random() * 100) * 100)
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `${runId}:`,
    DATABASE_URL: database.toString(),
    // Fast schedules, so that every tick of a minute-long run can be checked.
    JOB_CREATE_SHIPMENTS_EVERY: '1s',
    JOB_SYNC_ORDERS_EVERY: '5s',
    JOB_HOUSEKEEPING_EVERY: '10s',
    SHOP_ORDERS_PER_MINUTE: '120',
    // The load's few people write at machine speed (two partners register a masterbox each
    // second between them at 300/s): a person's per-minute limits would refuse them. The
    // limits still count every write; docs/security.md has the production values.
    RATE_LIMIT_DEVICE_REGISTRATIONS_PER_MINUTE: '100000',
    RATE_LIMIT_BATCH_ADDS_PER_MINUTE: '100000',
    RATE_LIMIT_BULK_CREATIONS_PER_MINUTE: '100000',
    RATE_LIMIT_REQUEST_CREATIONS_PER_MINUTE: '100000',
    ...(options.state === 'in-process' ? { TMS_DEMO_IN_PROCESS_STATE: 'true' } : {}),
  }
  if (options.apiEnv) definition.api.env = { ...definition.api.env, ...options.apiEnv(env) }
  const started = Date.now()
  const cluster = new LocalCluster({
    definition,
    runDir: options.runDir,
    env,
    release: initial,
    lbPort: await ports.take(),
    shopPort: await ports.take(),
    portBase: (await ports.take()) + 1,
    onEvent: (event) => log(formatEvent(event, started)),
  })
  onCluster(() => cluster.stop())
  log(
    `local cluster: ${options.api} API (${initial.version}), ${options.workers} workers, Redis prefix ${runId}:, schema ${runId}`,
  )
  try {
    await cluster.start()
  } catch (error) {
    await cluster.stop().catch(() => undefined)
    throw new Error(`the cluster did not start: ${(error as Error).message} (logs in ${options.runDir}/logs)`)
  }
  return {
    url: cluster.url,
    processes: () => cluster.processes,
    timeline: cluster.timeline,
    apps: ['api', 'worker'],
    probeDatabaseUrl: database.toString(),
    deploy: (app) => cluster.deploy(app, next, { strategy: options.strategy, stopOrder: options.stopOrder }),
    async stop() {
      await cluster.stop()
      if (!options.keep) {
        await deleteKeys(redisUrl, `${runId}:*`)
        const base = new URL(database)
        base.searchParams.delete('schema')
        await dropSchema(base.toString(), runId)
      }
    },
  }
}

/** An environment that exists already; its deploy is whatever command the operator gives. */
function targetEnvironment(options: RehearsalOptions): Environment {
  const timeline: TimelineEvent[] = []
  const command = options.deployCmd
  return {
    url: options.target!,
    timeline,
    apps: command ? ['api'] : [],
    deploy: () =>
      new Promise((resolve, reject) => {
        if (!command) return reject(new Error('--target without --deploy-cmd has nothing to deploy'))
        timeline.push({ at: Date.now(), app: 'cluster', action: 'deploy-start', detail: command })
        const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] })
        for (const stream of [child.stdout, child.stderr]) {
          createInterface({ input: stream }).on('line', (line) => {
            timeline.push({ at: Date.now(), app: 'cluster', action: 'output', detail: line.slice(0, 200) })
            options.log(`deploy: ${line}`)
          })
        }
        child.on('exit', (code) => {
          timeline.push({ at: Date.now(), app: 'cluster', action: 'deploy-end', detail: `exit ${code}` })
          if (code === 0) resolve()
          else reject(new Error(`the deploy command exited ${code}`))
        })
      }),
    async stop() {},
  }
}

/**
 * The deploys, each at its share of --duration into the load: their windows as they happen,
 * when they are all done, and how long after the load's start that was.
 */
function scheduleDeploys(environment: Environment, options: RehearsalOptions, startedAt: number) {
  const windows: DeployWindow[] = []
  let endedMs: number | undefined
  const done = Promise.all(
    environment.apps.map(async (app) => {
      await sleep((app === 'api' ? API_DEPLOY_AT : WORKER_DEPLOY_AT) * options.durationMs)
      const window: DeployWindow = { app, from: Date.now(), to: null }
      windows.push(window)
      options.log(`deploying ${app} (${options.strategy}${app === 'api' ? `, ${options.stopOrder}` : ''})`)
      try {
        await environment.deploy(app)
        window.to = Date.now()
      } catch (error) {
        window.error = (error as Error).message
        options.log(`the ${app} deploy failed: ${window.error}`)
      }
    }),
  ).then(() => {
    endedMs = Date.now() - startedAt
  })
  return { windows, done, endedMs: () => endedMs }
}

/** The load's progress line, each second: sent, failed, in flight, p99 and answering versions since the last. */
function progressLine(mix: WarehouseMix, log: (line: string) => void) {
  let reported = 0
  return (elapsed: number, sent: number, inFlight: number) => {
    const recent = mix.records.slice(reported)
    reported = mix.records.length
    const failed = mix.records.filter((r) => r.outcome === 'failed').length
    const p99 = percentile(
      recent.map((r) => r.latencyMs).sort((a, b) => a - b),
      99,
    )
    const versions = Object.entries(summarize(recent).versions)
      .map(([v, c]) => `${v}:${c}`)
      .join(' ')
    log(
      `load +${(elapsed / 1000).toFixed(0)}s: ${sent.toLocaleString('en-US')} sent, ${failed} failed, ${inFlight} in flight, p99 ${p99.toFixed(1)} ms; answered by ${versions}`,
    )
  }
}

/** One rehearsal: environment up, users and work prepared, load with deploys in it, checks, report. */
export async function rehearse(options: RehearsalOptions): Promise<{ report: Report; records: RequestRecord[] }> {
  const { log } = options
  let stopStarting: (() => Promise<void>) | undefined
  let environment: Environment | undefined
  let client: HttpClient | undefined
  let probe: CommitProbe | undefined
  let browser: BrowserAgents | undefined
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    client?.close()
    await browser?.stop().catch(() => undefined)
    await probe?.stop()
    await (environment?.stop() ?? stopStarting?.())
  }
  const interrupted = () => {
    log('interrupted: stopping the cluster')
    void stop().finally(() => process.exit(130))
  }
  // Before the cluster starts: its instances run in process groups of their own, and a Ctrl-C
  // that ended this process while they boot would leave them running.
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    const current = options.target
      ? targetEnvironment(options)
      : await localEnvironment(options, (stopCluster) => {
          stopStarting = stopCluster
        })
    environment = current
    client = new HttpClient(current.url)
    const runId = uniqueName('rh')
    const mix = new WarehouseMix({
      client,
      runId,
      rate: options.rate,
      admin: {
        email: process.env.ADMIN_EMAIL ?? DEV_DEFAULTS.ADMIN_EMAIL,
        password: process.env.ADMIN_PASSWORD ?? DEV_DEFAULTS.ADMIN_PASSWORD,
      },
      random: seededRandom(options.seed),
      log,
    })
    await mix.prepare(Math.min(400, options.rate))
    if (options.browserAgents > 0) {
      log(`${options.browserAgents} browser packing station(s): Chromium on ${current.url}/`)
      browser = new BrowserAgents({ url: current.url, count: options.browserAgents, runId, log })
      await browser.prepare(client, (await mix.loginAdmin())!)
    }

    probe = current.probeDatabaseUrl ? new CommitProbe(current.probeDatabaseUrl) : undefined
    await probe?.ready()
    const startedAt = Date.now()
    mix.begin(startedAt)
    const deploys = scheduleDeploys(current, options, startedAt)
    const maxLoadMs = MAX_LOAD_FACTOR * options.durationMs
    const load = await runOpenModel({
      rate: options.rate,
      durationMs: options.durationMs,
      until: () => {
        const endedMs = deploys.endedMs()
        if (endedMs === undefined) return maxLoadMs
        return endedMs <= options.durationMs ? 0 : Math.min(maxLoadMs, endedMs + SETTLE_AFTER_DEPLOY_MS)
      },
      fire: (at) => mix.fire(at),
      onProgress: progressLine(mix, log),
    })
    const endedAt = Date.now()
    const extended = load.endedMs > options.durationMs
    log(
      `load done: ${load.sent.toLocaleString('en-US')} requests${extended ? ` in ${(load.endedMs / 1000).toFixed(1)} s, extended past ${options.durationMs / 1000} s while a deploy ran` : ''}; waiting for deploys to finish`,
    )
    await deploys.done
    const browserResult = await browser?.stop()
    const stalls = ((await probe?.stop()) ?? []).map((s) => ({ from: s.from - startedAt, to: s.to - startedAt }))

    const windows = deploys.windows.map((d) => ({ from: d.from - startedAt, to: (d.to ?? endedAt) - startedAt }))
    const latency = latencyDuringDeploys(mix.records, windows, warmUpMs(options.durationMs), stalls)
    const invariants = await checkInvariants({
      client,
      adminCookie: (await mix.loginAdmin())!,
      records: mix.records,
      ledger: mix.ledger,
      sessions: mix.sessions,
      loadStartedAt: startedAt,
      loadEndedAt: startedAt + load.endedMs,
      loadPlannedMs: options.durationMs,
      deploys: deploys.windows,
      latency,
      maxLatencyRatio: options.maxLatencyRatio,
      browser: browserResult,
      log,
    })
    const report = buildReport({
      options,
      mix,
      startedAt,
      load,
      latency,
      invariants,
      deploys: deploys.windows,
      stalls,
      timeline: current.timeline,
      browser: browserResult,
    })
    return { report, records: mix.records }
  } finally {
    process.removeListener('SIGINT', interrupted)
    process.removeListener('SIGTERM', interrupted)
    await stop()
  }
}

/** The report of a finished run: settings, summary, latency, invariants, timeline. */
function buildReport(run: {
  options: RehearsalOptions
  mix: WarehouseMix
  startedAt: number
  load: { endedMs: number; maxLagMs: number }
  latency: LatencyComparison
  invariants: Invariant[]
  deploys: DeployWindow[]
  stalls: Array<{ from: number; to: number }>
  timeline: TimelineEvent[]
  browser?: BrowserAgentsResult | undefined
}): Report {
  const { options, mix, startedAt, load, latency, invariants, deploys, stalls, timeline, browser } = run
  const toSeconds = (at: number) => Math.round((at - startedAt) / 100) / 10
  const markers: Marker[] = timeline.map((e) => ({
    t: toSeconds(e.at),
    app: e.app,
    action: e.action,
    instance: e.instance,
    version: e.version,
    detail: e.detail,
  }))
  return {
    title: options.title,
    settings: {
      rate: options.capacity ? `${options.rate} (70% of the capacity measured first, ${options.capacity}/s)` : options.rate,
      duration: `${options.durationMs / 1000}s`,
      ...(options.target
        ? { target: options.target, deploy: options.deployCmd ?? 'none' }
        : { api: options.api, workers: options.workers }),
      strategy: options.strategy,
      'stop order': options.stopOrder,
      state: options.state,
      ...(options.from ? { from: options.from } : {}),
      seed: options.seed,
      'max p99 ratio': options.maxLatencyRatio ?? 'not judged',
      agents: mix.people.agents,
      partners: mix.people.partners,
      operators: mix.people.operators,
      'browser agents': options.browserAgents,
    },
    summary: summarize(mix.records),
    latency,
    invariants,
    passed: invariants.every((i) => i.held),
    deploys: deploys.map((d) => ({ app: d.app, from: toSeconds(d.from), to: d.to === null ? null : toSeconds(d.to) })),
    timeline: markers,
    seconds: perSecond(mix.records),
    load: { plannedSeconds: options.durationMs / 1000, seconds: Math.round(load.endedMs) / 1000 },
    generatorMaxLagMs: load.maxLagMs,
    databaseStalls: stalls.map((s) => ({ from: s.from / 1000, to: s.to / 1000 })),
    browser,
  }
}
