import { REPO_ROOT } from '@tms/cluster'
import { DEV_DEFAULTS } from '@tms/config'
import type { HttpClient } from '@tms/rehearsal'
import { type Environment, localEnvironment, type RehearsalOptions, WarehouseMix } from '@tms/rehearsal'
import { seededRandom, uniqueName } from '@tms/sandbox'

export interface BenchClusterOptions {
  /** Names the run and its directory under .local/capacity/. */
  title: string
  /** A git ref to build and run, or this checkout. */
  from: string | undefined
  api: number
  workers: number
  /** The highest rate the mix will be driven at: it sizes the mix's people. */
  rate: number
  apiEnv?: RehearsalOptions['apiEnv']
  log: (line: string) => void
}

/**
 * A local cluster for measuring, not rehearsing: its own Redis prefix and schema, nothing kept,
 * no deploy, no browser; the same for the capacity search and the route profile.
 */
export function benchCluster(options: BenchClusterOptions): Promise<Environment> {
  return localEnvironment(
    {
      title: options.title,
      rate: options.rate,
      durationMs: 1000,
      api: options.api,
      workers: options.workers,
      strategy: 'rolling',
      stopOrder: 'lb-first',
      state: 'stateless',
      from: options.from,
      keep: false,
      seed: 1,
      runDir: `${REPO_ROOT}.local/capacity/${options.title.replace(/[^A-Za-z0-9._-]+/g, '-')}`,
      maxLatencyRatio: null,
      browserAgents: 0,
      apiEnv: options.apiEnv,
      log: options.log,
    },
    () => undefined,
  )
}

/** The rehearsal's mix on a bench cluster, as the local admin (ADMIN_EMAIL / ADMIN_PASSWORD). */
export function benchMix(client: HttpClient, runIdPrefix: string, rate: number, log: (line: string) => void): WarehouseMix {
  return new WarehouseMix({
    client,
    runId: uniqueName(runIdPrefix),
    rate,
    admin: {
      email: process.env.ADMIN_EMAIL ?? DEV_DEFAULTS.ADMIN_EMAIL,
      password: process.env.ADMIN_PASSWORD ?? DEV_DEFAULTS.ADMIN_PASSWORD,
    },
    random: seededRandom(1),
    log,
  })
}
