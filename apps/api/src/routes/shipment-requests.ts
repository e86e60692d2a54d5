import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { JobsAdmin } from '@tms/jobs'
import { type ShipmentRequests, shipmentRequestInputSchema, textLines } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { address, authErrors, errorBody, idParams, limitQuery, shipmentRequestView } from './schemas.js'

/**
 * Shipment requests: recorded, read, listed, fixed, cancelled.
 * For operators only: app.ts registers it behind their role check.
 */
export async function shipmentRequestRoutes(
  parent: FastifyInstance,
  { requests, jobs }: { requests: ShipmentRequests; jobs: JobsAdmin },
) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.post(
    '/shipment-requests',
    {
      preParsing: app.writeLimit('request-creations'),
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
      schema: {
        tags: ['shipment requests'],
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['OPEN', 'DONE', 'CANCELLED'] },
            readiness: { type: 'string', enum: ['READY', 'NEEDS_FIX'] },
            limit: limitQuery,
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: shipmentRequestView } } },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { status, readiness, limit } = request.query
      return { items: await requests.list({ status, readiness, limit }) }
    },
  )

  app.patch(
    '/shipment-requests/:id',
    {
      schema: {
        tags: ['shipment requests'],
        description:
          'Fixes an open request: new items and/or address; its problems are found again, and with none left it is READY for the next bulk creation. `version` is the version you edited (409 CHANGED_MEANWHILE if it is not the current one); 409 WRONG_STATUS once it has a shipment or was cancelled.',
        params: idParams,
        body: {
          type: 'object',
          properties: { version: { type: 'integer', minimum: 1 }, items: shipmentRequestInputSchema.properties.items, address },
          required: ['version'],
          additionalProperties: false,
        },
        response: { 200: shipmentRequestView, ...authErrors, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => {
      const { version, ...change } = request.body
      return requests.edit(request.params.id, version, change)
    },
  )

  app.post(
    '/shipment-requests/:id/cancel',
    {
      schema: {
        tags: ['shipment requests'],
        description: 'OPEN → CANCELLED: it will never ship, and the web shop is told (a job, on one worker).',
        params: idParams,
        body: {
          type: 'object',
          properties: { reason: textLines(500) },
          required: ['reason'],
          additionalProperties: false,
        },
        response: { 200: shipmentRequestView, ...authErrors, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => {
      const cancelled = await requests.cancel(request.params.id, request.body.reason, request.principal!.name)
      // If queueing fails now, housekeeping queues it later (the request says the shop has not heard).
      await jobs
        .notifyShopCancelled({ requestId: cancelled.id, orderId: cancelled.orderId, reason: request.body.reason })
        .catch((error: unknown) => request.log.warn({ err: (error as Error).message }, 'could not queue the cancellation notice'))
      return cancelled
    },
  )
}
