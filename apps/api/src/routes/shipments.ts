import type { ShipmentStatus, Shipments } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors, errorBody, idParams, limitQuery, shipmentStatus, shipmentView } from './schemas.js'

export async function shipmentRoutes(app: FastifyInstance, { shipments }: { shipments: Shipments }) {
  const one = { 200: shipmentView, ...authErrors, 404: errorBody, 409: errorBody }

  app.get(
    '/shipments',
    {
      preHandler: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        querystring: {
          type: 'object',
          properties: { status: shipmentStatus, limit: limitQuery },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: shipmentView } } }, ...authErrors },
      },
    },
    async (request) => {
      const { status, limit } = request.query as { status?: ShipmentStatus; limit: number }
      return { items: await shipments.list({ ...(status ? { status } : {}), limit }) }
    },
  )

  app.get(
    '/shipments/:id',
    { preHandler: app.requireRole('agent'), schema: { tags: ['shipments'], params: idParams, response: one } },
    async (request) => shipments.get((request.params as { id: string }).id),
  )

  app.post(
    '/shipments/:id/pack',
    { preHandler: app.requireRole('agent'), schema: { tags: ['shipments'], params: idParams, response: one } },
    async (request) => shipments.pack((request.params as { id: string }).id, request.principal!.name),
  )

  app.post(
    '/shipments/:id/ship',
    {
      preHandler: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        params: idParams,
        body: {
          type: 'object',
          properties: { trackingNumber: { type: 'string', pattern: '^[A-Za-z0-9-]{4,40}$' } },
          required: ['trackingNumber'],
          additionalProperties: false,
        },
        response: one,
      },
    },
    async (request) => {
      const { trackingNumber } = request.body as { trackingNumber: string }
      return shipments.ship((request.params as { id: string }).id, trackingNumber)
    },
  )

  app.post(
    '/shipments/bulk',
    {
      preHandler: app.requireRole('operator'),
      schema: {
        tags: ['shipments'],
        description: 'A shipment for every open shipment request without data problems.',
        response: { 200: { type: 'object', properties: { created: { type: 'integer' } } }, ...authErrors },
      },
    },
    async () => shipments.createForReadyRequests(),
  )
}
