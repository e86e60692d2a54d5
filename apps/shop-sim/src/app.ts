import { healthPlugin, type Lifecycle } from '@tms/lifecycle'
import type { Logger } from '@tms/logging'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import type { OrderBook } from './orders.js'

export type FaultMode = 'ok' | 'error' | 'timeout' | 'slow'

/**
 * GET /orders?after=<seq>&limit=<n>: the web shop's order API.
 * POST /faults {mode, requests, delayMs}: the next `requests` order calls fail with a 500,
 * never answer, or answer after `delayMs` (only when faults are enabled): how tests show the
 * sync job's retries, and hold a job running for a while.
 */
export async function buildShop(options: {
  orders: OrderBook
  logger: Logger
  lifecycle: Lifecycle
  faults: boolean
}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: false,
  })
  await app.register(healthPlugin, { lifecycle: options.lifecycle, checks: {} })
  let fault: { mode: FaultMode; remaining: number; delayMs: number } = { mode: 'ok', remaining: 0, delayMs: 0 }
  let served = 0

  app.get(
    '/orders',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
          },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      served++
      if (fault.remaining > 0) {
        fault.remaining--
        if (fault.mode === 'error') return reply.code(500).send({ error: 'injected failure' })
        if (fault.mode === 'timeout') return new Promise(() => {}) // never answers
        if (fault.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
      }
      const { after, limit } = request.query as { after: number; limit: number }
      return options.orders.page(after, limit)
    },
  )

  // The shop learns that an order shipped. Idempotent, as a real shop's webhook must be: the
  // same shipment told twice is counted once (and the repeat is counted, for tests to see).
  const shipped = new Map<string, string>()
  let repeats = 0
  app.post(
    '/orders/:id/shipment',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 80 } }, required: ['id'] },
        body: {
          type: 'object',
          properties: { shipmentId: { type: 'string' }, trackingNumber: { type: 'string' } },
          required: ['shipmentId', 'trackingNumber'],
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string }
      const { trackingNumber } = request.body as { trackingNumber: string }
      if (shipped.has(id)) repeats++
      shipped.set(id, trackingNumber)
      return reply.code(204).send()
    },
  )

  app.get('/stats', async () => ({
    orders: options.orders.count(),
    served,
    fault,
    shipped: shipped.size,
    repeatedNotifications: repeats,
  }))

  if (options.faults) {
    app.post(
      '/faults',
      {
        schema: {
          body: {
            type: 'object',
            properties: {
              mode: { type: 'string', enum: ['ok', 'error', 'timeout', 'slow'] },
              requests: { type: 'integer', minimum: 0, default: 1 },
              delayMs: { type: 'integer', minimum: 0, maximum: 600_000, default: 5000 },
            },
            required: ['mode'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const { mode, requests, delayMs } = request.body as { mode: FaultMode; requests: number; delayMs: number }
        fault = { mode, remaining: mode === 'ok' ? 0 : requests, delayMs }
        return fault
      },
    )
  }
  return app
}
