import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { healthPlugin, type Lifecycle } from '@tms/lifecycle'
import type { Logger } from '@tms/logging'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify'
import type { OrderBook } from './orders.js'

export type FaultMode = 'ok' | 'error' | 'timeout' | 'slow'

/**
 * GET /orders?after=<seq>&limit=<n>: the web shop's order API.
 * POST /orders/:id/shipment, POST /shipment-notifications (up to 100 at once): the shop learns
 * that orders shipped; POST /orders/:id/cancellation, that one will not.
 * POST /faults {mode, requests, delayMs, target}: the next `requests` calls to the order API
 * (target `orders`) or to the shipment webhook (`notifications`) fail with a 500, never answer,
 * or answer after `delayMs` (only when faults are enabled): how tests show the jobs' retries,
 * and hold a job running for a while.
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
  // Routes typed from their schemas: no request part is cast by hand.
  const routes = app.withTypeProvider<JsonSchemaToTsProvider>()
  type Fault = { mode: FaultMode; remaining: number; delayMs: number }
  const healthy = (): Fault => ({ mode: 'ok', remaining: 0, delayMs: 0 })
  let fault = healthy()
  let notificationFault = healthy()
  /**
   * Applies the fault, if any is left. True when it answered (an error) or never will (a
   * timeout): the route must not answer again. (A boolean, not the reply: a reply is thenable.)
   */
  const inject = async (current: Fault, reply: FastifyReply): Promise<boolean> => {
    if (current.remaining <= 0) return false
    current.remaining--
    if (current.mode === 'error') {
      void reply.code(500).send({ error: 'injected failure' })
      return true
    }
    if (current.mode === 'timeout') return new Promise(() => {}) // never answers
    if (current.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, current.delayMs))
    return false
  }
  let served = 0

  routes.get(
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
      if (await inject(fault, reply)) return reply
      const { after, limit } = request.query
      return options.orders.page(after, limit)
    },
  )

  // The shop learns that an order shipped. Idempotent, as a real shop's webhook must be: the
  // same shipment told twice is counted once (and the repeat is counted, for tests to see).
  const shipped = new Map<string, string>()
  let repeats = 0
  let notificationsReceived = 0
  let notificationBatches = 0
  routes.post(
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
      notificationsReceived++
      if (await inject(notificationFault, reply)) return reply
      const { id } = request.params
      const { trackingNumber } = request.body
      if (shipped.has(id)) repeats++
      shipped.set(id, trackingNumber)
      return reply.code(204).send()
    },
  )

  // The same, for many shipments in one call (at most 100): all are recorded, or none (an
  // injected fault fails the whole call, as a real shop's outage would).
  routes.post(
    '/shipment-notifications',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            shipments: {
              type: 'array',
              minItems: 1,
              maxItems: 100,
              items: {
                type: 'object',
                properties: {
                  orderId: { type: 'string', minLength: 1, maxLength: 80 },
                  shipmentId: { type: 'string' },
                  trackingNumber: { type: 'string' },
                },
                required: ['orderId', 'shipmentId', 'trackingNumber'],
              },
            },
          },
          required: ['shipments'],
        },
      },
    },
    async (request, reply) => {
      const batch = request.body.shipments
      notificationsReceived += batch.length
      notificationBatches++
      if (await inject(notificationFault, reply)) return reply
      for (const { orderId, trackingNumber } of batch) {
        if (shipped.has(orderId)) repeats++
        shipped.set(orderId, trackingNumber)
      }
      return reply.code(204).send()
    },
  )

  // The shop learns that an order will not ship. Idempotent as the shipment webhook.
  const cancelled = new Map<string, string>()
  routes.post(
    '/orders/:id/cancellation',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 80 } }, required: ['id'] },
        body: {
          type: 'object',
          properties: { requestId: { type: 'string' }, reason: { type: 'string' } },
          required: ['requestId', 'reason'],
        },
      },
    },
    async (request, reply) => {
      if (await inject(notificationFault, reply)) return reply
      cancelled.set(request.params.id, request.body.reason)
      return reply.code(204).send()
    },
  )

  app.get('/stats', async () => ({
    cancelled: cancelled.size,
    orders: options.orders.count(),
    served,
    fault,
    notificationFault,
    notificationsReceived,
    notificationBatches,
    shipped: shipped.size,
    repeatedNotifications: repeats,
  }))

  if (options.faults) {
    routes.post(
      '/faults',
      {
        schema: {
          body: {
            type: 'object',
            properties: {
              mode: { type: 'string', enum: ['ok', 'error', 'timeout', 'slow'] },
              requests: { type: 'integer', minimum: 0, default: 1 },
              delayMs: { type: 'integer', minimum: 0, maximum: 600_000, default: 5000 },
              target: { type: 'string', enum: ['orders', 'notifications'], default: 'orders' },
            },
            required: ['mode'],
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const { mode, requests, delayMs, target } = request.body
        const next = { mode, remaining: mode === 'ok' ? 0 : requests, delayMs }
        if (target === 'notifications') notificationFault = next
        else fault = next
        return next
      },
    )
  }
  return app
}
