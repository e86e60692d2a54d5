/**
 * npm run rehearse: the proof that a deploy under load is one nobody notices.
 *
 *   npm run rehearse -- [--rate 300|auto] [--duration 60s] [--api 3] [--workers 2]
 *                       [--strategy rolling|recreate] [--stop-order lb-first|signal-first|both]
 *                       [--from <git-ref>] [--out DIR] [--seed N] [--keep] [--max-latency-ratio 2|off]
 *                       [--browser N]  N agents at browser packing stations beside the HTTP load
 *                       [--zero-downtime]  with --rate auto: also at 80, 90, 100 % of capacity
 *   npm run rehearse -- --compare          recreate vs rolling with in-process state vs rolling stateless
 *   npm run rehearse -- --target URL --deploy-cmd "kubectl rollout restart deployment/tms-api"
 *
 * --rate auto first measures the cluster's capacity (bench:capacity's search, 10 s steps) and
 * loads at 70% of it, saying so; the report states both. With --zero-downtime it then rehearses
 * at 80, 90 and 100 % of capacity until a share fails, and states the zero-downtime capacity (the
 * highest rate passing every invariant in every stop order) in DIR/zero-downtime.txt.
 *
 * Starts its own cluster on free ports (own Redis prefix and PostgreSQL schema), logs users in,
 * sends open-model load, deploys the API and the workers mid-load, checks the invariants and
 * writes DIR/report.txt, report.json, report.html. Exits 0 only when every invariant holds.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  AUTO_RATE_SHARE,
  CAPACITY_BAR,
  describeZeroDowntime,
  failuresAt,
  type ShareOutcome,
  searchCapacity,
  ZERO_DOWNTIME_SHARES,
} from '@tms/capacity'
import { REPO_ROOT, type StopOrder } from '@tms/cluster'
import { parseDuration } from '@tms/config'
import {
  type ComparedRun,
  expectations,
  type RehearsalOptions,
  rehearse,
  renderComparison,
  renderText,
  writeReport,
} from '@tms/rehearsal'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '300' },
    duration: { type: 'string', default: '60s' },
    api: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    strategy: { type: 'string', default: 'rolling' },
    'stop-order': { type: 'string', default: 'lb-first' },
    state: { type: 'string', default: 'stateless' },
    from: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    target: { type: 'string' },
    'deploy-cmd': { type: 'string' },
    'max-latency-ratio': { type: 'string', default: '2' },
    browser: { type: 'string', default: '0' },
    'zero-downtime': { type: 'boolean', default: false },
  },
})

const say = (line: string) => process.stderr.write(`[rehearse] ${line}\n`)
const fail = (message: string): never => {
  say(message)
  process.exit(2)
}
const positive = (name: string, raw: string) => {
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a whole number of at least 1, got "${raw}"`)
  return value
}
const choice = <T extends string>(name: string, raw: string, allowed: readonly T[]): T => {
  if (!allowed.includes(raw as T)) fail(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  return raw as T
}
const ratio = (raw: string) => {
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 1) fail(`--max-latency-ratio must be a number of at least 1, or off, got "${raw}"`)
  return value
}
const durationMs = parseDuration(/^\d+$/.test(values.duration!) ? `${values.duration}s` : values.duration!)
if (durationMs === undefined || durationMs < 10_000) fail(`--duration must be at least 10s (e.g. 60s), got "${values.duration}"`)
if (values['deploy-cmd'] && !values.target) fail('--deploy-cmd needs --target URL')
if (values.target && values.from) fail('--from builds a local cluster; it cannot be used with --target')

const stopOrders = choice('stop-order', values['stop-order']!, ['lb-first', 'signal-first', 'both'] as const)
const out = values.out
  ? resolve(values.out)
  : `${REPO_ROOT}.local/rehearsals/${new Date().toISOString().replaceAll(':', '').slice(0, 15)}`
if (values['zero-downtime'] && values.rate !== 'auto')
  fail('--zero-downtime needs --rate auto (it searches from the measured capacity)')
const api = positive('api', values.api!)
const workers = positive('workers', values.workers!)
let capacity: number | undefined
if (values.rate === 'auto') {
  if (values.target) fail('--rate auto measures a local cluster; it cannot be used with --target')
  say(`--rate auto: measuring the capacity of ${api} API and ${workers} workers first (10 s per step)`)
  const found = await searchCapacity('capacity', values.from, {
    api,
    workers,
    stepMs: 10_000,
    rates: Array.from({ length: 19 }, (_, i) => 100 + 50 * i),
    maxP99: CAPACITY_BAR.maxP99Ms,
    maxLag: CAPACITY_BAR.maxLagMs,
    log: say,
  })
  if (!found.capacity) fail('--rate auto: the cluster did not carry even 100/s within p99 100 ms; give a --rate')
  capacity = found.capacity!
  say(`capacity ${capacity}/s: the rehearsal loads at ${Math.floor(AUTO_RATE_SHARE * capacity)}/s (${AUTO_RATE_SHARE * 100}%)`)
}
const base: Omit<RehearsalOptions, 'title' | 'runDir' | 'stopOrder'> = {
  rate: capacity ? Math.floor(AUTO_RATE_SHARE * capacity) : positive('rate', values.rate!),
  capacity,
  durationMs: durationMs!,
  api,
  workers,
  strategy: choice('strategy', values.strategy!, ['rolling', 'recreate'] as const),
  state: choice('state', values.state!, ['stateless', 'in-process'] as const),
  from: values.from,
  target: values.target,
  deployCmd: values['deploy-cmd'],
  keep: values.keep!,
  seed: positive('seed', values.seed!),
  maxLatencyRatio: values['max-latency-ratio'] === 'off' ? null : ratio(values['max-latency-ratio']!),
  browserAgents: values.browser === '0' ? 0 : positive('browser', values.browser!),
  log: say,
}

async function one(name: string, dir: string, options: Partial<RehearsalOptions> & { stopOrder: StopOrder }) {
  const merged: RehearsalOptions = { ...base, title: name, runDir: `${dir}/cluster`, ...options }
  say(
    `=== ${name}: ${merged.rate} req/s for ${merged.durationMs / 1000} s, ${merged.strategy}, ${merged.stopOrder}, ${merged.state}`,
  )
  const { report, records } = await rehearse(merged)
  writeReport(dir, report, records)
  process.stderr.write(`\n${renderText(report)}\n`)
  say(`report: ${dir}/report.txt, ${dir}/report.json, ${dir}/report.html`)
  return report
}

try {
  if (values.compare) {
    const runs: ComparedRun[] = []
    for (const scenario of expectations) {
      const report = await one(scenario.name, `${out}/${scenario.slug}`, {
        strategy: scenario.strategy,
        state: scenario.state,
        stopOrder: 'lb-first',
      })
      runs.push({ scenario, report })
    }
    const table = renderComparison(runs)
    mkdirSync(out, { recursive: true })
    writeFileSync(`${out}/compare.txt`, table.text)
    writeFileSync(`${out}/compare.json`, `${JSON.stringify(table.rows, null, 2)}\n`)
    process.stderr.write(`\n${table.text}\n`)
    say(`comparison: ${out}/compare.txt`)
    process.exit(table.storyHolds ? 0 : 1)
  }
  const orders: StopOrder[] = stopOrders === 'both' ? ['lb-first', 'signal-first'] : [stopOrders]
  /**
   * Every stop order at one rate: whether every report passed (the exit code), and what keeps the
   * rate from being a zero-downtime rate (failed invariants, or a steady state past capacity).
   */
  const atRate = async (rate: number, root: string): Promise<{ reportsPassed: boolean; failed: string[] }> => {
    const failed: string[] = []
    let reportsPassed = true
    for (const stopOrder of orders) {
      const dir = orders.length > 1 ? `${root}/${stopOrder}` : root
      let report = await one(`Deploy rehearsal (${base.strategy}, ${stopOrder})`, dir, { stopOrder, rate })
      let why = failuresAt(report, CAPACITY_BAR.maxP99Ms)
      // A steady state past capacity with every invariant held says more about this shared machine
      // at that moment (one stall decides a short steady window) than about deploys: once more, as
      // the capacity search does with a missed step. A broken invariant is never tried again.
      if (values['zero-downtime'] && why.length > 0 && report.invariants.every((i) => i.held)) {
        say(`--zero-downtime: ${stopOrder} at ${rate}/s: ${why.join(', ')}; trying it once more`)
        report = await one(`Deploy rehearsal (${base.strategy}, ${stopOrder}, again)`, `${dir}-again`, { stopOrder, rate })
        why = failuresAt(report, CAPACITY_BAR.maxP99Ms)
      }
      reportsPassed &&= report.passed
      if (why.length > 0) failed.push(`${stopOrder}: ${why.join(', ')}`)
    }
    return { reportsPassed, failed }
  }
  const first = await atRate(base.rate, out)
  if (values['zero-downtime'] && capacity) {
    const outcome = (share: number, rate: number, { failed }: { failed: string[] }): ShareOutcome => ({
      share,
      rate,
      passed: failed.length === 0,
      failed,
    })
    const outcomes = [outcome(AUTO_RATE_SHARE, base.rate, first)]
    for (const share of ZERO_DOWNTIME_SHARES) {
      if (!outcomes.at(-1)!.passed) break
      const rate = Math.floor(share * capacity)
      say(`--zero-downtime: ${Math.round(share * 100)}% of capacity, ${rate}/s`)
      outcomes.push(outcome(share, rate, await atRate(rate, `${out}/zero-downtime-${Math.round(share * 100)}`)))
    }
    const summary = describeZeroDowntime(capacity, outcomes)
    mkdirSync(out, { recursive: true })
    writeFileSync(`${out}/zero-downtime.txt`, `${summary}\n`)
    process.stderr.write(`\n${summary}\n`)
    say(`zero-downtime capacity: ${out}/zero-downtime.txt`)
  }
  process.exit(first.reportsPassed ? 0 : 1)
} catch (error) {
  say(`the rehearsal could not run: ${(error as Error).stack ?? error}`)
  process.exit(2)
}
