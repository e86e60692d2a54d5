import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export type DeployStrategy = 'rolling' | 'recreate'
/** lb-first: deregister and drain in the load balancer, then SIGTERM (ECS). signal-first: SIGTERM while the endpoint goes away; the balancer learns from failing checks (Kubernetes). */
export type StopOrder = 'lb-first' | 'signal-first'

export interface AppDeployment {
  instances: number
  strategy: DeployStrategy
  minimumHealthyPercent: number
  maximumPercent: number
  stopOrder?: StopOrder
  env: Record<string, string>
}

export interface ClusterDefinition {
  loadBalancer: {
    port: number
    slots: number
    healthCheck: { path: string; intervalMs: number; fall: number; rise: number }
    idleTimeoutMs: number
    deregistrationDelayMs: number
    /**
     * Pin each client to one instance with a cookie. TMS does not need it (any instance serves
     * any request); the rehearsal turns it on to demonstrate in-process sessions fairly.
     */
    stickySessions?: boolean
  }
  api: AppDeployment & { stopOrder: StopOrder }
  worker: AppDeployment
  shop: { port: number }
}

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const DEPLOY_LOCAL = `${REPO_ROOT}deploy/local/`

/**
 * Where `npm start` keeps the cluster's logs, HAProxy's files and state.json (what runs, where it
 * answers; read by `npm run deploy` and by the next start). CLUSTER_DIR moves it (tests).
 */
export function localClusterDir(): string {
  return resolve(process.env.CLUSTER_DIR ?? `${REPO_ROOT}.local/cluster`)
}

export function readClusterDefinition(): ClusterDefinition {
  return JSON.parse(readFileSync(`${DEPLOY_LOCAL}cluster.json`, 'utf8')) as ClusterDefinition
}
