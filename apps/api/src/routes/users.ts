import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import { type Accounts, API_TOKEN_LIFETIME_DAYS, notFound } from '@tms/warehouse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ApiError } from '../http/api-errors.js'
import type { TokenUsage } from '../sessions/token-usage.js'
import { authErrors, email, errorBody, idParams, newPassword, roles, userView } from './schemas.js'

const tokenView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    roles,
    createdBy: {
      type: 'object',
      properties: { id: { type: 'string' }, email: { type: ['string', 'null'] } },
      required: ['id', 'email'],
      additionalProperties: false,
    },
    createdAt: { type: 'string' },
    lastUsedAt: { type: ['string', 'null'] },
    expiresAt: { type: 'string' },
    revokedAt: { type: ['string', 'null'] },
  },
  required: ['id', 'name', 'roles', 'createdBy', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
  additionalProperties: false,
} as const

/**
 * Users and API tokens: for admins with a session only (requirePerson), never for a token.
 * Every change that ends a user's sessions ends them before it is written (and once more
 * after, for a login that raced it): if Redis cannot end them, nothing changes and the admin is
 * told, so no disabled user is ever left with a live session.
 */
export async function userRoutes(
  parent: FastifyInstance,
  { accounts, tokenUsage }: { accounts: Accounts; tokenUsage: TokenUsage },
) {
  const app = parent.withTypeProvider<JsonSchemaToTsProvider>()
  const admin = app.requirePerson('admin')

  const endSessions = async (request: FastifyRequest, userId: string) => {
    try {
      await app.userSessions.endAll(userId)
    } catch (error) {
      request.log.warn({ err: error }, "could not end the user's sessions; nothing changed")
      throw new ApiError('SESSIONS_NOT_ENDED', "the user's sessions could not be ended, so nothing was changed; try again", {
        'retry-after': '1',
      })
    }
  }
  /** After the write, for a login that raced the change. If this fails the change stands; the admin is told to send it again. */
  const endSessionsAgain = async (request: FastifyRequest, userId: string) => {
    try {
      await app.userSessions.endAll(userId)
    } catch (error) {
      request.log.warn({ err: error }, "could not end the user's sessions after the change")
      throw new ApiError(
        'SESSIONS_NOT_ENDED',
        'the change is saved, but a session opened meanwhile could not be ended; send it again to end it',
        { 'retry-after': '1' },
      )
    }
  }

  app.post(
    '/users',
    {
      onRequest: admin,
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
      onRequest: admin,
      // The token is shown once and stored hashed: never kept for an Idempotency-Key replay.
      config: { answerHoldsSecret: true },
      schema: {
        tags: ['users'],
        description: `A token for a machine client, valid expiresInDays (default ${API_TOKEN_LIFETIME_DAYS.default}, at most ${API_TOKEN_LIFETIME_DAYS.max}). The token is in this response only; it is stored hashed.`,
        body: {
          type: 'object',
          properties: {
            name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$' },
            roles,
            expiresInDays: { type: 'integer', minimum: 1, maximum: API_TOKEN_LIFETIME_DAYS.max },
          },
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
              expiresAt: { type: 'string' },
              token: { type: 'string' },
            },
            required: ['id', 'name', 'roles', 'expiresAt', 'token'],
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

  app.get(
    '/api-tokens',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        description: 'Every API token, newest first: name, roles, creator, created, last used, expiry, revoked. Never a secret.',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 500 } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: { items: { type: 'array', items: tokenView } },
            required: ['items'],
            additionalProperties: false,
          },
          ...authErrors,
        },
      },
    },
    async (request) => {
      const tokens = await accounts.listApiTokens(request.query.limit)
      const lastUsed = await tokenUsage.lastUsed(tokens.map((t) => t.id))
      return { items: tokens.map((token) => ({ ...token, lastUsedAt: lastUsed.get(token.id) ?? null })) }
    },
  )

  app.delete(
    '/api-tokens/:id',
    {
      onRequest: admin,
      schema: { tags: ['users'], params: idParams, response: { 204: { type: 'null' }, ...authErrors, 404: errorBody } },
    },
    async (request, reply) => {
      const { id } = request.params
      if (!(await accounts.revokeApiToken(id))) throw notFound('API token', id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/users',
    {
      onRequest: admin,
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
      onRequest: admin,
      schema: {
        tags: ['users'],
        description:
          "Changes a user's roles, or disables (enables) them. Either ends every session of the user at once, on every instance; disabling also revokes every API token the user created. 409 SELF_LOCKOUT when no enabled admin would be left; 503 SESSIONS_NOT_ENDED when Redis could not end the sessions (nothing changed then).",
        params: idParams,
        body: {
          type: 'object',
          properties: { roles, disabled: { type: 'boolean' } },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: userView, ...authErrors, 404: errorBody, 409: errorBody, 503: errorBody },
      },
    },
    async (request) => {
      const { id } = request.params
      const user = await accounts.updateUser(id, request.body, { beforeWrite: () => endSessions(request, id) })
      await endSessionsAgain(request, id)
      return user
    },
  )

  app.post(
    '/users/:id/password',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        description: "An admin sets a user's password (a forgotten one). Every session of the user ends.",
        params: idParams,
        body: { type: 'object', properties: { password: newPassword }, required: ['password'], additionalProperties: false },
        response: { 204: { type: 'null' }, ...authErrors, 404: errorBody, 503: errorBody },
      },
    },
    async (request, reply) => {
      const { id } = request.params
      await accounts.setPassword(id, request.body.password, { beforeWrite: () => endSessions(request, id) })
      await endSessionsAgain(request, id)
      return reply.code(204).send(null)
    },
  )
}
