import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Lifecycle } from './lifecycle.js'

/** A dependency the instance cannot serve without; resolves when reachable, throws when not. */
export type ReadinessCheck = () => Promise<void>

export interface HealthPluginOptions {
  lifecycle: Lifecycle
  checks: Record<string, ReadinessCheck>
  /** Each check gets this long before it counts as down. */
  checkTimeoutMs?: number
}

function withTimeout(check: ReadinessCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    check(),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * /health/live (the process runs) and /health/ready (send traffic here), plus the drain:
 * once shutdown begins, every response carries `Connection: close` so keep-alive clients
 * (and load balancer pools) reconnect to another instance instead of reusing this one.
 * Also counts requests in flight so a shutdown timeout can say what was still open.
 */
export const healthPlugin = fp<HealthPluginOptions>(
  async (app: FastifyInstance, options) => {
    const { lifecycle, checks } = options
    const timeoutMs = options.checkTimeoutMs ?? 1000
    let inFlight = 0

    app.addHook('onRequest', (_request, reply, done) => {
      inFlight++
      if (lifecycle.stopping) reply.header('connection', 'close')
      done()
    })
    app.addHook('onResponse', (_request, _reply, done) => {
      inFlight--
      done()
    })
    app.decorate('requestsInFlight', () => inFlight)

    app.get('/health/live', async () => ({ status: 'ok' }))

    app.get('/health/ready', async (_request, reply) => {
      if (!lifecycle.ready) {
        return reply.code(503).send({ status: lifecycle.state })
      }
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check, timeoutMs)
            return [name, 'ok'] as const
          } catch (error) {
            // Anyone may ask for readiness: the reason stays in our log, the answer says only "down".
            app.log.warn({ check: name, err: (error as Error).message }, 'readiness check failed')
            return [name, 'down'] as const
          }
        }),
      )
      const report = Object.fromEntries(results)
      const allOk = results.every(([, result]) => result === 'ok')
      return reply.code(allOk ? 200 : 503).send({ status: allOk ? 'ready' : 'degraded', checks: report })
    })
  },
  { name: '@tms/lifecycle/health', fastify: '5.x' },
)

declare module 'fastify' {
  interface FastifyInstance {
    requestsInFlight(): number
  }
}
