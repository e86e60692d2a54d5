import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import {
  buildRelease,
  currentRelease,
  ensurePostgres,
  ensureRedis,
  formatEvent,
  gitDescribe,
  LoadBalancer,
  LocalCluster,
  PortAllocator,
  REPO_ROOT,
  type Release,
  readClusterDefinition,
  type TimelineEvent,
} from '@tms/cluster'
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '@tms/config'
import { deleteKeys, dropSchema, uniqueName } from '@tms/sandbox'
import type { RehearsalOptions } from './rehearsal-options.js'

/** Where a rehearsal runs: a local cluster of its own, or an existing environment (--target). */
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
export function targetEnvironment(options: RehearsalOptions): Environment {
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
