import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type Agent, hasRole, type Shipper } from '@tms/warehouse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authErrors, errorBody, idParams } from './schemas.js'

/** The calling person as the agent who claims, packs or ships. */
export const agentOf = (request: FastifyRequest): Agent => ({ id: request.principal!.id, name: request.principal!.name })

/** The calling person as who ships: the agent who packed it, or an operator, who may ship any. */
export const shipperOf = (request: FastifyRequest): Shipper => ({
  ...agentOf(request),
  mayShipAny: hasRole(request.principal!, 'operator'),
})

/** Something an agent holds alone while working on it: a shipment, a refurbishment batch. */
export interface Claimable {
  /** Where its records live: `/shipments`, `/refurbishment-batches`. */
  path: string
  tag: string
  /** What claiming does, for the OpenAPI document. */
  description: string
  /** The claim's answer. */
  claimView: object
  claim(id: string, agent: Agent): Promise<unknown>
  release(id: string, agent: Agent): Promise<void>
}

/** `POST {path}/:id/claim` and `DELETE {path}/:id/claim`: taken and let go alike for every kind. */
export function claimRoutes(parent: FastifyInstance, claimable: Claimable): void {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const agent = app.requireRole('agent')
  const { path, tag } = claimable
  app.post(
    `${path}/:id/claim`,
    {
      onRequest: agent,
      schema: {
        tags: [tag],
        description: claimable.description,
        params: idParams,
        response: { 200: claimable.claimView, ...authErrors, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => claimable.claim(request.params.id, agentOf(request)),
  )
  app.delete(
    `${path}/:id/claim`,
    { onRequest: agent, schema: { tags: [tag], params: idParams, response: { 204: { type: 'null' }, ...authErrors } } },
    async (request, reply) => {
      await claimable.release(request.params.id, agentOf(request))
      return reply.code(204).send(null)
    },
  )
}
