import { setTimeout as sleep } from 'node:timers/promises'
import type { TimelineEvent } from '@tms/cluster'
import { DEV_DEFAULTS } from '@tms/config'
import { seededRandom, uniqueName } from '@tms/sandbox'
import { BrowserAgents, type BrowserAgentsResult } from './browser-agents.js'
import { CommitProbe } from './commit-probe.js'
import { type Environment, localEnvironment, targetEnvironment } from './environment.js'
import { HttpClient } from './http-client.js'
import type { DeployWindow, Invariant } from './invariant-model.js'
import { checkInvariants } from './invariants.js'
import { type LatencyComparison, latencyDuringDeploys, percentile, perSecond, summarize } from './load-summary.js'
import { runOpenModel } from './open-model.js'
import type { RehearsalOptions } from './rehearsal-options.js'
import type { Marker, Report } from './report.js'
import type { RequestRecord } from './request-record.js'
import { WarehouseMix } from './warehouse-mix.js'

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
