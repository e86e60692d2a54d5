import type { BrowserAgentsResult } from './browser-agents.js'
import type { HttpClient, Reply } from './http-client.js'
import type { Ledger } from './ledger.js'
import type { LatencyComparison } from './load-summary.js'
import type { RequestRecord } from './request-record.js'

export type InvariantId =
  | 'answered'
  | 'sessions'
  | 'packs'
  | 'writes'
  | 'shop'
  | 'ticks'
  | 'deploys'
  | 'latency'
  | 'batch-devices'
  | 'batch-shipped'
  | 'batch-numbers'
  | 'browser'

export interface Invariant {
  id: InvariantId
  name: string
  held: boolean
  /** What was measured, in one line. */
  measured: string
  /** How many things broke it (failed requests, lost sessions, ...); 0 when it held. */
  violations: number
  /** The first few offenders, when it did not hold. */
  details?: string[]
}

export interface DeployWindow {
  app: string
  /** Epoch ms. */
  from: number
  to: number | null
  error?: string
}

export interface InvariantInput {
  client: HttpClient
  adminCookie: string
  records: ReadonlyArray<RequestRecord>
  ledger: Ledger
  sessions: ReadonlyArray<{ email: string; cookie: string | undefined }>
  /** Epoch ms. */
  loadStartedAt: number
  loadEndedAt: number
  /** --duration; the load runs longer while a deploy is under way, up to twice this. */
  loadPlannedMs: number
  deploys: ReadonlyArray<DeployWindow>
  latency: LatencyComparison
  /** The p99 bar during deploys against steady state; null: measured and reported, not judged. */
  maxLatencyRatio: number | null
  /** What the browser packing stations did and saw, when the run had any (--browser N). */
  browser?: BrowserAgentsResult | undefined
  log: (line: string) => void
}

/** A count for people: 18,000. */
export const n = (value: number) => value.toLocaleString('en-US')
/** The first few offenders, for an invariant's details. */
export const first = (list: string[]) => list.slice(0, 10)

/** What every check reads: the run's input, an admin's GET, and every shipment the load wrote. */
export interface CheckContext extends InvariantInput {
  get: (path: string, cookie?: string) => Promise<Reply>
  /** GET /shipments/:id of every shipment the load packed or shipped, read once after the load. */
  shipments: Map<string, Reply>
  /** Every refurbishment batch with all its devices, read once after the load; empty where there are none. */
  batches: BatchWithDevices[]
}

export interface BatchWithDevices {
  batch: { id: string; number: number; status: string; trackingNumber: string | null; deviceCount: number }
  devices: Array<{ deviceId: string; trackingNumber: string | null }>
}

/** One invariant; null when it is not judged in this run. */
export type Check = (context: CheckContext) => Promise<Invariant | null> | Invariant | null
