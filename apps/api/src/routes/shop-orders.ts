import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type JobsAdmin, SCHEDULED_JOBS } from '@tms/jobs'
import type { QuarantinedOrders } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors, errorBody, limitQuery } from './schemas.js'

const quarantinedOrderView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    source: { type: 'string' },
    orderId: { type: ['string', 'null'] },
    problems: { type: 'array', items: { type: 'string' } },
    payload: { type: 'string' },
    quarantinedAt: { type: 'string' },
  },
  required: ['id', 'source', 'orderId', 'problems', 'payload', 'quarantinedAt'],
  additionalProperties: false,
} as const

/** The web shop's orders: sync now, and what the sync could not turn into shipment requests. */
export async function shopOrderRoutes(
  parent: FastifyInstance,
  { jobs, quarantine }: { jobs: JobsAdmin; quarantine: QuarantinedOrders },
) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const operator = app.requireRole('operator')

  app.post(
    '/orders/sync',
    {
      onRequest: operator,
      schema: {
        tags: ['shop orders'],
        description:
          'Syncs web-shop orders now (the sync-orders job, on one worker), deduplicated while one is waiting or running.',
        response: { 202: { type: 'object', properties: { jobId: { type: 'string' } } }, ...authErrors, 404: errorBody },
      },
    },
    async (_request, reply) => reply.code(202).send(await jobs.runNow(SCHEDULED_JOBS.syncOrders)),
  )

  app.get(
    '/quarantined-orders',
    {
      onRequest: operator,
      schema: {
        tags: ['shop orders'],
        description:
          'Orders from the web shop that no shipment request could be made of (no lines, a quantity that is no number, an invalid id), newest first, each with what was wrong and what arrived (cut at 4 KB). The sync moved past them.',
        querystring: { type: 'object', properties: { limit: limitQuery }, additionalProperties: false },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: quarantinedOrderView } } },
          ...authErrors,
        },
      },
    },
    async (request) => ({ items: await quarantine.list(request.query.limit) }),
  )
}
