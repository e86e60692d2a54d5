import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AppInstance } from './app-instance.js'
import type { DeployStrategy, StopOrder } from './cluster-definition.js'
import type { DeployOptions, TimelineEvent } from './local-cluster.js'
import { currentRelease, type Release } from './release.js'

export interface DeployRequest {
  app: 'api' | 'worker' | 'all'
  version: string
  strategy?: DeployStrategy | undefined
  stopOrder?: StopOrder | undefined
}

/** What the control server needs of the cluster (LocalCluster). */
export interface ControlledCluster {
  readonly url: string
  readonly apiInstances: ReadonlyArray<Pick<AppInstance, 'name' | 'release' | 'port'>>
  readonly workerInstances: ReadonlyArray<Pick<AppInstance, 'name' | 'release' | 'port'>>
  subscribe(listener: (event: TimelineEvent) => void): () => void
  deploy(app: DeployRequest['app'], release: Release, options?: DeployOptions): Promise<void>
}

/** `npm run deploy` sends about 100 bytes. */
const MAX_BODY_BYTES = 4096
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/
const APPS = ['api', 'worker', 'all'] as const
const STRATEGIES = ['rolling', 'recreate'] as const
const STOP_ORDERS = ['lb-first', 'signal-first'] as const

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6: this machine, whatever loopback address it used. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1'
}

/** The deploy asked for, or what is wrong with the body (a 400's message). */
export function parseDeployRequest(body: string): { ok: true; deploy: DeployRequest } | { ok: false; problem: string } {
  let raw: unknown
  try {
    raw = JSON.parse(body)
  } catch {
    return { ok: false, problem: 'the body is not JSON' }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, problem: 'the body is not a JSON object' }
  const { app, version, strategy, stopOrder, ...rest } = raw as Record<string, unknown>
  const unknown = Object.keys(rest)
  if (unknown.length > 0) return { ok: false, problem: `unknown field ${unknown[0]!.slice(0, 40)}` }
  if (!APPS.includes(app as never)) return { ok: false, problem: `app must be one of ${APPS.join(', ')}` }
  if (typeof version !== 'string' || !VERSION.test(version)) {
    return { ok: false, problem: 'version must be 1 to 64 letters, digits, ., +, _ or -' }
  }
  if (strategy !== undefined && !STRATEGIES.includes(strategy as never)) {
    return { ok: false, problem: `strategy must be one of ${STRATEGIES.join(', ')}` }
  }
  if (stopOrder !== undefined && !STOP_ORDERS.includes(stopOrder as never)) {
    return { ok: false, problem: `stopOrder must be one of ${STOP_ORDERS.join(', ')}` }
  }
  return {
    ok: true,
    deploy: {
      app: app as DeployRequest['app'],
      version,
      strategy: strategy as DeployStrategy | undefined,
      stopOrder: stopOrder as StopOrder | undefined,
    },
  }
}

function refuse(response: ServerResponse, status: number, message: string): void {
  if (response.headersSent) {
    response.end()
    return
  }
  response.writeHead(status, { 'content-type': 'application/json', connection: 'close' })
  response.end(`${JSON.stringify({ error: message })}\n`)
}

/**
 * How `npm run deploy` talks to the cluster `npm start` runs: POST /deploy streams the deploy's
 * steps as JSON lines and ends with {"done":true} or {"error":...}.
 *
 * It runs the whole cluster, so nothing a caller sends may take it down: callers from this
 * machine only (it also listens on 127.0.0.1 only); no browser (a page anywhere could
 * otherwise send a "simple" cross-origin POST here: anything with an Origin or cross-site
 * fetch metadata is refused, and only application/json, which a page cannot send without a
 * preflight this server never answers); a bounded body, parsed and checked field by field.
 */
export function startControlServer(cluster: ControlledCluster, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((request, response) => {
    try {
      handle(cluster, request, response)
    } catch (error) {
      refuse(response, 500, (error as Error).message)
    }
  })
  // A client that resets its connection must not surface as an unhandled error.
  server.on('clientError', (_error, socket) => socket.destroy())
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)))
}

function handle(cluster: ControlledCluster, request: IncomingMessage, response: ServerResponse): void {
  if (!isLoopback(request.socket.remoteAddress)) {
    refuse(response, 403, 'only callers on this machine')
    return
  }
  const site = request.headers['sec-fetch-site']
  if (request.headers.origin !== undefined || (site !== undefined && site !== 'none')) {
    refuse(response, 403, 'not from a browser')
    return
  }
  if (request.method === 'GET' && request.url === '/status') {
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        url: cluster.url,
        api: cluster.apiInstances.map((i) => ({ name: i.name, version: i.release.version, port: i.port })),
        worker: cluster.workerInstances.map((i) => ({ name: i.name, version: i.release.version, port: i.port })),
      }),
    )
    return
  }
  if (request.method !== 'POST' || request.url !== '/deploy') {
    refuse(response, 404, 'GET /status or POST /deploy')
    return
  }
  if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
    refuse(response, 415, 'the body must be application/json')
    return
  }
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
    refuse(response, 413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
    return
  }
  const chunks: Buffer[] = []
  let size = 0
  request.on('error', () => response.destroy())
  request.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_BODY_BYTES) {
      refuse(response, 413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
      request.destroy()
      return
    }
    chunks.push(chunk)
  })
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) return
    const parsed = parseDeployRequest(Buffer.concat(chunks).toString('utf8'))
    if (!parsed.ok) {
      refuse(response, 400, parsed.problem)
      return
    }
    const { deploy } = parsed
    response.setHeader('content-type', 'application/x-ndjson')
    const unsubscribe = cluster.subscribe((event: TimelineEvent) => response.write(`${JSON.stringify(event)}\n`))
    Promise.resolve()
      .then(() =>
        cluster.deploy(deploy.app, currentRelease(deploy.version), { strategy: deploy.strategy, stopOrder: deploy.stopOrder }),
      )
      .then(
        () => response.end(`${JSON.stringify({ done: true })}\n`),
        (error: unknown) => response.end(`${JSON.stringify({ error: (error as Error).message })}\n`),
      )
      .finally(unsubscribe)
  })
}
