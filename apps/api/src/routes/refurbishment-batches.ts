import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import {
  batchDeviceSchema,
  batchStatusSchema,
  batchViewSchema,
  MAX_DEVICES_PER_ADD,
  type RefurbishmentBatches,
  textLines,
} from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { agentOf, claimRoutes, shipperOf } from './claim-routes.js'
import {
  authErrors,
  cursorQuery,
  deviceId,
  errorBody,
  hardwareEdition,
  idParams,
  modelNumber,
  shipBody,
  uuid,
} from './schemas.js'

const description = textLines(500)

const devicePage = {
  type: 'object',
  properties: {
    items: { type: 'array', items: batchDeviceSchema },
    nextCursor: { type: ['string', 'null'] },
    total: { type: 'integer' },
  },
  required: ['items', 'nextCursor', 'total'],
  additionalProperties: false,
} as const

const claimView = {
  type: 'object',
  properties: { batchId: { type: 'string' }, claimedBy: { type: 'string' }, expiresAt: { type: 'string' } },
  required: ['batchId', 'claimedBy', 'expiresAt'],
  additionalProperties: false,
} as const

/** Refurbishment batches: made by operators, filled, packed and shipped by agents at the packing station. */
export async function refurbishmentBatchRoutes(parent: FastifyInstance, { batches }: { batches: RefurbishmentBatches }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const operator = app.requireRole('operator')
  const agent = app.requireRole('agent')
  const one = { 200: batchViewSchema, ...authErrors, 404: errorBody, 409: errorBody }

  app.post(
    '/refurbishment-batches',
    {
      onRequest: operator,
      schema: {
        tags: ['refurbishment batches'],
        description: 'A new, empty batch for devices of one model and edition, numbered #1, #2, … across all instances.',
        body: {
          type: 'object',
          properties: { description, modelNumber, hardwareEdition },
          required: ['description', 'modelNumber', 'hardwareEdition'],
          additionalProperties: false,
        },
        response: { 201: batchViewSchema, ...authErrors, 422: errorBody },
      },
    },
    async (request, reply) => reply.code(201).send(await batches.create(request.body, agentOf(request))),
  )

  app.get(
    '/refurbishment-batches',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description: 'Newest first, a page at a time.',
        querystring: {
          type: 'object',
          properties: { status: batchStatusSchema, ...cursorQuery },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: batchViewSchema }, nextCursor: { type: ['string', 'null'] } },
            required: ['items', 'nextCursor'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { status, cursor, limit } = request.query
      return batches.list({ status }, { after: cursor, limit })
    },
  )

  app.get(
    '/refurbishment-batches/:id',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description: 'The batch, with the first page (10) of its devices.',
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: { batch: batchViewSchema, devices: devicePage },
            required: ['batch', 'devices'],
            additionalProperties: false,
          },
          ...authErrors,
          404: errorBody,
        },
      },
    },
    async (request) => ({
      batch: await batches.get(request.params.id),
      devices: await batches.devices(request.params.id, { limit: 10 }),
    }),
  )

  app.get(
    '/refurbishment-batches/:id/devices',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description:
          "The batch's devices in the order their partners registered them, a page at a time (nextCursor), and how many match; q keeps those whose device, innerbox or masterbox id contains it.",
        params: idParams,
        querystring: {
          type: 'object',
          properties: { q: { type: 'string', pattern: '^[A-Za-z0-9-]{1,40}$' }, ...cursorQuery },
          additionalProperties: false,
        },
        response: { 200: devicePage, ...authErrors, 404: errorBody },
      },
    },
    async (request) => {
      const { q, cursor, limit } = request.query
      return batches.devices(request.params.id, { q, after: cursor, limit })
    },
  )

  app.patch(
    '/refurbishment-batches/:id',
    {
      onRequest: operator,
      schema: {
        tags: ['refurbishment batches'],
        description: 'Edit: the description, until the batch ships.',
        params: idParams,
        body: { type: 'object', properties: { description }, required: ['description'], additionalProperties: false },
        response: one,
      },
    },
    async (request) => batches.describe(request.params.id, request.body.description),
  )

  claimRoutes(app, {
    path: '/refurbishment-batches',
    tag: 'refurbishment batches',
    description:
      'Holds the batch for the caller while they fill it: others cannot add, remove or pack meanwhile. Counts towards MAX_CLAIMS_PER_AGENT with shipment claims (409 TOO_MANY_CLAIMS beyond).',
    claimView,
    claim: (id, agent) => batches.claim(id, agent),
    release: (id, agent) => batches.release(id, agent),
  })

  app.post(
    '/refurbishment-batches/:id/devices',
    {
      onRequest: agent,
      preParsing: app.writeLimit('batch-adds'),
      schema: {
        tags: ['refurbishment batches'],
        description: `Adds up to ${MAX_DEVICES_PER_ADD} devices by id, or a whole masterbox. Each device is added or rejected with its reason (unknown, another model, in another batch, shipped). A masterbox id that devices of several partners carry is a 409 AMBIGUOUS_MASTERBOX whose details list the partners: scan again with registeredBy.`,
        params: idParams,
        body: {
          oneOf: [
            {
              type: 'object',
              properties: { deviceIds: { type: 'array', items: deviceId, minItems: 1, maxItems: MAX_DEVICES_PER_ADD } },
              required: ['deviceIds'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: { masterboxId: deviceId, registeredBy: uuid },
              required: ['masterboxId'],
              additionalProperties: false,
            },
          ],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              added: { type: 'integer' },
              rejected: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { deviceId: { type: 'string' }, message: { type: 'string' } },
                  required: ['deviceId', 'message'],
                  additionalProperties: false,
                },
              },
            },
            required: ['added', 'rejected'],
            additionalProperties: false,
          },
          ...authErrors,
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (request) => batches.addDevices(request.params.id, request.body, agentOf(request)),
  )

  app.delete(
    '/refurbishment-batches/:id/devices/:deviceId',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description: 'Takes a device out of an OPEN batch; it is in stock again.',
        params: {
          type: 'object',
          properties: { id: idParams.properties.id, deviceId },
          required: ['id', 'deviceId'],
          additionalProperties: false,
        },
        response: { 204: { type: 'null' }, ...authErrors, 404: errorBody, 409: errorBody },
      },
    },
    async (request, reply) => {
      await batches.removeDevice(request.params.id, request.params.deviceId, agentOf(request))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/refurbishment-batches/:id/pack',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description:
          '"Pack for refurbishment": OPEN → PACKED, under the batch\'s claim for the caller; 409 if empty, not OPEN or held by another agent.',
        params: idParams,
        response: one,
      },
    },
    async (request) => batches.pack(request.params.id, agentOf(request)),
  )

  app.post(
    '/refurbishment-batches/:id/ship',
    {
      onRequest: agent,
      schema: {
        tags: ['refurbishment batches'],
        description:
          '"Ship refurbishment batch": PACKED → SHIPPED, every device SHIPPED with the tracking number; by the agent who packed it, or an operator. Sent again with the same number it completes a ship that was cut short.',
        params: idParams,
        body: shipBody,
        response: one,
      },
    },
    async (request) => batches.ship(request.params.id, request.body.trackingNumber, shipperOf(request)),
  )
}
