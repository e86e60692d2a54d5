import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Accounts } from '@tms/warehouse'
import type { FastifyInstance } from 'fastify'
import { ApiError } from '../http/api-errors.js'
import { authErrors, email, errorBody, idParams, newPassword, roles, userView } from './schemas.js'

export async function userRoutes(parent: FastifyInstance, { accounts }: { accounts: Accounts }) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  app.post(
    '/users',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        body: {
          type: 'object',
          properties: { email, password: newPassword, roles },
          required: ['email', 'password', 'roles'],
          additionalProperties: false,
        },
        response: { 201: userView, ...authErrors, 409: errorBody },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await accounts.createUser(request.body))
    },
  )

  app.post(
    '/api-tokens',
    {
      onRequest: app.requireRole('admin'),
      // The token is shown once and stored hashed: never kept for an Idempotency-Key replay.
      config: { answerHoldsSecret: true },
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
              roles,
              token: { type: 'string' },
            },
            required: ['id', 'name', 'roles', 'token'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const issued = await accounts.createApiToken({ ...request.body, createdBy: request.principal!.id })
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
      const { id } = request.params
      if (!(await accounts.revokeApiToken(id))) throw new ApiError('NOT_FOUND', `API token ${id} does not exist`)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/users',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        description: 'Every user, with their roles and whether they are disabled.',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: userView } } }, ...authErrors },
      },
    },
    async (request) => ({ items: await accounts.listUsers(request.query.limit) }),
  )

  app.patch(
    '/users/:id',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        description:
          "Changes a user's roles, or disables (enables) them. Either ends every session of the user at once, on every instance. 409 SELF_LOCKOUT when no enabled admin would be left.",
        params: idParams,
        body: {
          type: 'object',
          properties: { roles, disabled: { type: 'boolean' } },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: userView, ...authErrors, 404: errorBody, 409: errorBody },
      },
    },
    async (request) => {
      const user = await accounts.updateUser(request.params.id, request.body)
      await app.userSessions.endAll(user.id)
      return user
    },
  )

  app.post(
    '/users/:id/password',
    {
      onRequest: app.requireRole('admin'),
      schema: {
        tags: ['users'],
        description: "An admin sets a user's password (a forgotten one). Every session of the user ends.",
        params: idParams,
        body: { type: 'object', properties: { password: newPassword }, required: ['password'], additionalProperties: false },
        response: { 204: { type: 'null' }, ...authErrors, 404: errorBody },
      },
    },
    async (request, reply) => {
      await accounts.setPassword(request.params.id, request.body.password)
      await app.userSessions.endAll(request.params.id)
      return reply.code(204).send(null)
    },
  )
}
