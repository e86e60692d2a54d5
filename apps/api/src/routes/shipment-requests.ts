import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type ShipmentRequests, shipmentRequestInputSchema } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { authErrors, errorBody, idParams, limitQuery, shipmentRequestView } from './schemas.js'

export async function shipmentRequestRoutes(parent: FastifyInstance, { requests }: { requests: ShipmentRequests }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.post(
    '/shipment-requests',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['shipment requests'],
        description:
          'Records what an order needs shipped. Data problems (missing postal code, unknown country) are recorded in `errors` for an operator to fix. The order id is an idempotency key: posting it again answers 200 with the stored request.',
        body: shipmentRequestInputSchema,
        response: { 200: shipmentRequestView, 201: shipmentRequestView, ...authErrors },
      },
    },
    async (request, reply) => {
      const { request: stored, created } = await requests.submit(request.body)
      return reply.code(created ? 201 : 200).send(stored)
    },
  )

  app.get(
    '/shipment-requests/:id',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['shipment requests'],
        params: idParams,
        response: { 200: shipmentRequestView, ...authErrors, 404: errorBody },
      },
    },
    async (request) => requests.get(request.params.id),
  )

  app.get(
    '/shipment-requests',
    {
      onRequest: app.requireRole('operator'),
      schema: {
        tags: ['shipment requests'],
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: ['OPEN', 'DONE'] }, limit: limitQuery },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: shipmentRequestView } } },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { status, limit } = request.query
      return { items: await requests.list({ ...(status ? { status } : {}), limit }) }
    },
  )
}
