import type { BrowserAgentsResult } from './browser-agents.js'
import type { Invariant } from './invariant-model.js'
import type { LatencyComparison, LoadSummary, Second } from './load-summary.js'

/** A step of a deploy, in seconds since the load began. */
export interface Marker {
  t: number
  app: string
  action: string
  instance?: string | undefined
  version?: string | undefined
  detail?: string | undefined
}

/** Everything a rehearsal measured; report.json holds exactly this. */
export interface Report {
  title: string
  settings: Record<string, string | number>
  summary: LoadSummary
  latency: LatencyComparison
  invariants: Invariant[]
  passed: boolean
  /** The deploy windows, in seconds since the load began. */
  deploys: Array<{ app: string; from: number; to: number | null }>
  timeline: Marker[]
  seconds: Second[]
  /** How long the load ran: --duration, or longer while a deploy was still under way. */
  load: { plannedSeconds: number; seconds: number }
  /** The generator's own worst lag behind schedule: above a few ms, the machine was the bottleneck. */
  generatorMaxLagMs: number
  /** Database commit stalls the probe saw, in seconds since the load began. */
  databaseStalls: { from: number; to: number }[]
  /** The browser packing stations' actions and what they saw (--browser N). */
  browser?: BrowserAgentsResult | undefined
}
