import type { DeployStrategy, StopOrder } from '@tms/cluster'

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
