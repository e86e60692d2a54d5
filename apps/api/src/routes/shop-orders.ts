import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type JobsAdmin, SCHEDULED_JOBS } from '@tms/jobs'
import type { QuarantinedOrders } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors, errorBody, limitQuery, listOf } from './schemas.js'

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

export interface ShopOrderRoutesOptions {
  jobs: JobsAdmin
  quarantine: QuarantinedOrders
}

/**
 * The web shop's orders: sync now, and what the sync could not turn into shipment requests.
 * For operators only: app.ts registers it behind their role check.
 */
export async function shopOrderRoutes(parent: FastifyInstance, { jobs, quarantine }: ShopOrderRoutesOptions) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.post(
    '/orders/sync',
    {
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
      schema: {
        tags: ['shop orders'],
        description:
          'Orders from the web shop that no shipment request could be made of (no lines, a quantity that is no number, an invalid id), newest first, each with what was wrong and what arrived (cut at 4 KB). The sync moved past them.',
        querystring: { type: 'object', properties: { limit: limitQuery }, additionalProperties: false },
        response: {
          200: listOf(quarantinedOrderView),
          ...authErrors,
        },
      },
    },
    async (request) => ({ items: await quarantine.list(request.query.limit) }),
  )
}
