import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { PackingClaims, Shipments } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { agentOf, claimRoutes, shipperOf } from './claim-routes.js'
import { authErrors, errorBody, idParams, limitQuery, shipBody, shipmentStatus, shipmentView } from './schemas.js'

export async function shipmentRoutes(
  parent: FastifyInstance,
  { shipments, claims }: { shipments: Shipments; claims: PackingClaims },
) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const one = { 200: shipmentView, ...authErrors, 404: errorBody, 409: errorBody }
  const claim = {
    type: 'object',
    properties: { shipmentId: { type: 'string' }, claimedBy: { type: 'string' }, expiresAt: { type: 'string' } },
    required: ['shipmentId', 'claimedBy', 'expiresAt'],
    additionalProperties: false,
  } as const

  app.get(
    '/shipments',
    {
      onRequest: app.requireRole('agent'),
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
      const { status, limit } = request.query
      // Pending means "free to take": claimed shipments are left out, so two agents are never
      // offered the same one.
      if (status === 'PENDING') return { items: await claims.pending(limit) }
      return { items: await shipments.list({ status, limit }) }
    },
  )

  app.get(
    '/shipments/counts',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        description: 'Shipments per status, from the remote cache shared by all instances.',
        response: {
          200: {
            type: 'object',
            properties: { PENDING: { type: 'integer' }, PACKED: { type: 'integer' }, SHIPPED: { type: 'integer' } },
          },
          ...authErrors,
        },
      },
    },
    async () => shipments.countByStatus(),
  )

  claimRoutes(app, {
    path: '/shipments',
    tag: 'shipments',
    description:
      'Holds the shipment for the calling agent for PACKING_CLAIM_TTL_SECONDS. Claiming again by the holder keeps the claim. An agent holds at most MAX_CLAIMS_PER_AGENT claims (409 beyond).',
    claimView: claim,
    claim: (id, agent) => claims.claim(id, agent),
    release: (id, agent) => claims.release(id, agent),
  })

  app.post(
    '/shipments/:id/claim/extend',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        params: idParams,
        response: { 200: { type: 'object', properties: { expiresAt: { type: 'string' } } }, ...authErrors, 409: errorBody },
      },
    },
    async (request) => claims.extend(request.params.id, agentOf(request)),
  )

  app.get(
    '/shipments/:id',
    { onRequest: app.requireRole('agent'), schema: { tags: ['shipments'], params: idParams, response: one } },
    async (request) => shipments.get(request.params.id),
  )

  app.post(
    '/shipments/:id/pack',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        description: "Needs the caller's live claim; releases it.",
        params: idParams,
        response: one,
      },
    },
    async (request) => claims.pack(request.params.id, agentOf(request)),
  )

  app.post(
    '/shipments/:id/ship',
    {
      onRequest: app.requireRole('agent'),
      schema: {
        tags: ['shipments'],
        description: 'By the agent who packed it, or an operator.',
        params: idParams,
        body: shipBody,
        response: one,
      },
    },
    // The shop is told by a worker's notify-shipped run: shipping marked its notification DUE.
    async (request) => shipments.ship(request.params.id, request.body.trackingNumber, shipperOf(request)),
  )

  app.post(
    '/shipments/bulk',
    {
      onRequest: app.requireRole('operator'),
      preParsing: app.writeLimit('bulk-creations'),
      schema: {
        tags: ['shipments'],
        description:
          'A shipment for every open shipment request without data problems. One run at a time across the cluster: 409 "already running" otherwise.',
        response: { 200: { type: 'object', properties: { created: { type: 'integer' } } }, ...authErrors, 409: errorBody },
      },
    },
    async () => shipments.createInBulk(),
  )
}
