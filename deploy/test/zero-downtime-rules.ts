import type { Doc } from './manifests.js'

/**
 * The rules a deployment definition must keep so that a deploy drops nothing. Each check returns
 * the broken rules in words (empty when all hold), so a failing test says what to fix.
 */
export interface Facts {
  /** The API's longest request (its requestTimeout), ms. */
  longestRequestMs: number
  /** What one password hash holds while it runs, MiB. */
  scryptMiB: number
  /** An API instance's own memory besides its hashes, MiB (measured). */
  apiBaseMiB: number
}

/** Headroom above what the API is measured to need: heap growth, a burst of large bodies. */
const MEMORY_HEADROOM = 1.25

type Problems = string[]

const ms = (seconds: number) => seconds * 1000
const envOf = (list: Array<{ name: string; value?: string }> | undefined) =>
  Object.fromEntries((list ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]))
const num = (env: Record<string, string>, name: string): number | undefined =>
  env[name] === undefined ? undefined : Number(env[name])
const need = (problems: Problems, ok: boolean, rule: string) => {
  if (!ok) problems.push(rule)
}

/** What an HTTP app needs from its own settings: keep-alive above the balancer, a bounded shutdown. */
function apiTimings(problems: Problems, env: Record<string, string>, facts: Facts, lbIdleMs: number | undefined) {
  const drain = num(env, 'DRAIN_DELAY_MS')
  const shutdown = num(env, 'SHUTDOWN_TIMEOUT_MS')
  const keepAlive = num(env, 'KEEP_ALIVE_TIMEOUT_MS')
  need(problems, drain !== undefined && drain > 0, 'DRAIN_DELAY_MS is set above 0')
  need(
    problems,
    shutdown !== undefined && drain !== undefined && shutdown >= drain + facts.longestRequestMs,
    `SHUTDOWN_TIMEOUT_MS (${shutdown}) covers DRAIN_DELAY_MS (${drain}) + the longest request (${facts.longestRequestMs})`,
  )
  need(
    problems,
    keepAlive !== undefined && lbIdleMs !== undefined && keepAlive > lbIdleMs,
    `KEEP_ALIVE_TIMEOUT_MS (${keepAlive}) is above the load balancer's idle timeout (${lbIdleMs})`,
  )
  return { drain: drain ?? 0, shutdown: shutdown ?? 0 }
}

/**
 * The memory an API instance may use holds its own base and PASSWORD_HASH_CONCURRENCY hashes at
 * once, with headroom: 50 logins at once must never get the instance killed for its memory.
 */
function apiMemory(problems: Problems, env: Record<string, string>, limitMiB: number | undefined, facts: Facts) {
  const hashes = num(env, 'PASSWORD_HASH_CONCURRENCY')
  need(problems, hashes !== undefined, 'PASSWORD_HASH_CONCURRENCY is set (the memory limit is sized from it)')
  const needed = (facts.apiBaseMiB + (hashes ?? 0) * facts.scryptMiB) * MEMORY_HEADROOM
  need(
    problems,
    limitMiB !== undefined && limitMiB >= needed,
    `the memory limit (${limitMiB} MiB) holds the API (${facts.apiBaseMiB} MiB) and ${hashes} password hashes of ${facts.scryptMiB} MiB at once, with ${MEMORY_HEADROOM}x headroom (${needed} MiB)`,
  )
}

/** `512Mi`, `1Gi`, `600M` in MiB. */
function mebibytes(quantity: unknown): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(String(quantity ?? ''))
  if (!match) return undefined
  const value = Number(match[1])
  return { Mi: value, Gi: value * 1024, M: (value * 1e6) / 2 ** 20, G: (value * 1e9) / 2 ** 20 }[match[2] as 'Mi']
}

export function kubernetesApi(docs: Doc[], facts: Facts): Problems {
  const problems: Problems = []
  const deployment = docs.find((d) => d.kind === 'Deployment')
  const ingress = docs.find((d) => d.kind === 'Ingress')
  if (!deployment) return ['a Deployment exists']
  const rolling = deployment.spec?.strategy
  need(problems, rolling?.type === 'RollingUpdate', 'the strategy is RollingUpdate')
  need(problems, rolling?.rollingUpdate?.maxUnavailable === 0, 'maxUnavailable is 0 (capacity never drops)')
  need(problems, rolling?.rollingUpdate?.maxSurge === 1, 'maxSurge is 1')
  const pod = deployment.spec?.template?.spec ?? {}
  const container = pod.containers?.[0] ?? {}
  const readiness = container.readinessProbe
  need(problems, readiness?.httpGet?.path === '/health/ready', 'the readinessProbe checks /health/ready')
  need(
    problems,
    container.livenessProbe?.httpGet?.path === '/health/live',
    'the livenessProbe checks /health/live (never the dependencies: their outage must not restart pods)',
  )
  const env = envOf(container.env)
  const attributes = String(ingress?.metadata?.annotations?.['alb.ingress.kubernetes.io/load-balancer-attributes'] ?? '')
  const idle = /idle_timeout\.timeout_seconds=(\d+)/.exec(attributes)
  const { drain, shutdown } = apiTimings(problems, env, facts, idle ? ms(Number(idle[1])) : undefined)
  apiMemory(problems, env, mebibytes(container.resources?.limits?.memory), facts)
  // Kubernetes is signal-first: SIGTERM arrives as the endpoint goes away, so the app's own
  // drain (or a preStop) must outlast the readiness probe noticing, plus propagation.
  const noticeMs = ms((readiness?.periodSeconds ?? 10) * (readiness?.failureThreshold ?? 3))
  const preStop = container.lifecycle?.preStop
  const preStopMs = preStop?.sleep?.seconds ? ms(preStop.sleep.seconds) : 0
  need(
    problems,
    drain + preStopMs > noticeMs,
    `the drain (DRAIN_DELAY_MS ${drain} + preStop ${preStopMs}) outlasts readiness noticing (${noticeMs} ms)`,
  )
  const grace = ms(pod.terminationGracePeriodSeconds ?? 30)
  need(
    problems,
    grace > preStopMs + drain + facts.longestRequestMs && grace > preStopMs + shutdown,
    `terminationGracePeriodSeconds (${grace / 1000}) is above preStop + drain + the longest request and above SHUTDOWN_TIMEOUT_MS`,
  )
  need(
    problems,
    ingress?.metadata?.annotations?.['alb.ingress.kubernetes.io/healthcheck-path'] === '/health/ready',
    'the load balancer health-checks /health/ready',
  )
  return problems
}

export function kubernetesWorker(docs: Doc[]): Problems {
  const problems: Problems = []
  const deployment = docs.find((d) => d.kind === 'Deployment')
  if (!deployment) return ['a Deployment exists']
  need(problems, deployment.spec?.strategy?.type === 'RollingUpdate', 'the strategy is RollingUpdate')
  need(
    problems,
    !docs.some((d) => d.kind === 'Service' || d.kind === 'Ingress'),
    'no Service or Ingress: the worker takes no traffic',
  )
  const pod = deployment.spec?.template?.spec ?? {}
  const container = pod.containers?.[0] ?? {}
  const shutdown = num(envOf(container.env), 'WORKER_SHUTDOWN_TIMEOUT_MS')
  need(problems, shutdown !== undefined, 'WORKER_SHUTDOWN_TIMEOUT_MS is set')
  const grace = ms(pod.terminationGracePeriodSeconds ?? 30)
  need(
    problems,
    shutdown !== undefined && grace > shutdown,
    `terminationGracePeriodSeconds (${grace / 1000}) is above WORKER_SHUTDOWN_TIMEOUT_MS (${shutdown})`,
  )
  need(problems, container.resources?.requests?.cpu !== undefined, 'the worker requests CPU of its own')
  need(
    problems,
    docs.some((d) => d.kind === 'HorizontalPodAutoscaler'),
    'the worker scales on its own',
  )
  return problems
}

/** Fargate refuses a stopTimeout above 120 s. */
export const FARGATE_MAX_STOP_TIMEOUT_S = 120

function fargateStop(problems: Problems, task: Doc, container: Doc) {
  if (task.requiresCompatibilities?.includes('FARGATE')) {
    need(
      problems,
      (container.stopTimeout ?? 30) <= FARGATE_MAX_STOP_TIMEOUT_S,
      `stopTimeout (${container.stopTimeout}) is at most ${FARGATE_MAX_STOP_TIMEOUT_S} s on Fargate`,
    )
  }
}

export function ecsApi(task: Doc, service: Doc, lb: Doc, facts: Facts): Problems {
  const problems: Problems = []
  const config = service.deploymentConfiguration ?? {}
  need(problems, config.minimumHealthyPercent === 100, 'minimumHealthyPercent is 100 (capacity never drops)')
  need(problems, config.maximumPercent === 200, 'maximumPercent is 200')
  need(problems, (service.loadBalancers ?? []).length > 0, 'the service is behind a load balancer')
  need(problems, lb.targetGroup?.HealthCheckPath === '/health/ready', 'the target group health-checks /health/ready')
  const attr = (list: Array<{ Key: string; Value: string }> | undefined, key: string) => list?.find((a) => a.Key === key)?.Value
  const idle = attr(lb.loadBalancerAttributes, 'idle_timeout.timeout_seconds')
  const deregistration = attr(lb.targetGroupAttributes, 'deregistration_delay.timeout_seconds')
  need(
    problems,
    deregistration !== undefined && ms(Number(deregistration)) >= facts.longestRequestMs,
    `the deregistration delay (${deregistration} s) lets the longest request (${facts.longestRequestMs} ms) finish before SIGTERM`,
  )
  const container = task.containerDefinitions?.[0] ?? {}
  const env = envOf(container.environment)
  const { drain, shutdown } = apiTimings(problems, env, facts, idle ? ms(Number(idle)) : undefined)
  apiMemory(problems, env, Number(container.memory ?? task.memory) || undefined, facts)
  const stop = ms(container.stopTimeout ?? 30)
  need(
    problems,
    stop > drain + facts.longestRequestMs && stop > shutdown,
    `stopTimeout (${stop / 1000} s) is above drain + the longest request and above SHUTDOWN_TIMEOUT_MS`,
  )
  fargateStop(problems, task, container)
  return problems
}

export function ecsWorker(task: Doc, service: Doc): Problems {
  const problems: Problems = []
  need(problems, (service.loadBalancers ?? []).length === 0, 'no load balancer: the worker takes no traffic')
  const config = service.deploymentConfiguration ?? {}
  need(
    problems,
    typeof config.minimumHealthyPercent === 'number' && typeof config.maximumPercent === 'number',
    'the worker has its own minimumHealthyPercent and maximumPercent',
  )
  const container = task.containerDefinitions?.[0] ?? {}
  const shutdown = num(envOf(container.environment), 'WORKER_SHUTDOWN_TIMEOUT_MS')
  need(problems, shutdown !== undefined, 'WORKER_SHUTDOWN_TIMEOUT_MS is set')
  need(
    problems,
    shutdown !== undefined && ms(container.stopTimeout ?? 30) > shutdown,
    `stopTimeout (${container.stopTimeout} s) is above WORKER_SHUTDOWN_TIMEOUT_MS (${shutdown})`,
  )
  fargateStop(problems, task, container)
  return problems
}

/** deploy/local/cluster.json: the rehearsal's cluster follows the same rules. */
export function localCluster(cluster: Doc, facts: Facts): Problems {
  const problems: Problems = []
  need(problems, cluster.api?.strategy === 'rolling', 'the API rolls')
  need(problems, cluster.api?.minimumHealthyPercent === 100, 'the API keeps minimumHealthyPercent 100')
  need(problems, (cluster.api?.maximumPercent ?? 0) > 100, 'the API may surge above 100%')
  need(problems, cluster.loadBalancer?.healthCheck?.path === '/health/ready', 'HAProxy health-checks /health/ready')
  const env = cluster.api?.env ?? {}
  apiTimings(problems, env, facts, cluster.loadBalancer?.idleTimeoutMs)
  const hc = cluster.loadBalancer?.healthCheck ?? {}
  need(
    problems,
    Number(env.DRAIN_DELAY_MS) > (hc.intervalMs ?? 0) * (hc.fall ?? 0),
    'the API drain outlasts HAProxy noticing a failing readiness (signal-first)',
  )
  need(problems, cluster.worker?.env?.WORKER_SHUTDOWN_TIMEOUT_MS !== undefined, 'the worker has a shutdown timeout')
  return problems
}
