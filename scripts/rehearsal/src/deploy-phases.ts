import { median, percentile } from './load-summary.js'
import type { Marker } from './report.js'
import type { RequestRecord } from './request-record.js'

/**
 * Where a deploy's latency comes from, read back from a finished rehearsal (report.json's
 * timeline and requests.ndjson): each request is counted in every phase of the cluster it was
 * sent in, so a phase's latency is what all users saw while that happened.
 */
export type Phase =
  | 'steady'
  | 'api instance booting'
  | 'api instance joined, first 3 s'
  | 'api instance draining'
  | 'workers deploying'

export const PHASES: Phase[] = [
  'steady',
  'api instance booting',
  'api instance joined, first 3 s',
  'api instance draining',
  'workers deploying',
]

const JOINED_MS = 3000

interface Window {
  phase: Phase
  from: number
  to: number
}

function windowsOf(timeline: ReadonlyArray<Marker>): Window[] {
  const after = (like: Marker, action: string, t: number) =>
    timeline.find((m) => m.app === like.app && m.instance === like.instance && m.action === action && m.t >= t)?.t
  const windows: Window[] = []
  for (const m of timeline) {
    if (m.t < 0) continue
    if (m.app === 'api' && m.action === 'started') {
      const healthy = after(m, 'healthy', m.t)
      if (healthy === undefined) continue
      windows.push({ phase: 'api instance booting', from: m.t, to: healthy })
      windows.push({ phase: 'api instance joined, first 3 s', from: healthy, to: healthy + JOINED_MS / 1000 })
    }
    if (
      m.app === 'api' &&
      (m.action === 'lb-drain' || (m.action === 'sigterm' && after(m, 'lb-drain', -Infinity) === undefined))
    ) {
      windows.push({ phase: 'api instance draining', from: m.t, to: after(m, 'exited', m.t) ?? m.t })
    }
    if (m.app === 'worker' && m.action === 'deploy-start') {
      windows.push({ phase: 'workers deploying', from: m.t, to: after(m, 'deploy-end', m.t) ?? m.t })
    }
  }
  return windows
}

export interface PhaseLatency {
  phase: Phase
  requests: number
  p50: number
  p99: number
}

/**
 * p50 and p99 by phase; steady is everything outside every deploy (and outside all phases).
 * Requests in the load's first `warmUpMs` are left out, as the report leaves them out
 * (report.json's latency.warmUpMs).
 */
export function latencyByPhase(
  records: ReadonlyArray<RequestRecord>,
  timeline: ReadonlyArray<Marker>,
  warmUpMs: number,
): PhaseLatency[] {
  const windows = windowsOf(timeline)
  const deploys = timeline.filter((m) => m.action === 'deploy-start' || m.action === 'deploy-end').map((m) => m.t)
  const [firstDeploy, lastDeploy] = [Math.min(...deploys), Math.max(...deploys)]
  const by = new Map<Phase, number[]>(PHASES.map((p) => [p, []]))
  for (const r of records) {
    if (r.sentAt < warmUpMs) continue
    const t = r.sentAt / 1000
    const inside = windows.filter((w) => t >= w.from && t < w.to)
    for (const w of inside) by.get(w.phase)!.push(r.latencyMs)
    if (inside.length === 0 && (t < firstDeploy - 1 || t > lastDeploy + 1)) by.get('steady')!.push(r.latencyMs)
  }
  return PHASES.map((phase) => {
    const sorted = by.get(phase)!.sort((a, b) => a - b)
    return { phase, requests: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
  })
}

/**
 * For each API instance that joined during the load: its median latency over that of the other
 * instances in the same second, by whole seconds since it joined (health checks left out).
 */
export function newestInstanceRatios(
  records: ReadonlyArray<RequestRecord>,
  timeline: ReadonlyArray<Marker>,
  seconds = 10,
): number[][] {
  const ratios: number[][] = Array.from({ length: seconds }, () => [])
  for (const joined of timeline.filter((m) => m.app === 'api' && m.action === 'healthy' && m.t > 0)) {
    for (let age = 0; age < seconds; age++) {
      const from = (joined.t + age) * 1000
      const mine: number[] = []
      const others: number[] = []
      for (const r of records) {
        if (r.sentAt < from || r.sentAt >= from + 1000 || r.outcome === 'failed' || r.route === 'GET /health/live') continue
        ;(r.instance === joined.instance ? mine : others).push(r.latencyMs)
      }
      if (mine.length >= 5 && others.length >= 5) ratios[age]!.push(median(mine) / median(others))
    }
  }
  return ratios
}
