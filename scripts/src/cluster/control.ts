import { createServer, type Server } from 'node:http'
import type { DeployStrategy, StopOrder } from './cluster-definition.js'
import type { LocalCluster, TimelineEvent } from './local-cluster.js'
import { currentRelease } from './release.js'

export interface DeployRequest {
  app: 'api' | 'worker' | 'all'
  version: string
  strategy?: DeployStrategy
  stopOrder?: StopOrder
}

/**
 * How `npm run deploy` talks to the cluster `npm start` runs: POST /deploy streams the deploy's
 * steps as JSON lines and ends with {"done":true} or {"error":...}. Loopback only.
 */
export function startControlServer(cluster: LocalCluster, port: number): Promise<Server> {
  const server = createServer((request, response) => {
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
      response.statusCode = 404
      response.end()
      return
    }
    let body = ''
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    request.on('end', () => {
      const deploy = JSON.parse(body) as DeployRequest
      response.setHeader('content-type', 'application/x-ndjson')
      const unsubscribe = cluster.subscribe((event: TimelineEvent) => response.write(`${JSON.stringify(event)}\n`))
      cluster
        .deploy(deploy.app, currentRelease(deploy.version), {
          ...(deploy.strategy ? { strategy: deploy.strategy } : {}),
          ...(deploy.stopOrder ? { stopOrder: deploy.stopOrder } : {}),
        })
        .then(
          () => response.end(`${JSON.stringify({ done: true })}\n`),
          (error: unknown) => response.end(`${JSON.stringify({ error: (error as Error).message })}\n`),
        )
        .finally(unsubscribe)
    })
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)))
}
