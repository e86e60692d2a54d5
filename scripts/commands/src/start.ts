/**
 * npm start: the local cluster. HAProxy at http://127.0.0.1:8080 (LB_PORT) in front of 2 API
 * processes (--api N), 2 job workers (--workers M), the shop simulator, on this machine's Redis
 * and PostgreSQL (started when installed but stopped). The environment (REDIS_URL,
 * DATABASE_URL, ADMIN_EMAIL, ...) reaches every process. Ctrl-C or SIGTERM stops it all
 * gracefully; `npm run deploy` deploys to it meanwhile.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  ClusterRunningError,
  type ClusterState,
  currentRelease,
  ensurePostgres,
  ensureRedis,
  formatEvent,
  gitDescribe,
  HaproxyMissingError,
  LoadBalancer,
  LocalCluster,
  localClusterDir,
  PortTakenError,
  readClusterDefinition,
  requireFreePorts,
  ServiceMissingError,
  startControlServer,
  stopStaleCluster,
  writeClusterState,
} from '@tms/cluster'
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, DEV_DEFAULTS } from '@tms/config'

const { values } = parseArgs({
  options: { api: { type: 'string' }, workers: { type: 'string' }, port: { type: 'string' } },
})
const say = (line: string) => process.stderr.write(`[tms] ${line}\n`)
const definition = readClusterDefinition()
if (values.api) definition.api.instances = Number(values.api)
if (values.workers) definition.worker.instances = Number(values.workers)
const lbPort = Number(values.port ?? process.env.LB_PORT ?? definition.loadBalancer.port)
const shopPort = Number(process.env.SHOP_PORT ?? definition.shop.port)
const controlPort = lbPort + 1
const runDir = localClusterDir()
const stateFile = `${runDir}/state.json`

const env: Record<string, string> = {
  REDIS_URL: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
  DATABASE_URL: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
}
try {
  await ensureRedis(env.REDIS_URL!, say)
  await ensurePostgres(env.DATABASE_URL!, say)
  LoadBalancer.requireInstalled()
  await stopStaleCluster(stateFile, say)
  await requireFreePorts([
    { port: lbPort, what: 'the load balancer', option: '--port or LB_PORT' },
    { port: controlPort, what: 'the deploy control, the load balancer port + 1', option: '--port or LB_PORT' },
    { port: shopPort, what: 'the shop simulator', option: 'SHOP_PORT' },
  ])
} catch (error) {
  const expected = [ServiceMissingError, HaproxyMissingError, ClusterRunningError, PortTakenError]
  if (!expected.some((type) => error instanceof type)) throw error
  say((error as Error).message)
  process.exit(1)
}

rmSync(runDir, { recursive: true, force: true })
mkdirSync(runDir, { recursive: true })
const started = Date.now()
const cluster = new LocalCluster({
  definition,
  runDir,
  env,
  release: currentRelease(`0.1.0+${gitDescribe()}`),
  lbPort,
  shopPort,
  portBase: 4001,
  onEvent: (event) => {
    say(formatEvent(event, started))
    recordState()
  },
})

const state: ClusterState = {
  supervisor: { pid: process.pid, name: 'npm start', match: 'start.js' },
  processes: [],
}
/** Rewritten at every step, so that whatever ends this process, the next start knows what ran. */
function recordState(): void {
  state.processes = cluster.processes
  writeClusterState(stateFile, state)
}
recordState()

let stopped: Promise<void> | undefined
/** Every caller waits for the one stop in progress, so the process never exits halfway through it. */
async function stop(code: number): Promise<never> {
  stopped ??= (async () => {
    say('stopping: workers finish their jobs, API instances drain (Ctrl-C again to stop at once)')
    await cluster.stop().catch((error: unknown) => say(`stop failed: ${(error as Error).message}`))
    rmSync(stateFile, { force: true })
  })()
  await stopped
  process.exit(code)
}
process.once('SIGINT', () => {
  process.once('SIGINT', () => {
    say('stopping at once (SIGKILL)')
    cluster.kill()
    rmSync(stateFile, { force: true })
    process.exit(130)
  })
  void stop(0)
})
process.once('SIGTERM', () => void stop(0))

try {
  await cluster.start()
} catch (error) {
  // Stopped while starting (Ctrl-C): that stop is already under way, and it is no failure.
  if (stopped) await stop(0)
  say(`the cluster did not start: ${(error as Error).message}; logs in ${runDir}/logs`)
  await stop(1)
}
if (stopped) await stop(0)
await startControlServer(cluster, controlPort)
state.url = cluster.url
state.control = `http://127.0.0.1:${controlPort}`
recordState()
say('')
say(`TMS packing station: ${cluster.url}/  (open it in a browser)`)
say(
  `development login: ${process.env.ADMIN_EMAIL ?? DEV_DEFAULTS.ADMIN_EMAIL} / ${process.env.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : DEV_DEFAULTS.ADMIN_PASSWORD}`,
)
say(`API: ${cluster.url}  (OpenAPI: ${cluster.url}/docs/json; POST /auth/login)`)
say(`jobs: npm run jobs -- list; deploy a new version: npm run deploy -- --app api|worker|all; logs: ${runDir}/logs`)
