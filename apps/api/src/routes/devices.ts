import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type Devices, deviceStatusSchema, deviceViewSchema, hasRole, MAX_DEVICES_PER_REGISTRATION } from '@tms/warehouse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authErrors, cursorQuery, deviceId, errorBody, hardwareEdition, modelNumber } from './schemas.js'

export const deviceInput = {
  type: 'object',
  properties: {
    deviceId,
    modelNumber,
    hardwareEdition,
    innerboxId: deviceId,
    masterboxId: deviceId,
  },
  required: ['deviceId', 'modelNumber', 'hardwareEdition', 'innerboxId', 'masterboxId'],
  additionalProperties: false,
} as const

/** A partner sees only the devices it registered; agents and up see all. */
const registeredByFilter = (request: FastifyRequest) => (hasRole(request.principal!, 'agent') ? undefined : request.principal!.id)

/** Devices as manufacturing partners register them, and as the warehouse finds them. */
export async function deviceRoutes(parent: FastifyInstance, { devices }: { devices: Devices }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()

  app.post(
    '/devices',
    {
      onRequest: app.requireRole('partner'),
      preParsing: app.writeLimit('device-registrations'),
      // 1000 devices of the longest ids are ~200 KB; every other route keeps the 64 KB limit.
      bodyLimit: 256 * 1024,
      schema: {
        tags: ['devices'],
        description: `Registers up to ${MAX_DEVICES_PER_REGISTRATION} devices. Idempotent per device id: the same device again is alreadyKnown, with other data rejected naming the field; one bad device never fails the others. Model and edition must be in the catalogue.`,
        body: {
          type: 'object',
          properties: {
            devices: { type: 'array', items: deviceInput, minItems: 1, maxItems: MAX_DEVICES_PER_REGISTRATION },
          },
          required: ['devices'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              registered: { type: 'integer' },
              alreadyKnown: { type: 'integer' },
              rejected: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { index: { type: 'integer' }, deviceId: { type: 'string' }, message: { type: 'string' } },
                  required: ['index', 'deviceId', 'message'],
                  additionalProperties: false,
                },
              },
            },
            required: ['registered', 'alreadyKnown', 'rejected'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async (request) => devices.register(request.principal!.id, request.body.devices),
  )

  app.get(
    '/devices',
    {
      onRequest: app.requireRole(['agent', 'partner']),
      schema: {
        tags: ['devices'],
        description: 'Devices, oldest registered first, a page at a time (nextCursor). A partner sees the devices it registered.',
        querystring: {
          type: 'object',
          properties: {
            masterboxId: deviceId,
            innerboxId: deviceId,
            modelNumber,
            status: deviceStatusSchema,
            ...cursorQuery,
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: deviceViewSchema }, nextCursor: { type: ['string', 'null'] } },
            required: ['items', 'nextCursor'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const { cursor, limit, ...filter } = request.query
      return devices.list({ ...filter, registeredBy: registeredByFilter(request) }, { after: cursor, limit })
    },
  )

  app.get(
    '/devices/:deviceId',
    {
      onRequest: app.requireRole(['agent', 'partner']),
      schema: {
        tags: ['devices'],
        params: { type: 'object', properties: { deviceId }, required: ['deviceId'], additionalProperties: false },
        response: { 200: deviceViewSchema, ...authErrors, 404: errorBody },
      },
    },
    async (request) => devices.get(request.params.deviceId, registeredByFilter(request)),
  )
}
