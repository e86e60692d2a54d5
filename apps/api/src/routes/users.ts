import type { Accounts, Role } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { httpError } from '../http/http-errors.js'
import { authErrors, email, errorBody, idParams, roles, userView } from './schemas.js'

export async function userRoutes(app: FastifyInstance, { accounts }: { accounts: Accounts }) {
  app.post(
    '/users',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        body: {
          type: 'object',
          properties: { email, password: { type: 'string', minLength: 12, maxLength: 1024 }, roles },
          required: ['email', 'password', 'roles'],
          additionalProperties: false,
        },
        response: { 201: userView, ...authErrors, 409: errorBody },
      },
    },
    async (request, reply) => {
      const body = request.body as { email: string; password: string; roles: Role[] }
      return reply.code(201).send(await accounts.createUser(body))
    },
  )

  app.post(
    '/api-tokens',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        description: 'A token for a machine client. The token is in this response only; it is stored hashed.',
        body: {
          type: 'object',
          properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$' }, roles },
          required: ['name', 'roles'],
          additionalProperties: false,
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              name: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              token: { type: 'string' },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; roles: Role[] }
      const issued = await accounts.createApiToken({ ...body, createdBy: request.principal!.id })
      return reply.code(201).send(issued)
    },
  )

  app.delete(
    '/api-tokens/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: { tags: ['users'], params: idParams, response: { 204: { type: 'null' }, ...authErrors, 404: errorBody } },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string }
      if (!(await accounts.revokeApiToken(id))) throw httpError(404, `API token ${id} does not exist`)
      return reply.code(204).send()
    },
  )
}
